// Waiting helpers for the end-to-end assertions.
import { get, KubeIdentity } from "../../lib/kubeClient";

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let last: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) {
                return value;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${seconds}s waiting for ${what}${last ? `: ${last}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** The IP of the one running, ready pod with the label selector. */
export async function readyPodIp(who: KubeIdentity, namespace: string, selector: string): Promise<string | undefined> {
    const pods = await get(who, `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
    const ready = pods.items.filter((p: any) => !p.metadata.deletionTimestamp && p.status.podIP &&
        (p.status.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"));
    return ready.length === 1 ? ready[0].status.podIP : undefined;
}
