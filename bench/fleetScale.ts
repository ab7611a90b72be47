// The bench's fleet figures as the number of remotes grows: the cost of each added remote (a
// least-squares line through the measured sizes) and an SVG chart of time and memory against the
// fleet's size, which the bench writes into docs/.

/** What the bench measured at one fleet size. */
export interface FleetPoint {
    /** How many remotes. */
    readonly remotes: number;
    /** `mesh up` of them all from nothing joined, seconds. */
    readonly up: number;
    /** `mesh preview` of the primary and them all, no change, seconds. */
    readonly preview: number;
    /** `mesh status`, seconds. */
    readonly status: number;
    /** The local clusters' memory with the fleet joined, MiB (all of them, the primary included). */
    readonly clusterMemory: number;
    /** The peak memory of `mesh up` and every process it ran (Pulumi, language hosts, providers), MiB. */
    readonly runMemory: number;
}

/** The series the bench reports and charts, with their units. */
export const SERIES = [
    { key: "up", label: "mesh up", unit: "s" },
    { key: "preview", label: "mesh preview (no change)", unit: "s" },
    { key: "status", label: "mesh status", unit: "s" },
    { key: "clusterMemory", label: "local clusters' memory", unit: "MiB" },
    { key: "runMemory", label: "mesh up's peak memory", unit: "MiB" },
] as const;

type SeriesKey = typeof SERIES[number]["key"];

/** The slope of the least-squares line through the points: what one more remote adds. */
export function perAddedRemote(points: readonly FleetPoint[], key: SeriesKey): number {
    const n = points.length;
    const meanX = points.reduce((s, p) => s + p.remotes, 0) / n;
    const meanY = points.reduce((s, p) => s + p[key], 0) / n;
    const sxx = points.reduce((s, p) => s + (p.remotes - meanX) ** 2, 0);
    return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.remotes - meanX) * (p[key] - meanY), 0) / sxx;
}

/** One line per series: its value at each size, and what each added remote costs. */
export function fleetTable(points: readonly FleetPoint[]): string {
    const sizes = points.map((p) => p.remotes);
    const labels = SERIES.map((s) => `${s.label} (${s.unit})`);
    const width = Math.max(...labels.map((l) => l.length));
    const header = `| ${"remotes".padEnd(width)} | ${sizes.map((s) => String(s).padStart(7)).join(" | ")} | per added remote |`;
    const rule = `|${"-".repeat(width + 2)}|${sizes.map(() => "--------:").join("|")}|-----------------:|`;
    const rows = SERIES.map((s, i) => {
        const digits = s.unit === "s" ? 2 : 0;
        return `| ${labels[i].padEnd(width)} | ${points.map((p) => p[s.key].toFixed(digits).padStart(7)).join(" | ")} | ` +
            `${perAddedRemote(points, s.key).toFixed(digits === 0 ? 1 : 2).padStart(16)} |`;
    });
    return [header, rule, ...rows].join("\n");
}

const WIDTH = 420;
const HEIGHT = 260;
const MARGIN = { left: 56, right: 16, top: 28, bottom: 40 };
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#d62728"];

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least the largest value. */
function axisMax(value: number): number {
    const power = 10 ** Math.floor(Math.log10(Math.max(value, 1e-9)));
    return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value)!;
}

function escapeXml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** One panel: the given series against the number of remotes, on a shared axis from zero. */
function panel(points: readonly FleetPoint[], keys: readonly SeriesKey[], title: string, unit: string, offsetX: number): string {
    const series = SERIES.filter((s) => keys.includes(s.key));
    const maxX = Math.max(...points.map((p) => p.remotes));
    const maxY = axisMax(Math.max(...series.flatMap((s) => points.map((p) => p[s.key]))));
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (remotes: number) => offsetX + MARGIN.left + (remotes / maxX) * plotW;
    const y = (value: number) => MARGIN.top + plotH - (value / maxY) * plotH;
    const parts = [
        `<text x="${offsetX + WIDTH / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
        `<line x1="${x(0)}" y1="${y(0)}" x2="${x(maxX)}" y2="${y(0)}" stroke="#000"/>`,
        `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(maxY)}" stroke="#000"/>`,
        `<text x="${x(0) - 6}" y="${y(maxY) + 4}" text-anchor="end">${maxY}</text>`,
        `<text x="${x(0) - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`,
        `<text x="${offsetX + 14}" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 ${offsetX + 14} ${MARGIN.top + plotH / 2})" text-anchor="middle">${unit}</text>`,
        ...points.map((p) => `<text x="${x(p.remotes)}" y="${y(0) + 16}" text-anchor="middle">${p.remotes}</text>`),
        `<text x="${x(maxX / 2)}" y="${HEIGHT - 6}" text-anchor="middle">remotes</text>`,
    ];
    series.forEach((s, i) => {
        const colour = COLOURS[SERIES.indexOf(s)];
        parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" data-series="${s.key}" ` +
            `points="${points.map((p) => `${x(p.remotes).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(" ")}"/>`);
        parts.push(...points.map((p) => `<circle cx="${x(p.remotes).toFixed(1)}" cy="${y(p[s.key]).toFixed(1)}" r="3" fill="${colour}"/>`));
        parts.push(`<text x="${x(0) + 8}" y="${MARGIN.top + 14 + 14 * i}" fill="${colour}">${escapeXml(s.label)}</text>`);
    });
    return parts.join("\n");
}

/** The chart: time (left) and memory (right) against the number of remotes, as SVG. */
export function fleetChart(points: readonly FleetPoint[], caption: string): string {
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * WIDTH}" height="${HEIGHT + 20}" font-family="sans-serif" font-size="11">`,
        `<rect width="100%" height="100%" fill="#fff"/>`,
        panel(points, ["up", "preview", "status"], "time", "seconds", 0),
        panel(points, ["clusterMemory", "runMemory"], "memory", "MiB", WIDTH),
        `<text x="${WIDTH}" y="${HEIGHT + 14}" text-anchor="middle" fill="#555">${escapeXml(caption)}</text>`,
        "</svg>",
        "",
    ].join("\n");
}
