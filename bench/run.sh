#!/usr/bin/env bash
# `npm run bench`: builds (or reuses) the toolchain, starts the primary and six remote local
# clusters, runs bench/bench.ts (which prints the table) and stops every process it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/toolchain/build.sh

work=$(mktemp -d -t istio-mc-bench-XXXXXX)
export ISTIO_MC_CLUSTERS=$work/clusters
cleanup() {
    tools/clusters/local-clusters.sh stop || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tools/clusters/local-clusters.sh start primary remote-a remote-b remote-c remote-d remote-e remote-f
export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
# shellcheck source=../tools/offline-pulumi.sh
source tools/offline-pulumi.sh "$work"
node -r ts-node/register/transpile-only bench/bench.ts
