// A workload's certificate request to a real istiod's CA (the gRPC service
// istio.v1.auth.IstioCertificateService on 15012, as pilot-agent calls it), made with a service
// account token of the workload's cluster: istiod authenticates it there and signs the CSR with the
// CA it runs with. The messages are two strings and a number, encoded by hand (protobuf.ts).
import "reflect-metadata";
import * as grpc from "@grpc/grpc-js";
import * as x509 from "@peculiar/x509";
import * as crypto from "crypto";
import { pemCertificates } from "../../lib/ca/pki";
import { lengthDelimited, repeatedStrings, varintField } from "../../cli/protobuf";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** What istiod's CA answered: the signed chain, leaf first, the root bundle last. */
export interface SignedChain {
    /** Every certificate istiod returned, one per entry as istiod splits them; the last is its root bundle. */
    readonly chain: crypto.X509Certificate[];
    /** The workload certificate. */
    readonly leaf: crypto.X509Certificate;
    /** The certificate that signed it: the CA istiod signs with. */
    readonly signer: crypto.X509Certificate;
    /** The roots istiod serves (its root-cert.pem), PEM. */
    readonly rootsPem: string;
}

/**
 * Asks the istiod at `address` (HOST:15012) to sign a new key's CSR, authenticated by `token` of
 * cluster `clusterId`. `trusted` is the root(s) its serving certificate must chain to.
 */
export async function requestWorkloadCertificate(address: string, token: string, clusterId: string, trusted: string): Promise<SignedChain> {
    const webcrypto = crypto.webcrypto as unknown as Crypto;
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "O=e2e", keys, signingAlgorithm: ALGORITHM }, webcrypto);
    // IstioCertificateRequest: csr (1), validity_duration (3) in seconds.
    const request = Buffer.concat([lengthDelimited(1, csr.toString("pem")), varintField(3, 4000)]);
    const client = new grpc.Client(address, grpc.credentials.createSsl(Buffer.from(trusted)), {
        // istiod's serving certificate names its Service; the test dials its loopback address.
        "grpc.ssl_target_name_override": "istiod.istio-system.svc",
    });
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    metadata.set("clusterid", clusterId);
    try {
        const response = await new Promise<Buffer>((resolve, reject) => {
            client.makeUnaryRequest("/istio.v1.auth.IstioCertificateService/CreateCertificate",
                (b: Buffer) => b, (b: Buffer) => b, request, metadata, { deadline: Date.now() + 20000 },
                (err, value) => (err ? reject(err) : resolve(value!)));
        });
        const entries = repeatedStrings(response, 1); // IstioCertificateResponse.cert_chain
        const chain = entries.flatMap(pemCertificates).map((pem) => new crypto.X509Certificate(pem));
        return { chain, leaf: chain[0], signer: chain[1], rootsPem: entries[entries.length - 1] };
    } finally {
        client.close();
    }
}
