import * as pulumi from "@pulumi/pulumi";

/**
 * A configuration mistake, reported before any resource is registered. The message always names
 * the key, the offending value and what to do about it, so that `pulumi preview` tells the user
 * everything needed to fix it in one line. A RunError, so Pulumi prints the message alone, without
 * a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(
        /** The config key, without the project prefix (e.g. `clusterName`). */
        readonly key: string,
        /** The offending value as the user wrote it, or undefined when the key is missing. */
        readonly value: unknown,
        /** What is wrong with it. */
        readonly problem: string,
        /** What to do about it. */
        readonly fix: string,
    ) {
        super(`istio-multicluster:${key} ${describeValue(value)}: ${problem}. Fix: ${fix}`);
        this.name = "ConfigError";
    }
}

function describeValue(value: unknown): string {
    if (value === undefined) {
        return "is not set";
    }
    return `= ${JSON.stringify(value)}`;
}
