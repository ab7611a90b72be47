// Drives the real Pulumi CLI for the end-to-end suite, and times each step.
import { spawn } from "child_process";

export interface CliResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `pulumi ARGS` in the work directory with the suite's offline environment. */
export function pulumi(workDir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult> {
    return runCommand("pulumi", [...args, "--non-interactive"], workDir, env);
}

/** Runs a command to its end (or kills it after the time out) and collects its output. */
export function runCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutSeconds = 900): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGTERM"), timeoutSeconds * 1000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout, stderr });
        });
    });
}

/** Like pulumi(), but fails with the command's output unless it exits 0. */
export async function pulumiOk(workDir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<CliResult> {
    const r = await pulumi(workDir, env, args);
    if (r.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    }
    return r;
}

/** Wall time per named step, printed as a table at the end of the suite. */
export class StepTimer {
    private readonly rows: Array<[string, number]> = [];

    async time<T>(step: string, fn: () => Promise<T>): Promise<T> {
        const start = Date.now();
        try {
            return await fn();
        } finally {
            this.rows.push([step, (Date.now() - start) / 1000]);
        }
    }

    table(): string {
        const width = Math.max(4, ...this.rows.map(([s]) => s.length));
        const lines = this.rows.map(([s, t]) => `| ${s.padEnd(width)} | ${t.toFixed(1).padStart(7)} |`);
        const total = this.rows.reduce((sum, [, t]) => sum + t, 0);
        return [`| ${"step".padEnd(width)} | seconds |`, `|${"-".repeat(width + 2)}|---------|`, ...lines,
            `| ${"total".padEnd(width)} | ${total.toFixed(1).padStart(7)} |`].join("\n");
    }
}
