import * as assert from "assert";
import { spawn } from "child_process";
import { codeOrigin, cpuByCommand, CpuProfile, projectTimeByFile, sampleDescendantsCpu, secondsTable, selfTimeByOrigin } from "../../bench/cpuProfile";

describe("the bench's CPU profile", () => {
    it("counts the CPU of the processes a run starts and of theirs, by command", async function () {
        this.timeout(10000);
        const sampler = sampleDescendantsCpu(process.pid, 20);
        // A shell that starts a node which spins, says the CPU it used, and idles a while before it ends: a grandchild.
        const spin = "const t = Date.now(); while (Date.now() - t < 400) {} const u = process.cpuUsage(); " +
            "console.log((u.user + u.system) / 1e6); setTimeout(() => {}, 300);";
        const child = spawn("bash", ["-c", `"${process.execPath}" -e '${spin}'; sleep 0.2`]);
        let said = "";
        child.stdout.on("data", (d) => (said += d));
        await new Promise((resolve) => child.once("exit", resolve));
        const byCommand = new Map(cpuByCommand(sampler.stop()));
        const node = byCommand.get(process.execPath.split("/").pop()!) ?? 0;
        // /proc counts in hundredths of a second; node's own count is finer.
        assert.ok(Math.abs(node - Number(said)) <= 0.03, `the spinning node's CPU: ${node} s sampled, ${said.trim()} s by its own count`);
    });

    it("sums CPU per command, most first", () => {
        assert.deepStrictEqual(cpuByCommand([{ command: "node", seconds: 1 }, { command: "pulumi", seconds: 2.5 }, { command: "node", seconds: 2 }]),
            [["node", 3], ["pulumi", 2.5]]);
    });

    it("names where a profiled function's code comes from: a package, a project directory, Node.js, or V8", () => {
        assert.strictEqual(codeOrigin("file:///w/node_modules/@pulumi/pulumi/runtime/rpc.js", "serialize", "/w"), "@pulumi/pulumi");
        assert.strictEqual(codeOrigin("file:///w/node_modules/a/node_modules/js-yaml/lib/loader.js", "load", "/w"), "js-yaml");
        assert.strictEqual(codeOrigin("file:///w/dist/lib/kube/kubeconfig.js", "build", "/w"), "dist/lib/kube");
        assert.strictEqual(codeOrigin("node:internal/modules/cjs/loader", "compile", "/w"), "node (its own code)");
        assert.strictEqual(codeOrigin("", "(garbage collector)", "/w"), "(garbage collector)");
        assert.strictEqual(codeOrigin("", "readFileSync", "/w"), "(native)");
        assert.strictEqual(codeOrigin("file:///elsewhere/x.js", "f", "/w"), "/elsewhere/x.js");
    });

    it("sums a profile's busy time by origin across profiles, leaving V8's idle out", () => {
        const profile: CpuProfile = {
            nodes: [
                { id: 1, callFrame: { url: "", functionName: "(idle)" } },
                { id: 2, callFrame: { url: "file:///w/node_modules/@grpc/grpc-js/build/src/a.js", functionName: "f" } },
                { id: 3, callFrame: { url: "file:///w/index.js", functionName: "main" } },
            ],
            samples: [1, 2, 3, 2],
            timeDeltas: [5_000_000, 250_000, 100_000, 250_000],
        };
        assert.deepStrictEqual(selfTimeByOrigin([profile, profile], "/w"), [["@grpc/grpc-js", 1], [".", 0.2]]);
    });

    it("charges each project file with the time of every sample it is on the stack of, what it calls included", () => {
        const profile: CpuProfile = {
            nodes: [
                { id: 1, callFrame: { url: "", functionName: "(root)" }, children: [2, 5] },
                { id: 2, callFrame: { url: "file:///w/dist/index.js", functionName: "main" }, children: [3] },
                { id: 3, callFrame: { url: "file:///w/dist/lib/checks.js", functionName: "check" }, children: [4] },
                { id: 4, callFrame: { url: "file:///w/node_modules/js-yaml/index.js", functionName: "load" } },
                { id: 5, callFrame: { url: "node:internal/fs", functionName: "read" } },
            ],
            samples: [4, 3, 2, 5, 1],
            timeDeltas: [300_000, 100_000, 50_000, 1_000_000, 10_000],
        };
        assert.deepStrictEqual(projectTimeByFile([profile], "/w"), [["dist/index.js", 0.45], ["dist/lib/checks.js", 0.4]]);
    });

    it("tables seconds with the rest summed and a total", () => {
        assert.strictEqual(secondsTable("process", [["pulumi", 1.5], ["node", 1], ["helm", 0.25]], 2), [
            "| process  | cpu s |",
            "|----------|------:|",
            "| pulumi   |  1.50 |",
            "| node     |  1.00 |",
            "| (1 more) |  0.25 |",
            "| total    |  2.75 |",
        ].join("\n"));
    });
});
