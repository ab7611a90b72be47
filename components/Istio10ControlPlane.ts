import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../lib/istio/charts";
import { EndpointExposure, Istio10PrimaryConfig } from "../lib/config/config";
import { tiedTo } from "../lib/config/errors";
import { definedOnly, Exports, Istio10PrimaryOutputs } from "../lib/stacks/outputs";
import { formerly } from "../lib/stacks/renamed";
import { CONTROL_PLANE_SERVICES, ControlPlaneService, readyPodAddress, requireLoadBalancerAddress } from "../lib/istio/endpoints";
import { bundleOutputs } from "../lib/ca/pki";
import { mergeValues, primaryChartValues } from "../lib/istio/values";
import { IstioInstallation } from "./IstioInstallation";

/** The `istio` chart's ingress gateway, which fronts the control plane with endpointExposure gateway. */
const INGRESS_GATEWAY = "istio-ingressgateway";

/** Arguments of Istio10ControlPlane. */
export interface Istio10ControlPlaneArgs {
    /** The primary stack's validated config. */
    readonly config: Istio10PrimaryConfig;
    /** The primary cluster's provider. */
    readonly provider: k8s.Provider;
    /**
     * Whether the chart's objects can be read during this run. False in the preview of a first
     * install, when there is nothing to read yet: the addresses then show as unknown.
     */
    readonly readable: boolean;
}

/**
 * Istio 1.0's control plane on the primary cluster: namespace,
 * `cacerts` when the CA is not self-signed, the `istio` chart, and the addresses the remotes dial,
 * discovered after the chart is ready so that a re-run after a pod restart picks up new pod IPs.
 */
export class Istio10ControlPlane extends pulumi.ComponentResource {
    /** The primary stack's contract outputs. */
    public readonly outputs: Exports<Istio10PrimaryOutputs>;

    constructor(name: string, args: Istio10ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        // Named IstioControlPlane before the models had names.
        super("istio-multicluster:index:Istio10ControlPlane", name, {}, formerly("IstioControlPlane", opts));
        const cfg = args.config;

        const services = CONTROL_PLANE_SERVICES.filter((s) => cfg.envoyStatsd || s.output !== "statsdAddress");
        const installation = new IstioInstallation(name, {
            source: cfg.chart,
            installMethod: cfg.installMethod,
            namespace: cfg.istioNamespace,
            charts: [{ chart: CHARTS.istio, release: CHARTS.istio.name, values: mergeValues(cfg.values, primaryChartValues(cfg.security)) }],
            caBundle: cfg.security.selfSignedCa ? undefined : cfg.caBundle,
            injectionNamespaces: cfg.sidecarInjector ? cfg.injectionNamespaces : [],
            awaitedServices: awaitedControlPlaneServices(cfg.endpointExposure, services),
            provider: args.provider,
        }, { parent: this });

        const addresses: Record<string, pulumi.Output<string>> = {};
        if (cfg.endpointExposure === "gateway") {
            // Every control-plane service is reached through the one ingress gateway.
            const gatewayAddress = this.gatewayAddress(name, cfg.istioNamespace, installation, args);
            for (const svc of services) {
                addresses[svc.output] = gatewayAddress;
            }
        } else {
            for (const svc of services) {
                addresses[svc.output] = this.serviceAddress(name, svc, cfg, installation, args);
            }
        }

        this.outputs = definedOnly({
            ...addresses,
            istioNamespace: cfg.istioNamespace,
            controlPlaneSecurityEnabled: cfg.security.controlPlaneSecurityEnabled,
            mtlsEnabled: cfg.security.mtlsEnabled,
            selfSignedCa: cfg.security.selfSignedCa,
            podCidr: cfg.podCidr,
            serviceCidr: cfg.serviceCidr,
            ...(cfg.caBundle && !cfg.security.selfSignedCa ? bundleOutputs(cfg.caBundle) : {}),
        });
        this.registerOutputs(this.outputs);
    }

    /** The address the remotes dial for one control-plane service: its pod IP, or a load balancer's. */
    private serviceAddress(
        name: string, svc: ControlPlaneService, cfg: Istio10PrimaryConfig, chart: IstioInstallation, args: Istio10ControlPlaneArgs,
    ): pulumi.Output<string> {
        const ns = cfg.istioNamespace;
        const provider = args.provider;
        if (cfg.endpointExposure === "podIP") {
            const endpoints = k8s.core.v1.Endpoints.get(`${name}-${svc.service}`,
                chart.idOnceReady(`${ns}/${svc.service}`, args.readable), { parent: this, provider });
            return endpoints.subsets.apply((subsets) => tiedTo(endpoints, () => readyPodAddress({ subsets }, svc, ns)));
        }
        const lb = new k8s.core.v1.Service(`${name}-${svc.service}-lb`, {
            metadata: { name: `${svc.service}-multicluster`, namespace: ns },
            spec: { type: "LoadBalancer", selector: { ...svc.selector }, ports: svc.ports.map((p) => ({ ...p })) },
        }, { parent: this, provider, dependsOn: chart });
        return lb.status.apply((status) => tiedTo(lb, () => requireLoadBalancerAddress(status, `${ns}/${svc.service}-multicluster`, "this endpointExposure")));
    }

    /** The ingress gateway's load balancer address. */
    private gatewayAddress(name: string, ns: string, chart: IstioInstallation, args: Istio10ControlPlaneArgs): pulumi.Output<string> {
        const gateway = k8s.core.v1.Service.get(`${name}-ingressgateway`,
            chart.idOnceReady(`${ns}/${INGRESS_GATEWAY}`, args.readable), { parent: this, provider: args.provider });
        return gateway.status.apply((status) => tiedTo(gateway, () => requireLoadBalancerAddress(status, `${ns}/${INGRESS_GATEWAY}`, "this endpointExposure")));
    }
}

/**
 * The chart Services whose readiness the addresses are read from: the control-plane services' ready
 * endpoints (pod IPs), or the ingress gateway's load balancer; none when the program's own load
 * balancers front them.
 */
function awaitedControlPlaneServices(exposure: EndpointExposure, services: readonly ControlPlaneService[]): string[] {
    switch (exposure) {
        case "podIP": return services.map((s) => s.service);
        case "gateway": return [INGRESS_GATEWAY];
        default: return [];
    }
}
