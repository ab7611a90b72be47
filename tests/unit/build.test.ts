import * as assert from "assert";
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
    it("runs the TypeScript when there is no build", () => {
        const root = project();
        fs.rmSync(path.join(root, "dist"), { recursive: true });
        assert.strictEqual(loadProjectModule("index", root).built, "typescript");
    });
});
