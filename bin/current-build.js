// Loads a module of this project from its compiled JavaScript in dist/ (built by
// tools/ensure-deps.sh) while that build is current, else from its TypeScript through ts-node:
// after an edit of any source the TypeScript runs, so an edit never runs stale code.
const fs = require("fs");
const path = require("path");

const PROJECT_ROOT = path.join(__dirname, "..");
const SOURCE_DIRS = ["cli", "components", "lib"];

/** The newest modification time of the TypeScript sources the build is made from, in every directory below SOURCE_DIRS. */
function newestSource(root) {
    let newest = fs.statSync(path.join(root, "index.ts")).mtimeMs;
    const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(file);
            } else if (entry.name.endsWith(".ts")) {
                newest = Math.max(newest, fs.statSync(file).mtimeMs);
            }
        }
    };
    SOURCE_DIRS.map((d) => path.join(root, d)).filter((d) => fs.existsSync(d)).forEach(walk);
    return newest;
}

/**
 * Keeps V8's compiled code of the modules loaded from here on (the program's, Pulumi's Kubernetes
 * SDK, the Kubernetes client) in a cache on disk, so that a run after the first does not compile
 * them again; Node.js keys each entry by the file's content and its own version. The processes
 * started from here (mesh's pulumi runs and their programs, a chart's post-renderer) get it in
 * NODE_COMPILE_CACHE and so cache from their first module on, Pulumi's own included. The cache is
 * under ISTIO_MC_CACHE (default ~/.cache/istio-multicluster); a NODE_COMPILE_CACHE already set is
 * Node's own choice and wins, and NODE_DISABLE_COMPILE_CACHE turns caching off.
 */
function enableCompileCache() {
    const { enableCompileCache: enable } = require("module");
    if (enable === undefined || process.env.NODE_COMPILE_CACHE) {
        return; // a Node.js without it, or one whose environment already chose
    }
    const cache = process.env.ISTIO_MC_CACHE ?? path.join(require("os").homedir(), ".cache", "istio-multicluster");
    const dir = path.join(cache, "node-compile-cache");
    enable(dir);
    process.env.NODE_COMPILE_CACHE = dir;
}

/** `module` ("index", "cli/main"): dist/<module>.js when current, else <module>.ts (transpiled only, as Pulumi runs it). */
function loadProjectModule(module, root = PROJECT_ROOT) {
    enableCompileCache();
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
