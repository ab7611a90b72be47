// The little of the protobuf wire format mesh's gRPC calls to istiod need (and the end-to-end
// suite's, to istiod's CA and the echo server): messages of strings, integers and nested
// messages, encoded and decoded by hand.

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

/** The bytes of every length-delimited field `field` of a message, in order; fields of other wire types are skipped. */
export function lengthDelimitedFields(message: Buffer, field: number): Buffer[] {
    const found: Buffer[] = [];
    let at = 0;
    const readVarint = () => {
        let n = 0;
        let shift = 0;
        for (;;) {
            if (at >= message.length) {
                throw new Error("truncated protobuf message");
            }
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
        switch (key & 7) {
            case 0:
                readVarint();
                break;
            case 1:
                at += 8;
                break;
            case 5:
                at += 4;
                break;
            case 2: {
                const length = readVarint();
                if (Math.floor(key / 8) === field) {
                    found.push(message.subarray(at, at + length));
                }
                at += length;
                break;
            }
            default:
                throw new Error(`unexpected wire type ${key & 7} of field ${Math.floor(key / 8)}`);
        }
    }
    return found;
}

/** Every string of field `field` of a message, in order. */
export function repeatedStrings(message: Buffer, field: number): string[] {
    return lengthDelimitedFields(message, field).map((b) => b.toString("utf8"));
}
