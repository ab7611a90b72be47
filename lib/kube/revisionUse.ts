// What still uses an istiod revision, read from every cluster of a primary-remote mesh before the
// primary removes one: the primary's own cluster with the stack's credentials, each registered
// remote through its registration secret's kubeconfig (the reader account istiod itself uses).
import type { KubeConfig } from "@kubernetes/client-node";
import { PrimaryRemotePrimaryConfig } from "../config/config";
import { ConfigError } from "../config/errors";
import { removalProblem, RevisionUse } from "../istio/revisions";
import { LastDeployment } from "../stacks/lastDeployment";
import { coreApi, serverOf, statusOf } from "./kube";
import { kubeClientLibrary, kubeConfigAt, kubeConfigOf } from "./kubeconfig";
import { registeredNames } from "./registration";

/** The label naming the revision a namespace or webhook belongs to; on an injected pod, the annotation naming the revision that injected it. */
const REV_LABEL = "istio.io/rev";

/** The annotation injection writes on a pod (what it added). */
const INJECTED_ANNOTATION = "sidecar.istio.io/status";

/** The label naming a tag webhook's tag. */
const TAG_LABEL = "istio.io/tag";

/** What uses revisions in one cluster: namespaces labelled with one of `revisions`, injected pods (per namespace and revision), tag webhooks. */
export async function revisionUsesIn(kc: KubeConfig, cluster: string, revisions: readonly string[]): Promise<RevisionUse[]> {
    const selector = `${REV_LABEL} in (${revisions.join(",")})`;
    const core = coreApi(kc);
    const [namespaces, pods, webhooks] = await Promise.all([
        core.listNamespace({ labelSelector: selector }),
        // Injection records the revision in an annotation, which no selector reads: every pod is listed.
        core.listPodForAllNamespaces({}),
        kc.makeApiClient(kubeClientLibrary().AdmissionregistrationV1Api).listMutatingWebhookConfiguration({ labelSelector: TAG_LABEL }),
    ]);
    const uses: RevisionUse[] = namespaces.items.map((ns) => ({
        cluster, what: `namespace ${ns.metadata!.name} (labelled ${REV_LABEL})`, revision: ns.metadata!.labels![REV_LABEL], count: 1,
    }));
    const podCounts = new Map<string, RevisionUse>();
    for (const pod of pods.items.filter((p) => p.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined)) {
        const revision = pod.metadata!.annotations![REV_LABEL];
        const key = `${pod.metadata!.namespace}/${revision}`;
        const use = podCounts.get(key) ?? { cluster, what: `pods in ${pod.metadata!.namespace}`, revision, count: 0 };
        podCounts.set(key, { ...use, count: use.count + 1 });
    }
    uses.push(...podCounts.values());
    for (const webhook of webhooks.items) {
        const revision = webhook.metadata?.labels?.[REV_LABEL];
        if (revision !== undefined && revisions.includes(revision)) {
            uses.push({ cluster, what: `tag ${webhook.metadata!.labels![TAG_LABEL]}`, revision, count: 1 });
        }
    }
    return uses;
}

/**
 * Refuses a revision the last deployment ran and this config no longer lists while any cluster of
 * the mesh still uses it, or while a cluster cannot be read to tell: removing it would leave the
 * pods it serves without a control plane. Reads nothing when no revision is removed.
 */
export async function checkRevisionRemoval(config: PrimaryRemotePrimaryConfig, last: LastDeployment): Promise<void> {
    const deployed = ((await last.output("revisions")) as Array<{ name: string }> | undefined)?.map((r) => r.name) ?? [];
    const kept = new Set((config.revisions?.revisions ?? []).map((r) => r.name));
    const removed = deployed.filter((name) => !kept.has(name));
    if (removed.length === 0) {
        return;
    }
    const own = kubeConfigOf(config.cluster)!;
    const clusters: Array<{ name: string; kc: () => KubeConfig }> = [{ name: config.mesh.clusterName, kc: () => own }];
    const secrets = await coreApi(own)
        .listNamespacedSecret({ namespace: config.istioNamespace, labelSelector: "istio/multiCluster=true" });
    for (const secret of secrets.items) {
        const names = registeredNames({ name: secret.metadata!.name!, annotations: secret.metadata!.annotations, dataKeys: Object.keys(secret.data ?? {}) });
        for (const name of names) {
            const text = secret.data?.[name];
            if (text !== undefined) {
                clusters.push({ name, kc: () => kubeConfigAt(Buffer.from(text, "base64").toString("utf8")) });
            }
        }
    }
    const uses: RevisionUse[] = [];
    for (const cluster of clusters) {
        let kc: KubeConfig | undefined;
        try {
            kc = cluster.kc();
            uses.push(...await revisionUsesIn(kc, cluster.name, removed));
        } catch (err) {
            const status = statusOf(err);
            const where = kc === undefined ? "" : ` at ${serverOf(kc)}`;
            throw new ConfigError("revisions", removed, `are removed, and cluster ${cluster.name}${where} could not be read to tell whether ` +
                `it still uses them (${status === 0 ? (err as Error).message.split("\n")[0] : `HTTP ${status}`})`,
                `bring its API server back and run again, or take ${cluster.name} out of the mesh first (\`pulumi destroy\` on its stack)`);
        }
    }
    const problem = removalProblem(deployed, config.revisions ?? { revisions: [], tags: {} }, uses);
    if (problem !== undefined) {
        throw new ConfigError(problem.key, problem.value, problem.problem, problem.fix);
    }
}
