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

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;
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
  return out;
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}
