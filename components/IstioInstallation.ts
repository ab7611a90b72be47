import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ChartInstall } from "../lib/istio/charts";
import { ChartSource, InstallMethod } from "../lib/config/config";
import { secretIfConfigSecret } from "../lib/config/redaction";
import { AddonCredentials, addonsNeedingCredentials } from "./AddonCredentials";
import { CaCerts, CaMaterial } from "./CaCerts";
import { InjectionLabels } from "./InjectionLabels";

/**
 * The Helm post-renderer that sets how Pulumi waits on the charts' objects (only the Services the
 * program reads are awaited; workloads are deleted in the background, the namespace's deletion
 * waiting for their pods). Relative to the project's directory, where Pulumi runs the program and
 * its providers, so that the state it is stored in is the same from any checkout or machine.
 */
const CHART_AWAITS = "./bin/chart-awaits";

/** Arguments of IstioInstallation. */
export interface IstioInstallationArgs {
    /** The charts, installed in this order (e.g. `base` with Istio's CRDs before `istiod`). */
    readonly charts: ChartInstall[];
    /** Where the charts come from (unless a chart names its own source). */
    readonly source: ChartSource;
    /** `template`: objects applied one by one; `release`: a Helm release. */
    readonly installMethod: InstallMethod;
    /** The Istio namespace, created and owned by the installation. */
    readonly namespace: string;
    /** Labels of the Istio namespace (e.g. topology.istio.io/network). */
    readonly namespaceLabels?: Record<string, string>;
    /** Annotations of the Istio namespace (e.g. topology.istio.io/controlPlaneClusters). */
    readonly namespaceAnnotations?: Record<string, string>;
    /** The CA for Citadel's `cacerts` secret; absent with a self-signed CA. */
    readonly caBundle?: CaMaterial;
    /**
     * The charts' Services whose readiness the program reads (their endpoints or load balancer
     * address): only these are awaited, the others are marked to skip the provider's await.
     */
    readonly awaitedServices: readonly string[];
    /** Namespaces to label `istio-injection=enabled` once the injector is installed. */
    readonly injectionNamespaces: string[];
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * Istio's charts installed on one cluster with what they need around them: the Istio namespace,
 * the `cacerts` secret and add-on credentials first; then each chart, in order, by either of Istio
 * 1.0's two routes, `helm template | kubectl apply` (per-object diffs in preview, objects in Pulumi
 * state) or `helm install` (a release that `helm list` shows); then the injection labels.
 * Destroy removes it all by the route it was installed by.
 */
export class IstioInstallation extends pulumi.ComponentResource {
    /** Resolves once every object of the chart is applied and ready. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: IstioInstallationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:IstioInstallation", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const namespace = new k8s.core.v1.Namespace(name, {
            metadata: { name: args.namespace, labels: args.namespaceLabels, annotations: args.namespaceAnnotations },
        }, childOpts);
        const prerequisites: pulumi.Resource[] = [namespace];
        if (args.caBundle) {
            prerequisites.push(new CaCerts(`${name}-cacerts`, {
                namespace: namespace.metadata.name, bundle: args.caBundle, provider: args.provider,
            }, { parent: this }));
        }
        const addons = args.charts.flatMap((c) => addonsNeedingCredentials(c.values));
        if (addons.length > 0) {
            prerequisites.push(new AddonCredentials(`${name}-addons`, {
                namespace: namespace.metadata.name, addons, provider: args.provider,
            }, { parent: this }));
        }

        let installed: pulumi.Resource[] = prerequisites;
        let ready: pulumi.Output<string> = pulumi.output("ready");
        for (const spec of args.charts) {
            const source = spec.source ?? args.source;
            const version = source.kind === "repo" ? source.version : undefined;
            const repositoryOpts = source.kind === "repo" ? { repo: source.repo } : undefined;
            const chart = source.kind === "dir" ? path.join(source.dir, spec.chart.dir) : spec.chart.name;
            // The first chart keeps the installation's own name, as it had when there was one chart.
            const resourceName = spec === args.charts[0] ? name : `${name}-${spec.release}`;
            const chartOpts = { ...childOpts, dependsOn: installed };
            // The user's values may hold secrets (`pulumi config set --secret --path values…`).
            const values = secretIfConfigSecret(spec.values);
            if (args.installMethod === "template") {
                const rendered = new k8s.helm.v4.Chart(resourceName, {
                    chart, version, repositoryOpts, namespace: namespace.metadata.name, values,
                    // The provider waits ten seconds of quiet endpoints on each Service: only where it buys a read.
                    postRenderer: { command: CHART_AWAITS, args: [...args.awaitedServices] },
                }, chartOpts);
                ready = pulumi.all([ready, rendered.resources]).apply(() => "ready");
                installed = [rendered];
            } else {
                const release = new k8s.helm.v3.Release(resourceName, {
                    name: spec.release, chart, version, repositoryOpts, namespace: namespace.metadata.name, values,
                    // The installation owns the namespace; the release must not create (or later delete) it.
                    createNamespace: false,
                }, chartOpts);
                ready = pulumi.all([ready, release.status]).apply(([, s]) => s.status);
                installed = [release];
            }
        }
        this.ready = ready;

        if (args.injectionNamespaces.length > 0) {
            new InjectionLabels(`${name}-injection`, { namespaces: args.injectionNamespaces, provider: args.provider },
                { parent: this, dependsOn: installed });
        }
        this.registerOutputs({ ready: this.ready });
    }

    /**
     * The id of an object the charts create, resolving only once they are ready, so that a read of
     * it happens after their pods are up; unknown when the charts are not deployed yet, so that a
     * first install's preview skips the read instead of failing on an object that does not exist.
     */
    idOnceReady(id: string, readable: boolean): pulumi.Output<string> {
        return readable ? this.ready.apply(() => id) : pulumi.output(pulumi.unknown as unknown as string);
    }
}
