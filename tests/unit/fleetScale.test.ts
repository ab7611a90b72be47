import * as assert from "assert";
import { fleetChart, FleetPoint, fleetTable, perAddedRemote } from "../../bench/fleetScale";

const point = (remotes: number, up: number, clusterMemory: number): FleetPoint =>
    ({ remotes, up, preview: up / 2, status: 1 + remotes / 10, clusterMemory, runMemory: 300 + 100 * remotes });
const POINTS = [point(1, 10, 1400), point(3, 14, 2800), point(6, 20, 4900), point(14, 36, 10500)];

describe("the bench's fleet figures", () => {
    describe("perAddedRemote", () => {
        it("is the slope of the least-squares line: what one more remote adds", () => {
            assert.strictEqual(perAddedRemote(POINTS, "up"), 2);
            assert.strictEqual(perAddedRemote(POINTS, "runMemory"), 100);
            assert.strictEqual(perAddedRemote(POINTS, "clusterMemory"), 700);
        });
        it("is zero for one fleet size, which gives no slope", () => {
            assert.strictEqual(perAddedRemote([point(3, 14, 2800)], "up"), 0);
        });
    });

    describe("fleetTable", () => {
        it("has a column per fleet size and each series' cost per added remote", () => {
            const table = fleetTable(POINTS);
            assert.match(table, /^\| remotes +\| +1 \| +3 \| +6 \| +14 \| per added remote \|$/m);
            assert.match(table, /^\| mesh up \(s\) +\| +10\.00 \| +14\.00 \| +20\.00 \| +36\.00 \| +2\.00 \|$/m);
            assert.match(table, /^\| local clusters' memory \(MiB\) \| +1400 \| +2800 \| +4900 \| +10500 \| +700\.0 \|$/m);
        });
    });

    describe("fleetChart", () => {
        const svg = fleetChart(POINTS, "2 cores");
        const polyline = (series: string) => new RegExp(`<polyline [^>]*data-series="${series}" points="([^"]+)"`).exec(svg)![1]
            .split(" ").map((xy) => xy.split(",").map(Number));
        it("is an SVG document with a line per series, a point per fleet size", () => {
            assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
            assert.match(svg, /<\/svg>\n$/);
            for (const series of ["up", "preview", "status", "clusterMemory", "runMemory"]) {
                assert.strictEqual(polyline(series).length, POINTS.length, series);
            }
        });
        it("places more remotes further right and more seconds higher (SVG's y grows downwards)", () => {
            const up = polyline("up");
            for (let i = 1; i < up.length; i++) {
                assert.ok(up[i][0] > up[i - 1][0] && up[i][1] < up[i - 1][1], `point ${i}: ${up[i]} after ${up[i - 1]}`);
            }
        });
        it("scales each panel's axis to a round bound above its largest value", () => {
            assert.match(svg, />50<\/text>/, "seconds up to 36: an axis to 50");
            assert.match(svg, />20000<\/text>/, "MiB up to 10500: an axis to 20000");
        });
    });
});
