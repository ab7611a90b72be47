import * as assert from "assert";
import { redactSecrets } from "../../lib/config/errors";
import { isSecretInput, ofType, plain, Registered, ROLE_CONFIG, runProgram } from "./harness";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.c2lnbmF0dXJl";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";

/** Asserts that neither the token nor any line of the key is in the text, raw or JSON-escaped. */
function assertNoSecret(text: string): void {
    for (const secret of [TOKEN, ...PEM_KEY.split("\n").filter((l) => l.length >= 6)]) {
        assert.ok(!text.includes(secret), `the message holds ${secret}:\n${text}`);
        assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)), `the message holds ${secret}, escaped:\n${text}`);
    }
}

describe("secret config never appears in an error message", () => {
    it("a CA key given as a plain secret string instead of structured config", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, cacerts: PEM_KEY }, secretKeys: ["cacerts"] });
        assert.match(r.error!.message, /^istio-multicluster:cacerts = "\[secret\]": must be structured config/);
        assertNoSecret(r.error!.message);
    });
    it("a token in secret chart values that override a derived value", async () => {
        const values = { global: { remotePilotAddress: TOKEN }, note: PEM_KEY };
        const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, values }, secretKeys: ["values"] });
        assert.match(r.error!.message, /istio-multicluster:values\.global\.remotePilotAddress = "\[secret\]": this chart value is derived/);
        assertNoSecret(r.error!.message);
    });
    it("a secret of structured config without a digit in it, quoted alone by a check on one of its leaves", async () => {
        const passphrase = "correct-horse-battery-staple";
        const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, values: { global: { remotePilotAddress: passphrase } } },
            secretKeys: ["values"] });
        assert.match(r.error!.message, /istio-multicluster:values\.global\.remotePilotAddress = "\[secret\]": this chart value is derived/);
        assert.ok(!r.error!.message.includes(passphrase), r.error!.message);
    });
});

describe("secret chart values (`pulumi config set --secret --path values…`) stay secret", () => {
    const ISTIOD_PRIMARY = {
        role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: "tests/fixtures/istiod-charts",
        cacerts: { dir: "tests/fixtures/certs/mesh/primary" }, podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16",
    };
    /** Every registered input that is not a secret, every output that is not, and every warning, as text. */
    const inClear = (r: { resources: Registered[]; outputs?: Record<string, unknown>; secretOutputs: Set<string>; warnings: string[] }) => JSON.stringify([
        r.resources.map((x) => Object.fromEntries(Object.entries(x.inputs).filter(([, v]) => !isSecretInput(v)))),
        Object.entries(r.outputs ?? {}).filter(([k]) => !r.secretOutputs.has(k)), r.warnings,
    ]);
    const charts = (resources: Registered[]) => [...ofType(resources, "kubernetes:helm.sh/v4:Chart"), ...ofType(resources, "kubernetes:helm.sh/v3:Release")];

    for (const installMethod of ["template", "release"]) {
        it(`registers each chart's values as a secret when values is one, and the token nowhere in clear (installMethod ${installMethod})`, async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, installMethod, values: { kiali: { token: TOKEN } } },
                secretKeys: ["values"] });
            assert.ifError(r.error);
            const [chart] = charts(r.resources);
            assert.ok(isSecretInput(chart.inputs.values), `${chart.name}'s values are a secret`);
            assert.strictEqual(plain(chart.inputs.values).kiali.token, TOKEN, "and hold the value");
            assertNoSecret(inClear(r));
        });
    }
    it("keeps the east-west gateway's values secret when eastWestGatewayValues is, and the other charts' plain", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ISTIOD_PRIMARY, eastWestGateway: "true",
            eastWestGatewayValues: { service: { annotations: { "example.com/token": TOKEN } } } }, secretKeys: ["eastWestGatewayValues"] });
        assert.ifError(r.error);
        assert.deepStrictEqual(charts(r.resources).map((c) => [c.name, isSecretInput(c.inputs.values)]),
            [["istio", false], ["istio-istiod", false], ["istio-istio-eastwestgateway", true]]);
        assertNoSecret(inClear(r));
    });
    it("leaves plain values plain, so that a preview shows their diff", async () => {
        const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, values: { kiali: { token: "not-a-secret" } } } });
        assert.ifError(r.error);
        assert.ok(!isSecretInput(charts(r.resources)[0].inputs.values));
    });
});

describe("redactSecrets", () => {
    it("hides a value as written, JSON-escaped, and line by line", () => {
        const escaped = JSON.stringify(PEM_KEY);
        assert.strictEqual(redactSecrets(`a ${escaped} b`, [PEM_KEY]), `a "[secret]" b`);
        assert.strictEqual(redactSecrets("line MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7 here", [PEM_KEY]), "line [secret] here");
        assert.strictEqual(redactSecrets(`token ${TOKEN}.`, [TOKEN]), "token [secret].");
    });
    it("hides a token quoted without the rest of its kubeconfig line", () => {
        const kubeconfig = `apiVersion: v1\nusers:\n- name: a\n  user: {token: ${TOKEN}}\n`;
        assert.strictEqual(redactSecrets(`bad token "${TOKEN}" for context a`, [kubeconfig]), `bad token "[secret]" for context a`);
        assert.strictEqual(redactSecrets("namespace istio-system, user a", [kubeconfig]), "namespace istio-system, user a");
    });
    it("leaves the bare keys of a secret YAML document alone (`cluster:` is in every config key's name)", () => {
        const kubeconfig = `clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1\nusers:\n- name: u\n  user:\n    token: ${TOKEN}\n`;
        assert.strictEqual(redactSecrets(`istio-multicluster:kubeContext: bad token ${TOKEN}`, [kubeconfig]),
            "istio-multicluster:kubeContext: bad token [secret]");
    });
    it("leaves short lines and other text alone", () => {
        assert.strictEqual(redactSecrets("a } b", ["x\n}\n"]), "a } b");
        assert.strictEqual(redactSecrets("nothing secret", [TOKEN]), "nothing secret");
    });
});

describe("the repository", () => {
    it("commits no private key: the demo's and tests' CA material is made on each machine", () => {
        const { execFileSync } = require("child_process") as typeof import("child_process");
        const crypto = require("crypto") as typeof import("crypto");
        const fs = require("fs") as typeof import("fs");
        const path = require("path") as typeof import("path");
        const root = path.resolve(__dirname, "..", "..");
        const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0").filter((f) => f.length > 0);
        assert.ok(files.length > 50, `git lists ${files.length} files`);
        const keys = files.flatMap((file) => {
            const full = path.join(root, file);
            if (!fs.existsSync(full) || fs.statSync(full).size > 1_000_000) {
                return [];
            }
            const blocks = fs.readFileSync(full, "utf8").match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [];
            // A key that parses is a key; the truncated ones these tests quote as secrets do not.
            return blocks.filter((block) => {
                try {
                    crypto.createPrivateKey(block);
                    return true;
                } catch {
                    return false;
                }
            }).map(() => file);
        });
        assert.deepStrictEqual(keys, []);
    });
});
