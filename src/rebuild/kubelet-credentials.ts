/**
 * Render a kubelet credentials plan into node changes: the new timestamped
 * pem (cert then key, 0600), the `-current` symlink swap (client-go's file
 * store order, done by apply's `symlink` change) and kubelet.conf — or a
 * bootstrap-kubelet.conf with a token.
 */
import * as nfs from 'node:fs';
import * as nodePath from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError, errorMessage } from '../errors.js';
import type { KeyObject } from 'node:crypto';
import type { Change } from '../apply/transaction.js';
import { KubeconfigEditor } from '../kubeconfig/write.js';
import { shellArg } from '../apply/state.js';
import { generateKey, privateKeyPem } from '../pki/keygen.js';
import {
  issueCertificate, nameDer, newSerial, keyUsageExt, extKeyUsageExt, basicConstraintsExt, authorityKeyIdentifierExt, keyIdentifier, pemOf,
} from '../pki/sign.js';
import type { CaMaterial } from './node-files.js';
import type { Certificate } from '../pki/certificate.js';
import type { KubeletCertPlan, KubeletBootstrapPlan } from '../plan/kubelet.js';
import { toKubeYaml } from '../manifests/static-pods.js';
import { renderKubeconfig } from './kubeconfig-create.js';

function caKeyId(ca: { cert: Certificate }): Uint8Array {
  const ski = ca.cert.extension('2.5.29.14');
  if (ski && ski.value.length > 2 && ski.value[0] === 0x04) return ski.value.subarray(2);
  return keyIdentifier(ca.cert.spkiRaw);
}

export interface KubeletClientPem {
  subject: { cn: string; o: string[] };
  usages: ('digitalSignature' | 'keyEncipherment')[];
  key: KeyObject;
  notBefore: Date;
  notAfter: Date;
  ca: { cert: Certificate; key: KeyObject };
  /** the new timestamped file and the `-current` symlink swapped to it (node paths) */
  pemPath: string;
  currentPath: string;
}

/**
 * A kubelet client certificate signed offline by the CA, stored the way the
 * kubelet's rotation stores it (spec §7.2): `kubelet-client-<time>.pem` holding
 * the certificate then the key (0600), and `-current` swapped to it. Used by
 * `kubelet credentials` and by `rebuild` when it creates kubelet.conf.
 */
export async function kubeletClientPemChanges(o: KubeletClientPem): Promise<Change[]> {
  const der = await issueCertificate({
    subjectDer: nameDer([...o.subject.o.map((v) => ({ type: 'O' as const, value: v })), { type: 'CN', value: o.subject.cn }]),
    issuerDer: o.ca.cert.subjectRaw,
    spki: o.key,
    serial: newSerial(),
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    extensions: [keyUsageExt(o.usages), extKeyUsageExt(['clientAuth']), basicConstraintsExt(false), authorityKeyIdentifierExt(caKeyId(o.ca))],
    signingKey: o.ca.key,
  });
  return [
    // (a new file: never over one put there since the plan named it, see Change's create)
    { op: 'write', path: o.pemPath, content: Buffer.from(pemOf(der) + privateKeyPem(o.key)), mode: 0o600, create: true },
    { op: 'symlink', path: o.currentPath, target: o.pemPath },
  ];
}

/** The entries of an existing kubelet.conf that `kubelet credentials` edits: its current context's user and cluster. */
export interface KubeletConfTarget { user: string; cluster: string }

const REWRITE = 'move it aside and run kubepki kubelet credentials again: with no kubelet.conf it writes a fresh one';

/**
 * The user and cluster an existing kubelet.conf's current context names, or a UserError naming `file`
 * (the host path, for the message). These are the only entries the kubelet reads: its loadRESTClientConfig
 * (pkg/kubelet/certificate/bootstrap) builds clientcmd.NewNonInteractiveClientConfig on the file's
 * current-context with no fallback, and ConfirmUsable refuses a current-context that names nothing
 * ("context was not found for specified context") or an empty one ("no configuration has been provided").
 * So the first context is no stand-in here: rewriting its entries would report a fix and leave a kubelet
 * that still cannot start.
 */
export function kubeletConfTarget(text: string, file: string): KubeletConfTarget {
  const fail = (why: string, hint: string): never => { throw new UserError(`failed to edit ${file}: ${why}`, hint); };
  let doc: any;
  try { doc = parseYaml(text); } catch (e) { return fail(`not valid YAML (${errorMessage(e).split('\n')[0]!.replace(/:$/, '')})`, REWRITE); }
  const names = (list: unknown): string[] => (Array.isArray(list) ? list.map((e) => e?.name).filter((n): n is string => typeof n === 'string' && n !== '') : []);
  const quoted = (ns: string[]) => ns.slice(0, 3).map((n) => JSON.stringify(n)).join(', ') + (ns.length > 3 ? ', …' : '');
  const current: unknown = doc?.['current-context'];
  const contexts = names(doc?.contexts);
  if (contexts.length === 0) {
    fail(`it has no contexts (the kubelet refuses it: "${current ? 'context was not found for specified context' : 'no configuration has been provided'}")`, REWRITE);
  }
  // (which of several contexts is the kubelet's is the operator's call: they are listed, not picked)
  const useContext = `set its current-context to ${contexts.length === 1 ? 'its context' : `one of its contexts (${quoted(contexts)})`}: kubectl --kubeconfig ${shellArg(file)} config use-context ${contexts.length === 1 ? shellArg(contexts[0]!) : 'NAME'}; or ${REWRITE}`;
  if (typeof current !== 'string' || current === '') fail('it has no current-context (the kubelet refuses it: "no configuration has been provided")', useContext);
  const name = current as string;
  const context = (doc.contexts as any[]).find((e) => e?.name === name);
  if (!context) fail(`its current-context ${JSON.stringify(name)} names no context in it (the kubelet refuses it: "context was not found for specified context")`, useContext);
  const entry = (kind: 'user' | 'cluster'): string => {
    const ref: unknown = context.context?.[kind];
    const have = names(doc[`${kind}s`]);
    const pointAt = have.length ? ` or point the context at one of its ${kind}s (${quoted(have)})` : '';
    if (typeof ref !== 'string' || ref === '') return fail(`its context ${JSON.stringify(name)} names no ${kind}`, `set ${kind} in that context${have.length ? ` to one of its ${kind}s (${quoted(have)})` : ''}, or ${REWRITE}`);
    if (!have.includes(ref)) fail(`its context ${JSON.stringify(name)} names ${kind} ${JSON.stringify(ref)}, which is not in its ${kind}s`, `add ${kind} ${JSON.stringify(ref)} to it${pointAt}, or ${REWRITE}`);
    // (the fields kubepki sets go into that map: an entry without one has nowhere to take them)
    const body: unknown = (doc[`${kind}s`] as any[]).find((e) => e?.name === ref)[kind];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(`its ${kind} ${JSON.stringify(ref)} has no ${kind}: map`, `add the ${kind}'s fields under it, or ${REWRITE}`);
    return ref;
  };
  return { user: entry('user'), cluster: entry('cluster') };
}

/**
 * The new pem, the `-current` swap and kubelet.conf: `existing` (its text, and its host path for errors)
 * is edited in place, its current context's user pointed at the pem and its cluster's CA refreshed;
 * without one, kubelet.conf is written fresh. A kubelet.conf the kubelet could not use is refused before
 * any key is made (kubeletConfTarget).
 */
export async function kubeletCertificateChanges(plan: KubeletCertPlan, ca: CaMaterial & { key: KeyObject }, existing: { text: string; file: string } | undefined): Promise<Change[]> {
  const target = existing && kubeletConfTarget(existing.text, existing.file);
  const changes = await kubeletClientPemChanges({
    subject: plan.subject, usages: plan.usages, key: await generateKey(plan.keyType),
    notBefore: new Date(plan.notBefore), notAfter: new Date(plan.notAfter), ca, pemPath: plan.pemPath, currentPath: plan.currentPath,
  });
  let kubeconfig: string;
  if (existing && target) {
    const ed = new KubeconfigEditor(existing.text);
    ed.pointUserAtFiles(target.user, plan.currentPath, plan.currentPath);
    // embedded client data is renamed into the file references in place; the CA is refreshed (it may be new)
    kubeconfig = ed.setClusterCaData(target.cluster, ca.pem).toString();
  } else {
    // the shape the kubelet writes after TLS bootstrap (spec §2.2)
    kubeconfig = toKubeYaml({
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(ca.pem).toString('base64'), server: plan.server }, name: 'default-cluster' }],
      contexts: [{ context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' }, name: 'default-context' }],
      'current-context': 'default-context',
      kind: 'Config',
      preferences: {},
      users: [{ name: 'default-auth', user: { 'client-certificate': plan.currentPath, 'client-key': plan.currentPath } }],
    });
  }
  changes.push({ op: 'write', path: plan.kubeconfigPath, content: Buffer.from(kubeconfig), mode: 0o600 });
  return changes;
}

export function kubeletBootstrapChanges(plan: KubeletBootstrapPlan, caPem: string, token: string): Change[] {
  const content = renderKubeconfig({ clusterName: 'kubernetes', server: plan.server, caPem, userName: 'tls-bootstrap-token-user', token });
  return [
    { op: 'write', path: plan.bootstrapPath, content: Buffer.from(content), mode: 0o600 },
    ...plan.remove.map((p) => ({ op: 'delete' as const, path: p })),
  ];
}

/**
 * Write changes for another node into a fresh directory laid out as that
 * node's tree (`DIR/var/lib/kubelet/pki/…`, `DIR/etc/kubernetes/…`), for
 * copying there. Not a node of ours: no lock, no backup — so nothing that is
 * already in DIR is overwritten (every path is checked before the first write).
 */
export function writeExportTree(dir: string, changes: Change[]): string[] {
  const host = (p: string) => nodePath.join(dir, p);
  for (const c of changes) {
    if (c.op === 'delete') throw new Error(`internal: cannot delete ${c.path} in an export directory`);
    let there = false;
    try { nfs.lstatSync(host(c.path)); there = true; } catch { /* free */ }
    if (there) throw new UserError(`failed to write ${host(c.path)}: it exists`, 'pass an empty --out directory (nothing in it is overwritten)');
  }
  const written: string[] = [];
  try {
    for (const c of changes) {
      const h = host(c.path);
      nfs.mkdirSync(nodePath.dirname(h), { recursive: true, mode: 0o755 });
      if (c.op === 'symlink') nfs.symlinkSync(c.target, h);
      else if (c.op === 'write') {
        nfs.writeFileSync(h, c.content, { mode: c.mode ?? 0o600, flag: 'wx' });
        nfs.chmodSync(h, c.mode ?? 0o600);
      }
      written.push(h);
    }
  } catch (e) {
    // no partial set: a half-written tree copied to the node would be worse than none
    for (const h of written) nfs.rmSync(h, { force: true });
    throw new UserError(`failed to write ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check that --out is writable and has room; no file was left in it');
  }
  return written;
}
