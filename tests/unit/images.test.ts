import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chartsVersion, imageWarning, releaseOf } from "../../lib/istio/images";

describe("the images an istiod stack's charts run (values.global.tag)", () => {
    it("warns when no tag is set, naming the charts' release", () => {
        assert.match(imageWarning({}, "1.24.2")!, /^values\.global\.tag is not set, .*set values\.global\.tag .* to the Istio release of the charts, 1\.24\.2$/);
        assert.match(imageWarning({ global: { hub: "registry.example.com/istio" } }, undefined)!, /is not set/);
    });
    it("warns when the tag is of another release than the charts", () => {
        assert.match(imageWarning({ global: { tag: "1.22.1" } }, "1.24.2")!,
            /^values\.global\.tag 1\.22\.1 is of Istio 1\.22, and the charts are of 1\.24 \(1\.24\.2\)/);
    });
    it("accepts a tag of the charts' release, a patch or a variant of it", () => {
        for (const tag of ["1.24.2", "1.24.3", "1.24.2-distroless", "1.24-dev"]) {
            assert.strictEqual(imageWarning({ global: { tag } }, "1.24.2"), undefined, tag);
        }
    });
    it("cannot compare with charts whose version says no release", () => {
        assert.strictEqual(imageWarning({ global: { tag: "latest" } }, "1.24.2"), undefined);
        assert.strictEqual(releaseOf("latest"), undefined);
        assert.strictEqual(releaseOf("v1.31.0"), "1.31");
    });
    it("reads the charts' release from the istiod chart's appVersion, or from chartVersion", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "charts-"));
        fs.mkdirSync(path.join(dir, "istio-control", "istio-discovery"), { recursive: true });
        fs.writeFileSync(path.join(dir, "istio-control", "istio-discovery", "Chart.yaml"), "apiVersion: v2\nname: istiod\nversion: 1.24.2\nappVersion: 1.24.2-rc\n");
        assert.strictEqual(chartsVersion({ kind: "dir", dir }), "1.24.2-rc");
        assert.strictEqual(chartsVersion({ kind: "repo", repo: "https://istio-release.storage.googleapis.com/charts", version: "1.23.0" }), "1.23.0");
        assert.strictEqual(chartsVersion({ kind: "dir", dir: path.join(dir, "absent") }), undefined);
    });
});
