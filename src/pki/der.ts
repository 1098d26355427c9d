/**
 * A small, lazy DER reader: just enough ASN.1 to pull the fields an inventory
 * needs out of a certificate without building a full object model. Node's
 * `X509Certificate` costs ~100 µs per certificate; walking the TLVs here costs
 * a few µs, which is what lets `check` keep pace with Go's crypto/x509.
 * Full parsing (for renewal and the `inspect -full` view) lives in
 * `@peculiar/x509`.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface Tlv {
  tag: number;
  /** offset of the tag byte */
  start: number;
  /** offset of the first content byte */
  contentStart: number;
  /** offset just past the content */
  end: number;
}

export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated DER (header)');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('unsupported multi-byte DER tag');
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (p + n > limit) throw new DerError('truncated DER (length)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  const end = p + len;
  if (end > limit) throw new DerError('truncated DER (content)');
  return { tag, start: pos, contentStart: p, end };
}

/** Children of a constructed TLV. */
export function children(buf: Uint8Array, tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = tlv.contentStart;
  while (p < tlv.end) {
    const c = readTlv(buf, p, tlv.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function decodeOid(buf: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== 0x06) throw new DerError('expected OBJECT IDENTIFIER');
  const parts: number[] = [];
  let v = 0;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const b = buf[i]!;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

export function decodeString(buf: Uint8Array, tlv: Tlv): string {
  const bytes = buf.subarray(tlv.contentStart, tlv.end);
  switch (tlv.tag) {
    case 0x0c: // UTF8String
      return utf8.decode(bytes);
    case 0x1e: { // BMPString
      let s = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
      return s;
    }
    default: // Printable, IA5, Teletex, Visible, Numeric
      return latin1.decode(bytes);
  }
}

/** UTCTime / GeneralizedTime to a Date (whole seconds). */
export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const s = latin1.decode(buf.subarray(tlv.contentStart, tlv.end));
  let m: RegExpMatchArray | null;
  if (tlv.tag === 0x17) {
    m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/);
    if (!m) throw new DerError(`bad UTCTime ${JSON.stringify(s)}`);
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (tlv.tag === 0x18) {
    m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/);
    if (!m) throw new DerError(`bad GeneralizedTime ${JSON.stringify(s)}`);
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new DerError('expected a time');
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function contentBytes(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.contentStart, tlv.end);
}

export function rawBytes(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}
