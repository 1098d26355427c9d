/**
 * Where renew, rebuild and restore keep their state on a node (node paths), whether the run holding the lock
 * is alive (or cannot be judged from here), and which backups its lock names. Its own module, importing none of ours: `check` reads these too (an interrupted run is
 * one of its findings) without loading the transaction code.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

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

/**
 * Who writes a lock: the pid, and where that pid means something: the machine's name, its boot
 * (/proc/sys/kernel/random/boot_id) and the PID namespace (/proc/self/ns/pid's link, `pid:[4026531836]`). A pid
 * is looked up in the PID namespace of whoever asks: from a pod (hostNetwork: the node's name) the node's
 * kubepki is not there, and from the node a pod's pid is another process or none. And the machine itself
 * (/etc/machine-id, which a reboot keeps): a lock from an earlier boot of this machine names a run that is gone.
 */
export interface LockOwner { pid: number; host: string; boot?: string; pidNs?: string; machine?: string }

let self: LockOwner | undefined;
/** This process as a lock records it (boot and pidNs left out where there is no /proc: not Linux). */
export function thisRun(): LockOwner {
  if (self) return self;
  // (node:os asked only when a lock is taken or found: check does not otherwise load it)
  const host = (createRequire(import.meta.url)('node:os') as typeof import('node:os')).hostname();
  let boot: string | undefined;
  let pidNs: string | undefined;
  try { boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || undefined; } catch { /* not Linux */ }
  try { pidNs = readlinkSync('/proc/self/ns/pid'); } catch { /* not Linux */ }
  let machine: string | undefined;
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    // (32 hex digits; an empty file, as images ship for systemd to fill at first boot, names no machine)
    try { machine = /^[0-9a-f]{32}$/.exec(readFileSync(f, 'latin1').trim())?.[0]; } catch { /* none */ }
    if (machine) break;
  }
  return (self = { pid: process.pid, host, ...(boot ? { boot } : {}), ...(pidNs ? { pidNs } : {}), ...(machine ? { machine } : {}) });
}

/**
 * What this run can tell of the run that wrote a lock. 'alive': it is still running (this host, this boot,
 * this PID namespace, its pid alive and not ours). 'dead': provably gone (the same, its pid not alive, or
 * ours: a process before us that had our pid; or written in an earlier boot of this very machine, its
 * machine-id ours: a reboot ended every process of that boot, the node's and its pods' alike, which is how most
 * runs are cut short: a power loss), so its lock is ours to take over. 'elsewhere': written on another host, in
 * another boot of a machine that is not provably this one (another machine of this name, or no machine-id
 * recorded), or in another PID namespace (the node vs a pod, one pod vs another): its pid says nothing here,
 * and the run may be going on. A lock from before locks recorded boot and namespace (neither field) is judged
 * as it was then: this host's, its pid looked up here. A lock that cannot be read (undefined, not a record)
 * names no owner to wait for: 'dead'.
 */
export function lockOwnerState(lock: { pid?: unknown; host?: unknown; boot?: unknown; pidNs?: unknown; machine?: unknown } | null | undefined, me: LockOwner = thisRun()): 'alive' | 'dead' | 'elsewhere' {
  if (lock === null || typeof lock !== 'object') return 'dead';
  if (lock.host !== me.host) return 'elsewhere';
  if ((lock.boot !== undefined || lock.pidNs !== undefined) && lock.boot !== me.boot) {
    return lock.boot !== undefined && me.boot !== undefined && me.machine !== undefined && lock.machine === me.machine ? 'dead' : 'elsewhere';
  }
  if (lock.pidNs !== undefined && lock.pidNs !== me.pidNs) return 'elsewhere';
  return typeof lock.pid === 'number' && lock.pid !== me.pid && pidAlive(lock.pid) ? 'alive' : 'dead';
}

/** P lies inside DIR (host paths; DIR itself is not inside). */
export function isInside(dir: string, p: string): boolean {
  const rel = relative(resolve(dir), resolve(p));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Why a backup's manifest.json text is not a manifest (manifestOf). */
export const MANIFEST_DAMAGED = 'manifest.json is not valid JSON (damaged)';
export const MANIFEST_FOREIGN = 'manifest.json is not a kubepki backup';

/**
 * A backup's manifest.json text as a manifest, or why it is not one (MANIFEST_DAMAGED, MANIFEST_FOREIGN): the
 * lock's taker (transaction's readManifest) and check (interrupted.ts) judge a manifest alike, so that check
 * reports the run the next command refuses.
 */
export function manifestOf<M extends { kind?: unknown; entries?: unknown }>(text: string): M | typeof MANIFEST_DAMAGED | typeof MANIFEST_FOREIGN {
  let m: M | null;
  try { m = JSON.parse(text) as M | null; } catch { return MANIFEST_DAMAGED; }
  return m?.kind === 'Backup' && Array.isArray(m.entries) ? m : MANIFEST_FOREIGN;
}

/**
 * A backup lockedRunBackups returns: its manifest `m`, or `damaged`: why the manifest.json that is there cannot be
 * read (not JSON, cut short, not a kubepki backup's, a read error). A damaged backup of a run that did not finish
 * is not one to skip: its run may have changed some files and not others, and without its manifest nothing can
 * tell which, nor roll them back.
 */
export type LockedRun<M> = { dir: string; m: M; damaged?: undefined } | { dir: string; m?: undefined; damaged: string };

/**
 * The in-progress backups of the run a dead lock names (`named`: its backupDir, a host path on the machine
 * that ran it): the ones taking the lock rolls back, and the ones check reports as an interrupted run (one
 * decision for both, so check never names a run the next command leaves alone, or a restore that refuses).
 * Its backup of that name in `backupRoot` (where this command keeps backups: --backup-dir, else `ownDir`, the
 * tree's own backup directory) and the one the lock names itself. Those in `ownDir` are this tree's, wherever
 * it was when they were made (a disk now mounted elsewhere, a copy); one elsewhere (--backup-dir) only when its
 * manifest was made for this `root`: a lock copied with a tree names the original tree's backup, which is not
 * ours to roll back, mark or report (a --backup-dir can be shared by many nodes: there only the runs made for
 * this root are ours). Only the run the lock names (its backup's name, wherever the tree is mounted now):
 * another in-progress backup is an older run that was put right otherwise (its lock removed, its backup
 * restored, or its 'rolled-back' not written on a full disk), and rolling it back now would put its old files
 * over every renewal made since, new keys whose only copy is on the node. `read`: a backup's manifest (throws
 * when there is none to read, or it cannot be read: its message says why, after an optional
 * `failed to read backup DIR: `).
 *
 * A backup without manifest.json is skipped: a run killed while it copied its backup, before the manifest that
 * commits it, changed no node file (takeLock removes that directory). One whose manifest.json is there but cannot
 * be read is returned as `damaged` when it is this tree's: in `ownDir` or `backupRoot` (the name the lock gives,
 * where this tree keeps its backups); elsewhere (a --backup-dir the run was given), where only the manifest's root
 * could have told, when this tree is the node itself (root /: its own lock names its own run), else skipped as a
 * readable one of another root is (a lock copied with a tree names the original's backup, not the copy's).
 */
export function lockedRunBackups<M extends { state?: unknown; root?: unknown }>(
  where: { root: string; ownDir: string; backupRoot: string }, named: string, read: (dir: string) => M,
): LockedRun<M>[] {
  const candidates = [join(where.backupRoot, basename(named)), ...(isInside(where.backupRoot, named) ? [] : [resolve(named)])];
  const out: LockedRun<M>[] = [];
  for (const dir of candidates) {
    if (out.some((r) => r.dir === dir)) continue;
    let m: M;
    try { m = read(dir); } catch (e) {
      // (existsSync, as takeLock's test for a half-made backup and scanBackups' for an unreadable one)
      if (!existsSync(join(dir, 'manifest.json'))) continue;
      if (isInside(where.ownDir, dir) || isInside(where.backupRoot, dir) || resolve(where.root) === '/') {
        const why = e instanceof Error ? e.message : String(e);
        out.push({ dir, damaged: why.startsWith(`failed to read backup ${dir}: `) ? why.slice(`failed to read backup ${dir}: `.length) : why });
      }
      continue;
    }
    if (m?.state !== 'in-progress') continue;
    if (!isInside(where.ownDir, dir) && (typeof m.root !== 'string' || resolve(m.root) !== resolve(where.root))) continue;
    out.push({ dir, m });
  }
  return out;
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
  return `${shellArg(backup)}${placeArgs(root, backupDir)}`;
}

/** ` --root R --backup-dir D`, each only when needed (R not /, D given), quoted for the shell: where a command finds the tree and its backups. */
export function placeArgs(root: string, backupDir?: string): string {
  return `${root !== '/' ? ` --root ${shellArg(root)}` : ''}${backupDir ? ` --backup-dir ${shellArg(backupDir)}` : ''}`;
}
