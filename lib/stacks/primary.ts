// A remote's view of its primary: the primary stack's outputs (and a multi-primary mesh's other
// primaries'), read through StackReferences. The checks of a remote's config against them are in join.ts.
import * as pulumi from "@pulumi/pulumi";
import { MeshIdentity, MeshModel, PeerRef } from "../config/config";
import { ConfigError } from "../config/errors";
import { PrimaryOutputs } from "./outputs";
import { stackNames } from "./stacks";

/** Each model's primary outputs a remote cannot join without, then those that may be absent. */
const OUTPUTS_OF: Record<MeshModel, { required: readonly string[]; optional: readonly string[] }> = {
    "istio-1.0": {
        required: ["pilotAddress", "policyAddress", "telemetryAddress", "zipkinAddress",
            "istioNamespace", "controlPlaneSecurityEnabled", "mtlsEnabled", "selfSignedCa"],
        optional: ["statsdAddress", "podCidr", "serviceCidr", "rootCertFingerprint"],
    },
    "primary-remote": {
        required: ["meshModel", "meshID", "clusterName", "network", "istioNamespace", "discoveryAddress"],
        optional: ["injectionAddress", "eastWestGatewayAddress", "podCidr", "serviceCidr", "rootCertFingerprint", "caCertExpiry",
            "revisions", "revisionTags"],
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
