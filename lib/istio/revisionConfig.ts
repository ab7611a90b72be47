// `revisions` and `revisionTags` of a primary-remote primary: read, shaped and checked against the
// revision rules (lib/istio/revisions.ts) before any resource is registered.
import { CHARTS } from "./charts";
import { chartsVersion } from "./images";
import { Revision, revisionSetProblem } from "./revisions";
import { Values } from "./values";
import { ChartSource, RevisionConfig, RevisionsConfig } from "../config/config";
import { RawConfig } from "../config/configReader";
import { ConfigError } from "../config/errors";

/** The keys of one entry of `revisions`. */
const REVISION_KEYS = ["name", "chartDir", "chartVersion", "tag", "discoveryAddress"];

/** What the rest of the primary's config tells the revisions. */
export interface RevisionDefaults {
    /** The stack's charts: a revision naming none uses them; chartVersion needs them from a repository. */
    readonly chart: ChartSource;
    /** The stack's values (`global.tag` is a revision's default image tag). */
    readonly values: Values;
    /** The stack's discoveryAddress: the address of a lone revision that sets none. */
    readonly discoveryAddress?: string;
    /** Whether the stack sets injectionAddress or eastWestGateway, which reach a single istiod. */
    readonly singleIstiodBy?: string;
}

/**
 * The primary's revisions, or undefined when it sets none (one istiod without a revision, as
 * before). Refuses, naming the key and the value: an entry that is not a map with a name, a key
 * an entry does not know, charts without istiod's, a version without the stack's chartRepo, two
 * revisions at one discovery address, and whatever breaks the revision rules (names, tags, skew).
 */
export function readRevisions(r: RawConfig, defaults: RevisionDefaults): RevisionsConfig | undefined {
    const raw = r.json<unknown>("revisions", undefined);
    const rawTags = r.json<unknown>("revisionTags", undefined);
    if (raw === undefined) {
        if (rawTags !== undefined) {
            throw new ConfigError("revisionTags", rawTags, "names revisions, and this stack runs none",
                "list the revisions in `revisions`, or remove revisionTags");
        }
        return undefined;
    }
    if (defaults.singleIstiodBy !== undefined) {
        throw new ConfigError("revisions", raw, `is set together with ${defaults.singleIstiodBy}, which reaches a single istiod`,
            `give each revision its own discoveryAddress and remove ${defaults.singleIstiodBy}`);
    }
    if (!Array.isArray(raw)) {
        throw new ConfigError("revisions", raw, "must be a list", "write it as a YAML list of maps, e.g. revisions: [{name: 1-31-0, chartDir: ./charts/1.31.0}]");
    }
    if (raw.length > 1 && defaults.discoveryAddress !== undefined) {
        throw new ConfigError("discoveryAddress", defaults.discoveryAddress, "is one address, and the remotes reach each of the revisions' istiods at its own",
            "set each revision's discoveryAddress in `revisions`, and remove this key (`pulumi config rm discoveryAddress`)");
    }
    const revisions = raw.map((entry) => revisionOf(r, entry, defaults, raw.length));
    const tags = tagsOf(rawTags);
    const problem = revisionSetProblem({ revisions: revisions.map(asRevision), tags });
    if (problem !== undefined) {
        throw new ConfigError(problem.key, problem.value, problem.problem, problem.fix);
    }
    const shared = revisions.find((rev, i) => revisions.findIndex((other) => other.discoveryAddress === rev.discoveryAddress) !== i);
    if (shared !== undefined) {
        throw new ConfigError("revisions", { name: shared.name, discoveryAddress: shared.discoveryAddress },
            "shares its discoveryAddress with another revision, so the remotes' proxies of one would reach the other's istiod",
            "give each revision's istiod an address of its own");
    }
    return { revisions, tags };
}

/** A configured revision as the revision rules see it: its name, its charts' Istio version and its image tag. */
export function asRevision(revision: RevisionConfig): Revision {
    return { name: revision.name, chartVersion: chartsVersion(revision.chart), imageTag: revision.tag };
}

function revisionOf(r: RawConfig, entry: unknown, defaults: RevisionDefaults, count: number): RevisionConfig {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry) || typeof (entry as Values).name !== "string") {
        throw new ConfigError("revisions", entry, "is not a revision: each entry is a map with a name",
            "write it as {name: 1-31-0, chartDir: ./charts/1.31.0, tag: 1.31.0}");
    }
    const e = entry as Record<string, unknown>;
    const unknown = Object.keys(e).find((k) => !REVISION_KEYS.includes(k));
    if (unknown !== undefined) {
        throw new ConfigError(`revisions[${e.name}].${unknown}`, e[unknown], "is not a key of a revision", `use ${REVISION_KEYS.join(", ")}`);
    }
    const key = (k: string) => `revisions[${e.name}].${k}`;
    const text = (k: string): string | undefined => {
        if (e[k] !== undefined && typeof e[k] !== "string") {
            throw new ConfigError(key(k), e[k], "must be a string", `quote it: ${k}: "${String(e[k])}"`);
        }
        return e[k] === "" ? undefined : e[k] as string | undefined;
    };
    const chartDir = text("chartDir");
    const chartVersion = text("chartVersion");
    let chart = defaults.chart;
    if (chartDir !== undefined && chartVersion !== undefined) {
        throw new ConfigError(key("chartVersion"), chartVersion, "is set together with chartDir", "set only one of them");
    }
    if (chartDir !== undefined) {
        chart = r.chartDir(key("chartDir"), chartDir, [CHARTS.base, CHARTS.istiod], "your Istio release's manifests/charts directory");
    } else if (chartVersion !== undefined) {
        if (defaults.chart.kind !== "repo") {
            throw new ConfigError(key("chartVersion"), chartVersion, "is a version of the stack's chartRepo, and this stack sets chartDir",
                "give the revision its own chartDir, or set chartRepo for the stack");
        }
        chart = { kind: "repo", repo: defaults.chart.repo, version: chartVersion };
    }
    const tag = text("tag") ?? (defaults.values.global as Values | undefined)?.tag;
    const discoveryAddress = text("discoveryAddress") ?? (count === 1 ? defaults.discoveryAddress : undefined);
    if (discoveryAddress === undefined) {
        throw new ConfigError(key("discoveryAddress"), undefined, "the remotes reach each revision's istiod at an address of its own",
            "set it to the DNS name or IP in front of this revision's istiod (ports 15012 and 15017)");
    }
    return {
        name: e.name as string, chart, discoveryAddress: r.discoveryHost(key("discoveryAddress"), discoveryAddress),
        ...(tag === undefined ? {} : { tag: String(tag) }),
    };
}

function tagsOf(raw: unknown): Record<string, string> {
    if (raw === undefined) {
        return {};
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === "string")) {
        throw new ConfigError("revisionTags", raw, "must be a map of tag to revision name", "write it as revisionTags: {prod-stable: 1-31-0}");
    }
    return raw as Record<string, string>;
}
