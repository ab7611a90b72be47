# Sourced, not run: points Pulumi at the toolchain that tools/toolchain/build.sh built and keeps it
# offline. Callers set PULUMI_BACKEND_URL and PULUMI_HOME first if they want them elsewhere.
#   source tools/offline-pulumi.sh STATE_DIR
# STATE_DIR holds the file backend and Pulumi's home (plugins) unless the caller set them.
_state_dir=$1
_cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
export PATH=$_cache/toolchain/bin:$PATH
# Pulumi runs the program on the first node of PATH: a supported one.
# shellcheck source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
export PULUMI_HOME=${PULUMI_HOME:-$_state_dir/pulumi-home}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$_state_dir/backend}
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-istio-multicluster-local}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "${PULUMI_BACKEND_URL#file://}" "$PULUMI_HOME"
# The provider plugin of exactly the version package.json pins, from the toolchain build.
_k8s_version=$(node -p 'require("@pulumi/kubernetes/package.json").version')
if ! pulumi plugin ls 2>/dev/null | grep -Eq "^kubernetes +resource +$_k8s_version "; then
    pulumi plugin install resource kubernetes "$_k8s_version" \
        --file "$_cache/toolchain/plugins/pulumi-resource-kubernetes" >/dev/null
fi
unset _state_dir _cache _k8s_version
