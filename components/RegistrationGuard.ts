import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess } from "../lib/config/config";
import { destroyRefusal, listRegistrations } from "../lib/kube/registration";

/** The guard's inputs, kept in its state for the check at delete time. */
export interface RegistrationGuardArgs {
    /** The primary's Istio namespace, where the registrations live. */
    readonly namespace: pulumi.Input<string>;
    /** How to reach the primary cluster (a kubeconfig is kept as a secret). */
    readonly cluster: ClusterAccess;
}

// Runs in Pulumi's dynamic-provider process: at delete, it reads the registrations live.
const guardProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        return { id: String(inputs.namespace), outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
    async delete(_id, props) {
        const access = { kubeContext: props.kubeContext, kubeconfig: props.kubeconfig };
        const refusal = destroyRefusal(await listRegistrations(access, props.namespace), props.namespace, process.env);
        if (refusal) {
            throw new Error(refusal);
        }
    },
};

/**
 * Refuses the primary's `pulumi destroy` while clusters are still registered in it. It depends on
 * every object of the control plane, so Pulumi deletes it first, and its refusal stops the destroy
 * before anything is gone.
 */
export class RegistrationGuard extends pulumi.dynamic.Resource {
    constructor(name: string, args: RegistrationGuardArgs, opts?: pulumi.CustomResourceOptions) {
        super(guardProvider, name, {
            namespace: args.namespace,
            kubeContext: args.cluster.kubeContext,
            kubeconfig: args.cluster.kubeconfig === undefined ? undefined : pulumi.secret(args.cluster.kubeconfig),
        }, { ...opts, additionalSecretOutputs: ["kubeconfig"] }, undefined, "RegistrationGuard");
    }
}
