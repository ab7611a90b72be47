// Plays a cloud's load balancer controller for one local cluster: every Service of type
// LoadBalancer gets an address of the cluster's own loopback range in status.loadBalancer.ingress,
// as a cloud would write it. The addresses are loopback ones, so whatever dials them stays on this
// host (nothing listens there unless a test serves it).
//   node lb-allocator.js KUBECONFIG FIRST_ADDRESS     e.g. 127.0.2.1 gives 127.0.2.1, .2, ...
"use strict";
const k8s = require("@kubernetes/client-node");

const [kubeconfigPath, firstAddress] = process.argv.slice(2);
const [a, b, c, first] = firstAddress.split(".").map(Number);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(k8s.CoreV1Api);

/** The addresses given so far, by Service (namespace/name), kept for as long as it lives. */
const given = new Map();

function nextAddress() {
    const taken = new Set(given.values());
    for (let d = first; d < 255; d++) {
        const address = `${a}.${b}.${c}.${d}`;
        if (!taken.has(address)) {
            return address;
        }
    }
    throw new Error(`no address left after ${firstAddress}`);
}

async function allocate() {
    const services = (await core.listServiceForAllNamespaces()).items;
    const live = new Set();
    for (const svc of services) {
        const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
        if (svc.spec.type !== "LoadBalancer") {
            continue;
        }
        live.add(key);
        const ingress = svc.status?.loadBalancer?.ingress ?? [];
        if (ingress.length > 0) {
            given.set(key, ingress[0].ip);
            continue;
        }
        const address = given.get(key) ?? nextAddress();
        given.set(key, address);
        svc.status = { ...svc.status, loadBalancer: { ingress: [{ ip: address, ipMode: "VIP" }] } };
        await core.replaceNamespacedServiceStatus({ name: svc.metadata.name, namespace: svc.metadata.namespace, body: svc });
        console.log(`${key}: ${address}`);
    }
    for (const key of [...given.keys()].filter((k) => !live.has(k))) {
        given.delete(key); // deleted: its address is free again
    }
}

(async () => {
    for (;;) {
        try {
            await allocate();
        } catch (err) {
            console.error(`allocation failed (retrying): ${err.message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
})();
