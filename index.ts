// One program, two roles: the `primary` stack installs the Istio control plane and exports its
// endpoints; each remote stack reads them and joins its cluster to the mesh (see README.md).
import { IstioControlPlane } from "./components/IstioControlPlane";
import { IstioRemote } from "./components/IstioRemote";
import { clusterProvider } from "./lib/cluster";
import { checkRemoteAgainstPrimary, readPrimaryOutputs } from "./lib/primary";
import { apiServerFor, deployedBefore, readStackConfig } from "./lib/stack";

// Async so that every check, including those against the primary's outputs, runs before the
// first resource is registered: bad input changes nothing.
export = async () => {
    const config = readStackConfig();
    if (config.role === "primary") {
        const chartDeployed = await deployedBefore("pilotAddress");
        const provider = clusterProvider("primary", config.cluster);
        return new IstioControlPlane("istio", { config, provider, chartDeployed }).outputs;
    }
    const apiServer = apiServerFor(config);
    const primary = await readPrimaryOutputs(config.primaryStack);
    const security = checkRemoteAgainstPrimary(config, primary);
    const provider = clusterProvider(config.clusterName, config.cluster);
    const primaryProvider = clusterProvider("primary", config.primaryCluster);
    return new IstioRemote(config.clusterName, { config, primary, security, apiServer, provider, primaryProvider }).outputs;
};
