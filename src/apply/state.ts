/**
 * Where renew, rebuild and restore keep their state on a node (node paths), and whether the process holding
 * the lock is alive. Its own module, with no other imports: `check` reads these too (an interrupted run is
 * one of its findings) without loading the transaction code.
 */
export const BACKUP_DIR = '/var/lib/kubepki/backups';
export const LOCK_FILE = '/var/lib/kubepki/kubepki.lock';

/** A process exists (EPERM: it does, another user's). */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
