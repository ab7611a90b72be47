// `mesh up`: the primary, then the fleet's remotes in parallel.
import { finish, inParallel, loadFleet, runStack } from "./stackRuns";

export async function up(remotes: string[] | undefined): Promise<number> {
    const { fleet, selected } = await loadFleet(remotes, true);
    const primary = await runStack(fleet.primary, "up");
    if (!primary.ok) {
        return finish([primary]);
    }
    // Remotes are independent of each other: one failing leaves the others to finish their run.
    return finish([primary, ...await inParallel(selected, (r) => runStack(r, "up"))]);
}
