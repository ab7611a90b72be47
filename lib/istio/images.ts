// Istio's current charts take their images from `global.hub` and `global.tag`. A chart's default
// tag is whatever it was built with (a test build, for charts taken from Istio's source), and
// images of another release than the charts' templates may not work with them: say so at preview.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { CHARTS } from "./charts";
import { ChartSource, StackConfig } from "../config/config";
import { Values } from "./values";

/** MAJOR.MINOR of a version or image tag (`1.24.2`, `1.24-dev`, `v1.24.0-distroless`); undefined when it has none. */
export function releaseOf(version: string): string | undefined {
    return /^v?(\d+\.\d+)(?:[.-]|$)/.exec(version)?.[1];
}

/** The Istio release the charts are of: chartVersion from a repository, else the istiod chart's appVersion (or version). */
export function chartsVersion(source: ChartSource): string | undefined {
    if (source.kind === "repo") {
        return source.version;
    }
    const file = path.join(source.dir, CHARTS.istiod.dir, "Chart.yaml");
    try {
        const chart = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { appVersion?: unknown; version?: unknown };
        const version = chart.appVersion ?? chart.version;
        return version === undefined ? undefined : String(version);
    } catch {
        return undefined;
    }
}

/**
 * Why the images an istiod stack's charts will run may be the wrong ones, or undefined: no
 * `values.global.tag` (the charts' own default then applies), or a tag of another release than the
 * charts'. Istio 1.0's charts name their release's images themselves.
 */
export function imageWarning(values: Values, version: string | undefined): string | undefined {
    const tag = (values.global as Values | undefined)?.tag;
    const fix = `set values.global.tag (and global.hub for your registry) to the Istio release of the charts${version ? `, ${version}` : ""}`;
    if (tag === undefined || tag === "") {
        return `values.global.tag is not set, so Istio's charts run the images their own values name (for charts built ` +
            `from Istio's source, a test build): ${fix}`;
    }
    const tagRelease = releaseOf(String(tag));
    const chartRelease = version === undefined ? undefined : releaseOf(version);
    if (tagRelease !== undefined && chartRelease !== undefined && tagRelease !== chartRelease) {
        return `values.global.tag ${tag} is of Istio ${tagRelease}, and the charts are of ${chartRelease} (${version}); ` +
            `istiod and proxies of another release than the charts' templates may not work with them: ${fix}`;
    }
    return undefined;
}

/**
 * Warns (at preview and up) when an istiod stack's images may not be the charts' release. A primary
 * with revisions is not warned: each revision's tag is checked against its own charts, and refused.
 */
export function warnAboutImages(config: StackConfig): void {
    if (config.meshModel === "istio-1.0" || ("revisions" in config && config.revisions !== undefined)) {
        return;
    }
    const warning = imageWarning(config.values, chartsVersion(config.chart));
    if (warning !== undefined) {
        pulumi.log.warn(warning);
    }
}
