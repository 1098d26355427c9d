/**
 * Turn a RebuildPlan into file contents: generate every new key at once (in
 * parallel on the libuv pool — this is where the time goes), sign the CAs,
 * then every leaf and kubeconfig in parallel, render sa.pub and the static pod
 * manifests. Returns what to write; writing is `writeRebuild`'s job.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { parsePrivateKeyBlock, PRIVATE_KEY_LABELS } from '../pki/keys.js';
import { generateKey, privateKeyPem, publicKeyPem } from '../pki/keygen.js';
import { keyIdentifier, pemOf } from '../pki/sign.js';
import { renderManifest } from '../manifests/static-pods.js';
import type { RebuildPlan, RebuildCertItem, RebuildKubeconfigItem, RebuildSaItem } from '../plan/rebuild.js';
import type { RebuildSettings } from './settings.js';
import { issueCa, issueLeaf, subjectDer } from './issue.js';
import { renderKubeconfig } from './kubeconfig-create.js';
import { kubeletClientPemChanges } from './kubelet-credentials.js';

export interface FileWrite {
  /** node path */
  path: string;
  content: string;
  mode: number;
  /** replaces an existing file (back it up first) */
  replace: boolean;
  /** a symlink whose target (node path) is `content` — the kubelet's `-current` swap */
  link?: boolean;
}

export interface RebuildOutput {
  files: FileWrite[];
  /** how many keys were generated */
  keysGenerated: number;
}

export interface ExecuteOptions {
  fs: NodeFs;
  plan: RebuildPlan;
  settings: RebuildSettings;
  /** key generator (tests and benches may count or replace it) */
  generate?: typeof generateKey;
}

function loadKey(fs: NodeFs, path: string): KeyObject {
  const text = fs.readFile(path).toString('utf8');
  const block = parsePemBlocks(text).find((b) => PRIVATE_KEY_LABELS[b.label]);
  if (!block) throw new Error(`no private key in ${path}`);
  const info = parsePrivateKeyBlock(block.label, block.der, block.headers);
  if (!info.keyObject) throw new Error(`${path} is encrypted`);
  return info.keyObject;
}

function loadCert(fs: NodeFs, path: string): Certificate {
  const block = parsePemBlocks(fs.readFile(path).toString('utf8')).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new Error(`no certificate in ${path}`);
  return new Certificate(block.der);
}

interface CaMaterial { cert: Certificate; pem: string; key?: KeyObject }

export async function executeRebuild(o: ExecuteOptions): Promise<RebuildOutput> {
  const { fs, plan, settings } = o;
  const gen = o.generate ?? generateKey;
  const files: FileWrite[] = [];
  const certItems = plan.items.filter((i): i is RebuildCertItem => i.kind === 'ca' || i.kind === 'leaf');
  const kcItems = plan.items.filter((i): i is RebuildKubeconfigItem => i.kind === 'kubeconfig' && i.action !== 'keep');
  const sa = plan.items.find((i): i is RebuildSaItem => i.kind === 'sa');

  // 1. Every key at once.
  type KeyJob = { id: string; type: RebuildCertItem['keyType'] };
  const jobs: KeyJob[] = [];
  for (const i of certItems) if (i.action !== 'keep' && i.key === 'new') jobs.push({ id: `cert:${i.name}`, type: i.keyType });
  for (const i of kcItems) if (!i.kubeletClient?.reuse) jobs.push({ id: `kc:${i.name}`, type: i.keyType });
  if (sa && sa.key === 'new') jobs.push({ id: 'sa', type: sa.keyType });
  const generated = await Promise.all(jobs.map((j) => gen(j.type)));
  const keys = new Map<string, KeyObject>(jobs.map((j, n) => [j.id, generated[n]!]));
  for (const i of certItems) if (i.key === 'reuse') keys.set(`cert:${i.name}`, loadKey(fs, i.keyPath));

  // 2. CAs.
  const cas = new Map<string, CaMaterial>();
  await Promise.all(certItems.filter((i) => i.kind === 'ca').map(async (i) => {
    if (i.action === 'keep') {
      const cert = loadCert(fs, i.certPath);
      const key = fs.exists(i.keyPath) ? loadKey(fs, i.keyPath) : undefined;
      cas.set(i.name, { cert, pem: cert.toPem(), key });
      return;
    }
    const key = keys.get(`cert:${i.name}`)!;
    const der = await issueCa({ subject: i.subject, sans: i.sans, key, notBefore: new Date(i.notBefore!), notAfter: new Date(i.notAfter!) });
    const pem = pemOf(der);
    cas.set(i.name, { cert: new Certificate(der), pem, key });
    if (i.key !== 'reuse') files.push({ path: i.keyPath, content: privateKeyPem(key), mode: 0o600, replace: i.action === 'replace' });
    files.push({ path: i.certPath, content: pem, mode: 0o644, replace: i.action === 'replace' });
  }));
  const caKeyId = (ca: CaMaterial): Uint8Array => {
    const ski = ca.cert.extension('2.5.29.14');
    // SKI value is an OCTET STRING: skip tag and length
    if (ski && ski.value.length > 2 && ski.value[0] === 0x04) return ski.value.subarray(2);
    return keyIdentifier(ca.cert.spkiRaw);
  };
  const signer = (name: string): CaMaterial & { key: KeyObject } => {
    const ca = cas.get(name);
    if (!ca?.key) throw new Error(`internal: ${name} has no key to sign with`);
    return ca as CaMaterial & { key: KeyObject };
  };

  // 3. Leaves and kubeconfigs, in parallel.
  const leafJobs = certItems.filter((i) => i.kind === 'leaf' && i.action !== 'keep').map(async (i) => {
    const ca = signer(i.caName!);
    const key = keys.get(`cert:${i.name}`)!;
    const der = await issueLeaf({
      subject: i.subject, sans: i.sans, usages: i.usages, key: i.key === 'reuse' ? createPublicKey(key) : key,
      caSubjectDer: ca.cert.subjectRaw, caKeyId: caKeyId(ca), caKey: ca.key,
      notBefore: new Date(i.notBefore!), notAfter: new Date(i.notAfter!),
    });
    // kubeadm writes the key first, then the certificate
    if (i.key !== 'reuse') files.push({ path: i.keyPath, content: privateKeyPem(key), mode: 0o600, replace: i.action === 'replace' });
    files.push({ path: i.certPath, content: pemOf(der), mode: 0o644, replace: i.action === 'replace' });
  });
  const kcJobs = kcItems.map(async (i) => {
    const ca = signer('ca');
    if (i.kubeletClient) {
      // kubelet.conf as kubeadm's kubelet-finalize leaves it: the client certificate in the kubelet's
      // rotation store (a new timestamped pem + `-current`, unless a valid one is there) and referenced
      const kc = i.kubeletClient;
      if (!kc.reuse) {
        const changes = await kubeletClientPemChanges({
          subject: i.subject, usages: ['digitalSignature', 'keyEncipherment'], key: keys.get(`kc:${i.name}`)!,
          notBefore: new Date(i.notBefore!), notAfter: new Date(i.notAfter!), ca, pemPath: kc.pem!, currentPath: kc.current,
        });
        for (const c of changes) {
          if (c.op === 'write') files.push({ path: c.path, content: c.content.toString('utf8'), mode: c.mode ?? 0o600, replace: fs.exists(c.path) });
          else if (c.op === 'symlink') files.push({ path: c.path, content: c.target, mode: 0o777, replace: fs.lstat(c.path) !== undefined, link: true });
        }
      }
      files.push({
        path: i.path, mode: 0o600, replace: i.action === 'replace',
        content: renderKubeconfig({ clusterName: i.clusterName, server: i.server, caPem: ca.pem, userName: i.subject.cn, clientCertFile: kc.current, clientKeyFile: kc.current }),
      });
      return;
    }
    const key = keys.get(`kc:${i.name}`)!;
    const der = await issueLeaf({
      subject: i.subject, sans: { dns: [], ips: [] }, usages: ['clientAuth'], key,
      caSubjectDer: ca.cert.subjectRaw, caKeyId: caKeyId(ca), caKey: ca.key,
      notBefore: new Date(i.notBefore!), notAfter: new Date(i.notAfter!),
    });
    files.push({
      path: i.path, mode: 0o600, replace: i.action === 'replace',
      content: renderKubeconfig({ clusterName: i.clusterName, server: i.server, caPem: ca.pem, userName: i.subject.cn, clientCertPem: pemOf(der), clientKeyPem: privateKeyPem(key) }),
    });
  });
  await Promise.all([...leafJobs, ...kcJobs]);

  // 4. Service-account keys (sa.pub is written with the key writer: 0600, spec §3).
  if (sa && sa.action !== 'keep') {
    const key = sa.key === 'new' ? keys.get('sa')! : loadKey(fs, sa.keyPath);
    if (sa.key === 'new') files.push({ path: sa.keyPath, content: privateKeyPem(key), mode: 0o600, replace: sa.action === 'replace' });
    files.push({ path: sa.pubPath, content: publicKeyPem(key), mode: 0o600, replace: sa.action === 'replace' });
  }

  // 5. Static pod manifests.
  const externalCA = certItems.some((i) => i.name === 'ca' && i.action === 'keep' && !cas.get('ca')?.key);
  for (const i of plan.items) {
    if (i.kind !== 'manifest' || i.action === 'keep') continue;
    files.push({ path: i.path, content: renderManifest(i.manifest, { ...settings, externalCA, etcdMembership: i.etcd, extras: plan.manifestExtras }), mode: 0o600, replace: i.action === 'replace' });
  }
  files.sort((a, b) => order(a.path) - order(b.path));
  return { files, keysGenerated: jobs.length };
}

/** Keys before certificates (kubeadm's order), PKI before kubeconfigs before manifests. */
function order(p: string): number {
  const rank = p.includes('/pki/') ? 0 : p.includes('/manifests/') ? 2 : 1;
  return rank * 10 + (p.endsWith('.key') ? 0 : 1);
}

export { subjectDer };
