import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "./errors";
import { cidrsOverlap, isDns1123Label, isHostAddress, parseCidr } from "./net";
import { CA_FILES, CaBundle, caBundleProblems, readCaDirectory } from "./pki";
import { SecuritySettings, Values } from "./values";

/** The project's config namespace: keys are `istio-multicluster:<key>`. */
export const CONFIG_NAMESPACE = "istio-multicluster";

/** How to reach one cluster: a context of the ambient kubeconfig, or a whole kubeconfig (secret). */
export interface ClusterAccess {
    /** A context name in $KUBECONFIG / ~/.kube/config. */
    readonly kubeContext?: string;
    /** A kubeconfig's text. */
    readonly kubeconfig?: string;
}

/** Where the Istio charts come from. */
export type ChartSource =
    | { readonly kind: "dir"; readonly dir: string }
    | { readonly kind: "repo"; readonly repo: string; readonly version: string };

/** `template`: render and apply object by object (S4); `release`: a real Helm release (S5). */
export type InstallMethod = "template" | "release";

/** How the primary makes its control plane reachable from the remotes (S3, S15). */
export type EndpointExposure = "podIP" | "loadBalancer" | "gateway";

/** A Service named `namespace/name`. */
export interface ServiceRef {
    /** Its namespace. */
    readonly namespace: string;
    /** Its name. */
    readonly name: string;
}

/** What both roles configure. */
interface CommonConfig {
    /** The cluster this stack deploys to. */
    readonly cluster: ClusterAccess;
    /** The Istio namespace in this cluster. */
    readonly istioNamespace: string;
    /** Where the charts come from. */
    readonly chart: ChartSource;
    /** How the chart is installed. */
    readonly installMethod: InstallMethod;
    /** The `cacerts` material, already checked; absent when not configured. */
    readonly caBundle?: CaBundle;
    /** Namespaces to label `istio-injection=enabled`. */
    readonly injectionNamespaces: string[];
    /** sidecarInjectorWebhook.enabled. */
    readonly sidecarInjector: boolean;
    /** This cluster's pod range, when declared. */
    readonly podCidr?: string;
    /** This cluster's service range, when declared. */
    readonly serviceCidr?: string;
    /** Extra chart values. */
    readonly values: Values;
}

/** The `primary` stack's config. */
export interface PrimaryConfig extends CommonConfig {
    /** The role. */
    readonly role: "primary";
    /** The security switches of the control plane. */
    readonly security: SecuritySettings;
    /** How the control plane's endpoints are exposed to the remotes. */
    readonly endpointExposure: EndpointExposure;
    /** Whether to discover and export the statsd bridge (absent from Istio ≥ 1.0.3). */
    readonly envoyStatsd: boolean;
}

/** A remote stack's config. */
export interface RemoteConfig extends CommonConfig {
    /** The role. */
    readonly role: "remote";
    /** The primary's stack, as a StackReference name. */
    readonly primaryStack: string;
    /** How to reach the primary cluster, to register this one there. */
    readonly primaryCluster: ClusterAccess;
    /** This cluster's name in the mesh: the registration secret's name and data key. */
    readonly clusterName: string;
    /** The security switches as configured here; each must equal the primary's when set. */
    readonly security: Partial<SecuritySettings>;
    /** global.remotePilotCreateSvcEndpoint. */
    readonly remotePilotCreateSvcEndpoint: boolean;
    /** The API server address the primary dials, when the kubeconfig's server is not reachable from it. */
    readonly apiServerAddress?: string;
    /** Services to copy between the clusters so their names resolve everywhere (S14). */
    readonly mirrorServices: { readonly fromPrimary: ServiceRef[]; readonly toPrimary: ServiceRef[] };
}

/** A stack's config, validated. */
export type StackConfig = PrimaryConfig | RemoteConfig;

type Role = StackConfig["role"];

/** Every key, the roles it belongs to, and whether it holds a credential. */
const KEYS: Record<string, { roles: Role[]; secret?: boolean }> = {
    role: { roles: ["primary", "remote"] },
    kubeContext: { roles: ["primary", "remote"] },
    kubeconfig: { roles: ["primary", "remote"], secret: true },
    istioNamespace: { roles: ["primary", "remote"] },
    chartDir: { roles: ["primary", "remote"] },
    chartRepo: { roles: ["primary", "remote"] },
    chartVersion: { roles: ["primary", "remote"] },
    installMethod: { roles: ["primary", "remote"] },
    controlPlaneSecurityEnabled: { roles: ["primary", "remote"] },
    mtls: { roles: ["primary", "remote"] },
    selfSignedCa: { roles: ["primary", "remote"] },
    cacerts: { roles: ["primary", "remote"] },
    injectionNamespaces: { roles: ["primary", "remote"] },
    sidecarInjector: { roles: ["primary", "remote"] },
    podCidr: { roles: ["primary", "remote"] },
    serviceCidr: { roles: ["primary", "remote"] },
    values: { roles: ["primary", "remote"] },
    envoyStatsd: { roles: ["primary"] },
    endpointExposure: { roles: ["primary"] },
    primaryStack: { roles: ["remote"] },
    primaryKubeContext: { roles: ["remote"] },
    primaryKubeconfig: { roles: ["remote"], secret: true },
    clusterName: { roles: ["remote"] },
    remotePilotCreateSvcEndpoint: { roles: ["remote"] },
    apiServerAddress: { roles: ["remote"] },
    mirrorServices: { roles: ["remote"] },
};

/** The config keys a stack may set, for the README and for tests. */
export const CONFIG_KEYS = Object.keys(KEYS);

/**
 * Validates a stack's raw config (the project's keys without prefix, each value as Pulumi stores
 * it: a string, objects as JSON) and returns it typed. Throws a ConfigError naming the key, the
 * value and the fix for the first problem found; reads nothing but the files the config names.
 *
 * @param raw the project's config values
 * @param stackName the stack's name (the default cluster name of a remote)
 * @param secretKeys the keys that are stored as secrets
 * @param projectDir where relative paths (chartDir, cacerts.dir) are resolved from
 */
export function parseStackConfig(
    raw: Record<string, string>, stackName: string, secretKeys: ReadonlySet<string>, projectDir: string,
): StackConfig {
    const r = new RawConfig(raw, projectDir);
    const role = r.oneOf("role", ["primary", "remote"] as const, undefined,
        "set it with `pulumi config set role primary` (or `remote`)");
    for (const key of Object.keys(raw)) {
        const known = KEYS[key];
        if (!known) {
            throw new ConfigError(key, raw[key], "is not a key this program knows",
                `remove it, or use one of: ${CONFIG_KEYS.join(", ")}`);
        }
        if (!known.roles.includes(role)) {
            throw new ConfigError(key, raw[key], `belongs to the ${known.roles[0]} stack, and this stack's role is ${role}`,
                `remove it with \`pulumi config rm ${key}\``);
        }
        if (known.secret && !secretKeys.has(key)) {
            throw new ConfigError(key, "[plaintext]", "holds a credential but is stored in plain text",
                `store it as a secret: \`pulumi config set --secret ${key} < file\``);
        }
    }

    const common = {
        cluster: r.clusterAccess("kubeContext", "kubeconfig"),
        istioNamespace: r.dnsLabel("istioNamespace", "istio-system"),
        chart: r.chartSource(),
        installMethod: r.oneOf("installMethod", ["template", "release"] as const, "template"),
        caBundle: r.caBundle(secretKeys.has("cacerts")),
        injectionNamespaces: r.dnsLabelList("injectionNamespaces", ["default"]),
        sidecarInjector: r.boolean("sidecarInjector", true),
        podCidr: r.cidr("podCidr"),
        serviceCidr: r.cidr("serviceCidr"),
        values: r.object("values", {}),
    };
    if (common.podCidr && common.serviceCidr) {
        checkOverlap("serviceCidr", common.serviceCidr, "this stack's podCidr", common.podCidr);
    }

    if (role === "primary") {
        const security = {
            controlPlaneSecurityEnabled: r.boolean("controlPlaneSecurityEnabled", false),
            mtlsEnabled: r.boolean("mtls", false),
            selfSignedCa: r.boolean("selfSignedCa", true),
        };
        if (!security.selfSignedCa) {
            requireCaBundle(common.caBundle);
        }
        return {
            role, ...common, security,
            endpointExposure: r.oneOf("endpointExposure", ["podIP", "loadBalancer", "gateway"] as const, "podIP"),
            envoyStatsd: r.boolean("envoyStatsd", true),
        };
    }

    const clusterName = r.string("clusterName") ?? stackName;
    if (!isDns1123Label(clusterName)) {
        throw new ConfigError("clusterName", clusterName,
            "is used as a Secret data key and name in the primary, which must be a DNS-1123 label " +
            "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
            `set a valid name, e.g. \`pulumi config set clusterName ${suggestLabel(clusterName)}\``);
    }
    const apiServerAddress = r.string("apiServerAddress");
    if (apiServerAddress !== undefined && !isHostAddress(hostOf(apiServerAddress))) {
        throw new ConfigError("apiServerAddress", apiServerAddress, "is neither an IP address nor a DNS name",
            "give the API server as https://HOST[:PORT] or HOST[:PORT], where HOST is an IP address or a DNS name");
    }
    const primaryStack = r.string("primaryStack");
    if (!primaryStack) {
        throw new ConfigError("primaryStack", undefined, "a remote must know its primary stack",
            "set it, e.g. `pulumi config set primaryStack organization/istio-multicluster/primary`");
    }
    return {
        role, ...common, clusterName, apiServerAddress, primaryStack,
        primaryCluster: r.clusterAccess("primaryKubeContext", "primaryKubeconfig"),
        security: {
            controlPlaneSecurityEnabled: r.optionalBoolean("controlPlaneSecurityEnabled"),
            mtlsEnabled: r.optionalBoolean("mtls"),
            selfSignedCa: r.optionalBoolean("selfSignedCa"),
        },
        remotePilotCreateSvcEndpoint: r.boolean("remotePilotCreateSvcEndpoint", false),
        mirrorServices: r.mirrorServices(),
    };
}

/**
 * The raw config without the values that equal Pulumi.yaml's declared defaults: Pulumi fills
 * every declared key, and only what a stack sets itself may count as set (a primary stack must
 * not be told it set `clusterName` because the project declares it).
 */
export function withoutProjectDefaults(raw: Record<string, string>, defaults: Record<string, unknown>): Record<string, string> {
    const normalise = (value: unknown): string => {
        if (typeof value !== "string") {
            return JSON.stringify(value);
        }
        try {
            return JSON.stringify(JSON.parse(value));
        } catch {
            return JSON.stringify(value);
        }
    };
    return Object.fromEntries(Object.entries(raw).filter(([key, value]) =>
        !(key in defaults) || normalise(value) !== normalise(defaults[key])));
}

/** Throws unless a CA bundle is configured: selfSignedCa=false makes Citadel need one. */
export function requireCaBundle(bundle: CaBundle | undefined): asserts bundle is CaBundle {
    if (!bundle) {
        throw new ConfigError("cacerts", undefined, "selfSignedCa is false, so Citadel needs the `cacerts` secret",
            "set `cacerts.dir` to a directory with ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem " +
            "(`pulumi config set --path cacerts.dir ./certs`), or set selfSignedCa to true");
    }
}

/** Throws when two configured ranges overlap (S1: every cluster's ranges must be unique). */
export function checkOverlap(key: string, range: string, otherName: string, otherRange: string): void {
    const a = parseCidr(range);
    const b = parseCidr(otherRange);
    if (a && b && cidrsOverlap(a, b)) {
        throw new ConfigError(key, range, `overlaps ${otherName} ${otherRange}; pod and service ranges must be ` +
            "unique across the clusters of a mesh so that pod and service IPs route between them",
            `give this cluster ranges that do not overlap ${otherRange}`);
    }
}

function hostOf(address: string): string {
    const withoutScheme = address.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(withoutScheme);
    if (bracketed) {
        return bracketed[1];
    }
    return withoutScheme.replace(/:\d+$/, "");
}

function suggestLabel(name: string): string {
    const label = name.toLowerCase().replace(/[^a-z0-9-]/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
    return label || "remote-a";
}

/** Typed access to raw config strings, each read failing with a ConfigError. */
class RawConfig {
    constructor(private readonly raw: Record<string, string>, private readonly projectDir: string) {}

    string(key: string): string | undefined {
        const value = this.raw[key];
        return value === undefined || value === "" ? undefined : value;
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

    optionalBoolean(key: string): boolean | undefined {
        const value = this.string(key);
        if (value === undefined) {
            return undefined;
        }
        if (value !== "true" && value !== "false") {
            throw new ConfigError(key, value, "must be true or false", `\`pulumi config set ${key} true\` (or false)`);
        }
        return value === "true";
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
        const value = this.string(key);
        if (value === undefined) {
            return fallback;
        }
        try {
            return JSON.parse(value) as T;
        } catch {
            throw new ConfigError(key, value, "must be structured config (YAML list or map), not a plain string",
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

    chartSource(): ChartSource {
        const dir = this.string("chartDir");
        const repo = this.string("chartRepo");
        const version = this.string("chartVersion");
        if (dir !== undefined) {
            if (repo !== undefined) {
                throw new ConfigError("chartRepo", repo, "is set together with chartDir", "set only one of chartDir and chartRepo");
            }
            const resolved = path.resolve(this.projectDir, dir);
            for (const chart of ["istio", "istio-remote"]) {
                if (!fs.existsSync(path.join(resolved, chart, "Chart.yaml"))) {
                    throw new ConfigError("chartDir", dir, `has no ${chart}/Chart.yaml`,
                        "point it at your Istio release's install/kubernetes/helm directory");
                }
            }
            return { kind: "dir", dir: resolved };
        }
        if (repo === undefined) {
            throw new ConfigError("chartDir", undefined, "the Istio charts' location is not configured",
                "set chartDir to your Istio release's install/kubernetes/helm directory, or chartRepo and chartVersion");
        }
        if (version === undefined) {
            throw new ConfigError("chartVersion", undefined, "chartRepo needs a chart version",
                "set chartVersion to your Istio release, e.g. `pulumi config set chartVersion 1.0.6`");
        }
        return { kind: "repo", repo, version };
    }

    caBundle(isSecret: boolean): CaBundle | undefined {
        const value = this.json<Record<string, string> | undefined>("cacerts", undefined);
        if (value === undefined) {
            return undefined;
        }
        let bundle: Partial<CaBundle>;
        if (typeof value.dir === "string") {
            const dir = path.resolve(this.projectDir, value.dir);
            if (!fs.existsSync(dir)) {
                throw new ConfigError("cacerts.dir", value.dir, "does not exist",
                    `create it with ${CA_FILES.map(([, f]) => f).join(", ")} (Istio's samples/certs layout)`);
            }
            bundle = readCaDirectory(dir);
        } else {
            if (!isSecret) {
                throw new ConfigError("cacerts", "[plaintext]", "holds CA key material but is stored in plain text",
                    "set each field with `pulumi config set --secret --path cacerts.caKey < ca-key.pem` (likewise caCert, rootCert, certChain)");
            }
            bundle = { caCert: value.caCert, caKey: value.caKey, rootCert: value.rootCert, certChain: value.certChain };
        }
        const problems = caBundleProblems(bundle);
        if (problems.length > 0) {
            const shown = typeof value.dir === "string" ? value.dir : "[secret]";
            throw new ConfigError(typeof value.dir === "string" ? "cacerts.dir" : "cacerts", shown, problems.join("; "),
                "provide a CA certificate and key signed by the mesh's shared root, with its chain, as Istio's samples/certs shows");
        }
        return bundle as CaBundle;
    }

    mirrorServices(): RemoteConfig["mirrorServices"] {
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
