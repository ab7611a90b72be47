import * as pulumi from "@pulumi/pulumi";
import { CaGeneration, IstiodPrimaryConfig } from "../lib/config";
import { CaBundle, certificateExpiry, certificateFingerprint } from "../lib/pki";
import { CaCertificate } from "./CaCertificate";
import { CaMaterial } from "./CaCerts";

/** The subject organization of every certificate made here. */
const ORGANIZATION = "istio-multicluster";

/** Arguments of GeneratedCa. */
export interface GeneratedCaArgs {
    /** The mesh's ID, named in the root's subject. */
    readonly meshID: string;
    /** The clusters that get an intermediate: this stack's first, then the peers it issues for. */
    readonly clusters: readonly string[];
    /** How the CA is made and rotated, as configured. */
    readonly settings: CaGeneration;
}

/** One cluster's intermediate: its `cacerts` material and when it expires. */
export interface ClusterCa {
    /** The four files of the cluster's `cacerts` secret (the key a secret). */
    readonly material: CaMaterial;
    /** When the intermediate expires (ISO 8601). */
    readonly expiry: pulumi.Output<string>;
}

/**
 * The mesh's CA made by the program: a root, made once, and an intermediate for each cluster
 * signed by it, each kept in this stack's state with its key as a secret. Only this stack ever
 * holds the root key; a cluster gets its own intermediate's key and the root's certificate.
 */
export class GeneratedCa extends pulumi.ComponentResource {
    /** The root certificate, PEM. */
    public readonly rootCert: pulumi.Output<string>;
    /** SHA-256 of the root, as the remotes compare it. */
    public readonly rootFingerprint: pulumi.Output<string>;
    /** Each cluster's intermediate, by cluster name. */
    public readonly clusters: Record<string, ClusterCa>;

    constructor(name: string, args: GeneratedCaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:GeneratedCa", name, {}, opts);
        const s = args.settings;
        const root = new CaCertificate(`${name}-root`, {
            organization: ORGANIZATION, commonName: `${args.meshID} root CA`,
            validityDays: s.rootValidityDays, renewBeforeDays: 0, rotation: 0,
        }, { parent: this });
        this.rootCert = root.certPem;
        this.rootFingerprint = root.certPem.apply(certificateFingerprint);
        this.clusters = {};
        for (const cluster of args.clusters) {
            const intermediate = new CaCertificate(`${name}-${cluster}`, {
                organization: ORGANIZATION, commonName: `${cluster} intermediate CA`,
                validityDays: s.intermediateValidityDays, renewBeforeDays: s.renewBeforeDays,
                rotation: s.rotations[cluster] ?? 0,
                issuer: { certPem: root.certPem, keyPem: root.keyPem },
            }, { parent: this });
            this.clusters[cluster] = {
                material: {
                    caCert: intermediate.certPem,
                    caKey: intermediate.keyPem,
                    rootCert: root.certPem,
                    certChain: pulumi.concat(intermediate.certPem, root.certPem),
                },
                expiry: intermediate.notAfter,
            };
        }
        this.registerOutputs({ rootCert: this.rootCert, rootFingerprint: this.rootFingerprint });
    }
}

/** The CA an istiod primary signs with, and what its stack exports of it. */
export interface PrimaryCa {
    /** The `cacerts` material of the primary's own cluster; absent when istiod mints its own root. */
    readonly material?: CaMaterial;
    /** SHA-256 of the mesh root, which the remotes check theirs against. */
    readonly rootCertFingerprint?: pulumi.Input<string>;
    /** When the primary's own CA expires. */
    readonly caCertExpiry?: pulumi.Input<string>;
    /** The other primaries the generated CA issued an intermediate for. */
    readonly caIssuedFor?: string[];
    /** Their intermediates, by cluster name (a secret). */
    readonly peerCas?: pulumi.Output<Record<string, CaBundle>>;
}

/**
 * An istiod primary's CA: its configured `cacerts`, or, with `ca.generate`, a GeneratedCa (named
 * `<name>-ca`) issuing for this cluster and for each of `ca.peers`.
 */
export function primaryCa(name: string, cfg: IstiodPrimaryConfig, parent: pulumi.Resource): PrimaryCa {
    if (cfg.generatedCa === undefined) {
        return cfg.caBundle === undefined ? {} : {
            material: cfg.caBundle,
            rootCertFingerprint: certificateFingerprint(cfg.caBundle.rootCert),
            caCertExpiry: certificateExpiry(cfg.caBundle.caCert),
        };
    }
    const peers = cfg.generatedCa.peers;
    const ca = new GeneratedCa(`${name}-ca`, {
        meshID: cfg.mesh.meshID, clusters: [cfg.mesh.clusterName, ...peers], settings: cfg.generatedCa,
    }, { parent });
    const own = ca.clusters[cfg.mesh.clusterName];
    const peerBundles = Object.fromEntries(peers.map((peer) => [peer, pulumi.output(ca.clusters[peer].material)]));
    return {
        material: own.material,
        rootCertFingerprint: ca.rootFingerprint,
        caCertExpiry: own.expiry,
        ...(peers.length === 0 ? {} : {
            caIssuedFor: peers,
            peerCas: pulumi.secret(pulumi.all(peerBundles) as pulumi.Output<Record<string, CaBundle>>),
        }),
    };
}

/** The `cacerts` material a primary's CA issued for `cluster`, out of its `peerCas` output (each field a secret). */
export function issuedTo(peerCas: pulumi.Output<Record<string, CaBundle>>, cluster: string): CaMaterial {
    const field = (name: keyof CaBundle) => pulumi.secret(peerCas.apply((cas) => cas[cluster][name]));
    return { caCert: field("caCert"), caKey: field("caKey"), rootCert: field("rootCert"), certChain: field("certChain") };
}
