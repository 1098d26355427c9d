import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import type { KeyObject } from 'node:crypto';
import { generateKey, privateKeyPem, publicKeyPem, spkiDer, type KeyType } from '../pki/keygen.js';
import {
  issueCertificate, nameDer, newSerial, basicConstraintsExt, keyUsageExt, extKeyUsageExt, subjectAltNameExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, keyIdentifier, pemOf, type ExtensionDer, type SanInput,
} from '../pki/sign.js';

/**
 * A throwaway kubeadm control-plane node whose leaf certificates expired, made
 * by our own signer (not copied from fixtures): three CAs still valid, every
 * leaf issued 400 days before `now`, kubeconfigs with embedded client
 * certificates, and a kubelet with what it writes itself: its client pair
 * rotated behind the `-current` symlink (ECDSA P-256, as the kubelet makes it)
 * and its self-signed serving pair, next to kubeadm's kubeadm-flags.env.
 * kubeadm's keys are ECDSA P-256 unless `keyType` says otherwise: that keeps the
 * demo fast; kubeadm itself makes RSA 2048 keys (`rsa-2048`, a second or two more here).
 */
export interface DemoTree { root: string; nodeName: string }
export interface DemoOptions { keyType?: 'ecdsa-p256' | 'rsa-2048' }

const DAY = 86400_000;

/** YAML as Go's libraries write it (kubeadm, client-go): a mapping's sequence at the key's indentation. */
const goYaml = (v: unknown): string => stringify(v, { indentSeq: false });

interface Issued { certPem: string; keyPem: string; der: Uint8Array; key: KeyObject; subject: Uint8Array }

async function makeCa(cn: string, now: Date, keyType: KeyType): Promise<Issued> {
  const key = await generateKey(keyType);
  const subject = nameDer([{ type: 'CN', value: cn }]);
  const der = await issueCertificate({
    subjectDer: subject, issuerDer: subject, spki: spkiDer(key), serial: newSerial(),
    notBefore: new Date(now.getTime() - 400 * DAY), notAfter: new Date(now.getTime() + 3250 * DAY),
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true), subjectKeyIdentifierExt(keyIdentifier(spkiDer(key))), subjectAltNameExt([{ type: 'dns', value: cn }])],
    signingKey: key,
  });
  return { certPem: pemOf(der), keyPem: privateKeyPem(key), der, key, subject };
}

async function makeLeaf(ca: Issued, cn: string, orgs: string[], eku: string[], sans: SanInput[], now: Date, keyType: KeyType): Promise<Issued> {
  const key = await generateKey(keyType);
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
  return goYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(ca.certPem), server }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user }, name: `${user}@kubernetes` }],
    'current-context': `${user}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: user, user: { 'client-certificate-data': b64(leaf.certPem), 'client-key-data': b64(leaf.keyPem) } }],
  });
}

/** A static pod manifest in the shape kubeadm writes (v1.26): its flags, probes, requests and hostPath mounts. */
function staticPod(o: {
  name: string; image: string; flags: string[]; cpu: string; memory?: string; port: number; probeHost: string; scheme: 'HTTP' | 'HTTPS';
  live: string; ready?: string; startup?: string; annotations?: Record<string, string>; volumes: { name: string; path: string; type: string; readOnly: boolean }[];
}): unknown {
  const probe = (p: string, failureThreshold: number) => ({
    failureThreshold, httpGet: { host: o.probeHost, path: p, port: o.port, scheme: o.scheme }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 15,
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...(o.annotations ? { annotations: o.annotations } : {}), creationTimestamp: null, labels: { component: o.name, tier: 'control-plane' }, name: o.name, namespace: 'kube-system' },
    spec: {
      containers: [{
        command: [o.name, ...o.flags],
        image: o.image,
        imagePullPolicy: 'IfNotPresent',
        livenessProbe: probe(o.live, 8),
        name: o.name,
        ...(o.ready ? { readinessProbe: { ...probe(o.ready, 3), periodSeconds: 1 } } : {}),
        resources: { requests: { cpu: o.cpu, ...(o.memory ? { memory: o.memory } : {}) } },
        startupProbe: probe(o.startup ?? o.live, 24),
        volumeMounts: o.volumes.map((v) => ({ mountPath: v.path, name: v.name, ...(v.readOnly ? { readOnly: true } : {}) })),
      }],
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [...o.volumes].sort((a, b) => (a.name < b.name ? -1 : 1)).map((v) => ({ hostPath: { path: v.path, type: v.type }, name: v.name })),
    },
    status: {},
  };
}

/** The KubeletConfiguration kubeadm writes to /var/lib/kubelet/config.yaml (v1.26 defaults). */
function kubeletConfig(pki: string): unknown {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    authentication: { anonymous: { enabled: false }, webhook: { cacheTTL: '0s', enabled: true }, x509: { clientCAFile: `${pki}/ca.crt` } },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    kind: 'KubeletConfiguration',
    logging: { flushFrequency: 0, options: { json: { infoBufferSize: '0' } }, verbosity: 0 },
    memorySwap: {},
    rotateCertificates: true,
    runtimeRequestTimeout: '0s',
    shutdownGracePeriod: '0s',
    staticPodPath: '/etc/kubernetes/manifests',
    streamingConnectionIdleTimeout: '0s',
    syncFrequency: '0s',
    volumeStatsAggPeriod: '0s',
  };
}

/**
 * The kubelet's self-signed serving pair (no serverTLSBootstrap): kubelet.crt holds its leaf and the CA made
 * for it, CN `<node>@<unix time>` and `<node>-ca@<unix time>`, both for a year from the kubelet's first start,
 * as client-go's GenerateSelfSignedCertKeyWithFixtures writes them (spec §7.1).
 */
async function kubeletServingPair(node: string, since: Date, keyType: KeyType): Promise<{ certPem: string; keyPem: string }> {
  const unix = Math.floor(since.getTime() / 1000);
  const [caKey, key] = await Promise.all([generateKey(keyType), generateKey(keyType)]);
  const caName = nameDer([{ type: 'CN', value: `${node}-ca@${unix}` }]);
  const validity = { notBefore: since, notAfter: new Date(since.getTime() + 365 * DAY) };
  const caDer = await issueCertificate({
    subjectDer: caName, issuerDer: caName, spki: spkiDer(caKey), serial: newSerial(), ...validity,
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), basicConstraintsExt(true)],
    signingKey: caKey,
  });
  const der = await issueCertificate({
    subjectDer: nameDer([{ type: 'CN', value: `${node}@${unix}` }]), issuerDer: caName, spki: spkiDer(key), serial: newSerial(), ...validity,
    extensions: [keyUsageExt(['digitalSignature', 'keyEncipherment']), extKeyUsageExt(['serverAuth']), basicConstraintsExt(false), subjectAltNameExt([{ type: 'dns', value: node }])],
    signingKey: caKey,
  });
  return { certPem: pemOf(der) + pemOf(caDer), keyPem: privateKeyPem(key) };
}

export async function makeDemoTree(root: string, now: Date, opts: DemoOptions = {}): Promise<DemoTree> {
  const keyType: KeyType = opts.keyType ?? 'ecdsa-p256';
  const node = 'demo-cp-1';
  const adv = '192.0.2.10';
  const [ca, etcdCa, fpCa] = await Promise.all([makeCa('kubernetes', now, keyType), makeCa('etcd-ca', now, keyType), makeCa('front-proxy-ca', now, keyType)]);
  const dns = (v: string): SanInput => ({ type: 'dns', value: v });
  const ip = (v: string): SanInput => ({ type: 'ip', value: v });
  const leaves = await Promise.all([
    makeLeaf(ca, 'kube-apiserver', [], ['serverAuth'], [dns(node), dns('kubernetes'), dns('kubernetes.default'), dns('kubernetes.default.svc'), dns('kubernetes.default.svc.cluster.local'), ip('10.96.0.1'), ip(adv)], now, keyType),
    makeLeaf(ca, 'kube-apiserver-kubelet-client', ['system:masters'], ['clientAuth'], [], now, keyType),
    makeLeaf(fpCa, 'front-proxy-client', [], ['clientAuth'], [], now, keyType),
    makeLeaf(etcdCa, node, [], ['serverAuth', 'clientAuth'], [dns(node), dns('localhost'), ip(adv), ip('127.0.0.1'), ip('::1')], now, keyType),
    makeLeaf(etcdCa, node, [], ['serverAuth', 'clientAuth'], [dns(node), dns('localhost'), ip(adv), ip('127.0.0.1'), ip('::1')], now, keyType),
    makeLeaf(etcdCa, 'kube-etcd-healthcheck-client', ['system:masters'], ['clientAuth'], [], now, keyType),
    makeLeaf(etcdCa, 'kube-apiserver-etcd-client', ['system:masters'], ['clientAuth'], [], now, keyType),
    makeLeaf(ca, 'kubernetes-admin', ['system:masters'], ['clientAuth'], [], now, keyType),
    makeLeaf(ca, 'system:kube-controller-manager', [], ['clientAuth'], [], now, keyType),
    makeLeaf(ca, 'system:kube-scheduler', [], ['clientAuth'], [], now, keyType),
    makeLeaf(ca, `system:node:${node}`, ['system:nodes'], ['clientAuth'], [], now, 'ecdsa-p256'), // (the kubelet's own key type)
  ]);
  const [apiserver, kubeletClient, fpClient, etcdServer, etcdPeer, healthcheck, etcdClient, admin, cm, sched, kubelet] = leaves as Issued[] as [Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued, Issued];
  const pki = '/etc/kubernetes/pki';
  const pair = (base: string, x: Issued) => { write(root, `${pki}/${base}.crt`, x.certPem, 0o644); write(root, `${pki}/${base}.key`, x.keyPem, 0o600); };
  pair('ca', ca); pair('etcd/ca', etcdCa); pair('front-proxy-ca', fpCa);
  pair('apiserver', apiserver); pair('apiserver-kubelet-client', kubeletClient); pair('front-proxy-client', fpClient);
  pair('etcd/server', etcdServer); pair('etcd/peer', etcdPeer); pair('etcd/healthcheck-client', healthcheck); pair('apiserver-etcd-client', etcdClient);
  const sa = await generateKey(keyType);
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
  write(root, '/etc/kubernetes/kubelet.conf', goYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'), server: endpoint }, name: 'kubernetes' }],
    contexts: [{ context: { cluster: 'kubernetes', user: `system:node:${node}` }, name: `system:node:${node}@kubernetes` }],
    'current-context': `system:node:${node}@kubernetes`,
    kind: 'Config',
    preferences: {},
    users: [{ name: `system:node:${node}`, user: { 'client-certificate': '/var/lib/kubelet/pki/kubelet-client-current.pem', 'client-key': '/var/lib/kubelet/pki/kubelet-client-current.pem' } }],
  }), 0o600);
  const serving = await kubeletServingPair(node, new Date(now.getTime() - 400 * DAY), keyType);
  write(root, '/var/lib/kubelet/pki/kubelet.crt', serving.certPem, 0o644);
  write(root, '/var/lib/kubelet/pki/kubelet.key', serving.keyPem, 0o600);
  // (what kubeadm init and join write for the kubelet's flags)
  write(root, '/var/lib/kubelet/kubeadm-flags.env', `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --hostname-override=${node} --pod-infra-container-image=registry.k8s.io/pause:3.9"\n`, 0o644);
  write(root, '/var/lib/kubelet/config.yaml', goYaml(kubeletConfig(pki)), 0o644);
  const version = 'v1.26.1';
  const hostPath = (name: string, p: string, type: string, readOnly = true) => ({ name, path: p, type, readOnly });
  write(root, '/etc/kubernetes/manifests/kube-apiserver.yaml', goYaml(staticPod({
    name: 'kube-apiserver', image: `registry.k8s.io/kube-apiserver:${version}`, cpu: '250m', port: 6443, probeHost: adv, scheme: 'HTTPS',
    live: '/livez', ready: '/readyz', annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${adv}:6443` },
    flags: [
      `--advertise-address=${adv}`, '--allow-privileged=true', '--authorization-mode=Node,RBAC', `--client-ca-file=${pki}/ca.crt`,
      '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true',
      `--etcd-cafile=${pki}/etcd/ca.crt`, `--etcd-certfile=${pki}/apiserver-etcd-client.crt`, `--etcd-keyfile=${pki}/apiserver-etcd-client.key`, '--etcd-servers=https://127.0.0.1:2379',
      `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`, `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`, '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      `--proxy-client-cert-file=${pki}/front-proxy-client.crt`, `--proxy-client-key-file=${pki}/front-proxy-client.key`,
      '--requestheader-allowed-names=front-proxy-client', `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`, '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--requestheader-group-headers=X-Remote-Group', '--requestheader-username-headers=X-Remote-User', '--secure-port=6443',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local', `--service-account-key-file=${pki}/sa.pub`, `--service-account-signing-key-file=${pki}/sa.key`,
      '--service-cluster-ip-range=10.96.0.0/12', `--tls-cert-file=${pki}/apiserver.crt`, `--tls-private-key-file=${pki}/apiserver.key`,
    ],
    volumes: [hostPath('ca-certs', '/etc/ssl/certs', 'DirectoryOrCreate'), hostPath('etc-ca-certificates', '/etc/ca-certificates', 'DirectoryOrCreate'), hostPath('k8s-certs', pki, 'DirectoryOrCreate')],
  })), 0o600);
  write(root, '/etc/kubernetes/manifests/kube-controller-manager.yaml', goYaml(staticPod({
    name: 'kube-controller-manager', image: `registry.k8s.io/kube-controller-manager:${version}`, cpu: '200m', port: 10257, probeHost: '127.0.0.1', scheme: 'HTTPS', live: '/healthz',
    flags: [
      '--allocate-node-cidrs=true', '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf', '--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf',
      '--bind-address=127.0.0.1', `--client-ca-file=${pki}/ca.crt`, '--cluster-cidr=10.244.0.0/16', '--cluster-name=kubernetes',
      `--cluster-signing-cert-file=${pki}/ca.crt`, `--cluster-signing-key-file=${pki}/ca.key`, '--controllers=*,bootstrapsigner,tokencleaner',
      '--kubeconfig=/etc/kubernetes/controller-manager.conf', '--leader-elect=true', `--requestheader-client-ca-file=${pki}/front-proxy-ca.crt`,
      `--root-ca-file=${pki}/ca.crt`, `--service-account-private-key-file=${pki}/sa.key`, '--service-cluster-ip-range=10.96.0.0/12', '--use-service-account-credentials=true',
    ],
    volumes: [hostPath('ca-certs', '/etc/ssl/certs', 'DirectoryOrCreate'), hostPath('k8s-certs', pki, 'DirectoryOrCreate'), hostPath('kubeconfig', '/etc/kubernetes/controller-manager.conf', 'FileOrCreate')],
  })), 0o600);
  write(root, '/etc/kubernetes/manifests/kube-scheduler.yaml', goYaml(staticPod({
    name: 'kube-scheduler', image: `registry.k8s.io/kube-scheduler:${version}`, cpu: '100m', port: 10259, probeHost: '127.0.0.1', scheme: 'HTTPS', live: '/healthz',
    flags: ['--authentication-kubeconfig=/etc/kubernetes/scheduler.conf', '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true'],
    volumes: [hostPath('kubeconfig', '/etc/kubernetes/scheduler.conf', 'FileOrCreate')],
  })), 0o600);
  write(root, '/etc/kubernetes/manifests/etcd.yaml', goYaml(staticPod({
    name: 'etcd', image: 'registry.k8s.io/etcd:3.5.6-0', cpu: '100m', memory: '100Mi', port: 2381, probeHost: '127.0.0.1', scheme: 'HTTP',
    live: '/health?exclude=NOSPACE&serializable=true', startup: '/health?serializable=false', annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${adv}:2379` },
    flags: [
      `--advertise-client-urls=https://${adv}:2379`, `--cert-file=${pki}/etcd/server.crt`, '--client-cert-auth=true', '--data-dir=/var/lib/etcd',
      `--initial-advertise-peer-urls=https://${adv}:2380`, `--initial-cluster=${node}=https://${adv}:2380`, `--key-file=${pki}/etcd/server.key`,
      `--listen-client-urls=https://127.0.0.1:2379,https://${adv}:2379`, '--listen-metrics-urls=http://127.0.0.1:2381', `--listen-peer-urls=https://${adv}:2380`,
      `--name=${node}`, `--peer-cert-file=${pki}/etcd/peer.crt`, '--peer-client-cert-auth=true', `--peer-key-file=${pki}/etcd/peer.key`,
      `--peer-trusted-ca-file=${pki}/etcd/ca.crt`, '--snapshot-count=10000', `--trusted-ca-file=${pki}/etcd/ca.crt`,
    ],
    volumes: [hostPath('etcd-data', '/var/lib/etcd', 'DirectoryOrCreate', false), hostPath('etcd-certs', `${pki}/etcd`, 'DirectoryOrCreate', false)],
  })), 0o600);
  return { root, nodeName: node };
}
