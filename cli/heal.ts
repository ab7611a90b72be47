// `mesh heal`: re-read the primary's endpoints, then re-deploy only the remotes whose addresses drifted.
import { FleetStack } from "./fleet";
import { finish, inParallel, loadFleet, openStack, outputValues, runStack, say } from "./stackRuns";
import { drift } from "./statusReport";

export async function heal(): Promise<number> {
    const { fleet } = await loadFleet(undefined, false);
    const primary = await runStack(fleet.primary, "up");
    if (!primary.ok) {
        return finish([primary]);
    }
    const primaryOutputs = await outputValues(await openStack(fleet.primary.name, false));
    const drifted: FleetStack[] = [];
    for (const remote of fleet.remotes) {
        const outputs = await outputValues(await openStack(remote.name, false));
        const moved = drift(outputs.controlPlaneAddresses ?? {}, primaryOutputs);
        if (Object.keys(moved).length > 0) {
            say(`[heal] ${remote.name} drifted: ${Object.entries(moved).map(([o, [was, now]]) => `${o} ${was} -> ${now}`).join(", ")}; re-deploying`);
            drifted.push(remote);
        } else {
            say(`[heal] ${remote.name} is current`);
        }
    }
    return finish([primary, ...await inParallel(drifted, (r) => runStack(r, "up"))]);
}
