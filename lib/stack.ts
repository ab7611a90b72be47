import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CONFIG_NAMESPACE, parseStackConfig, RemoteConfig, StackConfig, withoutProjectDefaults } from "./config";
import { ConfigError } from "./errors";
import { kubeconfigTextOf, serverOfContext } from "./kubeconfig";

// The SDK exports this at run time but leaves it out of its type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

/** Reads and validates this stack's config; throws a ConfigError before anything is registered. */
export function readStackConfig(): StackConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(prefix)) {
            const key = fullKey.slice(prefix.length);
            raw[key] = value;
            if (isConfigSecret(fullKey)) {
                secretKeys.add(key);
            }
        }
    }
    const projectDir = process.cwd();
    return parseStackConfig(withoutProjectDefaults(raw, projectDefaults(projectDir)), pulumi.getStack(), secretKeys, projectDir);
}

/** The defaults Pulumi.yaml declares for the project's config keys. */
export function projectDefaults(projectDir: string): Record<string, unknown> {
    const project = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as
        { config?: Record<string, { default?: unknown }> };
    return Object.fromEntries(Object.entries(project.config ?? {})
        .filter(([, spec]) => spec.default !== undefined).map(([key, spec]) => [key, spec.default]));
}

/**
 * The API server URL the primary's Pilot dials to read a remote: `apiServerAddress` when set,
 * else the server of the remote's kubeconfig context.
 */
export function apiServerFor(
    config: Pick<RemoteConfig, "apiServerAddress" | "cluster">, kubeconfigText = kubeconfigTextOf(config.cluster),
): string {
    if (config.apiServerAddress) {
        return /^https?:\/\//.test(config.apiServerAddress) ? config.apiServerAddress : `https://${config.apiServerAddress}`;
    }
    const found = kubeconfigText === undefined
        ? { problem: "no kubeconfig was found ($KUBECONFIG, ~/.kube/config)" }
        : serverOfContext(kubeconfigText, config.cluster.kubeContext);
    if (!found.server) {
        throw new ConfigError("apiServerAddress", undefined,
            `this cluster's API server address could not be taken from its kubeconfig: ${found.problem}`,
            "set apiServerAddress to the address the other clusters' control planes reach this cluster's API server at");
    }
    return found.server;
}

/**
 * Whether this stack's last deployment exported `output`: tells a preview whether the objects it
 * would read already exist. Outside a preview the program reads after applying, so always true.
 */
export async function deployedBefore(output: string): Promise<boolean> {
    return !pulumi.runtime.isDryRun() || await exportedBefore(output);
}

/** Whether this stack's last deployment exported `output` (read from its own last checkpoint). */
export async function exportedBefore(output: string): Promise<boolean> {
    const self = new pulumi.StackReference("self", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(output);
    return details.value !== undefined || details.secretValue !== undefined;
}
