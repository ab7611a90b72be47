import { daysLeft } from "../lib/ca/ca";

/** What `mesh status` found about one remote. */
export interface RemoteFacts {
    /** The remote's stack. */
    readonly stack: string;
    /** Its cluster name (the registration secret's key). */
    readonly clusterName: string;
    /** The registration secret's name: the cluster name (istio-1.0) or istio-remote-secret-<cluster>. */
    readonly secretName: string;
    /** The service account the registered token must authenticate as: istio-multi, or istio-reader-service-account. */
    readonly account: string;
    /** The remote's Istio namespace, where that account lives. */
    readonly accountNamespace: string;
    /** The registration secret in the primary, or undefined when there is none. */
    readonly registration?: { readonly labels: Record<string, string>; readonly keys: string[] };
    /** The primary addresses the remote was last rendered with (its `controlPlaneAddresses` or `discoveryAddress` output). */
    readonly renderedWith: Record<string, string>;
    /** The primary istiod's own view of this cluster (its syncStatus, or "absent"); undefined when not asked. */
    readonly istiodView?: string;
    /** Who the remote's istio-multi token authenticates as, or why it does not. */
    readonly tokenIdentity: { readonly username?: string; readonly problem?: string };
    /** The writes (or secret reads) the token is allowed, which must be none. */
    readonly allowedWrites: string[];
    /** When the CA its istiod signs with expires, when it has one of its own (a multi-primary peer). */
    readonly caCertExpiry?: string;
    /** Its network and east-west gateway address, when it has a gateway. */
    readonly gateway?: ExportedGateway;
}

/** One row of `mesh status`. */
export interface StatusRow {
    /** The remote's stack. */
    readonly remote: string;
    /** Registered in the primary: the secret exists, is labelled, and has the one right key. */
    readonly registered: boolean;
    /** Rendered with the primary's current addresses. */
    readonly addressesCurrent: boolean;
    /** The token still authenticates as the reading account. */
    readonly tokenValid: boolean;
    /** istiod's view: synced, syncing, timeout, absent, or "-" when not asked. */
    readonly istiod: string;
    /** The account can read but not write. */
    readonly readOnly: boolean;
    /** Each problem, in words. */
    readonly problems: string[];
}

/** The addresses that moved: output name → [rendered, current]. */
export function drift(renderedWith: Record<string, string>, current: Record<string, string | undefined>): Record<string, [string, string]> {
    const moved: Record<string, [string, string]> = {};
    for (const output of Object.keys(renderedWith)) {
        const was = renderedWith[output];
        const now = current[output];
        if (was !== undefined && now !== undefined && was !== now) {
            moved[output] = [was, now];
        }
    }
    return moved;
}

/** Judges one remote from what was found. */
export function statusRow(facts: RemoteFacts, currentAddresses: Record<string, string | undefined>, istioNamespace: string): StatusRow {
    const problems: string[] = [];
    const reg = facts.registration;
    if (!reg) {
        problems.push(`no registration secret ${istioNamespace}/${facts.secretName} in the primary`);
    } else {
        if (reg.labels["istio/multiCluster"] !== "true") {
            problems.push("registration secret lacks the label istio/multiCluster=true");
        }
        if (reg.keys.length !== 1 || reg.keys[0] !== facts.clusterName) {
            problems.push(`registration secret's keys are [${reg.keys.join(", ")}], expected [${facts.clusterName}]`);
        }
    }
    const moved = drift(facts.renderedWith, currentAddresses);
    for (const [output, [was, now]] of Object.entries(moved)) {
        problems.push(`drift: ${output} is ${was} in the remote, the primary's is now ${now}`);
    }
    const expected = `system:serviceaccount:${facts.accountNamespace}:${facts.account}`;
    const tokenValid = facts.tokenIdentity.username === expected;
    if (!tokenValid) {
        problems.push(facts.tokenIdentity.problem ?? `token authenticates as ${facts.tokenIdentity.username}, expected ${expected}`);
    }
    if (facts.allowedWrites.length > 0) {
        problems.push(`${facts.account} is not read-only: it may ${facts.allowedWrites.join(", ")}`);
    }
    if (facts.istiodView !== undefined && facts.istiodView !== "synced") {
        problems.push(facts.istiodView === "absent" ? "the primary's istiod does not list this cluster"
            : `the primary's istiod reports this cluster ${facts.istiodView}`);
    }
    return {
        remote: facts.stack,
        registered: !!reg && problems.every((p) => !p.startsWith("registration") && !p.startsWith("no registration")),
        addressesCurrent: Object.keys(moved).length === 0,
        tokenValid,
        istiod: facts.istiodView ?? "-",
        readOnly: facts.allowedWrites.length === 0,
        problems,
    };
}

/** The status table, one row per remote. */
export function statusTable(rows: StatusRow[]): string {
    const mark = (ok: boolean) => (ok ? "ok" : "PROBLEM");
    const width = Math.max(6, ...rows.map((r) => r.remote.length));
    const lines = [`${"remote".padEnd(width)}  registered  addresses  token    read-only  istiod   problems`];
    for (const r of rows) {
        lines.push(`${r.remote.padEnd(width)}  ${mark(r.registered).padEnd(10)}  ${(r.addressesCurrent ? "current" : "DRIFT").padEnd(9)}  ` +
            `${mark(r.tokenValid).padEnd(7)}  ${mark(r.readOnly).padEnd(9)}  ${r.istiod.padEnd(7)}  ${r.problems.join("; ") || "-"}`);
    }
    return lines.join("\n");
}

/** Below this many days left, `mesh status` warns of a cluster's CA. */
export const CA_WARNING_DAYS = 30;

/** One cluster's CA in `mesh status`: when the CA its istiod signs with expires. */
export interface CaRow {
    /** The cluster's stack. */
    readonly stack: string;
    /** When its CA expires (ISO 8601). */
    readonly expires: string;
    /** Whole days left (negative once expired). */
    readonly daysLeft: number;
    /** `ok`, `WARNING` (under CA_WARNING_DAYS left) or `EXPIRED`. */
    readonly state: "ok" | "WARNING" | "EXPIRED";
}

/** The CA rows of the clusters that export `caCertExpiry` (those whose istiod signs with a plugged-in CA). */
export function caRows(clusters: ReadonlyArray<{ readonly stack: string; readonly caCertExpiry?: string }>, now: Date = new Date()): CaRow[] {
    return clusters.filter((c) => c.caCertExpiry !== undefined).map((c) => {
        const left = daysLeft(c.caCertExpiry!, now);
        const expired = Date.parse(c.caCertExpiry!) <= now.getTime();
        return { stack: c.stack, expires: c.caCertExpiry!, daysLeft: left, state: expired ? "EXPIRED" : left < CA_WARNING_DAYS ? "WARNING" : "ok" };
    });
}

/** The CA table: each cluster's CA expiry, with what to do about one near or past it. */
export function caTable(rows: CaRow[]): string {
    const width = Math.max(7, ...rows.map((r) => r.stack.length));
    const lines = [`${"cluster".padEnd(width)}  CA expires                days left  state`];
    for (const r of rows) {
        const advice = r.state === "ok" ? "" : "  renew it: raise ca.rotate.<cluster> on the primary (or give a new cacerts) and `mesh up`";
        lines.push(`${r.stack.padEnd(width)}  ${r.expires.padEnd(24)}  ${String(r.daysLeft).padStart(9)}  ${r.state}${advice}`);
    }
    return lines.join("\n");
}

/** A network's east-west gateway as a stack exported it (`network`, `eastWestGatewayAddress`). */
export interface ExportedGateway {
    readonly network: string;
    readonly address: string;
}

/** One gateway in `mesh status --istiod`: what a stack exported, and whether the primary's istiod lists it there. */
export interface GatewayRow extends ExportedGateway {
    /** The stack that exported it. */
    readonly stack: string;
    /** `listed` when istiod's /debug/networkz has this network's gateway at this address (15443), else `ABSENT`. */
    readonly istiod: "listed" | "ABSENT";
}

/** The port every istiod dials another network's east-west gateway on. */
const CROSS_NETWORK_PORT = 15443;

/**
 * The gateways the stacks exported, each checked against istiod's own list (its /debug/networkz
 * entries: Network, Addr, Port); stacks without a gateway have no row.
 */
export function gatewayRows(stacks: ReadonlyArray<{ readonly stack: string; readonly gateway?: ExportedGateway }>,
    networkz: ReadonlyArray<{ readonly Network: string; readonly Addr: string; readonly Port: number }>): GatewayRow[] {
    return stacks.filter((s) => s.gateway !== undefined).map(({ stack, gateway }) => ({
        stack, ...gateway!,
        istiod: networkz.some((g) => g.Network === gateway!.network && g.Addr === gateway!.address && g.Port === CROSS_NETWORK_PORT)
            ? "listed" : "ABSENT",
    }));
}

/** The gateway table: each network's east-west gateway, and whether istiod dials it there. */
export function gatewayTable(rows: GatewayRow[]): string {
    const width = Math.max(7, ...rows.map((r) => r.network.length));
    const gateways = rows.map((r) => `${r.address}:${CROSS_NETWORK_PORT}`);
    const gatewayWidth = Math.max(7, ...gateways.map((g) => g.length));
    const stackWidth = Math.max(5, ...rows.map((r) => r.stack.length));
    const lines = [`${"network".padEnd(width)}  ${"gateway".padEnd(gatewayWidth)}  ${"stack".padEnd(stackWidth)}  istiod`];
    rows.forEach((r, i) => {
        const advice = r.istiod === "listed" ? "" : "  istiod does not dial this network there: is the gateway Service labelled topology.istio.io/network?";
        lines.push(`${r.network.padEnd(width)}  ${gateways[i].padEnd(gatewayWidth)}  ${r.stack.padEnd(stackWidth)}  ${r.istiod}${advice}`);
    });
    return lines.join("\n");
}
