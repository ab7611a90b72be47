import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CA_FILES, CaBundle } from "../lib/ca/pki";

/** The four files of a `cacerts` secret, from config (checked) or made by the program (GeneratedCa). */
export type CaMaterial = { readonly [field in keyof CaBundle]: pulumi.Input<string> };

/** Arguments of CaCerts. */
export interface CaCertsArgs {
    /** The Istio namespace the secret goes in. */
    readonly namespace: pulumi.Input<string>;
    /** The CA material: checked (see lib/ca/pki.ts) when it came from config. */
    readonly bundle: CaMaterial;
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * Istio's `cacerts` secret: the CA Citadel signs workload certificates with, so that every
 * cluster of the mesh shares one root. All four files are Pulumi secrets.
 */
export class CaCerts extends pulumi.ComponentResource {
    /** The secret's name (always `cacerts`: Citadel mounts it by that name). */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: CaCertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:CaCerts", name, {}, opts);
        // A Secret's data is a Pulumi secret in inputs, state and outputs: @pulumi/kubernetes marks it so.
        const stringData = Object.fromEntries(CA_FILES.map(([field, file]) => [file, args.bundle[field]]));
        const secret = new k8s.core.v1.Secret(name, {
            metadata: { name: "cacerts", namespace: args.namespace },
            type: "Opaque",
            stringData,
        }, { parent: this, provider: args.provider });
        this.secretName = secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
