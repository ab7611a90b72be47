// What the program checks about the clusters before it registers anything, so that a mistake is
// named with its key instead of failing a run half-way: every context the stack names exists, every
// API server it talks to answers, and the API server address other clusters will dial is usable.
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { ClusterAccess, StackConfig } from "../config/config";
import { ConfigError } from "../config/errors";
import { contextNames, LoadedKubeconfig, loadKubeconfig, resolveContext } from "./kubeconfig";
import { proxyAuthorization, proxyFor } from "./proxy";
import { isLoopback, joinHostPort, splitHostPort, urlHost } from "../config/net";

/** The clusters a stack touches: the config key naming each, its access, and the key of its inline kubeconfig. */
function clustersOf(config: StackConfig): Array<[string, ClusterAccess, string]> {
    const named: Array<[string, ClusterAccess, string]> = [["kubeContext", config.cluster, "kubeconfig"]];
    if (config.role === "remote") {
        const peers = config.meshModel === "multi-primary" ? config.peers : [];
        named.push(["primaryKubeContext", config.primaryCluster, "primaryKubeconfig"],
            ...peers.map((p): [string, ClusterAccess, string] => ["peers", { kubeContext: p.kubeContext }, ""]));
    }
    return named;
}

/**
 * Each context the stack names must be in the kubeconfig it is read from (the one given in config,
 * else the merged files of $KUBECONFIG, else ~/.kube/config): a missing one is reported as such,
 * with the contexts there are, before anything is registered. Without any kubeconfig there is
 * nothing to check against; the provider reports that.
 */
export function checkContextsExist(config: StackConfig, env: NodeJS.ProcessEnv = process.env): void {
    for (const [key, access, kubeconfigKey] of clustersOf(config)) {
        const loaded = loadKubeconfig(access, env);
        if (access.kubeContext === undefined || loaded === undefined) {
            continue;
        }
        const contexts = contextNames(loaded.document);
        if (!contexts.includes(access.kubeContext)) {
            const where = access.kubeconfig !== undefined ? `the kubeconfig in ${kubeconfigKey}` : loaded.source;
            throw new ConfigError(key, access.kubeContext, `is not a context of ${where}; ` +
                `it has ${contexts.length > 0 ? contexts.join(", ") : "none"}`,
                `set ${key} to one of those, or point $KUBECONFIG at the kubeconfig that has ${access.kubeContext}`);
        }
    }
}

/**
 * Resolves when the API server at `url` can be reached: directly, a TCP connection; through an HTTP
 * proxy, the proxy's CONNECT to it succeeding. Rejects with the reason otherwise. A SOCKS proxy is
 * not checked here (the provider reaches through it, and reports what fails).
 */
export function answers(url: string, proxy?: string, timeoutMs = 5000): Promise<void> {
    const { port, protocol } = new URL(url);
    const host = urlHost(url);
    const target = { host, port: Number(port || (protocol === "http:" ? 80 : 443)) };
    if (proxy?.startsWith("socks")) {
        return Promise.resolve();
    }
    return proxy === undefined ? connects(target, timeoutMs) : tunnels(target, proxy, timeoutMs);
}

function connects(target: { host: string; port: number }, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(target);
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        socket.once("connect", () => {
            socket.destroy();
            resolve();
        });
        socket.once("error", reject);
    });
}

function tunnels(target: { host: string; port: number }, proxy: string, timeoutMs: number): Promise<void> {
    const proxyUrl = new URL(proxy);
    const authorization = proxyAuthorization(proxyUrl);
    const authority = `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
    return new Promise((resolve, reject) => {
        const request = (proxyUrl.protocol === "https:" ? https : http).request({
            host: urlHost(proxyUrl),
            port: Number(proxyUrl.port || (proxyUrl.protocol === "https:" ? 443 : 80)),
            method: "CONNECT",
            path: authority,
            // Credentials in the proxy's URL (http://user:pass@proxy:3128) authenticate, as kubectl's do.
            headers: { host: authority, ...(authorization === undefined ? {} : { "proxy-authorization": authorization }) },
            timeout: timeoutMs,
        });
        request.once("connect", (response, socket) => {
            socket.destroy();
            if (response.statusCode === 200) {
                resolve();
            } else {
                reject(new Error(`proxy ${proxyUrl.host} answered CONNECT with ${response.statusCode} ${response.statusMessage ?? ""}`.trim()));
            }
        });
        request.once("timeout", () => request.destroy(new Error(`no answer through proxy ${proxyUrl.host} within ${timeoutMs / 1000}s`)));
        request.once("error", (err) => reject(new Error(`through proxy ${proxyUrl.host}: ${err.message}`)));
        request.end();
    });
}

/** The checks of the clusters a stack touches, before anything is registered: each context exists, each API server answers. */
export async function checkClusters(config: StackConfig): Promise<void> {
    checkContextsExist(config);
    await checkClustersAnswer(config);
}

/**
 * Every cluster the stack touches must answer at its API server before anything is registered,
 * so that a cluster that is down is named, with its address, instead of failing a run half-way.
 */
export async function checkClustersAnswer(config: StackConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    await Promise.all(clustersOf(config).map(async ([key, access]) => {
        const loaded = loadKubeconfig(access, env);
        const resolved = loaded && resolveContext(loaded.document, access.kubeContext);
        if (resolved === undefined || "problem" in resolved) {
            return; // no kubeconfig, or no server in it: the provider reports that
        }
        const { server, "proxy-url": proxyUrl } = resolved.cluster;
        await answers(server, proxyFor(server, proxyUrl)).catch((err: Error) => {
            throw new ConfigError(key, access.kubeContext ?? "[secret]", `its cluster's API server ${server} does not answer (${err.message})`,
                "start that cluster, or correct its address (or its proxy) in the kubeconfig, and run again; nothing was changed");
        });
    }));
}

/**
 * The API server URL the other clusters' control planes dial to read this cluster:
 * `apiServerAddress` when set, else the server of its kubeconfig context; a loopback address only
 * when every cluster runs on this host.
 */
export function apiServerFor(
    config: { readonly apiServerAddress?: string; readonly cluster: ClusterAccess; readonly sameHostControlPlanes: boolean },
    kubeconfig: LoadedKubeconfig | undefined = loadKubeconfig(config.cluster),
): string {
    let server: string;
    if (config.apiServerAddress) {
        // HOST[:PORT] as a URL: a bare IPv6 host gets its brackets.
        const { host, port } = splitHostPort(config.apiServerAddress);
        server = /^https?:\/\//.test(config.apiServerAddress) ? config.apiServerAddress : `https://${joinHostPort(host, port)}`;
    } else {
        const found = kubeconfig === undefined
            ? { problem: "no kubeconfig was found ($KUBECONFIG, ~/.kube/config)" }
            : resolveContext(kubeconfig.document, config.cluster.kubeContext);
        if ("problem" in found) {
            throw new ConfigError("apiServerAddress", undefined,
                `this cluster's API server address could not be taken from its kubeconfig: ${found.problem}`,
                "set apiServerAddress to the address the other clusters' control planes reach this cluster's API server at");
        }
        server = found.cluster.server;
    }
    if (isLoopback(urlHost(server)) && !config.sameHostControlPlanes) {
        throw new ConfigError("apiServerAddress", config.apiServerAddress ?? server, "is a loopback address, which the other " +
            "clusters' control planes, running elsewhere, could never reach this cluster's API server at",
            "set apiServerAddress to an address they reach; or, when every cluster runs on this one host (as the local " +
            "clusters do), `pulumi config set sameHostControlPlanes true`");
    }
    return server;
}
