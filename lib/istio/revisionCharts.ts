// What a revisioned installation is made of, on the primary and on each remote alike: an `istiod`
// release per revision (`istiod-<rev>`, from that revision's charts), `base` from the newest
// revision's charts, and a tag webhook per revision tag. Pure functions over the primary's
// revisions and the values each cluster derives for its istiod chart.
import { RevisionConfig } from "../config/config";
import { DEFAULT_TAG } from "./revisions";
import { valueAt, Values } from "./values";

/** The tags of a mesh with the `default` tag filled in: the first revision, until the user points it elsewhere. */
export function meshTags(revisions: readonly { readonly name: string }[], tags: Readonly<Record<string, string>>): Record<string, string> {
    return { [DEFAULT_TAG]: revisions[0].name, ...tags };
}

/** The `istiod` chart's values that make an installation revision `revision.name`, with its image tag. */
export function revisionValues(revision: RevisionConfig): Values {
    return { revision: revision.name, ...(revision.tag === undefined ? {} : { global: { tag: revision.tag } }) };
}

/**
 * What a remote's revision adds: its proxies' discovery address names the revision's own Service.
 * The chart's remote profile writes `istiod.<ns>.svc` there whatever the revision, which is
 * another revision's istiod (or none) once revisions run side by side.
 */
export function remoteRevisionValues(namespace: string, revision: RevisionConfig): Values {
    return { meshConfig: { defaultConfig: { discoveryAddress: `${revisionService(revision.name)}.${namespace}.svc:15012` } } };
}

/** The Service of a revision's istiod (in a remote, the one pointing at the primary's). */
export function revisionService(revision: string): string {
    return `istiod-${revision}`;
}

/** The `base` chart's values for revisions: the default validator calls the `default` tag's istiod. */
export function revisionBaseValues(tags: Readonly<Record<string, string>>): Values {
    return { defaultRevision: tags[DEFAULT_TAG] };
}

/** The name of a tag's webhook configuration, as Istio names it. */
export function tagWebhookName(tag: string, namespace: string): string {
    return namespace === "istio-system" ? `istio-revision-tag-${tag}` : `istio-revision-tag-${tag}-${namespace}`;
}

/** How the API server calls a revision's injector: the clientConfig of its own webhook, from its chart values. */
export function injectorClientConfig(istiodValues: Values, revision: string, namespace: string): Values {
    const url = valueAt(istiodValues, ["istiodRemote", "injectionURL"]);
    if (typeof url === "string" && url !== "") {
        return { url };
    }
    const path = valueAt(istiodValues, ["istiodRemote", "injectionPath"]) ?? "/inject";
    return { service: { name: revisionService(revision), namespace, path, port: 443 } };
}

/** A webhook matching pods by namespace and object label expressions. */
function webhook(name: string, clientConfig: Values, namespaceSelector: Values[], objectSelector: Values[]): Values {
    return {
        name, clientConfig, sideEffects: "None", failurePolicy: "Fail", reinvocationPolicy: "Never", admissionReviewVersions: ["v1"],
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
        namespaceSelector: { matchExpressions: namespaceSelector }, objectSelector: { matchExpressions: objectSelector },
    };
}

const is = (key: string, values: string[]) => ({ key, operator: "In", values });
const isNot = (key: string, values: string[]) => ({ key, operator: "NotIn", values });
const absent = (key: string) => ({ key, operator: "DoesNotExist" });

/**
 * The webhook configuration of revision tag `tag`, as `istioctl tag generate` makes it against a
 * cluster: the revision's own injector client config (URL, or Service and path), selecting pods
 * whose namespace or own `istio.io/rev` label names the tag; the `default` tag also serves
 * `istio-injection=enabled` namespaces and `sidecar.istio.io/inject=true` pods. Labelled with the
 * revision, so that its istiod fills in the CA bundle as it does on its own webhook.
 */
export function tagWebhook(tag: string, revision: string, namespace: string, clientConfig: Values): Values {
    const notDisabled = isNot("sidecar.istio.io/inject", ["false"]);
    const webhooks = [
        webhook("rev.namespace.sidecar-injector.istio.io", clientConfig, [is("istio.io/rev", [tag]), absent("istio-injection")], [notDisabled]),
        webhook("rev.object.sidecar-injector.istio.io", clientConfig, [absent("istio.io/rev"), absent("istio-injection")],
            [notDisabled, is("istio.io/rev", [tag])]),
    ];
    if (tag === DEFAULT_TAG) {
        webhooks.push(
            webhook("namespace.sidecar-injector.istio.io", clientConfig, [is("istio-injection", ["enabled"])], [notDisabled]),
            webhook("object.sidecar-injector.istio.io", clientConfig, [absent("istio-injection"), absent("istio.io/rev")],
                [is("sidecar.istio.io/inject", ["true"]), absent("istio.io/rev")]),
        );
    }
    return {
        metadata: {
            name: tagWebhookName(tag, namespace),
            labels: { "istio.io/tag": tag, "istio.io/rev": revision, app: "sidecar-injector", "app.kubernetes.io/name": "istiod" },
        },
        webhooks,
    };
}
