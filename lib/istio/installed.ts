// What a run knows of a cluster's Istio before it changes anything: facts of the last deployment
// and of the live cluster that decide how the program renders and reads, not what it installs.
import { ClusterAccess } from "../config/config";
import { kubeClientLibrary, kubeConfigOf } from "../kube/kubeconfig";
import { LastDeployment } from "../stacks/lastDeployment";

/** The validating webhook configuration of istiod's default revision, which the `base` chart makes. */
export const DEFAULT_VALIDATOR = "istiod-default-validator";

/** What this run knows of the cluster's Istio. */
export interface InstalledIstio {
    /** Whether the east-west gateway's Service can be read during this run: false in a preview before a deployment made it. */
    readonly gatewayReadable: boolean;
    /** The east-west gateway's address as the last deployment exported it, when it did. */
    readonly eastWestGatewayAddress?: string;
    /**
     * Whether istiod has made its validating webhooks fail-closed, which it does once its webhook
     * answers. The charts then render them fail-closed, as Istio's charts do on a Helm upgrade, so
     * that neither a preview nor an update undoes istiod's change.
     */
    readonly validationFailClosed: boolean;
}

/** Reads the facts: the gateway's from the last deployment, the webhook's from the cluster (false when it has none yet). */
export async function installedIstio(last: LastDeployment, cluster: ClusterAccess): Promise<InstalledIstio> {
    const gateway = await last.output("eastWestGatewayAddress");
    return {
        gatewayReadable: await last.readableOnceExported("eastWestGatewayAddress"),
        eastWestGatewayAddress: typeof gateway === "string" ? gateway : undefined,
        validationFailClosed: await validationFailsClosed(cluster),
    };
}

async function validationFailsClosed(cluster: ClusterAccess): Promise<boolean> {
    const kc = kubeConfigOf(cluster);
    if (kc === undefined) {
        return false;
    }
    const api = kc.makeApiClient(kubeClientLibrary().AdmissionregistrationV1Api);
    // Unreadable counts as not yet: the charts then render their fail-open default, and the update
    // takes the field back (chart-awaits forces it), which istiod then makes fail-closed again.
    const validator = await api.readValidatingWebhookConfiguration({ name: DEFAULT_VALIDATOR }).catch(() => undefined);
    return (validator?.webhooks ?? []).some((w) => w.failurePolicy === "Fail");
}
