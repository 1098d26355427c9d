/**
 * Where renew, rebuild and restore keep their state on a node (node paths), and whether the process holding
 * the lock is alive. Its own module, importing none of ours: `check` reads these too (an interrupted run is
 * one of its findings) without loading the transaction code.
 */
import { readFileSync } from 'node:fs';

export const BACKUP_DIR = '/var/lib/kubepki/backups';
export const LOCK_FILE = '/var/lib/kubepki/kubepki.lock';

/**
 * A process exists (EPERM: it does, another user's) and is not dead: a zombie (state Z or X in /proc/PID/stat,
 * an exited process its parent has not reaped yet) holds no lock and finishes no run, though kill(pid, 0)
 * still finds it. Without /proc (not Linux) the process counts as alive.
 */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; }
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return true; }
  // "PID (COMM) STATE …": COMM may itself hold ") ", so the state follows the last one
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** A lock record another run on this host holds and is alive for (`hostname`: this host's; a lock from another host cannot be judged here). */
export function heldByLiveRun(lock: { pid?: unknown; host?: unknown } | undefined, hostname: string): boolean {
  return lock !== undefined && lock.host === hostname && typeof lock.pid === 'number' && lock.pid !== process.pid && pidAlive(lock.pid);
}

/**
 * One word of a command kubepki prints for the operator to run (a restore's backup, --root, --backup-dir): as
 * is when the shell takes it as one word, else in single quotes, so a path with a space runs as printed.
 */
export function shellArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `kubepki restore`'s arguments for BACKUP (a name, or a backup directory's path) of the tree at ROOT:
 * `BACKUP[ --root R][ --backup-dir D]`, with the --root and --backup-dir it needs to find it, quoted for the shell.
 */
export function restoreArgs(root: string, backup: string, backupDir?: string): string {
  return `${shellArg(backup)}${root !== '/' ? ` --root ${shellArg(root)}` : ''}${backupDir ? ` --backup-dir ${shellArg(backupDir)}` : ''}`;
}
