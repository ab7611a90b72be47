#!/usr/bin/env node
// The part of kube-proxy the local clusters need: TCP from a Service's cluster IP and port to the
// process that plays its pod (istiod runs beside the API server, not in a pod). Only inside the
// suite's network namespace, where each cluster's service range is routed to loopback. A test also
// runs it on an east-west gateway's address for istiod's ports, which the gateway passes through
// to istiod as TLS it does not terminate (no Envoy runs the gateway here).
//   service-proxy.js LISTEN_IP:PORT=TARGET_IP:PORT ...
const net = require("net");

function forward(listen, target) {
    const [listenHost, listenPort] = splitHostPort(listen);
    const [targetHost, targetPort] = splitHostPort(target);
    net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        client.pipe(upstream).pipe(client);
        // Either side closing or failing closes the other, as a refused connection would.
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
    }).listen(listenPort, listenHost, () => console.log(`${listen} -> ${target}`));
}

function splitHostPort(hostPort) {
    const at = hostPort.lastIndexOf(":");
    return [hostPort.slice(0, at), Number(hostPort.slice(at + 1))];
}

for (const pair of process.argv.slice(2)) {
    const [listen, target] = pair.split("=");
    forward(listen, target);
}
