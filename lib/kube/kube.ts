// Kubernetes API calls made beside Pulumi's provider (the reads the program checks before it
// registers anything, the token wait, `mesh status`, the end-to-end assertions), through
// @kubernetes/client-node.
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { kubeClientLibrary } from "./kubeconfig";

/** The core API of a cluster. */
export function coreApi(kc: KubeConfig): CoreV1Api {
    return kc.makeApiClient(kubeClientLibrary().CoreV1Api);
}

/** The API server a kubeconfig's current context talks to. */
export function serverOf(kc: KubeConfig): string {
    return kc.getCurrentCluster()!.server;
}

/** The HTTP status of a failed API call (0 when the server did not answer). */
export function statusOf(err: unknown): number {
    return typeof (err as { code?: unknown })?.code === "number" ? (err as { code: number }).code : 0;
}

/** The value of `call`, or undefined when the API answers 404. */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
    try {
        return await call;
    } catch (err) {
        if (statusOf(err) === 404) {
            return undefined;
        }
        throw err;
    }
}

/**
 * The data of a secret once it holds every one of `keys` (as the API returns it, base64), polling
 * until then; undefined when `timeoutSeconds` pass first.
 */
export async function waitForSecretKeys(
    kc: KubeConfig, namespace: string, name: string, keys: readonly string[], timeoutSeconds: number,
): Promise<Record<string, string> | undefined> {
    const core = coreApi(kc);
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const data = (await core.readNamespacedSecret({ name, namespace }).catch(() => undefined))?.data;
        if (data && keys.every((k) => data[k])) {
            return data;
        }
        if (Date.now() >= deadline) {
            return undefined;
        }
        // The token controller fills a token secret within a fraction of a second: a join waits on this.
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
