// Today's Istio models on Istio's own charts, through the real Pulumi CLI and the real provider,
// proven by real istiods (pilot-discovery built from Istio's module, run by
// tools/clusters/local-clusters.sh as the charts' `istiod` service account). The oracle is istiod's
// own view (its debug endpoints) and istioctl, not a re-read of what the program wrote.
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as dns from "dns";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as tls from "tls";
import { crossNetworkGateway, eastWestGatewayChart, istiodExposure } from "../../lib/istio/eastWestGateway";
import { istiodCharts, istiodValues, PLUGIN_CA_VALUES, webhookHostValues } from "../../lib/istio/istiod";
import { mergeValues } from "../../lib/istio/values";
import { statusOf, unlessNotFound } from "../../lib/kube/kube";
import { certificateFingerprint, pemCertificates } from "../../lib/ca/pki";
import { requestWorkloadCertificate, SignedChain } from "./istioCa";
import { eventually, istiodDebug, localCluster, localKubeconfigPath, makeWorkDir, snapshot, TestCluster, validationFailsClosed } from "./helpers";
import { CliResult, pulumi, pulumiOk, runCommand, StepTimer } from "./pulumi";
import {
    call, callContinuously, callSeparately, deploy, ECHO_PORT, peerAuthentication, Pod, refreshWorkloadRoots, requireMutualTls, startWorkload,
    stopWorkload, workloadChain, workloadRoots,
} from "./workloads";

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE = process.env.ISTIO_MC_CACHE ?? path.join(process.env.HOME!, ".cache", "istio-multicluster");
const CHARTS = path.join(CACHE, "toolchain", "istio-charts");
const ISTIOCTL = path.join(CACHE, "toolchain", "bin", "istioctl");
const HELM = path.join(CACHE, "toolchain", "bin", "helm");
const NS = "istio-system";
const IP: Record<string, string> = { primary: "127.0.0.2", "remote-a": "127.0.0.3", "remote-b": "127.0.0.4" };
/** The mesh service the traffic tests call, and how a proxyless gRPC client names it. */
const ECHO_HOST = "echo.sample.svc.cluster.local";
const ECHO_URL = `xds:///${ECHO_HOST}:${ECHO_PORT}`;

/** The demo's stack config of a model (examples/<model>/), keys without prefix, with the charts this run built. */
function exampleConfig(model: string, stack: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, "examples", model, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const config = Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^istio-multicluster:/, ""), v]));
    return { ...config, chartDir: CHARTS };
}

describe("end to end: today's Istio models on Istio's charts, proven by real istiods", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    const kubeconfigPath = localKubeconfigPath();
    const cluster = localCluster;
    const measured: Record<string, number> = {};
    /** Workloads this suite runs, stopped at its end (or when their part is done). */
    const started: Pod[] = [];
    let workDir: string;
    let env: NodeJS.ProcessEnv;

    /** What every Pulumi run printed, but those asked to show secrets: scanned for key material. */
    const runLog: string[] = [];
    const logged = async (args: string[], run: Promise<CliResult>) => {
        const r = await run;
        if (!args.includes("--show-secrets")) {
            runLog.push(r.stdout, r.stderr);
        }
        return r;
    };
    const cli = (args: string[]) => logged(args, pulumi(workDir, env, args));
    const cliOk = (args: string[]) => logged(args, pulumiOk(workDir, env, args));
    const outputs = async (stack: string) =>
        JSON.parse((await cliOk(["stack", "output", "--json", "--show-secrets", "-s", stack])).stdout);
    const clustersScript = (...args: string[]) => runCommand("bash", [path.join(ROOT, "tools/clusters/local-clusters.sh"), ...args], ROOT, env, 300);
    const startIstiod = async (name: string) => {
        const r = await clustersScript("istiod", name);
        assert.strictEqual(r.code, 0, `istiod for ${name} did not start\n${r.stderr}`);
    };
    const stopIstiod = (name: string) => clustersScript("istiod-stop", name);
    /** A stack file in the work directory, from config keys (objects as structured config). */
    const writeStack = (stack: string, config: Record<string, unknown>) => {
        const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`istio-multicluster:${k}`, v]));
        fs.writeFileSync(path.join(workDir, `Pulumi.${stack}.yaml`), yaml.dump({ config: prefixed }));
    };
    const up = async (stack: string) => {
        const start = Date.now();
        await cliOk(["up", "--yes", "--skip-preview", "-s", stack]);
        return (Date.now() - start) / 1000;
    };
    /**
     * A pod created in remote-a's injected namespace (`default`) comes back with `istio-proxy`,
     * injected for remote-a; retried while the webhook does not answer yet (`why`: what it waits for).
     */
    const assertInjectedForRemoteA = async (why: string) => {
        const pod: any = await eventually(`the injection webhook to answer ${why}`, 120, async () =>
            cluster("remote-a").core.createNamespacedPod({ namespace: "default", body: {
                apiVersion: "v1", kind: "Pod", metadata: { generateName: "injected-" },
                spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
            } }));
        const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
        const proxy = containers.find((c: any) => c.name === "istio-proxy");
        assert.ok(proxy, `containers: ${containers.map((c: any) => c.name).join(", ")}`);
        assert.strictEqual(proxy.env.find((e: any) => e.name === "ISTIO_META_CLUSTER_ID")?.value, "remote-a", "injected for remote-a");
    };
    /**
     * `pulumi up` of a stack whose charts include the east-west gateway, starting the cluster's
     * istiod as soon as its Deployment exists: the gateway's pod is created only once istiod's
     * injection webhook answers, as a kubelet would have started istiod's pod by then.
     */
    const upWithIstiod = async (stack: string) => {
        const run = cliOk(["up", "--yes", "--skip-preview", "-s", stack]);
        await eventually(`${stack}'s istiod Deployment`, 300, async () =>
            (await cluster(stack).has("apps/v1", "Deployment", "istiod", NS)) ? true : undefined);
        await startIstiod(stack);
        return run;
    };
    /**
     * remote-a leaves an istiod mesh (its istiod stopped first): the primary's istiod drops it and
     * nothing of it is left; then the primary goes too.
     */
    const leaveThenTearDown = async () => {
        await stopIstiod("remote-a");
        await cliOk(["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
        await eventually("the primary's istiod to drop remote-a", 60, async () =>
            (await clusterz("primary")).some((c) => c.id === "remote-a") ? undefined : true);
        assert.deepStrictEqual(await istiodLeftovers(cluster("primary"), cluster("remote-a"), "remote-a"), []);
        await cliOk(["destroy", "--yes", "--skip-preview", "-s", "primary"]);
        await stopIstiod("primary");
    };
    /**
     * Waits until each stack's istiod has made its validating webhook fail-closed (it does once the
     * API server reaches its webhook), then updates each stack once, which renders them so: after
     * that a preview finds nothing to change, and no server-side apply conflict with istiod.
     */
    const settleFailClosedValidation = async (stacks: string[]) => {
        for (const stack of stacks) {
            await eventually(`${stack}'s istiod to make its validating webhook fail-closed`, 180, () => validationFailsClosed(cluster(stack)));
            await up(stack);
            await cliOk(["preview", "--expect-no-changes", "-s", stack]);
        }
    };

    before(async () => {
        assert.ok(fs.existsSync(path.join(CHARTS, "base", "Chart.yaml")), `Istio's charts are extracted to ${CHARTS}`);
        workDir = makeWorkDir();
        const backend = path.join(workDir, ".backend");
        fs.mkdirSync(backend);
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` };
        for (const stack of ["primary", "remote-a", "remote-b"]) {
            await cliOk(["stack", "init", stack, "--secrets-provider", "passphrase"]);
        }
    });

    after(async () => {
        for (const pod of started) {
            await stopWorkload(pod);
        }
        for (const name of Object.keys(IP)) {
            await stopIstiod(name);
        }
        console.log(`\nModels wall time per step:\n${timer.table()}\n`);
        if (Object.keys(measured).length > 0) {
            console.log(`Measured in this run (seconds): ${JSON.stringify(measured)}\n`);
        }
    });

    describe("primary-remote", () => {
        const primaryConfig = exampleConfig("primary-remote", "primary");
        const remoteConfig = exampleConfig("primary-remote", "remote-a");
        /** The mesh root the demo's primary made (ca.generate): in its cluster's cacerts, and the one its stack exports. */
        const meshRoot = async () => {
            const root = (await cacerts("primary"))["root-cert.pem"];
            assert.strictEqual(certificateFingerprint(root), (await outputs("primary")).rootCertFingerprint);
            return root;
        };
        let client: Pod;
        let joinedAt: number;

        it("installs the primary on base + istiod, and a real istiod runs on it", () => timer.time("primary-remote: primary up + istiod", async () => {
            writeStack("primary", primaryConfig);
            const preview = await cliOk(["preview", "-s", "primary", "--diff"]);
            assert.match(preview.stdout, /PrimaryRemoteControlPlane/);
            measured.primaryRemotePrimaryUp = await up("primary");
            const out = await outputs("primary");
            assert.strictEqual(out.meshModel, "primary-remote");
            assert.strictEqual(out.clusterName, "primary");
            assert.strictEqual(out.discoveryAddress, "istiod.primary.mesh.test");
            await startIstiod("primary");
            const clusters = await clusterz("primary");
            assert.ok(clusters.some((c) => c.id === "primary"), JSON.stringify(clusters));
        }));

        it("once istiod has made its validating webhooks fail-closed, one update records it; then the primary previews with no changes", () => timer.time("primary-remote: webhooks taken over by istiod", async () => {
            await settleFailClosedValidation(["primary"]);
        }));

        it("refuses a remote of another model, naming both, and changes nothing", () => timer.time("primary-remote: model mismatch", async () => {
            writeStack("remote-a", { ...remoteConfig, meshModel: "multi-primary", cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" } });
            const before = await snapshot(["primary", "remote-a"]);
            const r = await cli(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, /istio-multicluster:meshModel = "multi-primary": differs from the primary's \(primary-remote\)/);
            assert.deepStrictEqual(await snapshot(["primary", "remote-a"]), before);
        }));

        it("refuses a cluster name another party registered in the primary, and changes nothing", () => timer.time("primary-remote: name taken", async () => {
            writeStack("remote-a", { ...remoteConfig, clusterName: "taken" });
            const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "istio-remote-secret-taken", labels: { "istio/multiCluster": "true" },
                annotations: { "networking.istio.io/cluster": "taken" } }, stringData: { taken: "not a real kubeconfig" } };
            await cluster("primary").core.createNamespacedSecret({ namespace: NS, body: secret });
            const before = await snapshot(["primary", "remote-a"]);
            const r = await cli(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, /istio-multicluster:clusterName = "taken": is already registered in the primary by secret istio-system\/istio-remote-secret-taken/);
            assert.deepStrictEqual(await snapshot(["primary", "remote-a"]), before);
            await cluster("primary").core.deleteNamespacedSecret({ name: "istio-remote-secret-taken", namespace: NS });
        }));

        it("a client workload in the primary gets its mesh identity from istiod: a SPIFFE certificate of its service account, chaining to the mesh root", () => timer.time("primary-remote: client identity", async () => {
            await requireMutualTls(cluster("primary"), "sample", ECHO_HOST);
            client = await deploy("primary", "sample", "client");
            await startWorkload(client, "primary", "client");
            started.push(client);
            assertMeshIdentity(workloadChain(client), "sample", "client", await meshRoot());
        }));

        it("joins remote-a; the primary's istiod reports it synced", () => timer.time("primary-remote: join remote-a", async () => {
            writeStack("remote-a", remoteConfig);
            const preview = await cliOk(["preview", "-s", "remote-a", "--diff"]);
            assert.match(preview.stdout, /PrimaryRemoteMember/);
            measured.primaryRemoteJoin = await up("remote-a");
            const joined = Date.now();
            joinedAt = joined;
            await eventually("istiod to report remote-a synced", 120, async () => {
                const found = (await clusterz("primary")).find((c) => c.id === "remote-a");
                return found?.syncStatus === "synced" ? true : undefined;
            });
            measured.primaryRemoteSyncedAfterUp = (Date.now() - joined) / 1000;
            const ns = await cluster("remote-a").core.readNamespace({ name: NS });
            assert.strictEqual(ns.metadata?.annotations?.["topology.istio.io/controlPlaneClusters"], "primary");
            assert.strictEqual(ns.metadata?.labels?.["topology.istio.io/network"], "network1");
        }));

        it("the primary's client calls a server in remote-a over mTLS, its identity issued by the primary's istiod", () => timer.time("primary-remote: cross-cluster call", async () => {
            const server = await deploy("remote-a", "sample", "echo");
            await startWorkload(server, "primary", "server");
            started.push(server);
            await eventually("a first call from the primary's client to remote-a", 120, async () => ((await call(client, ECHO_URL)).ok ? true : undefined));
            // From `pulumi up -s remote-a` returning, through a new Deployment there and its workload's start.
            measured.primaryRemoteFirstCallAfterUp = (Date.now() - joinedAt) / 1000;
            assertMeshIdentity(workloadChain(server), "sample", "echo", await meshRoot());
            const calls = await call(client, ECHO_URL, 10);
            assert.ok(calls.ok, calls.output);
            assert.deepStrictEqual(calls.clusters, Array(10).fill("remote-a"), calls.output);
            // The server takes mTLS only: the same call in plaintext, straight to its pod, is refused.
            const plaintext = await call(client, `grpc://${server.ip}:${ECHO_PORT}`);
            assert.ok(!plaintext.ok, `a plaintext call was answered:\n${plaintext.output}`);
            assert.deepStrictEqual(plaintext.clusters, []);
        }));

        it("with a server replica in each cluster, the client's calls reach both", () => timer.time("primary-remote: calls reach both clusters", async () => {
            const local = await deploy("primary", "sample", "echo");
            await startWorkload(local, "primary", "server");
            started.push(local);
            const calls = await eventually("calls to reach the primary and remote-a", 60, async () => {
                const r = await call(client, ECHO_URL, 20);
                return r.ok && new Set(r.clusters).size === 2 ? r : undefined;
            });
            assert.deepStrictEqual([...new Set(calls.clusters)].sort(), ["primary", "remote-a"], calls.output);
        }));

        it("registers remote-a exactly as `istioctl create-remote-secret` does", () => timer.time("primary-remote: istioctl comparison", async () => {
            const r = await runCommand(ISTIOCTL, ["create-remote-secret", "--kubeconfig", kubeconfigPath, "--context", "remote-a",
                "--name", "remote-a", "--istioNamespace", NS], workDir, env, 120);
            assert.strictEqual(r.code, 0, r.stderr);
            const theirs = yaml.loadAll(r.stdout).find((d: any) => d?.kind === "Secret") as any;
            const ours: any = await cluster("primary").core.readNamespacedSecret({ name: "istio-remote-secret-remote-a", namespace: NS });
            assert.strictEqual(ours.metadata.name, theirs.metadata.name);
            assert.strictEqual(ours.metadata.namespace, theirs.metadata.namespace);
            for (const [key, value] of Object.entries(theirs.metadata.labels ?? {})) {
                assert.strictEqual(ours.metadata.labels?.[key], value, `label ${key}`);
            }
            for (const [key, value] of Object.entries(theirs.metadata.annotations ?? {})) {
                assert.strictEqual(ours.metadata.annotations?.[key], value, `annotation ${key}`);
            }
            const theirData = theirs.stringData ?? Object.fromEntries(Object.entries(theirs.data).map(([k, v]) => [k, Buffer.from(v as string, "base64").toString()]));
            assert.deepStrictEqual(Object.keys(ours.data), Object.keys(theirData));
            const mine = yaml.load(Buffer.from(ours.data["remote-a"], "base64").toString()) as any;
            const istioctl = yaml.load(theirData["remote-a"]) as any;
            for (const doc of [mine, istioctl]) {
                delete doc.users[0].user.token;
            }
            assert.deepStrictEqual(mine, istioctl);
        }));

        it("`mesh status --istiod` shows istiod's own view of remote-a: synced", () => timer.time("primary-remote: mesh status", async () => {
            const r = await runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), "status", "--istiod", `http://${IP.primary}:15014`],
                workDir, env, 300);
            assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^remote-a +ok +current +ok +ok +synced +-$/m);
        }));

        it("`mesh status` without --istiod reads istiod's view over its xDS port at discoveryAddress, as a service account of its namespace: remote-a synced", () => timer.time("primary-remote: mesh status over xDS", async () => {
            const status = () => runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), "status"], workDir, env, 300);
            // Nothing here resolves the discovery address yet: the view is left out, saying why, and the rest is reported.
            const unresolved = await status();
            assert.strictEqual(unresolved.code, 0, `${unresolved.stdout}\n${unresolved.stderr}`);
            assert.match(unresolved.stderr, /^mesh: istiod's view left out: istiod's xDS port istiod\.primary\.mesh\.test:15012 refused clusterz: UNAVAILABLE: .*`mesh status --istiod http:\/\/127\.0\.0\.1:15014`/m);
            assert.match(unresolved.stdout, /^remote-a +ok +current +ok +ok +- +-$/m);
            // Once the name resolves to istiod's address, as the remotes' DNS would have it (this network namespace's own /etc/hosts).
            assert.ok(process.env.ISTIO_MC_HOSTS, "/etc/hosts is this network namespace's own");
            fs.appendFileSync("/etc/hosts", `${IP.primary} istiod.primary.mesh.test\n`);
            const r = await status();
            assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.doesNotMatch(r.stderr, /istiod's view left out/);
            assert.match(r.stdout, /^remote-a +ok +current +ok +ok +synced +-$/m);
        }));

        it("istiod sees a Service of remote-a with the remote pod's IP", () => timer.time("primary-remote: remote service in registry", async () => {
            const podIp = (await deploy("remote-a", "sample", "helloworld", { port: 5000 })).ip;
            await eventually("helloworld of remote-a in istiod's registry and endpoints", 120, async () => {
                const registry = await debug("primary", "registryz");
                const hosts = (registry as any[]).map((s) => s.hostname);
                if (!hosts.includes("helloworld.sample.svc.cluster.local")) {
                    return undefined;
                }
                const shards = JSON.stringify(await debug("primary", "endpointShardz"));
                return shards.includes(podIp) && shards.includes("remote-a") ? true : undefined;
            });
        }));

        it("a pod created in remote-a's injected namespace gets istio-proxy from the primary's istiod", () => timer.time("primary-remote: injection", async () => {
            await assertInjectedForRemoteA("(istiod patches its caBundle)");
        }));

        it("remote-a's namespaces get the mesh root from istiod", () => timer.time("primary-remote: root cert", async () => {
            const cm = await eventually("istio-ca-root-cert in remote-a", 60, async () => {
                return unlessNotFound(cluster("remote-a").core.readNamespacedConfigMap({ name: "istio-ca-root-cert", namespace: "default" }));
            });
            assert.strictEqual(cm.data?.["root-cert.pem"]?.trim(), (await meshRoot()).trim());
        }));

        it("after `pulumi destroy -s remote-a`, istiod no longer lists it and nothing of it is left", () => timer.time("primary-remote: leave", async () => {
            await cliOk(["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
            // remote-a's server still runs, but the mesh no longer routes to it.
            await eventually("the client's calls to reach the primary only", 60, async () => {
                const r = await callSeparately(client, ECHO_URL, 16);
                return r.ok && r.clusters.length === 16 && r.clusters.every((c) => c === "primary") ? true : undefined;
            });
            await eventually("istiod to drop remote-a", 60, async () =>
                (await clusterz("primary")).some((c) => c.id === "remote-a") ? undefined : true);
            assert.deepStrictEqual(await istiodLeftovers(cluster("primary"), cluster("remote-a"), "remote-a"), []);
            for (const pod of started.splice(0)) {
                await stopWorkload(pod);
            }
        }));

        it("refuses a discovery address the remotes cannot use, at preview", () => timer.time("primary-remote: bad discovery address", async () => {
            writeStack("primary", { ...primaryConfig, discoveryAddress: "127.0.0.9" });
            const r = await cli(["preview", "-s", "primary"]);
            assert.notStrictEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, /istio-multicluster:discoveryAddress = "127\.0\.0\.9": is a loopback address/);
            writeStack("primary", primaryConfig);
            await cliOk(["destroy", "--yes", "--skip-preview", "-s", "primary"]);
            await stopIstiod("primary");
        }));
    });

    describe("primary-remote through the east-west gateway, whose load balancer gives a host name (as EKS does)", () => {
        const { discoveryAddress: _d, injectionAddress: _i, ...viaGateway } = exampleConfig("primary-remote", "primary");
        const primaryConfig = {
            ...viaGateway, eastWestGateway: true,
            // The user's values for the gateway's chart: a Service annotation, which the local load balancer answers with a host name.
            eastWestGatewayValues: { service: { annotations: { "local-clusters.test/load-balancer-hostname": "true" } } },
        };
        let host: string;
        let gatewayRelay: ChildProcess | undefined;
        after(() => gatewayRelay?.kill());

        it("the primary exports the gateway's host name as the discovery address; the first up warns, the next puts it in istiod's serving certificate", () => timer.time("gateway host name: primary", async () => {
            writeStack("primary", primaryConfig);
            const first = await upWithIstiod("primary");
            host = (await outputs("primary")).discoveryAddress;
            assert.match(host, /^istio-eastwestgateway\.istio-system\.127-0-2-\d+\.lb\.test$/);
            assert.match(first.stdout + first.stderr, /gave the host name .*run it once more before remotes join/s);
            const next = await cliOk(["up", "--yes", "--skip-preview", "-s", "primary"]);
            assert.doesNotMatch(next.stdout + next.stderr, /run it once more/);
            await startIstiod("primary"); // its Deployment changed: a new pod, as a rollout would start
            const names = await servingCertificateNames(IP.primary, 15017);
            assert.ok(names.includes(`DNS:${host}`), `istiod's webhook certificate names ${names.join(", ")}`);
        }));

        it("remote-a joins by that host name: its API server calls the primary's injection webhook there, through the gateway, and pods are injected", () => timer.time("gateway host name: remote-a injected", async () => {
            // Nothing here runs the gateway's Envoy; its istiod ports are TLS passthrough to istiod
            // (the Gateway istiod-gateway), which a TCP relay on the gateway's address plays.
            const { address } = await dns.promises.lookup(host);
            gatewayRelay = spawn(process.execPath, [path.join(ROOT, "tools/clusters/service-proxy.js"),
                `${address}:15017=${IP.primary}:15017`, `${address}:15012=${IP.primary}:15012`], { stdio: "ignore" });
            writeStack("remote-a", exampleConfig("primary-remote", "remote-a"));
            await up("remote-a");
            const istiod = await cluster("remote-a").core.readNamespacedService({ name: "istiod", namespace: NS });
            assert.deepStrictEqual([istiod.spec?.type, istiod.spec?.externalName], ["ExternalName", host]);
            await assertInjectedForRemoteA("at the gateway's host name");
        }));

        it("leaving: the primary's istiod drops remote-a, and nothing of it is left", () => timer.time("gateway host name: leave", async () => {
            await leaveThenTearDown();
        }));
    });

    describe("different networks", () => {
        it("Istio's gateway chart, given the program's values, renders the network's east-west gateway the Gateways select", () => timer.time("networks: gateway chart render", async () => {
            // The gateway is not installed here yet (its pods are injected by an istiod the suite starts
            // after the install began); its chart is rendered by Helm from Istio's own chart with exactly
            // the values the program derives.
            const chart = eastWestGatewayChart({ global: { hub: "docker.io/istio", tag: "1.31-dev" } }, { network: "network2", values: {} });
            const valuesFile = path.join(workDir, "eastwest-values.json");
            fs.writeFileSync(valuesFile, JSON.stringify(chart.values));
            const r = await runCommand(HELM, ["template", chart.release, path.join(CHARTS, chart.chart.dir), "-n", NS, "-f", valuesFile], workDir, env, 120);
            assert.strictEqual(r.code, 0, r.stderr);
            const docs = yaml.loadAll(r.stdout).filter((d: any) => d?.kind) as any[];
            const service = docs.find((d) => d.kind === "Service");
            assert.strictEqual(service.metadata.name, "istio-eastwestgateway");
            assert.strictEqual(service.spec.type, "LoadBalancer");
            assert.strictEqual(service.metadata.labels["topology.istio.io/network"], "network2", "istiod finds a network's gateway by this label");
            assert.deepStrictEqual(service.spec.ports.map((p: any) => p.port).sort(), [15012, 15017, 15021, 15443]);
            const pods = docs.find((d) => d.kind === "Deployment").spec.template.metadata.labels;
            for (const gateway of [crossNetworkGateway(NS), ...istiodExposure(NS)].filter((g) => g.kind === "Gateway")) {
                for (const [key, value] of Object.entries(gateway.spec.selector as Record<string, string>)) {
                    assert.strictEqual(pods[key], value, `${gateway.metadata.name} selects the gateway's pods by ${key}`);
                }
            }
        }));
    });

    describe("istiod's environment", () => {
        it("Istio's istiod chart renders the environment the program sets (pilot.env) beside the user's own (env)", () => timer.time("istiod env render", async () => {
            const user = { env: { ISTIOD_CUSTOM_HOST: "istiod.corp.example", USER_SETTING: "kept" } };
            const webhookHost = webhookHostValues({ discoveryAddress: "istiod.mesh.example", injectionAddress: "192.0.2.10" }, user);
            const [, chart] = istiodCharts(webhookHost.user, NS, [{
                values: mergeValues(mergeValues(istiodValues(NS, { meshID: "mesh1", clusterName: "primary", network: "network1" }, true),
                    webhookHost.istiod), PLUGIN_CA_VALUES),
            }], false);
            const valuesFile = path.join(workDir, "istiod-values.json");
            fs.writeFileSync(valuesFile, JSON.stringify(chart.values));
            const r = await runCommand(HELM, ["template", chart.release, path.join(CHARTS, chart.chart.dir), "-n", NS, "-f", valuesFile], workDir, env, 120);
            assert.strictEqual(r.code, 0, r.stderr);
            const deployment = (yaml.loadAll(r.stdout) as any[]).find((d) => d?.kind === "Deployment" && d.metadata.name === "istiod");
            const rendered = Object.fromEntries(deployment.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined)
                .map((e: any) => [e.name, e.value]));
            assert.strictEqual(rendered.ISTIOD_CUSTOM_HOST, "istiod.corp.example,192.0.2.10");
            assert.strictEqual(rendered.ISTIO_MULTIROOT_MESH, "true");
            assert.strictEqual(rendered.USER_SETTING, "kept", "the user's own environment stays");
        }));
    });

    describe("multi-primary", () => {
        const primaryConfig = exampleConfig("multi-primary", "primary");
        const peerConfig = exampleConfig("multi-primary", "remote-a");

        it("runs an istiod on each of two clusters; each lists the other synced and sees its services", () => timer.time("multi-primary: two istiods", async () => {
            writeStack("primary", primaryConfig);
            await up("primary");
            await startIstiod("primary");
            writeStack("remote-a", peerConfig);
            measured.multiPrimaryJoin = await up("remote-a");
            const joined = Date.now();
            await startIstiod("remote-a");
            for (const [self, other] of [["primary", "remote-a"], ["remote-a", "primary"]]) {
                await eventually(`${self}'s istiod to list ${other} synced`, 120, async () =>
                    (await clusterz(self)).find((c) => c.id === other)?.syncStatus === "synced" ? true : undefined);
            }
            measured.multiPrimarySyncedAfterUp = (Date.now() - joined) / 1000;
            await settleFailClosedValidation(["primary", "remote-a"]);
            const ipPrimary = (await deploy("primary", "sample", "from-primary", { port: 5001 })).ip;
            const ipPeer = (await deploy("remote-a", "sample", "from-peer", { port: 5002 })).ip;
            for (const [self, host, ip] of [["primary", "from-peer", ipPeer], ["remote-a", "from-primary", ipPrimary]]) {
                await eventually(`${self}'s istiod to see ${host}`, 120, async () => {
                    const hosts = ((await debug(self, "registryz")) as any[]).map((s) => s.hostname);
                    const shards = JSON.stringify(await debug(self, "endpointShardz"));
                    return hosts.includes(`${host}.sample.svc.cluster.local`) && shards.includes(ip) ? true : undefined;
                });
            }
        }));

        it("ca.generate: every istiod distributes the one root the primary made, and signs a workload's CSR with its own cluster's intermediate of it", () => timer.time("multi-primary: generated CA", async () => {
            const meshRoot = (await outputs("primary")).rootCertFingerprint;
            for (const name of ["primary", "remote-a"]) {
                const cm = await eventually(`istio-ca-root-cert in ${name}`, 60, async () =>
                    unlessNotFound(cluster(name).core.readNamespacedConfigMap({ name: "istio-ca-root-cert", namespace: NS })));
                assert.strictEqual(certificateFingerprint(cm.data!["root-cert.pem"]), meshRoot, `${name}'s istiod distributes the generated root`);
            }
            const signers: Record<string, crypto.X509Certificate> = {};
            for (const name of ["primary", "remote-a"]) {
                const signed = await workloadCertificate(name);
                const installed = await cacerts(name);
                assert.strictEqual(signed.signer.fingerprint256, new crypto.X509Certificate(installed["ca-cert.pem"]).fingerprint256,
                    `${name}'s istiod signs with the intermediate in its cluster's cacerts`);
                assert.match(signed.signer.subject, new RegExp(`CN=${name} intermediate CA`));
                assert.ok(signed.leaf.verify(signed.signer.publicKey), "the workload certificate is the intermediate's signature");
                assert.strictEqual(signed.leaf.subjectAltName, "URI:spiffe://cluster.local/ns/sample/sa/ca-test");
                const root = signed.chain[signed.chain.length - 1];
                assert.strictEqual(root.fingerprint256, meshRoot, "and its chain ends at the generated root");
                assert.ok(signed.signer.verify(root.publicKey), "which signed the intermediate");
                signers[name] = signed.signer;
            }
            assert.notStrictEqual(signers.primary.fingerprint256, signers["remote-a"].fingerprint256, "each cluster its own intermediate");
            assert.doesNotMatch(runLog.join("\n"), /PRIVATE KEY/, "no Pulumi run printed a private key");
            // No CA key is in either stack's state but encrypted.
            for (const stack of ["primary", "remote-a"]) {
                const exported = (await cliOk(["stack", "export", "-s", stack])).stdout;
                assert.ok(exported.includes("cacerts"), `${stack}'s state holds its cacerts secret`);
                assert.doesNotMatch(exported, /PRIVATE KEY/, `${stack}'s state holds no plaintext private key`);
            }
        }));

        // Calls from a client in the primary to a server in remote-a go on through the CA rotations below, every one counted.
        const ROTATION_HOST = "echo.rotation.svc.cluster.local";
        const rotationPods: Record<string, Pod> = {};
        let rotationCalls: ReturnType<typeof callContinuously> | undefined;
        after(async () => {
            await rotationCalls?.stop();
        });
        /** Hands each rotation workload its namespace's current roots, as the kubelet does a mounted ConfigMap. */
        const refreshRotationRoots = async () => {
            for (const pod of Object.values(rotationPods)) {
                await refreshWorkloadRoots(pod);
            }
        };
        /** Waits until each rotation workload's agent holds what `holds` asks of its chain and roots, then until gRPC has re-read them. */
        const rotationWorkloadsHold = async (what: string, holds: (chain: crypto.X509Certificate[], roots: crypto.X509Certificate[]) => boolean) => {
            for (const [role, pod] of Object.entries(rotationPods)) {
                await eventually(`the ${role}'s agent to hold ${what}`, 120, async () => holds(workloadChain(pod), workloadRoots(pod)) ? true : undefined);
            }
            // The workloads' gRPC re-reads the agent's files every 5 s (local-clusters.sh).
            await new Promise((resolve) => setTimeout(resolve, 6000));
        };

        it("a client in the primary calls a server in remote-a over mTLS, their certificates living 60 s; calls start, to go on through the rotations", () => timer.time("multi-primary: calls for the rotations", async () => {
            // A short certificate life, as a pod asks for it (proxyMetadata), so that the agents renew within each step.
            const shortLived = { "proxy.istio.io/config": JSON.stringify({ proxyMetadata: { SECRET_TTL: "60s" } }) };
            for (const name of ["primary", "remote-a"]) {
                await requireMutualTls(cluster(name), "rotation", ROTATION_HOST);
            }
            rotationPods.server = await deploy("remote-a", "rotation", "echo", { annotations: shortLived });
            await startWorkload(rotationPods.server, "remote-a", "server");
            started.push(rotationPods.server);
            rotationPods.client = await deploy("primary", "rotation", "client", { annotations: shortLived });
            await startWorkload(rotationPods.client, "primary", "client");
            started.push(rotationPods.client);
            const url = `xds:///${ROTATION_HOST}:${ECHO_PORT}`;
            const first = await eventually("a first call from the primary's client to remote-a's server", 120, async () => {
                const r = await call(rotationPods.client, url);
                return r.ok ? r : undefined;
            });
            assert.deepStrictEqual(first.clusters, ["remote-a"], first.output);
            // istiod back-dates a certificate's start for clocks behind its own; its end is the asked life away.
            const left = (Date.parse(workloadChain(rotationPods.server)[0].validTo) - Date.now()) / 1000;
            assert.ok(left <= 60 + 5, `the server's certificate is valid for ${left} s more`);
            rotationCalls = callContinuously(rotationPods.client, url);
        }));

        it("rotating remote-a's intermediate (ca.rotate): its istiod signs with the new one at once, under the same root; the primary's stays", () => timer.time("multi-primary: intermediate rotation", async () => {
            const before = { primary: (await workloadCertificate("primary")).signer, "remote-a": (await workloadCertificate("remote-a")).signer };
            writeStack("primary", { ...primaryConfig, ca: { generate: true, peers: ["remote-a"], rotate: { "remote-a": 1 } } });
            const steps = JSON.parse((await cliOk(["preview", "--json", "-s", "primary"])).stdout).steps as Array<{ op: string; urn: string }>;
            const changed = steps.filter((step) => !["same", "read", "refresh"].includes(step.op));
            assert.deepStrictEqual([...new Set(changed.map((step) => step.urn.split("::").pop()))], ["istio-ca-remote-a"],
                `the preview makes remote-a's intermediate anew and changes nothing else: ${JSON.stringify(changed.map((c) => [c.op, c.urn]))}`);
            assert.ok(changed.some((step) => step.op === "replace"), "by replacing it");
            await up("primary");
            await up("remote-a");
            const rotated = await clustersScript("cacerts", "remote-a");
            assert.strictEqual(rotated.code, 0, rotated.stderr);
            const installed = new crypto.X509Certificate((await cacerts("remote-a"))["ca-cert.pem"]);
            assert.notStrictEqual(installed.serialNumber, before["remote-a"].serialNumber, "the cluster's cacerts holds a new intermediate");
            const after = await eventually("remote-a's istiod to sign with the new intermediate", 60, async () => {
                const signed = await workloadCertificate("remote-a");
                return signed.signer.serialNumber === installed.serialNumber ? signed : undefined;
            });
            assert.strictEqual(after.chain[after.chain.length - 1].fingerprint256, (await outputs("primary")).rootCertFingerprint, "the root is unchanged");
            assert.strictEqual((await workloadCertificate("primary")).signer.serialNumber, before.primary.serialNumber, "the primary's intermediate is unchanged");
            // The server in remote-a renews its certificate from the new intermediate while it is called.
            const server = rotationPods.server;
            await eventually("remote-a's server to hold a certificate of the new intermediate", 120, async () =>
                workloadChain(server)[1]?.serialNumber === installed.serialNumber ? true : undefined);
        }));

        it("rotating the root in three steps: both roots trusted in the overlap, intermediates moved to the new one, the old dropped; dropping early is refused and changes nothing", () => timer.time("multi-primary: root rotation", async () => {
            const ca = (rotation: Record<string, unknown>) => ({ ...primaryConfig, ca: { generate: true, peers: ["remote-a"], rotate: { "remote-a": 1 }, ...rotation } });
            const both = ["primary", "remote-a"];
            /** Hands each istiod its cluster's cacerts as the program left it. */
            const refreshIstiods = async () => {
                for (const name of both) {
                    const r = await clustersScript("cacerts", name);
                    assert.strictEqual(r.code, 0, r.stderr);
                }
            };
            /** The roots each cluster's istiod distributes, once every cluster's are `count` roots. */
            const distributedRoots = (count: number) => eventually(`${count} root(s) in every cluster's istio-ca-root-cert`, 60, async () => {
                const seen = new Set<string>();
                for (const name of both) {
                    const cm = await cluster(name).core.readNamespacedConfigMap({ name: "istio-ca-root-cert", namespace: NS });
                    const roots = pemCertificates(cm.data?.["root-cert.pem"] ?? "").map(certificateFingerprint);
                    if (roots.length !== count) {
                        return undefined;
                    }
                    roots.forEach((r) => seen.add(r));
                }
                return seen.size === count ? [...seen] : undefined;
            });
            const refusedUp = async (stack: string, message: RegExp) => {
                const before = await snapshot(both);
                const r = await cli(["up", "--yes", "--skip-preview", "-s", stack]);
                assert.notStrictEqual(r.code, 0);
                assert.match(r.stdout + r.stderr, message);
                assert.deepStrictEqual(await snapshot(both), before, "a refused step changes nothing");
            };
            const oldRoot = (await outputs("primary")).rootCertFingerprint;

            // A new root validity never re-issues the deployed root (every cluster's trust would go
            // with it at once): the preview keeps it and warns that the setting is for the next root.
            writeStack("primary", ca({ rootValidityDays: 7300 }));
            const kept = JSON.parse((await cliOk(["preview", "--json", "-s", "primary"])).stdout) as
                { steps: Array<{ op: string; urn: string }>; diagnostics?: Array<{ message: string }> };
            const rootSteps = kept.steps.filter((step) => /::istio-ca-root$/.test(step.urn)).map((step) => step.op);
            assert.ok(rootSteps.length > 0, "the preview has a step for the root");
            assert.deepStrictEqual(rootSteps.filter((op) => !["same", "refresh", "read"].includes(op)), [], `the root is kept as it is: ${rootSteps}`);
            assert.match(JSON.stringify(kept.diagnostics ?? []), /root 0 keeps the subject and validity it was made with \(mesh1 root CA, 3650 days\)/);

            // 1. A second root, trusted everywhere beside the first; the intermediates stay.
            writeStack("primary", ca({ trustRoots: [1] }));
            await up("primary");
            await up("remote-a");
            await refreshIstiods();
            const overlap = await distributedRoots(2);
            assert.ok(overlap.includes(oldRoot), "the old root is still trusted");
            const newRoot = overlap.find((r) => r !== oldRoot)!;
            const rootsOf = (roots: crypto.X509Certificate[]) => roots.map((r) => r.fingerprint256).sort();
            await refreshRotationRoots();
            await rotationWorkloadsHold("both roots", (_chain, roots) => JSON.stringify(rootsOf(roots)) === JSON.stringify([oldRoot, newRoot].sort()));
            for (const name of both) {
                const signed = await workloadCertificate(name);
                assert.strictEqual(pemCertificates(signed.rootsPem).length, 2, `${name}'s CA serves both roots`);
                const root = signed.chain.find((c) => c.fingerprint256 === oldRoot);
                assert.ok(root && signed.signer.verify(root.publicKey), `${name}'s intermediate is still the old root's`);
            }
            // Dropping the old root before the intermediates moved off it is refused.
            writeStack("primary", ca({ root: 1 }));
            await refusedUp("primary", /istio-multicluster:ca\.trustRoots = "\[\]": drops root 0, which the intermediates were signed with at the last deployment/);

            // 2. The intermediates re-issued by the new root, the old still trusted.
            writeStack("primary", ca({ root: 1, trustRoots: [0] }));
            await up("primary");
            // remote-a has not deployed its new intermediate yet: dropping the old root is refused, naming it.
            writeStack("primary", ca({ root: 1 }));
            await refusedUp("primary", /drops root 0, and remote-a's intermediate still chains to it.*`pulumi up -s organization\/istio-multicluster\/remote-a` first/);
            writeStack("primary", ca({ root: 1, trustRoots: [0] }));
            await up("remote-a");
            await refreshIstiods();
            for (const name of both) {
                await eventually(`${name}'s istiod to sign with an intermediate of the new root`, 60, async () => {
                    const signed = await workloadCertificate(name);
                    const root = signed.chain.find((c) => c.fingerprint256 === newRoot);
                    return root && signed.signer.verify(root.publicKey) ? true : undefined;
                });
            }
            await refreshRotationRoots();
            const newRootCert = () => workloadRoots(rotationPods.client).find((r) => r.fingerprint256 === newRoot);
            await rotationWorkloadsHold("a certificate of an intermediate of the new root", (chain) => {
                const root = newRootCert();
                return root !== undefined && chain.length > 1 && chain[1].verify(root.publicKey);
            });

            // 3. The old root dropped: every cluster trusts the new one alone.
            writeStack("primary", ca({ root: 1 }));
            await up("primary");
            await up("remote-a");
            await refreshIstiods();
            assert.deepStrictEqual(await distributedRoots(1), [newRoot]);
            assert.strictEqual((await outputs("primary")).rootCertFingerprint, newRoot);
            const signed = await workloadCertificate("remote-a");
            assert.deepStrictEqual(pemCertificates(signed.rootsPem).map(certificateFingerprint), [newRoot], "remote-a's CA serves the new root alone");
            await refreshRotationRoots();
            await rotationWorkloadsHold("the new root alone", (_chain, roots) => JSON.stringify(rootsOf(roots)) === JSON.stringify([newRoot]));
            // Every call, from before the intermediate rotation to here, was answered.
            const counted = await rotationCalls!.stop();
            rotationCalls = undefined;
            console.log(`        calls through one intermediate and one root rotation: ${counted.made} made, ${counted.failures.length} failed`);
            assert.deepStrictEqual(counted.failures, [], `${counted.failures.length} of ${counted.made} calls failed`);
            assert.ok(counted.made >= 100, `only ${counted.made} calls were made`);
            assert.doesNotMatch(runLog.join("\n"), /PRIVATE KEY/, "no Pulumi run, refused ones included, printed a private key");
        }));

        it("a third primary registers with both and reads both; every istiod lists the other two synced", () => timer.time("multi-primary: third primary", async () => {
            // The primary issues remote-b's intermediate first; nothing else of it changes.
            writeStack("primary", { ...primaryConfig, ca: { generate: true, peers: ["remote-a", "remote-b"], rotate: { "remote-a": 1 }, root: 1 } });
            await up("primary");
            writeStack("remote-b", {
                ...peerConfig, kubeContext: "remote-b",
                podCidr: "10.30.0.0/16", serviceCidr: "10.130.0.0/16",
                peers: [{ stack: "organization/istio-multicluster/remote-a", kubeContext: "remote-a" }],
            });
            await up("remote-b");
            await startIstiod("remote-b");
            const all = ["primary", "remote-a", "remote-b"];
            for (const self of all) {
                await eventually(`${self}'s istiod to list the other two synced`, 120, async () => {
                    const synced = (await clusterz(self)).filter((c) => c.syncStatus === "synced").map((c) => c.id);
                    return all.every((c) => synced.includes(c)) ? true : undefined;
                });
            }
        }));

        it("leaving removes every registration, in every other cluster", () => timer.time("multi-primary: leave", async () => {
            await stopIstiod("remote-b");
            await cliOk(["destroy", "--yes", "--skip-preview", "-s", "remote-b"]);
            for (const self of ["primary", "remote-a"]) {
                await eventually(`${self}'s istiod to drop remote-b`, 60, async () =>
                    (await clusterz(self)).some((c) => c.id === "remote-b") ? undefined : true);
                assert.strictEqual(await cluster(self).has("v1", "Secret", "istio-remote-secret-remote-b", NS), false);
            }
            assert.deepStrictEqual(await istiodLeftovers(cluster("primary"), cluster("remote-b"), "remote-b"), []);
            await leaveThenTearDown();
        }));
    });

    describe("multi-primary on two networks, through east-west gateways", () => {
        const primaryConfig = exampleConfig("multi-network", "primary");
        const peerConfig = exampleConfig("multi-network", "remote-a");
        const gateway: Record<string, string> = {};
        let client: Pod;
        let server: Pod;

        it("installs each primary with its network's gateway: both get a load balancer address, and both istiods list both networks' gateways there", () => timer.time("networks: two primaries with gateways", async () => {
            writeStack("primary", primaryConfig);
            await upWithIstiod("primary");
            writeStack("remote-a", peerConfig);
            await upWithIstiod("remote-a");
            for (const [stack, range] of [["primary", /^127\.0\.2\.\d+$/], ["remote-a", /^127\.0\.3\.\d+$/]] as const) {
                gateway[stack] = (await outputs(stack)).eastWestGatewayAddress;
                assert.match(gateway[stack], range, `${stack}'s gateway address, from its cluster's load balancer`);
                const service = await cluster(stack).core.readNamespacedService({ name: "istio-eastwestgateway", namespace: NS });
                assert.strictEqual(service.status?.loadBalancer?.ingress?.[0]?.ip, gateway[stack]);
            }
            for (const self of ["primary", "remote-a"]) {
                await eventually(`${self}'s istiod to list both networks' gateways`, 120, async () => {
                    const listed = ((await debug(self, "networkz")) as Array<{ Network: string; Addr: string; Port: number }>)
                        .map((g) => `${g.Network} ${g.Addr}:${g.Port}`).sort();
                    return JSON.stringify(listed) === JSON.stringify([`network1 ${gateway.primary}:15443`, `network2 ${gateway["remote-a"]}:15443`])
                        ? true : undefined;
                });
            }
        }));

        it("`mesh status --istiod` shows remote-a synced and each network's gateway, as istiod lists it", () => timer.time("networks: mesh status", async () => {
            fs.rmSync(path.join(workDir, "Pulumi.remote-b.yaml"), { force: true }); // remote-b left the mesh above
            const r = await runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), "status", "--istiod", `http://${IP.primary}:15014`],
                workDir, env, 300);
            assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
            assert.match(r.stdout, /^remote-a +ok +current +ok +ok +synced +-$/m);
            assert.match(r.stdout, new RegExp(`^network1 +${gateway.primary.replace(/\./g, "\\.")}:15443 +primary +listed$`, "m"));
            assert.match(r.stdout, new RegExp(`^network2 +${gateway["remote-a"].replace(/\./g, "\\.")}:15443 +remote-a +listed$`, "m"));
        }));

        it("a client in network1 is sent to network2's gateway (15443), not to the pod, for a service whose pods are only in network2", () => timer.time("networks: endpoints through the gateway", async () => {
            // The server is a mesh workload with an Envoy sidecar (which nothing here can run); the
            // client is proxyless gRPC: the address it dials is the endpoint its istiod gave it.
            server = await deploy("remote-a", "networks", "echo", { injection: "sidecar" });
            client = await deploy("primary", "networks", "client");
            await startWorkload(client, "primary", "client");
            started.push(client);
            const calls = await eventually("the client to dial remote-a's gateway", 120, async () => {
                const r = await call(client, `xds:///echo.networks.svc.cluster.local:${ECHO_PORT}`);
                return r.output.includes(`dial tcp ${gateway["remote-a"]}:15443`) ? r : undefined;
            });
            assert.ok(!calls.output.includes(server.ip), `the pod's own address is never dialed:\n${calls.output}`);
        }));

        it("with PeerAuthentication DISABLE there, Istio drops the cross-network endpoints (the gateway carries mTLS only)", () => timer.time("networks: mTLS disabled", async () => {
            for (const name of ["primary", "remote-a"]) {
                await peerAuthentication(cluster(name), "networks", "DISABLE");
            }
            const calls = await eventually("the cross-network endpoints to disappear", 120, async () => {
                const r = await call(client, `xds:///echo.networks.svc.cluster.local:${ECHO_PORT}`);
                return r.output.includes("no targets to pick from") ? r : undefined;
            });
            assert.ok(!calls.output.includes(":15443") && !calls.output.includes(server.ip), calls.output);
        }));

        it("leaving: the primary's istiod drops remote-a, and nothing of it is left", () => timer.time("networks: leave", async () => {
            for (const pod of started.splice(0)) {
                await stopWorkload(pod);
            }
            await leaveThenTearDown();
        }));
    });
});

/** istiod's debug endpoint on a local cluster's address. */
/** The names (`DNS:…`, `IP Address:…`) in the certificate a TLS server at address:port serves. */
function servingCertificateNames(address: string, port: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
        // Only the certificate is read; nothing is sent over an unverified connection.
        const socket = tls.connect({ host: address, port, rejectUnauthorized: false }, () => {
            resolve((socket.getPeerCertificate().subjectaltname ?? "").split(", "));
            socket.end();
        });
        socket.on("error", reject);
    });
}

/** One of istiod's debug endpoints, as JSON, from the istiod of a cluster. */
function debug(clusterName: string, endpoint: string): Promise<unknown> {
    return istiodDebug(IP[clusterName], endpoint);
}

/**
 * A workload's certificate chain as istiod issued it: the leaf names the service account's SPIFFE
 * identity, each certificate is signed by the next, and the last is signed by the mesh root.
 */
function assertMeshIdentity(chain: crypto.X509Certificate[], namespace: string, serviceAccount: string, rootPem: string): void {
    assert.strictEqual(chain[0].subjectAltName, `URI:spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`);
    const root = new crypto.X509Certificate(rootPem);
    chain.forEach((cert, i) => {
        const issuer = chain[i + 1] ?? root;
        assert.ok(cert.verify(issuer.publicKey), `certificate ${i} (${cert.subject}) is signed by ${issuer.subject}`);
    });
}

/** The `cacerts` secret's files in a local cluster, as istiod reads them. */
async function cacerts(clusterName: string): Promise<Record<string, string>> {
    const secret = await localCluster(clusterName).core.readNamespacedSecret({ name: "cacerts", namespace: NS });
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([file, data]) => [file, Buffer.from(data, "base64").toString()]));
}

/**
 * A workload certificate from a cluster's istiod, for service account sample/ca-test of that
 * cluster (authenticated there by a token of audience istio-ca), its serving certificate trusted
 * through the cluster's own root-cert.pem.
 */
async function workloadCertificate(clusterName: string): Promise<SignedChain> {
    const c = localCluster(clusterName);
    await c.core.createNamespacedServiceAccount({ namespace: "sample", body: { metadata: { name: "ca-test" } } }).catch((err) => {
        if (statusOf(err) !== 409) {
            throw err;
        }
    });
    const token = await c.core.createNamespacedServiceAccountToken({ name: "ca-test", namespace: "sample",
        body: { spec: { audiences: ["istio-ca"], expirationSeconds: 600 } } });
    return requestWorkloadCertificate(`${IP[clusterName]}:15012`, token.status!.token!, clusterName, (await cacerts(clusterName))["root-cert.pem"]);
}

/** The clusters istiod knows, with their sync status. */
async function clusterz(clusterName: string): Promise<Array<{ id: string; syncStatus: string }>> {
    return (await debug(clusterName, "clusterz")) as Array<{ id: string; syncStatus: string }>;
}

/** What a leaving istiod-model cluster could leave behind, in its cluster or the primary, but the CRDs Istio keeps. */
async function istiodLeftovers(primary: TestCluster, remote: TestCluster, clusterName: string): Promise<string[]> {
    await eventually(`${clusterName}'s Istio namespace to be gone`, 120, async () =>
        (await remote.has("v1", "Namespace", NS)) ? undefined : true).catch(() => undefined);
    const found: string[] = [];
    for (const [who, label, apiVersion, kind, name, namespace] of [
        [remote, clusterName, "v1", "Namespace", NS],
        [remote, clusterName, "rbac.authorization.k8s.io/v1", "ClusterRole", `istio-reader-clusterrole-${NS}`],
        [remote, clusterName, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "istio-sidecar-injector"],
        [primary, "primary", "v1", "Secret", `istio-remote-secret-${clusterName}`, NS],
    ] as Array<[TestCluster, string, string, string, string, string?]>) {
        if (await who.has(apiVersion, kind, name, namespace)) {
            found.push(`${label}: ${kind} ${namespace ? `${namespace}/` : ""}${name}`);
        }
    }
    // Istio's CRDs stay by design (helm.sh/resource-policy: keep, as istioctl keeps them without --purge),
    // so that Istio configuration in the cluster survives; anything else of Istio's is a leftover.
    const crds = (await remote.objects.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")).items
        .filter((c) => c.metadata?.name?.endsWith(".istio.io") && c.metadata.annotations?.["helm.sh/resource-policy"] !== "keep");
    for (const crd of crds) {
        found.push(`${clusterName}: CRD ${crd.metadata?.name} without helm.sh/resource-policy: keep`);
    }
    return found;
}

