import * as assert from "assert";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";
import * as path from "path";

const POST_RENDERER = path.join(__dirname, "..", "..", "bin", "chart-awaits");

const MANIFEST = `---
# Source: istio-remote/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: istio-pilot
  namespace: istio-system
spec:
  ports:
  - port: 15010
---
apiVersion: v1
kind: Service
metadata:
  name: istio-sidecar-injector
  annotations:
    owner: istio
spec:
  selector:
    istio: sidecar-injector
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-sidecar-injector
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: istiod-default-validator
webhooks:
- name: validation.istio.io
  failurePolicy: Ignore
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: fail-closed-validator
webhooks:
- name: validation.example
  failurePolicy: Fail
`;

/** Runs the post-renderer as Helm does: the manifest on stdin, the result on stdout. */
function postRender(manifest: string, ...awaited: string[]): any[] {
    const run = spawnSync(process.execPath, [POST_RENDERER, ...awaited], { input: manifest, encoding: "utf8" });
    assert.strictEqual(run.status, 0, run.stderr);
    return yaml.loadAll(run.stdout) as any[];
}

const skipAwait = (doc: any) => doc.metadata.annotations?.["pulumi.com/skipAwait"];

describe("bin/chart-awaits (the charts' Helm post-renderer)", () => {
    it("marks every Service pulumi.com/skipAwait when none is named", () => {
        const docs = postRender(MANIFEST);
        assert.deepStrictEqual(docs.filter((d) => d.kind === "Service").map(skipAwait), ["true", "true"]);
    });
    it("leaves the named Services to be awaited", () => {
        const docs = postRender(MANIFEST, "istio-pilot");
        assert.deepStrictEqual(docs.filter((d) => d.kind === "Service").map((d) => [d.metadata.name, skipAwait(d)]),
            [["istio-pilot", undefined], ["istio-sidecar-injector", "true"]]);
    });
    it("leaves Deployments awaited, but deleted in the background (the namespace's deletion waits for their pods)", () => {
        const deployment = postRender(MANIFEST)[2];
        assert.strictEqual(skipAwait(deployment), undefined);
        assert.strictEqual(deployment.metadata.annotations["pulumi.com/deletionPropagationPolicy"], "background");
    });
    it("forces server-side apply on a validating webhook the chart makes fail-open, whose failurePolicy istiod takes over", () => {
        const validators = postRender(MANIFEST).filter((d) => d.kind === "ValidatingWebhookConfiguration");
        assert.deepStrictEqual(validators.map((d) => [d.metadata.name, d.metadata.annotations?.["pulumi.com/patchForce"]]),
            [["istiod-default-validator", "true"], ["fail-closed-validator", undefined]]);
        assert.strictEqual(validators[0].webhooks[0].failurePolicy, "Ignore", "the chart's own value is kept");
    });
    it("leaves everything else as it was", () => {
        const docs = postRender(MANIFEST);
        assert.strictEqual(docs.length, 5);
        assert.strictEqual(docs[1].metadata.annotations.owner, "istio");
        assert.deepStrictEqual(docs[0].spec, { ports: [{ port: 15010 }] });
        assert.strictEqual(docs[0].metadata.annotations["pulumi.com/deletionPropagationPolicy"], undefined);
    });
});
