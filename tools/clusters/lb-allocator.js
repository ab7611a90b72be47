// Plays a cloud's load balancer controller for one local cluster: every Service of type
// LoadBalancer gets an address of the cluster's own loopback range in status.loadBalancer.ingress,
// as a cloud would write it. The addresses are loopback ones, so whatever dials them stays on this
// host (nothing listens there unless a test serves it).
//   node lb-allocator.js KUBECONFIG FIRST_ADDRESS     e.g. 127.0.2.1 gives 127.0.2.1, .2, ...
// A Service annotated `local-clusters.test/load-balancer-hostname: "true"` gets a host name
// instead, as EKS gives one: `<service>.<namespace>.<address with dashes>.lb.test`, written with its
// address into /etc/hosts, which is done only in a network namespace whose /etc/hosts is its own
// (with-clusters.sh binds a copy there and sets ISTIO_MC_HOSTS).
"use strict";
const fs = require("fs");
const k8s = require("@kubernetes/client-node");

const HOSTNAME_ANNOTATION = "local-clusters.test/load-balancer-hostname";

const [kubeconfigPath, firstAddress] = process.argv.slice(2);
const [a, b, c, first] = firstAddress.split(".").map(Number);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(k8s.CoreV1Api);

/** The addresses given so far, by Service (namespace/name), kept for as long as it lives. */
const given = new Map();

/** The host names given so far, and their addresses. */
const hostAddresses = new Map();

/** A host name for the address, resolvable in this network namespace alone. */
function hostName(service, namespace, address) {
    if (!process.env.ISTIO_MC_HOSTS) {
        throw new Error(`${namespace}/${service} asks for a host name, which is given only where /etc/hosts is the network namespace's own`);
    }
    const name = `${service}.${namespace}.${address.replace(/\./g, "-")}.lb.test`;
    if (!hostAddresses.has(name)) {
        fs.appendFileSync("/etc/hosts", `${address} ${name}\n`);
        hostAddresses.set(name, address);
    }
    return name;
}

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
            given.set(key, ingress[0].ip ?? hostAddresses.get(ingress[0].hostname));
            continue;
        }
        const address = given.get(key) ?? nextAddress();
        given.set(key, address);
        const answer = svc.metadata.annotations?.[HOSTNAME_ANNOTATION] === "true"
            ? { hostname: hostName(svc.metadata.name, svc.metadata.namespace, address) }
            : { ip: address, ipMode: "VIP" };
        svc.status = { ...svc.status, loadBalancer: { ingress: [answer] } };
        await core.replaceNamespacedServiceStatus({ name: svc.metadata.name, namespace: svc.metadata.namespace, body: svc });
        console.log(`${key}: ${answer.hostname ? `${answer.hostname} (${address})` : address}`);
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
