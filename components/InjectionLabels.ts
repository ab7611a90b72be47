import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of InjectionLabels. */
export interface InjectionLabelsArgs {
    /** The namespaces to label `istio-injection=enabled`. */
    readonly namespaces: string[];
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * `kubectl label namespace <ns> istio-injection=enabled`, as a server-side apply
 * patch: the stack owns only the label, so destroy removes the label and leaves the namespace.
 */
export class InjectionLabels extends pulumi.ComponentResource {
    /** The namespaces labelled. */
    public readonly namespaces: pulumi.Output<string[]>;

    constructor(name: string, args: InjectionLabelsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:InjectionLabels", name, {}, opts);
        const patches = args.namespaces.map((ns) => new k8s.core.v1.NamespacePatch(`${name}-${ns}`, {
            metadata: { name: ns, labels: { "istio-injection": "enabled" } },
        }, { parent: this, provider: args.provider }));
        this.namespaces = pulumi.all(patches.map((p) => p.metadata.name));
        this.registerOutputs({ namespaces: this.namespaces });
    }
}
