// A stack's validated config, typed by mesh model and role: each pair of components receives
// exactly the fields its model and role have. lib/parseConfig.ts builds it from `pulumi.Config`.
import { CaBundle } from "../ca/pki";
import { SecuritySettings, Values } from "../istio/values";

/** How to reach one cluster: a context of the ambient kubeconfig, or a whole kubeconfig (secret). */
export interface ClusterAccess {
    /** A context name in $KUBECONFIG / ~/.kube/config. */
    readonly kubeContext?: string;
    /** A kubeconfig's text. */
    readonly kubeconfig?: string;
}

/** Where the Istio charts come from: a directory (relative to the project's when inside it), or a chart repository. */
export type ChartSource =
    | { readonly kind: "dir"; readonly dir: string }
    | { readonly kind: "repo"; readonly repo: string; readonly version: string };

/**
 * How the mesh is built. `istio-1.0`: Istio 1.0's flow (the `istio` chart on the primary, the
 * `istio-remote` chart pointed at its pods on each remote). `primary-remote`: today's Istio, one
 * istiod on the primary serving every remote (`base` + `istiod` with the `remote` profile there).
 * `multi-primary`: an istiod on every cluster, each reading every other cluster's API server.
 */
export type MeshModel = "istio-1.0" | "primary-remote" | "multi-primary";

/** The mesh models, the first being the default (stack files of the 1.0 flow set none). */
export const MESH_MODELS: readonly MeshModel[] = ["istio-1.0", "primary-remote", "multi-primary"];

/** The models run by istiod, on Istio's current charts. */
export type IstiodModel = Exclude<MeshModel, "istio-1.0">;

/** A stack's role: the primary runs the control plane, a remote joins it. */
export type Role = "primary" | "remote";

/** This cluster's place in an istiod mesh. */
export interface MeshIdentity {
    /** global.meshID: the same on every cluster of the mesh. */
    readonly meshID: string;
    /** global.multiCluster.clusterName: this cluster's name in the mesh. */
    readonly clusterName: string;
    /** global.network: clusters with the same value reach each other's pods directly. */
    readonly network: string;
}

/** `template`: render and apply object by object; `release`: a real Helm release. */
export type InstallMethod = "template" | "release";

/** How an Istio 1.0 primary makes its control plane reachable from the remotes. */
export type EndpointExposure = "podIP" | "loadBalancer" | "gateway";

/** A Service named `namespace/name`. */
export interface ServiceRef {
    /** Its namespace. */
    readonly namespace: string;
    /** Its name. */
    readonly name: string;
}

/** Another primary of a multi-primary mesh: its stack (for its reader kubeconfig) and its cluster's context. */
export interface PeerRef {
    /** Its stack, as a StackReference name (organization/project/stack). */
    readonly stack: string;
    /** The context of $KUBECONFIG for its cluster, where this cluster's registration goes. */
    readonly kubeContext: string;
}

/** A CA the program makes (`ca.generate`): a root, and an intermediate per cluster signed by it. */
export interface CaGeneration {
    /** The other primaries of a multi-primary mesh this stack issues an intermediate for, by cluster name. */
    readonly peers: string[];
    /** Each peer's stack (a StackReference name), read before a root rotation's steps: by default named as its cluster. */
    readonly peerStacks: Record<string, string>;
    /** Per cluster name, a number to raise to have its intermediate made anew (0 when absent). */
    readonly rotations: Record<string, number>;
    /** Days the root is valid for. */
    readonly rootValidityDays: number;
    /** Days each intermediate is valid for. */
    readonly intermediateValidityDays: number;
    /** An intermediate is made anew at the first run this many days before it expires. */
    readonly renewBeforeDays: number;
    /** The generation of the root that signs the intermediates (0: the first root; a rotation moves to the next). */
    readonly root: number;
    /** Other root generations trusted beside it during a root rotation. */
    readonly trustRoots: number[];
}

/** One istiod revision a primary runs: its charts and images, and where the remotes reach its istiod. */
export interface RevisionConfig {
    /** Its name: the Service `istiod-<name>`, the `istio.io/rev` label value of what it serves. */
    readonly name: string;
    /** Where its charts come from (the stack's own when the revision names none). */
    readonly chart: ChartSource;
    /** The image tag its istiod and proxies run (`global.tag`), when set here or in the stack's values. */
    readonly tag?: string;
    /** The host the remotes reach this revision's istiod at (ports 15012, 15017). */
    readonly discoveryAddress: string;
}

/** The istiod revisions a primary runs side by side, and the revision tags that name them. */
export interface RevisionsConfig {
    /** The revisions, in the order listed; the last one's `base` chart (Istio's CRDs) is installed. */
    readonly revisions: RevisionConfig[];
    /** Each revision tag and the revision it points at; the tag `default` serves `istio-injection=enabled`. */
    readonly tags: Record<string, string>;
}

/** What every stack configures, whatever its model and role. */
interface StackBase {
    /** The cluster this stack deploys to. */
    readonly cluster: ClusterAccess;
    /** The Istio namespace in this cluster. */
    readonly istioNamespace: string;
    /** Where the charts come from. */
    readonly chart: ChartSource;
    /** How the charts are installed. */
    readonly installMethod: InstallMethod;
    /** The `cacerts` material, already checked; absent when not configured. */
    readonly caBundle?: CaBundle;
    /** Namespaces to label `istio-injection=enabled`. */
    readonly injectionNamespaces: string[];
    /** sidecarInjectorWebhook.enabled. */
    readonly sidecarInjector: boolean;
    /** This cluster's pod range, when declared. */
    readonly podCidr?: string;
    /** This cluster's service range, when declared. */
    readonly serviceCidr?: string;
    /** Extra chart values. */
    readonly values: Values;
}

/** What every remote configures. */
interface RemoteBase extends StackBase {
    /** The role. */
    readonly role: "remote";
    /** The primary's stack, as a StackReference name (organization/project/stack). */
    readonly primaryStack: string;
    /** How to reach the primary cluster, to register this one there. */
    readonly primaryCluster: ClusterAccess;
    /** This cluster's name in the mesh: the registration secret's name and data key. */
    readonly clusterName: string;
    /** The API server address the primary dials, when the kubeconfig's server is not reachable from it. */
    readonly apiServerAddress?: string;
    /** Every cluster's control plane runs on this one host, so a loopback API server address is reachable. */
    readonly sameHostControlPlanes: boolean;
}

/** What every cluster of an istiod mesh configures. */
interface IstiodBase {
    /** Install Istio's east-west gateway for this cluster's network. */
    readonly eastWestGateway: boolean;
    /** Values for the east-west gateway's chart alone (its Service's annotations, say). */
    readonly eastWestGatewayValues: Values;
}

/** An Istio 1.0 primary: Pilot, Mixer and Citadel from the `istio` chart. */
export interface Istio10PrimaryConfig extends StackBase {
    /** The role. */
    readonly role: "primary";
    /** The model. */
    readonly meshModel: "istio-1.0";
    /** The security switches of the control plane. */
    readonly security: SecuritySettings;
    /** How the control plane's endpoints are exposed to the remotes. */
    readonly endpointExposure: EndpointExposure;
    /** Whether to discover and export the statsd bridge (absent from Istio ≥ 1.0.3). */
    readonly envoyStatsd: boolean;
}

/** A remote of an Istio 1.0 mesh: the `istio-remote` chart pointed at the primary's pods. */
export interface Istio10RemoteConfig extends RemoteBase {
    /** The model. */
    readonly meshModel: "istio-1.0";
    /** The security switches as configured here; each must equal the primary's when set. */
    readonly security: Partial<SecuritySettings>;
    /** global.remotePilotCreateSvcEndpoint. */
    readonly remotePilotCreateSvcEndpoint: boolean;
    /** Services to copy between the clusters so their names resolve everywhere. */
    readonly mirrorServices: { readonly fromPrimary: ServiceRef[]; readonly toPrimary: ServiceRef[] };
}

/** The primary of a primary-remote mesh: the one istiod, serving every cluster. */
export interface PrimaryRemotePrimaryConfig extends StackBase, IstiodBase {
    /** The role. */
    readonly role: "primary";
    /** The model. */
    readonly meshModel: "primary-remote";
    /** This cluster's mesh identity. */
    readonly mesh: MeshIdentity;
    /** The host name or IP the remotes reach istiod at (ports 15012, 15017); absent with an east-west gateway, whose address it then is. */
    readonly discoveryAddress?: string;
    /** HOST[:PORT] at which the remotes' API servers reach istiod's injection webhook directly. */
    readonly injectionAddress?: string;
    /** The CA the program makes, instead of `cacerts`. */
    readonly generatedCa?: CaGeneration;
    /** istiod revisions side by side, instead of one istiod without a revision. */
    readonly revisions?: RevisionsConfig;
}

/** The first primary of a multi-primary mesh. */
export interface MultiPrimaryPrimaryConfig extends StackBase, IstiodBase {
    /** The role. */
    readonly role: "primary";
    /** The model. */
    readonly meshModel: "multi-primary";
    /** This cluster's mesh identity. */
    readonly mesh: MeshIdentity;
    /** The CA the program makes, instead of `cacerts`: every istiod of the mesh then signs with an intermediate of its root. */
    readonly generatedCa?: CaGeneration;
    /** The API server address the other primaries dial to read this cluster. */
    readonly apiServerAddress?: string;
    /** Every cluster's control plane runs on this one host, so a loopback API server address is reachable. */
    readonly sameHostControlPlanes: boolean;
}

/** meshID and network as a remote configures them: each must agree with the primary's. */
export interface RemoteMeshSettings {
    /** global.meshID, when set here. */
    readonly meshID?: string;
    /** global.network, when set here (another network needs east-west gateways). */
    readonly network?: string;
}

/** A remote of a primary-remote mesh: no istiod of its own. */
export interface PrimaryRemoteRemoteConfig extends RemoteBase, IstiodBase {
    /** The model. */
    readonly meshModel: "primary-remote";
    /** meshID and network as configured here. */
    readonly mesh: RemoteMeshSettings;
}

/** Another primary of a multi-primary mesh. */
export interface MultiPrimaryRemoteConfig extends RemoteBase, IstiodBase {
    /** The model. */
    readonly meshModel: "multi-primary";
    /** meshID and network as configured here. */
    readonly mesh: RemoteMeshSettings;
    /** The other primaries besides the first, each registered here and this one there. */
    readonly peers: PeerRef[];
}

/** A primary stack's config, by model. */
export type PrimaryConfig = Istio10PrimaryConfig | PrimaryRemotePrimaryConfig | MultiPrimaryPrimaryConfig;

/** A remote stack's config, by model. */
export type RemoteConfig = Istio10RemoteConfig | PrimaryRemoteRemoteConfig | MultiPrimaryRemoteConfig;

/** The config of a primary running istiod. */
export type IstiodPrimaryConfig = PrimaryRemotePrimaryConfig | MultiPrimaryPrimaryConfig;

/** The config of a remote of an istiod mesh. */
export type IstiodRemoteConfig = PrimaryRemoteRemoteConfig | MultiPrimaryRemoteConfig;

/** A stack's config, validated. */
export type StackConfig = PrimaryConfig | RemoteConfig;
