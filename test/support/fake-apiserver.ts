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
  /** more response headers (e.g. Retry-After) */
  headers?: Record<string, string>;
  /**
   * no answer at all: the connection is closed after the request was read, as by a crashing server or a proxy
   * giving up (the client sees ECONNRESET, "socket hang up"; a TLS socket cannot send a bare RST from Node)
   */
  reset?: boolean;
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
  /** the cluster's RBAC, as SubjectAccessReviews see it; tests delete or add bindings */
  readonly rbac: ClusterRbac = kubeadmRbac();
  private readonly routes: Route[] = [];
  private readonly queues = new Map<string, { list: Recording[]; next: number }>();
  /** requests `hold` keeps unanswered, let go (their connections closed) by `close` */
  private readonly held: (() => void)[] = [];
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

  /**
   * Take the requests `method pattern` matches and answer none of them while `holding()` says so: the connection
   * stays open, no status, no byte, as from a server (or a load balancer in front of it, after a failover) that
   * accepted the connection and never answers. The client sees nothing until it gives up itself; `close` lets them go.
   */
  hold(method: string, pattern: RegExp | string, holding: () => boolean = () => true): this {
    return this.route(method, pattern, () => (holding() ? new Promise<Reply>((resolve) => { this.held.push(() => resolve({ status: 0, body: null, reset: true })); }) : undefined));
  }

  /** Requests that change something: other than GET, and not a SubjectAccessReview (a POST that stores nothing). */
  writes(): ReceivedRequest[] {
    return this.received.filter((r) => r.method !== 'GET' && r.path.split('?')[0] !== SAR_PATH);
  }

  /** The SubjectAccessReviews asked for, in order. */
  reviews(): ReceivedRequest[] {
    return this.received.filter((r) => r.method === 'POST' && r.path.split('?')[0] === SAR_PATH);
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
    if (reply.reset) { req.socket.destroy(); return; }
    res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json', ...reply.headers });
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  private async answer(rr: ReceivedRequest): Promise<Reply> {
    if (rr.identity === 'foreign') {
      // the real server: TLS handshake succeeds, then 401 for an untrusted client certificate
      return unauthorized();
    }
    for (const route of this.routes) {
      if (route.method !== rr.method) continue;
      const m = route.pattern.exec(rr.path);
      if (!m) continue;
      const reply = await route.handler(rr, m);
      if (reply) return reply;
    }
    if (rr.method === 'POST' && rr.path.split('?')[0] === SAR_PATH) return subjectAccessReview(rr, this.rbac);
    if (rr.method === 'GET' && rr.path.split('?')[0] === '/version') {
      // the recorded server's /version (README: v1.26.1, 8f94681c)
      return { status: 200, body: { major: '1', minor: '26', gitVersion: 'v1.26.1', gitCommit: '8f94681cd294aa8cfd3407b8191f6c70214973a4', gitTreeState: 'clean', goVersion: 'go1.19.5', compiler: 'gc', platform: 'linux/amd64' } };
    }
    const q = this.queues.get(`${rr.method} ${rr.path} ${rr.identity}`);
    if (q) {
      const r = q.list[Math.min(q.next, q.list.length - 1)]!;
      q.next++;
      return { status: r.status, body: clone(r.responseBody), contentType: r.responseContentType };
    }
    // RBAC lets system:anonymous read /version (system:public-info-viewer) and cluster-info (kubeadm's Role, served
    // by MemoryObjects or the recordings) only: anything else is the authorizer's 403, before any 404
    if (rr.identity === 'anonymous') return anonymousForbidden(rr);
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
    for (const release of this.held.splice(0)) release();
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

/**
 * The 403 kube-apiserver answers system:anonymous for a request RBAC does not allow (responsewriters.forbiddenMessage,
 * as recorded in errors.json and bootstrap-token.json): the verb from the method (GET of a collection: list), the
 * resource (and subresource) with its group, the namespace or the cluster scope; for a path that is no resource,
 * `forbidden: User "system:anonymous" cannot get path "/apis"`.
 */
function anonymousForbidden(rr: ReceivedRequest): Reply {
  const bare = rr.path.split('?')[0]!;
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)(?:\/([^/]+))?(?:\/([a-z]+))?$/.exec(bare);
  const user = 'system:anonymous';
  if (!m) return status(403, 'Forbidden', `forbidden: User "${user}" cannot ${rr.method.toLowerCase()} path "${bare}"`);
  const [, group = '', ns, resource, name, sub] = m;
  const verb = { GET: name ? 'get' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: name ? 'delete' : 'deletecollection' }[rr.method] ?? rr.method.toLowerCase();
  const full = `${resource}${sub ? `/${sub}` : ''}`;
  const qualified = `${resource}${group ? `.${group}` : ''}`;
  return status(403, 'Forbidden',
    `${qualified}${name ? ` "${decodeURIComponent(name)}"` : ''} is forbidden: User "${user}" cannot ${verb} resource "${full}" in API group "${group}" ${ns ? `in the namespace "${ns}"` : 'at the cluster scope'}`,
    { ...(name ? { name: decodeURIComponent(name) } : {}), ...(group ? { group } : {}), kind: resource });
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

// ------------------------------------------------------------------ SubjectAccessReviews

/*
 * There is no recording of a SubjectAccessReview, so this answers as kube-apiserver v1.26 does, from
 * its code and docs:
 * - POST /apis/authorization.k8s.io/v1/subjectaccessreviews returns 201 Created (handlers/create.go)
 *   with the object sent, `metadata: {creationTimestamp: null}` (it is never stored; 1.26 also adds a
 *   managedFields entry for the caller, left out here as kubepki does not read it), and `status`
 *   (registry/authorization/subjectaccessreview/rest.go): `allowed`, `reason` only when an authorizer
 *   gave one (json omitempty), `evaluationError` only on an error.
 * - The spec is validated first: `user` or `groups` must be set, else 422 Invalid
 *   `SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one
 *   of user or group must be specified` (pkg/apis/authorization/validation).
 * - Authorizers as kubeadm configures them (Node,RBAC behind the system:masters superuser group):
 *   system:masters is allowed with no reason. The Node authorizer has no opinion on
 *   certificatesigningrequests/<subresource> (its certificatesigningrequests rule has no
 *   subresource), so RBAC decides: allowed with reason `RBAC: allowed by ClusterRoleBinding "B" of
 *   ClusterRole "R" to Group "G"` (plugin/pkg/auth/authorizer/rbac/rbac.go,
 *   pkg/registry/rbac/validation/rule.go); no rule → `{allowed: false}`, no reason.
 * - The caller must itself be allowed to create subjectaccessreviews: the admin (system:masters) and
 *   a node (the Node authorizer's NodeRules grant it) are; anonymous gets the 403 of any forbidden
 *   request (the recorded errors.json shape, with the group: `forbidden()` below).
 */
export const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface PolicyRule { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }
export interface ClusterRbac {
  clusterRoles: Map<string, PolicyRule[]>;
  clusterRoleBindings: Map<string, { clusterRole: string; subjects: { kind: 'User' | 'Group'; name: string }[] }>;
}

/**
 * The RBAC a kubeadm v1.26 cluster has for kubelet certificates (the recorded cluster ran
 * `kubeadm init phase bootstrap-token`, which makes these): the bindings of spec §5 and the ClusterRoles
 * they name as kube-apiserver's bootstrappolicy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go)
 * defines them.
 */
export function kubeadmRbac(): ClusterRbac {
  const csrs = 'certificates.k8s.io';
  const tokenGroup = 'system:bootstrappers:kubeadm:default-node-token';
  return {
    clusterRoles: new Map([
      ['system:node-bootstrapper', [{ verbs: ['create', 'get', 'list', 'watch'], apiGroups: [csrs], resources: ['certificatesigningrequests'] }]],
      ['system:certificates.k8s.io:certificatesigningrequests:nodeclient', [{ verbs: ['create'], apiGroups: [csrs], resources: ['certificatesigningrequests/nodeclient'] }]],
      ['system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [{ verbs: ['create'], apiGroups: [csrs], resources: ['certificatesigningrequests/selfnodeclient'] }]],
      ['kubeadm:get-nodes', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }]],
    ]),
    clusterRoleBindings: new Map([
      ['kubeadm:kubelet-bootstrap', { clusterRole: 'system:node-bootstrapper', subjects: [{ kind: 'Group', name: tokenGroup }] }],
      ['kubeadm:node-autoapprove-bootstrap', { clusterRole: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', subjects: [{ kind: 'Group', name: tokenGroup }] }],
      ['kubeadm:node-autoapprove-certificate-rotation', { clusterRole: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', subjects: [{ kind: 'Group', name: 'system:nodes' }] }],
      ['kubeadm:get-nodes', { clusterRole: 'kubeadm:get-nodes', subjects: [{ kind: 'Group', name: tokenGroup }] }],
    ]),
  };
}

/** rbacv1helpers' VerbMatches / APIGroupMatches / ResourceMatches / ResourceNameMatches. */
function ruleAllows(rule: PolicyRule, a: { verb?: string; group?: string; resource?: string; subresource?: string; name?: string }): boolean {
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource ?? '';
  return (rule.verbs.includes('*') || rule.verbs.includes(a.verb ?? ''))
    && (rule.apiGroups.includes('*') || rule.apiGroups.includes(a.group ?? ''))
    && rule.resources.some((r) => r === '*' || r === combined || (a.subresource !== undefined && a.subresource !== '' && r === `*/${a.subresource}`))
    && (!rule.resourceNames?.length || rule.resourceNames.includes(a.name ?? ''));
}

/** The 403 kube-apiserver answers a cluster-scoped request the authorizers did not allow (responsewriters.forbiddenMessage). */
export function forbidden(user: string, verb: string, group: string, resource: string): Reply {
  return status(403, 'Forbidden', `${resource}${group ? `.${group}` : ''} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" at the cluster scope`,
    { ...(group ? { group } : {}), kind: resource });
}

/**
 * The 403 kube-apiserver answers an approval (or denial), PUT to `certificatesigningrequests/NAME/approval`, by a user
 * RBAC lets update that subresource but not `approve` the `signers` resource named after the CSR's signerName: the
 * CertificateSigningRequest approval admission plugin (plugin/pkg/admission/certificates/approval/admission.go)
 * returns admission.NewForbidden(a, fmt.Errorf("user not permitted to approve requests with signerName %q", signer)),
 * i.e. apierrors.NewForbidden(certificatesigningrequests.certificates.k8s.io, NAME, err): details {name, group, kind}.
 */
export function signerForbidden(name: string, signer: string): Reply {
  return status(403, 'Forbidden', `certificatesigningrequests.certificates.k8s.io "${name}" is forbidden: user not permitted to approve requests with signerName "${signer}"`,
    { name, group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
}

/*
 * What a sick kube-apiserver answers instead (k8s.io/apiserver v1.26; none was recorded):
 * - 429 from its max-in-flight or priority-and-fairness filter (server/filters/maxinflight.go tooManyRequests):
 *   not a Status but `http.Error`'s plain text, with Retry-After (1 from max-in-flight; APF's own count).
 * - 504 from its timeout filter (server/filters/timeout.go) when a request outlives --request-timeout (60s), e.g. a
 *   SubjectAccessReview waiting on a slow authorization webhook: a Status, reason Timeout (apierrors.NewTimeoutError).
 * - 500 from its authorization filter (endpoints/filters/authorization.go) when no authorizer allowed the request
 *   and one failed (an authorization webhook that cannot be reached): responsewriters.InternalError's plain text.
 * - 503 ServiceUnavailable, a Status (apierrors.NewServiceUnavailable), e.g. while it cannot reach etcd.
 */
export function tooManyRequests(retryAfter = '1'): Reply {
  return { status: 429, body: 'Too many requests, please try again later.\n', contentType: 'text/plain; charset=utf-8', headers: { 'Retry-After': retryAfter, 'X-Content-Type-Options': 'nosniff' } };
}

export function gatewayTimeout(): Reply {
  return status(504, 'Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded');
}

export function authorizerError(uri: string, err: string): Reply {
  return { status: 500, body: `Internal Server Error: ${JSON.stringify(uri)}: ${err}`, contentType: 'text/plain', headers: { 'X-Content-Type-Options': 'nosniff' } };
}

export function serviceUnavailable(message = 'service unavailable'): Reply {
  return status(503, 'ServiceUnavailable', message);
}

/**
 * The 500 ServerTimeout kube-apiserver answers when an operation could not be completed in time and may be tried
 * again (apimachinery errors.NewServerTimeout: details {group, kind: the resource, name: the operation,
 * retryAfterSeconds}); responsewriters.ErrorNegotiated sends retryAfterSeconds as the Retry-After header.
 */
export function serverTimeout(group: string, resource: string, operation: string, retryAfterSeconds: number): Reply {
  const r = status(500, 'ServerTimeout', `The ${operation} operation against ${resource}.${group} could not be completed at this time, please try again.`,
    { group, kind: resource, name: operation, retryAfterSeconds });
  return { ...r, headers: { 'Retry-After': String(retryAfterSeconds) } };
}

/** The 401 kube-apiserver answers credentials no authenticator accepts (recorded in errors.json). */
export function unauthorized(): Reply {
  return { status: 401, body: clone(recorded('errors.json', (x) => x.status === 401).responseBody) };
}

function subjectAccessReview(rr: ReceivedRequest, rbac: ClusterRbac): Reply {
  if (rr.identity === 'anonymous') return forbidden('system:anonymous', 'create', 'authorization.k8s.io', 'subjectaccessreviews');
  const spec = rr.body?.spec ?? {};
  const groups: string[] = spec.groups ?? [];
  if (!spec.user && groups.length === 0) {
    return status(422, 'Invalid', 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
      { group: 'authorization.k8s.io', kind: 'SubjectAccessReview', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "": at least one of user or group must be specified', field: 'spec.user' }] });
  }
  let st: { allowed: boolean; reason?: string } = { allowed: false };
  if (groups.includes('system:masters')) {
    st = { allowed: true };
  } else {
    const attrs = spec.resourceAttributes ?? {};
    search: for (const [name, b] of rbac.clusterRoleBindings) {
      const subject = b.subjects.find((x) => (x.kind === 'Group' && groups.includes(x.name)) || (x.kind === 'User' && x.name === spec.user));
      if (!subject) continue;
      for (const rule of rbac.clusterRoles.get(b.clusterRole) ?? []) {
        if (ruleAllows(rule, attrs)) {
          st = { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "${name}" of ClusterRole "${b.clusterRole}" to ${subject.kind} "${subject.name}"` };
          break search;
        }
      }
    }
  }
  return { status: 201, body: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status: st } };
}

function status(code: number, reason: string, message: string, details: Record<string, unknown> = {}): Reply {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code } };
}

/** The namespaced kinds MemoryObjects serves, with their API group paths (as the API server lays them out). */
const MEMORY_KINDS: Record<string, { kind: string; apiVersion: string; prefix: string; group?: string }> = {
  secrets: { kind: 'Secret', apiVersion: 'v1', prefix: '/api/v1' },
  configmaps: { kind: 'ConfigMap', apiVersion: 'v1', prefix: '/api/v1' },
  pods: { kind: 'Pod', apiVersion: 'v1', prefix: '/api/v1' },
  roles: { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', prefix: '/apis/rbac.authorization.k8s.io/v1', group: 'rbac.authorization.k8s.io' },
  rolebindings: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', prefix: '/apis/rbac.authorization.k8s.io/v1', group: 'rbac.authorization.k8s.io' },
};

/**
 * The Status bodies of the storage's errors for one object, as recorded (errors.json, approval-conflict.json): the
 * resource qualified by its group except for the core group, details {name, group (not for core), kind: the plural}
 * (apimachinery errors.NewNotFound, NewAlreadyExists, NewConflict).
 */
function objectError(plural: string, name: string, code: 404 | 409, reason: 'NotFound' | 'AlreadyExists' | 'Conflict'): Reply {
  const group = MEMORY_KINDS[plural]?.group;
  const qualified = `${plural}${group ? `.${group}` : ''}`;
  const message = reason === 'NotFound' ? `${qualified} "${name}" not found`
    : reason === 'AlreadyExists' ? `${qualified} "${name}" already exists`
      : `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
  return status(code, reason, message, { name, ...(group ? { group } : {}), kind: plural });
}

/** The 400 kube-apiserver answers a body whose name or namespace is not the URL's (endpoints/handlers: create.go, update.go). */
function badRequest(message: string): Reply {
  return status(400, 'BadRequest', message);
}

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
  /**
   * kubeadm's Role and RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo (get configmaps cluster-info,
   * for User system:anonymous): joiners read cluster-info with no credentials (recorded: bootstrap-token.json's
   * anonymous read). A test turns it off for a cluster without them: anonymous reads get the 403 RBAC answers.
   */
  anonymousClusterInfo = true;
  /**
   * The namespaces that exist: kubeadm's four and those of the objects put in. Creating an object in another one is
   * the 404 NotFound of the namespace (the NamespaceLifecycle admission plugin), as kube-apiserver answers it.
   */
  readonly namespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

  constructor(private readonly server: FakeApiServer, plurals: string[] = ['secrets', 'configmaps', 'pods']) {
    for (const plural of plurals) {
      const { kind, prefix } = MEMORY_KINDS[plural]!;
      const one = new RegExp(`^${prefix}/namespaces/([^/]+)/${plural}/([^/?]+)(\\?.*)?$`);
      const nsList = new RegExp(`^${prefix}/namespaces/([^/]+)/${plural}(\\?.*)?$`);
      const allList = new RegExp(`^${prefix}/${plural}(\\?.*)?$`);
      const admin = (h: Handler): Handler => (req, m) => (req.identity === 'admin' ? h(req, m) : undefined);
      if (plural === 'configmaps') {
        server.route('GET', one, (req, m) => {
          if (req.identity !== 'anonymous' || m[1] !== 'kube-public' || decodeURIComponent(m[2]!) !== 'cluster-info') return undefined;
          const o = this.objects.get('configmaps/kube-public/cluster-info');
          if (!this.anonymousClusterInfo) {
            return status(403, 'Forbidden', 'configmaps "cluster-info" is forbidden: User "system:anonymous" cannot get resource "configmaps" in API group "" in the namespace "kube-public"', { name: 'cluster-info', kind: 'configmaps' });
          }
          return o ? { status: 200, body: clone(o) } : objectError(plural, 'cluster-info', 404, 'NotFound');
        });
      }
      server.route('GET', one, admin((_r, m) => {
        const name = decodeURIComponent(m[2]!);
        const o = this.objects.get(`${plural}/${m[1]}/${name}`);
        return o ? { status: 200, body: clone(o) } : objectError(plural, name, 404, 'NotFound');
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
        const ns = body?.metadata?.namespace;
        if (ns && ns !== m[1]) return badRequest('the namespace of the provided object does not match the namespace sent on the request');
        if (!this.namespaces.has(m[1]!)) return status(404, 'NotFound', `namespaces "${m[1]}" not found`, { name: m[1], kind: 'namespaces' });
        const key = `${plural}/${m[1]}/${name}`;
        if (this.objects.has(key)) return objectError(plural, name, 409, 'AlreadyExists');
        const obj = this.put(plural, { ...body, metadata: { ...body.metadata, namespace: m[1] } });
        this.onChange?.(plural, obj, 'create');
        return { status: 201, body: clone(this.objects.get(key)) };
      }));
      server.route('PUT', one, admin((req, m) => {
        const name = decodeURIComponent(m[2]!);
        const key = `${plural}/${m[1]}/${name}`;
        if (req.body?.metadata?.name !== name) return badRequest(`the name of the object (${req.body?.metadata?.name}) does not match the name on the URL (${name})`);
        const ns = req.body?.metadata?.namespace;
        if (ns && ns !== m[1]) return badRequest('the namespace of the provided object does not match the namespace sent on the request');
        const cur = this.objects.get(key);
        if (!cur) return objectError(plural, name, 404, 'NotFound');
        const rv = req.body?.metadata?.resourceVersion;
        if (rv && rv !== cur.metadata.resourceVersion) return objectError(plural, name, 409, 'Conflict');
        const obj = this.put(plural, { ...req.body, metadata: { ...req.body.metadata, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp } });
        this.onChange?.(plural, obj, 'update');
        return { status: 200, body: clone(this.objects.get(key)) };
      }));
      server.route('PATCH', one, admin((req, m) => {
        const name = decodeURIComponent(m[2]!);
        const key = `${plural}/${m[1]}/${name}`;
        const cur = this.objects.get(key);
        if (!cur) return objectError(plural, name, 404, 'NotFound');
        if (req.contentType !== 'application/merge-patch+json') return status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        const obj = this.put(plural, mergePatch(cur, req.body));
        this.onChange?.(plural, obj, 'patch');
        return { status: 200, body: clone(this.objects.get(key)) };
      }));
      server.route('DELETE', one, admin((req, m) => {
        const name = decodeURIComponent(m[2]!);
        const key = `${plural}/${m[1]}/${name}`;
        const cur = this.objects.get(key);
        if (!cur) return objectError(plural, name, 404, 'NotFound');
        // DeleteOptions.preconditions.uid: another object under the name is a 409 (k8s.io/apiserver
        // storage.Preconditions.Check: "Precondition failed: UID in precondition: …, UID in object meta: …")
        const uid = req.body?.preconditions?.uid;
        if (uid && uid !== cur.metadata.uid) {
          return status(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${cur.metadata.uid}`, { name, kind: plural });
        }
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
    this.namespaces.add(o.metadata.namespace);
    // stringData is write-only: merged into data (base64), over the same keys (core/v1 Secret conversion)
    if (plural === 'secrets' && o.stringData) {
      o.data = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) o.data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
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
