import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { loadProjectModule } = require("../../bin/current-build") as { loadProjectModule(module: string, root: string): { built: string } };

/** A project with index.ts, a lib/ source and a build of index in dist/, each saying which it is. */
function project(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "current-build-"));
    fs.mkdirSync(path.join(root, "lib"));
    fs.mkdirSync(path.join(root, "dist"));
    fs.writeFileSync(path.join(root, "index.ts"), "export const built: string = \"typescript\";\n");
    fs.writeFileSync(path.join(root, "lib", "values.ts"), "export {};\n");
    fs.writeFileSync(path.join(root, "dist", "index.js"), "exports.built = \"compiled\";\n");
    return root;
}

function touch(file: string, secondsFromNow: number): void {
    const t = new Date(Date.now() + secondsFromNow * 1000);
    fs.utimesSync(file, t, t);
}

describe("bin/current-build.js (how the program and mesh start)", () => {
    it("runs the compiled build while it is newer than every source", () => {
        const root = project();
        touch(path.join(root, "dist", "index.js"), 10);
        assert.strictEqual(loadProjectModule("index", root).built, "compiled");
    });
    it("runs the TypeScript once a source was edited after the build", () => {
        const root = project();
        touch(path.join(root, "dist", "index.js"), -10);
        touch(path.join(root, "lib", "values.ts"), 0);
        assert.strictEqual(loadProjectModule("index", root).built, "typescript");
    });
    it("runs the TypeScript once a source in a directory below lib/ was edited after the build", () => {
        const root = project();
        fs.mkdirSync(path.join(root, "lib", "kube"));
        fs.writeFileSync(path.join(root, "lib", "kube", "client.ts"), "export {};\n");
        touch(path.join(root, "lib", "values.ts"), -20);
        touch(path.join(root, "index.ts"), -20);
        touch(path.join(root, "dist", "index.js"), -10);
        touch(path.join(root, "lib", "kube", "client.ts"), 0);
        assert.strictEqual(loadProjectModule("index", root).built, "typescript");
    });
    it("runs the TypeScript when there is no build", () => {
        const root = project();
        fs.rmSync(path.join(root, "dist"), { recursive: true });
        assert.strictEqual(loadProjectModule("index", root).built, "typescript");
    });
});

describe("Node.js's compile cache (what a run after the first saves)", () => {
    it("keeps the compiled code of what the project loads under its cache directory, and hands it to the processes it starts", () => {
        const root = project();
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mc-cache-"));
        const env: NodeJS.ProcessEnv = { ...process.env, ISTIO_MC_CACHE: cache };
        delete env.NODE_COMPILE_CACHE;
        delete env.NODE_DISABLE_COMPILE_CACHE;
        touch(path.join(root, "dist", "index.js"), 10);
        const script = `const m = require(${JSON.stringify(path.resolve(__dirname, "..", "..", "bin", "current-build"))}).loadProjectModule("index", ` +
            `${JSON.stringify(root)}); require("module").flushCompileCache(); console.log(m.built); console.log(process.env.NODE_COMPILE_CACHE);`;
        const [built, childCache] = execFileSync(process.execPath, ["-e", script], { env, encoding: "utf8" }).trim().split("\n");
        assert.strictEqual(built, "compiled");
        assert.strictEqual(childCache, path.join(cache, "node-compile-cache"), "the environment of the processes it starts names the same directory");
        const entries = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
            .flatMap((e) => (e.isDirectory() ? entries(path.join(dir, e.name)) : [e.name]));
        assert.ok(entries(path.join(cache, "node-compile-cache")).length > 0, "the compiled module is in the cache");
    });
    it("leaves a NODE_COMPILE_CACHE the environment chose as it is", () => {
        const root = project();
        touch(path.join(root, "dist", "index.js"), 10);
        const chosen = fs.mkdtempSync(path.join(os.tmpdir(), "chosen-cache-"));
        const script = `require(${JSON.stringify(path.resolve(__dirname, "..", "..", "bin", "current-build"))}).loadProjectModule("index", ` +
            `${JSON.stringify(root)}); console.log(process.env.NODE_COMPILE_CACHE);`;
        const out = execFileSync(process.execPath, ["-e", script], { env: { ...process.env, NODE_COMPILE_CACHE: chosen, ISTIO_MC_CACHE: "/nonexistent" }, encoding: "utf8" });
        assert.strictEqual(out.trim(), chosen);
    });
});

describe("the unit tests on a fresh clone", () => {
    it("make the CA material they read before loading any test (npx mocha, nothing run before it)", function () {
        this.timeout(120000);
        const root = path.resolve(__dirname, "..", "..");
        const clone = fs.mkdtempSync(path.join(os.tmpdir(), "fresh-clone-"));
        try {
            // What git tracks, as a clone has it: no CA material (it is made on each machine).
            for (const file of execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean)) {
                fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
                fs.copyFileSync(path.join(root, file), path.join(clone, file));
            }
            fs.symlinkSync(path.join(root, "node_modules"), path.join(clone, "node_modules"));
            assert.ok(!fs.existsSync(path.join(clone, "tests/fixtures/certs/mesh")));
            // What the repository's mocha config loads first, then one test file that reads the material.
            const config = JSON.parse(fs.readFileSync(path.join(root, ".mocharc.json"), "utf8")) as { require: string[] };
            const run = spawnSync(process.execPath, [path.join(root, "node_modules/mocha/bin/mocha.js"), "--no-config",
                ...config.require.flatMap((r) => ["--require", r]), "--extension", "ts", "tests/unit/pki.test.ts"],
            { cwd: clone, encoding: "utf8" });
            assert.strictEqual(run.status, 0, `mocha in a fresh clone exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
            assert.ok(fs.existsSync(path.join(clone, "tests/fixtures/certs/mesh/primary/ca-key.pem")));
        } finally {
            fs.rmSync(clone, { recursive: true, force: true });
        }
    });
});
