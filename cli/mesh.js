#!/usr/bin/env node
// The `mesh` command (package.json "bin"): runs cli/mesh.ts through ts-node, as Pulumi runs index.ts.
const path = require("path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("./mesh.ts").main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
