// A small hand-made Inventory shaped like a kubeadm control-plane node, for
// renderer tests that must not depend on the reader.
import type { CertEntry, Inventory, Finding } from '../src/inventory/types.js';

const DAY = 86400;

function cert(p: Partial<CertEntry> & { id: string; name: string; file: string; nb: string; na: string }, now: Date): CertEntry {
  const nb = Date.parse(p.nb);
  const na = Date.parse(p.na);
  const residual = Math.floor((na - now.getTime()) / 1000);
  const status = p.status ?? (residual <= 0 ? 'expired' : residual < 30 * DAY ? 'warning' : 'ok');
  return {
    id: p.id,
    name: p.name,
    location: p.location ?? { file: p.file, kind: 'pem', index: 0 },
    subject: p.subject ?? `CN=${p.subjectCN ?? p.name}`,
    subjectCN: p.subjectCN ?? p.name,
    subjectO: p.subjectO ?? [],
    issuer: p.issuer ?? 'CN=kubernetes',
    issuerCN: p.issuerCN ?? 'kubernetes',
    serial: p.serial ?? '5a1e0c3f9b',
    notBefore: new Date(nb).toISOString(),
    notAfter: new Date(na).toISOString(),
    residualSeconds: residual,
    lifetimeSeconds: Math.floor((na - nb) / 1000),
    sans: p.sans ?? [],
    keyUsage: p.keyUsage ?? ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: p.extKeyUsage ?? ['clientAuth'],
    isCA: p.isCA ?? false,
    selfSigned: p.selfSigned ?? false,
    authority: p.authority ?? p.isCA ?? false,
    keyAlgorithm: p.keyAlgorithm ?? 'RSA',
    keySize: p.keySize ?? 2048,
    curve: p.curve,
    signatureAlgorithm: p.signatureAlgorithm ?? 'sha256WithRSAEncryption',
    subjectKeyId: p.subjectKeyId,
    authorityKeyId: p.authorityKeyId,
    fingerprint: p.fingerprint ?? (p.id.split('').reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7).toString(16).padStart(8, '0')).repeat(8),
    spkiSha256: p.spkiSha256 ?? 'ab'.repeat(32),
    privateKey: p.privateKey ?? { present: true, location: { file: p.file.replace(/\.crt$/, '.key'), kind: 'pem' }, matches: true },
    signedBy: p.signedBy,
    signerName: p.signerName,
    components: p.components ?? [],
    managedBy: p.managedBy ?? 'kubeadm',
    profile: p.profile ?? p.name,
    layout: p.layout ?? 'kubeadm',
    status,
    findings: p.findings ?? [],
    pem: p.pem ?? '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  };
}

/** 9 certificates: 3 CAs, 4 ok leaves, 1 expired, 1 expiring; a corrupt file finding. */
export function sampleInventory(now = new Date('2026-11-23T00:00:00Z')): Inventory {
  const P = '/etc/kubernetes/pki';
  const caId = `${P}/ca.crt#0`;
  const etcdCaId = `${P}/etcd/ca.crt#0`;
  const fpCaId = `${P}/front-proxy-ca.crt#0`;
  const expiredFinding: Finding = { code: 'expired', severity: 'error', message: 'apiserver-etcd-client expired 36 days ago (2026-10-18)', file: `${P}/apiserver-etcd-client.crt`, certificate: `${P}/apiserver-etcd-client.crt#0` };
  const expiringFinding: Finding = { code: 'expiring', severity: 'warning', message: 'admin.conf expires in 12 days', file: '/etc/kubernetes/admin.conf', certificate: '/etc/kubernetes/admin.conf#user/kubernetes-admin' };
  const certs: CertEntry[] = [
    cert({ id: caId, name: 'ca', file: `${P}/ca.crt`, nb: '2026-11-22T21:30:00Z', na: '2036-11-19T21:30:00Z', isCA: true, selfSigned: true, keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'], extKeyUsage: [], components: ['kube-apiserver', 'kube-controller-manager', 'kubelet'] }, now),
    cert({ id: etcdCaId, name: 'etcd-ca', file: `${P}/etcd/ca.crt`, nb: '2026-11-22T21:30:00Z', na: '2036-11-19T21:30:00Z', isCA: true, selfSigned: true, subjectCN: 'etcd-ca', issuer: 'CN=etcd-ca', issuerCN: 'etcd-ca', components: ['etcd', 'kube-apiserver'] }, now),
    cert({ id: fpCaId, name: 'front-proxy-ca', file: `${P}/front-proxy-ca.crt`, nb: '2026-11-22T21:30:00Z', na: '2036-11-19T21:30:00Z', isCA: true, selfSigned: true, subjectCN: 'front-proxy-ca', issuer: 'CN=front-proxy-ca', issuerCN: 'front-proxy-ca', components: ['kube-apiserver'] }, now),
    cert({ id: `${P}/apiserver.crt#0`, name: 'apiserver', file: `${P}/apiserver.crt`, nb: '2026-11-22T21:30:00Z', na: '2027-11-22T21:30:00Z', subjectCN: 'kube-apiserver', extKeyUsage: ['serverAuth'], sans: [{ type: 'dns', value: 'cp-1' }, { type: 'dns', value: 'kubernetes.default.svc' }, { type: 'ip', value: '10.96.0.1' }, { type: 'ip', value: '192.0.2.10' }], signedBy: caId, signerName: 'ca', components: ['kube-apiserver'] }, now),
    cert({ id: `${P}/apiserver-etcd-client.crt#0`, name: 'apiserver-etcd-client', file: `${P}/apiserver-etcd-client.crt`, nb: '2025-10-18T21:30:00Z', na: '2026-10-18T21:30:00Z', subjectCN: 'kube-apiserver-etcd-client', issuer: 'CN=etcd-ca', issuerCN: 'etcd-ca', signedBy: etcdCaId, signerName: 'etcd-ca', components: ['kube-apiserver'], findings: [expiredFinding] }, now),
    cert({ id: `${P}/etcd/server.crt#0`, name: 'etcd-server', file: `${P}/etcd/server.crt`, nb: '2026-11-22T21:30:00Z', na: '2027-11-22T21:30:00Z', subjectCN: 'cp-1', issuer: 'CN=etcd-ca', issuerCN: 'etcd-ca', extKeyUsage: ['serverAuth', 'clientAuth'], signedBy: etcdCaId, signerName: 'etcd-ca', components: ['etcd'] }, now),
    cert({ id: `${P}/front-proxy-client.crt#0`, name: 'front-proxy-client', file: `${P}/front-proxy-client.crt`, nb: '2026-11-22T21:30:00Z', na: '2027-11-22T21:30:00Z', issuer: 'CN=front-proxy-ca', issuerCN: 'front-proxy-ca', signedBy: fpCaId, signerName: 'front-proxy-ca', components: ['kube-apiserver'] }, now),
    cert({ id: '/etc/kubernetes/admin.conf#user/kubernetes-admin', name: 'admin.conf', file: '/etc/kubernetes/admin.conf', location: { file: '/etc/kubernetes/admin.conf', kind: 'kubeconfig', index: 0, kubeconfig: { entry: 'user', name: 'kubernetes-admin', field: 'client-certificate-data' } }, nb: '2025-12-05T00:00:00Z', na: '2026-12-05T00:00:00Z', subject: 'O=system:masters, CN=kubernetes-admin', subjectCN: 'kubernetes-admin', subjectO: ['system:masters'], signedBy: caId, signerName: 'ca', privateKey: { present: true, location: { file: '/etc/kubernetes/admin.conf', kind: 'kubeconfig', user: 'kubernetes-admin', field: 'client-key-data' }, matches: true }, findings: [expiringFinding] }, now),
    cert({ id: '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem#0', name: 'kubelet-client-current.pem', file: '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem', location: { file: '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem', kind: 'pem', index: 0, via: '/var/lib/kubelet/pki/kubelet-client-current.pem' }, nb: '2026-11-22T21:31:00Z', na: '2027-11-22T21:31:00Z', subject: 'O=system:nodes, CN=system:node:cp-1', subjectCN: 'system:node:cp-1', subjectO: ['system:nodes'], keyAlgorithm: 'EC', keySize: 256, curve: 'P-256', signatureAlgorithm: 'sha256WithRSAEncryption', signedBy: caId, signerName: 'ca', components: ['kubelet'], managedBy: 'kubelet', layout: 'kubelet', privateKey: { present: true, location: { file: '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem', kind: 'pem', sameFile: true }, matches: true } }, now),
  ];
  const corrupt: Finding = { code: 'corrupt', severity: 'error', message: 'failed to parse /etc/kubernetes/pki/old.crt: not PEM or DER', file: '/etc/kubernetes/pki/old.crt' };
  const findings = [...certs.flatMap((c) => c.findings), corrupt];
  const count = (s: string) => certs.filter((c) => c.status === s).length;
  return {
    apiVersion: 'kubepki.io/v1alpha1',
    kind: 'Inventory',
    root: '/',
    nodeName: 'cp-1',
    now: now.toISOString(),
    warn: '30d',
    layouts: ['kubeadm', 'kubelet'],
    certificates: certs,
    missing: [{ name: 'sa.pub', file: '/etc/kubernetes/pki/sa.pub', layout: 'kubeadm', state: 'missing', reason: '/etc/kubernetes/pki/sa.pub is missing' }],
    keys: [],
    kubeconfigs: [],
    csrs: [],
    components: [],
    findings,
    summary: { certificates: certs.length, ok: count('ok'), warning: count('warning'), expired: count('expired'), notYetValid: 0, invalid: 0, errors: 2, worst: 'expired' },
  };
}
