// Helpers for the end-to-end assertions.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exists, get, KubeIdentity } from "../../lib/kubeClient";

const NS = "istio-system";

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

/** What a remote stack could leave behind, in its cluster or the primary; empty when it left nothing. */
export async function leftovers(primary: KubeIdentity, remote: KubeIdentity, clusterName: string): Promise<string[]> {
    const found: string[] = [];
    const check = async (who: KubeIdentity, label: string, apiPath: string) => {
        if (await exists(who, apiPath)) {
            found.push(`${label}: ${apiPath}`);
        }
    };
    await eventually(`${clusterName}'s Istio namespace to be gone`, 120, async () =>
        (await exists(remote, `/api/v1/namespaces/${NS}`)) ? undefined : true).catch(() => undefined);
    await check(remote, clusterName, `/api/v1/namespaces/${NS}`);
    await check(remote, clusterName, "/apis/rbac.authorization.k8s.io/v1/clusterroles/istio-reader");
    await check(remote, clusterName, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/istio-multi");
    await check(remote, clusterName, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector");
    const defaultNs = await get(remote, "/api/v1/namespaces/default");
    if (defaultNs.metadata.labels?.["istio-injection"]) {
        found.push(`${clusterName}: label istio-injection on namespace default`);
    }
    await check(primary, "primary", `/api/v1/namespaces/${NS}/secrets/${clusterName}`);
    return found;
}

/** A copy of the project to run in, so that Pulumi's stack files in the repo stay untouched. */
export function makeWorkDir(): string {
    const root = path.resolve(__dirname, "..", "..");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mc-e2e-"));
    for (const entry of ["index.ts", "components", "lib", "cli", "bin", "Pulumi.yaml", "Pulumi.primary.yaml", "Pulumi.remote-a.yaml",
        "package.json", "tsconfig.json", "tests/fixtures", "dist"].filter((e) => fs.existsSync(path.join(root, e)))) {
        fs.cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true, preserveTimestamps: true });
    }
    // A demo run may have written its stacks' encryption salt into the repo's stack files.
    for (const file of fs.readdirSync(dir).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        const text = fs.readFileSync(path.join(dir, file), "utf8");
        fs.writeFileSync(path.join(dir, file), text.replace(/^encryptionsalt: .*\n/m, ""));
    }
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}
