// Chart values and names for the istiod models (primary-remote, multi-primary), on Istio's own
// `base` and `istiod` charts. Pure functions: every value a cluster gets is derived here from its
// config and its primary's outputs.
import { CHARTS_OF, MeshIdentity } from "./config";
import { ChartInstall, mergeValues, Values } from "./values";

/** The service account `base` creates for other clusters' istiods to read this one. */
export const READER_ACCOUNT = "istio-reader-service-account";

/** The token secret of the reader account, named as `istioctl create-remote-secret` names it. */
export const READER_TOKEN_SECRET = `${READER_ACCOUNT}-istio-remote-secret-token`;

/** The annotation naming the cluster a remote secret or a namespace's control plane belongs to. */
export const CLUSTER_ANNOTATION = "networking.istio.io/cluster";

/** The label (on the Istio namespace) that puts a cluster on a network. */
export const NETWORK_LABEL = "topology.istio.io/network";

/** The annotation (on a remote's Istio namespace) naming the clusters whose istiod serves it. */
export const CONTROL_PLANE_CLUSTERS_ANNOTATION = "topology.istio.io/controlPlaneClusters";

/** The registration secret of `clusterName` in another cluster, named as istioctl names it. */
export function remoteSecretName(clusterName: string): string {
    return `istio-remote-secret-${clusterName}`;
}

/** The port of istiod's injection webhook. */
const WEBHOOK_PORT = 15017;

/** Values of the `base` chart: Istio's CRDs and the reader account; `remote` for a cluster without istiod. */
export function baseValues(namespace: string, remote: boolean): Values {
    return { ...(remote ? { profile: "remote" } : {}), global: { istioNamespace: namespace } };
}

/** What a cluster running istiod sets: its mesh identity, and whether istiod serves other clusters' proxies. */
export function istiodValues(namespace: string, mesh: MeshIdentity, externalIstiod: boolean): Values {
    return {
        global: {
            istioNamespace: namespace,
            meshID: mesh.meshID,
            multiCluster: { clusterName: mesh.clusterName },
            network: mesh.network,
            ...(externalIstiod ? { externalIstiod: true } : {}),
        },
    };
}

/** What the primary of a primary-remote mesh tells its remotes. */
export interface DiscoveryEndpoints {
    /** Where the remotes' proxies reach istiod (15012) and, through the istiod Service, its webhook (15017). */
    readonly discoveryAddress: string;
    /** HOST[:PORT] where the remotes' API servers reach the injection webhook directly, when set. */
    readonly injectionAddress?: string;
}

/**
 * Values of the `istiod` chart with the `remote` profile: no istiod in this cluster, an `istiod`
 * Service pointing at the primary's, and the injection webhook asking the primary's istiod to
 * inject for this cluster and network.
 */
export function remoteIstiodValues(namespace: string, mesh: MeshIdentity, primary: DiscoveryEndpoints): Values {
    const injectionPath = `/inject/cluster/${mesh.clusterName}/net/${mesh.network}`;
    const injectionUrl = primary.injectionAddress === undefined ? undefined
        : `https://${withPort(primary.injectionAddress, WEBHOOK_PORT)}${injectionPath}`;
    return {
        profile: "remote",
        global: {
            istioNamespace: namespace,
            meshID: mesh.meshID,
            multiCluster: { clusterName: mesh.clusterName },
            network: mesh.network,
            remotePilotAddress: primary.discoveryAddress,
        },
        istiodRemote: injectionUrl === undefined ? { injectionPath } : { injectionPath, injectionURL: injectionUrl },
    };
}

/** HOST[:PORT] with the default port when none is given (IPv6 hosts in brackets). */
export function withPort(hostPort: string, port: number): string {
    if (/^\[.*\]:\d+$/.test(hostPort) || /^[^:]+:\d+$/.test(hostPort)) {
        return hostPort;
    }
    return hostPort.includes(":") && !hostPort.startsWith("[") ? `[${hostPort}]:${port}` : `${hostPort}:${port}`;
}

/**
 * The two charts of a cluster in an istiod mesh, `base` then `istiod`, each with the user's extra
 * values under the derived ones. `istiod` is istiodValues() or remoteIstiodValues(); the latter's
 * `remote` profile also gives `base` the remote profile.
 */
export function istiodCharts(user: Values, namespace: string, istiod: Values): ChartInstall[] {
    const [base, discovery] = CHARTS_OF["primary-remote"];
    return [
        { ...base, values: mergeValues(user, baseValues(namespace, istiod.profile === "remote")) },
        { ...discovery, values: mergeValues(user, istiod) },
    ];
}
