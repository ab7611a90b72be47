import * as assert from "assert";
import { Istio10PrimaryConfig, Istio10RemoteConfig } from "../../lib/config/config";
import { CONFIG_KEYS } from "../../lib/config/configKeys";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, tiedTo } from "../../lib/config/errors";
import { redactingSecrets } from "../../lib/config/redaction";
import { parseConfig as parse, ROLE_CONFIG, ROOT, setStackConfig } from "./harness";

function rejects(config: Record<string, unknown>, key: string, message: RegExp, secretKeys: string[] = []): void {
    assert.throws(() => parse(config, secretKeys), (err: Error) => {
        assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
        assert.strictEqual(err.key, key);
        assert.match(err.message, message);
        assert.match(err.message, /Fix: /);
        return true;
    });
}

describe("stack config", () => {
    describe("defaults", () => {
        const primary = parse({ role: "primary", kubeContext: "primary", chartDir: "tests/fixtures/charts" }) as Istio10PrimaryConfig;

        it("installs into istio-system with the template route", () => {
            assert.strictEqual(primary.istioNamespace, "istio-system");
            assert.strictEqual(primary.installMethod, "template");
        });
        it("labels the default namespace and keeps the webhook on", () => {
            assert.deepStrictEqual(primary.injectionNamespaces, ["default"]);
            assert.strictEqual(primary.sidecarInjector, true);
        });
        it("uses a self-signed CA with security switches off and pod IP exposure", () => {
            assert.deepStrictEqual(primary.security, { controlPlaneSecurityEnabled: false, mtlsEnabled: false, selfSignedCa: true });
            assert.strictEqual(primary.endpointExposure, "podIP");
            assert.strictEqual(primary.envoyStatsd, true);
        });
        it("names a remote after its stack", () => {
            const remote = parse({ ...ROLE_CONFIG.remote }, [], "remote-b") as Istio10RemoteConfig;
            assert.strictEqual(remote.clusterName, "remote-b");
        });
        it("leaves a remote's security switches to the primary when unset", () => {
            const { controlPlaneSecurityEnabled: _a, mtls: _b, selfSignedCa: _c, ...rest } = ROLE_CONFIG.remote;
            const remote = parse(rest) as Istio10RemoteConfig;
            assert.deepStrictEqual(remote.security, { controlPlaneSecurityEnabled: undefined, mtlsEnabled: undefined, selfSignedCa: undefined });
        });
    });

    describe("Istio 1.0's secure example (Pulumi.primary.yaml, Pulumi.remote-a.yaml)", () => {
        it("reads the cacerts directory and checks it", () => {
            const primary = parse(ROLE_CONFIG.primary) as Istio10PrimaryConfig;
            assert.match(primary.caBundle!.caKey, /PRIVATE KEY/);
        });
        it("reads the remote's mirror lists as namespace/name pairs", () => {
            const remote = parse({ ...ROLE_CONFIG.remote, mirrorServices: { fromPrimary: ["default/reviews"], toPrimary: ["bookinfo/ratings"] } }) as Istio10RemoteConfig;
            assert.deepStrictEqual(remote.mirrorServices, {
                fromPrimary: [{ namespace: "default", name: "reviews" }], toPrimary: [{ namespace: "bookinfo", name: "ratings" }],
            });
        });
    });

    describe("a key where its model and role have no use for it is refused, not ignored", () => {
        const PR_PRIMARY = { role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: "tests/fixtures/istiod-charts",
            discoveryAddress: "istiod.mesh.example" };
        const PR_REMOTE = { role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", chartDir: "tests/fixtures/istiod-charts",
            primaryStack: "organization/istio-multicluster/primary", primaryKubeContext: "primary" };
        const MP_REMOTE = { ...PR_REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" } };
        it("apiServerAddress and sameHostControlPlanes on a primary-remote primary, which no other cluster reads", () => {
            rejects({ ...PR_PRIMARY, apiServerAddress: "192.0.2.2:6443" }, "apiServerAddress",
                /belongs to the remote stack of the primary-remote model, and this stack's role is primary \(no other cluster's control plane reads this one's API server\)/);
            rejects({ ...PR_PRIMARY, sameHostControlPlanes: "true" }, "sameHostControlPlanes", /belongs to the remote stack of the primary-remote model/);
        });
        it("mirrorServices on an istiod model's remote", () => {
            rejects({ ...PR_REMOTE, mirrorServices: { fromPrimary: ["default/a"] } }, "mirrorServices",
                /applies to the istio-1\.0 model, and this stack's meshModel is primary-remote \(today's Istio resolves remote services itself\)/);
        });
        it("selfSignedCa on a multi-primary cluster or a primary-remote remote", () => {
            rejects({ ...MP_REMOTE, selfSignedCa: "false" }, "selfSignedCa", /applies to the istio-1\.0 and primary-remote models/);
            rejects({ ...PR_REMOTE, selfSignedCa: "true" }, "selfSignedCa", /belongs to the primary stack of the primary-remote model/);
        });
        it("gives an istiod primary no Istio 1.0 fields, and each model only its own", () => {
            const primary = parse(PR_PRIMARY);
            assert.deepStrictEqual(Object.keys(primary).filter((k) => ["security", "endpointExposure", "envoyStatsd", "apiServerAddress", "peers"].includes(k)), []);
            const peer = parse(MP_REMOTE);
            assert.ok(peer.meshModel === "multi-primary" && peer.role === "remote");
            assert.deepStrictEqual([Array.isArray(peer.peers), "mirrorServices" in peer, "security" in peer], [true, false, false]);
        });
    });

    describe("bad input", () => {
        it("rejects an unknown role", () => {
            rejects({ ...ROLE_CONFIG.primary, role: "secondary" }, "role", /= "secondary": must be one of primary, remote/);
        });
        it("rejects a missing role", () => {
            rejects({ kubeContext: "x" }, "role", /is not set/);
        });
        it("rejects a stack without a cluster to talk to", () => {
            const { kubeContext: _, ...rest } = ROLE_CONFIG.primary;
            rejects(rest, "kubeContext", /needs kubeContext or kubeconfig/);
        });
        it("rejects a key of the other role", () => {
            rejects({ ...ROLE_CONFIG.primary, primaryStack: "x" }, "primaryStack", /belongs to the remote stack/);
            rejects({ ...ROLE_CONFIG.remote, endpointExposure: "podIP" }, "endpointExposure", /belongs to the primary stack/);
        });
        it("rejects a key it does not know, listing the known ones", () => {
            rejects({ ...ROLE_CONFIG.primary, mtlsEnabled: "true" }, "mtlsEnabled", /is not a key this program knows.*use one of: role,/);
        });
        it("names no Istio 1.0 primary, so its stack name may be anything Pulumi takes", () => {
            assert.strictEqual(parse({ ...ROLE_CONFIG.primary }, [], "primary_eu").role, "primary");
        });
        it("checks the cluster name of an istiod-model primary, which names it in the mesh", () => {
            assert.throws(() => parse({ role: "primary", meshModel: "multi-primary", kubeContext: "primary", chartDir: "tests/fixtures/istiod-charts",
                cacerts: { dir: "tests/fixtures/certs/mesh/primary" } }, [], "primary_eu"), /clusterName = "primary_eu": .*DNS-1123/);
        });
        it("rejects a cluster name with an underscore, suggesting a valid one", () => {
            rejects({ ...ROLE_CONFIG.remote, clusterName: "remote_a" }, "clusterName", /= "remote_a": .*DNS-1123.*clusterName remote-a/);
        });
        it("rejects an API server address that is neither an IP nor a DNS name", () => {
            rejects({ ...ROLE_CONFIG.remote, apiServerAddress: "https://api_server:6443" }, "apiServerAddress", /neither an IP address nor a DNS name/);
        });
        it("accepts API server addresses with scheme, port or IPv6 brackets", () => {
            for (const address of ["10.0.0.3", "10.0.0.3:6443", "https://api.example.com", "https://[fd00::3]:6443"]) {
                assert.strictEqual((parse({ ...ROLE_CONFIG.remote, apiServerAddress: address }) as Istio10RemoteConfig).apiServerAddress, address);
            }
        });
        it("rejects a malformed CIDR", () => {
            rejects({ ...ROLE_CONFIG.primary, podCidr: "10.10.0.0/40" }, "podCidr", /is not a CIDR range/);
        });
        it("rejects a stack whose own service range overlaps its pod range", () => {
            rejects({ ...ROLE_CONFIG.primary, serviceCidr: "10.10.128.0/20" }, "serviceCidr", /overlaps this stack's podCidr 10\.10\.0\.0\/16/);
        });
        it("rejects an unknown install method", () => {
            rejects({ ...ROLE_CONFIG.remote, installMethod: "tiller" }, "installMethod", /must be one of template, release/);
        });
        it("rejects a chart directory without the istio charts", () => {
            rejects({ ...ROLE_CONFIG.primary, chartDir: "tests" }, "chartDir", /has no istio\/Chart\.yaml/);
        });
        it("rejects a chart repository without a version", () => {
            const { chartDir: _, ...rest } = ROLE_CONFIG.primary;
            rejects({ ...rest, chartRepo: "https://charts.example.com" }, "chartVersion", /needs a chart version/);
        });
        it("rejects selfSignedCa=false without cacerts", () => {
            const { cacerts: _, ...rest } = ROLE_CONFIG.primary;
            rejects(rest, "cacerts", /Citadel needs the `cacerts` secret/);
        });
        it("rejects a cacerts directory that does not exist", () => {
            rejects({ ...ROLE_CONFIG.primary, cacerts: { dir: "no/such/dir" } }, "cacerts.dir", /does not exist/);
        });
        it("rejects a plaintext kubeconfig", () => {
            rejects({ ...ROLE_CONFIG.primary, kubeconfig: "apiVersion: v1" }, "kubeconfig", /stored in plain text.*--secret kubeconfig/);
        });
        it("accepts a kubeconfig stored as a secret", () => {
            const cfg = parse({ ...ROLE_CONFIG.primary, kubeconfig: "apiVersion: v1" }, ["kubeconfig"]);
            assert.strictEqual(cfg.cluster.kubeconfig, "apiVersion: v1");
        });
        it("rejects CA key material given inline in plain text", () => {
            rejects({ ...ROLE_CONFIG.primary, cacerts: { caCert: "x", caKey: "y", rootCert: "z", certChain: "w" } }, "cacerts", /plain text/);
        });
        it("accepts CA material given inline as a secret, and checks it like a directory", () => {
            const read = (f: string) => require("fs").readFileSync(`${ROOT}/tests/fixtures/certs/mesh/remote-a/${f}`, "utf8");
            const inline = { caCert: read("ca-cert.pem"), caKey: read("ca-key.pem"), rootCert: read("root-cert.pem"), certChain: read("cert-chain.pem") };
            const cfg = parse({ ...ROLE_CONFIG.primary, cacerts: inline }, ["cacerts"]) as Istio10PrimaryConfig;
            assert.strictEqual(cfg.caBundle!.caKey, inline.caKey);
            rejects({ ...ROLE_CONFIG.primary, cacerts: { ...inline, caKey: read("ca-cert.pem") } }, "cacerts", /ca-key\.pem is not a PEM private key/, ["cacerts"]);
        });
        it("rejects a namespace list entry that is not a namespace name", () => {
            rejects({ ...ROLE_CONFIG.remote, injectionNamespaces: ["default", "Book_Info"] }, "injectionNamespaces", /"Book_Info" is not a valid namespace name/);
        });
        it("rejects a mirrored service that is not namespace/name", () => {
            rejects({ ...ROLE_CONFIG.remote, mirrorServices: { fromPrimary: ["reviews"] } }, "mirrorServices.fromPrimary", /not a service reference/);
        });
        it("rejects a service mirrored in both directions", () => {
            rejects({ ...ROLE_CONFIG.remote, mirrorServices: { fromPrimary: ["default/a"], toPrimary: ["default/a"] } }, "mirrorServices", /both directions/);
        });
        it("rejects a boolean that is not true or false", () => {
            rejects({ ...ROLE_CONFIG.primary, mtls: "yes" }, "mtls", /must be true or false/);
        });
        it("rejects a remote without its primary stack", () => {
            const { primaryStack: _, ...rest } = ROLE_CONFIG.remote;
            rejects(rest, "primaryStack", /must know its primary stack/);
        });
    });

    describe("explicit values", () => {
        it("count as set even when they equal the default (a remote's mtls: false stays false)", () => {
            const remote = parse({ ...ROLE_CONFIG.remote, mtls: "false", selfSignedCa: "true" }) as Istio10RemoteConfig;
            assert.deepStrictEqual([remote.security.mtlsEnabled, remote.security.selfSignedCa], [false, true]);
        });
        it("of another role are refused even when they equal the default", () => {
            rejects({ ...ROLE_CONFIG.primary, remotePilotCreateSvcEndpoint: "false" }, "remotePilotCreateSvcEndpoint",
                /belongs to the remote stack, and this stack's role is primary/);
        });
    });

    it("documents every key, and only those, in the README's configuration reference", () => {
        const fs = require("fs") as typeof import("fs");
        const readme = fs.readFileSync(`${ROOT}/README.md`, "utf8");
        const table = readme.slice(readme.indexOf("## Configuration reference"));
        const rows = table.slice(0, table.indexOf("\n\n", table.indexOf("| key |"))).split("\n").filter((l) => l.startsWith("| `"));
        const documented = rows.flatMap((row) => [...row.split("|")[1].matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]));
        assert.deepStrictEqual([...new Set(documented)].sort(), [...CONFIG_KEYS].sort());
    });
    it("declares no key in Pulumi.yaml, whose defaults Pulumi would fill into every stack", () => {
        const fs = require("fs") as typeof import("fs");
        const yaml = require("js-yaml") as typeof import("js-yaml");
        const project = yaml.load(fs.readFileSync(`${ROOT}/Pulumi.yaml`, "utf8")) as { config?: unknown };
        assert.strictEqual(project.config, undefined);
    });
});

describe("errors whose stack Pulumi does not print", () => {
    // Pulumi formats every uncaught error with util.inspect for its trace; a stack through the SDK's
    // source-mapped files makes that run for seconds, so these errors carry their first line alone.
    const stackFrames = (err: Error) => (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l));

    it("a ConfigError has no stack frames", () => {
        assert.deepStrictEqual(stackFrames(new ConfigError("clusterName", "remote_a", "not a DNS-1123 label", "rename it")), []);
    });
    it("neither has a ResourceError about a value the cluster reported, which hides its stack", () => {
        const resource = { __pulumiResource: true } as unknown as pulumi.Resource;
        assert.throws(() => tiedTo(resource, () => { throw new Error("no ready pod"); }), (err: pulumi.ResourceError) => {
            assert.deepStrictEqual(stackFrames(err), []);
            assert.strictEqual(err.hideStack, true);
            return true;
        });
    });
    it("neither has the RunError that a redacted message is re-raised as", async () => {
        const secret = "s3cr3t-token-0123456789abcdef";
        setStackConfig({ kubeconfig: secret }, ["kubeconfig"]);
        await assert.rejects(redactingSecrets(async () => { throw new Error(`bad ${secret}`); }), (err: Error) => {
            assert.strictEqual(err.message, "bad [secret]");
            assert.deepStrictEqual(stackFrames(err), []);
            return true;
        });
    });
});
