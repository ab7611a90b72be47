import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Values } from "../lib/istio/values";

/** The `istio` chart's add-ons that log in with an admin secret the chart expects to exist. */
const ADDONS: ReadonlyArray<{ readonly secret: string; readonly enabled: (v: Values) => boolean }> = [
    { secret: "kiali", enabled: (v) => pick(v, ["kiali", "enabled"]) === true },
    { secret: "grafana", enabled: (v) => pick(v, ["grafana", "enabled"]) === true && pick(v, ["grafana", "security", "enabled"]) === true },
];

/** The add-ons that the given chart values turn on and that need an admin secret. */
export function addonsNeedingCredentials(values: Values): string[] {
    return ADDONS.filter((a) => a.enabled(values)).map((a) => a.secret);
}

/** Arguments of AddonCredentials. */
export interface AddonCredentialsArgs {
    /** The Istio namespace. */
    readonly namespace: pulumi.Input<string>;
    /** The add-ons that need a secret (see addonsNeedingCredentials). */
    readonly addons: string[];
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The admin secrets (`username`, `passphrase`) that Istio 1.0's Kiali and secured Grafana read,
 * with a generated passphrase that stays the same across runs and is a Pulumi secret.
 */
export class AddonCredentials extends pulumi.ComponentResource {
    /** The secrets' names. */
    public readonly secretNames: pulumi.Output<string[]>;

    constructor(name: string, args: AddonCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:AddonCredentials", name, {}, opts);
        const secrets = args.addons.map((addon) => {
            const passphrase = new random.RandomPassword(`${name}-${addon}`, { length: 24, special: false }, { parent: this });
            return new k8s.core.v1.Secret(`${name}-${addon}`, {
                metadata: { name: addon, namespace: args.namespace, labels: { app: addon } },
                type: "Opaque",
                stringData: { username: "admin", passphrase: passphrase.result },
            }, { parent: this, provider: args.provider });
        });
        this.secretNames = pulumi.all(secrets.map((s) => s.metadata.name));
        this.registerOutputs({ secretNames: this.secretNames });
    }
}

function pick(values: Values, keyPath: string[]): unknown {
    return keyPath.reduce<unknown>((node, key) => (typeof node === "object" && node !== null ? (node as Values)[key] : undefined), values);
}
