import * as pulumi from "@pulumi/pulumi";

/**
 * A configuration mistake, reported before any resource is registered. The message always names
 * the key, the offending value and what to do about it, so that `pulumi preview` tells the user
 * everything needed to fix it in one line. A RunError, so Pulumi prints the message alone, without
 * a stack trace.
 */
export class ConfigError extends pulumi.RunError {
    constructor(
        /** The config key, without the project prefix (e.g. `clusterName`). */
        readonly key: string,
        /** The offending value as the user wrote it, or undefined when the key is missing. */
        readonly value: unknown,
        /** What is wrong with it. */
        readonly problem: string,
        /** What to do about it. */
        readonly fix: string,
    ) {
        super(`istio-multicluster:${key} ${describeValue(value)}: ${problem}. Fix: ${fix}`);
        this.name = "ConfigError";
        withoutStack(this);
    }
}

/**
 * `err` with a stack of its first line alone, for errors whose stack Pulumi does not print (a
 * RunError, a ResourceError with hideStack). Pulumi still formats each uncaught error with
 * `util.inspect(err, { colors: true })` for its trace, and on Node 20 and 22 that runs for seconds,
 * then fails, on the source-mapped frames of Pulumi's SDK (`node_modules/@pulumi/resource.ts:…`):
 * a rejected config took 15 s, a good one 3.
 */
export function withoutStack<E extends Error>(err: E): E {
    err.stack = `${err.name}: ${err.message}`;
    return err;
}

function describeValue(value: unknown): string {
    if (value === undefined) {
        return "is not set";
    }
    return `= ${JSON.stringify(value)}`;
}

/** What counts as a piece of a secret worth hiding on its own: shorter lines (`}`, `---`) say nothing. */
const MIN_FRAGMENT = 6;

/** A line of YAML that only opens a map (`cluster:`, `- context:`): structure, no secret, and common in messages. */
const BARE_YAML_KEY = /^(- )?[A-Za-z][\w.-]*:$/;

/** The shortest word of a secret hidden on its own: shorter ones (`v1`, `istio-system`) are not credentials. */
const MIN_WORD = 16;

/**
 * `text` with every secret replaced by `[secret]`: each value as written, JSON-escaped (as a
 * ConfigError quotes values), each of its lines and each long word with a digit, so that no line of
 * a PEM key and no token of a kubeconfig survives in any form. Pulumi masks only the exact value,
 * which a quoted multi-line value escapes.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
    const fragments = new Set<string>();
    for (const secret of secrets) {
        // Also each long word with a digit in it (a token, a line of base64 inside a kubeconfig's
        // `token: …`), which a message may quote alone, without the rest of its line.
        const words = secret.split(/[\s"':,{}[\]]+/).filter((w) => w.length >= MIN_WORD && /\d/.test(w));
        for (const piece of [secret, ...secret.split(/\r?\n/).map((line) => line.trim()), ...words]) {
            if (piece.length >= MIN_FRAGMENT && !BARE_YAML_KEY.test(piece)) {
                fragments.add(piece);
                fragments.add(JSON.stringify(piece).slice(1, -1));
            }
        }
    }
    // Longest first, so that a whole value goes before the lines it contains.
    return [...fragments].sort((a, b) => b.length - a.length).reduce((out, f) => out.split(f).join("[secret]"), text);
}

/**
 * Runs `read` (a check on a value the cluster reported) and reports its failure as a
 * ResourceError of `resource`, so that Pulumi names the object the problem is about.
 */
export function tiedTo<T>(resource: pulumi.Resource, read: () => T): T {
    try {
        return read();
    } catch (err) {
        throw withoutStack(new pulumi.ResourceError((err as Error).message, resource, true));
    }
}
