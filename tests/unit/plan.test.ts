import * as assert from "assert";
import { fleetPlan, planText } from "../../cli/plan";

describe("mesh plan", () => {
    it("runs the primary first and the remotes together after it, for up", () => {
        assert.deepStrictEqual(fleetPlan("primary", ["remote-a", "remote-b"]).up, [["primary"], ["remote-a", "remote-b"]]);
    });
    it("runs the remotes first and the primary last, for down", () => {
        assert.deepStrictEqual(fleetPlan("primary", ["remote-a", "remote-b"]).down, [["remote-a", "remote-b"], ["primary"]]);
    });
    it("has one stage, the primary, in a fleet of no remotes", () => {
        const plan = fleetPlan("primary", []);
        assert.deepStrictEqual([plan.up, plan.down], [[["primary"]], [["primary"]]]);
    });
    it("names the stacks flat too, for a CI matrix over the remotes", () => {
        const plan = JSON.parse(JSON.stringify(fleetPlan("hub", ["remote-a"])));
        assert.deepStrictEqual([plan.primary, plan.remotes], ["hub", ["remote-a"]]);
    });
    it("reads as numbered stages, and says how one job runs one stack", () => {
        assert.strictEqual(planText(fleetPlan("primary", ["remote-a", "remote-b"])), [
            "mesh up, in stages (a stage's stacks at once, each stage after the one before):",
            "  1. primary",
            "  2. remote-a remote-b",
            "mesh down, in stages (a stage's stacks at once, each stage after the one before):",
            "  1. remote-a remote-b",
            "  2. primary",
            "One stack alone, as one job of a stage: mesh up --stack NAME (mesh preview --stack NAME, mesh down --stack NAME).",
        ].join("\n"));
    });
});
