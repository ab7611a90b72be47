// Where a Pulumi run's CPU goes: each process it starts (the CLI, the language host, the program's
// node, the providers), sampled from /proc while it runs, and inside the program's node, V8's CPU
// profile (node --cpu-prof) summed by the package or project directory each function comes from.
import * as path from "path";
import { listProcesses } from "../cli/recovery";

/** One process's CPU, as /proc last showed it. */
interface ProcessCpu {
    /** The basename of its executable as its command line names it (pulumi, pulumi-resource-kubernetes, node). */
    readonly command: string;
    /** Its user and system CPU seconds. */
    readonly seconds: number;
}

/**
 * Samples, every `intervalMs` until `stop`, the CPU of every process descended from `rootPid`;
 * `stop` returns each one's last seen CPU. A process's CPU in its last interval before it ends is
 * not seen: each figure is low by at most that much.
 */
export function sampleDescendantsCpu(rootPid: number, intervalMs = 50): { stop(): ProcessCpu[] } {
    const seen = new Map<string, ProcessCpu>();
    const sample = () => {
        const stats = new Map(listProcesses().map((p) => [p.pid, p]));
        // At most as many steps as processes: pids read at different moments can be reused into a loop.
        const descends = (pid: number): boolean => {
            for (let p = stats.get(pid)?.ppid, steps = 0; p !== undefined && p > 1 && steps < stats.size; p = stats.get(p)?.ppid, steps++) {
                if (p === rootPid) {
                    return true;
                }
            }
            return false;
        };
        for (const [pid, s] of stats) {
            if (descends(pid)) {
                seen.set(`${pid}@${s.startTicks}`, { command: path.basename(s.command), seconds: s.cpuSeconds });
            }
        }
    };
    const timer = setInterval(sample, intervalMs).unref();
    return {
        stop: () => {
            clearInterval(timer);
            sample();
            return [...seen.values()];
        },
    };
}

/** CPU seconds summed per command, most first. */
export function cpuByCommand(processes: readonly ProcessCpu[]): Array<[string, number]> {
    const sums = new Map<string, number>();
    for (const p of processes) {
        sums.set(p.command, (sums.get(p.command) ?? 0) + p.seconds);
    }
    return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

/** The parts of a V8 CPU profile (`.cpuprofile`, as node --cpu-prof writes it) read here. */
export interface CpuProfile {
    readonly nodes: ReadonlyArray<{
        readonly id: number;
        readonly callFrame: { readonly url: string; readonly functionName: string };
        readonly children?: readonly number[];
    }>;
    readonly samples: readonly number[];
    /** Microseconds from each sample to the one before. */
    readonly timeDeltas: readonly number[];
}

/**
 * Where a function's code comes from, as a reader of the profile wants it summed: an npm package
 * (`@pulumi/pulumi`), a directory of the project (`lib/kube`), Node.js's own code, or V8's
 * pseudo-frames ((garbage collector), (program), (idle)).
 */
export function codeOrigin(url: string, functionName: string, projectDir: string): string {
    if (url === "") {
        return functionName.startsWith("(") ? functionName : "(native)";
    }
    if (url.startsWith("node:")) {
        return "node (its own code)";
    }
    const file = url.replace(/^file:\/\//, "");
    const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (pkg) {
        return pkg[1];
    }
    const relative = path.relative(projectDir, file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? file : path.dirname(relative);
}

/**
 * The busy time of profiles, in seconds, summed by where the sampled function's code comes from
 * (codeOrigin), most first; V8's "(idle)", the program waiting, is no CPU and left out.
 */
export function selfTimeByOrigin(profiles: readonly CpuProfile[], projectDir: string): Array<[string, number]> {
    const sums = new Map<string, number>();
    for (const profile of profiles) {
        const origin = new Map(profile.nodes.map((n) => [n.id, codeOrigin(n.callFrame.url, n.callFrame.functionName, projectDir)]));
        profile.samples.forEach((id, i) => {
            const where = origin.get(id) ?? "(unknown)";
            sums.set(where, (sums.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1e6);
        });
    }
    sums.delete("(idle)");
    return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

/**
 * The busy time of profiles, in seconds, under each file of the project (outside node_modules):
 * the time of every sample with a function of that file anywhere on its stack, what that file's
 * code costs with all it calls. Most first.
 */
export function projectTimeByFile(profiles: readonly CpuProfile[], projectDir: string): Array<[string, number]> {
    const sums = new Map<string, number>();
    for (const profile of profiles) {
        const parent = new Map<number, number>();
        profile.nodes.forEach((n) => n.children?.forEach((c) => parent.set(c, n.id)));
        const byId = new Map(profile.nodes.map((n) => [n.id, n]));
        const projectFile = (url: string) => {
            const file = url.replace(/^file:\/\//, "");
            const relative = path.relative(projectDir, file);
            return url === "" || url.startsWith("node:") || file.includes("/node_modules/") || relative.startsWith("..") ? undefined : relative;
        };
        profile.samples.forEach((id, i) => {
            const files = new Set<string>();
            for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
                const file = projectFile(byId.get(n)?.callFrame.url ?? "");
                if (file !== undefined) {
                    files.add(file);
                }
            }
            files.forEach((f) => sums.set(f, (sums.get(f) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1e6));
        });
    }
    return [...sums.entries()].sort((a, b) => b[1] - a[1]);
}

/** Two columns of seconds as a Markdown table, the first `limit` rows and the rest summed. */
export function secondsTable(title: string, rows: ReadonlyArray<[string, number]>, limit = rows.length, withTotal = true): string {
    const shown = rows.slice(0, limit);
    const rest = rows.slice(limit).reduce((sum, [, s]) => sum + s, 0);
    const all: Array<[string, number]> = rest > 0 ? [...shown, [`(${rows.length - limit} more)`, rest]] : [...shown];
    const width = Math.max(title.length, ...all.map(([what]) => what.length));
    const total = rows.reduce((sum, [, s]) => sum + s, 0);
    return [`| ${title.padEnd(width)} | cpu s |`, `|${"-".repeat(width + 2)}|------:|`,
        ...all.map(([what, s]) => `| ${what.padEnd(width)} | ${s.toFixed(2).padStart(5)} |`),
        ...(withTotal ? [`| ${"total".padEnd(width)} | ${total.toFixed(2).padStart(5)} |`] : [])].join("\n");
}
