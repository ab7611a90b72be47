import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import * as http from "http";
import * as net from "net";
import { kubeConfigOf, loadKubeconfig, renderKubeconfig, resolveContext, serverOfContext } from "../../lib/kube/kubeconfig";
import { answers, apiServerFor, checkClustersAnswer, checkContextsExist, proxyFor } from "../../lib/kube/preflight";
import { listenOnLoopback, oneContextKubeconfig, parseConfig, ROLE_CONFIG } from "./harness";

const OPERATOR_KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: remote-a
clusters:
  - name: local-remote-a
    cluster: { server: "https://127.0.0.3:6443" }
  - name: local-primary
    cluster: { server: "https://127.0.0.2:6443" }
  - name: broken
    cluster: {}
contexts:
  - name: remote-a
    context: { cluster: local-remote-a, user: admin }
  - name: primary
    context: { cluster: local-primary, user: admin }
  - name: broken
    context: { cluster: broken, user: admin }
users:
  - name: admin
    user: { token: admin-token }
`;

describe("the istio-multi kubeconfig", () => {
    const rendered = yaml.load(renderKubeconfig({
        clusterName: "remote-a", server: "https://10.0.0.3:6443", caData: "Q0EtREFUQQ==", token: "tok.en",
    })) as any;

    it("names cluster, context and user after the cluster", () => {
        assert.strictEqual(rendered["current-context"], "remote-a");
        assert.deepStrictEqual(rendered.contexts, [{ name: "remote-a", context: { cluster: "remote-a", user: "remote-a" } }]);
    });
    it("carries the server and the cluster CA as given", () => {
        assert.deepStrictEqual(rendered.clusters[0].cluster, { "certificate-authority-data": "Q0EtREFUQQ==", server: "https://10.0.0.3:6443" });
    });
    it("authenticates with the service account's token and nothing else", () => {
        assert.deepStrictEqual(rendered.users, [{ name: "remote-a", user: { token: "tok.en" } }]);
    });
});

/** The server a kubeconfig's context points at, or why there is none. */
function serverOrProblem(text: string, context?: string): { server?: string; problem?: string } {
    const resolved = resolveContext(loadKubeconfig({ kubeconfig: text })!.document, context);
    return "problem" in resolved ? resolved : { server: resolved.cluster.server };
}

describe("reading the API server from the operator's kubeconfig", () => {
    it("takes the named context's cluster server", () => {
        assert.deepStrictEqual(serverOrProblem(OPERATOR_KUBECONFIG, "primary"), { server: "https://127.0.0.2:6443" });
    });
    it("falls back to the current context", () => {
        assert.deepStrictEqual(serverOrProblem(OPERATOR_KUBECONFIG), { server: "https://127.0.0.3:6443" });
    });
    it("explains a missing context", () => {
        assert.deepStrictEqual(serverOrProblem(OPERATOR_KUBECONFIG, "remote-z"), { problem: 'the kubeconfig has no context "remote-z"' });
    });
    it("explains a cluster without a server", () => {
        assert.match(serverOrProblem(OPERATOR_KUBECONFIG, "broken").problem!, /names cluster "broken", which the kubeconfig lacks or gives no server/);
    });
    it("refuses text that is not YAML", () => {
        assert.throws(() => loadKubeconfig({ kubeconfig: "a: [unclosed" }));
    });
});

describe("a KUBECONFIG of several files, read as kubectl and the provider read it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfigs-"));
    const first = path.join(dir, "a.yaml");
    const second = path.join(dir, "team", "b.yaml");
    fs.mkdirSync(path.dirname(second));
    fs.writeFileSync(first, OPERATOR_KUBECONFIG);
    // The second file: a context of its own, a cluster whose CA is a path relative to the file, and
    // a cluster and a context whose names the first file already has.
    fs.writeFileSync(second, `
apiVersion: v1
kind: Config
current-context: eks-prod
clusters:
  - name: eks
    cluster: { server: "https://10.99.0.1:443", certificate-authority: certs/eks-ca.pem }
  - name: local-primary
    cluster: { server: "https://192.0.2.99:6443" }
contexts:
  - name: eks-prod
    context: { cluster: eks, user: eks-admin }
  - name: primary
    context: { cluster: eks, user: eks-admin }
users:
  - name: eks-admin
    user: { token: eks-token }
`);
    const env = { KUBECONFIG: [first, path.join(dir, "missing.yaml"), second].join(path.delimiter) };

    it("finds a context of the second file", () => {
        const remote = parseConfig({ ...ROLE_CONFIG.remote, kubeContext: "eks-prod" });
        checkContextsExist(remote, env);
        assert.strictEqual(serverOfContext({ kubeContext: "eks-prod" }, env), "https://10.99.0.1:443");
    });
    it("takes the API server other clusters dial from the second file", () => {
        assert.strictEqual(apiServerFor({ cluster: { kubeContext: "eks-prod" }, sameHostControlPlanes: false }, loadKubeconfig({}, env)), "https://10.99.0.1:443");
    });
    it("lets the first file win a name both have, and its current context", () => {
        assert.strictEqual(serverOfContext({ kubeContext: "primary" }, env), "https://127.0.0.2:6443");
        assert.strictEqual(loadKubeconfig({}, env)!.document["current-context"], "remote-a");
    });
    it("resolves a relative path in a file against that file's directory", () => {
        const resolved = resolveContext(loadKubeconfig({}, env)!.document, "eks-prod");
        assert.ok(!("problem" in resolved));
        assert.strictEqual(resolved.cluster["certificate-authority"], path.join(dir, "team", "certs", "eks-ca.pem"));
    });
    it("names every file it read when a context is in none", () => {
        const remote = parseConfig({ ...ROLE_CONFIG.remote, kubeContext: "gke-dev" });
        assert.throws(() => checkContextsExist(remote, env), (err: Error) =>
            err.message.includes(`is not a context of $KUBECONFIG (${first}${path.delimiter}${second}); it has remote-a, primary, broken, eks-prod.`));
    });
    it("gives the client the context asked for, from either file", () => {
        const previous = process.env.KUBECONFIG;
        process.env.KUBECONFIG = env.KUBECONFIG;
        try {
            const cluster = kubeConfigOf({ kubeContext: "eks-prod" })!.getCurrentCluster()!;
            assert.deepStrictEqual([cluster.server, cluster.caFile], ["https://10.99.0.1:443", path.join(dir, "team", "certs", "eks-ca.pem")]);
        } finally {
            process.env.KUBECONFIG = previous;
        }
    });
});

describe("the API server check through a proxy (the kubeconfig's proxy-url, or HTTPS_PROXY)", () => {
    // A forward proxy on loopback that accepts CONNECT to one address, as a corporate proxy reaches a
    // private endpoint this machine cannot; it opens no connection itself.
    const reachable = "127.0.0.1:1";
    const connects: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket) => {
        connects.push(req.url!);
        socket.end(req.url === reachable ? "HTTP/1.1 200 Connection established\r\n\r\n" : "HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    const proxyUrl = listenOnLoopback(proxy, "http");
    const server = `https://${reachable}`; // port 1: nothing listens there, so only the proxy reaches it
    const kubeconfigVia = (proxied: string | undefined) => oneContextKubeconfig({ server, ...(proxied ? { "proxy-url": proxied } : {}) });
    const remoteWith = (kubeconfig: string) => {
        const { kubeContext: _, ...rest } = ROLE_CONFIG.remote;
        return parseConfig({ ...rest, kubeconfig, primaryKubeconfig: kubeconfig, primaryKubeContext: undefined }, ["kubeconfig", "primaryKubeconfig"]);
    };
    const withEnv = async (vars: Record<string, string>, run: () => Promise<void>) => {
        const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
        Object.assign(process.env, vars);
        try {
            await run();
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) {
                    delete process.env[k];
                } else {
                    process.env[k] = v;
                }
            }
        }
    };
    it("goes through the kubeconfig's proxy-url, and the API server behind it answers", async () => {
        connects.length = 0;
        await checkClustersAnswer(remoteWith(kubeconfigVia(proxyUrl())));
        assert.deepStrictEqual(connects, [reachable, reachable], "both clusters were checked through the proxy");
    });
    it("goes through HTTPS_PROXY when the kubeconfig names no proxy", () => withEnv({ HTTPS_PROXY: proxyUrl(), NO_PROXY: "" }, async () => {
        connects.length = 0;
        await checkClustersAnswer(remoteWith(kubeconfigVia(undefined)));
        assert.deepStrictEqual(connects, [reachable, reachable]);
    }));
    it("dials directly a host NO_PROXY exempts, and names it when it does not answer", () =>
        withEnv({ HTTPS_PROXY: proxyUrl(), NO_PROXY: "127.0.0.1" }, async () => {
            assert.strictEqual(proxyFor(server, undefined), undefined);
            await assert.rejects(checkClustersAnswer(remoteWith(kubeconfigVia(undefined))),
                /istio-multicluster:kubeContext = "\[secret\]": its cluster's API server https:\/\/127\.0\.0\.1:1 does not answer \(connect ECONNREFUSED/);
        }));
    it("names the proxy and its answer when the proxy cannot reach the API server", async () => {
        await assert.rejects(answers("https://127.0.0.1:2", proxyUrl()), /proxy 127\.0\.0\.1:\d+ answered CONNECT with 502 Bad Gateway/);
    });
});

describe("checkContextsExist (a context the stack names must be in its kubeconfig)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "contexts-"));
    const file = path.join(dir, "config");
    fs.writeFileSync(file, OPERATOR_KUBECONFIG);
    const env = { KUBECONFIG: file };
    const parse = (config: Record<string, unknown>) => parseConfig(config);
    const remote = parse({ ...ROLE_CONFIG.remote, kubeContext: "remote-b" });

    it("names the missing context, the file, and the contexts there are", () => {
        assert.throws(() => checkContextsExist(remote, env),
            new RegExp(`istio-multicluster:kubeContext = "remote-b": is not a context of ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}; ` +
                "it has remote-a, primary, broken\\. Fix: set kubeContext to one of those"));
    });
    it("checks the primary's context too", () => {
        const other = parse({ ...ROLE_CONFIG.remote, primaryKubeContext: "prod" });
        assert.throws(() => checkContextsExist(other, env), /istio-multicluster:primaryKubeContext = "prod": is not a context/);
    });
    it("passes contexts that exist, and checks nothing without a kubeconfig", () => {
        const ok = parse(ROLE_CONFIG.remote);
        checkContextsExist(ok, env);
        checkContextsExist(remote, { KUBECONFIG: path.join(dir, "absent") });
    });
});
