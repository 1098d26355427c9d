/**
 * The etcd members a node's etcd data directory knows: `rm -rf /etc/kubernetes` leaves
 * `/var/lib/etcd` behind, and on a member of an HA control plane its database lists the
 * other members — the surest sign left that the etcd CA (and the cluster's CAs) live on
 * elsewhere. Read-only and bounded (pages and bytes); a database that is there but cannot be read
 * (damaged, truncated, another format) says so, as `unreadable`, rather than passing for a lone member.
 *
 * etcd (3.4+) keeps its member list in the bbolt file `member/snap/db`, bucket `members`
 * (key: member id in hex, value: the member as JSON), and removed ids in `members_removed`
 * (go.etcd.io/etcd/server/etcdserver/api/membership/store.go), read with bbolt.ts. Only the
 * pages on the way to those two buckets are read, never the whole file (an etcd database can be
 * gigabytes).
 */
import { openBbolt, type Bbolt } from './bbolt.js';
import type { NodeFs } from '../fs/node-fs.js';
import type { Inventory } from '../inventory/types.js';
import { kubeadmLeavesDue, nextStep } from '../inventory/next.js';
import { readManifestFacts, readText, MANIFEST_DIR } from './infer.js';
import { parseYamlFast as parseYaml } from '../kubeconfig/fast-yaml.js';
import { readSystemdService, parseEnvironmentFile, argvFlags } from '../inventory/systemd-unit.js';

/** What a systemd etcd's environment says of its cluster: this member's name, and the members in ETCD_INITIAL_CLUSTER's order. */
export interface EtcdInitialCluster {
  /** ETCD_NAME */
  self?: string;
  /** ETCD_INITIAL_CLUSTER, in its order (kubespray's: its etcd group's, first etcd host first) */
  initialCluster?: { name: string; url: string }[];
  /** the file that said so (/etc/etcd.env) */
  source?: string;
}

export interface EtcdMember { id: string; name: string; peerURLs: string[] }

/** a bound on the pages read, so a damaged file cannot make this loop */
const MAX_PAGES = 4096;
/**
 * a bound on the bytes read: the pages on the way to the member buckets are a few pages each (the root
 * bucket's leaf holds about ten buckets, the members a few hundred bytes each), while a damaged page header
 * can claim an overflow of gigabytes
 */
const MAX_BYTES = 16 << 20;

/**
 * What the etcd data directory `dataDir` (a node path) says of its members: undefined when it holds no
 * database; `unreadable` (with why) when the database is there but its member list cannot be read.
 */
export type EtcdData = { members: EtcdMember[]; unreadable?: undefined } | { members?: undefined; unreadable: string; db: string };

export function readEtcdMembers(nfs: NodeFs, dataDir: string): EtcdData | undefined {
  const db = `${dataDir.replace(/\/$/, '')}/member/snap/db`;
  if (!nfs.stat(db)?.isFile()) return undefined;
  const unreadable = (why: string): EtcdData => ({ unreadable: why, db });
  let bolt: Bbolt | undefined;
  try {
    const opened = openBbolt(nfs.hostPath(db), { bytes: MAX_BYTES, pages: MAX_PAGES, pageBytes: MAX_BYTES });
    if ('unreadable' in opened) return unreadable(opened.unreadable);
    const r = (bolt = opened);
    const members = r.lookup(r.root, 'members');
    if (!members?.isBucket) return unreadable('no members bucket');
    const removedBucket = r.lookup(r.root, 'members_removed');
    const removed = new Set(removedBucket?.isBucket ? r.entries(removedBucket.value).map(([k]) => k.toString('utf8')) : []);
    const out: EtcdMember[] = [];
    for (const [k, v] of r.entries(members.value)) {
      const id = k.toString('utf8');
      if (removed.has(id)) continue;
      try {
        const j = JSON.parse(v.toString('utf8')) as { name?: unknown; peerURLs?: unknown };
        const peerURLs = Array.isArray(j.peerURLs) ? j.peerURLs.filter((u): u is string => typeof u === 'string') : [];
        out.push({ id, name: typeof j.name === 'string' ? j.name : '', peerURLs });
      } catch { /* not a member record */ }
    }
    // (etcd lists itself at least: an empty list is damage, not a sign of a lone member)
    return out.length > 0 ? { members: out } : unreadable('no members listed');
  } catch (e) {
    // (our own bounds say what stopped; a page read out of its range is damage)
    return unreadable(e instanceof Error && /^(too |page )/.test(e.message) ? e.message : 'damaged pages');
  } finally {
    bolt?.close();
  }
}

/** The members' names, sorted (a member added but never started has none yet: its peer URLs say which). */
export function memberNames(members: EtcdMember[]): string[] {
  return members.map((m) => m.name || `(unstarted ${m.peerURLs.join(' ')})`).sort();
}

/** The member names an --initial-cluster value (NAME=URL,…) lists, each once. */
export function initialClusterNames(value: string | undefined): string[] {
  return [...new Set(initialClusterEntries(value).map((e) => e.name).filter(Boolean))];
}

/** --initial-cluster / ETCD_INITIAL_CLUSTER (`NAME=URL,…`) as written, in its order: a part without `=` is a name without URL. */
function initialClusterEntries(value: string | undefined): { name: string; url: string }[] {
  return (value ?? '').split(',').map((m) => m.trim()).filter(Boolean)
    .map((m) => { const i = m.indexOf('='); return i < 0 ? { name: m, url: '' } : { name: m.slice(0, i).trim(), url: m.slice(i + 1).trim() }; });
}

/**
 * The etcd cluster this control-plane node's etcd belongs to, for the advice around restarting it: the members
 * its data lists (the manifest's --data-dir, else kubeadm's /var/lib/etcd), else those its manifest's
 * --initial-cluster names; and the etcdctl command that asks every member, with the manifest's own endpoint
 * and the healthcheck-client certificate beside its CA. `gone`: files about to be removed (a restore undoing the
 * run that made them): the command names no file among them, so the advice holds after the removal.
 */
export function readNodeEtcdCluster(nfs: NodeFs, gone: ReadonlySet<string> = new Set()): ({ members: string[]; healthCommand: string } & EtcdInitialCluster) | undefined {
  const text = readText(nfs, `${MANIFEST_DIR}/etcd.yaml`);
  if (!text) {
    const other = readRancherEtcdCluster(nfs) ?? readSystemdEtcdCluster(nfs);
    if (other) return other;
  }
  const f = (text ? readManifestFacts(text)?.flags : undefined) ?? {};
  const data = readEtcdMembers(nfs, f['data-dir'] ?? '/var/lib/etcd')?.members;
  const members = data && data.length > 0 ? memberNames(data) : initialClusterNames(f['initial-cluster']);
  if (members.length === 0) return undefined;
  const endpoint = (f['listen-client-urls'] ?? f['advertise-client-urls'] ?? 'https://127.0.0.1:2379').split(',')[0]!;
  const dir = (f['trusted-ca-file'] ?? '/etc/kubernetes/pki/etcd/ca.crt').replace(/\/[^/]*$/, '');
  // kubeadm's healthcheck-client where this node has it; an etcd of another installer (kubespray's, under
  // systemd, /etc/ssl/etcd/ssl) has its own client certificates, which the operator names
  const creds = [`${dir}/ca.crt`, `${dir}/healthcheck-client.crt`, `${dir}/healthcheck-client.key`];
  const there = creds.every((c) => nfs.stat(c)?.isFile() === true);
  const removed = creds.filter((c) => gone.has(c));
  return {
    members,
    healthCommand: there && removed.length === 0
      ? `etcdctl --endpoints ${endpoint} --cacert ${creds[0]} --cert ${creds[1]} --key ${creds[2]} endpoint health --cluster`
      : `etcdctl --endpoints ${endpoint} --cacert CA --cert CERT --key KEY endpoint health --cluster, with etcd's CA and a client certificate it signed`
        + (removed.length > 0 ? ` (${removed.join(', ')} ${removed.length === 1 ? 'goes' : 'go'} with this restore: kubepki rebuild makes them again)` : ''),
  };
}

/**
 * Records on `inv` the members of this node's etcd when it has several (one control-plane node of an HA cluster),
 * and gives its Next again with them: what is due here is most likely due on the others too. A node with no etcd
 * (a worker, external etcd) or a lone member is left as it is.
 */
export function addEtcdMembers(inv: Inventory, nfs: NodeFs): void {
  if (!kubeadmLeavesDue(inv)) return;
  const members = readNodeEtcdCluster(nfs)?.members ?? [];
  if (members.length < 2) return;
  inv.etcdMembers = members;
  inv.next = nextStep(inv);
}

/**
 * k3s (with --cluster-init, or joined to such a server) and RKE2 run etcd inside their server unit, from the
 * config file they write at every start (server/db/etcd/config, etcd's YAML: data-dir, initial-cluster); the
 * members are in that data directory. Restarting the unit restarts this member, so an HA control plane loses
 * quorum when every server restarts at once, as with kubeadm's etcd. etcdctl reaches the members with the
 * client pair k3s's documentation names (server/tls/etcd/client.crt, signed by etcd/server-ca).
 */
function readRancherEtcdCluster(nfs: NodeFs): { members: string[]; healthCommand: string } | undefined {
  for (const distro of ['k3s', 'rke2']) {
    const server = `/var/lib/rancher/${distro}/server`;
    const text = readText(nfs, `${server}/db/etcd/config`);
    if (!text) continue;
    let cfg: Record<string, unknown> | undefined;
    // (a key written twice keeps its last value, as etcd's lenient decoder does)
    try { cfg = parseYaml(text, { uniqueKeys: false }) as Record<string, unknown>; } catch { return undefined; }
    const str = (k: string) => (typeof cfg?.[k] === 'string' ? cfg[k] as string : undefined);
    const data = readEtcdMembers(nfs, str('data-dir') ?? `${server}/db/etcd`)?.members;
    const members = data && data.length > 0 ? memberNames(data) : initialClusterNames(str('initial-cluster'));
    if (members.length === 0) return undefined;
    const tls = `${server}/tls/etcd`;
    return { members, healthCommand: `etcdctl --endpoints https://127.0.0.1:2379 --cacert ${tls}/server-ca.crt --cert ${tls}/client.crt --key ${tls}/client.key endpoint health --cluster` };
  }
  return undefined;
}

/** etcd under systemd: its settings, flags of ExecStart= over the ETCD_* of its environment (as etcd takes them). */
export interface SystemdEtcdSettings {
  /** ETCD_NAME / --name: this member's name */
  name?: string;
  dataDir?: string;
  /** ETCD_INITIAL_CLUSTER / --initial-cluster, as written (NAME=URL,…) */
  initialCluster?: string;
  listenClientUrls?: string;
  advertiseClientUrls?: string;
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  /** where they were read (the unit's environment file, else the usual file no unit named) */
  source: string;
}

/**
 * etcd run by systemd (kubespray's default etcd_deployment_type `host`: etcd.service with
 * EnvironmentFile=/etc/etcd.env, roles/etcd/templates/etcd.env.j2; distro packages' /etc/default/etcd): the
 * settings its unit and environment give it. Without the unit, the usual environment files are read, as
 * readComponentRefs does for the certificates.
 */
export function readSystemdEtcd(nfs: NodeFs): SystemdEtcdSettings | undefined {
  const unit = readSystemdService(nfs, 'etcd.service');
  const env = new Map<string, string>();
  let source = unit?.source;
  if (unit) for (const [k, { value }] of unit.env) env.set(k, value);
  else {
    for (const file of ['/etc/etcd.env', '/etc/default/etcd', '/etc/etcd/etcd.conf']) {
      const text = readText(nfs, file);
      if (text === undefined) continue;
      for (const [k, v] of parseEnvironmentFile(text)) env.set(k.replace(/^export[ \t]+/, ''), v);
      source = file;
      break;
    }
  }
  if (!source) return undefined;
  if (unit?.envFiles.length) source = unit.envFiles[0]!;
  const flags = unit ? argvFlags(unit.argv) : [];
  // (etcd: a flag set on the command line shadows the ETCD_* variable of the same setting)
  const get = (flag: string, key: string) => flags.findLast((f) => f.flag === `--${flag}`)?.value ?? (env.get(key) || undefined);
  const out: SystemdEtcdSettings = { source };
  const set = (field: Exclude<keyof SystemdEtcdSettings, 'source'>, flag: string, key: string) => { const v = get(flag, key); if (v !== undefined) out[field] = v; };
  set('name', 'name', 'ETCD_NAME');
  set('dataDir', 'data-dir', 'ETCD_DATA_DIR');
  set('initialCluster', 'initial-cluster', 'ETCD_INITIAL_CLUSTER');
  set('listenClientUrls', 'listen-client-urls', 'ETCD_LISTEN_CLIENT_URLS');
  set('advertiseClientUrls', 'advertise-client-urls', 'ETCD_ADVERTISE_CLIENT_URLS');
  set('certFile', 'cert-file', 'ETCD_CERT_FILE');
  set('keyFile', 'key-file', 'ETCD_KEY_FILE');
  set('trustedCaFile', 'trusted-ca-file', 'ETCD_TRUSTED_CA_FILE');
  return out;
}

/**
 * The members of a systemd etcd (kubespray's, whose tree often has no /var/lib/etcd to read): its data, else
 * ETCD_INITIAL_CLUSTER, which kubespray writes with every host of its etcd group. etcdctl asks them with
 * kubespray's member pair, which make-ssl-etcd.sh signs for client auth too (its openssl.conf: clientAuth,
 * serverAuth) and its own "Wait for etcd up" handler presents (roles/etcd/handlers/main.yml); another etcd's
 * serving pair need not be a client certificate, so the operator names one.
 */
function readSystemdEtcdCluster(nfs: NodeFs): ({ members: string[]; healthCommand: string } & EtcdInitialCluster) | undefined {
  const s = readSystemdEtcd(nfs);
  if (!s) return undefined;
  const data = s.dataDir ? readEtcdMembers(nfs, s.dataDir)?.members : undefined;
  const members = data && data.length > 0 ? memberNames(data) : initialClusterNames(s.initialCluster);
  if (members.length === 0) return undefined;
  const urls = (s.listenClientUrls ?? s.advertiseClientUrls ?? 'https://127.0.0.1:2379').split(',').map((u) => u.trim()).filter(Boolean);
  const endpoint = urls.find((u) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u)) ?? urls[0] ?? 'https://127.0.0.1:2379';
  const kubespray = s.certFile && s.keyFile && s.trustedCaFile && /\/member-[^/]+\.pem$/.test(s.certFile);
  const initialCluster = initialClusterEntries(s.initialCluster);
  return {
    ...(s.name ? { self: s.name } : {}),
    ...(initialCluster.length ? { initialCluster } : {}),
    source: s.source,
    members,
    healthCommand: kubespray
      ? `etcdctl --endpoints ${endpoint} --cacert ${s.trustedCaFile} --cert ${s.certFile} --key ${s.keyFile} endpoint health --cluster`
      : `etcdctl --endpoints ${endpoint} --cacert CA --cert CERT --key KEY endpoint health --cluster, with etcd's CA and a client certificate it signed`,
  };
}
