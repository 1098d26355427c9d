import { createRequire } from 'node:module';
import type { NodeFs } from '../fs/node-fs.js';
import type { Finding } from './types.js';
import { BACKUP_DIR, LOCK_FILE, heldByLiveRun } from '../apply/state.js';

/** This machine's name, asked only when a lock is found (node:os is not otherwise loaded by check). */
const hostname = (): string => (createRequire(import.meta.url)('node:os') as typeof import('node:os')).hostname();

/**
 * A renew, rebuild or restore that was killed before it finished leaves its backup marked in-progress:
 * some files are new and some old until the next run rolls it back. check says so, as an error, unless the
 * run is still going (its lock is held by a live process on this host).
 */
export function interruptedRuns(fs: NodeFs): Finding[] {
  const dir = BACKUP_DIR;
  const out: Finding[] = [];
  if (!fs.lstat(dir)) return out; // (the common case, without readdir's ENOENT error object)
  for (const d of fs.readDir(dir)) {
    if (!d.isDirectory()) continue;
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
      message: `a kubepki ${String(m.action)} started ${String(m.created)} was interrupted and may have left some files renewed and others not: the next kubepki renew rolls it back first, or put every file back now with kubepki restore ${d.name}`,
    });
  }
  return out;
}

function runningNow(fs: NodeFs): boolean {
  try {
    const lock = JSON.parse(fs.readFile(LOCK_FILE).toString('utf8')) as { pid?: unknown; host?: unknown };
    return heldByLiveRun(lock, hostname());
  } catch {
    return false; // no lock, or not ours to read
  }
}
