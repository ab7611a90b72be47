// Rules that hold across the clusters of a mesh, checked both within a stack's config and
// against its primary's outputs.
import { ConfigError } from "./errors";
import { cidrsOverlap, parseCidr } from "./net";
import { CaBundle } from "../ca/pki";

/** Throws unless a CA bundle is configured: selfSignedCa=false makes Citadel (or istiod) need one. */
export function requireCaBundle(bundle: CaBundle | undefined, signer = "Citadel"): asserts bundle is CaBundle {
    if (!bundle) {
        throw new ConfigError("cacerts", undefined, `selfSignedCa is false, so ${signer} needs the \`cacerts\` secret`,
            "set `cacerts.dir` to a directory with ca-cert.pem, ca-key.pem, root-cert.pem and cert-chain.pem " +
            "(`pulumi config set --path cacerts.dir ./certs`), or set selfSignedCa to true");
    }
}

/** Throws when two configured ranges overlap (every cluster's ranges must be unique). */
export function checkOverlap(key: string, range: string, otherName: string, otherRange: string): void {
    const a = parseCidr(range);
    const b = parseCidr(otherRange);
    if (a && b && cidrsOverlap(a, b)) {
        throw new ConfigError(key, range, `overlaps ${otherName} ${otherRange}; pod and service ranges must be ` +
            "unique across the clusters of a mesh so that pod and service IPs route between them",
            `give this cluster ranges that do not overlap ${otherRange}`);
    }
}

/**
 * The refusal of a multi-primary cluster without a CA: self-signed istiods each mint their own
 * root, so workloads of different clusters would not trust each other.
 */
export function noMultiPrimaryCa(why: string, fix: string): ConfigError {
    return new ConfigError("cacerts", undefined, `${why}, and self-signed istiods each mint their own root, ` +
        "so workloads of different clusters would not trust each other", fix);
}
