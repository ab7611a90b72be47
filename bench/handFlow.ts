// Istio 1.0's join done by hand, as a platform engineer would without this program: kubectl and
// helm from the toolchain, the same chart, values and CA as the program's remote-a stack. It is
// the yardstick the benchmark holds `pulumi up` to.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCommand } from "../tests/e2e/pulumi";
import { renderKubeconfig } from "../lib/kube/kubeconfig";
import { PrimaryEndpoints, remoteChartValues } from "../lib/istio/values";

const NS = "istio-system";
const CA_FILES = ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"];

/** What one hand join needs to know. */
export interface HandJoin {
    /** The remote's kubeconfig context, also its cluster name. */
    readonly remote: string;
    /** The primary's kubeconfig context. */
    readonly primary: string;
    /** The remote's API server URL, as the primary's Pilot dials it. */
    readonly apiServer: string;
    /** The primary stack's outputs. */
    readonly primaryOutputs: PrimaryEndpoints;
    /** The istio-remote chart's directory. */
    readonly chart: string;
    /** The remote's intermediate CA directory. */
    readonly caDir: string;
    /** The environment (PATH with kubectl and helm, KUBECONFIG). */
    readonly env: NodeJS.ProcessEnv;
}

async function sh(env: NodeJS.ProcessEnv, script: string): Promise<string> {
    const r = await runCommand("bash", ["-euo", "pipefail", "-c", script], os.tmpdir(), env, 300);
    if (r.code !== 0) {
        throw new Error(`hand flow step failed (${r.code}): ${script}\n${r.stdout}\n${r.stderr}`);
    }
    return r.stdout;
}

function valuesFile(join: HandJoin): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hand-join-")), "values.json");
    fs.writeFileSync(file, JSON.stringify(remoteChartValues(join.primaryOutputs, { sidecarInjector: true, remotePilotCreateSvcEndpoint: true })));
    return file;
}

/** Joins the remote by hand: namespace, cacerts, chart, ready pods, label, token, kubeconfig, registration. */
export async function joinByHand(join: HandJoin): Promise<void> {
    const r = `kubectl --context ${join.remote}`;
    const p = `kubectl --context ${join.primary}`;
    const values = valuesFile(join);
    await sh(join.env, `
        ${r} create namespace ${NS}
        ${r} -n ${NS} create secret generic cacerts ${CA_FILES.map((f) => `--from-file=${f}=${join.caDir}/${f}`).join(" ")}
        helm template istio-remote ${join.chart} --namespace ${NS} -f ${values} | ${r} apply -f -
        ${r} -n ${NS} wait --for=condition=Available deploy --all --timeout=120s
        ${r} label namespace default istio-injection=enabled
        ${r} -n ${NS} apply -f - <<EOF
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata: { name: istio-multi-token, annotations: { kubernetes.io/service-account.name: istio-multi } }
EOF
        until [ -n "$(${r} -n ${NS} get secret istio-multi-token -o jsonpath='{.data.token}')" ]; do sleep 0.2; done`);
    const secret = JSON.parse(await sh(join.env, `${r} -n ${NS} get secret istio-multi-token -o json`));
    const kubeconfig = path.join(path.dirname(values), join.remote);
    fs.writeFileSync(kubeconfig, renderKubeconfig({
        clusterName: join.remote, server: join.apiServer, caData: secret.data["ca.crt"],
        token: Buffer.from(secret.data.token, "base64").toString("utf8"),
    }));
    await sh(join.env, `
        ${p} -n ${NS} create secret generic ${join.remote} --from-file=${join.remote}=${kubeconfig}
        ${p} -n ${NS} label secret ${join.remote} istio/multiCluster=true`);
    fs.rmSync(path.dirname(values), { recursive: true, force: true });
}

/** Undoes joinByHand: the registration, the label, the chart's objects and the namespace. */
export async function leaveByHand(join: HandJoin): Promise<void> {
    const r = `kubectl --context ${join.remote}`;
    const values = valuesFile(join);
    await sh(join.env, `
        kubectl --context ${join.primary} -n ${NS} delete secret ${join.remote}
        ${r} label namespace default istio-injection-
        helm template istio-remote ${join.chart} --namespace ${NS} -f ${values} | ${r} delete --ignore-not-found -f -
        ${r} delete namespace ${NS} --wait`);
    fs.rmSync(path.dirname(values), { recursive: true, force: true });
}
