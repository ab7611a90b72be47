// `mesh`: the fleet view. Brings up, checks, heals and tears down the whole mesh through Pulumi's
// Automation API, driving the same project and stack files as the `pulumi` CLI does.
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { CONTROL_PLANE_SERVICES, readyPodAddress } from "../lib/endpoints";
import { declaredFleet, Fleet, FleetStack, fleetRangeOverlap, newRemoteStackFile, readFleet, selectRemotes, UsageError } from "../lib/fleet";
import { identityFromKubeconfig, KubeIdentity, request } from "../lib/kubeClient";
import { kubeconfigTextOf } from "../lib/kubeconfig";
import { drift, RemoteFacts, statusRow, StatusRow, statusTable } from "../lib/meshStatus";
import { stackNames } from "../lib/stacks";
import { mapLimited } from "./limit";
import { Recovery, repairFileBackend } from "./recovery";

const VERBS: Record<string, { args: string; help: string }> = {
    up: { args: "[--remotes a,b]", help: "Deploy the primary, then the fleet's remotes (those whose stack exists, or named) in parallel; a summary table at the end." },
    preview: { args: "[--remotes a,b]", help: "Every stack's diff, grouped per stack; \"no changes\" when there are none." },
    status: { args: "[--json] [--istiod URL]", help: "One row per remote: registered, addresses current, token valid, read-only, and with --istiod (the primary istiod's debug port, e.g. http://10.0.0.5:15014) istiod's own view. Exit 1 on any problem." },
    heal: { args: "", help: "Re-read the primary's endpoints, then re-deploy only the remotes whose addresses drifted." },
    down: { args: "[--remotes a,b]", help: "Destroy the remotes in parallel, then the primary; with --remotes only those remotes." },
    "add-remote": { args: "NAME --context CTX [--pod-cidr R] [--service-cidr R] [--cacerts-dir DIR]", help: "Create stack remote-NAME and write Pulumi.remote-NAME.yaml from Pulumi.remote-a.yaml's shared settings, with this cluster's own context, ranges and CA." },
};

export const USAGE = ["usage: mesh <verb> [options] [--backend URL]   (mesh <verb> --help for one verb)", "",
    ...Object.entries(VERBS).map(([verb, v]) => `  mesh ${`${verb} ${v.args}`.padEnd(62)} ${v.help}`)].join("\n");

/** A parsed command line. */
export interface Command {
    readonly verb: string;
    readonly help: boolean;
    readonly remotes?: string[];
    readonly json: boolean;
    readonly name?: string;
    readonly context?: string;
    readonly podCidr?: string;
    readonly serviceCidr?: string;
    readonly istiod?: string;
    readonly cacertsDir?: string;
    /** The state backend's URL (file://…, postgres://…), instead of $PULUMI_BACKEND_URL. */
    readonly backend?: string;
}

/** Parses `mesh` arguments; throws a UsageError naming what is wrong. */
export function parseArgs(argv: string[]): Command {
    const [verb, ...rest] = argv;
    if (!verb || verb === "--help" || verb === "-h" || verb === "help") {
        return { verb: "help", help: true, json: false };
    }
    if (!VERBS[verb]) {
        throw new UsageError(`unknown verb "${verb}"`);
    }
    const flags: Record<string, string | true> = {};
    const positional: string[] = [];
    const allowed: Record<string, string[]> = {
        up: ["--remotes", "--backend"], preview: ["--remotes", "--backend"], down: ["--remotes", "--backend"],
        status: ["--json", "--istiod", "--backend"], heal: ["--backend"],
        "add-remote": ["--context", "--pod-cidr", "--service-cidr", "--cacerts-dir", "--backend"],
    };
    for (let i = 0; i < rest.length; i++) {
        const arg = rest[i];
        if (arg === "--help" || arg === "-h") {
            return { verb, help: true, json: false };
        }
        if (!arg.startsWith("--")) {
            positional.push(arg);
            continue;
        }
        const [flag, inline] = arg.split("=", 2);
        if (!allowed[verb].includes(flag)) {
            throw new UsageError(`mesh ${verb} does not take ${flag}`);
        }
        if (flag === "--json") {
            flags[flag] = true;
            continue;
        }
        const value = inline ?? rest[++i];
        if (value === undefined || value.startsWith("--") || value === "") {
            throw new UsageError(`${flag} needs a value`);
        }
        flags[flag] = value;
    }
    const wantsName = verb === "add-remote";
    if (positional.length > (wantsName ? 1 : 0)) {
        throw new UsageError(`unexpected argument "${positional[wantsName ? 1 : 0]}"`);
    }
    if (wantsName && positional.length === 0) {
        throw new UsageError("add-remote needs a NAME");
    }
    if (wantsName && !flags["--context"]) {
        throw new UsageError("add-remote needs --context CTX");
    }
    const remotes = typeof flags["--remotes"] === "string" ? flags["--remotes"].split(",").filter((r) => r) : undefined;
    return {
        verb, help: false, remotes, json: flags["--json"] === true, name: positional[0], istiod: flags["--istiod"] as string | undefined,
        context: flags["--context"] as string | undefined,
        podCidr: flags["--pod-cidr"] as string | undefined,
        serviceCidr: flags["--service-cidr"] as string | undefined,
        cacertsDir: flags["--cacerts-dir"] as string | undefined,
        backend: flags["--backend"] as string | undefined,
    };
}

/** The outcome of one stack's operation, for the summary table. */
interface StackResult {
    readonly stack: string;
    readonly op: string;
    readonly ok: boolean;
    readonly changed: number;
    readonly seconds: number;
    readonly error?: string;
    readonly output?: string;
}

const projectDir = process.env.MESH_PROJECT_DIR ?? process.cwd();

function say(line: string): void {
    process.stdout.write(`${line}\n`);
}

/**
 * How many stacks run at once: each run's program and plugins are CPU-bound at their start, and
 * more of them than cores only take turns. $MESH_PARALLEL overrides it.
 */
const PARALLEL_STACKS = Number(process.env.MESH_PARALLEL) || os.cpus().length;

/** `run` over `items`, at most PARALLEL_STACKS at a time, results in the items' order. */
function inParallel<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
    return mapLimited(items, PARALLEL_STACKS, run);
}

/** The Automation API, loaded only by the verbs that run Pulumi: loading it takes about half a second. */
const automation = () => import("@pulumi/pulumi/automation");

async function openStack(name: string, create: boolean): Promise<Stack> {
    const args = { stackName: name, workDir: projectDir };
    if (create) {
        return (await automation()).LocalWorkspace.createOrSelectStack(args, { secretsProvider: "passphrase" });
    }
    try {
        return await (await automation()).LocalWorkspace.selectStack(args);
    } catch {
        throw new UsageError(`stack "${name}" does not exist; run \`mesh up\` first`);
    }
}

/** A stack's outputs as plain values (secrets included, as `mesh` only reads them itself). */
async function outputValues(stack: Stack): Promise<Record<string, any>> {
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

/** Runs up, preview or destroy on one stack, printing a progress line per changed resource. */
async function runStack(fleetStack: FleetStack, op: "up" | "preview" | "destroy"): Promise<StackResult> {
    const start = Date.now();
    let changed = 0;
    const elapsed = () => ((Date.now() - start) / 1000).toFixed(1);
    const onEvent = (event: EngineEvent) => {
        const meta = event.resOutputsEvent?.metadata ?? (op === "preview" ? event.resourcePreEvent?.metadata : undefined);
        if (meta && CHANGES.has(meta.op) && !meta.type.startsWith("pulumi:")) {
            changed++;
            say(`[${fleetStack.name}] ${op}: ${meta.op} ${meta.type.split(":").pop()} ${meta.urn.split("::").pop()} ` +
                `(${changed} changed, ${elapsed()}s)`);
        }
    };
    say(`[${fleetStack.name}] ${op}: starting`);
    try {
        const stack = await openStack(fleetStack.name, op !== "destroy");
        let output = "";
        const onOutput = (text: string) => (output += text);
        if (op === "preview") {
            await stack.preview({ onEvent, onOutput, diff: true });
        } else {
            // An interrupted run's debris first, so that this run starts from a whole state.
            const recovery = new Recovery(fleetStack.name, stack, projectDir, say);
            if (await recovery.clearingStaleLocks(() => recovery.clearPendingOperations(onOutput))) {
                // An object whose creation was cut off exists, applied by the gone run: this run takes it over.
                say(`[${fleetStack.name}] this run takes over what the interrupted one had begun to create ` +
                    "(server-side apply with force, PULUMI_K8S_ENABLE_PATCH_FORCE=true, for this run only)");
                stack.workspace.envVars.PULUMI_K8S_ENABLE_PATCH_FORCE = "true";
            }
            // up refreshes first: what was deleted behind Pulumi's back (a registration secret, a token) is re-created.
            await recovery.clearingStaleLocks(async () => {
                await (op === "up" ? stack.up({ onEvent, onOutput, refresh: true }) : stack.destroy({ onEvent, onOutput }));
            });
        }
        say(`[${fleetStack.name}] ${op}: done, ${changed} changed in ${elapsed()}s`);
        return { stack: fleetStack.name, op, ok: true, changed, seconds: Number(elapsed()), output };
    } catch (err) {
        const error = err instanceof UsageError ? err.message : firstError(err);
        say(`[${fleetStack.name}] ${op}: FAILED after ${elapsed()}s: ${error}`);
        return { stack: fleetStack.name, op, ok: false, changed, seconds: Number(elapsed()), error };
    }
}

function summary(results: StackResult[]): string {
    const width = Math.max(5, ...results.map((r) => r.stack.length));
    return [`${"stack".padEnd(width)}  op       result  changed  seconds`,
        ...results.map((r) => `${r.stack.padEnd(width)}  ${r.op.padEnd(7)}  ${(r.ok ? "ok" : "FAILED").padEnd(6)}  ` +
            `${String(r.changed).padStart(7)}  ${r.seconds.toFixed(1).padStart(7)}${r.error ? `  ${r.error}` : ""}`)].join("\n");
}

/** Exit code 1 when any failed, naming each failed stack and its first error. */
function finish(results: StackResult[]): number {
    say("");
    say(summary(results));
    const failed = results.filter((r) => !r.ok);
    for (const f of failed) {
        process.stderr.write(`mesh: stack ${f.stack} failed: ${f.error}\n`);
    }
    return failed.length > 0 ? 1 : 0;
}

async function up(fleet: Fleet, remotes: FleetStack[]): Promise<number> {
    const primary = await runStack(fleet.primary, "up");
    if (!primary.ok) {
        return finish([primary]);
    }
    // Remotes are independent of each other: one failing leaves the others to finish their run.
    return finish([primary, ...await inParallel(remotes, (r) => runStack(r, "up"))]);
}

async function preview(fleet: Fleet, remotes: FleetStack[]): Promise<number> {
    const results = await inParallel([fleet.primary, ...remotes], (s) => runStack(s, "preview"));
    for (const r of results) {
        say(`\n== ${r.stack}${r.ok && r.changed === 0 ? ": no changes" : ""}`);
        if (r.ok && r.changed > 0) {
            say((r.output ?? "").trim());
        }
    }
    const code = finish(results);
    if (code === 0 && results.every((r) => r.changed === 0)) {
        say("no changes");
    }
    return code;
}

async function down(fleet: Fleet, remotes: FleetStack[], onlyRemotes: boolean): Promise<number> {
    const results = await inParallel(remotes, (r) => runStack(r, "destroy"));
    if (!onlyRemotes && results.every((r) => r.ok)) {
        results.push(await runStack(fleet.primary, "destroy"));
    }
    return finish(results);
}

/** A cluster's identity from a stack's config: its kubeconfig secret, or a context of the ambient kubeconfig. */
async function clusterIdentity(stack: Stack, fleetStack: FleetStack, contextKey: string, kubeconfigKey: string): Promise<KubeIdentity> {
    const inline = (await stack.getAllConfig())[`istio-multicluster:${kubeconfigKey}`]?.value;
    const text = kubeconfigTextOf({ kubeconfig: inline || undefined });
    if (!text) {
        throw new Error(`no kubeconfig found for ${fleetStack.name} ($KUBECONFIG, ~/.kube/config)`);
    }
    return identityFromKubeconfig(text, inline ? undefined : fleetStack.config[contextKey] as string | undefined);
}

/** The addresses the primary's control plane has now: its pods' IPs, or its exported addresses. */
async function currentPrimaryAddresses(fleet: Fleet, outputs: Record<string, any>, primary: KubeIdentity): Promise<Record<string, string | undefined>> {
    const exposure = (fleet.primary.config.endpointExposure as string | undefined) ?? "podIP";
    if (exposure !== "podIP") {
        return outputs;
    }
    const ns = outputs.istioNamespace as string;
    const current: Record<string, string | undefined> = {};
    for (const svc of CONTROL_PLANE_SERVICES) {
        if (outputs[svc.output] === undefined) {
            continue;
        }
        const endpoints = await request(primary, "GET", `/api/v1/namespaces/${ns}/endpoints/${svc.service}`);
        try {
            current[svc.output] = readyPodAddress(endpoints.status === 200 ? endpoints.body : {}, svc, ns);
        } catch {
            current[svc.output] = "(no ready pod)";
        }
    }
    return current;
}

const WRITES_TO_REFUSE: ReadonlyArray<{ verb: string; resource: string; group?: string }> = [
    { verb: "create", resource: "pods" }, { verb: "delete", resource: "pods" }, { verb: "update", resource: "services" },
    { verb: "get", resource: "secrets" }, { verb: "create", resource: "deployments", group: "apps" },
];

/** What the primary's istiod says of each cluster it reads (its /debug/clusterz), or undefined when not asked. */
async function istiodClusters(debugUrl: string | undefined): Promise<Record<string, string> | undefined> {
    if (debugUrl === undefined) {
        return undefined;
    }
    const url = new URL("/debug/clusterz", debugUrl);
    const body = await new Promise<string>((resolve, reject) => {
        http.get(url, { timeout: 5000 }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        }).on("error", (err) => reject(new Error(`istiod's debug port ${url} does not answer: ${err.message}`)));
    });
    return Object.fromEntries((JSON.parse(body) as Array<{ id: string; syncStatus: string }>).map((c) => [c.id, c.syncStatus]));
}

async function remoteFacts(
    remote: FleetStack, primary: KubeIdentity, istioNamespace: string, istiod: Record<string, string> | undefined,
): Promise<RemoteFacts> {
    const stack = await openStack(remote.name, false);
    const outputs = await outputValues(stack);
    const clusterName = (outputs.clusterName as string | undefined) ?? remote.name;
    if (!outputs.kubeconfig) {
        throw new UsageError(`stack "${remote.name}" has not been deployed; run \`mesh up\` first`);
    }
    // Istio 1.0's remotes register istio-multi under the cluster's name; today's, the reader account as istioctl does.
    const seed = outputs.meshModel === undefined;
    const secretName = (outputs.remoteSecretName as string | undefined) ?? clusterName;
    const account = seed ? "istio-multi" : "istio-reader-service-account";
    const secret = await request(primary, "GET", `/api/v1/namespaces/${istioNamespace}/secrets/${secretName}`);
    const registration = secret.status === 200
        ? { labels: secret.body.metadata.labels ?? {}, keys: Object.keys(secret.body.data ?? {}) } : undefined;
    const token = identityFromKubeconfig(outputs.kubeconfig);
    const review = await request(token, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }).catch((err: Error) => ({ status: 0, body: err.message }));
    const tokenIdentity = review.status === 201
        ? { username: review.body.status.userInfo.username as string }
        : { problem: review.status === 401 ? "token no longer authenticates (its secret was deleted or revoked)"
            : `token check failed: ${review.status} ${JSON.stringify(review.body).slice(0, 120)}` };
    const allowedWrites: string[] = [];
    if (tokenIdentity.username) {
        // Today's reader account reads secrets by design (istiod resolves gateway credentials through it).
        for (const w of WRITES_TO_REFUSE.filter((w) => seed || w.verb !== "get")) {
            const r = await request(token, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
                apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
                spec: { resourceAttributes: { verb: w.verb, resource: w.resource, group: w.group ?? "" } },
            });
            if (r.body?.status?.allowed) {
                allowedWrites.push(`${w.verb} ${w.resource}`);
            }
        }
    }
    const renderedWith = seed ? outputs.controlPlaneAddresses ?? {} : outputs.discoveryAddress ? { discoveryAddress: outputs.discoveryAddress } : {};
    return {
        stack: remote.name, clusterName, secretName, account, registration, renderedWith, tokenIdentity, allowedWrites,
        accountNamespace: (remote.config.istioNamespace as string | undefined) ?? "istio-system",
        istiodView: istiod === undefined ? undefined : istiod[clusterName] ?? "absent",
    };
}

async function status(fleet: Fleet, json: boolean, istiodDebug: string | undefined): Promise<number> {
    const primaryStack = await openStack(fleet.primary.name, false);
    const outputs = await outputValues(primaryStack);
    if (!outputs.pilotAddress && !outputs.meshModel) {
        throw new UsageError(`stack "${fleet.primary.name}" has not been deployed; run \`mesh up\` first`);
    }
    const primary = await clusterIdentity(primaryStack, fleet.primary, "kubeContext", "kubeconfig");
    const current = outputs.meshModel ? outputs : await currentPrimaryAddresses(fleet, outputs, primary);
    const istiod = await istiodClusters(istiodDebug);
    // Every remote at once: each row is a few reads of outputs and API calls, no CPU-bound run.
    const rows: StatusRow[] = await Promise.all(fleet.remotes.map(async (remote): Promise<StatusRow> => {
        try {
            return statusRow(await remoteFacts(remote, primary, outputs.istioNamespace, istiod), current, outputs.istioNamespace);
        } catch (err) {
            return { remote: remote.name, registered: false, addressesCurrent: false, tokenValid: false, readOnly: false,
                istiod: "-", problems: [(err as Error).message] };
        }
    }));
    const primaryView = outputs.meshModel ? { meshModel: outputs.meshModel, discoveryAddress: outputs.discoveryAddress } : { addresses: current };
    say(json ? JSON.stringify({ primary: { stack: fleet.primary.name, ...primaryView }, remotes: rows }, null, 2) : statusTable(rows));
    const broken = rows.filter((r) => r.problems.length > 0);
    if (!json && broken.length > 0) {
        const drifted = broken.filter((r) => !r.addressesCurrent).map((r) => r.remote);
        const other = broken.filter((r) => !r.registered || !r.tokenValid || !r.readOnly).map((r) => r.remote);
        say(`\nto fix:${drifted.length ? " `mesh heal` (drift);" : ""}${other.length ? ` \`mesh up --remotes ${other.join(",")}\`` : ""}`);
    }
    return broken.length === 0 ? 0 : 1;
}

async function heal(fleet: Fleet): Promise<number> {
    const primary = await runStack(fleet.primary, "up");
    if (!primary.ok) {
        return finish([primary]);
    }
    const primaryOutputs = await outputValues(await openStack(fleet.primary.name, false));
    const drifted: FleetStack[] = [];
    for (const remote of fleet.remotes) {
        const outputs = await outputValues(await openStack(remote.name, false));
        const moved = drift(outputs.controlPlaneAddresses ?? {}, primaryOutputs);
        if (Object.keys(moved).length > 0) {
            say(`[heal] ${remote.name} drifted: ${Object.entries(moved).map(([o, [was, now]]) => `${o} ${was} -> ${now}`).join(", ")}; re-deploying`);
            drifted.push(remote);
        } else {
            say(`[heal] ${remote.name} is current`);
        }
    }
    return finish([primary, ...await inParallel(drifted, (r) => runStack(r, "up"))]);
}

async function addRemote(cmd: Command): Promise<number> {
    const template = path.join(projectDir, "Pulumi.remote-a.yaml");
    if (!fs.existsSync(template)) {
        throw new UsageError(`no ${template} to copy from`);
    }
    const { stack, text } = newRemoteStackFile(fs.readFileSync(template, "utf8"), cmd.name!, cmd.context!,
        { podCidr: cmd.podCidr, serviceCidr: cmd.serviceCidr, cacertsDir: cmd.cacertsDir });
    const target = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(target)) {
        throw new UsageError(`${path.basename(target)} already exists`);
    }
    fs.writeFileSync(target, text);
    // The stack too: the fleet is the stacks that exist, so a file alone would not join `mesh up`.
    await (await automation()).LocalWorkspace.createStack({ stackName: stack, workDir: projectDir }, { secretsProvider: "passphrase" });
    say(`wrote ${path.basename(target)} and created stack ${stack} (cluster ${stack}, context ${cmd.context}); \`mesh up\` joins it`);
    return 0;
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
    let cmd: Command;
    try {
        cmd = parseArgs(argv);
        if (cmd.help) {
            say(cmd.verb === "help" ? USAGE : `usage: mesh ${cmd.verb} ${VERBS[cmd.verb].args}\n\n${VERBS[cmd.verb].help}`);
            return 0;
        }
        if (cmd.backend !== undefined) {
            // Every Pulumi command mesh runs (Automation API) takes its backend from the environment.
            process.env.PULUMI_BACKEND_URL = cmd.backend;
        }
        if (cmd.verb === "add-remote") {
            return await addRemote(cmd);
        }
        repairFileBackend(say);
        const files = readFleet(projectDir);
        // selectRemotes first: naming a remote that has no stack file at all is a usage error.
        const named = selectRemotes(files, cmd.remotes).map((r) => r.name);
        const { fleet, ignored } = declaredFleet(files, new Set(await stackNames(projectDir)), cmd.remotes ? named : []);
        for (const stray of ignored) {
            say(`mesh: not in the fleet: Pulumi.${stray.name}.yaml (no stack ${stray.name} in this backend; ` +
                `\`mesh up --remotes ${stray.name}\` creates it, \`mesh add-remote\` writes and creates new ones)`);
        }
        // The whole fleet's ranges are checked before any stack is touched.
        const overlap = cmd.verb === "up" || cmd.verb === "preview" ? fleetRangeOverlap(fleet) : undefined;
        if (overlap) {
            process.stderr.write(`mesh: ${overlap}; nothing was changed\n`);
            return 1;
        }
        switch (cmd.verb) {
            case "up": return await up(fleet, selectRemotes(fleet, cmd.remotes));
            case "preview": return await preview(fleet, selectRemotes(fleet, cmd.remotes));
            case "down": return await down(fleet, selectRemotes(fleet, cmd.remotes), cmd.remotes !== undefined);
            case "status": return await status(fleet, cmd.json, cmd.istiod);
            default: return await heal(fleet);
        }
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write(`mesh: ${err.message}\n\n${USAGE}\n`);
            return 2;
        }
        process.stderr.write(`mesh: ${(err as Error).message}\n`);
        return 1;
    }
}
