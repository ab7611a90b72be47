import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IstiodPrimaryConfig, IstiodRemoteConfig, MeshIdentity } from "../lib/config/config";
import { EAST_WEST_GATEWAY } from "../lib/istio/eastWestGateway";
import { injectorClientConfig, tagWebhook } from "../lib/istio/revisionCharts";
import { IstiodRelease, istiodCharts, NETWORK_LABEL, PLUGIN_CA_VALUES, READER_ACCOUNT, READER_TOKEN_SECRET } from "../lib/istio/istiod";
import { mergeValues, Values } from "../lib/istio/values";
import { InstalledIstio } from "../lib/istio/installed";
import { CaMaterial } from "./CaCerts";
import { EastWestGateway } from "./EastWestGateway";
import { IstioInstallation } from "./IstioInstallation";
import { ServiceAccountKubeconfig } from "./ServiceAccountKubeconfig";

/** Arguments of IstiodInstallation. */
export interface IstiodInstallationArgs {
    /** The stack's validated config (charts, namespace, injection, CA, gateway switch). */
    readonly config: IstiodPrimaryConfig | IstiodRemoteConfig;
    /** This cluster's mesh identity. */
    readonly mesh: MeshIdentity;
    /** The `istiod` releases with their derived values: one per revision, or the one without a revision. */
    readonly istiods: IstiodRelease[];
    /** With revisions, each revision tag and its revision (the `default` tag filled in): a tag webhook each. */
    readonly tags?: Record<string, string>;
    /** The user's values for every chart, where the model took some into `istiod` (the config's `values` otherwise). */
    readonly values?: Values;
    /** Annotations of the Istio namespace (a remote's names its control plane clusters). */
    readonly namespaceAnnotations?: Record<string, string>;
    /** The CA istiod signs with (`cacerts`); absent where another istiod signs (or istiod mints its own root). */
    readonly ca?: CaMaterial;
    /** Route istiod's ports through the east-west gateway, when there is one. */
    readonly exposeIstiod: boolean;
    /** This cluster's API server URL as other istiods dial it: when given, the reader account's kubeconfig is made. */
    readonly readerServer?: string;
    /** What this run knows of the cluster's Istio before it changes anything. */
    readonly installed: InstalledIstio;
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * A cluster's part of an istiod mesh, the piece every model of today's Istio builds on: the
 * Istio namespace on the cluster's network, Istio's `base` and `istiod` charts, the plug-in CA,
 * the injection labels, the east-west gateway when configured, and the reader account's
 * kubeconfig other clusters' istiods read this one with.
 */
export class IstiodInstallation extends pulumi.ComponentResource {
    /** The charts and what they need; resources that need the charts depend on it. */
    public readonly installation: IstioInstallation;
    /** The namespaces labelled for injection. */
    public readonly injectedNamespaces: string[];
    /** The east-west gateway's address, when there is one. */
    public readonly eastWestGatewayAddress?: pulumi.Output<string>;
    /** The reader account's kubeconfig (a secret), when a reader server was given. */
    public readonly readerKubeconfig?: pulumi.Output<string>;

    constructor(name: string, args: IstiodInstallationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:IstiodInstallation", name, {}, opts);
        const cfg = args.config;
        this.injectedNamespaces = cfg.sidecarInjector ? cfg.injectionNamespaces : [];
        this.installation = new IstioInstallation(name, {
            charts: istiodCharts(args.values ?? cfg.values, cfg.istioNamespace,
                args.istiods.map((r) => args.ca ? { ...r, values: mergeValues(r.values, PLUGIN_CA_VALUES) } : r),
                args.installed.validationFailClosed,
                cfg.eastWestGateway ? { network: args.mesh.network, values: cfg.eastWestGatewayValues } : undefined, args.tags),
            source: cfg.chart,
            installMethod: cfg.installMethod,
            namespace: cfg.istioNamespace,
            namespaceLabels: { [NETWORK_LABEL]: args.mesh.network },
            namespaceAnnotations: args.namespaceAnnotations,
            caBundle: args.ca,
            injectionNamespaces: this.injectedNamespaces,
            // The east-west gateway's load balancer address is read; nothing reads istiod's Services.
            awaitedServices: cfg.eastWestGateway ? [EAST_WEST_GATEWAY] : [],
            provider: args.provider,
        }, { parent: this });

        for (const [tag, revision] of Object.entries(args.tags ?? {})) {
            // The revision's own injector, as the cluster calls it; the revision's istiod fills in the CA bundle.
            const release = args.istiods.find((r) => r.revision?.name === revision)!;
            const clientConfig = injectorClientConfig(release.values, revision, cfg.istioNamespace);
            new k8s.admissionregistration.v1.MutatingWebhookConfiguration(`${name}-tag-${tag}`,
                tagWebhook(tag, revision, cfg.istioNamespace, clientConfig) as k8s.admissionregistration.v1.MutatingWebhookConfigurationArgs,
                { parent: this, provider: args.provider, dependsOn: this.installation });
        }
        if (cfg.eastWestGateway) {
            this.eastWestGatewayAddress = new EastWestGateway(`${name}-eastwest`, {
                namespace: cfg.istioNamespace, exposeIstiod: args.exposeIstiod, installation: this.installation,
                readable: args.installed.gatewayReadable, provider: args.provider,
            }, { parent: this }).address;
        }
        if (args.readerServer !== undefined) {
            this.readerKubeconfig = new ServiceAccountKubeconfig(`${name}-reader`, {
                account: READER_ACCOUNT, tokenSecretName: READER_TOKEN_SECRET, namespace: cfg.istioNamespace,
                clusterName: args.mesh.clusterName, server: args.readerServer, provider: args.provider,
                access: cfg.cluster,
            }, { parent: this, dependsOn: this.installation }).kubeconfig;
        }
        this.registerOutputs({ eastWestGatewayAddress: this.eastWestGatewayAddress, readerKubeconfig: this.readerKubeconfig });
    }
}
