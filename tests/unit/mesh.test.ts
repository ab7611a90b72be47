import type { Stack } from "@pulumi/pulumi/automation";
import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { mapLimited } from "../../cli/limit";
import { main, Verbs } from "../../cli/main";
import { childProcesses, emptyBackendMetadata, fileBackendDir, isLockRace, isStale, lockHolders, orphanedPlugins, parseStat, pendingOperations, processAlive, Recovery, RunRecords, runRecordsDir, stackRecordKey } from "../../cli/recovery";
import { declaredFleet, fleetRangeOverlap, newRemoteStackFile, readFleet, selectRemotes } from "../../cli/fleet";
import { secretsProviderFor } from "../../cli/stackRuns";
import { caRows, caTable, drift, gatewayRows, gatewayTable, RemoteFacts, statusRow, statusTable } from "../../cli/statusReport";
import { ROOT } from "./harness";

const HEALTHY: RemoteFacts = {
    stack: "remote-a",
    clusterName: "remote-a",
    secretName: "remote-a",
    account: "istio-multi",
    accountNamespace: "istio-system",
    registration: { labels: { "istio/multiCluster": "true" }, keys: ["remote-a"] },
    renderedWith: { pilotAddress: "10.10.0.2", policyAddress: "10.10.0.5" },
    tokenIdentity: { username: "system:serviceaccount:istio-system:istio-multi" },
    allowedWrites: [],
};
const CURRENT = { pilotAddress: "10.10.0.2", policyAddress: "10.10.0.5" };

describe("mesh", () => {
    describe("the secrets provider of a stack it creates", () => {
        const file = "secretsprovider: hashivault://mesh\nconfig:\n  istio-multicluster:role: remote\n";
        it("is --secrets-provider when given", () =>
            assert.strictEqual(secretsProviderFor(file, { MESH_SECRETS_PROVIDER: "awskms://alias/mesh" }), "awskms://alias/mesh"));
        it("else the one the stack's file names, as a team commits it", () =>
            assert.strictEqual(secretsProviderFor(file, {}), "hashivault://mesh"));
        it("else none: Pulumi's default for the backend (not always a passphrase)", () => {
            assert.strictEqual(secretsProviderFor("config:\n  istio-multicluster:role: remote\n", {}), undefined);
            assert.strictEqual(secretsProviderFor(undefined, {}), undefined);
        });
    });

    describe("command line", () => {
        /** Parses `argv` with verbs that only record their call; what was called, the exit code and the output. */
        async function parse(argv: string[]) {
            const calls: Array<[string, ...unknown[]]> = [];
            const record = (verb: string) => async (...args: unknown[]) => (calls.push([verb, ...args]), 0);
            const verbs = { up: record("up"), preview: record("preview"), status: record("status"), heal: record("heal"),
                down: record("down"), addRemote: record("addRemote"), plan: record("plan") } as unknown as Verbs;
            let out = "";
            let err = "";
            const write = (stream: NodeJS.WriteStream, add: (t: string) => void) => {
                const original = stream.write;
                stream.write = ((t: string) => (add(t), true)) as typeof stream.write;
                return () => (stream.write = original);
            };
            const restore = [write(process.stdout, (t) => (out += t)), write(process.stderr, (t) => (err += t))];
            try {
                return { code: await main(argv, verbs), calls, out, err };
            } finally {
                restore.forEach((r) => r());
            }
        }
        afterEach(() => {
            delete process.env.PULUMI_BACKEND_URL;
            delete process.env.MESH_SECRETS_PROVIDER;
        });

        it("reads a verb and its flags", async () => {
            assert.deepStrictEqual((await parse(["up", "--remotes", "remote-a,remote-b"])).calls, [["up", { remotes: ["remote-a", "remote-b"], stack: undefined }]]);
            assert.deepStrictEqual((await parse(["down", "--remotes=remote-a"])).calls, [["down", { remotes: ["remote-a"], stack: undefined }]]);
            assert.deepStrictEqual((await parse(["down"])).calls, [["down", { remotes: undefined, stack: undefined }]]);
            for (const verb of ["up", "preview", "down"]) {
                assert.deepStrictEqual((await parse([verb, "--stack", "remote-b"])).calls, [[verb, { remotes: undefined, stack: "remote-b" }]]);
            }
            assert.deepStrictEqual((await parse(["plan", "--json"])).calls, [["plan", undefined, true]]);
            assert.deepStrictEqual((await parse(["plan", "--remotes", "remote-a"])).calls, [["plan", ["remote-a"], false]]);
            assert.deepStrictEqual((await parse(["status", "--json"])).calls, [["status", true, undefined]]);
            assert.deepStrictEqual((await parse(["status", "--istiod", "http://127.0.0.2:15014"])).calls, [["status", false, "http://127.0.0.2:15014"]]);
            assert.deepStrictEqual((await parse(["add-remote", "b", "--context", "ctx-b", "--pod-cidr", "10.30.0.0/16"])).calls,
                [["addRemote", { name: "b", context: "ctx-b", podCidr: "10.30.0.0/16", serviceCidr: undefined, cacertsDir: undefined, chartDir: undefined }]]);
        });
        it("takes --backend on every verb, for every Pulumi command it runs", async () => {
            const url = "postgres://pulumi:pw@db.example.com:5432/pulumi?sslmode=require";
            for (const verb of ["up", "preview", "down", "status", "heal", "plan"]) {
                delete process.env.PULUMI_BACKEND_URL;
                assert.strictEqual((await parse([verb, "--backend", url])).code, 0, `mesh ${verb} --backend`);
                assert.strictEqual(process.env.PULUMI_BACKEND_URL, url, `mesh ${verb} --backend`);
            }
        });
        it("takes --secrets-provider on every verb, for the stacks it creates", async () => {
            for (const verb of ["up", "preview", "down", "status", "heal"]) {
                delete process.env.MESH_SECRETS_PROVIDER;
                assert.strictEqual((await parse([verb, "--secrets-provider", "awskms://alias/mesh?region=eu-west-1"])).code, 0);
                assert.strictEqual(process.env.MESH_SECRETS_PROVIDER, "awskms://alias/mesh?region=eu-west-1", `mesh ${verb} --secrets-provider`);
            }
        });
        it("answers --help for the tool and for each verb, running nothing", async () => {
            for (const argv of [[], ["--help"]]) {
                const r = await parse(argv);
                assert.strictEqual(r.code, 0);
                for (const verb of ["up", "preview", "status", "heal", "down", "add-remote", "plan"]) {
                    assert.match(r.out, new RegExp(`^  ${verb}\\b`, "m"), `mesh ${argv.join(" ")} lists ${verb}`);
                }
            }
            const heal = await parse(["heal", "--help"]);
            assert.deepStrictEqual([heal.code, heal.calls], [0, []]);
            assert.match(heal.out, /^Usage: mesh heal \[options\]/m);
            assert.match((await parse(["status", "--help"])).out, /--istiod <url>/);
        });
        const refuses = async (argv: string[], message: RegExp) => {
            const r = await parse(argv);
            assert.deepStrictEqual([r.code, r.calls], [2, []], `mesh ${argv.join(" ")}`);
            assert.match(r.err, message);
            assert.match(r.err, /mesh --help lists the verbs/);
        };
        it("refuses an unknown verb", () => refuses(["deploy"], /^mesh: unknown command 'deploy'$/m));
        it("refuses a flag the verb does not take", async () => {
            await refuses(["status", "--remotes", "a"], /^mesh: unknown option '--remotes'$/m);
            await refuses(["up", "--istiod", "x"], /^mesh: unknown option '--istiod'$/m);
        });
        it("refuses a flag without its value", () => refuses(["up", "--remotes"], /^mesh: option '--remotes <list>' argument missing$/m));
        it("refuses an empty list of remotes", () => refuses(["up", "--remotes", ","], /^mesh: option '--remotes <list>' argument ',' is invalid\. it needs at least one stack name$/m));
        it("refuses add-remote without a name or a context", async () => {
            await refuses(["add-remote", "--context", "x"], /^mesh: missing required argument 'name'$/m);
            await refuses(["add-remote", "b"], /^mesh: required option '--context <ctx>' not specified$/m);
        });
        it("refuses stray arguments", () => refuses(["up", "remote-a"], /^mesh: too many arguments for 'up'/m));
        it("refuses --stack beside --remotes: one stack alone, or a selection of remotes", () =>
            refuses(["up", "--stack", "remote-a", "--remotes", "remote-b"], /^mesh: option '--stack <name>' cannot be used with option '--remotes <list>'$/m));
    });

    describe("the fleet", () => {
        it("finds the primary and the remotes from the stack files", () => {
            const fleet = readFleet(ROOT);
            assert.strictEqual(fleet.primary.name, "primary");
            assert.deepStrictEqual(fleet.remotes.map((r) => r.name), ["remote-a"]);
        });
        it("selects named remotes and refuses unknown ones", () => {
            const fleet = readFleet(ROOT);
            assert.deepStrictEqual(selectRemotes(fleet, ["remote-a"]).map((r) => r.name), ["remote-a"]);
            assert.throws(() => selectRemotes(fleet, ["remote-x"]), /no remote stack "remote-x" \(known: remote-a\)/);
        });
        it("is the primary and the remotes whose stack exists or that are named, never a stray stack file", () => {
            const files = { primary: { name: "primary", role: "primary" as const, config: {} },
                remotes: ["remote-a", "remote-b", "remote-old"].map((name) => ({ name, role: "remote" as const, config: {} })) };
            const { fleet, ignored } = declaredFleet(files, new Set(["primary", "remote-a"]), ["remote-b"]);
            assert.deepStrictEqual(fleet.remotes.map((r) => r.name), ["remote-a", "remote-b"]);
            assert.deepStrictEqual(ignored.map((r) => r.name), ["remote-old"]);
        });
        it("refuses a project without exactly one primary", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
            fs.copyFileSync(path.join(ROOT, "Pulumi.remote-a.yaml"), path.join(dir, "Pulumi.remote-a.yaml"));
            assert.throws(() => readFleet(dir), /expected exactly one stack file with role primary/);
        });
        it("writes a new remote's stack file from remote-a's, with its own name, context and ranges", () => {
            const { stack, text } = newRemoteStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.remote-a.yaml"), "utf8"),
                "b", "ctx-b", { podCidr: "10.30.0.0/16" });
            const config = (yaml.load(text) as any).config;
            assert.strictEqual(stack, "remote-b");
            assert.strictEqual(config["istio-multicluster:clusterName"], "remote-b");
            assert.strictEqual(config["istio-multicluster:kubeContext"], "ctx-b");
            assert.strictEqual(config["istio-multicluster:podCidr"], "10.30.0.0/16");
            assert.strictEqual(config["istio-multicluster:serviceCidr"], undefined, "remote-a's range is not copied");
            assert.strictEqual(config["istio-multicluster:primaryStack"], "organization/istio-multicluster/primary");
        });
        it("copies only what the clusters share: not the template's API server, mirrored services or CA", () => {
            const template = yaml.dump({ config: {
                "istio-multicluster:role": "remote", "istio-multicluster:chartDir": "charts",
                "istio-multicluster:apiServerAddress": "https://10.0.0.3:6443",
                "istio-multicluster:mirrorServices": { fromPrimary: ["default/reviews"] },
                "istio-multicluster:cacerts": { dir: "certs/remote-a" },
            } });
            const todo = (yaml.load(newRemoteStackFile(template, "b", "ctx-b").text) as any).config;
            assert.deepStrictEqual(Object.keys(todo).sort(), ["istio-multicluster:cacerts", "istio-multicluster:chartDir",
                "istio-multicluster:clusterName", "istio-multicluster:kubeContext", "istio-multicluster:role"]);
            assert.match(todo["istio-multicluster:cacerts"].dir, /^TODO-remote-b-intermediate-ca/);
            const given = (yaml.load(newRemoteStackFile(template, "b", "ctx-b", { cacertsDir: "certs/remote-b" }).text) as any).config;
            assert.deepStrictEqual(given["istio-multicluster:cacerts"], { dir: "certs/remote-b" });
        });
        it("finds two remotes whose ranges overlap, which no single stack can see", () => {
            const stack = (name: string, role: "primary" | "remote", podCidr: string, serviceCidr: string) =>
                ({ name, role, config: { podCidr, serviceCidr } });
            const fleet = { primary: stack("primary", "primary", "10.10.0.0/16", "10.110.0.0/16"),
                remotes: [stack("remote-a", "remote", "10.20.0.0/16", "10.120.0.0/16"), stack("remote-b", "remote", "10.20.128.0/17", "10.130.0.0/16")] };
            assert.strictEqual(fleetRangeOverlap(fleet),
                "remote-a's podCidr 10.20.0.0/16 overlaps remote-b's podCidr 10.20.128.0/17; every cluster's pod and service ranges must be its own");
            assert.strictEqual(fleetRangeOverlap({ ...fleet, remotes: fleet.remotes.slice(0, 1) }), undefined);
        });
        it("carries none of the repository's test settings into a user's cluster: fixture charts, a same-host control plane", () => {
            const config = (yaml.load(newRemoteStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.remote-a.yaml"), "utf8"), "b", "ctx-b").text) as any).config;
            assert.strictEqual(config["istio-multicluster:sameHostControlPlanes"], undefined);
            assert.match(config["istio-multicluster:chartDir"], /^TODO-your-istio-release-charts \(mesh add-remote --chart-dir DIR\)$/);
        });
        it("sets them when they are the new cluster's: its charts given, its API server on this host", () => {
            const config = (yaml.load(newRemoteStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.remote-a.yaml"), "utf8"), "b", "ctx-b",
                { chartDir: "tests/fixtures/charts", sameHost: true }).text) as any).config;
            assert.strictEqual(config["istio-multicluster:sameHostControlPlanes"], true);
            assert.strictEqual(config["istio-multicluster:chartDir"], "tests/fixtures/charts");
        });
        it("refuses a name that does not make a DNS-1123 cluster name", () => {
            assert.throws(() => newRemoteStackFile("config: {}", "B_1", "x"), /cluster name "remote-B_1" is not a DNS-1123 label/);
        });
    });

    describe("status", () => {
        it("finds a healthy remote healthy", () => {
            assert.deepStrictEqual(statusRow(HEALTHY, CURRENT, "istio-system"),
                { remote: "remote-a", registered: true, addressesCurrent: true, tokenValid: true, readOnly: true, istiod: "-", problems: [] });
        });
        it("reports a missing registration secret", () => {
            const row = statusRow({ ...HEALTHY, registration: undefined }, CURRENT, "istio-system");
            assert.strictEqual(row.registered, false);
            assert.deepStrictEqual(row.problems, ["no registration secret istio-system/remote-a in the primary"]);
        });
        it("reports a registration without its label or with the wrong key", () => {
            const row = statusRow({ ...HEALTHY, registration: { labels: {}, keys: ["other"] } }, CURRENT, "istio-system");
            assert.strictEqual(row.registered, false);
            assert.strictEqual(row.problems.length, 2);
        });
        it("reports drift when the primary's pods moved", () => {
            const row = statusRow(HEALTHY, { ...CURRENT, pilotAddress: "10.10.0.9" }, "istio-system");
            assert.strictEqual(row.addressesCurrent, false);
            assert.deepStrictEqual(row.problems, ["drift: pilotAddress is 10.10.0.2 in the remote, the primary's is now 10.10.0.9"]);
            assert.deepStrictEqual(drift(HEALTHY.renderedWith, { pilotAddress: "10.10.0.9" }), { pilotAddress: ["10.10.0.2", "10.10.0.9"] });
        });
        it("reports a token that no longer authenticates, or authenticates as someone else", () => {
            const revoked = statusRow({ ...HEALTHY, tokenIdentity: { problem: "token no longer authenticates" } }, CURRENT, "istio-system");
            assert.deepStrictEqual([revoked.tokenValid, revoked.problems], [false, ["token no longer authenticates"]]);
            const other = statusRow({ ...HEALTHY, tokenIdentity: { username: "admin" } }, CURRENT, "istio-system");
            assert.match(other.problems[0], /authenticates as admin/);
        });
        it("expects the account in the remote's Istio namespace, not the primary's", () => {
            const row = statusRow({ ...HEALTHY, accountNamespace: "istio-remote",
                tokenIdentity: { username: "system:serviceaccount:istio-remote:istio-multi" } }, CURRENT, "istio-system");
            assert.deepStrictEqual(row.problems, []);
            assert.deepStrictEqual(statusRow(HEALTHY, CURRENT, "istio-other").problems, [], "the primary's namespace does not matter");
        });
        it("reports an account that can write", () => {
            const row = statusRow({ ...HEALTHY, allowedWrites: ["create pods"] }, CURRENT, "istio-system");
            assert.deepStrictEqual([row.readOnly, row.problems], [false, ["istio-multi is not read-only: it may create pods"]]);
        });
        it("shows each cluster's CA expiry, warning under 30 days left and marking one expired", () => {
            const now = new Date("2026-12-01T00:00:00Z");
            const rows = caRows([
                { stack: "primary", caCertExpiry: "2027-12-01T00:00:00.000Z" },
                { stack: "remote-a", caCertExpiry: "2026-12-20T00:00:00.000Z" },
                { stack: "remote-b", caCertExpiry: "2026-11-30T00:00:00.000Z" },
                { stack: "remote-c" },
            ], now);
            assert.deepStrictEqual(rows.map((r) => [r.stack, r.daysLeft, r.state]),
                [["primary", 365, "ok"], ["remote-a", 19, "WARNING"], ["remote-b", -1, "EXPIRED"]]);
            const table = caTable(rows);
            assert.match(table, /^primary +2027-12-01T00:00:00\.000Z +365 +ok$/m);
            assert.match(table, /^remote-a +2026-12-20T00:00:00\.000Z +19 +WARNING +renew it: raise ca\.rotate\.<cluster> on the primary/m);
            assert.match(table, /^remote-b .* EXPIRED/m);
            assert.strictEqual(caRows([{ stack: "primary", caCertExpiry: "2026-12-31T00:00:00.000Z" }], now)[0].state, "ok", "30 days left is not yet a warning");
        });
        it("with --istiod, shows each network's gateway as the stacks exported it, and whether istiod lists it there", () => {
            const networkz = [{ Network: "network1", Addr: "203.0.113.1", Port: 15443 }, { Network: "network2", Addr: "203.0.113.9", Port: 15443 }];
            const rows = gatewayRows([
                { stack: "primary", gateway: { network: "network1", address: "203.0.113.1" } },
                { stack: "remote-a", gateway: { network: "network2", address: "203.0.113.2" } },
                { stack: "remote-b" },
            ], networkz);
            assert.deepStrictEqual(rows.map((r) => [r.stack, r.istiod]), [["primary", "listed"], ["remote-a", "ABSENT"]]);
            const table = gatewayTable(rows);
            assert.match(table, /^network1 +203\.0\.113\.1:15443 +primary +listed$/m);
            assert.match(table, /^network2 +203\.0\.113\.2:15443 +remote-a +ABSENT +istiod does not dial this network there/m);
        });
        it("prints one row per remote", () => {
            const table = statusTable([statusRow(HEALTHY, CURRENT, "istio-system"), statusRow({ ...HEALTHY, stack: "remote-b", registration: undefined }, CURRENT, "istio-system")]);
            assert.match(table, /^remote-a +ok +current +ok +ok +- +-$/m);
            assert.match(table, /^remote-b +PROBLEM +current +ok +ok +- +no registration secret/m);
        });
        it("shows istiod's own view of a today's-Istio remote, and a problem unless it is synced", () => {
            const reader = { ...HEALTHY, secretName: "istio-remote-secret-remote-a", account: "istio-reader-service-account",
                tokenIdentity: { username: "system:serviceaccount:istio-system:istio-reader-service-account" },
                renderedWith: { discoveryAddress: "istiod.mesh.example" } };
            const current = { discoveryAddress: "istiod.mesh.example" };
            assert.deepStrictEqual(statusRow({ ...reader, istiodView: "synced" }, current, "istio-system").problems, []);
            assert.strictEqual(statusRow({ ...reader, istiodView: "synced" }, current, "istio-system").istiod, "synced");
            assert.deepStrictEqual(statusRow({ ...reader, istiodView: "timeout" }, current, "istio-system").problems,
                ["the primary's istiod reports this cluster timeout"]);
            assert.deepStrictEqual(statusRow({ ...reader, istiodView: "absent", registration: undefined }, current, "istio-system").problems,
                ["no registration secret istio-system/istio-remote-secret-remote-a in the primary", "the primary's istiod does not list this cluster"]);
            assert.match(statusTable([statusRow({ ...reader, istiodView: "synced" }, current, "istio-system")]), /^remote-a +ok +current +ok +ok +synced +-$/m);
        });
    });
});

describe("recovering from an interrupted run", () => {
    const message = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete " +
        "the lock file with `pulumi cancel`.\n  file:///b/.pulumi/locks/organization/istio-multicluster/remote-a/0b1c.json?no_tmp_dir=true: " +
        "created by root@ci-host (pid 4242) at 2026-11-30T16:01:02Z";

    it("reads the lock holders out of Pulumi's locked-stack error", () => {
        assert.deepStrictEqual(lockHolders(message), [{ user: "root", host: "ci-host", pid: 4242, since: "2026-11-30T16:01:02Z" }]);
        assert.deepStrictEqual(lockHolders(`${message}\nstderr: ${message}`).length, 1, "one holder per lock file, however often quoted");
        assert.deepStrictEqual(lockHolders("error: update failed"), []);
    });
    it("knows a lock file another run removed while this one checked it (PostgreSQL backend), and nothing else, for a race", () => {
        assert.ok(isLockRace("error: could not list bucket: blob (code=NotFound): sql: no rows in result set"));
        assert.ok(!isLockRace(message), "a lock another run holds is not");
        assert.ok(!isLockRace("error: blob (code=NotFound): stack remote-a not found"), "nor a missing stack");
    });
    it("calls a lock stale only when mesh started its process here and that process is gone", () => {
        const [holder] = lockHolders(message);
        const mine = () => true;
        assert.strictEqual(isStale(holder, "ci-host", () => false, mine), true);
        assert.strictEqual(isStale(holder, "ci-host", () => true, mine), false, "a live run holds it");
        assert.strictEqual(isStale(holder, "laptop", () => false, mine), false, "another host's pid says nothing here");
        assert.strictEqual(isStale(holder, "ci-host", () => false, () => false), false,
            "a host name shared with another container (pids of its own) proves nothing: a pid gone here may run there");
    });
    it("records the pulumi processes a run starts, with its stack, in a directory of this boot and pid namespace; a run that succeeds forgets its stack's ended ones", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-runs-"));
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
        fs.symlinkSync(require("child_process").execFileSync("bash", ["-c", "command -v sleep"], { encoding: "utf8" }).trim(), path.join(bin, "pulumi"));
        const records = new RunRecords(dir);
        const { spawn } = require("child_process") as typeof import("child_process");
        const start = (seconds: string) => spawn(path.join(bin, "pulumi"), [seconds]);
        const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
        const exited = (c: ReturnType<typeof start>) => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(undefined) : c.once("exit", resolve)));
        const [a, b] = [stackRecordKey("file:///state", "/project", "remote-a"), stackRecordKey("file:///state", "/project", "remote-b")];
        // Still running when its run returns, as a run killed with mesh leaves it.
        const killed = await records.recording(a, async () => (c => settle().then(() => c))(start("30")));
        assert.ok(records.startedHere(killed.pid!, a), "a pulumi mesh started is recorded while it may hold a lock");
        assert.strictEqual(records.startedHere(killed.pid!, b), false, "for its own stack only: the pid may later run on another");
        killed.kill("SIGKILL");
        await exited(killed);
        let failed: ReturnType<typeof start> | undefined;
        await assert.rejects(records.recording(a, async () => {
            failed = start("0.1");
            await settle();
            throw new Error("update failed");
        }));
        assert.ok(records.startedHere(failed!.pid!, a), "one of a failed run stays recorded: it may have left its lock");
        assert.ok(records.startedHere(killed.pid!, a), "and so does the killed one, for the next run to prove its lock stale");
        const elsewhere = await records.recording(b, async () => (c => settle().then(() => c))(start("0.1")));
        assert.strictEqual(records.startedHere(elsewhere.pid!, b), false, "one that ended with its successful run is forgotten");
        assert.ok(records.startedHere(killed.pid!, a), "a run that succeeds on another stack leaves the records of this one");
        await records.recording(a, async () => undefined);
        assert.strictEqual(records.startedHere(killed.pid!, a), false, "a run that succeeds on the stack held its lock: the stack's records are moot");
        assert.strictEqual(records.startedHere(failed!.pid!, a), false);
        assert.strictEqual(new RunRecords(dir).startedHere(process.pid, a), false, "a pid mesh never started is not recorded");
        const cleared = await records.recording(a, async () => (c => settle().then(() => c))(start("30")));
        records.forget(cleared.pid!);
        assert.strictEqual(records.startedHere(cleared.pid!, a), false);
        cleared.kill("SIGKILL");
        assert.match(runRecordsDir({ ISTIO_MC_CACHE: "/c" }), /^\/c\/mesh-runs\/[0-9a-f-]{36}-\d+$/);
    });
    it("clears a lock whose pulumi process it recorded on the same stack and is gone, and refuses one recorded on another stack", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-runs-"));
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "project-"));
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
        fs.symlinkSync(require("child_process").execFileSync("bash", ["-c", "command -v sleep"], { encoding: "utf8" }).trim(), path.join(bin, "pulumi"));
        const { spawn } = require("child_process") as typeof import("child_process");
        const records = new RunRecords(dir);
        const lockedBy = (pid: number) => new Error(message.replace("root@ci-host (pid 4242)", `root@${os.hostname()} (pid ${pid})`));
        const stackNamed = (name: string) => ({ name, cancelled: 0, async cancel() { this.cancelled++; } });
        const said: string[] = [];
        // A run that fails on remote-a after its pulumi process ended, as a pulumi killed alone leaves its lock.
        let holder = 0;
        const remoteA = stackNamed("remote-a");
        const onA = new Recovery("remote-a", remoteA as unknown as Stack, project, (l) => said.push(l), records);
        await assert.rejects(onA.clearingStaleLocks(async () => {
            const child = spawn(path.join(bin, "pulumi"), ["0.1"]);
            holder = child.pid!;
            await new Promise((resolve) => child.once("exit", resolve));
            await new Promise((resolve) => setTimeout(resolve, 200));
            throw new Error("update failed");
        }));
        const remoteB = stackNamed("remote-b");
        const onB = new Recovery("remote-b", remoteB as unknown as Stack, project, (l) => said.push(l), records);
        await assert.rejects(onB.clearingStaleLocks(async () => {
            throw lockedBy(holder);
        }), /cannot tell is over .*`pulumi cancel --yes -s remote-b`/, "the pid was remote-a's: on remote-b it proves nothing");
        assert.strictEqual(remoteB.cancelled, 0);
        let calls = 0;
        assert.strictEqual(await onA.clearingStaleLocks(async () => {
            if (calls++ === 0) {
                throw lockedBy(holder);
            }
            return "ran";
        }), "ran");
        assert.strictEqual(remoteA.cancelled, 1, "the lock is removed");
        assert.ok(said.some((l) => l.startsWith(`[remote-a] removing the lock left by pulumi pid ${holder} `)), said.join("\n"));
    });
    it("names a stack's run records by a digest of its backend, project and stack, never the backend's URL, which may hold a password", () => {
        const key = stackRecordKey("postgres://mesh:s3cret@db/state", "/project", "remote-a");
        assert.match(key, /^[0-9a-f]{64}$/);
        assert.notStrictEqual(key, stackRecordKey("postgres://mesh:s3cret@db/other", "/project", "remote-a"));
        assert.notStrictEqual(key, stackRecordKey("postgres://mesh:s3cret@db/state", "/other", "remote-a"));
        assert.notStrictEqual(key, stackRecordKey(undefined, "/project", "remote-a"));
    });
    it("reads parent, start and CPU seconds from /proc/PID/stat, whatever the command's name holds", () => {
        const fields = ["S", "4242", ...Array(9).fill("0"), "150", "25", ...Array(6).fill("0"), "987654", "0"];
        assert.deepStrictEqual(parseStat(`77 (node ) (x) ${fields.join(" ")}`), { ppid: 4242, startTicks: 987654, cpuSeconds: 1.75 });
    });

    it("finds this process's children through its threads' child lists, or every process's parent where the kernel lists none", () => {
        const { spawn } = require("child_process") as typeof import("child_process");
        const child = spawn("sleep", ["5"]);
        try {
            const found = childProcesses(process.pid).find((c) => c.pid === child.pid);
            assert.ok(found && path.basename(found.command) === "sleep", `the child ${child.pid} is found`);
        } finally {
            child.kill("SIGKILL");
        }
        const proc = fs.mkdtempSync(path.join(os.tmpdir(), "proc-"));
        const fakeProcess = (pid: number, ppid: number, command: string) => {
            fs.mkdirSync(path.join(proc, String(pid), "task", String(pid)), { recursive: true });
            fs.writeFileSync(path.join(proc, String(pid), "stat"), `${pid} (${path.basename(command)}) S ${ppid} 1 1`);
            fs.writeFileSync(path.join(proc, String(pid), "cmdline"), `${command}\0--flag\0`);
        };
        fakeProcess(10, 1, "/usr/bin/node");
        fakeProcess(11, 10, "/cache/bin/pulumi");
        fakeProcess(12, 1, "/cache/bin/pulumi");
        assert.deepStrictEqual(childProcesses(10, proc).map((c) => [c.pid, c.command]), [[11, "/cache/bin/pulumi"]]);
    });
    it("knows this process is alive and a reaped child is not", () => {
        assert.strictEqual(processAlive(process.pid), true);
        const child = require("child_process").spawnSync("true");
        assert.strictEqual(processAlive(child.pid), false);
    });
    it("finds the plugins a killed run left in the project directory, and what they started, never a live run's", () => {
        const processes = [
            { pid: 1, ppid: 0, command: "/sbin/init", cwd: "/" },
            { pid: 10, ppid: 1, command: "/opt/bin/pulumi-language-nodejs", cwd: "/work/mesh" },   // its pulumi was killed
            { pid: 11, ppid: 10, command: "node", cwd: "/work/mesh" },                             // the program it ran
            { pid: 12, ppid: 1, command: "/opt/plugins/pulumi-resource-kubernetes", cwd: "/work/mesh" },
            { pid: 20, ppid: 1, command: "pulumi", cwd: "/work/mesh" },                            // a live run
            { pid: 21, ppid: 20, command: "/opt/plugins/pulumi-resource-kubernetes", cwd: "/work/mesh" },
            { pid: 30, ppid: 1, command: "/opt/plugins/pulumi-resource-kubernetes", cwd: "/elsewhere" },
        ];
        assert.deepStrictEqual(orphanedPlugins(processes, "/work/mesh").map((p) => p.pid).sort(), [10, 11, 12]);
    });
    it("finds the empty metadata files a killed run left in a file backend, and only those", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backend-"));
        const stacks = path.join(dir, ".pulumi", "stacks", "istio-multicluster");
        fs.mkdirSync(stacks, { recursive: true });
        fs.writeFileSync(path.join(stacks, "remote-a.json"), "{}");
        fs.writeFileSync(path.join(stacks, "remote-a.json.attrs"), "");
        fs.writeFileSync(path.join(stacks, "primary.json.attrs"), "{\"user.content_type\":\"application/json\"}");
        assert.deepStrictEqual(emptyBackendMetadata(dir), [path.join(stacks, "remote-a.json.attrs")]);
        assert.strictEqual(fileBackendDir({ PULUMI_BACKEND_URL: `file://${dir}?no_tmp_dir=true` }), dir);
        assert.strictEqual(fileBackendDir({ PULUMI_BACKEND_URL: "postgres://db/state" }), undefined);
    });
    it("lists the operations a state left pending", () => {
        assert.deepStrictEqual(pendingOperations({ pending_operations: [{ type: "creating", resource: { urn: "urn:pulumi:s::p::kubernetes:core/v1:Secret::remote-a" } }] }),
            [{ type: "creating", urn: "urn:pulumi:s::p::kubernetes:core/v1:Secret::remote-a" }]);
        assert.deepStrictEqual(pendingOperations({}), []);
    });
});

describe("mapLimited (how many stacks mesh runs at once)", () => {
    it("never has more than the limit in flight, and keeps the items' order", async () => {
        let inFlight = 0;
        let most = 0;
        const results = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
            most = Math.max(most, ++inFlight);
            await new Promise((resolve) => setTimeout(resolve, n * 5));
            inFlight--;
            return n * 10;
        });
        assert.deepStrictEqual(results, [50, 10, 40, 20, 30]);
        assert.strictEqual(most, 2);
    });
});
