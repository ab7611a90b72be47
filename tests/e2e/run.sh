#!/usr/bin/env bash
# The end-to-end suites: builds (or reuses) the toolchain, starts four local clusters, runs the
# lifecycle through the real Pulumi CLI and the fleet through `mesh`, and stops every process it
# started, also on failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# A toolchain that cannot be built fails the run: a skipped end-to-end suite is not a pass.
tools/toolchain/build.sh

work=$(mktemp -d -t istio-mc-e2e-XXXXXX)
export ISTIO_MC_CLUSTERS=$work/clusters
cleanup() {
    tools/clusters/local-clusters.sh stop || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tools/clusters/local-clusters.sh start primary remote-a remote-b remote-c
export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
# shellcheck source=../../tools/offline-pulumi.sh
source tools/offline-pulumi.sh "$work"
pulumi version

npx mocha --config tests/e2e/.mocharc.json
