import * as assert from "assert";
import * as grpc from "@grpc/grpc-js";
import * as http from "http";
import * as net from "net";
import { issueCa } from "../../lib/ca/ca";
import { DEBUG_TYPE, debugResponse, istiodDebugOverXds, IstiodXdsTarget } from "../../cli/istiodXds";
import { lengthDelimited, lengthDelimitedFields, repeatedStrings } from "../../cli/protobuf";
import { listenOnLoopback } from "./harness";

const ADS = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.debug-reader.signature";
const CLUSTERZ = [{ id: "remote-a", syncStatus: "synced" }];

/** A DiscoveryResponse of one debug resource holding `json`. */
function response(json: string): Buffer {
    return lengthDelimited(2, Buffer.concat([lengthDelimited(1, DEBUG_TYPE), lengthDelimited(2, json)]));
}

/** The string values of a google.protobuf.Struct, by key. */
function structStrings(struct: Buffer): Record<string, string> {
    return Object.fromEntries(lengthDelimitedFields(struct, 1).map((entry) =>
        [repeatedStrings(entry, 1)[0], repeatedStrings(lengthDelimitedFields(entry, 2)[0], 3)[0]]));
}

describe("reading istiod's debug endpoints over its xDS port (mesh status)", () => {
    // An istiod stand-in on loopback: TLS with a certificate for istiod.istio-system.svc, the ADS method, one answer per request.
    const seen: Array<{ authorization: string; clusterId: string; request: Buffer }> = [];
    let refusal: grpc.StatusObject | undefined;
    let server: grpc.Server;
    let address = "";
    let roots = "";
    before(async () => {
        const serving = await issueCa({ organization: "test", commonName: "istiod.istio-system.svc", validityDays: 1 });
        roots = serving.certPem;
        server = new grpc.Server();
        server.register(ADS, (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
            call.on("data", (request: Buffer) => {
                seen.push({ authorization: String(call.metadata.get("authorization")[0]), clusterId: String(call.metadata.get("clusterid")[0]), request });
                if (refusal) {
                    call.emit("error", refusal);
                    return;
                }
                call.write(response(JSON.stringify(CLUSTERZ)));
            });
            call.on("end", () => call.end());
        }, (b: Buffer) => b, (b: Buffer) => b, "bidi");
        const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }]);
        const port = await new Promise<number>((resolve, reject) =>
            server.bindAsync("127.0.0.1:0", credentials, (err, p) => (err ? reject(err) : resolve(p))));
        address = `127.0.0.1:${port}`;
    });
    after(() => server.forceShutdown());
    beforeEach(() => {
        seen.length = 0;
        refusal = undefined;
    });
    const target = (over: Partial<IstiodXdsTarget> = {}): IstiodXdsTarget => ({
        address, trustedRoots: roots, serverName: "istiod.istio-system.svc", clusterId: "primary", token: TOKEN,
        namespace: "istio-system", serviceAccount: "default", ...over,
    });

    it("asks for the endpoint as a debug resource and returns istiod's JSON", async () => {
        assert.deepStrictEqual(await istiodDebugOverXds(target(), "clusterz"), CLUSTERZ);
        const request = seen[0].request;
        assert.deepStrictEqual(repeatedStrings(request, 4), [DEBUG_TYPE], "type_url");
        assert.deepStrictEqual(repeatedStrings(request, 3), ["clusterz"], "resource_names");
    });
    it("sends the token as a bearer token, and the cluster istiod checks it against", async () => {
        await istiodDebugOverXds(target(), "clusterz");
        assert.deepStrictEqual(seen.map((s) => [s.authorization, s.clusterId]), [[`Bearer ${TOKEN}`, "primary"]]);
    });
    it("claims, as its node, the token's namespace and service account, which istiod matches against the token", async () => {
        await istiodDebugOverXds(target(), "networkz");
        const node = lengthDelimitedFields(seen[0].request, 2)[0];
        assert.match(repeatedStrings(node, 1)[0], /^sidecar~127\.0\.0\.1~[^~]+\.istio-system~istio-system\.svc\.cluster\.local$/);
        assert.deepStrictEqual(structStrings(lengthDelimitedFields(node, 3)[0]), { NAMESPACE: "istio-system", SERVICE_ACCOUNT: "default" });
    });
    it("refuses an istiod whose certificate does not chain to the mesh's roots", async () => {
        const other = await issueCa({ organization: "test", commonName: "istiod.istio-system.svc", validityDays: 1 });
        await assert.rejects(istiodDebugOverXds(target({ trustedRoots: other.certPem }), "clusterz"), /UNAVAILABLE/);
        assert.deepStrictEqual(seen, [], "nothing was sent to it");
    });
    it("names istiod's refusal and its address, never the token", async () => {
        refusal = { code: grpc.status.PERMISSION_DENIED, details: "the debug info is not available for current identity", metadata: new grpc.Metadata() };
        const err = await istiodDebugOverXds(target(), "clusterz").then(() => undefined, (e: Error) => e);
        assert.match(err!.message, new RegExp(`^istiod's xDS port ${address} refused clusterz: PERMISSION_DENIED: the debug info is not available`));
        assert.ok(!err!.message.includes(TOKEN));
    });
    describe("through the proxy the environment names (HTTPS_PROXY), as every connection of mesh goes", () => {
        const connects: Array<{ target: string; authorization?: string }> = [];
        const proxy = http.createServer((_req, res) => res.writeHead(405).end());
        proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
            connects.push({ target: req.url!, authorization: req.headers["proxy-authorization"] });
            const upstream = net.connect(Number(address.split(":")[1]), "127.0.0.1", () => {
                socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
                upstream.write(head);
                upstream.pipe(socket).pipe(upstream);
            });
        });
        const proxyUrl = listenOnLoopback(proxy, "http");
        let saved: string | undefined;
        beforeEach(() => {
            saved = process.env.HTTPS_PROXY;
            process.env.HTTPS_PROXY = proxyUrl().replace("http://", "http://mesh-user:p%40ss@");
        });
        afterEach(() => (saved === undefined ? delete process.env.HTTPS_PROXY : (process.env.HTTPS_PROXY = saved)));
        it("tunnels to istiod's address with CONNECT, the proxy's credentials decoded as Go sends them", async () => {
            assert.deepStrictEqual(await istiodDebugOverXds(target({ address: "istiod.mesh.test:15012" }), "clusterz"), CLUSTERZ);
            assert.deepStrictEqual(connects, [{ target: "istiod.mesh.test:15012", authorization: `Basic ${Buffer.from("mesh-user:p@ss").toString("base64")}` }]);
        });
    });
    it("says so when istiod's answer is not JSON", () => {
        assert.throws(() => debugResponse(response("404 page not found"), "clusterz"), /^Error: istiod answered clusterz with no JSON: 404 page not found$/);
    });
});
