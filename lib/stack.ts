import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import { ClusterAccess, isConfigSecret, parseStackConfig, RemoteConfig, StackConfig } from "./config";
import { ConfigError, redactSecrets, withoutStack } from "./errors";
import { contextNames, kubeconfigLocation, kubeconfigTextOf, serverOfContext } from "./kubeconfig";
import { isLoopback } from "./net";

/** The values of this stack's secret config (each leaf string of a structured secret too). */
export function secretConfigValues(): string[] {
    const leaves = (value: unknown): string[] => typeof value === "string" ? [value]
        : typeof value === "object" && value !== null ? Object.values(value).flatMap(leaves) : [];
    return Object.entries(pulumi.runtime.allConfig()).filter(([key]) => isConfigSecret(key)).flatMap(([, value]) => {
        try {
            return [value, ...leaves(JSON.parse(value))];
        } catch {
            return [value];
        }
    });
}

/**
 * Runs the program; an error it throws leaves with every secret config value in its message
 * replaced by `[secret]`, whatever path quoted it.
 */
export async function redactingSecrets<T>(program: () => Promise<T>): Promise<T> {
    try {
        return await program();
    } catch (err) {
        const message = (err as Error).message ?? String(err);
        const redacted = redactSecrets(message, secretConfigValues());
        if (redacted === message) {
            throw err;
        }
        // A RunError prints its message alone; any other error's stack would quote the message again.
        throw withoutStack(new pulumi.RunError(redacted));
    }
}

/** Reads and validates this stack's config; throws a ConfigError before anything is registered. */
export function readStackConfig(): StackConfig {
    const config = parseStackConfig(pulumi.getStack(), process.cwd());
    checkContextsExist(config);
    return config;
}

/** The clusters a stack touches: the config key naming each, its access, and the key of its inline kubeconfig. */
function clustersOf(config: StackConfig): Array<[string, ClusterAccess, string]> {
    const named: Array<[string, ClusterAccess, string]> = [["kubeContext", config.cluster, "kubeconfig"]];
    if (config.role === "remote") {
        named.push(["primaryKubeContext", config.primaryCluster, "primaryKubeconfig"],
            ...config.peers.map((p): [string, ClusterAccess, string] => ["peers", { kubeContext: p.kubeContext }, ""]));
    }
    return named;
}

/**
 * Each context the stack names must be in the kubeconfig it is read from (the one given in config,
 * else $KUBECONFIG or ~/.kube/config): a missing one is reported as such, with the contexts there
 * are, before anything is registered. Without any kubeconfig there is nothing to check against;
 * the provider reports that.
 */
export function checkContextsExist(config: StackConfig, env: NodeJS.ProcessEnv = process.env): void {
    for (const [key, access, kubeconfigKey] of clustersOf(config)) {
        const text = kubeconfigTextOf(access, env);
        if (access.kubeContext === undefined || text === undefined) {
            continue;
        }
        const contexts = contextNames(text);
        if (!contexts.includes(access.kubeContext)) {
            const where = access.kubeconfig !== undefined ? `the kubeconfig in ${kubeconfigKey}` : kubeconfigLocation(env);
            throw new ConfigError(key, access.kubeContext, `is not a context of ${where}; ` +
                `it has ${contexts.length > 0 ? contexts.join(", ") : "none"}`,
                `set ${key} to one of those, or point $KUBECONFIG at the kubeconfig that has ${access.kubeContext}`);
        }
    }
}

/** Resolves when something accepts a TCP connection at the URL's host and port; rejects with the reason otherwise. */
export function answers(url: string, timeoutMs = 5000): Promise<void> {
    const { hostname, port, protocol } = new URL(url);
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host: hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(port || (protocol === "http:" ? 80 : 443)) });
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        socket.once("connect", () => {
            socket.destroy();
            resolve();
        });
        socket.once("error", reject);
    });
}

/**
 * Every cluster the stack touches must answer at its API server before anything is registered,
 * so that a cluster that is down is named, with its address, instead of failing a run half-way.
 */
export async function checkClustersAnswer(config: StackConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    await Promise.all(clustersOf(config).map(async ([key, access]) => {
        const text = kubeconfigTextOf(access, env);
        const server = text === undefined ? undefined : serverOfContext(text, access.kubeContext).server;
        if (server === undefined) {
            return; // no kubeconfig, or no server in it: the provider reports that
        }
        await answers(server).catch((err: Error) => {
            throw new ConfigError(key, access.kubeContext ?? "[secret]", `its cluster's API server ${server} does not answer (${err.message})`,
                "start that cluster, or correct its address in the kubeconfig, and run again; nothing was changed");
        });
    }));
}

/**
 * The API server URL the other clusters' control planes dial to read this cluster:
 * `apiServerAddress` when set, else the server of its kubeconfig context; a loopback address only
 * when every cluster runs on this host.
 */
export function apiServerFor(
    config: Pick<RemoteConfig, "apiServerAddress" | "cluster" | "sameHostControlPlanes">, kubeconfigText = kubeconfigTextOf(config.cluster),
): string {
    let server: string;
    if (config.apiServerAddress) {
        server = /^https?:\/\//.test(config.apiServerAddress) ? config.apiServerAddress : `https://${config.apiServerAddress}`;
    } else {
        const found = kubeconfigText === undefined
            ? { problem: "no kubeconfig was found ($KUBECONFIG, ~/.kube/config)" }
            : serverOfContext(kubeconfigText, config.cluster.kubeContext);
        if (!found.server) {
            throw new ConfigError("apiServerAddress", undefined,
                `this cluster's API server address could not be taken from its kubeconfig: ${found.problem}`,
                "set apiServerAddress to the address the other clusters' control planes reach this cluster's API server at");
        }
        server = found.server;
    }
    const host = new URL(server).hostname.replace(/^\[(.*)\]$/, "$1");
    if (isLoopback(host) && !config.sameHostControlPlanes) {
        throw new ConfigError("apiServerAddress", config.apiServerAddress ?? server, "is a loopback address, which the other " +
            "clusters' control planes, running elsewhere, could never reach this cluster's API server at",
            "set apiServerAddress to an address they reach; or, when every cluster runs on this one host (as the local " +
            "clusters do), `pulumi config set sameHostControlPlanes true`");
    }
    return server;
}

/** What this stack's last deployment says about the run ahead. */
export interface LastDeployment {
    /** Whether it exported the output asked about (read from the stack's own last checkpoint). */
    readonly exported: boolean;
    /**
     * Whether the objects it made can be read during this run: outside a preview the program reads
     * after applying, so always; in a preview only when the stack was deployed before.
     */
    readonly readable: boolean;
}

/** Reads `output` of this stack's last deployment (once per run: the self reference has one name). */
export async function lastDeployment(output: string): Promise<LastDeployment> {
    const self = new pulumi.StackReference("self", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(output);
    const exported = details.value !== undefined || details.secretValue !== undefined;
    return { exported, readable: exported || !pulumi.runtime.isDryRun() };
}
