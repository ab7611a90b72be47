// Running Pulumi on the fleet's stacks through the Automation API, as the verbs share it: the
// fleet itself, opening a stack, one stack's up/preview/destroy with progress lines, and the
// summary table at the end.
import type { EngineEvent, LocalWorkspaceOptions, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { stackNames } from "../lib/stacks/stacks";
import { declaredFleet, Fleet, FleetStack, fleetRangeOverlap, readFleet, selectRemotes, UsageError } from "./fleet";
import { mapLimited } from "./limit";
import { drawsInPlace, Progress } from "./progress";
import { Recovery, repairFileBackend } from "./recovery";

/** The project `mesh` drives: $MESH_PROJECT_DIR, or the working directory. */
export const projectDir = process.env.MESH_PROJECT_DIR ?? process.cwd();

/** The progress of this run's stacks on stdout: in place at a terminal, a line per update elsewhere. */
const progress = new Progress(process.stdout, drawsInPlace(process.stdout, process.env));

/** Prints a line that stays (a notice, a table), above the running stacks' lines at a terminal. */
export function say(line: string): void {
    progress.say(line);
}

/** Prints a notice on stderr, for a verb whose stdout is JSON alone. */
export function sayOnStderr(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** The stacks a verb runs on, as its options name them. */
export interface Selection {
    /** Only these remotes (--remotes); all of the fleet's when undefined. */
    readonly remotes?: string[];
    /** This one stack alone (--stack), the primary or a remote. */
    readonly stack?: string;
}

/** The outcome of one stack's operation, for the summary table. */
export interface StackResult {
    readonly stack: string;
    readonly op: string;
    readonly ok: boolean;
    readonly changed: number;
    readonly seconds: number;
    readonly error?: string;
    readonly output?: string;
}

/**
 * How many stacks run at once: each run's program and plugins are CPU-bound at their start, and
 * more of them than cores only take turns. $MESH_PARALLEL overrides it.
 */
const PARALLEL_STACKS = Number(process.env.MESH_PARALLEL) || os.cpus().length;

/** `run` over `items`, at most PARALLEL_STACKS at a time, results in the items' order. */
export function inParallel<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
    return mapLimited(items, PARALLEL_STACKS, run);
}

/** The Automation API, loaded only by the verbs that run Pulumi: loading it takes about half a second. */
export const automation = () => import("@pulumi/pulumi/automation");

let pulumiCli: Promise<PulumiCommand> | undefined;

/** Workspace options for every stack of this run: one Pulumi CLI, its version checked once rather than once per stack. */
export async function workspaceOptions(): Promise<LocalWorkspaceOptions> {
    pulumiCli ??= automation().then((a) => a.PulumiCommand.get());
    return { pulumiCommand: await pulumiCli };
}

/**
 * The secrets provider a stack `mesh` creates is made with, as `pulumi stack init --secrets-provider`
 * takes it: --secrets-provider ($MESH_SECRETS_PROVIDER), else the one the stack's file already
 * names (`secretsprovider:`, as a team commits it), else none, leaving Pulumi's default for the
 * backend (Pulumi Cloud's own keys; a passphrase for a self-managed one).
 */
export function secretsProviderFor(stackFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (env.MESH_SECRETS_PROVIDER) {
        return env.MESH_SECRETS_PROVIDER;
    }
    const settings = stackFile === undefined ? undefined : yaml.load(stackFile) as { secretsprovider?: unknown } | undefined;
    return typeof settings?.secretsprovider === "string" ? settings.secretsprovider : undefined;
}

/** Workspace options that create stack `name`: with its secrets provider (secretsProviderFor) when one is chosen. */
export async function creatingWorkspaceOptions(name: string): Promise<LocalWorkspaceOptions> {
    const file = path.join(projectDir, `Pulumi.${name}.yaml`);
    const secretsProvider = secretsProviderFor(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined);
    return { ...await workspaceOptions(), ...(secretsProvider === undefined ? {} : { secretsProvider }) };
}

/**
 * The fleet in this backend: the primary and the remotes whose stack exists (or that `named`
 * lists), after repairing what a killed run left in a file backend. Stray stack files are named
 * and left out (told to `notice`: a verb whose stdout is JSON sends it to stderr); with
 * `checkRanges`, overlapping pod or service ranges are refused before any stack is touched.
 */
export async function loadFleet(named: string[] | undefined, checkRanges: boolean, notice: (line: string) => void = say):
    Promise<{ fleet: Fleet; selected: FleetStack[] }> {
    repairFileBackend(notice);
    const files = readFleet(projectDir);
    // selectRemotes first: naming a remote that has no stack file at all is a usage error.
    const names = selectRemotes(files, named).map((r) => r.name);
    const { fleet, ignored } = declaredFleet(files, new Set(await stackNames(projectDir)), named ? names : []);
    for (const stray of ignored) {
        notice(`mesh: not in the fleet: Pulumi.${stray.name}.yaml (no stack ${stray.name} in this backend; ` +
            `\`mesh up --remotes ${stray.name}\` creates it, \`mesh add-remote\` writes and creates new ones)`);
    }
    const overlap = checkRanges ? fleetRangeOverlap(fleet) : undefined;
    if (overlap) {
        throw new Error(`${overlap}; nothing was changed`);
    }
    return { fleet, selected: selectRemotes(fleet, named) };
}

/**
 * The stacks `selection` names: with --stack the primary alone, or that remote alone; else the
 * primary and the remotes (those --remotes lists, or all).
 */
export async function loadSelection(selection: Selection, checkRanges: boolean): Promise<{ primary?: FleetStack; remotes: FleetStack[] }> {
    const alone = selection.stack;
    const primaryAlone = alone !== undefined && alone === readFleet(projectDir).primary.name;
    const named = alone === undefined ? selection.remotes : primaryAlone ? [] : [alone];
    const { fleet, selected } = await loadFleet(named, checkRanges);
    return { primary: alone === undefined || primaryAlone ? fleet.primary : undefined, remotes: selected };
}

export async function openStack(name: string, create: boolean): Promise<Stack> {
    const args = { stackName: name, workDir: projectDir };
    if (create) {
        return (await automation()).LocalWorkspace.createOrSelectStack(args, await creatingWorkspaceOptions(name));
    }
    try {
        return await (await automation()).LocalWorkspace.selectStack(args, await workspaceOptions());
    } catch {
        throw new UsageError(`stack "${name}" does not exist; run \`mesh up\` first`);
    }
}

/** A stack's outputs as plain values (secrets included, as `mesh` only reads them itself). */
export async function outputValues(stack: Stack): Promise<Record<string, any>> {
    return Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
}

/** The first line of a failed Pulumi command that says what went wrong. */
function firstError(err: unknown): string {
    const text = String((err as Error)?.message ?? err);
    const lines = text.split("\n").map((l) => l.trim());
    const specific = lines.find((l) => /error: /.test(l) && !/error: (update|preview|destroy) failed|error: an unhandled error/.test(l));
    return (specific ?? lines.find((l) => l.length > 0) ?? "unknown error").replace(/^.*?error: /, "");
}

/** The engine's operations that change a resource (a refresh or a read does not). */
const CHANGES = new Set(["create", "update", "delete", "replace", "create-replacement", "delete-replaced", "import", "import-replacement"]);

/** Runs up, preview or destroy on one stack, its progress line updated per changed resource. */
export async function runStack(fleetStack: FleetStack, op: "up" | "preview" | "destroy"): Promise<StackResult> {
    const start = Date.now();
    let changed = 0;
    const elapsed = () => ((Date.now() - start) / 1000).toFixed(1);
    const onEvent = (event: EngineEvent) => {
        const meta = event.resOutputsEvent?.metadata ?? (op === "preview" ? event.resourcePreEvent?.metadata : undefined);
        if (meta && CHANGES.has(meta.op) && !meta.type.startsWith("pulumi:")) {
            changed++;
            progress.stack(fleetStack.name, `[${fleetStack.name}] ${op}: ${meta.op} ${meta.type.split(":").pop()} ${meta.urn.split("::").pop()} ` +
                `(${changed} changed, ${elapsed()}s)`);
        }
    };
    progress.stack(fleetStack.name, `[${fleetStack.name}] ${op}: starting`);
    try {
        const stack = await openStack(fleetStack.name, op !== "destroy");
        let output = "";
        const onOutput = (text: string) => (output += text);
        if (op === "preview") {
            await stack.preview({ onEvent, onOutput, diff: true });
        } else {
            // An interrupted run's debris first, so that this run starts from a whole state.
            const recovery = new Recovery(fleetStack.name, stack, projectDir, say);
            // An object whose creation was cut off exists in its cluster; this run applies it again under
            // the same field manager (the stack's own), which takes it over.
            await recovery.clearingStaleLocks(() => recovery.clearPendingOperations(onOutput));
            // up refreshes first: what was deleted behind Pulumi's back (a registration secret, a token) is re-created.
            await recovery.clearingStaleLocks(async () => {
                await (op === "up" ? stack.up({ onEvent, onOutput, refresh: true }) : stack.destroy({ onEvent, onOutput }));
            });
        }
        progress.stack(fleetStack.name, `[${fleetStack.name}] ${op}: done, ${changed} changed in ${elapsed()}s`, true);
        return { stack: fleetStack.name, op, ok: true, changed, seconds: Number(elapsed()), output };
    } catch (err) {
        const error = err instanceof UsageError ? err.message : firstError(err);
        progress.stack(fleetStack.name, `[${fleetStack.name}] ${op}: FAILED after ${elapsed()}s: ${error}`, true);
        return { stack: fleetStack.name, op, ok: false, changed, seconds: Number(elapsed()), error };
    }
}

function summary(results: StackResult[]): string {
    const width = Math.max(5, ...results.map((r) => r.stack.length));
    return [`${"stack".padEnd(width)}  op       result  changed  seconds`,
        ...results.map((r) => `${r.stack.padEnd(width)}  ${r.op.padEnd(7)}  ${(r.ok ? "ok" : "FAILED").padEnd(6)}  ` +
            `${String(r.changed).padStart(7)}  ${r.seconds.toFixed(1).padStart(7)}${r.error ? `  ${r.error}` : ""}`)].join("\n");
}

/** Prints the summary table; exit code 1 when any failed, naming each failed stack and its first error. */
export function finish(results: StackResult[]): number {
    say("");
    say(summary(results));
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) {
        process.stderr.write(`mesh: stack ${f.stack} failed: ${f.error}\n`);
    }
    return failed.length > 0 ? 1 : 0;
}
