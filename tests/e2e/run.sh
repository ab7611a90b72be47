#!/usr/bin/env bash
# The end-to-end suites on four fresh local clusters: faults, the lifecycle through the real Pulumi
# CLI, the fleet through `mesh`, today's models with real istiods, shared state in PostgreSQL, and an
# upgrade by istiod revisions between two real Istio builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec tools/clusters/with-clusters.sh "primary remote-a remote-b remote-c" \
    bash -c 'pulumi version && npx mocha --config tests/e2e/.mocharc.json'
