/** `--listen` parsing and the loopback rule. Pure. */
import { isIP } from 'node:net';
import { UserError } from '../errors.js';

export interface ListenAddress { host: string; port: number }

export const DEFAULT_LISTEN = '127.0.0.1:9793';

/** `127.0.0.1:9793`, `[::1]:9793`, `0.0.0.0:9793`, `:9793` (every interface), `localhost:0`. */
export function parseListen(text: string): ListenAddress {
  const t = text.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (v6) { host = v6[1]; portText = v6[2]; }
  else {
    const i = t.lastIndexOf(':');
    if (i < 0) throw new UserError(`failed to parse --listen ${JSON.stringify(text)}: no port`, 'use host:port, e.g. --listen 127.0.0.1:9793 or --listen 0.0.0.0:9793');
    host = t.slice(0, i);
    portText = t.slice(i + 1);
    if (host.includes(':')) throw new UserError(`failed to parse --listen ${JSON.stringify(text)}: IPv6 addresses need brackets`, 'write it as [::1]:9793');
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UserError(`failed to parse --listen ${JSON.stringify(text)}: bad port ${JSON.stringify(portText)}`, 'the port is a number from 0 to 65535');
  if (host === '') host = '0.0.0.0';
  if (host !== 'localhost' && !isIP(host)) throw new UserError(`failed to parse --listen ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IP address`, 'listen on an address of this node, e.g. 127.0.0.1, 0.0.0.0 or the node IP');
  return { host, port: Number(portText) };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}

/** `host:port` as Go's net.JoinHostPort writes it: an IPv6 literal in brackets (`[::1]:2379`, not `::1:2379`). */
export function formatHostPort(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
