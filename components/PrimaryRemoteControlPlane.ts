import * as k8s from "@pulumi/kubernetes";
import * as net from "net";
import * as pulumi from "@pulumi/pulumi";
import { PrimaryRemotePrimaryConfig } from "../lib/config/config";
import { istiodReleases, istiodValues, webhookHostValues } from "../lib/istio/istiod";
import { meshTags } from "../lib/istio/revisionCharts";
import { DEFAULT_TAG } from "../lib/istio/revisions";
import { mergeValues } from "../lib/istio/values";
import { definedOnly, Exports, PrimaryRemotePrimaryOutputs, primaryMeshOutputs } from "../lib/stacks/outputs";
import { InstalledIstio } from "../lib/istio/installed";
import { primaryCa } from "./GeneratedCa";
import { IstiodInstallation } from "./IstiodInstallation";

/** Arguments of PrimaryRemoteControlPlane. */
export interface PrimaryRemoteControlPlaneArgs {
    /** The primary stack's validated config. */
    readonly config: PrimaryRemotePrimaryConfig;
    /** What this run knows of the cluster's Istio before it changes anything. */
    readonly installed: InstalledIstio;
    /** The primary cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The primary of a primary-remote mesh: istiod marked as serving other clusters
 * (`global.externalIstiod`), with the plug-in CA when configured, and optionally the east-west
 * gateway that exposes it. With `ca.generate` it makes the mesh's CA. Exports what its remotes
 * are rendered with.
 */
export class PrimaryRemoteControlPlane extends pulumi.ComponentResource {
    /** The primary stack's outputs, read by the remotes. */
    public readonly outputs: Exports<PrimaryRemotePrimaryOutputs>;

    constructor(name: string, args: PrimaryRemoteControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:PrimaryRemoteControlPlane", name, {}, opts);
        const cfg = args.config;
        const { material, ...caOutputs } = primaryCa(name, cfg, this);
        const webhookHost = webhookHostValues({
            // The gateway's address is known once its load balancer gave it: from the last deployment.
            discoveryAddress: cfg.discoveryAddress ?? args.installed.eastWestGatewayAddress,
            injectionAddress: cfg.injectionAddress,
        }, cfg.values);
        const revisions = cfg.revisions?.revisions;
        const tags = revisions && meshTags(revisions, cfg.revisions!.tags);
        const istiod = new IstiodInstallation(name, {
            config: cfg, mesh: cfg.mesh, values: webhookHost.user,
            istiods: istiodReleases(revisions, () => mergeValues(istiodValues(cfg.istioNamespace, cfg.mesh, true), webhookHost.istiod)),
            tags,
            ca: material, exposeIstiod: true, installed: args.installed, provider: args.provider,
        }, { parent: this });

        if (cfg.discoveryAddress === undefined && cfg.injectionAddress === undefined && istiod.eastWestGatewayAddress) {
            istiod.eastWestGatewayAddress.apply((address) => {
                if (!net.isIP(address) && address !== args.installed.eastWestGatewayAddress) {
                    pulumi.log.warn(`the east-west gateway's load balancer gave the host name ${address}: the remotes' API servers ` +
                        `call istiod's injection webhook there, and istiod's certificate names it from the next \`pulumi up\` ` +
                        `of this stack on; run it once more before remotes join`, this);
                }
            });
        }
        this.outputs = definedOnly({
            ...primaryMeshOutputs(cfg),
            ...caOutputs,
            eastWestGatewayAddress: istiod.eastWestGatewayAddress,
            // Where the remotes reach istiod: the configured address (the default tag's revision's), else the east-west gateway's.
            discoveryAddress: cfg.discoveryAddress ?? revisions?.find((r) => r.name === tags![DEFAULT_TAG])!.discoveryAddress
                ?? istiod.eastWestGatewayAddress,
            injectionAddress: cfg.injectionAddress,
            revisions,
            revisionTags: tags,
        });
        this.registerOutputs(this.outputs);
    }
}
