/** The project's config namespace: keys are `istio-multicluster:<key>`. Its own module, so that
 * the `mesh` command reads stack files without loading the Pulumi SDK. */
export const CONFIG_NAMESPACE = "istio-multicluster";
