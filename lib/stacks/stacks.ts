import { execFile } from "child_process";

/**
 * The stacks of the project in `projectDir` that exist in the current backend, by their short
 * names, sorted, as `pulumi stack ls` lists them; rejects with Pulumi's message when it cannot.
 */
export function stackNames(projectDir: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
        execFile("pulumi", ["stack", "ls", "--json", "--non-interactive"], { cwd: projectDir, encoding: "utf8", timeout: 20000 },
            (err, stdout, stderr) => {
                if (err) {
                    reject(new Error(`pulumi stack ls: ${stderr.trim() || err.message}`));
                    return;
                }
                try {
                    resolve((JSON.parse(stdout) as Array<{ name: string }>).map((s) => s.name.split("/").pop()!).sort());
                } catch (parseError) {
                    reject(parseError);
                }
            });
    });
}
