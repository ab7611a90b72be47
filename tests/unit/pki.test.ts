import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { caBundleProblems, certificateFingerprint, readCaDirectory } from "../../lib/ca/pki";
import { ROOT } from "./harness";

const CERTS = path.join(ROOT, "tests", "fixtures", "certs");

/** A temporary copy of a fixture CA directory, with some files replaced or removed. */
export function caDirWith(base: string, changes: Record<string, string | null>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cacerts-"));
    for (const file of fs.readdirSync(path.join(CERTS, base))) {
        fs.copyFileSync(path.join(CERTS, base, file), path.join(dir, file));
    }
    for (const [file, content] of Object.entries(changes)) {
        if (content === null) {
            fs.rmSync(path.join(dir, file));
        } else {
            fs.writeFileSync(path.join(dir, file), content);
        }
    }
    return dir;
}

/** A certificate and its key as openssl writes them, and where. */
interface Issued { caCert: string; caKey: string; cert: string; key: string }

/**
 * A CA certificate and its key made with openssl: signed by `signer` (a certificate and key file),
 * with the X.509 extensions given, one per line of an openssl extension file; a new key unless
 * one is given, valid for `days` (0: expired at once).
 */
export function issuedCa(signer: { cert: string; key: string }, subject: string, extensions: string,
    options: { key?: string; days?: number } = {}): Issued {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "issued-ca-"));
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const key = options.key ?? path.join(dir, "ca-key.pem");
    run("req", "-new", ...(options.key ? ["-key", key] : ["-newkey", "rsa:2048", "-nodes", "-keyout", key]), "-out", "ca.csr", "-subj", subject);
    fs.writeFileSync(path.join(dir, "ext.cnf"), extensions);
    run("x509", "-req", "-in", "ca.csr", "-CA", signer.cert, "-CAkey", signer.key, "-set_serial", "7", "-days", String(options.days ?? 30),
        "-out", "ca-cert.pem", "-extfile", "ext.cnf");
    const cert = path.join(dir, "ca-cert.pem");
    return { caCert: fs.readFileSync(cert, "utf8"), caKey: fs.readFileSync(key, "utf8"), cert, key };
}

/** A CA's extensions. */
export const CA_EXTENSIONS = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";

/** The mesh root of the fixtures, and its key. */
export const MESH_ROOT = { cert: path.join(CERTS, "mesh", "root", "root-cert.pem"), key: path.join(CERTS, "mesh", "root", "root-key.pem") };

describe("CA bundle checks", () => {
    const rootCert = fs.readFileSync(MESH_ROOT.cert, "utf8");
    it("accepts an intermediate CA signed by the mesh root, with its key and chain", () => {
        assert.deepStrictEqual(caBundleProblems(readCaDirectory(path.join(CERTS, "mesh", "remote-a"))), []);
    });
    it("accepts the root itself as the CA", () => {
        const root = fs.readFileSync(path.join(CERTS, "mesh", "root", "root-cert.pem"), "utf8");
        const key = fs.readFileSync(path.join(CERTS, "mesh", "root", "root-key.pem"), "utf8");
        assert.deepStrictEqual(caBundleProblems({ caCert: root, caKey: key, rootCert: root, certChain: root }), []);
    });
    it("names every missing file", () => {
        const dir = caDirWith("mesh/remote-a", { "ca-key.pem": null, "cert-chain.pem": null });
        assert.deepStrictEqual(caBundleProblems(readCaDirectory(dir)), ["missing ca-key.pem, cert-chain.pem"]);
    });
    it("rejects a file that is not PEM", () => {
        const dir = caDirWith("mesh/remote-a", { "root-cert.pem": "not a certificate\n" });
        assert.ok(caBundleProblems(readCaDirectory(dir)).includes("root-cert.pem is not a PEM certificate"));
    });
    it("rejects a CA that does not chain to the root", () => {
        const other = fs.readFileSync(path.join(CERTS, "other", "root", "root-cert.pem"), "utf8");
        const dir = caDirWith("mesh/remote-a", { "root-cert.pem": other });
        const problems = caBundleProblems(readCaDirectory(dir));
        assert.strictEqual(problems.length, 1);
        assert.match(problems[0], /^ca-cert\.pem \(issuer ".*mesh root"\) does not chain to root-cert\.pem \(subject ".*unrelated root"\): cert-chain\.pem ends at ".*mesh root", which root-cert\.pem did not sign$/);
    });
    it("rejects a key that belongs to another certificate", () => {
        const otherKey = fs.readFileSync(path.join(CERTS, "mesh", "primary", "ca-key.pem"), "utf8");
        const dir = caDirWith("mesh/remote-a", { "ca-key.pem": otherKey });
        assert.deepStrictEqual(caBundleProblems(readCaDirectory(dir)), ["ca-key.pem is not the private key of ca-cert.pem"]);
    });
    it("rejects a ca-cert.pem signed by the root that is not itself a CA", () => {
        const leaf = issuedCa(MESH_ROOT, "/O=istio-multicluster demo/CN=not a CA", "basicConstraints=critical,CA:FALSE\n");
        assert.deepStrictEqual(caBundleProblems({ ...leaf, rootCert, certChain: leaf.caCert + rootCert }),
            ["ca-cert.pem is not a CA certificate (basicConstraints CA:TRUE is missing)"]);
    });
    it("rejects a CA that names the root as its issuer but was signed by another key", () => {
        // A root of the same name, another key; no key identifiers, so only the signature tells them apart.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "impostor-root-"));
        const subject = new (require("crypto").X509Certificate)(rootCert).subject.split("\n").map((rdn: string) => `/${rdn}`).join("");
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
            "-days", "30", "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE"], { cwd: dir, stdio: "pipe" });
        const forged = issuedCa({ cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") }, "/O=istio-multicluster demo/CN=forged",
            "basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\n");
        const problems = caBundleProblems({ ...forged, rootCert, certChain: forged.caCert + rootCert });
        assert.strictEqual(problems.length, 1, problems.join("; "));
        assert.match(problems[0], /^ca-cert\.pem \(issuer ".*mesh root"\) does not chain to root-cert\.pem \(subject ".*mesh root"\)$/);
    });
    describe("a three-level chain (root, intermediate, cluster CA), as Vault or cert-manager issue them", () => {
        const intermediate = issuedCa(MESH_ROOT, "/O=istio-multicluster demo/CN=mesh intermediate", CA_EXTENSIONS);
        const cluster = issuedCa(intermediate, "/O=istio-multicluster demo/CN=cluster CA", CA_EXTENSIONS);
        const bundle = (middle: string) => ({ caCert: cluster.caCert, caKey: cluster.caKey, rootCert, certChain: cluster.caCert + middle + rootCert });

        it("is accepted with the intermediate in cert-chain.pem", () => {
            assert.deepStrictEqual(caBundleProblems(bundle(intermediate.caCert)), []);
        });
        it("is refused without it, the CA's issuer being no certificate the chain leads to", () => {
            assert.deepStrictEqual(caBundleProblems(bundle("")), [`ca-cert.pem (issuer "O=istio-multicluster demo, CN=mesh intermediate") ` +
                'does not chain to root-cert.pem (subject "O=istio-multicluster demo, CN=mesh root")']);
        });
        it("is refused when broken at the middle level: an intermediate of the same key and name that another root signed", () => {
            const otherRoot = { cert: path.join(CERTS, "other", "root", "root-cert.pem"), key: path.join(CERTS, "other", "root", "root-key.pem") };
            const impostor = issuedCa(otherRoot, "/O=istio-multicluster demo/CN=mesh intermediate", CA_EXTENSIONS, { key: intermediate.key });
            assert.deepStrictEqual(caBundleProblems(bundle(impostor.caCert)), ['cert-chain.pem is broken at "O=istio-multicluster demo, ' +
                'CN=mesh intermediate": neither the next certificate in it ("O=istio-multicluster demo, CN=mesh root") nor root-cert.pem signed it']);
        });
        it("is refused with an expired intermediate, naming it and when it expired", () => {
            const expired = issuedCa(MESH_ROOT, "/O=istio-multicluster demo/CN=mesh intermediate", CA_EXTENSIONS, { key: intermediate.key, days: 0 });
            const problems = caBundleProblems(bundle(expired.caCert), new Date(Date.now() + 2000));
            assert.strictEqual(problems.length, 1, problems.join("; "));
            assert.match(problems[0], /^cert-chain\.pem has a certificate \("O=istio-multicluster demo, CN=mesh intermediate"\) that expired on \w+ +\d+ [\d:]+ \d{4} GMT$/);
        });
        it("is refused when cert-chain.pem does not start with ca-cert.pem", () => {
            assert.match(caBundleProblems({ ...bundle(intermediate.caCert), certChain: intermediate.caCert + rootCert })[0],
                /^cert-chain\.pem does not start with ca-cert\.pem \(it starts with ".*CN=mesh intermediate"\)$/);
        });
    });
    it("fingerprints the same root the same way from both clusters' bundles", () => {
        const a = readCaDirectory(path.join(CERTS, "mesh", "primary")).rootCert!;
        const b = readCaDirectory(path.join(CERTS, "mesh", "remote-a")).rootCert!;
        const c = readCaDirectory(path.join(CERTS, "other", "remote-a")).rootCert!;
        assert.strictEqual(certificateFingerprint(a), certificateFingerprint(b));
        assert.notStrictEqual(certificateFingerprint(a), certificateFingerprint(c));
    });
});
