import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ChartSource, InstallMethod } from "../lib/config";
import { CaBundle } from "../lib/pki";
import { Values } from "../lib/values";
import { AddonCredentials, addonsNeedingCredentials } from "./AddonCredentials";
import { CaCerts } from "./CaCerts";
import { InjectionLabels } from "./InjectionLabels";

/** Arguments of IstioInstallation. */
export interface IstioInstallationArgs {
    /** `istio` (primary) or `istio-remote` (remote). */
    readonly chartName: "istio" | "istio-remote";
    /** Where the chart comes from. */
    readonly source: ChartSource;
    /** `template`: objects applied one by one; `release`: a Helm release. */
    readonly installMethod: InstallMethod;
    /** The Istio namespace, created and owned by the installation. */
    readonly namespace: string;
    /** The chart values, derived values already merged in. */
    readonly values: Values;
    /** The CA for Citadel's `cacerts` secret; absent with a self-signed CA. */
    readonly caBundle?: CaBundle;
    /** Namespaces to label `istio-injection=enabled` once the injector is installed. */
    readonly injectionNamespaces: string[];
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * One Istio chart installed on one cluster with what it needs around it: its namespace (S7), the
 * `cacerts` secret (S16) and add-on credentials first; then the chart the way the seed's two
 * routes do, `helm template | kubectl apply` (per-object diffs in preview, objects in Pulumi
 * state) or `helm install` (a release that `helm list` shows); then the injection labels (S8).
 * Destroy removes it all by the route it was installed by (S12).
 */
export class IstioInstallation extends pulumi.ComponentResource {
    /** Resolves once every object of the chart is applied and ready. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: IstioInstallationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:IstioInstallation", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const namespace = new k8s.core.v1.Namespace(name, { metadata: { name: args.namespace } }, childOpts);
        const prerequisites: pulumi.Resource[] = [namespace];
        if (args.caBundle) {
            prerequisites.push(new CaCerts(`${name}-cacerts`, {
                namespace: namespace.metadata.name, bundle: args.caBundle, provider: args.provider,
            }, { parent: this }));
        }
        const addons = addonsNeedingCredentials(args.values);
        if (addons.length > 0) {
            prerequisites.push(new AddonCredentials(`${name}-addons`, {
                namespace: namespace.metadata.name, addons, provider: args.provider,
            }, { parent: this }));
        }

        const chart = args.source.kind === "dir" ? path.join(args.source.dir, args.chartName) : args.chartName;
        const version = args.source.kind === "repo" ? args.source.version : undefined;
        const repositoryOpts = args.source.kind === "repo" ? { repo: args.source.repo } : undefined;
        const chartOpts = { ...childOpts, dependsOn: prerequisites };
        let installed: pulumi.Resource;
        if (args.installMethod === "template") {
            const rendered = new k8s.helm.v4.Chart(name, {
                chart, version, repositoryOpts, namespace: namespace.metadata.name, values: args.values,
            }, chartOpts);
            this.ready = rendered.resources.apply(() => "ready");
            installed = rendered;
        } else {
            const release = new k8s.helm.v3.Release(name, {
                name: args.chartName, chart, version, repositoryOpts, namespace: namespace.metadata.name, values: args.values,
                // The installation owns the namespace; the release must not create (or later delete) it.
                createNamespace: false,
            }, chartOpts);
            this.ready = release.status.apply((s) => s.status);
            installed = release;
        }

        if (args.injectionNamespaces.length > 0) {
            new InjectionLabels(`${name}-injection`, { namespaces: args.injectionNamespaces, provider: args.provider },
                { parent: this, dependsOn: installed });
        }
        this.registerOutputs({ ready: this.ready });
    }
}
