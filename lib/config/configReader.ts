// Typed reads of a stack's config through Pulumi's own getters: each returns the value the stack
// set, or the default, or throws a ConfigError naming the key, the value and the fix.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChartRef } from "../istio/charts";
import { ChartSource, ClusterAccess, PeerRef, ServiceRef } from "./config";
import { ConfigError } from "./errors";
import { hostOf, isDns1123Label, isHostAddress, isLoopback, parseCidr } from "./net";
import { Values } from "../istio/values";

/** A whole number 0 or more, given as a number or (as `pulumi config set --path` stores it) digits; else undefined. */
export function wholeNumber(value: unknown): number | undefined {
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A DNS-1123 label made from `name`, for a fix to suggest. */
export function suggestLabel(name: string): string {
    const label = name.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
    return label || "remote-a";
}

/** Typed reads of the stack's config through Pulumi's getters, each failing with a ConfigError. */
export class RawConfig {
    constructor(private readonly config: pulumi.Config, private readonly projectDir: string) {}

    /** A path the config gives, resolved from the project's directory (as `pulumi` runs from it). */
    resolve(relative: string): string {
        return path.resolve(this.projectDir, relative);
    }

    /** A string key; an empty string counts as not set. */
    string(key: string): string | undefined {
        const value = this.config.get(key);
        return value === "" ? undefined : value;
    }

    /** The value as an error may quote it: a secret's is never shown. */
    shown(key: string, secretKeys: ReadonlySet<string>): string | undefined {
        return secretKeys.has(key) ? "[secret]" : this.config.get(key);
    }

    oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T, fix?: string): T {
        const value = this.string(key);
        if (value === undefined && fallback !== undefined) {
            return fallback;
        }
        if (value === undefined || !(allowed as readonly string[]).includes(value)) {
            throw new ConfigError(key, value, `must be one of ${allowed.join(", ")}`,
                fix ?? `set it with \`pulumi config set ${key} ${allowed[0]}\``);
        }
        return value as T;
    }

    /** meshID and network: free-form names in Istio, kept to DNS-1123 labels here so they fit a label value. */
    meshName(key: string): string | undefined {
        const value = this.string(key);
        if (value !== undefined && !isDns1123Label(value)) {
            throw new ConfigError(key, value, "must be a DNS-1123 label (it becomes a label value on namespaces and pods)",
                `use lower-case letters, digits and '-', e.g. ${suggestLabel(value)}`);
        }
        return value;
    }

    /** HOST[:PORT]: an IP address or DNS name, and an optional port. */
    hostPort(key: string): string | undefined {
        const value = this.string(key);
        if (value !== undefined && (!isHostAddress(hostOf(value)) || /^https?:\/\//.test(value))) {
            throw new ConfigError(key, value, "is not HOST[:PORT] (an IP address or DNS name, and an optional port)",
                `give it without a scheme, e.g. \`pulumi config set ${key} 192.0.2.10:15017\``);
        }
        return value;
    }

    /**
     * Where the remotes reach istiod: a DNS name or an IP they can route to, never loopback; with an
     * east-west gateway it may be left out, and the gateway's address is used.
     */
    discoveryAddress(eastWestGateway: boolean): string | undefined {
        const value = this.string("discoveryAddress");
        if (value === undefined && eastWestGateway) {
            return undefined;
        }
        if (value === undefined) {
            throw new ConfigError("discoveryAddress", undefined,
                "the remotes of a primary-remote mesh reach istiod (ports 15012 and 15017) at this address",
                "set it to the DNS name or IP of a load balancer in front of istiod " +
                "(e.g. `pulumi config set discoveryAddress istiod.mesh.example.com`), or set eastWestGateway to true " +
                "to expose istiod through Istio's east-west gateway");
        }
        return this.discoveryHost("discoveryAddress", value);
    }

    /** A host the remotes reach an istiod at (the stack's `discoveryAddress`, a revision's): an IP or DNS name, never loopback. */
    discoveryHost(key: string, value: string): string {
        if (!isHostAddress(value)) {
            throw new ConfigError(key, value, "is neither an IP address nor a DNS name",
                "give a bare host, without scheme or port: the remotes dial ports 15012 and 15017 on it");
        }
        if (isLoopback(value)) {
            throw new ConfigError(key, value, "is a loopback address, which Kubernetes refuses in the " +
                "remote's EndpointSlice, and which the remotes' pods could not reach istiod at",
                "give a DNS name (a host name is written as an ExternalName Service) or a routable IP");
        }
        return value;
    }

    optionalBoolean(key: string): boolean | undefined {
        try {
            return this.config.getBoolean(key);
        } catch {
            throw new ConfigError(key, this.config.get(key), "must be true or false", `\`pulumi config set ${key} true\` (or false)`);
        }
    }

    boolean(key: string, fallback: boolean): boolean {
        return this.optionalBoolean(key) ?? fallback;
    }

    dnsLabel(key: string, fallback: string): string {
        const value = this.string(key) ?? fallback;
        if (!isDns1123Label(value)) {
            throw new ConfigError(key, value, "is not a valid namespace name (DNS-1123 label)",
                `use lower-case letters, digits and '-', e.g. ${suggestLabel(value)}`);
        }
        return value;
    }

    json<T>(key: string, fallback: T): T {
        try {
            return this.config.getObject<T>(key) ?? fallback;
        } catch {
            throw new ConfigError(key, this.config.get(key), "must be structured config (YAML list or map), not a plain string",
                `set it in Pulumi.<stack>.yaml as a list/map, or with \`pulumi config set --path ${key}...\``);
        }
    }

    object(key: string, fallback: Values): Values {
        const value = this.json<unknown>(key, fallback);
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            throw new ConfigError(key, value, "must be a map", `write ${key} as a YAML map in Pulumi.<stack>.yaml`);
        }
        return value as Values;
    }

    dnsLabelList(key: string, fallback: string[]): string[] {
        const value = this.json<unknown>(key, fallback);
        if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
            throw new ConfigError(key, value, "must be a list of namespace names",
                `write it as a YAML list, e.g. ${key}: [default]`);
        }
        const bad = value.find((v) => !isDns1123Label(v));
        if (bad !== undefined) {
            throw new ConfigError(key, value, `"${bad}" is not a valid namespace name (DNS-1123 label)`,
                `use lower-case letters, digits and '-', e.g. ${suggestLabel(bad)}`);
        }
        return value;
    }

    cidr(key: string): string | undefined {
        const value = this.string(key);
        if (value !== undefined && !parseCidr(value)) {
            throw new ConfigError(key, value, "is not a CIDR range", `write it as ADDRESS/PREFIX, e.g. 10.10.0.0/16`);
        }
        return value;
    }

    clusterAccess(contextKey: string, kubeconfigKey: string): ClusterAccess {
        const kubeContext = this.string(contextKey);
        const kubeconfig = this.string(kubeconfigKey);
        if (kubeContext === undefined && kubeconfig === undefined) {
            throw new ConfigError(contextKey, undefined, `this stack needs ${contextKey} or ${kubeconfigKey} to reach its cluster`,
                `\`pulumi config set ${contextKey} <context>\` or \`pulumi config set --secret ${kubeconfigKey} < kubeconfig\``);
        }
        return { kubeContext, kubeconfig };
    }

    /** chartDir (checked to hold every chart the stack installs) or chartRepo with chartVersion. */
    chartSource(charts: readonly ChartRef[], istio10: boolean): ChartSource {
        const where = istio10 ? "your Istio 1.0 release's install/kubernetes/helm directory" : "your Istio release's manifests/charts directory";
        const dir = this.string("chartDir");
        const repo = this.string("chartRepo");
        const version = this.string("chartVersion");
        if (dir !== undefined) {
            if (repo !== undefined) {
                throw new ConfigError("chartRepo", repo, "is set together with chartDir", "set only one of chartDir and chartRepo");
            }
            return this.chartDir("chartDir", dir, charts, where);
        }
        if (repo === undefined) {
            throw new ConfigError("chartDir", undefined, "the Istio charts' location is not configured",
                `set chartDir to ${where}, or chartRepo and chartVersion`);
        }
        if (version === undefined) {
            throw new ConfigError("chartVersion", undefined, "chartRepo needs a chart version",
                "set chartVersion to your Istio release, e.g. `pulumi config set chartVersion 1.0.6`");
        }
        return { kind: "repo", repo, version };
    }

    /** A chart directory `key` gives, holding each of `charts` (`where` says what it should be). */
    chartDir(key: string, dir: string, charts: readonly ChartRef[], where: string): ChartSource {
        const expanded = dir.replace(/^~(?=\/|$)/, os.homedir());
        for (const chart of charts) {
            if (!fs.existsSync(path.resolve(this.projectDir, expanded, chart.dir, "Chart.yaml"))) {
                throw new ConfigError(key, dir, `has no ${chart.dir}/Chart.yaml`, `point it at ${where}`);
            }
        }
        // A directory inside the project stays relative to it (Pulumi runs the program and its
        // providers there), so that the chart paths in the state are the same from every checkout.
        return { kind: "dir", dir: path.isAbsolute(expanded) ? expanded : path.normalize(expanded) };
    }

    /**
     * A stack named in config, qualified as a StackReference takes it: `stack` and `project/stack`
     * are this program's organization's (as `pulumi stack select` reads them), `org/project/stack` as given.
     */
    stackName(key: string, name: string): string {
        const parts = name.split("/");
        if (parts.length > 3 || parts.some((part) => part === "")) {
            throw new ConfigError(key, name, "is not a stack name",
                "give the stack's name (e.g. primary), or organization/project/stack for another organization's");
        }
        const qualifiers = parts.length === 3 ? [] : [pulumi.getOrganization(), pulumi.getProject()].slice(0, 3 - parts.length);
        return [...qualifiers, ...parts].join("/");
    }

    peers(): PeerRef[] {
        const value = this.json<unknown>("peers", []);
        const fix = "write it as a YAML list of {stack: <stack>, kubeContext: <context>}";
        if (!Array.isArray(value)) {
            throw new ConfigError("peers", value, "must be a list of the other primaries", fix);
        }
        return value.map((peer) => {
            if (typeof peer?.stack !== "string" || typeof peer?.kubeContext !== "string" || Object.keys(peer).length !== 2) {
                throw new ConfigError("peers", peer, "is not {stack, kubeContext}", fix);
            }
            return { stack: this.stackName("peers", peer.stack), kubeContext: peer.kubeContext };
        });
    }

    mirrorServices(): { fromPrimary: ServiceRef[]; toPrimary: ServiceRef[] } {
        const value = this.json<Record<string, unknown>>("mirrorServices", {});
        const parse = (direction: "fromPrimary" | "toPrimary"): ServiceRef[] => {
            const list = value[direction] ?? [];
            if (!Array.isArray(list)) {
                throw new ConfigError(`mirrorServices.${direction}`, list, "must be a list of namespace/name",
                    `write it as a YAML list, e.g. ${direction}: [default/reviews]`);
            }
            return list.map((item) => {
                const parts = typeof item === "string" ? item.split("/") : [];
                if (parts.length !== 2 || !parts.every(isDns1123Label)) {
                    throw new ConfigError(`mirrorServices.${direction}`, item, "is not a service reference",
                        "write each service as namespace/name, both DNS-1123 labels, e.g. default/reviews");
                }
                return { namespace: parts[0], name: parts[1] };
            });
        };
        const unknown = Object.keys(value).find((k) => k !== "fromPrimary" && k !== "toPrimary");
        if (unknown !== undefined) {
            throw new ConfigError(`mirrorServices.${unknown}`, value[unknown], "is not a mirroring direction",
                "use fromPrimary and toPrimary");
        }
        const fromPrimary = parse("fromPrimary");
        const toPrimary = parse("toPrimary");
        const both = fromPrimary.find((a) => toPrimary.some((b) => a.namespace === b.namespace && a.name === b.name));
        if (both) {
            throw new ConfigError("mirrorServices", `${both.namespace}/${both.name}`,
                "is listed in both directions, so each copy would overwrite the other's original",
                "list the service only under the cluster that does not run it");
        }
        return { fromPrimary, toPrimary };
    }
}
