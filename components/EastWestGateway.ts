import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { requireLoadBalancerAddress } from "../lib/istio/endpoints";
import { tiedTo } from "../lib/config/errors";
import { crossNetworkGateway, EAST_WEST_GATEWAY, istiodExposure } from "../lib/istio/eastWestGateway";
import { IstioInstallation } from "./IstioInstallation";

/** Arguments of EastWestGateway. */
export interface EastWestGatewayArgs {
    /** The Istio namespace, where the `gateway` chart installed the east-west gateway. */
    readonly namespace: string;
    /** Also route istiod's 15012 and 15017 through the gateway (a primary-remote primary does). */
    readonly exposeIstiod: boolean;
    /** What installed the gateway chart: the Istio resources and the address read wait for it. */
    readonly installation: IstioInstallation;
    /**
     * Whether the gateway's Service can be read during this run: false in a preview before a
     * deployment made it (a first install's, or one adding the gateway); its address shows as unknown.
     */
    readonly readable: boolean;
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * What makes Istio's east-west gateway (installed by the `gateway` chart with `networkGateway`)
 * serve other networks: the cross-network Gateway on 15443, istiod's Gateway and VirtualService
 * when the remotes reach istiod through it, and the load balancer address the other clusters dial.
 */
export class EastWestGateway extends pulumi.ComponentResource {
    /** The gateway Service's load balancer address (IP or host name). */
    public readonly address: pulumi.Output<string>;

    constructor(name: string, args: EastWestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:EastWestGateway", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider, dependsOn: args.installation };
        const resources = [crossNetworkGateway(args.namespace), ...(args.exposeIstiod ? istiodExposure(args.namespace) : [])];
        for (const resource of resources) {
            // They own nothing: deleted at once, not through the garbage collector's foreground pass.
            const metadata = { ...resource.metadata, annotations: { "pulumi.com/deletionPropagationPolicy": "background" } };
            new k8s.apiextensions.CustomResource(`${name}-${resource.metadata.name}`, { ...resource, metadata }, childOpts);
        }
        const id = `${args.namespace}/${EAST_WEST_GATEWAY}`;
        const service = k8s.core.v1.Service.get(`${name}-service`, args.installation.idOnceReady(id, args.readable),
            { parent: this, provider: args.provider });
        this.address = service.status.apply((status) => tiedTo(service, () => requireLoadBalancerAddress(status, id, "eastWestGateway")));
        this.registerOutputs({ address: this.address });
    }
}
