import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import { issueCa } from "../../lib/ca/ca";
import { coreApi } from "../../lib/kube/kube";
import { kubeConfigAt, kubeConfigOf, loadKubeconfig, renderKubeconfig, resolveContext, serverOfContext } from "../../lib/kube/kubeconfig";
import { answers, apiServerFor, checkClustersAnswer, checkContextsExist } from "../../lib/kube/preflight";
import { proxyFor, proxyFromEnvironment } from "../../lib/kube/proxy";
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
    // A forward proxy on loopback that accepts CONNECT to one API server, as a corporate proxy
    // reaches a private endpoint this machine cannot; it opens no connection itself, and nothing
    // here resolves or dials the API server's name.
    const reachable = "api.remote.test:6443";
    const connects: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket) => {
        connects.push(req.url!);
        socket.end(req.url === reachable ? "HTTP/1.1 200 Connection established\r\n\r\n" : "HTTP/1.1 502 Bad Gateway\r\n\r\n");
    });
    const proxyUrl = listenOnLoopback(proxy, "http");
    const server = `https://${reachable}`;
    const kubeconfigVia = (proxied: string | undefined, at = server) => oneContextKubeconfig({ server: at, ...(proxied ? { "proxy-url": proxied } : {}) });
    const remoteWith = (kubeconfig: string) => {
        const { kubeContext: _, ...rest } = ROLE_CONFIG.remote;
        return parseConfig({ ...rest, kubeconfig, primaryKubeconfig: kubeconfig, primaryKubeContext: undefined }, ["kubeconfig", "primaryKubeconfig"]);
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
    it("dials a loopback API server directly whatever HTTPS_PROXY says (as Go does), and names it when it does not answer", () =>
        withEnv({ HTTPS_PROXY: proxyUrl(), NO_PROXY: "" }, async () => {
            connects.length = 0;
            await assert.rejects(checkClustersAnswer(remoteWith(kubeconfigVia(undefined, "https://127.0.0.1:1"))),
                /istio-multicluster:kubeContext = "\[secret\]": its cluster's API server https:\/\/127\.0\.0\.1:1 does not answer \(connect ECONNREFUSED/);
            assert.deepStrictEqual(connects, []);
        }));
    it("names the proxy and its answer when the proxy cannot reach the API server", async () => {
        await assert.rejects(answers("https://api.other.test:6443", proxyUrl()), /proxy 127\.0\.0\.1:\d+ answered CONNECT with 502 Bad Gateway/);
    });
});

describe("the proxy, as Go's net/http (and so kubectl and the provider) picks it from the environment", () => {
    const via = (url: string, env: NodeJS.ProcessEnv) => proxyFromEnvironment(url, env);
    const P = "http://proxy.corp.test:3128";
    it("takes HTTPS_PROXY for https and HTTP_PROXY for http, upper case first, http:// when no scheme is given", () => {
        assert.strictEqual(via("https://api.example.com", { HTTPS_PROXY: P, https_proxy: "http://other:1" }), P);
        assert.strictEqual(via("https://api.example.com", { https_proxy: P }), P);
        assert.strictEqual(via("http://api.example.com", { HTTPS_PROXY: "http://other:1", HTTP_PROXY: P }), P);
        assert.strictEqual(via("https://api.example.com", { HTTPS_PROXY: "proxy.corp.test:3128" }), P);
        assert.strictEqual(via("https://api.example.com", {}), undefined);
    });
    it("never proxies localhost or a loopback address", () => {
        for (const url of ["https://localhost:6443", "https://127.0.0.2:6443", "https://[::1]:6443"]) {
            assert.strictEqual(via(url, { HTTPS_PROXY: P }), undefined, url);
        }
    });
    it("reads NO_PROXY as Go does: CIDR ranges, addresses, domains with their subdomains, leading dots, ports, *", () => {
        const cases: Array<[string, string, boolean]> = [
            ["10.0.0.0/8", "https://10.1.2.3:6443", true],
            ["10.0.0.0/8", "https://11.1.2.3:6443", false],
            ["fd00::/8", "https://[fd12::1]:6443", true],
            ["192.0.2.7", "https://192.0.2.7:6443", true],
            ["192.0.2.7:443", "https://192.0.2.7:6443", false],
            ["eks.amazonaws.com", "https://ABC123.gr7.us-east-1.eks.amazonaws.com", true],
            ["eks.amazonaws.com", "https://eks.amazonaws.com", true],
            ["eks.amazonaws.com", "https://noteks.amazonaws.com", false],
            [".example.com", "https://api.example.com", true],
            [".example.com", "https://example.com", false],
            ["*.example.com", "https://api.example.com", true],
            ["api.example.com:6443", "https://api.example.com:6443", true],
            ["api.example.com:6443", "https://api.example.com", false],
            ["other.test, 10.0.0.0/8 ,api.example.com", "https://api.example.com", true],
            ["*", "https://anything.example", true],
        ];
        for (const [noProxy, url, exempt] of cases) {
            assert.strictEqual(via(url, { HTTPS_PROXY: P, NO_PROXY: noProxy }), exempt ? undefined : P, `NO_PROXY=${noProxy} ${url}`);
        }
        assert.strictEqual(via("https://10.1.2.3", { HTTPS_PROXY: P, no_proxy: "10.0.0.0/8" }), undefined, "no_proxy in lower case");
    });
    it("lets a kubeconfig's proxy-url win over the environment", () => {
        assert.strictEqual(proxyFor("https://10.1.2.3", "socks5://jump:1080", { HTTPS_PROXY: P, NO_PROXY: "10.0.0.0/8" }), "socks5://jump:1080");
    });
});

describe("every connection to an API server through one proxy rule: the program's own reads (client-node) too", () => {
    // An API server on loopback that only an authenticating proxy reaches, by a name nothing
    // resolves: the proxy (on loopback) tunnels CONNECT api.remote.test:6443 to it.
    const credentials = "Basic " + Buffer.from("mesh-user:p@ss word").toString("base64");
    const seen: Array<{ target: string; authorization?: string }> = [];
    let apiPort = 0;
    let tlsMaterial: { cert: string; key: string } | undefined;
    let apiServer: https.Server | undefined;
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        seen.push({ target: req.url!, authorization: req.headers["proxy-authorization"] });
        if (req.headers["proxy-authorization"] !== credentials) {
            socket.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\r\n");
            return;
        }
        const upstream = net.connect(apiPort, "127.0.0.1", () => {
            socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
            upstream.write(head);
            upstream.pipe(socket).pipe(upstream);
        });
        upstream.on("error", () => socket.destroy());
    });
    const proxyUrl = listenOnLoopback(proxy, "http");
    const authenticated = () => proxyUrl().replace("http://", "http://mesh-user:p%40ss%20word@");
    before(async () => {
        const made = await issueCa({ organization: "test", commonName: "api.remote.test", validityDays: 1 });
        tlsMaterial = { cert: made.certPem, key: made.keyPem };
        apiServer = https.createServer(tlsMaterial, (req, res) => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: req.url!.split("/").pop() } }));
        });
        await new Promise<void>((resolve) => apiServer!.listen(0, "127.0.0.1", () => resolve()));
        apiPort = (apiServer.address() as net.AddressInfo).port;
    });
    after(() => apiServer?.close());
    const kubeconfig = () => yaml.dump({
        apiVersion: "v1", kind: "Config", "current-context": "r",
        contexts: [{ name: "r", context: { cluster: "c", user: "u" } }],
        clusters: [{ name: "c", cluster: { server: "https://api.remote.test:6443", "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: { token: "t" } }],
    });

    it("reads through HTTPS_PROXY, authenticating with the user and password in its URL, as kubectl does", () =>
        withEnv({ HTTPS_PROXY: authenticated(), NO_PROXY: "" }, async () => {
            seen.length = 0;
            const namespace = await coreApi(kubeConfigAt(kubeconfig())).readNamespace({ name: "istio-system" });
            assert.strictEqual(namespace.metadata?.name, "istio-system");
            assert.deepStrictEqual(seen, [{ target: "api.remote.test:6443", authorization: credentials }]);
        }));
    it("leaves to a direct connection what NO_PROXY exempts, never asking the proxy", () =>
        withEnv({ HTTPS_PROXY: authenticated(), NO_PROXY: "remote.test" }, async () => {
            seen.length = 0;
            assert.strictEqual(proxyFor("https://api.remote.test:6443", undefined), undefined);
            assert.deepStrictEqual(seen, []);
        }));
    it("the API server check authenticates to the proxy too, and names a 407 when the proxy refuses", async () => {
        await answers("https://api.remote.test:6443", authenticated());
        await assert.rejects(answers("https://api.remote.test:6443", proxyUrl()), /answered CONNECT with 407 Proxy Authentication Required/);
    });
});

/** Runs `run` with `vars` set in the environment, restoring it after. */
async function withEnv(vars: Record<string, string>, run: () => Promise<void>): Promise<void> {
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
}

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
