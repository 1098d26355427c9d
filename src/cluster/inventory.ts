/**
 * `check --cluster`: the certificates that live in the cluster rather than on
 * a node — `kubernetes.io/tls` Secrets (ingress), the CA bundles in the
 * `kube-root-ca.crt` and `extension-apiserver-authentication` ConfigMaps,
 * webhook and APIService `caBundle`s, and certificates issued through CSRs —
 * as CertEntry rows with the same findings (expired, expiring, not yet valid,
 * a leaf whose chain does not fit) as certificates on disk.
 */
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks, PemError } from '../pki/pem.js';
import { parsePrivateKeyBlock, PRIVATE_KEY_LABELS, KeyError, samePublicKey } from '../pki/keys.js';
import { parseThresholdOrThrow } from '../inventory/classify.js';
import { certFacts, withEagerDigests } from '../inventory/describe.js';
import { inWarningWindow, humanDuration } from '../inventory/time.js';
import { nextStep, isAuthority } from '../inventory/next.js';
import { summarize, bundleChainMismatch } from '../inventory/read.js';
import type { CertEntry, CertLocation, Finding } from '../inventory/types.js';
import { httpStatus, apiError, type ClusterClient } from './connect.js';
import { readClusterInfo } from './cluster-info.js';

type ClusterKind = NonNullable<CertLocation['cluster']>['kind'];

/** One place a PEM value was found in the cluster. */
export interface ClusterPemSource {
  kind: ClusterKind;
  namespace?: string;
  name: string;
  key: string;
  /** PEM text (already base64-decoded for Secret data / caBundle / status.certificate) */
  pem: string;
  /**
   * For a TLS Secret's tls.crt: what its tls.key holds. The key is parsed only to
   * compare its public half with the certificate's, then dropped; never kept or shown.
   */
  tlsKey?: TlsKeyState;
}

export type TlsKeyState =
  | { state: 'missing' }
  | { state: 'unreadable'; why: string }
  | { state: 'encrypted' }
  | { state: 'ok'; spki: Uint8Array };

/** What a TLS Secret's base64 tls.key value holds (see ClusterPemSource.tlsKey). */
export function tlsKeyState(value: string | undefined): TlsKeyState {
  const text = value ? Buffer.from(value, 'base64').toString('latin1') : '';
  if (text.trim() === '') return { state: 'missing' };
  try {
    const block = parsePemBlocks(text).find((b) => b.label in PRIVATE_KEY_LABELS);
    if (!block) return { state: 'unreadable', why: 'no PRIVATE KEY block' };
    const info = parsePrivateKeyBlock(block.label, block.der, block.headers);
    if (info.encrypted) return { state: 'encrypted' };
    return info.spki ? { state: 'ok', spki: info.spki } : { state: 'unreadable', why: 'no public key' };
  } catch (e) {
    return { state: 'unreadable', why: e instanceof KeyError || e instanceof PemError ? e.message : 'not a PEM private key' };
  }
}

export interface ClusterCertificates {
  certificates: CertEntry[];
  /** every finding: those of the certificates plus unreadable values */
  findings: Finding[];
}

const SHORT: Record<ClusterKind, string> = {
  Secret: 'secret',
  ConfigMap: 'configmap',
  MutatingWebhookConfiguration: 'mutatingwebhookconfiguration',
  ValidatingWebhookConfiguration: 'validatingwebhookconfiguration',
  APIService: 'apiservice',
  CertificateSigningRequest: 'csr',
};

/** `secret/demo/app-tls` (namespaced) or `apiservice/v1beta1.metrics.k8s.io`. */
export function objectName(s: Pick<ClusterPemSource, 'kind' | 'namespace' | 'name'>): string {
  return `${SHORT[s.kind]}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
}

const day = (iso: string) => iso.slice(0, 10);
const b64 = (s: string | undefined | null) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/**
 * Pure: CertEntry rows for PEM values found in the cluster. Identical
 * certificates (the cluster CA is in many bundles) become one row whose
 * `copies` name the other places.
 */
export function clusterCertEntries(sources: ClusterPemSource[], now: Date, warn?: string): ClusterCertificates {
  const threshold = parseThresholdOrThrow(warn);
  const findings: Finding[] = [];
  const byFp = new Map<string, { entry: CertEntry; cert: Certificate }>();
  const all: { entry: CertEntry; cert: Certificate }[] = [];
  for (const src of sources) {
    const obj = objectName(src);
    const file = `${obj}:${src.key}`;
    let certs: Certificate[];
    try {
      certs = parsePemBlocks(src.pem).filter((b) => b.label === 'CERTIFICATE').map((b) => new Certificate(b.der));
      if (certs.length === 0) throw new Error('no CERTIFICATE block');
    } catch (e) {
      findings.push({ code: 'corrupt', severity: 'error', file, message: `${obj}: ${src.key} holds no readable certificate (${(e as Error).message})` });
      continue;
    }
    // each certificate's row: its own, or that of the same certificate read before (the leaf, for its chain's finding)
    const rows: CertEntry[] = [];
    certs.forEach((c, index) => {
      const location: CertLocation = { file, kind: 'pem', index, cluster: { kind: src.kind, ...(src.namespace ? { namespace: src.namespace } : {}), name: src.name, key: src.key } };
      const fp = c.fingerprint256;
      const seen = byFp.get(fp);
      if (seen) {
        rows.push(seen.entry);
        (seen.entry.copies ??= []).push(location);
        // the same certificate in another Secret (a wildcard copied to many namespaces): that Secret's key is checked too
        if (index === 0 && src.tlsKey) seen.entry.findings.push(...secretKeyFindings(src.tlsKey, c, seen.entry.id, obj, file));
        return;
      }
      const name = certs.length > 1 ? `${obj} ${src.key}[${index}]` : src.kind === 'Secret' && src.key === 'tls.crt' ? obj : `${obj} ${src.key}`;
      const selfSigned = c.isSelfIssued && c.verifySignedBy(c);
      const entry: CertEntry = {
        id: `${file}#${index}`,
        name,
        location,
        ...certFacts(c, now),
        selfSigned,
        authority: isAuthority({ name, isCA: c.isCA, selfSigned }),
        // a TLS Secret's tls.key is compared with tls.crt (never kept or shown); other sources carry no key
        privateKey: index === 0 && src.tlsKey ? secretKeyFacts(src.tlsKey, c) : { present: false },
        components: [],
        managedBy: src.kind === 'CertificateSigningRequest' ? 'kubelet' : 'manual',
        layout: 'generic',
        status: 'ok',
        findings: [],
      };
      withEagerDigests(entry, c);
      if (index === 0 && src.tlsKey) entry.findings.push(...secretKeyFindings(src.tlsKey, c, entry.id, obj, file));
      const rec = { entry, cert: c };
      byFp.set(fp, rec);
      all.push(rec);
      rows.push(entry);
    });
    // a leaf with the rest of the value as its chain (a Secret's tls.crt: leaf + intermediates), as check does for files
    const mismatch = bundleChainMismatch(file, rows[0]!.id, certs);
    if (mismatch) rows[0]!.findings.push(mismatch);
  }
  // signer within what was read (the cluster CA is in kube-root-ca.crt)
  for (const r of all) {
    if (r.entry.selfSigned) continue;
    const signer = all.find((s) => s !== r && s.entry.isCA && Buffer.compare(Buffer.from(s.cert.subjectRaw), Buffer.from(r.cert.issuerRaw)) === 0 && r.cert.verifySignedBy(s.cert));
    if (signer) { r.entry.signedBy = signer.entry.id; r.entry.signerName = signer.entry.name; }
  }
  for (const { entry: e, cert: c } of all) {
    const add = (f: Omit<Finding, 'certificate' | 'file'>) => e.findings.push({ ...f, certificate: e.id, file: e.location.file });
    if (now.getTime() > c.notAfter.getTime()) {
      add({ code: 'expired', severity: 'error', message: `${e.name} (${e.location.cluster!.key}) expired on ${day(e.notAfter)} (${Math.floor(-e.residualSeconds / 86400)}d ago)` });
    } else if (now.getTime() < c.notBefore.getTime()) {
      add({ code: 'not-yet-valid', severity: 'error', message: `${e.name} (${e.location.cluster!.key}) is not valid until ${e.notBefore}` });
    } else if (inWarningWindow(threshold, c.notBefore, c.notAfter, now)) {
      add({ code: 'expiring', severity: 'warning', message: `${e.name} (${e.location.cluster!.key}) expires in ${humanDuration(e.residualSeconds)} on ${day(e.notAfter)} (threshold ${threshold.text})` });
    }
    e.status = e.findings.some((f) => f.code === 'expired') ? 'expired' : e.findings.some((f) => f.code === 'not-yet-valid') ? 'not-yet-valid'
      : e.findings.some((f) => f.severity === 'error') ? 'invalid' : e.findings.some((f) => f.severity === 'warning') ? 'warning' : 'ok';
    findings.push(...e.findings);
  }
  return { certificates: all.map((r) => r.entry), findings };
}

function secretKeyFacts(k: TlsKeyState, c: Certificate): CertEntry['privateKey'] {
  if (k.state === 'missing') return { present: false };
  if (k.state === 'encrypted') return { present: true, encrypted: true };
  if (k.state === 'unreadable') return { present: true };
  return { present: true, matches: samePublicKey(k.spki, c.spkiRaw) };
}

/** What a TLS Secret's tls.key says about its tls.crt (`obj`: the Secret, `file`: its tls.crt place). */
function secretKeyFindings(k: TlsKeyState, c: Certificate, certificate: string, obj: string, file: string): Finding[] {
  const at = { certificate, file };
  switch (k.state) {
    case 'missing': return [{ code: 'secret-key-missing', severity: 'error', ...at, message: `${obj}: tls.key is empty: nothing can serve tls.crt from this Secret (put the certificate's key in tls.key)` }];
    case 'encrypted': return [{ code: 'key-encrypted', severity: 'warning', ...at, message: `${obj}: tls.key is encrypted; ingress controllers and servers cannot load it` }];
    case 'unreadable': return [{ code: 'corrupt', severity: 'error', ...at, message: `${obj}: tls.key cannot be read (${k.why})` }];
    default: return samePublicKey(k.spki, c.spkiRaw) ? [] : [{ code: 'key-mismatch', severity: 'error', ...at, message: `${obj}: tls.key is not the key of tls.crt (another key pair)` }];
  }
}

/** A list call where 404 means "this API is not served here" (no webhooks / APIServices). */
async function listOrNone<T>(client: ClusterClient, what: string, fn: () => Promise<{ items?: T[] }>): Promise<T[]> {
  try {
    return (await fn()).items ?? [];
  } catch (e) {
    if (httpStatus(e) === 404) return [];
    throw apiError(e, client, what);
  }
}

async function readOrNone<T>(client: ClusterClient, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw apiError(e, client, what);
  }
}

/** Every PEM value kubepki checks in the cluster. */
export async function readClusterPemSources(client: ClusterClient): Promise<ClusterPemSource[]> {
  const out: ClusterPemSource[] = [];
  const [tls, rootCa, extAuth, clusterInfo, mutating, validating, apiServices, csrs] = await Promise.all([
    listOrNone(client, 'list TLS Secrets', () => client.core.listSecretForAllNamespaces({ fieldSelector: 'type=kubernetes.io/tls' })),
    readOrNone(client, 'read ConfigMap default/kube-root-ca.crt', () => client.core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'default' })),
    readOrNone(client, 'read ConfigMap kube-system/extension-apiserver-authentication', () => client.core.readNamespacedConfigMap({ name: 'extension-apiserver-authentication', namespace: 'kube-system' })),
    readOrNone(client, 'read ConfigMap kube-public/cluster-info', () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' })),
    listOrNone(client, 'list MutatingWebhookConfigurations', () => client.admission.listMutatingWebhookConfiguration()),
    listOrNone(client, 'list ValidatingWebhookConfigurations', () => client.admission.listValidatingWebhookConfiguration()),
    listOrNone(client, 'list APIServices', () => client.apiregistration.listAPIService()),
    listOrNone(client, 'list CertificateSigningRequests', () => client.certs.listCertificateSigningRequest()),
  ]);
  for (const s of tls) {
    const ns = s.metadata?.namespace;
    const name = s.metadata?.name ?? '';
    for (const key of ['tls.crt', 'ca.crt']) {
      const v = s.data?.[key];
      if (v) out.push({ kind: 'Secret', namespace: ns, name, key, pem: b64(v), ...(key === 'tls.crt' ? { tlsKey: tlsKeyState(s.data?.['tls.key']) } : {}) });
    }
  }
  if (rootCa?.data?.['ca.crt']) out.push({ kind: 'ConfigMap', namespace: 'default', name: 'kube-root-ca.crt', key: 'ca.crt', pem: rootCa.data['ca.crt'] });
  for (const key of ['client-ca-file', 'requestheader-client-ca-file']) {
    const v = extAuth?.data?.[key];
    if (v) out.push({ kind: 'ConfigMap', namespace: 'kube-system', name: 'extension-apiserver-authentication', key, pem: v });
  }
  const ci = readClusterInfo(clusterInfo?.data);
  if (ci.caPem) out.push({ kind: 'ConfigMap', namespace: 'kube-public', name: 'cluster-info', key: 'kubeconfig', pem: ci.caPem });
  for (const [kind, list] of [['MutatingWebhookConfiguration', mutating], ['ValidatingWebhookConfiguration', validating]] as const) {
    for (const w of list) {
      for (const hook of w.webhooks ?? []) {
        const v = hook.clientConfig?.caBundle;
        if (v) out.push({ kind, name: w.metadata?.name ?? '', key: hook.name, pem: b64(v) });
      }
    }
  }
  for (const a of apiServices) {
    if (a.spec?.caBundle) out.push({ kind: 'APIService', name: a.metadata?.name ?? '', key: 'caBundle', pem: b64(a.spec.caBundle) });
  }
  for (const c of csrs) {
    if (c.status?.certificate) out.push({ kind: 'CertificateSigningRequest', name: c.metadata?.name ?? '', key: 'status.certificate', pem: b64(c.status.certificate) });
  }
  return out;
}

/** `check --cluster`: read the cluster's certificates as CertEntry rows with findings. */
export async function readClusterCertificates(client: ClusterClient, now: Date, warn?: string): Promise<ClusterCertificates> {
  return clusterCertEntries(await readClusterPemSources(client), now, warn);
}

/** Add cluster certificates to a node inventory (in place): rows, findings and the summary. */
export function mergeClusterCertificates(inv: import('../inventory/types.js').Inventory, cc: ClusterCertificates): void {
  // a cluster certificate whose signer is a CA on this node (the usual case: the cluster CA) points at the node's row
  const nodeCAs = inv.certificates.filter((c) => c.isCA && !c.location.cluster).map((c) => ({ entry: c, cert: certOf(c.pem) }));
  for (const e of cc.certificates) {
    if (e.selfSigned) continue;
    const mine = certOf(e.pem);
    const ca = nodeCAs.find((n) => n.cert && mine && Buffer.compare(Buffer.from(n.cert.subjectRaw), Buffer.from(mine.issuerRaw)) === 0 && mine.verifySignedBy(n.cert));
    if (ca) { e.signedBy = ca.entry.id; e.signerName = ca.entry.name; }
  }
  // the CA the cluster publishes (to pods, aggregated API servers, joining nodes) must be this node's CA
  const WHY: Record<string, string> = {
    'configmap/kube-public/cluster-info': 'nodes joining with token discovery will reject it or pin the wrong CA: run `kubepki cluster-info update`',
    'configmap/default/kube-root-ca.crt': 'pods trust the old CA: kube-controller-manager re-publishes kube-root-ca.crt from its --root-ca-file once restarted with the new ca.crt',
    'configmap/kube-system/extension-apiserver-authentication': 'the API server publishes it from --client-ca-file: restart kube-apiserver with the new ca.crt',
  };
  for (const e of cc.certificates) {
    if (!e.isCA) continue;
    for (const loc of [e.location, ...(e.copies ?? [])]) {
      const obj = loc.cluster ? objectName(loc.cluster) : '';
      if (!WHY[obj]) continue;
      // compare with the CA files (kubeconfigs on the node may still embed the old CA too)
      const fileCAs = nodeCAs.filter((n) => n.entry.location.kind !== 'kubeconfig');
      const same = fileCAs.find((n) => n.entry.subject === e.subject && n.entry.spkiSha256 !== e.spkiSha256 && !fileCAs.some((m) => m.entry.spkiSha256 === e.spkiSha256));
      if (!same) continue;
      const f: Finding = {
        code: 'kubeconfig-ca-mismatch',
        severity: 'error',
        file: loc.file,
        certificate: e.id,
        message: `${obj} (${loc.cluster!.key}) carries a CA "${e.subject}" that is not this node's ${same.entry.location.file} (same name, different key): ${WHY[obj]}`,
      };
      e.findings.push(f);
      cc.findings.push(f);
      e.status = e.status === 'expired' || e.status === 'not-yet-valid' ? e.status : 'invalid';
    }
  }
  inv.certificates.push(...cc.certificates);
  inv.findings.push(...cc.findings);
  inv.summary = summarize(inv.certificates, inv.findings);
  inv.next = nextStep(inv); // the advice follows the merged summary (an expired Secret, with the node all valid)
}

function certOf(pem: string): Certificate | undefined {
  try {
    const b = parsePemBlocks(pem).find((x) => x.label === 'CERTIFICATE');
    return b ? new Certificate(b.der) : undefined;
  } catch {
    return undefined;
  }
}
