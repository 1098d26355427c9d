/**
 * Just enough of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/) to read the few
 * messages rebuild takes from etcd's data: varints and length-delimited fields, fixed32/64 skipped. Strict: a
 * field running past its message, a varint over 10 bytes or a group (wire types 3, 4: not in proto3) throws.
 */

export type ProtoField = { field: number; wire: 0; varint: bigint } | { field: number; wire: 2; bytes: Buffer } | { field: number; wire: 1 | 5 };

function varint(b: Buffer, at: number): [bigint, number] {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) throw new Error('varint cut short');
    const x = b[at + i]!;
    v |= BigInt(x & 0x7f) << BigInt(7 * i);
    if (!(x & 0x80)) return [v & 0xffffffffffffffffn, at + i + 1];
  }
  throw new Error('varint longer than 10 bytes');
}

/** The fields of one message, in the order written (a repeated or map field once per entry). */
export function protoFields(b: Buffer): ProtoField[] {
  const out: ProtoField[] = [];
  let at = 0;
  while (at < b.length) {
    const [tag, next] = varint(b, at);
    const field = Number(tag >> 3n), wire = Number(tag & 7n);
    if (field === 0) throw new Error('field number 0');
    at = next;
    if (wire === 0) { const [v, n] = varint(b, at); out.push({ field, wire, varint: v }); at = n; }
    else if (wire === 2) {
      const [len, n] = varint(b, at);
      if (len > BigInt(b.length - n)) throw new Error(`field ${field} runs past its message`);
      out.push({ field, wire, bytes: b.subarray(n, n + Number(len)) });
      at = n + Number(len);
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > b.length) throw new Error(`field ${field} runs past its message`);
      out.push({ field, wire });
    } else throw new Error(`wire type ${wire} (field ${field})`);
  }
  return out;
}

/** The last length-delimited value of `field` (proto3: the last one written wins), or undefined. */
export function protoBytes(fields: ProtoField[], field: number): Buffer | undefined {
  const f = fields.findLast((x) => x.field === field);
  if (f && f.wire !== 2) throw new Error(`field ${field} is not length-delimited`);
  return f?.bytes;
}

/** The last varint of `field` as a signed 64-bit number (int64), or undefined. */
export function protoInt64(fields: ProtoField[], field: number): bigint | undefined {
  const f = fields.findLast((x) => x.field === field);
  if (f && f.wire !== 0) throw new Error(`field ${field} is not a varint`);
  return f ? BigInt.asIntN(64, f.varint) : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A string field's UTF-8 (proto3 strings must be valid UTF-8: Go's decoder refuses others). */
export function protoString(fields: ProtoField[], field: number): string | undefined {
  const b = protoBytes(fields, field);
  if (b === undefined) return undefined;
  try { return utf8.decode(b); } catch { throw new Error(`field ${field} is not UTF-8`); }
}
