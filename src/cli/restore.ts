import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Io } from './io.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { UserError, errorMessage } from '../errors.js';
import { openRoot, type NodeFs } from '../fs/node-fs.js';
import type { PlanRestart } from '../plan/types.js';
import { nowOption, rootOption, resolveNow, backupDirOption, resolveBackupDir, backupLine } from './options.js';
import { shellArg, restoreArgs } from '../apply/state.js';
import { listText } from '../inventory/names.js';

interface RestoreOptions { root?: string; now?: string; backupDir?: string; dryRun?: boolean; force?: boolean; overwrite?: boolean; output: string }

export function command(io: Io): Command {
  return new Command('restore')
    .summary('put a backup back (any command that writes node files makes one), atomically, after backing up the current files')
    .configureHelp({ helpWidth: 120 })
    .addHelpText('before', `Examples:
  kubepki backups
  kubepki restore 2026-11-23T10-00-00Z
  kubepki restore /var/lib/kubepki/backups/2026-11-23T10-00-00Z --dry-run
  kubepki restore 2026-11-23T10-00-00Z --root /mnt/node
  kubepki restore 2026-11-23T10-00-00Z -o json     # for automation: one RestoreResult document on stdout
`)
    .description(`Put every file of a kubepki backup back as it was: contents, mode and owner; symlinks re-pointed;
files the run created removed. The tree is put back as it was before that run: when later kubepki runs
followed it, what they changed is put back too (from their backups), each file as it was before the first of
them that changed it (--dry-run lists them, and the restore that undoes only the latest run). A file changed
since by something other than kubepki (a hand edit, kubeadm certs renew, the kubelet rotating its pair) is
not put back over without --overwrite: the restore names those files and writes nothing. The current
files are backed up first, so a restore can itself be restored with one command. An interrupted run is rolled
back before anything else.`)
    .addHelpText('after', `
Exit codes:
  0  every file put back (or, with --dry-run, listed: the restore would go ahead)
  2  the restore failed and every file was put back as it was before it
  3  the backup is missing or damaged, was made for another --root, files were changed since by something other than
     kubepki (without --overwrite; with --dry-run too, which lists them), or another kubepki is changing the node
     (nothing written)`)
    .argument('<backup>', 'backup directory, or its name under the backup directory')
    .addOption(rootOption())
    .addOption(nowOption())
    .addOption(backupDirOption())
    .option('--dry-run', 'list what would be put back')
    .option('--overwrite', 'put the backup\'s files back over files changed since by something other than kubepki (a hand edit, kubeadm, the kubelet rotating its pair); what they hold now goes into the restore\'s own backup')
    .addOption(new Option('-o, --output <format>', 'text, or json: one RestoreResult document on stdout (the files put back, or those changed by others that it refused to put back over; the restarts needed; the outcome)').default('text').choices(['text', 'json']))
    .option('--force', 'restore a backup another host made (from a --backup-dir nodes share): only for this node\'s own backup made before it was renamed; or restore although another backup beside it is unreadable')
    .action(async (backup: string, o: RestoreOptions) => {
      const now = resolveNow(o.now);
      const nfs = openRoot(o.root);
      const backupDir = resolveBackupDir(o.backupDir, io.cwd, nfs);
      // -o json: stdout is the one document, made of what the text says
      const say = o.output === 'json' ? () => undefined : (s: string) => io.stdout(s);
      const doc = o.output === 'json' ? await import('./result-doc.js') : undefined;
      await withNodeLock(io, nfs, now, { dryRun: o.dryRun, backupRoot: backupDir, json: o.output === 'json' }, async (lock) => {
        const { readManifest, restoreChanges, restoreSources, changedFiles, applyChanges, defaultBackupRoot, isInside, removeCreatedDirs, removeRunTemps, changedSince, laterRuns, runsAfter, holdsAlready, scanBackups, incompleteBackup, looksLikeBackupDir, NO_MANIFEST } = await import('../apply/transaction.js');
        const root = backupDir ?? defaultBackupRoot(nfs);
        const candidates = [path.resolve(io.cwd, backup), path.join(root, backup), nfs.hostPath(backup)];
        const dir = candidates.find((d) => fs.existsSync(path.join(d, 'manifest.json')));
        const list = `run \`kubepki backups${o.root ? ` --root ${shellArg(nfs.root)}` : ''}${backupDir ? ` --backup-dir ${shellArg(backupDir)}` : ''}\` to list them`;
        if (!dir) {
          // a directory without manifest.json is no backup to restore: one a run was killed making (which changed
          // nothing), one being made, or one whose manifest.json was removed; taking the lock just now may have
          // removed it (the lock named it)
          const gone = lock?.discarded.find((d) => candidates.some((c) => path.resolve(c) === path.resolve(d)));
          if (gone) throw new UserError(`${backup} was an incomplete backup (no manifest.json), removed just now: ${NO_MANIFEST}; there is nothing to restore from it`, `to undo an earlier run, ${list}`);
          const half = candidates.find(looksLikeBackupDir);
          if (half) {
            const { what, fix } = incompleteBackup(nfs, half);
            throw new UserError(`${half} is an incomplete backup (no manifest.json): ${what}; there is nothing to restore from it`, `${fix}; to undo an earlier run, ${list}`);
          }
          throw new UserError(`failed to find backup ${backup}`, list);
        }
        const m = readManifest(dir);
        // a backup belongs to the tree it was made from: the ones in this tree's backup directory are its own
        // (wherever the disk was mounted then); one from elsewhere must have been made for this root, or a
        // mounted disk's backup would be put back onto the live node, or another node's onto this one
        // (only the tree's own backup directory: a --backup-dir can be shared by many nodes)
        const own = isInside(defaultBackupRoot(nfs), dir);
        if (!own && path.resolve(m.root) !== nfs.root) {
          throw new UserError(`refusing to restore ${dir}: it was made for --root ${m.root}, and this is --root ${nfs.root}`, `pass --root ${shellArg(m.root)} to put it back there`);
        }
        // every node of a cluster is --root /: in a --backup-dir nodes share, the root does not tell whose backup it
        // is, the host that made it does (another node's certificates and kubeconfigs would break this one)
        const here = (await import('node:os')).hostname();
        if (!own && m.host && m.host !== here && !o.force) {
          throw new UserError(`refusing to restore ${dir}: it was made on host ${m.host}, and this is ${here}: its files are that node's`, `restore it on ${m.host}; if ${m.host} is this node's former name, pass --force`);
        }
        // a backup beside it that cannot be read may be of a later run, whose changes would then be neither undone nor
        // told from hand edits: the tree would come back half (kubepki cannot tell when a damaged backup's run was)
        const unreadable = scanBackups(path.dirname(dir)).unreadable.filter((u) => path.resolve(u.dir) !== path.resolve(dir));
        if (unreadable.length && !o.force) {
          const u = unreadable[0]!;
          throw new UserError(`refusing to restore ${dir}: the backup ${u.dir} beside it cannot be read (${u.reason}${unreadable.length > 1 ? `; and ${unreadable.length - 1} more` : ''}), and if its run came later, what that run changed would be neither undone nor told from a hand edit`,
            `its files/ hold what its run replaced; move it out of ${path.dirname(dir)} (or repair its manifest.json) and restore again, or pass --force to restore only what ${path.basename(dir)} and the readable later runs changed`);
        }
        // restoring a run puts the tree back as it was before it: what the kubepki runs after it changed goes
        // too (a second renew's new dated kubelet pem, which the first run's backup knows nothing of), each path
        // from the backup of the first of them that changed it; an interrupted one is rolled back first (the
        // real run has done so by now, and marked it recovered; a dry run leaves it out as well)
        const later = runsAfter(dir, m, { own, skip: o.dryRun ? (await import('../inventory/interrupted.js')).pendingRuns(nfs, backupDir).map((r) => r.dir) : [] });
        const laterBy = new Map(restoreSources(dir, m, later).flatMap((x) => (x.by ? [[x.e.path, x.by] as const] : [])));
        // (a file the run made and removed itself, or one a later restore removed, is not there to remove; a file
        // only later runs changed that is as it was before them, after a restore of the later ones, stays as it is)
        const changes = restoreChanges(dir, m, later, nfs).filter((c) => (laterBy.has(c.path) ? !holdsAlready(nfs, c) : c.op !== 'delete' || nfs.lstat(c.path) !== undefined));
        // restored already (the same restore run twice, or the later runs undone one by one): every file holds what
        // the restore would write and no directory the runs made is left; a second restore would make a backup of
        // nothing new, and its dry run offered "to undo only the latest run instead", which re-applied the run
        // -o json: the document, from what the text says; `known` holds what is worked out further down
        const known: { foreign: string[]; latestOnly?: string } = { foreign: [] };
        type Doc = import('./result-doc.js').RestoreResult;
        const finish = (outcome: Doc['outcome'], exitCode: number, x: { files?: Doc['files']; dirsRemoved?: string[]; dirsKept?: string[]; readers?: Readers; removedReaders?: Readers; newBackup?: Doc['newBackup']; failure?: Doc['failure'] } = {}) => {
          io.exitCode = exitCode;
          if (!doc) return;
          const unknown = [x.readers, x.removedReaders].flatMap((r) => (r && 'error' in r ? [r.error] : []));
          const result: Doc = {
            apiVersion: 'kubepki.io/v1alpha1', kind: 'RestoreResult', root: nfs.root, now: now.toISOString(), dryRun: Boolean(o.dryRun), outcome, exitCode,
            ...(lock?.recovered.length ? { recovered: lock.recovered } : {}),
            backup: { dir, action: m.action, created: m.created, state: m.state },
            laterRuns: later.map((r) => ({ name: r.name, action: r.m.action, dir: r.dir })),
            leftOut: unreadable.map((u) => ({ dir: u.dir, reason: u.reason })),
            files: x.files ?? changes.map((c) => ({
              path: c.path, action: c.op === 'write' ? 'write' as const : c.op === 'symlink' ? 'link' as const : 'remove' as const,
              ...(c.op === 'symlink' ? { target: c.target } : {}), ...(laterBy.has(c.path) ? { laterRun: laterBy.get(c.path)!.name } : {}),
            })),
            dirsRemoved: x.dirsRemoved ?? [], dirsKept: x.dirsKept ?? [], changedByOthers: known.foreign,
            ...(known.latestOnly ? { latestOnly: known.latestOnly } : {}),
            restarts: x.readers && 'restarts' in x.readers ? x.readers.restarts : [],
            readersOfRemoved: x.removedReaders && 'restarts' in x.removedReaders ? x.removedReaders.restarts : [],
            ...(unknown.length ? { restartsUnknown: unknown.join('; ') } : {}),
            ...(x.newBackup ? { newBackup: x.newBackup } : {}), ...(x.failure ? { failure: x.failure } : {}),
          };
          doc.printDoc((t) => io.stdout(t), result);
        };
        const leftDirs = [m, ...later.map((r) => r.m)].flatMap((x) => x.createdDirs ?? []).filter((d) => nfs.lstat(d)?.isDirectory());
        if (changes.every((c) => holdsAlready(nfs, c)) && leftDirs.length === 0) {
          finish('nothing-to-restore', 0, { files: [] });
          say(`Nothing to restore: every file ${path.basename(dir)} (${m.action} of ${m.created}) changed is already as it was before that run${later.length ? ' (and so is every file the later runs changed)' : ''}.\n${o.dryRun ? 'Dry run: nothing was written.\n' : ''}`);
          return;
        }
        // what the counts are: `kubepki backups` lists the files the run changed (changedFiles); of those, a file
        // it created that is gone already is not put back, and files only later runs changed are
        const listed = changedFiles(m).length;
        const ownCount = changes.filter((c) => !laterBy.has(c.path)).length;
        const laterCount = changes.length - ownCount;
        const laterNames = [...new Map(changes.flatMap((c) => { const r = laterBy.get(c.path); return r ? [[r.name, `${r.m.action} ${r.name}`] as const] : []; })).values()];
        // (a run that did not finish recorded no more than what it was to change)
        const done = m.state === 'complete';
        const gone = listed - ownCount;
        const which = `${gone === 0 ? `the ${listed} that run ${done ? 'changed' : 'was to change'}` : `${ownCount} of the ${listed} that run ${done ? 'changed' : 'was to change'} (${gone} it ${done ? 'created' : 'was to create'} ${gone === 1 ? 'is' : 'are'} not there: nothing to remove)`}` +
          (laterCount ? `, and ${laterCount} that only the later ${laterNames.join(', ')} changed since` : '');
        say(`Restore ${changes.length} file(s) from ${dir} (${m.action} of ${m.created}, ${m.state})${later.length ? ', the tree as it was before that run' : ''}: ${which}:\n`);
        for (const u of unreadable) say(`  (left out, --force: the unreadable backup ${u.dir}: ${u.reason}; what its run changed is not undone)\n`);
        for (const c of changes) {
          const r = laterBy.get(c.path);
          const by = r ? ` (${c.op === 'delete' ? 'made' : 'changed'} by the later ${r.m.action} ${r.name})` : '';
          say(`  ${c.op === 'write' ? 'write ' : c.op === 'symlink' ? 'link  ' : 'remove'}  ${c.path}${c.op === 'symlink' ? ` → ${c.target}` : ''}${by}\n`);
        }
        // the directories the runs made for their files go with them, when nothing else is in them
        for (const d of m.createdDirs ?? []) say(`  rmdir   ${d} (made by that run; if empty)\n`);
        for (const r of later) for (const d of r.m.createdDirs ?? []) say(`  rmdir   ${d} (made by the later ${r.m.action} ${r.name}; if empty)\n`);
        // what changed after that run (the kubelet rotated its pair, a later renewal) is undone too: say so
        const drift = changedSince(nfs, m);
        // (a later kubepki run, whose backup holds what this run left, changed it: not the kubelet, not "something else")
        const byRun = laterRuns(dir, m, drift, own);
        // a file only a later run changed, changed again since by something else than kubepki (a hand edit, the
        // kubelet rotating its pair): the restore puts the state from before that run back over it too: say so
        const sinceLater = restoreSources(dir, m, later).flatMap((x) => {
          if (!x.by || !changes.some((c) => c.path === x.e.path)) return [];
          const d = changedSince(nfs, { ...x.by.m, entries: [x.e] })[0];
          return d && !laterRuns(x.by.dir, x.by.m, [d], own).has(d.path) ? [{ ...d, run: x.by }] : [];
        });
        if (drift.length + sinceLater.length > 0) {
          const what = (s: { existed: boolean; target?: string }, left: boolean) => (!s.existed ? 'nothing' : s.target !== undefined ? `a link to ${s.target}` : left ? 'what it wrote' : 'other content');
          const other = drift.length - byRun.size + sinceLater.length;
          const by = other === 0 ? ' (by later kubepki runs)' : byRun.size === 0 ? ' (by something else)' : '';
          const rotated = (d: { path: string; now: { target?: string } }) => /\/kubelet-(client|server)-current\.pem$/.test(d.path) && d.now.target !== undefined ? ' (the kubelet rotated its pair since: restoring points it back at the older one)' : '';
          say(`Changed since that run${by}; restoring puts the state from before the run back over it:\n`);
          for (const d of drift) {
            const run = byRun.get(d.path);
            const why = run?.interrupted ? ` (by the interrupted ${run.action} ${run.name}, which is rolled back first: the restore finds what the run left)`
              : run ? ` (by the later ${run.action} ${run.name})`
              : rotated(d);
            say(`  ${d.path}: the run left ${what(d.left, true)}, now ${what(d.now, false)}${why}\n`);
          }
          for (const d of sinceLater) say(`  ${d.path}: the later ${d.run.m.action} ${d.run.name} left ${what(d.left, true)}, now ${what(d.now, false)}${rotated(d) || ' (by something else since that run)'}\n`);
        }
        // a change kubepki did not make (an operator's edit of admin.conf, `kubeadm certs renew`, the kubelet's own
        // rotation) would be lost from the node, or break it (-current pointed back at a pair the cluster may no
        // longer accept): restore puts back over it only when told to, as kubectl's --overwrite (later kubepki
        // runs' changes are the tree as it was before the run, and an interrupted run is rolled back first anyway)
        const foreign = [...drift.filter((d) => !byRun.has(d.path)), ...sinceLater].filter((d) => changes.some((c) => c.path === d.path)).map((d) => d.path);
        // (with --force, a backup beside it that cannot be read may be of the run that changed them: kubepki cannot tell)
        const foreignText = `${foreign.length} file(s) changed since that run by something other than kubepki${unreadable.length ? ` (or by ${unreadable.length === 1 ? 'the run of the unreadable backup' : 'a run of the unreadable backups'} ${listText(unreadable.map((u) => u.name))})` : ''}: ${listText(foreign)}`;
        known.foreign = foreign;
        if (foreign.length && !o.overwrite && o.dryRun) say(`Without --overwrite this restore refuses and writes nothing: ${foreignText}.\n`);
        // (when later runs followed it, undoing only the latest one may be what was meant, and leave those files be)
        // (a later run by its name when it is beside this one, else by its directory)
        const restoreOf = (r: { name: string; dir: string }) => `kubepki restore ${restoreArgs(nfs.root, path.resolve(path.dirname(dir)) === path.resolve(root) ? r.name : r.dir, backupDir)}`;
        const latest = later.filter((r) => r.m.state === 'complete').pop();
        const latestOnly = latest && `${latest.m.action} ${latest.name}: ${restoreOf(latest)}`;
        if (foreign.length && !o.overwrite && !o.dryRun) {
          if (latest) known.latestOnly = restoreOf(latest);
          finish('refused', 3);
          throw new UserError(`refusing to restore ${dir}: ${foreignText}; restoring would put the state from before that run back over them`,
            `keep them and take what you need by hand from ${dir}/files${latestOnly ? `, or undo only the latest run instead (${latestOnly})` : ''}, or pass --overwrite to put back every file listed (what they hold now goes into the restore's own backup, and \`kubepki restore\` of that brings it back)`);
        }
        // (what later runs did that this restore undoes: files only they changed, or changes since this run that
        // a later run made; runs that cancel out, a renew and its restore, leave nothing to undo instead)
        const undoesLater = laterCount > 0 || [...byRun.values()].some((r) => !r.interrupted);
        if (undoesLater && o.dryRun) {
          // (the latest run after it: restoring that one alone undoes only it)
          const newest = later.filter((r) => r.m.state === 'complete').pop() ?? later[later.length - 1]!;
          known.latestOnly = restoreOf(newest);
          say(`To undo only the latest run instead (${newest.m.action} ${newest.name}): ${known.latestOnly}\n`);
        }
        // who reads a file the restore removes is known only before it goes (its manifest may go with it)
        // (a dated kubelet pem goes while -current is pointed back at the older one: nothing reads it any more)
        const relinked = new Set(changes.filter((c) => c.op === 'symlink').map((c) => { try { return nfs.realNodePath(c.path); } catch { return c.path; } }));
        const removedPaths = changes.filter((c) => c.op === 'delete' && !relinked.has(c.path)).map((c) => c.path);
        const putBack = changes.filter((c) => c.op !== 'delete').map((c) => c.path);
        const removedReaders = removedPaths.length ? await readersOf(nfs, removedPaths, now, removedPaths) : undefined;
        const removedText = removedReaders ? restartText(removedReaders, removedPaths, REMOVED_LEAD, { none: '', commands: false }) : '';
        if (o.dryRun) {
          say(removedText);
          const readers = putBack.length || !removedText ? await readersOf(nfs, putBack, now) : undefined;
          if (readers) say(restartText(readers, putBack, 'Afterwards restart'));
          say('Dry run: nothing was written.\n');
          const planned = [...(m.createdDirs ?? []), ...later.flatMap((r) => r.m.createdDirs ?? [])];
          // (exiting as the run would: a script that dry-runs first stops on a restore that will be refused)
          const refused = foreign.length > 0 && !o.overwrite;
          finish(refused ? 'refused' : 'restored', refused ? 3 : 0, { dirsRemoved: planned, readers, removedReaders });
          return;
        }
        let res: Awaited<ReturnType<typeof applyChanges>>;
        try {
          res = await applyChanges(nfs, changes, {
            action: 'restore', now, ...(backupDir ? { backupRoot: backupDir } : {}), note: `restore ${dir}`, lock, onStep: testStepHook(io.env),
          });
        } catch (e) {
          // -o json: the document says what failed and whether it was rolled back; the error is the usual one line on stderr
          if (!doc) throw e;
          const code = await doc.reportNow(e, io);
          finish('failed', code, { removedReaders, failure: doc.failureOf(nfs, e, false, backupDir) });
          throw doc.failedAfterReport(code);
        }
        // (a run still in-progress was killed, and what it wrote beside its targets was never cleaned up)
        for (const x of [m, ...later.map((r) => r.m)]) if (x.state === 'in-progress') removeRunTemps(nfs, x);
        // (the newest run's directories first: an older run's may hold them)
        const removed = [...later.map((r) => r.m).reverse(), m].flatMap((x) => removeCreatedDirs(nfs, x));
        const kept = [...new Set([...later.flatMap((r) => r.m.createdDirs ?? []), ...(m.createdDirs ?? [])])].filter((d) => !removed.includes(d) && nfs.lstat(d)?.isDirectory());
        if (removed.length) say(`Removed ${removed.length} empty director${removed.length === 1 ? 'y' : 'ies'} ${later.length ? 'those runs' : 'that run'} had made: ${removed.join(', ')}.\n`);
        if (kept.length) say(`Kept ${kept.join(', ')}: made by ${later.length ? 'those runs' : 'that run'}, but not empty (something else is in it now).\n`);
        // (the same line as every run that writes node files: restoring the wrong backup is undone by the command it prints)
        say(`Restored.\n${backupLine(nfs, res.backupDir, backupDir)}\n`);
        say(removedText);
        const readers = putBack.length || !removedText ? await readersOf(nfs, putBack, now) : undefined;
        if (readers) say(restartText(readers, putBack, 'Nothing was restarted. These components read the restored files; restart them'));
        finish('restored', 0, { dirsRemoved: removed, dirsKept: kept, readers, removedReaders, newBackup: doc?.backupOf(nfs, res.backupDir, backupDir) });
      });
    });
}

/**
 * Undoing a rebuild (or a run that created files) removes files running components read: etcd re-reads its
 * certificates on every new connection and fails at once, the others when they next start.
 */
const REMOVED_LEAD = 'These components read files the restore removed: each fails when it next loads them (etcd on its next connection, the others when restarted), so put the files back first (a later backup, or kubepki rebuild)';

type Readers = { restarts: PlanRestart[] } | { error: string };

/**
 * The components that read the restored files, with the commands renew prints (same restart logic:
 * manifests' flags and the kubelet config name the files; the layout says how each one runs).
 */
async function readersOf(nfs: NodeFs, files: string[], now: Date, goneFiles: string[] = []): Promise<Readers> {
  // (read while the files the restore removes are still there: the advice names none of them)
  const gone = new Set(goneFiles);
  const { readInventory } = await import('../inventory/read.js');
  const { restartsForFiles } = await import('../plan/renew.js');
  const { readNodeEtcdCluster } = await import('../rebuild/etcd-members.js');
  try {
    return { restarts: restartsForFiles(readInventory({ fs: nfs, now }), files, () => readNodeEtcdCluster(nfs, gone)) };
  } catch (e) {
    return { error: errorMessage(e) };
  }
}

function restartText(readers: Readers, files: string[], lead: string, o: { none?: string; commands?: boolean } = {}): string {
  const { none = 'No component reads them that needs a restart (kubeconfigs such as admin.conf are read by kubectl on each call).\n', commands = true } = o;
  if ('error' in readers) return `Could not work out which components read them (${readers.error}): restart every component that reads ${files.join(', ')}.\n`;
  const { restarts } = readers;
  if (restarts.length === 0) return none;
  const out = [`${lead}:`];
  for (const r of restarts) out.push(`  ${r.component} (reads ${r.because.join(', ')})${commands ? `: ${r.command}` : ''}${r.caution ? `\n    (${r.caution})` : ''}`);
  return out.join('\n') + '\n';
}
