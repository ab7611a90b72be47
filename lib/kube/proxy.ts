// The proxy every connection of the program to an API server goes through, picked as kubectl (Go's
// net/http, golang.org/x/net/http/httpproxy) picks it, so that the program's own reads, its checks
// and the Pulumi provider (a Go program) agree on one rule.
import * as net from "net";
import { Cidr, cidrsOverlap, isLoopback, parseCidr, splitHostPort, urlHost } from "../config/net";

/** One NO_PROXY entry, read as Go's httpproxy reads it. */
type Exemption =
    | { readonly kind: "all" }
    | { readonly kind: "cidr"; readonly range: Cidr }
    | { readonly kind: "ip"; readonly ip: string; readonly port?: string }
    | { readonly kind: "domain"; readonly suffix: string; readonly orItself: boolean; readonly port?: string };

/** The first of `names` set in `env` (upper case before lower case, as Go reads them). */
function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
    return names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
}

/** The entries of NO_PROXY: `*`, CIDR ranges, IP addresses and domain names, each with an optional port. */
function noProxyEntries(noProxy: string): Exemption[] {
    return noProxy.split(",").map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0).map((entry): Exemption => {
        if (entry === "*") {
            return { kind: "all" };
        }
        const cidr = parseCidr(entry);
        if (cidr !== undefined) {
            return { kind: "cidr", range: cidr };
        }
        const { host, port } = splitHostPort(entry);
        if (net.isIP(host) !== 0) {
            return { kind: "ip", ip: host, port };
        }
        // "*.example.com" and ".example.com" exempt subdomains only; "example.com" itself too.
        const name = host.startsWith("*.") ? host.slice(1) : host;
        return name.startsWith(".") ? { kind: "domain", suffix: name, orItself: false, port }
            : { kind: "domain", suffix: `.${name}`, orItself: true, port };
    });
}

/** Whether `range` holds the address `host` (never a host name). */
function holds(range: Cidr, host: string): boolean {
    const family = net.isIP(host);
    const address = family === 0 ? undefined : parseCidr(`${host}/${family === 6 ? 128 : 32}`);
    return address !== undefined && cidrsOverlap(range, address);
}

/**
 * The proxy for a connection to `url` from the environment, as Go's ProxyFromEnvironment gives it:
 * HTTPS_PROXY for https (HTTP_PROXY for http), upper case before lower case; none for localhost and
 * loopback addresses; none when NO_PROXY exempts the host (`*`; a CIDR range holding its IP; its IP;
 * a domain and its subdomains, or with a leading dot or `*.` the subdomains only; each entry with
 * an optional port that must then match). A proxy given without a scheme is an http:// one.
 */
export function proxyFromEnvironment(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const target = new URL(url);
    const proxy = target.protocol === "https:" ? envAny(env, "HTTPS_PROXY", "https_proxy") : envAny(env, "HTTP_PROXY", "http_proxy");
    if (proxy === undefined) {
        return undefined;
    }
    const host = urlHost(target).toLowerCase();
    const port = target.port || (target.protocol === "https:" ? "443" : "80");
    if (host === "localhost" || (net.isIP(host) !== 0 && isLoopback(host))) {
        return undefined;
    }
    const exempt = noProxyEntries(envAny(env, "NO_PROXY", "no_proxy") ?? "").some((e) => {
        switch (e.kind) {
            case "all": return true;
            case "cidr": return holds(e.range, host);
            case "ip": return e.ip === host && (e.port === undefined || e.port === port);
            case "domain": return (host.endsWith(e.suffix) || (e.orItself && host === e.suffix.slice(1))) &&
                (e.port === undefined || e.port === port);
        }
    });
    if (exempt) {
        return undefined;
    }
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/**
 * The proxy a client of `server` goes through, as kubectl picks it: the kubeconfig cluster's
 * `proxy-url`, else the environment's (proxyFromEnvironment).
 */
export function proxyFor(server: string, proxyUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
    return proxyUrl || proxyFromEnvironment(server, env);
}

/** A proxy URL's `user:password`, decoded; none without a user. */
export function proxyCredentials(proxy: URL): string | undefined {
    return proxy.username === "" ? undefined : `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
}

/** The Proxy-Authorization header a proxy URL's user and password give (Basic, as Go sends it); none without a user. */
export function proxyAuthorization(proxy: URL): string | undefined {
    const credentials = proxyCredentials(proxy);
    return credentials === undefined ? undefined : `Basic ${Buffer.from(credentials).toString("base64")}`;
}
