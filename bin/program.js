// The Pulumi program's entry (package.json "main"; Pulumi.yaml runs it as JavaScript): index.ts,
// compiled when the build is current. Saves the ~0.4 s of loading TypeScript on every run.
module.exports = require("./current-build").loadProjectModule("index");
