// Loaded by mocha before any test file (.mocharc.json): the CA material the unit tests read is made
// on each machine (no private key is committed), so a fresh clone's `npx mocha` makes it first.
// Without it a test file fails while loading, and mocha reports that as a module it cannot find;
// for the same reason (mocha retries a failed require as an ES module, hiding the first error) a
// failure here is printed and ends the run itself.
import { execFileSync } from "child_process";
import * as path from "path";

const generate = path.join(__dirname, "..", "fixtures", "certs", "generate.sh");
try {
    execFileSync("bash", [generate], { stdio: ["ignore", "ignore", "pipe"] });
} catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    console.error(`the unit tests' CA material could not be made: \`bash ${path.relative(process.cwd(), generate)}\` failed` +
        (stderr ? `:\n${stderr}` : "") + "\n(it needs openssl; `bash tools/ensure-deps.sh` installs it)");
    process.exit(1);
}
