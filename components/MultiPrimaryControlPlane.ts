import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, PrimaryConfig } from "../lib/config";
import { istiodCharts, istiodValues, NETWORK_LABEL, READER_ACCOUNT, READER_TOKEN_SECRET } from "../lib/istiod";
import { definedOnly } from "../lib/outputs";
import { certificateFingerprint } from "../lib/pki";
import { EastWestGateway } from "./EastWestGateway";
import { IstioInstallation } from "./IstioInstallation";
import { ServiceAccountKubeconfig } from "./ServiceAccountKubeconfig";

/** Arguments of MultiPrimaryControlPlane. */
export interface MultiPrimaryControlPlaneArgs {
    /** The primary stack's validated config. */
    readonly config: PrimaryConfig;
    /** The primary's mesh identity. */
    readonly mesh: MeshIdentity;
    /** The API server URL the other primaries' istiods dial to read this cluster. */
    readonly apiServer: string;
    /** Whether the stack was deployed before: in the preview of a first install its objects cannot be read yet. */
    readonly deployed: boolean;
    /** The primary cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The first cluster of a multi-primary mesh: Istio's `base` and `istiod` charts with this
 * cluster's mesh identity and its intermediate CA, and the reader account's kubeconfig, which
 * the other primaries register in their own clusters (exported as a secret).
 */
export class MultiPrimaryControlPlane extends pulumi.ComponentResource {
    /** The primary stack's outputs, read by the other primaries. */
    public readonly outputs: Record<string, unknown>;

    constructor(name: string, args: MultiPrimaryControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:MultiPrimaryControlPlane", name, {}, opts);
        const cfg = args.config;
        const installation = new IstioInstallation(name, {
            charts: istiodCharts(cfg.values, cfg.istioNamespace, 
                istiodValues(cfg.istioNamespace, args.mesh, false),
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
            namespace: cfg.istioNamespace, exposeIstiod: false, installation, readable: args.deployed, provider: args.provider,
        }, { parent: this }) : undefined;

        const reader = new ServiceAccountKubeconfig(`${name}-reader`, {
            account: READER_ACCOUNT, tokenSecretName: READER_TOKEN_SECRET,
            namespace: cfg.istioNamespace, clusterName: args.mesh.clusterName, server: args.apiServer, provider: args.provider,
        }, { parent: this, dependsOn: installation });

        this.outputs = definedOnly({
            meshModel: cfg.meshModel,
            ...args.mesh,
            eastWestGatewayAddress: gateway?.address,
            istioNamespace: cfg.istioNamespace,
            readerKubeconfig: reader.kubeconfig,
            podCidr: cfg.podCidr,
            serviceCidr: cfg.serviceCidr,
            rootCertFingerprint: cfg.caBundle ? certificateFingerprint(cfg.caBundle.rootCert) : undefined,
        });
        this.registerOutputs(this.outputs);
    }
}
