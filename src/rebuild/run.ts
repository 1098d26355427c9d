/**
 * `kubepki rebuild` as a library call: gather settings (with their sources),
 * read what exists, plan, and — unless dry-run — generate, sign and write.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { UserError, errorMessage } from '../errors.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { planRebuild, SHARED_LABELS, type RebuildPlan } from '../plan/rebuild.js';
import { gatherSettings, KUBELET_CLIENT_CURRENT, type Gathered } from './infer.js';
import { readExisting } from './existing.js';
import { readClusterEvidence } from './evidence.js';
import { executeRebuild, type RebuildOutput } from './execute.js';
import { writeRebuildFiles, type WriteResult } from './write.js';
import type { SettingsSource } from './settings.js';
import type { generateKey } from '../pki/keygen.js';
import type { NodeLock } from '../apply/transaction.js';
import { readInventory } from '../inventory/read.js';
import type { Inventory } from '../inventory/types.js';
import { restartsForFiles } from '../plan/renew.js';
import { rootFlagFor } from '../inventory/next.js';
import type { PlanRestart } from '../plan/types.js';
import { readNodeEtcdCluster } from './etcd-members.js';
import { certsFor } from '../profiles/rebuild.js';

export interface RebuildOptions {
  fs: NodeFs;
  now: Date;
  flags: SettingsSource;
  config?: { text: string; label: string };
  force?: boolean;
  /** make new CAs / sa.key even on a node whose cluster exists beyond it (`--new-ca`) */
  newCa?: boolean;
  /** `--new-ca NAME,...`: replace these existing CAs with new keys, backed up (implies newCa) */
  replaceCas?: string[];
  /** `--etcd-initial-cluster`: the members, as `etcdctl member add` printed them */
  etcdInitialCluster?: string;
  /** `--super-admin`: write super-admin.conf even where the node looks like it joined */
  superAdmin?: boolean;
  dryRun?: boolean;
  generate?: typeof generateKey;
  /** host directory for backups (default <root>/var/lib/kubepki/backups) */
  backupRoot?: string;
  /** the node lock, taken before reading (see lockNode) */
  lock?: NodeLock;
  /** called before every filesystem mutation of the write (tests crash or fail here) */
  onStep?: (n: number, what: string) => void;
}

export interface RebuildResult {
  gathered: Gathered;
  plan: RebuildPlan;
  output?: RebuildOutput;
  written?: WriteResult;
}

export async function rebuild(o: RebuildOptions): Promise<RebuildResult> {
  const gathered = gatherSettings({ fs: o.fs, flags: o.flags, config: o.config });
  const cas = certsFor(gathered.settings).filter((c) => c.isCA).map((c) => c.name);
  const unknown = (o.replaceCas ?? []).filter((n) => !cas.includes(n));
  if (unknown.length > 0) {
    throw new UserError(`failed to read --new-ca ${o.replaceCas!.join(',')}: ${unknown.map((n) => JSON.stringify(n)).join(', ')} ${unknown.length > 1 ? 'are not CAs' : 'is not a CA'} this node has`, `name the CAs to replace, comma-separated: ${cas.join(', ')}${gathered.settings.externalEtcd ? ' (etcd is external: its CA is not this node\'s)' : ''}`);
  }
  const existing = readExisting(o.fs, gathered.settings);
  const evidence = readClusterEvidence(o.fs, gathered.settings);
  const plan = planRebuild({ settings: gathered.settings, existing, now: o.now, force: o.force, evidence, newCa: o.newCa || (o.replaceCas ?? []).length > 0, replaceCas: o.replaceCas, etcdInitialCluster: o.etcdInitialCluster, superAdmin: o.superAdmin, endpointNotFound: gathered.endpointNotFound, manifestExtras: gathered.manifestExtras, root: o.fs.root });
  // not even --force or --dry-run: the plan itself (new CAs on a node of a live cluster) is the mistake
  if (plan.refusal) throw new UserError(plan.refusal.message, plan.refusal.hint);
  plan.warnings.unshift(...gathered.warnings);
  addKubeletFollowUp(o.fs, plan, gathered);
  // (the node as it is before the run, read once if a follow-up needs it)
  let read: { inv: Inventory } | { error: unknown } | undefined;
  const nodeInventory = (): Inventory => {
    if (!read) try { read = { inv: readInventory({ fs: o.fs, now: o.now }) }; } catch (error) { read = { error }; }
    if ('error' in read) throw read.error;
    return read.inv;
  };
  addLeftBehindFollowUp(nodeInventory, plan, o.replaceCas ?? []);
  addRestartFollowUp(o.fs, plan, nodeInventory);
  if (o.dryRun) return { gathered, plan };
  if (plan.errors.length > 0) {
    throw new UserError(
      `failed to rebuild: ${plan.errors.length} problem${plan.errors.length > 1 ? 's' : ''}:\n  - ${plan.errors.join('\n  - ')}`,
      // (each problem names its own way out, --force where it helps: an external CA's missing key is not one it fixes)
      'nothing was written; do what each problem above says, then run it again (--dry-run shows the plan)',
    );
  }
  const output = await executeRebuild({ fs: o.fs, plan, settings: gathered.settings, generate: o.generate });
  const written = await writeRebuildFiles(o.fs, output.files, o.now, o.backupRoot, { lock: o.lock, onStep: o.onStep });
  return { gathered, plan, output, written };
}

/** A surviving kubelet client certificate from the old CA must be replaced too. */
function addKubeletFollowUp(fs: NodeFs, plan: RebuildPlan, g: Gathered): void {
  // a kubelet.conf rebuild creates gets its client certificate from the CA in use (plan: kubeletClient)
  if (plan.items.some((i) => i.kind === 'kubeconfig' && i.name === 'kubelet.conf' && i.action !== 'keep')) return;
  const ca = plan.items.find((i) => i.kind === 'ca' && i.name === 'ca');
  if (!ca || ca.action === 'keep' || (ca.kind === 'ca' && ca.key === 'reuse')) return;
  if (plan.followUps.some((f) => f.includes(`kubepki kubelet credentials --node ${g.settings.nodeName}`))) return;
  try {
    const b = parsePemBlocks(fs.readFile(KUBELET_CLIENT_CURRENT).toString('utf8')).find((x) => x.label === 'CERTIFICATE');
    if (!b) return;
    const c = new Certificate(b.der);
    plan.followUps.push(`${KUBELET_CLIENT_CURRENT} (${c.subjectString}) is signed by the old CA and ${'/etc/kubernetes/kubelet.conf'} may point at it: run \`kubepki kubelet credentials --node ${g.settings.nodeName}${rootFlagFor(fs.root)}\` to issue one from the new CA`);
  } catch { /* no kubelet client cert: nothing to follow */ }
}

/**
 * `--new-ca NAME` re-signs what kubeadm makes; a certificate on the node that the old CA signed and rebuild does
 * not make (a webhook's, one issued by hand) is left as it is: after the run no CA here verifies it, and `renew`
 * cannot re-sign it (its CA is gone). The plan names each one, before anything is written. (The kubelet's own
 * rotated client pems are left out: the one in use is replaced with kubelet.conf, the others are its history.)
 */
function addLeftBehindFollowUp(nodeInventory: () => Inventory, plan: RebuildPlan, replaceCas: string[]): void {
  if (replaceCas.length === 0) return;
  let inv: Inventory;
  try { inv = nodeInventory(); } catch { return; } // (the restart follow-up says the node could not be read)
  const written = new Set(plannedFiles(plan));
  for (const name of replaceCas) {
    const item = plan.items.find((i) => i.kind === 'ca' && i.name === name && i.action === 'replace');
    if (item?.kind !== 'ca') continue;
    const old = inv.certificates.find((c) => c.isCA && c.location.kind !== 'kubeconfig' && c.location.file === item.certPath && c.location.index === 0);
    if (!old) continue;
    for (const c of inv.certificates) {
      if (c.signedBy !== old.id || c.id === old.id || c.name === 'kubelet-client') continue;
      if (written.has(c.location.file) || (c.location.via !== undefined && written.has(c.location.via))) continue;
      const where = c.location.kind === 'kubeconfig' ? `${c.location.file} (user ${c.location.kubeconfig?.name ?? '?'})` : c.location.file;
      plan.followUps.push(`${where} (${c.subject}) was signed by the ${SHARED_LABELS[name] ?? name} being replaced and is not one rebuild makes: after this run no CA on this node verifies it and \`kubepki renew\` cannot re-sign it; issue it again from the new CA (${item.certPath}, ${item.keyPath}), or undo the run with \`kubepki restore\``);
    }
  }
}

/** The files a plan writes (a reused key file is not rewritten). */
function plannedFiles(plan: RebuildPlan): string[] {
  return plan.items.filter((i) => i.action !== 'keep').flatMap((i) => {
    switch (i.kind) {
      case 'ca': case 'leaf': return [i.certPath, ...(i.key === 'new' ? [i.keyPath] : [])];
      case 'sa': return [i.pubPath, ...(i.key === 'new' ? [i.keyPath] : [])];
      case 'kubeconfig': return [i.path, ...(i.kubeletClient && !i.kubeletClient.reuse ? [i.kubeletClient.current, ...(i.kubeletClient.pem ? [i.kubeletClient.pem] : [])] : [])];
      case 'manifest': return [i.path];
    }
  });
}

/**
 * What must restart for the files written, planned as `renew` and `restore` plan it (restartsForFiles): the
 * components whose manifest flags or config name a written file, each restarted as its layout runs it. The
 * node is read before anything is written, so a component whose manifest this rebuild creates is not among
 * them (the kubelet starts it from the new manifest). Restarting the kubelet alone is not enough: it leaves
 * the running static pods' containers, which keep the old certificate in memory (seed 002).
 */
function addRestartFollowUp(fs: NodeFs, plan: RebuildPlan, nodeInventory: () => Inventory): void {
  const files = plannedFiles(plan);
  if (files.length === 0) return;
  const created = plan.items.flatMap((i) => (i.kind === 'manifest' && i.action === 'create' ? [i.manifest] : []));
  let restarts: PlanRestart[];
  try {
    const inv = nodeInventory();
    // a new etcd CA here, or etcd's peer pair re-signed by another etcd CA than the one that signed it (brought
    // with ca import --force): its peers refuse it until they have that CA too, so the restarts are no routine roll
    const peer = inv.certificates.find((c) => c.name === 'etcd-peer' && c.layout === 'kubeadm');
    const signer = peer?.signedBy ? inv.certificates.find((c) => c.id === peer.signedBy && c.id !== peer.id) : undefined;
    const peers = plan.items.some((i) => i.kind === 'ca' && i.name === 'etcd-ca' && i.action !== 'keep') ? 'new-ca' as const
      : peer && files.includes(peer.location.file) && !signer ? 'ca-changed' as const : undefined;
    restarts = restartsForFiles(inv, files, () => readNodeEtcdCluster(fs), peers);
  } catch (e) {
    plan.followUps.push(`could not work out which running components read the files written (${errorMessage(e)}): restart every one that reads them — a static pod by moving its manifest out of /etc/kubernetes/manifests and back (restarting the kubelet does not restart the static pods' containers), the kubelet with \`systemctl restart kubelet\``);
    return;
  }
  plan.restarts = restarts;
  if (restarts.length > 0) {
    plan.followUps.push([
      'restart what reads the files written here, or it keeps using the old ones (restarting the kubelet does not restart the static pods\' running containers):',
      ...restarts.map((r) => `      ${r.component} (reads ${r.because.join(', ')}): ${r.command}${r.caution ? `\n        (${r.caution})` : ''}`),
    ].join('\n'));
  }
  if (created.length > 0) plan.followUps.push(`the kubelet starts ${created.join(', ')} from ${created.length > 1 ? 'their new manifests' : 'its new manifest'} by itself (it watches the manifest directory); if it is not running: \`systemctl restart kubelet\``);
}
