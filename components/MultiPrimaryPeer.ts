import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, MultiPrimaryRemoteConfig } from "../lib/config/config";
import { istiodReleases, istiodValues, remoteSecretName } from "../lib/istio/istiod";
import { definedOnly, Exports, IstiodRemoteOutputs, MultiPrimaryPrimaryOutputs } from "../lib/stacks/outputs";
import { PeerOutputs } from "../lib/stacks/primary";
import { certificateExpiry, certificateFingerprints, chainRootFingerprint } from "../lib/ca/pki";
import { InstalledIstio } from "../lib/istio/installed";
import { issuedTo } from "./GeneratedCa";
import { IstiodInstallation } from "./IstiodInstallation";
import { RemoteClusterRegistration } from "./RemoteClusterRegistration";

/** Arguments of MultiPrimaryPeer. */
export interface MultiPrimaryPeerArgs {
    /** This stack's validated config. */
    readonly config: MultiPrimaryRemoteConfig;
    /** The first primary's outputs, already checked against this config. */
    readonly primary: MultiPrimaryPrimaryOutputs;
    /** The other primaries besides the first, already checked, each with its cluster's provider. */
    readonly peers: Array<PeerOutputs & { readonly provider: k8s.Provider }>;
    /** This cluster's mesh identity (meshID and network are the primary's). */
    readonly mesh: MeshIdentity;
    /** The API server URL the first primary's istiod dials to read this cluster. */
    readonly apiServer: string;
    /** What this run knows of the cluster's Istio before it changes anything. */
    readonly installed: InstalledIstio;
    /** This cluster's provider. */
    readonly provider: k8s.Provider;
    /** The first primary's provider, for this cluster's registration there. */
    readonly primaryProvider: k8s.Provider;
}

/**
 * Another primary of a multi-primary mesh: its own istiod (`base` and `istiod`, its own
 * intermediate CA of the mesh's root: its `cacerts`, or the one the first primary issued for
 * it), registered in the first primary and in each of its `peers`, and each of them registered here, so that every istiod reads every cluster. Leaving removes
 * every registration, here and there.
 */
export class MultiPrimaryPeer extends pulumi.ComponentResource {
    /** This stack's outputs. */
    public readonly outputs: Exports<IstiodRemoteOutputs>;

    constructor(name: string, args: MultiPrimaryPeerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:MultiPrimaryPeer", name, {}, opts);
        const cfg = args.config;
        // Its own cacerts, or the intermediate the first primary's CA issued for it (checked to exist).
        const ca = cfg.caBundle ?? issuedTo(args.primary.peerCas!, cfg.clusterName);
        const istiod = new IstiodInstallation(name, {
            config: cfg, mesh: args.mesh, istiods: istiodReleases(undefined, () => istiodValues(cfg.istioNamespace, args.mesh, false)),
            ca, exposeIstiod: false, readerServer: args.apiServer, installed: args.installed, provider: args.provider,
        }, { parent: this });

        // Every other primary reads this cluster, and this one reads each of them.
        const others = [{ ...args.primary, provider: args.primaryProvider }, ...args.peers];
        let ownSecret: pulumi.Output<string> | undefined;
        for (const other of others) {
            const registration = new RemoteClusterRegistration(`${name}-registration${other === others[0] ? "" : `-in-${other.clusterName}`}`, {
                clusterName: cfg.clusterName,
                secretName: remoteSecretName(cfg.clusterName),
                namespace: other.istioNamespace,
                kubeconfig: istiod.readerKubeconfig!,
                provider: other.provider,
            }, { parent: this });
            ownSecret ??= registration.secretName;
            new RemoteClusterRegistration(`${name}-${other === others[0] ? "primary" : other.clusterName}-registration`, {
                clusterName: other.clusterName,
                secretName: remoteSecretName(other.clusterName),
                namespace: cfg.istioNamespace,
                kubeconfig: other.readerKubeconfig,
                provider: args.provider,
            }, { parent: this, dependsOn: istiod.installation });
        }

        this.outputs = definedOnly({
            meshModel: cfg.meshModel,
            ...args.mesh,
            eastWestGatewayAddress: istiod.eastWestGatewayAddress,
            istioNamespace: cfg.istioNamespace,
            remoteSecretName: ownSecret,
            kubeconfig: istiod.readerKubeconfig,
            injectedNamespaces: istiod.injectedNamespaces,
            // Certificates are no secret, though the issued material as a whole is one.
            caCertExpiry: pulumi.unsecret(pulumi.output(ca.caCert).apply(certificateExpiry)),
            // The first primary checks it before it stops trusting a root (a root rotation's last step).
            caChainRootFingerprint: pulumi.unsecret(pulumi.output(ca.certChain).apply(chainRootFingerprint)),
            // And before it signs with a new root, that this cluster trusts it (a root rotation's second step).
            caTrustedRootFingerprints: pulumi.unsecret(pulumi.output(ca.rootCert).apply(certificateFingerprints)),
        });
        this.registerOutputs(this.outputs);
    }
}
