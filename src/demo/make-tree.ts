import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { KeyObject } from 'node:crypto';
import { generateKey, privateKeyPem, publicKeyPem, spkiDer } from '../pki/keygen.js';
import {
  issueCertificate, nameDer, newSerial, basicConstraintsExt, keyUsageExt, extKeyUsageExt, subjectAltNameExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, keyIdentifier, pemOf, type ExtensionDer, type SanInput,
} from '../pki/sign.js';

/**
 * A throwaway kubeadm control-plane node whose leaf certificates expired, made
 * by our own signer (not copied from fixtures): three CAs still valid, every
 * leaf issued 400 days before `now`, kubeconfigs with embedded client
 * certificates, and a kubelet that rotated its client pair behind the
 * `-current` symlink. ECDSA P-256 keys keep it fast.
 */
export interface DemoTree { root: string; nodeName: string }

const DAY = 86400_000;

interface Issued { certPem: string; keyPem: string; der: Uint8Array; key: KeyObject; subject: Uint8Array }

async function makeCa(cn: string, now: Date): Promise<Issued> {
  const key = await generateKey('ecdsa-p256');
  const subject = nameDer([{ type: 'CN', value: cn }]);
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: subject, spki: spkiDer(key), serial: newSerial(),
    notBefore: new Date(now.getTime() - 400 * DAY), notAfter: new Date(now.getTime() + 3250 * DAY),
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true), subjectKeyIdentifierExt(keyIdentifier(spkiDer(key))), subjectAltNameExt([{ type: 'dns', value: cn }])],
    signingKey: key,
  });
  return { certPem: pemOf(der), keyPem: privateKeyPem(key), der, key, subject };
}

async function makeLeaf(ca: Issued, cn: string, orgs: string[], eku: string[], sans: SanInput[], now: Date): Promise<Issued> {
  const key = await generateKey('ecdsa-p256');
  const subject = nameDer([...orgs.map((o) => ({ type: 'O' as const, value: o })), { type: 'CN', value: cn }]);
  const exts: ExtensionDer[] = [keyUsageExt(['digitalSignature', 'keyEncipherment']), extKeyUsageExt(eku), basicConstraintsExt(false), authorityKeyIdentifierExt(keyIdentifier(spkiDer(ca.key)))];
  if (sans.length) exts.push(subjectAltNameExt(sans));
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: ca.subject, spki: spkiDer(key), serial: newSerial(),
    notBefore: new Date(now.getTime() - 400 * DAY), notAfter: new Date(now.getTime() - 35 * DAY),
    extensions: exts, signingKey: ca.key,
  });
  return { certPem: pemOf(der), keyPem: privateKeyPem(key), der, key, subject };
}

function write(root: string, nodePath: string, data: string, mode: number) {
  const p = path.join(root, nodePath);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  // (never over anything: the demo only ever makes new files)
  fs.writeFileSync(p, data, { mode, flag: 'wx' });
  fs.chmodSync(p, mode);
}

function kubeconfig(server: string, ca: Issued, user: string, leaf: Issued): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(ca.certPem), server }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user }, name: `${user}@kubernetes` }],
    'current-context': `${user}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: user, user: { 'client-certificate-data': b64(leaf.certPem), 'client-key-data': b64(leaf.keyPem) } }],
  });
}

export async function makeDemoTree(root: string, now: Date): Promise<DemoTree> {
  const node = 'demo-cp-1';
  const adv = '192.0.2.10';
  const [ca, etcdCa, fpCa] = await Promise.all([makeCa('kubernetes', now), makeCa('etcd-ca', now), makeCa('front-proxy-ca', now)]);
  const dns = (v: string): SanInput => ({ type: 'dns', value: v });
  const ip = (v: string): SanInput => ({ type: 'ip', value: v });
  const leaves = await Promise.all([
    makeLeaf(ca, 'kube-apiserver', [], ['serverAuth'], [dns(node), dns('kubernetes'), dns('kubernetes.default'), dns('kubernetes.default.svc'), dns('kubernetes.default.svc.cluster.local'), ip('10.96.0.1'), ip(adv)], now),
    makeLeaf(ca, 'kube-apiserver-kubelet-client', ['system:masters'], ['clientAuth'], [], now),
    makeLeaf(fpCa, 'front-proxy-client', [], ['clientAuth'], [], now),
    makeLeaf(etcdCa, node, [], ['serverAuth', 'clientAuth'], [dns(node), dns('localhost'), ip(adv), ip('127.0.0.1'), ip('::1')], now),
    makeLeaf(etcdCa, node, [], ['serverAuth', 'clientAuth'], [dns(node), dns('localhost'), ip(adv), ip('127.0.0.1'), ip('::1')], now),
    makeLeaf(etcdCa, 'kube-etcd-healthcheck-client', ['system:masters'], ['clientAuth'], [], now),
    makeLeaf(etcdCa, 'kube-apiserver-etcd-client', ['system:masters'], ['clientAuth'], [], now),
    makeLeaf(ca, 'kubernetes-admin', ['system:masters'], ['clientAuth'], [], now),
    makeLeaf(ca, 'system:kube-controller-manager', [], ['clientAuth'], [], now),
    makeLeaf(ca, 'system:kube-scheduler', [], ['clientAuth'], [], now),
    makeLeaf(ca, `system:node:${node}`, ['system:nodes'], ['clientAuth'], [], now),
  ]);
  const [apiserver, kubeletClient, fpClient, etcdServer, etcdPeer, healthcheck, etcdClient, admin, cm, sched, kubelet] = leaves as Issued[] as [Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued];
  const pki = '/etc/kubernetes/pki';
  const pair = (base: string, x: Issued) => { write(root, `${pki}/${base}.crt`, x.certPem, 0o644); write(root, `${pki}/${base}.key`, x.keyPem, 0o600); };
  pair('ca', ca); pair('etcd/ca', etcdCa); pair('front-proxy-ca', fpCa);
  pair('apiserver', apiserver); pair('apiserver-kubelet-client', kubeletClient); pair('front-proxy-client', fpClient);
  pair('etcd/server', etcdServer); pair('etcd/peer', etcdPeer); pair('etcd/healthcheck-client', healthcheck); pair('apiserver-etcd-client', etcdClient);
  const sa = await generateKey('ecdsa-p256');
  write(root, `${pki}/sa.key`, privateKeyPem(sa), 0o600);
  write(root, `${pki}/sa.pub`, publicKeyPem(sa), 0o600);
  const endpoint = `https://${adv}:6443`;
  write(root, '/etc/kubernetes/admin.conf', kubeconfig(endpoint, ca, 'kubernetes-admin', admin), 0o600);
  write(root, '/etc/kubernetes/controller-manager.conf', kubeconfig(endpoint, ca, 'system:kube-controller-manager', cm), 0o600);
  write(root, '/etc/kubernetes/scheduler.conf', kubeconfig(endpoint, ca, 'system:kube-scheduler', sched), 0o600);
  // The kubelet's rotated pair: cert + key in one timestamped file, behind the -current symlink (spec §7.2).
  const ts = new Date(now.getTime() - 400 * DAY).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  const pemPath = `/var/lib/kubelet/pki/kubelet-client-${ts}.pem`;
  write(root, pemPath, kubelet.certPem + kubelet.keyPem, 0o600);
  fs.symlinkSync(pemPath, path.join(root, '/var/lib/kubelet/pki/kubelet-client-current.pem'));
  write(root, '/etc/kubernetes/kubelet.conf', stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'), server: endpoint }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user: `system:node:${node}` }, name: `system:node:${node}@kubernetes` }],
    'current-context': `system:node:${node}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: `system:node:${node}`, user: { 'client-certificate': '/var/lib/kubelet/pki/kubelet-client-current.pem', 'client-key': '/var/lib/kubelet/pki/kubelet-client-current.pem' } }],
  }), 0o600);
  write(root, '/var/lib/kubelet/config.yaml', stringify({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', authentication: { x509: { clientCAFile: `${pki}/ca.crt` } }, rotateCertificates: true }), 0o644);
  const manifest = (name: string, flags: string[]) => stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system' }, spec: { containers: [{ name, command: [name, ...flags] }], hostNetwork: true } });
  write(root, '/etc/kubernetes/manifests/kube-apiserver.yaml', manifest('kube-apiserver', [
    `--advertise-address=${adv}`, `--client-ca-file=${pki}/ca.crt`, `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`,
    `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
    `--etcd-cafile=${pki}/etcd/ca.crt`, `--etcd-certfile=${pki}/apiserver-etcd-client.crt`, `--etcd-keyfile=${pki}/apiserver-etcd-client.key`,
    `--proxy-client-cert-file=${pki}/front-proxy-client.crt`, `--proxy-client-key-file=${pki}/front-proxy-client.key`, `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
    `--service-account-key-file=${pki}/sa.pub`, `--service-account-signing-key-file=${pki}/sa.key`,
  ]), 0o600);
  write(root, '/etc/kubernetes/manifests/kube-controller-manager.yaml', manifest('kube-controller-manager', [
    '--kubeconfig=/etc/kubernetes/controller-manager.conf', `--root-ca-file=${pki}/ca.crt`, `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`, `--service-account-private-key-file=${pki}/sa.key`,
  ]), 0o600);
  write(root, '/etc/kubernetes/manifests/kube-scheduler.yaml', manifest('kube-scheduler', ['--kubeconfig=/etc/kubernetes/scheduler.conf']), 0o600);
  write(root, '/etc/kubernetes/manifests/etcd.yaml', manifest('etcd', [
    `--name=${node}`, `--cert-file=${pki}/etcd/server.crt`, `--key-file=${pki}/etcd/server.key`, `--peer-cert-file=${pki}/etcd/peer.crt`, `--peer-key-file=${pki}/etcd/peer.key`,
    `--trusted-ca-file=${pki}/etcd/ca.crt`, `--peer-trusted-ca-file=${pki}/etcd/ca.crt`, '--client-cert-auth=true', '--peer-client-cert-auth=true',
  ]), 0o600);
  return { root, nodeName: node };
}
