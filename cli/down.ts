// `mesh down`: the remotes in parallel, then the primary; with --remotes only those remotes.
import { finish, inParallel, loadFleet, runStack } from "./stackRuns";

export async function down(remotes: string[] | undefined): Promise<number> {
    const { fleet, selected } = await loadFleet(remotes, false);
    const results = await inParallel(selected, (r) => runStack(r, "destroy"));
    if (remotes === undefined && results.every((r) => r.ok)) {
        results.push(await runStack(fleet.primary, "destroy"));
    }
    return finish(results);
}
