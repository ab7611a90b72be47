// A remote's view of its primary: the primary stack's outputs (and a multi-primary mesh's other
// primaries'), read through StackReferences, and the checks of the remote's config against them.
import * as pulumi from "@pulumi/pulumi";
import {
    Istio10RemoteConfig, IstiodRemoteConfig, MeshIdentity, MeshModel, MultiPrimaryRemoteConfig, PeerRef, PrimaryRemoteRemoteConfig, RemoteConfig,
} from "./config";
import { ConfigError } from "./errors";
import { checkOverlap, noMultiPrimaryCa, requireCaBundle } from "./meshRules";
import { Istio10PrimaryOutputs, IstiodPrimaryOutputs, MultiPrimaryPrimaryOutputs, PrimaryOutputs, PrimaryRemotePrimaryOutputs } from "./outputs";
import { CaBundle, certificateFingerprint } from "./pki";
import { stackNames } from "./stacks";
import { SecuritySettings } from "./values";

/** Each model's primary outputs a remote cannot join without, then those that may be absent. */
const OUTPUTS_OF: Record<MeshModel, { required: readonly string[]; optional: readonly string[] }> = {
    "istio-1.0": {
        required: ["pilotAddress", "policyAddress", "telemetryAddress", "zipkinAddress",
            "istioNamespace", "controlPlaneSecurityEnabled", "mtlsEnabled", "selfSignedCa"],
        optional: ["statsdAddress", "podCidr", "serviceCidr", "rootCertFingerprint"],
    },
    "primary-remote": {
        required: ["meshModel", "meshID", "clusterName", "network", "istioNamespace", "discoveryAddress"],
        optional: ["injectionAddress", "eastWestGatewayAddress", "podCidr", "serviceCidr", "rootCertFingerprint", "caCertExpiry"],
    },
    "multi-primary": {
        required: ["meshModel", "meshID", "clusterName", "network", "istioNamespace", "readerKubeconfig"],
        optional: ["eastWestGatewayAddress", "podCidr", "serviceCidr", "rootCertFingerprint", "caCertExpiry", "caIssuedFor", "peerCas"],
    },
};

/**
 * Reads the primary stack's outputs through a StackReference and waits for them, so that a
 * remote's checks against the primary run before the remote registers anything. Secret outputs
 * stay secret: they come back as secret Outputs.
 */
export async function readPrimaryOutputs(primaryStack: string): Promise<PrimaryOutputs> {
    const notDeployed = (why: string) => new ConfigError("primaryStack", primaryStack, why,
        "run `pulumi up -s primary` first (or point primaryStack at the primary's stack, e.g. `pulumi config set primaryStack primary`)");
    const read = await outputReader("primary", primaryStack, notDeployed);
    // A primary deployed before models existed exports no meshModel: it runs Istio 1.0's flow.
    const meshModel = ((await read("meshModel")) ?? "istio-1.0") as MeshModel;
    const expected = OUTPUTS_OF[meshModel];
    if (!expected) {
        throw notDeployed(`the primary exports meshModel ${JSON.stringify(meshModel)}, which this program does not know`);
    }
    const values: Record<string, unknown> = { meshModel };
    for (const name of [...expected.required, ...expected.optional]) {
        values[name] ??= await read(name);
    }
    const missing = expected.required.filter((name) => values[name] === undefined || values[name] === "");
    if (missing.length === expected.required.length) {
        throw notDeployed("the primary stack has no endpoint outputs: it has never been deployed");
    }
    if (missing.length > 0) {
        throw notDeployed(`the primary stack lacks the outputs ${missing.join(", ")}`);
    }
    return values as unknown as PrimaryOutputs;
}

/**
 * Reads one output of another stack, secret outputs as secret Outputs; a stack that cannot be read
 * is reported through `fail`.
 */
export async function outputReader(name: string, stack: string, fail: (why: string) => Error): Promise<(output: string) => Promise<unknown>> {
    const known = await existingStacks();
    const unknown = () => fail(`no such stack exists; ${known ? `the stacks there are: ${known.join(", ") || "none"}` : "`pulumi stack ls` lists the stacks there are"}`);
    // Checked before the reference is registered: once the engine has failed to read a stack, it
    // ends the run with its own message and this program's is never shown.
    const [project, shortName] = stack.split("/").slice(-2);
    if (known && (shortName === undefined || project === pulumi.getProject()) && !known.includes(shortName ?? stack)) {
        throw unknown();
    }
    const ref = new pulumi.StackReference(name, { name: stack });
    return async (output: string) => {
        let details: pulumi.StackReferenceOutputDetails;
        try {
            details = await ref.getOutputDetails(output);
        } catch (err) {
            const cause = (err as Error).message.split("\n")[0];
            throw /unknown stack/i.test(cause) ? unknown() : fail(`the stack could not be read (${cause})`);
        }
        return details.secretValue !== undefined ? pulumi.secret(details.secretValue) : details.value;
    };
}

let stackList: Promise<string[] | undefined> | undefined;

/** This project's stacks (listed once per run); undefined when they cannot be listed (no Pulumi CLI on PATH). */
function existingStacks(): Promise<string[] | undefined> {
    stackList ??= stackNames(process.cwd()).catch(() => undefined);
    return stackList;
}

/** The outputs of another primary of a multi-primary mesh that this one reads. */
export const PEER_OUTPUTS = ["meshModel", "meshID", "clusterName", "istioNamespace", "kubeconfig"] as const;

/** Another primary of a multi-primary mesh, as its stack exports it. */
export interface PeerOutputs {
    /** Its cluster name. */
    readonly clusterName: string;
    /** Its Istio namespace. */
    readonly istioNamespace: string;
    /** Its reader account's kubeconfig (a secret). */
    readonly readerKubeconfig: pulumi.Output<string>;
}

/**
 * Reads another primary of this multi-primary mesh and checks it belongs to it: a deployed
 * multi-primary stack of the same meshID, with a cluster name of its own.
 */
async function readPeerOutputs(peer: PeerRef, mesh: MeshIdentity, taken: string[]): Promise<PeerOutputs> {
    const fail = (why: string) => new ConfigError("peers", peer.stack, why,
        "deploy that primary first, or remove it from peers");
    const read = await outputReader(`peer-${peer.stack}`, peer.stack, fail);
    const [meshModel, meshID, clusterName, istioNamespace, kubeconfig] =
        await Promise.all(PEER_OUTPUTS.map(read));
    if (meshModel !== "multi-primary" || kubeconfig === undefined || istioNamespace === undefined) {
        throw fail(meshModel === undefined ? "the stack has no outputs: it has never been deployed"
            : `it is not a deployed primary of a multi-primary mesh (meshModel ${JSON.stringify(meshModel)})`);
    }
    if (meshID !== mesh.meshID) {
        throw fail(`it is in mesh ${JSON.stringify(meshID)}, this cluster in ${mesh.meshID}`);
    }
    if (taken.includes(clusterName as string)) {
        throw fail(`its cluster name ${clusterName} is already this cluster's or another primary's`);
    }
    return { clusterName: clusterName as string, istioNamespace: istioNamespace as string, readerKubeconfig: kubeconfig as pulumi.Output<string> };
}

/** Reads and checks each of `peers` in turn; `taken` are the cluster names already in the mesh. */
export async function readPeers(peers: PeerRef[], mesh: MeshIdentity, taken: string[]): Promise<Array<PeerRef & PeerOutputs>> {
    const read: Array<PeerRef & PeerOutputs> = [];
    for (const peer of peers) {
        read.push({ ...peer, ...await readPeerOutputs(peer, mesh, [...taken, ...read.map((p) => p.clusterName)]) });
    }
    return read;
}

/** A remote's config and its primary's outputs, of one model. */
export type Join =
    | { readonly model: "istio-1.0"; readonly config: Istio10RemoteConfig; readonly primary: Istio10PrimaryOutputs }
    | { readonly model: "primary-remote"; readonly config: PrimaryRemoteRemoteConfig; readonly primary: PrimaryRemotePrimaryOutputs }
    | { readonly model: "multi-primary"; readonly config: MultiPrimaryRemoteConfig; readonly primary: MultiPrimaryPrimaryOutputs };

/** A remote joins its primary's mesh the way that mesh is built: the models must be the same. */
export function joinOf(remote: RemoteConfig, primary: PrimaryOutputs): Join {
    if (remote.meshModel !== primary.meshModel) {
        throw new ConfigError("meshModel", remote.meshModel, `differs from the primary's (${primary.meshModel}); ` +
            "a remote joins its primary's mesh the way that mesh is built",
            `set it to ${primary.meshModel} (\`pulumi config set meshModel ${primary.meshModel}\`), or point primaryStack at a ${remote.meshModel} primary`);
    }
    return { model: remote.meshModel, config: remote, primary } as Join;
}

/**
 * Checks that a remote's mesh agrees with its istiod primary's, before anything is made: the same
 * meshID, a cluster name of its own, and the primary's network unless both have east-west
 * gateways. Returns the remote's mesh identity.
 */
export function checkMeshAgainstPrimary(remote: IstiodRemoteConfig, primary: IstiodPrimaryOutputs): MeshIdentity {
    const mine = remote.mesh;
    if (mine.meshID !== undefined && mine.meshID !== primary.meshID) {
        throw new ConfigError("meshID", mine.meshID, `differs from the primary's (${primary.meshID}); every cluster of a mesh has its meshID`,
            `set it to ${primary.meshID}, or remove it to inherit the primary's`);
    }
    const network = mine.network ?? primary.network;
    if (network !== primary.network && !(remote.eastWestGateway && primary.eastWestGatewayAddress)) {
        const missing = [remote.eastWestGateway ? undefined : "this stack", primary.eastWestGatewayAddress ? undefined : "the primary's"]
            .filter((s) => s !== undefined).join(" and ");
        throw new ConfigError("network", network, `differs from the primary's (${primary.network}); clusters on different ` +
            `networks reach each other only through east-west gateways, and ${missing} ${missing.includes(" and ") ? "have" : "has"} none`,
            `set eastWestGateway to true on ${missing}, or remove network to put the cluster on the primary's`);
    }
    if (remote.clusterName === primary.clusterName) {
        throw new ConfigError("clusterName", remote.clusterName, "is the primary's cluster name; every cluster of a mesh needs its own",
            "set another name, e.g. `pulumi config set clusterName remote-a`");
    }
    if (remote.meshModel === "multi-primary" && primary.meshModel === "multi-primary") {
        requireMeshCa(remote, primary);
    }
    checkRanges(remote, primary);
    return { meshID: primary.meshID, network, clusterName: remote.clusterName };
}

/**
 * Checks an Istio 1.0 remote's config against the primary it joins (named `primaryName`): a name
 * of its own, ranges that do not overlap, the same security switches, and a CA bundle must share the primary's root.
 * Returns the security settings the remote's chart gets: the primary's.
 */
export function checkRemoteAgainstPrimary(remote: Istio10RemoteConfig, primary: Istio10PrimaryOutputs, primaryName: string): SecuritySettings {
    if (remote.clusterName === primaryName) {
        throw new ConfigError("clusterName", remote.clusterName, "is the primary's name (its stack's); every cluster of a mesh needs its own",
            "set another name, e.g. `pulumi config set clusterName remote-a`");
    }
    checkRanges(remote, primary);
    const settings: SecuritySettings = {
        controlPlaneSecurityEnabled: primary.controlPlaneSecurityEnabled,
        mtlsEnabled: primary.mtlsEnabled,
        selfSignedCa: primary.selfSignedCa,
    };
    const keyOf: Record<keyof SecuritySettings, string> = {
        controlPlaneSecurityEnabled: "controlPlaneSecurityEnabled", mtlsEnabled: "mtls", selfSignedCa: "selfSignedCa",
    };
    for (const field of Object.keys(keyOf) as Array<keyof SecuritySettings>) {
        const mine = remote.security[field];
        if (mine !== undefined && mine !== settings[field]) {
            throw new ConfigError(keyOf[field], mine, `differs from the primary's (${settings[field]}); ` +
                "every cluster of a mesh must run with the same security settings",
                `set it to ${settings[field]}, or remove it to inherit the primary's`);
        }
    }
    if (settings.selfSignedCa && (settings.mtlsEnabled || settings.controlPlaneSecurityEnabled)) {
        const what = settings.mtlsEnabled ? "mtls" : "controlPlaneSecurityEnabled";
        throw new ConfigError("selfSignedCa", true, `the primary runs ${what} with a self-signed CA, and a self-signed ` +
            "Citadel mints a root of its own in every cluster, so the two clusters' certificates could not verify each other",
            "give the primary and every remote a `cacerts` from one root and set selfSignedCa to false on the primary " +
            "(`pulumi config set --path cacerts.dir ./certs/<cluster>`)");
    }
    if (!settings.selfSignedCa) {
        requireCaBundle(remote.caBundle);
        requireSharedRoot(remote.caBundle, primary.rootCertFingerprint);
    }
    return settings;
}

/** The remote's ranges may not overlap the primary's. */
function checkRanges(remote: RemoteConfig, primary: { podCidr?: string; serviceCidr?: string }): void {
    const primaryRanges: Array<[string, string | undefined]> = [
        ["the primary's podCidr", primary.podCidr], ["the primary's serviceCidr", primary.serviceCidr],
    ];
    for (const [key, range] of [["podCidr", remote.podCidr], ["serviceCidr", remote.serviceCidr]] as const) {
        for (const [otherName, otherRange] of primaryRanges) {
            if (range && otherRange) {
                checkOverlap(key, range, otherName, otherRange);
            }
        }
    }
}

/** The remote's CA must chain to the primary's root. */
function requireSharedRoot(caBundle: CaBundle, primaryRoot: string | undefined): void {
    const mine = certificateFingerprint(caBundle.rootCert);
    if (primaryRoot && mine !== primaryRoot) {
        throw new ConfigError("cacerts", "[root-cert.pem]", `its root (SHA-256 ${mine}) is not the primary's ` +
            `(${primaryRoot}); workloads of the two clusters would not trust each other`,
            "use a CA signed by the same root as the primary's cacerts");
    }
}

/**
 * A multi-primary peer signs with its own `cacerts`, of the primary's root, or else with the
 * intermediate the primary's CA issued for it (the primary lists it in `ca.peers`).
 */
function requireMeshCa(remote: MultiPrimaryRemoteConfig, primary: MultiPrimaryPrimaryOutputs): void {
    if (remote.caBundle !== undefined) {
        requireSharedRoot(remote.caBundle, primary.rootCertFingerprint);
        return;
    }
    if (primary.caIssuedFor?.includes(remote.clusterName)) {
        return;
    }
    throw noMultiPrimaryCa(`every cluster of a multi-primary mesh runs its own istiod, and the primary's CA issues no intermediate for ${remote.clusterName}`,
        primary.caIssuedFor === undefined
            ? "give this cluster an intermediate CA of the primary's root: `pulumi config set --path cacerts.dir ./certs/<cluster>`"
            : `add it to the primary's peers (\`pulumi config set --path 'ca.peers[${primary.caIssuedFor.length}]' ${remote.clusterName} -s <primary>\`) ` +
                "and run `pulumi up` on the primary first, or give this cluster a cacerts of the primary's root");
}