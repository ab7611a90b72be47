import * as assert from "assert";
import * as path from "path";
import { certificateFingerprint, readCaDirectory } from "../../lib/ca/pki";
import { PRIMARY_OUTPUTS, ROLE_CONFIG, ROOT, runProgram, RunOptions } from "./harness";

/** Runs the program and checks it failed with `message` having registered nothing but `allowed`. */
async function failsBeforeRegistering(opts: RunOptions, message: RegExp, allowed: string[] = []): Promise<void> {
    const r = await runProgram(opts);
    assert.ok(r.error, "the program should fail");
    assert.match(r.error.message, message);
    assert.deepStrictEqual(r.resources.map((x) => x.type), allowed, "nothing may be registered before the check");
}

const rootFingerprint = (dir: string) => certificateFingerprint(readCaDirectory(path.join(ROOT, "tests/fixtures/certs", dir)).rootCert!);

describe("bad input fails at preview with one message and registers nothing", () => {
    it("an unknown role", () =>
        failsBeforeRegistering({ stack: "primary", preview: true, config: { ...ROLE_CONFIG.primary, role: "control-plane" } },
            /^istio-multicluster:role = "control-plane": must be one of primary, remote\. Fix: /));

    it("a missing required key", () =>
        failsBeforeRegistering({ stack: "primary", preview: true, config: { role: "primary", chartDir: "tests/fixtures/charts" } },
            /istio-multicluster:kubeContext is not set: this stack needs kubeContext or kubeconfig/));

    it("a key that belongs to the other role", () =>
        failsBeforeRegistering({ stack: "primary", preview: true, config: { ...ROLE_CONFIG.primary, clusterName: "x" } },
            /istio-multicluster:clusterName = "x": belongs to the remote stack.*pulumi config rm clusterName/));

    it("joining a primary that runs mTLS with a self-signed CA, which would mint a root per cluster", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, primaryOutputs: { ...PRIMARY_OUTPUTS, selfSignedCa: true },
            config: (({ cacerts: _a, selfSignedCa: _b, ...rest }) => rest)(ROLE_CONFIG.remote) },
        /istio-multicluster:selfSignedCa = true: the primary runs mtls with a self-signed CA.*Fix: give the primary and every remote a `cacerts` from one root/,
        ["pulumi:pulumi:StackReference"]));

    it("a loopback API server address, which a primary elsewhere could never reach", async () => {
        for (const address of ["https://127.0.0.3:6443", "[::1]:6443"]) {
            await failsBeforeRegistering({ stack: "remote-a", preview: true,
                config: { ...ROLE_CONFIG.remote, apiServerAddress: address, sameHostControlPlanes: "false" } },
            /istio-multicluster:apiServerAddress = ".*": is a loopback address.*Fix: .*pulumi config set sameHostControlPlanes true/);
        }
    });

    it("a cluster name that is not a DNS-1123 label", () =>
        failsBeforeRegistering({ stack: "remote_b", preview: true, config: { ...ROLE_CONFIG.remote } },
            /istio-multicluster:clusterName = "remote_b": .*DNS-1123 label.*pulumi config set clusterName remote-b/));

    it("an address that is neither an IP nor a DNS name", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: { ...ROLE_CONFIG.remote, apiServerAddress: "10.0.0.300" } },
            /istio-multicluster:apiServerAddress = "10\.0\.0\.300": is neither an IP address nor a DNS name/));

    it("a pod range overlapping the primary's, naming both ranges", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: { ...ROLE_CONFIG.remote, podCidr: "10.10.128.0/17" } },
            /istio-multicluster:podCidr = "10\.10\.128\.0\/17": overlaps the primary's podCidr 10\.10\.0\.0\/16/,
            ["pulumi:pulumi:StackReference"]));

    it("a service range overlapping the primary's pod range", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: { ...ROLE_CONFIG.remote, serviceCidr: "10.10.0.0/24" } },
            /istio-multicluster:serviceCidr = "10\.10\.0\.0\/24": overlaps the primary's podCidr 10\.10\.0\.0\/16/,
            ["pulumi:pulumi:StackReference"]));

    it("a cacerts directory with a missing file", () =>
        failsBeforeRegistering({ stack: "primary", preview: true, config: { ...ROLE_CONFIG.primary, cacerts: { dir: "tests/fixtures/certs/mesh/root" } } },
            /istio-multicluster:cacerts\.dir = "tests\/fixtures\/certs\/mesh\/root": missing ca-cert\.pem, ca-key\.pem, cert-chain\.pem/));

    it("a cacerts directory with a non-PEM file", async () => {
        const { caDirWith } = await import("./pki.test");
        const dir = caDirWith("mesh/primary", { "ca-cert.pem": "not a certificate\n" });
        await failsBeforeRegistering({ stack: "primary", preview: true, config: { ...ROLE_CONFIG.primary, cacerts: { dir } } },
            /istio-multicluster:cacerts\.dir = .*: ca-cert\.pem is not a PEM certificate\. Fix: /);
    });

    it("a CA that does not chain to the remote's root", async () => {
        const { caDirWith } = await import("./pki.test");
        const otherRoot = require("fs").readFileSync(path.join(ROOT, "tests/fixtures/certs/other/root/root-cert.pem"), "utf8");
        const dir = caDirWith("mesh/remote-a", { "root-cert.pem": otherRoot });
        await failsBeforeRegistering({ stack: "remote-a", preview: true, config: { ...ROLE_CONFIG.remote, cacerts: { dir } } },
            /istio-multicluster:cacerts\.dir = .*does not chain to root-cert\.pem/);
    });

    it("a cacerts directory whose three-level chain is broken at the middle level, naming the certificate", async () => {
        const { issuedCa, CA_EXTENSIONS, MESH_ROOT } = await import("./pki.test");
        const fs = require("fs") as typeof import("fs");
        const os = require("os") as typeof import("os");
        const intermediate = issuedCa(MESH_ROOT, "/O=istio-multicluster demo/CN=mesh intermediate", CA_EXTENSIONS);
        const impostor = issuedCa({ cert: path.join(ROOT, "tests/fixtures/certs/other/root/root-cert.pem"),
            key: path.join(ROOT, "tests/fixtures/certs/other/root/root-key.pem") },
        "/O=istio-multicluster demo/CN=mesh intermediate", CA_EXTENSIONS, { key: intermediate.key });
        const cluster = issuedCa(intermediate, "/O=istio-multicluster demo/CN=cluster CA", CA_EXTENSIONS);
        const root = fs.readFileSync(MESH_ROOT.cert, "utf8");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cacerts-"));
        for (const [file, text] of [["ca-cert.pem", cluster.caCert], ["ca-key.pem", cluster.caKey], ["root-cert.pem", root],
            ["cert-chain.pem", cluster.caCert + impostor.caCert + root]]) {
            fs.writeFileSync(path.join(dir, file), text);
        }
        await failsBeforeRegistering({ stack: "primary", preview: true, config: { ...ROLE_CONFIG.primary, cacerts: { dir } } },
            /^istio-multicluster:cacerts\.dir = ".*": cert-chain\.pem is broken at "O=istio-multicluster demo, CN=mesh intermediate": .*\. Fix: /);
    });

    it("a remote CA from another root than the primary's", () =>
        failsBeforeRegistering({
            stack: "remote-a", preview: true,
            config: { ...ROLE_CONFIG.remote, cacerts: { dir: "tests/fixtures/certs/other/remote-a" } },
            primaryOutputs: { ...PRIMARY_OUTPUTS, rootCertFingerprint: rootFingerprint("mesh/root") },
        }, /istio-multicluster:cacerts = "\[root-cert\.pem\]": its root .* is not the primary's/, ["pulumi:pulumi:StackReference"]));

    it("accepts a remote CA from the primary's root", async () => {
        const r = await runProgram({ stack: "remote-a", preview: true, config: ROLE_CONFIG.remote,
            primaryOutputs: { ...PRIMARY_OUTPUTS, rootCertFingerprint: rootFingerprint("mesh/root") } });
        assert.ifError(r.error);
    });

    it("a primary stack that does not exist", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: ROLE_CONFIG.remote, primaryOutputs: "missing" },
            /istio-multicluster:primaryStack = "organization\/istio-multicluster\/primary": no such stack exists; `pulumi stack ls` lists the stacks there are\. Fix: .*point primaryStack at the primary's stack/,
            ["pulumi:pulumi:StackReference"]));

    it("a primary stack with no endpoint outputs", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: ROLE_CONFIG.remote, primaryOutputs: {} },
            /has no endpoint outputs: it has never been deployed\. Fix: run `pulumi up -s primary` first/,
            ["pulumi:pulumi:StackReference"]));

    it("a security switch that differs from the primary's", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: ROLE_CONFIG.remote,
            primaryOutputs: { ...PRIMARY_OUTPUTS, mtlsEnabled: false } },
        /istio-multicluster:mtls = true: differs from the primary's \(false\)/, ["pulumi:pulumi:StackReference"]));

    it("a remote that sets mtls: false under a primary that runs mTLS (an explicit default is a setting)", () =>
        failsBeforeRegistering({ stack: "remote-a", preview: true, config: { ...ROLE_CONFIG.remote, mtls: "false" } },
            /istio-multicluster:mtls = false: differs from the primary's \(true\)/, ["pulumi:pulumi:StackReference"]));

    it("a remote without cacerts joining a primary that uses them", () => {
        const { cacerts: _, ...rest } = ROLE_CONFIG.remote;
        return failsBeforeRegistering({ stack: "remote-a", preview: true, config: rest },
            /istio-multicluster:cacerts is not set: selfSignedCa is false/, ["pulumi:pulumi:StackReference"]);
    });

    it("extra chart values that contradict derived ones", async () => {
        const r = await runProgram({ stack: "remote-a", preview: true,
            config: { ...ROLE_CONFIG.remote, values: { global: { remotePilotAddress: "192.0.2.1" } } } });
        assert.match(r.error!.message, /istio-multicluster:values\.global\.remotePilotAddress = "192\.0\.2\.1": this chart value is derived/);
        assert.ok(!r.resources.some((x) => x.type.startsWith("kubernetes:")), "no Kubernetes object may be registered");
    });

    it("a primary whose pods are not ready fails naming the service and selector", async () => {
        const r = await runProgram({ stack: "primary", preview: true, config: ROLE_CONFIG.primary,
            podIps: { "istio-pilot": undefined }, previousOutputs: PRIMARY_OUTPUTS });
        assert.match(r.error!.message, /service istio-system\/istio-pilot has no ready pod \(selector istio=pilot\)/);
    });
});
