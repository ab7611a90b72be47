import * as assert from "assert";
import { cidrsOverlap, isDns1123Label, isDnsName, isHostAddress, joinHostPort, parseCidr, splitHostPort } from "../../lib/config/net";

function overlap(a: string, b: string): boolean {
    return cidrsOverlap(parseCidr(a)!, parseCidr(b)!);
}

describe("DNS-1123 labels", () => {
    it("accepts lower-case names with inner dashes", () => {
        assert.ok(isDns1123Label("remote-a"));
        assert.ok(isDns1123Label("c1"));
    });
    it("rejects underscores, Istio 1.0's warning case", () => {
        assert.strictEqual(isDns1123Label("remote_a"), false);
    });
    it("rejects upper case, leading or trailing dashes, dots and empty names", () => {
        for (const bad of ["Remote", "-a", "a-", "a.b", ""]) {
            assert.strictEqual(isDns1123Label(bad), false, bad);
        }
    });
    it("rejects names longer than 63 characters", () => {
        assert.ok(isDns1123Label("a".repeat(63)));
        assert.strictEqual(isDns1123Label("a".repeat(64)), false);
    });
});

describe("addresses", () => {
    it("accepts IPv4, IPv6 and DNS names", () => {
        for (const good of ["10.0.0.1", "::1", "fd00::12", "api.cluster.example.com", "localhost"]) {
            assert.ok(isHostAddress(good), good);
        }
    });
    it("rejects what is neither", () => {
        for (const bad of ["10.0.0.256", "1.2.3", "api_server", "under_score.example.com", "a..b", ""]) {
            assert.strictEqual(isHostAddress(bad), false, bad);
        }
    });
    it("limits DNS names to 253 characters", () => {
        const long = Array(64).fill("abc").join(".");
        assert.strictEqual(isDnsName(long), false);
    });
});

describe("CIDR ranges", () => {
    it("parses IPv4 and IPv6 ranges and normalises the network address", () => {
        assert.strictEqual(parseCidr("10.1.2.3/16")!.network, parseCidr("10.1.0.0/16")!.network);
        assert.strictEqual(parseCidr("fd00::/8")!.family, 6);
    });
    it("rejects malformed ranges", () => {
        for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0/8", "fd00::/129", "nonsense/8"]) {
            assert.strictEqual(parseCidr(bad), undefined, bad);
        }
    });
    it("finds overlap when one range contains the other", () => {
        assert.ok(overlap("10.0.0.0/8", "10.20.0.0/16"));
        assert.ok(overlap("10.20.0.0/16", "10.0.0.0/8"));
    });
    it("finds overlap of identical ranges", () => {
        assert.ok(overlap("10.10.0.0/16", "10.10.0.0/16"));
    });
    it("sees adjacent ranges as disjoint", () => {
        assert.strictEqual(overlap("10.10.0.0/16", "10.11.0.0/16"), false);
        assert.strictEqual(overlap("10.10.0.0/24", "10.10.1.0/24"), false);
    });
    it("compares IPv6 ranges, including across the :: shorthand", () => {
        assert.ok(overlap("fd00:10::/32", "fd00:10:0:1::/64"));
        assert.strictEqual(overlap("fd00:10::/32", "fd00:11::/32"), false);
    });
    it("never sees ranges of different families as overlapping", () => {
        assert.strictEqual(overlap("0.0.0.0/0", "::/0"), false);
    });
    it("treats /0 as containing everything of its family", () => {
        assert.ok(overlap("0.0.0.0/0", "192.168.1.0/24"));
    });
});

describe("HOST[:PORT] (one reading for every address the config gives)", () => {
    it("splits a host from its port as Go's net.SplitHostPort does, a bare IPv6 address whole", () => {
        const cases: Array<[string, { host: string; port?: string }]> = [
            ["istiod.example", { host: "istiod.example" }],
            ["istiod.example:443", { host: "istiod.example", port: "443" }],
            ["192.0.2.7:15017", { host: "192.0.2.7", port: "15017" }],
            ["2001:db8::1", { host: "2001:db8::1" }],
            ["[2001:db8::1]", { host: "2001:db8::1" }],
            ["[2001:db8::1]:8443", { host: "2001:db8::1", port: "8443" }],
            ["https://[2001:db8::1]:6443/", { host: "2001:db8::1", port: "6443" }],
            ["https://api.example:6443/path", { host: "api.example", port: "6443" }],
        ];
        for (const [address, expected] of cases) {
            assert.deepStrictEqual(JSON.parse(JSON.stringify(splitHostPort(address))), expected, address);
        }
    });
    it("joins a host and a port, an IPv6 host in brackets", () => {
        assert.deepStrictEqual([joinHostPort("2001:db8::1", 443), joinHostPort("2001:db8::1"), joinHostPort("a.example", "80")],
            ["[2001:db8::1]:443", "[2001:db8::1]", "a.example:80"]);
    });
});
