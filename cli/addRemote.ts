// `mesh add-remote`: a new remote's stack file, from remote-a's shared settings, and its stack.
import * as fs from "fs";
import * as path from "path";
import { serverOfContext } from "../lib/kube/kubeconfig";
import { isLoopback, urlHost } from "../lib/config/net";
import { NewRemoteSettings, newRemoteStackFile, UsageError } from "./fleet";
import { automation, creatingWorkspaceOptions, projectDir, say } from "./stackRuns";

/** What add-remote is told about the new cluster. */
export interface NewRemote extends Omit<NewRemoteSettings, "sameHost"> {
    /** The cluster's short name: its stack is remote-NAME. */
    readonly name: string;
    /** Its kubeconfig context. */
    readonly context: string;
}

/** Whether the context's API server is on this host (a loopback address); false when it cannot be read. */
function onThisHost(context: string): boolean {
    try {
        const server = serverOfContext({ kubeContext: context });
        return server !== undefined && isLoopback(urlHost(server));
    } catch {
        return false;
    }
}

export async function addRemote(remote: NewRemote): Promise<number> {
    const template = path.join(projectDir, "Pulumi.remote-a.yaml");
    if (!fs.existsSync(template)) {
        throw new UsageError(`no ${template} to copy from`);
    }
    const { name, context, ...own } = remote;
    const { stack, text } = newRemoteStackFile(fs.readFileSync(template, "utf8"), name, context, { ...own, sameHost: onThisHost(context) });
    const target = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(target)) {
        throw new UsageError(`${path.basename(target)} already exists`);
    }
    fs.writeFileSync(target, text);
    // The stack too: the fleet is the stacks that exist, so a file alone would not join `mesh up`.
    await (await automation()).LocalWorkspace.createStack({ stackName: stack, workDir: projectDir }, await creatingWorkspaceOptions(stack));
    say(`wrote ${path.basename(target)} and created stack ${stack} (cluster ${stack}, context ${remote.context}); \`mesh up\` joins it`);
    return 0;
}
