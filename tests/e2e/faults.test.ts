// Interrupted and concurrent runs on the real engine: a `mesh up` or `pulumi up` killed part-way
// (SIGKILL), a `pulumi up` stopped with SIGINT, an API server that goes away during a run, two `mesh up` at once, and the primary
// destroyed and re-created under a joined remote. After each, `mesh up` converges with no manual
// step, and at the end `mesh down` leaves nothing behind (so nothing was orphaned on the way).
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { listProcesses, orphanedPlugins } from "../../cli/recovery";
import { eventually, leftovers, localCluster, makeWorkDir } from "./helpers";
import { pulumi, pulumiOk, runCommand, StepTimer } from "./pulumi";

const ROOT = path.resolve(__dirname, "..", "..");
const NS = "istio-system";

describe("end to end: interrupted and concurrent runs", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    const primary = localCluster("primary");
    const remote = localCluster("remote-a");
    let workDir: string;
    let backend: string;
    let env: NodeJS.ProcessEnv;

    const cliOk = (args: string[]) => pulumiOk(workDir, env, args);
    const mesh = (...args: string[]) => runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), ...args], workDir, env);
    const meshOk = async (...args: string[]) => {
        const r = await mesh(...args);
        assert.strictEqual(r.code, 0, `mesh ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    };
    const clusters = (...args: string[]) => runCommand("bash", [path.join(ROOT, "tools/clusters/local-clusters.sh"), ...args], ROOT, env, 300);
    /** remote-a's checkpoint in the file backend, as the engine last wrote it. */
    const checkpoint = () => {
        const file = path.join(backend, ".pulumi", "stacks", "istio-multicluster", "remote-a.json");
        return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")).checkpoint?.latest : undefined;
    };
    /** The lock files on remote-a in the file backend. */
    const locks = () => {
        const dir = path.join(backend, ".pulumi", "locks", "organization", "istio-multicluster", "remote-a");
        return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
    };
    const pendingInState = () => (checkpoint()?.pending_operations ?? []) as PendingOperation[];
    type PendingOperation = { type: string; resource: { type: string } };
    /** The pid the lock on remote-a names: the pulumi process that holds it. */
    const lockPid = () => {
        const dir = path.join(backend, ".pulumi", "locks", "organization", "istio-multicluster", "remote-a");
        return Number(JSON.parse(fs.readFileSync(path.join(dir, locks()[0]), "utf8")).pid);
    };
    /**
     * Starts an up of remote-a (`pulumi up -s remote-a`, or `command` with its arguments) and
     * resolves as soon as the engine has recorded an operation `until` picks.
     */
    const upUntilPending = async (until: (op: PendingOperation) => boolean,
        [command, ...args]: string[] = ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "-s", "remote-a"]) => {
        const child = spawn(command, args, { cwd: workDir, env });
        let output = "";
        child.stdout!.on("data", (d) => (output += d));
        child.stderr!.on("data", (d) => (output += d));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        for (const deadline = Date.now() + 180_000; !pendingInState().some(until); await new Promise((r) => setTimeout(r, 25))) {
            assert.ok(Date.now() < deadline, `no such operation in remote-a's state within 180s\n${output}`);
        }
        return { child, output: () => output, exited };
    };
    /** A Kubernetes object being created: killed now, the run leaves an object the state does not hold. */
    const creatingAnObject = (op: PendingOperation) => op.type === "creating" && op.resource.type.startsWith("kubernetes:");
    /** Pulumi's plugin processes (language host, providers) running in this suite's project directory. */
    const pluginProcesses = (): string[] => fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
            return /pulumi-(resource|language)-/.test(cmd) && fs.readlinkSync(`/proc/${pid}/cwd`) === workDir ? [`${pid} ${cmd}`] : [];
        } catch {
            return [];
        }
    });
    const registered = () => primary.has("v1", "Secret", "remote-a", NS);
    /** `mesh up` of remote-a converges: it joins, the state has nothing pending, and a second look finds no changes. */
    const convergesWithMeshUp = async () => {
        const r = await meshOk("up", "--remotes", "remote-a");
        assert.deepStrictEqual(pendingInState(), []);
        assert.ok(await registered(), "remote-a is registered in the primary");
        await cliOk(["preview", "--expect-no-changes", "-s", "remote-a"]);
        return r;
    };

    before(async () => {
        workDir = fs.realpathSync(makeWorkDir());
        backend = path.join(workDir, ".backend");
        fs.mkdirSync(backend);
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` };
        // This suite's remote-a has no istio-pilot Service: its sidecars dial the primary's pilot directly.
        const stackFile = path.join(workDir, "Pulumi.remote-a.yaml");
        const text = fs.readFileSync(stackFile, "utf8");
        assert.match(text, /remotePilotCreateSvcEndpoint: true/);
        fs.writeFileSync(stackFile, text.replace("remotePilotCreateSvcEndpoint: true", "remotePilotCreateSvcEndpoint: false"));
        for (const stack of ["primary", "remote-a"]) {
            await cliOk(["stack", "init", stack, "--secrets-provider", "passphrase"]);
        }
        await cliOk(["up", "--yes", "--skip-preview", "-s", "primary"]);
    });

    /** Stops the plugin processes a killed run left in this suite's project directory. */
    const stopOrphanedPlugins = () => {
        for (const p of orphanedPlugins(listProcesses(), workDir)) {
            try {
                process.kill(p.pid, "SIGKILL");
            } catch {
                // gone meanwhile
            }
        }
    };

    after(() => {
        // A failed step may have left a killed run's plugins behind: they are this suite's to stop.
        stopOrphanedPlugins();
        console.log(`\nFaults wall time per step:\n${timer.table()}\n`);
    });

    it("a `mesh up` killed with SIGKILL part-way (mesh and its pulumi): the next `mesh up` clears its lock and pending operations, and converges", () => timer.time("SIGKILL + mesh up", async () => {
        const run = await upUntilPending(creatingAnObject, [process.execPath, path.join(workDir, "bin", "mesh"), "up", "--remotes", "remote-a"]);
        const holder = lockPid();
        run.child.kill("SIGKILL");
        process.kill(holder, "SIGKILL");
        await run.exited;
        await eventually("the killed pulumi to be gone", 10, async () => (fs.existsSync(`/proc/${holder}`) ? undefined : true));
        assert.ok(pendingInState().length > 0, "the killed run left pending operations in the state");
        assert.strictEqual(locks().length, 1, "and its lock");

        const r = await convergesWithMeshUp();
        assert.deepStrictEqual(locks(), []);
        assert.match(r.stdout, new RegExp(`^\\[remote-a\\] removing the lock left by pulumi pid ${holder} of .*: that process is gone$`, "m"));
        assert.match(r.stdout, /^\[remote-a\] an interrupted run left \d+ pending operations? \(creating .*\); refreshing to clear them$/m);
        assert.match(r.stdout, /^\[remote-a\] stopping what the gone run left running: .*pulumi-resource-kubernetes \(pid \d+\)/m);
        assert.deepStrictEqual(pluginProcesses(), [], "no plugin process outlives its run");
    }));

    it("a lock left by a `pulumi up` mesh did not start: `mesh up` cannot prove it gone, refuses naming `pulumi cancel`, and changes nothing", () => timer.time("foreign lock refused", async () => {
        await meshOk("down", "--remotes", "remote-a");
        const run = await upUntilPending(creatingAnObject);
        run.child.kill("SIGKILL");
        await run.exited;
        const before = checkpoint();
        const r = await mesh("up", "--remotes", "remote-a");
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, new RegExp(`^mesh: stack remote-a failed: locked by pulumi pid ${run.child.pid} of \\S+, since \\S+: a run this machine ` +
            "cannot tell is over .*remove the lock: `pulumi cancel --yes -s remote-a`", "m"));
        assert.strictEqual(locks().length, 1, "the lock stays");
        assert.deepStrictEqual(checkpoint(), before, "and the state");
        await cliOk(["cancel", "--yes", "-s", "remote-a"]);
        await convergesWithMeshUp();
        // The killed run's plugins: mesh stops them only with a lock it proved stale; here they are the test's to stop.
        stopOrphanedPlugins();
    }));

    it("with remotePilotCreateSvcEndpoint false, remote-a's sidecars dial the primary's pilot at its address", () => timer.time("remotePilotCreateSvcEndpoint false", async () => {
        const out = JSON.parse((await cliOk(["stack", "output", "--json", "-s", "primary"])).stdout);
        const mesh = (await remote.core.readNamespacedConfigMap({ name: "istio", namespace: NS })).data!.mesh;
        assert.match(mesh, new RegExp(`discoveryAddress: ${out.pilotAddress.replace(/\./g, "\\.")}:15005$`, "m"));
        assert.match(mesh, new RegExp(`statsdUdpAddress: ${out.statsdAddress.replace(/\./g, "\\.")}:9125$`, "m"));
        assert.strictEqual(await remote.has("v1", "Service", "istio-pilot", NS), false, "no istio-pilot Service");
        assert.ok(await remote.has("apps/v1", "Deployment", "istio-citadel", NS), "Citadel runs in the remote");
    }));

    it("a `pulumi up` stopped with SIGINT part-way ends cleanly, and `mesh up` converges", () => timer.time("SIGINT + mesh up", async () => {
        await meshOk("down", "--remotes", "remote-a");
        const run = await upUntilPending(creatingAnObject);
        run.child.kill("SIGINT");
        const code = await run.exited;
        assert.notStrictEqual(code, 0, "the interrupted run reports failure");
        await eventually("the interrupted run's plugins to exit", 30, async () => pluginProcesses().length === 0 ? true : undefined);
        await convergesWithMeshUp();
    }));

    it("an object a run made but the state lost (as a run cut off mid-create leaves it): the next `pulumi up` takes it over, under the stack's own field manager", () => timer.time("lost object + pulumi up", async () => {
        const webhook = { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: "istio-sidecar-injector" } };
        const urn = (checkpoint().resources as Array<{ urn: string }>).map((r) => r.urn)
            .find((u) => u.endsWith("MutatingWebhookConfiguration::remote-a:istio-sidecar-injector"));
        assert.ok(urn, "remote-a's state holds its injection webhook");
        await cliOk(["state", "delete", "--yes", "-s", "remote-a", urn]);
        assert.ok(await remote.has(webhook.apiVersion, webhook.kind, webhook.metadata.name), "the webhook stays in remote-a");
        await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        await cliOk(["preview", "--expect-no-changes", "-s", "remote-a"]);
        const managers = (await remote.objects.read(webhook)).metadata!.managedFields!.map((m) => m.manager);
        assert.deepStrictEqual(managers, ["pulumi-istio-multicluster-remote-a"]);
    }));

    it("remote-a's API server stopped during `pulumi up`: the run fails naming it, so does a new one; once it is back, `mesh up` converges", () => timer.time("API server outage + mesh up", async () => {
        await meshOk("down", "--remotes", "remote-a");
        // Once the program has read the primary (its clusters answered), before it creates anything:
        // every call to remote-a fails from here on, and no readiness wait has begun.
        const run = await upUntilPending((op) => op.type === "reading" && op.resource.type === "pulumi:pulumi:StackReference");
        const stopped = await clusters("apiserver-stop", "remote-a");
        assert.strictEqual(stopped.code, 0, stopped.stderr);
        try {
            const code = await run.exited;
            assert.notStrictEqual(code, 0);
            assert.match(run.output(), /127\.0\.0\.3:6443/, "the error names remote-a's API server");
            // A run started while it is down stops before registering anything, naming the cluster and its address.
            const again = await pulumi(workDir, env, ["up", "--yes", "--skip-preview", "-s", "remote-a"]);
            assert.notStrictEqual(again.code, 0);
            assert.match(again.stdout + again.stderr, /127\.0\.0\.3:6443/);
            assert.strictEqual(await registered(), false, "nothing was registered in the primary");
        } finally {
            const started = await clusters("apiserver-start", "remote-a");
            assert.strictEqual(started.code, 0, started.stderr);
        }
        await convergesWithMeshUp();
    }));

    it("two `mesh up` at once: one runs, the other is refused naming the lock's holder, and the state stays whole", () => timer.time("two mesh up at once", async () => {
        const [a, b] = await Promise.all([mesh("up", "--remotes", "remote-a"), mesh("up", "--remotes", "remote-a")]);
        const codes = [a.code, b.code].sort();
        assert.deepStrictEqual(codes, [0, 1], `exit codes ${a.code}, ${b.code}\n${a.stdout}\n${a.stderr}\n${b.stdout}\n${b.stderr}`);
        const refused = a.code === 1 ? a : b;
        assert.match(refused.stderr, /^mesh: stack \S+ failed: locked by pulumi pid \d+ of \S+@\S+, since \S+: another run is in progress/m);
        await cliOk(["preview", "--expect-no-changes", "-s", "primary"]);
        await cliOk(["preview", "--expect-no-changes", "-s", "remote-a"]);
    }));

    it("remote-a leaves a primary whose API server is gone, saying what it could not delete there", () => timer.time("leave an unreachable primary", async () => {
        const stopped = await clusters("apiserver-stop", "primary");
        assert.strictEqual(stopped.code, 0, stopped.stderr);
        try {
            const refused = await pulumi(workDir, env, ["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
            assert.notStrictEqual(refused.code, 0, "without the opt-in the destroy stops at the unreachable primary");
            assert.match(refused.stdout + refused.stderr, /PULUMI_K8S_DELETE_UNREACHABLE/);
            const left = await pulumi(workDir, { ...env, PULUMI_K8S_DELETE_UNREACHABLE: "true" }, ["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
            assert.strictEqual(left.code, 0, left.stdout + left.stderr);
            // The registration lives in the primary: the provider drops it from the state and says so.
            assert.match(left.stdout + left.stderr, /RemoteClusterRegistration|kubernetes:core\/v1:Secret[^\n]*remote-a/);
            assert.match(left.stdout + left.stderr, /cluster is unreachable and the `deleteUnreachable` option is enabled/);
            assert.strictEqual(await remote.has("v1", "Namespace", NS), false, "remote-a's own side is gone");
        } finally {
            const started = await clusters("apiserver-start", "primary");
            assert.strictEqual(started.code, 0, started.stderr);
        }
        // What could not be deleted is still in the primary; the guard names it, and removing it by hand lets the mesh go on.
        assert.ok(await registered(), "the registration stayed in the unreachable primary");
        const guarded = await pulumi(workDir, env, ["destroy", "--yes", "--skip-preview", "-s", "primary"]);
        assert.match(guarded.stdout + guarded.stderr, /clusters remote-a are still registered in the primary/);
        await primary.core.deleteNamespacedSecret({ name: "remote-a", namespace: NS });
        await convergesWithMeshUp();
    }));

    it("the primary destroyed (orphaning on purpose) and re-created: `mesh up` restores remote-a's registration", () => timer.time("primary re-created + mesh up", async () => {
        await pulumiOk(workDir, { ...env, ISTIO_MC_ORPHAN_REMOTES: "true" }, ["destroy", "--yes", "--skip-preview", "-s", "primary"]);
        assert.strictEqual(await registered(), false, "the registration went with the primary's namespace");
        await meshOk("up");
        assert.ok(await registered(), "mesh up registered remote-a again");
        const status = await mesh("status");
        assert.strictEqual(status.code, 0, status.stdout + status.stderr);
    }));

    it("`mesh down` then leaves nothing of remote-a in either cluster, and no plugin process behind", () => timer.time("mesh down", async () => {
        await meshOk("down");
        assert.deepStrictEqual(await leftovers(primary, remote, "remote-a"), []);
        assert.strictEqual(await primary.has("v1", "Namespace", NS), false);
        assert.deepStrictEqual(pluginProcesses(), []);
    }));
});
