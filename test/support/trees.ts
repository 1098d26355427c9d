import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { generateKey, privateKeyPem, spkiDer, type KeyType } from '../../src/pki/keygen.js';
import {
  issueCertificate, nameDer, newSerial, basicConstraintsExt, keyUsageExt, extKeyUsageExt, subjectAltNameExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, keyIdentifier, pemOf, type SanInput, type ExtensionDer,
} from '../../src/pki/sign.js';

/** A certificate and key made for a synthetic tree. */
export interface Made { pem: string; keyPem: string; key: KeyObject; subject: Uint8Array; der: Uint8Array }

const DAY = 86400_000;

export async function makeCa(cn: string, notBefore: Date, days: number, keyType: KeyType = 'ecdsa-p256'): Promise<Made> {
  const key = await generateKey(keyType);
  const subject = nameDer([{ type: 'CN', value: cn }]);
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: subject, spki: spkiDer(key), serial: newSerial(), notBefore, notAfter: new Date(notBefore.getTime() + days * DAY),
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true), subjectKeyIdentifierExt(keyIdentifier(spkiDer(key)))],
    signingKey: key,
  });
  return { pem: pemOf(der), keyPem: privateKeyPem(key), key, subject, der };
}

export async function makeLeaf(ca: Made, cn: string, o: { orgs?: string[]; eku: string[]; sans?: SanInput[]; notBefore: Date; days: number; keyType?: KeyType; extra?: ExtensionDer[] }): Promise<Made> {
  const key = await generateKey(o.keyType ?? 'ecdsa-p256');
  const subject = nameDer([...(o.orgs ?? []).map((v) => ({ type: 'O' as const, value: v })), { type: 'CN', value: cn }]);
  const exts: ExtensionDer[] = [keyUsageExt(['digitalSignature']), extKeyUsageExt(o.eku), basicConstraintsExt(false), authorityKeyIdentifierExt(keyIdentifier(spkiDer(ca.key)))];
  if (o.sans?.length) exts.push(subjectAltNameExt(o.sans));
  exts.push(...(o.extra ?? []));
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: ca.subject, spki: spkiDer(key), serial: newSerial(), notBefore: o.notBefore, notAfter: new Date(o.notBefore.getTime() + o.days * DAY),
    extensions: exts, signingKey: ca.key,
  });
  return { pem: pemOf(der), keyPem: privateKeyPem(key), key, subject, der };
}

export function put(root: string, nodePath: string, data: string | Buffer, mode = 0o644): void {
  const p = path.join(root, nodePath);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data, { mode });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A k3s server node as spec §9.2 describes it: five CAs named `<prefix>-ca@<unix>`, leaf `.crt`
 * files holding leaf + issuing CA, EC P-256 keys, kubeconfigs in server/cred with file
 * references, an agent dir with the kubelet's pairs, and /etc/rancher/k3s/k3s.yaml with embedded
 * data. Issued at `issued`, leaves valid 365 days, CAs 10 years.
 */
export async function makeK3sTree(root: string, issued: Date): Promise<void> {
  const t = Math.floor(issued.getTime() / 1000);
  const tls = '/var/lib/rancher/k3s/server/tls';
  const [clientCa, serverCa, rhCa, etcdServerCa, etcdPeerCa] = await Promise.all(
    ['k3s-client', 'k3s-server', 'k3s-request-header', 'etcd-server', 'etcd-peer'].map((p) => makeCa(`${p}-ca@${t}`, issued, 3650)),
  ) as [Made, Made, Made, Made, Made];
  const cas: [string, Made][] = [['client-ca', clientCa], ['server-ca', serverCa], ['request-header-ca', rhCa], ['etcd/server-ca', etcdServerCa], ['etcd/peer-ca', etcdPeerCa]];
  for (const [n, ca] of cas) { put(root, `${tls}/${n}.crt`, ca.pem); put(root, `${tls}/${n}.key`, ca.keyPem, 0o600); }
  const leaf = (ca: Made, cn: string, eku: string[], orgs: string[] = [], sans: SanInput[] = []) => makeLeaf(ca, cn, { orgs, eku, sans, notBefore: issued, days: 365 });
  const apiSans: SanInput[] = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', 'k3s-1'].map((v) => ({ type: 'dns', value: v }) as SanInput)
    .concat([{ type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '10.43.0.1' }, { type: 'ip', value: '192.0.2.30' }]);
  const leaves: [string, Made, Promise<Made>][] = [
    ['client-admin', clientCa, leaf(clientCa, 'system:admin', ['clientAuth'], ['system:masters'])],
    ['client-controller', clientCa, leaf(clientCa, 'system:kube-controller-manager', ['clientAuth'])],
    ['client-scheduler', clientCa, leaf(clientCa, 'system:kube-scheduler', ['clientAuth'])],
    ['client-kube-apiserver', clientCa, leaf(clientCa, 'kube-apiserver', ['clientAuth'])],
    ['client-kube-proxy', clientCa, leaf(clientCa, 'system:kube-proxy', ['clientAuth'])],
    ['client-k3s-controller', clientCa, leaf(clientCa, 'system:k3s-controller', ['clientAuth'])],
    ['serving-kube-apiserver', serverCa, leaf(serverCa, 'kube-apiserver', ['serverAuth'], [], apiSans)],
    ['client-auth-proxy', rhCa, leaf(rhCa, 'system:auth-proxy', ['clientAuth'])],
    ['etcd/server-client', etcdServerCa, leaf(etcdServerCa, 'etcd-server', ['serverAuth', 'clientAuth'], [], [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }])],
    ['etcd/client', etcdServerCa, leaf(etcdServerCa, 'etcd-client', ['clientAuth'])],
    ['etcd/peer-server-client', etcdPeerCa, leaf(etcdPeerCa, 'etcd-peer', ['serverAuth', 'clientAuth'], [], [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '192.0.2.30' }])],
  ];
  for (const [n, ca, p] of leaves) {
    const l = await p;
    put(root, `${tls}/${n}.crt`, l.pem + ca.pem);
    put(root, `${tls}/${n}.key`, l.keyPem, 0o600);
  }
  const cred = '/var/lib/rancher/k3s/server/cred';
  put(root, `${cred}/admin.kubeconfig`, rancherKubeconfig('https://127.0.0.1:6444', `${tls}/server-ca.crt`, `${tls}/client-admin.crt`, `${tls}/client-admin.key`), 0o600);
  put(root, `${cred}/controller.kubeconfig`, rancherKubeconfig('https://127.0.0.1:6444', `${tls}/server-ca.crt`, `${tls}/client-controller.crt`, `${tls}/client-controller.key`), 0o600);
  // agent: its own kubelet pairs and copies of the CAs
  const agent = '/var/lib/rancher/k3s/agent';
  const kubeletClient = await leaf(clientCa, 'system:node:k3s-1', ['clientAuth'], ['system:nodes']);
  const kubeletServing = await leaf(serverCa, 'k3s-1', ['serverAuth'], [], [{ type: 'dns', value: 'k3s-1' }, { type: 'ip', value: '192.0.2.30' }]);
  put(root, `${agent}/client-kubelet.crt`, kubeletClient.pem + clientCa.pem);
  put(root, `${agent}/client-kubelet.key`, kubeletClient.keyPem, 0o600);
  put(root, `${agent}/serving-kubelet.crt`, kubeletServing.pem + serverCa.pem);
  put(root, `${agent}/serving-kubelet.key`, kubeletServing.keyPem, 0o600);
  put(root, `${agent}/client-ca.crt`, clientCa.pem);
  put(root, `${agent}/server-ca.crt`, serverCa.pem);
  put(root, `${agent}/kubelet.kubeconfig`, rancherKubeconfig('https://127.0.0.1:6443', `${agent}/server-ca.crt`, `${agent}/client-kubelet.crt`, `${agent}/client-kubelet.key`), 0o600);
  const admin = await leaf(clientCa, 'system:admin', ['clientAuth'], ['system:masters']);
  put(root, '/etc/rancher/k3s/k3s.yaml', k3sYaml(serverCa.pem, admin.pem + clientCa.pem, admin.keyPem), 0o600);
}

/** /etc/rancher/k3s/k3s.yaml as k3s writes it: the server CA, and the admin chain and key embedded. */
export function k3sYaml(serverCaPem: string, clientChainPem: string, clientKeyPem: string): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${b64(serverCaPem)}
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: ${b64(clientChainPem)}
    client-key-data: ${b64(clientKeyPem)}
`;
}

/**
 * Replace a kubeadm tree's kubelet.crt (leaf + throwaway CA) with one self-signed certificate, CA:TRUE, as
 * kubelets before 1.11 made it (CN `<host>@<unix time>`, issuer = subject) and admins make it with openssl.
 */
export async function putSelfSignedKubeletCrt(root: string, notBefore: Date, days: number): Promise<Made> {
  const made = await makeCa('cp-1@1763768165', notBefore, days);
  put(root, '/var/lib/kubelet/pki/kubelet.crt', made.pem);
  put(root, '/var/lib/kubelet/pki/kubelet.key', made.keyPem, 0o600);
  return made;
}

/** deps.KubeConfig's template (0600). */
export function rancherKubeconfig(server: string, ca: string, cert: string, key: string): string {
  return `apiVersion: v1
clusters:
- cluster:
    server: ${server}
    certificate-authority: ${ca}
  name: local
contexts:
- context:
    cluster: local
    namespace: default
    user: user
  name: Default
current-context: Default
kind: Config
preferences: {}
users:
- name: user
  user:
    client-certificate: ${cert}
    client-key: ${key}
`;
}
