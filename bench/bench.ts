// `npm run bench`: measures, side by side in one run on the local clusters, what a platform
// engineer waits for: a join through `pulumi up` against the same join by hand, a no-op preview
// against Pulumi's own floor (an empty program), a rejected config, where the CPU of one no-op
// preview and one join goes (per process, and inside the program), the `mesh` verbs, and the fleet
// of 1, 3, 6 and 14 remotes (BENCH_FLEETS, e.g. 1,3): `mesh up`, `mesh preview` and `mesh status`
// with the clusters' and the run's memory, what each added remote costs, and a chart of it
// (BENCH_CHART, default docs/fleet-scale.svg). Prints a table with each goal and whether it was met.
// Medians of BENCH_ROUNDS (default 3) runs where a run can be repeated without a change in between.
// The test command runs it short (one round, fleets of 1 and 3), so that it cannot rot.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { serverOfContext } from "../lib/kube/kubeconfig";
import { makeWorkDir } from "../tests/e2e/helpers";
import { CliResult, runCommand } from "../tests/e2e/pulumi";
import { cpuByCommand, CpuProfile, projectTimeByFile, sampleDescendantsCpu, secondsTable, selfTimeByOrigin } from "./cpuProfile";
import { fleetChart, FleetPoint, fleetTable } from "./fleetScale";
import { HandJoin, joinByHand, leaveByHand } from "./handFlow";

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const CLUSTERS_SCRIPT = path.join(__dirname, "..", "tools", "clusters", "local-clusters.sh");
/** The local clusters' remotes, remote-a to remote-n. */
const REMOTES = [..."abcdefghijklmn"].map((letter) => `remote-${letter}`);
/** The fleet sizes measured (bench/run.sh starts as many local clusters as the largest needs). */
const FLEETS = (process.env.BENCH_FLEETS ?? "1,3,6,14").split(",").map(Number);
/** The goal of `mesh up` of n remotes against one, where the issue of record sets one. */
const FLEET_GOALS: Record<number, number> = { 3: 1.3, 6: 1.6, 14: 2.5 };

interface Row {
    readonly what: string;
    readonly seconds: number;
    /** The goal, in words, and whether it was met; absent for a reference measurement. */
    readonly goal?: { readonly text: string; readonly met: boolean };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function seconds(fn: () => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

async function medianOf(rounds: number, fn: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
        times.push(await seconds(fn));
    }
    return median(times);
}

function ok(what: string, r: CliResult): CliResult {
    if (r.code !== 0) {
        throw new Error(`${what} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    return r;
}

async function main(): Promise<void> {
    const workDir = makeWorkDir();
    const env = { ...process.env };
    const pulumi = async (...args: string[]) => ok(`pulumi ${args.join(" ")}`, await runCommand("pulumi", [...args, "--non-interactive"], workDir, env));
    const mesh = (...args: string[]) => runCommand(process.execPath, [path.join(workDir, "bin", "mesh"), ...args], workDir, env);
    const meshOk = async (...args: string[]) => ok(`mesh ${args.join(" ")}`, await mesh(...args));
    const rows: Row[] = [];
    const record = (what: string, secs: number, goal?: { text: string; met: boolean }) => {
        rows.push({ what, seconds: secs, goal });
        process.stderr.write(`[bench] ${what}: ${secs.toFixed(2)} s\n`);
    };

    // The CLI alone: no cluster, no Pulumi.
    const help = await medianOf(5, () => meshOk("--help"));
    record("`mesh --help`", help, { text: "< 0.5 s", met: help < 0.5 });
    const usage = await medianOf(5, async () => {
        if ((await mesh("up", "--bogus")).code !== 2) {
            throw new Error("mesh up --bogus did not fail as a usage error");
        }
    });
    record("`mesh up --bogus` (argument error)", usage, { text: "< 0.5 s", met: usage < 0.5 });

    await pulumi("stack", "init", "primary");
    record("`pulumi up -s primary`", await seconds(() => pulumi("up", "-s", "primary", "--yes", "--skip-preview")));

    // A join, by Pulumi and by hand, alternating which goes first.
    await pulumi("stack", "init", "remote-a");
    const server = serverOfContext({ kubeContext: "remote-a" })!;
    const hand: HandJoin = {
        remote: "remote-a", primary: "primary", apiServer: server, env,
        primaryOutputs: JSON.parse((await pulumi("stack", "output", "-s", "primary", "--json", "--show-secrets")).stdout),
        chart: path.join(workDir, "tests/fixtures/charts/istio-remote"), caDir: path.join(workDir, "tests/fixtures/certs/mesh/remote-a"),
    };
    const times: Record<string, number[]> = { up: [], destroy: [], hand: [], handLeave: [] };
    const byPulumi = async () => {
        times.up.push(await seconds(() => pulumi("up", "-s", "remote-a", "--yes", "--skip-preview")));
        times.destroy.push(await seconds(() => pulumi("destroy", "-s", "remote-a", "--yes", "--skip-preview")));
    };
    const byHand = async () => {
        times.hand.push(await seconds(() => joinByHand(hand)));
        times.handLeave.push(await seconds(() => leaveByHand(hand)));
    };
    for (let i = 0; i < ROUNDS; i++) {
        for (const run of i % 2 === 0 ? [byHand, byPulumi] : [byPulumi, byHand]) {
            await run();
        }
    }
    const [up, handJoin] = [median(times.up), median(times.hand)];
    record("join by hand (kubectl, helm template, wait, token, kubeconfig, registration)", handJoin);
    record("join: `pulumi up -s remote-a`", up, { text: `≤ 1.5x by hand (${(up / handJoin).toFixed(2)}x)`, met: up <= 1.5 * handJoin });
    record("leave by hand", median(times.handLeave));
    record("leave: `pulumi destroy -s remote-a`", median(times.destroy));

    // Previews: the program's no-op against Pulumi's floor, an empty program on the same machine.
    await pulumi("up", "-s", "remote-a", "--yes", "--skip-preview");
    const preview = await medianOf(ROUNDS, () => pulumi("preview", "-s", "remote-a", "--expect-no-changes"));
    const emptyDir = emptyProject();
    const inEmpty = async (...args: string[]) => ok(`pulumi ${args.join(" ")} (empty program)`,
        await runCommand("pulumi", [...args, "-s", "empty", "--non-interactive"], emptyDir, env));
    await inEmpty("stack", "init");
    const empty = await medianOf(ROUNDS, () => inEmpty("preview"));
    record("`pulumi preview` of an empty program (Pulumi's floor)", empty);
    record("`pulumi up` of an empty program (Pulumi's floor)", await medianOf(ROUNDS, () => inEmpty("up", "--yes", "--skip-preview")));
    record("no-op `pulumi preview -s remote-a`", preview, { text: `≤ 1.5x empty (${(preview / empty).toFixed(2)}x)`, met: preview <= 1.5 * empty });
    // What of it is the refresh (Pulumi.yaml's refresh: always), and what the Automation API adds after each of mesh's runs.
    // Without the refresh the preview is not a no-op: it shows the registration's replacement, which the up does not make.
    record("`pulumi preview -s remote-a --refresh=false`", await medianOf(ROUNDS, () => pulumi("preview", "-s", "remote-a", "--refresh=false")));
    record("`pulumi stack output -s remote-a --json --show-secrets`",
        await medianOf(ROUNDS, () => pulumi("stack", "output", "-s", "remote-a", "--json", "--show-secrets")));
    record("`pulumi stack history -s remote-a --json`", await medianOf(ROUNDS, () => pulumi("stack", "history", "-s", "remote-a", "--json")));
    await pulumi("config", "set", "-s", "remote-a", "istio-multicluster:clusterName", "remote_a");
    const rejected = await medianOf(ROUNDS, async () => {
        const r = await runCommand("pulumi", ["preview", "-s", "remote-a", "--non-interactive"], workDir, env);
        if (r.code === 0 || !/clusterName = "remote_a"/.test(r.stdout + r.stderr)) {
            throw new Error(`the bad clusterName was not rejected:\n${r.stdout}\n${r.stderr}`);
        }
    });
    await pulumi("config", "rm", "-s", "remote-a", "istio-multicluster:clusterName");
    record("`pulumi preview` rejecting `clusterName remote_a`", rejected, { text: "< 10 s", met: rejected < 10 });

    // Where the CPU of one no-op preview and one join goes, per process and inside the program.
    const cpu: string[] = [];
    const profiled = async (what: string, ...args: string[]) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cpu-"));
        const sampler = sampleDescendantsCpu(process.pid);
        const profiling = { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${dir}`.trim() };
        const wall = await seconds(async () => ok(what, await runCommand("pulumi", [...args, "--non-interactive"], workDir, profiling)));
        const byProcess = cpuByCommand(sampler.stop());
        const profiles = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))
            .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as CpuProfile);
        fs.rmSync(dir, { recursive: true, force: true });
        const project = fs.realpathSync(workDir);
        cpu.push(`${what}: ${wall.toFixed(2)} s wall (under the profiler)\n\n${secondsTable("process", byProcess)}\n\n` +
            `${secondsTable("in the program's node (V8 profile, self time): code of", selfTimeByOrigin(profiles, project), 12)}\n\n` +
            `${secondsTable("in the program's node: under the project's file (with all it calls; files overlap)", projectTimeByFile(profiles, project), 12, false)}`);
    };
    await profiled("no-op `pulumi preview -s remote-a`", "preview", "-s", "remote-a", "--expect-no-changes");
    await pulumi("destroy", "-s", "remote-a", "--yes", "--skip-preview");
    await profiled("join: `pulumi up -s remote-a`", "up", "-s", "remote-a", "--yes", "--skip-preview");
    await pulumi("destroy", "-s", "remote-a", "--yes", "--skip-preview");

    // The fleet: mesh up of each fleet size from nothing joined (the primary stays up).
    const fleetUp: Record<number, number> = {};
    const points: FleetPoint[] = [];
    let memory: Record<string, number> = {};
    for (const n of FLEETS) {
        // The fleet is the stacks that exist: remote-a's, and one added (stack file and stack) per new cluster.
        for (const [i, remote] of REMOTES.slice(0, n).entries()) {
            if (i > 0 && !fs.existsSync(path.join(workDir, `Pulumi.${remote}.yaml`))) {
                // Each local cluster's own ranges, as local-clusters.sh gave them.
                const ranges = ok(`local-clusters.sh ranges ${remote}`, await runCommand("bash", [CLUSTERS_SCRIPT, "ranges", remote], workDir, env));
                const [podCidr, serviceCidr] = ranges.stdout.trim().split(" ");
                await meshOk("add-remote", remote.slice("remote-".length), "--context", remote, "--pod-cidr", podCidr,
                    "--service-cidr", serviceCidr, "--cacerts-dir", `tests/fixtures/certs/mesh/${remote}`,
                    // The bench's remote-a is on the fixture charts, which add-remote never copies into a new stack.
                    "--chart-dir", "tests/fixtures/charts");
            }
        }
        const remotes = REMOTES.slice(0, n).join(",");
        const peak = peakMemory(workDir);
        let runMemory: number;
        try {
            fleetUp[n] = await seconds(() => meshOk("up", "--remotes", remotes));
        } finally {
            runMemory = peak.stop();
        }
        const clusters = clusterMemory(["primary", ...REMOTES.slice(0, n)]);
        if (n === Math.max(...FLEETS)) {
            memory = clusters;
        }
        const ratio = FLEET_GOALS[n];
        const goal = n === 1 || ratio === undefined || fleetUp[1] === undefined ? undefined
            : { text: `≤ ${ratio}x one remote (${(fleetUp[n] / fleetUp[1]).toFixed(2)}x)`, met: fleetUp[n] <= ratio * fleetUp[1] };
        record(`\`mesh up\` of ${n} remote${n > 1 ? "s" : ""}`, fleetUp[n], goal);
        const status = await medianOf(ROUNDS, () => meshOk("status"));
        const meshPreview = await medianOf(ROUNDS, () => meshOk("preview", "--remotes", remotes));
        if (n === 3) {
            record("`mesh status`, 3 remotes", status, { text: "< 3 s", met: status < 3 });
            record("`mesh preview`, no changes, primary and 3 remotes", meshPreview,
                { text: `≤ 1.5x one \`pulumi preview\` (${(meshPreview / preview).toFixed(2)}x)`, met: meshPreview <= 1.5 * preview });
        }
        points.push({ remotes: n, up: fleetUp[n], preview: meshPreview, status,
            clusterMemory: Object.values(clusters).reduce((a, b) => a + b, 0), runMemory });
        await meshOk("down", "--remotes", remotes);
    }
    await pulumi("destroy", "-s", "primary", "--yes", "--skip-preview");

    process.stdout.write(`\n${table(rows)}\n`);
    process.stdout.write(`\nWhere the CPU goes (per process, sampled from /proc; inside the program, by package or project directory):\n\n${cpu.join("\n\n")}\n`);
    process.stdout.write(`\nThe fleet as it grows (\`mesh preview\` and \`mesh status\` with it joined; memory in MiB):\n${fleetTable(points)}\n`);
    const chart = process.env.BENCH_CHART ?? path.join(__dirname, "..", "docs", "fleet-scale.svg");
    fs.writeFileSync(chart, fleetChart(points, `${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, ` +
        `medians of ${ROUNDS} where repeated; made by npm run bench`));
    process.stdout.write(`chart: ${chart}\n`);
    const mib = Object.values(memory);
    process.stdout.write(`\nMemory per local cluster with the fleet joined (RSS of its etcd, API server, controller manager, ` +
        `scheduler, kwok and load-balancer allocator; istiod and workloads are not part of it): ` +
        `${Object.entries(memory).map(([name, m]) => `${name} ${m} MiB`).join(", ")}; ` +
        `mean ${Math.round(mib.reduce((a, b) => a + b, 0) / Math.max(1, mib.length))} MiB\n`);
}

/** Every process's command line, working directory and resident memory (kB), read from /proc. */
function processes(): Array<{ cmdline: string; cwd: string; rssKb: number }> {
    return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
        try {
            const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
            const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
            return [{ cmdline, cwd: fs.readlinkSync(`/proc/${pid}/cwd`), rssKb }];
        } catch {
            return []; // gone meanwhile
        }
    });
}

/**
 * Samples, every 250 ms until `stop`, the summed resident memory of the processes that run in the
 * project directory (mesh, Pulumi, its language hosts and providers); `stop` returns the peak, MiB.
 */
function peakMemory(projectDir: string): { stop(): number } {
    const dir = fs.realpathSync(projectDir);
    let peakKb = 0;
    const sample = () => {
        peakKb = Math.max(peakKb, processes().filter((p) => p.cwd === dir).reduce((sum, p) => sum + p.rssKb, 0));
    };
    // Unreferenced: a failed run must not keep the bench waiting on its sampling.
    const timer = setInterval(sample, 250).unref();
    return {
        stop: () => {
            clearInterval(timer);
            return Math.round(peakKb / 1024);
        },
    };
}

/** The resident memory (MiB) of each local cluster's processes: those whose command line names its state directory. */
function clusterMemory(names: string[]): Record<string, number> {
    const state = process.env.ISTIO_MC_CLUSTERS;
    if (state === undefined) {
        throw new Error("ISTIO_MC_CLUSTERS is not set: run the bench through bench/run.sh");
    }
    const all = processes();
    return Object.fromEntries(names.map((name) => {
        const dir = `${path.join(state, name)}/`;
        const kb = all.filter((p) => p.cmdline.includes(dir)).reduce((sum, p) => sum + p.rssKb, 0);
        return [name, Math.round(kb / 1024)];
    }));
}

/** A Pulumi project with no resources, in JavaScript as the program runs, to measure what Pulumi itself needs. */
function emptyProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-empty-"));
    const root = path.resolve(__dirname, "..");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n");
    fs.writeFileSync(path.join(dir, "index.js"), "module.exports = {};\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-empty", main: "index.js" }));
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

function table(rows: Row[]): string {
    const width = Math.max(...rows.map((r) => r.what.length));
    const goalWidth = Math.max(4, ...rows.map((r) => r.goal?.text.length ?? 0));
    const line = (a: string, b: string, c: string, d: string) => `| ${a.padEnd(width)} | ${b.padStart(7)} | ${c.padEnd(goalWidth)} | ${d.padEnd(4)} |`;
    return [
        `${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, medians of ${ROUNDS} where repeated`,
        "",
        line("measurement", "seconds", "goal", "met"),
        `|${"-".repeat(width + 2)}|--------:|${"-".repeat(goalWidth + 2)}|------|`,
        ...rows.map((r) => line(r.what, r.seconds.toFixed(2), r.goal?.text ?? "", r.goal ? (r.goal.met ? "yes" : "NO") : "")),
    ].join("\n");
}

main().catch((err) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? err.message : err}\n`);
    process.exitCode = 1;
});
