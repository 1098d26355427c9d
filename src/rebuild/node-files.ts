/**
 * Small readers shared by `join`, `ca`, `kubelet credentials` and `sa rotate`:
 * where the PKI is, the cluster CA, the API server URL joiners should use,
 * and the shared control-plane files. Read-only, through NodeFs.
 */
import { parse as parseYaml } from 'yaml';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { UserError } from '../errors.js';
import { RUN_AS_ROOT } from '../inventory/next.js';
import type { NodeFs } from '../fs/node-fs.js';
import { currentEntries } from '../kubeconfig/client-cert.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { parsePrivateKeyBlock, PRIVATE_KEY_LABELS, samePublicKey, decryptKeyCommand } from '../pki/keys.js';
import { hostPort } from '../profiles/rebuild.js';
import { readManifestFacts, readText as text, MANIFEST_DIR, KUBEADM_CONFIG_CANDIDATES, KUBELET_FLAGS, KUBELET_CLIENT_CURRENT } from './infer.js';
import { parseKubeadmConfig } from './kubeadm-config.js';
import { unbracket } from '../inventory/names.js';
import { readKubeadmConfigHints } from '../inventory/components.js';

/**
 * Whether the node runs local etcd: an etcd manifest, or etcd/ca.crt where neither the kubeadm config
 * (etcd.external) nor kube-apiserver's --etcd-servers says etcd is external (kubeadm's docs put an external
 * etcd's CA at etcd/ca.crt too).
 */
export function hasLocalEtcd(fs: NodeFs, pki: string): boolean {
  return fs.exists(`${MANIFEST_DIR}/etcd.yaml`) || (!readKubeadmConfigHints(fs).externalEtcd && fs.exists(`${pki}/etcd/ca.crt`));
}

export interface CaMaterial { pem: string; cert: Certificate; key?: KeyObject; certPath: string; keyPath: string }

export function loadPrivateKey(fs: NodeFs, p: string): KeyObject {
  let t: string;
  try { t = fs.readFile(p).toString('utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`failed to read ${p}: ${code ?? (e as Error).message}`, code === 'EACCES' || code === 'EPERM' ? RUN_AS_ROOT : 'check --root and that the file exists');
  }
  const b = parsePemBlocks(t).find((x) => PRIVATE_KEY_LABELS[x.label]);
  if (!b) throw new UserError(`failed to read ${p}: no private key in it`, 'pass an unencrypted PEM private key');
  const info = parsePrivateKeyBlock(b.label, b.der, b.headers);
  if (!info.keyObject) throw new UserError(`failed to read ${p}: the key is encrypted`, `decrypt it first (${decryptKeyCommand(p)})`);
  return info.keyObject;
}

/** A CA certificate (first block) and, when `withKey`, its private key, checked to match. */
export function loadCa(fs: NodeFs, certPath: string, keyPath: string, withKey: boolean): CaMaterial {
  const pem = text(fs, certPath);
  if (!pem) throw new UserError(`failed to read CA certificate ${certPath}: no such file`, 'pass --root pointing at the node tree, or rebuild the PKI first (kubepki rebuild)');
  const block = parsePemBlocks(pem).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new UserError(`failed to read CA certificate ${certPath}: no CERTIFICATE block`, 'pass a PEM CA certificate');
  const cert = new Certificate(block.der);
  if (!withKey) return { pem, cert, certPath, keyPath };
  if (!fs.exists(keyPath)) throw new UserError(`failed to read CA key ${keyPath}: no such file (external CA?)`, 'run this on a control-plane node that holds the CA key, or pass --ca-cert/--ca-key');
  const key = loadPrivateKey(fs, keyPath);
  const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!samePublicKey(pub, cert.spkiRaw)) {
    throw new UserError(`failed to use CA ${certPath}: ${keyPath} is not its private key`, 'put the matching ca.key next to ca.crt');
  }
  return { pem, cert, key, certPath, keyPath };
}

/**
 * A kubeconfig's server as client-go finds it, or why it has none; undefined when there is no such file. client-go
 * takes the cluster of the context current-context names, by name only: a current-context naming no context is an
 * error (clientcmd DirectClientConfig.ConfirmUsable: "context was not found for specified context"), none at all
 * leaves no server ("no configuration has been provided"). Another cluster of the file is not a guess worth a
 * join command or a kubelet.conf: it may be another cluster's.
 */
function kubeconfigServer(fs: NodeFs, p: string): { server: string } | { why: string } | undefined {
  const t = text(fs, p);
  if (!t) return undefined;
  let k: any;
  try { k = parseYaml(t); } catch { return { why: 'it is not YAML' }; }
  const current = k?.['current-context'];
  if (typeof current !== 'string' || !current) return { why: 'it has no current-context' };
  const { context, cluster } = currentEntries(k);
  if (!context) return { why: `its current-context ${JSON.stringify(current)} names no context` };
  if (!cluster) return { why: `its current context's cluster ${JSON.stringify(context.context?.cluster ?? '')} is not in it` };
  const server = cluster.cluster?.server;
  return typeof server === 'string' && server ? { server } : { why: `its current context's cluster has no server` };
}

/**
 * The API server URL joiners should dial, and where it came from: a flag,
 * admin.conf's server (the control-plane endpoint), kubelet.conf's, or the
 * kube-apiserver manifest's advertise address and port.
 */
export function apiServerUrl(fs: NodeFs, flag?: string): { url: string; source: string } {
  if (flag) {
    const u = flag.startsWith('https://') ? flag : `https://${flag}`;
    return { url: /:\d+$|\]:\d+$/.test(u.replace(/^https:\/\//, '')) ? u : `${u}:6443`, source: 'flag --control-plane-endpoint' };
  }
  // (a kubeconfig with no server for client-go is passed over, and named where the answer comes from: the operator
  // expecting admin.conf's endpoint sees why another source was used)
  const unusable: string[] = [];
  const also = () => unusable.length ? `; not ${unusable.join(', nor ')}` : '';
  for (const f of ['admin.conf', 'super-admin.conf', 'kubelet.conf']) {
    const p = `/etc/kubernetes/${f}`;
    const s = kubeconfigServer(fs, p);
    if (s && 'server' in s) return { url: s.server.replace(/\/+$/, ''), source: `${p} (server${also()})` };
    if (s) unusable.push(`${p}: ${s.why}`);
  }
  const t = text(fs, `${MANIFEST_DIR}/kube-apiserver.yaml`);
  const m = t ? readManifestFacts(t) : undefined;
  if (m?.flags['advertise-address']) {
    return { url: `https://${hostPort(m.flags['advertise-address'], m.flags['secure-port'] ?? '6443')}`, source: `${MANIFEST_DIR}/kube-apiserver.yaml (--advertise-address${also()})` };
  }
  const why = unusable.length ? ` (${unusable.join('; ')})` : '';
  throw new UserError(`failed to find the API server address: no admin.conf, super-admin.conf or kubelet.conf with a server, and no kube-apiserver manifest with --advertise-address on the node${why}`, 'pass --control-plane-endpoint HOST:PORT');
}

/**
 * Why a `kubeadm join --control-plane` printed for `server` would be refused, or undefined. kubeadm join adds a
 * control-plane node only to a cluster whose ClusterConfiguration has a controlPlaneEndpoint ("unable to add a new
 * control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address"). A kubeadm config
 * on the node says so for sure; else joiners dialing this node's own advertise address (kubeadm's admin.conf
 * server when there is no endpoint) make it likely.
 */
export function controlPlaneJoinProblem(fs: NodeFs, server: string): string | undefined {
  const CHECK = "check with kubectl -n kube-system get cm kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' | grep controlPlaneEndpoint";
  const refusal = '"unable to add a new control plane instance … doesn\'t have a stable controlPlaneEndpoint address"';
  const FIX = 'if it has none, the cluster needs one first (a load balancer or DNS name as controlPlaneEndpoint in that ConfigMap, and in the SANs of every apiserver certificate)';
  for (const p of KUBEADM_CONFIG_CANDIDATES) {
    const t = text(fs, p);
    if (!t) continue;
    let cluster: Record<string, unknown> | undefined;
    try { cluster = parseKubeadmConfig(t, p).cluster; } catch { continue; }
    if (!cluster) continue;
    const ep = cluster.controlPlaneEndpoint;
    if (typeof ep === 'string' && ep.trim()) return undefined;
    return `${p} has no ClusterConfiguration.controlPlaneEndpoint: kubeadm join --control-plane refuses such a cluster (${refusal}) if the cluster's kubeadm-config ConfigMap has none either (${CHECK}; ${FIX})`;
  }
  const m = text(fs, `${MANIFEST_DIR}/kube-apiserver.yaml`);
  const adv = m ? readManifestFacts(m)?.flags['advertise-address'] : undefined;
  let host: string;
  try { host = unbracket(new URL(server).hostname); } catch { return undefined; }
  if (!adv || host !== adv) return undefined;
  return `joiners dial ${server}, this node's own address (--advertise-address in ${MANIFEST_DIR}/kube-apiserver.yaml), as kubeadm's admin.conf does when the cluster has no controlPlaneEndpoint: kubeadm join --control-plane then refuses (${refusal}), and every node would depend on this one; ${CHECK}: if it has one, pass it here as --control-plane-endpoint; ${FIX}`;
}

/** etcd.external client files as the kube-apiserver manifest names them (spec §6 external-etcd-* entries). */
export function externalEtcdFiles(fs: NodeFs, pki: string): { caFile?: string; certFile?: string; keyFile?: string } | undefined {
  const t = text(fs, `${MANIFEST_DIR}/kube-apiserver.yaml`);
  const f = t ? readManifestFacts(t)?.flags : undefined;
  // (at etcd/ca.crt, an external etcd's CA is where kubeadm's docs have it copied: local etcd is told by hasLocalEtcd)
  if (!f || !f['etcd-cafile'] || hasLocalEtcd(fs, pki)) return undefined;
  return { caFile: f['etcd-cafile'], certFile: f['etcd-certfile'], keyFile: f['etcd-keyfile'] };
}

/**
 * Which node a tree belongs to, and the file that says so. Sources in order of
 * trust: files kubeadm wrote and kubepki never edits (the etcd manifest's
 * `--name`, a kubeadm config's `nodeRegistration.name`, the kubelet's
 * `--hostname-override`), then the kubelet's own identity (kubelet.conf's user
 * `system:node:<n>`, the client certificate's CN) — those last two are what a
 * wrong `kubelet credentials` run would have overwritten. Undefined when the
 * tree names no node (a wiped worker).
 */
export function treeNodeName(fs: NodeFs): { name: string; source: string } | undefined {
  const etcd = `${MANIFEST_DIR}/etcd.yaml`;
  const et = text(fs, etcd);
  const n = et ? readManifestFacts(et)?.flags.name : undefined;
  if (n) return { name: n.toLowerCase(), source: `${etcd} --name` };
  for (const p of KUBEADM_CONFIG_CANDIDATES) {
    const t = text(fs, p);
    if (!t) continue;
    try {
      const name = parseKubeadmConfig(t, p).init?.nodeRegistration?.name;
      if (typeof name === 'string' && name.trim()) return { name: name.trim().toLowerCase(), source: `${p} nodeRegistration.name` };
    } catch { /* not a kubeadm config: no answer from it */ }
  }
  const host = /--hostname-override[= ]([^\s"']+)/.exec(text(fs, KUBELET_FLAGS) ?? '')?.[1];
  if (host) return { name: host.toLowerCase(), source: `${KUBELET_FLAGS} --hostname-override` };
  const kc = text(fs, '/etc/kubernetes/kubelet.conf');
  if (kc) {
    try {
      const user = currentEntries(parseYaml(kc), { orFirst: true }).context?.context?.user;
      if (typeof user === 'string' && user.startsWith('system:node:')) return { name: user.slice('system:node:'.length), source: '/etc/kubernetes/kubelet.conf user' };
    } catch { /* unreadable: next source */ }
  }
  const cur = text(fs, KUBELET_CLIENT_CURRENT);
  if (cur) {
    try {
      const b = parsePemBlocks(cur).find((x) => x.label === 'CERTIFICATE');
      const cn = b ? new Certificate(b.der).commonName : undefined;
      if (cn?.startsWith('system:node:')) return { name: cn.slice('system:node:'.length), source: `${KUBELET_CLIENT_CURRENT} subject CN` };
    } catch { /* not a certificate */ }
  }
  return undefined;
}
