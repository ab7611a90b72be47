// `mesh preview`: every stack's diff, grouped per stack.
import { finish, inParallel, loadFleet, runStack, say } from "./stackRuns";

export async function preview(remotes: string[] | undefined): Promise<number> {
    const { fleet, selected } = await loadFleet(remotes, true);
    const results = await inParallel([fleet.primary, ...selected], (s) => runStack(s, "preview"));
    for (const r of results) {
        say(`\n== ${r.stack}${r.ok && r.changed === 0 ? ": no changes" : ""}`);
        if (r.ok && r.changed > 0) {
            say((r.output ?? "").trim());
        }
    }
    const code = finish(results);
    if (code === 0 && results.every((r) => r.changed === 0)) {
        say("no changes");
    }
    return code;
}
