// `mesh status`: one row per remote, read from the stacks' outputs and the clusters themselves,
// every remote at once.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Stack } from "@pulumi/pulumi/automation";
import * as http from "http";
import { CONTROL_PLANE_SERVICES, readyPodAddress } from "../lib/istio/endpoints";
import { coreApi, statusOf, unlessNotFound } from "../lib/kube/kube";
import { kubeClientLibrary, kubeConfigAt, kubeConfigOf } from "../lib/kube/kubeconfig";
import { withPort } from "../lib/config/net";
import { Fleet, FleetStack, UsageError } from "./fleet";
import { istiodDebugOverXds } from "./istiodXds";
import { loadFleet, openStack, outputValues, say, sayOnStderr } from "./stackRuns";
import { caRows, caTable, ExportedGateway, gatewayRows, gatewayTable, RemoteFacts, statusRow, StatusRow, statusTable } from "./statusReport";

/** A cluster's kubeconfig from a stack's config: its kubeconfig secret, or a context of the ambient kubeconfig. */
async function clusterConfig(stack: Stack, fleetStack: FleetStack, contextKey: string, kubeconfigKey: string): Promise<KubeConfig> {
    const inline = (await stack.getAllConfig())[`istio-multicluster:${kubeconfigKey}`]?.value || undefined;
    const kc = kubeConfigOf({ kubeconfig: inline, kubeContext: inline ? undefined : fleetStack.config[contextKey] as string | undefined });
    if (!kc) {
        throw new Error(`no kubeconfig found for ${fleetStack.name} ($KUBECONFIG, ~/.kube/config)`);
    }
    return kc;
}

/** The addresses the primary's control plane has now: its pods' IPs, or its exported addresses. */
async function currentPrimaryAddresses(fleet: Fleet, outputs: Record<string, any>, primary: KubeConfig): Promise<Record<string, string | undefined>> {
    const exposure = (fleet.primary.config.endpointExposure as string | undefined) ?? "podIP";
    if (exposure !== "podIP") {
        return outputs;
    }
    const namespace = outputs.istioNamespace as string;
    const core = coreApi(primary);
    const current: Record<string, string | undefined> = {};
    for (const svc of CONTROL_PLANE_SERVICES.filter((s) => outputs[s.output] !== undefined)) {
        const endpoints = await core.readNamespacedEndpoints({ name: svc.service, namespace }).catch(() => ({}));
        try {
            current[svc.output] = readyPodAddress(endpoints, svc, namespace);
        } catch {
            current[svc.output] = "(no ready pod)";
        }
    }
    return current;
}

const WRITES_TO_REFUSE: ReadonlyArray<{ verb: string; resource: string; group?: string }> = [
    { verb: "create", resource: "pods" }, { verb: "delete", resource: "pods" }, { verb: "update", resource: "services" },
    { verb: "get", resource: "secrets" }, { verb: "create", resource: "deployments", group: "apps" },
];

/** Reads one of the primary istiod's debug endpoints (clusterz, networkz), parsed. */
type IstiodDebug = (endpoint: string) => Promise<any>;

/** One of the primary's istiod's debug endpoints (/debug/<endpoint>) at its debug port, parsed. */
async function istiodDebug<T>(debugUrl: string, endpoint: string): Promise<T> {
    const url = new URL(`/debug/${endpoint}`, debugUrl);
    const body = await new Promise<string>((resolve, reject) => {
        http.get(url, { timeout: 5000 }, (res) => {
            let text = "";
            res.on("data", (d) => (text += d));
            res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        }).on("error", (err) => reject(new Error(`istiod's debug port ${url} does not answer: ${err.message}`)));
    });
    return JSON.parse(body) as T;
}

/** The service account whose token reads istiod's debug endpoints: one every namespace has, holding no rights of its own. */
const DEBUG_READER_ACCOUNT = "default";

/**
 * Reads istiod's debug endpoints over its xDS port at the address the remotes dial
 * (discoveryAddress), trusting the mesh's roots as istiod publishes them in its namespace, with a
 * ten-minute token of that namespace made through the primary's API server.
 */
async function xdsDebugReader(outputs: Record<string, any>, primary: KubeConfig): Promise<IstiodDebug> {
    const namespace = outputs.istioNamespace as string;
    const core = coreApi(primary);
    const roots = await core.readNamespacedConfigMap({ name: "istio-ca-root-cert", namespace });
    const token = await core.createNamespacedServiceAccountToken({ name: DEBUG_READER_ACCOUNT, namespace,
        body: { spec: { audiences: ["istio-ca"], expirationSeconds: 600 } } });
    const target = {
        address: withPort(outputs.discoveryAddress, 15012), trustedRoots: roots.data?.["root-cert.pem"] ?? "",
        serverName: `istiod.${namespace}.svc`, clusterId: outputs.clusterName, token: token.status!.token!,
        namespace, serviceAccount: DEBUG_READER_ACCOUNT,
    };
    return (endpoint) => istiodDebugOverXds(target, endpoint);
}

/**
 * What the primary's istiod says of each cluster it reads (its clusterz), with the reader of its
 * debug endpoints; undefined when it is not read. Asked with --istiod, at that debug port, whose
 * failure fails the command; else, where the primary exports a discoveryAddress, over its xDS
 * port, whose failure is said and leaves the view out.
 */
async function istiodView(debugUrl: string | undefined, outputs: Record<string, any>, primary: KubeConfig):
    Promise<{ clusters: Record<string, string>; read: IstiodDebug } | undefined> {
    const syncStatus = (clusters: Array<{ id: string; syncStatus: string }>) => Object.fromEntries(clusters.map((c) => [c.id, c.syncStatus]));
    if (debugUrl !== undefined) {
        const read: IstiodDebug = (endpoint) => istiodDebug(debugUrl, endpoint);
        return { clusters: syncStatus(await read("clusterz")), read };
    }
    if (!outputs.discoveryAddress) {
        return undefined;
    }
    try {
        const read = await xdsDebugReader(outputs, primary);
        return { clusters: syncStatus(await read("clusterz")), read };
    } catch (err) {
        // On stderr: with --json, stdout is the report alone.
        process.stderr.write(`mesh: istiod's view left out: ${(err as Error).message.split("\n")[0]}; ` +
            "with its debug port forwarded, `mesh status --istiod http://127.0.0.1:15014` reads it there\n");
        return undefined;
    }
}

/** A stack's exported east-west gateway, when it has one. */
function exportedGateway(outputs: Record<string, any>): ExportedGateway | undefined {
    return outputs.eastWestGatewayAddress ? { network: outputs.network, address: outputs.eastWestGatewayAddress } : undefined;
}

/** Who a remote's exported kubeconfig authenticates as, and which writes it may make. */
async function tokenFacts(kubeconfig: string, istio10: boolean): Promise<Pick<RemoteFacts, "tokenIdentity" | "allowedWrites">> {
    const { AuthenticationV1Api, AuthorizationV1Api } = kubeClientLibrary();
    const token = kubeConfigAt(kubeconfig);
    let username: string;
    try {
        const review = await token.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        });
        username = review.status!.userInfo!.username!;
    } catch (err) {
        const status = statusOf(err);
        return {
            tokenIdentity: { problem: status === 401 ? "token no longer authenticates (its secret was deleted or revoked)"
                : `token check failed: ${status || ""} ${(err as Error).message.split("\n")[0].slice(0, 120)}`.trim() },
            allowedWrites: [],
        };
    }
    // Today's reader account reads secrets by design (istiod resolves gateway credentials through it).
    const authz = token.makeApiClient(AuthorizationV1Api);
    const allowedWrites: string[] = [];
    for (const w of WRITES_TO_REFUSE.filter((w) => istio10 || w.verb !== "get")) {
        const review = await authz.createSelfSubjectAccessReview({
            body: { spec: { resourceAttributes: { verb: w.verb, resource: w.resource, group: w.group ?? "" } } },
        });
        if (review.status?.allowed) {
            allowedWrites.push(`${w.verb} ${w.resource}`);
        }
    }
    return { tokenIdentity: { username }, allowedWrites };
}

async function remoteFacts(
    remote: FleetStack, primary: KubeConfig, istioNamespace: string, istiod: Record<string, string> | undefined,
): Promise<RemoteFacts> {
    const outputs = await outputValues(await openStack(remote.name, false));
    const clusterName = (outputs.clusterName as string | undefined) ?? remote.name;
    if (!outputs.kubeconfig) {
        throw new UsageError(`stack "${remote.name}" has not been deployed; run \`mesh up\` first`);
    }
    // Istio 1.0's remotes register istio-multi under the cluster's name; today's, the reader account as istioctl does.
    const istio10 = outputs.meshModel === undefined;
    const secretName = (outputs.remoteSecretName as string | undefined) ?? clusterName;
    const account = istio10 ? "istio-multi" : "istio-reader-service-account";
    const secret = await unlessNotFound(coreApi(primary).readNamespacedSecret({ name: secretName, namespace: istioNamespace }));
    const registration = secret ? { labels: secret.metadata?.labels ?? {}, keys: Object.keys(secret.data ?? {}) } : undefined;
    const renderedWith = istio10 ? outputs.controlPlaneAddresses ?? {} : outputs.discoveryAddress ? { discoveryAddress: outputs.discoveryAddress } : {};
    return {
        stack: remote.name, clusterName, secretName, account, registration, renderedWith,
        ...await tokenFacts(outputs.kubeconfig, istio10),
        accountNamespace: (remote.config.istioNamespace as string | undefined) ?? "istio-system",
        istiodView: istiod === undefined ? undefined : istiod[clusterName] ?? "absent",
        caCertExpiry: outputs.caCertExpiry,
        gateway: exportedGateway(outputs),
    };
}

export async function status(json: boolean, istiodDebugUrl: string | undefined): Promise<number> {
    const { fleet } = await loadFleet(undefined, false, json ? sayOnStderr : say);
    const primaryStack = await openStack(fleet.primary.name, false);
    const outputs = await outputValues(primaryStack);
    if (!outputs.pilotAddress && !outputs.meshModel) {
        throw new UsageError(`stack "${fleet.primary.name}" has not been deployed; run \`mesh up\` first`);
    }
    const primary = await clusterConfig(primaryStack, fleet.primary, "kubeContext", "kubeconfig");
    const current = outputs.meshModel ? outputs : await currentPrimaryAddresses(fleet, outputs, primary);
    const istiod = await istiodView(istiodDebugUrl, outputs, primary);
    // Every remote at once: each row is a few reads of outputs and API calls, no CPU-bound run.
    const factsOf = new Map<string, RemoteFacts>();
    const rows: StatusRow[] = await Promise.all(fleet.remotes.map(async (remote): Promise<StatusRow> => {
        try {
            const facts = await remoteFacts(remote, primary, outputs.istioNamespace, istiod?.clusters);
            factsOf.set(remote.name, facts);
            return statusRow(facts, current, outputs.istioNamespace);
        } catch (err) {
            return { remote: remote.name, registered: false, addressesCurrent: false, tokenValid: false, readOnly: false,
                istiod: "-", problems: [(err as Error).message] };
        }
    }));
    const primaryView = outputs.meshModel ? { meshModel: outputs.meshModel, discoveryAddress: outputs.discoveryAddress } : { addresses: current };
    const clusters = [{ stack: fleet.primary.name, caCertExpiry: outputs.caCertExpiry, gateway: exportedGateway(outputs) },
        ...fleet.remotes.map((r) => ({ stack: r.name, ...factsOf.get(r.name) }))];
    const cas = caRows(clusters);
    // Each network's gateway, as the primary's istiod dials it (when istiod's view is read).
    const gateways = istiod === undefined || !clusters.some((c) => c.gateway) ? []
        : gatewayRows(clusters, await istiod.read("networkz"));
    say(json ? JSON.stringify({ primary: { stack: fleet.primary.name, ...primaryView }, remotes: rows, ca: cas, gateways }, null, 2)
        : [statusTable(rows), ...(cas.length > 0 ? [caTable(cas)] : []), ...(gateways.length > 0 ? [gatewayTable(gateways)] : [])].join("\n\n"));
    const broken = rows.filter((r) => r.problems.length > 0);
    if (!json && broken.length > 0) {
        const drifted = broken.filter((r) => !r.addressesCurrent).map((r) => r.remote);
        const other = broken.filter((r) => !r.registered || !r.tokenValid || !r.readOnly).map((r) => r.remote);
        say(`\nto fix:${drifted.length ? " `mesh heal` (drift);" : ""}${other.length ? ` \`mesh up --remotes ${other.join(",")}\`` : ""}`);
    }
    return broken.length === 0 && cas.every((c) => c.state !== "EXPIRED") && gateways.every((g) => g.istiod === "listed") ? 0 : 1;
}
