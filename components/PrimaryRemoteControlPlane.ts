import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, PrimaryConfig } from "../lib/config";
import { istiodCharts, istiodValues, NETWORK_LABEL } from "../lib/istiod";
import { definedOnly } from "../lib/outputs";
import { certificateFingerprint } from "../lib/pki";
import { EastWestGateway } from "./EastWestGateway";
import { IstioInstallation } from "./IstioInstallation";

/** Arguments of PrimaryRemoteControlPlane. */
export interface PrimaryRemoteControlPlaneArgs {
    /** The primary stack's validated config. */
    readonly config: PrimaryConfig;
    /** The primary's mesh identity. */
    readonly mesh: MeshIdentity;
    /** Whether the stack was deployed before: in the preview of a first install its objects cannot be read yet. */
    readonly deployed: boolean;
    /** The primary cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The primary of a primary-remote mesh: Istio's `base` and `istiod` charts, istiod marked as
 * serving other clusters (`global.externalIstiod`), the Istio namespace on the primary's network,
 * the plug-in `cacerts` when configured, and optionally the east-west gateway that exposes istiod.
 * Exports what its remotes are rendered with.
 */
export class PrimaryRemoteControlPlane extends pulumi.ComponentResource {
    /** The primary stack's outputs, read by the remotes. */
    public readonly outputs: Record<string, unknown>;

    constructor(name: string, args: PrimaryRemoteControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:PrimaryRemoteControlPlane", name, {}, opts);
        const cfg = args.config;
        const installation = new IstioInstallation(name, {
            charts: istiodCharts(cfg.values, cfg.istioNamespace,
                istiodValues(cfg.istioNamespace, args.mesh, true),
                cfg.eastWestGateway ? args.mesh.network : undefined),
            source: cfg.chart,
            installMethod: cfg.installMethod,
            namespace: cfg.istioNamespace,
            namespaceLabels: { [NETWORK_LABEL]: args.mesh.network },
            caBundle: cfg.caBundle,
            injectionNamespaces: cfg.sidecarInjector ? cfg.injectionNamespaces : [],
            provider: args.provider,
        }, { parent: this });

        const gateway = cfg.eastWestGateway ? new EastWestGateway(`${name}-eastwest`, {
            namespace: cfg.istioNamespace, exposeIstiod: true, installation, readable: args.deployed, provider: args.provider,
        }, { parent: this }) : undefined;

        this.outputs = definedOnly({
            meshModel: cfg.meshModel,
            ...args.mesh,
            eastWestGatewayAddress: gateway?.address,
            istioNamespace: cfg.istioNamespace,
            // Where the remotes reach istiod: the configured address, else the east-west gateway's.
            discoveryAddress: cfg.discoveryAddress ?? gateway?.address,
            injectionAddress: cfg.injectionAddress,
            podCidr: cfg.podCidr,
            serviceCidr: cfg.serviceCidr,
            rootCertFingerprint: cfg.caBundle ? certificateFingerprint(cfg.caBundle.rootCert) : undefined,
        });
        this.registerOutputs(this.outputs);
    }
}
