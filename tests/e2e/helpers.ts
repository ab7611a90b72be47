// Helpers for the end-to-end assertions.
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, V1Pod } from "@kubernetes/client-node";
import { coreApi, unlessNotFound } from "../../lib/kube/kube";
import { kubeClientLibrary, kubeConfigAt } from "../../lib/kube/kubeconfig";

const NS = "istio-system";

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) {
                return value;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** One cluster as the tests call it, through @kubernetes/client-node. */
export class TestCluster {
    /** The core API (namespaces, pods, services, secrets, config maps, endpoints). */
    readonly core: CoreV1Api;
    /** The apps API (deployments). */
    readonly apps: AppsV1Api;
    /** Any object by apiVersion and kind. */
    readonly objects: KubernetesObjectApi;

    constructor(readonly kc: KubeConfig) {
        const lib = kubeClientLibrary();
        this.core = coreApi(kc);
        this.apps = kc.makeApiClient(lib.AppsV1Api);
        this.objects = lib.KubernetesObjectApi.makeApiClient(kc);
    }

    /** A context of a kubeconfig (its current one by default). */
    static of(kubeconfigText: string, context?: string): TestCluster {
        return new TestCluster(kubeConfigAt(kubeconfigText, context));
    }

    /** Whether the object exists (a 404 says it does not; any other failure throws). */
    async has(apiVersion: string, kind: string, name: string, namespace?: string): Promise<boolean> {
        return (await unlessNotFound(this.objects.read({ apiVersion, kind, metadata: { name, namespace } }))) !== undefined;
    }
}

/** An environment variable the end-to-end run sets (tools/clusters/with-clusters.sh); throws naming it otherwise. */
export function requiredEnv(name: string): string {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set: run this suite through tests/e2e/run.sh`);
    }
    return value;
}

/** The local clusters' kubeconfig file, with a context per cluster. */
export function localKubeconfigPath(): string {
    return path.join(requiredEnv("ISTIO_MC_CLUSTERS"), "kubeconfig");
}

/** One of the local clusters, by its context (primary, remote-a, …). */
export function localCluster(name: string): TestCluster {
    return TestCluster.of(fs.readFileSync(localKubeconfigPath(), "utf8"), name);
}

/** The one running, ready pod with the label selector and an IP (undefined while there is not exactly one). */
export async function readyPod(cluster: TestCluster, namespace: string, labelSelector: string): Promise<V1Pod | undefined> {
    const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector });
    const ready = pods.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP &&
        (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"));
    return ready.length === 1 ? ready[0] : undefined;
}

/** The IP of the one running, ready pod with the label selector. */
export async function readyPodIp(cluster: TestCluster, namespace: string, labelSelector: string): Promise<string | undefined> {
    return (await readyPod(cluster, namespace, labelSelector))?.status!.podIP;
}

/** What a remote stack could leave behind, in its cluster or the primary; empty when it left nothing. */
export async function leftovers(primary: TestCluster, remote: TestCluster, clusterName: string): Promise<string[]> {
    const found: string[] = [];
    const check = async (who: TestCluster, label: string, apiVersion: string, kind: string, name: string, namespace?: string) => {
        if (await who.has(apiVersion, kind, name, namespace)) {
            found.push(`${label}: ${kind} ${namespace ? `${namespace}/` : ""}${name}`);
        }
    };
    await eventually(`${clusterName}'s Istio namespace to be gone`, 120, async () =>
        (await remote.has("v1", "Namespace", NS)) ? undefined : true).catch(() => undefined);
    await check(remote, clusterName, "v1", "Namespace", NS);
    await check(remote, clusterName, "rbac.authorization.k8s.io/v1", "ClusterRole", "istio-reader");
    await check(remote, clusterName, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "istio-multi");
    await check(remote, clusterName, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "istio-sidecar-injector");
    const defaultNs = await remote.core.readNamespace({ name: "default" });
    if (defaultNs.metadata?.labels?.["istio-injection"]) {
        found.push(`${clusterName}: label istio-injection on namespace default`);
    }
    await check(primary, "primary", "v1", "Secret", clusterName, NS);
    return found;
}

/**
 * Whether istiod has made the default validator of `cluster` fail-closed (it does once the API
 * server reaches its webhook); undefined while not, for `eventually`.
 */
export async function validationFailsClosed(cluster: TestCluster): Promise<true | undefined> {
    const validator = await cluster.objects.read({ apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration", metadata: { name: "istiod-default-validator" } }) as any;
    return validator.webhooks.every((w: any) => w.failurePolicy === "Fail") ? true : undefined;
}

/** A copy of the project to run in, so that Pulumi's stack files in the repo stay untouched. */
export function makeWorkDir(): string {
    const root = path.resolve(__dirname, "..", "..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mc-e2e-"));
    for (const entry of ["index.ts", "components", "lib", "cli", "bin", "Pulumi.yaml", "Pulumi.primary.yaml", "Pulumi.remote-a.yaml",
        "package.json", "tsconfig.json", "tests/fixtures", "dist"].filter((e) => fs.existsSync(path.join(root, e)))) {
        fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true, preserveTimestamps: true });
    }
    // A demo run may have written its stacks' encryption salt into the repo's stack files.
    for (const file of fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        const text = fs.readFileSync(path.join(dir, file), "utf8");
        fs.writeFileSync(path.join(dir, file), text.replace(/^encryptionsalt: .*\n/m, ""));
    }
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

/**
 * One of istiod's debug endpoints (http://ADDRESS:15014/debug/ENDPOINT), as JSON. Asked from
 * 127.0.0.1, as through `kubectl port-forward`: istiod answers loopback callers without credentials
 * (a pod address of its own is not loopback).
 */
export function istiodDebug(address: string, endpoint: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
        http.get(`http://${address}:15014/debug/${endpoint}`, { timeout: 10000, localAddress: "127.0.0.1" }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => {
                try { resolve(JSON.parse(text)); } catch { reject(new Error(`/debug/${endpoint}: ${res.statusCode} ${text.slice(0, 200)}`)); }
            });
        }).on("error", reject);
    });
}

/** The config maps istiod copies into every namespace. */
const ISTIOD_WRITTEN = ["istio-ca-root-cert", "istio-ca-crl"];

/** Names and versions of the namespaces, secrets and config maps of clusters: what a refused run must not change. */
export async function snapshot(clusters: string[]): Promise<Record<string, string[]>> {
    const result: Record<string, string[]> = {};
    for (const name of clusters) {
        const cluster = localCluster(name);
        for (const kind of ["Namespace", "Secret", "ConfigMap", "Service"]) {
            result[`${name}/${kind}`] = ((await cluster.objects.list("v1", kind)).items as any[])
                // What istiod writes on its own (leader elections it renews every few seconds, the mesh
                // root and CRL it copies into every namespace) is not the program's doing.
                .filter((i) => !i.metadata.annotations?.["control-plane.alpha.kubernetes.io/leader"] &&
                    !ISTIOD_WRITTEN.includes(i.metadata.name))
                .map((i) => `${i.metadata.namespace ?? ""}/${i.metadata.name}@${i.metadata.resourceVersion}`)
                .filter((s) => !s.startsWith("kube-system/") && !s.startsWith("kube-node-lease/")).sort();
        }
    }
    return result;
}
