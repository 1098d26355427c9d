/**
 * `kubepki backups --prune`: real renews of a kubeadm node at four dates make four backups, each holding the keys
 * and certificates its run replaced; pruning removes the oldest by each rule, and every backup left still restores
 * the tree byte for byte as it was before its run (restore of an older backup needs every later one).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFixture, cli, snapshotTree, tmp, spawnCli } from './renew-support.js';
import { thisRun } from '../src/apply/state.js';

const DATES = ['2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z', '2026-07-01T00:00:00Z', '2026-10-01T00:00:00Z'];
const NAMES = DATES.map((d) => d.replace(/:/g, '-'));
const LATER = '2026-11-01T00:00:00Z';
const BACKUPS = 'var/lib/kubepki/backups';

/** Every file, link and directory under DIR, kubepki's own state included: what a dry run or a refusal must not change. */
function fullTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, d.name);
      const rel = path.relative(dir, q);
      if (d.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(q)}`);
      else if (d.isDirectory()) { out.set(rel, 'dir'); walk(q); } else out.set(rel, createHash('sha256').update(fs.readFileSync(q)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function copyTree(from: string): string {
  const to = path.join(tmp('kubepki-prune-'), 'node');
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return to;
}

const remaining = (root: string, dir = path.join(root, BACKUPS)) => fs.readdirSync(dir).sort();

/** Four renews, and the tree as it was before each (what restoring that run's backup must give back). */
let base: string;
const trees: Map<string, string>[] = [];
before(async () => {
  base = copyFixture('kubeadm-1.26');
  for (const d of DATES) {
    trees.push(snapshotTree(base));
    const r = await cli(['renew', 'all', '--root', base, '--now', d]);
    assert.equal(r.code, 0, r.out + r.err);
  }
  trees.push(snapshotTree(base));
  assert.deepEqual(remaining(base), NAMES);
});

/** Restore each backup left in ROOT, each on its own copy of the tree, and compare with the tree before its run. */
async function restoresStillWork(root: string): Promise<void> {
  for (const name of remaining(root).filter((n) => NAMES.includes(n))) {
    const copy = copyTree(root);
    const r = await cli(['restore', name, '--root', copy, '--now', LATER]);
    assert.equal(r.code, 0, `restore ${name}: ${r.out}${r.err}`);
    assert.deepEqual(snapshotTree(copy), trees[NAMES.indexOf(name)], `restore ${name} gives the tree as it was before that run`);
  }
}

test('--keep N removes the oldest and keeps the newest N; every backup left still restores its tree byte for byte', async () => {
  const root = copyTree(base);
  const r = await cli(['backups', '--prune', '--keep', '2', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(remaining(root), NAMES.slice(2));
  assert.match(r.out, new RegExp(`^  removed  ${NAMES[0]}  renew complete, 17 file\\(s\\), [\\d.]+ KiB$`, 'm'));
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[2]} .*: one of the newest 2 \\(--keep 2\\)$`, 'm'));
  assert.match(r.out, /^Removed 2 backup\(s\), [\d.]+ KiB freed; kept 2\.$/m);
  await restoresStillWork(root);
  // more to keep than there are: nothing goes, and that is no error
  const none = await cli(['backups', '--prune', '--keep', '10', '--root', root, '--now', LATER]);
  assert.equal(none.code, 0, none.out + none.err);
  assert.deepEqual(remaining(root), NAMES.slice(2));
});

test('--older-than goes by --now, never by the clock; with --keep, --keep is a floor; the newest complete backup always stays', async () => {
  const root = copyTree(base);
  // 120 days before 2026-08-01 is 2026-04-03: the January and April runs are older
  const r = await cli(['backups', '--prune', '--older-than', '120d', '--root', root, '--now', '2026-08-01T00:00:00Z']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(remaining(root), NAMES.slice(2));
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[2]} .*: not older than --older-than`, 'm'));
  await restoresStillWork(root);

  // all older than 30d: --keep 3 keeps three of them
  const floor = copyTree(base);
  const f = await cli(['backups', '--prune', '--older-than', '30d', '--keep', '3', '--root', floor, '--now', '2027-06-01T00:00:00Z']);
  assert.equal(f.code, 0, f.out + f.err);
  assert.deepEqual(remaining(floor), NAMES.slice(1));

  // all older, no --keep: the newest complete backup stays all the same
  const all = copyTree(base);
  const a = await cli(['backups', '--prune', '--older-than', '1d', '--root', all, '--now', '2030-01-01T00:00:00Z']);
  assert.equal(a.code, 0, a.out + a.err);
  assert.deepEqual(remaining(all), NAMES.slice(3));
  assert.match(a.out, new RegExp(`^  keep     ${NAMES[3]} .*: the newest complete backup$`, 'm'));
  await restoresStillWork(all);
});

/** Set a backup's manifest state (what a run cut short, or rolled back, leaves). */
function setState(root: string, name: string, state: string): void {
  const f = path.join(root, BACKUPS, name, 'manifest.json');
  fs.writeFileSync(f, JSON.stringify({ ...JSON.parse(fs.readFileSync(f, 'utf8')), state }));
}

test('an interrupted run\'s backup stays and so does every later one; a newer rolled-back run does not make an older complete one removable', async () => {
  const root = copyTree(base);
  setState(root, NAMES[2]!, 'in-progress');
  const r = await cli(['backups', '--prune', '--older-than', '1d', '--root', root, '--now', '2030-01-01T00:00:00Z']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(remaining(root), NAMES.slice(2));
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[2]} .*: an interrupted run \\(in-progress\\)`, 'm'));
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[3]} .*: the newest complete backup$`, 'm'));

  const rolled = copyTree(base);
  setState(rolled, NAMES[3]!, 'rolled-back');
  const k = await cli(['backups', '--prune', '--keep', '1', '--root', rolled, '--now', LATER]);
  assert.equal(k.code, 0, k.out + k.err);
  assert.deepEqual(remaining(rolled), NAMES.slice(2));
  assert.match(k.out, new RegExp(`^  keep     ${NAMES[2]} .*: the newest complete backup$`, 'm'));
});

test('a lock held by a running kubepki: the prune is refused and writes nothing; its dry run keeps the backup the lock names', async () => {
  const root = copyTree(base);
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const lock = path.join(root, 'var/lib/kubepki/kubepki.lock');
    fs.writeFileSync(lock, JSON.stringify({ ...thisRun(), pid: sleeper.pid, since: LATER, backupDir: path.join(root, BACKUPS, NAMES[1]!) }));
    const was = fullTree(root);
    const r = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER]);
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.err, /already changing this node/);
    assert.deepEqual(fullTree(root), was);
    const d = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER, '--dry-run']);
    assert.equal(d.code, 0, d.out + d.err);
    assert.match(d.out, new RegExp(`^  remove   ${NAMES[0]} `, 'm'));
    assert.match(d.out, new RegExp(`^  keep     ${NAMES[1]} .*: named by the node's lock`, 'm'));
    assert.match(d.out, new RegExp(`^  keep     ${NAMES[2]} .*: newer than ${NAMES[1]}, which is kept`, 'm'));
    assert.deepEqual(fullTree(root), was);
  } finally {
    sleeper.kill();
  }
});

test('a run killed half way: its backup (the lock names it) stays in the dry run and after the real prune rolls it back first', async () => {
  const root = copyTree(base);
  const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', '2026-10-15T00:00:00Z'], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.out);
  const killed = '2026-10-15T00-00-00Z';
  assert.deepEqual(remaining(root), [...NAMES, killed]);
  const was = fullTree(root);
  const d = await cli(['backups', '--prune', '--keep', '1', '--dry-run', '--root', root, '--now', LATER]);
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, new RegExp(`^  keep     ${killed} .*: named by the node's lock`, 'm'));
  assert.deepEqual(fullTree(root), was, 'the dry run rolled nothing back and removed nothing');
  const r = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^An interrupted run was rolled back first from /m);
  assert.match(r.out, new RegExp(`^  keep     ${killed} .*recovered.*: named by the node's lock \\(a run in progress or one just rolled back\\)$`, 'm'));
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[3]} .*: the newest complete backup$`, 'm'));
  assert.deepEqual(remaining(root), [NAMES[3], killed]);
  assert.deepEqual(snapshotTree(root), trees[4], 'the killed run was rolled back');
  await restoresStillWork(root);
});

test('a --backup-dir nodes share: only this node\'s backups (this host, this --root) go', async () => {
  const shared = path.join(tmp('kubepki-prune-shared-'), 'backups');
  const a = copyFixture('kubeadm-1.26');
  const b = copyFixture('kubeadm-1.26');
  const beforeA: Map<string, string>[] = [];
  for (const [i, d] of DATES.slice(0, 3).entries()) {
    beforeA.push(snapshotTree(a));
    assert.equal((await cli(['renew', 'all', '--root', a, '--now', d, '--backup-dir', shared])).code, 0);
    // another tree of this host, in between (same seconds: its backups are named -1)
    if (i === 0) assert.equal((await cli(['renew', 'all', '--root', b, '--now', d, '--backup-dir', shared])).code, 0);
  }
  // another node's, older than all of them
  const other = path.join(shared, '2025-06-01T00-00-00Z');
  fs.cpSync(path.join(shared, NAMES[0]!), other, { recursive: true });
  const mf = path.join(other, 'manifest.json');
  fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(fs.readFileSync(mf, 'utf8')), host: 'other-node', seq: 0, created: '2025-06-01T00:00:00.000Z' }));
  const r = await cli(['backups', '--prune', '--keep', '1', '--root', a, '--backup-dir', shared, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(fs.readdirSync(shared).sort(), ['2025-06-01T00-00-00Z', `${NAMES[0]}-1`, NAMES[2]]);
  assert.match(r.out, /^  keep     2025-06-01T00-00-00Z .*: another host's \(other-node\)$/m);
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[0]}-1 .*: made for --root ${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  // the one left restores a's tree as it was before its run (in place: a --backup-dir's backup is for its --root)
  const back = await cli(['restore', NAMES[2]!, '--root', a, '--backup-dir', shared, '--now', LATER]);
  assert.equal(back.code, 0, back.out + back.err);
  assert.deepEqual(snapshotTree(a), beforeA[2]);
});

test('an unreadable backup stays without --force (and is named); with --force it goes too, and restore no longer needs --force', async () => {
  const root = copyTree(base);
  fs.writeFileSync(path.join(root, BACKUPS, NAMES[0]!, 'manifest.json'), '{"kind": "Backup", "entr');
  const r = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(remaining(root), [NAMES[0], NAMES[3]]);
  assert.match(r.out, new RegExp(`^  keep     ${NAMES[0]}  unreadable \\(manifest.json is not valid JSON \\(damaged\\)\\).*pass --force`, 'm'));
  const f = await cli(['backups', '--prune', '--keep', '1', '--force', '--root', root, '--now', LATER]);
  assert.equal(f.code, 0, f.out + f.err);
  assert.deepEqual(remaining(root), [NAMES[3]]);
  await restoresStillWork(root);
});

test('symlinks are removed, never followed: one inside a backup, and a backup that is itself a link', async () => {
  const root = copyTree(base);
  const outside = tmp('kubepki-prune-outside-');
  fs.writeFileSync(path.join(outside, 'secret.key'), 'not kubepki\'s');
  fs.symlinkSync(outside, path.join(root, BACKUPS, NAMES[0]!, 'files', 'elsewhere'));
  fs.symlinkSync(path.join(outside, 'secret.key'), path.join(root, BACKUPS, NAMES[0]!, 'secret.key'));
  // a backup moved to another disk, a link left in its place
  const moved = path.join(outside, NAMES[1]!);
  fs.renameSync(path.join(root, BACKUPS, NAMES[1]!), moved);
  fs.symlinkSync(moved, path.join(root, BACKUPS, NAMES[1]!));
  const movedTree = fullTree(moved);
  const r = await cli(['backups', '--prune', '--keep', '2', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`^  removed  ${NAMES[1]} .*\\(a symlink to ${moved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: only the link is removed\\)$`, 'm'));
  assert.deepEqual(fs.readdirSync(path.join(root, BACKUPS)).sort(), NAMES.slice(2), 'no .pruning- leftovers either');
  assert.equal(fs.readFileSync(path.join(outside, 'secret.key'), 'utf8'), 'not kubepki\'s');
  assert.deepEqual(fullTree(moved), movedTree);
  await restoresStillWork(root);
});

test('a prune cut short: the half-removed .pruning- directory is never listed as a backup nor restored, backups names it, and the next prune removes it', async () => {
  const root = copyTree(base);
  const half = path.join(root, BACKUPS, `.pruning-${NAMES[0]}`);
  fs.renameSync(path.join(root, BACKUPS, NAMES[0]!), half);
  const l = await cli(['backups', '--root', root, '-o', 'json']);
  assert.equal(l.code, 0, l.out + l.err);
  const list = JSON.parse(l.out) as { items: { name: string }[]; pruning?: string[] };
  assert.deepEqual(list.items.map((b) => b.name), NAMES.slice(1));
  assert.deepEqual(list.pruning, [half]);
  const r = await cli(['backups', '--prune', '--keep', '3', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, new RegExp(`^  removed  .pruning-${NAMES[0]}: what an earlier prune cut short left$`, 'm'));
  assert.deepEqual(fs.readdirSync(path.join(root, BACKUPS)).sort(), NAMES.slice(1));
  await restoresStillWork(root);
});

test('--dry-run lists what would go and writes nothing; -o json is a versioned BackupPrune', async () => {
  const root = copyTree(base);
  const was = fullTree(root);
  const d = await cli(['backups', '--prune', '--keep', '1', '--dry-run', '--root', root, '--now', LATER]);
  assert.equal(d.code, 0, d.out + d.err);
  for (const n of NAMES.slice(0, 3)) assert.match(d.out, new RegExp(`^  remove   ${n} `, 'm'));
  assert.match(d.out, /^Would remove 3 backup\(s\), [\d.]+ KiB; kept 1\.$/m);
  assert.match(d.out, /^Dry run: nothing was removed/m);
  const j = await cli(['backups', '--prune', '--keep', '1', '--dry-run', '--root', root, '--now', LATER, '-o', 'json']);
  assert.equal(j.code, 0, j.out + j.err);
  const doc = JSON.parse(j.out) as { apiVersion: string; kind: string; dryRun: boolean; wouldRemove: { name: string }[]; kept: { name: string; reason: string }[] };
  assert.equal(doc.apiVersion, 'kubepki.io/v1alpha1');
  assert.equal(doc.kind, 'BackupPrune');
  assert.equal(doc.dryRun, true);
  assert.deepEqual(doc.wouldRemove.map((x) => x.name), NAMES.slice(0, 3));
  assert.deepEqual(fullTree(root), was);

  const real = await cli(['backups', '--prune', '--keep', '3', '--root', root, '--now', LATER, '-o', 'json']);
  assert.equal(real.code, 0, real.out + real.err);
  const done = JSON.parse(real.out) as { removed: { name: string; bytes: number; files: number }[]; kept: { name: string; reason: string }[]; freedBytes: number };
  assert.deepEqual(done.removed.map((x) => x.name), [NAMES[0]]);
  assert.equal(done.removed[0]!.files, 17);
  assert.ok(done.freedBytes > 0 && done.freedBytes === done.removed[0]!.bytes);
  assert.deepEqual(done.kept.map((x) => x.name), NAMES.slice(1));
  assert.deepEqual(remaining(root), NAMES.slice(1));
});

test('a removal that fails part way: exit 2, the older backups gone, that one and every later one whole and restorable', async () => {
  const root = copyTree(base);
  const r = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER], { KUBEPKI_TEST_FAIL_AT: '2' });
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.out, new RegExp(`^  removed  ${NAMES[0]} `, 'm'));
  assert.match(r.out, new RegExp(`^  left     ${NAMES[1]} .*: failed: injected failure`, 'm'));
  assert.match(r.out, new RegExp(`^  left     ${NAMES[2]} .*: not tried after that failure$`, 'm'));
  assert.match(r.err, new RegExp(`failed to remove backup .*${NAMES[1]}: injected failure`));
  assert.deepEqual(fs.readdirSync(path.join(root, BACKUPS)).sort(), NAMES.slice(1));
  assert.equal(fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), false, 'the lock is released');
  await restoresStillWork(root);
});

test('refusals write nothing: --prune without a rule, a bad --keep or --older-than, prune flags without --prune', async () => {
  const root = copyTree(base);
  const was = fullTree(root);
  const cases: [string[], RegExp][] = [
    [['--prune'], /--prune needs --keep N and\/or --older-than DURATION/],
    [['--prune', '--keep', '0'], /--keep 0 is not a whole number of backups, 1 or more/],
    [['--prune', '--keep', '2x'], /--keep 2x is not a whole number/],
    [['--prune', '--older-than', 'soon'], /--older-than soon is not a duration/],
    [['--keep', '1'], /--keep only apply to --prune/],
    [['--older-than', '1y', '--dry-run'], /--older-than, --dry-run only apply to --prune/],
  ];
  for (const [args, msg] of cases) {
    const r = await cli(['backups', ...args, '--root', root, '--now', LATER]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, msg);
    assert.deepEqual(fullTree(root), was, args.join(' '));
  }
});

/** A backup a run killed while it copied left (no manifest.json), holding a copy of a private key as such a run's does. */
function incompleteBackup(dir: string, from: string): void {
  fs.mkdirSync(path.join(dir, 'files/etc/kubernetes/pki'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(from, 'etc/kubernetes/pki/ca.key'), path.join(dir, 'files/etc/kubernetes/pki/ca.key'));
}

test('incomplete backups (no manifest.json) that no live lock names go by --older-than, and with --keep alone whatever their age; --dry-run lists them (was: only listed, keys and all)', async () => {
  const root = copyTree(base);
  const dir = path.join(root, BACKUPS);
  const [old, recent] = ['2025-12-01T00-00-00Z', '2026-10-31T00-00-00Z'];
  incompleteBackup(path.join(dir, old), root);
  incompleteBackup(path.join(dir, recent), root);
  // (a directory with files/ not named as kubepki names backups: listed as incomplete by backups, never pruned)
  incompleteBackup(path.join(dir, 'copied-by-hand'), root);
  const was = fullTree(root);

  const d = await cli(['backups', '--prune', '--older-than', '30d', '--dry-run', '--root', root, '--now', LATER]);
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, new RegExp(`^  remove   ${old} +incomplete \\(no manifest\\.json: nothing to restore from it\\), [\\d.]+ KiB$`, 'm'));
  assert.match(d.out, new RegExp(`^  keep     ${recent} +incomplete \\(no manifest\\.json: nothing to restore from it\\), [\\d.]+ KiB: not older than --older-than \\(made 2026-10-31T00:00:00\\.000Z\\)$`, 'm'));
  assert.match(d.out, /^ {2}keep {5}copied-by-hand +incomplete .*: not named as kubepki names its backups: remove it by hand if it is one$/m);
  assert.match(d.out, /^Would remove 4 backup\(s\)/m);
  assert.deepEqual(fullTree(root), was, 'a dry run removes nothing');
  const j = JSON.parse((await cli(['backups', '--prune', '--older-than', '30d', '--dry-run', '--root', root, '--now', LATER, '-o', 'json'])).out) as { wouldRemove: { name: string; incomplete?: boolean }[] };
  assert.deepEqual(j.wouldRemove.filter((x) => x.incomplete).map((x) => x.name), [old]);

  const r = await cli(['backups', '--prune', '--older-than', '30d', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(remaining(root), [recent, NAMES[3], 'copied-by-hand'].sort());
  // --keep counts backups a restore can use: an incomplete one goes whatever its age
  const k = await cli(['backups', '--prune', '--keep', '1', '--root', root, '--now', LATER]);
  assert.equal(k.code, 0, k.out + k.err);
  assert.match(k.out, new RegExp(`^  removed  ${recent} +incomplete `, 'm'));
  assert.deepEqual(remaining(root), [NAMES[3], 'copied-by-hand'].sort());
  await restoresStillWork(root);
});

test('an incomplete backup a live run\'s lock names (it is making it right now) stays, even in the dry run of a prune that would take every other', async () => {
  const root = copyTree(base);
  const making = path.join(root, BACKUPS, '2026-10-31T00-00-00Z');
  incompleteBackup(making, root);
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    fs.writeFileSync(path.join(root, 'var/lib/kubepki/kubepki.lock'), JSON.stringify({ ...thisRun(), pid: sleeper.pid, since: LATER, backupDir: making }));
    const d = await cli(['backups', '--prune', '--keep', '1', '--older-than', '1s', '--dry-run', '--root', root, '--now', LATER]);
    assert.equal(d.code, 0, d.out + d.err);
    assert.match(d.out, /^ {2}keep {5}2026-10-31T00-00-00Z +incomplete .*: named by the lock of a kubepki making it right now$/m);
  } finally {
    sleeper.kill();
  }
});

test('in a --backup-dir that holds other hosts\' backups, an incomplete one (whose, no manifest says) goes only by --older-than', async () => {
  const root = copyTree(base);
  const shared = path.join(tmp('kubepki-prune-shared-inc-'), 'backups');
  fs.cpSync(path.join(root, BACKUPS), shared, { recursive: true });
  const mf = path.join(shared, NAMES[0]!, 'manifest.json');
  fs.writeFileSync(mf, JSON.stringify({ ...JSON.parse(fs.readFileSync(mf, 'utf8')), host: 'other-node' }));
  const inc = '2025-12-01T00-00-00Z';
  incompleteBackup(path.join(shared, inc), root);
  const keep = await cli(['backups', '--prune', '--keep', '1', '--dry-run', '--root', root, '--backup-dir', shared, '--now', LATER]);
  assert.equal(keep.code, 0, keep.out + keep.err);
  assert.match(keep.out, new RegExp(`^  keep     ${inc} +incomplete .*: in a --backup-dir that holds other hosts' backups, where it may be one another host's run is making right now: give --older-than to remove those older than that$`, 'm'));
  const older = await cli(['backups', '--prune', '--older-than', '30d', '--root', root, '--backup-dir', shared, '--now', LATER]);
  assert.equal(older.code, 0, older.out + older.err);
  assert.match(older.out, new RegExp(`^  removed  ${inc} +incomplete `, 'm'));
  assert.ok(!fs.existsSync(path.join(shared, inc)));
});
