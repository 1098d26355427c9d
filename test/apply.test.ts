import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { NodeFs } from '../src/fs/node-fs.js';
import { pidAlive } from '../src/apply/state.js';
import { applyChanges, listBackups, readManifest, writeFileAtomic } from '../src/apply/transaction.js';
import { carryOutRestarts, type Runner } from '../src/apply/restart.js';
import type { PlanRestart } from '../src/plan/types.js';
import { copyFixture, cli, spawnCli, snapshotTree, tmp, NOW } from './renew-support.js';

const now = new Date(NOW);

test('a failure injected at any point of the writes rolls every file of the run back', async () => {
  for (const n of [16, 21, 30, 38, 40]) {
    const root = copyFixture('kubeadm-1.26-expired');
    const before = snapshotTree(root);
    const r = await cli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_FAIL_AT: String(n) });
    assert.equal(r.code, 2, `fail at ${n}: ${r.err}`);
    assert.match(r.err, new RegExp(`failed to renew: injected failure at step ${n}`));
    assert.match(r.err, /every file was put back as it was/);
    assert.deepEqual(snapshotTree(root), before, `fail at ${n}: every file as before`);
    const b = listBackups(path.join(root, 'var/lib/kubepki/backups'));
    assert.equal(b[0]?.state, 'rolled-back');
    assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'lock released');
  }
});

test('a failure injected in the backup (before any node file is written) is reported as a disk failure is: one line naming the file, exit 3, the node as it was, no backup left', async () => {
  // (it said "internal error", exit 70, for what a real EIO or ENOSPC at that point reports as exit 3)
  for (const [cmd, steps] of [[['renew', 'all'], [1, 2, 3]], [['sa', 'rotate'], [1, 3]]] as const) {
    for (const n of steps) {
      const root = copyFixture('kubeadm-1.26-expired');
      const before = snapshotTree(root);
      const r = await cli([...cmd, '--root', root, '--now', NOW], { KUBEPKI_TEST_FAIL_AT: String(n) });
      const what = `${cmd.join(' ')} step ${n}`;
      assert.equal(r.code, 3, `${what}: ${r.err}`);
      assert.match(r.err, /^kubepki: failed to write \/\S+\/var\/lib\/kubepki\/backups\/\S+: EIO\n  hint: [^\n]+\n$/, what);
      assert.doesNotMatch(r.err, /internal error/);
      assert.deepEqual(snapshotTree(root), before, `${what}: every file as before`);
      assert.deepEqual(listBackups(path.join(root, 'var/lib/kubepki/backups')), [], `${what}: no partial backup to offer`);
      assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'lock released');
    }
  }
});

test('a --backup-dir the failed run made is removed again, while empty; one there before (empty or not) is kept', async () => {
  // (the run failed in its backup and left the directory it had made for it, empty, behind)
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-bdir-new-'));
  const made = path.join(base, 'made', 'backups');
  const empty = path.join(base, 'empty');
  const full = path.join(base, 'full');
  fs.mkdirSync(empty);
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, 'note'), 'an operator\'s file');
  for (const [dir, step] of [[made, 1], [made, 3], [empty, 1], [full, 2]] as const) {
    const root = copyFixture('kubeadm-1.26-expired');
    const before = snapshotTree(root);
    const r = await cli(['renew', 'all', '--backup-dir', dir, '--root', root, '--now', NOW], { KUBEPKI_TEST_FAIL_AT: String(step) });
    assert.equal(r.code, 3, `${dir} step ${step}: ${r.err}`);
    assert.match(r.err, /: EIO\n/);
    assert.deepEqual(snapshotTree(root), before);
    assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki')), 'nothing made in the tree either');
  }
  assert.ok(!fs.existsSync(path.join(base, 'made')), 'the directories the run made are gone');
  assert.deepEqual(fs.readdirSync(empty), [], 'an empty --backup-dir that was there is kept, empty');
  assert.deepEqual(fs.readdirSync(full), ['note'], 'and one holding something keeps exactly that');
  // (a run that succeeds keeps its backup there, of course)
  const root = copyFixture('kubeadm-1.26-expired');
  const ok = await cli(['renew', 'all', '--backup-dir', made, '--root', root, '--now', NOW]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(listBackups(made).length, 1);
  fs.rmSync(base, { recursive: true, force: true });
});

test('a lock that cannot name its backup (a full disk writing the lock) leaves no empty backup directory, nor the backups directory made for it', async () => {
  // (lock.setBackup ran outside the guard that removes a half-made backup: the dated directory stayed behind)
  const root = copyFixture('kubeadm-1.26-expired');
  const before = snapshotTree(root);
  const nfs = new NodeFs(root);
  const lock = {
    recovered: [], discarded: [], kept: [], release: () => {}, keep: () => {},
    setBackup: () => { throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); },
  };
  const file = '/etc/kubernetes/pki/apiserver.crt';
  await assert.rejects(applyChanges(nfs, [{ op: 'write', path: file, content: Buffer.from('new') }], { action: 'renew', now, lock }), /ENOSPC/);
  assert.deepEqual(snapshotTree(root), before);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/backups')), 'no backup directory left');
});

test('a run killed while it copied its backup (before the manifest) leaves no orphan: the next run removes the directory its dead lock names', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const backups = path.join(root, 'var/lib/kubepki/backups');
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '2' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  const [half] = fs.readdirSync(backups);
  assert.ok(half && !fs.existsSync(path.join(backups, half, 'manifest.json')), 'killed before its manifest');
  assert.equal(JSON.parse(fs.readFileSync(path.join(root, 'var/lib/kubepki/kubepki.lock'), 'utf8')).backupDir, path.join(backups, half), 'the dead lock names it');
  // a half-made backup in someone else's name (no lock names it) is not ours to remove
  fs.mkdirSync(path.join(backups, 'operator-copy'));
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  const complete = listBackups(backups);
  assert.deepEqual(complete.map((b) => b.state), ['complete']);
  assert.deepEqual(fs.readdirSync(backups).sort(), [complete[0]!.name, 'operator-copy'].sort(), 'the half-made backup is gone');
});

test('a failed verification rolls back, keeping modes; owner and mode of rewritten files are kept', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-apply-'));
  const nfs = new NodeFs(root);
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/a.key'), 'old key', { mode: 0o640 });
  fs.chmodSync(path.join(root, 'etc/a.key'), 0o640);
  fs.writeFileSync(path.join(root, 'etc/b.crt'), 'old cert');
  await assert.rejects(applyChanges(nfs, [
    { op: 'write', path: '/etc/a.key', content: Buffer.from('new key') },
    { op: 'write', path: '/etc/new.pem', content: Buffer.from('created'), mode: 0o600 },
    { op: 'write', path: '/etc/made/deeper/new.key', content: Buffer.from('a new key'), mode: 0o600 },
  ], { action: 'test', now, verify: () => { throw new Error('chain does not verify'); } }), /failed to test: chain does not verify/);
  assert.equal(fs.readFileSync(path.join(root, 'etc/a.key'), 'utf8'), 'old key');
  assert.ok(!fs.existsSync(path.join(root, 'etc/made')), 'the directories the run made are gone with its files');
  assert.equal(fs.statSync(path.join(root, 'etc/a.key')).mode & 0o777, 0o640);
  assert.ok(!fs.existsSync(path.join(root, 'etc/new.pem')), 'a file the run created is removed again');

  const res = await applyChanges(nfs, [{ op: 'write', path: '/etc/a.key', content: Buffer.from('new key') }], { action: 'test', now });
  assert.equal(fs.readFileSync(path.join(root, 'etc/a.key'), 'utf8'), 'new key');
  const st = fs.statSync(path.join(root, 'etc/a.key'));
  assert.equal(st.mode & 0o777, 0o640, 'mode kept');
  assert.equal(st.uid, process.getuid!(), 'owner kept');
  assert.equal(fs.statSync(res.backupDir).mode & 0o777, 0o700, 'backup dir is 0700');
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc')).filter((f) => f.includes('kubepki')), [], 'no temp files left');
  fs.rmSync(root, { recursive: true, force: true });
});

test('writeFileAtomic create: the write itself refuses a file that is there (EEXIST naming it), keeps it, leaves no temp file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-create-'));
  const file = path.join(dir, 'token.yaml');
  writeFileAtomic(file, 'secret\n', 0o600, { create: true });
  assert.equal(fs.readFileSync(file, 'utf8'), 'secret\n');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  fs.writeFileSync(file, 'made meanwhile\n', { mode: 0o644 });
  fs.chmodSync(file, 0o644);
  assert.throws(() => writeFileAtomic(file, 'other\n', 0o600, { create: true }), (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && e.path === file);
  assert.equal(fs.readFileSync(file, 'utf8'), 'made meanwhile\n', 'not replaced');
  assert.equal(fs.statSync(file).mode & 0o777, 0o644);
  assert.deepEqual(fs.readdirSync(dir), ['token.yaml'], 'no temp file left');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('restore puts a renewal back (atomically, backing up first) and can itself be restored', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  const renewed = snapshotTree(root);
  assert.notDeepEqual(renewed, pristine);
  const [backup] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const rs = await cli(['restore', backup!.name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err);
  assert.match(rs.out, /remove\s+\/var\/lib\/kubelet\/pki\/kubelet-client-2026-11-23-00-00-00\.pem/);
  assert.deepEqual(snapshotTree(root), pristine, 'every file, mode and symlink as before the renewal');
  const list = await cli(['backups', '--root', root]);
  assert.match(list.out, /renew\s+complete/);
  assert.match(list.out, /restore\s+complete/);
  const second = listBackups(path.join(root, 'var/lib/kubepki/backups'))[1]!;
  const back = await cli(['restore', second.dir, '--root', root, '--now', NOW]);
  assert.equal(back.code, 0, back.err);
  assert.deepEqual(snapshotTree(root), renewed, 'restoring the restore\'s backup gives the renewed tree again');
  const missing = await cli(['restore', 'nope', '--root', root]);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /failed to find backup nope/);
});

test('two renews, then the FIRST one restored: the tree is as it was before it (the second run\'s dated kubelet pem and the files only the second run changed go too), and the restore\'s own backup brings the second run back in one command', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const backups = path.join(root, 'var/lib/kubepki/backups');
  const pristine = snapshotTree(root);
  // the first renews the kubelet's client pair only; the second everything: a new dated pem again, -current
  // re-pointed at it, and files the first never touched
  assert.equal((await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW])).code, 0);
  const later = '2026-11-23T01:00:00Z';
  const r2 = await cli(['renew', 'all', '--root', root, '--now', later]);
  assert.equal(r2.code, 0, r2.err);
  const renewed = snapshotTree(root);
  const pki = path.join(root, 'var/lib/kubelet/pki');
  assert.equal(fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem')), '/var/lib/kubelet/pki/kubelet-client-2026-11-23-01-00-00.pem');
  const [first, second] = listBackups(backups);
  const dry = await cli(['restore', first!.name, '--root', root, '--now', later, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, new RegExp(`^Restore \\d+ file\\(s\\) from \\S+ \\(renew of [^)]*\\), the tree as it was before that run: the 2 that run changed, and \\d+ that only the later renew ${second!.name} changed since:$`, 'm'));
  assert.match(dry.out, new RegExp(`^ {2}remove {2}/var/lib/kubelet/pki/kubelet-client-2026-11-23-01-00-00\\.pem \\(made by the later renew ${second!.name}\\)$`, 'm'));
  assert.match(dry.out, new RegExp(`^ {2}write {3}/etc/kubernetes/pki/apiserver\\.crt \\(changed by the later renew ${second!.name}\\)$`, 'm'));
  assert.match(dry.out, new RegExp(`^To undo only the latest run instead \\(renew ${second!.name}\\): kubepki restore ${second!.name} --root `, 'm'));
  const rs = await cli(['restore', first!.name, '--root', root, '--now', later]);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(snapshotTree(root), pristine, 'every file, mode and symlink target as before the first renew; nothing either run added is left');
  assert.deepEqual(fs.readdirSync(pki).filter((f) => f.startsWith('kubelet-client-')).sort(), ['kubelet-client-2026-11-22-21-36-05.pem', 'kubelet-client-current.pem']);
  // nothing is lost: the restore backed up what it replaced and removed, and restoring that undoes it
  const undo = listBackups(backups).at(-1)!;
  assert.equal(undo.action, 'restore');
  const back = await cli(['restore', undo.name, '--root', root, '--now', later]);
  assert.equal(back.code, 0, back.err);
  assert.deepEqual(snapshotTree(root), renewed, 'restoring the restore\'s backup gives the tree after both renews again');
  // and the second run's pair is whole: its key matches its certificate (openssl)
  const pem = path.join(pki, 'kubelet-client-2026-11-23-01-00-00.pem');
  const pub = (args: string[]) => spawnSync('openssl', [...args, '-in', pem, '-noout', '-pubkey'], { encoding: 'utf8' }).stdout;
  assert.ok(pub(['x509']).includes('BEGIN PUBLIC KEY'));
  assert.equal(pub(['x509']), spawnSync('openssl', ['pkey', '-in', pem, '-pubout'], { encoding: 'utf8' }).stdout);
});

test('an older backup in a --backup-dir two nodes share: its restore puts back the later runs of this node only, never the other node\'s', async () => {
  const a = copyFixture('kubeadm-1.26-expired');
  const b = copyFixture('kubeadm-1.26-expired');
  const shared = path.join(tmp('kubepki-shared-'), 'backups');
  const pristineA = snapshotTree(a);
  const run = async (argv: string[], at: string) => { const r = await cli([...argv, '--now', at, '--backup-dir', shared]); assert.equal(r.code, 0, r.err + r.out); return r; };
  await run(['renew', 'apiserver', '--root', a], NOW);
  await run(['renew', 'all', '--root', b], '2026-11-23T01:00:00Z');
  await run(['renew', 'all', '--root', a], '2026-11-23T02:00:00Z');
  const afterB = snapshotTree(b);
  const [first, ofB, second] = listBackups(shared);
  const rs = await run(['restore', first!.name, '--root', a], '2026-11-23T03:00:00Z');
  assert.match(rs.out, new RegExp(`only the later renew ${second!.name} changed since:`));
  assert.doesNotMatch(rs.out, new RegExp(ofB!.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\b'));
  assert.deepEqual(snapshotTree(a), pristineA, 'node A as before its first renew');
  assert.deepEqual(snapshotTree(b), afterB, 'node B untouched');
});

test('an older backup in a --backup-dir two nodes share, each node being --root / as real nodes are: its restore leaves the other node\'s later run alone (its manifest was written on another host): it wrote that node\'s certificates and kubeconfigs here', async () => {
  // one mount point stands for "/" on both machines: each node's tree is there while it runs
  const base = tmp('kubepki-samepath-');
  const at = path.join(base, 'node');
  const shared = path.join(base, 'backups');
  const cp1 = copyFixture('kubeadm-1.26-expired');
  const cp2 = copyFixture('kubeadm-1.26');
  const on = async (tree: string, argv: string[], when: string) => {
    fs.renameSync(tree, at);
    try { return await cli([...argv, '--root', at, '--now', when, '--backup-dir', shared]); } finally { fs.renameSync(at, tree); }
  };
  const pristine = snapshotTree(cp1);
  assert.equal((await on(cp1, ['renew', 'apiserver'], NOW)).code, 0);
  const r2 = await on(cp2, ['renew', 'all'], '2026-11-23T01:00:00Z');
  assert.equal(r2.code, 0, r2.err);
  const [first, ofCp2] = listBackups(shared);
  // (what the other machine wrote: its own host name)
  const mf = path.join(ofCp2!.dir, 'manifest.json');
  fs.writeFileSync(mf, JSON.stringify({ ...(JSON.parse(fs.readFileSync(mf, 'utf8')) as object), host: `${os.hostname()}-cp-2` }, null, 2));
  const dry = await on(cp1, ['restore', first!.name, '--dry-run'], '2026-11-23T02:00:00Z');
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /^Restore 1 file\(s\) from \S+ \(renew of [^)]*\): the 1 that run changed:$/m);
  assert.ok(!dry.out.includes(ofCp2!.name), dry.out);
  const rs = await on(cp1, ['restore', first!.name], '2026-11-23T02:00:00Z');
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(snapshotTree(cp1), pristine, 'cp-1 as before its renew, with none of cp-2\'s files');
});

test('a backup another host made, in a --backup-dir nodes share, is not restored onto this node (every node is --root /, so the root told nothing): exit 3 naming the host, nothing written; --force restores it (a renamed node\'s own backup)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const shared = tmp('kubepki-shared-');
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--backup-dir', shared])).code, 0);
  const [b] = listBackups(shared);
  const mf = path.join(b!.dir, 'manifest.json');
  fs.writeFileSync(mf, JSON.stringify({ ...(JSON.parse(fs.readFileSync(mf, 'utf8')) as object), host: 'cp-other' }, null, 2));
  const before = snapshotTree(root);
  const r = await cli(['restore', b!.name, '--root', root, '--now', NOW, '--backup-dir', shared]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.err, /refusing to restore .*: it was made on host cp-other, and this is .*: its files are that node's/);
  assert.match(r.err, /restore it on cp-other; if cp-other is this node's former name, pass --force/);
  assert.deepEqual(snapshotTree(root), before, 'nothing written');
  const forced = await cli(['restore', b!.name, '--root', root, '--now', NOW, '--backup-dir', shared, '--force']);
  assert.equal(forced.code, 0, forced.err);
  assert.notDeepEqual(snapshotTree(root), before, 'put back');
});

test('a clock set right between two runs (years ahead, then NTP) does not reorder them: the undo line of the second renew, run as printed, undoes that run only; it took the first run (dated in the future) for a later one, removed its kubelet pem and left kubelet-client-current.pem pointing at nothing', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pki = path.join(root, 'var/lib/kubelet/pki');
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2031-11-23T00:00:00Z'])).code, 0);
  const afterFirst = snapshotTree(root);
  const second = await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T01:00:00Z']);
  assert.equal(second.code, 0, second.err);
  const undo = /\(undo with: (kubepki restore [^)]*)\)/.exec(second.out)?.[1];
  assert.ok(undo, second.out);
  // backups lists them oldest first: in the order they ran, not by their names (the clock)
  assert.match((await cli(['backups', '--root', root])).out, /^2031-11-23T00-00-00Z .*\n2026-11-23T01-00-00Z /m);
  const dry = await cli([...undo.split(' ').slice(1), '--now', '2026-11-23T02:00:00Z', '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.doesNotMatch(dry.out, /later|2031-11-23T00-00-00Z/, 'the first run is no later run');
  const rs = await cli([...undo.split(' ').slice(1), '--now', '2026-11-23T02:00:00Z']);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(snapshotTree(root), afterFirst, 'the tree as the first run left it');
  const target = fs.readlinkSync(path.join(pki, 'kubelet-client-current.pem'));
  assert.equal(target, '/var/lib/kubelet/pki/kubelet-client-2031-11-23-00-00-00.pem');
  assert.ok(fs.existsSync(path.join(root, target)), 'the kubelet\'s link points at a file');
});

test('restoring an older backup when a later run\'s copy of a file is damaged: the error names that later run, and its remedy works (the file put back by hand is not read from the damaged copy); it said "restore that file by hand or use another backup", and by hand it failed all the same', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const peer = path.join(root, 'etc/kubernetes/pki/etcd/peer.crt');
  const before = fs.readFileSync(peer);
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW])).code, 0);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T01:00:00Z'])).code, 0);
  const [first, second] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  fs.appendFileSync(path.join(second!.dir, 'files/etc/kubernetes/pki/etcd/peer.crt'), 'x');
  const argv = ['restore', first!.name, '--root', root, '--now', '2026-11-23T02:00:00Z'];
  const broken = await cli([...argv, '--dry-run']);
  assert.equal(broken.code, 3);
  assert.ok(broken.err.includes(`the backup copy is damaged (that backup is of the later renew ${second!.name}, which changed /etc/kubernetes/pki/etcd/peer.crt;`), broken.err);
  const sum = spawnSync('openssl', ['dgst', '-sha256', '-r'], { input: before, encoding: 'utf8' }).stdout.split(' ')[0]!;
  assert.ok(broken.err.includes(`put /etc/kubernetes/pki/etcd/peer.crt back by hand as it was before ${second!.name} (SHA-256 ${sum},`), broken.err);
  // as the hint says: the file by hand, and the restore again
  fs.writeFileSync(peer, before);
  const rs = await cli(argv);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(snapshotTree(root), pristine);
});

test('a backup whose manifest is damaged is listed as unreadable, and an older backup\'s restore refuses (it could not undo that run) until --force: it was left out of both in silence, and the restore brought the tree back half', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW])).code, 0);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T01:00:00Z'])).code, 0);
  const backups = path.join(root, 'var/lib/kubepki/backups');
  const [first, second] = listBackups(backups);
  fs.writeFileSync(path.join(second!.dir, 'manifest.json'), '{"kind": "Backup", "entries": [');
  const listed = await cli(['backups', '--root', root]);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /^Unreadable backups \(no restore can put back what their runs changed, nor undo them when an older backup is restored\):$/m);
  assert.ok(listed.out.includes(`\n  ${second!.name}: manifest.json is not valid JSON (damaged); what that run replaced is in ${second!.dir}/files\n`), listed.out);
  assert.deepEqual((JSON.parse((await cli(['backups', '--root', root, '-o', 'json'])).out) as { unreadable: { name: string }[] }).unreadable.map((u) => u.name), [second!.name]);
  const argv = ['restore', first!.name, '--root', root, '--now', '2026-11-23T02:00:00Z'];
  const before = snapshotTree(root);
  for (const dry of [['--dry-run'], []]) {
    const r = await cli([...argv, ...dry]);
    assert.equal(r.code, 3, r.out + r.err);
    assert.ok(r.err.startsWith(`kubepki: refusing to restore ${first!.dir}: the backup ${second!.dir} beside it cannot be read (manifest.json is not valid JSON (damaged))`), r.err);
    assert.match(r.err, /\n {2}hint: .*pass --force/);
    assert.deepEqual(snapshotTree(root), before, 'nothing written');
  }
  // (what the unreadable run changed cannot be told from a hand edit: put back over only with --overwrite too)
  const refused = await cli([...argv, '--force']);
  assert.equal(refused.code, 3, refused.out + refused.err);
  assert.ok(refused.err.includes(`changed since that run by something other than kubepki (or by the run of the unreadable backup ${second!.name}): /etc/kubernetes/pki/apiserver.crt`), refused.err);
  const forced = await cli([...argv, '--force', '--overwrite']);
  assert.equal(forced.code, 0, forced.err);
  assert.ok(forced.out.includes(`(left out, --force: the unreadable backup ${second!.dir}: manifest.json is not valid JSON (damaged); what its run changed is not undone)`), forced.out);
  const apiserver = 'etc/kubernetes/pki/apiserver.crt';
  assert.equal(snapshotTree(root).get(apiserver), pristine.get(apiserver), 'what the first run changed is back');
});

test('two unreadable backups after the one restored: the refusal names both, as runs that may have changed the files', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW])).code, 0);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T01:00:00Z'])).code, 0);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T02:00:00Z'])).code, 0);
  const [first, second, third] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  for (const b of [second!, third!]) fs.writeFileSync(path.join(b.dir, 'manifest.json'), '{"kind": "Backup", "entries": [');
  const refused = await cli(['restore', first!.name, '--root', root, '--now', '2026-11-23T03:00:00Z', '--force']);
  assert.equal(refused.code, 3, refused.out + refused.err);
  assert.ok(refused.err.includes(`changed since that run by something other than kubepki (or by a run of the unreadable backups ${second!.name} and ${third!.name}): /etc/kubernetes/pki/apiserver.crt`), refused.err);
});

test('restoring an older backup over a file a later run changed and the operator edited by hand since: the dry run says the hand edit is put back over (it said only "changed by the later renew"), and the edit is in the restore\'s backup', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const admin = path.join(root, 'etc/kubernetes/admin.conf');
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', NOW])).code, 0);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T01:00:00Z'])).code, 0);
  const [first, second] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  fs.appendFileSync(admin, '# edited by hand\n');
  const edited = fs.readFileSync(admin);
  const argv = ['restore', first!.name, '--root', root, '--now', '2026-11-23T02:00:00Z'];
  const dry = await cli([...argv, '--dry-run']);
  assert.equal(dry.code, 3, 'the dry run exits as the run without --overwrite would: refused');
  // (apiserver.crt, which both runs renewed, by the later run; admin.conf, which only the later run changed, by hand)
  assert.match(dry.out, /^Changed since that run; restoring puts the state from before the run back over it:$/m);
  assert.ok(dry.out.includes(`\n  /etc/kubernetes/pki/apiserver.crt: the run left what it wrote, now other content (by the later renew ${second!.name})\n`), dry.out);
  assert.ok(dry.out.includes(`\n  /etc/kubernetes/admin.conf: the later renew ${second!.name} left what it wrote, now other content (by something else since that run)\n`), dry.out);
  // only those: the other files the later run changed are as it left them
  assert.equal(dry.out.split('\n').filter((l) => /^ {2}\/\S+: the /.test(l)).length, 2, dry.out);
  assert.ok(dry.out.includes('\nWithout --overwrite this restore refuses and writes nothing: 1 file(s) changed since that run by something other than kubepki: /etc/kubernetes/admin.conf.\n'), dry.out);
  const refused = await cli(argv);
  assert.equal(refused.code, 3, refused.out + refused.err);
  assert.deepEqual(fs.readFileSync(admin), edited, 'the hand edit is kept');
  const rs = await cli([...argv, '--overwrite']);
  assert.equal(rs.code, 0, rs.err);
  const undo = listBackups(path.join(root, 'var/lib/kubepki/backups')).at(-1)!;
  assert.equal((await cli(['restore', undo.name, '--root', root, '--now', '2026-11-23T03:00:00Z'])).code, 0);
  assert.deepEqual(fs.readFileSync(admin), edited, 'the hand edit is back');
});

test('backups FILES and restore count the same files: a renewal of the kubelet\'s pair is listed with the files restore puts back, not with the swap\'s -updated link the run only passed through', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const list = JSON.parse((await cli(['backups', '--root', root, '-o', 'json'])).out) as { items: { name: string; dir: string; files: number }[] };
  const [b] = list.items;
  const entries = readManifest(b!.dir).entries;
  assert.ok(entries.some((e) => e.path.endsWith('/kubelet-client-updated.pem') && !e.existed && e.after?.existed === false), 'the run recorded the swap link, there neither before nor after it');
  const dry = await cli(['restore', b!.name, '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  const n = Number(/^Restore (\d+) file\(s\) from /m.exec(dry.out)?.[1]);
  const lines = dry.out.split('\n').filter((l) => /^ {2}(write|link|remove) /.test(l)).length;
  assert.equal(b!.files, n, `backups lists ${b!.files}, restore says ${n}`);
  assert.equal(lines, n, 'restore lists as many files as it says');
  assert.equal(n, entries.length - 1);
  assert.match(dry.out, new RegExp(`^Restore ${n} file\\(s\\) from \\S+ \\(renew of [^)]*\\): the ${n} that run changed:$`, 'm'));
  // the table says the same, and what its count is
  const text = await cli(['backups', '--root', root]);
  assert.match(text.out, new RegExp(`^${b!.name} +renew +complete +${n} `, 'm'));
  assert.match(text.out, /FILES: the node files each run changed, which a restore of its backup puts back/);
  // and the restore does what it said: that many files, then listed with its own count
  const rs = await cli(['restore', b!.name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err);
  assert.equal(listBackups(path.join(root, 'var/lib/kubepki/backups')).at(-1)!.files, n);
});

test('a lock held by a live kubepki stops a second run', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  fs.mkdirSync(path.join(root, 'var/lib/kubepki'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/kubepki/kubepki.lock'), JSON.stringify({ pid: process.ppid, host: os.hostname(), since: NOW }));
  const before = snapshotTree(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 3);
  assert.match(r.err, new RegExp(`kubepki \\(pid ${process.ppid}\\) is already changing this node`));
  assert.deepEqual(snapshotTree(root), before);
});

test('a lock held by a zombie (exited, not yet reaped by its parent) is a dead run\'s: the next run takes it over', async (t) => {
  // sh starts a short sleep in the background, prints its pid and becomes `sleep 60`, which never reaps it
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => parent.kill('SIGKILL'));
  const zombie = Number(await new Promise<string>((res) => parent.stdout.once('data', (d: Buffer) => res(d.toString()))));
  const state = () => { const st = fs.readFileSync(`/proc/${zombie}/stat`, 'latin1'); return st[st.lastIndexOf(')') + 2]; };
  for (let i = 0; i < 100 && state() !== 'Z'; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(state(), 'Z', `pid ${zombie} is a zombie`);
  assert.equal(pidAlive(zombie), false, 'a zombie counts as dead');
  assert.equal(pidAlive(parent.pid!), true, 'its parent, sleeping, is alive');

  // a renew whose process died half way: its backup in progress, its lock naming the zombie
  const root = copyFixture('kubeadm-1.26-expired');
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const [run] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const manifest = path.join(run!.dir, 'manifest.json');
  fs.writeFileSync(manifest, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifest, 'utf8')), state: 'in-progress' }));
  fs.writeFileSync(path.join(root, 'var/lib/kubepki/kubepki.lock'), JSON.stringify({ pid: zombie, host: os.hostname(), since: NOW, backupDir: run!.dir }));
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.match(chk.out, /was interrupted and may have left some files changed/, 'check calls the zombie\'s run interrupted, not running');
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /An interrupted run was rolled back first from /);
  assert.match(r.out, /Renewed \d+ certificate/);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'the lock taken over and released');
});

test('--restart machinery: a static pod manifest is moved out until crictl shows the container gone, then back; the kubelet via systemctl', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const nfs = new NodeFs(root);
  const manifest = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
  const original = fs.readFileSync(manifest);
  const calls: string[] = [];
  let ps = 0;
  const runner: Runner = {
    has: (cmd) => cmd === 'crictl',
    sleep: async () => {},
    run: async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      if (cmd === 'crictl') {
        ps++;
        const parked = !fs.existsSync(manifest);
        // running before; still running on the first poll after parking; gone next; back once the manifest returns
        const out = ps === 1 ? 'abc123\n' : parked ? (ps === 2 ? 'abc123\n' : '') : 'def456\n';
        return { code: 0, stdout: out, stderr: '' };
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  const restarts: PlanRestart[] = [
    { component: 'etcd', how: 'static-pod', manifest: '/etc/kubernetes/manifests/etcd.yaml', because: ['/etc/kubernetes/pki/etcd/server.crt'], command: '' },
    { component: 'kubelet', how: 'systemd', unit: 'kubelet', because: [], command: 'systemctl restart kubelet' },
  ];
  const log: string[] = [];
  const failed = await carryOutRestarts(nfs, restarts, runner, { log: (l) => log.push(l), pollMs: 1 });
  assert.deepEqual(failed, []);
  assert.deepEqual(fs.readFileSync(manifest), original, 'manifest back in place, unchanged');
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/etcd.yaml.kubepki-parked')));
  assert.ok(calls.includes('systemctl restart kubelet'));
  assert.ok(log.some((l) => /etcd: container gone \(crictl\)/.test(l)));
  assert.ok(log.some((l) => /etcd: running again/.test(l)));
  assert.ok(ps >= 4, 'polled until gone, then until back');
  const refused = await cli(['renew', 'all', '--root', root, '--restart']);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /--restart works only on the live node/);
});

test('after a restart kubepki probes the endpoint: an endpoint still serving the old certificate is reported', async () => {
  const tls = await import('node:tls');
  const { waitServed } = await import('../src/apply/restart.js');
  const { probeEndpoint } = await import('../src/probe/probe.js');
  const { parsePemBlocks } = await import('../src/pki/pem.js');
  const pki = path.join(path.resolve(process.cwd(), '../shared/fixtures/kubeadm-1.26-expired'), 'etc/kubernetes/pki');
  const oldPem = fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8');
  const server = tls.createServer({ cert: oldPem, key: fs.readFileSync(path.join(pki, 'apiserver.key')) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const oldDer = parsePemBlocks(oldPem)[0]!.der;
    const stale = await waitServed([{ component: 'kube-apiserver', host: '127.0.0.1', port, expect: Uint8Array.from([...oldDer].reverse()) }], (h, p) => probeEndpoint(h, p), { timeoutMs: 300, pollMs: 50 });
    assert.equal(stale.ok, false);
    assert.match(stale.lines[0]!, /kube-apiserver at 127\.0\.0\.1:\d+: still serves the old certificate/);
    const fresh = await waitServed([{ component: 'kube-apiserver', host: '127.0.0.1', port, expect: oldDer }], (h, p) => probeEndpoint(h, p), { timeoutMs: 300, pollMs: 50 });
    assert.equal(fresh.ok, true);
  } finally {
    server.close();
  }
});

test('a tree copied without symlinks (git stand-in file for kubelet-client-current.pem) is renewed and gets a real symlink', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-standin-'));
  fs.cpSync(path.resolve(process.cwd(), '../shared/fixtures/kubeadm-1.26-expired'), root, { recursive: true });
  const chmod = (p: string) => { for (const d of fs.readdirSync(p, { withFileTypes: true })) { const q = path.join(p, d.name); fs.chmodSync(q, d.isDirectory() ? 0o755 : /(\.key|\.conf|kubelet-client-.*\.pem)$/.test(d.name) ? 0o600 : 0o644); if (d.isDirectory()) chmod(q); } };
  chmod(root);
  const cur = path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem');
  const st = fs.lstatSync(cur);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.ok(fs.lstatSync(cur).isSymbolicLink(), `-current is a symlink now (was ${st.isSymbolicLink() ? 'a symlink' : 'a stand-in file'})`);
  assert.equal(fs.readlinkSync(cur), '/var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem');
  assert.equal((await cli(['check', '--root', root, '--now', NOW])).code, 0);
  fs.rmSync(root, { recursive: true, force: true });
});

test('renew --new-key keeps a key file\'s mode (0640 read through a group stays so), and restore puts back the recorded mode whatever the file has now', async () => {
  const root = copyFixture('kubeadm-1.26');
  const key = path.join(root, 'etc/kubernetes/pki/etcd/server.key');
  fs.chmodSync(key, 0o640);
  const pristine = snapshotTree(root);
  const before = fs.readFileSync(key);
  const r = await cli(['renew', 'etcd-server', '--new-key', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.notDeepEqual(fs.readFileSync(key), before, 'a new key');
  assert.equal(fs.statSync(key).mode & 0o777, 0o640, 'its mode kept');
  fs.chmodSync(key, 0o600); // someone tightened it since
  const [backup] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const rs = await cli(['restore', backup!.name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(snapshotTree(root), pristine, 'contents and modes as before the renewal');
});

/** A filesystem without hard links, as an exFAT USB stick answers link(2): EPERM (stubbed; the next test mounts one). */
function withoutHardLinks<T>(fn: () => T): T {
  const cjs = createRequire(import.meta.url)('node:fs') as typeof fs;
  const link = cjs.linkSync;
  cjs.linkSync = () => { throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', errno: -1, syscall: 'link' }); };
  syncBuiltinESMExports();
  try { return fn(); } finally { cjs.linkSync = link; syncBuiltinESMExports(); }
}

test('writeFileAtomic create on a filesystem without hard links (exFAT, FAT): written whole, still never over a file that is there', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-nolink-'));
  const file = path.join(dir, 'shared.yaml');
  withoutHardLinks(() => writeFileAtomic(file, 'sealed\n', 0o600, { create: true }));
  assert.equal(fs.readFileSync(file, 'utf8'), 'sealed\n');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.throws(() => withoutHardLinks(() => writeFileAtomic(file, 'other\n', 0o600, { create: true })), (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && e.path === file);
  assert.equal(fs.readFileSync(file, 'utf8'), 'sealed\n', 'not replaced');
  assert.deepEqual(fs.readdirSync(dir), ['shared.yaml'], 'no temp file left');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('ca export --out onto a real exFAT filesystem (a USB stick): written, and refused the second time without --force', async (t) => {
  const tools = ['mkfs.exfat', 'mount.exfat-fuse', 'losetup'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (process.getuid?.() !== 0 || !tools || !fs.existsSync('/dev/fuse')) { t.skip('needs root, /dev/fuse, losetup, mkfs.exfat and exfat-fuse'); return; }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-exfat-'));
  const img = path.join(work, 'usb.img');
  const mnt = path.join(work, 'usb');
  fs.mkdirSync(mnt);
  fs.writeFileSync(img, Buffer.alloc(8 << 20));
  assert.equal(spawnSync('mkfs.exfat', [img]).status, 0);
  const loop = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' });
  if (loop.status !== 0) { t.skip(`losetup: ${loop.stderr.trim()}`); return; }
  const dev = loop.stdout.trim();
  try {
    const m = spawnSync('mount.exfat-fuse', [dev, mnt], { encoding: 'utf8' });
    if (m.status !== 0) { t.skip(`mount.exfat-fuse: ${m.stderr.trim()}`); return; }
    try {
      const root = copyFixture('kubeadm-1.26');
      const out = path.join(mnt, 'shared.yaml');
      const r = await cli(['ca', 'export', '--root', root, '--out', out]);
      assert.equal(r.code, 0, r.err);
      assert.match(fs.readFileSync(out, 'utf8'), /kind: /);
      const again = await cli(['ca', 'export', '--root', root, '--out', out]);
      assert.equal(again.code, 3);
      assert.match(again.err, /failed to write .*shared\.yaml: it exists/);
      assert.deepEqual(fs.readdirSync(mnt), ['shared.yaml'], 'no temp file left');
    } finally {
      spawnSync('umount', [mnt]);
    }
  } finally {
    spawnSync('losetup', ['-d', dev]);
    fs.rmSync(work, { recursive: true, force: true });
  }
});
