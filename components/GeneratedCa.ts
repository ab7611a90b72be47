import * as pulumi from "@pulumi/pulumi";
import { trustedRoots } from "../lib/ca/ca";
import { CaGeneration, IstiodPrimaryConfig } from "../lib/config/config";
import { bundleOutputs, CaBundle, certificateFingerprint } from "../lib/ca/pki";
import { CaCertificate } from "./CaCertificate";
import { CaMaterial } from "./CaCerts";

/** The subject organization of every certificate made here. */
const ORGANIZATION = "istio-multicluster";

/** The inputs a root keeps from when it was made, whatever the config says later. */
const ROOT_SETTINGS_KEPT = ["organization", "commonName", "validityDays"];

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
 * holds a root key; a cluster gets its own intermediate's key and the roots' certificates. During
 * a root rotation a second root is kept and trusted beside the signing one.
 */
export class GeneratedCa extends pulumi.ComponentResource {
    /** Every root the mesh trusts, PEM (root-cert.pem): the signing root, and during a rotation the other. */
    public readonly trustBundle: pulumi.Output<string>;
    /** SHA-256 of the root that signs the intermediates, as the remotes compare it. */
    public readonly rootFingerprint: pulumi.Output<string>;
    /** SHA-256 of each root the mesh trusts, by generation. */
    public readonly rootFingerprints: pulumi.Output<Record<string, string>>;
    /** Each cluster's intermediate, by cluster name. */
    public readonly clusters: Record<string, ClusterCa>;

    constructor(name: string, args: GeneratedCaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:GeneratedCa", name, {}, opts);
        const s = args.settings;
        // Every root the mesh trusts: the signing one, and during a rotation the other. A root keeps
        // the subject and validity it was made with: a new meshID or ca.rootValidityDays applies to
        // the roots made from then on, never re-issues a trusted one in place, which would cut every
        // cluster's trust at once (a new root is a rotation: ca.trustRoots, then ca.root).
        const roots: Record<number, CaCertificate> = {};
        for (const generation of trustedRoots(s)) {
            const commonName = `${args.meshID} root CA${generation === 0 ? "" : ` ${generation}`}`;
            const root = new CaCertificate(generation === 0 ? `${name}-root` : `${name}-root-${generation}`, {
                organization: ORGANIZATION, commonName, validityDays: s.rootValidityDays, rotation: 0,
            }, { parent: this, ignoreChanges: ROOT_SETTINGS_KEPT });
            roots[generation] = root;
            pulumi.all([root.commonName, root.validityDays]).apply(([madeAs, madeFor]) => {
                if (madeAs !== undefined && (madeAs !== commonName || madeFor !== s.rootValidityDays)) {
                    pulumi.log.warn(`root ${generation} keeps the subject and validity it was made with (${madeAs}, ${madeFor} days); ` +
                        `meshID and ca.rootValidityDays (${commonName}, ${s.rootValidityDays} days) apply to the next root, ` +
                        "made by a root rotation (ca.trustRoots, then ca.root: see the README)", root);
                }
            });
        }
        const signing = roots[s.root];
        this.trustBundle = pulumi.concat(...trustedRoots(s).map((g) => roots[g].certPem));
        this.rootFingerprint = signing.certPem.apply(certificateFingerprint);
        this.rootFingerprints = pulumi.all(Object.fromEntries(trustedRoots(s).map((g) => [String(g), roots[g].certPem.apply(certificateFingerprint)])));
        this.clusters = {};
        for (const cluster of args.clusters) {
            const intermediate = new CaCertificate(`${name}-${cluster}`, {
                organization: ORGANIZATION, commonName: `${cluster} intermediate CA`,
                validityDays: s.intermediateValidityDays, renewBeforeDays: s.renewBeforeDays,
                rotation: s.rotations[cluster] ?? 0,
                issuer: { certPem: signing.certPem, keyPem: signing.keyPem },
            }, { parent: this });
            this.clusters[cluster] = {
                material: {
                    caCert: intermediate.certPem,
                    caKey: intermediate.keyPem,
                    rootCert: this.trustBundle,
                    certChain: pulumi.concat(intermediate.certPem, signing.certPem),
                },
                expiry: intermediate.notAfter,
            };
        }
        this.registerOutputs({ trustBundle: this.trustBundle, rootFingerprint: this.rootFingerprint });
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
    /** The generation of the root that signs the intermediates. */
    readonly caRoot?: number;
    /** The root generations the mesh trusts. */
    readonly caTrustedRoots?: number[];
    /** SHA-256 of each root the mesh trusts, by generation. */
    readonly caRootFingerprints?: pulumi.Output<Record<string, string>>;
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
        return cfg.caBundle === undefined ? {} : { material: cfg.caBundle, ...bundleOutputs(cfg.caBundle) };
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
        caRoot: cfg.generatedCa.root,
        caTrustedRoots: trustedRoots(cfg.generatedCa),
        caRootFingerprints: ca.rootFingerprints,
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
