/**
 * What on the node says the cluster exists beyond it: the etcd manifest's
 * membership flags, the kubeconfigs' server and embedded CA, the kubelet's
 * clientCAFile and client certificate. `planRebuild` refuses to make new
 * shared material (CAs, sa.key) when any of it is there. Read-only.
 */
import { parse as parseYaml } from 'yaml';
import type { NodeFs } from '../fs/node-fs.js';
import { currentEntries, clusterCa } from '../kubeconfig/client-cert.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { localEndpoint } from '../profiles/rebuild.js';
import type { ClusterEvidence } from '../plan/rebuild.js';
import type { RebuildSettings } from './settings.js';
import { readManifestFacts, readText, MANIFEST_DIR, KUBELET_CONFIG, KUBELET_CLIENT_CURRENT } from './infer.js';
import { readEtcdMembers, memberNames, initialClusterNames } from './etcd-members.js';
import { defaultBackupRoot, readManifest, scanBackups } from '../apply/transaction.js';

/** kubeconfigs kubeadm leaves in /etc/kubernetes: any of them may still carry the cluster CA. */
const KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf', 'controller-manager.conf', 'scheduler.conf'];

function firstCert(text: string | undefined): Certificate | undefined {
  if (!text) return undefined;
  try {
    const b = parsePemBlocks(text).find((x) => x.label === 'CERTIFICATE');
    return b ? new Certificate(b.der) : undefined;
  } catch { return undefined; }
}

interface KubeconfigFacts { server?: string; user?: string; ca?: Certificate }

/**
 * server, user and CA of a kubeconfig's current context (the first entry where a name finds none: any
 * copy of the cluster CA is a sign, whichever context would use it). The CA is read as client-go reads
 * it: non-empty data, else the file, a relative one taken from the kubeconfig's directory.
 */
function kubeconfigFacts(fs: NodeFs, p: string, text: string): KubeconfigFacts {
  try {
    const { context, cluster } = currentEntries(parseYaml(text), { orFirst: true });
    const cl = cluster?.cluster;
    let ca: Certificate | undefined;
    try { ca = clusterCa(cluster, { kubeconfig: p, read: (f) => fs.readFile(f).toString('utf8') }).cert; } catch { /* no CA: the server and user still count */ }
    const user = context?.context?.user;
    return { server: typeof cl?.server === 'string' ? cl.server : undefined, user: typeof user === 'string' ? user : undefined, ca };
  } catch { return {}; }
}

export function readClusterEvidence(fs: NodeFs, s: RebuildSettings): ClusterEvidence {
  const ev: ClusterEvidence = { joined: [], peers: [], caCopies: [] };
  const pki = s.certificatesDir.replace(/\/$/, '');

  // etcd: kubeadm join --control-plane writes --initial-cluster-state=existing and the members known then
  if (!s.externalEtcd) {
    const etcd = `${MANIFEST_DIR}/etcd.yaml`;
    const text = readText(fs, etcd);
    const f = text ? readManifestFacts(text)?.flags : undefined;
    if (f?.['initial-cluster-state'] === 'existing') ev.joined.push(`etcd.yaml has --initial-cluster-state=existing`);
    const members = initialClusterNames(f?.['initial-cluster']);
    if (members.length > 1) {
      // kubeadm init lists only itself; a member that joined lists the members known then
      const why = `etcd.yaml --initial-cluster lists ${members.length} members (${members.join(', ')})`;
      ev.peers.push(why);
      ev.joined.push(why);
    }
    // rm -rf /etc/kubernetes leaves the etcd data behind: its member list names the other members
    // (a database that is there but cannot be read is no sign of a lone member: new etcd and cluster CAs on
    // one of several members would cut it off, so it counts until --new-ca says otherwise)
    const data = readEtcdMembers(fs, s.etcdDataDir);
    if (data?.unreadable !== undefined) {
      ev.peers.push(`${s.etcdDataDir} holds etcd data whose member list cannot be read (${data.db}: ${data.unreadable}), so this node may be one of several members`);
    } else if (data) {
      if (data.members.length > 0) ev.etcdMembers = data.members;
      if (data.members.length > 1) {
        ev.peers.push(`${s.etcdDataDir} (this node's etcd data) lists ${data.members.length} members (${memberNames(data.members).join(', ')})`);
      }
    }
  }

  // the etcd CA came from another control-plane node: `kubepki ca import` wrote it here (its backup says so), and
  // upload-certs' material carries the etcd CA for stacked etcd, whose members share it: that node's etcd is a
  // member of this node's cluster (a fresh one-member etcd here would be a second, empty cluster)
  if (!s.externalEtcd) {
    const imported = importedEtcdCa(fs, `${pki}/etcd/ca.crt`);
    if (imported) ev.peers.push(`${pki}/etcd/ca.crt came from another control-plane node (kubepki ca import, backup ${imported}), whose etcd is a member of this node's cluster`);
  }

  // external etcd keeps the cluster's state (its objects, the tokens signed with sa.key, the Nodes) off this node:
  // a client certificate for it that survived here says this node was part of a cluster that ran, as etcd data
  // left behind does with stacked etcd (without one, whether the etcd holds a cluster is not known here: a warning)
  const etcdClient = s.externalEtcd && s.etcdExternal.certFile ? firstCert(readText(fs, s.etcdExternal.certFile)) : undefined;
  if (etcdClient) {
    ev.peers.push(`etcd is external (${s.etcdExternal.endpoints.join(', ') || 'etcd.external'}) and ${s.etcdExternal.certFile}, this node's client certificate for it, is still here: the cluster's state is kept there`);
  }

  const local = localEndpoint(s);
  for (const file of KUBECONFIGS) {
    const p = `/etc/kubernetes/${file}`;
    const text = readText(fs, p);
    if (!text) continue;
    const k = kubeconfigFacts(fs, p, text);
    if (k.ca?.isCA) ev.caCopies.push({ path: p, cert: k.ca });
    // TLS bootstrap (kubeadm join) leaves kubelet.conf with the user `default-auth`; kubeadm init writes system:node:NAME
    if (file === 'kubelet.conf' && k.user === 'default-auth') ev.joined.push('kubelet.conf has the user default-auth, as the kubelet\'s TLS bootstrap after kubeadm join writes it');
    if ((file === 'kubelet.conf' || file === 'admin.conf') && k.server) {
      const server = k.server.replace(/\/$/, '');
      if (server !== local && !ev.peers.some((x) => x.includes(server))) ev.peers.push(`${file}'s server ${server} is a shared endpoint, not this node's ${local}`);
    }
  }

  // the kubelet's clientCAFile: the cluster CA, unless it is the ca.crt of the PKI dir being rebuilt
  const cfg = readText(fs, KUBELET_CONFIG);
  if (cfg) {
    try {
      const file = (parseYaml(cfg) as any)?.authentication?.x509?.clientCAFile;
      if (typeof file === 'string' && file && file !== `${pki}/ca.crt`) {
        const c = firstCert(readText(fs, file));
        if (c?.isCA) ev.caCopies.push({ path: `${file} (the kubelet's clientCAFile)`, cert: c });
      }
    } catch { /* a hint only */ }
  }
  const cur = firstCert(readText(fs, KUBELET_CLIENT_CURRENT));
  if (cur) ev.kubeletClient = { path: KUBELET_CLIENT_CURRENT, cert: cur };
  return ev;
}

/** The name of the node's backup of a `kubepki ca import` that wrote `etcdCa` and was not undone, if there is one. */
function importedEtcdCa(fs: NodeFs, etcdCa: string): string | undefined {
  const { listed } = scanBackups(defaultBackupRoot(fs));
  for (const b of listed) {
    if (b.action !== 'ca import' || b.state === 'rolled-back') continue;
    try {
      if (readManifest(b.dir).entries.some((e) => e.path === etcdCa)) return b.name;
    } catch { /* an unreadable manifest: no evidence */ }
  }
  return undefined;
}
