#!/usr/bin/env bash
# `npm start`: the demo. Builds (or reuses) the toolchain; when the kubeconfig has no `primary`
# and `remote-a` contexts, starts two local clusters for them; then `mesh up` (the primary, then
# the remotes) and `mesh status`, and prints the stacks' outputs. Run it again to converge (e.g.
# after a pod restart); `npm run demo:down` runs `mesh down` and stops the local clusters.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
demo=$cache/demo
export ISTIO_MC_CLUSTERS=$demo/clusters

has_contexts() {
    local file=${KUBECONFIG:-$HOME/.kube/config}
    [ -f "${file%%:*}" ] && node -e '
        const yaml = require("js-yaml"), fs = require("fs");
        const names = (yaml.load(fs.readFileSync(process.argv[1], "utf8")).contexts || []).map((c) => c.name);
        process.exit(["primary", "remote-a"].every((n) => names.includes(n)) ? 0 : 1);
    ' "${file%%:*}" 2>/dev/null
}

down() {
    source tools/offline-pulumi.sh "$demo"
    node bin/mesh down
    tools/clusters/local-clusters.sh stop
}

tools/toolchain/build.sh
if [ "${1:-}" = down ]; then
    [ -f "$ISTIO_MC_CLUSTERS/kubeconfig" ] && export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
    down
    exit 0
fi
if ! has_contexts; then
    if tools/clusters/local-clusters.sh status | grep -q "primary .* ready" &&
        tools/clusters/local-clusters.sh status | grep -q "remote-a .* ready"; then
        echo "[demo] reusing the running local clusters"
    else
        tools/clusters/local-clusters.sh start primary remote-a
    fi
    export KUBECONFIG=$ISTIO_MC_CLUSTERS/kubeconfig
fi
source tools/offline-pulumi.sh "$demo"
node bin/mesh up
for stack in primary remote-a; do
    echo "== outputs of $stack"
    pulumi stack output -s "$stack"
done
echo "== mesh status"
node bin/mesh status
echo "[demo] KUBECONFIG=${KUBECONFIG:-} PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_HOME=$PULUMI_HOME"
