// `mesh`, the fleet command, on four real clusters (primary, remote-a, remote-b, remote-c), through
// the Automation API and the real Pulumi CLI. Run by tests/e2e/run.sh after the lifecycle suite.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { eventually, leftovers, localCluster, makeWorkDir, readyPodIp } from "./helpers";
import { runCommand, StepTimer } from "./pulumi";

const NS = "istio-system";
const REMOTES = ["remote-a", "remote-b", "remote-c"];

describe("end to end: mesh, the fleet command", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    const cluster = localCluster;
    let workDir: string;
    let env: NodeJS.ProcessEnv;
    const timings: Record<string, number> = {};

    /** Runs the `mesh` bin (bin/mesh) in the work directory. */
    const mesh = (...args: string[]) => runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), ...args], workDir, env);
    const meshOk = async (...args: string[]) => {
        const r = await mesh(...args);
        assert.strictEqual(r.code, 0, `mesh ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    };
    const statusJson = async () => {
        const r = await mesh("status", "--json");
        return { code: r.code, rows: Object.fromEntries(JSON.parse(r.stdout).remotes.map((row: any) => [row.remote, row])) as Record<string, any> };
    };
    /** Runs `check` with one text of remote-c's stack file replaced, and puts the file back after. */
    const withRemoteCEdited = async (text: string, replacement: string, check: () => Promise<void>) => {
        const file = path.join(workDir, "Pulumi.remote-c.yaml");
        const good = fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, good.replace(text, replacement));
        try {
            await check();
        } finally {
            fs.writeFileSync(file, good);
        }
    };
    /** The seconds one stack took, from the summary table `mesh up` prints. */
    const stackSeconds = (out: string, stack: string) => Number(new RegExp(`^${stack} +up +ok +\\d+ +([\\d.]+)`, "m").exec(out)![1]);

    before(() => {
        workDir = makeWorkDir();
        // A backend of its own: the lifecycle suite's stacks of the same names live in another.
        const backend = path.join(workDir, ".backend");
        fs.mkdirSync(backend);
        env = { ...process.env, PULUMI_BACKEND_URL: `file://${backend}` };
    });

    after(() => {
        console.log(`\nmesh wall time per step:\n${timer.table()}\n`);
        if (timings.oneRemote && timings.threeRemotes) {
            console.log(`Joining remotes, measured in this run: one remote ${timings.oneRemote.toFixed(1)}s, three in parallel ` +
                `${timings.threeRemotes.toFixed(1)}s (${(timings.threeRemotes / timings.oneRemote).toFixed(2)}x; goal <= 1.5x)\n`);
        }
    });

    it("answers argument errors with one line and the usage", () => timer.time("argument errors", async () => {
        for (const [args, message] of [
            [["frob"], /^mesh: unknown command 'frob'$/m],
            [["up", "--remote", "a"], /^mesh: unknown option '--remote'$/m],
            [["up", "--remotes"], /^mesh: option '--remotes <list>' argument missing$/m],
            [["add-remote", "b"], /^mesh: required option '--context <ctx>' not specified$/m],
            [["add-remote", "B_1", "--context", "x"], /^mesh: cluster name "remote-B_1" is not a DNS-1123 label/m],
            [["status"], /^mesh: stack "primary" does not exist; run `mesh up` first$/m],
            [["up", "--remotes", "remote-z"], /^mesh: no remote stack "remote-z" \(known: remote-a\)$/m],
        ] as Array<[string[], RegExp]>) {
            const r = await mesh(...args);
            assert.strictEqual(r.code, 2, `mesh ${args.join(" ")}`);
            assert.match(r.stderr, message);
            assert.match(r.stderr, /mesh --help lists the verbs/);
        }
        const help = await meshOk("status", "--help");
        assert.match(help.stdout, /^Usage: mesh status \[options\]/m);
        assert.match(help.stdout, /--istiod <url>/);
    }));

    it("adds remotes b and c from remote-a's stack file", () => timer.time("add-remote x2", async () => {
        await meshOk("add-remote", "b", "--context", "remote-b", "--pod-cidr", "10.30.0.0/16", "--service-cidr", "10.130.0.0/16",
            "--cacerts-dir", "tests/fixtures/certs/mesh/remote-b", "--chart-dir", "tests/fixtures/charts");
        await meshOk("add-remote", "c", "--context", "remote-c", "--pod-cidr", "10.40.0.0/16", "--service-cidr", "10.140.0.0/16",
            "--cacerts-dir", "tests/fixtures/certs/mesh/remote-c", "--chart-dir", "tests/fixtures/charts");
        const text = fs.readFileSync(path.join(workDir, "Pulumi.remote-b.yaml"), "utf8");
        assert.match(text, /istio-multicluster:clusterName: remote-b/);
        assert.match(text, /istio-multicluster:kubeContext: remote-b/);
        // The local clusters' API servers are on this host: the new stack says so because its context's server is loopback.
        assert.match(text, /istio-multicluster:sameHostControlPlanes: "?true"?/); // Pulumi saves the file with the value quoted
        assert.match(text, /istio-multicluster:primaryStack: organization\/istio-multicluster\/primary/);
        const again = await mesh("add-remote", "b", "--context", "remote-b");
        assert.match(again.stderr, /Pulumi\.remote-b\.yaml already exists/);
    }));

    it("refuses a fleet in which two remotes' ranges overlap, before touching any stack", () => timer.time("fleet range overlap", async () => {
        await withRemoteCEdited("10.40.0.0/16", "10.30.0.0/16", async () => {
            const r = await mesh("up");
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /^mesh: remote-b's podCidr 10\.30\.0\.0\/16 overlaps remote-c's podCidr 10\.30\.0\.0\/16; .*nothing was changed$/m);
            assert.doesNotMatch(r.stdout, /starting/, "no stack was started");
        });
    }));

    it("brings up the primary and one remote, with progress lines and a summary", () => timer.time("mesh up (primary + remote-a)", async () => {
        const r = await meshOk("up", "--remotes", "remote-a");
        assert.match(r.stdout, /^\[primary\] up: create .*\(1 changed, [\d.]+s\)$/m);
        assert.match(r.stdout, /^\[remote-a\] up: done, \d+ changed in [\d.]+s$/m);
        assert.match(r.stdout, /^stack +op +result +changed +seconds$/m);
        timings.oneRemote = stackSeconds(r.stdout, "remote-a");
        await meshOk("down", "--remotes", "remote-a");
        assert.deepStrictEqual(await leftovers(cluster("primary"), cluster("remote-a"), "remote-a"), []);
        assert.ok((await cluster("primary").core.readNamespacedConfigMap({ name: "istio", namespace: NS })).data, "down --remotes leaves the primary");
    }));

    it("joins three remotes in one `mesh up`", () => timer.time("mesh up (three remotes)", async () => {
        const r = await meshOk("up");
        timings.threeRemotes = Math.max(...REMOTES.map((remote) => stackSeconds(r.stdout, remote)));
        for (const remote of REMOTES) {
            const secret = await cluster("primary").core.readNamespacedSecret({ name: remote, namespace: NS });
            assert.deepStrictEqual(Object.keys(secret.data ?? {}), [remote]);
        }
    }));

    it("fails `mesh up` naming the failed stack and its first error, and finishes the others", () => timer.time("mesh up (one remote failing)", async () => {
        await withRemoteCEdited("istio-multicluster:clusterName: remote-c", "istio-multicluster:clusterName: remote_c", async () => {
            const r = await mesh("up");
            assert.strictEqual(r.code, 1);
            assert.match(r.stderr, /^mesh: stack remote-c failed: istio-multicluster:clusterName = "remote_c": is used as a Secret data key/m);
            assert.match(r.stdout, /^remote-a +up +ok /m);
            assert.match(r.stdout, /^remote-b +up +ok /m);
            assert.match(r.stdout, /^remote-c +up +FAILED /m);
        });
        assert.ok((await cluster("primary").core.readNamespacedSecret({ name: "remote-c", namespace: NS })).data, "remote-c's join is untouched");
    }));

    it("previews every stack and says there are no changes; a stray stack file is no member", () => timer.time("mesh preview", async () => {
        // A leftover copy of a remote's stack file, with no stack behind it: named, and left alone.
        fs.copyFileSync(path.join(workDir, "Pulumi.remote-c.yaml"), path.join(workDir, "Pulumi.remote-stray.yaml"));
        const r = await meshOk("preview").finally(() => fs.rmSync(path.join(workDir, "Pulumi.remote-stray.yaml")));
        assert.match(r.stdout, /^mesh: not in the fleet: Pulumi\.remote-stray\.yaml \(no stack remote-stray in this backend; /m);
        assert.doesNotMatch(r.stdout, /\[remote-stray\]/);
        for (const stack of ["primary", ...REMOTES]) {
            assert.match(r.stdout, new RegExp(`^== ${stack}: no changes$`, "m"));
        }
        assert.match(r.stdout, /^no changes$/m);
        assert.doesNotMatch(r.stdout, /\x1b\[/, "not at a terminal: plain lines, no cursor movement");
    }));

    it("at a terminal, keeps one line per stack and rewrites it in place", () => timer.time("mesh preview (terminal)", async () => {
        // script(1) runs mesh on a pseudo-terminal of its own; CI (set where this suite runs in CI) would turn the view off.
        const { CI: _ci, ...terminalEnv } = env;
        const command = [process.execPath, path.join(workDir, "bin", "mesh"), "preview"].map((a) => `'${a}'`).join(" ");
        const r = await runCommand("script", ["-qefc", command, "/dev/null"], workDir, { ...terminalEnv, TERM: "xterm" });
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        for (const stack of ["primary", ...REMOTES]) {
            assert.match(r.stdout, new RegExp(`\\x1b\\[2K\\[${stack}\\] preview: done, 0 changed in `), `${stack}'s line, drawn in place`);
        }
        assert.match(r.stdout, /\x1b\[[2-4]F/, "the block of the remotes' lines is rewritten: the cursor goes back up over it");
        assert.match(r.stdout, /\x1b\[2K\[remote-c\] preview: done[^\n]*\n([^\n]*\n)*?(\x1b\[2K)?== remote-c: no changes\r?$/m,
            `what follows the runs goes below their lines:\n${JSON.stringify(r.stdout)}`);
    }));

    it("reports a healthy mesh, one row per remote", () => timer.time("mesh status (healthy)", async () => {
        const table = await meshOk("status");
        for (const remote of REMOTES) {
            assert.match(table.stdout, new RegExp(`^${remote} +ok +current +ok +ok +- +-$`, "m"));
        }
        const { code, rows } = await statusJson();
        assert.strictEqual(code, 0);
        assert.deepStrictEqual(Object.keys(rows).sort(), REMOTES);
        // Then each cluster's CA: when the ca-cert.pem in its cacerts secret expires.
        for (const name of ["primary", ...REMOTES]) {
            const secret = await cluster(name).core.readNamespacedSecret({ name: "cacerts", namespace: "istio-system" });
            const expiry = new Date(new crypto.X509Certificate(Buffer.from(secret.data!["ca-cert.pem"], "base64")).validTo).toISOString();
            assert.match(table.stdout, new RegExp(`^${name} +${expiry.replace(/\./g, "\\.")} +\\d+ +ok$`, "m"));
        }
    }));

    it("detects a deleted registration secret, a drifted address and a revoked token, each in its row", () => timer.time("mesh status (problems)", async () => {
        const primary = cluster("primary");
        await primary.core.deleteNamespacedSecret({ name: "remote-b", namespace: NS });
        await cluster("remote-c").core.deleteNamespacedSecret({ name: "istio-multi-token", namespace: NS });
        const oldIp = await readyPodIp(primary, NS, "istio=pilot");
        const pods = await primary.core.listNamespacedPod({ namespace: NS, labelSelector: "istio=pilot" });
        await primary.core.deleteNamespacedPod({ name: pods.items[0].metadata!.name!, namespace: NS });
        await eventually("the pilot Endpoints to move", 60, async () => {
            const ep = await primary.core.readNamespacedEndpoints({ name: "istio-pilot", namespace: NS });
            const ips = (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip));
            return ips.length === 1 && ips[0] !== oldIp ? true : undefined;
        });
        // The token controller invalidates a deleted secret's token; give the API server's cache a moment.
        const { code, rows } = await eventually("remote-c's token to stop authenticating", 30, async () => {
            const s = await statusJson();
            return s.rows["remote-c"].tokenValid ? undefined : s;
        });
        assert.strictEqual(code, 1);
        assert.strictEqual(rows["remote-b"].registered, false);
        assert.match(rows["remote-b"].problems.join(";"), /no registration secret istio-system\/remote-b in the primary/);
        for (const remote of REMOTES) {
            assert.strictEqual(rows[remote].addressesCurrent, false, `${remote} drifted`);
            assert.match(rows[remote].problems.join(";"), new RegExp(`drift: pilotAddress is ${oldIp!.replace(/\./g, "\\.")} in the remote`));
        }
        assert.strictEqual(rows["remote-c"].tokenValid, false);
        assert.match(rows["remote-c"].problems.join(";"), /token no longer authenticates/);
        assert.strictEqual(rows["remote-a"].registered && rows["remote-a"].tokenValid && rows["remote-a"].readOnly, true);
        const table = await mesh("status");
        assert.strictEqual(table.code, 1);
        assert.match(table.stdout, /^remote-b +PROBLEM +DRIFT /m);
    }));

    it("heals: re-reads the primary, re-deploys the drifted remotes, and status is clean after", () => timer.time("mesh heal", async () => {
        const r = await meshOk("heal");
        for (const remote of REMOTES) {
            assert.match(r.stdout, new RegExp(`^\\[heal\\] ${remote} drifted: pilotAddress [\\d.]+ -> [\\d.]+; re-deploying$`, "m"));
        }
        const { code, rows } = await statusJson();
        assert.strictEqual(code, 0, JSON.stringify(rows));
    }));

    it("takes the whole mesh down, leaving nothing in any cluster", () => timer.time("mesh down", async () => {
        await meshOk("down");
        for (const remote of REMOTES) {
            assert.deepStrictEqual(await leftovers(cluster("primary"), cluster(remote), remote), []);
        }
        assert.strictEqual(await cluster("primary").has("v1", "Namespace", NS), false);
    }));
});
