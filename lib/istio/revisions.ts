// The rules of an upgrade by revisions: several istiods side by side on a primary (`istiod-<rev>`),
// revision tags naming one of them, and the checks that refuse an unsafe step before anything
// changes (names, tags, version skew, a revision still in use somewhere in the mesh). Pure
// functions over versions and what the clusters report; no Pulumi, no Kubernetes.
import { isDns1123Label } from "../config/net";

/** An Istio version as far as it can be ordered: MAJOR.MINOR, and the patch when it has one. */
export interface IstioVersion {
    /** The version as written (`1.31-dev-b01690e`, `1.24.2`, `v1.24.0`). */
    readonly text: string;
    /** Its major number. */
    readonly major: number;
    /** Its minor number. */
    readonly minor: number;
    /** Its patch number, absent for a development build (`1.31-dev-…`). */
    readonly patch?: number;
}

/** Parses an Istio version or image tag; undefined when it does not start with MAJOR.MINOR. */
export function parseIstioVersion(text: string): IstioVersion | undefined {
    const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.].*)?$/.exec(text);
    if (!match) {
        return undefined;
    }
    return { text, major: Number(match[1]), minor: Number(match[2]), ...(match[3] === undefined ? {} : { patch: Number(match[3]) }) };
}

/** A version older than any release, for a revision whose version is unknown. */
export const NO_VERSION: IstioVersion = { text: "unknown", major: 0, minor: 0 };

/** How many minor versions `b` is after `a` (negative when before); a major version counts as 100 minors. */
export function minorsBetween(a: IstioVersion, b: IstioVersion): number {
    return (b.major - a.major) * 100 + (b.minor - a.minor);
}

/** True when `a` is a later release than `b`: a later minor, or the same minor with a later patch (when both have one). */
export function isAhead(a: IstioVersion, b: IstioVersion): boolean {
    const minors = minorsBetween(b, a);
    return minors > 0 || (minors === 0 && a.patch !== undefined && b.patch !== undefined && a.patch > b.patch);
}

/** How far apart two revisions of one mesh may be: Istio supports upgrading across at most two minor versions. */
export const MAX_MINOR_SKEW = 2;

/** The `istio.io/rev` value of the installation without a revision; not a revision name. */
export const DEFAULT_REVISION = "default";

/** The tag that `istio-injection=enabled` namespaces and the default validator follow. */
export const DEFAULT_TAG = "default";

/** The longest revision name: `istiod-<rev>` must stay a DNS label. */
const MAX_REVISION_LENGTH = 63 - "istiod-".length;

/** One istiod revision of a mesh. */
export interface Revision {
    /** Its name: the charts' `revision` value, the `istio.io/rev` label of what it serves. */
    readonly name: string;
    /** The Istio version of its charts (their appVersion, or the chart repository's version). */
    readonly chartVersion?: string;
    /** The image tag its istiod and proxies run (`global.tag`). */
    readonly imageTag?: string;
}

/** A mesh's revisions and the tags that name them. */
export interface RevisionSet {
    /** The revisions, oldest first as the user lists them. */
    readonly revisions: readonly Revision[];
    /** Each revision tag and the revision it points at. */
    readonly tags: Readonly<Record<string, string>>;
}

/** A rule broken: which config key, the value at fault, what is wrong and what to do. */
export interface RevisionProblem {
    /** The config key (`revisions`, `revisionTags`). */
    readonly key: string;
    /** The value at fault, as the message quotes it. */
    readonly value: unknown;
    /** What is wrong. */
    readonly problem: string;
    /** What to do about it. */
    readonly fix: string;
}

/**
 * The version a revision runs: its image tag's, which is what istiod and the injected proxies are.
 * The charts' version stands in when no tag is set (the charts' default images are theirs).
 */
export function revisionVersion(revision: Revision): IstioVersion | undefined {
    const text = revision.imageTag ?? revision.chartVersion;
    return text === undefined ? undefined : parseIstioVersion(text);
}

/**
 * The image tag of a release without its image variant (`1.24.2-distroless` → `1.24.2`), to compare
 * with the charts' version.
 */
function withoutVariant(tag: string): string {
    return tag.replace(/-(distroless|debug)$/, "").replace(/^v/, "");
}

/**
 * The first rule a set of revisions breaks, or undefined: every name a DNS label short enough for
 * `istiod-<rev>` and not `default`; names unique; each revision's image tag the release of its
 * charts; no two revisions more than MAX_MINOR_SKEW minors apart (a canary replaces the revision
 * beside it, and Istio upgrades across at most two); every tag a DNS label naming a revision of
 * the set, and no tag named as a revision (both are `istio.io/rev` values).
 */
export function revisionSetProblem(set: RevisionSet): RevisionProblem | undefined {
    const names = set.revisions.map((r) => r.name);
    if (names.length === 0) {
        return { key: "revisions", value: [], problem: "lists no revision", fix: "list at least one revision, or remove the key" };
    }
    for (const revision of set.revisions) {
        const name = revision.name;
        if (!isDns1123Label(name) || name.length > MAX_REVISION_LENGTH) {
            return {
                key: "revisions", value: name,
                problem: `is not a revision name: a revision names the Service istiod-<revision>, so it must be a DNS label ` +
                    `(lower-case letters, digits and '-') of at most ${MAX_REVISION_LENGTH} characters`,
                fix: `name it after its release with dashes, e.g. ${suggestRevisionName(revision)}`,
            };
        }
        if (name === DEFAULT_REVISION) {
            return {
                key: "revisions", value: name, problem: "is the name Istio gives the installation without a revision",
                fix: `name the revision after its release, e.g. ${suggestRevisionName(revision)}`,
            };
        }
        if (names.indexOf(name) !== names.lastIndexOf(name)) {
            return { key: "revisions", value: name, problem: "is listed twice", fix: "give each revision its own name" };
        }
        if (revision.imageTag !== undefined && revision.chartVersion !== undefined &&
            withoutVariant(revision.imageTag) !== withoutVariant(revision.chartVersion)) {
            return {
                key: "revisions", value: { [name]: { tag: revision.imageTag, chartVersion: revision.chartVersion } },
                problem: `runs images tagged ${revision.imageTag} from charts of Istio ${revision.chartVersion}: a revision's ` +
                    `istiod and proxies must be the release its charts were made for`,
                fix: `set the revision's tag to ${revision.chartVersion}, or take the charts of ${revision.imageTag}`,
            };
        }
    }
    const versioned = set.revisions.map((r) => ({ revision: r, version: revisionVersion(r) }));
    for (const a of versioned) {
        for (const b of versioned) {
            if (a.version && b.version && minorsBetween(a.version, b.version) > MAX_MINOR_SKEW) {
                return {
                    key: "revisions", value: [a.revision.name, b.revision.name],
                    problem: `${b.revision.name} (${b.version.text}) is ${minorsBetween(a.version, b.version)} minor versions after ` +
                        `${a.revision.name} (${a.version.text}); Istio upgrades across at most ${MAX_MINOR_SKEW} minor versions at a time`,
                    fix: `upgrade in steps: add a revision at most ${MAX_MINOR_SKEW} minors after ${a.revision.name}, move the tags ` +
                        `to it, remove ${a.revision.name}, then go on`,
                };
            }
        }
    }
    for (const [tag, target] of Object.entries(set.tags)) {
        if (!isDns1123Label(tag)) {
            return { key: "revisionTags", value: tag, problem: "is not a tag name: a tag is an istio.io/rev label value, a DNS label", fix: "use lower-case letters, digits and '-'" };
        }
        if (names.includes(tag)) {
            return {
                key: "revisionTags", value: { [tag]: target }, problem: `is also a revision's name, and both are istio.io/rev label values`,
                fix: "give the tag a name of its own (prod-stable, prod-canary)",
            };
        }
        if (!names.includes(String(target))) {
            return {
                key: "revisionTags", value: { [tag]: target }, problem: `points at ${target}, which is not a revision of this mesh (${names.join(", ")})`,
                fix: `point it at one of ${names.join(", ")}, or add ${target} to revisions first`,
            };
        }
    }
    return undefined;
}

/** A revision name for a revision's release: `1.31-dev-b01690e` → `1-31-dev-b01690e`. */
function suggestRevisionName(revision: Revision): string {
    const release = revision.imageTag ?? revision.chartVersion ?? "1.31.0";
    return release.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, MAX_REVISION_LENGTH) || "canary";
}

/** What uses a revision in one cluster: a namespace label, pods, a tag webhook. */
export interface RevisionUse {
    /** The cluster, by its name in the mesh. */
    readonly cluster: string;
    /** What uses it: `namespace <ns>` (labelled istio.io/rev), `pods in <ns>`, `tag <tag>`. */
    readonly what: string;
    /** The revision used. */
    readonly revision: string;
    /** How many (pods; 1 for a namespace label or a tag). */
    readonly count: number;
}

/**
 * Why a revision cannot be removed, or undefined: the revisions deployed before that this config
 * no longer lists, against everything the clusters of the mesh report still using one of them.
 * A tag of the config naming one is caught by revisionSetProblem already; here the clusters speak:
 * a namespace labelled with it, pods it injected, a tag webhook a cluster has not moved yet.
 */
export function removalProblem(deployed: readonly string[], set: RevisionSet, uses: readonly RevisionUse[]): RevisionProblem | undefined {
    const kept = new Set(set.revisions.map((r) => r.name));
    const removed = deployed.filter((name) => !kept.has(name));
    const inUse = uses.filter((u) => removed.includes(u.revision) && u.count > 0);
    if (inUse.length === 0) {
        return undefined;
    }
    const revision = inUse[0].revision;
    const list = inUse.filter((u) => u.revision === revision)
        .map((u) => `${u.cluster}: ${u.what}${u.what.startsWith("pods") ? ` (${u.count})` : ""}`);
    return {
        key: "revisions", value: revision,
        problem: `is removed from the list, but the mesh still uses it: ${list.join("; ")}`,
        fix: `move what uses it first: relabel each namespace istio.io/rev=<a tag or revision kept> and restart its pods; ` +
            `point every tag (\`default\` included) at a revision kept in revisionTags and \`mesh up\` every cluster so that its tags move; ` +
            `then remove ${revision}`,
    };
}

/**
 * Why a cluster's data plane would be ahead of the control plane serving it, or undefined. Istio's
 * control plane may be one or more versions ahead of its proxies, never behind them.
 */
export function dataPlaneAheadProblem(key: string, dataPlane: string, controlPlane: Revision): RevisionProblem | undefined {
    const proxies = parseIstioVersion(dataPlane);
    const istiod = revisionVersion(controlPlane);
    if (proxies === undefined || istiod === undefined || !isAhead(proxies, istiod)) {
        return undefined;
    }
    return {
        key, value: dataPlane,
        problem: `is ahead of revision ${controlPlane.name} of the primary (${istiod.text}), which serves this cluster: ` +
            `Istio's proxies may be older than their control plane, never newer`,
        fix: `add a revision of ${dataPlane} on the primary first (or use ${istiod.text} here)`,
    };
}
