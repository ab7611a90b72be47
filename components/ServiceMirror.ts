import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServiceRef } from "../lib/config/config";

/** Arguments of ServiceMirror. */
export interface ServiceMirrorArgs {
    /** The services to copy, as `namespace/name` in the source cluster. */
    readonly services: ServiceRef[];
    /** The cluster the services run in. */
    readonly sourceProvider: k8s.Provider;
    /** The cluster that needs their names to resolve. */
    readonly targetProvider: k8s.Provider;
    /** The source cluster's name, recorded on each copy. */
    readonly sourceCluster: string;
}

/** The label that marks a copy and names the cluster its original runs in. */
export const MIRRORED_FROM_LABEL = "istio-multicluster/mirrored-from";

/**
 * Copies of services from one cluster into another: Istio 1.0 routes by service
 * name, so a name must resolve in every cluster that calls it. Each copy keeps the original's
 * ports and selector; namespaces missing in the target are created. The originals are read fresh
 * on every run, so a changed port follows on the next `pulumi up`.
 */
export class ServiceMirror extends pulumi.ComponentResource {
    /** The copies, as `namespace/name`. */
    public readonly mirrored: pulumi.Output<string[]>;

    constructor(name: string, args: ServiceMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:ServiceMirror", name, {}, opts);
        const namespaces = new Map<string, k8s.core.v1.NamespacePatch>();
        for (const ns of new Set(args.services.map((s) => s.namespace))) {
            // A server-side apply patch creates the namespace when it is missing and never deletes it.
            namespaces.set(ns, new k8s.core.v1.NamespacePatch(`${name}-${ns}`, { metadata: { name: ns } },
                { parent: this, provider: args.targetProvider }));
        }
        const copies = args.services.map(({ namespace, name: service }) => {
            const original = k8s.core.v1.Service.get(`${name}-${namespace}-${service}-original`,
                `${namespace}/${service}`, { parent: this, provider: args.sourceProvider });
            return new k8s.core.v1.Service(`${name}-${namespace}-${service}`, {
                metadata: {
                    name: service,
                    namespace,
                    labels: original.metadata.labels.apply((labels) => ({ ...labels, [MIRRORED_FROM_LABEL]: args.sourceCluster })),
                },
                spec: original.spec.apply((spec) => ({
                    // A copy only has to make the name resolve: cluster IPs and node ports are the original cluster's own.
                    type: "ClusterIP",
                    clusterIP: spec.clusterIP === "None" ? "None" : undefined,
                    selector: spec.selector,
                    ports: (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort })),
                })),
            }, { parent: this, provider: args.targetProvider, dependsOn: namespaces.get(namespace) });
        });
        this.mirrored = pulumi.all(copies.map((c) => pulumi.interpolate`${c.metadata.namespace}/${c.metadata.name}`));
        this.registerOutputs({ mirrored: this.mirrored });
    }
}
