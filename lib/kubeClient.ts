// A small Kubernetes API client, for `mesh status` and the end-to-end assertions: a kubeconfig
// context's identity (client certificate or bearer token), plain HTTPS, no dependencies.
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import type { ClusterAccess } from "./config";
import { kubeconfigTextOf, resolveContext } from "./kubeconfig";

export interface KubeResponse {
    readonly status: number;
    readonly body: any;
}

/** How to reach one API server as one identity. */
export interface KubeIdentity {
    readonly server: string;
    readonly ca: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly token?: string;
}

/**
 * The identity a kubeconfig's context (default: its current context) carries: server, CA, and a
 * client certificate or a bearer token, inline or from files. Exec and auth-provider plugins are
 * not supported: this is for the admin and service-account kubeconfigs this project deals with.
 */
export function identityFromKubeconfig(text: string, context?: string, baseDir = process.cwd()): KubeIdentity {
    const resolved = resolveContext(text, context);
    if ("problem" in resolved) {
        throw new Error(resolved.problem);
    }
    const { name, cluster, user } = resolved;
    if (user.exec || user["auth-provider"]) {
        throw new Error(`context "${name}" authenticates through a plugin, which this client does not run`);
    }
    const material = (data?: string, file?: string) => data ? Buffer.from(data, "base64")
        : file ? fs.readFileSync(path.resolve(baseDir, file)) : undefined;
    return {
        server: cluster.server,
        ca: material(cluster["certificate-authority-data"], cluster["certificate-authority"]) ?? Buffer.alloc(0),
        cert: material(user["client-certificate-data"], user["client-certificate"]),
        key: material(user["client-key-data"], user["client-key"]),
        token: user.token ?? (user.tokenFile ? fs.readFileSync(path.resolve(baseDir, user.tokenFile), "utf8").trim() : undefined),
    };
}

/** The identity a stack's access to a cluster carries (its inline kubeconfig, else a context of the ambient one); undefined without any kubeconfig. */
export function identityOf(access: ClusterAccess): KubeIdentity | undefined {
    const text = kubeconfigTextOf(access);
    return text === undefined ? undefined : identityFromKubeconfig(text, access.kubeContext);
}

/** One API request; resolves with the status and parsed body, whatever the status. */
export function request(who: KubeIdentity, method: string, apiPath: string, body?: unknown): Promise<KubeResponse> {
    const url = new URL(apiPath, who.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = https.request(url, {
            method, ca: who.ca.length > 0 ? who.ca : undefined, cert: who.cert, key: who.key, timeout: 15000,
            headers: {
                ...(who.token ? { Authorization: `Bearer ${who.token}` } : {}),
                ...(payload ? { "Content-Type": "application/json" } : {}),
            },
        }, (res) => {
            let text = "";
            res.on("data", (chunk) => (text += chunk));
            res.on("end", () => {
                let parsed: unknown = text;
                try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
                resolve({ status: res.statusCode ?? 0, body: parsed });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
        req.on("error", reject);
        if (payload) {
            req.write(payload);
        }
        req.end();
    });
}

/** GET that must succeed. */
export async function get(who: KubeIdentity, apiPath: string): Promise<any> {
    const res = await request(who, "GET", apiPath);
    if (res.status !== 200) {
        throw new Error(`GET ${apiPath}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body;
}

/** True when the object exists (GET answers 200); false on 404. */
export async function exists(who: KubeIdentity, apiPath: string): Promise<boolean> {
    const res = await request(who, "GET", apiPath);
    if (res.status !== 200 && res.status !== 404) {
        throw new Error(`GET ${apiPath}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.status === 200;
}

/**
 * The data of a secret once it holds every one of `keys` (as the API returns it, base64), polling
 * until then; undefined when `timeoutSeconds` pass first.
 */
export async function waitForSecretKeys(
    who: KubeIdentity, namespace: string, name: string, keys: readonly string[], timeoutSeconds: number,
): Promise<Record<string, string> | undefined> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const res = await request(who, "GET", `/api/v1/namespaces/${namespace}/secrets/${name}`).catch(() => undefined);
        const data = res?.status === 200 ? res.body.data as Record<string, string> | undefined : undefined;
        if (data && keys.every((k) => data[k])) {
            return data;
        }
        if (Date.now() >= deadline) {
            return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}
