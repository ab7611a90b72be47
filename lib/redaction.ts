// Secret config values never leave the program in an error message, whichever check quoted them.
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
