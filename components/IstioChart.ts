import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ChartSource, InstallMethod } from "../lib/config";
import { Values } from "../lib/values";

/** Arguments of IstioChart. */
export interface IstioChartArgs {
    /** `istio` (primary) or `istio-remote` (remote). */
    readonly chartName: "istio" | "istio-remote";
    /** Where the chart comes from. */
    readonly source: ChartSource;
    /** `template`: objects applied one by one; `release`: a Helm release. */
    readonly installMethod: InstallMethod;
    /** The namespace the chart is installed into. */
    readonly namespace: pulumi.Input<string>;
    /** The chart values. */
    readonly values: pulumi.Input<Values>;
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * One Istio chart, installed the way the seed's two routes do: `helm template | kubectl apply`
 * (per-object diffs in preview, objects in Pulumi state) or `helm install` (a release that
 * `helm list` shows). Destroy removes it by the same route it was installed by (S12).
 */
export class IstioChart extends pulumi.ComponentResource {
    /** Resolves once every object of the chart is applied and ready. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: IstioChartArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:IstioChart", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const chart = args.source.kind === "dir" ? path.join(args.source.dir, args.chartName) : args.chartName;
        const version = args.source.kind === "repo" ? args.source.version : undefined;
        const repositoryOpts = args.source.kind === "repo" ? { repo: args.source.repo } : undefined;
        if (args.installMethod === "template") {
            const rendered = new k8s.helm.v4.Chart(name, {
                chart, version, repositoryOpts, namespace: args.namespace, values: args.values,
            }, childOpts);
            this.ready = rendered.resources.apply(() => "ready");
        } else {
            const release = new k8s.helm.v3.Release(name, {
                name: args.chartName, chart, version, repositoryOpts, namespace: args.namespace, values: args.values,
                // The stack owns the namespace; the release must not create (or later delete) it.
                createNamespace: false,
            }, childOpts);
            this.ready = release.status.apply((s) => s.status);
        }
        this.registerOutputs({ ready: this.ready });
    }
}
