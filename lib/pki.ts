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
 * Checks a CA bundle the way Citadel will use it, and returns the problems found (empty when
 * good): each file present and PEM; the CA certificate is a CA, matches its key, and is the root
 * or is signed by it.
 */
export function caBundleProblems(bundle: Partial<CaBundle>): string[] {
    const missing = CA_FILES.filter(([field]) => !bundle[field]).map(([, file]) => file);
    if (missing.length > 0) {
        return [`missing ${missing.join(", ")}`];
    }
    const problems: string[] = [];
    const caCert = parseCertificate(bundle.caCert!, "ca-cert.pem", problems);
    const rootCert = parseCertificate(bundle.rootCert!, "root-cert.pem", problems);
    parseCertificate(bundle.certChain!, "cert-chain.pem", problems);
    const caKey = parsePrivateKey(bundle.caKey!, problems);
    if (!caCert || !rootCert) {
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
    if (!chainsTo(caCert, rootCert)) {
        problems.push(`ca-cert.pem (issuer "${oneLine(caCert.issuer)}") does not chain to root-cert.pem ` +
            `(subject "${oneLine(rootCert.subject)}")`);
    }
    return problems;
}

/** The SHA-256 fingerprint of a PEM certificate, as Node prints it (colon-separated hex). */
export function certificateFingerprint(pem: string): string {
    return new crypto.X509Certificate(pem).fingerprint256;
}

function chainsTo(cert: crypto.X509Certificate, root: crypto.X509Certificate): boolean {
    if (cert.fingerprint256 === root.fingerprint256) {
        return true;
    }
    return cert.checkIssued(root) && cert.verify(root.publicKey);
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
