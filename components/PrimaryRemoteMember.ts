import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, PrimaryRemoteRemoteConfig } from "../lib/config/config";
import { CONTROL_PLANE_CLUSTERS_ANNOTATION, istiodReleases, remoteIstiodValues, remoteSecretName } from "../lib/istio/istiod";
import { remoteRevisionValues } from "../lib/istio/revisionCharts";
import { mergeValues } from "../lib/istio/values";
import { definedOnly, Exports, IstiodRemoteOutputs, PrimaryRemotePrimaryOutputs } from "../lib/stacks/outputs";
import { InstalledIstio } from "../lib/istio/installed";
import { IstiodInstallation } from "./IstiodInstallation";
import { RemoteClusterRegistration } from "./RemoteClusterRegistration";

/** Arguments of PrimaryRemoteMember. */
export interface PrimaryRemoteMemberArgs {
    /** The remote stack's validated config. */
    readonly config: PrimaryRemoteRemoteConfig;
    /** The primary's outputs, already checked against this config. */
    readonly primary: PrimaryRemotePrimaryOutputs;
    /** This cluster's mesh identity (meshID and network are the primary's). */
    readonly mesh: MeshIdentity;
    /** The API server URL the primary's istiod dials to read this cluster. */
    readonly apiServer: string;
    /** What this run knows of the cluster's Istio before it changes anything. */
    readonly installed: InstalledIstio;
    /** This (remote) cluster's provider. */
    readonly provider: k8s.Provider;
    /** The primary cluster's provider, for the registration secret. */
    readonly primaryProvider: k8s.Provider;
}

/**
 * A remote of a primary-remote mesh: no istiod of its own. Its Istio namespace names the primary
 * as its control plane and carries its network; `base` and `istiod` with the `remote` profile
 * point the proxies and the injection webhook at the primary's istiod; the reader account's
 * kubeconfig is registered in the primary exactly as `istioctl create-remote-secret` writes it.
 */
export class PrimaryRemoteMember extends pulumi.ComponentResource {
    /** The remote stack's outputs. */
    public readonly outputs: Exports<IstiodRemoteOutputs>;

    constructor(name: string, args: PrimaryRemoteMemberArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:PrimaryRemoteMember", name, {}, opts);
        const cfg = args.config;
        const istiod = new IstiodInstallation(name, {
            config: cfg, mesh: args.mesh,
            // A revision's proxies reach its own istiod on the primary, through its own Service here.
            istiods: istiodReleases(args.primary.revisions, (revision) => revision === undefined
                ? remoteIstiodValues(cfg.istioNamespace, args.mesh, args.primary)
                : mergeValues(remoteIstiodValues(cfg.istioNamespace, args.mesh, revision), remoteRevisionValues(cfg.istioNamespace, revision))),
            tags: args.primary.revisionTags,
            namespaceAnnotations: { [CONTROL_PLANE_CLUSTERS_ANNOTATION]: args.primary.clusterName },
            // The primary's istiod signs this cluster's workloads' certificates.
            exposeIstiod: false, readerServer: args.apiServer, installed: args.installed, provider: args.provider,
        }, { parent: this });

        const registration = new RemoteClusterRegistration(`${name}-registration`, {
            clusterName: cfg.clusterName,
            secretName: remoteSecretName(cfg.clusterName),
            namespace: args.primary.istioNamespace,
            kubeconfig: istiod.readerKubeconfig!,
            provider: args.primaryProvider,
        }, { parent: this });

        this.outputs = definedOnly({
            meshModel: cfg.meshModel,
            ...args.mesh,
            eastWestGatewayAddress: istiod.eastWestGatewayAddress,
            istioNamespace: cfg.istioNamespace,
            remoteSecretName: registration.secretName,
            kubeconfig: istiod.readerKubeconfig,
            injectedNamespaces: istiod.injectedNamespaces,
            discoveryAddress: args.primary.discoveryAddress,
        });
        this.registerOutputs(this.outputs);
    }
}
