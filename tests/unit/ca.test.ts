import * as assert from "assert";
import * as crypto from "crypto";
import { caChanges, issueCa } from "../../lib/ca/ca";
import { checkCaSwitch, checkRootRotation, DeployedCa, PeerCa } from "../../lib/ca/caRotation";
import { CaGeneration } from "../../lib/config/config";
import { caBundleProblems, certificateFingerprint } from "../../lib/ca/pki";
import { isSecretInput, ofType, parseConfig, plain, Registered, runProgram } from "./harness";

const CHARTS = "tests/fixtures/istiod-charts";
const GENERATE = { generate: true };
const PRIMARY_REMOTE = {
    role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: CHARTS,
    discoveryAddress: "istiod.mesh.example", podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16", ca: GENERATE,
};
const MULTI_PRIMARY = {
    role: "primary", meshModel: "multi-primary", kubeContext: "primary", chartDir: CHARTS,
    apiServerAddress: "192.0.2.2:6443", ca: { generate: true, peers: ["remote-a"] },
};
const PEER = {
    role: "remote", meshModel: "multi-primary", kubeContext: "remote-a", chartDir: CHARTS,
    primaryStack: "organization/istio-multicluster/primary", primaryKubeContext: "primary",
    apiServerAddress: "https://192.0.2.3:6443",
};
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** The data of the `cacerts` secret a run registered, by file name (secret values unwrapped). */
function cacerts(resources: Registered[]): Record<string, string> {
    const secret = ofType(resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "cacerts");
    assert.ok(secret, "a cacerts secret is registered");
    return Object.fromEntries(Object.entries(plain(secret.inputs.stringData) as Record<string, unknown>).map(([file, value]) => [file, plain(value)]));
}

/** The files of a cacerts secret as the bundle the checks read. */
function bundleOf(files: Record<string, string>) {
    return { caCert: files["ca-cert.pem"], caKey: files["ca-key.pem"], rootCert: files["root-cert.pem"], certChain: files["cert-chain.pem"] };
}

/** Every registered input that is not a secret, as text. */
function plainInputs(resources: Registered[]): string {
    return JSON.stringify(resources.map((r) => Object.fromEntries(Object.entries(r.inputs).filter(([, v]) => !isSecretInput(v)))));
}

describe("issueCa", () => {
    it("makes a root and an intermediate signed by it that pass the checks a given cacerts gets", async () => {
        const root = await issueCa({ organization: "test", commonName: "root", validityDays: 3650 });
        const intermediate = await issueCa({ organization: "test", commonName: "remote-a", validityDays: 365, issuer: root });
        assert.deepStrictEqual(caBundleProblems({
            caCert: intermediate.certPem, caKey: intermediate.keyPem, rootCert: root.certPem, certChain: intermediate.certPem + root.certPem,
        }), []);
        const cert = new crypto.X509Certificate(intermediate.certPem);
        assert.ok(cert.ca, "the intermediate may sign");
        assert.ok(cert.verify(new crypto.X509Certificate(root.certPem).publicKey), "the root signed it");
        assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(intermediate.keyPem)));
        assert.strictEqual(cert.serialNumber.toLowerCase().replace(/^0+/, ""), intermediate.serial.replace(/^0+/, ""));
    });

    it("is valid for the days asked, from an hour ago (a cluster whose clock lags still accepts it)", async () => {
        const now = new Date("2026-12-01T12:00:00Z");
        const made = await issueCa({ organization: "test", commonName: "root", validityDays: 10, now });
        const cert = new crypto.X509Certificate(made.certPem);
        assert.strictEqual(new Date(cert.validFrom).toISOString(), "2026-12-01T11:00:00.000Z");
        assert.strictEqual(new Date(cert.validTo).toISOString(), "2026-12-11T12:00:00.000Z");
        assert.strictEqual(made.notAfter, "2026-12-11T12:00:00.000Z");
    });
});

describe("caChanges (when a made CA certificate is made anew)", () => {
    const settings = { organization: "o", commonName: "remote-a intermediate CA", validityDays: 365, renewBeforeDays: 30, rotation: 0, issuerCertPem: "ROOT" };
    const olds = { ...settings, notAfter: "2027-12-01T00:00:00.000Z" };
    const now = new Date("2026-12-01T00:00:00Z");

    it("keeps it when nothing changed", () => {
        assert.deepStrictEqual(caChanges(olds, settings, now), { changes: false, replaces: [] });
    });
    it("makes it anew when its rotation number is raised", () => {
        assert.deepStrictEqual(caChanges(olds, { ...settings, rotation: 1 }, now), { changes: true, replaces: ["rotation"] });
    });
    it("makes it anew when its issuer is another certificate", () => {
        assert.deepStrictEqual(caChanges(olds, { ...settings, issuerCertPem: "NEW ROOT" }, now).replaces, ["issuerCertPem"]);
    });
    it("makes it anew once within renewBeforeDays of expiring", () => {
        assert.deepStrictEqual(caChanges(olds, settings, new Date("2027-10-31T23:59:59Z")).replaces, []);
        assert.deepStrictEqual(caChanges(olds, settings, new Date("2027-11-01T00:00:00Z")).replaces, ["notAfter"]);
    });
    it("never makes a root anew by itself, even expired (a new root is a rotation)", () => {
        const { renewBeforeDays: _none, ...root } = settings;
        assert.deepStrictEqual(caChanges({ ...root, notAfter: "2026-01-01T00:00:00.000Z" }, root, now), { changes: false, replaces: [] });
    });
    it("only updates its settings when the renewal margin alone changes", () => {
        assert.deepStrictEqual(caChanges(olds, { ...settings, renewBeforeDays: 60 }, now), { changes: true, replaces: [] });
    });
});

describe("GeneratedCa (ca.generate on the primary)", () => {
    describe("primary-remote", () => {
        let run: Awaited<ReturnType<typeof runProgram>>;
        before(async () => {
            run = await runProgram({ stack: "primary", config: PRIMARY_REMOTE });
            assert.ifError(run.error);
        });

        it("gives istiod a cacerts secret whose intermediate chains to the root it made", () => {
            assert.deepStrictEqual(caBundleProblems(bundleOf(cacerts(run.resources))), []);
        });
        it("exports the root's fingerprint (which remotes check theirs against) and the intermediate's expiry", () => {
            const files = cacerts(run.resources);
            assert.strictEqual(run.outputs!.rootCertFingerprint, certificateFingerprint(files["root-cert.pem"]));
            assert.strictEqual(run.outputs!.caCertExpiry, new Date(new crypto.X509Certificate(files["ca-cert.pem"]).validTo).toISOString());
            assert.ok(!run.secretOutputs.has("caCertExpiry"));
        });
        it("makes the root once and one intermediate, for this cluster, signed by it", () => {
            const made = ofType(run.resources, "pulumi-nodejs:dynamic:CaCertificate");
            assert.deepStrictEqual(made.map((c) => [c.name, c.inputs.commonName]), [
                ["istio-ca-root", "mesh1 root CA"], ["istio-ca-primary", "primary intermediate CA"],
            ]);
            assert.ok(isSecretInput(made[1].inputs.issuerKeyPem), "the root's key reaches the intermediate as a secret");
        });
        it("runs istiod as a multi-root mesh whose proxies take their trust bundle over xDS, ready for a root rotation", () => {
            const istiod = ofType(run.resources, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith("istio-discovery"))!;
            assert.strictEqual(istiod.inputs.values.pilot.env.ISTIO_MULTIROOT_MESH, "true");
            assert.strictEqual(istiod.inputs.values.meshConfig.defaultConfig.proxyMetadata.PROXY_CONFIG_XDS_AGENT, "true");
        });
        it("registers no private key outside a secret", () => {
            assert.doesNotMatch(plainInputs(run.resources), PEM_KEY);
            assert.doesNotMatch(JSON.stringify(Object.fromEntries(Object.entries(run.outputs!).filter(([k]) => !run.secretOutputs.has(k)))), PEM_KEY);
        });
        it("keeps each made key a secret in the state (the engine's additionalSecretOutputs), and the cacerts files a secret", () => {
            for (const made of ofType(run.resources, "pulumi-nodejs:dynamic:CaCertificate")) {
                assert.deepStrictEqual(made.additionalSecretOutputs, ["keyPem"], made.name);
            }
            const secret = ofType(run.resources, "kubernetes:core/v1:Secret").find((x) => x.inputs.metadata.name === "cacerts")!;
            assert.ok(isSecretInput(secret.inputs.stringData), "the cacerts files reach the engine as a secret");
        });
        it("makes a root valid for 10 years, never renewed by itself, and intermediates for a year, renewed 30 days before they expire", () => {
            const [root, intermediate] = ofType(run.resources, "pulumi-nodejs:dynamic:CaCertificate");
            assert.deepStrictEqual([root.inputs.validityDays, root.inputs.renewBeforeDays], [3650, undefined]);
            assert.deepStrictEqual([intermediate.inputs.validityDays, intermediate.inputs.renewBeforeDays], [365, 30]);
        });
        it("keeps a root's subject and validity as made: a new meshID or ca.rootValidityDays never re-issues a trusted root", () => {
            const [root, intermediate] = ofType(run.resources, "pulumi-nodejs:dynamic:CaCertificate");
            assert.deepStrictEqual([...root.ignoreChanges].sort(), ["commonName", "organization", "validityDays"]);
            assert.deepStrictEqual(intermediate.ignoreChanges, [], "an intermediate is re-issued when its settings change");
        });
        it("exports the fingerprint of each root it trusts, by generation", () => {
            const files = cacerts(run.resources);
            assert.deepStrictEqual(run.outputs!.caRootFingerprints, { 0: certificateFingerprint(files["root-cert.pem"]) });
        });
        it("re-issues a cluster's intermediate when its ca.rotate number is raised, and nothing else", async () => {
            const rotated = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, ca: { generate: true, rotate: { primary: 2 } } } });
            assert.ifError(rotated.error);
            assert.deepStrictEqual(ofType(rotated.resources, "pulumi-nodejs:dynamic:CaCertificate").map((c) => [c.name, c.inputs.rotation]),
                [["istio-ca-root", 0], ["istio-ca-primary", 2]]);
        });
    });

    describe("multi-primary", () => {
        let primary: Awaited<ReturnType<typeof runProgram>>;
        before(async () => {
            primary = await runProgram({ stack: "primary", config: MULTI_PRIMARY });
            assert.ifError(primary.error);
        });

        it("issues an intermediate for each of ca.peers and exports them to the peers as a secret", () => {
            assert.deepStrictEqual(primary.outputs!.caIssuedFor, ["remote-a"]);
            assert.ok(primary.secretOutputs.has("peerCas"));
            const peerCas = primary.outputs!.peerCas as Record<string, any>;
            assert.deepStrictEqual(Object.keys(peerCas), ["remote-a"]);
            assert.deepStrictEqual(caBundleProblems(peerCas["remote-a"]), []);
            const own = bundleOf(cacerts(primary.resources));
            assert.strictEqual(peerCas["remote-a"].rootCert, own.rootCert, "of the one root");
            assert.notStrictEqual(peerCas["remote-a"].caCert, own.caCert, "each cluster its own intermediate");
        });

        it("a peer without cacerts signs with the intermediate the primary issued for it, and never holds the root key", async () => {
            const peerCas = primary.outputs!.peerCas as Record<string, any>;
            const peer = await runProgram({ stack: "remote-a", config: PEER, primaryOutputs: {
                meshModel: "multi-primary", meshID: "mesh1", clusterName: "primary", network: "network1", istioNamespace: "istio-system",
                readerKubeconfig: "primary reader", rootCertFingerprint: primary.outputs!.rootCertFingerprint,
                caIssuedFor: ["remote-a"], peerCas,
            } });
            assert.ifError(peer.error);
            assert.deepStrictEqual(cacerts(peer.resources), {
                "ca-cert.pem": peerCas["remote-a"].caCert, "ca-key.pem": peerCas["remote-a"].caKey,
                "root-cert.pem": peerCas["remote-a"].rootCert, "cert-chain.pem": peerCas["remote-a"].certChain,
            });
            assert.deepStrictEqual(ofType(peer.resources, "pulumi-nodejs:dynamic:CaCertificate"), [], "the peer makes no CA");
            assert.strictEqual(peer.outputs!.caCertExpiry, new Date(new crypto.X509Certificate(peerCas["remote-a"].caCert).validTo).toISOString());
            const rootFingerprint = certificateFingerprint(peerCas["remote-a"].rootCert);
            assert.strictEqual(peer.outputs!.caChainRootFingerprint, rootFingerprint, "the root its chain ends at, which the primary checks before dropping a root");
            assert.deepStrictEqual(peer.outputs!.caTrustedRootFingerprints, [rootFingerprint], "the roots its cluster trusts");
            const keys = JSON.stringify(Object.values(peerCas)).match(/-----BEGIN PRIVATE KEY-----[^-]+/g)!;
            assert.strictEqual(keys.length, 1, "the peers' material holds their intermediates' keys, not the root's");
        });

        it("refuses a peer the primary issues no intermediate for, saying how to add it", async () => {
            const r = await runProgram({ stack: "remote-b", config: { ...PEER, kubeContext: "remote-b" }, primaryOutputs: {
                meshModel: "multi-primary", meshID: "mesh1", clusterName: "primary", network: "network1", istioNamespace: "istio-system",
                readerKubeconfig: "primary reader", caIssuedFor: ["remote-a"], peerCas: {},
            } });
            assert.match(String(r.error?.message), /istio-multicluster:cacerts is not set: .*the primary's CA issues no intermediate for remote-b.*ca\.peers\[1\]' remote-b -s <primary>/);
            assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")), []);
        });
    });
});

describe("root rotation (ca.root, ca.trustRoots)", () => {
    const ca = (root: number, trustRoots: number[], peers: string[] = [], peerStacks: Record<string, string> = {}): CaGeneration => ({
        peers, peerStacks: { ...Object.fromEntries(peers.map((p) => [p, `organization/istio-multicluster/${p}`])), ...peerStacks },
        rotations: {}, rootValidityDays: 3650, intermediateValidityDays: 365, renewBeforeDays: 30, root, trustRoots,
    });
    const noPeers = async () => undefined;
    const check = (config: CaGeneration, deployed: DeployedCa, readPeer: (c: string) => Promise<PeerCa | undefined> = noPeers) =>
        checkRootRotation(config, deployed, readPeer);
    const overlap = { root: 0, trustedRoots: [0, 1], rootFingerprint: "R0", rootFingerprints: { 0: "R0", 1: "R1" } };

    it("accepts each step of the procedure: trust the new root, sign with it, drop the old", async () => {
        await check(ca(0, [1]), { root: 0, trustedRoots: [0], rootFingerprint: "R0" });
        await check(ca(1, [0]), overlap);
        await check(ca(1, []), { root: 1, trustedRoots: [0, 1], rootFingerprint: "R1" });
    });
    it("refuses signing with a root the mesh does not trust yet, and says how to add it", () =>
        assert.rejects(check(ca(1, []), { root: 0, trustedRoots: [0], rootFingerprint: "R0" }),
            /istio-multicluster:ca\.root = 1: root 1 is not trusted in the mesh yet \(it trusts 0\).*set ca\.trustRoots to \[1\] with ca\.root 0/));
    it("refuses signing with the new root before every peer's cluster trusts it, naming the peer's stack", async () => {
        await check(ca(1, [0], ["remote-a"]), overlap, async () => ({ chainRoot: "R0", trustedRoots: ["R0", "R1"] }));
        await assert.rejects(check(ca(1, [0], ["remote-a"]), overlap, async () => ({ chainRoot: "R0", trustedRoots: ["R0"] })),
            /istio-multicluster:ca\.root = 1: signs with root 1, which remote-a does not trust yet.*Fix: run `pulumi up -s organization\/istio-multicluster\/remote-a` first/);
        await assert.rejects(check(ca(1, [0], ["remote-a"]), overlap, async () => undefined),
            /which remote-a could not be confirmed to trust.*ca\.peerStacks\.remote-a <stack>/);
        await assert.rejects(check(ca(1, [0], ["remote-a"]), { ...overlap, rootFingerprints: undefined }, async () => ({ trustedRoots: ["R0", "R1"] })),
            /exported no fingerprint of root 1.*run `pulumi up` on this stack once more with ca\.root 0/);
    });
    it("refuses dropping the root the last deployment signed with", () =>
        assert.rejects(check(ca(1, []), { root: 0, trustedRoots: [0, 1], rootFingerprint: "R0" }),
            /istio-multicluster:ca\.trustRoots = "\[\]": drops root 0, which the intermediates were signed with at the last deployment.*switch first/));
    it("refuses dropping the old root while a peer's deployed intermediate still chains to it, naming the peer", async () => {
        const deployed = { root: 1, trustedRoots: [0, 1], rootFingerprint: "R1" };
        await assert.rejects(check(ca(1, [], ["remote-a"]), deployed, async () => ({ chainRoot: "R0" })),
            /drops root 0, and remote-a's intermediate still chains to it.*run `pulumi up -s organization\/istio-multicluster\/remote-a` first/);
        await assert.rejects(check(ca(1, [], ["remote-a"]), deployed, async () => undefined),
            /remote-a's intermediate could not be confirmed to have moved off it/);
        await check(ca(1, [], ["remote-a"]), deployed, async () => ({ chainRoot: "R1" }));
    });
    it("reads a peer from the stack ca.peerStacks names, when its stack is not named after its cluster", async () => {
        const asked: string[] = [];
        const config = ca(1, [], ["remote-a"], { "remote-a": "organization/istio-multicluster/eu-west" });
        await assert.rejects(check(config, { root: 1, trustedRoots: [0, 1], rootFingerprint: "R1" }, async (peer) => {
            asked.push(peer);
            return { chainRoot: "R0" };
        }), /run `pulumi up -s organization\/istio-multicluster\/eu-west` first/);
        assert.deepStrictEqual(asked, ["remote-a"]);
    });
    it("reads whether a peer trusts the new root from the peer's stack, as ca.peerStacks names it", async () => {
        const switching = { ...MULTI_PRIMARY, ca: { generate: true, peers: ["remote-a"], peerStacks: { "remote-a": "eu-west" }, root: 1, trustRoots: [0] } };
        const previousOutputs = { meshModel: "multi-primary", caRoot: 0, caTrustedRoots: [0, 1], rootCertFingerprint: "R0", caRootFingerprints: { 0: "R0", 1: "R1" } };
        const trusting = { caTrustedRootFingerprints: ["R0", "R1"], caChainRootFingerprint: "R0" };
        const ok = await runProgram({ stack: "primary", config: switching, previousOutputs,
            stackOutputs: { "organization/istio-multicluster/eu-west": trusting } });
        assert.ifError(ok.error);
        const wrongStack = await runProgram({ stack: "primary", config: switching, previousOutputs,
            stackOutputs: { "organization/istio-multicluster/remote-a": trusting } });
        assert.match(String(wrongStack.error?.message), /signs with root 1, which remote-a could not be confirmed to trust/);
    });
    it("takes ca.peerStacks from config, qualified as a stack reference, and refuses one for a cluster that is no peer", () => {
        const peerStacks = (caConfig: Record<string, unknown>) => (parseConfig({ ...MULTI_PRIMARY, ca: caConfig }, [], "primary") as any).generatedCa.peerStacks;
        assert.deepStrictEqual(peerStacks({ generate: true, peers: ["remote-a", "remote-b"], peerStacks: { "remote-b": "eu-west" } }), {
            "remote-a": "organization/istio-multicluster/remote-a", "remote-b": "organization/istio-multicluster/eu-west",
        });
        assert.throws(() => peerStacks({ generate: true, peers: ["remote-a"], peerStacks: { "remote-c": "x" } }),
            /istio-multicluster:ca\.peerStacks\.remote-c = "x": names a cluster that is not one of ca\.peers \(remote-a\)/);
    });
    it("checks nothing at a generated CA's first deployment", () => check(ca(3, [1]), {}));

    it("refuses swapping a deployed primary's CA for another kind in one step, either way", () => {
        const primary = (caConfig?: Record<string, unknown>) => parseConfig({ ...PRIMARY_REMOTE, ca: caConfig }, [], "primary") as any;
        const generated = primary(GENERATE);
        const ownRoot = primary(undefined);
        assert.throws(() => checkCaSwitch(generated, true, { rootFingerprint: "AB:CD" }),
            /istio-multicluster:ca\.generate = true: this primary was deployed with the root of its cacerts \(AB:CD\); a generated CA would replace the mesh's root in one step.*Fix: keep the CA it was deployed with \(remove ca and set cacerts as before\), or take the mesh down/);
        assert.throws(() => checkCaSwitch(generated, true, {}), /deployed with istiod's own self-signed root/);
        assert.throws(() => checkCaSwitch(ownRoot, true, { root: 0, trustedRoots: [0], rootFingerprint: "R0" }),
            /istio-multicluster:ca is not set: this primary's mesh trusts the root the program made \(ca\.generate, root 0\); switching to istiod's own self-signed root/);
        checkCaSwitch(generated, false, {});
        checkCaSwitch(generated, true, { root: 0, trustedRoots: [0], rootFingerprint: "R0" });
        checkCaSwitch(ownRoot, true, { rootFingerprint: "AB:CD" });
    });
    it("refuses ca.generate on a primary deployed with cacerts before anything is registered", async () => {
        const r = await runProgram({ stack: "primary", config: PRIMARY_REMOTE,
            previousOutputs: { meshModel: "primary-remote", rootCertFingerprint: "AB:CD", caCertExpiry: "2030-01-01T00:00:00.000Z" } });
        assert.match(String(r.error?.message), /ca\.generate = true: this primary was deployed with the root of its cacerts/);
        assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")), []);
    });

    it("trusts both roots during the overlap: two roots made, root-cert.pem holds both, the intermediate signed by the signing one", async () => {
        for (const [root, other] of [[0, 1], [1, 0]]) {
            const r = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, ca: { generate: true, root, trustRoots: [other] } } });
            assert.ifError(r.error);
            const made = ofType(r.resources, "pulumi-nodejs:dynamic:CaCertificate");
            assert.deepStrictEqual(made.map((c) => c.name), ["istio-ca-root", "istio-ca-root-1", "istio-ca-primary"]);
            const files = cacerts(r.resources);
            const roots = files["root-cert.pem"].match(/-----BEGIN CERTIFICATE-----/g)!;
            assert.strictEqual(roots.length, 2, "root-cert.pem holds both roots");
            const issuer = made[2].inputs.issuerCertPem;
            assert.strictEqual(issuer, files["cert-chain.pem"].slice(files["ca-cert.pem"].length), "cert-chain.pem ends at the issuing root");
            assert.strictEqual(new crypto.X509Certificate(issuer).subject.split("\n").pop(), root === 0 ? "CN=mesh1 root CA" : "CN=mesh1 root CA 1",
                `root ${root} signs the intermediate`);
            assert.deepStrictEqual([r.outputs!.caRoot, r.outputs!.caTrustedRoots], [root, [0, 1]]);
        }
    });
    it("refuses a step that would drop requests before anything is registered", async () => {
        const r = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, ca: { generate: true, root: 1 } },
            previousOutputs: { meshModel: "primary-remote", caRoot: 0, caTrustedRoots: [0, 1], rootCertFingerprint: "R0" } });
        assert.match(String(r.error?.message), /ca\.trustRoots = "\[\]": drops root 0/);
        assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")), []);
    });
});

describe("ca config: bad input is refused naming the key", () => {
    const refused = (config: Record<string, unknown>, message: RegExp) => assert.throws(() => parseConfig(config, [], "primary"), message);

    it("ca without generate: true", () =>
        refused({ ...PRIMARY_REMOTE, ca: { peers: [] } }, /istio-multicluster:ca\.generate is not set: must be true/));
    it("a setting ca does not have", () =>
        refused({ ...PRIMARY_REMOTE, ca: { generate: true, rootDays: 5 } }, /istio-multicluster:ca\.rootDays = 5: is not a setting of ca/));
    it("ca together with cacerts", () =>
        refused({ ...PRIMARY_REMOTE, cacerts: { dir: "tests/fixtures/certs/mesh/primary" } }, /istio-multicluster:ca = .*: is set together with cacerts/));
    it("ca.peers in a primary-remote mesh", () =>
        refused({ ...PRIMARY_REMOTE, ca: { generate: true, peers: ["remote-a"] } }, /istio-multicluster:ca\.peers = .*a primary-remote mesh's remotes run no istiod/));
    it("a rotation of a cluster the stack issues nothing for", () =>
        refused({ ...MULTI_PRIMARY, ca: { generate: true, peers: ["remote-a"], rotate: { "remote-b": 1 } } },
            /istio-multicluster:ca\.rotate\.remote-b = 1: names a cluster this stack issues no intermediate for \(it issues for primary, remote-a\)/));
    it("a rotation that is not a whole number", () =>
        refused({ ...PRIMARY_REMOTE, ca: { generate: true, rotate: { primary: -1 } } }, /istio-multicluster:ca\.rotate\.primary = -1: must be a whole number/));
    it("a renewal margin as long as the intermediates' validity", () =>
        refused({ ...PRIMARY_REMOTE, ca: { generate: true, intermediateValidityDays: 30, renewBeforeDays: 30 } },
            /istio-multicluster:ca\.renewBeforeDays = 30: is not less than ca\.intermediateValidityDays \(30\)/));
    it("intermediates that outlast the root", () =>
        refused({ ...PRIMARY_REMOTE, ca: { generate: true, rootValidityDays: 100, intermediateValidityDays: 200 } },
            /istio-multicluster:ca\.intermediateValidityDays = 200: outlasts the root \(ca\.rootValidityDays 100\)/));
    it("ca on a remote, where the primary's CA issues", () =>
        assert.throws(() => parseConfig({ ...PEER, ca: GENERATE }), /istio-multicluster:ca = .*: belongs to the primary stack.*list it in the primary's ca\.peers/));
    it("selfSignedCa true together with ca", () =>
        refused({ ...PRIMARY_REMOTE, selfSignedCa: "true" }, /istio-multicluster:selfSignedCa = true: is set together with ca\.generate/));
});
