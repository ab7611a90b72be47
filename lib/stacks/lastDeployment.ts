// What this stack's own last deployment says about the run ahead, read through a reference to itself.
import * as pulumi from "@pulumi/pulumi";

/** What this stack's last deployment says about the run ahead. */
export interface LastDeployment {
    /** Whether it was deployed before: it exported the output asked about (read from its own last checkpoint). */
    readonly deployedBefore: boolean;
    /**
     * Whether the objects it made can be read during this run: outside a preview the program reads
     * after applying, so always; in a preview only when the stack was deployed before.
     */
    readonly readable: boolean;
    /** Another output of the last deployment (undefined when it exported none; a secret's value as a secret Output). */
    readonly output: (name: string) => Promise<unknown>;
    /**
     * Whether the objects behind another output can be read during this run: outside a preview
     * always; in a preview only when the last deployment exported it (it made them).
     */
    readonly readableOnceExported: (name: string) => Promise<boolean>;
}

/** Reads `output` of this stack's last deployment (once per run: the self reference has one name). */
export async function lastDeployment(output: string): Promise<LastDeployment> {
    const self = new pulumi.StackReference("self", {
        name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
    });
    const details = await self.getOutputDetails(output);
    const deployedBefore = details.value !== undefined || details.secretValue !== undefined;
    const readOutput = async (name: string) => {
        const found = await self.getOutputDetails(name);
        return found.secretValue !== undefined ? pulumi.secret(found.secretValue) : found.value;
    };
    const applying = !pulumi.runtime.isDryRun();
    return {
        deployedBefore, readable: deployedBefore || applying, output: readOutput,
        readableOnceExported: async (name) => applying || (await readOutput(name)) !== undefined,
    };
}
