import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The label the primary's Pilot watches for remote cluster secrets. */
export const MULTICLUSTER_LABEL = "istio/multiCluster";

/** Arguments of RemoteClusterRegistration. */
export interface RemoteClusterRegistrationArgs {
    /** The remote's name: the secret's name and its one data key. */
    readonly clusterName: string;
    /** The primary's Istio namespace. */
    readonly namespace: pulumi.Input<string>;
    /** The kubeconfig that reads the remote cluster. */
    readonly kubeconfig: pulumi.Input<string>;
    /** The PRIMARY cluster's provider. */
    readonly primaryProvider: k8s.Provider;
}

/**
 * The remote's registration in the primary (seed step S10): a secret named after the cluster, one
 * data key (the cluster name) holding the kubeconfig, labelled `istio/multiCluster=true`. The
 * remote stack owns it, so `pulumi destroy` of the remote takes the cluster out of the mesh.
 */
export class RemoteClusterRegistration extends pulumi.ComponentResource {
    /** The secret's name in the primary. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: RemoteClusterRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:RemoteClusterRegistration", name, {}, opts);
        const secret = new k8s.core.v1.Secret(name, {
            metadata: {
                name: args.clusterName,
                namespace: args.namespace,
                labels: { [MULTICLUSTER_LABEL]: "true" },
                // What `istioctl create-remote-secret` adds, so that today's Istio reads it too.
                annotations: { "networking.istio.io/cluster": args.clusterName },
            },
            type: "Opaque",
            stringData: { [args.clusterName]: pulumi.secret(args.kubeconfig) },
        }, { parent: this, provider: args.primaryProvider });
        this.secretName = secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
