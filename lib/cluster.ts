import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess } from "./config";

/**
 * An explicit Kubernetes provider for one cluster, from a context of the ambient kubeconfig or
 * from a kubeconfig held as a secret. Never the ambient default provider: a stack that talks to two
 * clusters must say which one each object goes to.
 */
export function clusterProvider(name: string, access: ClusterAccess, opts?: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, {
        kubeconfig: access.kubeconfig === undefined ? undefined : pulumi.secret(access.kubeconfig),
        context: access.kubeContext,
    }, opts);
}

