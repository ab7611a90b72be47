// What `mesh` does about the debris of an interrupted run: a lock its dead process still holds,
// the operations it left pending in the state, and the plugin processes it left running.
import type { Stack } from "@pulumi/pulumi/automation";
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
 * Whether a lock was left by a run that is gone: taken on this host by a process that no longer
 * exists. A lock of another host, or of a live process, is a run in progress.
 */
export function isStale(holder: LockHolder, thisHost: string, isAlive: (pid: number) => boolean): boolean {
    return holder.host === thisHost && !isAlive(holder.pid);
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

/** Every process of this host (Linux /proc), with what orphanedPlugins needs. */
export function listProcesses(procRoot = "/proc"): ProcessInfo[] {
    return fs.readdirSync(procRoot).filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
        try {
            // The stat line is "pid (comm) state ppid …"; comm may hold spaces, so read after the last ")".
            const stat = fs.readFileSync(path.join(procRoot, pid, "stat"), "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            const command = fs.readFileSync(path.join(procRoot, pid, "cmdline"), "utf8").split("\0")[0];
            let cwd: string | undefined;
            try {
                cwd = fs.readlinkSync(path.join(procRoot, pid, "cwd"));
            } catch {
                cwd = undefined;
            }
            return [{ pid: Number(pid), ppid, command, cwd }];
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
    constructor(
        private readonly name: string,
        private readonly stack: Stack,
        private readonly projectDir: string,
        private readonly say: (line: string) => void,
    ) {}

    /**
     * Runs `operation`; when it fails on a lock whose pulumi process is gone from this host, removes
     * that lock and stops what that run left running, saying so, and runs it once more. A lock of a
     * live run is refused, naming its holder.
     */
    async clearingStaleLocks<T>(operation: () => Promise<T>): Promise<T> {
        try {
            return await operation();
        } catch (err) {
            const holders = lockHolders(String((err as Error)?.message ?? err));
            if (holders.length === 0) {
                throw err;
            }
            const live = holders.filter((h) => !isStale(h, os.hostname(), processAlive));
            if (live.length > 0) {
                throw new UsageError(`locked by ${live.map(describeHolder).join("; ")}: another run is in progress on this ` +
                    "stack; wait for it to end");
            }
            for (const h of holders) {
                this.say(`[${this.name}] removing the lock left by ${describeHolder(h)}: that process is gone`);
            }
            await this.stack.cancel();
            await this.stopOrphanedPlugins();
            return await operation();
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
