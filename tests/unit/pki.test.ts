import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { caBundleProblems, certificateFingerprint, readCaDirectory } from "../../lib/pki";
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

/**
 * A CA certificate and its key made with openssl: signed by `signer` (a certificate and key file),
 * with the X.509 extensions given, one per line of an openssl extension file.
 */
function issuedCa(signer: { cert: string; key: string }, subject: string, extensions: string): { caCert: string; caKey: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "issued-ca-"));
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.csr", "-subj", subject);
    fs.writeFileSync(path.join(dir, "ext.cnf"), extensions);
    run("x509", "-req", "-in", "ca.csr", "-CA", signer.cert, "-CAkey", signer.key, "-set_serial", "7", "-days", "30",
        "-out", "ca-cert.pem", "-extfile", "ext.cnf");
    return { caCert: fs.readFileSync(path.join(dir, "ca-cert.pem"), "utf8"), caKey: fs.readFileSync(path.join(dir, "ca-key.pem"), "utf8") };
}

/** The mesh root of the fixtures, and its key. */
const MESH_ROOT = { cert: path.join(CERTS, "mesh", "root", "root-cert.pem"), key: path.join(CERTS, "mesh", "root", "root-key.pem") };

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
        assert.match(problems[0], /^ca-cert\.pem \(issuer ".*mesh root"\) does not chain to root-cert\.pem \(subject ".*unrelated root"\)$/);
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
    it("fingerprints the same root the same way from both clusters' bundles", () => {
        const a = readCaDirectory(path.join(CERTS, "mesh", "primary")).rootCert!;
        const b = readCaDirectory(path.join(CERTS, "mesh", "remote-a")).rootCert!;
        const c = readCaDirectory(path.join(CERTS, "other", "remote-a")).rootCert!;
        assert.strictEqual(certificateFingerprint(a), certificateFingerprint(b));
        assert.notStrictEqual(certificateFingerprint(a), certificateFingerprint(c));
    });
});
