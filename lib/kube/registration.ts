// Whether a cluster name is free in the primary: a remote must not take over another cluster's
// registration (for example one written by hand with istioctl, or by another stack).
import { ClusterAccess } from "../config/config";
import { ConfigError } from "../config/errors";
import { CLUSTER_ANNOTATION } from "../istio/istiod";
import { coreApi, serverOf, statusOf } from "./kube";
import { kubeConfigOf } from "./kubeconfig";

/** The parts of a registration secret that tell which cluster it registers. */
export interface RegistrationSecret {
    readonly name: string;
    readonly annotations?: Record<string, string>;
    readonly dataKeys: string[];
}

/**
 * The secret that already registers `clusterName` and is not this stack's own, if any. This
 * stack's own is the secret of its name, once the stack has deployed it.
 */
export function foreignRegistration(
    secrets: RegistrationSecret[], clusterName: string, ownSecret: string, deployedBefore: boolean,
): RegistrationSecret | undefined {
    return secrets.find((s) => (s.annotations?.[CLUSTER_ANNOTATION] === clusterName || s.dataKeys.includes(clusterName)) &&
        !(deployedBefore && s.name === ownSecret));
}

/**
 * The registration secrets (label istio/multiCluster=true) in a primary's Istio namespace, read
 * with the given credentials; `problem` when the API server did not answer the read. Undefined
 * when no kubeconfig exists at all: there is nothing to read with.
 */
export async function listRegistrations(
    primary: ClusterAccess, namespace: string,
): Promise<{ server: string; secrets?: RegistrationSecret[]; problem?: string } | undefined> {
    const kc = kubeConfigOf(primary);
    if (kc === undefined) {
        return undefined;
    }
    const server = serverOf(kc);
    try {
        const list = await coreApi(kc).listNamespacedSecret({ namespace, labelSelector: "istio/multiCluster=true" });
        return {
            server,
            secrets: list.items.map((s) => ({
                name: s.metadata!.name!, annotations: s.metadata!.annotations, dataKeys: Object.keys(s.data ?? {}),
            })),
        };
    } catch (err) {
        const status = statusOf(err);
        return { server, problem: status === 0 ? (err as Error).message : `HTTP ${status}` };
    }
}

/**
 * Refuses a cluster name that a registration secret in the primary's Istio namespace already
 * registers. Reads with the stack's own credentials for the primary; when no kubeconfig exists at
 * all there is nothing to read with, and the provider reports that itself.
 */
export async function checkClusterNameFree(
    primary: ClusterAccess, namespace: string, clusterName: string, ownSecret: string, deployedBefore: boolean,
): Promise<void> {
    const found = await listRegistrations(primary, namespace);
    if (found === undefined) {
        return;
    }
    if (found.secrets === undefined) {
        throw new ConfigError(primary.kubeContext ? "primaryKubeContext" : "primaryKubeconfig",
            primary.kubeContext ?? "[secret]",
            `the primary cluster's API server ${found.server} did not answer a read of its registration secrets (${found.problem})`,
            "check that the primary cluster is up and that these credentials may list secrets in its Istio namespace");
    }
    const taken = foreignRegistration(found.secrets, clusterName, ownSecret, deployedBefore);
    if (taken) {
        throw new ConfigError("clusterName", clusterName, `is already registered in the primary by secret ` +
            `${namespace}/${taken.name}, which this stack did not create; two clusters of one name would shadow each other`,
            "give this cluster another name (`pulumi config set clusterName …`), or remove that secret if the cluster it registers has left");
    }
}

/** The cluster names a registration secret registers: its annotation, else its data keys. */
export function registeredNames(secret: RegistrationSecret): string[] {
    const annotated = secret.annotations?.[CLUSTER_ANNOTATION];
    return annotated ? [annotated] : secret.dataKeys;
}

/** Set to `true` to destroy a primary while clusters are still registered in it, orphaning them. */
export const ORPHAN_REMOTES_ENV = "ISTIO_MC_ORPHAN_REMOTES";

/**
 * Why the primary may not be destroyed now, or undefined when it may: clusters are still
 * registered in its Istio namespace (or the registrations could not be read), and the user has
 * not said to orphan them.
 */
export function destroyRefusal(
    found: Awaited<ReturnType<typeof listRegistrations>>, namespace: string, env: Record<string, string | undefined>,
): string | undefined {
    if (env[ORPHAN_REMOTES_ENV] === "true" || found === undefined) {
        return undefined;
    }
    const anyway = `to destroy the primary anyway, run \`${ORPHAN_REMOTES_ENV}=true pulumi destroy\``;
    if (found.secrets === undefined) {
        return `the primary's registrations in ${namespace} could not be read at ${found.server} (${found.problem}), so it is ` +
            `not known whether clusters are still joined to it; bring the API server back and retry, or ${anyway} ` +
            "(with PULUMI_K8S_DELETE_UNREACHABLE=true when the cluster is gone for good)";
    }
    const joined = found.secrets.flatMap(registeredNames);
    if (joined.length === 0) {
        return undefined;
    }
    return `clusters ${joined.join(", ")} are still registered in the primary (${namespace}); destroying it would leave ` +
        "them joined to a control plane that is gone. Take them out first: `mesh down` (remotes before the primary), " +
        `or \`pulumi destroy -s <stack>\` for each; ${anyway} and orphan them`;
}
