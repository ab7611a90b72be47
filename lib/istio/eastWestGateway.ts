// A network's east-west gateway: Istio's `gateway` chart as that network's gateway, and the Istio
// resources that route other networks (15443) and, on a primary-remote primary, istiod's ports
// (15012, 15017) through it.
import { ChartInstall, CHARTS } from "./charts";
import { mergeValues, Values } from "./values";

/** A network's east-west gateway: the network, and the user's values for its chart alone. */
export interface EastWestGatewaySettings {
    /** The network it serves. */
    readonly network: string;
    /** Values for the `gateway` chart (e.g. `service.annotations` for an internal or NLB load balancer). */
    readonly values: Values;
}

/** The east-west gateway's release, Service and Deployment name, and its pods' `istio` label. */
export const EAST_WEST_GATEWAY = "istio-eastwestgateway";
const EAST_WEST_SELECTOR = { istio: "eastwestgateway" };

/**
 * Istio's `gateway` chart as this network's east-west gateway: `networkGateway` labels its
 * Service with the network (which is how every istiod of the mesh finds it) and opens the
 * cross-network ports 15443, 15012 and 15017. The user's values for the gateway apply to it, and
 * the `global` ones (hub, tag) of every chart beneath them.
 */
export function eastWestGatewayChart(user: Values, eastWest: EastWestGatewaySettings): ChartInstall {
    const global = { ...(user.global as Values | undefined), ...(eastWest.values.global as Values | undefined) };
    const mine = Object.keys(global).length === 0 ? eastWest.values : { ...eastWest.values, global };
    return {
        chart: CHARTS.gateway, release: EAST_WEST_GATEWAY,
        values: mergeValues(mine, { name: EAST_WEST_GATEWAY, networkGateway: eastWest.network, labels: { ...EAST_WEST_SELECTOR } },
            "eastWestGatewayValues"),
    };
}

/** An Istio custom resource of networking.istio.io/v1, as Pulumi's CustomResource takes it. */
export interface IstioResource {
    readonly apiVersion: string;
    readonly kind: "Gateway" | "VirtualService";
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: Values;
}

/** The Gateway that lets other networks reach this network's services through 15443 (TLS passthrough by SNI). */
export function crossNetworkGateway(namespace: string): IstioResource {
    return {
        apiVersion: "networking.istio.io/v1", kind: "Gateway",
        metadata: { name: "cross-network-gateway", namespace },
        spec: {
            selector: { ...EAST_WEST_SELECTOR },
            servers: [{ port: { number: 15443, name: "tls", protocol: "TLS" }, tls: { mode: "AUTO_PASSTHROUGH" }, hosts: ["*.local"] }],
        },
    };
}

/**
 * The Gateway and VirtualService that expose istiod through the east-west gateway, so that the
 * remotes of a primary-remote mesh reach discovery (15012) and the injection webhook (15017).
 */
export function istiodExposure(namespace: string): IstioResource[] {
    const istiod = `istiod.${namespace}.svc.cluster.local`;
    const passthrough = (number: number, name: string) =>
        ({ port: { number, name, protocol: "TLS" }, tls: { mode: "PASSTHROUGH" }, hosts: ["*"] });
    const route = (port: number, target: number) =>
        ({ match: [{ port, sniHosts: ["*"] }], route: [{ destination: { host: istiod, port: { number: target } } }] });
    return [
        {
            apiVersion: "networking.istio.io/v1", kind: "Gateway",
            metadata: { name: "istiod-gateway", namespace },
            spec: { selector: { ...EAST_WEST_SELECTOR }, servers: [passthrough(15012, "tls-istiod"), passthrough(15017, "tls-istiodwebhook")] },
        },
        {
            apiVersion: "networking.istio.io/v1", kind: "VirtualService",
            metadata: { name: "istiod-vs", namespace },
            spec: { hosts: ["*"], gateways: ["istiod-gateway"], tls: [route(15012, 15012), route(15017, 443)] },
        },
    ];
}
