import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { certificateFingerprint, readCaDirectory } from "../../lib/ca/pki";
import { assertGuardsControlPlane, awaitedServices, isSecretInput, ofType, plain, PRIMARY_OUTPUTS, PRIMARY_POD_IPS, ROLE_CONFIG, ROOT, runProgram } from "./harness";

/** What the primary exported before its pilot pod restarted. */
const PRIMARY_OUTPUTS_BEFORE_RESTART = { ...PRIMARY_OUTPUTS, pilotAddress: "10.10.0.99" };

describe("IstioControlPlane (the primary stack)", () => {
    let run: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        run = await runProgram({ stack: "primary", config: ROLE_CONFIG.primary });
        assert.ifError(run.error);
    });

    it("installs the istio chart into the Istio namespace with Istio 1.0's secure install's values", () => {
        const [chart] = ofType(run.resources, "kubernetes:helm.sh/v4:Chart");
        assert.match(chart.inputs.chart, /tests\/fixtures\/charts\/istio$/);
        assert.strictEqual(chart.inputs.namespace, "istio-system");
        assert.deepStrictEqual(chart.inputs.values.global, { controlPlaneSecurityEnabled: true, mtls: { enabled: true } });
        assert.deepStrictEqual(chart.inputs.values.security, { selfSigned: false });
    });

    it("owns the Istio namespace", () => {
        const namespaces = ofType(run.resources, "kubernetes:core/v1:Namespace");
        assert.deepStrictEqual(namespaces.map((n) => n.inputs.metadata.name), ["istio-system"]);
    });

    it("creates cacerts with all four files as secrets when selfSignedCa is false", () => {
        const cacerts = ofType(run.resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "cacerts")!;
        assert.ok(isSecretInput(cacerts.inputs.stringData), "the files reach the engine as a secret");
        const files = plain(cacerts.inputs.stringData);
        assert.deepStrictEqual(Object.keys(files).sort(), ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]);
        assert.match(files["ca-key.pem"], /PRIVATE KEY/);
    });

    it("awaits exactly the Services whose endpoints it reads", () => {
        const [chart] = ofType(run.resources, "kubernetes:helm.sh/v4:Chart");
        assert.deepStrictEqual(awaitedServices(chart), ["istio-pilot", "istio-policy", "istio-telemetry", "istio-statsd-prom-bridge", "zipkin"]);
    });

    it("awaits only the ingress gateway's Service with endpointExposure gateway, and none behind its own load balancers", async () => {
        for (const [endpointExposure, awaited] of [["gateway", ["istio-ingressgateway"]], ["loadBalancer", []]] as const) {
            const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, endpointExposure } });
            assert.ifError(r.error);
            assert.deepStrictEqual(awaitedServices(ofType(r.resources, "kubernetes:helm.sh/v4:Chart")[0]), awaited, endpointExposure);
        }
    });

    it("reads the control-plane services' Endpoints to find their pod IPs", () => {
        const reads = ofType(run.resources, "kubernetes:core/v1:Endpoints").map((r) => r.readId).sort();
        assert.deepStrictEqual(reads, ["istio-system/istio-pilot", "istio-system/istio-policy", "istio-system/istio-statsd-prom-bridge",
            "istio-system/istio-telemetry", "istio-system/zipkin"]);
    });

    it("exports the pod IPs as the contract's addresses", () => {
        assert.strictEqual(run.outputs!.pilotAddress, PRIMARY_POD_IPS["istio-pilot"]);
        assert.strictEqual(run.outputs!.policyAddress, PRIMARY_POD_IPS["istio-policy"]);
        assert.strictEqual(run.outputs!.telemetryAddress, PRIMARY_POD_IPS["istio-telemetry"]);
        assert.strictEqual(run.outputs!.statsdAddress, PRIMARY_POD_IPS["istio-statsd-prom-bridge"]);
        assert.strictEqual(run.outputs!.zipkinAddress, PRIMARY_POD_IPS.zipkin);
    });

    it("exports its namespace, security switches and ranges", () => {
        const { istioNamespace, controlPlaneSecurityEnabled, mtlsEnabled, selfSignedCa, podCidr, serviceCidr } = run.outputs!;
        assert.deepStrictEqual({ istioNamespace, controlPlaneSecurityEnabled, mtlsEnabled, selfSignedCa, podCidr, serviceCidr }, {
            istioNamespace: "istio-system", controlPlaneSecurityEnabled: true, mtlsEnabled: true, selfSignedCa: false,
            podCidr: "10.10.0.0/16", serviceCidr: "10.110.0.0/16",
        });
    });

    it("exports the root's fingerprint, not the root or key, so remotes can check they share it", () => {
        const root = readCaDirectory(path.join(ROOT, "tests/fixtures/certs/mesh/primary")).rootCert!;
        assert.strictEqual(run.outputs!.rootCertFingerprint, certificateFingerprint(root));
        assert.match(String(run.outputs!.rootCertFingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    });

    it("sends every Kubernetes object through the primary's explicit provider", () => {
        const k8sObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8sObjects.length > 0);
        for (const r of k8sObjects) {
            assert.match(r.provider ?? "", /pulumi:providers:kubernetes::primary::/, `${r.type} ${r.name}`);
        }
    });

    it("points that provider at the configured context", () => {
        const [provider] = ofType(run.resources, "pulumi:providers:kubernetes");
        assert.strictEqual(provider.inputs.context, "primary");
    });

    it("reads nothing in the preview of a first install, when the chart's objects do not exist yet", async () => {
        const r = await runProgram({ stack: "primary", preview: true, config: ROLE_CONFIG.primary });
        assert.ifError(r.error);
        assert.deepStrictEqual(ofType(r.resources, "kubernetes:core/v1:Endpoints"), []);
        assert.strictEqual(ofType(r.resources, "pulumi:pulumi:StackReference")[0].inputs.name, "organization/istio-multicluster/primary");
    });

    it("reads the pods' current IPs in the preview of a deployed primary, so a preview shows a moved pod", async () => {
        const r = await runProgram({ stack: "primary", preview: true, config: ROLE_CONFIG.primary, previousOutputs: PRIMARY_OUTPUTS_BEFORE_RESTART });
        assert.ifError(r.error);
        assert.strictEqual(ofType(r.resources, "kubernetes:core/v1:Endpoints").length, 5);
        assert.strictEqual(r.outputs!.pilotAddress, PRIMARY_POD_IPS["istio-pilot"]);
    });

    it("omits statsd when envoyStatsd is off (Istio >= 1.0.3)", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, envoyStatsd: "false" } });
        assert.strictEqual(r.outputs!.statsdAddress, undefined);
        assert.ok(!ofType(r.resources, "kubernetes:core/v1:Endpoints").some((e) => e.readId!.endsWith("statsd-prom-bridge")));
    });

    it("registers a RegistrationGuard on the primary's Istio namespace, which checks the registrations at destroy", () => {
        const guard = assertGuardsControlPlane(run.resources);
        assert.strictEqual(guard.inputs.kubeContext, "primary");
        assert.match(String(guard.inputs.__provider), /destroyRefusal/);
        assert.ok(guard.dependsOn.includes("kubernetes:helm.sh/v4:Chart::istio"), "and the chart, with everything it rendered");
    });

    it("gives the chart inputs that are the same from any checkout: the chart and its post-renderer relative to the project", () => {
        const [chart] = ofType(run.resources, "kubernetes:helm.sh/v4:Chart");
        assert.strictEqual(chart.inputs.chart, "tests/fixtures/charts/istio");
        assert.strictEqual(chart.inputs.postRenderer.command, "./bin/chart-awaits");
        assert.ok(!JSON.stringify(chart.inputs).includes(ROOT), `the checkout's path is in the chart's inputs: ${JSON.stringify(chart.inputs)}`);
    });

    it("keeps a kubeconfig given in config secret in the guard's state", async () => {
        const { kubeContext: _, ...rest } = ROLE_CONFIG.primary;
        const kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: guard-token}}]\n";
        const r = await runProgram({ stack: "primary", config: { ...rest, kubeconfig }, secretKeys: ["kubeconfig"] });
        assert.ifError(r.error);
        const [guard] = ofType(r.resources, "pulumi-nodejs:dynamic:RegistrationGuard");
        assert.ok(isSecretInput(guard.inputs.kubeconfig), "the guard's kubeconfig reaches the engine as a secret");
        assert.strictEqual(plain(guard.inputs.kubeconfig), kubeconfig);
    });

    it("fails, naming the service and its selector, when no pod is ready behind a service", async () => {
        const r = await runProgram({ stack: "primary", config: ROLE_CONFIG.primary, podIps: { ...PRIMARY_POD_IPS, "istio-policy": undefined } });
        assert.match(r.error!.message, /service istio-system\/istio-policy has no ready pod \(selector istio-mixer-type=policy\)/);
        assert.ok(r.error instanceof pulumi.ResourceError, `expected a ResourceError, got ${r.error}`);
        assert.ok(r.error.resource instanceof k8s.core.v1.Endpoints, "tied to the Endpoints it read");
    });

    it("creates a LoadBalancer per control-plane service with endpointExposure loadBalancer", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, endpointExposure: "loadBalancer" } });
        const lbs = ofType(r.resources, "kubernetes:core/v1:Service").filter((s) => s.inputs.spec?.type === "LoadBalancer");
        assert.deepStrictEqual(lbs.map((s) => s.inputs.metadata.name).sort(), ["istio-pilot-multicluster", "istio-policy-multicluster",
            "istio-statsd-prom-bridge-multicluster", "istio-telemetry-multicluster", "zipkin-multicluster"]);
        const pilot = lbs.find((s) => s.inputs.metadata.name === "istio-pilot-multicluster")!;
        assert.deepStrictEqual(pilot.inputs.spec.selector, { istio: "pilot" });
        assert.strictEqual(r.outputs!.pilotAddress, "203.0.113.7");
    });

    it("exports the ingress gateway's address for all five with endpointExposure gateway", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, endpointExposure: "gateway" } });
        const reads = ofType(r.resources, "kubernetes:core/v1:Service").map((s) => s.readId);
        assert.deepStrictEqual(reads, ["istio-system/istio-ingressgateway"]);
        for (const key of ["pilotAddress", "policyAddress", "telemetryAddress", "statsdAddress", "zipkinAddress"]) {
            assert.strictEqual(r.outputs![key], "203.0.113.7", key);
        }
    });

    it("installs the chart as a Helm release with installMethod release", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, installMethod: "release" } });
        const [release] = ofType(r.resources, "kubernetes:helm.sh/v3:Release");
        assert.strictEqual(release.inputs.name, "istio");
        assert.strictEqual(release.inputs.createNamespace, false);
        assert.strictEqual(ofType(r.resources, "kubernetes:helm.sh/v4:Chart").length, 0);
    });

    it("takes the chart from a repository when chartRepo and chartVersion are set", async () => {
        const { chartDir: _, ...rest } = ROLE_CONFIG.primary;
        const r = await runProgram({ stack: "primary", config: { ...rest, chartRepo: "https://charts.example.com/istio", chartVersion: "1.0.6" } });
        const [chart] = ofType(r.resources, "kubernetes:helm.sh/v4:Chart");
        assert.deepStrictEqual([chart.inputs.chart, chart.inputs.version, chart.inputs.repositoryOpts.repo], ["istio", "1.0.6", "https://charts.example.com/istio"]);
    });

    it("generates a stable, secret admin passphrase when Kiali is enabled", async () => {
        const r = await runProgram({ stack: "primary", config: { ...ROLE_CONFIG.primary, values: { kiali: { enabled: true } } } });
        assert.strictEqual(ofType(r.resources, "random:index/randomPassword:RandomPassword").length, 1);
        const kiali = ofType(r.resources, "kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "kiali")!;
        assert.ok(isSecretInput(kiali.inputs.stringData), "the passphrase reaches the engine as a secret");
        assert.deepStrictEqual(plain(kiali.inputs.stringData), { username: "admin", passphrase: "generated-passphrase" });
    });

    it("generates nothing random when no add-on needs it", () => {
        assert.strictEqual(ofType(run.resources, "random:index/randomPassword:RandomPassword").length, 0);
    });
});
