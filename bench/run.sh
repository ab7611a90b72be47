#!/usr/bin/env bash
# `npm run bench`: bench/bench.ts (which prints the table) on the primary and six remote local clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
exec tools/clusters/with-clusters.sh "primary remote-a remote-b remote-c remote-d remote-e remote-f" \
    node -r ts-node/register/transpile-only bench/bench.ts
