import * as assert from "assert";
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

describe("CA bundle checks", () => {
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
    it("fingerprints the same root the same way from both clusters' bundles", () => {
        const a = readCaDirectory(path.join(CERTS, "mesh", "primary")).rootCert!;
        const b = readCaDirectory(path.join(CERTS, "mesh", "remote-a")).rootCert!;
        const c = readCaDirectory(path.join(CERTS, "other", "remote-a")).rootCert!;
        assert.strictEqual(certificateFingerprint(a), certificateFingerprint(b));
        assert.notStrictEqual(certificateFingerprint(a), certificateFingerprint(c));
    });
});
