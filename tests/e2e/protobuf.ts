// The little of the protobuf wire format the suite's gRPC calls to Istio need (istiod's CA, the echo
// server's ForwardEcho): messages of strings and integers, encoded and decoded by hand.

/** A varint field (wire type 0): the key, then the value. */
export function varintField(field: number, value: number): Buffer {
    return Buffer.concat([varint(field << 3), varint(value)]);
}

/** A length-delimited field (wire type 2): the key, the length, the bytes. */
export function lengthDelimited(field: number, bytes: Buffer | string): Buffer {
    const data = Buffer.from(bytes);
    return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

function varint(n: number): Buffer {
    const out: number[] = [];
    while (n > 0x7f) {
        out.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
    }
    out.push(n);
    return Buffer.from(out);
}

/** Every string of field `field` in a message whose fields are all length-delimited, in order. */
export function repeatedStrings(message: Buffer, field: number): string[] {
    const found: string[] = [];
    let at = 0;
    const readVarint = () => {
        let n = 0;
        let shift = 0;
        for (;;) {
            const b = message[at++];
            n += (b & 0x7f) * 2 ** shift;
            if (b < 0x80) {
                return n;
            }
            shift += 7;
        }
    };
    while (at < message.length) {
        const key = readVarint();
        if ((key & 7) !== 2) {
            throw new Error(`unexpected wire type ${key & 7} of field ${key >> 3}`);
        }
        const length = readVarint();
        if (key >> 3 === field) {
            found.push(message.subarray(at, at + length).toString("utf8"));
        }
        at += length;
    }
    return found;
}
