import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MultiPrimaryPrimaryConfig } from "../lib/config/config";
import { istiodReleases, istiodValues } from "../lib/istio/istiod";
import { definedOnly, Exports, MultiPrimaryPrimaryOutputs, primaryMeshOutputs } from "../lib/stacks/outputs";
import { InstalledIstio } from "../lib/istio/installed";
import { primaryCa } from "./GeneratedCa";
import { IstiodInstallation } from "./IstiodInstallation";

/** Arguments of MultiPrimaryControlPlane. */
export interface MultiPrimaryControlPlaneArgs {
    /** The primary stack's validated config. */
    readonly config: MultiPrimaryPrimaryConfig;
    /** The API server URL the other primaries' istiods dial to read this cluster. */
    readonly apiServer: string;
    /** What this run knows of the cluster's Istio before it changes anything. */
    readonly installed: InstalledIstio;
    /** The primary cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The first cluster of a multi-primary mesh: its istiod with this cluster's mesh identity and
 * its intermediate CA (with `ca.generate`, made here with the mesh's root, as are the
 * intermediates of the other primaries in `ca.peers`, exported to them as a secret), and the
 * reader account's kubeconfig, which the other primaries register in their own clusters
 * (exported as a secret).
 */
export class MultiPrimaryControlPlane extends pulumi.ComponentResource {
    /** The primary stack's outputs, read by the other primaries. */
    public readonly outputs: Exports<MultiPrimaryPrimaryOutputs>;

    constructor(name: string, args: MultiPrimaryControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:MultiPrimaryControlPlane", name, {}, opts);
        const cfg = args.config;
        const { material, ...caOutputs } = primaryCa(name, cfg, this);
        const istiod = new IstiodInstallation(name, {
            config: cfg, mesh: cfg.mesh, istiods: istiodReleases(undefined, () => istiodValues(cfg.istioNamespace, cfg.mesh, false)),
            ca: material, exposeIstiod: false, readerServer: args.apiServer, installed: args.installed, provider: args.provider,
        }, { parent: this });

        this.outputs = definedOnly({
            ...primaryMeshOutputs(cfg),
            ...caOutputs,
            eastWestGatewayAddress: istiod.eastWestGatewayAddress,
            readerKubeconfig: istiod.readerKubeconfig,
        });
        this.registerOutputs(this.outputs);
    }
}
