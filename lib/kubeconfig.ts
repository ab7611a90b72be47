// Kubeconfigs: the one the program renders for a service account, and the ones it reads the way
// kubectl and the Kubernetes provider do (every file of $KUBECONFIG merged, the first file to name
// a cluster, user or context winning; relative paths inside a file taken from that file's directory).
import type { Cluster, ConfigOptions, Context, KubeConfig, User } from "@kubernetes/client-node";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

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

/** The client library, loaded on first use: a run that reads no kubeconfig does not pay its load (~0.3 s). */
export function kubeClientLibrary(): typeof import("@kubernetes/client-node") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@kubernetes/client-node");
}

/** A kubeconfig as loaded, and what it was read from, for messages. */
export interface LoadedKubeconfig {
    /** Every cluster, user and context it has, its current context as it says. */
    readonly config: KubeConfig;
    /** Where it came from: the files, or "the kubeconfig given in config". */
    readonly source: string;
}

/**
 * The kubeconfig a stack's access reads: the one given in config, else the files of $KUBECONFIG
 * that exist, merged, else ~/.kube/config; undefined when there is none.
 */
export function loadKubeconfig(access: { readonly kubeconfig?: string }, env: NodeJS.ProcessEnv = process.env): LoadedKubeconfig | undefined {
    const { KubeConfig } = kubeClientLibrary();
    // An entry kubectl would not mind (a cluster without a server) leaves the others usable.
    const options: Partial<ConfigOptions> = { onInvalidEntry: "filter" };
    if (access.kubeconfig !== undefined) {
        const config = new KubeConfig();
        config.loadFromString(access.kubeconfig, options);
        return { config, source: "the kubeconfig given in config" };
    }
    const files = kubeconfigFiles(env);
    if (files.length === 0) {
        return undefined;
    }
    const loaded = files.map((file) => {
        const one = new KubeConfig();
        one.loadFromFile(file, options); // relative paths in it become absolute against its directory
        return one;
    });
    const config = new KubeConfig();
    config.loadFromOptions({
        clusters: firstByName(loaded.flatMap((c) => c.clusters)),
        users: firstByName(loaded.flatMap((c) => c.users)),
        contexts: firstByName(loaded.flatMap((c) => c.contexts)),
        currentContext: loaded.map((c) => c.currentContext).find((c) => !!c) ?? "",
    });
    return { config, source: files.length === 1 ? files[0] : `$KUBECONFIG (${files.join(path.delimiter)})` };
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

/** One context of a kubeconfig, resolved to its cluster and its user. */
export interface ResolvedContext {
    /** The context's name. */
    readonly name: string;
    /** Its cluster: `server`, `proxyUrl`, CA. */
    readonly cluster: Cluster;
    /** Its user (undefined when the context names none). */
    readonly user?: User;
}

/** Resolves `context` (or the current context) of a kubeconfig, or explains why it cannot. */
export function resolveContext(config: KubeConfig, context?: string): ResolvedContext | { problem: string } {
    const name = context ?? config.getCurrentContext();
    if (!name) {
        return { problem: "the kubeconfig has no current-context" };
    }
    const found: Context | null = config.getContextObject(name);
    if (!found) {
        return { problem: `the kubeconfig has no context "${name}"` };
    }
    const cluster = config.getCluster(found.cluster);
    if (!cluster) {
        return { problem: `context "${name}" names cluster "${found.cluster}", which the kubeconfig lacks or gives no server` };
    }
    return { name, cluster, user: found.user ? config.getUser(found.user) ?? undefined : undefined };
}

/** The context names of a kubeconfig. */
export function contextNames(config: KubeConfig): string[] {
    return config.getContexts().map((c) => c.name);
}

/** A kubeconfig given as text, at one of its contexts (default: its current one); throws naming what is missing. */
export function kubeConfigAt(text: string, context?: string): KubeConfig {
    return atContext(loadKubeconfig({ kubeconfig: text })!.config, context);
}

/** A stack's access to a cluster (its inline kubeconfig, else a context of the ambient one); undefined without any kubeconfig. */
export function kubeConfigOf(access: { readonly kubeconfig?: string; readonly kubeContext?: string }): KubeConfig | undefined {
    const loaded = loadKubeconfig(access);
    return loaded && atContext(loaded.config, access.kubeContext);
}

function atContext(config: KubeConfig, context?: string): KubeConfig {
    const resolved = resolveContext(config, context);
    if ("problem" in resolved) {
        throw new Error(resolved.problem);
    }
    config.setCurrentContext(resolved.name);
    return config;
}
