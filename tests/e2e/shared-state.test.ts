// Team use: the mesh's state in a real PostgreSQL (Debian's server, started here by
// tools/postgres.sh), reached through Pulumi's postgres:// backend, from two working copies of the
// project as two operators would have them. Nothing of the state is in a file of either copy.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { leftovers, localCluster, makeWorkDir } from "./helpers";
import { runCommand, StepTimer } from "./pulumi";

const ROOT = path.resolve(__dirname, "..", "..");
const NS = "istio-system";
const PORT = "5433";

describe("end to end: shared state in PostgreSQL, two operators", function () {
    this.timeout(20 * 60 * 1000);
    const timer = new StepTimer();
    const primary = localCluster("primary");
    const remote = localCluster("remote-a");
    let dbDir: string;
    let backend: string;
    const copies: string[] = [];
    let env: NodeJS.ProcessEnv;

    const postgres = (...args: string[]) => runCommand("bash", [path.join(ROOT, "tools/postgres.sh"), ...args], ROOT, env, 120);
    /** `mesh VERB … --backend URL` in one operator's working copy. */
    const mesh = (copy: string, ...args: string[]) =>
        runCommand(process.execPath, [path.join(copy, "bin", "mesh"), ...args, "--backend", backend], copy, env);
    const meshOk = async (copy: string, ...args: string[]) => {
        const r = await mesh(copy, ...args);
        assert.strictEqual(r.code, 0, `mesh ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    };

    before(async () => {
        // Only the --backend flag says where the state is; the passphrase stays in the environment.
        env = { ...process.env };
        delete env.PULUMI_BACKEND_URL;
        dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mc-postgres-"));
        fs.chmodSync(dbDir, 0o755);
        const started = await postgres("start", path.join(dbDir, "db"), PORT);
        assert.strictEqual(started.code, 0, started.stderr);
        backend = started.stdout.trim();
        assert.match(backend, /^postgres:\/\/pulumi:[^@]+@127\.0\.0\.1:5433\/pulumi\?sslmode=disable$/);
        copies.push(makeWorkDir(), makeWorkDir());
        // remote-a as a Helm release, whose chart is an input Pulumi keeps in the state (a rendered
        // chart's are not): the state must not depend on where the checkout is.
        const remoteFile = path.join(copies[0], "Pulumi.remote-a.yaml");
        const text = fs.readFileSync(remoteFile, "utf8");
        assert.match(text, /istio-multicluster:installMethod: template/);
        fs.writeFileSync(remoteFile, text.replace("istio-multicluster:installMethod: template", "istio-multicluster:installMethod: release"));
    });

    after(async () => {
        await postgres("stop", path.join(dbDir, "db"));
        console.log(`\nShared state wall time per step:\n${timer.table()}\n`);
    });

    it("one operator brings the mesh up with its state in PostgreSQL, none of it in a file", () => timer.time("mesh up (postgres)", async () => {
        const r = await meshOk(copies[0], "up", "--remotes", "remote-a");
        assert.match(r.stdout, /^remote-a +up +ok /m);
        assert.ok(await primary.has("v1", "Secret", "remote-a", NS), "remote-a is registered");
        for (const copy of copies) {
            assert.strictEqual(fs.existsSync(path.join(copy, ".pulumi")), false, "no file backend in the working copy");
        }
        const listed = await runCommand("pulumi", ["stack", "ls", "--json", "--non-interactive"], copies[0], { ...env, PULUMI_BACKEND_URL: backend });
        assert.deepStrictEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((s) => s.name).sort(), ["primary", "remote-a"]);
        // The second operator's copy has the same stack files (each stack's encryption salt is in its file).
        for (const file of ["Pulumi.primary.yaml", "Pulumi.remote-a.yaml"]) {
            fs.copyFileSync(path.join(copies[0], file), path.join(copies[1], file));
        }
    }));

    it("the other operator, in another directory, previews no change: the state holds nothing of the first one's checkout", () =>
        timer.time("preview from a second checkout", async () => {
            assert.notStrictEqual(copies[0], copies[1]);
            for (const stack of ["primary", "remote-a"]) {
                const r = await runCommand("pulumi", ["preview", "--expect-no-changes", "--non-interactive", "-s", stack], copies[1],
                    { ...env, PULUMI_BACKEND_URL: backend });
                assert.strictEqual(r.code, 0, `pulumi preview -s ${stack} in ${copies[1]} shows changes:\n${r.stdout}\n${r.stderr}`);
                // What made the preview come out the same: nothing of the first checkout is in the state.
                const state = await runCommand("pulumi", ["stack", "export", "-s", stack, "--non-interactive"], copies[1],
                    { ...env, PULUMI_BACKEND_URL: backend });
                assert.strictEqual(state.code, 0, state.stderr);
                assert.ok(!state.stdout.includes(copies[0]), `stack ${stack}'s state holds the first checkout's path ${copies[0]}`);
            }
        }));

    it("two operators' `mesh up` at once: one runs, the other is refused naming the holder; the state stays whole", () => timer.time("two mesh up (postgres)", async () => {
        const [a, b] = await Promise.all([mesh(copies[0], "up", "--remotes", "remote-a"), mesh(copies[1], "up", "--remotes", "remote-a")]);
        assert.deepStrictEqual([a.code, b.code].sort(), [0, 1], `${a.stdout}\n${a.stderr}\n${b.stdout}\n${b.stderr}`);
        const refused = a.code === 1 ? a : b;
        assert.match(refused.stderr, /^mesh: stack \S+ failed: locked by pulumi pid \d+ of \S+@\S+, since \S+: another run is in progress/m);
        assert.doesNotMatch(refused.stdout + refused.stderr, new RegExp(backend.split("@")[0].split(":")[2]), "the password is never printed");
        const preview = await meshOk(copies[1], "preview");
        assert.match(preview.stdout, /^no changes$/m);
    }));

    it("as CI jobs on two machines: `mesh plan --json` gives the stages, each stack's job runs alone, jobs of different stacks at once, two of one stack locked out", () =>
        timer.time("CI matrix (postgres)", async () => {
            await meshOk(copies[0], "add-remote", "b", "--context", "remote-b", "--pod-cidr", "10.30.0.0/16", "--service-cidr", "10.130.0.0/16",
                "--cacerts-dir", "tests/fixtures/certs/mesh/remote-b", "--chart-dir", "tests/fixtures/charts");
            fs.copyFileSync(path.join(copies[0], "Pulumi.remote-b.yaml"), path.join(copies[1], "Pulumi.remote-b.yaml"));
            const plan = JSON.parse((await meshOk(copies[1], "plan", "--json")).stdout);
            assert.deepStrictEqual(plan.up, [["primary"], ["remote-a", "remote-b"]]);
            assert.deepStrictEqual(plan.down, [["remote-a", "remote-b"], ["primary"]]);
            // Stage by stage, as a CI system runs a matrix: the jobs alternate between the two copies.
            const [first] = plan.up;
            const primaryJob = await meshOk(copies[0], "up", "--stack", first[0]);
            assert.doesNotMatch(primaryJob.stdout, /\[remote-/, "a job runs its own stack alone");
            const jobs = await Promise.all([
                mesh(copies[0], "up", "--stack", "remote-a"),
                mesh(copies[1], "up", "--stack", "remote-b"),
                mesh(copies[0], "up", "--stack", "remote-b"), // the same job started twice
            ]);
            const text = jobs.map((j) => `${j.stdout}\n${j.stderr}`).join("\n---\n");
            assert.strictEqual(jobs[0].code, 0, text);
            assert.doesNotMatch(jobs[0].stdout, /\[(primary|remote-b)\]/, "remote-a's job runs remote-a alone");
            assert.deepStrictEqual([jobs[1].code, jobs[2].code].sort(), [0, 1], text);
            const refused = jobs[1].code === 1 ? jobs[1] : jobs[2];
            assert.match(refused.stderr, /^mesh: stack remote-b failed: locked by pulumi pid \d+ of \S+@\S+, since \S+: another run is in progress/m);
            assert.ok(await primary.has("v1", "Secret", "remote-b", NS), "remote-b is registered");
            const alone = await meshOk(copies[1], "preview", "--stack", "remote-b");
            assert.match(alone.stdout, /^== remote-b: no changes$/m);
            assert.doesNotMatch(alone.stdout, /^== (primary|remote-a)/m, "a job previews its own stack alone");
            assert.match((await meshOk(copies[1], "preview")).stdout, /^no changes$/m);
        }));

    it("the mesh comes down in the plan's down stages, as CI jobs from both checkouts; nothing is left in any cluster", () => timer.time("mesh down (postgres)", async () => {
        const plan = JSON.parse((await meshOk(copies[1], "plan", "--json")).stdout) as { down: string[][] };
        for (const stage of plan.down) {
            await Promise.all(stage.map((stack, i) => meshOk(copies[i % 2], "down", "--stack", stack)));
        }
        assert.deepStrictEqual(await leftovers(primary, localCluster("remote-b"), "remote-b"), []);
        assert.deepStrictEqual(await leftovers(primary, remote, "remote-a"), []);
        assert.strictEqual(await primary.has("v1", "Namespace", NS), false);
    }));
});
