// Loads a module of this project from its compiled JavaScript in dist/ (built by
// tools/ensure-deps.sh) while that build is current, else from its TypeScript through ts-node:
// after an edit of any source the TypeScript runs, so an edit never runs stale code.
const fs = require("fs");
const path = require("path");

const PROJECT_ROOT = path.join(__dirname, "..");
const SOURCE_DIRS = ["cli", "components", "lib"];

/** The newest modification time of the TypeScript sources the build is made from. */
function newestSource(root) {
    let newest = fs.statSync(path.join(root, "index.ts")).mtimeMs;
    for (const dir of SOURCE_DIRS.filter((d) => fs.existsSync(path.join(root, d)))) {
        for (const file of fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".ts"))) {
            newest = Math.max(newest, fs.statSync(path.join(root, dir, file)).mtimeMs);
        }
    }
    return newest;
}

/** `module` ("index", "cli/main"): dist/<module>.js when current, else <module>.ts (transpiled only, as Pulumi runs it). */
function loadProjectModule(module, root = PROJECT_ROOT) {
    const compiled = path.join(root, "dist", `${module}.js`);
    if (fs.existsSync(compiled) && fs.statSync(compiled).mtimeMs >= newestSource(root)) {
        return require(compiled);
    }
    if (!process[Symbol.for("ts-node.register.instance")]) {
        require("ts-node").register({ transpileOnly: true, project: path.join(PROJECT_ROOT, "tsconfig.json") });
    }
    return require(path.join(root, `${module}.ts`));
}

module.exports = { loadProjectModule };
