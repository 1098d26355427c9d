/**
 * `kubepki backups --prune`: which backups go and which stay, and removing them without following a link.
 *
 * An incomplete backup (a directory without manifest.json: a run killed while it copied into it the files it was
 * to change, before it changed any, or one whose manifest.json was removed) restores nothing and is in no restore's chain, but holds copies of private
 * keys. So it goes by --older-than alone, and with --keep alone goes whatever its age: --keep counts backups a
 * restore can use, and keeping N of these would keep keys for nothing. Never one a live run's lock names (it is
 * being made right now), and never in a --backup-dir holding other hosts' backups, where one may be another
 * host's run making it now, unless older than --older-than (a run copies its files in seconds).
 *
 * Every backup holds what its run replaced, private keys included (an old sa.key, an old CA key after
 * --new-key): a node renewed by cron for years keeps all of them unless something removes them. What may go is
 * bound by how restore works: restoring a backup puts back what every later run of this node changed too, from
 * those runs' backups (runsAfter), so a backup is only restorable while every later one of this node is there.
 * Pruning therefore removes the oldest of this node's backups only, a prefix of them in the order they ran
 * (runOrder), and stops at the first it must keep.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import { scanBackups, readManifest, defaultBackupRoot, heldLock, type BackupSummary } from './transaction.js';
import { lockOwnerState } from './state.js';

/** A removed backup's directory while it goes: renamed first, so that no half-removed backup is ever listed or restored. */
export const PRUNING_PREFIX = '.pruning-';

export interface PruneRules {
  /** keep at least the newest N of this node's backups */
  keep?: number;
  /** only backups whose run is at least this many seconds older than `now` */
  olderThan?: number;
  now: Date;
  /** remove unreadable backups too (their run's time is unknown: by their name's) */
  force?: boolean;
}

export interface PruneItem {
  name: string; dir: string;
  action?: string; created?: string; state?: string; host?: string;
  /** node files the run changed (what `backups` lists as FILES) */
  files?: number;
  /** bytes the directory holds (its files and links themselves, never what a link points at) */
  bytes: number;
  /** set when the backup is itself a symlink: only the link goes, never where it points */
  linkTo?: string;
  /** why it is kept (kept items only) */
  reason?: string;
  /** an unreadable backup: why its manifest cannot be read */
  unreadable?: string;
  /** an incomplete backup: no manifest.json, nothing to restore from it */
  incomplete?: true;
}

export interface PrunePlan { backupRoot: string; remove: PruneItem[]; keep: PruneItem[]; leftovers: string[] }

/** Bytes under P without following a symlink (a link counts as itself). */
function sizeOf(p: string): number {
  let st: fs.Stats;
  try { st = fs.lstatSync(p); } catch { return 0; }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  let names: string[] = [];
  try { names = fs.readdirSync(p); } catch { /* unreadable: counted as empty */ }
  for (const n of names) total += sizeOf(path.join(p, n));
  return total;
}

/** A backup's time from its name (`2026-11-23T10-00-00Z`, `…Z-1`): an unreadable one has no other. */
export function nameTime(name: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z(?:-\d+)?$/.exec(name);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * The backup directories a lock names: the node's lock file (dry run: a run in progress, or one interrupted and
 * not yet rolled back) and the runs taking the lock rolled back just now (`recovered`, which the operator has not
 * seen yet). None of them goes, whatever its age.
 */
function lockNamed(nfs: NodeFs, backupRoot: string, recovered: string[]): Set<string> {
  const out = new Set(recovered.map((d) => path.resolve(d)));
  const held = heldLock(nfs);
  // (no lock, or one that names nothing)
  if (typeof held?.backupDir === 'string') {
    out.add(path.resolve(held.backupDir));
    out.add(path.resolve(backupRoot, path.basename(held.backupDir)));
  }
  return out;
}

/**
 * What `--prune` removes from BACKUPROOT with RULES, and what it keeps and why. `host`: this machine's name.
 * Only this node's backups are considered: all of those in the tree's own backup directory (restore takes them
 * as its own), else (a --backup-dir nodes may share) those made for this root on this host, as restore's runsAfter
 * takes them; every node of a cluster is --root /, so the root alone would take another node's.
 */
export function planPrune(nfs: NodeFs, backupRoot: string, rules: PruneRules, host: string, recovered: string[] = []): PrunePlan {
  const own = path.resolve(backupRoot) === path.resolve(defaultBackupRoot(nfs));
  const { listed, unreadable, incomplete } = scanBackups(backupRoot);
  const named = lockNamed(nfs, backupRoot, recovered);
  const item = (b: BackupSummary): PruneItem => {
    let linkTo: string | undefined;
    try { if (fs.lstatSync(b.dir).isSymbolicLink()) linkTo = fs.readlinkSync(b.dir); } catch { /* gone */ }
    return { name: b.name, dir: b.dir, action: b.action, created: b.created, state: b.state, files: b.files, ...(b.host ? { host: b.host } : {}), bytes: linkTo !== undefined ? fs.lstatSync(b.dir).size : sizeOf(b.dir), ...(linkTo !== undefined ? { linkTo } : {}) };
  };
  const keep: PruneItem[] = [];
  const mine: BackupSummary[] = [];
  for (const b of listed) {
    if (own) { mine.push(b); continue; }
    let root: string | undefined;
    try { root = readManifest(b.dir).root; } catch { /* listed just now */ }
    if (b.host === undefined) keep.push({ ...item(b), reason: 'made before backups recorded their host: not known to be this node\'s' });
    else if (b.host !== host) keep.push({ ...item(b), reason: `another host's (${b.host})` });
    else if (root === undefined || path.resolve(root) !== nfs.root) keep.push({ ...item(b), reason: `made for --root ${root ?? '(unknown)'}` });
    else mine.push(b);
  }
  const cutoff = rules.olderThan !== undefined ? rules.now.getTime() - rules.olderThan * 1000 : undefined;
  const newestComplete = mine.map((b) => b.state).lastIndexOf('complete');
  const remove: PruneItem[] = [];
  let stopped: string | undefined;
  for (let i = 0; i < mine.length; i++) {
    const b = mine[i]!;
    // the first reason to keep one keeps every later one too: restoring it needs their backups
    const reason = named.has(path.resolve(b.dir)) ? 'named by the node\'s lock (a run in progress or one just rolled back)'
      : b.state === 'in-progress' ? 'an interrupted run (in-progress): restore it or roll it back first (kubepki check says how)'
      : i === newestComplete ? 'the newest complete backup'
      : rules.keep !== undefined && i >= mine.length - rules.keep ? `one of the newest ${rules.keep} (--keep ${rules.keep})`
      : cutoff !== undefined && !(Date.parse(b.created) <= cutoff) ? `not older than --older-than (made ${b.created})`
      : undefined;
    const why = reason ?? (stopped ? `newer than ${stopped}, which is kept: restoring a kept backup needs every later run's backup` : undefined);
    if (why === undefined) { remove.push(item(b)); continue; }
    keep.push({ ...item(b), reason: why });
    stopped ??= b.name;
  }
  // an unreadable backup: neither its run's place nor (in a shared --backup-dir) its host can be read; only with
  // --force, and then by its name's time, and never from a --backup-dir that holds another host's backups
  const shared = !own && listed.some((b) => b.host !== host);
  for (const u of unreadable) {
    const base = { name: u.name, dir: u.dir, bytes: sizeOf(u.dir), unreadable: u.reason };
    const t = nameTime(u.name);
    const why = named.has(path.resolve(u.dir)) ? 'named by the node\'s lock'
      : !rules.force ? 'unreadable: its run\'s place and time cannot be told (pass --force to remove it by its name\'s time)'
      : shared ? 'unreadable, in a --backup-dir that holds other hosts\' backups: whose it is cannot be told'
      : cutoff !== undefined && !(t && t.getTime() <= cutoff) ? 'unreadable, and its name\'s time is not older than --older-than'
      : undefined;
    if (why === undefined) remove.push(base); else keep.push({ ...base, reason: why });
  }
  // (a dead run's lock names one too: taking the lock removes it before the prune plans, so the dry run lists it to go)
  const held = heldLock(nfs);
  const beingMade = (dir: string) => typeof held?.backupDir === 'string' && path.resolve(held.backupDir) === path.resolve(dir) && lockOwnerState(held) !== 'dead';
  for (const b of incomplete) {
    const base: PruneItem = { name: b.name, dir: b.dir, bytes: sizeOf(b.dir), incomplete: true };
    const t = nameTime(b.name);
    const why = beingMade(b.dir) ? 'named by the lock of a kubepki making it right now'
      : !t ? 'not named as kubepki names its backups: remove it by hand if it is one'
      : cutoff !== undefined ? (t.getTime() <= cutoff ? undefined : `not older than --older-than (made ${t.toISOString()})`)
      : shared ? 'in a --backup-dir that holds other hosts\' backups, where it may be one another host\'s run is making right now: give --older-than to remove those older than that'
      : undefined;
    if (why === undefined) remove.push(base); else keep.push({ ...base, reason: why });
  }
  // a removal cut short (a full disk, EACCES) left its renamed directory: finished by the next prune
  let names: string[] = [];
  try { names = fs.readdirSync(backupRoot); } catch { /* no backups yet */ }
  const leftovers = names.filter((n) => n.startsWith(PRUNING_PREFIX)).map((n) => path.join(backupRoot, n));
  return { backupRoot, remove, keep, leftovers };
}

/**
 * Remove P and everything under it without following a symlink: a link (the backup itself, or one inside it)
 * is unlinked, never what it points at; only directories are descended into (lstat).
 */
export function removeTree(p: string): void {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) { fs.unlinkSync(p); return; }
  for (const n of fs.readdirSync(p)) removeTree(path.join(p, n));
  fs.rmdirSync(p);
}

/**
 * Remove one backup: first renamed (atomically, in its directory) to `.pruning-NAME`, which no list or restore
 * reads, so a removal cut short never leaves a half backup that restore would put back part of; then removed.
 * A backup that is a symlink loses only the link.
 */
export function removeBackup(dir: string): void {
  if (fs.lstatSync(dir).isSymbolicLink()) { fs.unlinkSync(dir); return; }
  const gone = path.join(path.dirname(dir), `${PRUNING_PREFIX}${path.basename(dir)}`);
  removeTree(gone); // one left by an earlier prune cut short
  fs.renameSync(dir, gone);
  removeTree(gone);
}
