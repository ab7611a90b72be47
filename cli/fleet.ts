import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CONFIG_NAMESPACE } from "../lib/config/namespace";
import { cidrsOverlap, isDns1123Label, parseCidr } from "../lib/config/net";

/** One stack of the mesh, as its Pulumi.<stack>.yaml describes it. */
export interface FleetStack {
    /** The stack's name. */
    readonly name: string;
    /** Its role. */
    readonly role: "primary" | "remote";
    /** Its config, keys without the project prefix. */
    readonly config: Record<string, unknown>;
}

/** The mesh's stacks: the one primary and its remotes. */
export interface Fleet {
    /** The primary stack. */
    readonly primary: FleetStack;
    /** The remote stacks, by name. */
    readonly remotes: FleetStack[];
}

/**
 * Keys that belong to one cluster and are never copied from another's stack file
 * (sameHostControlPlanes is true only of a cluster whose API server is on this host).
 */
const CLUSTER_OWN_KEYS = ["clusterName", "kubeContext", "kubeconfig", "podCidr", "serviceCidr", "apiServerAddress",
    "mirrorServices", "cacerts", "network", "peers", "sameHostControlPlanes"];

/** The repository's own test charts: a stack file that points at them was written for its tests, not for a user's clusters. */
const FIXTURE_CHARTS = /^(\.\/)?tests\/fixtures\//;

/** What `mesh add-remote` is told about the new cluster, beside its name and context. */
export interface NewRemoteSettings {
    /** Its pod range. */
    readonly podCidr?: string;
    /** Its service range. */
    readonly serviceCidr?: string;
    /** Its intermediate CA's directory. */
    readonly cacertsDir?: string;
    /** Where its Istio charts are, when not remote-a's. */
    readonly chartDir?: string;
    /** Its API server is on this host, as every local cluster's is (sameHostControlPlanes). */
    readonly sameHost?: boolean;
}

/** Reads every Pulumi.<stack>.yaml of the project; the one with role primary is the primary. */
export function readFleet(projectDir: string): Fleet {
    const stacks: FleetStack[] = [];
    for (const file of fs.readdirSync(projectDir).sort()) {
        const match = /^Pulumi\.(.+)\.yaml$/.exec(file);
        if (!match) {
            continue;
        }
        const doc = (yaml.load(fs.readFileSync(path.join(projectDir, file), "utf8")) ?? {}) as { config?: Record<string, unknown> };
        const config: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(doc.config ?? {})) {
            if (key.startsWith(`${CONFIG_NAMESPACE}:`)) {
                config[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
            }
        }
        if (config.role === "primary" || config.role === "remote") {
            stacks.push({ name: match[1], role: config.role, config });
        }
    }
    const primaries = stacks.filter((s) => s.role === "primary");
    if (primaries.length !== 1) {
        throw new Error(`expected exactly one stack file with role primary in ${projectDir}, found ${primaries.length}`);
    }
    return { primary: primaries[0], remotes: stacks.filter((s) => s.role === "remote") };
}

/**
 * The fleet as the user declared it: the primary, and the remotes whose stack exists in the
 * backend or that the command names (`--remotes`, which creates them). A stack file of a remote
 * that is neither (a stray copy, a leftover) is not a member; its file is returned to be named.
 */
export function declaredFleet(files: Fleet, existingStacks: ReadonlySet<string>, named: readonly string[] = []): { fleet: Fleet; ignored: FleetStack[] } {
    const member = (r: FleetStack) => existingStacks.has(r.name) || named.includes(r.name);
    return { fleet: { primary: files.primary, remotes: files.remotes.filter(member) }, ignored: files.remotes.filter((r) => !member(r)) };
}

/**
 * The first pair of overlapping ranges between two stacks of the fleet, in words; undefined when
 * every cluster's pod and service ranges are its own. The program checks a remote against its
 * primary; only the fleet sees two remotes side by side.
 */
export function fleetRangeOverlap(fleet: Fleet): string | undefined {
    const ranges = [fleet.primary, ...fleet.remotes].flatMap((stack) => (["podCidr", "serviceCidr"] as const)
        .map((key) => ({ stack: stack.name, key, text: stack.config[key] as string | undefined }))
        .flatMap((r) => {
            const cidr = r.text ? parseCidr(r.text) : undefined;
            return cidr ? [{ ...r, cidr }] : [];
        }));
    for (const [i, a] of ranges.entries()) {
        for (const b of ranges.slice(i + 1)) {
            if (a.stack !== b.stack && cidrsOverlap(a.cidr, b.cidr)) {
                return `${a.stack}'s ${a.key} ${a.text} overlaps ${b.stack}'s ${b.key} ${b.text}; ` +
                    "every cluster's pod and service ranges must be its own";
            }
        }
    }
    return undefined;
}

/** The remotes named in `--remotes a,b` (all when none are named); unknown names are an error. */
export function selectRemotes(fleet: Fleet, names: string[] | undefined): FleetStack[] {
    if (!names) {
        return fleet.remotes;
    }
    return names.map((name) => {
        const found = fleet.remotes.find((r) => r.name === name);
        if (!found) {
            throw new UsageError(`no remote stack "${name}" (known: ${fleet.remotes.map((r) => r.name).join(", ") || "none"})`);
        }
        return found;
    });
}

/** A mistake in how the command was called: reported in one line, followed by the usage. */
export class UsageError extends Error {}

/**
 * The text of Pulumi.remote-NAME.yaml for a new remote, from a template remote's file: the same
 * settings, with its own cluster name and context (and ranges, when given; the template's are
 * dropped otherwise, since two clusters' ranges must differ). What the repository's tests set for
 * its local clusters is not carried into a user's cluster: the fixture charts, and
 * sameHostControlPlanes unless the new cluster's API server is on this host too.
 */
export function newRemoteStackFile(templateText: string, name: string, context: string,
    own: NewRemoteSettings = {}): { stack: string; text: string } {
    const stack = `remote-${name}`;
    if (!isDns1123Label(stack)) {
        throw new UsageError(`cluster name "${stack}" is not a DNS-1123 label (lower-case letters, digits and '-')`);
    }
    const doc = yaml.load(templateText) as { config: Record<string, unknown> };
    const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
    const config = { ...doc.config };
    // What is the template cluster's own stays behind: the new cluster has its own (or inherits the primary's).
    for (const own of CLUSTER_OWN_KEYS) {
        delete config[key(own)];
    }
    config[key("clusterName")] = stack;
    config[key("kubeContext")] = context;
    if (own.podCidr) {
        config[key("podCidr")] = own.podCidr;
    }
    if (own.serviceCidr) {
        config[key("serviceCidr")] = own.serviceCidr;
    }
    // A mesh that plugs in a CA needs this cluster's intermediate: until it is given, preview fails naming it.
    if (own.cacertsDir || doc.config[key("cacerts")] !== undefined) {
        config[key("cacerts")] = { dir: own.cacertsDir ?? `TODO-${stack}-intermediate-ca (mesh add-remote --cacerts-dir DIR)` };
    }
    // Likewise the charts, when the template's are the repository's test fixtures.
    const templateCharts = doc.config[key("chartDir")];
    if (own.chartDir || (typeof templateCharts === "string" && FIXTURE_CHARTS.test(templateCharts))) {
        config[key("chartDir")] = own.chartDir ?? "TODO-your-istio-release-charts (mesh add-remote --chart-dir DIR)";
    }
    if (own.sameHost) {
        config[key("sameHostControlPlanes")] = true;
    }
    return { stack, text: `# Written by \`mesh add-remote ${name}\`.\n${yaml.dump({ config })}` };
}
