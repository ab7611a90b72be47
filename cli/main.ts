// `mesh`: the fleet view. Brings up, checks, heals and tears down the whole mesh through Pulumi's
// Automation API, driving the same project and stack files as the `pulumi` CLI does. This file is
// the command line (commander); each verb lives in its own module, loaded only when it runs.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { UsageError } from "./fleet";
import type { NewRemote } from "./addRemote";
import type { Selection } from "./stackRuns";

/** What each verb does, given its parsed options; resolves with the exit code. */
export interface Verbs {
    up(selection: Selection): Promise<number>;
    preview(selection: Selection): Promise<number>;
    status(json: boolean, istiod: string | undefined): Promise<number>;
    heal(): Promise<number>;
    down(selection: Selection): Promise<number>;
    addRemote(remote: NewRemote): Promise<number>;
    plan(remotes: string[] | undefined, json: boolean): Promise<number>;
}

/** The verbs' implementations, each module loaded when its verb runs (the Automation API and the Kubernetes client take time to load). */
const VERBS: Verbs = {
    up: async (selection) => (await import("./up")).up(selection),
    preview: async (selection) => (await import("./preview")).preview(selection),
    status: async (json, istiod) => (await import("./status")).status(json, istiod),
    heal: async () => (await import("./heal")).heal(),
    down: async (selection) => (await import("./down")).down(selection),
    addRemote: async (remote) => (await import("./addRemote")).addRemote(remote),
    plan: async (remotes, json) => (await import("./plan")).plan(remotes, json),
};

/** Exit code of a usage error (a bad command line, an unknown stack): the usage follows the message. */
export const USAGE_ERROR = 2;

/** A comma-separated list of remote stacks. */
function remoteList(value: string): string[] {
    const names = value.split(",").filter((r) => r.length > 0);
    if (names.length === 0) {
        throw new InvalidArgumentError("it needs at least one stack name");
    }
    return names;
}

const remotesOption = () => new Option("--remotes <list>", "only these remote stacks, comma-separated (e.g. remote-a,remote-b)").argParser(remoteList);

/** One stack alone, as a CI job of `mesh plan`'s stages runs it. */
const stackOption = () => new Option("--stack <name>", "this one stack alone (the primary or a remote), as one job of `mesh plan`'s stages")
    .conflicts("remotes");

/** The stacks the options select. */
const selection = (o: { remotes?: string[]; stack?: string }): Selection => ({ remotes: o.remotes, stack: o.stack });

/**
 * The `mesh` command line: each verb with its options and --help, and --backend on every verb.
 * `verbs` receives each verb's call, so that the parsing can be tested on its own.
 */
export function meshProgram(verbs: Verbs, onExit: (code: number) => void, out: (text: string) => void, err: (text: string) => void): Command {
    const program = new Command("mesh")
        .description("The fleet view of an Istio multicluster mesh: one Pulumi stack per cluster, driven together.")
        .usage("<verb> [options]")
        .exitOverride()
        .configureOutput({ writeOut: out, writeErr: err, outputError: (text, write) => write(`mesh: ${text.replace(/^error: /, "")}`) })
        .showHelpAfterError("(mesh --help lists the verbs; mesh <verb> --help shows one)")
        .helpCommand(false)
        .addHelpText("after", [
            "", "Environment:",
            "  PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE  the state backend and its secrets passphrase, as for pulumi",
            "  MESH_PROJECT_DIR                              the Pulumi project (default: the working directory)",
            "  MESH_PARALLEL                                 how many stacks run at once (default: the number of cores)",
            "  MESH_SECRETS_PROVIDER                         the secrets provider of the stacks mesh creates (as --secrets-provider)",
        ].join("\n"));
    const verb = (name: string, description: string) => program.command(name).description(description)
        .addOption(new Option("--backend <url>", "the state backend (file://…, postgres://…) instead of $PULUMI_BACKEND_URL")
            .argParser((url) => {
                // Every Pulumi command mesh runs (Automation API) takes its backend from the environment.
                process.env.PULUMI_BACKEND_URL = url;
                return url;
            }))
        .addOption(new Option("--secrets-provider <provider>", "the secrets provider of the stacks mesh creates, as `pulumi stack init " +
            "--secrets-provider` takes it (passphrase, awskms://…, hashivault://…, …); by default the one a stack's file names, " +
            "else Pulumi's default for the backend")
            .argParser((provider) => {
                process.env.MESH_SECRETS_PROVIDER = provider;
                return provider;
            }));
    const done = (code: Promise<number>) => code.then(onExit);

    verb("up", "Deploy the primary, then the fleet's remotes (those whose stack exists, or named) in parallel; a summary table at the end.")
        .addOption(remotesOption())
        .addOption(stackOption())
        .action((o) => done(verbs.up(selection(o))));
    verb("preview", "Every stack's diff, grouped per stack; \"no changes\" when there are none.")
        .addOption(remotesOption())
        .addOption(stackOption())
        .action((o) => done(verbs.preview(selection(o))));
    verb("status", "One row per remote: registered, addresses current, token valid, read-only, and istiod's own view of it (read at --istiod, or over istiod's xDS port at the primary's discoveryAddress); then each cluster's CA expiry, warning under 30 days; with istiod's view, each network's east-west gateway and whether istiod lists it. Exit 1 on any problem, an expired CA or an unlisted gateway.")
        .option("--json", "the rows as JSON")
        .option("--istiod <url>", "the primary istiod's debug port (e.g. http://127.0.0.1:15014 after kubectl port-forward), where its xDS port is not reachable at the discoveryAddress (multi-primary)")
        .action((o) => done(verbs.status(o.json === true, o.istiod)));
    verb("heal", "Re-read the primary's endpoints, then re-deploy only the remotes whose addresses drifted.")
        .action(() => done(verbs.heal()));
    verb("down", "Destroy the remotes in parallel, then the primary; with --remotes only those remotes.")
        .addOption(remotesOption())
        .addOption(stackOption())
        .action((o) => done(verbs.down(selection(o))));
    verb("plan", "The stages up and down run the fleet's stacks in: the stacks of a stage are independent, each stage waits for " +
        "the one before; with --json, for a CI matrix whose jobs run `mesh up --stack NAME`.")
        .addOption(remotesOption())
        .option("--json", "the stages as JSON")
        .action((o) => done(verbs.plan(o.remotes, o.json === true)));
    verb("add-remote", "Create stack remote-NAME and write Pulumi.remote-NAME.yaml from Pulumi.remote-a.yaml's shared settings, " +
        "with this cluster's own context, ranges and CA.")
        .argument("<name>", "the cluster's short name: its stack is remote-NAME")
        .requiredOption("--context <ctx>", "the cluster's kubeconfig context")
        .option("--pod-cidr <range>", "the cluster's pod range")
        .option("--service-cidr <range>", "the cluster's service range")
        .option("--cacerts-dir <dir>", "the cluster's intermediate CA (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem)")
        .option("--chart-dir <dir>", "the cluster's Istio charts, when remote-a's are the repository's test fixtures")
        .action((name: string, o) => done(verbs.addRemote({
            name, context: o.context, podCidr: o.podCidr, serviceCidr: o.serviceCidr, cacertsDir: o.cacertsDir, chartDir: o.chartDir,
        })));
    return program;
}

/** Runs the command line with `verbs` (by default the real ones); resolves with the exit code. */
export async function main(argv: string[], verbs: Verbs = VERBS): Promise<number> {
    let code = 0;
    const program = meshProgram(verbs, (c) => (code = c), (t) => process.stdout.write(t), (t) => process.stderr.write(t));
    try {
        if (argv.length === 0) {
            program.outputHelp();
            return 0;
        }
        await program.parseAsync(argv, { from: "user" });
        return code;
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and version are "errors" to commander; a real one has been printed with the usage hint.
            return err.exitCode === 0 ? 0 : USAGE_ERROR;
        }
        if (err instanceof UsageError) {
            process.stderr.write(`mesh: ${err.message}\n(mesh --help lists the verbs; mesh <verb> --help shows one)\n`);
            return USAGE_ERROR;
        }
        process.stderr.write(`mesh: ${(err as Error).message}\n`);
        return 1;
    }
}
