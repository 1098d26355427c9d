import * as tls from 'node:tls';
import { isIP } from 'node:net';
import { formatHostPort } from '../server/listen.js';
import { UserError } from '../errors.js';
import { unbracket } from '../inventory/names.js';

export interface ProbeResult {
  host: string;
  port: number;
  /** DER of every certificate the server sent, leaf first */
  chain: Uint8Array[];
  protocol?: string;
  cipher?: string;
  /**
   * Why the handshake failed after the server had sent its chain: a TLS 1.2 server demanding a client
   * certificate (etcd --client-cert-auth, nginx ssl_verify_client on) ends it once it sees none, as it does
   * for `openssl s_client`, which still shows the chain it received.
   */
  handshakeError?: string;
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
 * One line for a failed TLS connection: OpenSSL's message is `<hex>:error:<code>:SSL routines:…:<file>:<line>:` and
 * a blank line; its reason (`wrong version number`) is what an operator can act on.
 */
function tlsFailure(e: NodeJS.ErrnoException & { reason?: string }): { why: string; hint?: string } {
  if (e.code === 'ECONNREFUSED') return { why: 'connection refused', hint: 'is the component running? (crictl ps, systemctl status kubelet)' };
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return { why: 'host not found', hint: 'check the name, or give its IP address' };
  if (e.code === 'ECONNRESET') return { why: 'the server closed the connection during the TLS handshake', hint: 'is it a TLS port? does it accept TLS 1.2 or 1.3?' };
  const reason = e.reason ?? e.message.split('\n')[0]!.trim();
  // a plain-HTTP (or other non-TLS) server answers the ClientHello with bytes that are no TLS record
  if (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || e.code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return { why: `not a TLS server (${reason})`, hint: 'is this a plain-HTTP port? curl http://HOST:PORT/ tells' };
  }
  if (/alert (handshake failure|certificate required|bad certificate)/i.test(reason)) {
    return { why: `the server ended the TLS handshake (${reason})`, hint: 'it may want a client certificate, or offer no protocol or cipher kubepki speaks (openssl s_client -connect HOST:PORT shows which)' };
  }
  return { why: reason };
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
    const peerChain = (): Uint8Array[] => {
      const chain: Uint8Array[] = [];
      const seen = new Set<string>();
      let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(new Uint8Array(c.raw));
        c = c.issuerCertificate;
      }
      return chain;
    };
    const endpoint = formatHostPort({ host, port });
    socket.once('secureConnect', () => {
      finish(undefined, { host, port, chain: peerChain(), protocol: socket.getProtocol() ?? undefined, cipher: socket.getCipher()?.name });
    });
    socket.once('timeout', () => finish(new UserError(`failed to probe ${endpoint}: no TLS handshake within ${(o.timeoutMs ?? 5000) / 1000}s`, 'is the component running and listening on that port? is it a TLS port?')));
    socket.once('error', (e: NodeJS.ErrnoException & { reason?: string }) => {
      const { why, hint } = tlsFailure(e);
      // the server's chain came before it ended the handshake: show it, as openssl s_client does
      const chain = e.code?.startsWith('ERR_SSL_') ? peerChain() : [];
      if (chain.length > 0) finish(undefined, { host, port, chain, protocol: socket.getProtocol() ?? undefined, handshakeError: why });
      else finish(new UserError(`failed to probe ${endpoint}: ${why}`, hint));
    });
  });
}
