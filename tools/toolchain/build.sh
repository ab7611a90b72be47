#!/usr/bin/env bash
# Builds the real tools the end-to-end run needs, from pinned Go module versions, offline:
# the Pulumi CLI and its Node.js language host, the Kubernetes provider plugin, a Kubernetes
# control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok), Istio
# (pilot-discovery, istioctl, pilot-agent, its echo test workload and the charts of the same module
# version; and an older Istio, pilot-discovery, pilot-agent and charts, to upgrade from), helm and
# kubectl.
#
# Each family is a small wrapper module beside this script. Its binaries go to
#   $ISTIO_MC_CACHE/toolchain/<family>-<key>/bin
# keyed by the family's files, the versions below, the recipe number and the Go version; a family
# whose directory is already complete is skipped, so a warm machine rebuilds nothing. The
# binaries are then hard-linked into $ISTIO_MC_CACHE/toolchain/bin (put that on PATH; the CLI
# finds its language host beside it) and the provider plugin into .../toolchain/plugins (install
# it with `pulumi plugin install --file`, as tools/offline-pulumi.sh does). Every Istio family is
# also linked as $ISTIO_MC_CACHE/toolchain/istio-versions/<version> (bin/ and charts/), so a test can
# run one version's istiod beside another's; only the pinned one's binaries go to toolchain/bin.
#
# Usage: tools/toolchain/build.sh [family ...]      (default: all families)
# ISTIO_MC_SKIP_BUILD="pulumi pulumi-nodejs-host" skips families whose tools you already have.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
bin_dir=$cache/toolchain/bin
plugin_dir=$cache/toolchain/plugins
mkdir -p "$bin_dir" "$plugin_dir"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

# Versions stamped into the binaries; they must match the wrapper modules' go.mod.
pulumi_version=v3.274.1
kubernetes_provider_version=4.25.0
kubernetes_version=v1.34.4
# Istio families: the pinned one (`istio`) and the older one the upgrade tests start from. Each is
# stamped with its own version, the way a release stamps its binaries and charts.
declare -A istio_versions=([istio]=1.31-dev-eed52eb [istio-b01690e]=1.31-dev-b01690e)
helm_version=v3.19.0
kubectl_version=v1.34.0
# Bump when a family's recipe below changes, so that caches built by the old recipe are not reused.
recipe=1

families=(pulumi pulumi-nodejs-host kubernetes-provider etcd kwok kubernetes istio istio-b01690e helm)
[ $# -gt 0 ] && families=("$@")
kept=()
for family in "${families[@]}"; do
    [[ " ${ISTIO_MC_SKIP_BUILD:-} " == *" $family "* ]] || kept+=("$family")
done
families=("${kept[@]}")

log() { printf '[toolchain] %s\n' "$*" >&2; }

fail() {
    log "FAILED: $1"
    log "  module: $2"
    log "  reason: see $3"
    tail -n 20 "$3" | sed 's/^/  | /' >&2
    exit 1
}

# The directory for a family's build: keyed by its wrapper files, the versions, recipe and Go version.
family_dir() {
    local family=$1 key
    key=$( (cd "$here/$family" && cat go.mod go.sum ./*.go 2>/dev/null
        echo "$pulumi_version $kubernetes_provider_version $kubernetes_version $recipe"
        case $family in istio*) echo "${istio_versions[$family]}" ;; helm) echo "$helm_version $kubectl_version" ;; esac
        go env GOVERSION) |
        sha256sum | cut -c1-16)
    echo "$cache/toolchain/$family-$key"
}

# go_build FAMILY MODULE_FOR_ERRORS OUT PACKAGE [LDFLAGS]
go_build() {
    local family=$1 module=$2 out=$3 pkg=$4 ldflags=${5:-} logf
    logf=$(dirname "$out")/../build-$(basename "$out").log
    (cd "$build_src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$pkg") >"$logf" 2>&1 ||
        fail "$family: go build $pkg" "$module" "$logf"
}

# The ldflags that stamp a Kubernetes version into a binary (else it reports v0.0.0).
kubernetes_version_ldflags() {
    local version=$1 minor ldflags=""
    minor=${version#v1.}
    minor=${minor%%.*}
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    echo "$ldflags"
}

build_family() {
    local family=$1 out
    out=$(family_dir "$family")
    if [ -f "$out/.complete" ]; then
        log "$family: cached in $out"
        return
    fi
    rm -rf "$out"
    mkdir -p "$out/bin" "$out/src"
    build_src=$out/src
    cp "$here/$family"/go.* "$here/$family"/*.go "$build_src/"
    (cd "$build_src" && go mod download) >"$out/download.log" 2>&1 ||
        fail "$family: go mod download" "$(head -1 "$here/$family/go.mod")" "$out/download.log"
    case $family in
    pulumi)
        go_build "$family" github.com/pulumi/pulumi/pkg/v3@$pulumi_version "$out/bin/pulumi" \
            github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
            "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version"
        ;;
    pulumi-nodejs-host)
        go_build "$family" github.com/pulumi/pulumi/sdk/v3 "$out/bin/pulumi-language-nodejs" \
            github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
        ;;
    kubernetes-provider)
        local module_dir
        module_dir=$(cd "$build_src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
        # The schema is the module's own file, stamped with the version as the release process does.
        node -e '
            const fs = require("fs");
            const schema = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
            schema.version = process.argv[2];
            fs.writeFileSync(process.argv[3], JSON.stringify(schema));
        ' "$module_dir/cmd/pulumi-resource-kubernetes/schema.json" "$kubernetes_provider_version" \
            "$build_src/schema.json"
        go_build "$family" github.com/pulumi/pulumi-kubernetes/provider/v4 "$out/bin/pulumi-resource-kubernetes" . \
            "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$kubernetes_provider_version"
        ;;
    kubernetes)
        local ldflags
        ldflags=$(kubernetes_version_ldflags "$kubernetes_version")
        for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
            log "$family: $cmd"
            go_build "$family" k8s.io/kubernetes@$kubernetes_version "$out/bin/$cmd" \
                k8s.io/kubernetes/cmd/$cmd "$ldflags"
        done
        ;;
    istio*)
        local module_dir pkg name
        # The commands the wrapper's tools.go imports. The pinned family adds pilot-agent's
        # companions, Istio's echo server and client (as echo-server, echo-client): the end-to-end
        # suite's workloads, proxyless gRPC with certificates from istiod.
        for pkg in $(sed -n 's/^[[:space:]]*_ "\(istio\.io\/istio\/[^"]*\)"$/\1/p' "$here/$family/tools.go"); do
            name=${pkg##*/}
            [[ $pkg == */echo/cmd/* ]] && name=echo-$name
            log "$family: $name"
            go_build "$family" istio.io/istio "$out/bin/$name" "$pkg" \
                "-X istio.io/istio/pkg/version.buildVersion=${istio_versions[$family]}"
        done
        # Istio's charts (base, istiod, gateway, ...) of the same module version: a dependency, read
        # from the module cache at build time, never part of this repository.
        module_dir=$(cd "$build_src" && go list -m -f '{{.Dir}}' istio.io/istio)
        cp -r "$module_dir/manifests/charts" "$out/charts"
        chmod -R u+w "$out/charts"
        ;;
    helm)
        go_build "$family" helm.sh/helm/v3@$helm_version "$out/bin/helm" helm.sh/helm/v3/cmd/helm \
            "-X helm.sh/helm/v3/internal/version.version=$helm_version"
        go_build "$family" k8s.io/kubectl "$out/bin/kubectl" . "$(kubernetes_version_ldflags "$kubectl_version")"
        ;;
    etcd)
        go_build "$family" go.etcd.io/etcd/server/v3 "$out/bin/etcd" go.etcd.io/etcd/server/v3
        ;;
    kwok)
        go_build "$family" sigs.k8s.io/kwok "$out/bin/kwok" sigs.k8s.io/kwok/cmd/kwok
        # kwok's behaviour (nodes Ready, pods Running with an IP) comes from stage files in its module.
        local module_dir
        module_dir=$(cd "$build_src" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
        mkdir -p "$out/stages"
        for stage in node/fast node/heartbeat pod/fast; do
            find "$module_dir/kustomize/stage/$stage" -name '*.yaml' ! -name kustomization.yaml \
                -exec cp {} "$out/stages/" \;
        done
        chmod -R u+w "$out/stages"
        ;;
    *)
        log "unknown family: $family"
        exit 2
        ;;
    esac
    rm -rf "$build_src"
    touch "$out/.complete"
}

total_start=$SECONDS
for family in "${families[@]}"; do
    start=$SECONDS
    log "$family: building"
    build_family "$family"
    out=$(family_dir "$family")
    if [[ $family == istio* ]]; then
        mkdir -p "$cache/toolchain/istio-versions"
        ln -sfn "$out" "$cache/toolchain/istio-versions/${istio_versions[$family]}"
    fi
    for b in "$out"/bin/*; do
        case $family:$(basename "$b") in
            *:pulumi-resource-*) ln -f "$b" "$plugin_dir/" ;;
            istio-*:*) ;; # an older Istio: only under istio-versions, its names would clash
            *) ln -f "$b" "$bin_dir/" ;;
        esac
    done
    [ -d "$out/stages" ] && ln -sfn "$out/stages" "$cache/toolchain/kwok-stages"
    if [ -d "$out/charts" ]; then
        # Istio's release builder stamps the charts with their release; the module's carry a
        # placeholder (1.0.0). appVersion says which Istio they are (the program compares image
        # tags with it); version stays, as Helm wants SemVer there. Idempotent, so a cached build is stamped too.
        find "$out/charts" -name Chart.yaml -exec sed -i "s/^appVersion: .*/appVersion: ${istio_versions[$family]}/" {} +
        if [ "$family" = istio ]; then ln -sfn "$out/charts" "$cache/toolchain/istio-charts"; fi
    fi
    log "$family: done in $((SECONDS - start))s"
done
# Pulumi's dynamic providers (the program's RegistrationGuard) run in a Node.js process the engine
# starts as the plugin pulumi-resource-pulumi-nodejs, in the program's directory; a Pulumi
# distribution ships that launcher beside the CLI, and so does this toolchain.
cat > "$bin_dir/pulumi-resource-pulumi-nodejs" <<'LAUNCHER'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
LAUNCHER
chmod +x "$bin_dir/pulumi-resource-pulumi-nodejs"
log "all done in $((SECONDS - total_start))s; binaries in $bin_dir"
