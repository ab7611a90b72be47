// Upgrading a primary-remote mesh by istiod revisions, from one real Istio to another (both built
// by the toolchain: 1.31-dev-b01690e, then the pinned 1.31-dev-eed52eb), through `mesh preview` and
// `mesh up`, while a client in the primary calls a server in remote-a without pause. Each revision's
// istiod is that version's pilot-discovery on an address of its own; each workload runs the
// pilot-agent of the release it was injected with and reaches istiod through the Service its
// injection names. The oracle is istiod's own view (its debug endpoints) and the pods as injected.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { eventually, istiodDebug, localCluster, makeWorkDir, snapshot, validationFailsClosed } from "./helpers";
import { runCommand, StepTimer } from "./pulumi";
import { call, callContinuously, CallCount, deploy, ECHO_PORT, Pod, requireMutualTls, startWorkload, stopWorkload } from "./workloads";

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE = process.env.ISTIO_MC_CACHE ?? path.join(process.env.HOME!, ".cache", "istio-multicluster");
const NS = "istio-system";
const APP_NS = "upgrade";
const ECHO_HOST = `echo.${APP_NS}.svc.cluster.local`;
const ECHO_URL = `xds:///${ECHO_HOST}:${ECHO_PORT}`;
const TAG = "prod-stable";

/** A revision of the mesh: the toolchain's Istio `version`, its istiod on `address` (a pod address of the primary's range). */
interface TestRevision {
    readonly name: string;
    readonly version: string;
    readonly address: string;
}
const OLD: TestRevision = { name: "1-31-b01690e", version: "1.31-dev-b01690e", address: "10.10.250.1" };
const NEW: TestRevision = { name: "1-31-eed52eb", version: "1.31-dev-eed52eb", address: "10.10.250.2" };

const charts = (r: TestRevision) => path.join(CACHE, "toolchain", "istio-versions", r.version, "charts");
const revisionConfig = (r: TestRevision) => ({ name: r.name, chartDir: charts(r), tag: r.version, discoveryAddress: r.address });

/** A proxy istiod serves, as its syncz lists it. */
interface Synced {
    readonly proxy: string;
    readonly istio_version?: string;
}

describe("end to end: upgrading a primary-remote mesh by revisions, calls never stopping", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    let workDir: string;
    let env: NodeJS.ProcessEnv;
    const pods: Pod[] = [];
    const callers: Array<{ pod: Pod; calls: ReturnType<typeof callContinuously> }> = [];
    const counted: CallCount[] = [];

    const mesh = (...args: string[]) => runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), ...args], workDir, env, 600);
    const meshOk = async (...args: string[]) => {
        const r = await mesh(...args);
        assert.strictEqual(r.code, 0, `mesh ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    };
    const clusters = (...args: string[]) => runCommand("bash", [path.join(ROOT, "tools/clusters/local-clusters.sh"), ...args], ROOT, env, 300);
    const clustersOk = async (...args: string[]) => {
        const r = await clusters(...args);
        assert.strictEqual(r.code, 0, `local-clusters.sh ${args.join(" ")}\n${r.stderr}`);
    };
    /** The kubelet's part: the revision's istiod runs once its Deployment exists; remote-a's Service leads to it. */
    const startIstiod = async (r: TestRevision) => {
        await clustersOk("istiod", "primary", NS, r.name, r.address, r.version);
        await clustersOk("service", "remote-a", NS, `istiod-${r.name}`);
    };
    const writeStack = (stack: string, config: Record<string, unknown>) => {
        const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`istio-multicluster:${k}`, v]));
        fs.writeFileSync(path.join(workDir, `Pulumi.${stack}.yaml`), yaml.dump({ config: prefixed }));
    };
    const primaryConfig = (revisions: TestRevision[], tags: Record<string, string>) => ({
        role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: charts(OLD), ca: { generate: true },
        values: { global: { hub: "docker.io/istio" } }, podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16",
        revisions: revisions.map(revisionConfig), revisionTags: tags,
    });
    /**
     * The pod's proxy as istiod `r` lists it among those it serves. A client's agent holds a stream
     * to istiod while its gRPC library does, for each call: polled until one is seen.
     */
    const servedBy = (r: TestRevision, pod: Pod) => eventually(`istiod-${r.name} to serve ${pod.name}`, 60, async () =>
        ((await istiodDebug(r.address, "syncz")) as Synced[]).find((s) => s.proxy === `${pod.name}.${pod.namespace}`));
    /** Waits until istiod `r` lists remote-a synced (its /debug/clusterz). */
    const listsRemoteASynced = (r: TestRevision) => eventually(`istiod-${r.name} to list remote-a synced`, 120, async () =>
        ((await istiodDebug(r.address, "clusterz")) as Array<{ id: string; syncStatus: string }>)
            .find((c) => c.id === "remote-a")?.syncStatus === "synced" ? true : undefined);
    /** The revision and image tag a pod was injected with. */
    const injectedAs = async (pod: Pod) => {
        const p = await localCluster(pod.cluster).core.readNamespacedPod({ name: pod.name, namespace: pod.namespace });
        const image = p.spec!.containers.find((c) => c.name === "istio-proxy")?.image ?? "";
        return { revision: p.metadata!.annotations?.["istio.io/rev"], tag: image.replace(/^.*:/, "") };
    };
    const startCalling = async (pod: Pod) => {
        // A caller is put in service once its first call answers, as a readiness probe would have it.
        await eventually(`a first call from ${pod.cluster}/${pod.name}`, 120, async () => ((await call(pod, ECHO_URL)).ok ? true : undefined));
        callers.push({ pod, calls: callContinuously(pod, ECHO_URL) });
    };
    const stopCalling = async (pod: Pod) => {
        const i = callers.findIndex((c) => c.pod === pod);
        counted.push(await callers[i].calls.stop());
        callers.splice(i, 1);
    };
    /**
     * Rolls a workload as `kubectl rollout restart` does: its new pod (injected by whatever its
     * namespace's label names now) runs and serves or calls before the old one stops, which the
     * Deployment's minReadySeconds keeps meanwhile. Returns the new pod.
     */
    const roll = async (old: Pod, role: "server" | "client"): Promise<Pod> => {
        const cluster = localCluster(old.cluster);
        const app = old.name.replace(/-[^-]+-[^-]+$/, "");
        const deployment = await cluster.apps.readNamespacedDeployment({ name: app, namespace: old.namespace });
        deployment.spec!.template.metadata!.annotations = {
            ...deployment.spec!.template.metadata!.annotations, "kubectl.kubernetes.io/restartedAt": new Date().toISOString(),
        };
        await cluster.apps.replaceNamespacedDeployment({ name: app, namespace: old.namespace, body: deployment });
        const fresh = await eventually(`a new ${app} pod in ${old.cluster}`, 120, async () => {
            const list = await cluster.core.listNamespacedPod({ namespace: old.namespace, labelSelector: `app=${app}` });
            const p = list.items.find((i) => i.metadata!.name !== old.name && i.status?.podIP && !i.metadata!.deletionTimestamp);
            return p && { cluster: old.cluster, namespace: old.namespace, name: p.metadata!.name!, ip: p.status!.podIP! };
        });
        await startWorkload(fresh, "-", role);
        pods.push(fresh);
        if (role === "client") {
            await startCalling(fresh);
            await stopCalling(old);
        }
        const oldPod = await cluster.core.readNamespacedPod({ name: old.name, namespace: old.namespace }).catch(() => undefined);
        assert.ok(oldPod && !oldPod.metadata!.deletionTimestamp, `${old.name} was gone before its replacement ${fresh.name} ran`);
        await eventually(`the Deployment to retire ${old.name}`, 180, async () =>
            (await cluster.core.readNamespacedPod({ name: old.name, namespace: old.namespace }).catch(() => undefined)) ? undefined : true);
        await stopWorkload(old);
        pods.splice(pods.indexOf(old), 1);
        return fresh;
    };
    let client: Pod;
    let server: Pod;

    before(async () => {
        for (const r of [OLD, NEW]) {
            assert.ok(fs.existsSync(path.join(charts(r), "base", "Chart.yaml")), `Istio ${r.version}'s charts are built into ${charts(r)}`);
        }
        workDir = makeWorkDir();
        for (const file of fs.readdirSync(workDir).filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml")) {
            fs.rmSync(path.join(workDir, file));
        }
        const backend = path.join(workDir, ".backend");
        fs.mkdirSync(backend);
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` };
        writeStack("remote-a", {
            role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", primaryStack: "organization/istio-multicluster/primary",
            primaryKubeContext: "primary", sameHostControlPlanes: true, chartDir: charts(OLD),
            values: { global: { hub: "docker.io/istio", tag: OLD.version } }, podCidr: "10.20.0.0/16", serviceCidr: "10.120.0.0/16",
        });
    });

    after(async () => {
        for (const caller of callers.splice(0)) {
            counted.push(await caller.calls.stop());
        }
        for (const pod of pods) {
            await stopWorkload(pod);
        }
        for (const r of [OLD, NEW]) {
            await clusters("istiod-stop", "primary", r.name);
            await clusters("service-stop", "remote-a", NS, `istiod-${r.name}`);
        }
        console.log(`\nUpgrade wall time per step:\n${timer.table()}\n`);
    });

    it(`runs the mesh on revision ${OLD.name} (Istio ${OLD.version}): clients in the primary call a server in remote-a`, () => timer.time("start on the old revision", async () => {
        writeStack("primary", primaryConfig([OLD], { [TAG]: OLD.name }));
        await meshOk("up", "--remotes", "remote-a");
        await startIstiod(OLD);
        await listsRemoteASynced(OLD);
        // istiod makes its validating webhooks fail-closed once the API server reaches it; one update
        // records that, so that each step's preview shows the step alone.
        await eventually("istiod to make the default validator fail-closed", 180, () => validationFailsClosed(localCluster("primary")));
        await meshOk("up", "--remotes", "remote-a");
        assert.match((await meshOk("preview", "--remotes", "remote-a")).stdout, /^no changes$/m);
        await requireMutualTls(localCluster("primary"), APP_NS, ECHO_HOST);
        const labels = { "istio.io/rev": TAG };
        server = await deploy("remote-a", APP_NS, "echo", { namespaceLabels: labels, minReadySeconds: 60 });
        await startWorkload(server, "-", "server");
        pods.push(server);
        client = await deploy("primary", APP_NS, "client", { namespaceLabels: labels, minReadySeconds: 60 });
        await startWorkload(client, "-", "client");
        pods.push(client);
        for (const pod of [server, client]) {
            assert.deepStrictEqual(await injectedAs(pod), { revision: OLD.name, tag: OLD.version }, `${pod.name} injected through the tag`);
        }
        await startCalling(client);
        for (const pod of [server, client]) {
            assert.strictEqual((await servedBy(OLD, pod)).istio_version, OLD.version, `${pod.name}'s agent is ${OLD.version}'s`);
        }
    }));

    it("step 1: `mesh preview` shows the canary revision added; `mesh up` adds it in every cluster, and both istiods list remote-a synced", () => timer.time("step 1: add the canary", async () => {
        writeStack("primary", primaryConfig([OLD, NEW], { [TAG]: OLD.name }));
        // A remote's diff follows from the primary's outputs, which change once the primary is up: its
        // preview shows the new release then.
        for (const [stage, stack] of [["preview", "primary"], ["up", "primary"], ["preview", "remote-a"]]) {
            const r = await meshOk(stage, "--stack", stack);
            if (stage === "preview") {
                assert.match(r.stdout, new RegExp(`^\\[${stack}\\] preview: create Chart [\\w-]+-istiod-${NEW.name} \\(`, "m"), `${stack}'s diff creates the new release\n${r.stdout}`);
                assert.doesNotMatch(r.stdout, new RegExp(`-istiod-${OLD.name}:`), `the old revision is left alone\n${r.stdout}`);
            }
        }
        await meshOk("up", "--remotes", "remote-a");
        await startIstiod(NEW);
        for (const r of [OLD, NEW]) {
            await listsRemoteASynced(r);
        }
        // Nothing moved: both workloads are still the old revision's.
        assert.strictEqual((await injectedAs(server)).revision, OLD.name);
    }));

    it("step 2: the tags move to the canary; restarted workloads in both clusters get it, each new pod serving or calling before its old one stops", () => timer.time("step 2: move the tags", async () => {
        writeStack("primary", primaryConfig([OLD, NEW], { [TAG]: NEW.name, default: NEW.name }));
        await meshOk("up", "--remotes", "remote-a");
        server = await roll(server, "server");
        client = await roll(client, "client");
        for (const pod of [server, client]) {
            assert.deepStrictEqual(await injectedAs(pod), { revision: NEW.name, tag: NEW.version }, `${pod.name} injected by the canary`);
        }
        for (const pod of [server, client]) {
            assert.strictEqual((await servedBy(NEW, pod)).istio_version, NEW.version, `${pod.name}'s agent is ${NEW.version}'s`);
        }
    }));

    it("moving the tag back is the way back: new pods get the old revision again; then forward once more", () => timer.time("step 2: roll back and forth", async () => {
        writeStack("primary", primaryConfig([OLD, NEW], { [TAG]: OLD.name, default: OLD.name }));
        await meshOk("up", "--remotes", "remote-a");
        const probe = await localCluster("remote-a").core.createNamespacedPod({ namespace: APP_NS, body: {
            metadata: { generateName: "probe-", annotations: { "inject.istio.io/templates": "grpc-agent" } },
            spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
        } });
        assert.strictEqual(probe.metadata!.annotations?.["istio.io/rev"], OLD.name, "a new pod after the roll-back is the old revision's");
        await localCluster("remote-a").core.deleteNamespacedPod({ name: probe.metadata!.name!, namespace: APP_NS });
        writeStack("primary", primaryConfig([OLD, NEW], { [TAG]: NEW.name, default: NEW.name }));
        await meshOk("up", "--remotes", "remote-a");
    }));

    it("step 3 is refused while a namespace of remote-a still uses the old revision, naming it, with nothing changed", () => timer.time("step 3: refused while in use", async () => {
        await localCluster("remote-a").core.createNamespace({ body: { metadata: { name: "legacy", labels: { "istio.io/rev": OLD.name } } } });
        writeStack("primary", primaryConfig([NEW], { [TAG]: NEW.name, default: NEW.name }));
        const before = await snapshot(["primary", "remote-a"]);
        const r = await mesh("up", "--remotes", "remote-a");
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, new RegExp(`istio-multicluster:revisions = "${OLD.name}": is removed from the list, but the mesh still uses it: ` +
            "remote-a: namespace legacy \\(labelled istio\\.io/rev\\)"));
        assert.deepStrictEqual(await snapshot(["primary", "remote-a"]), before);
    }));

    it("step 3: once nothing uses it, the old revision goes from every cluster; calls never failed", () => timer.time("step 3: remove the old revision", async () => {
        await localCluster("remote-a").core.deleteNamespace({ name: "legacy" });
        await eventually("namespace legacy to be gone", 60, async () =>
            (await localCluster("remote-a").core.readNamespace({ name: "legacy" }).catch(() => undefined)) ? undefined : true);
        await meshOk("up", "--remotes", "remote-a");
        await clustersOk("istiod-stop", "primary", OLD.name);
        await clustersOk("service-stop", "remote-a", NS, `istiod-${OLD.name}`);
        for (const name of ["primary", "remote-a"]) {
            assert.ok(!(await localCluster(name).has("v1", "Service", `istiod-${OLD.name}`, NS)), `istiod-${OLD.name} is gone from ${name}`);
        }
        // The calls go on a little on the new revision alone before they are counted.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        for (const caller of callers.splice(0)) {
            counted.push(await caller.calls.stop());
        }
        const made = counted.reduce((n, c) => n + c.made, 0);
        const failures = counted.flatMap((c) => c.failures);
        console.log(`      calls from the primary to remote-a during the upgrade: ${made} made, ${failures.length} failed`);
        assert.ok(made > 100, `only ${made} calls were made`);
        assert.deepStrictEqual(failures, [], `${failures.length} of ${made} calls failed`);
    }));

    it("the mesh comes down: remote-a, then the primary; nothing of Istio's revisions is left", () => timer.time("down", async () => {
        for (const pod of pods.splice(0)) {
            await stopWorkload(pod);
        }
        await meshOk("down");
        await clustersOk("istiod-stop", "primary", NEW.name);
        await clustersOk("service-stop", "remote-a", NS, `istiod-${NEW.name}`);
        for (const name of ["primary", "remote-a"]) {
            await eventually(`${name}'s Istio namespace to be gone`, 120, async () =>
                (await localCluster(name).has("v1", "Namespace", NS)) ? undefined : true);
            const webhooks = await localCluster(name).objects.list("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration");
            assert.deepStrictEqual(webhooks.items.map((w) => w.metadata!.name).filter((n) => /istio/.test(n!)), [], `${name}'s webhooks`);
        }
        await localCluster("primary").core.deleteNamespace({ name: APP_NS });
        await localCluster("remote-a").core.deleteNamespace({ name: APP_NS });
    }));
});
