import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, RemoteConfig } from "../lib/config";
import { istiodCharts, istiodValues, NETWORK_LABEL, READER_ACCOUNT, READER_TOKEN_SECRET, remoteSecretName } from "../lib/istiod";
import { definedOnly } from "../lib/outputs";
import { IstiodPrimaryOutputs, PeerOutputs } from "../lib/primary";
import { EastWestGateway } from "./EastWestGateway";
import { IstioInstallation } from "./IstioInstallation";
import { RemoteClusterRegistration } from "./RemoteClusterRegistration";
import { ServiceAccountKubeconfig } from "./ServiceAccountKubeconfig";

/** Arguments of MultiPrimaryPeer. */
export interface MultiPrimaryPeerArgs {
    /** This stack's validated config. */
    readonly config: RemoteConfig;
    /** The first primary's outputs, already checked against this config. */
    readonly primary: IstiodPrimaryOutputs & { readonly readerKubeconfig: pulumi.Output<string> };
    /** The other primaries besides the first, already checked, each with its cluster's provider. */
    readonly peers: Array<PeerOutputs & { readonly provider: k8s.Provider }>;
    /** This cluster's mesh identity (meshID and network are the primary's). */
    readonly mesh: MeshIdentity;
    /** The API server URL the first primary's istiod dials to read this cluster. */
    readonly apiServer: string;
    /** Whether the stack was deployed before: in the preview of a first install its objects cannot be read yet. */
    readonly deployed: boolean;
    /** This cluster's provider. */
    readonly provider: k8s.Provider;
    /** The first primary's provider, for this cluster's registration there. */
    readonly primaryProvider: k8s.Provider;
}

/**
 * Another primary of a multi-primary mesh: its own istiod (`base` and `istiod`, its own
 * intermediate CA of the mesh's root), registered in the first primary and in each of its `peers`,
 * and each of them registered here, so that every istiod reads every cluster. Leaving removes
 * every registration, here and there.
 */
export class MultiPrimaryPeer extends pulumi.ComponentResource {
    /** This stack's outputs. */
    public readonly outputs: Record<string, unknown>;

    constructor(name: string, args: MultiPrimaryPeerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:MultiPrimaryPeer", name, {}, opts);
        const cfg = args.config;
        const injected = cfg.sidecarInjector ? cfg.injectionNamespaces : [];
        const installation = new IstioInstallation(name, {
            charts: istiodCharts(cfg.values, cfg.istioNamespace, 
                istiodValues(cfg.istioNamespace, args.mesh, false),
                cfg.eastWestGateway ? args.mesh.network : undefined),
            source: cfg.chart,
            installMethod: cfg.installMethod,
            namespace: cfg.istioNamespace,
            namespaceLabels: { [NETWORK_LABEL]: args.mesh.network },
            caBundle: cfg.caBundle,
            injectionNamespaces: injected,
            provider: args.provider,
        }, { parent: this });

        const gateway = cfg.eastWestGateway ? new EastWestGateway(`${name}-eastwest`, {
            namespace: cfg.istioNamespace, exposeIstiod: false, installation, readable: args.deployed, provider: args.provider,
        }, { parent: this }) : undefined;

        const reader = new ServiceAccountKubeconfig(`${name}-reader`, {
            account: READER_ACCOUNT, tokenSecretName: READER_TOKEN_SECRET,
            namespace: cfg.istioNamespace, clusterName: cfg.clusterName, server: args.apiServer, provider: args.provider,
        }, { parent: this, dependsOn: installation });

        // Every other primary reads this cluster, and this one reads each of them.
        const others = [{ ...args.primary, provider: args.primaryProvider }, ...args.peers];
        let ownSecret: pulumi.Output<string> | undefined;
        for (const other of others) {
            const registration = new RemoteClusterRegistration(`${name}-registration${other === others[0] ? "" : `-in-${other.clusterName}`}`, {
                clusterName: cfg.clusterName,
                secretName: remoteSecretName(cfg.clusterName),
                namespace: other.istioNamespace,
                kubeconfig: reader.kubeconfig,
                provider: other.provider,
            }, { parent: this });
            ownSecret ??= registration.secretName;
            new RemoteClusterRegistration(`${name}-${other === others[0] ? "primary" : other.clusterName}-registration`, {
                clusterName: other.clusterName,
                secretName: remoteSecretName(other.clusterName),
                namespace: cfg.istioNamespace,
                kubeconfig: other.readerKubeconfig,
                provider: args.provider,
            }, { parent: this, dependsOn: installation });
        }

        this.outputs = definedOnly({
            meshModel: cfg.meshModel,
            ...args.mesh,
            eastWestGatewayAddress: gateway?.address,
            istioNamespace: cfg.istioNamespace,
            remoteSecretName: ownSecret,
            kubeconfig: reader.kubeconfig,
            injectedNamespaces: injected,
        });
        this.registerOutputs(this.outputs);
    }
}
