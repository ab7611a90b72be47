import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderKubeconfig } from "../lib/kubeconfig";

/** The service account the `istio-remote` chart creates for the primary's Pilot to read this cluster. */
export const ISTIO_MULTI_ACCOUNT = "istio-multi";

/** Arguments of IstioMultiAccount. */
export interface IstioMultiAccountArgs {
    /** The remote's Istio namespace, where the chart created the account. */
    readonly namespace: pulumi.Input<string>;
    /** The remote's name in the mesh: the kubeconfig's cluster, context and user. */
    readonly clusterName: string;
    /** The remote's API server URL as the primary must dial it. */
    readonly server: string;
    /** The remote cluster's provider. */
    readonly provider: k8s.Provider;
}

/**
 * The credentials of `istio-multi` (seed step S9). Kubernetes ≥ 1.24 no longer makes a token
 * secret for a service account, so this creates one and lets the token controller fill it; the
 * kubeconfig is built from that token, the cluster CA it carries, and the API server address.
 */
export class IstioMultiAccount extends pulumi.ComponentResource {
    /** A kubeconfig that authenticates as istio-multi; a Pulumi secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The token secret's name. */
    public readonly tokenSecretName: pulumi.Output<string>;

    constructor(name: string, args: IstioMultiAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-multicluster:index:IstioMultiAccount", name, {}, opts);
        const tokenSecret = new k8s.core.v1.Secret(name, {
            metadata: {
                name: `${ISTIO_MULTI_ACCOUNT}-token`,
                namespace: args.namespace,
                annotations: { "kubernetes.io/service-account.name": ISTIO_MULTI_ACCOUNT },
            },
            type: "kubernetes.io/service-account-token",
        }, { parent: this, provider: args.provider });

        this.tokenSecretName = tokenSecret.metadata.name;
        this.kubeconfig = pulumi.secret(tokenSecret.data.apply((data) => {
            if (!data?.token || !data["ca.crt"]) {
                throw new Error(`secret ${ISTIO_MULTI_ACCOUNT}-token was not filled by the cluster's token controller; ` +
                    "is kube-controller-manager running with a service-account private key?");
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
