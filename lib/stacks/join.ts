// A remote joining its primary's mesh: the checks of the remote's config against the primary's
// outputs (the same model, meshID, network and CA root, ranges that do not overlap), before
// anything is made.
import {
    Istio10RemoteConfig, IstiodRemoteConfig, MeshIdentity, MultiPrimaryRemoteConfig, PrimaryRemoteRemoteConfig, RemoteConfig, RevisionConfig,
} from "../config/config";
import { ConfigError } from "../config/errors";
import { checkOverlap, noMultiPrimaryCa, requireCaBundle } from "../config/meshRules";
import { Istio10PrimaryOutputs, IstiodPrimaryOutputs, MultiPrimaryPrimaryOutputs, PrimaryOutputs, PrimaryRemotePrimaryOutputs } from "./outputs";
import { CaBundle, certificateFingerprint } from "../ca/pki";
import { chartsVersion } from "../istio/images";
import { asRevision } from "../istio/revisionConfig";
import { dataPlaneAheadProblem, isAhead, NO_VERSION, revisionVersion } from "../istio/revisions";
import { SecuritySettings } from "../istio/values";

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
    if (primary.meshModel === "primary-remote" && primary.revisions !== undefined) {
        checkNotAheadOfRevisions(remote, primary.revisions);
    }
    return { meshID: primary.meshID, network, clusterName: remote.clusterName };
}

/**
 * A remote of a revisioned primary installs each revision from the revision's charts; its own charts
 * (its east-west gateway's) may not be of a later Istio than the newest revision serving it.
 */
function checkNotAheadOfRevisions(remote: IstiodRemoteConfig, revisions: readonly RevisionConfig[]): void {
    const version = chartsVersion(remote.chart);
    const newest = revisions.map(asRevision)
        // The last listed among those no other is ahead of: the canary, as revisions are listed oldest first.
        .reduce((a, b) => (isAhead(revisionVersion(a) ?? NO_VERSION, revisionVersion(b) ?? NO_VERSION) ? a : b));
    const problem = version === undefined ? undefined
        : dataPlaneAheadProblem(remote.chart.kind === "dir" ? "chartDir" : "chartVersion", version, newest);
    if (problem !== undefined) {
        throw new ConfigError(problem.key, problem.value, problem.problem, problem.fix);
    }
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