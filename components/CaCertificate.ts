import * as pulumi from "@pulumi/pulumi";
import { caChanges, createCaCertificate } from "../lib/ca/ca";

/** Arguments of CaCertificate. */
export interface CaCertificateArgs {
    /** The subject's organization. */
    readonly organization: pulumi.Input<string>;
    /** The subject's common name. */
    readonly commonName: pulumi.Input<string>;
    /** Days it is valid for once made. */
    readonly validityDays: pulumi.Input<number>;
    /** It is made anew this many days before it expires (at the first run from then on); never when absent. */
    readonly renewBeforeDays?: pulumi.Input<number>;
    /** A number the user raises to have it made anew. */
    readonly rotation: pulumi.Input<number>;
    /** The CA that signs it (its key a secret); absent for a self-signed root. */
    readonly issuer?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

// Runs in Pulumi's dynamic-provider process. The key exists only there and in the state, as a secret.
const caProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        return createCaCertificate(inputs);
    },
    async diff(_id, olds, news) {
        // Past its renewal time, a preview shows it replaced, and the next `up` replaces it.
        return { ...caChanges(olds, news), deleteBeforeReplace: false };
    },
    async update(_id, olds, news) {
        return { outs: { ...olds, renewBeforeDays: news.renewBeforeDays } };
    },
};

/**
 * A CA certificate and its key, made once and kept in the stack's state (the key as a secret):
 * the mesh's root, or a cluster's intermediate signed by it. It is made anew when its subject,
 * validity, issuer or rotation number changes, and when it is within `renewBeforeDays` (if given) of expiring.
 */
export class CaCertificate extends pulumi.dynamic.Resource {
    /** The certificate, PEM. */
    declare public readonly certPem: pulumi.Output<string>;
    /** Its private key, PEM (a secret). */
    declare public readonly keyPem: pulumi.Output<string>;
    /** When it expires (ISO 8601). */
    declare public readonly notAfter: pulumi.Output<string>;
    /** Its serial number, hex. */
    declare public readonly serial: pulumi.Output<string>;
    /** The common name it was made with. */
    declare public readonly commonName: pulumi.Output<string>;
    /** The validity it was made with, in days. */
    declare public readonly validityDays: pulumi.Output<number>;

    constructor(name: string, args: CaCertificateArgs, opts?: pulumi.CustomResourceOptions) {
        super(caProvider, name, {
            organization: args.organization,
            commonName: args.commonName,
            validityDays: args.validityDays,
            renewBeforeDays: args.renewBeforeDays,
            rotation: args.rotation,
            issuerCertPem: args.issuer?.certPem,
            issuerKeyPem: args.issuer === undefined ? undefined : pulumi.secret(args.issuer.keyPem),
            certPem: undefined, keyPem: undefined, notAfter: undefined, serial: undefined,
        }, { ...opts, additionalSecretOutputs: ["keyPem"] }, undefined, "CaCertificate");
    }
}
