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
  const end = tlvEnd(buf, pos, limit);
  const len = buf[pos + 1]!;
  return { tag: buf[pos]!, start: pos, contentStart: pos + 2 + (len & 0x80 ? len & 0x7f : 0), end };
}

/** Offset just past the TLV at pos: readTlv's checks, without the object. */
function tlvEnd(buf: Uint8Array, pos: number, limit: number): number {
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
  return end;
}

/** Children of a constructed TLV (`read`: a stricter reader, such as key-spki's DER-only one). */
export function children(buf: Uint8Array, tlv: Tlv, read: (buf: Uint8Array, pos: number, limit: number) => Tlv = readTlv): Tlv[] {
  if (read === readTlv) {
    // counted first, so the array is made at its size: grown by push, an array of two children takes the
    // room of seventeen (a check reads some five hundred of them)
    let n = 0;
    for (let p = tlv.contentStart; p < tlv.end; n++) p = tlvEnd(buf, p, tlv.end);
    const out = new Array<Tlv>(n);
    for (let i = 0, p = tlv.contentStart; i < n; i++) p = (out[i] = readTlv(buf, p, tlv.end)).end;
    return out;
  }
  const out: Tlv[] = [];
  let p = tlv.contentStart;
  while (p < tlv.end) {
    const c = read(buf, p, tlv.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Names of the OIDs every certificate repeats (2.5.4.x attribute types, 2.5.29.x extensions), by last byte. */
const OID_2_5_4: string[] = [];
const OID_2_5_29: string[] = [];
for (let i = 0; i < 128; i++) { OID_2_5_4[i] = `2.5.4.${i}`; OID_2_5_29[i] = `2.5.29.${i}`; }

/**
 * Other OIDs decoded before, by their content bytes: a check decodes the same few again and again (signature and
 * key algorithms, extended key usages), and each decoding builds its string a number at a time. (Bounded: a
 * file full of distinct OIDs only decodes them.)
 */
const OID_NAMES = new Map<string, string>();

export function decodeOid(buf: Uint8Array, tlv: Tlv | undefined): string {
  if (!tlv || tlv.tag !== 0x06) throw new DerError('expected OBJECT IDENTIFIER');
  const s = tlv.contentStart;
  // Fast path: 2.5.4.x and 2.5.29.x with x < 128 (three content bytes).
  if (tlv.end - s === 3 && buf[s] === 0x55 && buf[s + 2]! < 0x80) {
    if (buf[s + 1] === 0x04) return OID_2_5_4[buf[s + 2]!]!;
    if (buf[s + 1] === 0x1d) return OID_2_5_29[buf[s + 2]!]!;
  }
  const key = latin1Text(buf, s, tlv.end);
  const known = OID_NAMES.get(key);
  if (known !== undefined) return known;
  let out = '';
  let v = 0;
  let first = true;
  for (let i = s; i < tlv.end; i++) {
    const b = buf[i]!;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (first) {
        const f = v < 80 ? Math.floor(v / 40) : 2;
        out = `${f}.${v - f * 40}`;
        first = false;
      } else out += `.${v}`;
      v = 0;
    }
  }
  if (OID_NAMES.size < 256) OID_NAMES.set(key, out);
  return out;
}

// (made on first use: a decoder's set-up is a visible share of start-up, and most names are ASCII)
let latin1Decoder: TextDecoder | undefined;
let utf8Decoder: TextDecoder | undefined;
const latin1 = (): TextDecoder => (latin1Decoder ??= new TextDecoder('latin1'));
const utf8 = (): TextDecoder => (utf8Decoder ??= new TextDecoder('utf-8'));

/** Short ASCII runs as a string without a TextDecoder round trip; undefined when a byte is ≥ 0x80. */
function asciiString(buf: Uint8Array, start: number, end: number): string | undefined {
  if (end - start > 256) return undefined;
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return undefined;
  return latin1Text(buf, start, end);
}

/**
 * Bytes [start, end) as latin1 text (byte n = U+00nn, as Buffer's 'latin1'),
 * built in one piece: no copy of the bytes, and a flat string rather than a
 * chain of concatenations (these strings live on in inventories and scans).
 */
export function latin1Text(buf: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(buf)) return buf.toString('latin1', start, end);
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

export function decodeString(buf: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== 0x1e) {
    // UTF-8 and latin1 agree on ASCII
    const a = asciiString(buf, tlv.contentStart, tlv.end);
    if (a !== undefined) return a;
  }
  const bytes = buf.subarray(tlv.contentStart, tlv.end);
  switch (tlv.tag) {
    case 0x0c: // UTF8String
      return utf8().decode(bytes);
    case 0x1e: { // BMPString
      let s = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
      return s;
    }
    default: // Printable, IA5, Teletex, Visible, Numeric
      return latin1().decode(bytes);
  }
}

/** Two ASCII digits at p as a number, or -1. */
function d2(buf: Uint8Array, p: number): number {
  const a = buf[p]! - 0x30, b = buf[p + 1]! - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Fast path for the common forms (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ); undefined sends the caller to the exact parser. */
function fastTime(buf: Uint8Array, tlv: Tlv): Date | undefined {
  const p = tlv.contentStart;
  const len = tlv.end - p;
  let year: number;
  let q: number;
  if (tlv.tag === 0x17 && len === 13) {
    const yy = d2(buf, p);
    if (yy < 0) return undefined;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    q = p + 2;
  } else if (tlv.tag === 0x18 && len === 15) {
    const hi = d2(buf, p), lo = d2(buf, p + 2);
    if (hi < 0 || lo < 0) return undefined;
    year = hi * 100 + lo;
    q = p + 4;
  } else return undefined;
  if (buf[q + 10] !== 0x5a) return undefined; // 'Z'
  const mo = d2(buf, q), dd = d2(buf, q + 2), hh = d2(buf, q + 4), mi = d2(buf, q + 6), ss = d2(buf, q + 8);
  if (mo < 0 || dd < 0 || hh < 0 || mi < 0 || ss < 0) return undefined;
  return new Date(Date.UTC(year, mo - 1, dd, hh, mi, ss));
}

/** UTCTime / GeneralizedTime to a Date (whole seconds). */
export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const fast = fastTime(buf, tlv);
  if (fast) return fast;
  const s = latin1().decode(buf.subarray(tlv.contentStart, tlv.end));
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

// Writing: the few encoders the signer and the key reader share (here, not in sign.ts, so that
// reading a key does not load the signer and, through it, the certificate module).

/** One TLV with the given tag around the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  // (indexed loops, and the header written in place rather than spread from an array: check builds every
  // key's SPKI with this, in code not yet optimised, where each for…of step and spread allocates)
  let len = 0;
  for (let i = 0; i < contents.length; i++) len += contents[i]!.length;
  // the length: one byte below 0x80, else 0x80 | n and n big-endian bytes
  let lenBytes = 0;
  if (len >= 0x80) for (let n = len; n > 0; n = Math.floor(n / 256)) lenBytes++;
  let p = 2 + lenBytes;
  const out = new Uint8Array(p + len);
  out[0] = tag;
  if (lenBytes === 0) out[1] = len;
  else {
    out[1] = 0x80 | lenBytes;
    for (let i = lenBytes, n = len; i >= 1; i--, n = Math.floor(n / 256)) out[1 + i] = n & 0xff;
  }
  for (let i = 0; i < contents.length; i++) { out.set(contents[i]!, p); p += contents[i]!.length; }
  return out;
}

export const seq = (...c: Uint8Array[]): Uint8Array => tlv(0x30, ...c);
