import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { applyingAs, FIELD_MANAGER_ANNOTATION, stackFieldManager } from "../../lib/kube/fieldManager";
import { assertAppliesAsStack, ROLE_CONFIG, runProgram } from "./harness";

/** What a transform is handed for one resource. */
function transformArgs(type: string, props: Record<string, unknown>, custom = true): pulumi.ResourceTransformArgs {
    return { custom, type, name: "x", props, opts: {} };
}

describe("the field manager of a stack's Kubernetes objects", () => {
    describe("stackFieldManager", () => {
        it("is pulumi-<project>-<stack>, the same on every run", () => {
            assert.strictEqual(stackFieldManager("istio-multicluster", "remote-a"), "pulumi-istio-multicluster-remote-a");
        });
        it("keeps within the API server's 128 characters, a hash telling long names apart", () => {
            const a = stackFieldManager("istio-multicluster", `${"r".repeat(120)}-a`);
            const b = stackFieldManager("istio-multicluster", `${"r".repeat(120)}-b`);
            assert.strictEqual(a.length, 128);
            assert.notStrictEqual(a, b);
            assert.match(a, /^pulumi-istio-multicluster-r+-[0-9a-f]{8}$/);
        });
    });

    describe("applyingAs", () => {
        const transform = applyingAs("pulumi-p-s");
        it("annotates a Kubernetes object with the field manager, keeping its other annotations and fields", async () => {
            const r = await transform(transformArgs("kubernetes:core/v1:Secret",
                { metadata: { name: "cacerts", annotations: { owner: "mesh" } }, stringData: { k: "v" } }));
            assert.deepStrictEqual(r?.props, {
                metadata: { name: "cacerts", annotations: { owner: "mesh", [FIELD_MANAGER_ANNOTATION]: "pulumi-p-s" } },
                stringData: { k: "v" },
            });
        });
        it("hands no options back, so that the resource's own pass through untouched", async () => {
            const r = await transform(transformArgs("kubernetes:core/v1:Namespace", { metadata: { name: "istio-system" } }));
            assert.strictEqual(r?.opts, undefined);
        });
        it("leaves an object that names its own field manager alone", async () => {
            const own = { metadata: { name: "n", annotations: { [FIELD_MANAGER_ANNOTATION]: "mine" } } };
            assert.strictEqual(await transform(transformArgs("kubernetes:core/v1:NamespacePatch", own)), undefined);
        });
        it("leaves Helm's charts and releases, components and other providers' resources alone", async () => {
            const metadata = { metadata: { name: "n" } };
            for (const [type, custom] of [["kubernetes:helm.sh/v3:Release", true], ["kubernetes:helm.sh/v4:Chart", false],
                ["istio-multicluster:index:CaCerts", false], ["random:index/randomPassword:RandomPassword", true]] as const) {
                assert.strictEqual(await transform(transformArgs(type, metadata, custom)), undefined, type);
            }
        });
        it("leaves metadata a preview does not know yet, or holding a secret, alone", async () => {
            for (const metadata of [pulumi.runtime.unknownValue, { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: {} }]) {
                assert.strictEqual(await transform(transformArgs("kubernetes:core/v1:Secret", { metadata })), undefined);
            }
        });
    });

    describe("each stack", () => {
        it("applies an Istio 1.0 primary's objects as its own field manager", async () => {
            const run = await runProgram({ stack: "primary", config: ROLE_CONFIG.primary });
            assert.ifError(run.error);
            await assertAppliesAsStack(run.resources, "istio-multicluster:index:Istio10ControlPlane", "primary");
        });
        it("applies an Istio 1.0 remote's objects, those in the primary included, as its own field manager", async () => {
            const run = await runProgram({ stack: "remote-a", config: ROLE_CONFIG.remote });
            assert.ifError(run.error);
            await assertAppliesAsStack(run.resources, "istio-multicluster:index:Istio10Remote", "remote-a");
        });
    });
});
