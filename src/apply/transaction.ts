/**
 * The only code that writes node files. One run = one transaction:
 *
 *   lock → backup every file the run touches (+ manifest, state in-progress)
 *        → atomic writes (temp file in the same dir, fsync, rename, dir fsync;
 *          owner and mode kept) → re-read and verify → manifest complete → unlock
 *
 * Any failure rolls every file back from the backup. A run killed half way
 * leaves its lock and an in-progress manifest behind; the next run (or
 * `restore`) sees the dead owner, rolls that run back from its backup, and
 * carries on — so each file is always either all old or all new.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';
import { sha256Hex } from '../pki/digest.js';
import type { NodeFs } from '../fs/node-fs.js';
import { UserError, errorMessage } from '../errors.js';
import { BACKUP_DIR, LOCK_FILE, MANIFEST_DAMAGED, isInside, lockOwnerState, lockedRunBackups, manifestOf, placeArgs, restoreArgs, thisRun, type LockOwner, type LockedRun } from './state.js';
import { keyFileMode, keyModeChange, holdsPrivateKey, type ModeChange } from '../fs/key-mode.js';

export type Change =
  /**
   * replace or create a regular file; an existing file keeps its owner and mode, a new one gets `mode`
   * (never wider than 0600 when it is `secret`). A file that holds a private key (`secret`, or a PEM
   * private key / kubeconfig client-key-data in `content`) is never left readable by others: an existing
   * one keeps its owner and group bits only (keyFileMode). `restore` is a backup's record put back: that
   * mode and owner, whatever the file has now. `create`: a new file (the kubelet's dated pem) that never replaces
   * one put there meanwhile (link(2) refuses, as writeFileAtomic's create does): the run fails and rolls back instead.
   */
  | { op: 'write'; path: string; content: Buffer; mode?: number; secret?: boolean; restore?: { mode: number; uid?: number; gid?: number }; create?: boolean }
  /** point a symlink at `target` (node path) the way client-go's file store swaps `-current` (spec §7.2) */
  | { op: 'symlink'; path: string; target: string; replaceFile?: boolean }
  | { op: 'delete'; path: string };

export interface BackupEntry {
  /** node path */
  path: string;
  existed: boolean;
  type?: 'file' | 'symlink';
  mode?: number;
  uid?: number;
  gid?: number;
  /** symlink text */
  target?: string;
  sha256?: string;
  /** path inside the backup's `files/` */
  stored?: string;
  /** what the run left at this path (recorded when it completed): a restore says what changed since */
  after?: PathState;
}

/** What a path holds: nothing, a symlink's text, or a regular file's SHA-256. */
export interface PathState { existed: boolean; target?: string; sha256?: string }

function pathState(nfs: NodeFs, nodePath: string): PathState {
  const host = nfs.hostPath(nodePath);
  const st = fs.lstatSync(host, { throwIfNoEntry: false });
  if (!st) return { existed: false };
  if (st.isSymbolicLink()) return { existed: true, target: fs.readlinkSync(host) };
  return st.isFile() ? { existed: true, sha256: sha256Hex(fs.readFileSync(host)) } : { existed: true };
}

/**
 * Whether a path holds already what change C would leave there (a file with that content and mode, a link to that
 * target, nothing): a later run's file that is as it was before that run has nothing to put back.
 */
export function holdsAlready(nfs: NodeFs, c: Change): boolean {
  const now = pathState(nfs, c.path);
  if (c.op === 'delete') return !now.existed;
  if (c.op === 'symlink') return now.target === c.target;
  const st = nfs.lstat(c.path);
  // (a restore puts the owner back too: a file with the right bytes under another owner is not as it was)
  const owner = c.restore?.uid === undefined || (st?.uid === c.restore.uid && st.gid === c.restore.gid);
  return now.sha256 === sha256Hex(c.content) && (c.mode === undefined || (st !== undefined && (st.mode & 0o7777) === c.mode)) && owner;
}

/**
 * The paths of a completed run that something else changed since (the kubelet rotating its pair and
 * swapping -current, kubeadm renewing a certificate): restoring the backup puts the state before the
 * run back over those changes. Backups made before runs recorded what they left say nothing.
 */
export function changedSince(nfs: NodeFs, m: BackupManifest): { path: string; now: PathState; left: PathState }[] {
  const out: { path: string; now: PathState; left: PathState }[] = [];
  for (const e of m.entries) {
    if (!e.after) continue;
    const now = pathState(nfs, e.path);
    if (now.existed !== e.after.existed || now.target !== e.after.target || now.sha256 !== e.after.sha256) out.push({ path: e.path, now, left: e.after });
  }
  return out;
}

/**
 * The order kubepki ran its backups' runs in: by their `seq` (one more than the highest in the backup directory when
 * the run began), not by their `now`, which is the node's clock: set right between two runs (a clock years ahead,
 * then NTP), it would put the later run first, and a restore of the latest run would undo the earlier one too.
 * Backups made before runs recorded it (none) came first, among themselves by their `now`, then by name (two runs
 * in one second are T, then T-1, … T-10: the shorter name first).
 */
export function runOrder(a: { name: string; created: string; seq?: number }, b: { name: string; created: string; seq?: number }): number {
  return (a.seq ?? 0) - (b.seq ?? 0) || Date.parse(a.created) - Date.parse(b.created) || a.name.length - b.name.length || (a.name < b.name ? -1 : 1);
}

/** A later run's backup: where it is, its name and its manifest. */
export interface RunAfter { dir: string; name: string; m: BackupManifest }

/**
 * The kubepki runs after the one backed up in DIR, oldest first: the other backups in the same backup directory
 * that come after it (runOrder), whose run changed files (complete, or in-progress: killed, its files as it left
 * them; not one rolled back, which changed nothing) and that were made for this tree (`own`: DIR is in the tree's
 * own backup directory, all of whose backups are its; else, a --backup-dir that many nodes may share, only those
 * made for M's root on M's host: every node of a cluster is --root /, so the root alone would take another node's
 * runs for this one's and put its files here). `skip`: backups left out (an interrupted run that is rolled back
 * before anything else).
 */
export function runsAfter(dir: string, m: BackupManifest, o: { own: boolean; skip?: string[]; states?: BackupManifest['state'][] }): RunAfter[] {
  const states = o.states ?? ['complete', 'in-progress'];
  const skip = new Set((o.skip ?? []).map((d) => path.resolve(d)));
  const all = listBackups(path.dirname(dir));
  const at = all.findIndex((b) => path.resolve(b.dir) === path.resolve(dir));
  const after = at < 0 ? all.filter((b) => runOrder(b, { name: path.basename(dir), created: m.created, ...(m.seq !== undefined ? { seq: m.seq } : {}) }) > 0) : all.slice(at + 1);
  return after
    .filter((b) => states.includes(b.state) && !skip.has(path.resolve(b.dir)))
    .flatMap((b) => { try { return [{ dir: b.dir, name: b.name, m: readManifest(b.dir) }]; } catch { return []; } })
    .filter((r) => o.own || (path.resolve(r.m.root) === path.resolve(m.root) && r.m.host === m.host));
}

/**
 * Which later kubepki run (a backup beside DIR, in the same backup directory) made each changed path what it is
 * now: following the later completed runs in order from what this run left, each one whose backup holds the
 * path as it was then takes it to what it left, and the chain must end at what is there now. A renew run
 * twice, then the first one restored: the change is the second run's, not the kubelet's nor "something else".
 */
export function laterRuns(dir: string, m: BackupManifest, drift: { path: string; now: PathState; left: PathState }[], own = true): Map<string, LaterRun> {
  const out = new Map<string, LaterRun>();
  if (drift.length === 0) return out;
  const same = (a: PathState, b: PathState) => a.existed === b.existed && a.target === b.target && (a.target !== undefined || a.sha256 === b.sha256);
  const runs = runsAfter(dir, m, { own }).map((r) => ({ b: { name: r.name, action: r.m.action, created: r.m.created }, later: r.m }));
  for (const d of drift) {
    let state = d.left;
    let by: LaterRun | undefined;
    for (const { b, later } of runs) {
      const e = later.entries.find((x) => x.path === d.path);
      if (!e || !same(state, { existed: e.existed, ...(e.target !== undefined ? { target: e.target } : {}), ...(e.sha256 !== undefined ? { sha256: e.sha256 } : {}) })) continue;
      // (a run killed before it finished: what it left is unknown, and the next command that writes rolls it back to this)
      if (later.state === 'in-progress') { by = { name: b.name, action: b.action, created: b.created, interrupted: true }; break; }
      if (!e.after) continue;
      state = e.after;
      by = { name: b.name, action: b.action, created: b.created };
    }
    if (by && (by.interrupted || same(state, d.now))) out.set(d.path, by);
  }
  return out;
}

export interface LaterRun { name: string; action: string; created: string; interrupted?: boolean }

export interface BackupManifest {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'Backup';
  action: string;
  /** `now` of the run */
  created: string;
  /**
   * the run's place among the runs in its backup directory: one more than the highest there when it began (runOrder;
   * not `created`, the node's clock, which can be set right between two runs); none in backups made before it
   */
  seq?: number;
  /** host root the files belong to */
  root: string;
  state: 'in-progress' | 'complete' | 'rolled-back' | 'recovered';
  pid: number;
  host: string;
  entries: BackupEntry[];
  /** what the run was about (plan summary) */
  note?: string;
  /**
   * directories (node paths) the run made for its files, deepest first (a rebuild's pki/, pki/etcd/): a
   * rollback or a restore removes each one that is empty again; none that was there before is listed
   */
  createdDirs?: string[];
}

export interface TransactionOptions {
  /** host directory that holds backups (default: <root>/var/lib/kubepki/backups) */
  backupRoot?: string;
  action: string;
  now: Date;
  note?: string;
  /** called before every filesystem mutation with its ordinal (1-based): tests crash or fail here */
  onStep?: (n: number, what: string) => void;
  /** extra verification once every file is written; throw to roll back */
  verify?: () => Promise<void> | void;
  /** a lock taken earlier with `lockNode` (held across read → plan → apply); released by the caller */
  lock?: NodeLock;
}

export interface NodeLock {
  /** remove the lock (after `keep`, leave it: see there) */
  release: () => void;
  /**
   * the run leaves the node half-changed (its rollback failed): release leaves the lock in place, so the next
   * run (or restore) takes it over and rolls the run back from its backup first, and check reports it (a lock
   * on disk is what check looks for)
   */
  keep: () => void;
  setBackup: (d: string) => void;
  /** interrupted runs rolled back when the lock was taken */
  recovered: string[];
  /** incomplete backups (no manifest.json) of the dead run the lock named, removed when the lock was taken */
  discarded: string[];
  /** such a backup kept: its copies differ from the node's files (its manifest.json removed after its run changed them) */
  kept: string[];
}

/**
 * Whether every copy in a backup's files/ is, byte for byte, the node file it was copied from (or the start of it:
 * a copy the kill cut short): removing the backup then loses nothing. A node file gone, changed or no longer a
 * regular file: false.
 */
function copiesOnNode(nfs: NodeFs, dir: string): boolean {
  const same = (rel: string): boolean => {
    try {
      const host = nfs.hostPath(`/${rel}`);
      if (!fs.lstatSync(host).isFile()) return false;
      const node = fs.readFileSync(host);
      const copy = fs.readFileSync(path.join(dir, 'files', rel));
      // (a copy cut short by the kill is the start of the node file)
      return copy.length <= node.length && node.subarray(0, copy.length).equals(copy);
    } catch { return false; }
  };
  const walk = (rel: string): boolean => {
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(path.join(dir, 'files', rel), { withFileTypes: true }); } catch (e) {
      return rel === '' && (e as NodeJS.ErrnoException).code === 'ENOENT'; // no copy made yet
    }
    return entries.every((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? walk(r) : !e.isFile() || same(r);
    });
  };
  return walk('');
}

/**
 * Take the node's kubepki lock before reading the tree: a run that was killed
 * half way is rolled back from its backup first, so the caller reads and plans
 * against a consistent tree.
 */
export function lockNode(nfs: NodeFs, now: Date, backupRoot?: string): NodeLock {
  return takeLock(nfs, now, backupRoot ?? defaultBackupRoot(nfs));
}

/** lockedRunBackups (state.ts) for this tree, with the backups kept in `backupRoot`. */
function lockedRuns(nfs: NodeFs, backupRoot: string, named: string): LockedRun<BackupManifest>[] {
  return lockedRunBackups({ root: nfs.root, ownDir: defaultBackupRoot(nfs), backupRoot }, named, readManifest);
}

export interface TransactionResult {
  backupDir: string;
  written: string[];
  /** existing files holding a private key that others could read, written without those bits */
  keyModes: ModeChange[];
  /** runs that had been interrupted and were rolled back before this one */
  recovered: string[];
}

export function defaultBackupRoot(nfs: NodeFs): string {
  return nfs.hostPath(BACKUP_DIR);
}

function lockPath(nfs: NodeFs): string {
  return nfs.hostPath(LOCK_FILE);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch { /* some filesystems refuse fsync on a directory; the rename is still atomic */ } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

class Steps {
  n = 0;
  constructor(private readonly hook?: (n: number, what: string) => void) {}
  step(what: string): void {
    this.n++;
    this.hook?.(this.n, what);
  }
}

/** Write a file atomically: temp file in the same directory, fsync, rename, directory fsync. */
export function atomicWrite(host: string, content: Buffer, mode: number, owner?: { uid: number; gid: number }, steps?: Steps): void {
  const tmp = writeTemp(host, content, mode, owner, steps);
  steps?.step(`rename ${host}`);
  // (a rename the kernel refuses, onto a directory, leaves the temp file to no one: `renew --plan-out DIR`, `join
  // --out DIR --force` left .DIR.kubepki-PID.tmp, a join token's Secret in it)
  try { fs.renameSync(tmp, host); } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
  fsyncDir(path.dirname(host));
}

/**
 * Create a file atomically, or return false (writing nothing) when something is there: the temp file is
 * hard-linked into place, and link(2) itself refuses to replace (no window between a check and a rename
 * where a file made meanwhile is overwritten); a reader sees the whole file or none (where the filesystem has no
 * hard links, an empty file for a moment before the whole one).
 */
function createAtomic(host: string, content: Buffer, mode: number): boolean {
  return placeNew(writeTemp(host, content, mode), host);
}

/** Move the whole temp file TMP to HOST, or return false (removing TMP) when something is there: see createAtomic. */
function placeNew(tmp: string, host: string): boolean {
  try {
    fs.linkSync(tmp, host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code ?? '')) throw e;
    // a filesystem without hard links (exFAT or FAT on a USB stick, some network shares): claim the name with an
    // exclusive create, which refuses as link(2) does, then rename the whole file onto the claim
    try {
      // (an empty claim, 0600 until the whole file with its own mode is renamed onto it)
      fs.closeSync(fs.openSync(host, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
    try { fs.renameSync(tmp, host); } catch (e3) { fs.rmSync(host, { force: true }); throw e3; }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fsyncDir(path.dirname(host));
  return true;
}

/** What link(2) answers on a filesystem that has no hard links (EPERM: vfat, exFAT; the others: FUSE, SMB). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** CONTENT in a temp file beside HOST, with its mode (and owner), fsynced; its path. */
function writeTemp(host: string, content: Buffer, mode: number, owner?: { uid: number; gid: number }, steps?: Steps): string {
  const tmp = tempOf(host);
  steps?.step(`write ${tmp}`);
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  let ok = false;
  try {
    // (writeFileSync on a descriptor loops until every byte is written: one write(2) may write fewer, at a
    // file-size limit or on a disk that is nearly full, and the rest is then the error it is)
    try { fs.writeFileSync(fd, content); } catch (e) { throw namedWriteError(e, host); }
    fs.fchmodSync(fd, mode);
    if (owner) {
      try { fs.fchownSync(fd, owner.uid, owner.gid); } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      }
    }
    fs.fsyncSync(fd);
    ok = true;
  } finally {
    fs.closeSync(fd);
    // (a write the disk refused leaves no temp file behind)
    if (!ok) fs.rmSync(tmp, { force: true });
  }
  return tmp;
}

/** A write(2) error names no file (it was given a descriptor): name the one it was for. */
function namedWriteError(e: unknown, host: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || err.path) return e;
  return Object.assign(err, { path: host, syscall: 'write', message: `${err.message} '${host}'` });
}

/**
 * Write a file kubepki hands out (join manifests, a sealed CA export, CSRs, a token Secret) all or nothing:
 * a full disk or a kill leaves the file as it was (or absent), never empty or cut short, and never the new
 * content under an old, wider mode. A refusal names the file (the error's path), with no temp file left.
 * `create`: never replace a file that is there (the write itself refuses, EEXIST), where an existsSync check
 * first would overwrite one made between the check and the write.
 */
export function writeFileAtomic(host: string, content: Buffer | string, mode: number, opts: { create?: boolean } = {}): void {
  try {
    if (opts.create) {
      if (!createAtomic(host, Buffer.from(content), mode)) throw Object.assign(new Error(`EEXIST: file already exists, link '${host}'`), { code: 'EEXIST', errno: -17, syscall: 'link', path: host });
    } else {
      atomicWrite(host, Buffer.from(content), mode);
    }
  } catch (e) {
    // (the refusal names the file asked for, not the temp file beside it)
    const err = e as NodeJS.ErrnoException;
    // (and the write asked for, not the rename or link of that temp file onto it)
    if (typeof err?.code === 'string') Object.assign(err, { path: host, syscall: !err.syscall || err.syscall === 'rename' || err.syscall === 'link' ? 'write' : err.syscall });
    throw err;
  }
}

/**
 * The file a write changes: for a renewal the file a node path really names (symlinks resolved inside the
 * root: apiserver.crt a link to a dated file stays a link); for a restore the path the backup recorded
 * itself, whatever is there now (renew may have turned a git stand-in for a link into a real one).
 */
function writeTarget(nfs: NodeFs, c: Extract<Change, { op: 'write' }>): string {
  if (c.restore) return c.path;
  const st = nfs.lstat(c.path);
  if (st?.isSymbolicLink()) return nfs.realNodePath(c.path);
  return c.path;
}

function touchedPaths(nfs: NodeFs, c: Change): string[] {
  if (c.op === 'symlink') return [c.path, c.path.replace(/-current\.pem$/, '-updated.pem')].filter((p, i, a) => a.indexOf(p) === i);
  if (c.op === 'write') return [writeTarget(nfs, c)];
  return [c.path];
}

interface Pending { host: string; content: Buffer; mode: number }

/** Read what a path holds now; regular files are queued for the backup copy. */
function snapshot(nfs: NodeFs, nodePath: string, dir: string, pending: Pending[]): BackupEntry {
  const host = nfs.hostPath(nodePath);
  let st: fs.Stats;
  try { st = fs.lstatSync(host); } catch { return { path: nodePath, existed: false }; }
  if (st.isSymbolicLink()) {
    return { path: nodePath, existed: true, type: 'symlink', target: fs.readlinkSync(host), uid: st.uid, gid: st.gid };
  }
  if (!st.isFile()) throw new UserError(`failed to back up ${nodePath}: not a regular file`, 'move it out of the way or leave it out of the run');
  const content = fs.readFileSync(host);
  const stored = nodePath.replace(/^\/+/, '');
  // the copy is owner-only whatever the file's mode (the manifest keeps that, and a restore puts it back): a
  // backup holds old private keys for years, and a copy of its directory (cp -r, a tarball) must not make a
  // 0644 key, or a kubeconfig's client-key-data, readable by anyone
  pending.push({ host: path.join(dir, 'files', stored), content, mode: 0o600 });
  return { path: nodePath, existed: true, type: 'file', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, sha256: sha256Hex(content), stored };
}

/**
 * Write files and fsync them in parallel (fsyncs issued together are
 * coalesced by the filesystem journal: one commit instead of one per file).
 * Each file gets its crash-test step before anything is started.
 */
async function writeDurable(items: (Pending & { owner?: { uid: number; gid: number }; exclusive?: boolean })[], steps: Steps, label: string): Promise<void> {
  for (const it of items) steps.step(`${label} ${it.host}`);
  // every write settles before a failure is thrown: the rollback that follows must not race a temp file
  // (a new key, say) still being written, which would land after the cleanup and stay
  const settled = await Promise.allSettled(items.map(async (it) => {
    // the node's own directories as kubeadm makes them (0755, spec §1); kubepki's backup directories 0700
    mkdirs(path.dirname(it.host), label === 'backup' ? 0o700 : 0o755);
    if (it.exclusive) await fsp.rm(it.host, { force: true });
    const fh = await fsp.open(it.host, it.exclusive ? 'wx' : 'w', it.mode);
    try {
      // (a full disk or a file-size limit fails the write(2) of a descriptor: name the file it was for)
      await fh.writeFile(it.content).catch((e: unknown) => { throw namedWriteError(e, it.host); });
      await fh.chmod(it.mode);
      if (it.owner) {
        try { await fh.chown(it.owner.uid, it.owner.gid); } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  }));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const dirs = [...new Set(items.map((i) => path.dirname(i.host)))];
  dirs.forEach(fsyncDir);
}

function tempOf(host: string): string {
  return path.join(path.dirname(host), `.${path.basename(host)}.kubepki-${process.pid}.tmp`);
}

function writeManifest(dir: string, m: BackupManifest, steps?: Steps): void {
  steps?.step(`manifest ${m.state} ${path.join(dir, 'manifest.json')}`);
  atomicWrite(path.join(dir, 'manifest.json'), Buffer.from(JSON.stringify(m, null, 2) + '\n'), 0o600);
}

export function readManifest(dir: string): BackupManifest {
  let text: string;
  try { text = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'); } catch (e) {
    throw new UserError(`failed to read backup ${dir}: ${errorMessage(e)}`, 'pass a directory that `kubepki backups` lists');
  }
  const m = manifestOf<BackupManifest>(text);
  if (typeof m !== 'string') return m;
  throw new UserError(`failed to read backup ${dir}: ${m}`, m === MANIFEST_DAMAGED
    // (kubepki writes a manifest whole, a temp file renamed into place: no run it killed leaves one cut short)
    ? `kubepki writes manifest.json whole, so it was damaged after its run (a full disk, a copy cut short, an edit), and which files that run changed cannot be told; its copies of them are under ${dir}/files: put them back by hand, or use another backup (kubepki backups)`
    : 'pass a directory that `kubepki backups` lists');
}

/** Put every entry of a backup back, atomically per file. Used for rollback and crash recovery. */
function rollBack(nfs: NodeFs, dir: string, m: BackupManifest): void {
  const errors: string[] = [];
  for (const e of [...m.entries].reverse()) {
    const host = nfs.hostPath(e.path);
    try {
      cleanTemps(host);
      if (!e.existed) {
        const st = fs.lstatSync(host, { throwIfNoEntry: false });
        if (st) { fs.rmSync(host, { force: true }); fsyncDir(path.dirname(host)); }
        continue;
      }
      if (e.type === 'symlink') {
        const cur = fs.lstatSync(host, { throwIfNoEntry: false });
        if (cur?.isSymbolicLink() && fs.readlinkSync(host) === e.target) continue;
        const tmp = `${host}.kubepki-restore`;
        fs.rmSync(tmp, { force: true });
        fs.symlinkSync(e.target!, tmp);
        fs.renameSync(tmp, host);
        fsyncDir(path.dirname(host));
        continue;
      }
      const content = fs.readFileSync(path.join(dir, 'files', e.stored!));
      if (sha256Hex(content) !== e.sha256) throw new Error(`backup copy ${e.stored} is damaged`);
      const st = fs.statSync(host, { throwIfNoEntry: false });
      if (st?.isFile() && sha256Hex(fs.readFileSync(host)) === e.sha256 && (st.mode & 0o7777) === e.mode) continue;
      mkdirs(path.dirname(host), 0o755);
      atomicWrite(host, content, e.mode ?? 0o600, e.uid !== undefined ? { uid: e.uid, gid: e.gid! } : undefined);
    } catch (err) {
      errors.push(`${e.path}: ${errorMessage(err)}`);
    }
  }
  if (errors.length === 0) removeCreatedDirs(nfs, m);
  if (errors.length > 0) {
    throw new UserError(`failed to roll back ${errors.length} file(s) from backup ${dir}: ${errors.join('; ')}`, `put them back by hand from ${dir}/files, or run \`kubepki restore ${restoreArgs(nfs.root, dir)}\``);
  }
}

function cleanTemps(host: string): void {
  const dir = path.dirname(host);
  const base = path.basename(host);
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) {
    if (n.startsWith(`.${base}.kubepki-`) && n.endsWith('.tmp')) fs.rmSync(path.join(dir, n), { force: true });
  }
}

/**
 * Create `file` holding `content`, or return false when it exists: it appears whole (createAtomic), so a
 * reader never sees a lock that is empty because its writer is mid-way.
 */
function createWhole(file: string, content: string): boolean {
  return createAtomic(file, Buffer.from(content), 0o600);
}

/** The lock file: who holds it (pid, host, and the boot and PID namespace the pid is one of: LockOwner), since when, which backup. */
interface LockInfo extends LockOwner { backupDir?: string; since: string }

/**
 * Take the node's kubepki lock. A lock left by a run that is provably dead (this host, this boot, this PID
 * namespace, its pid gone; or an earlier boot of this machine: lockOwnerState) is taken over after rolling that
 * run back from its backup; one whose owner cannot be judged here (another host, another machine's boot, another
 * PID namespace) is refused with what to do.
 */
function takeLock(nfs: NodeFs, now: Date, backupRoot: string): NodeLock {
  const file = lockPath(nfs);
  // remember what we created, so a run that changes nothing (refused input, empty tree) leaves no trace
  const created = mkdirs(path.dirname(file), 0o700);
  const recovered: string[] = [];
  const discarded: string[] = [];
  const keptBackups: string[] = [];
  const info: LockInfo = { ...thisRun(), since: now.toISOString() };
  const text = () => JSON.stringify(info);
  const taken = (): NodeLock => {
    const setBackup = (d: string) => {
      info.backupDir = d;
      atomicWrite(file, Buffer.from(text()), 0o600);
    };
    let kept = false;
    return {
      release: () => { if (kept) return; fs.rmSync(file, { force: true }); removeMadeDirs(path.dirname(file), created); },
      keep: () => { kept = true; },
      setBackup, recovered, discarded, kept: keptBackups,
    };
  };
  // what to do once the operator knows the run is gone: remove this lock (its path here, not the node's, under
  // --root), and put back what that run changed (a run takes over only a lock it can tell is dead: after the
  // lock is removed by hand, nothing rolls that run back, and check no longer reports it)
  const removeHint = (held: LockInfo): string => {
    const named = typeof held.backupDir === 'string' ? [path.join(backupRoot, path.basename(held.backupDir)), held.backupDir] : [];
    const dir = named.find((d) => { try { return readManifest(d).state === 'in-progress'; } catch { return false; } });
    if (dir) return `remove ${file}, then put back what that run changed: kubepki restore ${restoreArgs(nfs.root, dir)}`;
    // (its backup there, but no restore can read it: what it changed goes back by hand)
    const damaged = typeof held.backupDir === 'string' ? lockedRuns(nfs, backupRoot, held.backupDir).find((r) => r.damaged !== undefined) : undefined;
    return `remove ${file}${damaged ? `, then put back by hand what that run changed: its backup ${damaged.dir} cannot be read (${damaged.damaged}), and its copies of the files are under ${damaged.dir}/files, each at its node path` : ''}`;
  };
  const refuse = (held: LockInfo): never => {
    throw new UserError(`failed to lock ${nfs.nodePath(file)}: kubepki (pid ${held.pid}) is already changing this node since ${held.since}`, `wait for it to finish; if no kubepki is running, ${removeHint(held)}`);
  };
  const readLock = (f: string): { raw?: string; held?: LockInfo } => {
    let raw: string;
    try { raw = fs.readFileSync(f, 'utf8'); } catch { return {}; }
    try { return { raw, held: JSON.parse(raw) as LockInfo }; } catch { return { raw }; }
  };
  // a run this one cannot judge: another machine's, one from another boot of a machine not known to be this one
  // (another machine of this name, or a lock without machine-id), or one in another PID namespace (the node and a hostNetwork pod share a name; a pid of one is
  // another process, or none, in the other): it may be running, so it is left to the operator
  const elsewhere = (held: LockInfo, f: string): never => {
    const me = thisRun();
    const where = held.host !== me.host ? `on ${held.host}`
      : held.boot !== me.boot ? `on ${held.host} in another boot (${held.boot ?? 'not recorded'}, this one is ${me.boot ?? 'unknown'}) of a machine that is not known to be this one (machine-id ${held.machine ?? 'not recorded'}, this one is ${me.machine ?? 'unknown'}: another machine of that name)`
      : `on ${held.host} in another PID namespace (${held.pidNs ?? 'not recorded'}, this run's is ${me.pidNs ?? 'unknown'}: the node and a pod, or two pods)`;
    const hint = f === file ? removeHint(held) : `remove ${f}`;
    throw new UserError(`failed to lock ${nfs.nodePath(file)}: held by kubepki pid ${held.pid} ${where} since ${held.since}`, `if that run is gone, ${hint}`);
  };
  const judge = (h: LockInfo | undefined, f: string): void => {
    const state = lockOwnerState(h);
    if (state === 'alive') refuse(h!);
    if (state === 'elsewhere') elsewhere(h!, f);
  };
  // the dead run's backups (lockedRunBackups: which are its), to roll back before its lock is taken over; one
  // whose manifest.json is there but cannot be read says neither which files that run changed nor what they were:
  // the node is left as that run left it (some files new, some old) and the lock in place, for the operator, and
  // nothing is written (a run that took the lock over would renew on top of the half-changed files, silently)
  const deadRuns = (held: LockInfo | undefined): { dir: string; m: BackupManifest }[] => {
    const runs = typeof held?.backupDir === 'string' ? lockedRuns(nfs, backupRoot, held.backupDir) : [];
    const damaged = runs.find((r) => r.damaged !== undefined);
    if (damaged) {
      const d = damaged.dir;
      const older = `kubepki backups${placeArgs(nfs.root, isInside(defaultBackupRoot(nfs), d) ? undefined : path.dirname(d))}`;
      throw new UserError(`the interrupted kubepki run that holds ${file} left backup ${d}, which cannot be read (${damaged.damaged}): kubepki cannot tell which files it changed`,
        `its copies of the files it was to change are under ${d}/files, each at its node path: put them back by hand, then remove ${file} (or remove it and restore an older backup: ${older})`);
    }
    return runs.flatMap((r) => (r.m ? [{ dir: r.dir, m: r.m }] : []));
  };
  // only the one run that makes this file rolls a dead run back and takes its lock over: two runs started
  // after a crash (cron, an operator) both saw the dead lock, and both rolled back and renewed at once
  const guard = `${file}.takeover`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (createWhole(file, text())) return taken();
    } catch (e) {
      // ENOENT: a run that changed nothing removed the empty directory just now; make it again
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') { mkdirs(path.dirname(file), 0o700); continue; }
      throw e;
    }
    const { raw, held } = readLock(file);
    if (raw === undefined) continue; // released just now
    judge(held, file);
    // (before the guard is made: a run refused here leaves nothing behind)
    deadRuns(held);
    if (!createWhole(guard, text())) {
      // (another run taking the dead lock over right now, or one killed doing so)
      judge(readLock(guard).held, guard);
      fs.rmSync(guard, { force: true }); // left by a run killed while taking over
      continue;
    }
    try {
      // the dead lock still there, unchanged: it is ours to take over (else another run was quicker)
      if (readLock(file).raw !== raw) continue;
      // A dead run: roll back what it did (lockedRunBackups: which backups are its), then take the lock
      const ownDir = defaultBackupRoot(nfs);
      for (const { dir: d, m } of deadRuns(held)) {
        if (recovered.includes(d)) continue;
        rollBack(nfs, d, m);
        m.state = 'recovered';
        writeManifest(d, m);
        recovered.push(d);
      }
      // a dead run killed while it copied its backup, before the manifest that commits it: no node file was
      // changed yet (the manifest is written first), and its copies (private keys among them) would stay in a
      // directory that no list shows and nothing restores; only one the lock names, in this tree's backups
      // Unless its copies are not what the node holds now: then its manifest.json was removed after the run changed
      // those files, and the copies are the only ones of what it replaced; kept, for the operator (backups lists it).
      const half = held?.backupDir;
      if (half && (isInside(backupRoot, half) || isInside(ownDir, half)) && !fs.existsSync(path.join(half, 'manifest.json'))) {
        if (copiesOnNode(nfs, half)) {
          fs.rmSync(half, { recursive: true, force: true });
          fsyncDir(path.dirname(half));
          discarded.push(half);
        } else {
          keptBackups.push(half);
        }
      }
      // the dead lock replaced by ours in one rename: no moment without a lock for a third run to take
      atomicWrite(file, Buffer.from(text()), 0o600);
      return taken();
    } finally {
      fs.rmSync(guard, { force: true });
    }
  }
  throw new UserError(`failed to lock ${nfs.nodePath(file)}`, 'another kubepki keeps taking the lock; try again');
}

/**
 * mkdir -p, one level at a time from the deepest directory that exists. Returns the first directory it
 * made (as fs.mkdirSync's recursive form does). Node's recursive mkdir spins forever under /proc (its
 * ENOENT retry loop); here the kernel's refusal is the error, naming the directory.
 */
export function mkdirs(dir: string, mode: number): string | undefined {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: d });
      break;
    }
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  missing.reverse();
  for (const m of missing) {
    try { fs.mkdirSync(m, { mode }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
  }
  return missing[0];
}

/**
 * Undo mkdirs(dir) as far as it is empty: rmdir `dir` and its parents up to `created` (what mkdirs returned;
 * nothing when it made nothing). A directory that was there before, or holds anything, is kept.
 */
function removeMadeDirs(dir: string, created: string | undefined): void {
  if (!created) return;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try { fs.rmdirSync(d); } catch { return; } // not empty (backups live here): keep it
    if (d === created || path.dirname(d) === d) return;
  }
}

/** (restore asks it whether a backup is the tree's own: it loads this module anyway) */
export { isInside };

/** A new dated directory under `root`; `discard` removes it and, while empty, the directories made for it. */
function newBackupDir(root: string, now: Date): { dir: string; discard: () => void } {
  const created = mkdirs(root, 0o700);
  const base = stamp(now);
  for (let i = 0; ; i++) {
    const d = path.join(root, i === 0 ? base : `${base}-${i}`);
    try {
      fs.mkdirSync(d, { mode: 0o700 });
      fs.chmodSync(d, 0o700);
      return { dir: d, discard: () => { fs.rmSync(d, { recursive: true, force: true }); removeMadeDirs(root, created); } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      try { fs.rmdirSync(d); } catch { /* not made */ }
      removeMadeDirs(root, created);
      throw e;
    }
  }
}

/**
 * What a failed transaction's error carries besides its message, for a command that reports it as a document
 * (-o json): whether its writes were rolled back, and the backup of them. An error without it came before any
 * node file was written.
 */
export interface RollbackMark { rollback: 'done' | 'failed'; backupDir: string }

export function rollbackOf(e: unknown): RollbackMark | undefined {
  const m = e as Partial<RollbackMark> | undefined;
  return m && (m.rollback === 'done' || m.rollback === 'failed') && typeof m.backupDir === 'string' ? { rollback: m.rollback, backupDir: m.backupDir } : undefined;
}

/** Apply changes to a node as one all-or-nothing transaction. */
export async function applyChanges(nfs: NodeFs, changes: Change[], o: TransactionOptions): Promise<TransactionResult> {
  const backupRoot = o.backupRoot ?? defaultBackupRoot(nfs);
  const steps = new Steps(o.onStep);
  const lock = o.lock ?? takeLock(nfs, o.now, backupRoot);
  try {
    const made = newBackupDir(backupRoot, o.now);
    const dir = made.dir;
    // a backup that cannot be made whole (a full disk, a path that is not a regular file) is removed again:
    // nothing was changed yet, and a directory with some copies and no manifest restores nothing; so is a
    // --backup-dir this run made for it (one that was there before, or holds other backups, is kept)
    const discard = (e: unknown): never => {
      made.discard();
      throw e;
    };
    // the lock names the backup before anything is copied into it: a run killed while copying leaves a
    // directory the next run can find (and remove, see takeLock); a lock that cannot be written (a full
    // disk) leaves no empty backup directory behind either
    try { lock.setBackup(dir); } catch (e) { discard(e); }
    // 1. backup
    const entries: BackupEntry[] = [];
    const seen = new Set<string>();
    const pending: Pending[] = [];
    try {
      for (const c of changes) {
        for (const p of touchedPaths(nfs, c)) {
          if (seen.has(p)) continue;
          seen.add(p);
          entries.push(snapshot(nfs, p, dir, pending));
        }
      }
    } catch (e) { discard(e); }
    await writeDurable(pending, steps, 'backup').catch(discard);
    // the backup's own directories (files/…) must be durable before the manifest commits it
    for (const d of new Set(pending.map((p) => path.dirname(p.host)))) {
      for (let x = d; x.startsWith(dir) && x !== dir; x = path.dirname(x)) fsyncDir(path.dirname(x));
    }
    // directories the writes will make (a rebuild's pki/, pki/etcd/): recorded, so that a rollback or a
    // restore removes them again
    const newDirs = new Set<string>();
    for (const c of changes) {
      const target = c.op === 'write' ? writeTarget(nfs, c) : c.path;
      for (let d = path.dirname(nfs.hostPath(target)); !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) newDirs.add(d);
    }
    const createdDirs = [...newDirs].sort((a, b) => b.length - a.length).map((d) => nfs.nodePath(d));
    // (this run's own directory has no manifest yet: listBackups leaves it out)
    const seq = 1 + Math.max(0, ...listBackups(backupRoot).map((b) => b.seq ?? 0));
    const manifest: BackupManifest = {
      apiVersion: 'kubepki.io/v1alpha1', kind: 'Backup', action: o.action, created: o.now.toISOString(), seq, root: nfs.root,
      state: 'in-progress', pid: process.pid, host: os.hostname(), entries, ...(o.note ? { note: o.note } : {}),
      ...(createdDirs.length ? { createdDirs } : {}),
    };
    try { writeManifest(dir, manifest, steps); } catch (e) { discard(e); }
    // 2. writes, 3. verify
    const written: string[] = [];
    const keyModes = keyModeChanges(nfs, changes);
    try {
      // new contents first, in temp files beside their targets (invisible to readers) …
      const temps: (Pending & { owner?: { uid: number; gid: number }; exclusive: boolean })[] = [];
      const renameTo = new Map<Change, string>();
      for (const c of changes) {
        if (c.op !== 'write') continue;
        const target = writeTarget(nfs, c);
        const e = entries.find((x) => x.path === target);
        const host = nfs.hostPath(target);
        const { mode, owner } = modeAndOwner(c, e);
        temps.push({ host: tempOf(host), content: c.content, mode, exclusive: true, ...(owner ? { owner } : {}) });
        renameTo.set(c, host);
      }
      await writeDurable(temps, steps, 'write');
      // … then each one renamed into place, in plan order
      for (const c of changes) {
        const host = renameTo.get(c);
        if (host) {
          steps.step(`rename ${host}`);
          if (c.op === 'write' && c.create) {
            if (!placeNew(tempOf(host), host)) {
              // not ours: the rollback leaves it alone (its entry says the path was empty, and would remove it)
              manifest.entries = entries.filter((x) => x.path !== nfs.nodePath(host));
              throw Object.assign(new Error(`EEXIST: ${c.path} was made by something else during this run (the kubelet rotating its pair?); it is left as it is`), { code: 'EEXIST', path: host });
            }
          } else {
            fs.renameSync(tempOf(host), host);
          }
        } else {
          writeOne(nfs, c, entries, steps);
        }
        written.push(c.path);
      }
      for (const d of new Set([...renameTo.values()].map((h) => path.dirname(h)))) fsyncDir(d);
      for (const c of changes) verifyOne(nfs, c);
      await o.verify?.();
      for (const e of entries) e.after = pathState(nfs, e.path);
      manifest.state = 'complete';
      writeManifest(dir, manifest, steps);
    } catch (e) {
      manifest.state = 'in-progress';
      try {
        rollBack(nfs, dir, manifest);
      } catch (rb) {
        lock.keep();
        throw Object.assign(new UserError(`failed to ${o.action}: ${errorMessage(e)}; and the rollback failed too: ${errorMessage(rb)}`, `restore with \`kubepki restore ${restoreArgs(nfs.root, dir)}\``, 2), { rollback: 'failed', backupDir: dir } satisfies RollbackMark);
      }
      // every file is back; a manifest that cannot say so (the disk that failed the run is full) stays
      // in-progress, and no later run rolls it back (a takeover rolls back only the run its lock names)
      try {
        manifest.state = 'rolled-back';
        writeManifest(dir, manifest);
      } catch { /* see above */ }
      throw Object.assign(new UserError(`failed to ${o.action}: ${errorMessage(e)}`, `every file was put back as it was (backup ${dir})`, e instanceof UserError ? e.exitCode : 2), { rollback: 'done', backupDir: dir } satisfies RollbackMark);
    }
    return { backupDir: dir, written, keyModes, recovered: lock.recovered };
  } finally {
    if (!o.lock) lock.release();
  }
}

function writeOne(nfs: NodeFs, c: Change, entries: BackupEntry[], steps: Steps): void {
  if (c.op === 'write') {
    const target = writeTarget(nfs, c);
    const e = entries.find((x) => x.path === target);
    const host = nfs.hostPath(target);
    mkdirs(path.dirname(host), 0o755);
    const { mode, owner } = modeAndOwner(c, e);
    atomicWrite(host, c.content, mode, owner, steps);
    return;
  }
  if (c.op === 'delete') {
    steps.step(`delete ${c.path}`);
    fs.rmSync(nfs.hostPath(c.path), { force: true });
    fsyncDir(path.dirname(nfs.hostPath(c.path)));
    return;
  }
  // client-go certificate file store (spec §7.2): -current must be absent or a symlink; drop a stale
  // -updated; link -updated → new file; rename -updated → -current. client-go removes -current before
  // the rename (for Windows), leaving a moment with no -current that only the kubelet's start-up
  // recovery repairs; rename(2) replaces the link atomically, so we skip that removal.
  const cur = nfs.hostPath(c.path);
  const upd = nfs.hostPath(c.path.replace(/-current\.pem$/, '-updated.pem'));
  const st = fs.lstatSync(cur, { throwIfNoEntry: false });
  // A git checkout's stand-in for a symlink (a small file holding the target path, as copied trees
  // often arrive) is replaced by a real symlink; any other regular file is refused, as the kubelet would,
  // unless the plan replaces it on purpose (a -current pair copied without its link, now in the backup).
  if (st && !st.isSymbolicLink() && nfs.linkTarget(c.path) === undefined && !c.replaceFile) throw new Error(`${c.path} is a regular file, not a symlink; the kubelet's file store would refuse it too`);
  if (upd !== cur) {
    steps.step(`remove stale ${nfs.nodePath(upd)}`);
    fs.rmSync(upd, { force: true });
    steps.step(`link ${nfs.nodePath(upd)}`);
    fs.symlinkSync(c.target, upd);
    steps.step(`rename ${nfs.nodePath(upd)} → ${c.path}`);
    fs.renameSync(upd, cur);
  } else {
    const tmp = `${cur}.kubepki-tmp`;
    fs.rmSync(tmp, { force: true });
    steps.step(`link ${c.path}`);
    fs.symlinkSync(c.target, tmp);
    fs.renameSync(tmp, cur);
  }
  fsyncDir(path.dirname(cur));
}

function verifyOne(nfs: NodeFs, c: Change): void {
  if (c.op === 'write') {
    // (a restored git stand-in for a link is read as the file it is, not followed)
    const got = c.restore ? fs.readFileSync(nfs.hostPath(c.path)) : nfs.readFile(c.path);
    if (!got.equals(c.content)) throw new Error(`${c.path} does not read back as written`);
  } else if (c.op === 'symlink') {
    const t = nfs.readLink(c.path);
    if (t !== c.target) throw new Error(`${c.path} points at ${t}, not ${c.target}`);
  } else if (nfs.exists(c.path)) {
    throw new Error(`${c.path} is still there`);
  }
}

/**
 * What a write leaves on disk: a restore the backup's mode and owner; a file that was there its own
 * (a group-readable key a component reads through its group stays readable), less the bits for others
 * when it holds a private key; a new file `mode`, and a new secret never more than owner-readable.
 */
function modeAndOwner(c: Extract<Change, { op: 'write' }>, e: BackupEntry | undefined): { mode: number; owner?: { uid: number; gid: number } } {
  if (c.restore) return { mode: c.restore.mode, ...(c.restore.uid !== undefined && c.restore.gid !== undefined ? { owner: { uid: c.restore.uid, gid: c.restore.gid } } : {}) };
  const secret = c.secret || holdsPrivateKey(c.content);
  if (e?.existed && e.mode !== undefined) return { mode: secret ? keyFileMode(e.mode) : e.mode, ...(e.uid !== undefined ? { owner: { uid: e.uid, gid: e.gid! } } : {}) };
  const mode = c.mode ?? 0o644;
  return { mode: secret ? mode & ~0o077 : mode };
}

/** The key files these writes narrow (what applyChanges will do; for plans and dry runs). */
export function keyModeChanges(nfs: NodeFs, changes: Change[]): ModeChange[] {
  const out: ModeChange[] = [];
  for (const c of changes) {
    if (c.op !== 'write' || c.restore || !(c.secret || holdsPrivateKey(c.content))) continue;
    const target = writeTarget(nfs, c);
    const st = nfs.lstat(target);
    const m = st?.isFile() ? keyModeChange(target, st.mode) : undefined;
    if (m && !out.some((o) => o.path === target)) out.push(m);
  }
  return out;
}

/**
 * Remove the temp files a killed run left beside its targets (new keys among them), as its rollback does: for
 * a restore of its backup made without that rollback (its lock removed by hand).
 */
export function removeRunTemps(nfs: NodeFs, m: BackupManifest): void {
  for (const e of m.entries) cleanTemps(nfs.hostPath(e.path));
}

/**
 * Remove the directories a run made (its manifest's createdDirs, deepest first) that are empty again once
 * its files are gone; one that holds anything (put there since) stays. Returns the node paths removed.
 */
export function removeCreatedDirs(nfs: NodeFs, m: BackupManifest): string[] {
  const removed: string[] = [];
  for (const d of [...(m.createdDirs ?? [])].sort((a, b) => b.length - a.length)) {
    const host = nfs.hostPath(d);
    const st = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!st?.isDirectory()) continue;
    try { fs.rmdirSync(host); } catch { continue; } // not empty
    fsyncDir(path.dirname(host));
    removed.push(d);
  }
  return removed;
}

/**
 * Where each path a restore puts back comes from: the backup's own entries, then (LATER: the runs after it, oldest
 * first, runsAfter) each path only later runs changed, from the first of them that did (its backup holds it as it
 * was before that run, and so before this one): together, the tree as it was before the run. A renew run twice,
 * then the first one restored: the second run's new dated kubelet pem goes too, not only what the first one made.
 */
export function restoreSources(dir: string, m: BackupManifest, later: RunAfter[] = []): { dir: string; e: BackupEntry; by?: RunAfter }[] {
  const out: { dir: string; e: BackupEntry; by?: RunAfter }[] = changedFiles(m).map((e) => ({ dir, e }));
  const seen = new Set(out.map((s) => s.e.path));
  for (const r of later) {
    for (const e of changedFiles(r.m)) {
      if (seen.has(e.path)) continue;
      seen.add(e.path);
      out.push({ dir: r.dir, e, by: r });
    }
  }
  return out;
}

/**
 * Everything a backup would put back, as changes (used by `kubepki restore`); with LATER (runsAfter), what the
 * runs after it changed too (restoreSources), so the tree is as it was before the run. NFS: the tree, whose file
 * stands in for a damaged backup copy when it holds what the copy held (its SHA-256): put back by hand, as the
 * error says, or never changed since.
 */
export function restoreChanges(dir: string, m: BackupManifest, later: RunAfter[] = [], nfs?: NodeFs): Change[] {
  const out: Change[] = [];
  for (const { dir: from, e, by } of restoreSources(dir, m, later)) {
    if (!e.existed) out.push({ op: 'delete', path: e.path });
    else if (e.type === 'symlink') out.push({ op: 'symlink', path: e.path, target: e.target! });
    else {
      let content = fs.readFileSync(path.join(from, 'files', e.stored!));
      if (sha256Hex(content) !== e.sha256) {
        const here = nfs?.lstat(e.path)?.isFile() ? fs.readFileSync(nfs.hostPath(e.path)) : undefined;
        if (here && sha256Hex(here) === e.sha256) content = here;
        // (a later run's copy: this restore puts its files back too, so restoring this backup alone cannot avoid it)
        else if (by) throw new UserError(`failed to restore ${e.path} from ${from}: the backup copy is damaged (that backup is of the later ${by.m.action} ${by.name}, which changed ${e.path}; restoring ${path.basename(dir)} puts back what later runs changed too)`, `put ${e.path} back by hand as it was before ${by.name} (SHA-256 ${e.sha256}, as that backup's manifest records it), then run this restore again: a file that already holds it is not read from the damaged copy`);
        else throw new UserError(`failed to restore ${e.path} from ${from}: the backup copy is damaged`, `put that file back by hand (SHA-256 ${e.sha256}, as the manifest records it) and run this restore again (a file that already holds it is not read from the damaged copy), or use another backup`);
      }
      out.push({ op: 'write', path: e.path, content, mode: e.mode, ...(e.mode !== undefined ? { restore: { mode: e.mode, ...(e.uid !== undefined ? { uid: e.uid, gid: e.gid } : {}) } } : {}) });
    }
  }
  // links first (they point at files that were never removed), then contents, then removal of files the run created
  const rank = (c: Change) => (c.op === 'symlink' ? 0 : c.op === 'write' ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b));
}

/**
 * The node files a run changed, which a restore of its backup puts back (rewrites, re-links or removes): every
 * path its backup holds but one the run only passed through, there neither before nor after it (the kubelet
 * swap's -updated link, made and renamed onto -current), which there is nothing to put back for. A run that did
 * not finish recorded nothing of what it left: each of its paths counts.
 */
export function changedFiles(m: BackupManifest): BackupEntry[] {
  return m.entries.filter((e) => e.existed || e.after?.existed !== false);
}

/**
 * What a directory among the backups without manifest.json is, and what to do about it. applyChanges names the
 * backup in the lock, copies the files it is to change into it, then writes manifest.json (temp file, rename), and
 * only then changes a node file: a directory without one is a run killed (or a machine that lost power) while it
 * copied, which changed nothing on the node, or a run making it right now, or a backup whose manifest.json was
 * removed (by hand) after its run. Nothing left tells the last from the first: files/ holds the same copies
 * either way (all of them, or some when the copying was cut short), and node files that differ from those
 * copies may as well be a later run's doing; so both are said (NO_MANIFEST). Taking the lock removes the one a dead
 * run's lock names (takeLock); one no lock names (the lock removed by hand, a run rolled back by an older kubepki)
 * stays until removed by hand, with copies of private keys in it; in a --backup-dir that other nodes may share, only
 * once none of them runs kubepki (their locks are theirs: this node cannot tell their runs from a dead one).
 */
export function incompleteBackup(nfs: NodeFs, dir: string): { what: string; fix: string } {
  const held = heldLock(nfs);
  const named = typeof held?.backupDir === 'string' && path.resolve(held.backupDir) === path.resolve(dir);
  const state = named ? lockOwnerState(held) : 'dead';
  if (state === 'alive') return { what: `kubepki (pid ${String(held!.pid)}) is making it right now`, fix: 'wait for that run to finish' };
  const nothing = NO_MANIFEST;
  if (state === 'elsewhere') return { what: `${nothing}, or a kubepki on ${String(held!.host)} holding this node's lock is making it now`, fix: 'once no kubepki runs there, the next command that changes this node (renew, restore …) removes it' };
  if (named) return { what: `${nothing} (pid ${String(held!.pid)}, whose lock is still there)`, fix: 'the next command that changes this node (renew, restore …) removes it with that lock (it keeps it if its copies are not what the node holds: a manifest.json removed after the run changed those files)' };
  const remove = `remove it (its files/ hold copies of what that run was to replace, private keys among them): rm -r ${dir}`;
  // a --backup-dir nodes share holds every node's backups: one this node's lock does not name may be another
  // node's, being made there right now (its lock, on that node, names it), and removing it would fail that run
  if (!isInside(defaultBackupRoot(nfs), dir)) {
    const root = path.dirname(dir);
    return { what: `${nothing}, or a kubepki on another node that shares ${root} is making it now`, fix: `once no kubepki runs on the nodes that share it, ${remove}` };
  }
  return { what: nothing, fix: remove };
}

/** The node's lock as it is now (its fields unchecked: a lock another version or a hand wrote), or undefined when there is none or it is no JSON. */
export function heldLock(nfs: NodeFs): Partial<LockInfo> | undefined {
  try { return JSON.parse(fs.readFileSync(lockPath(nfs), 'utf8')) as Partial<LockInfo>; } catch { return undefined; }
}

/** What a backup directory without manifest.json is, when no live run is making it (incompleteBackup). */
export const NO_MANIFEST = 'kubepki was interrupted while copying into it the files it was to change, before it changed any (nothing was changed by that run), or its manifest.json was removed after its run (which files that run changed cannot then be told; files/ holds its copies of them)';

/** A directory among the backups that is one being made, or one a killed run left half made: no manifest.json, or a name a backup has (see incompleteBackup). */
export function looksLikeBackupDir(dir: string): boolean {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return false;
  return /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(?:-\d+)?$/.test(path.basename(dir)) || fs.existsSync(path.join(dir, 'files'));
}

export interface BackupSummary {
  dir: string; name: string; action: string; created: string; state: BackupManifest['state'];
  /** the manifest's seq (runOrder), where it has one */
  seq?: number;
  /** the node files the run changed, each of which a restore puts back (changedFiles) */
  files: number;
  note?: string;
  /** the host the run was on (a --backup-dir nodes share holds every node's backups; restore refuses another's) */
  host?: string;
}

/**
 * The backups in ROOT, read once: `listed`, in the order their runs ran (runOrder: not their names, which are the
 * node's clock), and `unreadable`, those whose manifest.json is there but cannot be read (not JSON, cut short, not
 * a backup's): left out of the list, and with them what their run changed, which no restore can then tell from a
 * hand edit nor put back. `reason` is what is wrong with the manifest.
 */
export function scanBackups(root: string): { listed: BackupSummary[]; unreadable: { dir: string; name: string; reason: string }[]; incomplete: { dir: string; name: string }[] } {
  const listed: BackupSummary[] = [];
  const unreadable: { dir: string; name: string; reason: string }[] = [];
  const incomplete: { dir: string; name: string }[] = [];
  let names: string[];
  try { names = fs.readdirSync(root); } catch { return { listed, unreadable, incomplete }; }
  for (const n of names.sort()) {
    // (no backup is named with a dot: `.pruning-NAME` is one `backups --prune` is removing, never to restore from)
    if (n.startsWith('.')) continue;
    const d = path.join(root, n);
    if (!fs.existsSync(path.join(d, 'manifest.json'))) {
      if (looksLikeBackupDir(d)) incomplete.push({ dir: d, name: n });
      continue;
    }
    let m: BackupManifest;
    try { m = readManifest(d); } catch (e) {
      unreadable.push({ dir: d, name: n, reason: errorMessage(e).replace(`failed to read backup ${d}: `, '') });
      continue;
    }
    listed.push({ dir: d, name: n, action: m.action, created: m.created, ...(typeof m.seq === 'number' ? { seq: m.seq } : {}), state: m.state, files: changedFiles(m).length, ...(m.note ? { note: m.note } : {}), ...(typeof m.host === 'string' ? { host: m.host } : {}) });
  }
  return { listed: listed.sort(runOrder), unreadable, incomplete };
}

/** The readable backups in ROOT, in the order their runs ran (see scanBackups). */
export function listBackups(root: string): BackupSummary[] {
  return scanBackups(root).listed;
}
