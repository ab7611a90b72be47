import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { renderKubeconfig, serverOfContext } from "../../lib/kubeconfig";
import { checkContextsExist } from "../../lib/stack";
import { parseConfig, ROLE_CONFIG } from "./harness";

const OPERATOR_KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: remote-a
clusters:
  - name: local-remote-a
    cluster: { server: "https://127.0.0.3:6443" }
  - name: local-primary
    cluster: { server: "https://127.0.0.2:6443" }
  - name: broken
    cluster: {}
contexts:
  - name: remote-a
    context: { cluster: local-remote-a, user: admin }
  - name: primary
    context: { cluster: local-primary, user: admin }
  - name: broken
    context: { cluster: broken, user: admin }
users:
  - name: admin
    user: { token: admin-token }
`;

describe("the istio-multi kubeconfig", () => {
    const rendered = yaml.load(renderKubeconfig({
        clusterName: "remote-a", server: "https://10.0.0.3:6443", caData: "Q0EtREFUQQ==", token: "tok.en",
    })) as any;

    it("names cluster, context and user after the cluster", () => {
        assert.strictEqual(rendered["current-context"], "remote-a");
        assert.deepStrictEqual(rendered.contexts, [{ name: "remote-a", context: { cluster: "remote-a", user: "remote-a" } }]);
    });
    it("carries the server and the cluster CA as given", () => {
        assert.deepStrictEqual(rendered.clusters[0].cluster, { "certificate-authority-data": "Q0EtREFUQQ==", server: "https://10.0.0.3:6443" });
    });
    it("authenticates with the service account's token and nothing else", () => {
        assert.deepStrictEqual(rendered.users, [{ name: "remote-a", user: { token: "tok.en" } }]);
    });
});

describe("reading the API server from the operator's kubeconfig", () => {
    it("takes the named context's cluster server", () => {
        assert.deepStrictEqual(serverOfContext(OPERATOR_KUBECONFIG, "primary"), { server: "https://127.0.0.2:6443" });
    });
    it("falls back to the current context", () => {
        assert.deepStrictEqual(serverOfContext(OPERATOR_KUBECONFIG), { server: "https://127.0.0.3:6443" });
    });
    it("explains a missing context", () => {
        assert.deepStrictEqual(serverOfContext(OPERATOR_KUBECONFIG, "remote-z"), { problem: 'the kubeconfig has no context "remote-z"' });
    });
    it("explains a cluster without a server", () => {
        assert.match(serverOfContext(OPERATOR_KUBECONFIG, "broken").problem!, /names cluster "broken", which has no server/);
    });
    it("explains text that is not YAML", () => {
        assert.match(serverOfContext("a: [unclosed").problem!, /not valid YAML/);
    });
});

describe("checkContextsExist (a context the stack names must be in its kubeconfig)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "contexts-"));
    const file = path.join(dir, "config");
    fs.writeFileSync(file, OPERATOR_KUBECONFIG);
    const env = { KUBECONFIG: file };
    const parse = (config: Record<string, unknown>) => parseConfig(config);
    const remote = parse({ ...ROLE_CONFIG.remote, kubeContext: "remote-b" });

    it("names the missing context, the file, and the contexts there are", () => {
        assert.throws(() => checkContextsExist(remote, env),
            new RegExp(`istio-multicluster:kubeContext = "remote-b": is not a context of ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}; ` +
                "it has remote-a, primary, broken\\. Fix: set kubeContext to one of those"));
    });
    it("checks the primary's context too", () => {
        const other = parse({ ...ROLE_CONFIG.remote, primaryKubeContext: "prod" });
        assert.throws(() => checkContextsExist(other, env), /istio-multicluster:primaryKubeContext = "prod": is not a context/);
    });
    it("passes contexts that exist, and checks nothing without a kubeconfig", () => {
        const ok = parse(ROLE_CONFIG.remote);
        checkContextsExist(ok, env);
        checkContextsExist(remote, { KUBECONFIG: path.join(dir, "absent") });
    });
});
