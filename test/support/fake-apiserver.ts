/**
 * A local stand-in for kube-apiserver v1.26.1 that answers from the recorded
 * exchanges in ../shared/fixtures/apiserver (see its README). Real TLS:
 * the server certificate is signed by the fixture cluster's CA for 127.0.0.1,
 * clients authenticate with client certificates (requested, not required, as
 * the real server does); a certificate from any other CA gets the recorded
 * 401, no certificate is `anonymous`.
 *
 * Routing: custom routes (stateful handlers written by a test) first, then
 * the recordings, matched on method + path (with query, as sent) + identity.
 * Several recordings of the same request are served in order, the last one
 * repeating. Every request is kept in `received` for assertions.
 */
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { issueCertificate, nameDer, subjectAltNameExt, extKeyUsageExt, keyUsageExt, basicConstraintsExt, pemOf, type NameType } from '../../src/pki/sign.js';
import { generateKey, privateKeyPem } from '../../src/pki/keygen.js';
import { Certificate } from '../../src/pki/certificate.js';
import { parsePemBlocks } from '../../src/pki/pem.js';

export const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures');
export const RECORDINGS = path.join(FIXTURES, 'apiserver');
export const PKI = path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki');
export const ADMIN_CONF = path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/admin.conf');

export type Identity = 'admin' | 'node' | 'anonymous' | 'foreign';

export interface Recording {
  method: string;
  path: string;
  identity: string;
  note?: string;
  requestContentType?: string;
  requestBody: unknown;
  status: number;
  responseContentType?: string;
  responseBody: unknown;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  identity: Identity;
  /** CN of the client certificate, when one was sent */
  user?: string;
  contentType?: string;
  body: any;
}

export interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
}

export type Handler = (req: ReceivedRequest, match: RegExpExecArray) => Reply | undefined | Promise<Reply | undefined>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export function loadRecording(file: string): { description: string; requests: Recording[] } {
  return JSON.parse(fs.readFileSync(path.join(RECORDINGS, file), 'utf8'));
}

/** The recorded exchanges of `file` filtered by a predicate (first match by default). */
export function recorded(file: string, pred: (r: Recording) => boolean): Recording {
  const r = loadRecording(file).requests.find(pred);
  if (!r) throw new Error(`no such recording in ${file}`);
  return r;
}

export function identityOf(r: Recording): Identity {
  if (r.identity.startsWith('kubernetes-admin')) return 'admin';
  if (r.identity.startsWith('system:node:')) return 'node';
  if (r.identity.startsWith('anonymous')) return 'anonymous';
  return 'foreign';
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

// ------------------------------------------------------------------ certificates

interface Creds {
  dir: string;
  caPem: string;
  serverCert: string;
  serverKey: string;
  expiredServerCert: string;
  nodeCert: string;
  nodeKey: string;
  foreignCert: string;
  foreignKey: string;
}

let credsPromise: Promise<Creds> | undefined;

async function issue(subject: { type: NameType; value: string }[], issuerDer: Uint8Array, signingKey: KeyObject, key: KeyObject, opts: { server?: boolean; ca?: boolean; notBefore?: Date; notAfter?: Date }): Promise<string> {
  const now = Date.now();
  const der = await issueCertificate({
    subjectDer: nameDer(subject),
    issuerDer,
    spki: key,
    serial: BigInt(`0x${randomBytes(8).toString('hex')}`) | 1n,
    notBefore: opts.notBefore ?? new Date(Math.floor(now / 1000) * 1000 - 3600_000),
    notAfter: opts.notAfter ?? new Date(Math.floor(now / 1000) * 1000 + 86400_000),
    extensions: opts.ca
      ? [basicConstraintsExt(true), keyUsageExt(['digitalSignature', 'keyCertSign'])]
      : [
          keyUsageExt(['digitalSignature', 'keyEncipherment']),
          extKeyUsageExt([opts.server ? 'serverAuth' : 'clientAuth']),
          basicConstraintsExt(false),
          ...(opts.server ? [subjectAltNameExt([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }])] : []),
        ],
    signingKey,
  });
  return pemOf(der);
}

/** Certificates for the fake server and its clients, made once per process (real clock: TLS checks it). */
export function testCredentials(): Promise<Creds> {
  credsPromise ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-fakeapi-'));
    const caPem = fs.readFileSync(path.join(PKI, 'ca.crt'), 'utf8');
    const ca = new Certificate(parsePemBlocks(caPem)[0]!.der);
    const caKey = createPrivateKey(fs.readFileSync(path.join(PKI, 'ca.key')));
    const [sk, nk, fk, fcak] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256'), generateKey('ecdsa-p256'), generateKey('ecdsa-p256')]);
    const serverCert = await issue([{ type: 'CN', value: 'kube-apiserver' }], ca.subjectRaw, caKey, sk, { server: true });
    const expiredServerCert = await issue([{ type: 'CN', value: 'kube-apiserver' }], ca.subjectRaw, caKey, sk, {
      server: true, notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z'),
    });
    const nodeCert = await issue([{ type: 'O', value: 'system:nodes' }, { type: 'CN', value: 'system:node:worker-1' }], ca.subjectRaw, caKey, nk, {});
    const foreignCaName = nameDer([{ type: 'CN', value: 'not-the-cluster-ca' }]);
    const foreignCert = await issue([{ type: 'O', value: 'system:masters' }, { type: 'CN', value: 'kubernetes-admin' }], foreignCaName, fcak, fk, {});
    return {
      dir, caPem, serverCert, serverKey: privateKeyPem(sk), expiredServerCert,
      nodeCert, nodeKey: privateKeyPem(nk), foreignCert, foreignKey: privateKeyPem(fk),
    };
  })();
  return credsPromise;
}

// ------------------------------------------------------------------ server

export interface FakeApiServerOptions {
  /** recording files (in ../shared/fixtures/apiserver) to answer from */
  recordings?: string[];
  /** serve an expired certificate (for the "certificate has expired" error) */
  expiredCert?: boolean;
  /** listen on this port (default: any free one) */
  port?: number;
}

export class FakeApiServer {
  readonly received: ReceivedRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly queues = new Map<string, { list: Recording[]; next: number }>();
  private server!: https.Server;
  private creds!: Creds;
  url = '';

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer();
    for (const f of opts.recordings ?? []) s.addRecordings(loadRecording(f).requests);
    s.creds = await testCredentials();
    s.server = https.createServer({
      cert: opts.expiredCert ? s.creds.expiredServerCert : s.creds.serverCert,
      key: s.creds.serverKey,
      ca: s.creds.caPem,
      requestCert: true,
      rejectUnauthorized: false,
    }, (req, res) => { void s.handle(req, res); });
    await new Promise<void>((resolve) => s.server.listen(opts.port ?? 0, '127.0.0.1', resolve));
    s.url = `https://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  addRecordings(list: Recording[]): void {
    for (const r of list) {
      const key = `${r.method} ${r.path} ${identityOf(r)}`;
      const q = this.queues.get(key) ?? { list: [], next: 0 };
      q.list.push(r);
      this.queues.set(key, q);
    }
  }

  /** A custom (stateful) handler; `pattern` matches the path with its query. Returning undefined falls through. */
  route(method: string, pattern: RegExp | string, handler: Handler): this {
    const re = typeof pattern === 'string' ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : pattern;
    this.routes.unshift({ method, pattern: re, handler });
    return this;
  }

  /** Requests other than GET (the ones that change something). */
  writes(): ReceivedRequest[] {
    return this.received.filter((r) => r.method !== 'GET');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (raw) {
      try { body = JSON.parse(raw); } catch { body = raw; }
    }
    const sock = req.socket as import('node:tls').TLSSocket;
    const peer = sock.getPeerCertificate();
    const hasCert = peer && Object.keys(peer).length > 0;
    let identity: Identity = 'anonymous';
    let user: string | undefined;
    if (hasCert) {
      user = Array.isArray(peer.subject?.CN) ? peer.subject.CN[0] : peer.subject?.CN;
      if (!sock.authorized) identity = 'foreign';
      else identity = user?.startsWith('system:node:') ? 'node' : 'admin';
    }
    const rr: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      identity,
      user,
      contentType: req.headers['content-type'],
      body,
    };
    this.received.push(rr);
    const reply = await this.answer(rr);
    res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json' });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  private async answer(rr: ReceivedRequest): Promise<Reply> {
    if (rr.identity === 'foreign') {
      // the real server: TLS handshake succeeds, then 401 for an untrusted client certificate
      const r = recorded('errors.json', (x) => x.status === 401);
      return { status: 401, body: clone(r.responseBody) };
    }
    for (const route of this.routes) {
      if (route.method !== rr.method) continue;
      const m = route.pattern.exec(rr.path);
      if (!m) continue;
      const reply = await route.handler(rr, m);
      if (reply) return reply;
    }
    if (rr.method === 'GET' && rr.path === '/version') {
      // the recorded server's /version (README: v1.26.1, 8f94681c)
      return { status: 200, body: { major: '1', minor: '26', gitVersion: 'v1.26.1', gitCommit: '8f94681cd294aa8cfd3407b8191f6c70214973a4', gitTreeState: 'clean', goVersion: 'go1.19.5', compiler: 'gc', platform: 'linux/amd64' } };
    }
    const q = this.queues.get(`${rr.method} ${rr.path} ${rr.identity}`);
    if (q) {
      const r = q.list[Math.min(q.next, q.list.length - 1)]!;
      q.next++;
      return { status: r.status, body: clone(r.responseBody), contentType: r.responseContentType };
    }
    return notFound(rr.path);
  }

  /** A kubeconfig for `identity`, built from the fixture's admin.conf with the server replaced. */
  async kubeconfig(dir: string, identity: Identity = 'admin'): Promise<string> {
    const { parse, stringify } = await import('yaml');
    const doc = parse(fs.readFileSync(ADMIN_CONF, 'utf8'));
    doc.clusters[0].cluster.server = this.url;
    const user = doc.users[0].user;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    if (identity === 'node') { user['client-certificate-data'] = b64(this.creds.nodeCert); user['client-key-data'] = b64(this.creds.nodeKey); }
    if (identity === 'foreign') { user['client-certificate-data'] = b64(this.creds.foreignCert); user['client-key-data'] = b64(this.creds.foreignKey); }
    if (identity === 'anonymous') { delete user['client-certificate-data']; delete user['client-key-data']; }
    const file = path.join(dir, `kubeconfig-${identity}-${path.basename(this.url.replace(/[:/]/g, '_'))}`);
    fs.writeFileSync(file, stringify(doc), { mode: 0o600 });
    return file;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The 404 kube-apiserver answers. For one object of a resource (`/api/v1/namespaces/NS/configmaps/NAME`,
 * `/apis/GROUP/VERSION/PLURAL/NAME`) it is the storage's NotFound, as recorded in errors.json:
 * `configmaps "x" not found`, `certificatesigningrequests.certificates.k8s.io "x" not found`, with
 * details {name, group (not for the core group), kind: the plural}. Any other path gets the router's
 * `the server could not find the requested resource`.
 */
export function notFound(p: string): Reply {
  const bare = p.split('?')[0]!;
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/[^/]+\/)?([a-z0-9]+)\/([^/]+)$/.exec(bare);
  if (m) {
    const [, group, plural, rawName] = m;
    const name = decodeURIComponent(rawName!);
    return status(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`, { name, ...(group ? { group } : {}), kind: plural });
  }
  return {
    status: 404,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 },
  };
}

/** A port nobody listens on (bind, read, close). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

// ------------------------------------------------------------------ in-memory objects

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string, details: Record<string, unknown> = {}): Reply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code } };
}

/** The namespaced kinds MemoryObjects serves, with their API group paths (as the API server lays them out). */
const MEMORY_KINDS: Record<string, { kind: string; apiVersion: string; prefix: string }> = {
  secrets: { kind: 'Secret', apiVersion: 'v1', prefix: '/api/v1' },
  configmaps: { kind: 'ConfigMap', apiVersion: 'v1', prefix: '/api/v1' },
  pods: { kind: 'Pod', apiVersion: 'v1', prefix: '/api/v1' },
  roles: { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', prefix: '/apis/rbac.authorization.k8s.io/v1' },
  rolebindings: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', prefix: '/apis/rbac.authorization.k8s.io/v1' },
};

/**
 * Stateful core/v1 (and rbac/v1 Role, RoleBinding) namespaced objects (secrets, configmaps, pods) for the
 * admin identity, seeded from recorded objects: GET/list (with
 * `fieldSelector=type=X`), POST (409 AlreadyExists), PUT (409 on a stale
 * resourceVersion), merge PATCH, DELETE. `onChange` lets a test play a
 * controller (e.g. the token controller re-filling a cleared token).
 */
export class MemoryObjects {
  readonly objects = new Map<string, any>();
  private rv = 1000;
  onChange?: (plural: string, obj: any, verb: string) => void;

  constructor(private readonly server: FakeApiServer, plurals: string[] = ['secrets', 'configmaps', 'pods']) {
    for (const plural of plurals) {
      const { kind, prefix } = MEMORY_KINDS[plural]!;
      const one = new RegExp(`^${prefix}/namespaces/([^/]+)/${plural}/([^/?]+)(\\?.*)?$`);
      const nsList = new RegExp(`^${prefix}/namespaces/([^/]+)/${plural}(\\?.*)?$`);
      const allList = new RegExp(`^${prefix}/${plural}(\\?.*)?$`);
      const admin = (h: Handler): Handler => (req, m) => (req.identity === 'admin' ? h(req, m) : undefined);
      server.route('GET', one, admin((_r, m) => {
        const o = this.objects.get(`${plural}/${m[1]}/${decodeURIComponent(m[2]!)}`);
        return o ? { status: 200, body: clone(o) } : status(404, 'NotFound', `${plural} "${m[2]}" not found`, { name: m[2], kind: plural });
      }));
      const list = (ns: string | undefined, query: string | undefined): Reply => {
        const q = new URLSearchParams((query ?? '').replace(/^\?/, ''));
        const fs = q.get('fieldSelector');
        const items = [...this.objects.entries()]
          .filter(([k]) => k.startsWith(`${plural}/${ns ? `${ns}/` : ''}`))
          .map(([, o]) => o)
          .filter((o) => fieldSelectorMatches(o, fs))
          .map(({ kind: _k, apiVersion: _a, ...rest }) => clone(rest));
        return { status: 200, body: { kind: `${kind}List`, apiVersion: MEMORY_KINDS[plural]!.apiVersion, metadata: { resourceVersion: String(this.rv) }, items } };
      };
      server.route('GET', nsList, admin((_r, m) => list(m[1], m[2])));
      server.route('GET', allList, admin((_r, m) => list(undefined, m[1])));
      server.route('POST', nsList, admin((req, m) => {
        const body = req.body;
        const name = body?.metadata?.name;
        const key = `${plural}/${m[1]}/${name}`;
        if (this.objects.has(key)) return status(409, 'AlreadyExists', `${plural} "${name}" already exists`, { name, kind: plural });
        const obj = this.put(plural, { ...body, metadata: { ...body.metadata, namespace: m[1] } });
        this.onChange?.(plural, obj, 'create');
        return { status: 201, body: clone(this.objects.get(key)) };
      }));
      server.route('PUT', one, admin((req, m) => {
        const key = `${plural}/${m[1]}/${decodeURIComponent(m[2]!)}`;
        const cur = this.objects.get(key);
        if (!cur) return status(404, 'NotFound', `${plural} "${m[2]}" not found`);
        const rv = req.body?.metadata?.resourceVersion;
        if (rv && rv !== cur.metadata.resourceVersion) return status(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${m[2]}": the object has been modified; please apply your changes to the latest version and try again`);
        const obj = this.put(plural, { ...req.body, metadata: { ...req.body.metadata, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp } });
        this.onChange?.(plural, obj, 'update');
        return { status: 200, body: clone(this.objects.get(key)) };
      }));
      server.route('PATCH', one, admin((req, m) => {
        const key = `${plural}/${m[1]}/${decodeURIComponent(m[2]!)}`;
        const cur = this.objects.get(key);
        if (!cur) return status(404, 'NotFound', `${plural} "${m[2]}" not found`);
        if (req.contentType !== 'application/merge-patch+json') return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        const obj = this.put(plural, mergePatch(cur, req.body));
        this.onChange?.(plural, obj, 'patch');
        return { status: 200, body: clone(this.objects.get(key)) };
      }));
      server.route('DELETE', one, admin((_r, m) => {
        const key = `${plural}/${m[1]}/${decodeURIComponent(m[2]!)}`;
        const cur = this.objects.get(key);
        if (!cur) return status(404, 'NotFound', `${plural} "${m[2]}" not found`);
        this.objects.delete(key);
        this.onChange?.(plural, cur, 'delete');
        return { status: 200, body: clone(cur) };
      }));
    }
  }

  /** Store (or overwrite) an object as the server would: new resourceVersion, uid and creationTimestamp kept or made. */
  put(plural: string, obj: any): any {
    const o = clone(obj);
    o.kind = MEMORY_KINDS[plural]!.kind;
    o.apiVersion = MEMORY_KINDS[plural]!.apiVersion;
    o.metadata.resourceVersion = String(++this.rv);
    o.metadata.uid ??= `00000000-0000-4000-8000-${String(this.rv).padStart(12, '0')}`;
    o.metadata.creationTimestamp ??= '2026-11-23T00:00:00Z';
    if (plural === 'secrets' && !o.type) o.type = 'Opaque';
    delete o.stringData;
    this.objects.set(`${plural}/${o.metadata.namespace}/${o.metadata.name}`, o);
    return o;
  }

  get(plural: string, ns: string, name: string): any {
    return this.objects.get(`${plural}/${ns}/${name}`);
  }
}

function fieldPath(o: any, p: string): unknown {
  return p.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);
}

function fieldSelectorMatches(o: any, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) return true;
    const v = String(fieldPath(o, m[1]!) ?? '');
    return m[2] === '!=' ? v !== m[3] : v === m[3];
  });
}
