// Mesh workloads for the end-to-end suite: a Deployment and Service in a local cluster whose pods
// are then run by tools/clusters/local-clusters.sh as proxyless gRPC workloads (Istio's pilot-agent
// and echo server on the pod's IP, inside the suite's network namespace), and calls between them
// made by the calling pod's echo server through its gRPC xDS bootstrap: the endpoints, routes and
// mTLS settings the calling pod uses are the ones istiod serves it.
import * as grpc from "@grpc/grpc-js";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { statusOf } from "../../lib/kube/kube";
import { pemCertificates } from "../../lib/ca/pki";
import { eventually, localCluster, readyPod, requiredEnv, TestCluster } from "./helpers";
import { lengthDelimited, repeatedStrings, varintField } from "../../cli/protobuf";
import { runCommand } from "./pulumi";

const ROOT = path.resolve(__dirname, "..", "..");
/** The port every workload serves (gRPC, mTLS as istiod configures it). */
export const ECHO_PORT = 7070;

/** A running pod of a local cluster. */
export interface Pod {
    /** The local cluster it runs in (primary, remote-a, ...). */
    readonly cluster: string;
    readonly namespace: string;
    readonly name: string;
    readonly ip: string;
}

/** What a series of calls from one workload got back. */
export interface Calls {
    /** Every call succeeded. */
    readonly ok: boolean;
    /** The cluster that answered each call, as the answering echo server reports it. */
    readonly clusters: string[];
    /** What the calls returned, or the error, for assertion messages. */
    readonly output: string;
}

/** The label that has istiod's default revision inject a namespace's pods. */
export const DEFAULT_INJECTION = { "istio-injection": "enabled" };

/** A namespace whose pods istiod injects, created or labelled so (by default for the default revision). */
export async function ensureNamespace(cluster: TestCluster, name: string, labels: Record<string, string> = DEFAULT_INJECTION): Promise<void> {
    await cluster.core.createNamespace({ body: { metadata: { name, labels } } }).catch(async (err) => {
        if (statusOf(err) !== 409) {
            throw err;
        }
        const existing = await cluster.core.readNamespace({ name });
        existing.metadata!.labels = { ...existing.metadata!.labels, ...labels };
        await cluster.core.replaceNamespace({ name, body: existing });
    });
}

/** How a workload is deployed. */
export interface DeployOptions {
    /** The port it serves (ECHO_PORT by default). */
    readonly port?: number;
    /** istiod's injection template: its proxyless gRPC one (an agent, no Envoy), or its default one (an Envoy sidecar, which nothing here runs: the pod is what others' config names). */
    readonly injection?: "grpc-agent" | "sidecar";
    /** More pod annotations. */
    readonly annotations?: Record<string, string>;
    /** The namespace's injection labels (istio-injection=enabled by default; istio.io/rev=<tag or revision> for a revision). */
    readonly namespaceLabels?: Record<string, string>;
    /** The Deployment's minReadySeconds: a rolling update keeps the old pod that long after the new one is Ready. */
    readonly minReadySeconds?: number;
}

/**
 * A Deployment of one pod with its own service account, and a Service for it, in `namespace` of
 * local cluster `clusterName` (created if missing, injected); returns the ready pod, as istiod
 * injected it.
 */
export async function deploy(clusterName: string, namespace: string, name: string, opts: DeployOptions = {}): Promise<Pod> {
    const cluster = localCluster(clusterName);
    const port = opts.port ?? ECHO_PORT;
    await ensureNamespace(cluster, namespace, opts.namespaceLabels);
    const labels = { app: name };
    await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    await cluster.apps.createNamespacedDeployment({ namespace, body: {
        metadata: { name },
        spec: { replicas: 1, minReadySeconds: opts.minReadySeconds, selector: { matchLabels: labels }, template: {
            metadata: { labels, annotations: { "inject.istio.io/templates": opts.injection ?? "grpc-agent", ...opts.annotations } },
            spec: { serviceAccountName: name, containers: [{ name, image: "registry.example/echo:1", ports: [{ containerPort: port }] }] } } },
    } });
    await cluster.core.createNamespacedService({ namespace, body: {
        metadata: { name }, spec: { selector: labels, ports: [{ name: "grpc", port, protocol: "TCP" }] },
    } });
    const pod = await eventually(`a ready ${name} pod in ${clusterName}`, 120, () => readyPod(cluster, namespace, `app=${name}`));
    return { cluster: clusterName, namespace, name: pod.metadata!.name!, ip: pod.status!.podIP! };
}

function clustersScript(args: string[], timeoutSeconds: number) {
    return runCommand("bash", [path.join(ROOT, "tools/clusters/local-clusters.sh"), ...args], ROOT, process.env, timeoutSeconds);
}

/**
 * Runs the pod as a mesh workload whose agent talks to the istiod of `istiodCluster`: a server
 * (answers calls with mTLS, and calls) or a client (only calls).
 */
export async function startWorkload(pod: Pod, istiodCluster: string, role: "server" | "client"): Promise<void> {
    const r = await clustersScript(["workload", pod.cluster, pod.namespace, pod.name, istiodCluster, role], 180);
    if (r.code !== 0) {
        throw new Error(`workload ${pod.namespace}/${pod.name} of ${pod.cluster} did not start\n${r.stderr}`);
    }
}

/** Stops the pod's processes (its agent and echo server). */
export async function stopWorkload(pod: Pod): Promise<void> {
    await clustersScript(["workload-stop", pod.cluster, pod.namespace, pod.name], 30);
}

/**
 * `count` calls from the pod to `url` (xds:///HOST:PORT through istiod, or grpc://IP:PORT
 * directly), made by the pod's echo server (its ForwardEcho, on the plain control port).
 */
export async function call(from: Pod, url: string, count = 1): Promise<Calls> {
    // ForwardEchoRequest: count (1), timeout_micros (3), url (4).
    const request = Buffer.concat([varintField(1, count), varintField(3, 5_000_000), lengthDelimited(4, url)]);
    const client = new grpc.Client(`${from.ip}:${ECHO_PORT + 1}`, grpc.credentials.createInsecure());
    try {
        const response = await new Promise<Buffer>((resolve, reject) => {
            client.makeUnaryRequest("/proto.EchoTestService/ForwardEcho", (b: Buffer) => b, (b: Buffer) => b, request,
                new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, value) => (err ? reject(err) : resolve(value!)));
        });
        const output = repeatedStrings(response, 1).join("\n"); // ForwardEchoResponse.output
        return { ok: true, clusters: [...output.matchAll(/^\[\d+ body\] Cluster=(.*)$/gm)].map((m) => m[1]), output };
    } catch (err) {
        return { ok: false, clusters: [], output: String(err) };
    } finally {
        client.close();
    }
}

/**
 * `times` ForwardEcho requests of one call each. The echo client calls a request's calls over one
 * connection, to one server: only separate requests sample every server the mesh routes to.
 */
export async function callSeparately(from: Pod, url: string, times: number): Promise<Calls> {
    const each: Calls[] = [];
    for (let i = 0; i < times; i++) {
        each.push(await call(from, url));
    }
    return { ok: each.every((c) => c.ok), clusters: each.flatMap((c) => c.clusters), output: each.map((c) => c.output).join("\n") };
}

/** The certificates of one of the files the pod's agent wrote for its gRPC library (OUTPUT_CERTS), in order. */
function agentCertificates(pod: Pod, file: "cert-chain.pem" | "root-cert.pem"): crypto.X509Certificate[] {
    const where = path.join(requiredEnv("ISTIO_MC_CLUSTERS"), pod.cluster, "pods", `${pod.namespace}-${pod.name}`, "var/lib/istio/data", file);
    return pemCertificates(fs.readFileSync(where, "utf8")).map((pem) => new crypto.X509Certificate(pem));
}

/** The certificate chain the pod's agent got from istiod and handed its gRPC library, leaf first. */
export function workloadChain(pod: Pod): crypto.X509Certificate[] {
    return agentCertificates(pod, "cert-chain.pem");
}

/**
 * Mutual TLS for `host`'s calls in `namespace`, set where istiod reads its config: servers there
 * accept mTLS only (PeerAuthentication STRICT) and callers use the mesh's certificates
 * (DestinationRule ISTIO_MUTUAL), which proxyless gRPC needs spelled out.
 */
export async function requireMutualTls(config: TestCluster, namespace: string, host: string): Promise<void> {
    await peerAuthentication(config, namespace, "STRICT");
    await config.objects.create({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule",
        metadata: { name: host.split(".")[0], namespace }, spec: { host, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } } } as any);
}

/** The namespace-wide PeerAuthentication `default` with mode `mode` (created, the namespace too if missing). */
export async function peerAuthentication(config: TestCluster, namespace: string, mode: "STRICT" | "DISABLE"): Promise<void> {
    await ensureNamespace(config, namespace);
    await config.objects.create({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication",
        metadata: { name: "default", namespace }, spec: { mtls: { mode } } } as any);
}

/** Hands the pod's agent the mesh roots its namespace's istio-ca-root-cert holds now, as the kubelet updates a mounted ConfigMap. */
export async function refreshWorkloadRoots(pod: Pod): Promise<void> {
    const r = await clustersScript(["workload-roots", pod.cluster, pod.namespace, pod.name], 30);
    if (r.code !== 0) {
        throw new Error(`the mesh roots of ${pod.namespace}/${pod.name} of ${pod.cluster} were not refreshed\n${r.stderr}`);
    }
}

/** The roots the pod's agent got from istiod and handed its gRPC library (the trust bundle its calls check peers against). */
export function workloadRoots(pod: Pod): crypto.X509Certificate[] {
    return agentCertificates(pod, "root-cert.pem");
}

/** Calls made while something else happens, each counted. */
export interface CallCount {
    /** How many calls were made. */
    readonly made: number;
    /** What each failed call said. */
    readonly failures: string[];
}

/**
 * Calls `url` from the pod one after another, each its own request (a new connection, so each
 * checks the certificates and roots of that moment), until `stop` returns the count.
 */
export function callContinuously(from: Pod, url: string): { stop(): Promise<CallCount> } {
    let stopped = false;
    let made = 0;
    const failures: string[] = [];
    const calling = (async () => {
        while (!stopped) {
            const r = await call(from, url);
            made++;
            if (!r.ok) {
                failures.push(`${new Date().toISOString()} ${r.output.split("\n").slice(-3).join(" | ")}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    })();
    return {
        stop: async () => {
            stopped = true;
            await calling;
            return { made, failures };
        },
    };
}
