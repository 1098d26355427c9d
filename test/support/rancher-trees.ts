// k3s and RKE2 node trees as those distros lay them out (spec §9.2), for tests of any command.
import type { KeyObject } from 'node:crypto';
import { generateKey, privateKeyPem, spkiDer, type KeyType } from '../../src/pki/keygen.js';
import {
  issueCertificate, nameDer, newSerial, basicConstraintsExt, keyUsageExt, extKeyUsageExt, subjectAltNameExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, keyIdentifier, pemOf, type SanInput,
} from '../../src/pki/sign.js';
import { put, rancherKubeconfig, k3sYaml } from './trees.js';

export { rancherKubeconfig };

/**
 * What the trees hold, as k3s-io/k3s pkg/daemons/control/deps (genClientCerts, genServerCerts, genETCDCerts,
 * genRequestHeaderCerts), its agent (pkg/agent/config) and rancher/dynamiclistener's cert package make it:
 * - CAs `<prefix>-ca@<unix>` (k3s-client, k3s-server, k3s-request-header, etcd-server, etcd-peer; rke2-… on RKE2),
 *   EC P-256, ten years, keyUsage digitalSignature keyEncipherment keyCertSign, CA:TRUE, a subject key id;
 * - leaves signed with Go's template of NewSignedCert: keyUsage digitalSignature keyEncipherment, the EKU asked,
 *   no basicConstraints, the CA's key id, notBefore the CA's notBefore, notAfter issue time + 365 days; every leaf
 *   `.crt` holds the leaf then its CA; EC P-256 keys in SEC1 PEM, 0600;
 * - server/cred/*.kubeconfig by deps.KubeConfig (cluster local, context Default, user user, file references),
 *   agent/*.kubeconfig the same; /etc/rancher/<distro>/<distro>.yaml with client-admin's chain and key embedded.
 */

export type RancherDistro = 'k3s' | 'rke2';

export interface RancherCa { name: string; cn: string; pem: string; keyPem: string; key: KeyObject; subject: Uint8Array; notBefore: Date }

export interface RancherCas {
  'client-ca': RancherCa;
  'server-ca': RancherCa;
  'request-header-ca': RancherCa;
  'etcd/server-ca': RancherCa;
  'etcd/peer-ca': RancherCa;
}

export interface RancherTreeOptions {
  distro: RancherDistro;
  /** when the first server started: the CAs' notBefore and the `@<unix>` of their names */
  caIssued: Date;
  /** when the leaves were last issued (the service's last start that re-issued them); notAfter = this + leafDays */
  leavesIssued: Date;
  /** CATTLE_NEW_SIGNED_CERT_EXPIRATION_DAYS; 365 by default */
  leafDays?: number;
  /** a leaf issued at another time (key = its path under server/tls or agent/ without .crt, e.g. `agent/client-kubelet`) */
  issuedAt?: Record<string, Date>;
  nodeName?: string;
  nodeIp?: string;
  /** the CAs of the cluster (an agent, or a second server, shares the first server's) */
  cas?: RancherCas;
}

const DAY = 86400_000;
const SERVICE_IP = '10.43.0.1'; // first address of the default service CIDR 10.43.0.0/16 (both distros)

/** The data directory of a distro. */
export const rancherDir = (d: RancherDistro) => `/var/lib/rancher/${d}`;

export async function makeRancherCas(distro: RancherDistro, issued: Date): Promise<RancherCas> {
  const t = Math.floor(issued.getTime() / 1000);
  const prefixes: [keyof RancherCas, string][] = [
    ['client-ca', `${distro}-client`], ['server-ca', `${distro}-server`], ['request-header-ca', `${distro}-request-header`],
    ['etcd/server-ca', 'etcd-server'], ['etcd/peer-ca', 'etcd-peer'],
  ];
  const made = await Promise.all(prefixes.map(async ([name, prefix]) => {
    const key = await generateKey('ecdsa-p256');
    const cn = `${prefix}-ca@${t}`;
    const subject = nameDer([{ type: 'CN', value: cn }]);
    const der = await issueCertificate({
      subjectDer: subject, issuerDer: subject, spki: spkiDer(key), serial: newSerial(), notBefore: issued, notAfter: new Date(issued.getTime() + 3650 * DAY),
      extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true), subjectKeyIdentifierExt(keyIdentifier(spkiDer(key)))],
      signingKey: key,
    });
    return [name, { name, cn, pem: pemOf(der), keyPem: privateKeyPem(key), key, subject, notBefore: issued }] as const;
  }));
  return Object.fromEntries(made) as unknown as RancherCas;
}

interface LeafSpec { cn: string; orgs?: string[]; eku: ('clientAuth' | 'serverAuth')[]; sans?: SanInput[] }

/** A leaf as dynamiclistener's NewSignedCert makes it, with `key` (the same key when re-issued) or a new one. */
export async function rancherLeaf(ca: RancherCa, spec: LeafSpec, issued: Date, days = 365, key?: KeyObject, keyType: KeyType = 'ecdsa-p256'): Promise<{ pem: string; keyPem: string; key: KeyObject }> {
  const k = key ?? await generateKey(keyType);
  const exts = [keyUsageExt(['digitalSignature', 'keyEncipherment']), extKeyUsageExt(spec.eku), authorityKeyIdentifierExt(keyIdentifier(spkiDer(ca.key)))];
  if (spec.sans?.length) exts.push(subjectAltNameExt(spec.sans));
  const der = await issueCertificate({
    subjectDer: nameDer([...(spec.orgs ?? []).map((v) => ({ type: 'O' as const, value: v })), { type: 'CN', value: spec.cn }]),
    issuerDer: ca.subject, spki: spkiDer(k), serial: newSerial(), notBefore: ca.notBefore, notAfter: new Date(issued.getTime() + days * DAY),
    extensions: exts, signingKey: ca.key,
  });
  return { pem: pemOf(der) + ca.pem, keyPem: privateKeyPem(k), key: k };
}

const dns = (...v: string[]): SanInput[] => v.map((value) => ({ type: 'dns', value }));
const ips = (...v: string[]): SanInput[] => v.map((value) => ({ type: 'ip', value }));


const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What a server tree wrote: its CAs and the PEM (leaf + CA) of each leaf by path under server/tls or agent/. */
export interface RancherServer { cas: RancherCas; leaves: Record<string, { pem: string; keyPem: string }> }

/**
 * A k3s or RKE2 server node (it runs an agent too): server/tls with the five CAs, the control plane's client and
 * serving leaves, the etcd ones (embedded etcd: server/db/etcd/config names them), service.key, the listener's
 * dynamic-cert.json; server/cred kubeconfigs; the agent's certificates and kubeconfigs; the admin kubeconfig;
 * on RKE2 the static pods in agent/pod-manifests (their flags name the files, as rke2's executor writes them).
 */
export async function makeRancherServer(root: string, o: RancherTreeOptions): Promise<RancherServer> {
  const { distro } = o;
  const node = o.nodeName ?? `${distro}-server-1`;
  const ip = o.nodeIp ?? '192.0.2.10';
  const dir = rancherDir(distro);
  const tls = `${dir}/server/tls`;
  const cas = o.cas ?? await makeRancherCas(distro, o.caIssued);
  for (const ca of Object.values(cas) as RancherCa[]) {
    put(root, `${tls}/${ca.name}.crt`, ca.pem);
    put(root, `${tls}/${ca.name}.key`, ca.keyPem, 0o600);
  }
  // (the controller-manager's signer wants one certificate: deps writes these copies of the first one)
  put(root, `${tls}/client-ca.nochain.crt`, cas['client-ca'].pem);
  put(root, `${tls}/server-ca.nochain.crt`, cas['server-ca'].pem);
  // config.SANs: --tls-san, then the loopbacks, the node's name and addresses, the service address
  const sans = [...dns('localhost', node), ...ips('127.0.0.1', '::1', ip, SERVICE_IP)];
  const apiSans = [...dns('kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'), ...sans];
  const serverLeaves: [string, keyof RancherCas, LeafSpec][] = [
    ['client-admin', 'client-ca', { cn: 'system:admin', orgs: ['system:masters'], eku: ['clientAuth'] }],
    ['client-supervisor', 'client-ca', { cn: `system:${distro}-supervisor`, orgs: ['system:masters'], eku: ['clientAuth'] }],
    ['client-controller', 'client-ca', { cn: 'system:kube-controller-manager', eku: ['clientAuth'] }],
    ['client-scheduler', 'client-ca', { cn: 'system:kube-scheduler', eku: ['clientAuth'] }],
    ['client-kube-apiserver', 'client-ca', { cn: 'kube-apiserver', eku: ['clientAuth'] }],
    ['client-kube-proxy', 'client-ca', { cn: 'system:kube-proxy', eku: ['clientAuth'] }],
    [`client-${distro}-controller`, 'client-ca', { cn: `system:${distro}-controller`, eku: ['clientAuth'] }],
    [`client-${distro}-cloud-controller`, 'client-ca', { cn: `${distro}-cloud-controller-manager`, eku: ['clientAuth'] }],
    ['serving-kube-apiserver', 'server-ca', { cn: 'kube-apiserver', eku: ['serverAuth'], sans: apiSans }],
    ['client-auth-proxy', 'request-header-ca', { cn: 'system:auth-proxy', eku: ['clientAuth'] }],
    ['etcd/server-client', 'etcd/server-ca', { cn: 'etcd-server', eku: ['serverAuth', 'clientAuth'], sans }],
    ['etcd/client', 'etcd/server-ca', { cn: 'etcd-client', eku: ['clientAuth'] }],
    ['etcd/peer-server-client', 'etcd/peer-ca', { cn: 'etcd-peer', eku: ['serverAuth', 'clientAuth'], sans }],
  ];
  const leaves: Record<string, { pem: string; keyPem: string }> = {};
  const when = (p: string) => o.issuedAt?.[p] ?? o.leavesIssued;
  await Promise.all(serverLeaves.map(async ([name, ca, spec]) => {
    const l = await rancherLeaf(cas[ca], spec, when(name), o.leafDays);
    leaves[name] = l;
    put(root, `${tls}/${name}.crt`, l.pem);
    put(root, `${tls}/${name}.key`, l.keyPem, 0o600);
  }));
  // keys the server signs every agent's kubelet certificates for (LoadOrGenerateKeyFile), and the service account key (RSA)
  const [kubeletClientKey, kubeletServingKey, serviceKey] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256'), generateKey('rsa-2048')]);
  put(root, `${tls}/client-kubelet.key`, privateKeyPem(kubeletClientKey), 0o600);
  put(root, `${tls}/serving-kubelet.key`, privateKeyPem(kubeletServingKey), 0o600);
  put(root, `${tls}/service.key`, privateKeyPem(serviceKey), 0o600);
  put(root, `${tls}/service.current.key`, privateKeyPem(serviceKey), 0o600);
  // the supervisor's listener (6443 on k3s, 9345 on RKE2): dynamiclistener's certificate, kept as Secret kube-system/<distro>-serving
  const listener = await rancherLeaf(cas['server-ca'], { cn: distro, orgs: [distro], eku: ['serverAuth'], sans: apiSans }, when('dynamic-cert'), o.leafDays);
  leaves['dynamic-cert'] = listener;
  put(root, `${tls}/dynamic-cert.json`, JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: `${distro}-serving`, namespace: 'kube-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(listener.pem), 'tls.key': b64(listener.keyPem) } }), 0o600);

  // kube-apiserver listens on 6444 behind k3s's supervisor on 6443; RKE2's on 6443 (supervisor on 9345)
  const api = `https://127.0.0.1:${distro === 'k3s' ? 6444 : 6443}`;
  const cred = `${dir}/server/cred`;
  for (const [file, leaf] of [['admin', 'client-admin'], ['supervisor', 'client-supervisor'], ['controller', 'client-controller'], ['scheduler', 'client-scheduler'], ['api-server', 'client-kube-apiserver'], ['cloud-controller', `client-${distro}-cloud-controller`]]) {
    put(root, `${cred}/${file}.kubeconfig`, rancherKubeconfig(api, `${tls}/server-ca.crt`, `${tls}/${leaf}.crt`, `${tls}/${leaf}.key`), 0o600);
  }
  // embedded etcd (RKE2 always, k3s with --cluster-init)
  put(root, `${dir}/server/db/etcd/config`, `advertise-client-urls: https://${ip}:2379
client-transport-security:
  cert-file: ${tls}/etcd/server-client.crt
  client-cert-auth: true
  key-file: ${tls}/etcd/server-client.key
  trusted-ca-file: ${tls}/etcd/server-ca.crt
data-dir: ${dir}/server/db/etcd
election-timeout: 5000
heartbeat-interval: 500
initial-cluster: ${node}-0a1b2c3d=https://${ip}:2380
initial-cluster-state: new
listen-client-urls: https://127.0.0.1:2379,https://${ip}:2379
listen-metrics-urls: http://127.0.0.1:2381
listen-peer-urls: https://127.0.0.1:2380,https://${ip}:2380
name: ${node}-0a1b2c3d
peer-transport-security:
  cert-file: ${tls}/etcd/peer-server-client.crt
  client-cert-auth: true
  key-file: ${tls}/etcd/peer-server-client.key
  trusted-ca-file: ${tls}/etcd/peer-ca.crt
snapshot-count: 10000
`, 0o600);
  // the admin kubeconfig: client-admin's file (leaf + CA) and key embedded, rewritten at every start
  put(root, `/etc/rancher/${distro}/${distro}.yaml`, k3sYaml(cas['server-ca'].pem, leaves['client-admin']!.pem, leaves['client-admin']!.keyPem), 0o600);
  const agent = await writeAgent(root, o, cas, { node, ip, server: true, kubeletClientKey, kubeletServingKey, proxy: leaves['client-kube-proxy']!, controller: leaves[`client-${distro}-controller`]! });
  Object.assign(leaves, agent);
  if (distro === 'rke2') writeRke2Manifests(root, { server: true, ip });
  return { cas, leaves };
}

/**
 * A k3s or RKE2 agent node: only agent/ (the CA keys stay on the servers, which signed what it holds), with the
 * CAs it trusts, its kubelet pairs (the keys the server gave it), kube-proxy's and the distro controller's pairs
 * (copies of the server's), and their kubeconfigs; RKE2's kube-proxy static pod.
 */
export async function makeRancherAgent(root: string, o: RancherTreeOptions & { cas: RancherCas }): Promise<Record<string, { pem: string; keyPem: string }>> {
  const node = o.nodeName ?? `${o.distro}-agent-1`;
  const ip = o.nodeIp ?? '192.0.2.20';
  const when = (p: string) => o.issuedAt?.[p] ?? o.leavesIssued;
  const proxy = await rancherLeaf(o.cas['client-ca'], { cn: 'system:kube-proxy', eku: ['clientAuth'] }, when('client-kube-proxy'), o.leafDays);
  const controller = await rancherLeaf(o.cas['client-ca'], { cn: `system:${o.distro}-controller`, eku: ['clientAuth'] }, when(`client-${o.distro}-controller`), o.leafDays);
  const [kubeletClientKey, kubeletServingKey] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256')]);
  const leaves = await writeAgent(root, o, o.cas, { node, ip, server: false, kubeletClientKey, kubeletServingKey, proxy, controller });
  if (o.distro === 'rke2') writeRke2Manifests(root, { server: false, ip });
  return leaves;
}

async function writeAgent(root: string, o: RancherTreeOptions, cas: RancherCas, a: { node: string; ip: string; server: boolean; kubeletClientKey: KeyObject; kubeletServingKey: KeyObject; proxy: { pem: string; keyPem: string }; controller: { pem: string; keyPem: string } }): Promise<Record<string, { pem: string; keyPem: string }>> {
  const { distro } = o;
  const agent = `${rancherDir(distro)}/agent`;
  const when = (p: string) => o.issuedAt?.[`agent/${p}`] ?? o.leavesIssued;
  put(root, `${agent}/client-ca.crt`, cas['client-ca'].pem);
  put(root, `${agent}/server-ca.crt`, cas['server-ca'].pem);
  const client = await rancherLeaf(cas['client-ca'], { cn: `system:node:${a.node}`, orgs: ['system:nodes'], eku: ['clientAuth'] }, when('client-kubelet'), o.leafDays, a.kubeletClientKey);
  const serving = await rancherLeaf(cas['server-ca'], { cn: a.node, eku: ['serverAuth'], sans: [...dns(a.node, 'localhost'), ...ips('127.0.0.1', a.ip)] }, when('serving-kubelet'), o.leafDays, a.kubeletServingKey);
  const pairs: [string, { pem: string; keyPem: string }][] = [
    ['client-kubelet', client], ['serving-kubelet', serving], ['client-kube-proxy', a.proxy], [`client-${distro}-controller`, a.controller],
  ];
  for (const [n, l] of pairs) {
    put(root, `${agent}/${n}.crt`, l.pem);
    put(root, `${agent}/${n}.key`, l.keyPem, 0o600);
  }
  // agents reach the API server through their local load balancer (k3s: 6444 on an agent, 6443 on a server; RKE2: 6443)
  const api = `https://127.0.0.1:${distro === 'k3s' && !a.server ? 6444 : 6443}`;
  for (const [file, leaf] of [['kubelet', 'client-kubelet'], ['kubeproxy', 'client-kube-proxy'], [`${distro}controller`, `client-${distro}-controller`]]) {
    put(root, `${agent}/${file}.kubeconfig`, rancherKubeconfig(api, `${agent}/server-ca.crt`, `${agent}/${leaf}.crt`, `${agent}/${leaf}.key`), 0o600);
  }
  return Object.fromEntries(pairs.map(([n, l]) => [`agent/${n}`, l]));
}

/** RKE2's static pods (agent/pod-manifests), with the flags k3s's control package gives each component. */
function writeRke2Manifests(root: string, o: { server: boolean; ip: string }): void {
  const dir = rancherDir('rke2');
  const tls = `${dir}/server/tls`;
  const pod = (name: string, args: string[]) => `apiVersion: v1
kind: Pod
metadata:
  labels:
    component: ${name}
    tier: control-plane
  name: ${name}
  namespace: kube-system
spec:
  containers:
  - args:
${args.map((a) => `    - ${a}`).join('\n')}
    command:
    - ${name}
    env:
    - name: FILE_HASH
      value: 5d0c4e4f0b2c
    image: index.docker.io/rancher/hardened-kubernetes:v1.31.4-rke2r1-build20250113
    name: ${name}
  hostNetwork: true
  priorityClassName: system-cluster-critical
`;
  const manifests = `${dir}/agent/pod-manifests`;
  put(root, `${manifests}/kube-proxy.yaml`, pod('kube-proxy', ['--cluster-cidr=10.42.0.0/16', '--conntrack-max-per-core=0', '--healthz-bind-address=127.0.0.1', '--hostname-override=node', `--kubeconfig=${dir}/agent/kubeproxy.kubeconfig`, '--proxy-mode=iptables']), 0o600);
  if (!o.server) return;
  put(root, `${manifests}/etcd.yaml`, pod('etcd', [`--config-file=${dir}/server/db/etcd/config`]), 0o600);
  put(root, `${manifests}/kube-apiserver.yaml`, pod('kube-apiserver', [
    `--advertise-address=${o.ip}`, '--allow-privileged=true', '--anonymous-auth=false', '--api-audiences=https://kubernetes.default.svc.cluster.local,rke2',
    '--authorization-mode=Node,RBAC', '--bind-address=0.0.0.0', `--cert-dir=${tls}/temporary-certs`, `--client-ca-file=${tls}/client-ca.crt`,
    '--enable-admission-plugins=NodeRestriction', `--etcd-cafile=${tls}/etcd/server-ca.crt`, `--etcd-certfile=${tls}/etcd/client.crt`,
    `--etcd-keyfile=${tls}/etcd/client.key`, '--etcd-servers=https://127.0.0.1:2379', `--kubelet-certificate-authority=${tls}/server-ca.crt`,
    `--kubelet-client-certificate=${tls}/client-kube-apiserver.crt`, `--kubelet-client-key=${tls}/client-kube-apiserver.key`, '--profiling=false',
    `--proxy-client-cert-file=${tls}/client-auth-proxy.crt`, `--proxy-client-key-file=${tls}/client-auth-proxy.key`,
    `--requestheader-allowed-names=system:auth-proxy`, `--requestheader-client-ca-file=${tls}/request-header-ca.crt`,
    '--requestheader-extra-headers-prefix=X-Remote-Extra-', '--requestheader-group-headers=X-Remote-Group', '--requestheader-username-headers=X-Remote-User',
    '--secure-port=6443', '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${tls}/service.key`,
    `--service-account-signing-key-file=${tls}/service.current.key`, '--service-cluster-ip-range=10.43.0.0/16', '--storage-backend=etcd3',
    `--tls-cert-file=${tls}/serving-kube-apiserver.crt`, `--tls-private-key-file=${tls}/serving-kube-apiserver.key`,
  ]), 0o600);
  put(root, `${manifests}/kube-controller-manager.yaml`, pod('kube-controller-manager', [
    '--allocate-node-cidrs=true', `--authentication-kubeconfig=${dir}/server/cred/controller.kubeconfig`, `--authorization-kubeconfig=${dir}/server/cred/controller.kubeconfig`,
    '--bind-address=127.0.0.1', `--cert-dir=${tls}/kube-controller-manager`, '--cluster-cidr=10.42.0.0/16',
    `--cluster-signing-kube-apiserver-client-cert-file=${tls}/client-ca.nochain.crt`, `--cluster-signing-kube-apiserver-client-key-file=${tls}/client-ca.key`,
    `--cluster-signing-kubelet-client-cert-file=${tls}/client-ca.nochain.crt`, `--cluster-signing-kubelet-client-key-file=${tls}/client-ca.key`,
    `--cluster-signing-kubelet-serving-cert-file=${tls}/server-ca.nochain.crt`, `--cluster-signing-kubelet-serving-key-file=${tls}/server-ca.key`,
    `--cluster-signing-legacy-unknown-cert-file=${tls}/server-ca.nochain.crt`, `--cluster-signing-legacy-unknown-key-file=${tls}/server-ca.key`,
    `--kubeconfig=${dir}/server/cred/controller.kubeconfig`, '--profiling=false', `--root-ca-file=${tls}/server-ca.crt`, '--secure-port=10257',
    `--service-account-private-key-file=${tls}/service.current.key`, '--use-service-account-credentials=true',
  ]), 0o600);
  put(root, `${manifests}/kube-scheduler.yaml`, pod('kube-scheduler', [
    `--authentication-kubeconfig=${dir}/server/cred/scheduler.kubeconfig`, `--authorization-kubeconfig=${dir}/server/cred/scheduler.kubeconfig`,
    '--bind-address=127.0.0.1', `--cert-dir=${tls}/kube-scheduler`, `--kubeconfig=${dir}/server/cred/scheduler.kubeconfig`, '--profiling=false', '--secure-port=10259',
  ]), 0o600);
  put(root, `${manifests}/cloud-controller-manager.yaml`, pod('cloud-controller-manager', [
    '--allocate-node-cidrs=true', '--bind-address=127.0.0.1', '--cloud-provider=rke2', '--cluster-cidr=10.42.0.0/16', '--configure-cloud-routes=false',
    `--kubeconfig=${dir}/server/cred/cloud-controller.kubeconfig`, '--node-status-update-frequency=1m0s', '--profiling=false',
  ]), 0o600);
}
