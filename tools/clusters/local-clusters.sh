#!/usr/bin/env bash
# Runs independent Kubernetes clusters on loopback addresses, for the demo and the end-to-end
# tests: each with its own etcd, kube-apiserver, kube-controller-manager, kube-scheduler and a
# kwok that plays one node (its pods get Running, Ready and a pod IP, as on a real cluster), and an
# allocator that gives LoadBalancer Services a loopback address, as a cloud gives one.
#
#   local-clusters.sh start [NAME ...]   start clusters (default: primary remote-a; names primary and
#                                        remote-a to remote-n) and wait until ready
#   local-clusters.sh stop               stop every process this script started
#   local-clusters.sh status             one line per cluster
#   local-clusters.sh kubeconfig         print the kubeconfig path (contexts named after the clusters)
#   local-clusters.sh istiod NAME [NS [REVISION ADDRESS VERSION]]
#                                        run a real istiod (pilot-discovery) for cluster NAME on its
#                                        address, as the `istiod` service account its chart made in NS;
#                                        or revision REVISION's, of Istio VERSION, on ADDRESS
#   local-clusters.sh istiod-stop NAME [REVISION]   stop it
#   local-clusters.sh cacerts NAME [NS [REVISION]]  hand a running istiod the cacerts secret's current files
#   local-clusters.sh service NAME NS SERVICE   lead a selectorless Service's cluster IP to its
#                                        EndpointSlice's address, as kube-proxy (network namespace only)
#   local-clusters.sh service-stop NAME NS SERVICE
#   local-clusters.sh workload NAME NS POD ISTIOD_CLUSTER server|client
#                                        run pod NS/POD as a proxyless gRPC workload (pilot-agent and
#                                        Istio's echo server on the pod's IP; network namespace only);
#                                        ISTIOD_CLUSTER `-`: the istiod its injected Service leads to
#   local-clusters.sh workload-stop NAME NS POD
#   local-clusters.sh workload-roots NAME NS POD   hand the workload the mesh roots istiod publishes now
#   local-clusters.sh ranges NAME        print NAME's pod and service ranges
#   local-clusters.sh apiserver-stop NAME    stop only NAME's API server (an outage; the rest runs on)
#   local-clusters.sh apiserver-start NAME   start it again, on the same etcd
#
# The binaries come from tools/toolchain/build.sh. State lives in $ISTIO_MC_CLUSTERS
# (default $ISTIO_MC_CACHE/clusters); it is wiped by `start`, so each start is a fresh cluster.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${ISTIO_MC_CACHE:-$HOME/.cache/istio-multicluster}
state=${ISTIO_MC_CLUSTERS:-$cache/clusters}
bin=$cache/toolchain/bin
stages=$cache/toolchain/kwok-stages
kubeconfig=$state/kubeconfig
export PATH=$bin:$PATH

log() { printf '[clusters] %s\n' "$*" >&2; }

# Everything a cluster differs by: loopback address, pod and service ranges. The ranges match the
# podCidr/serviceCidr of the stack files, and never overlap: primary is 0, remote-a 1, remote-b 2,
# and so on to remote-n (14). Pods take 10.10, 10.20, … 10.100 (remote-i); services 10.110, 10.120,
# … 10.250 (remote-n); remote-j to remote-n, whose pods would meet the first services there, take
# 10.5, 10.15, … 10.45 for their pods.
cluster_index() {
    local letters=abcdefghijklmn
    case $1 in
        primary) echo 0 ;;
        remote-[a-n]) local prefix=${letters%%"${1#remote-}"*}; echo $((${#prefix} + 1)) ;;
        *) log "unknown cluster $1 (primary, or remote-a to remote-n)"; exit 2 ;;
    esac
}
cluster_ip() { echo "127.0.0.$(($(cluster_index "$1") + 2))"; }
pod_octet() { local i; i=$(cluster_index "$1"); if [ "$i" -lt 10 ]; then echo $((i * 10 + 10)); else echo $((i * 10 - 95)); fi; }
pod_cidr() { echo "10.$(pod_octet "$1").0.0/16"; }
node_pod_cidr() { echo "10.$(pod_octet "$1").0.0/24"; }
service_cidr() { echo "10.$(($(cluster_index "$1") * 10 + 110)).0.0/16"; }
# The first of the addresses LoadBalancer Services get (127.0.2.1 for primary, 127.0.3.1 for remote-a, ...).
lb_first_address() { echo "127.0.$(($(cluster_index "$1") + 2)).1"; }

# pki DIR IP: a CA, the API server's serving cert, an admin client cert and the service-account keys.
pki() {
    local dir=$1 ip=$2
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=local-cluster-ca" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
        printf 'subjectAltName=IP:%s,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$ip" >apiserver.ext
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile apiserver.ext
        openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin"
        printf 'extendedKeyUsage=clientAuth\n' >admin.ext
        openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 30 -extfile admin.ext
        openssl genrsa -out sa.key 2048
        openssl rsa -in sa.key -pubout -out sa.pub
    ) >/dev/null 2>&1
}

# kubeconfig_entry NAME IP DIR: this cluster's admin kubeconfig, one context named after the cluster.
kubeconfig_entry() {
    local name=$1 ip=$2 dir=$3
    cat <<EOF
apiVersion: v1
kind: Config
current-context: $name
clusters:
- name: $name
  cluster:
    server: https://$ip:6443
    certificate-authority-data: $(base64 -w0 <"$dir/ca.crt")
contexts:
- name: $name
  context:
    cluster: $name
    user: $name-admin
users:
- name: $name-admin
  user:
    client-certificate-data: $(base64 -w0 <"$dir/admin.crt")
    client-key-data: $(base64 -w0 <"$dir/admin.key")
EOF
}

# run NAME DIR PROGRAM ARGS...: start a process in its own session, recording its pid.
run() {
    local name=$1 dir=$2
    shift 2
    setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}

# api DIR IP PATH [ARGS...]: an admin request to one cluster's API server.
api() {
    local dir=$1 ip=$2 path=$3
    shift 3
    curl -sS --max-time 10 --cacert "$dir/ca.crt" --cert "$dir/admin.crt" --key "$dir/admin.key" "$@" "https://$ip:6443$path"
}

wait_for() { # DESCRIPTION SECONDS COMMAND...
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            log "timed out after ${seconds}s waiting for $what"
            return 1
        fi
        sleep 0.5
    done
}

# start_apiserver NAME: the cluster's kube-apiserver, on its etcd; returns once it is ready.
start_apiserver() {
    local name=$1 ip dir p
    ip=$(cluster_ip "$name")
    dir=$state/$name
    p=$dir/pki
    run kube-apiserver "$dir" kube-apiserver --etcd-servers "http://$ip:2379" \
        --bind-address "$ip" --advertise-address "$ip" --secure-port 6443 \
        --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
        --service-account-issuer "https://kubernetes.default.svc" --service-account-key-file "$p/sa.pub" \
        --service-account-signing-key-file "$p/sa.key" --service-cluster-ip-range "$(service_cidr "$name")" \
        --authorization-mode Node,RBAC --endpoint-reconciler-type none --allow-privileged=true
    wait_for "$name kube-apiserver" 120 api "$p" "$ip" /readyz -f
}

# stop_apiserver NAME: only the cluster's kube-apiserver, killed at once (etcd and the rest keep
# running), as an outage: no graceful shutdown that would go on answering for a while.
stop_apiserver() {
    local pidfile=$state/$1/kube-apiserver.pid pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$pidfile"
}

start_cluster() {
    local name=$1 ip dir
    ip=$(cluster_ip "$name")
    dir=$state/$name
    mkdir -p "$dir"
    pki "$dir/pki" "$ip"
    local p=$dir/pki
    kubeconfig_entry "$name" "$ip" "$p" >"$dir/admin.kubeconfig"

    run etcd "$dir" etcd --name "$name" --data-dir "$dir/etcd" \
        --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
        --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
        --initial-cluster "$name=http://$ip:2380" --listen-metrics-urls "http://$ip:2381"
    wait_for "$name etcd" 60 curl -sf "http://$ip:2379/health"

    start_apiserver "$name"

    run kube-controller-manager "$dir" kube-controller-manager --kubeconfig "$dir/admin.kubeconfig" \
        --bind-address "$ip" --secure-port 10257 --leader-elect=false \
        --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
        --use-service-account-credentials=false --allocate-node-cidrs=false \
        --cluster-cidr "$(pod_cidr "$name")" --service-cluster-ip-range "$(service_cidr "$name")"
    run kube-scheduler "$dir" kube-scheduler --kubeconfig "$dir/admin.kubeconfig" \
        --bind-address "$ip" --secure-port 10259 --leader-elect=false

    # The one node, played by kwok: it reports Ready and gives pods IPs from its podCIDR.
    api "$p" "$ip" /api/v1/nodes -f -X POST -H 'Content-Type: application/json' -d @- <<EOF >/dev/null
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$name-node", "annotations": {"kwok.x-k8s.io/node": "fake"},
              "labels": {"kubernetes.io/hostname": "$name-node", "kubernetes.io/os": "linux", "type": "kwok"}},
 "spec": {"podCIDR": "$(node_pod_cidr "$name")", "podCIDRs": ["$(node_pod_cidr "$name")"]},
 "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}}
EOF
    local stage_args=(-c "$root/tools/clusters/stages/pod-delete-graceful.yaml")
    for f in node-initialize node-heartbeat pod-ready pod-complete; do
        stage_args+=(-c "$stages/$f.yaml")
    done
    run kwok "$dir" kwok --kubeconfig "$dir/admin.kubeconfig" "${stage_args[@]}" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --node-ip "$ip" --cidr "$(node_pod_cidr "$name")" --server-address "$ip:10247"
    # The cloud's part: LoadBalancer Services get an address of this cluster's loopback range.
    run lb-allocator "$dir" node "$root/tools/clusters/lb-allocator.js" "$dir/admin.kubeconfig" "$(lb_first_address "$name")"
    # In a network namespace of its own (with-clusters.sh), the pod range is routed to loopback
    # there: a pod IP is then a local address a process can serve, and dialing one stays here.
    # So is the service range, where `istiod` serves its Service's cluster IP (cmd_istiod).
    if [ -n "${ISTIO_MC_NETNS:-}" ]; then
        ip route replace local "$(pod_cidr "$name")" dev lo
        ip route replace local "$(service_cidr "$name")" dev lo
    fi
}

# show_logs NAME: the last lines of each of the cluster's component logs, on stderr: the state
# directory they are in is deleted when the clusters stop, so a failure prints what explains it.
show_logs() {
    local f
    for f in "$state/$1"/*.log; do
        [ -f "$f" ] || continue
        log "$1: last lines of $(basename "$f"):"
        tail -n 15 "$f" | sed 's/^/    | /' >&2
    done
}

node_ready() { # DIR IP NAME
    api "$1" "$2" "/api/v1/nodes/$3-node" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

default_sa() { # DIR IP
    api "$1" "$2" /api/v1/namespaces/default/serviceaccounts/default -f
}

merge_kubeconfigs() {
    # One file with every running cluster's context, as a user's kubeconfig would have.
    node -e '
        const fs = require("fs");
        const yaml = require(process.argv[1]);
        const merged = { apiVersion: "v1", kind: "Config", clusters: [], contexts: [], users: [] };
        for (const file of process.argv.slice(3)) {
            const k = yaml.load(fs.readFileSync(file, "utf8"));
            merged.clusters.push(...k.clusters); merged.contexts.push(...k.contexts); merged.users.push(...k.users);
            merged["current-context"] = merged["current-context"] || k["current-context"];
        }
        fs.writeFileSync(process.argv[2], yaml.dump(merged), { mode: 0o600 });
    ' "$root/node_modules/js-yaml" "$kubeconfig" "$state"/*/admin.kubeconfig
}

cmd_start() {
    local names=("$@")
    [ ${#names[@]} -gt 0 ] || names=(primary remote-a)
    for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
        [ -x "$bin/$tool" ] || { log "missing $bin/$tool: run tools/toolchain/build.sh first"; exit 1; }
    done
    cmd_stop
    for name in "${names[@]}"; do
        local ip
        ip=$(cluster_ip "$name")
        if (exec 3<>"/dev/tcp/$ip/6443") 2>/dev/null || (exec 3<>"/dev/tcp/$ip/2379") 2>/dev/null; then
            log "$ip is already serving a cluster (another state directory than $state?); stop that one first"
            exit 1
        fi
    done
    rm -rf "$state"
    mkdir -p "$state"
    local start=$SECONDS
    for name in "${names[@]}"; do
        log "starting $name on $(cluster_ip "$name") (pods $(pod_cidr "$name"), services $(service_cidr "$name"))"
        start_cluster "$name" || { log "$name failed to start"; show_logs "$name"; cmd_stop; exit 1; }
    done
    for name in "${names[@]}"; do
        local dir=$state/$name/pki ip
        ip=$(cluster_ip "$name")
        wait_for "$name node Ready" 120 node_ready "$dir" "$ip" "$name" &&
            wait_for "$name default service account" 120 default_sa "$dir" "$ip" ||
            { log "$name is not ready; its node: $(api "$dir" "$ip" "/api/v1/nodes/$name-node" 2>&1 | tr -d '\n' | cut -c1-600)"
              show_logs "$name"; cmd_stop; exit 1; }
    done
    merge_kubeconfigs
    log "ready in $((SECONDS - start))s: ${names[*]}; KUBECONFIG=$kubeconfig"
}

# A real istiod for one cluster, as a process beside its API server: the pod the chart's Deployment
# makes is only played by kwok. It runs with the Deployment's own environment (cluster ID, mesh
# settings), authenticated with a token of the chart's `istiod` service account, so that the
# chart's RBAC is what it is allowed, and with the `cacerts` secret laid out as the pod would mount
# it. Its debug endpoints answer on http://IP:15014/debug/..., its webhook on https://IP:15017.
# With REVISION, the chart's `istiod-REVISION` (its Deployment, account, config maps and Service)
# runs instead, from the pilot-discovery of Istio VERSION (toolchain/istio-versions), on ADDRESS:
# a pod IP of the cluster's range, as each revision's istiod is its own pod.
cmd_istiod() {
    local name=$1 ns=${2:-istio-system} revision=${3:-} ip api_ip dir p run_dir token suffix discovery
    suffix=${revision:+-$revision}
    # The API server's address, and where istiod listens: the same, or a revision's own address.
    api_ip=$(cluster_ip "$name")
    ip=${4:-$api_ip}
    discovery=$bin/pilot-discovery
    [ -z "$revision" ] || discovery=$cache/toolchain/istio-versions/${5:?istiod NAME NS REVISION ADDRESS VERSION}/bin/pilot-discovery
    dir=$state/$name
    p=$dir/pki
    run_dir=$dir/istiod$suffix
    [ -x "$discovery" ] || { log "missing $discovery: run tools/toolchain/build.sh"; exit 1; }
    [ -d "$dir" ] || { log "no local cluster $name"; exit 1; }
    cmd_istiod_stop "$name" "$revision"
    rm -rf "$run_dir"
    mkdir -p "$run_dir/etc/cacerts"
    # istiod reads its mesh config and injection templates when it starts, and skips injection for
    # good when they are missing: start it once the chart has made them and its service account,
    # as a pod that starts seconds after its Deployment would (a test may start it the moment the
    # Deployment exists, which the install may make before the rest).
    local made
    for made in "serviceaccounts/istiod$suffix" "configmaps/istio$suffix" "configmaps/istio-sidecar-injector$suffix"; do
        wait_for "$name's $ns/$made" 120 api "$p" "$api_ip" "/api/v1/namespaces/$ns/$made" -f ||
            { log "no $ns/$made in $name: is the istiod chart installed?"; return 1; }
    done
    token=$(api "$p" "$api_ip" "/api/v1/namespaces/$ns/serviceaccounts/istiod$suffix/token" -f -X POST \
        -H 'Content-Type: application/json' \
        -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":86400}}' |
        json_field status.token) || { log "no token for $ns/istiod$suffix in $name: is the istiod chart installed?"; return 1; }
    {
        echo "apiVersion: v1"
        echo "kind: Config"
        echo "current-context: istiod"
        echo "clusters: [{name: $name, cluster: {server: 'https://$api_ip:6443', certificate-authority-data: $(base64 -w0 <"$p/ca.crt")}}]"
        echo "contexts: [{name: istiod, context: {cluster: $name, user: istiod}}]"
        echo "users: [{name: istiod, user: {token: $token}}]"
    } >"$run_dir/kubeconfig"
    chmod 600 "$run_dir/kubeconfig"
    copy_cacerts "$name" "$ns" "$revision"
    # The environment the chart gave the discovery container: plain values only; the pod's own are
    # set below. Nothing is added to its serving certificate's names (ISTIOD_CUSTOM_HOST): what
    # other clusters' API servers call it by must come from the chart, as on a real cluster.
    local env_args=()
    mapfile -t env_args < <(api "$p" "$api_ip" "/apis/apps/v1/namespaces/$ns/deployments/istiod$suffix" -f | node -e '
        let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
            const container = JSON.parse(s).spec.template.spec.containers.find((c) => c.name === "discovery");
            for (const e of container.env || []) {
                if (e.value !== undefined && e.name !== "KUBECONFIG") console.log(`${e.name}=${e.value}`);
            }
        });')
    [ ${#env_args[@]} -gt 0 ] || { log "no istiod$suffix Deployment in $name/$ns"; return 1; }
    (
        cd "$run_dir"
        env "${env_args[@]}" POD_NAMESPACE="$ns" POD_NAME="istiod$suffix-$name" SERVICE_ACCOUNT="istiod$suffix" \
            setsid "$discovery" discovery --kubeconfig "$run_dir/kubeconfig" --domain cluster.local \
            --httpAddr "$ip:8080" --httpsAddr "$ip:15017" --grpcAddr "$ip:15010" --secureGRPCAddr "$ip:15012" \
            --monitoringAddr "$ip:15014" --ctrlz_address "$ip" >"$dir/istiod$suffix.log" 2>&1 </dev/null &
        echo $! >"$dir/istiod$suffix.pid"
    )
    wait_for "$name istiod$suffix ready" 120 curl -sf "http://$ip:8080/ready" ||
        { log "istiod$suffix for $name is not ready; its log's last lines:"; tail -20 "$dir/istiod$suffix.log" >&2; return 1; }
    # Inside the suite's network namespace, its Service's cluster IP leads to it, as kube-proxy
    # would lead it to the pod: the API server calls the webhooks there (port 443 to 15017).
    if [ -n "${ISTIO_MC_NETNS:-}" ]; then
        local pairs=()
        wait_for "$name's istiod$suffix Service" 60 api "$p" "$api_ip" "/api/v1/namespaces/$ns/services/istiod$suffix" -f
        mapfile -t pairs < <(api "$p" "$api_ip" "/api/v1/namespaces/$ns/services/istiod$suffix" -f | node -e '
            let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
                const svc = JSON.parse(s);
                for (const port of svc.spec.ports) console.log(`${svc.spec.clusterIP}:${port.port}=${process.argv[1]}:${port.targetPort}`);
            });' "$ip")
        run "istiod$suffix-service" "$dir" node "$root/tools/clusters/service-proxy.js" "${pairs[@]}"
    fi
    log "istiod$suffix for $name ready on $ip (debug: http://$ip:15014/debug/clusterz)"
}

# What kube-proxy does for a Service without a selector (a remote's `istiod-<rev>`, which the
# istiod chart points at the primary's istiod with an EndpointSlice): its cluster IP's ports lead
# to the EndpointSlice's address, on the matching ports. Only inside the suite's network namespace.
cmd_service() {
    local name=$1 ns=$2 service=$3 ip pairs=()
    ip=$(cluster_ip "$name")
    [ -n "${ISTIO_MC_NETNS:-}" ] || { log "Service proxies run only inside the suite's network namespace"; exit 1; }
    cmd_service_stop "$name" "$ns" "$service"
    mapfile -t pairs < <(node -e '
        const [svcJson, slicesJson] = process.argv.slice(1);
        const svc = JSON.parse(svcJson);
        const slice = JSON.parse(slicesJson).items.find((s) => (s.endpoints || []).length > 0);
        if (!slice) { console.error(`no EndpointSlice with an endpoint for ${svc.metadata.name}`); process.exit(1); }
        for (const port of svc.spec.ports) {
            const target = slice.ports.find((p) => p.name === port.name);
            if (target) console.log(`${svc.spec.clusterIP}:${port.port}=${slice.endpoints[0].addresses[0]}:${target.port}`);
        }' "$(api "$state/$name/pki" "$ip" "/api/v1/namespaces/$ns/services/$service" -f)" \
        "$(api "$state/$name/pki" "$ip" "/apis/discovery.k8s.io/v1/namespaces/$ns/endpointslices?labelSelector=kubernetes.io/service-name%3D$service" -f)") ||
        { log "Service $ns/$service of $name: no cluster IP and endpoint to lead to"; return 1; }
    run "service-$ns-$service" "$state/$name" node "$root/tools/clusters/service-proxy.js" "${pairs[@]}"
    log "Service $ns/$service of $name: ${pairs[*]}"
}

cmd_service_stop() {
    local pidfile=$state/$1/service-$2-$3.pid
    [ -f "$pidfile" ] || return 0
    kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
}

# The plug-in CA as the istiod pod sees it: the cacerts secret's files in its mounted directory
# (absent: istiod signs with its own root). Run again after the secret changed, it plays the
# kubelet's update of the mounted secret, which istiod (AUTO_RELOAD_PLUGIN_CERTS) picks up.
copy_cacerts() {
    local name=$1 ns=${2:-istio-system} revision=${3:-} ip dir
    ip=$(cluster_ip "$name")
    dir=$state/$name/istiod${revision:+-$revision}/etc/cacerts
    [ -d "$dir" ] || { log "no istiod run directory for $name: start it with \`istiod $name\`"; return 1; }
    api "$state/$name/pki" "$ip" "/api/v1/namespaces/$ns/secrets/cacerts" | node -e '
        let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
            const fs = require("fs");
            for (const [file, data] of Object.entries(JSON.parse(s).data || {})) {
                // Written beside, then renamed over: istiod never reads a half-written file.
                fs.writeFileSync(`${process.argv[1]}/.${file}`, Buffer.from(data, "base64"), { mode: 0o600 });
                fs.renameSync(`${process.argv[1]}/.${file}`, `${process.argv[1]}/${file}`);
            }
        });' "$dir"
}

# A proxyless gRPC workload: what the kubelet would run for pod NS/POD of cluster NAME, injected by
# istiod with its `grpc-agent` template, as processes on the pod's IP. pilot-agent (no Envoy) runs
# with the environment injection gave the pod's istio-proxy container (cluster, network, mesh, proxy
# config), the pod's own fields filled in; it authenticates to the istiod of cluster ISTIOD_CLUSTER
# with a token of the pod's service account (audience istio-ca), gets the workload certificate and
# writes the gRPC xDS bootstrap. Istio's echo server then takes ForwardEcho requests in plain gRPC on
# the app's first container port P + 1 (the pod's calls) and, as a server, serves P with
# xDS-configured mTLS, answering with its cluster's name. A client only calls: the agent serves one
# xDS stream at a time, and gRPC opens one for the server's listener and one per target it calls.
# Files in $state/NAME/pods/NS-POD.
cmd_workload() {
    local name=$1 ns=$2 pod=$3 istiod_cluster=$4 role=$5 ip p dir pod_json pod_ip port cluster_id status_port
    [[ $role == server || $role == client ]] || { log "workload: the role is server or client, not '$role'"; exit 2; }
    ip=$(cluster_ip "$name")
    p=$state/$name/pki
    dir=$state/$name/pods/$ns-$pod
    # A pod IP is a local address only inside with-clusters.sh's network namespace; outside it, 10.x
    # addresses belong to other networks, and nothing here may serve or dial them.
    [ -n "${ISTIO_MC_NETNS:-}" ] || { log "workloads run only inside the suite's network namespace (tools/clusters/with-clusters.sh)"; exit 1; }
    for tool in pilot-agent echo-server; do
        [ -x "$bin/$tool" ] || { log "missing $bin/$tool: run tools/toolchain/build.sh istio"; exit 1; }
    done
    pod_json=$(api "$p" "$ip" "/api/v1/namespaces/$ns/pods/$pod" -f) || { log "no pod $ns/$pod in $name"; return 1; }
    pod_ip=$(json_field status.podIP <<<"$pod_json") || { log "pod $ns/$pod in $name has no IP yet"; return 1; }
    # istiod at its cluster's address; or, with ISTIOD_CLUSTER `-`, where the pod's injected discovery
    # address (SERVICE.NS.svc:PORT) leads in its own cluster, as DNS and kube-proxy would lead it:
    # the Service's cluster IP (a `service` proxy, or the revision istiod's own, forwards it).
    local istiod_ip istiod_san=istiod.istio-system.svc agent=$bin/pilot-agent image_tag
    if [ "$istiod_cluster" = - ]; then
        istiod_san=$(node -e '
            const pod = JSON.parse(process.argv[1]);
            const env = pod.spec.containers.find((c) => c.name === "istio-proxy")?.env || [];
            const address = JSON.parse(env.find((e) => e.name === "PROXY_CONFIG")?.value || "{}").discoveryAddress || "";
            const host = address.replace(/:\d+$/, "");
            if (!/^[^.]+\.[^.]+\.svc$/.test(host)) { console.error(`injected discovery address ${address} is not a Service`); process.exit(1); }
            process.stdout.write(host);' "$pod_json") || return 1
        istiod_ip=$(api "$p" "$ip" "/api/v1/namespaces/$(cut -d. -f2 <<<"$istiod_san")/services/$(cut -d. -f1 <<<"$istiod_san")" -f |
            json_field spec.clusterIP) || { log "no Service $istiod_san in $name"; return 1; }
    else
        istiod_ip=$(cluster_ip "$istiod_cluster")
    fi
    # The agent of the release the pod was injected with (its istio-proxy image's tag), where the
    # toolchain built that release; else the pinned one.
    image_tag=$(node -e 'const c = JSON.parse(process.argv[1]).spec.containers.find((c) => c.name === "istio-proxy");
        process.stdout.write((c?.image || "").replace(/^.*:/, ""))' "$pod_json")
    [ -z "$image_tag" ] || [ ! -x "$cache/toolchain/istio-versions/$image_tag/bin/pilot-agent" ] ||
        agent=$cache/toolchain/istio-versions/$image_tag/bin/pilot-agent
    cmd_workload_stop "$name" "$ns" "$pod"
    rm -rf "$dir"
    mkdir -p "$dir/var/run/secrets/tokens" "$dir/var/run/secrets/istio" "$dir/var/lib/istio/data" "$dir/etc/istio/proxy"
    # Its status server listens on every address: a free port, as pods here share one network namespace.
    status_port=$(node -e 'const s = require("net").createServer().listen(0, () => { console.log(s.address().port); s.close(); });')
    # The agent's environment, NUL-separated: the injected container's, with the pod's fields filled
    # in, and where this host differs from a pod: istiod dialed at its cluster's address (its
    # certificate still checked for its Service's name) and absolute paths (the bootstrap names the
    # xDS socket as unix:///PATH). Then the app's port, the cluster name and the service account.
    local agent_env=()
    mapfile -d '' agent_env < <(node -e '
        const [podJson, dir, nodeIp, istiod, istiodSan, statusPort] = process.argv.slice(1);
        const pod = JSON.parse(podJson);
        const proxy = pod.spec.containers.find((c) => c.name === "istio-proxy");
        const app = pod.spec.containers.find((c) => c.name !== "istio-proxy" && (c.ports || []).length > 0);
        if (!proxy || !app) {
            console.error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has ${proxy ? "no container port" : "no istio-proxy container: not injected (is its namespace labelled istio-injection=enabled, with istiod running?)"}`);
            process.exit(1);
        }
        const fields = { "metadata.name": pod.metadata.name, "metadata.namespace": pod.metadata.namespace,
            "status.podIP": pod.status.podIP, "status.hostIP": nodeIp, "spec.nodeName": pod.spec.nodeName,
            "spec.serviceAccountName": pod.spec.serviceAccountName || "default" };
        const env = {};
        for (const e of proxy.env || []) {
            const value = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath];
            if (value !== undefined) env[e.name] = value;
        }
        const proxyConfig = JSON.parse(env.PROXY_CONFIG || "{}");
        Object.assign(proxyConfig, { discoveryAddress: `${istiod}:15012`, configPath: `${dir}/etc/istio/proxy`, statusPort: Number(statusPort) });
        // No CA_ADDR: the agent then asks the discovery address for its certificate, and checks
        // istiod there for ISTIOD_SAN (an explicit CA_ADDR is checked for its own host, an IP here).
        delete env.CA_ADDR;
        Object.assign(env, { PROXY_CONFIG: JSON.stringify(proxyConfig), ISTIOD_SAN: istiodSan,
            OUTPUT_CERTS: `${dir}/var/lib/istio/data`, GRPC_XDS_BOOTSTRAP: `${dir}/etc/istio/proxy/grpc-bootstrap.json` });
        const out = Object.entries(env).map(([k, v]) => `${k}=${v}`);
        out.push(String(app.ports[0].containerPort), env.ISTIO_META_CLUSTER_ID || "Kubernetes", fields["spec.serviceAccountName"]);
        process.stdout.write(out.map((line) => line + "\0").join(""));
    ' "$pod_json" "$dir" "$ip" "$istiod_ip" "$istiod_san" "$status_port") || return 1
    local sa=${agent_env[-1]}
    cluster_id=${agent_env[-2]}
    port=${agent_env[-3]}
    agent_env=("${agent_env[@]:0:${#agent_env[@]}-3}")
    api "$p" "$ip" "/api/v1/namespaces/$ns/serviceaccounts/$sa/token" -f -X POST -H 'Content-Type: application/json' \
        -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["istio-ca"],"expirationSeconds":43200}}' |
        json_field status.token >"$dir/var/run/secrets/tokens/istio-token" ||
        { log "no istio-ca token for $ns/$sa in $name"; return 1; }
    wait_for "istio-ca-root-cert in $name/$ns" 60 api "$p" "$ip" "/api/v1/namespaces/$ns/configmaps/istio-ca-root-cert" -f
    copy_mesh_roots "$name" "$ns" "$pod"
    (
        cd "$dir"
        env "${agent_env[@]}" setsid "$agent" proxy sidecar --domain "$ns.svc.cluster.local" >"$dir/agent.log" 2>&1 </dev/null &
        echo $! >"$state/$name/pod-$ns-$pod-agent.pid"
    )
    wait_for "$name/$ns/$pod's workload certificate" 60 test -s "$dir/var/lib/istio/data/cert-chain.pem" ||
        { log "no certificate for $ns/$pod; agent log: $dir/agent.log"; tail -20 "$dir/agent.log" >&2; return 1; }
    wait_for "$name/$ns/$pod's gRPC bootstrap" 30 test -s "$dir/etc/istio/proxy/grpc-bootstrap.json"
    # The agent's bootstrap has gRPC re-read the certificate files every 15 minutes; here every 5 s,
    # so that a test sees calls take up a certificate or root the agent rotated, within the test.
    node -e '
        const fs = require("fs");
        const file = process.argv[1];
        const bootstrap = JSON.parse(fs.readFileSync(file, "utf8"));
        for (const provider of Object.values(bootstrap.certificate_providers || {})) {
            provider.config.refresh_interval = "5s";
        }
        fs.writeFileSync(file, JSON.stringify(bootstrap, null, 2));
    ' "$dir/etc/istio/proxy/grpc-bootstrap.json"
    local grpc_ports=$((port + 1)) serving=()
    [ "$role" = client ] || { grpc_ports=$port,$grpc_ports; serving=(--xds-grpc-server "$port"); }
    (
        cd "$dir"
        env GRPC_XDS_BOOTSTRAP="$dir/etc/istio/proxy/grpc-bootstrap.json" INSTANCE_IP="$pod_ip" NAMESPACE="$ns" \
            setsid "$bin/echo-server" --cluster "$cluster_id" --grpc "$grpc_ports" "${serving[@]}" \
            --port "$((port + 2))" --tcp "$((port + 3))" --bind-ip "$grpc_ports,$((port + 2)),$((port + 3))" \
            >"$dir/echo.log" 2>&1 </dev/null &
        echo $! >"$state/$name/pod-$ns-$pod-echo.pid"
    )
    wait_for "$name/$ns/$pod's echo server" 30 grep -q "Echo server is now ready" "$dir/echo.log" ||
        { log "echo server of $ns/$pod not ready; log: $dir/echo.log"; tail -20 "$dir/echo.log" >&2; return 1; }
    log "workload $ns/$pod of $name on $pod_ip ($role; cluster $cluster_id, istiod $istiod_san at $istiod_ip, $("$agent" version -s 2>/dev/null | tail -1))"
}

# The mesh roots as pod NS/POD of cluster NAME mounts them (the istio-ca-root-cert ConfigMap, which
# istiod writes into every namespace; the agent checks istiod's certificate against them). Run again
# after the roots changed, it plays the kubelet's update of the mounted ConfigMap.
copy_mesh_roots() {
    local name=$1 ns=$2 pod=$3 ip file
    ip=$(cluster_ip "$name")
    file=$state/$name/pods/$ns-$pod/var/run/secrets/istio/root-cert.pem
    api "$state/$name/pki" "$ip" "/api/v1/namespaces/$ns/configmaps/istio-ca-root-cert" -f |
        node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
            process.stdout.write(JSON.parse(s).data["root-cert.pem"]));' >"$file.new" &&
        mv "$file.new" "$file"
}

cmd_workload_stop() {
    local name=$1 ns=$2 pod=$3 pidfile pid
    for pidfile in "$state/$name/pod-$ns-$pod-agent.pid" "$state/$name/pod-$ns-$pod-echo.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        # Gone before this returns: a workload started again binds the same addresses.
        wait_for "process $pid to exit" 10 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    done
}

cmd_istiod_stop() {
    local suffix=${2:+-$2} pidfile pid
    pidfile=$state/$1/istiod$suffix.pid
    if [ -f "$state/$1/istiod$suffix-service.pid" ]; then
        kill -TERM -- "-$(cat "$state/$1/istiod$suffix-service.pid")" 2>/dev/null || true
        rm -f "$state/$1/istiod$suffix-service.pid"
    fi
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    # istiod may ignore SIGTERM for long once a remote credential goes bad: SIGKILL after a grace period.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# json_field PATH: one field of the JSON document on stdin (dot-separated path).
json_field() {
    node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
        const v = process.argv[1].split(".").reduce((o, k) => (o == null ? o : o[k]), JSON.parse(s));
        if (v == null) process.exit(1);
        process.stdout.write(String(v));
    });' "$1"
}

cmd_stop() {
    local pidfile stopped=0
    for pidfile in "$state"/*/*.pid; do
        [ -e "$pidfile" ] || continue
        local pid
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            stopped=$((stopped + 1))
        fi
        rm -f "$pidfile"
    done
    # Give them a moment, then make sure.
    sleep 1
    pkill -KILL -f "$state/" 2>/dev/null || true
    [ $stopped -eq 0 ] || log "stopped $stopped processes"
}

cmd_status() {
    local dir name ip any=0
    for dir in "$state"/*/; do
        [ -f "$dir/admin.kubeconfig" ] || continue
        any=1
        name=$(basename "$dir")
        ip=$(cluster_ip "$name")
        if api "$dir/pki" "$ip" /readyz -f >/dev/null 2>&1; then
            echo "$name https://$ip:6443 ready"
        else
            echo "$name https://$ip:6443 down"
        fi
    done
    [ $any -eq 1 ] || echo "no local clusters"
}

case ${1:-} in
    start) shift; cmd_start "$@" ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kubeconfig) echo "$kubeconfig" ;;
    istiod) shift; cmd_istiod "$@" ;;
    istiod-stop) shift; cmd_istiod_stop "$@" ;;
    service) shift; cmd_service "$@" ;;
    service-stop) shift; cmd_service_stop "$@" ;;
    cacerts) shift; copy_cacerts "$@" ;;
    workload-roots) shift; copy_mesh_roots "$@" ;;
    ranges) shift; cluster_index "$1" >/dev/null; echo "$(pod_cidr "$1") $(service_cidr "$1")" ;;
    workload) shift; cmd_workload "$@" ;;
    workload-stop) shift; cmd_workload_stop "$@" ;;
    apiserver-stop) shift; stop_apiserver "$1" ;;
    apiserver-start) shift; start_apiserver "$1" ;;
    *) sed -n '2,29p' "$0"; exit 2 ;;
esac
