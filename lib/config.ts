import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "./errors";
import { cidrsOverlap, isDns1123Label, isHostAddress, isLoopback, parseCidr } from "./net";
import { CA_FILES, CaBundle, caBundleProblems, readCaDirectory } from "./pki";
import { SecuritySettings, Values } from "./values";

import { CONFIG_NAMESPACE } from "./namespace";

export { CONFIG_NAMESPACE };

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

/**
 * How the mesh is built. `istio-1.0`: Istio 1.0's flow (the `istio` chart on the primary, the
 * `istio-remote` chart pointed at its pods on each remote). `primary-remote`: today's Istio, one
 * istiod on the primary serving every remote (`base` + `istiod` with the `remote` profile there).
 * `multi-primary`: an istiod on every cluster, each reading every other cluster's API server.
 */
export type MeshModel = "istio-1.0" | "primary-remote" | "multi-primary";

/** The mesh models, the first being the default. */
export const MESH_MODELS: readonly MeshModel[] = ["istio-1.0", "primary-remote", "multi-primary"];

/** The models run by istiod, on Istio's current charts. */
export type IstiodModel = Exclude<MeshModel, "istio-1.0">;

/** This cluster's place in an istiod mesh. */
export interface MeshIdentity {
    /** global.meshID: the same on every cluster of the mesh. */
    readonly meshID: string;
    /** global.multiCluster.clusterName: this cluster's name in the mesh. */
    readonly clusterName: string;
    /** global.network: clusters with the same value reach each other's pods directly. */
    readonly network: string;
}

/** `template`: render and apply object by object; `release`: a real Helm release. */
export type InstallMethod = "template" | "release";

/** How the primary makes its control plane reachable from the remotes. */
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
    /** How the mesh is built. */
    readonly meshModel: MeshModel;
    /** With an istiod model: install Istio's east-west gateway for this cluster's network. */
    readonly eastWestGateway: boolean;
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
    /** With an istiod model: the mesh identity of this cluster. */
    readonly mesh?: MeshIdentity;
    /**
     * primary-remote: the host name or IP the remotes reach istiod at (ports 15012, 15017); absent
     * with an east-west gateway, whose address it then is.
     */
    readonly discoveryAddress?: string;
    /**
     * primary-remote: HOST[:PORT] at which the remotes' API servers reach istiod's injection
     * webhook directly, when they cannot go through the istiod Service of their own cluster.
     */
    readonly injectionAddress?: string;
    /** multi-primary: the API server address the other primaries dial to read this cluster. */
    readonly apiServerAddress?: string;
    /** Every cluster's control plane runs on this one host, so a loopback API server address is reachable. */
    readonly sameHostControlPlanes: boolean;
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
    /** Every cluster's control plane runs on this one host, so a loopback API server address is reachable. */
    readonly sameHostControlPlanes: boolean;
    /** Services to copy between the clusters so their names resolve everywhere. */
    readonly mirrorServices: { readonly fromPrimary: ServiceRef[]; readonly toPrimary: ServiceRef[] };
    /** With an istiod model: meshID and network as configured here (each must agree with the primary's). */
    readonly mesh?: { readonly meshID?: string; readonly network?: string };
    /** multi-primary: the other primaries besides the first, each registered here and this one there. */
    readonly peers: PeerRef[];
}

/** Another primary of a multi-primary mesh: its stack (for its reader kubeconfig) and its cluster's context. */
export interface PeerRef {
    /** Its stack, as a StackReference name. */
    readonly stack: string;
    /** The context of $KUBECONFIG for its cluster, where this cluster's registration goes. */
    readonly kubeContext: string;
}

/** A stack's config, validated. */
export type StackConfig = PrimaryConfig | RemoteConfig;

type Role = StackConfig["role"];

const ISTIO_1_0: MeshModel[] = ["istio-1.0"];
const ISTIOD_MODELS: IstiodModel[] = ["primary-remote", "multi-primary"];

/**
 * Every key: the roles it belongs to (`seedRoles` where the istio-1.0 model differs), the models
 * it applies to (all when absent), and whether it holds a credential.
 */
const KEYS: Record<string, { roles: Role[]; seedRoles?: Role[]; models?: MeshModel[]; secret?: boolean }> = {
    role: { roles: ["primary", "remote"] },
    meshModel: { roles: ["primary", "remote"] },
    meshID: { roles: ["primary", "remote"], models: ISTIOD_MODELS },
    network: { roles: ["primary", "remote"], models: ISTIOD_MODELS },
    eastWestGateway: { roles: ["primary", "remote"], models: ISTIOD_MODELS },
    discoveryAddress: { roles: ["primary"], models: ["primary-remote"] },
    injectionAddress: { roles: ["primary"], models: ["primary-remote"] },
    kubeContext: { roles: ["primary", "remote"] },
    kubeconfig: { roles: ["primary", "remote"], secret: true },
    istioNamespace: { roles: ["primary", "remote"] },
    chartDir: { roles: ["primary", "remote"] },
    chartRepo: { roles: ["primary", "remote"] },
    chartVersion: { roles: ["primary", "remote"] },
    installMethod: { roles: ["primary", "remote"] },
    controlPlaneSecurityEnabled: { roles: ["primary", "remote"], models: ISTIO_1_0 },
    mtls: { roles: ["primary", "remote"], models: ISTIO_1_0 },
    selfSignedCa: { roles: ["primary", "remote"] },
    cacerts: { roles: ["primary", "remote"] },
    injectionNamespaces: { roles: ["primary", "remote"] },
    sidecarInjector: { roles: ["primary", "remote"] },
    podCidr: { roles: ["primary", "remote"] },
    serviceCidr: { roles: ["primary", "remote"] },
    values: { roles: ["primary", "remote"] },
    envoyStatsd: { roles: ["primary"], models: ISTIO_1_0 },
    endpointExposure: { roles: ["primary"], models: ISTIO_1_0 },
    primaryStack: { roles: ["remote"] },
    primaryKubeContext: { roles: ["remote"] },
    primaryKubeconfig: { roles: ["remote"], secret: true },
    clusterName: { roles: ["primary", "remote"], seedRoles: ["remote"] },
    remotePilotCreateSvcEndpoint: { roles: ["remote"], models: ISTIO_1_0 },
    apiServerAddress: { roles: ["primary", "remote"], seedRoles: ["remote"] },
    sameHostControlPlanes: { roles: ["primary", "remote"], seedRoles: ["remote"] },
    mirrorServices: { roles: ["remote"] },
    peers: { roles: ["remote"], models: ["multi-primary"] },
};

/** The config keys a stack may set, for the README and for tests. */
export const CONFIG_KEYS = Object.keys(KEYS);

// The SDK exports this at run time but leaves it out of its type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** This stack's keys of the project's namespace, as the stack sets them (without the prefix). */
export function keysSet(): string[] {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.keys(pulumi.runtime.allConfig()).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}

/**
 * Reads this stack's config through Pulumi's own `pulumi.Config`, validates it and returns it
 * typed. Only what the stack sets counts as set (the project declares no defaults; they are here),
 * so an explicit value is never mistaken for an absent one. Throws a ConfigError naming the key,
 * the value and the fix for the first problem found; reads nothing but the files the config names.
 *
 * @param stackName the stack's name (the default cluster name of a remote)
 * @param projectDir where relative paths (chartDir, cacerts.dir) are resolved from
 */
export function parseStackConfig(stackName: string, projectDir: string): StackConfig {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const setKeys = keysSet();
    const secretKeys = new Set(setKeys.filter((key) => isConfigSecret(`${CONFIG_NAMESPACE}:${key}`)));
    const r = new RawConfig(config, projectDir);
    const role = r.oneOf("role", ["primary", "remote"] as const, undefined,
        "set it with `pulumi config set role primary` (or `remote`)");
    const meshModel = r.oneOf("meshModel", MESH_MODELS, MESH_MODELS[0]);
    for (const key of setKeys) {
        const known = KEYS[key];
        if (!known) {
            throw new ConfigError(key, r.shown(key, secretKeys), "is not a key this program knows",
                `remove it, or use one of: ${CONFIG_KEYS.join(", ")}`);
        }
        if (known.models && !known.models.includes(meshModel)) {
            throw new ConfigError(key, r.shown(key, secretKeys), `applies to the ${known.models.join(" and ")} model${known.models.length > 1 ? "s" : ""}, ` +
                `and this stack's meshModel is ${meshModel}`, `remove it with \`pulumi config rm ${key}\``);
        }
        const roles = meshModel === "istio-1.0" ? known.seedRoles ?? known.roles : known.roles;
        if (!roles.includes(role)) {
            throw new ConfigError(key, r.shown(key, secretKeys), `belongs to the ${roles[0]} stack, and this stack's role is ${role}`,
                `remove it with \`pulumi config rm ${key}\``);
        }
        if (known.secret && !secretKeys.has(key)) {
            throw new ConfigError(key, "[plaintext]", "holds a credential but is stored in plain text",
                `store it as a secret: \`pulumi config set --secret ${key} < file\``);
        }
    }

    const common = {
        meshModel,
        eastWestGateway: r.boolean("eastWestGateway", false),
        cluster: r.clusterAccess("kubeContext", "kubeconfig"),
        istioNamespace: r.dnsLabel("istioNamespace", "istio-system"),
        chart: r.chartSource(CHARTS_OF[meshModel]),
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

    const clusterName = r.string("clusterName") ?? stackName;
    // An Istio 1.0 primary has no name in the mesh; every other cluster is named by its registration.
    if ((role === "remote" || meshModel !== "istio-1.0") && !isDns1123Label(clusterName)) {
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
    const sameHostControlPlanes = r.boolean("sameHostControlPlanes", false);
    const meshID = r.meshName("meshID");
    const network = r.meshName("network");

    if (role === "primary" && meshModel !== "istio-1.0") {
        if (r.optionalBoolean("selfSignedCa") === false) {
            requireCaBundle(common.caBundle, "istiod");
        }
        if (meshModel === "multi-primary" && common.caBundle === undefined) {
            throw new ConfigError("cacerts", undefined, "every cluster of a multi-primary mesh runs its own istiod, and " +
                "self-signed istiods each mint their own root, so workloads of different clusters would not trust each other",
                "give each cluster an intermediate CA of one shared root: `pulumi config set --path cacerts.dir ./certs/<cluster>`");
        }
        return {
            role, ...common,
            security: { controlPlaneSecurityEnabled: true, mtlsEnabled: false, selfSignedCa: common.caBundle === undefined },
            endpointExposure: "podIP",
            envoyStatsd: false,
            mesh: { meshID: meshID ?? "mesh1", clusterName, network: network ?? "network1" },
            discoveryAddress: meshModel === "primary-remote" ? r.discoveryAddress(common.eastWestGateway) : undefined,
            injectionAddress: r.hostPort("injectionAddress"),
            apiServerAddress,
            sameHostControlPlanes,
        };
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
            role, ...common, security, sameHostControlPlanes,
            endpointExposure: r.oneOf("endpointExposure", ["podIP", "loadBalancer", "gateway"] as const, "podIP"),
            envoyStatsd: r.boolean("envoyStatsd", true),
        };
    }

    const primaryStack = r.string("primaryStack");
    if (!primaryStack) {
        throw new ConfigError("primaryStack", undefined, "a remote must know its primary stack",
            "set it, e.g. `pulumi config set primaryStack organization/istio-multicluster/primary`");
    }
    return {
        role, ...common, clusterName, apiServerAddress, sameHostControlPlanes, primaryStack,
        primaryCluster: r.clusterAccess("primaryKubeContext", "primaryKubeconfig"),
        security: {
            controlPlaneSecurityEnabled: r.optionalBoolean("controlPlaneSecurityEnabled"),
            mtlsEnabled: r.optionalBoolean("mtls"),
            selfSignedCa: r.optionalBoolean("selfSignedCa"),
        },
        remotePilotCreateSvcEndpoint: r.boolean("remotePilotCreateSvcEndpoint", false),
        mirrorServices: r.mirrorServices(),
        mesh: meshModel === "istio-1.0" ? undefined : { meshID, network },
        peers: r.peers(),
    };
}

/** The charts each model installs, as paths under chartDir (also their names in a chart repository). */
export const CHARTS_OF: Record<MeshModel, ReadonlyArray<{ readonly name: string; readonly dir: string }>> = {
    "istio-1.0": [{ name: "istio", dir: "istio" }, { name: "istio-remote", dir: "istio-remote" }],
    "primary-remote": [{ name: "base", dir: "base" }, { name: "istiod", dir: "istio-control/istio-discovery" }],
    "multi-primary": [{ name: "base", dir: "base" }, { name: "istiod", dir: "istio-control/istio-discovery" }],
};

/** Throws unless a CA bundle is configured: selfSignedCa=false makes Citadel (or istiod) need one. */
export function requireCaBundle(bundle: CaBundle | undefined, signer = "Citadel"): asserts bundle is CaBundle {
    if (!bundle) {
        throw new ConfigError("cacerts", undefined, `selfSignedCa is false, so ${signer} needs the \`cacerts\` secret`,
            "set `cacerts.dir` to a directory with ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem " +
            "(`pulumi config set --path cacerts.dir ./certs`), or set selfSignedCa to true");
    }
}

/** Throws when two configured ranges overlap (every cluster's ranges must be unique). */
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

/** Typed reads of the stack's config through Pulumi's getters, each failing with a ConfigError. */
class RawConfig {
    constructor(private readonly config: pulumi.Config, private readonly projectDir: string) {}

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
        if (!isHostAddress(value)) {
            throw new ConfigError("discoveryAddress", value, "is neither an IP address nor a DNS name",
                "give a bare host, without scheme or port: the remotes dial ports 15012 and 15017 on it");
        }
        if (isLoopback(value)) {
            throw new ConfigError("discoveryAddress", value, "is a loopback address, which Kubernetes refuses in the " +
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

    chartSource(charts: ReadonlyArray<{ readonly dir: string }>): ChartSource {
        const dir = this.string("chartDir");
        const repo = this.string("chartRepo");
        const version = this.string("chartVersion");
        if (dir !== undefined) {
            if (repo !== undefined) {
                throw new ConfigError("chartRepo", repo, "is set together with chartDir", "set only one of chartDir and chartRepo");
            }
            const resolved = path.resolve(this.projectDir, dir.replace(/^~(?=\/|$)/, os.homedir()));
            for (const chart of charts) {
                if (!fs.existsSync(path.join(resolved, chart.dir, "Chart.yaml"))) {
                    throw new ConfigError("chartDir", dir, `has no ${chart.dir}/Chart.yaml`,
                        charts[0].dir === "istio" ? "point it at your Istio 1.0 release's install/kubernetes/helm directory"
                            : "point it at your Istio release's manifests/charts directory");
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

    peers(): PeerRef[] {
        const value = this.json<unknown>("peers", []);
        const fix = "write it as a YAML list of {stack: organization/istio-multicluster/<stack>, kubeContext: <context>}";
        if (!Array.isArray(value)) {
            throw new ConfigError("peers", value, "must be a list of the other primaries", fix);
        }
        return value.map((peer) => {
            if (typeof peer?.stack !== "string" || typeof peer?.kubeContext !== "string" || Object.keys(peer).length !== 2) {
                throw new ConfigError("peers", peer, "is not {stack, kubeContext}", fix);
            }
            return { stack: peer.stack, kubeContext: peer.kubeContext };
        });
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
