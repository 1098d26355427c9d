import * as hostFs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { NodeFs } from '../fs/node-fs.js';
import type { Finding } from './types.js';
import { BACKUP_DIR, LOCK_FILE, heldByLiveRun, restoreArgs } from '../apply/state.js';

/** This machine's name, asked only when a lock is found (node:os is not otherwise loaded by check). */
const hostname = (): string => (createRequire(import.meta.url)('node:os') as typeof import('node:os')).hostname();

/**
 * A renew, rebuild, restore (any command that changes the node) that was killed before it finished, or whose
 * rollback failed, leaves its lock behind and its backup marked in-progress: some files are new and some old
 * until it is rolled back. check says so, as an error with the command that undoes it, unless the run is
 * still going (its lock is held by a live process on this host). Without a lock there is no such run: one
 * stat is all check pays on a node whose runs finished (however many backups it keeps).
 */
export function interruptedRuns(fs: NodeFs): Finding[] {
  const out: Finding[] = [];
  if (!fs.lstat(LOCK_FILE)) return out; // (the common case, without readdir's ENOENT error object)
  const lock = readLock(fs);
  // only the run the lock names, the one the next command rolls back; another in-progress backup is an older
  // run put right otherwise, and restoring it would put its old files back over every renewal since
  const named = typeof lock?.backupDir === 'string' ? lock.backupDir.replace(/\/+$/, '') : undefined;
  if (!named) return out;
  const name = path.basename(named);
  // the lock holds the backup's path on the machine that ran it: a --backup-dir outside the tree is read there;
  // else the tree's own backup of that name (the tree may be mounted elsewhere now)
  const elsewhere = path.isAbsolute(named) && path.dirname(named) !== fs.hostPath(BACKUP_DIR) && hostFs.existsSync(named) ? named : undefined;
  const run = elsewhere
    ? { shown: elsewhere, manifest: () => hostFs.readFileSync(path.join(elsewhere, 'manifest.json')), backupDir: path.dirname(elsewhere) }
    : { shown: `${BACKUP_DIR}/${name}`, manifest: () => fs.readFile(`${BACKUP_DIR}/${name}/manifest.json`), backupDir: undefined };
  let m: { state?: unknown; action?: unknown; created?: unknown };
  try { m = JSON.parse(run.manifest().toString('utf8')) as typeof m; } catch { return out; }
  if (m?.state !== 'in-progress') return out;
  if (heldByLiveRun(lock, hostname())) {
    out.push({ code: 'interrupted-run', severity: 'info', file: run.shown, message: `a kubepki ${String(m.action)} is changing this node right now (backup ${run.shown}); check again when it has finished` });
    return out;
  }
  out.push({
    code: 'interrupted-run', severity: 'error', file: run.shown,
    message: `a kubepki ${String(m.action)} started ${String(m.created)} was interrupted and may have left some files changed and others not: put every file back as it was with kubepki restore ${restoreArgs(fs.root, name, run.backupDir)} (any kubepki command that changes this node does that first, and says so)`,
  });
  return out;
}

/** The node's lock, or undefined when there is none or it is not ours to read. */
function readLock(fs: NodeFs): { pid?: unknown; host?: unknown; backupDir?: unknown } | undefined {
  try {
    return JSON.parse(fs.readFile(LOCK_FILE).toString('utf8')) as { pid?: unknown; host?: unknown; backupDir?: unknown };
  } catch {
    return undefined;
  }
}
