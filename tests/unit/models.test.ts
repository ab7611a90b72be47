import * as assert from "assert";
import * as yaml from "js-yaml";
import { PEER_OUTPUTS } from "../../lib/stacks/primary";
import { destroyRefusal, foreignRegistration } from "../../lib/kube/registration";
import { istiodCharts, istiodValues, remoteIstiodValues, webhookHostValues } from "../../lib/istio/istiod";
import { hostOf, withPort } from "../../lib/config/net";
import { assertAppliesAsStack, assertGuardsControlPlane, awaitedServices, ISTIO_MULTI_TOKEN, ofType, plain, Registered, ROLE_CONFIG, ROOT, runProgram } from "./harness";
import { chartsOf } from "../../lib/istio/charts";
import { MeshModel, Role } from "../../lib/config/config";
import { certificateFingerprint, readCaDirectory } from "../../lib/ca/pki";
import * as path from "path";

const CHARTS = "tests/fixtures/istiod-charts";
const PRIMARY_PROVIDER = /pulumi:providers:kubernetes::primary::/;
const REMOTE_PROVIDER = /pulumi:providers:kubernetes::remote-a::/;

const PRIMARY_REMOTE = {
    role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: CHARTS,
    cacerts: { dir: "tests/fixtures/certs/mesh/primary" },
    discoveryAddress: "istiod.mesh.example", injectionAddress: "192.0.2.10",
    podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16",
};
const REMOTE = {
    role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", chartDir: CHARTS,
    primaryStack: "organization/istio-multicluster/primary", primaryKubeContext: "primary",
    apiServerAddress: "https://192.0.2.3:6443", podCidr: "10.20.0.0/16", serviceCidr: "10.120.0.0/16",
};
/** What a primary-remote primary exports. */
const PRIMARY_REMOTE_OUTPUTS = {
    meshModel: "primary-remote", meshID: "mesh1", clusterName: "primary", network: "network1", istioNamespace: "istio-system",
    discoveryAddress: "istiod.mesh.example", injectionAddress: "192.0.2.10", podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16",
};
const meshRootFingerprint = certificateFingerprint(readCaDirectory(path.join(ROOT, "tests/fixtures/certs/mesh/root")).rootCert!);
const READER_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: primary, user: {token: primary-reader-token}}]\n";
const MULTI_PRIMARY_OUTPUTS = {
    meshModel: "multi-primary", meshID: "mesh1", clusterName: "primary", network: "network1", istioNamespace: "istio-system",
    readerKubeconfig: READER_KUBECONFIG,
};

function charts(resources: Registered[]): Record<string, Registered> {
    return Object.fromEntries(ofType(resources, "kubernetes:helm.sh/v4:Chart").map((c) => [c.inputs.chart.split("/").pop(), c]));
}
function secretNamed(resources: Registered[], name: string): Registered | undefined {
    return ofType(resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === name);
}
async function failsBeforeRegistering(opts: Parameters<typeof runProgram>[0], message: RegExp): Promise<void> {
    const r = await runProgram(opts);
    assert.ok(r.error, "the program should fail");
    assert.match(r.error.message, message);
    assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")).map((x) => x.type), [],
        "nothing may be registered before the check");
}

describe("PrimaryRemoteControlPlane (meshModel primary-remote, the primary)", () => {
    let run: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        run = await runProgram({ stack: "primary", config: PRIMARY_REMOTE });
        assert.ifError(run.error);
    });

    it("installs Istio's base chart, then istiod, from chartDir", () => {
        const c = charts(run.resources);
        assert.match(c.base.inputs.chart, /istiod-charts\/base$/);
        assert.match(c["istio-discovery"].inputs.chart, /istiod-charts\/istio-control\/istio-discovery$/);
        assert.ok(c["istio-discovery"].dependsOn.includes(`kubernetes:helm.sh/v4:Chart::${c.base.name}`), "istiod waits for base (Istio's CRDs)");
    });
    it("gives istiod the mesh identity and marks it as serving other clusters (global.externalIstiod)", () => {
        const g = charts(run.resources)["istio-discovery"].inputs.values.global;
        assert.deepStrictEqual([g.meshID, g.multiCluster.clusterName, g.network, g.externalIstiod], ["mesh1", "primary", "network1", true]);
    });
    it("puts the Istio namespace on its network", () => {
        const [ns] = ofType(run.resources, "kubernetes:core/v1:Namespace");
        assert.strictEqual(ns.inputs.metadata.labels["topology.istio.io/network"], "network1");
    });
    it("plugs in the configured CA as the cacerts secret", () => {
        const cacerts = secretNamed(run.resources, "cacerts")!;
        assert.match(plain(cacerts.inputs.stringData)["ca-key.pem"], /PRIVATE KEY/);
        assert.match(cacerts.provider!, PRIMARY_PROVIDER);
    });
    it("is guarded against a destroy while clusters are registered, the guard depending on istiod and all", () => {
        const guard = assertGuardsControlPlane(run.resources);
        const c = charts(run.resources);
        assert.ok(guard.dependsOn.includes(`kubernetes:helm.sh/v4:Chart::${c["istio-discovery"].name}`));
    });
    it("names the injection address in istiod's serving certificate (ISTIOD_CUSTOM_HOST), which the remotes' API servers check against the webhook's URL", () => {
        assert.strictEqual(charts(run.resources)["istio-discovery"].inputs.values.pilot.env.ISTIOD_CUSTOM_HOST, "192.0.2.10");
    });
    it("exports what the remotes are rendered with", () => {
        const o = run.outputs!;
        assert.deepStrictEqual([o.meshModel, o.meshID, o.clusterName, o.network, o.discoveryAddress, o.injectionAddress],
            ["primary-remote", "mesh1", "primary", "network1", "istiod.mesh.example", "192.0.2.10"]);
        assert.match(String(o.rootCertFingerprint), /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    });
    it("applies its objects as the stack's own field manager", () =>
        assertAppliesAsStack(run.resources, "istio-multicluster:index:PrimaryRemoteControlPlane", "primary"));
});

describe("PrimaryRemoteMember (meshModel primary-remote, a remote)", () => {
    let run: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        run = await runProgram({ stack: "remote-a", config: REMOTE, primaryOutputs: PRIMARY_REMOTE_OUTPUTS });
        assert.ifError(run.error);
    });

    it("installs base and istiod with the remote profile in remote-a", () => {
        const c = charts(run.resources);
        assert.strictEqual(c.base.inputs.values.profile, "remote");
        assert.strictEqual(c["istio-discovery"].inputs.values.profile, "remote");
        assert.match(c["istio-discovery"].provider!, REMOTE_PROVIDER);
    });
    it("points global.remotePilotAddress at the primary's discovery address", () => {
        assert.strictEqual(charts(run.resources)["istio-discovery"].inputs.values.global.remotePilotAddress, "istiod.mesh.example");
    });
    it("sends injection for remote-a on network1 to the primary's istiod", () => {
        assert.deepStrictEqual(charts(run.resources)["istio-discovery"].inputs.values.istiodRemote, {
            injectionPath: "/inject/cluster/remote-a/net/network1",
            injectionURL: "https://192.0.2.10:15017/inject/cluster/remote-a/net/network1",
        });
    });
    it("inherits the primary's meshID and network and names itself", () => {
        const g = charts(run.resources)["istio-discovery"].inputs.values.global;
        assert.deepStrictEqual([g.meshID, g.network, g.multiCluster.clusterName], ["mesh1", "network1", "remote-a"]);
    });
    it("annotates its Istio namespace with the primary as its control plane cluster", () => {
        const [ns] = ofType(run.resources, "kubernetes:core/v1:Namespace");
        assert.strictEqual(ns.inputs.metadata.annotations["topology.istio.io/controlPlaneClusters"], "primary");
        assert.strictEqual(ns.inputs.metadata.labels["topology.istio.io/network"], "network1");
    });
    it("creates the reader account's token secret as istioctl names it", () => {
        const token = secretNamed(run.resources, "istio-reader-service-account-istio-remote-secret-token")!;
        assert.strictEqual(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "istio-reader-service-account");
        assert.match(token.provider!, REMOTE_PROVIDER);
    });
    it("registers itself in the primary in the form istioctl create-remote-secret writes", () => {
        const secret = secretNamed(run.resources, "istio-remote-secret-remote-a")!;
        assert.match(secret.provider!, PRIMARY_PROVIDER);
        assert.strictEqual(secret.inputs.metadata.namespace, "istio-system");
        assert.deepStrictEqual(secret.inputs.metadata.labels, { "istio/multiCluster": "true" });
        assert.deepStrictEqual(secret.inputs.metadata.annotations, { "networking.istio.io/cluster": "remote-a" });
        assert.deepStrictEqual(Object.keys(plain(secret.inputs.stringData)), ["remote-a"]);
        const kubeconfig = yaml.load(plain(secret.inputs.stringData)["remote-a"]) as any;
        assert.strictEqual(kubeconfig["current-context"], "remote-a");
        assert.deepStrictEqual(kubeconfig.clusters[0], { name: "remote-a", cluster: { "certificate-authority-data": kubeconfig.clusters[0].cluster["certificate-authority-data"], server: "https://192.0.2.3:6443" } });
        assert.deepStrictEqual(kubeconfig.contexts[0], { name: "remote-a", context: { cluster: "remote-a", user: "remote-a" } });
        assert.strictEqual(kubeconfig.users[0].user.token, ISTIO_MULTI_TOKEN);
    });
    it("exports the reader kubeconfig as a secret", () => {
        assert.ok(run.secretOutputs.has("kubeconfig"));
        assert.strictEqual(run.outputs!.remoteSecretName, "istio-remote-secret-remote-a");
    });
    it("applies its objects, its registration in the primary included, as the stack's own field manager", () =>
        assertAppliesAsStack(run.resources, "istio-multicluster:index:PrimaryRemoteMember", "remote-a"));
});

describe("multi-primary", () => {
    it("the first primary exports its reader account's kubeconfig as a secret", async () => {
        const r = await runProgram({ stack: "primary", config: {
            role: "primary", meshModel: "multi-primary", kubeContext: "primary", chartDir: CHARTS,
            apiServerAddress: "192.0.2.2:6443", cacerts: { dir: "tests/fixtures/certs/mesh/primary" },
        } });
        assert.ifError(r.error);
        assert.ok(r.secretOutputs.has("readerKubeconfig"));
        const kubeconfig = yaml.load(String(r.outputs!.readerKubeconfig)) as any;
        assert.strictEqual(kubeconfig.clusters[0].cluster.server, "https://192.0.2.2:6443");
        assert.strictEqual(charts(r.resources)["istio-discovery"].inputs.values.global.externalIstiod, undefined);
        assertGuardsControlPlane(r.resources);
        await assertAppliesAsStack(r.resources, "istio-multicluster:index:MultiPrimaryControlPlane", "primary");
    });

    describe("MultiPrimaryPeer", () => {
        let run: Awaited<ReturnType<typeof runProgram>>;
        before(async () => {
            run = await runProgram({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS, config: {
                ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
            } });
            assert.ifError(run.error);
        });
        it("runs its own istiod (no remote profile) with its own intermediate CA", () => {
            assert.strictEqual(charts(run.resources)["istio-discovery"].inputs.values.profile, undefined);
            assert.ok(secretNamed(run.resources, "cacerts"));
        });
        it("registers itself in the primary", () => {
            assert.match(secretNamed(run.resources, "istio-remote-secret-remote-a")!.provider!, PRIMARY_PROVIDER);
        });
        it("exports what another primary reads of it as a peer", () => {
            for (const output of PEER_OUTPUTS) {
                assert.notStrictEqual(run.outputs![output], undefined, output);
            }
            assert.ok(run.secretOutputs.has("kubeconfig"));
        });
        it("applies its objects, in its peers' clusters too, as the stack's own field manager", () =>
            assertAppliesAsStack(run.resources, "istio-multicluster:index:MultiPrimaryPeer", "remote-a"));
        it("registers each of its peers here and itself there, through the peer's provider", async () => {
            const peerStack = "organization/istio-multicluster/remote-b";
            const r = await runProgram({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
                stackOutputs: { [peerStack]: { meshModel: "multi-primary", meshID: "mesh1", clusterName: "remote-b", istioNamespace: "istio-system", kubeconfig: "remote-b reader" } },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: peerStack, kubeContext: "remote-b" }] } });
            assert.ifError(r.error);
            const registrations = ofType(r.resources, "kubernetes:core/v1:Secret").filter((x) => x.inputs.metadata.name.startsWith("istio-remote-secret-"))
                .map((x) => `${x.inputs.metadata.name} via ${/providers:kubernetes::([^:]+)::/.exec(x.provider!)![1]}`).sort();
            assert.deepStrictEqual(registrations, [
                "istio-remote-secret-primary via remote-a", "istio-remote-secret-remote-a via primary",
                "istio-remote-secret-remote-a via remote-b", "istio-remote-secret-remote-b via remote-a",
            ]);
            const peerSecret = secretNamed(r.resources.filter((x) => /::remote-a::/.test(x.provider ?? "")), "istio-remote-secret-remote-b")!;
            assert.strictEqual(plain(peerSecret.inputs.stringData)["remote-b"], "remote-b reader");
            const provider = ofType(r.resources, "pulumi:providers:kubernetes").find((p) => p.name === "remote-b")!;
            assert.strictEqual(provider.inputs.context, "remote-b");
        });
        it("refuses a peer that is not a primary of this mesh, naming it", () =>
            failsBeforeRegistering({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
                stackOutputs: { "organization/istio-multicluster/remote-b": { meshModel: "multi-primary", meshID: "other", clusterName: "remote-b", istioNamespace: "istio-system", kubeconfig: "k" } },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: "organization/istio-multicluster/remote-b", kubeContext: "remote-b" }] } },
            /istio-multicluster:peers = "organization\/istio-multicluster\/remote-b": it is in mesh "other", this cluster in mesh1/));
        it("reads a peer named by its short stack name from this organization and project", async () => {
            const peer = { meshModel: "multi-primary", meshID: "mesh1", clusterName: "remote-b", istioNamespace: "istio-system", kubeconfig: "k" };
            const r = await runProgram({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
                stackOutputs: { "organization/istio-multicluster/remote-b": peer },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: "remote-b", kubeContext: "remote-b" }] } });
            assert.ifError(r.error);
            assert.ok(secretNamed(r.resources, "istio-remote-secret-remote-b"), "the peer is registered here");
        });
        it("gives a peer called primary a provider of its own when the first primary is called otherwise", async () => {
            const peer = { meshModel: "multi-primary", meshID: "mesh1", clusterName: "primary", istioNamespace: "istio-system", kubeconfig: "k" };
            const r = await runProgram({ stack: "remote-a", primaryOutputs: { ...MULTI_PRIMARY_OUTPUTS, clusterName: "main" },
                stackOutputs: { "organization/istio-multicluster/eu-primary": peer },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: "eu-primary", kubeContext: "eu" }] } });
            assert.ifError(r.error);
            const providers = ofType(r.resources, "pulumi:providers:kubernetes");
            assert.deepStrictEqual(providers.map((p) => [p.name, p.inputs.context]).sort(), [["main", "primary"], ["primary", "eu"], ["remote-a", "remote-a"]]);
            // The first primary's provider was called `primary` whatever its cluster's name: the alias
            // keeps what a stack made through it. The peer's provider, made under its own name, has none.
            assert.deepStrictEqual(providers.map((p) => [p.name, p.aliases]).sort(), [["main", ["primary"]], ["primary", []], ["remote-a", []]]);
        });
        it("refuses two peers of one cluster name, naming the second", () => {
            const peer = { meshModel: "multi-primary", meshID: "mesh1", clusterName: "remote-b", istioNamespace: "istio-system", kubeconfig: "k" };
            return failsBeforeRegistering({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
                stackOutputs: { "organization/istio-multicluster/remote-b": peer, "organization/istio-multicluster/remote-c": peer },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: "organization/istio-multicluster/remote-b", kubeContext: "remote-b" },
                        { stack: "organization/istio-multicluster/remote-c", kubeContext: "remote-c" }] } },
            /istio-multicluster:peers = "organization\/istio-multicluster\/remote-c": its cluster name remote-b is already this cluster's or another primary's/);
        });
        it("refuses a CA of another root than the first primary's", () =>
            failsBeforeRegistering({ stack: "remote-a",
                primaryOutputs: { ...MULTI_PRIMARY_OUTPUTS, rootCertFingerprint: meshRootFingerprint },
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/other/remote-a" } } },
            /istio-multicluster:cacerts = "\[root-cert\.pem\]": its root \(SHA-256 .*\) is not the primary's/));
        it("refuses a peers entry without its context", () =>
            failsBeforeRegistering({ stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
                config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
                    peers: [{ stack: "organization/istio-multicluster/remote-b" }] } },
            /istio-multicluster:peers = .*is not \{stack, kubeContext\}/));
        it("registers the primary in itself with the primary's reader kubeconfig", () => {
            const secret = secretNamed(run.resources, "istio-remote-secret-primary")!;
            assert.match(secret.provider!, REMOTE_PROVIDER);
            assert.strictEqual(plain(secret.inputs.stringData).primary, READER_KUBECONFIG);
        });
    });
});

describe("EastWestGateway (clusters on different networks)", () => {
    const { discoveryAddress: _, ...withoutAddress } = PRIMARY_REMOTE;
    let primary: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        primary = await runProgram({ stack: "primary", config: { ...withoutAddress, eastWestGateway: "true" } });
        assert.ifError(primary.error);
    });
    const customResources = (r: Registered[]) => ofType(r, "kubernetes:networking.istio.io/v1:Gateway")
        .concat(ofType(r, "kubernetes:networking.istio.io/v1:VirtualService")).map((c) => `${c.inputs.kind}/${c.inputs.metadata.name}`);

    it("installs Istio's gateway chart as the network's east-west gateway, after istiod", () => {
        const gateway = charts(primary.resources).gateway;
        assert.deepStrictEqual(gateway.inputs.values.networkGateway, "network1");
        assert.deepStrictEqual(gateway.inputs.values.labels, { istio: "eastwestgateway" });
        assert.strictEqual(gateway.inputs.values.name, "istio-eastwestgateway");
        assert.deepStrictEqual(Object.keys(charts(primary.resources)), ["base", "istio-discovery", "gateway"]);
        assert.ok(gateway.dependsOn.includes(`kubernetes:helm.sh/v4:Chart::${charts(primary.resources)["istio-discovery"].name}`));
    });
    it("asks a chart repository for Istio's charts by their published names: base, istiod, gateway", async () => {
        const { chartDir: _c, ...fromRepo } = withoutAddress;
        const r = await runProgram({ stack: "primary", config: { ...fromRepo, eastWestGateway: "true",
            chartRepo: "https://istio-release.storage.googleapis.com/charts", chartVersion: "1.24.2", installMethod: "release" } });
        assert.ifError(r.error);
        const releases = ofType(r.resources, "kubernetes:helm.sh/v3:Release").map((x) => [x.inputs.name, x.inputs.chart, x.inputs.version]);
        assert.deepStrictEqual(releases, [["base", "base", "1.24.2"], ["istiod", "istiod", "1.24.2"], ["istio-eastwestgateway", "gateway", "1.24.2"]]);
    });
    it("gives the gateway chart the user's images (global.hub and global.tag)", async () => {
        const images = { hub: "registry.example.com/istio", tag: "1.31.0" };
        const r = await runProgram({ stack: "primary", config: { ...withoutAddress, eastWestGateway: "true", values: { global: images } } });
        assert.ifError(r.error);
        const c = charts(r.resources);
        for (const chart of ["base", "istio-discovery", "gateway"]) {
            assert.deepStrictEqual([c[chart].inputs.values.global.hub, c[chart].inputs.values.global.tag], [images.hub, images.tag], chart);
        }
    });
    it("gives the gateway chart the values set for it alone (an internal load balancer's annotation), and refuses them without a gateway", async () => {
        const annotations = { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" };
        const r = await runProgram({ stack: "primary", config: { ...withoutAddress, eastWestGateway: "true",
            values: { global: { tag: "1.31.0" } }, eastWestGatewayValues: { service: { annotations } } } });
        assert.ifError(r.error);
        const c = charts(r.resources);
        assert.deepStrictEqual(c.gateway.inputs.values.service, { annotations });
        assert.strictEqual(c.gateway.inputs.values.global.tag, "1.31.0");
        assert.strictEqual(c["istio-discovery"].inputs.values.service, undefined, "istiod's chart does not get them");
        const derived = await runProgram({ stack: "primary", config: { ...withoutAddress, eastWestGateway: "true",
            eastWestGatewayValues: { networkGateway: "other" } } });
        assert.match(derived.error?.message ?? "", /^istio-multicluster:eastWestGatewayValues\.networkGateway = "other": this chart value is derived/);
        const unused = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, eastWestGatewayValues: { service: { annotations } } } });
        assert.match(unused.error?.message ?? "", /^istio-multicluster:eastWestGatewayValues = .*: is set, but this cluster has no east-west gateway/);
    });
    it("opens 15443 to other networks and exposes istiod's 15012 and 15017 through it", () => {
        assert.deepStrictEqual(customResources(primary.resources), ["Gateway/cross-network-gateway", "Gateway/istiod-gateway", "VirtualService/istiod-vs"]);
        const [cross] = ofType(primary.resources, "kubernetes:networking.istio.io/v1:Gateway");
        assert.deepStrictEqual(cross.inputs.spec.servers[0].port, { number: 15443, name: "tls", protocol: "TLS" });
        assert.strictEqual(cross.inputs.spec.servers[0].tls.mode, "AUTO_PASSTHROUGH");
    });
    it("has its Gateways and VirtualService deleted at once (they own nothing), not through the garbage collector's foreground pass", () => {
        for (const resource of primary.resources.filter((r) => r.type.startsWith("kubernetes:networking.istio.io/"))) {
            assert.strictEqual(resource.inputs.metadata.annotations?.["pulumi.com/deletionPropagationPolicy"], "background", resource.name);
        }
    });
    it("gives the remotes the gateway's load balancer address as the discovery address", () => {
        assert.strictEqual(primary.outputs!.eastWestGatewayAddress, "203.0.113.7");
        assert.strictEqual(primary.outputs!.discoveryAddress, "203.0.113.7");
    });
    it("awaits the gateway's Service, whose load balancer address it reads, and none of istiod's", () => {
        const c = charts(primary.resources);
        assert.deepStrictEqual([awaitedServices(c.base), awaitedServices(c["istio-discovery"]), awaitedServices(c.gateway)],
            [["istio-eastwestgateway"], ["istio-eastwestgateway"], ["istio-eastwestgateway"]]);
    });
    it("reads no gateway address in the preview of a first install", async () => {
        const r = await runProgram({ stack: "primary", preview: true, config: { ...withoutAddress, eastWestGateway: "true" } });
        assert.ifError(r.error);
        assert.deepStrictEqual(ofType(r.resources, "kubernetes:core/v1:Service").filter((s) => s.readId), []);
    });
    it("reads no gateway address in the preview that adds the gateway to a deployed stack, and reads it once a deployment made it", async () => {
        const deployed = { meshModel: "primary-remote", clusterName: "primary" };
        const adding = await runProgram({ stack: "primary", preview: true, previousOutputs: deployed,
            config: { ...withoutAddress, eastWestGateway: "true" } });
        assert.ifError(adding.error);
        assert.deepStrictEqual(ofType(adding.resources, "kubernetes:core/v1:Service").filter((s) => s.readId), []);
        const again = await runProgram({ stack: "primary", preview: true, previousOutputs: { ...deployed, eastWestGatewayAddress: "203.0.113.7" },
            config: { ...withoutAddress, eastWestGateway: "true" } });
        assert.ifError(again.error);
        assert.deepStrictEqual(ofType(again.resources, "kubernetes:core/v1:Service").filter((s) => s.readId).map((s) => s.readId),
            ["istio-system/istio-eastwestgateway"]);
    });
    it("names a host name the gateway's load balancer gave (EKS) in istiod's serving certificate once a deployment exported it, and warns until then", async () => {
        const host = "a1b2c3.elb.us-east-1.amazonaws.com";
        const customHost = (r: Awaited<ReturnType<typeof runProgram>>) => charts(r.resources)["istio-discovery"].inputs.values.pilot.env.ISTIOD_CUSTOM_HOST;
        const config = { ...withoutAddress, injectionAddress: undefined, eastWestGateway: "true" };
        const first = await runProgram({ stack: "primary", config, loadBalancerHost: host });
        assert.ifError(first.error);
        assert.strictEqual(customHost(first), undefined);
        assert.match(first.warnings.join("\n"), new RegExp(`gave the host name ${host.replace(/\./g, "\\.")}: .* run it once more before remotes join`));
        const next = await runProgram({ stack: "primary", config, loadBalancerHost: host,
            previousOutputs: { meshModel: "primary-remote", clusterName: "primary", eastWestGatewayAddress: host } });
        assert.ifError(next.error);
        assert.strictEqual(customHost(next), host);
        assert.deepStrictEqual(next.warnings.filter((w) => w.includes(host)), []);
        assert.strictEqual(next.outputs!.discoveryAddress, host);
    });
    it("lets a remote with its own gateway join from another network; its gateway does not expose istiod", async () => {
        const r = await runProgram({ stack: "remote-a", primaryOutputs: { ...PRIMARY_REMOTE_OUTPUTS, eastWestGatewayAddress: "203.0.113.7" },
            config: { ...REMOTE, network: "network2", eastWestGateway: "true" } });
        assert.ifError(r.error);
        assert.strictEqual(charts(r.resources).gateway.inputs.values.networkGateway, "network2");
        assert.deepStrictEqual(customResources(r.resources), ["Gateway/cross-network-gateway"]);
        assert.strictEqual(charts(r.resources)["istio-discovery"].inputs.values.istiodRemote.injectionPath, "/inject/cluster/remote-a/net/network2");
        const [ns] = ofType(r.resources, "kubernetes:core/v1:Namespace");
        assert.strictEqual(ns.inputs.metadata.labels["topology.istio.io/network"], "network2");
        assert.strictEqual(r.outputs!.network, "network2");
    });
    it("refuses another network when the primary has no gateway, naming it", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, network: "network2", eastWestGateway: "true" } },
            /istio-multicluster:network = "network2": differs from the primary's \(network1\).* the primary's has none\. Fix: set eastWestGateway to true on the primary's/));
});

describe("the charts a stack installs are the ones its config check looked for", () => {
    const MP = { cacerts: { dir: "tests/fixtures/certs/mesh/primary" }, apiServerAddress: "192.0.2.2:6443" };
    const { discoveryAddress: _, ...viaGateway } = PRIMARY_REMOTE;
    const cases: Array<[MeshModel, Role, boolean, Parameters<typeof runProgram>[0]]> = [
        ["istio-1.0", "primary", false, { stack: "primary", config: ROLE_CONFIG.primary }],
        ["istio-1.0", "remote", false, { stack: "remote-a", config: ROLE_CONFIG.remote }],
        ["primary-remote", "primary", false, { stack: "primary", config: PRIMARY_REMOTE }],
        ["primary-remote", "primary", true, { stack: "primary", config: { ...viaGateway, eastWestGateway: "true" } }],
        ["primary-remote", "remote", false, { stack: "remote-a", config: REMOTE, primaryOutputs: PRIMARY_REMOTE_OUTPUTS }],
        ["multi-primary", "primary", true, { stack: "primary", config: { ...PRIMARY_REMOTE, ...MP, meshModel: "multi-primary",
            discoveryAddress: undefined, injectionAddress: undefined, eastWestGateway: "true" } }],
        ["multi-primary", "remote", false, { stack: "remote-a", primaryOutputs: MULTI_PRIMARY_OUTPUTS,
            config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" } } }],
    ];
    for (const [model, role, gateway, run] of cases) {
        it(`${model}, ${role}${gateway ? ", with an east-west gateway" : ""}`, async () => {
            const r = await runProgram(run);
            assert.ifError(r.error);
            const chartDir = String(run.config.chartDir);
            assert.deepStrictEqual(ofType(r.resources, "kubernetes:helm.sh/v4:Chart").map((c) => c.inputs.chart),
                chartsOf(model, role, gateway).map((c) => path.join(chartDir, c.dir)));
        });
    }
});

describe("bad input for the mesh models fails before anything is registered", () => {
    it("a remote whose meshModel is not its primary's, naming both", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" } } },
            /istio-multicluster:meshModel = "multi-primary": differs from the primary's \(primary-remote\)/));
    it("a remote of the istio-1.0 model under a primary-remote primary", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, meshModel: "istio-1.0", chartDir: "tests/fixtures/charts" } },
            /istio-multicluster:meshModel = "istio-1\.0": differs from the primary's \(primary-remote\)/));
    it("a meshID that is not the primary's", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, meshID: "other" } },
            /istio-multicluster:meshID = "other": differs from the primary's \(mesh1\)/));
    it("a network other than the primary's, without east-west gateways", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, network: "network2" } },
            /istio-multicluster:network = "network2": differs from the primary's \(network1\).*this stack and the primary's have none/));
    it("the primary's own cluster name", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS, config: { ...REMOTE, clusterName: "primary" } },
            /istio-multicluster:clusterName = "primary": is the primary's cluster name/));
    it("a CA on a primary-remote remote, which runs no istiod", () =>
        failsBeforeRegistering({ stack: "remote-a", primaryOutputs: PRIMARY_REMOTE_OUTPUTS,
            config: { ...REMOTE, cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" } } },
        /istio-multicluster:cacerts = .*: belongs to the primary stack of the primary-remote model, and this stack's role is remote \(a primary-remote remote runs no istiod of its own/));
    it("a loopback discovery address", () =>
        failsBeforeRegistering({ stack: "primary", config: { ...PRIMARY_REMOTE, discoveryAddress: "127.0.0.9" } },
            /istio-multicluster:discoveryAddress = "127\.0\.0\.9": is a loopback address/));
    it("a missing discovery address", () => {
        const { discoveryAddress: _, ...config } = PRIMARY_REMOTE;
        return failsBeforeRegistering({ stack: "primary", config }, /istio-multicluster:discoveryAddress is not set/);
    });
    it("a key of the istio-1.0 model (mtls) under primary-remote", () =>
        failsBeforeRegistering({ stack: "primary", config: { ...PRIMARY_REMOTE, mtls: "true" } },
            /istio-multicluster:mtls = "true": applies to the istio-1\.0 model, and this stack's meshModel is primary-remote/));
    it("a multi-primary cluster without a plug-in CA", () =>
        failsBeforeRegistering({ stack: "primary", config: { role: "primary", meshModel: "multi-primary", kubeContext: "primary", chartDir: CHARTS } },
            /istio-multicluster:cacerts is not set: every cluster of a multi-primary mesh runs its own istiod/));
    it("a chartDir without Istio's base chart", () =>
        failsBeforeRegistering({ stack: "primary", config: { ...PRIMARY_REMOTE, chartDir: "tests/fixtures/charts" } },
            /istio-multicluster:chartDir = "tests\/fixtures\/charts": has no base\/Chart\.yaml.*manifests\/charts/));
    it("an unknown model", () =>
        failsBeforeRegistering({ stack: "primary", config: { ...PRIMARY_REMOTE, meshModel: "primary_remote" } },
            /istio-multicluster:meshModel = "primary_remote": must be one of istio-1\.0, primary-remote, multi-primary/));
});

describe("foreignRegistration (a cluster name already registered in the primary)", () => {
    const secrets = [
        { name: "istio-remote-secret-remote-a", annotations: { "networking.istio.io/cluster": "remote-a" }, dataKeys: ["remote-a"] },
        { name: "by-hand", dataKeys: ["remote-b"] },
    ];
    it("finds a secret written by someone else for the name", () => {
        assert.strictEqual(foreignRegistration(secrets, "remote-a", "istio-remote-secret-remote-a", false)?.name, "istio-remote-secret-remote-a");
        assert.strictEqual(foreignRegistration(secrets, "remote-b", "istio-remote-secret-remote-b", true)?.name, "by-hand");
    });
    it("accepts the stack's own secret once the stack has deployed it", () => {
        assert.strictEqual(foreignRegistration(secrets, "remote-a", "istio-remote-secret-remote-a", true), undefined);
    });
    it("accepts a name nobody registered", () => {
        assert.strictEqual(foreignRegistration(secrets, "remote-c", "istio-remote-secret-remote-c", false), undefined);
    });
});

describe("remoteIstiodValues", () => {
    const mesh = { meshID: "m", clusterName: "c1", network: "n1" };
    it("goes through the istiod Service when the primary's discovery address is an IP and it gives no injection address", () => {
        assert.deepStrictEqual(remoteIstiodValues("istio-system", mesh, { discoveryAddress: "10.0.0.5" }).istiodRemote,
            { injectionPath: "/inject/cluster/c1/net/n1" });
    });
    it("calls the webhook on 15017 of a host name (a load balancer's, as EKS reports it), which the ExternalName Service would send to 443", () => {
        const host = "a1b2c3.elb.us-east-1.amazonaws.com";
        assert.deepStrictEqual(remoteIstiodValues("istio-system", mesh, { discoveryAddress: host }).istiodRemote,
            { injectionPath: "/inject/cluster/c1/net/n1", injectionURL: `https://${host}:15017/inject/cluster/c1/net/n1` });
    });
    it("keeps a port the injection address gives, and brackets IPv6", () => {
        assert.strictEqual(withPort("istiod.example:443", 15017), "istiod.example:443");
        assert.strictEqual(withPort("2001:db8::1", 15017), "[2001:db8::1]:15017");
        assert.strictEqual(withPort("[2001:db8::1]:8443", 15017), "[2001:db8::1]:8443");
    });
});

describe("a bare IPv6 address as injectionAddress or apiServerAddress", () => {
    it("is taken whole: the primary names it in istiod's certificate, and a remote calls its webhook at [ADDRESS]:15017", async () => {
        const primary = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, injectionAddress: "2001:db8::1" } });
        assert.ifError(primary.error);
        const istiod = ofType(primary.resources, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith("istio-discovery"))!;
        assert.strictEqual(istiod.inputs.values.pilot.env.ISTIOD_CUSTOM_HOST, "2001:db8::1");
        const remote = await runProgram({ stack: "remote-a", config: REMOTE,
            primaryOutputs: { ...PRIMARY_REMOTE_OUTPUTS, injectionAddress: primary.outputs!.injectionAddress } });
        assert.ifError(remote.error);
        assert.strictEqual(charts(remote.resources)["istio-discovery"].inputs.values.istiodRemote.injectionURL,
            "https://[2001:db8::1]:15017/inject/cluster/remote-a/net/network1");
    });
    it("is the API server the primary's istiod reads a remote at, as https://[ADDRESS]", async () => {
        const r = await runProgram({ stack: "remote-a", config: { ...REMOTE, apiServerAddress: "2001:db8::3" }, primaryOutputs: PRIMARY_REMOTE_OUTPUTS });
        assert.ifError(r.error);
        const secret = ofType(r.resources, "kubernetes:core/v1:Secret").find((x) => x.inputs.metadata.name === "istio-remote-secret-remote-a")!;
        const kubeconfig = yaml.load(plain(secret.inputs.stringData)["remote-a"]) as any;
        assert.strictEqual(kubeconfig.clusters[0].cluster.server, "https://[2001:db8::3]");
    });
});

describe("webhookHostValues", () => {
    const customHost = (values: { istiod: Record<string, any> }) => values.istiod.pilot?.env?.ISTIOD_CUSTOM_HOST as string | undefined;
    it("names the injection address's host in istiod's serving certificate, which the remotes' API servers check against the URL", () => {
        assert.strictEqual(customHost(webhookHostValues({ discoveryAddress: "10.0.0.5", injectionAddress: "192.0.2.7:15017" }, {})), "192.0.2.7");
    });
    it("names a host-name discovery address, which the remotes call by URL too", () => {
        const host = "a1b2c3.elb.us-east-1.amazonaws.com";
        assert.strictEqual(customHost(webhookHostValues({ discoveryAddress: host }, {})), host);
    });
    it("adds nothing when the remotes go through their istiod Service (an IP discovery address), or the address is not known yet", () => {
        const user = { env: { ISTIOD_CUSTOM_HOST: "istiod.corp.example" } };
        assert.deepStrictEqual(webhookHostValues({ discoveryAddress: "10.0.0.5" }, user), { istiod: {}, user });
        assert.deepStrictEqual(webhookHostValues({}, {}), { istiod: {}, user: {} });
    });
    it("keeps the hosts the user set there (env or pilot.env), taking them out of the user's values (the rest of which stay)", () => {
        const user = { env: { ISTIOD_CUSTOM_HOST: "istiod.corp.example,10.1.1.1", OTHER: "x" }, pilot: { a: 1, env: { ISTIOD_CUSTOM_HOST: "b.example" } } };
        const values = webhookHostValues({ injectionAddress: "[2001:db8::1]:15017" }, user);
        assert.strictEqual(customHost(values), "istiod.corp.example,10.1.1.1,b.example,2001:db8::1");
        assert.deepStrictEqual(values.user, { env: { OTHER: "x" }, pilot: { a: 1 } });
    });
    it("sets istiod's environment under pilot.env, which every release of the istiod chart reads (older ones drop a top-level env)", () => {
        assert.deepStrictEqual(webhookHostValues({ injectionAddress: "192.0.2.7" }, {}).istiod, { pilot: { env: { ISTIOD_CUSTOM_HOST: "192.0.2.7" } } });
    });
    it("runs a primary whose values name hosts of their own beside an injection address, with both in istiod's certificate", async () => {
        const r = await runProgram({ stack: "primary", config: { ...PRIMARY_REMOTE, values: { env: { ISTIOD_CUSTOM_HOST: "istiod.corp.example" } } } });
        assert.ifError(r.error);
        const istiod = ofType(r.resources, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart.endsWith("istio-discovery"))!;
        assert.strictEqual(istiod.inputs.values.pilot.env.ISTIOD_CUSTOM_HOST, "istiod.corp.example,192.0.2.10");
    });
    it("takes the host of HOST[:PORT], IPv6 with or without brackets", () => {
        assert.deepStrictEqual(["istiod.example:443", "istiod.example", "2001:db8::1", "[2001:db8::1]:8443", "192.0.2.7:15017"].map(hostOf),
            ["istiod.example", "istiod.example", "2001:db8::1", "2001:db8::1", "192.0.2.7"]);
    });
});

describe("istiodCharts", () => {
    const istiod = [{ values: istiodValues("istio-system", { meshID: "m", clusterName: "c1", network: "n1" }, false) }];
    const policies = (charts: ReturnType<typeof istiodCharts>) =>
        charts.map((c) => (c.values.base as { validationFailurePolicy?: string } | undefined)?.validationFailurePolicy);
    it("leaves the validating webhooks to the charts' fail-open default on a cluster where istiod has not made them fail-closed", () => {
        assert.deepStrictEqual(policies(istiodCharts({}, "istio-system", istiod, false)), [undefined, undefined]);
    });
    it("renders them fail-closed in both charts once istiod has, as the charts do on a Helm upgrade", () => {
        assert.deepStrictEqual(policies(istiodCharts({}, "istio-system", istiod, true)), ["Fail", "Fail"]);
    });
    it("keeps the user's own failure policy", () => {
        const user = { base: { validationFailurePolicy: "Ignore" } };
        assert.deepStrictEqual(policies(istiodCharts(user, "istio-system", istiod, true)), ["Ignore", "Ignore"]);
    });
});

describe("destroyRefusal (the primary's destroy while clusters are registered in it)", () => {
    const secrets = [
        { name: "istio-remote-secret-remote-a", annotations: { "networking.istio.io/cluster": "remote-a" }, dataKeys: ["remote-a"] },
        { name: "remote-b", dataKeys: ["remote-b"] },
    ];
    const server = "https://10.0.0.1:6443";

    it("refuses while clusters are registered, naming them and the ways out", () => {
        const refusal = destroyRefusal({ server, secrets }, "istio-system", {});
        assert.match(refusal ?? "", /^clusters remote-a, remote-b are still registered in the primary \(istio-system\)/);
        assert.match(refusal ?? "", /`mesh down`.*`ISTIO_MC_ORPHAN_REMOTES=true pulumi destroy`/);
    });
    it("lets the destroy go when no cluster is registered", () => {
        assert.strictEqual(destroyRefusal({ server, secrets: [] }, "istio-system", {}), undefined);
    });
    it("lets it go, orphaning them, when ISTIO_MC_ORPHAN_REMOTES=true", () => {
        assert.strictEqual(destroyRefusal({ server, secrets }, "istio-system", { ISTIO_MC_ORPHAN_REMOTES: "true" }), undefined);
    });
    it("refuses when the registrations cannot be read, naming the API server and the cause", () => {
        assert.match(destroyRefusal({ server, problem: "connect ECONNREFUSED" }, "istio-system", {}) ?? "",
            /could not be read at https:\/\/10\.0\.0\.1:6443 \(connect ECONNREFUSED\).*PULUMI_K8S_DELETE_UNREACHABLE=true/);
    });
});
