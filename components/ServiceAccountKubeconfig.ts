import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAccess } from "../lib/config/config";
import { waitForSecretKeys } from "../lib/kube/kube";
import { withoutStack } from "../lib/config/errors";
import { kubeConfigOf, renderKubeconfig } from "../lib/kube/kubeconfig";
import { formerly } from "../lib/stacks/renamed";

/** How long the token controller may take to fill a token secret: it normally takes a moment. */
const TOKEN_WAIT_SECONDS = 120;

/** Arguments of ServiceAccountKubeconfig. */
export interface ServiceAccountKubeconfigArgs {
    /** The service account (created by a chart): `istio-multi`, or `istio-reader-service-account`. */
    readonly account: string;
    /** The name of the token secret to create for it. */
    readonly tokenSecretName: string;
    /** The account's namespace. */
    readonly namespace: pulumi.Input<string>;
    /** The cluster's name in the mesh: the kubeconfig's cluster, context and user. */
    readonly clusterName: string;
    /** The cluster's API server URL as another cluster's control plane must dial it. */
    readonly server: string;
    /** How to reach the cluster, to wait for the token controller. */
    readonly access: ClusterAccess;
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * A kubeconfig that lets another cluster's control plane read this one as a service account.
 * Kubernetes ≥ 1.24 no longer makes a token secret for a service account, so this creates one
 * and waits, up to two minutes, for the token controller to fill it (the provider's own
 * wait gives up after five seconds, which a busy or just restarted controller can miss); the
 * kubeconfig is built from that token, the cluster CA it carries, and the API server address.
 */
export class ServiceAccountKubeconfig extends pulumi.ComponentResource {
    /** A kubeconfig that authenticates as the account; a Pulumi secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The token secret's name. */
    public readonly tokenSecretName: pulumi.Output<string>;

    constructor(name: string, args: ServiceAccountKubeconfigArgs, opts?: pulumi.ComponentResourceOptions) {
        // Named IstioMultiAccount before it served the reader account of today's Istio too.
        super("istio-multicluster:index:ServiceAccountKubeconfig", name, {}, formerly("IstioMultiAccount", opts));
        const tokenSecret = new k8s.core.v1.Secret(name, {
            metadata: {
                name: args.tokenSecretName,
                namespace: args.namespace,
                annotations: { "kubernetes.io/service-account.name": args.account, "pulumi.com/skipAwait": "true" },
            },
            type: "kubernetes.io/service-account-token",
        }, { parent: this, provider: args.provider });

        this.tokenSecretName = tokenSecret.metadata.name;
        this.kubeconfig = pulumi.secret(pulumi.all([tokenSecret.data, tokenSecret.metadata]).apply(async ([created, metadata]) => {
            const data = created?.token && created["ca.crt"] ? created : await filledTokenSecret(args, metadata.namespace!);
            if (!data?.token || !data["ca.crt"]) {
                throw withoutStack(new pulumi.ResourceError(`secret ${args.tokenSecretName} was not filled by the cluster's token controller ` +
                    `within ${TOKEN_WAIT_SECONDS}s; is kube-controller-manager running with a service-account private key?`, tokenSecret, true));
            }
            return renderKubeconfig({
                clusterName: args.clusterName,
                server: args.server,
                caData: data["ca.crt"],
                token: Buffer.from(data.token, "base64").toString("utf8"),
            });
        }));
        this.registerOutputs({ kubeconfig: this.kubeconfig, tokenSecretName: this.tokenSecretName });
    }
}

/** The token secret's data once the token controller has filled it; undefined without a kubeconfig to read it with, or in time. */
async function filledTokenSecret(args: ServiceAccountKubeconfigArgs, namespace: string): Promise<Record<string, string> | undefined> {
    const kc = kubeConfigOf(args.access);
    return kc && waitForSecretKeys(kc, namespace, args.tokenSecretName, ["token", "ca.crt"], TOKEN_WAIT_SECONDS);
}
