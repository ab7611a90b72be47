// What `mesh` does about the debris of an interrupted run: a lock its dead process still holds,
// the operations it left pending in the state, and the plugin processes it left running.
import type { Stack } from "@pulumi/pulumi/automation";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "./fleet";

/** One lock on a stack, as Pulumi's "currently locked" error names it. */
export interface LockHolder {
    /** The user that took it. */
    readonly user: string;
    /** The host it was taken on. */
    readonly host: string;
    /** The pid of the pulumi process that took it. */
    readonly pid: number;
    /** When it was taken (RFC 3339). */
    readonly since: string;
}

/** The holders a "the stack is currently locked" error names; none for any other error. */
export function lockHolders(message: string): LockHolder[] {
    if (!/the stack is currently locked/.test(message)) {
        return [];
    }
    // The Automation API's error may quote Pulumi's output more than once: one holder per lock file.
    const byLock = new Map<string, LockHolder>();
    for (const m of message.matchAll(/(\S+): created by (\S+?)@(\S+) \(pid (\d+)\) at (\S+)/g)) {
        byLock.set(m[1], { user: m[2], host: m[3], pid: Number(m[4]), since: m[5] });
    }
    return [...byLock.values()];
}

/**
 * Whether a lock was left by a run that is gone, as far as this machine can prove it: taken on
 * this host by a pulumi process that `mesh` started in this process namespace since the machine
 * booted (`startedHere`, from the run records), which no longer exists. A host name proves nothing
 * alone: containers sharing one have pids of their own, so a pid gone here may be a live run
 * there. Any other lock may be a run in progress.
 */
export function isStale(holder: LockHolder, thisHost: string, isAlive: (pid: number) => boolean, startedHere: (pid: number) => boolean): boolean {
    return holder.host === thisHost && startedHere(holder.pid) && !isAlive(holder.pid);
}

/**
 * The pulumi processes `mesh` started, recorded while each run lasts, so that a lock a killed run
 * left can be proven gone: one file per pid under a directory of this boot and this process
 * namespace, which no other machine, boot or container with pids of its own shares. Each file
 * names the stack its process ran on: pids are reused, and a record proves only a lock on that
 * stack, not one a later process of the same pid took on another.
 */
export class RunRecords {
    constructor(private readonly dir: string = runRecordsDir()) {}

    /** Whether this process namespace ran a pulumi process of this pid on `stack` for `mesh` since the machine booted. */
    startedHere(pid: number, stack: string): boolean {
        try {
            return fs.readFileSync(this.file(pid), "utf8") === stack;
        } catch {
            return false;
        }
    }

    /** Forgets a pid whose lock is cleared. */
    forget(pid: number): void {
        fs.rmSync(this.file(pid), { force: true });
    }

    /**
     * Records each pulumi process this process starts while `operation` runs on `stack` (its
     * children, checked every 100 ms: the CLI takes a stack's lock only after it has loaded its
     * plugins). An operation that succeeds held the stack's lock and released it, so no lock on the
     * stack is left to prove stale: it forgets every ended process recorded for the stack, a killed
     * run's included. A failed or killed one leaves them, for a later run to prove a lock they held stale.
     */
    async recording<T>(stack: string, operation: () => Promise<T>): Promise<T> {
        fs.mkdirSync(this.dir, { recursive: true });
        const recorded = new Set<number>();
        const scan = () => {
            for (const p of childProcesses(process.pid)) {
                if (path.basename(p.command) === "pulumi" && !recorded.has(p.pid)) {
                    recorded.add(p.pid);
                    fs.writeFileSync(this.file(p.pid), stack);
                }
            }
        };
        scan();
        const timer = setInterval(scan, 100);
        try {
            const result = await operation();
            for (const name of fs.readdirSync(this.dir)) {
                const pid = Number(name);
                if (this.startedHere(pid, stack) && !processAlive(pid)) {
                    this.forget(pid);
                }
            }
            return result;
        } finally {
            clearInterval(timer);
        }
    }

    private file(pid: number): string {
        return path.join(this.dir, String(pid));
    }
}

/** One stack of one project in one backend ($PULUMI_BACKEND_URL, else the one `pulumi login` chose), as a digest. */
export function stackRecordKey(backendUrl: string | undefined, projectDir: string, stack: string): string {
    return crypto.createHash("sha256").update(JSON.stringify([backendUrl ?? "", projectDir, stack])).digest("hex");
}

/**
 * Where this boot's and this process namespace's run records live: under the project's cache
 * ($ISTIO_MC_CACHE, ~/.cache/istio-multicluster), named by the kernel's boot id and the pid
 * namespace's inode, so that only a process that shares both finds them.
 */
export function runRecordsDir(env: NodeJS.ProcessEnv = process.env): string {
    const bootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const pidNamespace = /\[(\d+)\]/.exec(fs.readlinkSync("/proc/self/ns/pid"))?.[1] ?? "unknown";
    const cache = env.ISTIO_MC_CACHE ?? path.join(os.homedir(), ".cache", "istio-multicluster");
    return path.join(cache, "mesh-runs", `${bootId}-${pidNamespace}`);
}

/**
 * Whether a failed run met another run taking or releasing the stack's lock at the same moment:
 * Pulumi's self-managed backends list a stack's lock files, then read each, and one another run
 * removed in between is "not found" (seen with the PostgreSQL backend: `could not list bucket:
 * blob (code=NotFound): sql: no rows in result set`). Checked again, the lock is there or gone.
 */
export function isLockRace(message: string): boolean {
    return /blob \(code=NotFound\)/.test(message) && /lock|list bucket/.test(message);
}

/** Whether a process of this pid exists on this host. */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** A lock's holder, as `mesh` names it. */
export function describeHolder(h: LockHolder): string {
    return `pulumi pid ${h.pid} of ${h.user}@${h.host}, since ${h.since}`;
}

/** An operation the state records as begun and never finished. */
export interface PendingOperation {
    /** creating, updating, deleting, reading. */
    readonly type: string;
    /** The resource's URN. */
    readonly urn: string;
}

/** The pending operations of an exported deployment, as `type name`. */
export function pendingOperations(deployment: { pending_operations?: Array<{ type: string; resource: { urn: string } }> }): PendingOperation[] {
    return (deployment.pending_operations ?? []).map((op) => ({ type: op.type, urn: op.resource.urn }));
}

/** A process as /proc shows it. */
interface ProcessInfo {
    readonly pid: number;
    readonly ppid: number;
    /** argv[0]. */
    readonly command: string;
    /** Its working directory; undefined when it cannot be read. */
    readonly cwd?: string;
}

/** The kernel's clock ticks per second, in which /proc/PID/stat counts CPU time (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/PID/stat that say whose child a process is, when it started and how much CPU it used, in seconds. */
export function parseStat(stat: string): { ppid: number; startTicks: number; cpuSeconds: number } {
    // The command (field 2) is in parentheses and may hold spaces: the fields after it start past the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Counted from field 3 (state): ppid is field 4, utime 14, stime 15, starttime 22.
    const field = (n: number) => Number(fields[n - 3]);
    return { ppid: field(4), startTicks: field(22), cpuSeconds: (field(14) + field(15)) / TICKS_PER_SECOND };
}

/**
 * Every process of this host (Linux /proc), with what orphanedPlugins needs, and its start (clock
 * ticks since boot, which with the pid names one process for good) and CPU seconds so far.
 */
export function listProcesses(procRoot = "/proc"): Array<ProcessInfo & { startTicks: number; cpuSeconds: number }> {
    return fs.readdirSync(procRoot).filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
        try {
            const stat = parseStat(fs.readFileSync(path.join(procRoot, pid, "stat"), "utf8"));
            const command = fs.readFileSync(path.join(procRoot, pid, "cmdline"), "utf8").split("\0")[0];
            let cwd: string | undefined;
            try {
                cwd = fs.readlinkSync(path.join(procRoot, pid, "cwd"));
            } catch {
                cwd = undefined;
            }
            return [{ pid: Number(pid), command, cwd, ...stat }];
        } catch {
            return []; // gone meanwhile
        }
    });
}

/**
 * The children of process `pid` (Linux /proc: each of its threads' `children`, so that a scan
 * reads a few files rather than every process; every process's parent where the kernel lists no
 * children).
 */
export function childProcesses(pid: number, procRoot = "/proc"): ProcessInfo[] {
    const tasks = path.join(procRoot, String(pid), "task");
    const listed = fs.readdirSync(tasks).map((tid) => path.join(tasks, tid, "children"));
    if (!listed.every((file) => fs.existsSync(file))) {
        return listProcesses(procRoot).filter((p) => p.ppid === pid);
    }
    const children = listed.flatMap((file) => {
        try {
            return fs.readFileSync(file, "utf8").split(" ").filter((c) => c.trim() !== "");
        } catch {
            return []; // the thread ended meanwhile
        }
    });
    return children.flatMap((child) => {
        try {
            return [{ pid: Number(child), ppid: pid, command: fs.readFileSync(path.join(procRoot, child, "cmdline"), "utf8").split("\0")[0] }];
        } catch {
            return []; // gone meanwhile
        }
    });
}

/**
 * The processes a killed pulumi run left behind in `dir`: its plugins (language host, providers),
 * which Pulumi starts in the project directory and which no longer have a pulumi process as their
 * parent, and everything they started (the program's node process). A live run's plugins are its
 * pulumi process's children, and are never among them.
 */
export function orphanedPlugins(processes: readonly ProcessInfo[], dir: string): ProcessInfo[] {
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const isPulumi = (p?: ProcessInfo) => p !== undefined && path.basename(p.command) === "pulumi";
    const roots = processes.filter((p) => /^pulumi-(resource|language|analyzer)-/.test(path.basename(p.command)) &&
        p.cwd === dir && !isPulumi(byPid.get(p.ppid)));
    const found = new Map(roots.map((p) => [p.pid, p]));
    for (let grew = true; grew;) {
        grew = false;
        for (const p of processes) {
            if (!found.has(p.pid) && found.has(p.ppid)) {
                found.set(p.pid, p);
                grew = true;
            }
        }
    }
    return [...found.values()];
}

/**
 * The directory of a file state backend (`file://…` in $PULUMI_BACKEND_URL, else the one `pulumi
 * login` recorded), or undefined for any other backend.
 */
export function fileBackendDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
    let url = env.PULUMI_BACKEND_URL;
    if (!url) {
        const credentials = path.join(env.PULUMI_HOME ?? path.join(env.HOME ?? "", ".pulumi"), "credentials.json");
        try {
            url = (JSON.parse(fs.readFileSync(credentials, "utf8")) as { current?: string }).current;
        } catch {
            return undefined;
        }
    }
    return url?.startsWith("file://") ? url.slice("file://".length).replace(/\?.*$/, "").replace(/^~(?=\/|$)/, env.HOME ?? "~") : undefined;
}

/**
 * The empty metadata files (`*.attrs`, which the file backend writes beside each state file) under
 * a file backend: a run killed between writing a state file and its metadata leaves one empty,
 * and every later command on that stack fails with `error: EOF`. The metadata is optional: a
 * missing file reads as none, so removing an empty one repairs the stack.
 */
export function emptyBackendMetadata(backendDir: string): string[] {
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(file);
            } else if (entry.name.endsWith(".attrs") && fs.statSync(file).size === 0) {
                found.push(file);
            }
        }
    };
    const root = path.join(backendDir, ".pulumi");
    if (fs.existsSync(root)) {
        walk(root);
    }
    return found;
}

/** What `mesh` does, for one stack, about an interrupted run's debris; `say` tells the user each step. */
export class Recovery {
    /** The stack as its run records name it: a digest, since a backend's URL may hold a password. */
    private readonly recordKey: string;

    constructor(
        private readonly name: string,
        private readonly stack: Stack,
        private readonly projectDir: string,
        private readonly say: (line: string) => void,
        private readonly records: RunRecords = new RunRecords(),
    ) {
        this.recordKey = stackRecordKey(process.env.PULUMI_BACKEND_URL, projectDir, stack.name);
    }

    /**
     * Runs `operation`; when it fails on a lock whose pulumi process is gone from this host, removes
     * that lock and stops what that run left running, saying so, and runs it once more. A lock of a
     * live run is refused, naming its holder.
     */
    async clearingStaleLocks<T>(operation: () => Promise<T>): Promise<T> {
        const run = () => this.records.recording(this.recordKey, operation);
        try {
            try {
                return await run();
            } catch (err) {
                if (!isLockRace(String((err as Error)?.message ?? err))) {
                    throw err;
                }
                this.say(`[${this.name}] another run took or left the stack's lock while this one checked it; checking again`);
                return await run();
            }
        } catch (err) {
            const holders = lockHolders(String((err as Error)?.message ?? err));
            if (holders.length === 0) {
                throw err;
            }
            const startedHere = (pid: number) => this.records.startedHere(pid, this.recordKey);
            const live = holders.filter((h) => h.host === os.hostname() && processAlive(h.pid));
            if (live.length > 0) {
                throw new UsageError(`locked by ${live.map(describeHolder).join("; ")}: another run is in progress on this ` +
                    "stack; wait for it to end");
            }
            const unproven = holders.filter((h) => !isStale(h, os.hostname(), processAlive, startedHere));
            if (unproven.length > 0) {
                throw new UsageError(`locked by ${unproven.map(describeHolder).join("; ")}: a run this machine cannot tell is over ` +
                    "(not one `mesh` started here, in this process namespace, since the machine booted); wait for it to end, " +
                    `or, once you know no run is in progress on this stack, remove the lock: \`pulumi cancel --yes -s ${this.stack.name}\``);
            }
            for (const h of holders) {
                this.say(`[${this.name}] removing the lock left by ${describeHolder(h)}: that process is gone`);
            }
            await this.stack.cancel();
            holders.forEach((h) => this.records.forget(h.pid));
            await this.stopOrphanedPlugins();
            return await run();
        }
    }

    /**
     * Clears the operations an interrupted run left pending in the state (which no later run clears
     * by itself), by a refresh that reads what is really there; true when there were any, so that
     * the run that follows takes over the objects whose creation was cut off.
     */
    async clearPendingOperations(onOutput: (text: string) => void): Promise<boolean> {
        const pending = pendingOperations((await this.stack.exportStack()).deployment);
        if (pending.length === 0) {
            return false;
        }
        this.say(`[${this.name}] an interrupted run left ${pending.length} pending operation${pending.length > 1 ? "s" : ""} ` +
            `(${pending.map((p) => `${p.type} ${p.urn.split("::").pop()}`).join(", ")}); refreshing to clear them`);
        await this.stack.refresh({ clearPendingCreates: true, onOutput });
        return true;
    }

    /** Stops the plugin processes a killed run left running in the project directory, saying which. */
    private async stopOrphanedPlugins(): Promise<void> {
        const orphans = orphanedPlugins(listProcesses(), fs.realpathSync(this.projectDir));
        if (orphans.length === 0) {
            return;
        }
        this.say(`[${this.name}] stopping what the gone run left running: ` +
            orphans.map((p) => `${path.basename(p.command)} (pid ${p.pid})`).join(", "));
        const signal = (sig: NodeJS.Signals) => orphans.filter((p) => processAlive(p.pid)).forEach((p) => {
            try {
                process.kill(p.pid, sig);
            } catch {
                // gone meanwhile
            }
        });
        signal("SIGTERM");
        for (let waited = 0; waited < 3000 && orphans.some((p) => processAlive(p.pid)); waited += 100) {
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        signal("SIGKILL");
    }
}

/** Removes the empty metadata files a killed run can leave in a file backend, saying so. */
export function repairFileBackend(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): void {
    const dir = fileBackendDir(env);
    const empty = dir === undefined ? [] : emptyBackendMetadata(dir);
    for (const file of empty) {
        fs.rmSync(file);
    }
    if (dir !== undefined && empty.length > 0) {
        say(`mesh: removed ${empty.length} empty metadata file${empty.length > 1 ? "s" : ""} a killed run left in the state backend ` +
            `(${empty.map((f) => path.relative(dir, f)).join(", ")}), which made Pulumi fail with "EOF"`);
    }
}
