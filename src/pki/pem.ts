/**
 * PEM/DER framing: split a file into its blocks (every block, not only the
 * first), and recognise bare DER. Content interpretation lives in
 * certificate.ts, keys.ts and csr.ts.
 */

export interface PemBlock {
  label: string;
  headers: Record<string, string>;
  der: Uint8Array;
  /** 0-based position among the file's blocks */
  index: number;
}

export class PemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PemError';
  }
}

const BEGIN = /-----BEGIN ([A-Z0-9 #]+)-----/g; // "#": OpenSSL also reads the old "PKCS #7 SIGNED DATA"
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function looksLikePem(buf: Uint8Array): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.byteLength, 64 * 1024)).includes('-----BEGIN ');
}

/**
 * Every PEM block in `text`. A block with a bad base64 body or no END line
 * throws `PemError` naming the block; text between blocks is ignored (as
 * openssl and Go do).
 */
export function parsePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BEGIN.exec(text))) {
    const label = m[1]!;
    const endMarker = `-----END ${label}-----`;
    const bodyStart = m.index + m[0].length;
    const endAt = text.indexOf(endMarker, bodyStart);
    if (endAt < 0) throw new PemError(`PEM block ${out.length + 1} (${label}) has no END line (truncated?)`);
    const fast = fastBody(text, bodyStart, endAt);
    if (fast) {
      out.push({ label, headers: {}, der: fast, index: out.length });
      BEGIN.lastIndex = endAt + endMarker.length;
      continue;
    }
    const lines = text.slice(bodyStart, endAt).split(/\r?\n/);
    const headers: Record<string, string> = {};
    const body: string[] = [];
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      const h = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (h && body.length === 0) { headers[h[1]!] = h[2]!; continue; }
      body.push(line);
    }
    const b64 = body.join('');
    if (!B64.test(b64) || b64.length % 4 !== 0) {
      throw new PemError(`PEM block ${out.length + 1} (${label}) has a corrupt base64 body`);
    }
    const der = Buffer.from(b64, 'base64');
    if (der.length === 0) throw new PemError(`PEM block ${out.length + 1} (${label}) is empty`);
    out.push({ label, headers, der, index: out.length });
    BEGIN.lastIndex = endAt + endMarker.length;
  }
  // A BEGIN or END line that belongs to no block is a damaged header: saying
  // nothing would make a certificate silently disappear from the inventory.
  const begins = countOf(text, '-----BEGIN ');
  const ends = countOf(text, '-----END ');
  if (begins !== out.length || ends !== out.length) {
    throw new PemError(`PEM text has ${begins} BEGIN and ${ends} END lines but ${out.length} well-formed block(s): a damaged BEGIN or END line`);
  }
  return out;
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** The usual body: base64 lines with `\n` or `\r\n` ends, `=` padding only on the last line, no headers. */
const FAST_BODY = /^(?:\r?\n)+(?:[A-Za-z0-9+/]+\r?\n)*(?:[A-Za-z0-9+/]*={1,2}\r?\n)?$/;
/** The same for `\n`-only text, without backtracking (line structure does not matter once `\r` is absent). */
const FAST_BODY_LF = /^\n[A-Za-z0-9+/\n]*={0,2}\n$/;

/**
 * Decode the usual body without splitting it into lines (the base64 decoder
 * skips the line ends). Returns undefined for anything else: the exact parser
 * then decides, so results and errors are the same either way.
 */
function fastBody(text: string, start: number, end: number): Buffer | undefined {
  return decodePemBody(text.slice(start, end));
}

/**
 * The DER of a PEM body (the text between the BEGIN and END lines) when it is
 * in the usual shape, exactly as `parsePemBlocks` would decode it; undefined
 * otherwise (then only `parsePemBlocks` can say what is wrong).
 */
export function decodePemBody(body: string): Buffer | undefined {
  return isUsualPemBody(body) ? Buffer.from(body, 'base64') : undefined;
}

/** Whether `decodePemBody` takes this body (then Node's base64 decoder reads it exactly as `parsePemBlocks` would). */
export function isUsualPemBody(body: string): boolean {
  if (!(body.includes('\r') ? FAST_BODY.test(body) : FAST_BODY_LF.test(body))) return false;
  let breaks = 0;
  for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) breaks++;
  if (body.includes('\r')) for (let i = body.indexOf('\r'); i >= 0; i = body.indexOf('\r', i + 1)) breaks++;
  const n = body.length - breaks;
  return n !== 0 && n % 4 === 0;
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}
