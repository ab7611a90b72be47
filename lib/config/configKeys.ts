// The config keys the program knows: the models and roles each one belongs to, and which hold a
// credential. A key set where it does not belong is refused, never accepted and ignored.
import * as pulumi from "@pulumi/pulumi";
import { MeshModel, Role } from "./config";
import { ConfigError } from "./errors";
import { CONFIG_NAMESPACE } from "./namespace";

/** Where a key belongs: the roles of each model it applies to. */
type Where = Partial<Record<MeshModel, readonly Role[]>>;

const BOTH: readonly Role[] = ["primary", "remote"];
const PRIMARY: readonly Role[] = ["primary"];
const REMOTE: readonly Role[] = ["remote"];

/** Every model, with the same roles. */
const everyModel = (roles = BOTH): Where => ({ "istio-1.0": roles, "primary-remote": roles, "multi-primary": roles });
/** Istio 1.0's flow only. */
const istio10 = (roles = BOTH): Where => ({ "istio-1.0": roles });
/** The istiod models only. */
const istiod = (roles = BOTH): Where => ({ "primary-remote": roles, "multi-primary": roles });

/**
 * Every key: where it belongs, why not elsewhere when that is not obvious, and whether it holds a
 * credential (then it must be stored as a secret).
 */
const KEYS: Record<string, { readonly in: Where; readonly elsewhere?: string; readonly secret?: boolean }> = {
    role: { in: everyModel() },
    meshModel: { in: everyModel() },
    meshID: { in: istiod() },
    network: { in: istiod() },
    eastWestGateway: { in: istiod() },
    eastWestGatewayValues: { in: istiod() },
    discoveryAddress: { in: { "primary-remote": PRIMARY } },
    injectionAddress: { in: { "primary-remote": PRIMARY } },
    revisions: {
        in: { "primary-remote": PRIMARY },
        elsewhere: "a primary-remote primary lists the mesh's istiod revisions and its remotes follow them; revisions of a " +
            "multi-primary mesh are not built yet",
    },
    revisionTags: {
        in: { "primary-remote": PRIMARY },
        elsewhere: "the primary's tags are written into every remote; revisions of a multi-primary mesh are not built yet",
    },
    kubeContext: { in: everyModel() },
    kubeconfig: { in: everyModel(), secret: true },
    istioNamespace: { in: everyModel() },
    chartDir: { in: everyModel() },
    chartRepo: { in: everyModel() },
    chartVersion: { in: everyModel() },
    installMethod: { in: everyModel() },
    controlPlaneSecurityEnabled: { in: istio10() },
    mtls: { in: istio10() },
    selfSignedCa: {
        in: { "istio-1.0": BOTH, "primary-remote": PRIMARY },
        elsewhere: "a multi-primary cluster always signs with its `cacerts`, and a primary-remote remote signs nothing",
    },
    cacerts: {
        in: { "istio-1.0": BOTH, "primary-remote": PRIMARY, "multi-primary": BOTH },
        elsewhere: "a primary-remote remote runs no istiod of its own: the primary's istiod signs its workloads' certificates, " +
            "so a CA here would never be used",
    },
    ca: {
        in: istiod(PRIMARY),
        elsewhere: "the primary makes the mesh's CA: a primary-remote remote signs nothing, and a multi-primary peer gets its " +
            "intermediate from the primary (list it in the primary's ca.peers); Istio 1.0's Citadel takes `cacerts`",
    },
    injectionNamespaces: { in: everyModel() },
    sidecarInjector: { in: everyModel() },
    podCidr: { in: everyModel() },
    serviceCidr: { in: everyModel() },
    values: { in: everyModel() },
    envoyStatsd: { in: istio10(PRIMARY) },
    endpointExposure: { in: istio10(PRIMARY) },
    primaryStack: { in: everyModel(REMOTE) },
    primaryKubeContext: { in: everyModel(REMOTE) },
    primaryKubeconfig: { in: everyModel(REMOTE), secret: true },
    clusterName: { in: { "istio-1.0": REMOTE, ...istiod() }, elsewhere: "an Istio 1.0 primary has no name in the mesh" },
    remotePilotCreateSvcEndpoint: { in: istio10(REMOTE) },
    apiServerAddress: {
        in: { "istio-1.0": REMOTE, "primary-remote": REMOTE, "multi-primary": BOTH },
        elsewhere: "no other cluster's control plane reads this one's API server",
    },
    sameHostControlPlanes: {
        in: { "istio-1.0": REMOTE, "primary-remote": REMOTE, "multi-primary": BOTH },
        elsewhere: "no other cluster's control plane reads this one's API server",
    },
    mirrorServices: { in: istio10(REMOTE), elsewhere: "today's Istio resolves remote services itself" },
    peers: { in: { "multi-primary": REMOTE } },
};

/** The config keys a stack may set, for the README and for tests. */
export const CONFIG_KEYS = Object.keys(KEYS);

// The SDK exports this at run time but leaves it out of its type declarations, and no public API
// tells whether a config value was stored as a secret.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** This stack's keys of the project's namespace, as the stack sets them (without the prefix). */
export function keysSet(): string[] {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.keys(pulumi.runtime.allConfig()).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}

/** The keys this stack set that are secrets. */
export function secretKeysSet(setKeys: readonly string[]): Set<string> {
    return new Set(setKeys.filter((key) => isConfigSecret(`${CONFIG_NAMESPACE}:${key}`)));
}

/**
 * Refuses the first key set that the program does not know, that does not belong to this model
 * and role, or that holds a credential in plain text. `shown` is a value as an error may quote it.
 */
export function checkKeysBelong(
    setKeys: readonly string[], secretKeys: ReadonlySet<string>, model: MeshModel, role: Role, shown: (key: string) => unknown,
): void {
    for (const key of setKeys) {
        const known = KEYS[key];
        if (!known) {
            throw new ConfigError(key, shown(key), "is not a key this program knows",
                `remove it, or use one of: ${CONFIG_KEYS.join(", ")}`);
        }
        const remove = `remove it with \`pulumi config rm ${key}\``;
        const roles = known.in[model];
        const because = known.elsewhere ? ` (${known.elsewhere})` : "";
        if (roles === undefined) {
            const models = Object.keys(known.in);
            throw new ConfigError(key, shown(key), `applies to the ${models.join(" and ")} model${models.length > 1 ? "s" : ""}, ` +
                `and this stack's meshModel is ${model}${because}`, remove);
        }
        if (!roles.includes(role)) {
            const sameInEveryModel = Object.values(known.in).every((r) => r.join() === roles.join());
            throw new ConfigError(key, shown(key), `belongs to the ${roles.join(" and ")} stack${sameInEveryModel ? "" : ` of the ${model} model`}, ` +
                `and this stack's role is ${role}${because}`, remove);
        }
        if (known.secret && !secretKeys.has(key)) {
            throw new ConfigError(key, "[plaintext]", "holds a credential but is stored in plain text",
                `store it as a secret: \`pulumi config set --secret ${key} < file\``);
        }
    }
}
