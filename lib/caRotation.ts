// The checks of a step of a root rotation of the CA the program makes (ca.root, ca.trustRoots),
// against what the last deployment trusted and signed with: a root is used only once every
// cluster trusts it, and dropped only once no cluster's intermediate chains to it any more.
import * as pulumi from "@pulumi/pulumi";
import { trustedRoots } from "./ca";
import { CaGeneration, IstiodPrimaryConfig } from "./config";
import { ConfigError } from "./errors";
import { LastDeployment } from "./lastDeployment";
import { outputReader } from "./primary";

/** What the primary's last deployment exported of the CA it made; all absent before its first. */
export interface DeployedCa {
    /** The generation of the root that signed the intermediates. */
    readonly root?: number;
    /** The root generations the mesh trusted. */
    readonly trustedRoots?: number[];
    /** SHA-256 of the root that signed the intermediates. */
    readonly rootFingerprint?: string;
}

/**
 * Refuses a root rotation step that would drop requests, before anything changes: signing with a
 * root the mesh does not trust yet (its proxies would refuse the new certificates), and dropping a
 * root while an intermediate still chains to it, the primary's own (signed with at the last
 * deployment) or a peer's (`peerChainRoot` reads the root a peer's deployed intermediate chains to,
 * as its stack last exported it; undefined when that cannot be read).
 */
export async function checkRootRotation(
    ca: CaGeneration, deployed: DeployedCa, peerChainRoot: (cluster: string) => Promise<string | undefined>,
): Promise<void> {
    if (deployed.trustedRoots === undefined) {
        return; // the first deployment of a generated CA: nothing trusts anything yet
    }
    const trusted = trustedRoots(ca);
    const wasTrusted = deployed.trustedRoots;
    if (!wasTrusted.includes(ca.root)) {
        throw new ConfigError("ca.root", ca.root, `root ${ca.root} is not trusted in the mesh yet (it trusts ${wasTrusted.join(", ")}): ` +
            "workloads whose certificates it signed would be refused by proxies that do not trust it",
            `add it first: set ca.trustRoots to [${ca.root}] with ca.root ${deployed.root}, run \`pulumi up\` on this stack and every peer, then switch`);
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
        const chainRoot = await peerChainRoot(peer);
        if (chainRoot === undefined || chainRoot !== deployed.rootFingerprint) {
            throw new ConfigError("ca.trustRoots", shown, `drops root ${dropped.join(", ")}, and ${peer}'s intermediate ` +
                (chainRoot === undefined ? "could not be confirmed to have moved off it (its stack exports no caChainRootFingerprint)"
                    : `still chains to it (its stack's last deployment ends its chain at ${chainRoot})`),
                `run \`pulumi up -s ${peer}\` first, so that it signs with its intermediate of root ${ca.root}; then drop the root here`);
        }
    }
}

/**
 * Checks this istiod primary's CA config against its last deployment (a root rotation's step);
 * a peer's deployed chain is read from its stack, named as its cluster in this organization and
 * project, only when a root is being dropped.
 */
export async function checkCaRotation(config: IstiodPrimaryConfig, last: LastDeployment): Promise<void> {
    const ca = config.generatedCa;
    if (ca === undefined) {
        return;
    }
    const deployed: DeployedCa = {
        root: await last.output("caRoot") as number | undefined,
        trustedRoots: await last.output("caTrustedRoots") as number[] | undefined,
        rootFingerprint: await last.output("rootCertFingerprint") as string | undefined,
    };
    await checkRootRotation(ca, deployed, async (peer) => {
        const stack = `${pulumi.getOrganization()}/${pulumi.getProject()}/${peer}`;
        try {
            const read = await outputReader(`ca-peer-${peer}`, stack, (why) => new Error(why));
            return await read("caChainRootFingerprint") as string | undefined;
        } catch {
            return undefined;
        }
    });
}
