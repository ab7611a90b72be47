// `mesh down`: the remotes in parallel, then the primary; with --remotes only those remotes.
import { finish, inParallel, loadSelection, runStack, Selection } from "./stackRuns";

export async function down(selection: Selection): Promise<number> {
    const { primary, remotes } = await loadSelection(selection, false);
    const results = await inParallel(remotes, (r) => runStack(r, "destroy"));
    // The primary goes last, once its remotes are gone; --remotes leaves it (--stack primary is it alone).
    if (primary && selection.remotes === undefined && results.every((r) => r.ok)) {
        results.push(await runStack(primary, "destroy"));
    }
    return finish(results);
}
