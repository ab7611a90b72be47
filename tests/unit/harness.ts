// Runs the real index.ts under Pulumi's mocks and records what it registers.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
// The one SDK function used here that the SDK leaves out of its type declarations: no public API
// waits for registrations still in flight.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as net from "net";
import * as path from "path";
import { CaSettings, createCaCertificate } from "../../lib/ca/ca";
import { StackConfig } from "../../lib/config/config";
import { parseStackConfig } from "../../lib/config/parseConfig";

// Hermetic: the program under test reads no kubeconfig of the machine it runs on (and so never
// dials a real cluster); a test that needs one passes it in config.
process.env.KUBECONFIG = path.join(__dirname, "no-such-kubeconfig");
// Nor runs the machine's Pulumi CLI (which a failed stack read asks for the stacks there are).
process.env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !fs.existsSync(path.join(dir, "pulumi"))).join(path.delimiter);

/** The repository root: the program resolves chartDir and cacerts.dir from its working directory. */
export const ROOT = path.resolve(__dirname, "..", "..");

/** Sets the stack's config as Pulumi would from Pulumi.<stack>.yaml: objects as JSON, secrets marked. */
export function setStackConfig(config: Record<string, unknown>, secretKeys: readonly string[] = []): void {
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([key, value]) =>
        [`istio-multicluster:${key}`, typeof value === "string" ? value : JSON.stringify(value)])),
    secretKeys.map((k) => `istio-multicluster:${k}`));
}

/** Parses `config` as a stack's config (the program's own reader, through pulumi.Config). */
export function parseConfig(config: Record<string, unknown>, secretKeys: readonly string[] = [], stack = "remote-a"): StackConfig {
    setStackConfig(config, secretKeys);
    return parseStackConfig(stack, ROOT);
}

/**
 * Serves `server` on a free loopback port for the enclosing `describe` block; returns the getter of
 * its URL (`SCHEME://127.0.0.1:PORT`), known once the block's tests run.
 */
export function listenOnLoopback(server: net.Server, scheme: string): () => string {
    let url = "";
    before((done) => {
        server.listen(0, "127.0.0.1", () => {
            url = `${scheme}://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
            done();
        });
    });
    after((done) => {
        server.close(() => done());
    });
    return () => url;
}

/** A kubeconfig with one context, `r`, on one cluster with the given fields (`server`, `proxy-url`, …). */
export function oneContextKubeconfig(cluster: Record<string, unknown>): string {
    return yaml.dump({
        apiVersion: "v1", kind: "Config", "current-context": "r",
        contexts: [{ name: "r", context: { cluster: "c" } }], clusters: [{ name: "c", cluster }],
    });
}

/** One registration (or read) the program asked the engine for. */
export interface Registered {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    /** The provider reference (`urn::id`) for custom resources. */
    readonly provider?: string;
    /** Set for reads (`Resource.get`). */
    readonly readId?: string;
    /** What it was registered depending on, as `type::name` (dependsOn, component children, inputs). */
    readonly dependsOn: string[];
    /** Its inputs whose changes the engine ignores (the `ignoreChanges` option). */
    readonly ignoreChanges: string[];
    /** Its outputs the engine keeps as secrets (the `additionalSecretOutputs` option). */
    readonly additionalSecretOutputs: string[];
    /** Its aliases: a URN, or the name of an alias given by its parts. */
    readonly aliases: string[];
    /** Its `transforms` option, which the engine applies to it and to every resource under it. */
    readonly transforms: pulumi.ResourceTransform[];
}

/** What the primary stack exports in the tests: its pods' IPs, security on, cacerts. */
export const PRIMARY_OUTPUTS = {
    pilotAddress: "10.10.0.11",
    policyAddress: "10.10.0.12",
    telemetryAddress: "10.10.0.13",
    statsdAddress: "10.10.0.14",
    zipkinAddress: "10.10.0.15",
    istioNamespace: "istio-system",
    controlPlaneSecurityEnabled: true,
    mtlsEnabled: true,
    selfSignedCa: false,
    podCidr: "10.10.0.0/16",
    serviceCidr: "10.110.0.0/16",
};

/** The pod IPs behind each control-plane service of the mocked primary cluster. */
export const PRIMARY_POD_IPS: Record<string, string | undefined> = {
    "istio-pilot": "10.10.0.21",
    "istio-policy": "10.10.0.22",
    "istio-telemetry": "10.10.0.23",
    "istio-statsd-prom-bridge": "10.10.0.24",
    "zipkin": "10.10.0.25",
};

/** The token the mocked token controller puts into istio-multi's secret. */
export const ISTIO_MULTI_TOKEN = "eyJhbGciOiJSUzI1NiJ9.istio-multi-token.signature";
/** The CA the mocked token controller puts beside it, base64 as in the secret. */
export const CLUSTER_CA_DATA = Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64");

/** The services the mocked clusters run, as `namespace/name` → spec. */
const EXISTING_SERVICES: Record<string, Record<string, any>> = {
    "istio-system/istio-ingressgateway": { type: "LoadBalancer", selector: { istio: "ingressgateway" }, ports: [{ name: "http2", port: 80 }] },
    "istio-system/istio-eastwestgateway": { type: "LoadBalancer", selector: { istio: "eastwestgateway" }, ports: [{ name: "tls", port: 15443 }] },
    "default/reviews": { clusterIP: "10.110.3.4", selector: { app: "reviews" }, ports: [{ name: "http", port: 9080, protocol: "TCP", nodePort: 31000 }] },
    "bookinfo/ratings": { clusterIP: "None", selector: { app: "ratings" }, ports: [{ name: "http", port: 9080, protocol: "TCP" }] },
};

export const ROLE_CONFIG = {
    primary: {
        role: "primary",
        kubeContext: "primary",
        chartDir: "tests/fixtures/charts",
        controlPlaneSecurityEnabled: "true",
        mtls: "true",
        selfSignedCa: "false",
        cacerts: { dir: "tests/fixtures/certs/mesh/primary" },
        podCidr: "10.10.0.0/16",
        serviceCidr: "10.110.0.0/16",
    },
    remote: {
        role: "remote",
        kubeContext: "remote-a",
        primaryStack: "organization/istio-multicluster/primary",
        primaryKubeContext: "primary",
        apiServerAddress: "https://127.0.0.3:6443",
        sameHostControlPlanes: "true",
        chartDir: "tests/fixtures/charts",
        controlPlaneSecurityEnabled: "true",
        mtls: "true",
        selfSignedCa: "false",
        cacerts: { dir: "tests/fixtures/certs/mesh/remote-a" },
        remotePilotCreateSvcEndpoint: "true",
        podCidr: "10.20.0.0/16",
        serviceCidr: "10.120.0.0/16",
    },
} as const;

export interface RunOptions {
    /** The stack's name. */
    readonly stack: string;
    /** Config keys without the project prefix; objects are written as structured config. */
    readonly config: Record<string, unknown>;
    /** Keys stored as secrets. */
    readonly secretKeys?: string[];
    /** The primary stack's outputs; "missing" makes the stack unreadable. */
    readonly primaryOutputs?: Record<string, unknown> | "missing";
    /** Outputs of other stacks by StackReference name (the primary's come from primaryOutputs). */
    readonly stackOutputs?: Record<string, Record<string, unknown>>;
    /** Pod IPs per service; undefined means no ready pod. */
    readonly podIps?: Record<string, string | undefined>;
    /** Run as a preview. */
    readonly preview?: boolean;
    /** The token controller leaves service-account token secrets empty. */
    readonly tokensUnfilled?: boolean;
    /** What this stack exported at its last deployment (read by a preview); none by default. */
    readonly previousOutputs?: Record<string, unknown>;
    /** The host name the cloud's load balancers report (as EKS does) instead of an IP. */
    readonly loadBalancerHost?: string;
}

export interface RunResult {
    /** The stack outputs, resolved; undefined when the program failed. */
    readonly outputs?: Record<string, unknown>;
    /** Which outputs were secret. */
    readonly secretOutputs: Set<string>;
    /** The program's error, if it failed. */
    readonly error?: Error;
    /** Everything registered or read, in order. */
    readonly resources: Registered[];
    /** The warnings the program logged (pulumi.log.warn). */
    readonly warnings: string[];
}

/** Runs index.ts as the given stack and returns what it registered and exported. */
export async function runProgram(opts: RunOptions): Promise<RunResult> {
    const resources: Registered[] = [];
    // What each registration request carried beside its inputs, by `type::name`: the mocks see only the inputs.
    const requests = new Map<string, Pick<Registered, "dependsOn" | "ignoreChanges" | "additionalSecretOutputs" | "aliases">>();
    const { unknownValue } = pulumi.runtime;
    const podIps = opts.podIps ?? PRIMARY_POD_IPS;
    await pulumi.runtime.setMocks({
        newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult | Promise<pulumi.runtime.MockResourceResult> {
            if (args.id === unknownValue) {
                // The engine skips a read whose id is not known yet; its outputs stay unknown.
                return { id: unknownValue, state: { subsets: unknownValue, status: unknownValue } };
            }
            const request = requests.get(`${args.type}::${args.name}`);
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider, readId: args.id || undefined,
                dependsOn: request?.dependsOn ?? [], ignoreChanges: request?.ignoreChanges ?? [],
                additionalSecretOutputs: request?.additionalSecretOutputs ?? [], aliases: request?.aliases ?? [],
                transforms: args.transforms ?? [] });
            if (args.type === "pulumi-nodejs:dynamic:CaCertificate") {
                return madeCa(args, request?.additionalSecretOutputs ?? []);
            }
            return { id: args.id || `${args.name}-id`, state: mockState(args, opts, podIps) };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return args.inputs;
        },
    }, "istio-multicluster", opts.stack, opts.preview ?? false, "organization");
    // The mocks do not pass a registration's options on (dependencies, ignoreChanges,
    // additionalSecretOutputs): read them off each request as the engine would.
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, callback: unknown): unknown };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        requests.set(`${req.getType()}::${req.getName()}`, {
            dependsOn: (req.getDependenciesList() as string[]).map((urn) => `${urn.split("::")[2].split("$").pop()}::${urn.split("::")[3]}`),
            ignoreChanges: req.getIgnorechangesList() as string[],
            additionalSecretOutputs: req.getAdditionalsecretoutputsList() as string[],
            aliases: (req.getAliasesList() as any[]).map((alias) => alias.getUrn() || alias.getSpec()?.getName()),
        });
        return register(req, callback);
    };
    setStackConfig(opts.config, opts.secretKeys);

    // Each run re-reads config, so the module can be loaded once.
    const program: () => Promise<Record<string, unknown>> = require("../../index");
    // Without an engine (under the mocks) pulumi.log writes its warnings to the console.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => {
        const logged = /^warning: \[runtime\] ([\s\S]*)$/.exec(args.join(" "));
        return logged ? warnings.push(logged[1]) : consoleWarn(...args);
    };
    try {
        const exported = await program();
        const outputs: Record<string, unknown> = {};
        const secretOutputs = new Set<string>();
        for (const [key, value] of Object.entries(exported)) {
            outputs[key] = await resolve(value);
            if (pulumi.Output.isInstance(value) && await pulumi.isSecret(value)) {
                secretOutputs.add(key);
            }
        }
        // Registrations still in flight (a resource with transforms registers its callbacks first) belong to this run.
        await waitForRPCs();
        return { outputs, secretOutputs, resources, warnings };
    } catch (error) {
        await waitForRPCs();
        return { error: error as Error, secretOutputs: new Set(), resources, warnings };
    } finally {
        console.warn = consoleWarn;
    }
}

/** Resolves an output (or a plain value) to its value; rejects when the output failed. */
export function resolve<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined> {
    // Output.promise() is internal, but it is the one way to see an output's failure from outside.
    return (pulumi.output(value) as unknown as { promise(): Promise<T> }).promise();
}

/** The registrations of one resource type. */
export function ofType(resources: Registered[], type: string): Registered[] {
    return resources.filter((r) => r.type === type);
}

/** The Services a rendered chart awaits: the ones its post-renderer leaves without pulumi.com/skipAwait. */
export function awaitedServices(chart: Registered): string[] {
    const renderer = chart.inputs.postRenderer;
    assert.ok(renderer?.command === "./bin/chart-awaits", `${chart.name} has no chart-awaits post-renderer`);
    return renderer.args ?? [];
}

/**
 * Asserts that a primary registered one RegistrationGuard, on its Istio namespace, depending on
 * every Kubernetes object of the control plane and on each chart: that is what makes Pulumi delete
 * it first, so that its refusal comes before anything is gone.
 */
export function assertGuardsControlPlane(resources: Registered[]): Registered {
    const guards = ofType(resources, "pulumi-nodejs:dynamic:RegistrationGuard");
    assert.deepStrictEqual(guards.map((g) => [g.name, g.inputs.namespace]), [["registrations", "istio-system"]]);
    const made = resources.filter((r) => r.type.startsWith("kubernetes:") && !r.readId).map((r) => `${r.type}::${r.name}`);
    assert.ok(made.filter((r) => !r.startsWith("kubernetes:helm.sh/")).length >= 2, "the control plane makes objects of its own");
    assert.ok(made.some((r) => r.startsWith("kubernetes:helm.sh/")), "and installs charts");
    assert.deepStrictEqual(made.filter((r) => !guards[0].dependsOn.includes(r)), [], "the guard depends on each of them");
    return guards[0];
}

/** True when a registered input arrived as a Pulumi secret. */
export function isSecretInput(value: unknown): boolean {
    return Boolean(pulumi.runtime.isRpcSecret(value));
}

/** A registered input's plain value, whether or not it was a secret. */
export function plain(value: any): any {
    return pulumi.runtime.unwrapRpcSecret(value);
}

/**
 * A CA certificate as the dynamic provider makes it (its create is not run under mocks): really
 * issued, by the same function, so that what the program wires from it can be checked as X.509.
 * The outputs the registration named in additionalSecretOutputs come back secret, as the engine
 * makes them (the mocks do not), and only those.
 */
async function madeCa(args: pulumi.runtime.MockResourceArgs, secretOutputs: readonly string[]): Promise<{ id: string; state: Record<string, any> }> {
    const { id, outs } = await createCaCertificate({ ...args.inputs as CaSettings, issuerKeyPem: plain(args.inputs.issuerKeyPem) });
    const state = Object.fromEntries(Object.entries(outs).map(([key, value]) =>
        [key, secretOutputs.includes(key) ? { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value } : value]));
    return { id, state };
}

function mockState(args: pulumi.runtime.MockResourceArgs, opts: RunOptions, podIps: Record<string, string | undefined>): Record<string, any> {
    const inputs = args.inputs;
    const [namespace, name] = (args.id ?? "").split("/");
    switch (args.type) {
        case "pulumi:pulumi:StackReference":
            if (inputs.name === `organization/istio-multicluster/${opts.stack}`) {
                return { name: inputs.name, outputs: opts.previousOutputs ?? {}, secretOutputNames: [] };
            }
            if (opts.stackOutputs?.[inputs.name]) {
                return { name: inputs.name, outputs: opts.stackOutputs[inputs.name], secretOutputNames: ["kubeconfig"] };
            }
            if (opts.primaryOutputs === "missing") {
                throw new Error(`unknown stack "${inputs.name}"`);
            }
            return { name: inputs.name, outputs: opts.primaryOutputs ?? PRIMARY_OUTPUTS, secretOutputNames: ["readerKubeconfig", "peerCas"] };
        case "kubernetes:core/v1:Endpoints": {
            const ip = podIps[name];
            return { metadata: { name, namespace }, subsets: ip ? [{ addresses: [{ ip }] }] : [] };
        }
        case "kubernetes:core/v1:Service":
            if (args.id) {
                const spec = EXISTING_SERVICES[args.id];
                if (!spec) {
                    throw new Error(`services "${name}" not found`);
                }
                return { metadata: { name, namespace, labels: { app: name } }, spec, status: loadBalancerStatus(spec, opts) };
            }
            return { ...inputs, status: loadBalancerStatus(inputs.spec, opts) };
        case "kubernetes:core/v1:Secret":
            if (inputs.type === "kubernetes.io/service-account-token" && !opts.tokensUnfilled) {
                return { ...inputs, data: { token: Buffer.from(ISTIO_MULTI_TOKEN).toString("base64"), "ca.crt": CLUSTER_CA_DATA } };
            }
            return inputs;
        case "kubernetes:helm.sh/v4:Chart":
            return { ...inputs, resources: [] };
        case "kubernetes:helm.sh/v3:Release":
            return { ...inputs, status: { status: "deployed", name: inputs.name } };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: "generated-passphrase" };
        default:
            return inputs;
    }
}

/** A cloud's answer to a LoadBalancer service: an ingress address, or the host name the run asked for. */
function loadBalancerStatus(spec: Record<string, any> | undefined, opts: RunOptions): Record<string, any> {
    const ingress = opts.loadBalancerHost ? { hostname: opts.loadBalancerHost } : { ip: "203.0.113.7" };
    return spec?.type === "LoadBalancer" ? { loadBalancer: { ingress: [ingress] } } : { loadBalancer: {} };
}

/**
 * Asserts that the stack's one top component, of the given type, carries the transform that applies
 * every Kubernetes object under it as the stack's own field manager, and that nothing else does.
 */
export async function assertAppliesAsStack(resources: Registered[], componentType: string, stack: string): Promise<void> {
    const carriers = resources.filter((r) => r.transforms.length > 0);
    assert.deepStrictEqual(carriers.map((r) => [r.type, r.transforms.length]), [[componentType, 1]]);
    const secret = { custom: true, type: "kubernetes:core/v1:Secret", name: "s", props: { metadata: { name: "s" } }, opts: {} };
    const applied = await carriers[0].transforms[0](secret);
    assert.deepStrictEqual(applied?.props.metadata, { name: "s", annotations: { "pulumi.com/patchFieldManager": `pulumi-istio-multicluster-${stack}` } });
}
