// The server-side apply field manager each Kubernetes object is applied under.
//
// Left alone, the Kubernetes provider draws a new random field manager for each object it creates
// and keeps it in the state. When a run is interrupted after the API server made an object but
// before the state recorded it, the next run creates it again under another random manager, and
// the API server refuses: "Server-Side Apply field conflict detected". One manager per stack, the
// same on every run, makes that second create take the object over, while a different stack (or a
// person with kubectl) applying other values to the same fields still conflicts, as it should.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** The provider's annotation naming the field manager of the object it sits on. */
export const FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager";

/** The API server's limit on a field manager's length. */
const MAX_FIELD_MANAGER_LENGTH = 128;

/** The field manager of one stack's objects: `pulumi-<project>-<stack>`, shortened by a hash when too long. */
export function stackFieldManager(project: string, stack: string): string {
    const name = `pulumi-${project}-${stack}`;
    if (name.length <= MAX_FIELD_MANAGER_LENGTH) {
        return name;
    }
    const hash = crypto.createHash("sha256").update(name).digest("hex").slice(0, 8);
    return `${name.slice(0, MAX_FIELD_MANAGER_LENGTH - hash.length - 1)}-${hash}`;
}

/** True for a plain object: not an unknown value of a preview, not a secret, not an array. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype &&
        !pulumi.runtime.isRpcSecret(value);
}

/**
 * A resource transform that annotates every Kubernetes object, a chart's included, with the given
 * field manager, unless the object names its own. Charts and Helm releases themselves are left
 * alone: Helm applies what a release holds, not the provider.
 */
export function applyingAs(fieldManager: string): pulumi.ResourceTransform {
    return (args) => {
        if (!args.custom || !args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:helm.sh/")) {
            return undefined;
        }
        const metadata = args.props.metadata;
        const annotations = isPlainObject(metadata) ? metadata.annotations ?? {} : undefined;
        if (!isPlainObject(annotations) || annotations[FIELD_MANAGER_ANNOTATION] !== undefined) {
            return undefined;
        }
        return {
            props: { ...args.props, metadata: { ...metadata, annotations: { ...annotations, [FIELD_MANAGER_ANNOTATION]: fieldManager } } },
            // Without opts the SDK passes the request's options on exactly as they came, instead of
            // re-encoding them from args.opts.
            opts: undefined as unknown as pulumi.ResourceOptions,
        };
    };
}
