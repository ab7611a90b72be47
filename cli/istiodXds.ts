// istiod's debug endpoints read over its xDS port (15012), as `istioctl x internal-debug` reads
// them: one aggregated-discovery request of type istio.io/debug naming the endpoint (clusterz,
// networkz), over TLS, with a short-lived token of a service account of istiod's own namespace,
// whose requests istiod answers in full. This reaches istiod where the remotes reach it (its
// discoveryAddress) when its debug port (15014) is not exposed, as on managed clusters; the API
// server's pod proxy is no way in, since it drops the caller's token and istiod's debug endpoints
// answer only localhost or an authenticated caller.
import * as grpc from "@grpc/grpc-js";
import { proxyCredentials, proxyFor } from "../lib/kube/proxy";
import { lengthDelimited, lengthDelimitedFields } from "./protobuf";

/** The type of istiod's debug resources. */
export const DEBUG_TYPE = "istio.io/debug";
const ADS_METHOD = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

/** Where and as whom istiod's debug endpoints are read over xDS. */
export interface IstiodXdsTarget {
    /** istiod's xDS address, HOST:PORT. */
    readonly address: string;
    /** The roots istiod's serving certificate must chain to, PEM. */
    readonly trustedRoots: string;
    /** The name istiod's serving certificate carries (istiod.<namespace>.svc). */
    readonly serverName: string;
    /** The cluster istiod checks the token against. */
    readonly clusterId: string;
    /** A token of audience istio-ca for serviceAccount of namespace. */
    readonly token: string;
    /** istiod's namespace, the token's. */
    readonly namespace: string;
    /** The token's service account. */
    readonly serviceAccount: string;
}

/**
 * The DiscoveryRequest for one debug endpoint. Its node claims the token's namespace and service
 * account, which istiod requires to match the identity the token proves.
 */
export function debugRequest(endpoint: string, namespace: string, serviceAccount: string): Buffer {
    // google.protobuf.Struct: a map entry (1) per key; each value a google.protobuf.Value string (3).
    const entry = (key: string, value: string) =>
        lengthDelimited(1, Buffer.concat([lengthDelimited(1, key), lengthDelimited(2, lengthDelimited(3, value))]));
    const metadata = Buffer.concat([entry("NAMESPACE", namespace), entry("SERVICE_ACCOUNT", serviceAccount)]);
    // Node: id (1) as istiod parses it (type~ip~name.namespace~domain), metadata (3).
    const node = Buffer.concat([
        lengthDelimited(1, `sidecar~127.0.0.1~mesh-status.${namespace}~${namespace}.svc.cluster.local`), lengthDelimited(3, metadata),
    ]);
    // DiscoveryRequest: node (2), resource_names (3), type_url (4).
    return Buffer.concat([lengthDelimited(2, node), lengthDelimited(3, endpoint), lengthDelimited(4, DEBUG_TYPE)]);
}

/** The JSON of a debug DiscoveryResponse: the value of its one resource (a google.protobuf.Any). */
export function debugResponse(response: Buffer, endpoint: string): unknown {
    const resources = lengthDelimitedFields(response, 2);
    if (resources.length !== 1) {
        throw new Error(`istiod answered ${endpoint} with ${resources.length} resources, not one`);
    }
    const text = Buffer.concat(lengthDelimitedFields(resources[0], 2)).toString("utf8");
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(`istiod answered ${endpoint} with no JSON: ${text.slice(0, 120)}`);
    }
}

/** Dials through the proxy the environment names for istiod's address, as every other connection of mesh does. */
function channelTarget(address: string): { target: string; options: grpc.ChannelOptions } {
    // grpc-js's own reading of the proxy variables differs from Go's (kubectl's): it is turned off.
    const options: grpc.ChannelOptions = { "grpc.enable_http_proxy": 0 };
    const proxy = proxyFor(`https://${address}`, undefined);
    if (proxy === undefined) {
        return { target: address, options };
    }
    const url = new URL(proxy);
    const creds = proxyCredentials(url);
    return {
        target: url.host,
        options: { ...options, "grpc.http_connect_target": `dns:///${address}`, ...(creds ? { "grpc.http_connect_creds": creds } : {}) },
    };
}

/** One of istiod's debug endpoints (clusterz, networkz, …), parsed, read over its xDS port. */
export async function istiodDebugOverXds(target: IstiodXdsTarget, endpoint: string, timeoutMs = 15_000): Promise<unknown> {
    const { target: dial, options } = channelTarget(target.address);
    const client = new grpc.Client(dial, grpc.credentials.createSsl(Buffer.from(target.trustedRoots)), {
        ...options,
        // Its certificate names its Service, whatever address the remotes reach it at.
        "grpc.ssl_target_name_override": target.serverName,
        "grpc.default_authority": target.serverName,
    });
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${target.token}`);
    metadata.set("clusterid", target.clusterId);
    try {
        return await new Promise<unknown>((resolve, reject) => {
            const call = client.makeBidiStreamRequest(ADS_METHOD, (b: Buffer) => b, (b: Buffer) => b, metadata,
                { deadline: Date.now() + timeoutMs });
            call.on("data", (response: Buffer) => {
                try {
                    resolve(debugResponse(response, endpoint));
                } catch (err) {
                    reject(err);
                }
                call.cancel();
            });
            call.on("error", (err: grpc.ServiceError) => {
                if (err.code !== grpc.status.CANCELLED) {
                    reject(new Error(`istiod's xDS port ${target.address} refused ${endpoint}: ${grpc.status[err.code]}: ${err.details}`));
                }
            });
            call.write(debugRequest(endpoint, target.namespace, target.serviceAccount));
        });
    } finally {
        client.close();
    }
}
