// `mesh up`: the primary, then the fleet's remotes in parallel.
import { finish, inParallel, loadSelection, runStack, Selection, StackResult } from "./stackRuns";

export async function up(selection: Selection): Promise<number> {
    const { primary, remotes } = await loadSelection(selection, true);
    const results: StackResult[] = [];
    if (primary) {
        results.push(await runStack(primary, "up"));
        if (!results[0].ok) {
            return finish(results);
        }
    }
    // Remotes are independent of each other: one failing leaves the others to finish their run.
    return finish([...results, ...await inParallel(remotes, (r) => runStack(r, "up"))]);
}
