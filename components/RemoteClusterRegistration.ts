import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_ANNOTATION } from "../lib/istio/istiod";

/** The label Istio's control plane watches for remote cluster secrets. */
export const MULTICLUSTER_LABEL = "istio/multiCluster";

/** Arguments of RemoteClusterRegistration. */
export interface RemoteClusterRegistrationArgs {
    /** The registered cluster's name: the secret's one data key. */
    readonly clusterName: string;
    /** The secret's name: the cluster name (Istio 1.0) or `istio-remote-secret-<cluster>` (today's istioctl). */
    readonly secretName: string;
    /** The Istio namespace of the cluster whose control plane reads the registered one. */
    readonly namespace: pulumi.Input<string>;
    /** The kubeconfig that reads the registered cluster. */
    readonly kubeconfig: pulumi.Input<string>;
    /** The provider of the cluster whose control plane reads the registered one (the primary). */
    readonly provider: k8s.Provider;
}

/**
 * One cluster's registration with another cluster's control plane: a secret holding one data key
 * (the cluster name) with the kubeconfig that reads it, labelled `istio/multiCluster=true` and
 * annotated with the cluster name, as `istioctl create-remote-secret` writes it. The registered
 * cluster's stack owns it, so `pulumi destroy` of that stack takes the cluster out of the mesh.
 */
export class RemoteClusterRegistration extends pulumi.ComponentResource {
    /** The secret's name. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: RemoteClusterRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:RemoteClusterRegistration", name, {}, opts);
        const secret = new k8s.core.v1.Secret(name, {
            metadata: {
                name: args.secretName,
                namespace: args.namespace,
                labels: { [MULTICLUSTER_LABEL]: "true" },
                annotations: { [CLUSTER_ANNOTATION]: args.clusterName },
            },
            type: "Opaque",
            stringData: { [args.clusterName]: pulumi.secret(args.kubeconfig) },
        }, { parent: this, provider: args.provider });
        this.secretName = secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
