// A TCP forwarder: what a Service's endpoint (a kwok pod's IP, local in the test's network
// namespace) receives goes to the process that plays the pod, listening on its cluster's address.
//   node forward.js LISTEN_IP:PORT TARGET_IP:PORT
"use strict";
const net = require("net");

const [listen, target] = process.argv.slice(2).map((a) => {
    const at = a.lastIndexOf(":");
    return { host: a.slice(0, at), port: Number(a.slice(at + 1)) };
});
net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
}).listen(listen.port, listen.host, () => console.log(`${listen.host}:${listen.port} -> ${target.host}:${target.port}`));
