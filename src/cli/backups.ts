import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Io } from './io.js';
import { openRoot } from '../fs/node-fs.js';
import { rootOption, backupDirOption, resolveBackupDir, nowOption, resolveNow } from './options.js';
import { restoreArgs, shellArg, placeArgs } from '../apply/state.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { UserError, errorMessage } from '../errors.js';
import { parseDuration } from '../inventory/time.js';
import type { NodeFs } from '../fs/node-fs.js';

interface BackupsOptions { root?: string; backupDir?: string; output: string; prune?: boolean; keep?: string; olderThan?: string; dryRun?: boolean; force?: boolean; now?: string }

export function command(io: Io): Command {
  return new Command('backups')
    .summary('list the backups kubepki made before writing node files (renew, restore, rebuild, ca import, sa rotate, kubelet); --prune removes old ones')
    .configureHelp({ helpWidth: 120 })
    .addHelpText('before', `Examples:
  kubepki backups
  kubepki backups --root /mnt/node -o json
  kubepki backups --prune --older-than 1y --keep 3 --dry-run   # what would go
  kubepki backups --prune --older-than 1y --keep 3             # backups over a year old, never the newest 3
  kubepki backups --prune --keep 5 --backup-dir /mnt/spare/kubepki-backups
`)
    .description(`List kubepki backups, oldest first: when, which run, its state (complete, rolled-back, in-progress =
interrupted, recovered) and FILES: how many node files the run changed (rewrote, re-linked or created; for a
run that did not finish, was to change), each of which \`kubepki restore\` of that backup puts back (rewrites,
re-links or removes). HOST, when a backup in the list was made on another host (a --backup-dir nodes
share): the node each run was on; only this node's own are restored here.

--prune removes old backups, each of which holds the private keys its run replaced (an old sa.key, a CA key
after --new-key), oldest first. --older-than DURATION (30d, 1y; as journalctl --vacuum-time=) and --keep N (as
logrotate's rotate N) can be given alone or together; together, a backup goes only when both let it go: --keep
is a floor, so a node not renewed for a year still keeps its last N (journalctl's --vacuum-* limits are each
enforced alone instead; kubeadm has no such command: kubeadm upgrade leaves its /etc/kubernetes/tmp backups to
be cleared by hand). One of them is needed: --prune alone removes nothing. Restoring a backup puts back what
every later run changed too, from their backups, so pruning only ever removes the oldest ones and stops at the
first it keeps: never a backup newer than a kept one, never the newest complete one, an interrupted run's
(in-progress) or one the node's lock names. In a --backup-dir nodes share, only this node's (this host, this
--root). An unreadable backup goes only with --force, by its name's time. An incomplete one (no manifest.json: a
run killed while copying, before it changed anything, or its manifest.json removed) restores nothing but holds copies of keys: it goes by
--older-than (its name's time), with --keep alone whatever its age, never while a live run's lock names it. A backup is renamed to .pruning-NAME
before it is removed (never listed nor restored half removed), and removed without following symlinks (a backup
that is a link loses the link only). --now decides what is older. It takes the node's lock, as renew and restore
do (not with --dry-run).

Exit codes:
  0  listed; or pruned (or, with --dry-run, listed what would go; nothing to prune is no error)
  2  a removal failed part way: the backups it names as removed are gone, the rest are whole and listed
  3+ kubepki could not run (a bad flag, another kubepki is changing the node): nothing removed`)
    .addOption(rootOption())
    .addOption(backupDirOption())
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']))
    .option('--prune', 'remove old backups (with --keep and/or --older-than), oldest first')
    .option('--keep <n>', 'with --prune: keep at least the newest N of this node\'s backups')
    .option('--older-than <duration>', 'with --prune: only backups made more than DURATION before --now (30d, 1y)')
    .option('--dry-run', 'with --prune: list what would be removed and kept, remove nothing')
    .option('--force', 'with --prune: remove unreadable backups too (by the time in their name)')
    .addOption(nowOption())
    .action(async (o: BackupsOptions) => {
      if (o.prune) { await prune(io, o); return; }
      // (the list reads no clock, but a --now that is no time is refused as every command refuses it)
      resolveNow(o.now);
      const stray = (['keep', 'olderThan', 'dryRun', 'force'] as const).filter((k) => o[k] !== undefined);
      if (stray.length) throw new UserError(`${stray.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only apply to --prune`, 'add --prune to remove backups; without it, backups only lists them');
      const nfs = openRoot(o.root);
      const { scanBackups, defaultBackupRoot, incompleteBackup } = await import('../apply/transaction.js');
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd);
      const root = backupRoot ?? defaultBackupRoot(nfs);
      const scanned = scanBackups(root);
      const { listed: list, unreadable } = scanned;
      // (a run killed while it made its backup: not a backup, and nothing to restore, but said, with what to do)
      const incomplete = scanned.incomplete.map((b) => ({ ...b, ...incompleteBackup(nfs, b.dir) }));
      // a prune cut short left a backup renamed and half removed: not a backup any more, but what is left of it
      // (private keys among it) is not to be passed over in silence either
      const { PRUNING_PREFIX } = await import('../apply/prune.js');
      let pruning: string[] = [];
      try { pruning = fs.readdirSync(root).filter((n) => n.startsWith(PRUNING_PREFIX)).map((n) => path.join(root, n)); } catch { /* no backups */ }
      if (o.output === 'json') { io.stdout(JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'BackupList', items: list, ...(unreadable.length ? { unreadable } : {}), ...(incomplete.length ? { incomplete } : {}), ...(pruning.length ? { pruning } : {}) }, null, 2) + '\n'); return; }
      const pruningNote = pruning.length ? `\nHalf removed by a prune cut short (the next \`kubepki backups --prune\` removes them):\n${pruning.map((d) => `  ${d}\n`).join('')}` : '';
      // (a backup whose manifest is damaged is not listed as one, but never passed over in silence: its run's
      // changes are on the node, and its files/ hold what they replaced)
      const damaged = unreadable.map((u) => `  ${u.name}: ${u.reason}; what that run replaced is in ${u.dir}/files\n`).join('');
      const damagedNote = damaged ? `\nUnreadable backups (no restore can put back what their runs changed, nor undo them when an older backup is restored):\n${damaged}` : '';
      const incompleteNote = incomplete.length ? `\nIncomplete backups (no manifest.json; nothing to restore from them):\n${incomplete.map((b) => `  ${b.name}: ${b.what}; ${b.fix}\n`).join('')}` : '';
      if (list.length === 0) { io.stdout(`No backups in ${root}.\n${damagedNote}${incompleteNote}${pruningNote}`); return; }
      const w = Math.max(...list.map((b) => b.name.length));
      // (actions are longer than renew's: sa rotate, kubelet credentials --bootstrap)
      const aw = Math.max('ACTION'.length, ...list.map((b) => b.action.length));
      // in a --backup-dir nodes share, which node each run was on: only this node's can be restored here (restore
      // refuses another's), and without it the list is every node's runs, all named by their time alone
      const here = (await import('node:os')).hostname();
      const hosts = list.some((b) => b.host !== undefined && b.host !== here);
      const hw = Math.max('HOST'.length, ...list.map((b) => (b.host ?? '').length));
      const host = (h: string) => (hosts ? `${h.padEnd(hw)}  ` : '');
      io.stdout(`${'BACKUP'.padEnd(w)}  ${host('HOST')}${'ACTION'.padEnd(aw)}  STATE        FILES  NOTE\n`);
      for (const b of list) io.stdout(`${b.name.padEnd(w)}  ${host(b.host ?? '')}${b.action.padEnd(aw)}  ${b.state.padEnd(11)}  ${String(b.files).padStart(5)}  ${b.note ?? ''}\n`);
      io.stdout(`\n(in ${root}; FILES: the node files each run changed, which a restore of its backup puts back; put one back with \`kubepki restore ${restoreArgs(nfs.root, 'NAME', backupRoot)}\`)\n`);
      io.stdout(damagedNote + incompleteNote + pruningNote);
    });
}

/** `1.5 MiB`: the size a prune freed. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

async function prune(io: Io, o: BackupsOptions): Promise<void> {
  let keep: number | undefined;
  if (o.keep !== undefined) {
    keep = /^\d+$/.test(o.keep) ? Number(o.keep) : NaN;
    if (!(keep >= 1)) throw new UserError(`--keep ${o.keep} is not a whole number of backups, 1 or more`, 'the newest complete backup is always kept anyway; give e.g. --keep 3');
  }
  let olderThan: number | undefined;
  if (o.olderThan !== undefined) {
    olderThan = parseDuration(o.olderThan);
    if (olderThan === undefined || olderThan <= 0) throw new UserError(`--older-than ${o.olderThan} is not a duration`, 'give e.g. 30d, 12w or 1y');
  }
  // (no default: a prune that removes what an unstated rule chose, keys among them, is not one to run by accident)
  if (keep === undefined && olderThan === undefined) throw new UserError('--prune needs --keep N and/or --older-than DURATION', 'e.g. kubepki backups --prune --older-than 1y --keep 3 --dry-run');
  const now = resolveNow(o.now);
  const nfs: NodeFs = openRoot(o.root);
  const backupDir = resolveBackupDir(o.backupDir, io.cwd, nfs);
  const json = o.output === 'json';
  await withNodeLock(io, nfs, now, { dryRun: o.dryRun, backupRoot: backupDir, json }, async (lock) => {
    const { defaultBackupRoot } = await import('../apply/transaction.js');
    const { planPrune, removeBackup, removeTree } = await import('../apply/prune.js');
    const root = backupDir ?? defaultBackupRoot(nfs);
    const host = (await import('node:os')).hostname();
    const plan = planPrune(nfs, root, { ...(keep !== undefined ? { keep } : {}), ...(olderThan !== undefined ? { olderThan } : {}), now, ...(o.force ? { force: true } : {}) }, host, lock?.recovered ?? []);
    const removed: typeof plan.remove = [];
    let failed: { name: string; error: string } | undefined;
    const finished: string[] = [];
    if (!o.dryRun) {
      for (const l of plan.leftovers) { try { removeTree(l); finished.push(l); } catch { /* tried again next time: backups names it */ } }
      // oldest first, stopping at the first that fails: what is left is still every backup after the last removed
      const step = testStepHook(io.env);
      for (const [i, r] of plan.remove.entries()) {
        try { step?.(i + 1, `remove ${r.dir}`); removeBackup(r.dir); removed.push(r); } catch (e) { failed = { name: r.name, error: errorMessage(e) }; break; }
      }
    }
    const gone = o.dryRun ? plan.remove : removed;
    const freed = gone.reduce((n, r) => n + r.bytes, 0);
    const notRemoved = o.dryRun ? [] : plan.remove.slice(removed.length);
    if (json) {
      io.stdout(JSON.stringify({
        apiVersion: 'kubepki.io/v1alpha1', kind: 'BackupPrune', backupDir: root, now: now.toISOString(), dryRun: !!o.dryRun,
        rules: { ...(keep !== undefined ? { keep } : {}), ...(o.olderThan !== undefined ? { olderThan: o.olderThan } : {}), force: !!o.force },
        [o.dryRun ? 'wouldRemove' : 'removed']: gone, kept: plan.keep, freedBytes: freed,
        ...(failed ? { failed, notRemoved } : {}), ...(finished.length ? { finishedPruning: finished } : {}),
      }, null, 2) + '\n');
    } else {
      const rules = [keep !== undefined ? `--keep ${keep}` : '', o.olderThan !== undefined ? `--older-than ${o.olderThan} (made before ${new Date(now.getTime() - olderThan! * 1000).toISOString()})` : ''].filter(Boolean).join(', ');
      io.stdout(`Prune backups in ${root} (${rules}):\n`);
      const w = Math.max(6, ...[...plan.remove, ...plan.keep].map((b) => b.name.length));
      const line = (verb: string, b: typeof plan.remove[number], why?: string) => `  ${verb.padEnd(7)}  ${b.name.padEnd(w)}  ${b.unreadable ? `unreadable (${b.unreadable})` : b.incomplete ? 'incomplete (no manifest.json: nothing to restore from it)' : `${b.action} ${b.state}, ${b.files} file(s)`}, ${bytes(b.bytes)}${b.linkTo !== undefined ? ` (a symlink to ${b.linkTo}: only the link is removed)` : ''}${why ? `: ${why}` : ''}\n`;
      for (const b of gone) io.stdout(line(o.dryRun ? 'remove' : 'removed', b));
      for (const l of o.dryRun ? plan.leftovers : finished) io.stdout(`  ${o.dryRun ? 'remove ' : 'removed'}  ${path.basename(l)}: what an earlier prune cut short left\n`);
      for (const b of notRemoved) io.stdout(line('left', b, b.name === failed?.name ? `failed: ${failed.error}` : 'not tried after that failure'));
      for (const b of plan.keep) io.stdout(line('keep', b, b.reason));
      const verb = o.dryRun ? 'Would remove' : 'Removed';
      io.stdout(`\n${verb} ${gone.length} backup(s), ${bytes(freed)}${o.dryRun ? '' : ' freed'}; kept ${plan.keep.length + notRemoved.length}.\n`);
      if (o.dryRun) io.stdout(`Dry run: nothing was removed (run it again without --dry-run: kubepki backups --prune${keep !== undefined ? ` --keep ${keep}` : ''}${o.olderThan !== undefined ? ` --older-than ${shellArg(o.olderThan)}` : ''}${o.force ? ' --force' : ''}${placeArgs(nfs.root, backupDir)}${o.now ? ` --now ${shellArg(o.now)}` : ''}).\n`);
    }
    if (failed) throw new UserError(`failed to remove backup ${path.join(root, failed.name)}: ${failed.error}`, `the backups before it are removed and it and every later one are whole; fix that and prune again`, 2);
  });
}
