// The Istio charts each model installs, in one list: the config check looks for exactly the charts
// the installation will install, the east-west gateway's included.
import { ChartSource, MeshModel, Role } from "../config/config";
import { Values } from "./values";

/** One of Istio's charts: its name in a chart repository, and its directory in a release's chart tree. */
export interface ChartRef {
    /** The chart's name where Istio publishes it (`helm install <release> istio/<name>`). */
    readonly name: string;
    /** Its directory under chartDir (a release's manifests/charts, or Istio 1.0's install/kubernetes/helm). */
    readonly dir: string;
}

/** The charts, by what they are. */
export const CHARTS = {
    /** Istio 1.0's control plane. */
    istio: { name: "istio", dir: "istio" },
    /** Istio 1.0's remote components. */
    istioRemote: { name: "istio-remote", dir: "istio-remote" },
    /** Istio's CRDs and cluster roles (the reader account too). */
    base: { name: "base", dir: "base" },
    /** istiod, or with the `remote` profile the pieces of a cluster another istiod serves. */
    istiod: { name: "istiod", dir: "istio-control/istio-discovery" },
    /** A gateway; with `networkGateway`, a network's east-west gateway. */
    gateway: { name: "gateway", dir: "gateway" },
} as const satisfies Record<string, ChartRef>;

/** The charts a stack of `model` and `role` installs, in order (the gateway's only with an east-west gateway). */
export function chartsOf(model: MeshModel, role: Role, eastWestGateway: boolean): ChartRef[] {
    if (model === "istio-1.0") {
        return [role === "primary" ? CHARTS.istio : CHARTS.istioRemote];
    }
    return [CHARTS.base, CHARTS.istiod, ...(eastWestGateway ? [CHARTS.gateway] : [])];
}

/** One chart of an installation: the chart, the release it is installed as, and its values. */
export interface ChartInstall {
    /** The chart. */
    readonly chart: ChartRef;
    /** The release name (also the resource name's suffix in Pulumi's state). */
    readonly release: string;
    /** Its values, derived values already merged in. */
    readonly values: Values;
    /** Where this chart comes from, when not the installation's charts (a revision's own). */
    readonly source?: ChartSource;
}
