/** A control-plane service the remotes dial, and how its pod is found. */
export interface ControlPlaneService {
    /** The primary stack output that carries its address. */
    readonly output: "pilotAddress" | "policyAddress" | "telemetryAddress" | "statsdAddress" | "zipkinAddress";
    /** The Service of the `istio` chart in front of it. */
    readonly service: string;
    /** The pod label Istio 1.0's setup selects it by. */
    readonly selector: Readonly<Record<string, string>>;
    /** The ports the remotes use, for the load balancer that `endpointExposure: loadBalancer` creates. */
    readonly ports: ReadonlyArray<{ readonly name: string; readonly port: number; readonly protocol?: "TCP" | "UDP" }>;
}

/** The five control-plane services of Istio 1.0, with the ports Istio 1.0's charts give them. */
export const CONTROL_PLANE_SERVICES: readonly ControlPlaneService[] = [
    {
        output: "pilotAddress", service: "istio-pilot", selector: { istio: "pilot" },
        ports: [15003, 15005, 15007, 15010, 15011, 8080, 9093].map((port) => ({ name: `tcp-${port}`, port })),
    },
    {
        output: "policyAddress", service: "istio-policy", selector: { "istio-mixer-type": "policy" },
        ports: [9091, 15004, 9093].map((port) => ({ name: `tcp-${port}`, port })),
    },
    {
        output: "telemetryAddress", service: "istio-telemetry", selector: { "istio-mixer-type": "telemetry" },
        ports: [9091, 15004, 9093, 42422].map((port) => ({ name: `tcp-${port}`, port })),
    },
    {
        output: "statsdAddress", service: "istio-statsd-prom-bridge", selector: { istio: "statsd-prom-bridge" },
        ports: [{ name: "udp-statsd", port: 9125, protocol: "UDP" }, { name: "tcp-metrics", port: 9102 }],
    },
    {
        output: "zipkinAddress", service: "zipkin", selector: { app: "jaeger" },
        ports: [{ name: "http-zipkin", port: 9411 }],
    },
];

/** `k=v,k2=v2`, as kubectl prints a selector. */
export function selectorText(selector: Readonly<Record<string, string>>): string {
    return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",");
}

/** The part of an Endpoints object this program reads. */
export interface EndpointSubsets {
    /** The Endpoints' subsets, as the API returns them. */
    readonly subsets?: ReadonlyArray<{ readonly addresses?: ReadonlyArray<{ readonly ip: string }> }>;
}

/**
 * The pod IP behind a service: the first ready address of its Endpoints. Throws when no pod is
 * ready, naming the service and its selector so the user knows which pods to look at.
 */
export function readyPodAddress(endpoints: EndpointSubsets, svc: ControlPlaneService, namespace: string): string {
    const ip = (endpoints.subsets ?? []).flatMap((s) => s.addresses ?? []).map((a) => a.ip).find((a) => !!a);
    if (!ip) {
        throw new Error(`endpointExposure is podIP, but service ${namespace}/${svc.service} has no ready pod ` +
            `(selector ${selectorText(svc.selector)}). Check \`kubectl -n ${namespace} get pods -l ` +
            `${selectorText(svc.selector)}\`; once the pod is ready, run \`pulumi up\` again.`);
    }
    return ip;
}

/** The address of a LoadBalancer service's first ingress, IP or host name; undefined while pending. */
export function loadBalancerAddress(
    status: { readonly loadBalancer?: { readonly ingress?: ReadonlyArray<{ readonly ip?: string; readonly hostname?: string }> } } | undefined,
): string | undefined {
    const ingress = status?.loadBalancer?.ingress?.[0];
    return ingress?.ip || ingress?.hostname || undefined;
}

/** A LoadBalancer service's address, or an error naming the service and what needs it. */
export function requireLoadBalancerAddress(
    status: Parameters<typeof loadBalancerAddress>[0], service: string, neededFor: string,
): string {
    const address = loadBalancerAddress(status);
    if (!address) {
        throw new Error(`LoadBalancer service ${service} has no ingress address yet; ` +
            `this cluster needs a load balancer implementation (a cloud, or MetalLB) for ${neededFor}`);
    }
    return address;
}
