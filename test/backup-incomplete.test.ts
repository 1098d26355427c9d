import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, copyFixture, snapshotTree, spawnCli, NOW } from './renew-support.js';

const BACKUPS = 'var/lib/kubepki/backups';

test('restore of a backup a killed renew left without manifest.json said "failed to find backup": it says the run was interrupted before it changed anything, backups lists it, and taking the lock removes it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  // killed at its first write step: the backup directory is made and named in the lock, nothing is in it yet
  const killed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '1' });
  assert.equal(killed.signal, 'SIGKILL', killed.out);
  const [name] = fs.readdirSync(path.join(root, BACKUPS));
  const dir = path.join(root, BACKUPS, name!);
  assert.ok(!fs.existsSync(path.join(dir, 'manifest.json')));
  assert.deepEqual(snapshotTree(root), pristine, 'the killed run changed no node file');

  const listed = await cli(['backups', '--root', root]);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /^No backups in /);
  assert.ok(listed.out.includes(`Incomplete backups (no manifest.json; nothing to restore from them):\n  ${name}: kubepki was interrupted while copying into it the files it was to change, before it changed any (nothing was changed by that run), or its manifest.json was removed after its run (which files that run changed cannot then be told; files/ holds its copies of them)`), listed.out);
  assert.match(listed.out, /the next command that changes this node \(renew, restore …\) removes it with that lock/);
  const json = JSON.parse((await cli(['backups', '--root', root, '-o', 'json'])).out) as { items: unknown[]; incomplete?: { dir: string; name: string; what: string }[] };
  assert.deepEqual(json.items, []);
  assert.deepEqual(json.incomplete?.map((b) => [b.dir, b.name]), [[dir, name]]);

  // a dry run takes no lock: the directory is still there, and said to be what it is
  const dry = await cli(['restore', name!, '--root', root, '--dry-run']);
  assert.equal(dry.code, 3, dry.out + dry.err);
  assert.ok(dry.err.startsWith(`kubepki: ${dir} is an incomplete backup (no manifest.json): kubepki was interrupted while copying into it the files it was to change, before it changed any (nothing was changed by that run), or its manifest.json was removed after its run (which files that run changed cannot then be told; files/ holds its copies of them)`), dry.err);
  assert.doesNotMatch(dry.err, /failed to find backup/);

  // the real restore takes the dead run's lock, which removes the half-made directory first
  const real = await cli(['restore', name!, '--root', root]);
  assert.equal(real.code, 3, real.out + real.err);
  assert.ok(real.out.includes(`An interrupted run's incomplete backup ${dir} was removed first`), real.out);
  assert.ok(real.err.startsWith(`kubepki: ${name} was an incomplete backup (no manifest.json), removed just now`), real.err);
  assert.ok(!fs.existsSync(dir));
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'the lock is released');
  assert.deepEqual(snapshotTree(root), pristine);
});

test('a half-made backup that no lock names (the lock removed by hand) is listed and refused with the command that removes it, and left in place', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const dir = path.join(root, BACKUPS, '2026-11-22T23-59-00Z');
  fs.mkdirSync(path.join(dir, 'files/etc/kubernetes/pki'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(root, 'etc/kubernetes/pki/ca.key'), path.join(dir, 'files/etc/kubernetes/pki/ca.key'));
  // (an unrelated directory in the backups is no backup: not listed)
  fs.mkdirSync(path.join(root, BACKUPS, 'notes'));

  const listed = await cli(['backups', '--root', root]);
  assert.equal(listed.code, 0, listed.err);
  assert.ok(listed.out.includes(`  2026-11-22T23-59-00Z: kubepki was interrupted while copying into it the files it was to change, before it changed any (nothing was changed by that run), or its manifest.json was removed after its run (which files that run changed cannot then be told; files/ holds its copies of them); remove it (its files/ hold copies of what that run was to replace, private keys among them): rm -r ${dir}\n`), listed.out);
  assert.doesNotMatch(listed.out, /notes/);

  const r = await cli(['restore', '2026-11-22T23-59-00Z', '--root', root, '--now', NOW]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.ok(r.err.startsWith(`kubepki: ${dir} is an incomplete backup (no manifest.json)`), r.err);
  assert.ok(r.err.includes(`hint: remove it (its files/ hold copies of what that run was to replace, private keys among them): rm -r ${dir}`), r.err);
  assert.ok(fs.existsSync(path.join(dir, 'files/etc/kubernetes/pki/ca.key')), 'left for the operator');

  // a directory that is no backup at all is still "not found"
  const other = await cli(['restore', 'notes', '--root', root, '--now', NOW]);
  assert.equal(other.code, 3);
  assert.match(other.err, /failed to find backup notes/);
});

test('restore of a backup whose manifest.json is cut short says it was damaged after its run (kubepki writes it whole) and where the copies are', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const [name] = fs.readdirSync(path.join(root, BACKUPS));
  const manifest = path.join(root, BACKUPS, name!, 'manifest.json');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').slice(0, 200));
  const rs = await cli(['restore', name!, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 3, rs.out + rs.err);
  assert.match(rs.err, /^kubepki: failed to read backup .*: manifest\.json is not valid JSON \(damaged\)/);
  assert.ok(rs.err.includes(`kubepki writes manifest.json whole, so it was damaged after its run (a full disk, a copy cut short, an edit), and which files that run changed cannot be told; its copies of them are under ${path.join(root, BACKUPS, name!)}/files`), rs.err);
});

test('a half-made backup in a --backup-dir nodes may share is not called a dead run of this node\'s with a bare rm -r: another node may be copying into it now', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  // (a --backup-dir outside the tree, as on a directory mounted on every node: another node's run has made its
  // directory and is copying into it; this node's lock names none of it)
  const shared = fs.mkdtempSync(path.join(path.dirname(root), 'kubepki-shared-backups-'));
  const dir = path.join(shared, '2026-11-22T23-59-00Z');
  fs.mkdirSync(path.join(dir, 'files/etc/kubernetes/pki'), { recursive: true, mode: 0o700 });

  const listed = await cli(['backups', '--root', root, '--backup-dir', shared]);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /2026-11-22T23-59-00Z: .*or a kubepki on another node that shares .* is making it now/);
  assert.match(listed.out, /once no kubepki runs on the nodes that share it, remove it .*: rm -r /);

  const r = await cli(['restore', '2026-11-22T23-59-00Z', '--root', root, '--backup-dir', shared, '--now', NOW]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.err, /or a kubepki on another node that shares .* is making it now/);
  assert.ok(fs.existsSync(dir), 'left in place');
});

test('a finished renew\'s backup whose manifest.json was removed by hand is not said to be a run killed before it changed anything: backups and restore say it may be either, since nothing left tells them apart', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const done = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(done.code, 0, done.out + done.err);
  const [name] = fs.readdirSync(path.join(root, BACKUPS));
  const dir = path.join(root, BACKUPS, name!);
  fs.rmSync(path.join(dir, 'manifest.json'));
  const either = /kubepki was interrupted while copying into it the files it was to change, before it changed any \(nothing was changed by that run\), or its manifest\.json was removed after its run \(which files that run changed cannot then be told; files\/ holds its copies of them\)/;

  const listed = await cli(['backups', '--root', root]);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, either);
  assert.doesNotMatch(listed.out, /before it changed any: nothing was changed by that run/);
  const r = await cli(['restore', name!, '--root', root, '--now', NOW]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.err, either);
  assert.ok(fs.existsSync(path.join(dir, 'files')), 'its copies are left where they are');
});

test('a dead run\'s backup whose manifest.json was removed after the run changed node files is kept when the lock is taken (its copies are the only ones of what it replaced), not removed as a killed copy', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = fs.readFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'));
  // killed half way through its writes: node files changed, the lock names the run's backup
  const killed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' });
  assert.equal(killed.signal, 'SIGKILL', killed.out);
  const [name] = fs.readdirSync(path.join(root, BACKUPS));
  const dir = path.join(root, BACKUPS, name!);
  const copies = snapshotTree(path.join(dir, 'files'));
  const nodeNow = snapshotTree(root);
  const changed = [...copies].filter(([rel, v]) => nodeNow.get(rel)?.split(' ')[1] !== v.split(' ')[1]);
  assert.ok(changed.length > 0, 'the killed run changed node files it had copied');
  fs.rmSync(path.join(dir, 'manifest.json'));

  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(r.code, 0, r.out + r.err); // a dry run takes no lock: nothing happens to it
  assert.ok(fs.existsSync(path.join(dir, 'files')));
  const real = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(real.code, 0, real.out + real.err);
  assert.ok(real.out.includes(`An interrupted run's incomplete backup ${dir} was kept: it has no manifest.json, yet its copies are not what the node holds now`), real.out);
  assert.doesNotMatch(real.out, /was removed first/);
  assert.ok(fs.existsSync(path.join(dir, 'files/etc/kubernetes/pki/apiserver.crt')), 'kept for the operator');
  assert.ok(fs.readFileSync(path.join(dir, 'files/etc/kubernetes/pki/apiserver.crt')).equals(before), 'the copy of what the run replaced');
});
