// Certificate authorities the program makes: the mesh's root and each cluster's intermediate, as
// Istio's `cacerts` wants them. Certificates are built with @peculiar/x509 on Node's WebCrypto; the
// private keys leave these functions only as PEM text, which callers keep as Pulumi secrets.
import type * as X509 from "@peculiar/x509";
import * as crypto from "crypto";

/**
 * RSA 2048 with SHA-256: what Istio's own certificate tooling and every istiod release accept. A
 * function, not a constant: Pulumi serializes a dynamic provider's captured values, and a captured
 * Uint8Array would arrive in its process as a plain object WebCrypto refuses.
 */
function keyAlgorithm(): RsaHashedKeyGenParams {
    return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A CA certificate made here, with its key. */
export interface IssuedCa {
    /** The certificate, PEM. */
    readonly certPem: string;
    /** Its private key, PKCS#8 PEM: keep it a secret. */
    readonly keyPem: string;
    /** When it expires (ISO 8601). */
    readonly notAfter: string;
    /** Its serial number, hex. */
    readonly serial: string;
}

/** What to make: a subject, a validity, and the CA that signs it (none for a root). */
export interface CaRequest {
    /** The subject's organization. */
    readonly organization: string;
    /** The subject's common name. */
    readonly commonName: string;
    /** Days it is valid for, from `now`. */
    readonly validityDays: number;
    /** The CA that signs it; absent for a self-signed root. */
    readonly issuer?: { readonly certPem: string; readonly keyPem: string };
    /** The time it is made at (a test's clock). */
    readonly now?: Date;
}

/**
 * Makes a CA certificate and its key: a self-signed root, or an intermediate signed by `issuer`.
 * Both may sign certificates (CA:TRUE, keyCertSign) and are not valid before an hour ago, so that
 * a cluster whose clock lags a little still accepts them.
 */
export async function issueCa(request: CaRequest): Promise<IssuedCa> {
    const x509 = loadX509();
    const webcrypto = crypto.webcrypto as unknown as Crypto;
    const keys = await webcrypto.subtle.generateKey(keyAlgorithm(), true, ["sign", "verify"]) as CryptoKeyPair;
    // Whole seconds, as X.509 keeps them, so that notAfter is the certificate's own.
    const now = new Date(Math.floor((request.now ?? new Date()).getTime() / 1000) * 1000);
    const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
    const notAfter = new Date(now.getTime() + request.validityDays * DAY_MS);
    // A positive 127-bit serial, as RFC 5280 asks (at most 20 octets, never negative).
    const serialBytes = crypto.randomBytes(16);
    serialBytes[0] &= 0x7f;
    const serialNumber = serialBytes.toString("hex");
    const name = `O=${request.organization}, CN=${request.commonName}`;
    const extensions: X509.Extension[] = [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
    ];
    let cert: X509.X509Certificate;
    if (request.issuer === undefined) {
        cert = await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber, name, notBefore, notAfter, keys, signingAlgorithm: keyAlgorithm(), extensions,
        }, webcrypto);
    } else {
        const issuer = new x509.X509Certificate(request.issuer.certPem);
        const issuerKey = await importPrivateKey(request.issuer.keyPem, webcrypto);
        extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey, false, webcrypto));
        cert = await x509.X509CertificateGenerator.create({
            serialNumber, subject: name, issuer: issuer.subject, notBefore, notAfter,
            publicKey: keys.publicKey, signingKey: issuerKey, signingAlgorithm: keyAlgorithm(), extensions,
        }, webcrypto);
    }
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    return {
        certPem: cert.toString("pem") + "\n",
        keyPem: crypto.createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString(),
        notAfter: notAfter.toISOString(),
        serial: serialNumber,
    };
}

/**
 * @peculiar/x509, loaded when a certificate is made (most runs make none), after the metadata
 * polyfill its dependency injection needs; inside the function, so that Pulumi's dynamic-provider
 * process, which runs this code serialized, loads both in that order too.
 */
function loadX509(): typeof X509 {
    /* eslint-disable @typescript-eslint/no-require-imports */
    require("reflect-metadata");
    return require("@peculiar/x509");
}

/** A PEM private key (PKCS#1 or PKCS#8) as a WebCrypto signing key. */
async function importPrivateKey(pem: string, webcrypto: Crypto): Promise<CryptoKey> {
    const der = crypto.createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
    return webcrypto.subtle.importKey("pkcs8", der, keyAlgorithm(), false, ["sign"]);
}

/**
 * A CA certificate resource's creation, from its inputs (its settings, and the issuer's certificate
 * and key for an intermediate): its id (the serial) and outputs, which keep the issuer's key out.
 */
export async function createCaCertificate(inputs: CaSettings & { readonly issuerKeyPem?: string }): Promise<{ id: string; outs: Record<string, unknown> }> {
    const issued = await issueCa({
        organization: inputs.organization, commonName: inputs.commonName, validityDays: inputs.validityDays,
        issuer: inputs.issuerCertPem === undefined ? undefined : { certPem: inputs.issuerCertPem, keyPem: inputs.issuerKeyPem! },
    });
    const { issuerKeyPem: _kept, ...settings } = inputs; // the issuer's key stays in the inputs alone
    return { id: issued.serial, outs: { ...settings, ...issued } };
}

/** The root generations a generated CA trusts, in order: the signing root and those kept beside it. */
export function trustedRoots(settings: { readonly root: number; readonly trustRoots: readonly number[] }): number[] {
    return [settings.root, ...settings.trustRoots].sort((a, b) => a - b);
}

/** A CA certificate's settings, as its resource keeps them. */
export interface CaSettings {
    readonly organization: string;
    readonly commonName: string;
    readonly validityDays: number;
    /** Made anew this many days before it expires; never when absent (a root, replaced only by a rotation). */
    readonly renewBeforeDays?: number;
    readonly rotation: number;
    /** The issuer's certificate; absent for a root. */
    readonly issuerCertPem?: string;
}

/** The settings whose change makes a new certificate (a new key, a new serial). */
const REISSUED_BY: ReadonlyArray<keyof CaSettings> = ["organization", "commonName", "validityDays", "rotation", "issuerCertPem"];

/**
 * What a CA certificate made with `olds` (expiring at `notAfter`) needs to become `news`, at `now`:
 * the settings that make it anew (`notAfter` when it is within `renewBeforeDays` of expiring), and
 * whether anything changed at all (a new renewal margin alone changes no certificate).
 */
export function caChanges(olds: CaSettings & { readonly notAfter: string }, news: CaSettings, now: Date = new Date()): { changes: boolean; replaces: string[] } {
    const replaces: string[] = REISSUED_BY.filter((key) => olds[key] !== news[key]);
    if (news.renewBeforeDays !== undefined && Date.parse(olds.notAfter) - news.renewBeforeDays * DAY_MS <= now.getTime()) {
        replaces.push("notAfter");
    }
    return { changes: replaces.length > 0 || olds.renewBeforeDays !== news.renewBeforeDays, replaces };
}

/** Whole days from `now` until `notAfter` (negative once past). */
export function daysLeft(notAfter: string, now: Date = new Date()): number {
    return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}
