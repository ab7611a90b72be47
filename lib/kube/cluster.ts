import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess } from "../config/config";

/** The name the primary cluster's provider had in every stack before providers were named after clusters. */
const PRIMARY = "primary";

/**
 * An explicit Kubernetes provider for one cluster, named after the cluster, from a context of the
 * ambient kubeconfig or from a kubeconfig held as a secret. Never the ambient default provider: a
 * stack that talks to several clusters must say which one each object goes to. Cluster names are
 * unique in a mesh, so a stack's providers never share a name.
 */
export function clusterProvider(name: string, access: ClusterAccess, opts?: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, {
        kubeconfig: access.kubeconfig === undefined ? undefined : pulumi.secret(access.kubeconfig),
        context: access.kubeContext,
    }, opts);
}

/** The primary stack's provider for its own cluster. */
export function ownPrimaryProvider(access: ClusterAccess): k8s.Provider {
    return clusterProvider(PRIMARY, access);
}

/**
 * A remote's provider for the primary's cluster, named after it (an istiod primary's cluster name,
 * an Istio 1.0 primary's stack name). It was named `primary` whatever the primary's name: the
 * alias keeps the objects a stack made through it.
 */
export function primaryProvider(primaryName: string, access: ClusterAccess): k8s.Provider {
    return clusterProvider(primaryName, access, primaryName === PRIMARY ? undefined : { aliases: [{ name: PRIMARY }] });
}

/** A multi-primary remote's provider for another primary's cluster, by its context. */
export function peerProvider(clusterName: string, kubeContext: string): k8s.Provider {
    return clusterProvider(clusterName, { kubeContext });
}
