import { ConfigError } from "../config/errors";

/** Helm values: a tree of plain JSON. */
export type Values = { [key: string]: unknown };

/** The control-plane endpoints and switches the primary stack exports. */
export interface PrimaryEndpoints {
    /** Pilot's address (pod IP, load balancer or gateway address). */
    readonly pilotAddress: string;
    /** Mixer policy's address. */
    readonly policyAddress: string;
    /** Mixer telemetry's address. */
    readonly telemetryAddress: string;
    /** Zipkin's (Jaeger's) address. */
    readonly zipkinAddress: string;
    /** The statsd bridge's address; absent when the primary has none (Istio ≥ 1.0.3). */
    readonly statsdAddress?: string;
    /** The primary's Istio namespace. */
    readonly istioNamespace: string;
    /** global.controlPlaneSecurityEnabled on the primary. */
    readonly controlPlaneSecurityEnabled: boolean;
    /** global.mtls.enabled on the primary. */
    readonly mtlsEnabled: boolean;
    /** security.selfSigned on the primary. */
    readonly selfSignedCa: boolean;
    /** The primary's pod range, when configured. */
    readonly podCidr?: string;
    /** The primary's service range, when configured. */
    readonly serviceCidr?: string;
}

/** The security switches both charts share. */
export interface SecuritySettings {
    /** global.controlPlaneSecurityEnabled. */
    readonly controlPlaneSecurityEnabled: boolean;
    /** global.mtls.enabled. */
    readonly mtlsEnabled: boolean;
    /** security.selfSigned: false means Citadel uses the `cacerts` secret. */
    readonly selfSignedCa: boolean;
}

/** The values of the `istio` chart on the primary, derived from the stack's switches. */
export function primaryChartValues(security: SecuritySettings): Values {
    return securityValues(security);
}

/** What the remote stack decides for itself. */
export interface RemoteSettings {
    /** sidecarInjectorWebhook.enabled: automatic injection (off for manual injection). */
    readonly sidecarInjector: boolean;
    /** global.remotePilotCreateSvcEndpoint: make `istio-pilot.<ns>` resolvable in the remote. */
    readonly remotePilotCreateSvcEndpoint: boolean;
}

/** The values of the `istio-remote` chart, every one derived from the primary's outputs. */
export function remoteChartValues(primary: PrimaryEndpoints, remote: RemoteSettings): Values {
    const statsd = primary.statsdAddress;
    const values = securityValues(primary);
    return {
        ...values,
        global: {
            ...(values.global as Values),
            remotePilotAddress: primary.pilotAddress,
            remotePolicyAddress: primary.policyAddress,
            remoteTelemetryAddress: primary.telemetryAddress,
            remoteZipkinAddress: primary.zipkinAddress,
            remotePilotCreateSvcEndpoint: remote.remotePilotCreateSvcEndpoint,
            // The statsd bridge is gone from Istio ≥ 1.0.3: Envoy's statsd goes on exactly when the primary has one.
            proxy: { envoyStatsd: statsd ? { enabled: true, host: statsd } : { enabled: false } },
        },
        sidecarInjectorWebhook: { enabled: remote.sidecarInjector },
    };
}

function securityValues(s: SecuritySettings): Values {
    return {
        global: { controlPlaneSecurityEnabled: s.controlPlaneSecurityEnabled, mtls: { enabled: s.mtlsEnabled } },
        security: { selfSigned: s.selfSignedCa },
    };
}

/**
 * Lays the derived values over the user's extra `values`. A derived value the user also set to
 * something else is an error: those are the program's to decide, and a silent override is how a
 * remote ends up pointing at the wrong pilot.
 */
export function mergeValues(user: Values, derived: Values, pathPrefix = "values"): Values {
    const merged: Values = { ...user };
    for (const [key, value] of Object.entries(derived)) {
        const keyPath = `${pathPrefix}.${key}`;
        const mine = user[key];
        if (isTree(value)) {
            if (mine !== undefined && !isTree(mine)) {
                throw conflict(keyPath, mine);
            }
            merged[key] = mergeValues((mine as Values) ?? {}, value, keyPath);
        } else {
            if (mine !== undefined && JSON.stringify(mine) !== JSON.stringify(value)) {
                throw conflict(keyPath, mine);
            }
            merged[key] = value;
        }
    }
    return merged;
}

function conflict(keyPath: string, value: unknown): ConfigError {
    return new ConfigError(keyPath, value,
        "this chart value is derived by the program (from the stack's config and the primary's outputs)",
        `remove it from \`values\` and set the matching config key instead (see the README's config reference)`);
}

function isTree(value: unknown): value is Values {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` in `values`; undefined where a key on the way is missing. */
export function valueAt(values: Values, path: readonly string[]): unknown {
    return path.reduce<unknown>((v, key) => (isTree(v) ? v[key] : undefined), values);
}

/** `values` without the key at `path`, and without the maps that emptied on the way (the rest shared, not copied). */
export function without(values: Values, path: readonly string[]): Values {
    const [key, ...rest] = path;
    if (!(key in values)) {
        return values;
    }
    const { [key]: inner, ...others } = values;
    if (rest.length === 0) {
        return others;
    }
    if (!isTree(inner)) {
        return values;
    }
    const kept = without(inner, rest);
    return Object.keys(kept).length === 0 ? others : { ...others, [key]: kept };
}
