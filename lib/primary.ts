import * as pulumi from "@pulumi/pulumi";
import { checkOverlap, RemoteConfig, requireCaBundle } from "./config";
import { certificateFingerprint } from "./pki";
import { ConfigError } from "./errors";
import { PrimaryEndpoints, SecuritySettings } from "./values";

/** The primary's outputs a remote cannot join without (SPEC §4). */
const REQUIRED_OUTPUTS = [
    "pilotAddress", "policyAddress", "telemetryAddress", "zipkinAddress",
    "istioNamespace", "controlPlaneSecurityEnabled", "mtlsEnabled", "selfSignedCa",
] as const;

/** The primary's outputs that may be absent. */
const OPTIONAL_OUTPUTS = ["statsdAddress", "podCidr", "serviceCidr", "rootCertFingerprint"] as const;

/** The primary's contract outputs, plus the fingerprint of its CA root when it uses cacerts. */
export type PrimaryOutputs = PrimaryEndpoints & { readonly rootCertFingerprint?: string };

/**
 * Reads the primary stack's outputs through a StackReference and waits for them, so that a
 * remote's checks against the primary run before the remote registers anything.
 */
export async function readPrimaryOutputs(primaryStack: string): Promise<PrimaryOutputs> {
    const ref = new pulumi.StackReference("primary", { name: primaryStack });
    const notDeployed = (why: string) => new ConfigError("primaryStack", primaryStack, why,
        "run `pulumi up -s primary` first (or point primaryStack at the primary's stack, e.g. organization/istio-multicluster/primary)");
    const values: Record<string, unknown> = {};
    for (const name of [...REQUIRED_OUTPUTS, ...OPTIONAL_OUTPUTS]) {
        let details: pulumi.StackReferenceOutputDetails;
        try {
            details = await ref.getOutputDetails(name);
        } catch (err) {
            throw notDeployed(`the stack could not be read (${(err as Error).message.split("\n")[0]})`);
        }
        values[name] = details.value ?? details.secretValue;
    }
    const missing = REQUIRED_OUTPUTS.filter((name) => values[name] === undefined || values[name] === "");
    if (missing.length === REQUIRED_OUTPUTS.length) {
        throw notDeployed("the primary stack has no endpoint outputs: it has never been deployed");
    }
    if (missing.length > 0) {
        throw notDeployed(`the primary stack lacks the outputs ${missing.join(", ")}`);
    }
    return values as unknown as PrimaryOutputs;
}

/**
 * Checks a remote's config against the primary it joins: ranges must not overlap (S1), the
 * security switches must agree (S16, S17), and a CA bundle must share the primary's root.
 * Returns the security settings the remote's chart gets: the primary's.
 */
export function checkRemoteAgainstPrimary(remote: RemoteConfig, primary: PrimaryOutputs): SecuritySettings {
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
    if (!settings.selfSignedCa) {
        requireCaBundle(remote.caBundle);
        const mine = certificateFingerprint(remote.caBundle.rootCert);
        if (primary.rootCertFingerprint && mine !== primary.rootCertFingerprint) {
            throw new ConfigError("cacerts", "[root-cert.pem]", `its root (SHA-256 ${mine}) is not the primary's ` +
                `(${primary.rootCertFingerprint}); workloads of the two clusters would not trust each other`,
                "use a CA signed by the same root as the primary's cacerts");
        }
    }
    return settings;
}
