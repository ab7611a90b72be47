import * as assert from "assert";
import { ConfigError } from "../../lib/config/errors";
import { mergeValues, primaryChartValues, remoteChartValues } from "../../lib/istio/values";
import { PRIMARY_OUTPUTS } from "./harness";

const REMOTE = { sidecarInjector: true, remotePilotCreateSvcEndpoint: true };

describe("istio-remote chart values", () => {
    const values = remoteChartValues(PRIMARY_OUTPUTS, REMOTE) as any;

    it("points global.remotePilotAddress at the primary's pilot", () => {
        assert.strictEqual(values.global.remotePilotAddress, PRIMARY_OUTPUTS.pilotAddress);
    });
    it("points policy, telemetry and zipkin at the primary's", () => {
        assert.strictEqual(values.global.remotePolicyAddress, PRIMARY_OUTPUTS.policyAddress);
        assert.strictEqual(values.global.remoteTelemetryAddress, PRIMARY_OUTPUTS.telemetryAddress);
        assert.strictEqual(values.global.remoteZipkinAddress, PRIMARY_OUTPUTS.zipkinAddress);
    });
    it("turns Envoy's statsd on, at the primary's bridge, when the primary has one", () => {
        assert.deepStrictEqual(values.global.proxy.envoyStatsd, { enabled: true, host: PRIMARY_OUTPUTS.statsdAddress });
    });
    it("turns Envoy's statsd off when the primary exports no statsd address (Istio >= 1.0.3)", () => {
        const { statsdAddress: _, ...withoutStatsd } = PRIMARY_OUTPUTS;
        const v = remoteChartValues(withoutStatsd, REMOTE) as any;
        assert.deepStrictEqual(v.global.proxy.envoyStatsd, { enabled: false });
    });
    it("carries the primary's security switches", () => {
        assert.strictEqual(values.global.controlPlaneSecurityEnabled, true);
        assert.deepStrictEqual(values.global.mtls, { enabled: true });
        assert.deepStrictEqual(values.security, { selfSigned: false });
    });
    it("passes the remote's own switches: webhook and pilot service endpoint", () => {
        const v = remoteChartValues(PRIMARY_OUTPUTS, { sidecarInjector: false, remotePilotCreateSvcEndpoint: false }) as any;
        assert.deepStrictEqual(v.sidecarInjectorWebhook, { enabled: false });
        assert.strictEqual(v.global.remotePilotCreateSvcEndpoint, false);
        assert.strictEqual(values.global.remotePilotCreateSvcEndpoint, true);
    });
});

describe("istio chart values", () => {
    it("sets the three security switches of Istio 1.0's secure install", () => {
        assert.deepStrictEqual(primaryChartValues({ controlPlaneSecurityEnabled: true, mtlsEnabled: true, selfSignedCa: false }), {
            global: { controlPlaneSecurityEnabled: true, mtls: { enabled: true } },
            security: { selfSigned: false },
        });
    });
});

describe("merging the user's extra values", () => {
    it("keeps the user's values beside the derived ones", () => {
        const merged = mergeValues({ global: { hub: "my.registry/istio" }, kiali: { enabled: true } },
            { global: { mtls: { enabled: true } } });
        assert.deepStrictEqual(merged, { global: { hub: "my.registry/istio", mtls: { enabled: true } }, kiali: { enabled: true } });
    });
    it("accepts a user value equal to the derived one", () => {
        assert.deepStrictEqual(mergeValues({ global: { mtls: { enabled: true } } }, { global: { mtls: { enabled: true } } }),
            { global: { mtls: { enabled: true } } });
    });
    it("refuses a user value that contradicts a derived one, naming its path", () => {
        assert.throws(() => mergeValues({ global: { remotePilotAddress: "1.2.3.4" } }, { global: { remotePilotAddress: "10.0.0.1" } }),
            (err: ConfigError) => err.key === "values.global.remotePilotAddress" && /derived by the program/.test(err.message));
    });
    it("refuses a scalar where the derived values have a map", () => {
        assert.throws(() => mergeValues({ global: "x" }, { global: { mtls: { enabled: true } } }), /values\.global/);
    });
});
