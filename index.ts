// One program, two roles, three mesh models: the `primary` stack installs the control plane and
// exports what the other clusters need; each remote stack reads it and joins its cluster to the
// mesh the way the primary's model builds it (see README.md). The model and role are chosen here,
// once: each pair of components receives only its own model's config.
import * as pulumi from "@pulumi/pulumi";
import { Istio10ControlPlane } from "./components/Istio10ControlPlane";
import { Istio10Remote } from "./components/Istio10Remote";
import { MultiPrimaryControlPlane } from "./components/MultiPrimaryControlPlane";
import { MultiPrimaryPeer } from "./components/MultiPrimaryPeer";
import { PrimaryRemoteControlPlane } from "./components/PrimaryRemoteControlPlane";
import { PrimaryRemoteMember } from "./components/PrimaryRemoteMember";
import { RegistrationGuard } from "./components/RegistrationGuard";
import { checkCaRotation } from "./lib/ca/caRotation";
import { clusterProvider, ownPrimaryProvider, peerProvider, primaryProvider } from "./lib/kube/cluster";
import { PrimaryConfig, RemoteConfig } from "./lib/config/config";
import { warnAboutImages } from "./lib/istio/images";
import { remoteSecretName } from "./lib/istio/istiod";
import { installedIstio } from "./lib/istio/installed";
import { lastDeployment } from "./lib/stacks/lastDeployment";
import { parseStackConfig } from "./lib/config/parseConfig";
import { apiServerFor, checkClusters } from "./lib/kube/preflight";
import { checkMeshAgainstPrimary, checkRemoteAgainstPrimary, joinOf } from "./lib/stacks/join";
import { readPeers, readPrimaryOutputs } from "./lib/stacks/primary";
import { redactingSecrets } from "./lib/config/redaction";
import { checkClusterNameFree } from "./lib/kube/registration";
import { checkRevisionRemoval } from "./lib/kube/revisionUse";
import { applyingAs, stackFieldManager } from "./lib/kube/fieldManager";

// Async so that every check, including those against the primary's outputs and its cluster, runs
// before the first resource is registered: bad input changes nothing.
// Secret config values never leave in an error message, whichever check quoted them.
export = () => redactingSecrets(async () => {
    const config = parseStackConfig(pulumi.getStack(), process.cwd());
    await checkClusters(config);
    warnAboutImages(config);
    return config.role === "primary" ? primaryStack(config) : remoteStack(config);
});

async function primaryStack(config: PrimaryConfig) {
    const controlPlane = await primaryControlPlane(config);
    // Registered last and depending on the whole control plane, so `pulumi destroy` deletes it first.
    new RegistrationGuard("registrations", { namespace: config.istioNamespace, cluster: config.cluster }, { dependsOn: controlPlane });
    return controlPlane.outputs;
}

async function primaryControlPlane(config: PrimaryConfig) {
    switch (config.meshModel) {
        case "istio-1.0": {
            const readable = (await lastDeployment("pilotAddress")).readable;
            return new Istio10ControlPlane("istio", { config, readable, provider: ownPrimaryProvider(config.cluster) }, applyingAsThisStack());
        }
        case "primary-remote": {
            const last = await lastDeployment("meshModel");
            await checkCaRotation(config, last);
            await checkRevisionRemoval(config, last);
            const installed = await installedIstio(last, config.cluster);
            return new PrimaryRemoteControlPlane("istio", { config, installed, provider: ownPrimaryProvider(config.cluster) }, applyingAsThisStack());
        }
        case "multi-primary": {
            const apiServer = apiServerFor(config);
            const last = await lastDeployment("meshModel");
            await checkCaRotation(config, last);
            const installed = await installedIstio(last, config.cluster);
            return new MultiPrimaryControlPlane("istio", { config, apiServer, installed, provider: ownPrimaryProvider(config.cluster) }, applyingAsThisStack());
        }
    }
}

async function remoteStack(config: RemoteConfig) {
    const apiServer = apiServerFor(config);
    const join = joinOf(config, await readPrimaryOutputs(config.primaryStack));
    // The primary's name in the mesh: an istiod primary's cluster name, an Istio 1.0 primary's stack name.
    const primaryName = join.model === "istio-1.0" ? config.primaryStack.split("/").pop()! : join.primary.clusterName;
    // Created once every check has passed: nothing is registered before.
    const providers = () => ({
        provider: clusterProvider(config.clusterName, config.cluster),
        primaryProvider: primaryProvider(primaryName, config.primaryCluster),
    });
    if (join.model === "istio-1.0") {
        const security = checkRemoteAgainstPrimary(join.config, join.primary, primaryName);
        return new Istio10Remote(config.clusterName, {
            config: join.config, primary: join.primary, security, apiServer, primaryName, ...providers(),
        }, applyingAsThisStack()).outputs;
    }
    const mesh = checkMeshAgainstPrimary(join.config, join.primary);
    const last = await lastDeployment("remoteSecretName");
    await checkClusterNameFree(config.primaryCluster, join.primary.istioNamespace, config.clusterName,
        remoteSecretName(config.clusterName), last.deployedBefore);
    const installed = await installedIstio(last, config.cluster);
    if (join.model === "primary-remote") {
        return new PrimaryRemoteMember(config.clusterName, {
            config: join.config, primary: join.primary, mesh, apiServer, installed, ...providers(),
        }, applyingAsThisStack()).outputs;
    }
    const peers = await readPeers(join.config.peers, mesh, [config.clusterName, join.primary.clusterName]);
    return new MultiPrimaryPeer(config.clusterName, {
        config: join.config, primary: join.primary, mesh, apiServer, installed, ...providers(),
        peers: peers.map((p) => ({ ...p, provider: peerProvider(p.clusterName, p.kubeContext) })),
    }, applyingAsThisStack()).outputs;
}

/**
 * Every Kubernetes object of a stack, its charts' included, is applied under the stack's own field
 * manager, so that a run takes over an object an interrupted run created but did not record.
 */
function applyingAsThisStack(): pulumi.ComponentResourceOptions {
    return { transforms: [applyingAs(stackFieldManager(pulumi.getProject(), pulumi.getStack()))] };
}
