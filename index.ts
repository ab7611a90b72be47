// One program, two roles, three mesh models: the `primary` stack installs the control plane and
// exports what the other clusters need; each remote stack reads it and joins its cluster to the
// mesh the way the primary's model builds it (see README.md).
import { IstioControlPlane } from "./components/IstioControlPlane";
import { IstioRemote } from "./components/IstioRemote";
import { MultiPrimaryControlPlane } from "./components/MultiPrimaryControlPlane";
import { MultiPrimaryPeer } from "./components/MultiPrimaryPeer";
import { PrimaryRemoteControlPlane } from "./components/PrimaryRemoteControlPlane";
import { PrimaryRemoteMember } from "./components/PrimaryRemoteMember";
import { RegistrationGuard } from "./components/RegistrationGuard";
import { clusterProvider } from "./lib/cluster";
import { PrimaryConfig, RemoteConfig } from "./lib/config";
import { remoteSecretName } from "./lib/istiod";
import { checkMeshAgainstPrimary, checkModelAgainstPrimary, checkRemoteAgainstPrimary, readPeers, readPrimaryOutputs } from "./lib/primary";
import { checkClusterNameFree } from "./lib/registration";
import { apiServerFor, checkClustersAnswer, lastDeployment, readStackConfig, redactingSecrets } from "./lib/stack";

// Async so that every check, including those against the primary's outputs and its cluster, runs
// before the first resource is registered: bad input changes nothing.
// Secret config values never leave in an error message, whichever check quoted them.
export = () => redactingSecrets(async () => {
    const config = readStackConfig();
    await checkClustersAnswer(config);
    return config.role === "primary" ? primaryStack(config) : remoteStack(config);
});

async function primaryStack(config: PrimaryConfig) {
    const controlPlane = await primaryControlPlane(config);
    // Registered last and depending on the whole control plane, so `pulumi destroy` deletes it first.
    new RegistrationGuard("registrations", { namespace: config.istioNamespace, cluster: config.cluster }, { dependsOn: controlPlane });
    return controlPlane.outputs;
}

async function primaryControlPlane(config: PrimaryConfig) {
    const { mesh } = config;
    const apiServer = config.meshModel === "multi-primary" ? apiServerFor(config) : undefined;
    const deployed = (await lastDeployment(mesh ? "meshModel" : "pilotAddress")).readable;
    const provider = clusterProvider("primary", config.cluster);
    if (config.meshModel === "primary-remote" && mesh) {
        return new PrimaryRemoteControlPlane("istio", { config, mesh, deployed, provider });
    }
    if (config.meshModel === "multi-primary" && mesh && apiServer) {
        return new MultiPrimaryControlPlane("istio", { config, mesh, apiServer, deployed, provider });
    }
    return new IstioControlPlane("istio", { config, provider, chartDeployed: deployed });
}

async function remoteStack(config: RemoteConfig) {
    const apiServer = apiServerFor(config);
    const primary = await readPrimaryOutputs(config.primaryStack);
    checkModelAgainstPrimary(config, primary);
    if (primary.meshModel === "istio-1.0") {
        const security = checkRemoteAgainstPrimary(config, primary);
        const provider = clusterProvider(config.clusterName, config.cluster);
        const primaryProvider = clusterProvider("primary", config.primaryCluster);
        return new IstioRemote(config.clusterName, { config, primary, security, apiServer, provider, primaryProvider }).outputs;
    }
    const mesh = checkMeshAgainstPrimary(config, primary);
    const last = await lastDeployment("remoteSecretName");
    await checkClusterNameFree(config.primaryCluster, primary.istioNamespace, config.clusterName,
        remoteSecretName(config.clusterName), last.exported);
    const peers = await readPeers(config.peers, mesh, [config.clusterName, primary.clusterName]);
    const provider = clusterProvider(config.clusterName, config.cluster);
    const primaryProvider = clusterProvider("primary", config.primaryCluster);
    const { discoveryAddress, readerKubeconfig } = primary;
    const common = { config, mesh, apiServer, deployed: last.readable, provider, primaryProvider };
    if (primary.meshModel === "primary-remote" && discoveryAddress) {
        return new PrimaryRemoteMember(config.clusterName, { ...common, primary: { ...primary, discoveryAddress } }).outputs;
    }
    if (primary.meshModel === "multi-primary" && readerKubeconfig) {
        return new MultiPrimaryPeer(config.clusterName, {
            ...common, primary: { ...primary, readerKubeconfig },
            peers: peers.map((p) => ({ ...p, provider: clusterProvider(p.clusterName, { kubeContext: p.kubeContext }) })),
        }).outputs;
    }
    throw new Error(`the primary's ${primary.meshModel} outputs lack ${discoveryAddress ? "readerKubeconfig" : "discoveryAddress"}`);
}
