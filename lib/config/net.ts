import * as net from "net";

/** A DNS-1123 label: what Kubernetes accepts as a namespace name or a Secret data key without dots. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True when `name` is a DNS-1123 label (lower-case alphanumerics and '-', at most 63 characters). */
export function isDns1123Label(name: string): boolean {
    return name.length <= 63 && DNS1123_LABEL.test(name);
}

/**
 * True when `name` is a DNS name: dot-separated DNS-1123 labels, at most 253 characters, whose last
 * label is not all digits (so that a mistyped IP such as 10.0.0.256 is not taken for a name).
 */
export function isDnsName(name: string): boolean {
    const labels = name.split(".");
    return name.length > 0 && name.length <= 253 && labels.every(isDns1123Label) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** True when `address` is an IPv4 or IPv6 address, or a DNS name. */
export function isHostAddress(address: string): boolean {
    return net.isIP(address) !== 0 || isDnsName(address);
}

/** An IPv4 or IPv6 range, as a first address and a prefix length, both as numbers of one family. */
export interface Cidr {
    /** The range as written. */
    readonly text: string;
    /** 4 or 6. */
    readonly family: 4 | 6;
    /** The network address as an integer. */
    readonly network: bigint;
    /** The prefix length. */
    readonly prefix: number;
}

/** Parses `a.b.c.d/n` or `x:y::z/n`; returns undefined when the text is not a CIDR range. */
export function parseCidr(text: string): Cidr | undefined {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
    if (!match) {
        return undefined;
    }
    const family = net.isIP(match[1]);
    const prefix = Number(match[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) {
        return undefined;
    }
    const bits = family === 4 ? 32 : 128;
    const address = family === 4 ? ipv4ToBigInt(match[1]) : ipv6ToBigInt(match[1]);
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
    return { text: text.trim(), family: family as 4 | 6, network: address & mask, prefix };
}

/** True when the two ranges share at least one address. Ranges of different families never do. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
    if (a.family !== b.family) {
        return false;
    }
    // Two aligned ranges overlap exactly when one contains the other: compare under the shorter prefix.
    const bits = a.family === 4 ? 32 : 128;
    const shorter = Math.min(a.prefix, b.prefix);
    const mask = shorter === 0 ? 0n : ((1n << BigInt(shorter)) - 1n) << BigInt(bits - shorter);
    return (a.network & mask) === (b.network & mask);
}

function ipv4ToBigInt(address: string): bigint {
    return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets first.
    let text = address;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
        const n = ipv4ToBigInt(v4[1]);
        text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
    const headParts = head ? head.split(":") : [];
    const tailParts = tail ? tail.split(":") : [];
    const missing = 8 - headParts.length - tailParts.length;
    const parts = [...headParts, ...Array(tail === undefined ? 0 : missing).fill("0"), ...tailParts];
    return parts.reduce((acc, hextet) => (acc << 16n) | BigInt(parseInt(hextet, 16)), 0n);
}

/**
 * HOST[:PORT], or a URL's, split into its host (an IPv6 address without brackets) and its port
 * when one is given. A bare IPv6 address (`2001:db8::1`) is a host without a port; a port after
 * an IPv6 host needs brackets (`[2001:db8::1]:443`), as Go's net.SplitHostPort and kubectl read it.
 */
export function splitHostPort(address: string): { host: string; port?: string } {
    const authority = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/[/?#].*$/, "");
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(authority);
    if (bracketed) {
        return { host: bracketed[1], port: bracketed[2] };
    }
    if (net.isIPv6(authority)) {
        return { host: authority };
    }
    const withPort = /^(.*):(\d+)$/.exec(authority);
    return withPort ? { host: withPort[1], port: withPort[2] } : { host: authority };
}

/** The host of HOST[:PORT] or a URL (an IPv6 address without its brackets). */
export function hostOf(address: string): string {
    return splitHostPort(address).host;
}

/** HOST[:PORT] of a host and an optional port, an IPv6 host in brackets. */
export function joinHostPort(host: string, port?: string | number): string {
    const shown = net.isIPv6(host) ? `[${host}]` : host;
    return port === undefined ? shown : `${shown}:${port}`;
}

/** HOST[:PORT] with `port` when it gives none. */
export function withPort(hostPort: string, port: number): string {
    const split = splitHostPort(hostPort);
    return joinHostPort(split.host, split.port ?? port);
}

/** The host of a URL as a resolver or a socket takes it (an IPv6 address without its brackets). */
export function urlHost(url: string | URL): string {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
}

/** True for addresses on the loopback interface: 127.0.0.0/8, ::1, and the name localhost. */
export function isLoopback(host: string): boolean {
    const family = net.isIP(host);
    if (family === 4) {
        return host.startsWith("127.");
    }
    if (family === 6) {
        return ipv6ToBigInt(host) === 1n;
    }
    return host === "localhost" || host.endsWith(".localhost");
}
