// Whether a cluster name is free in the primary: a remote must not take over another cluster's
// registration (for example one written by hand with istioctl, or by another stack).
import { ClusterAccess } from "./config";
import { ConfigError } from "./errors";
import { CLUSTER_ANNOTATION } from "./istiod";
import { identityFromKubeconfig, request } from "./kubeClient";
import { kubeconfigTextOf } from "./kubeconfig";

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
 * Reads the registration secrets (label istio/multiCluster=true) in the primary's Istio namespace
 * and refuses a cluster name that one of them already registers. Reads with the stack's own
 * credentials for the primary; when no kubeconfig exists at all there is nothing to read with,
 * and the provider reports that itself.
 */
export async function checkClusterNameFree(
    primary: ClusterAccess, namespace: string, clusterName: string, ownSecret: string, deployedBefore: boolean,
): Promise<void> {
    const text = kubeconfigTextOf(primary);
    if (text === undefined) {
        return;
    }
    const who = identityFromKubeconfig(text, primary.kubeContext);
    const path = `/api/v1/namespaces/${namespace}/secrets?labelSelector=${encodeURIComponent("istio/multiCluster=true")}`;
    const res = await request(who, "GET", path).catch((err: Error) => ({ status: 0, body: err.message }));
    if (res.status === 404) {
        return;
    }
    if (res.status !== 200) {
        throw new ConfigError(primary.kubeContext ? "primaryKubeContext" : "primaryKubeconfig",
            primary.kubeContext ?? "[secret]",
            `the primary cluster's API server ${who.server} did not answer a read of its registration secrets ` +
            `(${res.status === 0 ? res.body : `HTTP ${res.status}`})`,
            "check that the primary cluster is up and that these credentials may list secrets in its Istio namespace");
    }
    const secrets: RegistrationSecret[] = (res.body.items ?? []).map((s: any) => ({
        name: s.metadata.name, annotations: s.metadata.annotations, dataKeys: Object.keys(s.data ?? {}),
    }));
    const taken = foreignRegistration(secrets, clusterName, ownSecret, deployedBefore);
    if (taken) {
        throw new ConfigError("clusterName", clusterName, `is already registered in the primary by secret ` +
            `${namespace}/${taken.name}, which this stack did not create; two clusters of one name would shadow each other`,
            "give this cluster another name (`pulumi config set clusterName …`), or remove that secret if the cluster it registers has left");
    }
}
