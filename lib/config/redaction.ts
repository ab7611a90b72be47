// Secret config values stay secret: never in an error message, whichever check quoted them, and
// registered as secrets wherever a user's values carry them (a chart's values).
import * as pulumi from "@pulumi/pulumi";
import { isConfigSecret } from "./configKeys";
import { redactSecrets, withoutStack } from "./errors";

/** The values of this stack's secret config (each leaf string of a structured secret too). */
export function secretConfigValues(): string[] {
    const leaves = (value: unknown): string[] => typeof value === "string" ? [value]
        : typeof value === "object" && value !== null ? Object.values(value).flatMap(leaves) : [];
    return Object.entries(pulumi.runtime.allConfig()).filter(([key]) => isConfigSecret(key)).flatMap(([, value]) => {
        try {
            return [value, ...leaves(JSON.parse(value))];
        } catch {
            return [value];
        }
    });
}

/**
 * `value` as a Pulumi secret when any string in it is this stack's secret config (or a leaf of a
 * structured one); otherwise unchanged. For what a user's values reach, such as a chart's values:
 * Pulumi keeps an input secret only when it arrives as one, and a merged plain object has lost
 * the mark.
 */
export function secretIfConfigSecret<T>(value: T): pulumi.Input<T> {
    const secrets = new Set(secretConfigValues());
    const strings = (v: unknown): string[] => typeof v === "string" ? [v]
        : typeof v === "object" && v !== null ? Object.values(v).flatMap(strings) : [];
    return secrets.size > 0 && strings(value).some((s) => secrets.has(s)) ? pulumi.secret(value) as pulumi.Output<T> : value;
}

/**
 * Runs the program; an error it throws leaves with every secret config value in its message
 * replaced by `[secret]`, whatever path quoted it.
 */
export async function redactingSecrets<T>(program: () => Promise<T>): Promise<T> {
    try {
        return await program();
    } catch (err) {
        const message = (err as Error).message ?? String(err);
        const redacted = redactSecrets(message, secretConfigValues());
        if (redacted === message) {
            throw err;
        }
        // A RunError prints its message alone; any other error's stack would quote the message again.
        throw withoutStack(new pulumi.RunError(redacted));
    }
}
