#!/usr/bin/env bash
# Runs a command against fresh local clusters, and stops every process it started afterwards, also
# on failure: builds (or reuses) the toolchain, starts the named clusters in a temporary directory,
# points KUBECONFIG and Pulumi (a file backend there, the toolchain's CLI and plugins) at them.
#   with-clusters.sh "primary remote-a ..." COMMAND [ARG ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
clusters=$1
shift

# A toolchain that cannot be built fails the run: a skipped end-to-end suite is not a pass.
tools/toolchain/build.sh

work=$(mktemp -d -t istio-mc-run-XXXXXX)
export ISTIO_MC_CLUSTERS=$work/clusters
cleanup() {
    tools/clusters/local-clusters.sh stop || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2086 # the names are words
tools/clusters/local-clusters.sh start $clusters
export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
# shellcheck source=../offline-pulumi.sh
source tools/offline-pulumi.sh "$work"
"$@"
