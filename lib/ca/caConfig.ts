// The CA config of a stack: `cacerts` (a CA of the user's, checked as istiod will use it) and `ca`
// (the CA the program makes: its peers, rotations and validities).
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { CaGeneration } from "../config/config";
import { RawConfig, wholeNumber } from "../config/configReader";
import { ConfigError } from "../config/errors";
import { isDns1123Label } from "../config/net";
import { CA_FILES, CaBundle, caBundleProblems, readCaDirectory } from "./pki";

/**
 * `cacerts`: the CA istiod (or Citadel) signs with, from a directory laid out as Istio's
 * samples/certs or from secret structured config, checked as istiod will use it.
 */
export function readCaBundle(r: RawConfig, isSecret: boolean): CaBundle | undefined {
    const value = r.json<Record<string, string> | undefined>("cacerts", undefined);
    if (value === undefined) {
        return undefined;
    }
    let bundle: Partial<CaBundle>;
    if (typeof value.dir === "string") {
        const dir = r.resolve(value.dir);
        if (!fs.existsSync(dir)) {
            throw new ConfigError("cacerts.dir", value.dir, "does not exist",
                `create it with ${CA_FILES.map(([, f]) => f).join(", ")} (Istio's samples/certs layout)`);
        }
        bundle = readCaDirectory(dir);
    } else {
        if (!isSecret) {
            throw new ConfigError("cacerts", "[plaintext]", "holds CA key material but is stored in plain text",
                "set each field with `pulumi config set --secret --path cacerts.caKey < ca-key.pem` (likewise caCert, rootCert, certChain)");
        }
        bundle = { caCert: value.caCert, caKey: value.caKey, rootCert: value.rootCert, certChain: value.certChain };
    }
    const problems = caBundleProblems(bundle);
    if (problems.length > 0) {
        const shown = typeof value.dir === "string" ? value.dir : "[secret]";
        throw new ConfigError(typeof value.dir === "string" ? "cacerts.dir" : "cacerts", shown, problems.join("; "),
            "provide a CA certificate and key signed by the mesh's shared root, with its chain, as Istio's samples/certs shows");
    }
    return bundle as CaBundle;
}

/**
 * `ca`: the CA the program makes, `{generate: true}` with optional peers (cluster names it
 * issues intermediates for), rotations (cluster name → number) and validities in days.
 */
export function readCaGeneration(r: RawConfig): CaGeneration | undefined {
    const value = r.json<unknown>("ca", undefined);
    if (value === undefined) {
        return undefined;
    }
    const example = "e.g. `pulumi config set --path ca.generate true`";
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError("ca", value, "must be a map with generate: true", example);
    }
    const ca = value as Record<string, unknown>;
    const known = ["generate", "peers", "peerStacks", "rotate", "rootValidityDays", "intermediateValidityDays", "renewBeforeDays", "root", "trustRoots"];
    const unknownKey = Object.keys(ca).find((k) => !known.includes(k));
    if (unknownKey !== undefined) {
        throw new ConfigError(`ca.${unknownKey}`, ca[unknownKey], "is not a setting of ca", `use only ${known.join(", ")}`);
    }
    if (ca.generate !== true && ca.generate !== "true") {
        throw new ConfigError("ca.generate", ca.generate, "must be true: the program makes the mesh's CA only when asked",
            `${example}, or remove ca and give cacerts`);
    }
    const peers = ca.peers ?? [];
    if (!Array.isArray(peers) || !peers.every((p) => typeof p === "string" && isDns1123Label(p))) {
        throw new ConfigError("ca.peers", peers, "must be a list of cluster names (DNS-1123 labels)",
            "list the other primaries' clusterNames, e.g. `pulumi config set --path 'ca.peers[0]' remote-a`");
    }
    const peerStackNames = ca.peerStacks ?? {};
    if (typeof peerStackNames !== "object" || peerStackNames === null || Array.isArray(peerStackNames)) {
        throw new ConfigError("ca.peerStacks", peerStackNames, "must be a map of a peer's cluster name to its stack",
            "e.g. `pulumi config set --path ca.peerStacks.remote-a eu-west`");
    }
    const peerStacks: Record<string, string> = {};
    for (const peer of peers as string[]) {
        peerStacks[peer] = `${pulumi.getOrganization()}/${pulumi.getProject()}/${peer}`;
    }
    for (const [cluster, stack] of Object.entries(peerStackNames as Record<string, unknown>)) {
        if (!(peers as string[]).includes(cluster)) {
            throw new ConfigError(`ca.peerStacks.${cluster}`, stack, `names a cluster that is not one of ca.peers (${(peers as string[]).join(", ") || "none"})`,
                "list the cluster in ca.peers, or remove this entry");
        }
        if (typeof stack !== "string") {
            throw new ConfigError(`ca.peerStacks.${cluster}`, stack, "must be a stack name",
                `e.g. \`pulumi config set --path ca.peerStacks.${cluster} ${cluster}\``);
        }
        peerStacks[cluster] = r.stackName(`ca.peerStacks.${cluster}`, stack);
    }
    const rotate = ca.rotate ?? {};
    if (typeof rotate !== "object" || rotate === null || Array.isArray(rotate)) {
        throw new ConfigError("ca.rotate", rotate, "must be a map of cluster name to a number",
            "e.g. `pulumi config set --path ca.rotate.remote-a 1`");
    }
    const rotations: Record<string, number> = {};
    for (const [cluster, n] of Object.entries(rotate as Record<string, unknown>)) {
        const count = wholeNumber(n);
        if (count === undefined) {
            throw new ConfigError(`ca.rotate.${cluster}`, n, "must be a whole number, 0 or more",
                `raise it by one to have ${cluster}'s intermediate made anew, e.g. \`pulumi config set --path ca.rotate.${cluster} 1\``);
        }
        rotations[cluster] = count;
    }
    const days = (key: string, fallback: number): number => {
        const raw = ca[key] ?? fallback;
        const n = wholeNumber(raw);
        if (n === undefined || n < 1) {
            throw new ConfigError(`ca.${key}`, raw, "must be a whole number of days, 1 or more",
                `e.g. \`pulumi config set --path ca.${key} ${fallback}\``);
        }
        return n;
    };
    const root = wholeNumber(ca.root ?? 0);
    if (root === undefined) {
        throw new ConfigError("ca.root", ca.root, "must be a root generation: a whole number, 0 or more",
            "0 is the first root; a root rotation moves to the next (see the README)");
    }
    const trustRoots = ca.trustRoots ?? [];
    if (!Array.isArray(trustRoots) || trustRoots.some((g) => wholeNumber(g) === undefined)) {
        throw new ConfigError("ca.trustRoots", trustRoots, "must be a list of root generations (whole numbers)",
            "e.g. `pulumi config set --path 'ca.trustRoots[0]' 1` while rotating to root 1");
    }
    const generation: CaGeneration = {
        peers: peers as string[],
        peerStacks,
        rotations,
        rootValidityDays: days("rootValidityDays", 3650),
        intermediateValidityDays: days("intermediateValidityDays", 365),
        renewBeforeDays: days("renewBeforeDays", 30),
        root,
        trustRoots: [...new Set(trustRoots.map((g) => wholeNumber(g)!))].filter((g) => g !== root).sort((a, b) => a - b),
    };
    if (generation.renewBeforeDays >= generation.intermediateValidityDays) {
        throw new ConfigError("ca.renewBeforeDays", generation.renewBeforeDays,
            `is not less than ca.intermediateValidityDays (${generation.intermediateValidityDays}), so every run would make the intermediates anew`,
            "set it lower, e.g. a tenth of the intermediates' validity");
    }
    if (generation.intermediateValidityDays > generation.rootValidityDays) {
        throw new ConfigError("ca.intermediateValidityDays", generation.intermediateValidityDays,
            `outlasts the root (ca.rootValidityDays ${generation.rootValidityDays}), which would stop vouching for it first`,
            "set it lower than the root's validity");
    }
    return generation;
}
