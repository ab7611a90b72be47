import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { listenOnLoopback, ofType, oneContextKubeconfig, Registered, ROOT, runProgram, RunResult } from "./harness";
import { PrimaryRemotePrimaryConfig } from "../../lib/config/config";
import { checkRevisionRemoval } from "../../lib/kube/revisionUse";
import { LastDeployment } from "../../lib/stacks/lastDeployment";
import {
    dataPlaneAheadProblem, isAhead, minorsBetween, parseIstioVersion, removalProblem, Revision, RevisionSet, revisionSetProblem,
} from "../../lib/istio/revisions";

const OLD: Revision = { name: "1-31-b01690e", chartVersion: "1.31-dev-b01690e", imageTag: "1.31-dev-b01690e" };
const NEW: Revision = { name: "1-31-eed52eb", chartVersion: "1.31-dev-eed52eb", imageTag: "1.31-dev-eed52eb" };

function version(text: string) {
    const parsed = parseIstioVersion(text);
    assert.ok(parsed, text);
    return parsed;
}

describe("Istio versions, as the skew rules compare them", () => {
    it("reads MAJOR.MINOR and the patch from releases, development builds and image tags", () => {
        assert.deepStrictEqual(parseIstioVersion("1.24.2"), { text: "1.24.2", major: 1, minor: 24, patch: 2 });
        assert.deepStrictEqual(parseIstioVersion("v1.24.0-distroless"), { text: "v1.24.0-distroless", major: 1, minor: 24, patch: 0 });
        assert.deepStrictEqual(parseIstioVersion("1.31-dev-b01690e"), { text: "1.31-dev-b01690e", major: 1, minor: 31 });
        assert.strictEqual(parseIstioVersion("latest"), undefined);
    });
    it("counts the minor versions between two releases", () => {
        assert.strictEqual(minorsBetween(version("1.29.3"), version("1.31-dev-eed52eb")), 2);
        assert.strictEqual(minorsBetween(version("1.31.0"), version("1.28.1")), -3);
    });
    it("orders by minor, then by patch where both have one", () => {
        assert.ok(isAhead(version("1.31.0"), version("1.30.4")));
        assert.ok(isAhead(version("1.30.5"), version("1.30.4")));
        assert.ok(!isAhead(version("1.30.4"), version("1.30.4")));
        assert.ok(!isAhead(version("1.31-dev-eed52eb"), version("1.31-dev-b01690e")), "two builds of one minor: no order");
        assert.ok(!isAhead(version("1.29.9"), version("1.30.0")));
    });
});

describe("a mesh's revisions and tags", () => {
    const set = (revisions: Revision[], tags: Record<string, string> = {}): RevisionSet => ({ revisions, tags });

    it("accepts a revision beside its canary, with tags pointing at either", () => {
        assert.strictEqual(revisionSetProblem(set([OLD, NEW], { "prod-stable": OLD.name, "prod-canary": NEW.name, default: OLD.name })), undefined);
    });
    it("refuses a revision name that is not a DNS label, suggesting one from its release", () => {
        const problem = revisionSetProblem(set([{ ...OLD, name: "1.31_b01690e" }]));
        assert.strictEqual(problem?.key, "revisions");
        assert.strictEqual(problem?.value, "1.31_b01690e");
        assert.match(problem!.problem, /DNS label/);
        assert.match(problem!.fix, /e\.g\. 1-31-dev-b01690e$/);
        assert.ok(revisionSetProblem(set([{ ...OLD, name: "r".repeat(57) }])), "istiod-<57 characters> is longer than a label");
        assert.strictEqual(revisionSetProblem(set([{ ...OLD, name: "r".repeat(56) }])), undefined);
    });
    it("refuses `default` as a revision name, and a name listed twice", () => {
        assert.match(revisionSetProblem(set([{ ...OLD, name: "default" }]))!.problem, /installation without a revision/);
        assert.match(revisionSetProblem(set([OLD, { ...NEW, name: OLD.name }]))!.problem, /listed twice/);
    });
    it("refuses a revision whose image tag is not its charts' release", () => {
        const problem = revisionSetProblem(set([{ ...OLD, imageTag: NEW.imageTag }]));
        assert.match(problem!.problem, /runs images tagged 1\.31-dev-eed52eb from charts of Istio 1\.31-dev-b01690e/);
        assert.strictEqual(revisionSetProblem(set([{ name: "r1", chartVersion: "1.24.2", imageTag: "1.24.2-distroless" }])), undefined);
    });
    it("refuses two revisions three minor versions apart, naming both and the versions", () => {
        const problem = revisionSetProblem(set([{ name: "r28", imageTag: "1.28.4" }, { name: "r31", imageTag: "1.31.0" }]));
        assert.deepStrictEqual(problem?.value, ["r28", "r31"]);
        assert.match(problem!.problem, /^r31 \(1\.31\.0\) is 3 minor versions after r28 \(1\.28\.4\); Istio upgrades across at most 2/);
        assert.strictEqual(revisionSetProblem(set([{ name: "r29", imageTag: "1.29.4" }, { name: "r31", imageTag: "1.31.0" }])), undefined);
    });
    it("takes a revision's version from its charts when it sets no image tag", () => {
        assert.ok(revisionSetProblem(set([{ name: "r28", chartVersion: "1.28.4" }, { name: "r31", imageTag: "1.31.0" }])));
    });
    it("refuses a tag naming an unknown revision, listing the revisions", () => {
        const problem = revisionSetProblem(set([OLD, NEW], { "prod-stable": "1-30-0" }));
        assert.strictEqual(problem?.key, "revisionTags");
        assert.deepStrictEqual(problem?.value, { "prod-stable": "1-30-0" });
        assert.match(problem!.problem, /points at 1-30-0, which is not a revision of this mesh \(1-31-b01690e, 1-31-eed52eb\)/);
    });
    it("refuses removing the revision a tag points at", () => {
        assert.match(revisionSetProblem(set([NEW], { "prod-stable": OLD.name }))!.problem, /points at 1-31-b01690e, which is not a revision/);
    });
    it("refuses a tag that is not a DNS label or is named as a revision", () => {
        assert.match(revisionSetProblem(set([OLD], { "Prod": OLD.name }))!.problem, /not a tag name/);
        assert.match(revisionSetProblem(set([OLD, NEW], { [NEW.name]: OLD.name }))!.problem, /also a revision's name/);
    });
    it("refuses an empty list", () => {
        assert.match(revisionSetProblem(set([]))!.problem, /lists no revision/);
    });
});

describe("removing a revision", () => {
    const kept: RevisionSet = { revisions: [NEW], tags: { "prod-stable": NEW.name } };

    it("is refused while any cluster of the mesh uses it, naming each cluster, what and how many", () => {
        const problem = removalProblem([OLD.name, NEW.name], kept, [
            { cluster: "primary", what: "namespace app", revision: NEW.name, count: 1 },
            { cluster: "remote-a", what: "namespace app", revision: OLD.name, count: 1 },
            { cluster: "remote-a", what: "pods in app", revision: OLD.name, count: 3 },
            { cluster: "remote-b", what: "tag prod-stable", revision: OLD.name, count: 1 },
        ]);
        assert.strictEqual(problem?.value, OLD.name);
        assert.strictEqual(problem?.problem,
            "is removed from the list, but the mesh still uses it: remote-a: namespace app; remote-a: pods in app (3); remote-b: tag prod-stable");
    });
    it("goes ahead once nothing uses it", () => {
        assert.strictEqual(removalProblem([OLD.name, NEW.name], kept, [
            { cluster: "remote-a", what: "namespace app", revision: NEW.name, count: 1 },
            { cluster: "remote-a", what: "pods in app", revision: OLD.name, count: 0 },
        ]), undefined);
    });
    it("does not look at what uses a revision that stays", () => {
        assert.strictEqual(removalProblem([NEW.name], kept, [{ cluster: "remote-a", what: "pods in app", revision: NEW.name, count: 2 }]), undefined);
    });
});

describe("a data plane never ahead of its control plane", () => {
    it("refuses a cluster's version newer than the revision serving it, naming both", () => {
        const problem = dataPlaneAheadProblem("chartVersion", "1.32.0", { name: "r31", imageTag: "1.31.2" });
        assert.strictEqual(problem?.key, "chartVersion");
        assert.match(problem!.problem, /^is ahead of revision r31 of the primary \(1\.31\.2\)/);
        assert.ok(dataPlaneAheadProblem("chartVersion", "1.31.3", { name: "r31", imageTag: "1.31.2" }), "a later patch too");
    });
    it("accepts a data plane as old as, or older than, its control plane", () => {
        assert.strictEqual(dataPlaneAheadProblem("chartVersion", "1.31.2", { name: "r31", imageTag: "1.31.2" }), undefined);
        assert.strictEqual(dataPlaneAheadProblem("chartVersion", "1.29.0", { name: "r31", imageTag: "1.31.2" }), undefined);
    });
});

/** A copy of the fixture charts stamped as Istio `version`, as the toolchain stamps a build's charts. */
function chartsOfVersion(version: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `charts-${version}-`));
    fs.cpSync(path.join(ROOT, "tests/fixtures/istiod-charts"), dir, { recursive: true });
    const chart = path.join(dir, "istio-control/istio-discovery/Chart.yaml");
    fs.appendFileSync(chart, `appVersion: ${version}\n`);
    return dir;
}

describe("revisions in a primary-remote mesh", () => {
    const oldCharts = chartsOfVersion(OLD.chartVersion!);
    const newCharts = chartsOfVersion(NEW.chartVersion!);
    const revisions = [
        { name: OLD.name, chartDir: oldCharts, tag: OLD.imageTag, discoveryAddress: "192.0.2.21" },
        { name: NEW.name, chartDir: newCharts, tag: NEW.imageTag, discoveryAddress: "192.0.2.22" },
    ];
    const PRIMARY = {
        role: "primary", meshModel: "primary-remote", kubeContext: "primary", chartDir: "tests/fixtures/istiod-charts",
        cacerts: { dir: "tests/fixtures/certs/mesh/primary" }, revisions, revisionTags: { "prod-stable": NEW.name },
        // The tag the stack ran before it had revisions: each revision's own wins.
        values: { global: { hub: "docker.io/istio", tag: OLD.imageTag } },
    };
    const istiods = (resources: Registered[]) => ofType(resources, "kubernetes:helm.sh/v4:Chart").filter((c) => /istio-discovery$/.test(c.inputs.chart));
    const base = (resources: Registered[]) => ofType(resources, "kubernetes:helm.sh/v4:Chart").find((c) => /base$/.test(c.inputs.chart))!;
    const tagWebhooks = (resources: Registered[]) => Object.fromEntries(
        ofType(resources, "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration").map((w) => [w.inputs.metadata.name, w.inputs]));

    describe("PrimaryRemoteControlPlane", () => {
        let run: RunResult;
        before(async () => {
            run = await runProgram({ stack: "primary", config: PRIMARY });
            assert.ifError(run.error);
        });
        it("installs an istiod release per revision, each from its own charts with its revision and image tag", () => {
            const charts = istiods(run.resources);
            assert.deepStrictEqual(charts.map((c) => [path.dirname(path.dirname(c.inputs.chart)), c.inputs.values.revision, c.inputs.values.global.tag]),
                [[oldCharts, OLD.name, OLD.imageTag], [newCharts, NEW.name, NEW.imageTag]]);
            assert.deepStrictEqual(charts.map((c) => c.name), [`istio-istiod-${OLD.name}`, `istio-istiod-${NEW.name}`]);
            assert.deepStrictEqual(charts.map((c) => c.inputs.values.global.hub), ["docker.io/istio", "docker.io/istio"], "the stack's other values stay");
        });
        it("installs base (Istio's CRDs) from the newest revision's charts, its default validator calling the default tag's revision", () => {
            assert.strictEqual(path.dirname(base(run.resources).inputs.chart), newCharts);
            assert.strictEqual(base(run.resources).inputs.values.defaultRevision, OLD.name);
        });
        it("writes a tag webhook per tag, the default tag on the first revision, calling the revision's istiod Service", () => {
            const webhooks = tagWebhooks(run.resources);
            assert.deepStrictEqual(Object.keys(webhooks).sort(), ["istio-revision-tag-default", "istio-revision-tag-prod-stable"]);
            const stable = webhooks["istio-revision-tag-prod-stable"];
            assert.deepStrictEqual(stable.metadata.labels["istio.io/rev"], NEW.name);
            assert.deepStrictEqual(stable.webhooks[0].clientConfig,
                { service: { name: `istiod-${NEW.name}`, namespace: "istio-system", path: "/inject", port: 443 } });
            assert.deepStrictEqual(stable.webhooks[0].namespaceSelector.matchExpressions[0], { key: "istio.io/rev", operator: "In", values: ["prod-stable"] });
            const byDefault = webhooks["istio-revision-tag-default"];
            assert.strictEqual(byDefault.metadata.labels["istio.io/rev"], OLD.name);
            assert.ok(byDefault.webhooks.some((w: any) => JSON.stringify(w.namespaceSelector).includes('"istio-injection","operator":"In","values":["enabled"]')),
                "the default tag serves istio-injection=enabled namespaces");
        });
        it("does not warn about the stack's image tag and charts: each revision's are checked against each other", () => {
            assert.deepStrictEqual(run.warnings.filter((w) => /global\.tag/.test(w)), []);
        });
        it("exports each revision and tag for the remotes, and the default tag's revision's address as discoveryAddress", () => {
            const o = run.outputs!;
            assert.deepStrictEqual((o.revisions as any[]).map((r) => [r.name, r.tag, r.discoveryAddress]),
                revisions.map((r) => [r.name, r.tag, r.discoveryAddress]));
            assert.deepStrictEqual(o.revisionTags, { default: OLD.name, "prod-stable": NEW.name });
            assert.strictEqual(o.discoveryAddress, "192.0.2.21");
        });
    });

    describe("PrimaryRemoteMember", () => {
        let run: RunResult;
        const primaryOutputs = {
            meshModel: "primary-remote", meshID: "mesh1", clusterName: "primary", network: "network1", istioNamespace: "istio-system",
            discoveryAddress: "192.0.2.21",
            revisions: revisions.map(({ chartDir, ...r }) => ({ ...r, chart: { kind: "dir", dir: chartDir } })),
            revisionTags: { default: OLD.name, "prod-stable": NEW.name },
        };
        before(async () => {
            run = await runProgram({ stack: "remote-a", primaryOutputs, config: {
                role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", chartDir: "tests/fixtures/istiod-charts",
                primaryStack: "organization/istio-multicluster/primary", primaryKubeContext: "primary", apiServerAddress: "https://192.0.2.3:6443",
            } });
            assert.ifError(run.error);
        });
        it("installs each of the primary's revisions with the remote profile, pointed at that revision's istiod", () => {
            const charts = istiods(run.resources);
            assert.deepStrictEqual(charts.map((c) => [c.inputs.values.profile, c.inputs.values.revision, c.inputs.values.global.remotePilotAddress]),
                [["remote", OLD.name, "192.0.2.21"], ["remote", NEW.name, "192.0.2.22"]]);
        });
        it("gives each revision's proxies its own istiod Service as their discovery address, not the chart's istiod.<ns>.svc", () => {
            assert.deepStrictEqual(istiods(run.resources).map((c) => c.inputs.values.meshConfig.defaultConfig.discoveryAddress),
                [`istiod-${OLD.name}.istio-system.svc:15012`, `istiod-${NEW.name}.istio-system.svc:15012`]);
        });
        it("refuses its own charts of a later Istio than the newest revision, naming both versions", async () => {
            const r = await runProgram({ stack: "remote-a", preview: true, primaryOutputs, config: {
                role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", chartDir: chartsOfVersion("1.32.0"),
                primaryStack: "organization/istio-multicluster/primary", primaryKubeContext: "primary", apiServerAddress: "https://192.0.2.3:6443",
            } });
            assert.match(r.error!.message, /^istio-multicluster:chartDir = "1\.32\.0": is ahead of revision 1-31-eed52eb of the primary \(1\.31-dev-eed52eb\)/);
            assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")).map((x) => x.type), []);
        });
        it("writes the primary's tags, calling the revision's injector as this cluster's own revision webhook does", () => {
            const webhooks = tagWebhooks(run.resources);
            assert.deepStrictEqual(webhooks["istio-revision-tag-prod-stable"].webhooks[0].clientConfig, {
                service: { name: `istiod-${NEW.name}`, namespace: "istio-system", path: "/inject/cluster/remote-a/net/network1", port: 443 },
            });
            assert.strictEqual(webhooks["istio-revision-tag-default"].metadata.labels["istio.io/rev"], OLD.name);
        });
    });

    describe("bad input is refused with nothing made", () => {
        const refused = async (config: Record<string, unknown>, message: RegExp) => {
            const r = await runProgram({ stack: "primary", preview: true, config: { ...PRIMARY, ...config } });
            assert.ok(r.error, "the program should fail");
            assert.match(r.error.message, message);
            assert.deepStrictEqual(r.resources.filter((x) => !x.type.startsWith("pulumi:pulumi:")).map((x) => x.type), []);
        };
        it("a tag naming an unknown revision", () =>
            refused({ revisionTags: { "prod-stable": "1-30-0" } },
                /^istio-multicluster:revisionTags = \{"prod-stable":"1-30-0"\}: points at 1-30-0, which is not a revision of this mesh/));
        it("removing the revision a tag points at", () =>
            refused({ revisions: [revisions[0]] }, /revisionTags = \{"prod-stable":"1-31-eed52eb"\}: points at 1-31-eed52eb, which is not a revision/));
        it("a revision name that is not a DNS label", () =>
            refused({ revisions: [{ ...revisions[0], name: "1.31" }, revisions[1]] }, /revisions = "1\.31": is not a revision name.*Fix: .*e\.g\. 1-31-dev-b01690e/));
        it("a skew of three minors", () =>
            refused({ revisions: [{ ...revisions[0], chartDir: chartsOfVersion("1.28.2"), tag: "1.28.2" }, revisions[1]] },
                /revisions = \["1-31-b01690e","1-31-eed52eb"\]: 1-31-eed52eb \(1\.31-dev-eed52eb\) is 3 minor versions after 1-31-b01690e \(1\.28\.2\)/));
        it("an image tag not of the revision's charts", () =>
            refused({ revisions: [{ ...revisions[0], tag: NEW.imageTag }, revisions[1]] }, /runs images tagged 1\.31-dev-eed52eb from charts of Istio 1\.31-dev-b01690e/));
        it("two revisions at one address", () =>
            refused({ revisions: [revisions[0], { ...revisions[1], discoveryAddress: "192.0.2.21" }] }, /shares its discoveryAddress with another revision/));
        it("a revision's discovery address that is loopback, which the remotes' EndpointSlice refuses", () =>
            refused({ revisions: [revisions[0], { ...revisions[1], discoveryAddress: "127.0.0.1" }] },
                /^istio-multicluster:revisions\[1-31-eed52eb\]\.discoveryAddress = "127\.0\.0\.1": is a loopback address/));
        it("revisions with an injection address, which reaches one istiod", () =>
            refused({ injectionAddress: "192.0.2.10" }, /^istio-multicluster:revisions = .*: is set together with injectionAddress/));
        it("a revision key it does not know", () =>
            refused({ revisions: [{ ...revisions[0], charts: "x" }, revisions[1]] }, /revisions\[1-31-b01690e\]\.charts = "x": is not a key of a revision/));
        it("revisions on a remote, which follows its primary's", async () => {
            const r = await runProgram({ stack: "remote-a", preview: true, config: {
                role: "remote", meshModel: "primary-remote", kubeContext: "remote-a", chartDir: "tests/fixtures/istiod-charts",
                primaryStack: "primary", primaryKubeContext: "primary", revisions } });
            assert.match(r.error!.message, /revisions = .*: belongs to the primary stack, and this stack's role is remote \(a primary-remote primary lists the mesh's istiod revisions and its remotes follow them/);
        });
    });
});

describe("checkRevisionRemoval, reading every cluster of the mesh", () => {
    /** A cluster's API server answering the lists the check makes, from `objects`. */
    function apiServer(objects: { namespaces?: any[]; pods?: any[]; webhooks?: any[]; secrets?: any[] }) {
        const served: string[] = [];
        const server = http.createServer((req, res) => {
            const url = new URL(req.url!, "http://x");
            served.push(`${url.pathname}?${url.searchParams.get("labelSelector")}`);
            const items = url.pathname === "/api/v1/namespaces" ? objects.namespaces
                : url.pathname === "/api/v1/pods" ? objects.pods
                    : url.pathname.endsWith("/mutatingwebhookconfigurations") ? objects.webhooks
                        : url.pathname === "/api/v1/namespaces/istio-system/secrets" ? objects.secrets : undefined;
            res.writeHead(items === undefined ? 404 : 200, { "content-type": "application/json" });
            res.end(JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: items ?? [] }));
        });
        return { server, served, url: listenOnLoopback(server, "http") };
    }
    const kubeconfig = (url: string) => oneContextKubeconfig({ server: url, "insecure-skip-tls-verify": true });
    const labelled = (name: string, labels: Record<string, string>, namespace?: string) => ({ metadata: { name, namespace, labels } as any });
    /** A pod as injection leaves it: the revision that injected it in an annotation. */
    const injectedBy = (revision: string, name: string, namespace: string) =>
        ({ metadata: { name, namespace, annotations: { "sidecar.istio.io/status": "{}", "istio.io/rev": revision } } });

    const remote = apiServer({
        namespaces: [labelled("app", { "istio.io/rev": OLD.name })],
        pods: [injectedBy(OLD.name, "server-1", "app"), injectedBy(OLD.name, "server-2", "app"), injectedBy(NEW.name, "client-1", "app"),
            labelled(`istiod-${OLD.name}-1`, { "istio.io/rev": OLD.name, app: "istiod" }, "istio-system")],
        webhooks: [labelled("istio-revision-tag-prod-stable", { "istio.io/tag": "prod-stable", "istio.io/rev": OLD.name })],
    });
    let remoteKubeconfig = "";
    const primary = apiServer({
        namespaces: [], pods: [], webhooks: [],
        secrets: [{ metadata: { name: "istio-remote-secret-remote-a", annotations: { "networking.istio.io/cluster": "remote-a" } },
            get data() { return { "remote-a": Buffer.from(remoteKubeconfig).toString("base64") }; } }],
    });
    const config = (revisions: Revision[]) => ({
        cluster: { kubeconfig: kubeconfig(primary.url()) }, istioNamespace: "istio-system", mesh: { clusterName: "primary" },
        revisions: { revisions, tags: {} },
    }) as unknown as PrimaryRemotePrimaryConfig;
    const deployed = (names: string[]) => ({ output: async (name: string) => name === "revisions" ? names.map((n) => ({ name: n })) : undefined }) as LastDeployment;

    it("refuses removing a revision a remote still uses, naming the cluster, the namespace and the injected pods (not istiod's own), read through its registration", async () => {
        remoteKubeconfig = kubeconfig(remote.url());
        await assert.rejects(checkRevisionRemoval(config([NEW]), deployed([OLD.name, NEW.name])), (err: Error) => {
            assert.strictEqual(err.message, `istio-multicluster:revisions = "${OLD.name}": is removed from the list, but the mesh still uses it: ` +
                "remote-a: namespace app (labelled istio.io/rev); remote-a: pods in app (2); remote-a: tag prod-stable. Fix: move what uses it first: " +
                "relabel each namespace istio.io/rev=<a tag or revision kept> and restart its pods; point every tag (`default` included) at a " +
                `revision kept in revisionTags and \`mesh up\` every cluster so that its tags move; then remove ${OLD.name}`);
            return true;
        });
        assert.ok(remote.served.includes(`/api/v1/namespaces?istio.io/rev in (${OLD.name})`), remote.served.join(" "));
    });
    it("refuses when a cluster cannot be read to tell, naming it", async () => {
        remoteKubeconfig = kubeconfig("http://127.0.0.1:1");
        await assert.rejects(checkRevisionRemoval(config([NEW]), deployed([OLD.name, NEW.name])),
            /revisions = \["1-31-b01690e"\]: are removed, and cluster remote-a at http:\/\/127\.0\.0\.1:1 could not be read to tell/);
    });
    it("reads no cluster when no revision is removed", async () => {
        const before = primary.served.length;
        await checkRevisionRemoval(config([OLD, NEW]), deployed([OLD.name, NEW.name]));
        assert.strictEqual(primary.served.length, before);
    });
});
