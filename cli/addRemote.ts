// `mesh add-remote`: a new remote's stack file, from remote-a's shared settings, and its stack.
import * as fs from "fs";
import * as path from "path";
import { newRemoteStackFile, UsageError } from "./fleet";
import { automation, projectDir, say, workspaceOptions } from "./stackRuns";

/** What add-remote is told about the new cluster. */
export interface NewRemote {
    /** The cluster's short name: its stack is remote-NAME. */
    readonly name: string;
    /** Its kubeconfig context. */
    readonly context: string;
    /** Its pod range. */
    readonly podCidr?: string;
    /** Its service range. */
    readonly serviceCidr?: string;
    /** Its intermediate CA's directory. */
    readonly cacertsDir?: string;
}

export async function addRemote(remote: NewRemote): Promise<number> {
    const template = path.join(projectDir, "Pulumi.remote-a.yaml");
    if (!fs.existsSync(template)) {
        throw new UsageError(`no ${template} to copy from`);
    }
    const { stack, text } = newRemoteStackFile(fs.readFileSync(template, "utf8"), remote.name, remote.context,
        { podCidr: remote.podCidr, serviceCidr: remote.serviceCidr, cacertsDir: remote.cacertsDir });
    const target = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(target)) {
        throw new UsageError(`${path.basename(target)} already exists`);
    }
    fs.writeFileSync(target, text);
    // The stack too: the fleet is the stacks that exist, so a file alone would not join `mesh up`.
    await (await automation()).LocalWorkspace.createStack({ stackName: stack, workDir: projectDir }, await workspaceOptions());
    say(`wrote ${path.basename(target)} and created stack ${stack} (cluster ${stack}, context ${remote.context}); \`mesh up\` joins it`);
    return 0;
}
