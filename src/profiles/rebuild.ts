/**
 * The kubeadm certificate and kubeconfig table for CREATING files (spec §1–3):
 * subjects per release, usages, SAN rules in kubeadm's order with its
 * de-duplication, validity and key types. Where each file lives and its UX
 * names come from `profiles/kubeadm.ts` (the reading side); this file adds
 * only what creation needs. Pure: no I/O, no clock.
 */
import { isIP } from 'node:net';
import { kubeadmProfile, type KubeadmCertProfile } from './kubeadm.js';
import { dnsNameProblem } from '../pki/san-validate.js';

export type KeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256' | 'ecdsa-p384';
export const KEY_TYPES: KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384'];

/** kubeadm `encryptionAlgorithm` (v1beta4) → our key type; empty means RSA-2048. */
export function keyTypeFromEncryptionAlgorithm(v: string | undefined): KeyType | undefined {
  switch ((v ?? '').toUpperCase()) {
    case '': case 'RSA-2048': return 'rsa-2048';
    case 'RSA-3072': return 'rsa-3072';
    case 'RSA-4096': return 'rsa-4096';
    case 'ECDSA-P256': return 'ecdsa-p256';
    case 'ECDSA-P384': return 'ecdsa-p384';
    default: return undefined;
  }
}

export function parseKeyType(v: string): KeyType | undefined {
  const k = v.toLowerCase();
  return (KEY_TYPES as string[]).includes(k) ? (k as KeyType) : keyTypeFromEncryptionAlgorithm(v);
}

/** Everything the table needs to fill in run-time values (spec §1.2, §2). */
export interface ClusterFacts {
  nodeName: string;
  advertiseAddress: string;
  bindPort: number;
  /** host[:port], or empty */
  controlPlaneEndpoint: string;
  /** comma-separated CIDRs */
  serviceSubnet: string;
  dnsDomain: string;
  certSANs: string[];
  etcdServerCertSANs: string[];
  etcdPeerCertSANs: string[];
  clusterName: string;
  /** `v1.26.1` */
  kubernetesVersion: string;
  externalEtcd: boolean;
}

export interface KubeVersion { major: number; minor: number; patch: number }

export function parseKubeVersion(v: string): KubeVersion | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function minorOf(version: string): number {
  const v = parseKubeVersion(version);
  return v ? (v.major > 1 ? 1000 : v.minor) : 1000;
}

export type Usage = 'serverAuth' | 'clientAuth';

export interface SanSet { dns: string[]; ips: string[] }

export interface RebuildCertSpec {
  /** CLI name, as in profiles/kubeadm.ts (`apiserver`, `etcd-peer`, `ca` …) */
  name: string;
  /** the reading profile: base name, long name, CA name */
  profile: KubeadmCertProfile;
  isCA: boolean;
  /** CA name; undefined for the self-signed CAs */
  caName?: string;
  cn(f: ClusterFacts): string;
  /** Organizations for the release being rebuilt (spec §1.1 ≤1.28 / ≥1.29) */
  o(f: ClusterFacts): string[];
  usages: Usage[];
  sans(f: ClusterFacts, warnings?: string[]): SanSet;
  etcd: boolean;
}

const none = (): SanSet => ({ dns: [], ips: [] });
const oldMasters = (f: ClusterFacts) => (minorOf(f.kubernetesVersion) <= 28 ? ['system:masters'] : []);

function profile(name: string): KubeadmCertProfile {
  const p = kubeadmProfile(name);
  if (!p) throw new Error(`internal: no kubeadm profile named ${name}`);
  return p;
}

function caSpec(name: string, cn: string, etcd: boolean): RebuildCertSpec {
  return {
    name, profile: profile(name), isCA: true, cn: () => cn, o: () => [], usages: [],
    // CA certs carry their CN as a DNS SAN (spec §1.1)
    sans: () => ({ dns: [cn], ips: [] }), etcd,
  };
}

/**
 * In kubeadm's creation order (certlist.go: ca, apiserver, apiserver-kubelet-client,
 * front-proxy-ca, front-proxy-client, etcd-ca, etcd-server, etcd-peer,
 * etcd-healthcheck-client, apiserver-etcd-client).
 */
export const REBUILD_CERTS: RebuildCertSpec[] = [
  caSpec('ca', 'kubernetes', false),
  { name: 'apiserver', profile: profile('apiserver'), isCA: false, caName: 'ca', cn: () => 'kube-apiserver', o: () => [], usages: ['serverAuth'], sans: apiserverSans, etcd: false },
  {
    name: 'apiserver-kubelet-client', profile: profile('apiserver-kubelet-client'), isCA: false, caName: 'ca', cn: () => 'kube-apiserver-kubelet-client',
    o: (f) => (minorOf(f.kubernetesVersion) <= 28 ? ['system:masters'] : ['kubeadm:cluster-admins']), usages: ['clientAuth'], sans: none, etcd: false,
  },
  caSpec('front-proxy-ca', 'front-proxy-ca', false),
  { name: 'front-proxy-client', profile: profile('front-proxy-client'), isCA: false, caName: 'front-proxy-ca', cn: () => 'front-proxy-client', o: () => [], usages: ['clientAuth'], sans: none, etcd: false },
  caSpec('etcd-ca', 'etcd-ca', true),
  { name: 'etcd-server', profile: profile('etcd-server'), isCA: false, caName: 'etcd-ca', cn: (f) => f.nodeName, o: () => [], usages: ['serverAuth', 'clientAuth'], sans: (f, w) => etcdSans(f, f.etcdServerCertSANs, w), etcd: true },
  { name: 'etcd-peer', profile: profile('etcd-peer'), isCA: false, caName: 'etcd-ca', cn: (f) => f.nodeName, o: () => [], usages: ['serverAuth', 'clientAuth'], sans: (f, w) => etcdSans(f, f.etcdPeerCertSANs, w), etcd: true },
  { name: 'etcd-healthcheck-client', profile: profile('etcd-healthcheck-client'), isCA: false, caName: 'etcd-ca', cn: () => 'kube-etcd-healthcheck-client', o: oldMasters, usages: ['clientAuth'], sans: none, etcd: true },
  { name: 'apiserver-etcd-client', profile: profile('apiserver-etcd-client'), isCA: false, caName: 'etcd-ca', cn: () => 'kube-apiserver-etcd-client', o: oldMasters, usages: ['clientAuth'], sans: none, etcd: true },
];

/** The certificates a node of this configuration needs (external etcd drops the etcd ones). */
export function certsFor(f: ClusterFacts): RebuildCertSpec[] {
  return REBUILD_CERTS.filter((c) => !(c.etcd && f.externalEtcd));
}

export interface RebuildKubeconfigSpec {
  name: string;
  /** file name under /etc/kubernetes */
  file: string;
  cn(f: ClusterFacts): string;
  o(f: ClusterFacts): string[];
  /** which server URL (spec §2): the control-plane endpoint or the local API endpoint */
  server: 'controlPlane' | 'local';
  /** first kubeadm minor that writes it */
  since?: number;
}

/** In kubeadm's order (kubeconfig.go: admin, super-admin, kubelet, controller-manager, scheduler). */
export const REBUILD_KUBECONFIGS: RebuildKubeconfigSpec[] = [
  { name: 'admin.conf', file: 'admin.conf', cn: () => 'kubernetes-admin', o: (f) => (minorOf(f.kubernetesVersion) <= 28 ? ['system:masters'] : ['kubeadm:cluster-admins']), server: 'controlPlane' },
  { name: 'super-admin.conf', file: 'super-admin.conf', cn: () => 'kubernetes-super-admin', o: () => ['system:masters'], server: 'controlPlane', since: 29 },
  { name: 'kubelet.conf', file: 'kubelet.conf', cn: (f) => `system:node:${f.nodeName}`, o: () => ['system:nodes'], server: 'controlPlane' },
  { name: 'controller-manager.conf', file: 'controller-manager.conf', cn: () => 'system:kube-controller-manager', o: () => [], server: 'local' },
  { name: 'scheduler.conf', file: 'scheduler.conf', cn: () => 'system:kube-scheduler', o: () => [], server: 'local' },
];

/**
 * The kubeconfigs kubeadm writes for this version, plus one of a later release that is on the node anyway
 * (`present(file)`): a super-admin.conf beside a version read as older (an upgraded node, a guess from
 * images) is still a credential signed by the cluster CA, so it is checked and re-signed with the others
 * instead of being left behind, signed by a CA the cluster no longer trusts.
 */
export function kubeconfigsFor(f: ClusterFacts, present: (file: string) => boolean = () => false): RebuildKubeconfigSpec[] {
  const minor = minorOf(f.kubernetesVersion);
  return REBUILD_KUBECONFIGS.filter((k) => k.since === undefined || minor >= k.since || present(k.file));
}

/** Server URL of a kubeconfig (spec §2, "Endpoint strings"). ControlPlaneKubeletLocalMode (on by default ≥1.33) points kubelet.conf at the local endpoint. */
export function kubeconfigServer(spec: RebuildKubeconfigSpec, f: ClusterFacts): string {
  if (spec.server === 'local') return localEndpoint(f);
  if (spec.name === 'kubelet.conf' && minorOf(f.kubernetesVersion) >= 33) return localEndpoint(f);
  return controlPlaneEndpointUrl(f);
}

export function hostPort(host: string, port: number | string): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function localEndpoint(f: ClusterFacts): string {
  return `https://${hostPort(f.advertiseAddress, f.bindPort)}`;
}

/** Split `host[:port]`, `[v6]:port` or a bare IPv6 address. */
export function splitHostPort(s: string): { host: string; port?: number } {
  const t = s.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  if (isIP(t) === 6) return { host: t };
  const i = t.lastIndexOf(':');
  if (i > 0 && /^\d+$/.test(t.slice(i + 1))) return { host: t.slice(0, i), port: Number(t.slice(i + 1)) };
  return { host: t };
}

/**
 * Why `host[:port]` is not a usable control-plane endpoint (it becomes an apiserver SAN and the
 * kubeconfigs' server URL), or undefined: the host must be an IP address or an RFC 1123 DNS name
 * (no wildcard), the port 1-65535.
 */
export function endpointProblem(v: string): string | undefined {
  const t = v.trim();
  if (t === '') return 'it is empty';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t) || t.includes('/')) return 'give host[:port] without a scheme or path';
  let host: string, port: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (v6) { host = v6[1]!; port = v6[2]; if (isIP(host) !== 6) return `${JSON.stringify(host)} is not an IPv6 address`; }
  else if (isIP(t) === 6) { host = t; }
  else {
    const i = t.lastIndexOf(':');
    host = i >= 0 ? t.slice(0, i) : t;
    port = i >= 0 ? t.slice(i + 1) : undefined;
    if (!isIP(host)) {
      if (/^[0-9.]+$/.test(host)) return `${JSON.stringify(host)} is not a valid IPv4 address`;
      if (host.startsWith('*')) return 'a wildcard is not a host';
      const p = dnsNameProblem(host);
      if (p) return `host ${JSON.stringify(host)} is not a valid DNS name: ${p}`;
    }
  }
  if (port !== undefined) {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(n >= 1 && n <= 65535)) return `port ${JSON.stringify(port)} is not 1-65535`;
  }
  return undefined;
}

export function controlPlaneEndpointUrl(f: ClusterFacts): string {
  if (!f.controlPlaneEndpoint) return localEndpoint(f);
  const { host, port } = splitHostPort(f.controlPlaneEndpoint);
  return `https://${hostPort(host, port ?? f.bindPort)}`;
}

// ---- SANs (spec §1.2) ----

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && SUBDOMAIN.test(s);
}

/** Canonical string form of an IP (Go's net.IP.String): IPv6 compressed and lower-case. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) === 6) {
    const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (v4mapped) return v4mapped[1]!;
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  }
  return ip;
}

/** kubeadm's appendSANsToAltNames: IP → IPs, subdomain or wildcard → DNS, anything else skipped with a warning. */
export function classifySans(entries: string[], into: SanSet, warnings?: string[], what = 'certSANs'): void {
  for (const raw of entries) {
    const s = raw.trim();
    if (!s) continue;
    if (isIP(s)) into.ips.push(canonicalIp(s));
    else if (!dnsNameProblem(s)) into.dns.push(s);
    else warnings?.push(`${what}: ${JSON.stringify(s)} is neither an IP address nor a valid DNS name; skipped (as kubeadm does)`);
  }
}

/** De-duplication as kubeadm does when signing: DNS names as a sorted set, IPs in first-seen order. */
export function dedupSans(s: SanSet): SanSet {
  const dns = [...new Set(s.dns)].sort();
  const seen = new Set<string>();
  const ips: string[] = [];
  for (const ip of s.ips.map(canonicalIp)) if (!seen.has(ip)) { seen.add(ip); ips.push(ip); }
  return { dns, ips };
}

/** First usable IP (network + 1) of the first CIDR in a comma-separated list. */
export function firstServiceIp(serviceSubnet: string): string {
  const first = serviceSubnet.split(',')[0]!.trim();
  const [addr, bitsStr] = first.split('/');
  const fam = isIP(addr ?? '');
  const bits = Number(bitsStr);
  if (!fam || !Number.isInteger(bits)) throw new Error(`invalid service subnet ${JSON.stringify(first)}`);
  const width = fam === 4 ? 32 : 128;
  if (bits < 0 || bits > width) throw new Error(`invalid service subnet ${JSON.stringify(first)}`);
  let n = ipToBigInt(addr!);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  n = (n & mask) + 1n;
  return bigIntToIp(n, fam);
}

/** Whether an IP address lies in the first CIDR of a comma-separated list (the one kubeadm takes the Service IPs from). */
export function inFirstServiceCidr(ip: string, serviceSubnet: string): boolean {
  const [addr, bitsStr] = serviceSubnet.split(',')[0]!.trim().split('/');
  const fam = isIP(addr ?? '');
  if (!fam || isIP(ip) !== fam) return false;
  const width = fam === 4 ? 32 : 128;
  const bits = Number(bitsStr);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return false;
  const shift = BigInt(width - bits);
  return ipToBigInt(ip) >> shift === ipToBigInt(addr!) >> shift;
}

function ipToBigInt(ip: string): bigint {
  if (isIP(ip) === 4) return ip.split('.').reduce((a, p) => (a << 8n) + BigInt(Number(p)), 0n);
  const full = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = full.includes('::') ? full.split('::') : [full, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function bigIntToIp(n: bigint, fam: number): string {
  if (fam === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':'));
}

export function apiserverSans(f: ClusterFacts, warnings?: string[]): SanSet {
  const s: SanSet = {
    dns: [f.nodeName, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${f.dnsDomain}`],
    ips: [firstServiceIp(f.serviceSubnet), f.advertiseAddress],
  };
  if (f.controlPlaneEndpoint) {
    const { host } = splitHostPort(f.controlPlaneEndpoint);
    if (isIP(host)) s.ips.push(canonicalIp(host));
    else s.dns.push(host);
  }
  classifySans(f.certSANs, s, warnings, 'apiServer.certSANs');
  return dedupSans(s);
}

export function etcdSans(f: ClusterFacts, extra: string[], warnings?: string[]): SanSet {
  const s: SanSet = { dns: [f.nodeName, 'localhost'], ips: [f.advertiseAddress, '127.0.0.1', '::1'] };
  classifySans(extra, s, warnings, 'etcd certSANs');
  return dedupSans(s);
}

// ---- validity (spec §1.3) ----

export const HOUR_MS = 3600_000;
export const DEFAULT_LEAF_VALIDITY_MS = 8760 * HOUR_MS;
export const DEFAULT_CA_VALIDITY_MS = 87600 * HOUR_MS;
export const BACKDATE_MS = 5 * 60_000;

function wholeSeconds(ms: number): Date { return new Date(Math.floor(ms / 1000) * 1000); }

/** notBefore/notAfter of a new CA created at `now`. */
export function caValidity(version: string, now: Date, caValidityMs = DEFAULT_CA_VALIDITY_MS): { notBefore: Date; notAfter: Date } {
  const t = now.getTime();
  const backdate = minorOf(version) >= 31 ? BACKDATE_MS : 0;
  return { notBefore: wholeSeconds(t - backdate), notAfter: wholeSeconds(t + caValidityMs) };
}

/**
 * notBefore/notAfter of a new leaf. ≥1.31: start − 5 min for PKI certs; ≤1.30
 * and kubeconfig client certs: the CA's notBefore (spec §1.3).
 */
export function leafValidity(version: string, now: Date, caNotBefore: Date, opts: { kubeconfig?: boolean; validityMs?: number } = {}): { notBefore: Date; notAfter: Date } {
  const t = now.getTime();
  const notAfter = wholeSeconds(t + (opts.validityMs ?? DEFAULT_LEAF_VALIDITY_MS));
  const notBefore = minorOf(version) >= 31 && !opts.kubeconfig ? wholeSeconds(t - BACKDATE_MS) : wholeSeconds(caNotBefore.getTime());
  return { notBefore, notAfter };
}

/** Parse a Go-style duration (`8760h`, `8760h0m0s`, `90m`) or days/years (`365d`, `10y`) into ms. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (!/^(\d+(\.\d+)?(y|d|h|m|s|ms))+$/.test(t)) return undefined;
  const unit: Record<string, number> = { y: 365 * 24 * HOUR_MS, d: 24 * HOUR_MS, h: HOUR_MS, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|y|d|h|m|s)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total > 0 ? total : undefined;
}

/** Kubeadm's default image repository and etcd image tag per minor (constants.go SupportedEtcdVersion). */
export const DEFAULT_IMAGE_REPOSITORY = 'registry.k8s.io';
const ETCD_VERSIONS: Record<number, string> = {
  22: '3.5.6-0', 23: '3.5.6-0', 24: '3.5.6-0', 25: '3.5.6-0', 26: '3.5.6-0', 27: '3.5.7-0', 28: '3.5.9-0',
  29: '3.5.10-0', 30: '3.5.12-0', 31: '3.5.15-0', 32: '3.5.16-0', 33: '3.5.21-0', 34: '3.6.4-0',
};
export function defaultEtcdTag(version: string): string {
  const m = minorOf(version);
  return ETCD_VERSIONS[Math.min(Math.max(m, 22), 34)]!;
}
