// Reads a stack's config through `pulumi.Config`, validates it, and returns it typed by model and
// role. Every default lives here; the README's configuration reference documents them.
import * as pulumi from "@pulumi/pulumi";
import { readCaBundle, readCaGeneration } from "../ca/caConfig";
import { chartsOf } from "../istio/charts";
import { readRevisions } from "../istio/revisionConfig";
import {
    CaGeneration, Istio10PrimaryConfig, Istio10RemoteConfig, MESH_MODELS, MeshModel, MultiPrimaryPrimaryConfig, MultiPrimaryRemoteConfig,
    PrimaryConfig, PrimaryRemotePrimaryConfig, PrimaryRemoteRemoteConfig, RemoteConfig, StackConfig,
} from "./config";
import { checkKeysBelong, keysSet, secretKeysSet } from "./configKeys";
import { RawConfig, suggestLabel } from "./configReader";
import { ConfigError } from "./errors";
import { checkOverlap, noMultiPrimaryCa, requireCaBundle } from "./meshRules";
import { CONFIG_NAMESPACE } from "./namespace";
import { hostOf, isDns1123Label, isHostAddress } from "./net";
import { CaBundle } from "../ca/pki";
import { Values } from "../istio/values";

/** The meshID and network of an istiod primary that sets none. */
const DEFAULT_MESH_ID = "mesh1";
const DEFAULT_NETWORK = "network1";

/**
 * Reads this stack's config through Pulumi's own `pulumi.Config`, validates it and returns it
 * typed. Only what the stack sets counts as set (the project declares no defaults; they are here),
 * so an explicit value is never mistaken for an absent one. Throws a ConfigError naming the key,
 * the value and the fix for the first problem found; reads nothing but the files the config names.
 *
 * @param stackName the stack's name (the default cluster name)
 * @param projectDir where relative paths (chartDir, cacerts.dir) are resolved from
 */
export function parseStackConfig(stackName: string, projectDir: string): StackConfig {
    const setKeys = keysSet();
    const secretKeys = secretKeysSet(setKeys);
    const r = new RawConfig(new pulumi.Config(CONFIG_NAMESPACE), projectDir);
    const role = r.oneOf("role", ["primary", "remote"] as const, undefined,
        "set it with `pulumi config set role primary` (or `remote`)");
    const meshModel = r.oneOf("meshModel", MESH_MODELS, MESH_MODELS[0]);
    checkKeysBelong(setKeys, secretKeys, meshModel, role, (key) => r.shown(key, secretKeys));

    const gateway = eastWestGatewaySettings(r, meshModel);
    const base = {
        cluster: r.clusterAccess("kubeContext", "kubeconfig"),
        istioNamespace: r.dnsLabel("istioNamespace", "istio-system"),
        chart: r.chartSource(chartsOf(meshModel, role, gateway.eastWestGateway), meshModel === "istio-1.0"),
        installMethod: r.oneOf("installMethod", ["template", "release"] as const, "template"),
        caBundle: readCaBundle(r, secretKeys.has("cacerts")),
        injectionNamespaces: r.dnsLabelList("injectionNamespaces", ["default"]),
        sidecarInjector: r.boolean("sidecarInjector", true),
        podCidr: r.cidr("podCidr"),
        serviceCidr: r.cidr("serviceCidr"),
        values: r.object("values", {}),
    };
    if (base.podCidr && base.serviceCidr) {
        checkOverlap("serviceCidr", base.serviceCidr, "this stack's podCidr", base.podCidr);
    }
    const parse = role === "primary" ? primaryConfig : remoteConfig;
    return parse({ r, meshModel, base, gateway, stackName });
}

/** What both roles' parsers start from. */
interface Parsed {
    readonly r: RawConfig;
    readonly meshModel: MeshModel;
    readonly base: Omit<Istio10PrimaryConfig, "role" | "meshModel" | "security" | "endpointExposure" | "envoyStatsd">;
    readonly gateway: { readonly eastWestGateway: boolean; readonly eastWestGatewayValues: Values };
    readonly stackName: string;
}

function primaryConfig({ r, meshModel, base, gateway, stackName }: Parsed): PrimaryConfig {
    const role = "primary" as const;
    if (meshModel === "istio-1.0") {
        const security = {
            controlPlaneSecurityEnabled: r.boolean("controlPlaneSecurityEnabled", false),
            mtlsEnabled: r.boolean("mtls", false),
            selfSignedCa: r.boolean("selfSignedCa", true),
        };
        if (!security.selfSignedCa) {
            requireCaBundle(base.caBundle);
        }
        const config: Istio10PrimaryConfig = {
            role, meshModel, ...base, security,
            endpointExposure: r.oneOf("endpointExposure", ["podIP", "loadBalancer", "gateway"] as const, "podIP"),
            envoyStatsd: r.boolean("envoyStatsd", true),
        };
        return config;
    }
    const mesh = {
        meshID: r.meshName("meshID") ?? DEFAULT_MESH_ID,
        clusterName: clusterName(r, stackName),
        network: r.meshName("network") ?? DEFAULT_NETWORK,
    };
    const generatedCa = caGeneration(r, meshModel, mesh.clusterName, base.caBundle);
    if (meshModel === "primary-remote") {
        const selfSigned = r.optionalBoolean("selfSignedCa");
        if (selfSigned === false && generatedCa === undefined) {
            requireCaBundle(base.caBundle, "istiod");
        }
        if (selfSigned === true && generatedCa !== undefined) {
            throw new ConfigError("selfSignedCa", true, "is set together with ca.generate, which gives istiod a CA of the program's making",
                "remove selfSignedCa (`pulumi config rm selfSignedCa`), or remove ca to let istiod sign with a root of its own");
        }
        const injectionAddress = r.hostPort("injectionAddress");
        // With revisions, each has its own address; a lone one may take the stack's.
        const revisions = readRevisions(r, {
            chart: base.chart, values: base.values,
            discoveryAddress: r.string("discoveryAddress") === undefined ? undefined : r.discoveryAddress(false),
            singleIstiodBy: injectionAddress !== undefined ? "injectionAddress" : gateway.eastWestGateway ? "eastWestGateway" : undefined,
        });
        const config: PrimaryRemotePrimaryConfig = {
            role, meshModel, ...base, ...gateway, mesh, generatedCa, injectionAddress,
            ...(revisions === undefined ? { discoveryAddress: r.discoveryAddress(gateway.eastWestGateway) } : { revisions }),
        };
        return config;
    }
    if (base.caBundle === undefined && generatedCa === undefined) {
        throw noMultiPrimaryCa("every cluster of a multi-primary mesh runs its own istiod",
            "`pulumi config set --path ca.generate true` to have this stack make the mesh's root and each cluster's intermediate, " +
            "or give each cluster an intermediate CA of one shared root: `pulumi config set --path cacerts.dir ./certs/<cluster>`");
    }
    const config: MultiPrimaryPrimaryConfig = {
        role, meshModel, ...base, ...gateway, mesh, generatedCa,
        apiServerAddress: apiServerAddress(r),
        sameHostControlPlanes: r.boolean("sameHostControlPlanes", false),
    };
    return config;
}

function remoteConfig({ r, meshModel, base, gateway, stackName }: Parsed): RemoteConfig {
    const primaryStack = r.string("primaryStack");
    if (!primaryStack) {
        throw new ConfigError("primaryStack", undefined, "a remote must know its primary stack",
            "set it, e.g. `pulumi config set primaryStack primary`");
    }
    const remote = {
        role: "remote" as const, ...base,
        clusterName: clusterName(r, stackName),
        apiServerAddress: apiServerAddress(r),
        sameHostControlPlanes: r.boolean("sameHostControlPlanes", false),
        primaryStack: r.stackName("primaryStack", primaryStack),
        primaryCluster: r.clusterAccess("primaryKubeContext", "primaryKubeconfig"),
    };
    if (meshModel === "istio-1.0") {
        const config: Istio10RemoteConfig = {
            ...remote, meshModel,
            security: {
                controlPlaneSecurityEnabled: r.optionalBoolean("controlPlaneSecurityEnabled"),
                mtlsEnabled: r.optionalBoolean("mtls"),
                selfSignedCa: r.optionalBoolean("selfSignedCa"),
            },
            remotePilotCreateSvcEndpoint: r.boolean("remotePilotCreateSvcEndpoint", false),
            mirrorServices: r.mirrorServices(),
        };
        return config;
    }
    const mesh = { meshID: r.meshName("meshID"), network: r.meshName("network") };
    if (meshModel === "primary-remote") {
        const { caBundle: _none, ...withoutCa } = remote; // the key is refused on this model's remotes
        const config: PrimaryRemoteRemoteConfig = { ...withoutCa, meshModel, ...gateway, mesh };
        return config;
    }
    const config: MultiPrimaryRemoteConfig = { ...remote, meshModel, ...gateway, mesh, peers: r.peers() };
    return config;
}

/** eastWestGateway, and the values of its chart: set only with the gateway (they would do nothing without). */
function eastWestGatewaySettings(r: RawConfig, meshModel: MeshModel): { eastWestGateway: boolean; eastWestGatewayValues: Values } {
    const eastWestGateway = meshModel !== "istio-1.0" && r.boolean("eastWestGateway", false);
    const eastWestGatewayValues = r.object("eastWestGatewayValues", {});
    if (!eastWestGateway && Object.keys(eastWestGatewayValues).length > 0) {
        throw new ConfigError("eastWestGatewayValues", eastWestGatewayValues, "is set, but this cluster has no east-west gateway",
            "set eastWestGateway to true, or remove it with `pulumi config rm eastWestGatewayValues`");
    }
    return { eastWestGateway, eastWestGatewayValues };
}

/** A cluster's name in the mesh (default: the stack's name): a Secret's name and data key, so a DNS-1123 label. */
function clusterName(r: RawConfig, stackName: string): string {
    const name = r.string("clusterName") ?? stackName;
    if (!isDns1123Label(name)) {
        throw new ConfigError("clusterName", name,
            "is used as a Secret data key and name in the primary, which must be a DNS-1123 label " +
            "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
            `set a valid name, e.g. \`pulumi config set clusterName ${suggestLabel(name)}\``);
    }
    return name;
}

/** apiServerAddress: https://HOST[:PORT] or HOST[:PORT]. */
function apiServerAddress(r: RawConfig): string | undefined {
    const value = r.string("apiServerAddress");
    if (value !== undefined && !isHostAddress(hostOf(value))) {
        throw new ConfigError("apiServerAddress", value, "is neither an IP address nor a DNS name",
            "give the API server as https://HOST[:PORT] or HOST[:PORT], where HOST is an IP address or a DNS name");
    }
    return value;
}

/**
 * `ca`, checked against the rest of an istiod primary's config: not with `cacerts`, peers only in
 * a multi-primary mesh, and rotations only of the clusters it issues for.
 */
function caGeneration(r: RawConfig, meshModel: MeshModel, clusterName: string, caBundle: CaBundle | undefined): CaGeneration | undefined {
    const generation = readCaGeneration(r);
    if (generation === undefined) {
        return undefined;
    }
    if (caBundle !== undefined) {
        throw new ConfigError("ca", "{generate: true}", "is set together with cacerts: the mesh's CA is either made here or given",
            "remove one: `pulumi config rm cacerts` to have the program make it, or `pulumi config rm ca` to use your own");
    }
    if (generation.peers.length > 0 && meshModel !== "multi-primary") {
        throw new ConfigError("ca.peers", generation.peers, "names clusters to issue intermediates for, and a primary-remote " +
            "mesh's remotes run no istiod: the primary's istiod signs their workloads' certificates", "remove ca.peers");
    }
    const clusters = [clusterName, ...generation.peers];
    const twice = generation.peers.find((p, i) => clusters.indexOf(p) !== i + 1);
    if (twice !== undefined) {
        throw new ConfigError("ca.peers", generation.peers, `names ${twice} twice (or this cluster itself)`, "list each other primary once");
    }
    const unknown = Object.keys(generation.rotations).find((c) => !clusters.includes(c));
    if (unknown !== undefined) {
        throw new ConfigError(`ca.rotate.${unknown}`, generation.rotations[unknown], `names a cluster this stack issues no intermediate for (it issues for ${clusters.join(", ")})`,
            "rotate one of those, or add the cluster to ca.peers");
    }
    return generation;
}
