import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../lib/istio/charts";
import { Istio10RemoteConfig } from "../lib/config/config";
import { definedOnly, Exports, Istio10PrimaryOutputs, Istio10RemoteOutputs } from "../lib/stacks/outputs";
import { certificateExpiry } from "../lib/ca/pki";
import { formerly } from "../lib/stacks/renamed";
import { mergeValues, remoteChartValues, SecuritySettings } from "../lib/istio/values";
import { IstioInstallation } from "./IstioInstallation";
import { ServiceAccountKubeconfig } from "./ServiceAccountKubeconfig";
import { RemoteClusterRegistration } from "./RemoteClusterRegistration";
import { ServiceMirror } from "./ServiceMirror";

/** The service account the `istio-remote` chart creates for the primary's Pilot to read this cluster. */
export const ISTIO_MULTI_ACCOUNT = "istio-multi";

/** The config maps a manual `istioctl kube-inject` needs. */
const INJECT_CONFIG_MAP = "istio-sidecar-injector";
const MESH_CONFIG_MAP = "istio";

/** Arguments of Istio10Remote. */
export interface Istio10RemoteArgs {
    /** The remote stack's validated config. */
    readonly config: Istio10RemoteConfig;
    /** The primary stack's outputs, already checked against this config. */
    readonly primary: Istio10PrimaryOutputs;
    /** The primary's cluster name, recorded on the services mirrored from it (its stack's name). */
    readonly primaryName: string;
    /** The security settings the mesh runs with (the primary's). */
    readonly security: SecuritySettings;
    /** The API server URL the primary's Pilot dials to read this cluster. */
    readonly apiServer: string;
    /** This (remote) cluster's provider. */
    readonly provider: k8s.Provider;
    /** The primary cluster's provider, for the registration secret and mirrored services. */
    readonly primaryProvider: k8s.Provider;
}

/**
 * One remote cluster joining an Istio 1.0 primary's control plane: its Istio
 * namespace, `cacerts` from the shared root, the `istio-remote` chart pointed at the primary's
 * endpoints, the injection labels, the istio-multi credentials, the registration secret in the
 * primary, and the services mirrored between the two clusters.
 */
export class Istio10Remote extends pulumi.ComponentResource {
    /** The remote stack's contract outputs; absent ones are left out. */
    public readonly outputs: Exports<Istio10RemoteOutputs>;

    constructor(name: string, args: Istio10RemoteArgs, opts?: pulumi.ComponentResourceOptions) {
        // Named IstioRemote before the models had names.
        super("istio-multicluster:index:Istio10Remote", name, {}, formerly("IstioRemote", opts));
        const cfg = args.config;

        const injected = cfg.sidecarInjector ? cfg.injectionNamespaces : [];
        const installation = new IstioInstallation(name, {
            source: cfg.chart,
            installMethod: cfg.installMethod,
            namespace: cfg.istioNamespace,
            charts: [{
                chart: CHARTS.istioRemote, release: CHARTS.istioRemote.name,
                values: mergeValues(cfg.values, remoteChartValues({ ...args.primary, ...args.security }, cfg)),
            }],
            caBundle: args.security.selfSignedCa ? undefined : cfg.caBundle,
            injectionNamespaces: injected,
            // Nothing reads the remote's Services: its Deployments being ready is the join's wait.
            awaitedServices: [],
            provider: args.provider,
        }, { parent: this });

        const account = new ServiceAccountKubeconfig(`${name}-istio-multi`, {
            account: ISTIO_MULTI_ACCOUNT, tokenSecretName: `${ISTIO_MULTI_ACCOUNT}-token`,
            namespace: cfg.istioNamespace, clusterName: cfg.clusterName, server: args.apiServer, provider: args.provider,
            access: cfg.cluster,
        }, { parent: this, dependsOn: installation });

        const registration = new RemoteClusterRegistration(`${name}-registration`, {
            clusterName: cfg.clusterName,
            secretName: cfg.clusterName,
            namespace: args.primary.istioNamespace,
            kubeconfig: account.kubeconfig,
            provider: args.primaryProvider,
        }, { parent: this });

        const mirrors = [
            { direction: "from-primary", services: cfg.mirrorServices.fromPrimary, source: args.primaryProvider, target: args.provider, sourceCluster: args.primaryName },
            { direction: "to-primary", services: cfg.mirrorServices.toPrimary, source: args.provider, target: args.primaryProvider, sourceCluster: cfg.clusterName },
        ];
        for (const m of mirrors.filter((m) => m.services.length > 0)) {
            new ServiceMirror(`${name}-mirror-${m.direction}`, {
                services: m.services, sourceProvider: m.source, targetProvider: m.target, sourceCluster: m.sourceCluster,
            }, { parent: this });
        }

        this.outputs = definedOnly({
            clusterName: cfg.clusterName,
            remoteSecretName: registration.secretName,
            kubeconfig: account.kubeconfig,
            injectedNamespaces: injected,
            caCertExpiry: cfg.caBundle && !args.security.selfSignedCa ? certificateExpiry(cfg.caBundle.caCert) : undefined,
            manualInjectCommand: cfg.sidecarInjector ? undefined : manualInjectCommand(cfg),
            // What this remote was rendered with, so that `mesh status` can tell when the primary's pods moved.
            controlPlaneAddresses: {
                pilotAddress: args.primary.pilotAddress,
                policyAddress: args.primary.policyAddress,
                telemetryAddress: args.primary.telemetryAddress,
                zipkinAddress: args.primary.zipkinAddress,
                ...definedOnly({ statsdAddress: args.primary.statsdAddress }),
            },
        });
        this.registerOutputs(this.outputs);
    }
}

/** The command that injects sidecars by hand when the webhook is off. */
export function manualInjectCommand(cfg: Pick<Istio10RemoteConfig, "istioNamespace" | "cluster">): string {
    const context = cfg.cluster.kubeContext ? ` --context ${cfg.cluster.kubeContext}` : "";
    return `istioctl kube-inject${context} --istioNamespace ${cfg.istioNamespace} ` +
        `--injectConfigMapName ${INJECT_CONFIG_MAP} --meshConfigMapName ${MESH_CONFIG_MAP} -f <manifest.yaml> ` +
        `| kubectl${context} apply -f -`;
}
