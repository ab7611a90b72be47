// The contract between stacks: what each model's primary and remote stacks export. The
// components export these types, and the remotes read the primary's through them.
import type * as pulumi from "@pulumi/pulumi";
import { IstiodPrimaryConfig, MeshIdentity, RevisionConfig } from "../config/config";
import { CaBundle } from "../ca/pki";
import { PrimaryEndpoints } from "../istio/values";

/** An Istio 1.0 primary's outputs: its control plane's endpoints and switches, and its CA root's fingerprint. */
export interface Istio10PrimaryOutputs extends PrimaryEndpoints {
    /** How the mesh is built (not exported: an Istio 1.0 primary's outputs predate the models). */
    readonly meshModel: "istio-1.0";
    /** SHA-256 of the mesh root, when the primary's Citadel signs with `cacerts`. */
    readonly rootCertFingerprint?: string;
    /** When the CA Citadel signs with expires (ISO 8601), when it signs with `cacerts`. */
    readonly caCertExpiry?: string;
}

/** What every istiod primary exports. */
interface IstiodPrimaryBaseOutputs extends MeshIdentity {
    /** The primary's Istio namespace. */
    readonly istioNamespace: string;
    /** The primary's east-west gateway address, when it has one: other networks reach it there. */
    readonly eastWestGatewayAddress?: string;
    /** The primary's pod range, when configured. */
    readonly podCidr?: string;
    /** The primary's service range, when configured. */
    readonly serviceCidr?: string;
    /** SHA-256 of the mesh root, when the primary plugs in a CA. */
    readonly rootCertFingerprint?: string;
    /** When the CA istiod signs with here expires (ISO 8601), when it plugs one in. */
    readonly caCertExpiry?: string;
    /** With `ca.generate`: the generation of the root that signs the intermediates. */
    readonly caRoot?: number;
    /** With `ca.generate`: the root generations the mesh trusts. */
    readonly caTrustedRoots?: number[];
    /** With `ca.generate`: SHA-256 of each root the mesh trusts, by generation. */
    readonly caRootFingerprints?: Record<string, string>;
}

/** A primary-remote primary's outputs. */
export interface PrimaryRemotePrimaryOutputs extends IstiodPrimaryBaseOutputs {
    /** How the mesh is built. */
    readonly meshModel: "primary-remote";
    /** Where the remotes reach istiod (with revisions: the `default` tag's revision's istiod). */
    readonly discoveryAddress: string;
    /** HOST[:PORT] of istiod's injection webhook for API servers outside the cluster network. */
    readonly injectionAddress?: string;
    /** The istiod revisions the primary runs, each of which every remote installs; absent without revisions. */
    readonly revisions?: RevisionConfig[];
    /** With revisions: each revision tag and its revision, the `default` tag included. */
    readonly revisionTags?: Record<string, string>;
}

/** A multi-primary mesh's first primary's outputs. */
export interface MultiPrimaryPrimaryOutputs extends IstiodPrimaryBaseOutputs {
    /** How the mesh is built. */
    readonly meshModel: "multi-primary";
    /** The kubeconfig of the primary's reader account, for the other primaries (a secret). */
    readonly readerKubeconfig: pulumi.Output<string>;
    /** The other primaries this stack's CA issued an intermediate for (`ca.peers`). */
    readonly caIssuedFor?: string[];
    /** Their `cacerts` material, by cluster name (a secret). */
    readonly peerCas?: pulumi.Output<Record<string, CaBundle>>;
}

/** An istiod primary's outputs. */
export type IstiodPrimaryOutputs = PrimaryRemotePrimaryOutputs | MultiPrimaryPrimaryOutputs;

/** A primary's outputs, of whichever model it runs. */
export type PrimaryOutputs = Istio10PrimaryOutputs | IstiodPrimaryOutputs;

/** The control-plane addresses an Istio 1.0 remote was rendered with. */
export type ControlPlaneAddresses = Pick<PrimaryEndpoints, "pilotAddress" | "policyAddress" | "telemetryAddress" | "zipkinAddress" | "statsdAddress">;

/** What every remote exports. */
interface RemoteBaseOutputs {
    /** The cluster's name in the mesh. */
    readonly clusterName: string;
    /** The registration secret's name in the primary. */
    readonly remoteSecretName: string;
    /** The kubeconfig the primary's control plane reads this cluster with (a secret). */
    readonly kubeconfig: string;
    /** The namespaces labelled for injection. */
    readonly injectedNamespaces: string[];
    /** When the CA its Citadel or istiod signs with expires (ISO 8601), when it has one of its own. */
    readonly caCertExpiry?: string;
}

/** An Istio 1.0 remote's outputs. */
export interface Istio10RemoteOutputs extends RemoteBaseOutputs {
    /** The command that injects sidecars by hand, when the webhook is off. */
    readonly manualInjectCommand?: string;
    /** What this remote was rendered with, so that `mesh status` can tell when the primary's pods moved. */
    readonly controlPlaneAddresses: ControlPlaneAddresses;
}

/** A remote's (or another primary's) outputs in an istiod mesh. */
export interface IstiodRemoteOutputs extends RemoteBaseOutputs, MeshIdentity {
    /** How the mesh is built. */
    readonly meshModel: "primary-remote" | "multi-primary";
    /** Its Istio namespace. */
    readonly istioNamespace: string;
    /** Its east-west gateway's address, when it has one. */
    readonly eastWestGatewayAddress?: string;
    /** primary-remote: where its proxies reach istiod. */
    readonly discoveryAddress?: string;
    /** multi-primary: SHA-256 of the root its CA's chain (cert-chain.pem) ends at. */
    readonly caChainRootFingerprint?: string;
    /** multi-primary: SHA-256 of each root its cluster trusts (root-cert.pem). */
    readonly caTrustedRootFingerprints?: string[];
}

/** What a component exports of a contract type: each value as an input, absent ones left out. */
export type Exports<T> = { readonly [K in keyof T]?: pulumi.Input<T[K]> };

/** The entries whose value is defined: Pulumi warns about undefined stack outputs rather than omitting them. */
export function definedOnly<T extends Record<string, unknown>>(outputs: T): Partial<T> {
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What every istiod primary exports, whatever its model: its model and mesh identity, namespace and ranges. */
export function primaryMeshOutputs<C extends IstiodPrimaryConfig>(cfg: C): Exports<Omit<IstiodPrimaryOutputs, "meshModel">> & { meshModel: C["meshModel"] } {
    return {
        meshModel: cfg.meshModel,
        ...cfg.mesh,
        istioNamespace: cfg.istioNamespace,
        podCidr: cfg.podCidr,
        serviceCidr: cfg.serviceCidr,
    };
}
