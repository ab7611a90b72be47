#!/usr/bin/env bash
# `npm start [-- MODEL]`: the demo. Builds (or reuses) the toolchain; when the kubeconfig has no
# `primary` and `remote-a` contexts, starts two local clusters for them; then `mesh up` (the
# primary, then the remotes) and `mesh status`, and prints the stacks' outputs.
#   MODEL primary-remote (default) or multi-primary: examples/MODEL's stack files on Istio's own
#   charts, with a real istiod per control-plane cluster on the local clusters; `mesh status` shows
#   istiod's view.
#   MODEL multi-network: multi-primary with each cluster on a network of its own and an east-west
#   gateway on each (examples/multi-network). On local clusters it runs in a network namespace of
#   its own (tools/clusters/with-clusters.sh: the API servers must reach istiod's webhooks through
#   its Service's cluster IP, which nothing may dial on the host's network), so its clusters live as
#   long as the demo: it ends by holding them until Enter (at a terminal) and then stops them.
#   MODEL istio-1.0: the repository's own stack files, Istio 1.0's flow on fixture charts.
# Run it again to converge; `npm run demo:down [-- MODEL]` runs `mesh down` and stops the local clusters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
demo=$cache/demo
# Local clusters live there, but for the multi-network demo's, which with-clusters.sh makes (below).
[ -n "${ISTIO_MC_NETNS:-}" ] || export ISTIO_MC_CLUSTERS=$demo/clusters

action=up
[ "${1:-}" = down ] && { action=down; shift; }
model=${1:-primary-remote}
case $model in
    istio-1.0) state=$demo ;;
    primary-remote | multi-primary | multi-network)
        # A copy of the project with the model's stack files, so that the repository's stay Istio 1.0's.
        state=$demo/$model
        export MESH_PROJECT_DIR=$state/project
        rm -rf "$MESH_PROJECT_DIR"
        mkdir -p "$MESH_PROJECT_DIR/tests"
        cp -rp index.ts components lib cli bin Pulumi.yaml package.json tsconfig.json "$MESH_PROJECT_DIR/"
        [ -d dist ] && cp -rp dist "$MESH_PROJECT_DIR/"
        cp -r tests/fixtures "$MESH_PROJECT_DIR/tests/"
        ln -s "$root/node_modules" "$MESH_PROJECT_DIR/node_modules"
        cp "examples/$model"/Pulumi.*.yaml "$MESH_PROJECT_DIR/"
        ;;
    *) echo "usage: npm start [-- primary-remote|multi-primary|multi-network|istio-1.0]" >&2; exit 2 ;;
esac

has_contexts() {
    local file=${KUBECONFIG:-$HOME/.kube/config}
    [ -f "${file%%:*}" ] && node -e '
        const yaml = require("js-yaml"), fs = require("fs");
        const names = (yaml.load(fs.readFileSync(process.argv[1], "utf8")).contexts || []).map((c) => c.name);
        process.exit(["primary", "remote-a"].every((n) => names.includes(n)) ? 0 : 1);
    ' "${file%%:*}" 2>/dev/null
}

# Inside with-clusters.sh's network namespace the toolchain is built and nothing may reach a registry.
[ -n "${ISTIO_MC_NETNS:-}" ] || tools/toolchain/build.sh
if [ $action = down ]; then
    if [ "$model" = multi-network ] && ! has_contexts; then
        echo "[demo] the multi-network demo's local clusters stopped when it ended: nothing to take down"
        exit 0
    fi
    [ -f "$ISTIO_MC_CLUSTERS/kubeconfig" ] && export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
    source tools/offline-pulumi.sh "$state"
    node bin/mesh down
    tools/clusters/local-clusters.sh stop
    exit 0
fi
local_clusters=false
if [ -n "${ISTIO_MC_NETNS:-}" ]; then
    # Run by with-clusters.sh (below): its fresh clusters, its KUBECONFIG and Pulumi state.
    local_clusters=true
elif ! has_contexts; then
    if [ "$model" = multi-network ]; then
        exec tools/clusters/with-clusters.sh "primary remote-a" bash tools/demo.sh "$model"
    fi
    if tools/clusters/local-clusters.sh status | grep -q "primary .* ready" &&
        tools/clusters/local-clusters.sh status | grep -q "remote-a .* ready"; then
        echo "[demo] reusing the running local clusters"
    else
        tools/clusters/local-clusters.sh start primary remote-a
    fi
    export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
    local_clusters=true
fi
source tools/offline-pulumi.sh "$state"
# The charts' istiod pods are played by kwok: on local clusters the real istiods run beside them,
# each started as soon as its chart made its Deployment (as a kubelet would start the pod), since
# an east-west gateway's pod is created only once istiod's injection webhook answers.
istiods=()
if [ "$model" != istio-1.0 ] && $local_clusters; then
    istiods=(primary)
    [ "$model" = primary-remote ] || istiods+=(remote-a)
fi
node bin/mesh up --remotes remote-a &
mesh_up=$!
for cluster in "${istiods[@]}"; do
    until kubectl --context "$cluster" -n istio-system get deployment istiod >/dev/null 2>&1; do
        # `mesh up` ended before the chart made it: it failed, and said why.
        kill -0 $mesh_up 2>/dev/null || { wait $mesh_up; echo "[demo] no istiod Deployment in $cluster" >&2; exit 1; }
        sleep 2
    done
    tools/clusters/local-clusters.sh istiod "$cluster"
done
wait $mesh_up
status_args=()
# await_istiod DEBUG WHAT CHECK: waits (a minute at most) until the primary's istiod's
# /debug/DEBUG, parsed as `list`, passes the JavaScript expression CHECK.
await_istiod() {
    echo "[demo] waiting for the primary's istiod to list $2"
    for _ in $(seq 1 60); do
        curl -sf "http://127.0.0.2:15014/debug/$1" | node -e "
            let s = ''; process.stdin.on('data', (d) => s += d).on('end', () => {
                const list = JSON.parse(s); process.exit(($3) ? 0 : 1); });" && return
        sleep 1
    done
}
if [ ${#istiods[@]} -gt 0 ]; then
    status_args=(--istiod http://127.0.0.2:15014)
    await_istiod clusterz "remote-a synced" 'list.some((c) => c.id === "remote-a" && c.syncStatus === "synced")'
    [ "$model" != multi-network ] || await_istiod networkz "both networks' gateways" 'list.length === 2'
fi
for stack in primary remote-a; do
    echo "== outputs of $stack"
    (cd "${MESH_PROJECT_DIR:-$root}" && pulumi stack output -s "$stack")
done
echo "== mesh status"
node bin/mesh status "${status_args[@]}"
echo "[demo] KUBECONFIG=${KUBECONFIG:-} PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_HOME=$PULUMI_HOME"
if [ -n "${ISTIO_MC_NETNS:-}" ]; then
    echo "[demo] these clusters run in a network namespace of their own; from another terminal:"
    echo "[demo]   nsenter --net=/proc/$$/ns/net env KUBECONFIG=$KUBECONFIG $cache/toolchain/bin/kubectl --context remote-a get services -n istio-system"
    if [ -t 0 ]; then
        read -r -p "[demo] press Enter to stop them " _
    fi
else
    echo "[demo] try: kubectl --context remote-a get namespaces   (kubectl and helm are in $cache/toolchain/bin)"
fi
