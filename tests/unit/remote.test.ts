import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import * as yaml from "js-yaml";
import {
    awaitedServices, CLUSTER_CA_DATA, isSecretInput, ISTIO_MULTI_TOKEN, listenOnLoopback, ofType, oneContextKubeconfig, plain, PRIMARY_OUTPUTS,
    Registered, ROLE_CONFIG, ROOT, runProgram,
} from "./harness";
import { readCaDirectory } from "../../lib/ca/pki";

const REMOTE_PROVIDER = /pulumi:providers:kubernetes::remote-a::/;
const PRIMARY_PROVIDER = /pulumi:providers:kubernetes::primary::/;

function chartOf(resources: Registered[]): Registered {
    const [chart] = ofType(resources, "kubernetes:helm.sh/v4:Chart");
    return chart;
}

describe("IstioRemote (a remote stack)", () => {
    let run: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        run = await runProgram({ stack: "remote-a", config: ROLE_CONFIG.remote });
        assert.ifError(run.error);
    });

    describe("the istio-remote chart", () => {
        it("is rendered from the istio-remote chart into the remote's Istio namespace", () => {
            const chart = chartOf(run.resources);
            assert.match(chart.inputs.chart, /charts\/istio-remote$/);
            assert.strictEqual(chart.inputs.namespace, "istio-system");
        });
        it("points global.remotePilotAddress at the primary's pilot", () => {
            assert.strictEqual(chartOf(run.resources).inputs.values.global.remotePilotAddress, PRIMARY_OUTPUTS.pilotAddress);
        });
        it("points remotePolicyAddress, remoteTelemetryAddress and remoteZipkinAddress at the primary's", () => {
            const g = chartOf(run.resources).inputs.values.global;
            assert.deepStrictEqual([g.remotePolicyAddress, g.remoteTelemetryAddress, g.remoteZipkinAddress],
                [PRIMARY_OUTPUTS.policyAddress, PRIMARY_OUTPUTS.telemetryAddress, PRIMARY_OUTPUTS.zipkinAddress]);
        });
        it("sends Envoy's statsd to the primary's statsd bridge", () => {
            assert.deepStrictEqual(chartOf(run.resources).inputs.values.global.proxy.envoyStatsd, { enabled: true, host: PRIMARY_OUTPUTS.statsdAddress });
        });
        it("turns Envoy's statsd off when the primary exports no statsd address", async () => {
            const { statsdAddress: _, ...primaryOutputs } = PRIMARY_OUTPUTS;
            const r = await runProgram({ stack: "remote-a", config: ROLE_CONFIG.remote, primaryOutputs });
            assert.deepStrictEqual(chartOf(r.resources).inputs.values.global.proxy.envoyStatsd, { enabled: false });
        });
        it("creates the pilot service endpoint when configured", () => {
            assert.strictEqual(chartOf(run.resources).inputs.values.global.remotePilotCreateSvcEndpoint, true);
        });
        it("keeps the webhook on by default", () => {
            assert.deepStrictEqual(chartOf(run.resources).inputs.values.sidecarInjectorWebhook, { enabled: true });
        });
        it("runs with the primary's security values", () => {
            const v = chartOf(run.resources).inputs.values;
            assert.deepStrictEqual([v.global.controlPlaneSecurityEnabled, v.global.mtls.enabled, v.security.selfSigned], [true, true, false]);
        });
        it("waits for its Deployments but on none of its Services, which nothing reads", () => {
            assert.deepStrictEqual(awaitedServices(chartOf(run.resources)), []);
        });
        it("is installed as a Helm release, and not rendered, with installMethod release", async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, installMethod: "release" } });
            const [release] = ofType(r.resources, "kubernetes:helm.sh/v3:Release");
            assert.strictEqual(release.inputs.name, "istio-remote");
            assert.strictEqual(release.inputs.namespace, "istio-system");
            assert.strictEqual(release.inputs.values.global.remotePilotAddress, PRIMARY_OUTPUTS.pilotAddress);
            assert.match(release.provider!, REMOTE_PROVIDER);
            assert.strictEqual(ofType(r.resources, "kubernetes:helm.sh/v4:Chart").length, 0);
        });
    });

    it("owns the remote's Istio namespace", () => {
        const [ns] = ofType(run.resources, "kubernetes:core/v1:Namespace");
        assert.strictEqual(ns.inputs.metadata.name, "istio-system");
        assert.match(ns.provider!, REMOTE_PROVIDER);
    });

    it("creates cacerts in the remote from the same root", () => {
        const cacerts = ofType(run.resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "cacerts")!;
        assert.match(cacerts.provider!, REMOTE_PROVIDER);
        assert.ok(isSecretInput(cacerts.inputs.stringData));
        assert.match(plain(cacerts.inputs.stringData)["ca-cert.pem"], /BEGIN CERTIFICATE/);
    });

    describe("injection labels", () => {
        it("labels each configured namespace istio-injection=enabled with a patch that leaves the namespace alone", async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, injectionNamespaces: ["default", "bookinfo"] } });
            const patches = ofType(r.resources, "kubernetes:core/v1:NamespacePatch");
            assert.deepStrictEqual(patches.map((p) => [p.inputs.metadata.name, p.inputs.metadata.labels]).sort(),
                [["bookinfo", { "istio-injection": "enabled" }], ["default", { "istio-injection": "enabled" }]]);
            assert.deepStrictEqual(r.outputs!.injectedNamespaces, ["default", "bookinfo"]);
        });
        it("labels nothing, and says so, when the webhook is off", async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, sidecarInjector: "false" } });
            assert.strictEqual(ofType(r.resources, "kubernetes:core/v1:NamespacePatch").length, 0);
            assert.deepStrictEqual(r.outputs!.injectedNamespaces, []);
        });
    });

    describe("manual injection", () => {
        it("exports the exact istioctl kube-inject command when the webhook is off", async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, sidecarInjector: "false" } });
            assert.strictEqual(chartOf(r.resources).inputs.values.sidecarInjectorWebhook.enabled, false);
            assert.strictEqual(r.outputs!.manualInjectCommand,
                "istioctl kube-inject --context remote-a --istioNamespace istio-system --injectConfigMapName istio-sidecar-injector " +
                "--meshConfigMapName istio -f <manifest.yaml> | kubectl --context remote-a apply -f -");
        });
        it("exports no command while the webhook injects", () => {
            assert.ok(!("manualInjectCommand" in run.outputs!));
        });
    });

    describe("the istio-multi credentials", () => {
        it("creates a token secret for istio-multi, since Kubernetes >= 1.24 makes none", () => {
            const token = ofType(run.resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.type === "kubernetes.io/service-account-token")!;
            assert.strictEqual(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "istio-multi");
            assert.strictEqual(token.inputs.metadata.namespace, "istio-system");
            assert.match(token.provider!, REMOTE_PROVIDER);
        });
        it("keeps the provider's own wait off the token secret (it gives up after five seconds)", () => {
            const token = ofType(run.resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.type === "kubernetes.io/service-account-token")!;
            assert.strictEqual(token.inputs.metadata.annotations["pulumi.com/skipAwait"], "true");
        });
        describe("waits for the token controller itself, reading the secret until it is filled", () => {
            const FILLED_AT_READ = 3;
            const token = "eyJhbGciOiJSUzI1NiJ9.filled-late.signature";
            let reads = 0;
            // The remote's API server: the token secret is empty until the token controller fills it.
            const apiServer = http.createServer((req, res) => {
                reads += req.url === "/api/v1/namespaces/istio-system/secrets/istio-multi-token" ? 1 : 0;
                const filled = reads >= FILLED_AT_READ;
                res.setHeader("content-type", "application/json");
                res.end(JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "istio-multi-token", namespace: "istio-system" },
                    data: filled ? { token: Buffer.from(token).toString("base64"), "ca.crt": CLUSTER_CA_DATA } : {} }));
            });
            const server = listenOnLoopback(apiServer, "http");
            it("builds the kubeconfig from the token once it is there", async () => {
                const { kubeContext: _, ...rest } = ROLE_CONFIG.remote;
                // Plain HTTP: client-node allows it only with TLS verification off.
                const kubeconfig = oneContextKubeconfig({ server: server(), "insecure-skip-tls-verify": true });
                const r = await runProgram({ stack: "remote-a", config: { ...rest, kubeconfig }, secretKeys: ["kubeconfig"], tokensUnfilled: true });
                assert.ifError(r.error);
                assert.strictEqual(reads, FILLED_AT_READ, "it read the secret until it was filled, and no more");
                assert.strictEqual((yaml.load(String(r.outputs!.kubeconfig)) as any).users[0].user.token, token);
            });
        });
        it("fails naming the token secret when the token controller never fills it", async () => {
            const r = await runProgram({ stack: "remote-a", config: ROLE_CONFIG.remote, tokensUnfilled: true });
            assert.match(r.error?.message ?? "", /secret istio-multi-token was not filled by the cluster's token controller within 120s/);
            assert.ok(r.error instanceof pulumi.ResourceError);
        });
        it("exports a kubeconfig with the API server, the cluster CA and the token, as a secret", () => {
            assert.ok(run.secretOutputs.has("kubeconfig"));
            const kc = yaml.load(String(run.outputs!.kubeconfig)) as any;
            assert.strictEqual(kc.clusters[0].cluster.server, "https://127.0.0.3:6443");
            assert.strictEqual(kc.clusters[0].cluster["certificate-authority-data"], CLUSTER_CA_DATA);
            assert.strictEqual(kc.users[0].user.token, ISTIO_MULTI_TOKEN);
        });
        describe("with a kubeconfig in config, whose API server answers (a local listener)", () => {
            const listener = net.createServer((socket) => socket.destroy());
            const server = listenOnLoopback(listener, "https");
            const kubeconfigOf = (url: string) => oneContextKubeconfig({ server: url });

            it("takes the server from the remote's kubeconfig when apiServerAddress is not set", async () => {
                const { kubeContext: _, apiServerAddress: _a, ...rest } = ROLE_CONFIG.remote;
                const r = await runProgram({ stack: "remote-a", config: { ...rest, kubeconfig: kubeconfigOf(server()) }, secretKeys: ["kubeconfig"] });
                assert.ifError(r.error);
                assert.strictEqual((yaml.load(String(r.outputs!.kubeconfig)) as any).clusters[0].cluster.server, server());
            });
            it("hands a kubeconfig given in config to the provider as a secret", async () => {
                const { kubeContext: _, ...rest } = ROLE_CONFIG.remote;
                const r = await runProgram({ stack: "remote-a", config: { ...rest, kubeconfig: kubeconfigOf(server()) }, secretKeys: ["kubeconfig"] });
                const provider = ofType(r.resources, "pulumi:providers:kubernetes").find((p) => p.name === "remote-a")!;
                assert.ok(isSecretInput(provider.inputs.kubeconfig));
            });
            it("fails before registering anything when that API server does not answer, naming it", async () => {
                const closed = await new Promise<string>((resolve) => {
                    const probe = net.createServer().listen(0, "127.0.0.1", () => {
                        const url = `https://127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
                        probe.close(() => resolve(url));
                    });
                });
                const { kubeContext: _, ...rest } = ROLE_CONFIG.remote;
                const r = await runProgram({ stack: "remote-a", config: { ...rest, kubeconfig: kubeconfigOf(closed) }, secretKeys: ["kubeconfig"] });
                assert.match(r.error?.message ?? "", new RegExp(`^istio-multicluster:kubeContext = "\\[secret\\]": its cluster's API server ` +
                    `${closed.replace(/\./g, "\\.")} does not answer \\(connect ECONNREFUSED .*\\)\\. Fix: start that cluster`));
                assert.deepStrictEqual(r.resources.map((x) => x.type), []);
            });
        });
    });

    describe("names that fit every backend", () => {
        it("qualifies a short primaryStack with this stack's organization and project", async () => {
            const r = await runProgram({ stack: "remote-a", stackOutputs: { "organization/istio-multicluster/primary": PRIMARY_OUTPUTS },
                config: { ...ROLE_CONFIG.remote, primaryStack: "primary" } });
            assert.ifError(r.error);
            const refs = ofType(r.resources, "pulumi:pulumi:StackReference").map((s) => s.inputs.name);
            assert.ok(refs.includes("organization/istio-multicluster/primary"), refs.join(", "));
        });
        it("names the primary's provider after the primary, and refuses a remote of the primary's name", async () => {
            const r = await runProgram({ stack: "remote-a", stackOutputs: { "organization/istio-multicluster/eu-control": PRIMARY_OUTPUTS },
                config: { ...ROLE_CONFIG.remote, primaryStack: "eu-control" } });
            assert.ifError(r.error);
            const providers = ofType(r.resources, "pulumi:providers:kubernetes").map((p) => p.name).sort();
            assert.deepStrictEqual(providers, ["eu-control", "remote-a"]);
            const clash = await runProgram({ stack: "remote-a", stackOutputs: { "organization/istio-multicluster/eu-control": PRIMARY_OUTPUTS },
                config: { ...ROLE_CONFIG.remote, primaryStack: "eu-control", clusterName: "eu-control" } });
            assert.match(clash.error?.message ?? "", /istio-multicluster:clusterName = "eu-control": is the primary's name/);
            assert.ok(!clash.resources.some((x) => x.type.startsWith("pulumi:providers:")), "nothing registered");
        });
        it("lets a remote be called primary when its primary is called otherwise", async () => {
            const r = await runProgram({ stack: "primary", stackOutputs: { "organization/istio-multicluster/eu-control": PRIMARY_OUTPUTS },
                config: { ...ROLE_CONFIG.remote, primaryStack: "eu-control" } });
            assert.ifError(r.error);
            assert.deepStrictEqual(ofType(r.resources, "pulumi:providers:kubernetes").map((p) => p.name).sort(), ["eu-control", "primary"]);
        });
    });

    describe("the registration in the primary", () => {
        const registration = () => ofType(run.resources, "kubernetes:core/v1:Secret").find((s) => s.name === "remote-a-registration")!;

        it("goes through the primary's provider, into the primary's Istio namespace", () => {
            assert.match(registration().provider!, PRIMARY_PROVIDER);
            assert.strictEqual(registration().inputs.metadata.namespace, PRIMARY_OUTPUTS.istioNamespace);
        });
        it("is named after the cluster and labelled istio/multiCluster=true", () => {
            assert.strictEqual(registration().inputs.metadata.name, "remote-a");
            assert.deepStrictEqual(registration().inputs.metadata.labels, { "istio/multiCluster": "true" });
            assert.strictEqual(run.outputs!.remoteSecretName, "remote-a");
        });
        it("has one data key, the cluster name, holding the kubeconfig as a secret", () => {
            const data = registration().inputs.stringData;
            assert.ok(isSecretInput(data));
            assert.deepStrictEqual(Object.keys(plain(data)), ["remote-a"]);
            const kc = yaml.load(plain(data)["remote-a"]) as any;
            assert.strictEqual(kc.users[0].user.token, ISTIO_MULTI_TOKEN);
            assert.strictEqual(kc.clusters[0].cluster.server, "https://127.0.0.3:6443");
        });
        it("uses a configured clusterName for the secret, its key and the output", async () => {
            const r = await runProgram({ stack: "remote-a", config: { ...ROLE_CONFIG.remote, clusterName: "eu-west" } });
            const secret = ofType(r.resources, "kubernetes:core/v1:Secret").find((s) => s.provider!.includes("::primary::"))!;
            assert.strictEqual(secret.inputs.metadata.name, "eu-west");
            assert.deepStrictEqual(Object.keys(plain(secret.inputs.stringData)), ["eu-west"]);
            assert.strictEqual(r.outputs!.clusterName, "eu-west");
        });
    });

    describe("service mirroring", () => {
        let mirrored: Awaited<ReturnType<typeof runProgram>>;
        before(async () => {
            mirrored = await runProgram({ stack: "remote-a", config: {
                ...ROLE_CONFIG.remote, mirrorServices: { fromPrimary: ["default/reviews"], toPrimary: ["bookinfo/ratings"] },
            } });
            assert.ifError(mirrored.error);
        });
        const copy = (name: string) => ofType(mirrored.resources, "kubernetes:core/v1:Service").find((s) => !s.readId && s.inputs.metadata.name === name)!;

        it("reads each original from the cluster it runs in", () => {
            const reads = ofType(mirrored.resources, "kubernetes:core/v1:Service").filter((s) => s.readId);
            const where = Object.fromEntries(reads.map((s) => [s.readId, PRIMARY_PROVIDER.test(s.provider!) ? "primary" : "remote-a"]));
            assert.deepStrictEqual(where, { "default/reviews": "primary", "bookinfo/ratings": "remote-a" });
        });
        it("copies a primary service into the remote, keeping ports and selector but not the cluster IP or node port", () => {
            const reviews = copy("reviews");
            assert.match(reviews.provider!, REMOTE_PROVIDER);
            assert.deepStrictEqual(reviews.inputs.spec, {
                type: "ClusterIP", selector: { app: "reviews" }, ports: [{ name: "http", port: 9080, protocol: "TCP" }],
            });
            assert.strictEqual(reviews.inputs.metadata.labels["istio-multicluster/mirrored-from"], "primary");
        });
        it("copies a remote service into the primary, keeping it headless", () => {
            const ratings = copy("ratings");
            assert.match(ratings.provider!, PRIMARY_PROVIDER);
            assert.strictEqual(ratings.inputs.spec.clusterIP, "None");
            assert.strictEqual(ratings.inputs.metadata.labels["istio-multicluster/mirrored-from"], "remote-a");
        });
        it("labels a copy of a primary service with the primary's name (its stack's), not a fixed word", async () => {
            const r = await runProgram({ stack: "remote-a", stackOutputs: { "organization/istio-multicluster/eu-control": PRIMARY_OUTPUTS },
                config: { ...ROLE_CONFIG.remote, primaryStack: "eu-control", mirrorServices: { fromPrimary: ["default/reviews"] } } });
            assert.ifError(r.error);
            const reviews = ofType(r.resources, "kubernetes:core/v1:Service").find((s) => !s.readId && s.inputs.metadata.name === "reviews")!;
            assert.strictEqual(reviews.inputs.metadata.labels["istio-multicluster/mirrored-from"], "eu-control");
        });
        it("makes sure each copy's namespace exists in the target cluster", () => {
            const patches = ofType(mirrored.resources, "kubernetes:core/v1:NamespacePatch").filter((p) => p.name.includes("mirror"));
            const where = Object.fromEntries(patches.map((p) => [p.inputs.metadata.name, PRIMARY_PROVIDER.test(p.provider!) ? "primary" : "remote-a"]));
            assert.deepStrictEqual(where, { default: "remote-a", bookinfo: "primary" });
        });
    });

    it("exports the remote contract, leaving out manualInjectCommand while the webhook injects", () => {
        assert.deepStrictEqual(Object.keys(run.outputs!).sort(),
            ["caCertExpiry", "clusterName", "controlPlaneAddresses", "injectedNamespaces", "kubeconfig", "remoteSecretName"]);
        assert.strictEqual(run.outputs!.clusterName, "remote-a");
    });

    it("exports when its Citadel's CA (its cacerts) expires, for `mesh status`", () => {
        const caCert = readCaDirectory(path.join(ROOT, "tests/fixtures/certs/mesh/remote-a")).caCert!;
        assert.strictEqual(run.outputs!.caCertExpiry, new Date(new crypto.X509Certificate(caCert).validTo).toISOString());
        assert.ok(!run.secretOutputs.has("caCertExpiry"));
    });

    it("exports the primary addresses it was rendered with, for `mesh status` to compare", () => {
        const { pilotAddress, policyAddress, telemetryAddress, zipkinAddress, statsdAddress } = PRIMARY_OUTPUTS;
        assert.deepStrictEqual(run.outputs!.controlPlaneAddresses, { pilotAddress, policyAddress, telemetryAddress, zipkinAddress, statsdAddress });
    });

    it("reads the primary through a StackReference to primaryStack", () => {
        const [ref] = ofType(run.resources, "pulumi:pulumi:StackReference");
        assert.strictEqual(ref.inputs.name, "organization/istio-multicluster/primary");
    });
});
