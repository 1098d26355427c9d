/**
 * `kubepki serve`: hold the node's Inventory in memory, re-read it on an
 * interval and when a watched directory changes, and serve
 *   /metrics        Prometheus text (rendered once per read, so a scrape costs a copy)
 *   /               the dashboard (polls /api/inventory)
 *   /api/inventory  the same JSON as `check -o json`
 *   /healthz        200 once a read succeeded (never needs auth: kubelet probes it; the readiness probe)
 *   /livez          200 while the server answers, read or not (the liveness probe: a restart never makes an
 *                   unreadable tree readable, and a pod restarting in a loop is scraped too rarely for any alert)
 *
 * Read-only: the server never writes to the node. A failed read keeps the last
 * good inventory and counts in `kubepki_read_errors`; it never stops the server.
 */
import * as os from 'node:os';
import * as http from 'node:http';
import * as https from 'node:https';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { Inventory } from '../inventory/types.js';
import { UserError } from '../errors.js';
import { renderPrometheus, PROM_CONTENT_TYPE, type ServedProbe } from '../report/metrics.js';
import { renderDashboardHtml, dashboardCsp } from '../report/html.js';
import { renderJson } from '../report/structured.js';
import { isLoopback, formatHostPort, type ListenAddress } from './listen.js';

export interface ServeOptions {
  /** host directory holding the node tree (`/` on a node, `/host` in the DaemonSet) */
  root: string;
  listen: ListenAddress;
  /** seconds between reads */
  intervalSeconds: number;
  /** read the tree (the CLI passes readInventory over a NodeFs) */
  read: (now: Date) => Inventory;
  /** clock; `--now` pins it */
  now?: () => Date;
  /** `node` label; default the inventory's node name, then the host name */
  nodeName?: string;
  /** file holding the bearer token clients must send (re-read on every refresh, so it can be rotated) */
  bearerTokenFile?: string;
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  insecureNoAuth?: boolean;
  /** watch the directories the inventory came from (default true) */
  watch?: boolean;
  /** node directories to watch besides those: the detected layouts' (k0s, MicroK8s …) and --path's; `match`: only those files */
  watchDirs?: (inv: Inventory) => { dir: string; match?: RegExp | string }[];
  debounceMs?: number;
  /** live probe of local endpoints, when available */
  probe?: (inv: Inventory) => Promise<ServedProbe[]>;
  log?: (line: string) => void;
  version?: string;
  /** embed the inventory in the dashboard page below this JSON size (default 1 MiB); above, the page fetches it */
  embedLimit?: number;
  /** seconds between dashboard polls (default: min(interval, 10)) */
  pollSeconds?: number;
}

export interface ServerState {
  inventory?: Inventory;
  reads: number;
  /** failed reads since start */
  readErrors: number;
  /** 1 when the last read failed (the served inventory is the one before) */
  lastReadFailed: boolean;
  lastError?: string;
  lastReadMs?: number;
}

export interface RunningServer {
  url: string;
  address: ListenAddress;
  state(): ServerState;
  /** read the tree now (what the interval and the watcher call) */
  refresh(reason?: string): Promise<void>;
  close(): Promise<void>;
}

/** Directories a kubeadm/RKE/k3s node keeps its PKI in; watched when present (ServeOptions.watchDirs adds the detected layouts'). */
const WATCH_DIRS = [
  '/etc/kubernetes', '/etc/kubernetes/pki', '/etc/kubernetes/pki/etcd', '/etc/kubernetes/manifests', '/etc/kubernetes/ssl',
  '/var/lib/kubelet', '/var/lib/kubelet/pki', '/var/lib/rancher/rke2/server/tls', '/var/lib/rancher/k3s/server/tls',
];

/** A response body kept gzipped; the raw bytes too when small. */
interface Body { gz: Buffer; raw?: Buffer; etag: string }
const RAW_LIMIT = 1 << 20;
const EMBED_LIMIT = 1 << 20;

function makeBody(text: string): Body {
  const raw = Buffer.from(text, 'utf8');
  // level 1: a tenth of the size for a few ms per MiB, once per read
  const gz = gzipSync(raw, { level: 1 });
  // the dashboard polls with If-None-Match: an unchanged inventory costs a 304, not megabytes
  const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`;
  return raw.length <= RAW_LIMIT ? { gz, raw, etag } : { gz, etag };
}

function emptyInventory(root: string, now: Date): Inventory {
  return {
    apiVersion: 'kubepki.io/v1alpha1', kind: 'Inventory', root, now: now.toISOString(), warn: '30d', layouts: [],
    certificates: [], missing: [], keys: [], kubeconfigs: [], csrs: [], components: [], findings: [],
    summary: { certificates: 0, ok: 0, warning: 0, expired: 0, notYetValid: 0, invalid: 0, errors: 0, worst: 'ok' },
  };
}

function sha256(s: string | Buffer): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The token a request presents: `Authorization: Bearer <token>` (Prometheus, curl), or HTTP Basic with the
 * token as the password and any user name (a browser, which has no way to send a Bearer header but prompts
 * for Basic credentials and then sends them with the page's own fetches). Serving stays GET-only and the
 * token never goes into a URL or a cookie.
 */
export function presentedToken(authorization: string | undefined): string | undefined {
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  if (m[1].toLowerCase() === 'bearer') return m[2];
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1).trim();
}

/**
 * The serving certificate, its key and the client CA, read and tried before listening: OpenSSL's own
 * errors ("PEM routines::no start line", "key values mismatch") name no file, and a client CA that holds no
 * certificate would only show as every scrape answered 401.
 */
function checkedTls(t: NonNullable<ServeOptions['tls']>): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const cert = readSecretFile(t.certFile, '--tls-cert');
  const key = readSecretFile(t.keyFile, '--tls-key');
  const ca = t.clientCaFile ? readSecretFile(t.clientCaFile, '--client-ca') : undefined;
  const pemCerts = (b: Buffer) => (b.toString('latin1').match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
  if (pemCerts(cert) === 0) throw new UserError(`failed to use --tls-cert ${t.certFile}: no PEM certificate in it`, 'pass the serving certificate as PEM (-----BEGIN CERTIFICATE-----)');
  if (ca && pemCerts(ca) === 0) throw new UserError(`failed to use --client-ca ${t.clientCaFile}: no PEM certificate in it`, 'pass the CA that signs the scrapers\' client certificates, as PEM');
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  } catch (e) {
    const why = String((e as Error).message).replace(/^error:[0-9A-F]+:/, '');
    const keyProblem = /key values mismatch/i.test(why) ? 'is not the key of --tls-cert' : `cannot be used (${why})`;
    throw new UserError(/key|PEM|decoder|bad decrypt/i.test(why) ? `failed to use --tls-key ${t.keyFile}: it ${keyProblem}` : `failed to use --tls-cert ${t.certFile} with --tls-key ${t.keyFile}: ${why}`, 'pass the certificate and its own unencrypted private key, both PEM');
  }
  return { cert, key, ...(ca ? { ca } : {}) };
}

function readSecretFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`failed to read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `check that ${file} exists and is readable by kubepki`);
  }
}

/** Validate the auth options: a non-loopback listen needs auth or an explicit opt-out. */
export function checkServeAuth(opts: Pick<ServeOptions, 'listen' | 'bearerTokenFile' | 'tls' | 'insecureNoAuth'>): void {
  if (opts.tls?.clientCaFile && !(opts.tls.certFile && opts.tls.keyFile)) {
    throw new UserError('--client-ca needs --tls-cert and --tls-key', 'client certificates are checked during the TLS handshake, so serve must speak TLS');
  }
  const authed = Boolean(opts.bearerTokenFile || opts.tls?.clientCaFile);
  if (!isLoopback(opts.listen.host) && !authed && !opts.insecureNoAuth) {
    throw new UserError(
      `refusing to listen on ${formatHostPort(opts.listen)} without authentication`,
      'add --bearer-token-file FILE or --client-ca FILE --tls-cert FILE --tls-key FILE, or --insecure-no-auth if the network is trusted (the pages show public certificate data only)',
    );
  }
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  checkServeAuth(opts);
  const log = opts.log ?? (() => {});
  const clock = opts.now ?? (() => new Date());
  const root = path.resolve(opts.root);
  const state: ServerState = { reads: 0, readErrors: 0, lastReadFailed: false };
  let inventory: Inventory | undefined;
  // Bodies are kept gzipped (Prometheus and browsers accept gzip): a 10,000-certificate
  // node is 12 MiB of metrics text and 26 MiB of JSON raw, about a tenth of that gzipped.
  let metricsBody = makeBody('');
  let jsonBody = makeBody('');
  let htmlBody = makeBody('');
  let token: Buffer | undefined;
  const pollSeconds = opts.pollSeconds ?? Math.max(2, Math.min(opts.intervalSeconds, 10));

  const tlsMaterial = opts.tls ? checkedTls(opts.tls) : undefined;
  const loadToken = () => {
    if (!opts.bearerTokenFile) return;
    const t = readSecretFile(opts.bearerTokenFile, '--bearer-token-file').toString('utf8').trim();
    if (!t) throw new UserError(`failed to read --bearer-token-file ${opts.bearerTokenFile}: the file is empty`, 'put the token on the first line of the file');
    token = sha256(t);
  };
  loadToken();

  async function render(inv: Inventory, readSeconds: number): Promise<void> {
    const probes = opts.probe ? await opts.probe(inv).catch(() => undefined) : undefined;
    const text = await renderPrometheus(inv, opts.nodeName ?? inv.nodeName ?? os.hostname(), {
      readErrors: state.lastReadFailed ? 1 : 0,
      readFailuresTotal: state.readErrors,
      // (a failed read's time too: one that fails slowly, a hung mount, shows here)
      readDurationSeconds: readSeconds,
      // the last read that succeeded, 0 before any: the time of a failed attempt would keep KubepkiReadStale quiet
      // on a node that was never read
      lastReadTimestamp: inventory ? Math.floor(Date.parse(inventory.now) / 1000) : 0,
      probes,
      version: opts.version,
    });
    metricsBody = makeBody(text);
    const json = renderJson(inv);
    jsonBody = makeBody(json);
    // small inventories ride along in the page for an instant first paint; big ones are fetched
    htmlBody = makeBody(renderDashboardHtml(inv, { mode: 'served', pollSeconds, embed: json.length < (opts.embedLimit ?? EMBED_LIMIT) }));
  }

  let reading: Promise<void> | undefined;
  let again = false;
  async function refresh(reason = 'interval'): Promise<void> {
    if (reading) { again = true; return reading; }
    reading = (async () => {
      do {
        again = false;
        const started = process.hrtime.bigint();
        try { loadToken(); } catch (e) { log(`kubepki serve: ${(e as Error).message} (keeping the previous token)`); }
        try {
          const inv = opts.read(clock());
          const secs = Number(process.hrtime.bigint() - started) / 1e9;
          inventory = inv;
          state.inventory = inv;
          state.reads++;
          state.lastReadMs = secs * 1000;
          state.lastError = undefined;
          state.lastReadFailed = false;
          await render(inv, secs);
          syncWatchers(inv);
        } catch (e) {
          const secs = Number(process.hrtime.bigint() - started) / 1e9;
          state.readErrors++;
          state.lastReadFailed = true;
          state.lastError = (e as Error).message;
          log(`kubepki serve: failed to read ${root} (${reason}): ${(e as Error).message}`);
          await render(inventory ?? emptyInventory(root, clock()), secs).catch(() => {});
        }
      } while (again);
    })().finally(() => { reading = undefined; });
    return reading;
  }

  // ---- watching: the directories the inventory came from, debounced ----
  // (`only`: the names that matter in the directory now, undefined for any; kept with the watcher and replaced at
  // every sync, since a directory watched for one file may later hold others the inventory reads)
  type Names = (RegExp | string)[] | undefined;
  const watchers = new Map<string, { w: fs.FSWatcher; only: Names }>();
  let debounce: NodeJS.Timeout | undefined;
  const hostDir = (nodeDir: string) => (root === '/' ? nodeDir : path.join(root, nodeDir));
  function syncWatchers(inv: Inventory): void {
    if (opts.watch === false) return;
    const dirs = new Set<string>(WATCH_DIRS);
    for (const c of inv.certificates) { dirs.add(path.posix.dirname(c.location.file)); if (c.location.via) dirs.add(path.posix.dirname(c.location.via)); }
    for (const k of inv.keys) dirs.add(path.posix.dirname(k.file));
    for (const k of inv.kubeconfigs) dirs.add(path.posix.dirname(k.file));
    for (const m of inv.missing) dirs.add(path.posix.dirname(m.file));
    // (a host directory → the names that matter in it, undefined for any: a home directory holds RKE1's
    // kube_config_*.yml and much else)
    const wanted = new Map<string, Names>();
    for (const d of dirs) {
      const h = hostDir(d);
      if (fs.existsSync(h)) wanted.set(h, undefined);
    }
    for (const { dir, match } of opts.watchDirs?.(inv) ?? []) {
      const h = hostDir(dir);
      if (!fs.existsSync(h) || (wanted.has(h) && wanted.get(h) === undefined)) continue;
      wanted.set(h, match ? [...(wanted.get(h) ?? []), match] : undefined);
    }
    for (const [d, { w }] of watchers) if (!wanted.has(d)) { w.close(); watchers.delete(d); }
    for (const [d, only] of wanted) {
      const have = watchers.get(d);
      if (have) { have.only = only; continue; }
      try {
        const w = fs.watch(d, { persistent: false }, (_event, name) => {
          const names = watchers.get(d)?.only;
          if (names && name && !names.some((m) => (typeof m === 'string' ? m === String(name) : m.test(String(name))))) return;
          clearTimeout(debounce);
          debounce = setTimeout(() => { void refresh('change'); }, opts.debounceMs ?? 1000);
        });
        w.on('error', () => { w.close(); watchers.delete(d); });
        watchers.set(d, { w, only });
      } catch { /* unwatchable (permissions, too many watches): the interval still catches it */ }
    }
  }

  // ---- HTTP ----
  function authorized(req: http.IncomingMessage): boolean {
    if (tlsMaterial?.ca) {
      const sock = req.socket as TLSSocket;
      if (!sock.authorized) return false;
    }
    if (token) {
      const presented = presentedToken(req.headers.authorization);
      return presented !== undefined && timingSafeEqual(sha256(presented), token);
    }
    return true;
  }

  function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('kubepki serve is read-only: GET only\n');
      return;
    }
    const send = (status: number, type: string, body: string | Body, extra: Record<string, string> = {}) => {
      if (typeof body !== 'string') {
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const bytes = gzip ? body.gz : body.raw ?? gunzipSync(body.gz);
        res.writeHead(status, { 'Content-Type': type, 'Content-Length': bytes.length, Vary: 'Accept-Encoding', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), ...extra });
        res.end(req.method === 'HEAD' ? undefined : bytes);
        return;
      }
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (p === '/livez') {
      send(200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    }
    if (p === '/healthz') {
      if (inventory) send(200, 'text/plain; charset=utf-8', 'ok\n');
      else send(503, 'text/plain; charset=utf-8', `not ready: ${state.lastError ?? 'first read in progress'}\n`);
      return;
    }
    if (!authorized(req)) {
      // Both challenges: Prometheus sends the Bearer header; a browser knows no Bearer prompt but asks for
      // Basic credentials, where the token is the password (see presentedToken).
      if (token) res.setHeader('WWW-Authenticate', ['Bearer realm="kubepki"', 'Basic realm="kubepki (password: the bearer token)", charset="UTF-8"']);
      send(401, 'text/plain; charset=utf-8', token ? 'unauthorized: send "Authorization: Bearer <token>", or in a browser give the token as the password (any user name)\n' : 'unauthorized\n');
      return;
    }
    switch (p) {
      case '/metrics':
        send(200, PROM_CONTENT_TYPE, metricsBody);
        return;
      case '/api/inventory':
        if (!inventory) { send(503, 'application/json', `${JSON.stringify({ error: state.lastError ?? 'first read in progress' })}\n`); return; }
        if (req.headers['if-none-match'] === jsonBody.etag) { res.writeHead(304, { ETag: jsonBody.etag }); res.end(); return; }
        send(200, 'application/json; charset=utf-8', jsonBody, { ETag: jsonBody.etag });
        return;
      case '/':
      case '/index.html':
        if (!inventory) { send(503, 'text/plain; charset=utf-8', `kubepki: no inventory yet: ${state.lastError ?? 'first read in progress'}\n`); return; }
        send(200, 'text/html; charset=utf-8', htmlBody, {
          'Content-Security-Policy': `${dashboardCsp('served')}; frame-ancestors 'none'`,
          'X-Frame-Options': 'DENY',
        });
        return;
      default:
        send(404, 'text/plain; charset=utf-8', 'not found: try /, /metrics, /api/inventory, /healthz or /livez\n');
    }
  }

  await refresh('start');

  const server: http.Server = tlsMaterial
    ? https.createServer({ cert: tlsMaterial.cert, key: tlsMaterial.key, ca: tlsMaterial.ca, requestCert: Boolean(tlsMaterial.ca), rejectUnauthorized: false }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10000;
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException) => reject(new UserError(`failed to listen on ${formatHostPort(opts.listen)}: ${e.code ?? e.message}`, e.code === 'EADDRINUSE' ? 'another process uses that port; pick another with --listen' : 'check the address belongs to this node'));
    server.once('error', onErr);
    server.listen(opts.listen.port, opts.listen.host, () => { server.off('error', onErr); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const address = { host: opts.listen.host, port: addr.port };
  const timer = setInterval(() => { void refresh('interval'); }, Math.max(1, opts.intervalSeconds) * 1000);
  timer.unref?.();

  return {
    url: `${tlsMaterial ? 'https' : 'http'}://${formatHostPort({ host: address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host, port: address.port })}/`,
    address,
    state: () => ({ ...state }),
    refresh,
    close: async () => {
      clearInterval(timer);
      clearTimeout(debounce);
      for (const { w } of watchers.values()) w.close();
      watchers.clear();
      await reading?.catch(() => {});
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections?.(); });
    },
  };
}
