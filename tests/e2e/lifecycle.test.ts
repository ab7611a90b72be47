// The whole lifecycle through the real Pulumi CLI, the real Kubernetes provider and two real
// Kubernetes API servers (tools/clusters/local-clusters.sh). Run by tests/e2e/run.sh, which builds
// the toolchain, starts the clusters and sets the offline Pulumi environment.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { serverOf, statusOf } from "../../lib/kube/kube";
import { kubeClientLibrary, kubeConfigAt } from "../../lib/kube/kubeconfig";
import { eventually, leftovers, localCluster, makeWorkDir, readyPodIp, requiredEnv, TestCluster } from "./helpers";
import { pulumi, pulumiOk, StepTimer } from "./pulumi";

const ROOT = path.resolve(__dirname, "..", "..");
const NS = "istio-system";

/** Istio 1.0's five control-plane pods: contract output → pod label selector. */
const CONTROL_PLANE_PODS: Record<string, string> = {
    pilotAddress: "istio=pilot",
    policyAddress: "istio-mixer-type=policy",
    telemetryAddress: "istio-mixer-type=telemetry",
    statsdAddress: "istio=statsd-prom-bridge",
    zipkinAddress: "app=jaeger",
};

describe("end to end: the real engine on two real clusters", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    const primary = localCluster("primary");
    const remote = localCluster("remote-a");
    /** The bearer token a kubeconfig carries. */
    const tokenOf = (text: string) => kubeConfigAt(text).getCurrentUser()!.token!;
    let workDir: string;
    let env: NodeJS.ProcessEnv;
    let primaryOutputs: Record<string, any>;
    let remoteKubeconfig: string;
    const plaintextSecrets: string[] = [];

    const cli = (args: string[]) => pulumi(workDir, env, args);
    const cliOk = (args: string[]) => pulumiOk(workDir, env, args);
    const outputs = async (stack: string) =>
        JSON.parse((await cliOk(["stack", "output", "--json", "--show-secrets", "-s", stack])).stdout);

    before(async () => {
        workDir = makeWorkDir();
        env = { ...process.env };
        for (const stack of ["primary", "remote-a"]) {
            await cliOk(["stack", "init", stack, "--secrets-provider", "passphrase"]);
        }
        // The CA keys the stacks are given: none of them may appear in plain text in the state.
        for (const dir of ["mesh/primary", "mesh/remote-a"]) {
            const key = fs.readFileSync(path.join(ROOT, "tests/fixtures/certs", dir, "ca-key.pem"), "utf8");
            plaintextSecrets.push(key.split("\n")[1]);
        }
    });

    after(() => {
        console.log(`\nEnd-to-end wall time per step:\n${timer.table()}\n`);
    });

    it("1. previews, then installs the primary; its outputs are the real pod IPs", () => timer.time("1 primary preview + up", async () => {
        const preview = await cliOk(["preview", "-s", "primary", "--diff"]);
        assert.match(preview.stdout, /kubernetes:helm\.sh\/v4:Chart/);
        assert.match(preview.stdout, /istio-multicluster:index:Istio10ControlPlane/);
        assert.match(preview.stdout, /\+ .*create/);
        await cliOk(["up", "--yes", "--skip-preview", "-s", "primary"]);
        primaryOutputs = await outputs("primary");
        for (const [output, selector] of Object.entries(CONTROL_PLANE_PODS)) {
            const ip = await readyPodIp(primary, NS, selector);
            assert.ok(ip, `one ready pod for ${selector}`);
            assert.strictEqual(primaryOutputs[output], ip, output);
        }
        assert.strictEqual(primaryOutputs.mtlsEnabled, true);
        assert.strictEqual(primaryOutputs.podCidr, "10.10.0.0/16");
    }));

    it("2. previews the join, then joins remote-a with installMethod template", () => timer.time("2 remote-a preview + up (template)", async () => {
        // Services to mirror: one the primary runs, one remote-a runs in a namespace the primary lacks.
        await createService(primary, "default", "reviews", 9080);
        await remote.core.createNamespace({ body: { metadata: { name: "bookinfo" } } });
        await createService(remote, "bookinfo", "ratings", 9081);
        await cliOk(["config", "set", "--path", "mirrorServices.fromPrimary[0]", "default/reviews", "-s", "remote-a"]);
        await cliOk(["config", "set", "--path", "mirrorServices.toPrimary[0]", "bookinfo/ratings", "-s", "remote-a"]);

        const preview = await cliOk(["preview", "-s", "remote-a", "--diff"]);
        assert.match(preview.stdout, /istio-multicluster:index:Istio10Remote/);
        assert.match(preview.stdout, /RemoteClusterRegistration/);
        await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        const out = await outputs("remote-a");
        remoteKubeconfig = out.kubeconfig;
        plaintextSecrets.push(tokenOf(remoteKubeconfig));

        const mesh = (await remote.core.readNamespacedConfigMap({ name: "istio", namespace: NS })).data!.mesh;
        assert.match(mesh, new RegExp(`mixerCheckServer: ${primaryOutputs.policyAddress}:15004`));
        assert.match(mesh, new RegExp(`mixerReportServer: ${primaryOutputs.telemetryAddress}:15004`));
        assert.match(mesh, new RegExp(`zipkinAddress: ${primaryOutputs.zipkinAddress}:9411`));
        assert.match(mesh, new RegExp(`statsdUdpAddress: ${primaryOutputs.statsdAddress}:9125`));
        // remotePilotCreateSvcEndpoint is on: the sidecars dial istio-pilot, which resolves to the primary's pilot.
        assert.match(mesh, new RegExp(`discoveryAddress: istio-pilot\\.${NS}:15005`));
        assert.strictEqual(await pilotEndpointIp(), primaryOutputs.pilotAddress);

        const ns = await remote.core.readNamespace({ name: "default" });
        assert.strictEqual(ns.metadata?.labels?.["istio-injection"], "enabled");

        const reviews = await remote.core.readNamespacedService({ name: "reviews", namespace: "default" });
        assert.strictEqual(reviews.metadata?.labels?.["istio-multicluster/mirrored-from"], "primary");
        assert.strictEqual(reviews.spec?.ports?.[0].port, 9080);
        const ratings = await primary.core.readNamespacedService({ name: "ratings", namespace: "bookinfo" });
        assert.strictEqual(ratings.metadata?.labels?.["istio-multicluster/mirrored-from"], "remote-a");
        assert.strictEqual(ratings.spec?.ports?.[0].port, 9081);

        const registration = await primary.core.readNamespacedSecret({ name: "remote-a", namespace: NS });
        assert.strictEqual(registration.metadata?.labels?.["istio/multiCluster"], "true");
        assert.deepStrictEqual(Object.keys(registration.data ?? {}), ["remote-a"]);
        assert.strictEqual(Buffer.from(registration.data!["remote-a"], "base64").toString(), remoteKubeconfig);
    }));

    it("2b. the registered kubeconfig authenticates to remote-a as istio-multi, read-only", () => timer.time("2b istio-multi access checks", async () => {
        const multi = new TestCluster(kubeConfigAt(remoteKubeconfig));
        assert.strictEqual(serverOf(multi.kc), serverOf(remote.kc));
        const review = await multi.kc.makeApiClient(kubeClientLibrary().AuthenticationV1Api).createSelfSubjectReview({
            body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        });
        assert.strictEqual(review.status?.userInfo?.username, `system:serviceaccount:${NS}:istio-multi`);
        /** "allowed", or the HTTP status the API server refused the call with. */
        const answer = (call: Promise<unknown>) => call.then(() => "allowed", (err) => statusOf(err));
        for (const kind of ["Pod", "Service", "Endpoints", "Node"]) {
            assert.strictEqual(await answer(multi.objects.list("v1", kind)), "allowed", `list ${kind}`);
        }
        assert.strictEqual(await answer(multi.core.listNamespacedSecret({ namespace: NS })), 403, "secrets are not readable");
        assert.strictEqual(await answer(multi.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "e2e-probe" } } })),
            403, "creating is forbidden");
        const pod = (await remote.core.listNamespacedPod({ namespace: NS })).items[0];
        assert.strictEqual(await answer(multi.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: NS })), 403, "deleting is forbidden");
    }));

    it("3. preview --expect-no-changes passes on both stacks", () => timer.time("3 expect-no-changes x2", async () => {
        await cliOk(["preview", "--expect-no-changes", "-s", "primary"]);
        await cliOk(["preview", "--expect-no-changes", "-s", "remote-a"]);
    }));

    it("3b. a plain `pulumi up` of remote-a restores its registration, deleted behind its back", () => timer.time("3b registration restored", async () => {
        const registered = () => primary.has("v1", "Secret", "remote-a", NS);
        assert.ok(await registered(), "remote-a is registered");
        await primary.core.deleteNamespacedSecret({ name: "remote-a", namespace: NS });
        await eventually("the registration to be gone", 30, async () => (await registered()) ? undefined : true);
        await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        assert.ok(await registered(), "the plain `pulumi up` made the registration again");
    }));

    it("4. heals after the pilot pod restarts: up primary, then remote-a, points at the new IP", () => timer.time("4 pod churn + heal", async () => {
        const oldIp = primaryOutputs.pilotAddress;
        const pods = await primary.core.listNamespacedPod({ namespace: NS, labelSelector: "istio=pilot" });
        await primary.core.deleteNamespacedPod({ name: pods.items[0].metadata!.name!, namespace: NS });
        const newIp = await eventually("a new ready pilot pod", 120, async () => {
            const ip = await readyPodIp(primary, NS, "istio=pilot");
            return ip && ip !== oldIp ? ip : undefined;
        });
        await eventually("the pilot Endpoints to follow the new pod", 60, async () => {
            const ep = await primary.core.readNamespacedEndpoints({ name: "istio-pilot", namespace: NS });
            const ips = (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));
            return ips.length === 1 && ips[0] === newIp ? true : undefined;
        });
        await cliOk(["up", "--yes", "--skip-preview", "-s", "primary"]);
        primaryOutputs = await outputs("primary");
        assert.strictEqual(primaryOutputs.pilotAddress, newIp);
        await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        assert.strictEqual(await pilotEndpointIp(), newIp);
    }));

    it("5. leaves by the template route, then joins again with installMethod release", () => timer.time("5 destroy template, up release", async () => {
        await cliOk(["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
        assert.deepStrictEqual(await leftovers(primary, remote, "remote-a"), [], "the template route leaves nothing behind");
        assert.deepStrictEqual(await mirroredCopies(), [], "the mirrored copies are gone");
        await cliOk(["config", "set", "installMethod", "release", "-s", "remote-a"]);
        await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        const releases = await remote.core.listNamespacedSecret({ namespace: NS, labelSelector: "owner=helm,name=istio-remote" });
        assert.strictEqual(releases.items.length, 1, "one Helm release record for istio-remote");
        assert.strictEqual(releases.items[0].metadata?.labels?.status, "deployed");
        assert.strictEqual(await pilotEndpointIp(), primaryOutputs.pilotAddress);
        const out = await outputs("remote-a");
        plaintextSecrets.push(tokenOf(out.kubeconfig));
        assert.ok(await primary.has("v1", "Secret", "remote-a", NS));
    }));

    it("6. a bad config (cluster name remote_b, an unknown primary stack) fails `pulumi up` and changes nothing", () => timer.time("6 bad config preview", async () => {
        const before = await clusterSnapshot();
        await cliOk(["stack", "init", "remote_b", "--secrets-provider", "passphrase"]);
        fs.copyFileSync(path.join(workDir, "Pulumi.remote-a.yaml"), path.join(workDir, "Pulumi.remote_b.yaml"));
        // `pulumi up`, not just a preview (which never writes): the run must fail and change nothing.
        const r = await cli(["up", "--yes", "--skip-preview", "-s", "remote_b"]);
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /istio-multicluster:clusterName = "remote_b": is used as a Secret data key/);
        // A primary stack that does not exist is named, with the stacks there are.
        await cliOk(["config", "set", "clusterName", "remote-b", "-s", "remote_b"]);
        await cliOk(["config", "set", "primaryStack", "organization/istio-multicluster/primry", "-s", "remote_b"]);
        const unknown = await cli(["up", "--yes", "--skip-preview", "-s", "remote_b"]);
        assert.notStrictEqual(unknown.code, 0);
        assert.match(unknown.stdout + unknown.stderr,
            /istio-multicluster:primaryStack = "organization\/istio-multicluster\/primry": no such stack exists; the stacks there are: primary, remote-a, remote_b\./);
        assert.deepStrictEqual(await clusterSnapshot(), before);
        await cliOk(["stack", "rm", "--yes", "-s", "remote_b"]);
    }));

    it("6b. secret config never appears in an error message, through the real CLI", () => timer.time("6b secrets in errors", async () => {
        const token = "eyJhbGciOiJSUzI1NiJ9.bGVha3ktdG9rZW4.c2lnbmF0dXJl";
        const pemKey = fs.readFileSync(path.join(ROOT, "tests/fixtures/certs/mesh/remote-a/ca-key.pem"), "utf8");
        await cliOk(["stack", "init", "leaky", "--secrets-provider", "passphrase"]);
        fs.copyFileSync(path.join(workDir, "Pulumi.remote-a.yaml"), path.join(workDir, "Pulumi.leaky.yaml"));
        // A CA key pasted as a plain string instead of structured config, then a token overriding a derived chart value.
        for (const [args, message] of [
            // set-all, so that a value starting with "-----" is not read as a flag.
            [["config", "set-all", "--secret", `cacerts=${pemKey}`], /istio-multicluster:cacerts = "\[secret\]": must be structured config/],
            [["config", "set-all", "--path", "--secret", `values.global.remotePilotAddress=${token}`],
                /istio-multicluster:values\.global\.remotePilotAddress = "\[secret\]": this chart value is derived/],
        ] as Array<[string[], RegExp]>) {
            fs.copyFileSync(path.join(workDir, "Pulumi.remote-a.yaml"), path.join(workDir, "Pulumi.leaky.yaml"));
            await cliOk([...args, "-s", "leaky"]);
            const r = await cli(["preview", "-s", "leaky"]);
            assert.notStrictEqual(r.code, 0);
            const out = r.stdout + r.stderr;
            assert.match(out, message);
            for (const secret of [token, ...pemKey.split("\n").filter((l) => l.length >= 6)]) {
                assert.ok(!out.includes(secret) && !out.includes(JSON.stringify(secret).slice(1, -1)), `the CLI output holds ${secret}`);
            }
        }
        await cliOk(["stack", "rm", "--yes", "--force", "-s", "leaky"]);
    }));

    it("6c. the primary's destroy is refused while remote-a is registered, and deletes nothing", () => timer.time("6c primary destroy refused", async () => {
        const before = await clusterSnapshot();
        const r = await cli(["destroy", "--yes", "--skip-preview", "-s", "primary"]);
        assert.notStrictEqual(r.code, 0, "the destroy must fail");
        assert.match(r.stdout + r.stderr, /clusters remote-a are still registered in the primary \(istio-system\).*Take them out first: `mesh down`/);
        assert.deepStrictEqual(await clusterSnapshot(), before);
        await cliOk(["preview", "--expect-no-changes", "-s", "primary"]);
    }));

    it("6d. while both stacks are up, the state holds their secrets encrypted and no plaintext token, kubeconfig or CA key", () => timer.time("6d state scan", async () => {
        // A secret chart value (remote-a is a Helm release now): its release's values stay a secret in the state.
        const chartToken = "eyJhbGciOiJSUzI1NiJ9.Y2hhcnQtdmFsdWU.c2lnbmF0dXJl";
        await cliOk(["config", "set", "--secret", "--path", "values.notes.token", chartToken, "-s", "remote-a"]);
        const applied = await cliOk(["up", "--yes", "--skip-preview", "-s", "remote-a"]);
        assert.ok(!(applied.stdout + applied.stderr).includes(chartToken), "the run's output does not show the secret value");
        plaintextSecrets.push(chartToken);
        const backend = new URL(requiredEnv("PULUMI_BACKEND_URL")).pathname;
        const files = listFiles(backend);
        assert.ok(files.some((f) => f.endsWith(".json")), "the backend has state files to scan");
        assert.ok(plaintextSecrets.length >= 5);
        const current = files.filter((f) => /\.pulumi\/stacks\/.*\/(primary|remote-a)\.json$/.test(f));
        assert.strictEqual(current.length, 2, "both stacks' current state is scanned");
        for (const file of current) {
            // The scan sees the secrets themselves, encrypted: kubeconfigs, tokens and CA keys are there as ciphertext.
            assert.ok((fs.readFileSync(file, "utf8").match(/"ciphertext"/g) ?? []).length >= 2, `${path.relative(backend, file)} holds encrypted secrets`);
        }
        for (const file of files) {
            const text = fs.readFileSync(file, "utf8");
            for (const secret of plaintextSecrets) {
                assert.ok(!text.includes(secret), `${path.relative(backend, file)} holds a secret in plain text`);
            }
            assert.ok(!/BEGIN (RSA )?PRIVATE KEY/.test(text), `${path.relative(backend, file)} holds a private key`);
        }
    }));

    it("7. destroy remote-a leaves nothing of it in either cluster, then the primary goes too", () => timer.time("7 destroy remote-a + primary", async () => {
        await cliOk(["destroy", "--yes", "--skip-preview", "-s", "remote-a"]);
        assert.deepStrictEqual(await leftovers(primary, remote, "remote-a"), []);
        assert.deepStrictEqual(await mirroredCopies(), []);
        assert.ok(await primary.has("v1", "Service", "reviews", "default"), "the original in the primary stays");
        assert.ok(await remote.has("v1", "Service", "ratings", "bookinfo"), "the original in remote-a stays");
        await cliOk(["destroy", "--yes", "--skip-preview", "-s", "primary"]);
        assert.strictEqual(await primary.has("v1", "Namespace", NS), false, "the primary's Istio namespace is gone");
        assert.deepStrictEqual((await primary.apps.listDeploymentForAllNamespaces()).items.map((d) => d.metadata?.name), []);
    }));

    /** The address remote-a's istio-pilot Endpoints point at. */
    async function pilotEndpointIp(): Promise<string | undefined> {
        return (await remote.core.readNamespacedEndpoints({ name: "istio-pilot", namespace: NS })).subsets?.[0].addresses?.[0].ip;
    }

    /** The copies of the mirrored services that still exist. */
    async function mirroredCopies(): Promise<string[]> {
        const copies: string[] = [];
        if (await remote.has("v1", "Service", "reviews", "default")) {
            copies.push("remote-a: default/reviews");
        }
        if (await primary.has("v1", "Service", "ratings", "bookinfo")) {
            copies.push("primary: bookinfo/ratings");
        }
        return copies;
    }

    /** Names and versions of the objects a bad run could touch, in both clusters. */
    async function clusterSnapshot(): Promise<Record<string, string[]>> {
        const snapshot: Record<string, string[]> = {};
        for (const [label, who] of [["primary", primary], ["remote-a", remote]] as const) {
            for (const kind of ["Namespace", "Secret", "ConfigMap", "Service"]) {
                const items = (await who.objects.list("v1", kind)).items as any[];
                snapshot[`${label}/${kind}`] = items.map((i) => `${i.metadata.namespace ?? ""}/${i.metadata.name}@${i.metadata.resourceVersion}`)
                    // The API server's own lease-like churn in kube-system is not ours to compare.
                    .filter((s) => !s.startsWith("kube-system/") && !s.startsWith("kube-node-lease/")).sort();
            }
        }
        return snapshot;
    }
});

async function createService(cluster: TestCluster, namespace: string, name: string, port: number): Promise<void> {
    await cluster.core.createNamespacedService({ namespace, body: {
        metadata: { name }, spec: { selector: { app: name }, ports: [{ name: "http", port, protocol: "TCP" }] },
    } });
}

function listFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}
