// `mesh preview`: every stack's diff, grouped per stack.
import { finish, inParallel, loadSelection, runStack, say, Selection } from "./stackRuns";

export async function preview(selection: Selection): Promise<number> {
    const { primary, remotes } = await loadSelection(selection, true);
    const results = await inParallel([...(primary ? [primary] : []), ...remotes], (s) => runStack(s, "preview"));
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
