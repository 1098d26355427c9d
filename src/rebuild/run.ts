/**
 * `kubepki rebuild` as a library call: gather settings (with their sources),
 * read what exists, plan, and — unless dry-run — generate, sign and write.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { UserError } from '../errors.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { planRebuild, type RebuildPlan } from '../plan/rebuild.js';
import { gatherSettings, KUBELET_CLIENT_CURRENT, type Gathered } from './infer.js';
import { readExisting } from './existing.js';
import { readClusterEvidence } from './evidence.js';
import { executeRebuild, type RebuildOutput } from './execute.js';
import { writeRebuildFiles, type WriteResult } from './write.js';
import type { SettingsSource } from './settings.js';
import type { generateKey } from '../pki/keygen.js';
import type { NodeLock } from '../apply/transaction.js';
import type { PlanRestart } from '../plan/types.js';
import { restartsForFiles } from '../plan/renew.js';
import { readInventory } from '../inventory/read.js';

export interface RebuildOptions {
  fs: NodeFs;
  now: Date;
  flags: SettingsSource;
  config?: { text: string; label: string };
  force?: boolean;
  /** make new CAs / sa.key even on a node whose cluster exists beyond it (`--new-ca`) */
  newCa?: boolean;
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
  const existing = readExisting(o.fs, gathered.settings);
  const evidence = readClusterEvidence(o.fs, gathered.settings);
  const plan = planRebuild({ settings: gathered.settings, existing, now: o.now, force: o.force, evidence, newCa: o.newCa, etcdInitialCluster: o.etcdInitialCluster, superAdmin: o.superAdmin });
  // not even --force or --dry-run: the plan itself (new CAs on a node of a live cluster) is the mistake
  if (plan.refusal) throw new UserError(plan.refusal.message, plan.refusal.hint);
  plan.warnings.unshift(...gathered.warnings);
  addKubeletFollowUp(o.fs, plan, gathered);
  addRestartFollowUps(o.fs, plan, o.now);
  if (o.dryRun) return { gathered, plan };
  if (plan.errors.length > 0) {
    throw new UserError(
      `failed to rebuild: ${plan.errors.length} problem${plan.errors.length > 1 ? 's' : ''} with files already on the node:\n  - ${plan.errors.join('\n  - ')}`,
      'nothing was written; fix the files named above, or pass --force to back them up and replace them (--dry-run shows the plan)',
    );
  }
  const output = await executeRebuild({ fs: o.fs, plan, settings: gathered.settings, generate: o.generate });
  const written = await writeRebuildFiles(o.fs, output.files, o.now, o.backupRoot, { lock: o.lock, onStep: o.onStep });
  return { gathered, plan, output, written };
}

/**
 * Files replaced (--force) or made anew under components that may be running: each keeps what it loaded
 * (etcd its trusted CA, kube-apiserver its etcd client certificate) until it restarts, and restarting the
 * kubelet does not restart a static pod whose manifest is unchanged. The restarts, with the commands renew
 * prints, for the components whose manifests, flags or configs name those files.
 */
function addRestartFollowUps(fs: NodeFs, plan: RebuildPlan, now: Date): void {
  const files = plan.items.filter((i) => i.action !== 'keep').flatMap((i) =>
    i.kind === 'manifest' ? [] : i.kind === 'kubeconfig' ? [i.path] : i.kind === 'sa' ? [i.keyPath, i.pubPath] : [i.certPath, i.keyPath]);
  if (files.length === 0) return;
  let restarts: PlanRestart[];
  try { restarts = restartsForFiles(readInventory({ fs, now }), files); } catch { return; }
  if (restarts.length === 0) return;
  const generic = plan.followUps.findIndex((f) => f.startsWith('restart the kubelet (`systemctl restart kubelet`) so it starts the static pods'));
  if (generic >= 0) plan.followUps.splice(generic, 1);
  plan.followUps.push('components already running keep the files they loaded until they restart (etcd its trusted CA, kube-apiserver its client certificates), and restarting the kubelet does not restart a static pod whose manifest is unchanged: restart each of them');
  for (const r of restarts) plan.followUps.push(`${r.component} (reads ${r.because.join(', ')}): ${r.command}`);
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
    plan.followUps.push(`${KUBELET_CLIENT_CURRENT} (${c.subjectString}) is signed by the old CA and ${'/etc/kubernetes/kubelet.conf'} may point at it: run \`kubepki kubelet credentials --node ${g.settings.nodeName}\` to issue one from the new CA`);
  } catch { /* no kubelet client cert: nothing to follow */ }
}
