/**
 * What every command that changes a node does first: take the node's lock, which rolls an interrupted run
 * back from its backup, so that the command reads and plans against a consistent tree (not against files a
 * killed run left, which the rollback then removes under the plan), and no second writer starts half way.
 */
import type { Io } from './io.js';
import type { NodeFs } from '../fs/node-fs.js';
import type { NodeLock } from '../apply/transaction.js';

async function lockForChange(say: (line: string) => void, nfs: NodeFs, now: Date, backupRoot?: string): Promise<NodeLock> {
  const { lockNode } = await import('../apply/transaction.js');
  const lock = lockNode(nfs, now, backupRoot);
  for (const r of lock.recovered) say(`An interrupted run was rolled back first from ${r}.\n\n`);
  // (a restore of that very backup then says what it was: it is gone by the time the restore looks)
  for (const d of lock.discarded) say(`An interrupted run's incomplete backup ${d} was removed first: it has no manifest.json (the run was killed while copying into it, before it changed any file, or its manifest.json was removed).\n\n`);
  for (const d of lock.kept) say(`An interrupted run's incomplete backup ${d} was kept: it has no manifest.json, yet its copies are not what the node holds now (its manifest.json was removed after that run changed those files), so they may be the only ones of what the run replaced; compare them with the node's files, then remove it (rm -r ${d}, or kubepki backups --prune).\n\n`);
  return lock;
}

/**
 * Run FN holding the node's lock (taken as lockForChange does) and release it however FN ends; a dry run, or a
 * run that writes no node file, takes none (it writes nothing the lock guards) and FN gets undefined. Every
 * command says the same of an interrupted run: the real run that it rolled it back, from where; the dry run
 * (which rolls nothing back), before and after what it shows, that it read the files that run left, what undoes
 * the run, and that the real run rolls it back first. `json`: those lines go to stderr, stdout being the
 * document.
 */
export async function withNodeLock<T>(
  io: Io, nfs: NodeFs, now: Date, opts: { dryRun?: boolean; backupRoot?: string; json?: boolean },
  fn: (lock: NodeLock | undefined) => Promise<T>,
): Promise<T> {
  const say = (line: string) => (opts.json ? io.stderr(line) : io.stdout(line));
  // a dry run rolls nothing back: what it reads is what an unfinished run left (some files new, some old), not
  // what the real run plans from once it has rolled that run back. It says so first, as check does (the same
  // finding, with the restore that undoes the run), and again at the end, under the plan
  const pending = opts.dryRun ? (await import('../inventory/interrupted.js')).pendingRuns(nfs, opts.backupRoot) : [];
  for (const r of pending) {
    say(r.owner === 'alive'
      ? `Run in progress: ${r.finding.message}.\nThis dry run reads files that run is still writing; a real run is refused until it has finished.\n\n`
      : `Interrupted run: ${r.finding.message}.\nThis dry run reads the files as that run left them, some changed and others not: ${r.owner === 'dead' && r.restore
        ? `a real run rolls it back first (from ${r.dir}) and reads them as they were before it, so what it does can differ from what is shown here`
        : 'a real run is refused until that lock is removed'}.\n\n`);
  }
  const lock = opts.dryRun ? undefined : await lockForChange(say, nfs, now, opts.backupRoot);
  try {
    const out = await fn(lock);
    for (const r of pending) {
      say(r.owner === 'alive'
        ? `\nNote: shown from files a running kubepki ${r.action} is still writing; dry-run again when it has finished.\n`
        : r.owner === 'elsewhere'
          ? `\nNote: shown from the files a kubepki ${r.action} holding this node's lock from elsewhere left or is writing (see the top: what to do once it is gone); dry-run again after that.\n`
          : r.restore
            ? `\nNote: shown from the files an interrupted kubepki ${r.action} left (see the top); put them back first with ${r.restore}, then dry-run again.\n`
            // (its backup cannot be read: no restore undoes it)
            : `\nNote: shown from the files an interrupted kubepki ${r.action} left (see the top); put them back by hand from ${r.dir}/files and remove the lock first, then dry-run again.\n`);
    }
    return out;
  } finally {
    lock?.release();
  }
}

/**
 * Crash and failure injection for tests (KUBEPKI_TEST_CRASH_AT / KUBEPKI_TEST_FAIL_AT = a write step's
 * ordinal): SIGKILL the process, or throw, just before that filesystem step. The failure is the one a disk
 * gives (EIO, naming the file of the step), so it is reported as a real one is: before any node file is
 * written (the backup) one line and exit 3, later a rollback and exit 2; never as an internal error.
 */
export function testStepHook(env: Io['env']): ((n: number, what: string) => void) | undefined {
  const crashAt = Number(env.KUBEPKI_TEST_CRASH_AT ?? 0);
  const failAt = Number(env.KUBEPKI_TEST_FAIL_AT ?? 0);
  if (!crashAt && !failAt) return undefined;
  return (n, what) => {
    if (n === crashAt) process.kill(process.pid, 'SIGKILL');
    if (n === failAt) {
      // what: `<verb> <path>[ → <path>]` (backup, write, manifest <state>, rename, delete, link, remove stale)
      const file = /(?:^|\s)(\/\S*)/.exec(what)?.[1] ?? what;
      const syscall = /^(rename|delete|remove|link)\b/.exec(what)?.[1];
      throw Object.assign(new Error(`injected failure at step ${n} (${what})`), {
        code: 'EIO', errno: -5, path: file, syscall: syscall === 'delete' || syscall === 'remove' ? 'unlink' : syscall === 'link' ? 'symlink' : syscall ?? 'write',
      });
    }
  };
}
