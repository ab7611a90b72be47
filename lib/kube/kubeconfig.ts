// Kubeconfigs: the one the program renders for a service account, and the ones it reads the way
// kubectl and the Kubernetes provider do (every file of $KUBECONFIG merged, the first file to name
// a cluster, user or context winning; relative paths inside a file taken from that file's
// directory). Read with js-yaml: @kubernetes/client-node, which takes about half a second to load,
// is loaded only to talk to a cluster.
import type { KubeConfig } from "@kubernetes/client-node";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { proxyFor } from "./proxy";

/** What a kubeconfig for one service account on one cluster needs. */
export interface ServiceAccountKubeconfig {
    /** The cluster's name; also the context's and the user's, as `istioctl` does. */
    readonly clusterName: string;
    /** The API server URL the primary's control plane dials. */
    readonly server: string;
    /** The cluster CA, base64-encoded PEM (as in a token secret's `ca.crt`). */
    readonly caData: string;
    /** The service account's bearer token, in plain text. */
    readonly token: string;
}

/** Renders the kubeconfig that the primary's Pilot uses to read a remote cluster. */
export function renderKubeconfig(k: ServiceAccountKubeconfig): string {
    return yaml.dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: k.clusterName, cluster: { "certificate-authority-data": k.caData, server: k.server } }],
        contexts: [{ name: k.clusterName, context: { cluster: k.clusterName, user: k.clusterName } }],
        "current-context": k.clusterName,
        users: [{ name: k.clusterName, user: { token: k.token } }],
    }, { lineWidth: -1 });
}

/** The client library, loaded on first use: a run that makes no API call of its own does not pay its load (~0.3-0.6 s). */
export function kubeClientLibrary(): typeof import("@kubernetes/client-node") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@kubernetes/client-node");
}

/** A kubeconfig's cluster entry, as written (`server`, `proxy-url`, `certificate-authority(-data)`, …). */
export type ClusterEntry = Record<string, unknown> & { readonly server?: string; readonly "proxy-url"?: string };

/** A kubeconfig document: the parts this program reads, the rest kept as written. */
export interface KubeconfigDocument {
    readonly clusters: ReadonlyArray<{ readonly name: string; readonly cluster?: ClusterEntry }>;
    readonly users: ReadonlyArray<{ readonly name: string; readonly user?: Record<string, unknown> }>;
    readonly contexts: ReadonlyArray<{ readonly name: string; readonly context?: { readonly cluster?: string; readonly user?: string } }>;
    readonly "current-context"?: string;
}

/** A kubeconfig as loaded, and what it was read from, for messages. */
export interface LoadedKubeconfig {
    /** Every cluster, user and context it has, its current context as it says. */
    readonly document: KubeconfigDocument;
    /** Where it came from: the files, or "the kubeconfig given in config". */
    readonly source: string;
}

/**
 * The kubeconfig a stack's access reads: the one given in config, else the files of $KUBECONFIG
 * that exist, merged, else ~/.kube/config; undefined when there is none. Throws when one is not
 * a kubeconfig.
 */
export function loadKubeconfig(access: { readonly kubeconfig?: string }, env: NodeJS.ProcessEnv = process.env): LoadedKubeconfig | undefined {
    if (access.kubeconfig !== undefined) {
        const source = "the kubeconfig given in config";
        return { document: parseKubeconfig(access.kubeconfig, source), source };
    }
    const files = kubeconfigFiles(env);
    if (files.length === 0) {
        return undefined;
    }
    const documents = files.map((file) => withAbsolutePaths(parseKubeconfig(fs.readFileSync(file, "utf8"), file), path.dirname(file)));
    return {
        document: {
            clusters: firstByName(documents.flatMap((d) => d.clusters)),
            users: firstByName(documents.flatMap((d) => d.users)),
            contexts: firstByName(documents.flatMap((d) => d.contexts)),
            "current-context": documents.map((d) => d["current-context"]).find((c) => !!c),
        },
        source: files.length === 1 ? files[0] : `$KUBECONFIG (${files.join(path.delimiter)})`,
    };
}

function parseKubeconfig(text: string, source: string): KubeconfigDocument {
    let parsed: Partial<KubeconfigDocument> | null;
    try {
        parsed = yaml.load(text) as Partial<KubeconfigDocument> | null;
    } catch (err) {
        throw new Error(`${source} is not valid YAML (${(err as Error).message.split("\n")[0]})`);
    }
    const list = <T>(value: unknown): T[] => (Array.isArray(value) ? value.filter((e) => typeof e?.name === "string") : []);
    return {
        clusters: list(parsed?.clusters), users: list(parsed?.users), contexts: list(parsed?.contexts),
        "current-context": parsed?.["current-context"] || undefined,
    };
}

/** The files kubectl reads: those of $KUBECONFIG that exist, else ~/.kube/config when it exists. */
function kubeconfigFiles(env: NodeJS.ProcessEnv): string[] {
    const candidates = env.KUBECONFIG
        ? env.KUBECONFIG.split(path.delimiter).filter((p) => p.length > 0)
        : [path.join(env.HOME ?? os.homedir(), ".kube", "config")];
    return candidates.filter((p) => fs.existsSync(p));
}

/** The first entry of each name, as kubectl merges the files of $KUBECONFIG. */
function firstByName<T extends { readonly name: string }>(entries: T[]): T[] {
    const seen = new Set<string>();
    return entries.filter((e) => !seen.has(e.name) && seen.add(e.name));
}

/** The file paths a kubeconfig names, relative to its own directory as kubectl reads them, made absolute. */
function withAbsolutePaths(document: KubeconfigDocument, dir: string): KubeconfigDocument {
    const absolute = <T extends Record<string, unknown>>(entry: T | undefined, keys: readonly string[]): T | undefined => {
        if (entry === undefined) {
            return undefined;
        }
        const resolved: Record<string, unknown> = { ...entry };
        for (const key of keys) {
            const value = entry[key];
            if (typeof value === "string" && value !== "" && !path.isAbsolute(value)) {
                resolved[key] = path.resolve(dir, value);
            }
        }
        return resolved as T;
    };
    return {
        ...document,
        clusters: document.clusters.map((c) => ({ ...c, cluster: absolute(c.cluster, ["certificate-authority"]) })),
        users: document.users.map((u) => ({ ...u, user: absolute(u.user, ["client-certificate", "client-key", "tokenFile"]) })),
    };
}

/** One context of a kubeconfig, resolved to its cluster (with a server) and its user. */
export interface ResolvedContext {
    /** The context's name. */
    readonly name: string;
    /** Its cluster entry. */
    readonly cluster: ClusterEntry & { readonly server: string };
    /** Its user entry (undefined when the context names none). */
    readonly user?: Record<string, unknown>;
}

/** Resolves `context` (or the current context) of a kubeconfig, or explains why it cannot. */
export function resolveContext(document: KubeconfigDocument, context?: string): ResolvedContext | { problem: string } {
    const name = context ?? document["current-context"];
    if (!name) {
        return { problem: "the kubeconfig has no current-context" };
    }
    const found = document.contexts.find((c) => c.name === name)?.context;
    if (!found) {
        return { problem: `the kubeconfig has no context "${name}"` };
    }
    const cluster = document.clusters.find((c) => c.name === found.cluster)?.cluster;
    if (typeof cluster?.server !== "string" || cluster.server === "") {
        return { problem: `context "${name}" names cluster "${found.cluster}", which the kubeconfig lacks or gives no server` };
    }
    return {
        name, cluster: cluster as ResolvedContext["cluster"],
        user: found.user === undefined ? undefined : document.users.find((u) => u.name === found.user)?.user,
    };
}

/** The API server of a stack's access to a cluster (a context of the ambient kubeconfig, or a kubeconfig); undefined without one. */
export function serverOfContext(access: { readonly kubeconfig?: string; readonly kubeContext?: string },
    env: NodeJS.ProcessEnv = process.env): string | undefined {
    const loaded = loadKubeconfig(access, env);
    const resolved = loaded && resolveContext(loaded.document, access.kubeContext);
    return resolved === undefined || "problem" in resolved ? undefined : resolved.cluster.server;
}

/** The context names of a kubeconfig. */
export function contextNames(document: KubeconfigDocument): string[] {
    return document.contexts.map((c) => c.name);
}

/** A kubeconfig given as text, at one of its contexts (default: its current one); throws naming what is missing. */
export function kubeConfigAt(text: string, context?: string): KubeConfig {
    return clientAt(loadKubeconfig({ kubeconfig: text })!.document, context);
}

/** A stack's access to a cluster (its inline kubeconfig, else a context of the ambient one); undefined without any kubeconfig. */
export function kubeConfigOf(access: { readonly kubeconfig?: string; readonly kubeContext?: string }): KubeConfig | undefined {
    const loaded = loadKubeconfig(access);
    return loaded && clientAt(loaded.document, access.kubeContext);
}

/** A client-node configuration of the merged document, at one context. */
function clientAt(document: KubeconfigDocument, context?: string): KubeConfig {
    const resolved = resolveContext(document, context);
    if ("problem" in resolved) {
        throw new Error(resolved.problem);
    }
    // Each cluster through the proxy kubectl would use (its proxy-url, else the environment's):
    // client-node itself reads only proxy-url.
    const clusters = document.clusters.map((c) => {
        const proxied = typeof c.cluster?.server === "string" ? proxyFor(c.cluster.server, c.cluster["proxy-url"]) : undefined;
        return proxied === undefined ? c : { ...c, cluster: { ...c.cluster, "proxy-url": proxied } };
    });
    const config = new (kubeClientLibrary().KubeConfig)();
    config.loadFromString(yaml.dump({ apiVersion: "v1", kind: "Config", ...document, clusters }), { onInvalidEntry: "filter" });
    config.setCurrentContext(resolved.name);
    return config;
}
