/**
 * kubepki's CSR approval policy, as a pure function: a CSR object and the
 * cluster's Nodes in, a verdict and a reason out. Stricter than the
 * controller-manager's csrapproving (spec §7.3/§7.4) and than the common
 * kubelet-serving approvers: a serving certificate may name only the
 * requesting node's own addresses, so a node cannot get a certificate for a
 * peer's IP or for `kubernetes.default`.
 */
import { isIP } from 'node:net';
import { parsePemBlocks } from '../pki/pem.js';
import { sanString } from '../pki/san-validate.js';
import { parseCsr, csrSignatureValid as csrSignatureValidWith, type CsrInfo } from '../pki/csr.js';

export const SIGNER_KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';

/** The allowed `spec.usages` sets (spec §7.3), compared as sets. */
export const KUBELET_CLIENT_USAGES = [['digital signature', 'client auth'], ['digital signature', 'key encipherment', 'client auth']];
export const KUBELET_SERVING_USAGES = [['digital signature', 'server auth'], ['digital signature', 'key encipherment', 'server auth']];

/** The fields of a certificates.k8s.io/v1 CertificateSigningRequest the policy reads (typed or raw JSON). */
export interface CsrObject {
  metadata?: { name?: string; creationTimestamp?: Date | string; resourceVersion?: string };
  spec?: {
    /** base64 of the PEM request (as in the API JSON) */
    request?: string;
    signerName?: string;
    usages?: string[];
    username?: string;
    groups?: string[];
    expirationSeconds?: number;
  };
  status?: {
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    certificate?: string;
  };
}

export interface NodeObject {
  metadata?: { name?: string };
  status?: { addresses?: { type?: string; address?: string }[]; conditions?: { type?: string; status?: string }[] };
}

export type CsrKind = 'kubelet-client' | 'kubelet-serving' | 'other';

/**
 * - `valid`: passes the policy; `csr approve` approves it (a kubelet client CSR only once a
 *   SubjectAccessReview allows its requester, see csr-sar.ts)
 * - `invalid`: a kubelet CSR that breaks a rule; skipped (denied with `--deny-invalid`)
 * - `unauthorized`: a kubelet client CSR that passes the rules, but the API server's authorizer does
 *   not let its requester have it approved (set by `csr approve` and `csr list`, never by this pure policy); left pending
 * - `unreviewed`: a kubelet client CSR that passes the rules, but whose SubjectAccessReview could not be
 *   made (kubepki's user may not create one: 403; or 404): whether it may be approved is unknown; left pending
 * - `manual`: a signer kubepki never approves automatically
 * - `approved` / `denied` / `failed`: already decided
 */
export type CsrVerdict = 'valid' | 'invalid' | 'unauthorized' | 'unreviewed' | 'manual' | 'approved' | 'denied' | 'failed';

export interface CsrDecision {
  name: string;
  kind: CsrKind;
  signer: string;
  requester: string;
  subject: string;
  sans: string[];
  usages: string[];
  /** node the CSR is for (from CN system:node:<n>) */
  node?: string;
  verdict: CsrVerdict;
  /** one sentence; for `invalid`, every violation joined with `; ` */
  reason: string;
  violations: string[];
  issued: boolean;
}

export interface PolicyOptions {
  /** approve kubelet client CSRs for Nodes that do not exist yet (bootstrap of new nodes) */
  allowNewNodes?: boolean;
}

/** The signature algorithms a kubelet's request may use (Go's crypto/x509 refuses SHA-1). */
const SIG_HASH: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512', '1.3.101.112': null,
};

/** Proof of possession, with only the algorithms a kubelet's request may use (no SHA-1). */
export function csrSignatureValid(der: Uint8Array, spki: Uint8Array): boolean {
  return csrSignatureValidWith(der, spki, SIG_HASH);
}

function decode(csr: CsrObject): CsrInfo {
  const req = csr.spec?.request;
  if (!req) throw new Error('spec.request is empty');
  const text = Buffer.from(req, 'base64').toString('utf8');
  const block = parsePemBlocks(text).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
  if (!block) throw new Error('spec.request holds no PEM CERTIFICATE REQUEST');
  const info = parseCsr(block.der);
  if (!csrSignatureValid(block.der, info.spki)) throw new Error('its signature does not verify with the key it requests (or uses an unsupported algorithm)');
  return info;
}


/** Canonical text of an IP address (IPv6 expanded), or undefined. */
export function normalizeIp(ip: string): string | undefined {
  const v = isIP(ip);
  if (v === 4) return ip.split('.').map((p) => String(Number(p))).join('.');
  if (v !== 6) return undefined;
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function sameSet(a: string[], b: string[]): boolean {
  if (new Set(a).size !== a.length) return false;
  return a.length === b.length && b.every((x) => a.includes(x));
}

function conditionVerdict(csr: CsrObject): CsrVerdict | undefined {
  const conds = csr.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status !== 'False');
  if (has('Failed')) return 'failed';
  if (has('Denied')) return 'denied';
  if (has('Approved')) return 'approved';
  return undefined;
}

/**
 * Judge one CSR. Pure: the Node list is the caller's snapshot. Already
 * decided CSRs report their state; the policy is still evaluated for the
 * reason so `csr list` can show what kubepki thinks of an approved CSR.
 */
export function evaluateCsr(csr: CsrObject, nodes: NodeObject[], opts: PolicyOptions = {}): CsrDecision {
  const name = csr.metadata?.name ?? '';
  const signer = csr.spec?.signerName ?? '';
  const usages = csr.spec?.usages ?? [];
  const requester = csr.spec?.username ?? '';
  const groups = csr.spec?.groups ?? [];
  const kind: CsrKind = signer === SIGNER_KUBELET_CLIENT ? 'kubelet-client' : signer === SIGNER_KUBELET_SERVING ? 'kubelet-serving' : 'other';
  const base = { name, kind, signer, requester, usages, issued: Boolean(csr.status?.certificate) };
  const decided = conditionVerdict(csr);

  let info: CsrInfo;
  try {
    info = decode(csr);
  } catch (e) {
    const reason = `spec.request cannot be read: ${(e as Error).message}`;
    return { ...base, subject: '', sans: [], verdict: decided ?? (kind === 'other' ? 'manual' : 'invalid'), reason, violations: [reason] };
  }
  const cn = info.subject.filter((a) => a.type === 'CN').map((a) => a.value);
  const orgs = info.subject.filter((a) => a.type === 'O').map((a) => a.value);
  const sans = info.sans.map(sanString);
  const common = { ...base, subject: info.subjectString, sans };

  if (kind === 'other') {
    const reason = `signer ${signer || '(none)'} is never approved automatically by kubepki; approve it by hand after checking it (kubectl certificate approve ${name})`;
    return { ...common, verdict: decided ?? 'manual', reason, violations: [] };
  }

  const v: string[] = [];
  const nodeName = cn.length === 1 && cn[0]!.startsWith('system:node:') ? cn[0]!.slice('system:node:'.length) : undefined;
  if (cn.length !== 1 || !nodeName) v.push(`subject CN must be system:node:<node name>, got ${cn.length ? cn.map((c) => JSON.stringify(c)).join(', ') : 'none'}`);
  if (!(orgs.length === 1 && orgs[0] === 'system:nodes')) v.push(`subject O must be exactly system:nodes, got ${orgs.length ? orgs.map((o) => JSON.stringify(o)).join(', ') : 'none'}`);
  const node = nodeName ? nodes.find((n) => n.metadata?.name === nodeName) : undefined;
  const allowed = kind === 'kubelet-client' ? KUBELET_CLIENT_USAGES : KUBELET_SERVING_USAGES;
  if (!allowed.some((set) => sameSet(usages, set))) {
    v.push(`usages [${usages.join(', ')}] are not an allowed set (${allowed.map((s) => `[${s.join(', ')}]`).join(' or ')})`);
  }

  // the node itself (a client renewal: csrapproving's selfnodeclient needs username == CN, and kubeadm grants
  // that permission to the group system:nodes only, kubeadm:node-autoapprove-certificate-rotation)
  const self = nodeName !== undefined && requester === `system:node:${nodeName}` && groups.includes('system:nodes');
  if (kind === 'kubelet-client') {
    if (info.sans.length) v.push(`a kubelet client certificate may have no SANs, got ${sans.join(', ')}`);
    const bootstrapper = requester.startsWith('system:bootstrap:') && groups.includes('system:bootstrappers');
    if (!self && !bootstrapper) v.push(`requester ${requester || '(none)'}${groups.length ? ` (groups ${groups.join(', ')})` : ''} is neither the node system:node:${nodeName ?? '?'} in group system:nodes nor a bootstrap token (system:bootstrap:<id> in system:bootstrappers)`);
    if (nodeName && !node && !opts.allowNewNodes) v.push(`Node ${nodeName} does not exist (pass --allow-new-nodes to approve client certificates for joining nodes)`);
    // a bootstrap token must not take over the identity of a node that is alive (kubeadm join refuses the same)
    if (!self && bootstrapper && node && (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) {
      v.push(`Node ${nodeName} exists and is Ready: a bootstrap token may not take over a live node's identity (delete the Node first if it is being re-joined)`);
    }
  } else {
    if (!self) {
      v.push(`requester ${requester || '(none)'} is not the node system:node:${nodeName ?? '?'} itself`);
    }
    const bad = info.sans.filter((s) => s.type !== 'dns' && s.type !== 'ip');
    for (const s of bad) v.push(`SAN ${sanString(s)} is not allowed in a kubelet serving certificate (only DNS and IP)`);
    const dnsIp = info.sans.filter((s) => s.type === 'dns' || s.type === 'ip');
    if (dnsIp.length === 0) v.push('a kubelet serving certificate needs at least one DNS or IP SAN');
    if (nodeName && !node) {
      v.push(`Node ${nodeName} does not exist, so its addresses cannot be checked`);
    } else if (node) {
      const addrs = node.status?.addresses ?? [];
      const ips = new Set(addrs.map((a) => normalizeIp(a.address ?? '')).filter((x): x is string => Boolean(x)));
      const names = new Set(addrs.filter((a) => !normalizeIp(a.address ?? '')).map((a) => (a.address ?? '').toLowerCase()));
      const shown = addrs.map((a) => `${a.type} ${a.address}`).join(', ') || 'none';
      let foreign = 0;
      for (const s of dnsIp) {
        const ok = s.type === 'ip' ? ips.has(normalizeIp(s.value) ?? s.value) : names.has(s.value.toLowerCase());
        if (!ok) {
          // say whose it is: another Node's address, or the API server's own name, means impersonation
          const owner = nodes.find((n) => n !== node && (n.status?.addresses ?? []).some((a) =>
            s.type === 'ip' ? normalizeIp(a.address ?? '') === (normalizeIp(s.value) ?? s.value) : (a.address ?? '').toLowerCase() === s.value.toLowerCase()));
          const whose = owner ? ` — it is Node ${owner.metadata?.name}'s` : s.type === 'dns' && /^kubernetes(\.default(\.svc(\..*)?)?)?$/i.test(s.value) ? ' — it is the API server\'s name' : '';
          v.push(`SAN ${sanString(s)} is not an address of Node ${nodeName}${whose}`);
          foreign++;
        }
      }
      if (foreign) v[v.length - 1] += ` (its addresses: ${shown})`;
    }
  }

  const verdict: CsrVerdict = decided ?? (v.length ? 'invalid' : 'valid');
  const reason = v.length
    ? v.join('; ')
    : kind === 'kubelet-client'
      ? `kubelet client certificate for ${node ? 'Node' : 'new node'} ${nodeName}, requested by ${requester === `system:node:${nodeName}` ? 'the node itself' : `bootstrap token user ${requester}`}`
      : `kubelet serving certificate for Node ${nodeName}; every SAN is one of its addresses`;
  return { ...common, node: nodeName, verdict, reason, violations: v };
}
