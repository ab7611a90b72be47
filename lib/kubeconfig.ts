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

interface KubeconfigFile {
    "current-context"?: string;
    contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
    clusters?: Array<{ name: string; cluster?: Record<string, any> }>;
    users?: Array<{ name: string; user?: Record<string, any> }>;
}

/** One context of a kubeconfig, resolved to its cluster (with a server) and its user entry. */
export interface ResolvedContext {
    /** The context's name. */
    readonly name: string;
    /** Its cluster entry: `server`, `certificate-authority(-data)`. */
    readonly cluster: Record<string, any> & { server: string };
    /** Its user entry (empty when the context names none). */
    readonly user: Record<string, any>;
}

/**
 * Resolves `context` (or the current context) of a kubeconfig to its cluster and user, or
 * explains why it cannot.
 */
export function resolveContext(kubeconfigText: string, context?: string): ResolvedContext | { problem: string } {
    let parsed: KubeconfigFile;
    try {
        parsed = (yaml.load(kubeconfigText) ?? {}) as KubeconfigFile;
    } catch (err) {
        return { problem: `the kubeconfig is not valid YAML (${(err as Error).message.split("\n")[0]})` };
    }
    const contextName = context ?? parsed["current-context"];
    if (!contextName) {
        return { problem: "the kubeconfig has no current-context" };
    }
    const ctx = (parsed.contexts ?? []).find((c) => c.name === contextName);
    if (!ctx) {
        return { problem: `the kubeconfig has no context "${contextName}"` };
    }
    const cluster = (parsed.clusters ?? []).find((c) => c.name === ctx.context?.cluster)?.cluster;
    if (!cluster?.server) {
        return { problem: `context "${contextName}" names cluster "${ctx.context?.cluster}", which has no server` };
    }
    const user = (parsed.users ?? []).find((u) => u.name === ctx.context?.user)?.user ?? {};
    return { name: contextName, cluster: cluster as ResolvedContext["cluster"], user };
}

/** The context names of a kubeconfig (none when it cannot be parsed). */
export function contextNames(kubeconfigText: string): string[] {
    try {
        return ((yaml.load(kubeconfigText) ?? {}) as KubeconfigFile).contexts?.map((c) => c.name) ?? [];
    } catch {
        return [];
    }
}

/**
 * The API server URL that `context` (or the current context) of a kubeconfig points at, or an
 * explanation of why there is none.
 */
export function serverOfContext(kubeconfigText: string, context?: string): { server?: string; problem?: string } {
    const resolved = resolveContext(kubeconfigText, context);
    return "problem" in resolved ? resolved : { server: resolved.cluster.server };
}

/**
 * The kubeconfig text a Kubernetes provider would load when given only a context: the first file
 * of $KUBECONFIG that exists, else ~/.kube/config.
 */
export function ambientKubeconfigText(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const found = kubeconfigLocation(env);
    return found === undefined ? undefined : fs.readFileSync(found, "utf8");
}

/** The file a provider given only a context reads: the first of $KUBECONFIG that exists, else ~/.kube/config. */
export function kubeconfigLocation(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const candidates = env.KUBECONFIG
        ? env.KUBECONFIG.split(path.delimiter).filter((p) => p.length > 0)
        : [path.join(os.homedir(), ".kube", "config")];
    return candidates.find((p) => fs.existsSync(p));
}

/** The kubeconfig text a stack's provider reads: the one given in config, else the ambient one. */
export function kubeconfigTextOf(access: { readonly kubeconfig?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
    return access.kubeconfig ?? ambientKubeconfigText(env);
}
