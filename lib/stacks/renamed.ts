import * as pulumi from "@pulumi/pulumi";

/**
 * `opts` with an alias to the type a component of this project had before it was renamed, so that
 * stacks deployed under the old name keep their objects (a preview shows no change).
 */
export function formerly(name: string, opts?: pulumi.ComponentResourceOptions): pulumi.ComponentResourceOptions {
    return { ...opts, aliases: [{ type: `istio-multicluster:index:${name}` }, ...(opts?.aliases ?? [])] };
}
