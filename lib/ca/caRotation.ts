// The checks of a change to the CA of a deployed istiod primary, against what its last deployment
// exported: a root is used only once every cluster trusts it, dropped only once no cluster's
// intermediate chains to it any more, and never swapped for another in one step.
import { trustedRoots } from "./ca";
import { CaGeneration, IstiodPrimaryConfig } from "../config/config";
import { ConfigError } from "../config/errors";
import { LastDeployment } from "../stacks/lastDeployment";
import { outputReader } from "../stacks/primary";

/** What the primary's last deployment exported of the CA it made; all absent before its first. */
export interface DeployedCa {
    /** The generation of the root that signed the intermediates. */
    readonly root?: number;
    /** The root generations the mesh trusted. */
    readonly trustedRoots?: number[];
    /** SHA-256 of the root that signed the intermediates. */
    readonly rootFingerprint?: string;
    /** SHA-256 of each root the mesh trusted, by generation. */
    readonly rootFingerprints?: Record<string, string>;
}

/** What a peer primary's stack last exported of its CA; undefined fields where it exported none. */
export interface PeerCa {
    /** SHA-256 of the root its deployed intermediate's chain ends at. */
    readonly chainRoot?: string;
    /** SHA-256 of each root its cluster trusts. */
    readonly trustedRoots?: string[];
}

/**
 * Refuses a root rotation step that would drop requests, before anything changes: signing with a
 * root the mesh does not trust yet, or that a peer's cluster has not been told to trust (its
 * proxies would refuse the new certificates), and dropping a root while an intermediate still
 * chains to it, the primary's own (signed with at the last deployment) or a peer's. `readPeer`
 * reads what a peer's stack last exported (undefined when it cannot be read).
 */
export async function checkRootRotation(
    ca: CaGeneration, deployed: DeployedCa, readPeer: (cluster: string) => Promise<PeerCa | undefined>,
): Promise<void> {
    if (deployed.trustedRoots === undefined) {
        return; // the first deployment of a generated CA: nothing trusts anything yet
    }
    const trusted = trustedRoots(ca);
    const wasTrusted = deployed.trustedRoots;
    const peerUp = (peer: string) => `\`pulumi up -s ${ca.peerStacks[peer]}\``;
    const peerStackHint = (peer: string) => `(if ${peer}'s stack is named otherwise, name it: \`pulumi config set --path ca.peerStacks.${peer} <stack>\`)`;
    if (!wasTrusted.includes(ca.root)) {
        throw new ConfigError("ca.root", ca.root, `root ${ca.root} is not trusted in the mesh yet (it trusts ${wasTrusted.join(", ")}): ` +
            "workloads whose certificates it signed would be refused by proxies that do not trust it",
            `add it first: set ca.trustRoots to [${ca.root}] with ca.root ${deployed.root}, run \`pulumi up\` on this stack and every peer, then switch`);
    }
    if (deployed.root !== undefined && ca.root !== deployed.root) {
        // Signing with another root: each peer's cluster must trust it already, or its proxies refuse
        // the certificates this cluster's istiod signs from now on.
        const fingerprint = deployed.rootFingerprints?.[String(ca.root)];
        if (fingerprint === undefined && ca.peers.length > 0) {
            throw new ConfigError("ca.root", ca.root, `this stack's last deployment exported no fingerprint of root ${ca.root}, ` +
                "so whether the peers trust it cannot be checked",
                `run \`pulumi up\` on this stack once more with ca.root ${deployed.root}, then switch`);
        }
        for (const peer of ca.peers) {
            const peerTrusts = (await readPeer(peer))?.trustedRoots;
            if (peerTrusts === undefined || !peerTrusts.includes(fingerprint!)) {
                throw new ConfigError("ca.root", ca.root, `signs with root ${ca.root}, which ${peer} ` +
                    (peerTrusts === undefined ? "could not be confirmed to trust (its stack exports no caTrustedRootFingerprints)"
                        : "does not trust yet (its stack's last deployment trusts only the roots it had before)") +
                    `: ${peer}'s proxies would refuse the certificates signed from now on`,
                    `run ${peerUp(peer)} first, so that its cluster trusts root ${ca.root} too; then switch here ${peerStackHint(peer)}`);
            }
        }
    }
    const dropped = wasTrusted.filter((g) => !trusted.includes(g));
    if (dropped.length === 0) {
        return;
    }
    const shown = `[${ca.trustRoots.join(", ")}]`;
    if (deployed.root !== undefined && dropped.includes(deployed.root)) {
        throw new ConfigError("ca.trustRoots", shown, `drops root ${deployed.root}, which the intermediates were signed with at the last ` +
            "deployment: workloads whose certificates chain to it would be refused",
            `switch first: set ca.root to ${ca.root} keeping ca.trustRoots [${deployed.root}], run \`pulumi up\` on this stack and every peer, then drop it`);
    }
    for (const peer of ca.peers) {
        const chainRoot = (await readPeer(peer))?.chainRoot;
        if (chainRoot === undefined || chainRoot !== deployed.rootFingerprint) {
            throw new ConfigError("ca.trustRoots", shown, `drops root ${dropped.join(", ")}, and ${peer}'s intermediate ` +
                (chainRoot === undefined ? "could not be confirmed to have moved off it (its stack exports no caChainRootFingerprint)"
                    : `still chains to it (its stack's last deployment ends its chain at ${chainRoot})`),
                `run ${peerUp(peer)} first, so that it signs with its intermediate of root ${ca.root}; then drop the root here ${peerStackHint(peer)}`);
        }
    }
}

/**
 * Refuses swapping a deployed primary's CA for another kind in one step: from `cacerts` (or
 * istiod's own self-signed root) to a generated CA, or back. Either replaces the root every
 * workload certificate chains to at once, so that until all are re-issued the clusters refuse
 * each other's (and, before the proxies restart, their own) workloads.
 */
export function checkCaSwitch(config: IstiodPrimaryConfig, deployedBefore: boolean, deployed: DeployedCa): void {
    if (!deployedBefore) {
        return;
    }
    const wasGenerated = deployed.trustedRoots !== undefined;
    const deployedRoot = deployed.rootFingerprint === undefined ? "istiod's own self-signed root" : `the root of its cacerts (${deployed.rootFingerprint})`;
    if (config.generatedCa !== undefined && !wasGenerated) {
        throw new ConfigError("ca.generate", true, `this primary was deployed with ${deployedRoot}; a generated CA would replace the ` +
            "mesh's root in one step, and every workload certificate issued under the old one would be refused until re-issued",
            "keep the CA it was deployed with (remove ca" + (deployed.rootFingerprint === undefined ? ")" : " and set cacerts as before)") +
            ", or take the mesh down (`mesh down`) and deploy it anew with ca.generate");
    }
    if (config.generatedCa === undefined && wasGenerated) {
        const now = config.caBundle === undefined ? "istiod's own self-signed root" : "the root of cacerts";
        throw new ConfigError("ca", undefined,
            `this primary's mesh trusts the root the program made (ca.generate, root ${deployed.root}); switching to ${now} would ` +
            "replace it in one step, and every workload certificate issued under it would be refused until re-issued",
            "keep ca.generate (`pulumi config set --path ca.generate true`), or take the mesh down (`mesh down`) and deploy it anew");
    }
}

/**
 * Checks this istiod primary's CA config against its last deployment: no swap of the kind of CA,
 * and each step of a root rotation safe. A peer's stack (`ca.peerStacks`, by default named as its
 * cluster) is read only when a step depends on it.
 */
export async function checkCaRotation(config: IstiodPrimaryConfig, last: LastDeployment): Promise<void> {
    const deployed: DeployedCa = {
        root: await last.output("caRoot") as number | undefined,
        trustedRoots: await last.output("caTrustedRoots") as number[] | undefined,
        rootFingerprint: await last.output("rootCertFingerprint") as string | undefined,
        rootFingerprints: await last.output("caRootFingerprints") as Record<string, string> | undefined,
    };
    checkCaSwitch(config, last.deployedBefore, deployed);
    const ca = config.generatedCa;
    if (ca === undefined) {
        return;
    }
    // Each peer's stack read once (its StackReference has one name), however many checks ask.
    const peers = new Map<string, Promise<PeerCa | undefined>>();
    const readPeer = async (peer: string): Promise<PeerCa | undefined> => {
        try {
            const read = await outputReader(`ca-peer-${peer}`, ca.peerStacks[peer], (why) => new Error(why));
            return {
                chainRoot: await read("caChainRootFingerprint") as string | undefined,
                trustedRoots: await read("caTrustedRootFingerprints") as string[] | undefined,
            };
        } catch {
            return undefined;
        }
    };
    await checkRootRotation(ca, deployed, (peer) => {
        if (!peers.has(peer)) {
            peers.set(peer, readPeer(peer));
        }
        return peers.get(peer)!;
    });
}
