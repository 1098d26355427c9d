import * as tls from 'node:tls';
import { isIP } from 'node:net';
import { UserError } from '../errors.js';
import { unbracket } from '../inventory/names.js';

export interface ProbeResult {
  host: string;
  port: number;
  /** DER of every certificate the server sent, leaf first */
  chain: Uint8Array[];
  protocol?: string;
  cipher?: string;
}

export interface ProbeOptions {
  servername?: string;
  timeoutMs?: number;
  /** client certificate and key (PEM), for servers that demand one before finishing the handshake */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** `host:port`, `https://host:port/…`, `[::1]:2379` → host and port (default 443). */
export function parseEndpoint(text: string): { host: string; port: number } {
  let t = text.trim();
  if (/^[a-z]+:\/\//i.test(t)) {
    let u: URL;
    try { u = new URL(t); } catch { throw new UserError(`failed to parse endpoint ${JSON.stringify(text)}`, 'use HOST:PORT or https://HOST:PORT'); }
    return { host: unbracket(u.hostname), port: Number(u.port || 443) };
  }
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new UserError(`failed to parse endpoint ${JSON.stringify(text)}`, 'use HOST:PORT, [IPv6]:PORT or https://HOST:PORT');
  const port = Number(m[2] ?? 443);
  if (!(port > 0 && port < 65536)) throw new UserError(`failed to parse endpoint ${JSON.stringify(text)}: bad port`, 'use a port between 1 and 65535');
  return { host: m[1]!, port };
}

/**
 * Handshake with a TLS endpoint and collect the chain it serves (like
 * `openssl s_client -showcerts`). The chain is not verified: a probe must see
 * expired and unknown certificates too.
 */
export function probeEndpoint(host: string, port: number, o: ProbeOptions = {}): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, res?: ProbeResult) => {
      if (done) return;
      done = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const socket = tls.connect({
      host, port,
      servername: o.servername ?? (isIP(host) ? undefined : host),
      rejectUnauthorized: false,
      cert: o.cert, key: o.key,
      timeout: o.timeoutMs ?? 5000,
    });
    socket.once('secureConnect', () => {
      const chain: Uint8Array[] = [];
      const seen = new Set<string>();
      let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(new Uint8Array(c.raw));
        c = c.issuerCertificate;
      }
      finish(undefined, { host, port, chain, protocol: socket.getProtocol() ?? undefined, cipher: socket.getCipher()?.name });
    });
    socket.once('timeout', () => finish(new UserError(`failed to probe ${host}:${port}: no TLS handshake within ${(o.timeoutMs ?? 5000) / 1000}s`, 'is the component running and listening on that port?')));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'host not found' : e.message;
      finish(new UserError(`failed to probe ${host}:${port}: ${why}`, e.code === 'ECONNREFUSED' ? 'is the component running? (crictl ps, systemctl status kubelet)' : undefined));
    });
  });
}
