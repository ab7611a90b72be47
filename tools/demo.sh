#!/usr/bin/env bash
# `npm start [-- MODEL]`: the demo. Builds (or reuses) the toolchain; when the kubeconfig has no
# `primary` and `remote-a` contexts, starts two local clusters for them; then `mesh up` (the
# primary, then the remotes) and `mesh status`, and prints the stacks' outputs.
#   MODEL primary-remote (default) or multi-primary: examples/MODEL's stack files on Istio's own
#   charts, with a real istiod per control-plane cluster on the local clusters; `mesh status` shows
#   istiod's view.
#   MODEL istio-1.0: the repository's own stack files, Istio 1.0's flow on fixture charts.
# Run it again to converge; `npm run demo:down [-- MODEL]` runs `mesh down` and stops the local clusters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
demo=$cache/demo
export ISTIO_MC_CLUSTERS=$demo/clusters

action=up
[ "${1:-}" = down ] && { action=down; shift; }
model=${1:-primary-remote}
case $model in
    istio-1.0) state=$demo ;;
    primary-remote | multi-primary)
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
    *) echo "usage: npm start [-- primary-remote|multi-primary|istio-1.0]" >&2; exit 2 ;;
esac

has_contexts() {
    local file=${KUBECONFIG:-$HOME/.kube/config}
    [ -f "${file%%:*}" ] && node -e '
        const yaml = require("js-yaml"), fs = require("fs");
        const names = (yaml.load(fs.readFileSync(process.argv[1], "utf8")).contexts || []).map((c) => c.name);
        process.exit(["primary", "remote-a"].every((n) => names.includes(n)) ? 0 : 1);
    ' "${file%%:*}" 2>/dev/null
}

tools/toolchain/build.sh
if [ $action = down ]; then
    [ -f "$ISTIO_MC_CLUSTERS/kubeconfig" ] && export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
    source tools/offline-pulumi.sh "$state"
    node bin/mesh down
    tools/clusters/local-clusters.sh stop
    exit 0
fi
local_clusters=false
if ! has_contexts; then
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
node bin/mesh up --remotes remote-a
status_args=()
if [ "$model" != istio-1.0 ] && $local_clusters; then
    # The charts' istiod pods are played by kwok: run the real istiods beside the local clusters.
    tools/clusters/local-clusters.sh istiod primary
    [ "$model" = multi-primary ] && tools/clusters/local-clusters.sh istiod remote-a
    status_args=(--istiod http://127.0.0.2:15014)
    echo "[demo] waiting for the primary's istiod to sync remote-a"
    for _ in $(seq 1 60); do
        curl -sf http://127.0.0.2:15014/debug/clusterz | node -e '
            let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
                process.exit(JSON.parse(s).some((c) => c.id === "remote-a" && c.syncStatus === "synced") ? 0 : 1));' && break
        sleep 1
    done
fi
for stack in primary remote-a; do
    echo "== outputs of $stack"
    (cd "${MESH_PROJECT_DIR:-$root}" && pulumi stack output -s "$stack")
done
echo "== mesh status"
node bin/mesh status "${status_args[@]}"
echo "[demo] KUBECONFIG=${KUBECONFIG:-} PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_HOME=$PULUMI_HOME"
echo "[demo] try: kubectl --context remote-a get namespaces   (kubectl and helm are in $cache/toolchain/bin)"
