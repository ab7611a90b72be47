#!/usr/bin/env bash
# `npm start`: the demo. Builds (or reuses) the toolchain; when the kubeconfig has no `primary`
# and `remote-a` contexts, starts two local clusters for them; then `pulumi up` the primary and
# remote-a and prints both stacks' outputs. Run it again to converge (e.g. after a pod restart);
# `npm run demo:down` destroys both stacks and stops the local clusters.
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
    for stack in remote-a primary; do
        pulumi stack select "$stack" >/dev/null 2>&1 && pulumi destroy --yes --skip-preview -s "$stack" --non-interactive
    done
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
for stack in primary remote-a; do
    pulumi stack select --create "$stack" --secrets-provider passphrase --non-interactive >/dev/null
done
pulumi up --yes --skip-preview -s primary --non-interactive
pulumi up --yes --skip-preview -s remote-a --non-interactive
for stack in primary remote-a; do
    echo "== outputs of $stack"
    pulumi stack output -s "$stack"
done
echo "[demo] KUBECONFIG=${KUBECONFIG:-} PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL PULUMI_HOME=$PULUMI_HOME"
