import { createRequire } from 'node:module';
import type { NodeFs } from '../fs/node-fs.js';
import type { Finding } from './types.js';
import { BACKUP_DIR, LOCK_FILE, heldByLiveRun } from '../apply/state.js';

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
  const dir = BACKUP_DIR;
  const out: Finding[] = [];
  if (!fs.lstat(LOCK_FILE) || !fs.lstat(dir)) return out; // (the common case, without readdir's ENOENT error object)
  const root = fs.root === '/' ? '' : ` --root ${fs.root}`;
  // only the run the lock names (by its backup's name: the tree may be mounted elsewhere now), the one the next
  // command rolls back; another in-progress backup is an older run put right otherwise, and restoring it would
  // put its old files back over every renewal since
  const named = lockedBackupName(fs);
  for (const d of fs.readDir(dir)) {
    if (!d.isDirectory() || d.name !== named) continue;
    const backup = `${dir}/${d.name}`;
    let m: { state?: unknown; action?: unknown; created?: unknown };
    try { m = JSON.parse(fs.readFile(`${backup}/manifest.json`).toString('utf8')) as typeof m; } catch { continue; }
    if (m?.state !== 'in-progress') continue;
    if (runningNow(fs)) {
      out.push({ code: 'interrupted-run', severity: 'info', file: backup, message: `a kubepki ${String(m.action)} is changing this node right now (backup ${backup}); check again when it has finished` });
      continue;
    }
    out.push({
      code: 'interrupted-run', severity: 'error', file: backup,
      message: `a kubepki ${String(m.action)} started ${String(m.created)} was interrupted and may have left some files changed and others not: put every file back as it was with kubepki restore ${d.name}${root} (any kubepki command that changes this node does that first, and says so)`,
    });
  }
  return out;
}

function lockedBackupName(fs: NodeFs): string | undefined {
  try {
    const d = (JSON.parse(fs.readFile(LOCK_FILE).toString('utf8')) as { backupDir?: unknown }).backupDir;
    return typeof d === 'string' ? d.replace(/\/+$/, '').split('/').pop() : undefined;
  } catch {
    return undefined;
  }
}

function runningNow(fs: NodeFs): boolean {
  try {
    const lock = JSON.parse(fs.readFile(LOCK_FILE).toString('utf8')) as { pid?: unknown; host?: unknown };
    return heldByLiveRun(lock, hostname());
  } catch {
    return false; // no lock, or not ours to read
  }
}
