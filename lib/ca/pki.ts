import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The four files of Istio's `cacerts` secret, by data key. */
export interface CaBundle {
    /** `ca-cert.pem`: the CA certificate Citadel signs workload certificates with. */
    readonly caCert: string;
    /** `ca-key.pem`: its private key. */
    readonly caKey: string;
    /** `root-cert.pem`: the root every cluster of the mesh trusts. */
    readonly rootCert: string;
    /** `cert-chain.pem`: the chain from the CA certificate up to the root. */
    readonly certChain: string;
}

/** The bundle's fields and the file names Istio (and its samples/certs directory) uses for them. */
export const CA_FILES: ReadonlyArray<readonly [keyof CaBundle, string]> = [
    ["caCert", "ca-cert.pem"],
    ["caKey", "ca-key.pem"],
    ["rootCert", "root-cert.pem"],
    ["certChain", "cert-chain.pem"],
];

/** Reads a directory laid out like Istio's samples/certs. Returns what is there; checks nothing. */
export function readCaDirectory(dir: string): Partial<CaBundle> {
    const bundle: Partial<Record<keyof CaBundle, string>> = {};
    for (const [field, file] of CA_FILES) {
        const fullPath = path.join(dir, file);
        if (fs.existsSync(fullPath)) {
            bundle[field] = fs.readFileSync(fullPath, "utf8");
        }
    }
    return bundle;
}

/**
 * Checks a CA bundle the way Citadel (or istiod) will use it, and returns the problems found
 * (empty when good): each file present and PEM; the CA certificate is a CA and matches its key;
 * cert-chain.pem starts with it and leads, certificate by certificate, each signed by the next, to
 * the root (directly, or through intermediates as Vault or cert-manager issue them); none of them
 * expired or not valid yet, at `now`.
 */
export function caBundleProblems(bundle: Partial<CaBundle>, now: Date = new Date()): string[] {
    const missing = CA_FILES.filter(([field]) => !bundle[field]).map(([, file]) => file);
    if (missing.length > 0) {
        return [`missing ${missing.join(", ")}`];
    }
    const problems: string[] = [];
    const caCert = parseCertificate(bundle.caCert!, "ca-cert.pem", problems);
    const rootCert = parseCertificate(bundle.rootCert!, "root-cert.pem", problems);
    const chain = parseChain(bundle.certChain!, problems);
    const caKey = parsePrivateKey(bundle.caKey!, problems);
    if (!caCert || !rootCert || !chain) {
        return problems;
    }
    if (!caCert.ca) {
        problems.push("ca-cert.pem is not a CA certificate (basicConstraints CA:TRUE is missing)");
    }
    if (!rootCert.ca) {
        problems.push("root-cert.pem is not a CA certificate (basicConstraints CA:TRUE is missing)");
    }
    if (caKey && !caCert.checkPrivateKey(caKey)) {
        problems.push("ca-key.pem is not the private key of ca-cert.pem");
    }
    problems.push(...chainProblems(caCert, chain, rootCert));
    for (const [file, cert] of [["ca-cert.pem", caCert], ...chain.slice(1).map((c) => ["cert-chain.pem", c] as const), ["root-cert.pem", rootCert]] as const) {
        if (Date.parse(cert.validTo) <= now.getTime()) {
            problems.push(`${file} has a certificate ("${oneLine(cert.subject)}") that expired on ${cert.validTo}`);
        } else if (Date.parse(cert.validFrom) > now.getTime()) {
            problems.push(`${file} has a certificate ("${oneLine(cert.subject)}") that is not valid before ${cert.validFrom}`);
        }
    }
    return problems;
}

/**
 * How the CA certificate fails to lead to the root through cert-chain.pem (nothing when it does):
 * the chain must start with the CA certificate, and each certificate be signed by the next one in
 * the chain or by the root.
 */
function chainProblems(caCert: crypto.X509Certificate, chain: crypto.X509Certificate[], root: crypto.X509Certificate): string[] {
    if (chain[0].fingerprint256 !== caCert.fingerprint256) {
        return [`cert-chain.pem does not start with ca-cert.pem (it starts with "${oneLine(chain[0].subject)}")`];
    }
    for (const [i, cert] of chain.entries()) {
        if (issuedBy(cert, root)) {
            return [];
        }
        const next = chain[i + 1];
        const unchained = `ca-cert.pem (issuer "${oneLine(caCert.issuer)}") does not chain to root-cert.pem (subject "${oneLine(root.subject)}")`;
        if (i === 0 && (next === undefined || !issuedBy(cert, next))) {
            return [unchained];
        }
        if (next === undefined) {
            return [`${unchained}: cert-chain.pem ends at "${oneLine(cert.subject)}", which root-cert.pem did not sign`];
        }
        if (!issuedBy(cert, next)) {
            return [`cert-chain.pem is broken at "${oneLine(cert.subject)}": neither the next certificate in it ` +
                `("${oneLine(next.subject)}") nor root-cert.pem signed it`];
        }
    }
    return [];
}

/** The SHA-256 fingerprint of a PEM certificate, as Node prints it (colon-separated hex). */
export function certificateFingerprint(pem: string): string {
    return new crypto.X509Certificate(pem).fingerprint256;
}

/** The PEM blocks of the certificates in a bundle, in order. */
export function pemCertificates(pem: string): string[] {
    return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The SHA-256 fingerprints of every certificate of a PEM bundle, in order. */
export function certificateFingerprints(bundlePem: string): string[] {
    return pemCertificates(bundlePem).map(certificateFingerprint);
}

/** The SHA-256 fingerprint of the last certificate of a PEM chain: the root it ends at. */
export function chainRootFingerprint(chainPem: string): string {
    const blocks = pemCertificates(chainPem);
    return certificateFingerprint(blocks[blocks.length - 1] ?? chainPem);
}

/** When a PEM certificate expires (ISO 8601). */
export function certificateExpiry(pem: string): string {
    return new Date(new crypto.X509Certificate(pem).validTo).toISOString();
}

/** What a stack exports of a CA bundle it plugs in: its root's fingerprint and when its CA expires. */
export function bundleOutputs(bundle: CaBundle): { rootCertFingerprint: string; caCertExpiry: string } {
    return { rootCertFingerprint: certificateFingerprint(bundle.rootCert), caCertExpiry: certificateExpiry(bundle.caCert) };
}

/** `cert` is `issuer` itself, or was signed by it (its issuer name is the other's subject, and the signature checks). */
function issuedBy(cert: crypto.X509Certificate, issuer: crypto.X509Certificate): boolean {
    if (cert.fingerprint256 === issuer.fingerprint256) {
        return true;
    }
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** The certificates of a PEM bundle, in order; undefined (with the problem noted) when one is unreadable. */
function parseChain(pem: string, problems: string[]): crypto.X509Certificate[] | undefined {
    const blocks = pemCertificates(pem);
    if (blocks.length === 0) {
        problems.push("cert-chain.pem is not a PEM certificate");
        return undefined;
    }
    const certs = blocks.map((block, i) => parseCertificate(block, `cert-chain.pem (certificate ${i + 1})`, problems));
    return certs.every((c) => c !== undefined) ? certs as crypto.X509Certificate[] : undefined;
}

function parseCertificate(pem: string, file: string, problems: string[]): crypto.X509Certificate | undefined {
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        problems.push(`${file} is not a PEM certificate`);
        return undefined;
    }
    try {
        return new crypto.X509Certificate(pem);
    } catch (err) {
        problems.push(`${file} is not a readable PEM certificate (${(err as Error).message})`);
        return undefined;
    }
}

function parsePrivateKey(pem: string, problems: string[]): crypto.KeyObject | undefined {
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) {
        problems.push("ca-key.pem is not a PEM private key");
        return undefined;
    }
    try {
        return crypto.createPrivateKey(pem);
    } catch (err) {
        problems.push(`ca-key.pem is not a readable PEM private key (${(err as Error).message})`);
        return undefined;
    }
}

function oneLine(distinguishedName: string): string {
    return distinguishedName.split("\n").join(", ");
}
