// Chart values and names for the istiod models (primary-remote, multi-primary), on Istio's own
// `base` and `istiod` charts. Pure functions: every value a cluster gets is derived here from its
// config and its primary's outputs.
import * as net from "net";
import { ChartInstall, CHARTS } from "./charts";
import { MeshIdentity, RevisionConfig } from "../config/config";
import { eastWestGatewayChart, EastWestGatewaySettings } from "./eastWestGateway";
import { hostOf, withPort } from "../config/net";
import { revisionBaseValues, revisionValues } from "./revisionCharts";
import { mergeValues, valueAt, Values, without } from "./values";

/** The service account `base` creates for other clusters' istiods to read this one. */
export const READER_ACCOUNT = "istio-reader-service-account";

/** The token secret of the reader account, named as `istioctl create-remote-secret` names it. */
export const READER_TOKEN_SECRET = `${READER_ACCOUNT}-istio-remote-secret-token`;

/** The annotation naming the cluster a remote secret or a namespace's control plane belongs to. */
export const CLUSTER_ANNOTATION = "networking.istio.io/cluster";

/** The label (on the Istio namespace) that puts a cluster on a network. */
export const NETWORK_LABEL = "topology.istio.io/network";

/** The annotation (on a remote's Istio namespace) naming the clusters whose istiod serves it. */
export const CONTROL_PLANE_CLUSTERS_ANNOTATION = "topology.istio.io/controlPlaneClusters";

/** The registration secret of `clusterName` in another cluster, named as istioctl names it. */
export function remoteSecretName(clusterName: string): string {
    return `istio-remote-secret-${clusterName}`;
}

/** The port of istiod's injection webhook. */
const WEBHOOK_PORT = 15017;

/** Values of the `base` chart: Istio's CRDs and the reader account; `remote` for a cluster without istiod. */
export function baseValues(namespace: string, remote: boolean): Values {
    return { ...(remote ? { profile: "remote" } : {}), global: { istioNamespace: namespace } };
}

/** What a cluster running istiod sets: its mesh identity, and whether istiod serves other clusters' proxies. */
export function istiodValues(namespace: string, mesh: MeshIdentity, externalIstiod: boolean): Values {
    return {
        global: {
            istioNamespace: namespace,
            meshID: mesh.meshID,
            multiCluster: { clusterName: mesh.clusterName },
            network: mesh.network,
            ...(externalIstiod ? { externalIstiod: true } : {}),
        },
    };
}

/**
 * The `istiod` chart's values where istiod signs with a plugged-in CA: a multi-root mesh, whose
 * proxies take their trust bundle from istiod (through their agent's xDS proxy), so that a second
 * root can be added, used and the first dropped while traffic flows. (istiod reloads a changed
 * `cacerts` by itself since Istio 1.19; 1.18 and older needed AUTO_RELOAD_PLUGIN_CERTS in `values.pilot.env`.)
 */
export const PLUGIN_CA_VALUES: Values = {
    ...istiodEnv({ ISTIO_MULTIROOT_MESH: "true" }),
    meshConfig: { defaultConfig: { proxyMetadata: { PROXY_CONFIG_XDS_AGENT: "true" } } },
};

/**
 * istiod's environment as every release of the `istiod` chart reads it: under `pilot.env`. Charts
 * before mid-2024 read only that; later ones copy everything under `pilot` over the top level
 * (where `env` alone would be dropped by the older ones).
 */
export function istiodEnv(env: Record<string, string>): Values {
    return { pilot: { env } };
}

/** What the primary of a primary-remote mesh tells its remotes. */
export interface DiscoveryEndpoints {
    /** Where the remotes' proxies reach istiod (15012) and, through the istiod Service, its webhook (15017). */
    readonly discoveryAddress: string;
    /** HOST[:PORT] where the remotes' API servers reach the injection webhook directly, when set. */
    readonly injectionAddress?: string;
}

/**
 * Values of the `istiod` chart with the `remote` profile: no istiod in this cluster, an `istiod`
 * Service pointing at the primary's, and the injection webhook asking the primary's istiod to
 * inject for this cluster and network: through that Service when the discovery address is an IP,
 * else (and whenever an injection address is given) at an explicit URL.
 */
export function remoteIstiodValues(namespace: string, mesh: MeshIdentity, primary: DiscoveryEndpoints): Values {
    const injectionPath = `/inject/cluster/${mesh.clusterName}/net/${mesh.network}`;
    const injectionAddress = webhookAddress(primary.discoveryAddress, primary.injectionAddress);
    const injectionUrl = injectionAddress === undefined ? undefined
        : `https://${withPort(injectionAddress, WEBHOOK_PORT)}${injectionPath}`;
    return {
        profile: "remote",
        global: {
            istioNamespace: namespace,
            meshID: mesh.meshID,
            multiCluster: { clusterName: mesh.clusterName },
            network: mesh.network,
            remotePilotAddress: primary.discoveryAddress,
        },
        istiodRemote: injectionUrl === undefined ? { injectionPath } : { injectionPath, injectionURL: injectionUrl },
    };
}

/**
 * HOST[:PORT] where the remotes' API servers call the primary's injection webhook by URL, or
 * undefined when they go through their `istiod` Service. A host name becomes an ExternalName
 * Service `istiod`, which maps no port: the webhook would call <host>:443, where neither istiod
 * nor the east-west gateway listens, so a host name is called on 15017 by URL, as an injection
 * address always is.
 */
function webhookAddress(discoveryAddress: string | undefined, injectionAddress: string | undefined): string | undefined {
    return injectionAddress ?? (discoveryAddress === undefined || net.isIP(discoveryAddress) ? undefined : discoveryAddress);
}

/**
 * The `istiod` chart's values that put the host the remotes' API servers call by URL (an
 * injection address, or a host-name discovery address) into istiod's serving certificate
 * (`ISTIOD_CUSTOM_HOST`): an API server checks the certificate against the URL's host, and
 * istiod's names only its Services otherwise. Hosts the user set there are kept: they are taken
 * into the derived value, and `user` comes back without them, so that the two do not conflict.
 */
export function webhookHostValues(primary: Partial<DiscoveryEndpoints>, user: Values): { istiod: Values; user: Values } {
    const address = webhookAddress(primary.discoveryAddress, primary.injectionAddress);
    if (address === undefined) {
        return { istiod: {}, user };
    }
    // The user's hosts, wherever the chart reads them from (`env`, `pilot.env`), taken into the derived value.
    const paths = [["env", "ISTIOD_CUSTOM_HOST"], ["pilot", "env", "ISTIOD_CUSTOM_HOST"]];
    const own = paths.flatMap((p) => String(valueAt(user, p) ?? "").split(",")).filter((h) => h !== "");
    return {
        istiod: istiodEnv({ ISTIOD_CUSTOM_HOST: [...new Set([...own, hostOf(address)])].join(",") }),
        user: paths.reduce(without, user),
    };
}

/** One `istiod` release of a cluster: a revision's (`istiod-<rev>`, from its charts), or the one without a revision. */
export interface IstiodRelease {
    /** The revision, absent for the installation without one. */
    readonly revision?: RevisionConfig;
    /** Its derived values (istiodValues() or remoteIstiodValues(), with the revision's). */
    readonly values: Values;
}

/**
 * A cluster's `istiod` releases: one per revision (its values with the revision's), or, without
 * revisions, the one release without a revision. `valuesFor` derives a release's values.
 */
export function istiodReleases(revisions: readonly RevisionConfig[] | undefined, valuesFor: (revision?: RevisionConfig) => Values): IstiodRelease[] {
    return revisions === undefined ? [{ values: valuesFor() }]
        : revisions.map((revision) => ({ revision, values: mergeValues(valuesFor(revision), revisionValues(revision)) }));
}

/** The release name of an `istiod` release. */
export function istiodReleaseName(release: IstiodRelease): string {
    return release.revision === undefined ? "istiod" : `istiod-${release.revision.name}`;
}

/**
 * The charts of a cluster in an istiod mesh: `base`, then each `istiod` release, each with the
 * user's extra values under the derived ones, then the east-west gateway for `eastWestNetwork` when
 * given. With revisions, `base` (Istio's CRDs) comes from the last revision's charts, the newest
 * as a canary is added, and its default validator calls the `default` tag's revision. A `remote`
 * profile also gives `base` the remote profile. Once istiod has made its validating webhooks
 * fail-closed (`validationFailClosed`), the charts render them so, unless the user chose their failure policy.
 */
export function istiodCharts(user: Values, namespace: string, istiods: readonly IstiodRelease[], validationFailClosed: boolean,
    eastWest?: EastWestGatewaySettings, tags?: Readonly<Record<string, string>>): ChartInstall[] {
    const userPolicy = (user.base as Values | undefined)?.validationFailurePolicy;
    const validation: Values = validationFailClosed && userPolicy === undefined ? { base: { validationFailurePolicy: "Fail" } } : {};
    const newest = istiods[istiods.length - 1].revision;
    const base = mergeValues(baseValues(namespace, istiods[0].values.profile === "remote"), tags === undefined ? {} : revisionBaseValues(tags));
    return [
        { chart: CHARTS.base, release: "base", source: newest?.chart, values: mergeValues(user, mergeValues(base, validation)) },
        ...istiods.map((release) => ({
            chart: CHARTS.istiod, release: istiodReleaseName(release), source: release.revision?.chart,
            // A revision's image tag is its own: the stack's `global.tag` gives way to it.
            values: mergeValues(release.revision?.tag === undefined ? user : without(user, ["global", "tag"]), mergeValues(release.values, validation)),
        })),
        ...(eastWest === undefined ? [] : [eastWestGatewayChart(user, eastWest)]),
    ];
}
