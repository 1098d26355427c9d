// (named imports: a namespace import of a built-in is a copy of all its properties in the CLI bundle, ~40 KB at every check)
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import type { Finding } from './types.js';
import { BACKUP_DIR, LOCK_FILE, isInside, lockOwnerState, lockedRunBackups, manifestOf, placeArgs, restoreArgs } from '../apply/state.js';

/**
 * A renew, rebuild, restore (any command that changes the node) that was killed before it finished, or whose
 * rollback failed, leaves its lock behind and its backup marked in-progress: some files are new and some old
 * until it is rolled back. check says so, as an error with the command that undoes it, unless the run is
 * still going (a live process on this host, in this boot and PID namespace, holds its lock: lockOwnerState).
 * Without a lock there is no such run: one stat is all check pays on a node whose runs finished (however many
 * backups it keeps).
 */
export function interruptedRuns(fs: NodeFs): Finding[] {
  return pendingRuns(fs).map((r) => r.finding);
}

/**
 * A run the node's lock names that has not finished (PendingRun.finding: check's interrupted-run): its backup,
 * what it was, whether its owner is alive, dead, or elsewhere (lockOwnerState), and the restore that undoes it.
 * `damaged`: its backup's manifest.json is there but cannot be read (why): no restore can undo that run (nor can
 * taking its lock over, which refuses), so there is none, and its action and start are not known ('run', none).
 */
export interface PendingRun { dir: string; action: string; created?: string; owner: 'alive' | 'dead' | 'elsewhere'; restore?: string; damaged?: string; finding: Finding }

/**
 * The runs check reports as interrupted (interruptedRuns) with what a dry run says of them. `backupRoot`: where
 * the asking command keeps backups (its --backup-dir), the ones taking the lock then rolls back; check has none.
 */
export function pendingRuns(fs: NodeFs, backupRoot?: string): PendingRun[] {
  const out: PendingRun[] = [];
  if (!fs.lstat(LOCK_FILE)) return out; // (the common case, without readdir's ENOENT error object)
  const lock = readLock(fs);
  if (typeof lock?.backupDir !== 'string' || !lock.backupDir) return out;
  // the backups taking the lock would roll back (lockedRunBackups, the one decision both make): the run the
  // lock names, in the tree's backups (wherever the tree is mounted now) or where the lock says it kept them
  // (--backup-dir) when that backup was made for this --root (a lock copied with a tree names the original's)
  const ownDir = fs.hostPath(BACKUP_DIR);
  const runs = lockedRunBackups({ root: fs.root, ownDir, backupRoot: backupRoot ?? ownDir }, lock.backupDir, readManifest);
  if (runs.length === 0) return out;
  const owner = lockOwnerState(lock);
  for (const { dir, m, damaged } of runs) {
    const own = isInside(ownDir, dir);
    const shown = own ? `${BACKUP_DIR}/${basename(dir)}` : dir;
    // `file` is a node path, as every finding's: the backup's, or (a --backup-dir outside the tree, which has
    // none) the lock that names it; the message names the backup where the operator reaches it
    const file = own ? shown : isInside(fs.root, dir) ? fs.nodePath(dir) : LOCK_FILE;
    if (damaged !== undefined) {
      out.push(damagedRun(fs, { dir, shown, file, own, damaged, owner, lock }));
      continue;
    }
    const restore = `kubepki restore ${restoreArgs(fs.root, basename(dir), own ? undefined : dirname(dir))}`;
    const run = { dir, action: String(m.action), created: String(m.created), owner, restore };
    if (owner === 'alive') {
      out.push({ ...run, finding: { code: 'interrupted-run', severity: 'info', file, message: `a kubepki ${String(m.action)} is changing this node right now (backup ${shown}); check again when it has finished` } });
      continue;
    }
    // a lock from another host, boot or PID namespace is not taken over (its run may be going on there): the
    // operator removes it once that run is gone, as the next command that changes the node says too
    out.push({
      ...run,
      finding: {
        code: 'interrupted-run', severity: 'error', file,
        message: owner === 'elsewhere'
          ? `a kubepki ${String(m.action)} started ${String(m.created)} holds this node's lock from another host, boot or PID namespace (pid ${String(lock.pid)} on ${String(lock.host)}), where kubepki cannot tell whether it is still running; if it is not, some files may be changed and others not: remove ${fs.hostPath(LOCK_FILE)}, then put every file back as it was with ${restore}`
          : `a kubepki ${String(m.action)} started ${String(m.created)} was interrupted and may have left some files changed and others not: put every file back as it was with ${restore} (any kubepki command that changes this node does that first, and says so)`,
      },
    });
  }
  return out;
}

/**
 * The run a lock names whose backup's manifest.json cannot be read: kubepki cannot tell which files it changed,
 * so no restore undoes it and the next command that changes the node refuses (takeLock) rather than take its lock
 * over: the operator puts back its copies by hand (or restores an older backup), then removes the lock. The
 * same advice as takeLock's refusal; `kubepki backups` and `restore` list such a backup as unreadable.
 */
function damagedRun(fs: NodeFs, r: { dir: string; shown: string; file: string; own: boolean; damaged: string; owner: PendingRun['owner']; lock: { pid?: unknown; host?: unknown } }): PendingRun {
  const run = { dir: r.dir, action: 'run', owner: r.owner, damaged: r.damaged };
  if (r.owner === 'alive') {
    return { ...run, finding: { code: 'interrupted-run', severity: 'info', file: r.file, message: `a kubepki run is changing this node right now (backup ${r.shown}); check again when it has finished` } };
  }
  const lockFile = fs.hostPath(LOCK_FILE);
  const backups = `kubepki backups${placeArgs(fs.root, r.own ? undefined : dirname(r.dir))}`;
  // (the backup's copies where the operator reaches them: under --root, in the tree, as the lock is named)
  const putBack = `its copies of the files it was to change are under ${r.dir}/files, each at its node path: put them back by hand, then remove ${lockFile} (or remove it and restore an older backup: ${backups})`;
  return {
    ...run,
    finding: {
      code: 'interrupted-run', severity: 'error', file: r.file,
      message: r.owner === 'elsewhere'
        ? `a kubepki run holds this node's lock from another host, boot or PID namespace (pid ${String(r.lock.pid)} on ${String(r.lock.host)}), where kubepki cannot tell whether it is still running, and its backup ${r.dir} cannot be read (${r.damaged}): if that run is gone, some files may be changed and others not, and kubepki cannot tell which: ${putBack}`
        : `a kubepki run was interrupted and left backup ${r.dir}, which cannot be read (${r.damaged}): some files may be changed and others not, and kubepki cannot tell which (every kubepki command that changes this node refuses until the lock is removed); ${putBack}`,
    },
  };
}

/** A backup's manifest, as far as check reads it: throws when there is none, or it cannot be read, saying why (manifestOf's words). */
function readManifest(dir: string): { state?: unknown; root?: unknown; action?: unknown; created?: unknown } {
  const m = manifestOf<{ kind?: unknown; entries?: unknown; state?: unknown; root?: unknown; action?: unknown; created?: unknown }>(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  if (typeof m === 'string') throw new Error(m);
  return m;
}

/** The node's lock, or undefined when there is none or it is not ours to read. */
function readLock(fs: NodeFs): { pid?: unknown; host?: unknown; backupDir?: unknown } | undefined {
  try {
    return JSON.parse(fs.readFile(LOCK_FILE).toString('utf8')) as { pid?: unknown; host?: unknown; backupDir?: unknown };
  } catch {
    return undefined;
  }
}
