// A small Kubernetes API client for the end-to-end assertions: admin access by client
// certificate, or any kubeconfig's bearer token, against the local clusters.
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";
import * as path from "path";

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

/** The admin identity of a local cluster started by tools/clusters/local-clusters.sh. */
export function admin(clustersDir: string, cluster: string): KubeIdentity {
    const pki = path.join(clustersDir, cluster, "pki");
    const kc = yaml.load(fs.readFileSync(path.join(clustersDir, cluster, "admin.kubeconfig"), "utf8")) as any;
    return {
        server: kc.clusters[0].cluster.server,
        ca: fs.readFileSync(path.join(pki, "ca.crt")),
        cert: fs.readFileSync(path.join(pki, "admin.crt")),
        key: fs.readFileSync(path.join(pki, "admin.key")),
    };
}

/** The identity a token kubeconfig (like istio-multi's) carries: its server, CA and token. */
export function fromTokenKubeconfig(text: string): KubeIdentity {
    const kc = yaml.load(text) as any;
    const cluster = kc.clusters[0].cluster;
    return { server: cluster.server, ca: Buffer.from(cluster["certificate-authority-data"], "base64"), token: kc.users[0].user.token };
}

/** One API request; resolves with the status and parsed body, whatever the status. */
export function request(who: KubeIdentity, method: string, apiPath: string, body?: unknown): Promise<KubeResponse> {
    const url = new URL(apiPath, who.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = https.request(url, {
            method, ca: who.ca, cert: who.cert, key: who.key, timeout: 15000,
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
