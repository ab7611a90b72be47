// `mesh plan`: the order `mesh up` and `mesh down` run the fleet's stacks in, as stages, for a
// person to read or a CI system to run as jobs (one `mesh up --stack NAME` per stack, a stage's
// jobs at once, each stage after the one before).
import { loadFleet, say, sayOnStderr } from "./stackRuns";

/** The fleet's stacks as stages: the stacks of one stage are independent of each other. */
export interface Plan {
    readonly primary: string;
    readonly remotes: string[];
    /** `mesh up`'s stages: the primary (whose outputs the remotes read), then the remotes. */
    readonly up: string[][];
    /** `mesh down`'s stages: the remotes (whose registrations the primary's destroy checks are gone), then the primary. */
    readonly down: string[][];
}

export function fleetPlan(primary: string, remotes: string[]): Plan {
    const up = remotes.length > 0 ? [[primary], remotes] : [[primary]];
    return { primary, remotes, up, down: [...up].reverse() };
}

/** The plan as a person reads it. */
export function planText(plan: Plan): string {
    const stages = (verb: string, list: string[][]) => [`mesh ${verb}, in stages (a stage's stacks at once, each stage after the one before):`,
        ...list.map((stacks, i) => `  ${i + 1}. ${stacks.join(" ")}`)];
    return [...stages("up", plan.up), ...stages("down", plan.down),
        "One stack alone, as one job of a stage: mesh up --stack NAME (mesh preview --stack NAME, mesh down --stack NAME)."].join("\n");
}

export async function plan(remotes: string[] | undefined, json: boolean): Promise<number> {
    const { fleet, selected } = await loadFleet(remotes, false, json ? sayOnStderr : say);
    const found = fleetPlan(fleet.primary.name, selected.map((r) => r.name));
    if (json) {
        process.stdout.write(`${JSON.stringify(found)}\n`);
    } else {
        say(planText(found));
    }
    return 0;
}
