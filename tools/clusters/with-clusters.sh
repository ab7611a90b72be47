#!/usr/bin/env bash
# Runs a command against fresh local clusters, and stops every process it started afterwards, also
# on failure: builds (or reuses) the toolchain, enters a network namespace of its own, starts the
# named clusters in a temporary directory, points KUBECONFIG and Pulumi (a file backend there, the
# toolchain's CLI and plugins) at them.
#   with-clusters.sh "primary remote-a ..." COMMAND [ARG ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
clusters=$1
shift

if [ -z "${ISTIO_MC_NETNS:-}" ]; then
    # A toolchain that cannot be built fails the run: a skipped end-to-end suite is not a pass.
    tools/toolchain/build.sh
    # The rest runs in a network namespace of its own, with loopback alone: each cluster's pod range
    # is routed to loopback there (local-clusters.sh), so that whatever dials a pod or Service
    # address (an API server calling a webhook, a test reaching a workload) never leaves this host.
    # What needs a registry (npm, the Go module proxy) has run by now. A mount namespace of its
    # own too, for an /etc/hosts of its own (below).
    exec unshare --net --mount env ISTIO_MC_NETNS=1 bash "$root/tools/clusters/with-clusters.sh" "$clusters" "$@"
fi
ip link set lo up

work=$(mktemp -d -t istio-mc-run-XXXXXX)
export ISTIO_MC_CLUSTERS=$work/clusters
# The local load balancers' host names (lb-allocator.js) resolve here alone: /etc/hosts is a copy.
cp /etc/hosts "$work/hosts"
mount --bind "$work/hosts" /etc/hosts
export ISTIO_MC_HOSTS=1
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
