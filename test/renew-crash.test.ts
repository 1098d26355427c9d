import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { listBackups } from '../src/apply/transaction.js';
import { lockOwnerState, pidAlive, thisRun } from '../src/apply/state.js';
import { copyFixture, cli, snapshotTree, spawnCli, NOW } from './renew-support.js';

const now = new Date(NOW);

/** Every certificate/key pair matches, no file is torn, every certificate is the old one or a valid new one. */
function assertConsistent(root: string, label: string): void {
  const inv = readInventory({ fs: new NodeFs(root), now });
  const corrupt = inv.findings.filter((f) => f.code === 'corrupt' || f.code === 'unreadable' || f.code === 'key-mismatch' || f.code === 'missing-file');
  assert.deepEqual(corrupt.map((f) => f.message), [], `${label}: no torn or mismatched file`);
  for (const c of inv.certificates) {
    if (c.privateKey.present) assert.notEqual(c.privateKey.matches, false, `${label}: ${c.name} key matches`);
    assert.ok(c.status === 'ok' || c.status === 'expired', `${label}: ${c.name} is old (expired) or new (ok), not ${c.status}`);
  }
  const link = fs.readlinkSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  assert.ok(fs.existsSync(path.join(root, link)), `${label}: kubelet-client-current.pem points at an existing file`);
}

test('SIGKILL at every write step of renew all (kubeadm tree): each pair all old or all new; a following renew or restore finishes the job', async (t) => {
  const pristine = snapshotTree(copyFixture('kubeadm-1.26-expired'));
  let steps = 0;
  for (let n = 1; n < 500; n++) {
    const root = copyFixture('kubeadm-1.26-expired');
    const r = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: String(n) });
    if (r.signal === null) {
      assert.equal(r.code, 0, r.out);
      steps = n - 1;
      break;
    }
    assert.equal(r.signal, 'SIGKILL', r.out);
    assertConsistent(root, `killed at step ${n}`);
    if (n % 2 === 1) {
      const again = await cli(['renew', 'all', '--root', root, '--now', NOW]);
      assert.equal(again.code, 0, `renew after kill at ${n}: ${again.err}${again.out}`);
      const check = await cli(['check', '--root', root, '--now', NOW]);
      assert.equal(check.code, 0, `check after kill at ${n} + renew`);
    } else {
      const crashed = listBackups(path.join(root, 'var/lib/kubepki/backups')).find((b) => b.state === 'in-progress');
      if (crashed) {
        const rs = await cli(['restore', crashed.dir, '--root', root, '--now', NOW]);
        assert.equal(rs.code, 0, `restore after kill at ${n}: ${rs.err}`);
      }
      assert.deepEqual(snapshotTree(root), pristine, `killed at ${n}, then restore: every file as before`);
    }
    assertConsistent(root, `after recovery from step ${n}`);
  }
  assert.ok(steps > 30, `a whole-tree renewal has many write steps (${steps})`);
  t.diagnostic(`killed at each of ${steps} write steps`);
});

test('SIGKILL during renew all --new-key: at most one pair is mixed (one rename wide), and the next renew rolls it back first', async (t) => {
  let killed = 0;
  for (let n = 3; n < 500; n += 8) {
    const root = copyFixture('kubeadm-1.26-expired');
    const r = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, '--new-key'], { KUBEPKI_TEST_CRASH_AT: String(n) });
    if (r.signal === null) { assert.equal(r.code, 0, r.out); break; }
    assert.equal(r.signal, 'SIGKILL', r.out);
    killed++;
    const inv = readInventory({ fs: new NodeFs(root), now });
    const mixed = inv.certificates.filter((c) => c.privateKey.present && c.privateKey.matches === false).map((c) => c.name);
    assert.ok(mixed.length <= 1, `killed at ${n}: mixed pairs ${mixed.join(', ')}`);
    const again = await cli(['renew', 'all', '--root', root, '--now', NOW, '--new-key']);
    assert.equal(again.code, 0, again.err + again.out);
    if (listBackups(path.join(root, 'var/lib/kubepki/backups')).some((b) => b.state === 'recovered')) assert.match(again.out, /An interrupted run was rolled back first/);
    assertConsistent(root, `new-key, killed at ${n}, renewed`);
    assert.equal((await cli(['check', '--root', root, '--now', NOW])).code, 0);
  }
  assert.ok(killed >= 5);
  t.diagnostic(`--new-key killed at ${killed} steps (every 8th)`);
});

test('an interrupted run: check reports it (exit 2, interrupted-run); a copy of the tree recovers from its own backup and never touches the original', async () => {
  const a = copyFixture('kubeadm-1.26-expired');
  const r = await spawnCli(['renew', 'all', '--root', a, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(r.signal, 'SIGKILL', r.out);
  const checkA = await cli(['check', '--root', a, '--now', NOW]);
  assert.equal(checkA.code, 2);
  assert.match(checkA.out, /ERROR\s+interrupted-run\s+.*was interrupted .*kubepki restore /);
  // the copy: a lock and a backup that name the original's paths
  const b = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(b, { recursive: true });
  fs.cpSync(a, b, { recursive: true, verbatimSymlinks: true });
  const before = snapshotTree(a);
  const again = await cli(['renew', 'all', '--root', b, '--now', NOW]);
  assert.equal(again.code, 0, again.err + again.out);
  assert.match(again.out, new RegExp(`An interrupted run was rolled back first from ${b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.doesNotMatch(again.out, new RegExp(a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.deepEqual(snapshotTree(a), before, 'the original tree and its backup are untouched');
  assert.ok(listBackups(path.join(a, 'var/lib/kubepki/backups')).some((x) => x.state === 'in-progress'), 'the original still shows its interrupted run');
  assert.equal((await cli(['check', '--root', b, '--now', NOW])).code, 0);
  assertConsistent(b, 'the copy after renew');
});

test('a renew killed half way: renew --dry-run and check name the interrupted run first, with the restore that undoes it, and say that what they show is read from the files it left; that restore, run as printed, puts every file back, and the dry run then plans what the real run does', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  assert.notDeepEqual(snapshotTree(root), pristine, 'the run left some files changed');
  const name = listBackups(path.join(root, 'var/lib/kubepki/backups'))[0]!.name;
  const restore = `kubepki restore ${name} --root ${root}`;
  // the dry run: the run first, then the plan, then a reminder under it
  const dry = await cli(['renew', 'all', '--dry-run', '--root', root, '--now', NOW]);
  assert.equal(dry.code, 0, dry.err);
  const lines = dry.out.trimEnd().split('\n');
  assert.ok(lines[0]!.startsWith(`Interrupted run: a kubepki renew started 2026-11-23T00:00:00.000Z was interrupted and may have left some files changed and others not: put every file back as it was with ${restore} `), lines[0]);
  assert.match(lines[1]!, /^This dry run reads the files as that run left them, some changed and others not: a real run rolls it back first \(from \S+\) and reads them as they were before it/);
  assert.equal(lines.at(-1), `Note: shown from the files an interrupted kubepki renew left (see the top); put them back first with ${restore}, then dry-run again.`);
  // check: the run before the rows, and as Next
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(chk.code, 2);
  const clines = chk.out.split('\n');
  assert.ok(clines[0]!.startsWith(`INTERRUPTED RUN: a kubepki renew started 2026-11-23T00:00:00.000Z was interrupted `) && clines[0]!.includes(restore), clines[0]);
  assert.equal(clines[1], '(the rows below are read from the files as that run left them, some changed and others not)');
  const next = /^Next: (.*)$/m.exec(chk.out)?.[1] ?? '';
  assert.ok(next.startsWith('a kubepki renew started 2026-11-23T00:00:00.000Z was interrupted') && next.includes(restore), next);
  const json = JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out) as { next: string };
  assert.equal(json.next, next);
  // the restore, as printed, puts the tree back; nothing is marked any more
  const rs = await cli([...restore.split(' ').slice(1), '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.deepEqual(snapshotTree(root), pristine);
  const dry2 = await cli(['renew', 'all', '--dry-run', '--root', root, '--now', NOW]);
  assert.doesNotMatch(dry2.out, /Interrupted run|interrupted kubepki/);
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', NOW])).out, /INTERRUPTED RUN|interrupted-run/);
  // what the dry run now plans is what a real run plans on the killed tree once it has rolled the run back
  const other = copyFixture('kubeadm-1.26-expired');
  assert.equal((await spawnCli(['renew', 'all', '--root', other, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' })).signal, 'SIGKILL');
  const real = await cli(['renew', 'all', '--root', other, '--now', NOW]);
  assert.equal(real.code, 0, real.err);
  const files = (out: string) => out.split('\n').filter((l) => /^ {2}(write|create|link) /.test(l)).map((l) => l.replaceAll(root, 'ROOT').replaceAll(other, 'ROOT'));
  assert.deepEqual(files(dry2.out), files(real.out));
  assert.notDeepEqual(files(dry.out), files(real.out), 'the marked dry run was planned from the half-written files');
  // a lock held from another host: the dry run says what the real run does (refuse), not that it rolls back
  const third = copyFixture('kubeadm-1.26-expired');
  assert.equal((await spawnCli(['renew', 'all', '--root', third, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' })).signal, 'SIGKILL');
  const lockFile = path.join(third, 'var/lib/kubepki/kubepki.lock');
  fs.writeFileSync(lockFile, JSON.stringify({ ...(JSON.parse(fs.readFileSync(lockFile, 'utf8')) as object), host: 'node-a' }));
  const dry3 = await cli(['renew', 'all', '--dry-run', '--root', third, '--now', NOW]);
  assert.match(dry3.out, /^Interrupted run: a kubepki renew started \S+ holds this node's lock from another host, .*\nThis dry run reads the files as that run left them, some changed and others not: a real run is refused until that lock is removed\.$/m);
  assert.doesNotMatch(dry3.out, /rolls it back first/);
  const real3 = await cli(['renew', 'all', '--root', third, '--now', NOW]);
  assert.equal(real3.code, 3);
  assert.match(real3.err, /held by kubepki pid \d+ on node-a /);
});

test('a --backup-dir shared by two nodes: restore and crash recovery on node B never put back node A\'s files', async () => {
  const a = copyFixture('kubeadm-1.26-expired');
  const b = copyFixture('kubeadm-1.26');
  const shared = fs.mkdtempSync(path.join(path.dirname(a), 'shared-backups-'));
  // A's run is interrupted, its backup left in-progress in the shared directory
  const r = await spawnCli(['renew', 'all', '--root', a, '--now', NOW, '--backup-dir', shared], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(r.signal, 'SIGKILL', r.out);
  const before = snapshotTree(b);
  const again = await cli(['renew', 'front-proxy-client', '--root', b, '--now', NOW, '--backup-dir', shared]);
  assert.equal(again.code, 0, again.err + again.out);
  assert.doesNotMatch(again.out, /rolled back first/);
  const changed = [...snapshotTree(b)].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
  assert.deepEqual(changed, ['etc/kubernetes/pki/front-proxy-client.crt'], 'only what B renewed changed on B');
  assert.ok(listBackups(shared).some((x) => x.state === 'in-progress'), 'A\'s interrupted run is still there for A');
  // and restore by name from the shared directory refuses A's backup on B
  const aBackup = listBackups(shared).find((x) => x.state === 'in-progress')!;
  const rs = await cli(['restore', aBackup.name, '--root', b, '--now', NOW, '--backup-dir', shared]);
  assert.equal(rs.code, 3);
  assert.match(rs.err, /refusing to restore .*: it was made for --root /);
});

test('after a crash, check names the one command that undoes the run (kubepki restore NAME --root R), and that command puts every file back', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.equal(chk.code, 2);
  const found = (JSON.parse(chk.out) as { findings: { code: string; severity: string; message: string }[] }).findings.filter((f) => f.code === 'interrupted-run');
  assert.equal(found.length, 1, chk.out);
  assert.equal(found[0]!.severity, 'error');
  const cmd = /kubepki (restore \S+ --root \S+)/.exec(found[0]!.message)?.[1];
  assert.ok(cmd, found[0]!.message);
  const rs = await cli([...cmd.split(' '), '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.deepEqual(snapshotTree(root), pristine);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')));
  const after = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.deepEqual((JSON.parse(after.out) as { findings: { code: string }[] }).findings.filter((f) => f.code === 'interrupted-run'), []);
});

test('check pays one stat for interrupted runs on a node whose runs all finished, however many backups it keeps (it read every backup\'s manifest)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  for (let i = 0; i < 3; i++) assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const { interruptedRuns } = await import('../src/inventory/interrupted.js');
  const calls: string[] = [];
  const nfs = new NodeFs(root);
  const counting = new Proxy(nfs, {
    get(t, p, r) {
      const v = Reflect.get(t, p, r);
      return typeof v === 'function' ? (...a: unknown[]) => { calls.push(`${String(p)} ${String(a[0])}`); return (v as (...x: unknown[]) => unknown).apply(t, a); } : v;
    },
  });
  assert.deepEqual(interruptedRuns(counting), []);
  assert.deepEqual(calls, ['lstat /var/lib/kubepki/kubepki.lock']);
});

test('a run whose rollback failed keeps its lock: check reports the half-changed node, and the restore it names (or any next run) rolls it back', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = snapshotTree(root);
  const nfs = new NodeFs(root);
  const { lockNode, applyChanges } = await import('../src/apply/transaction.js');
  const crt = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
  const lock = lockNode(nfs, now);
  // the verification fails, and a directory now where the file was makes its rollback fail too
  const verify = () => { fs.rmSync(crt); fs.mkdirSync(crt); fs.writeFileSync(path.join(crt, 'x'), ''); throw new Error('verification failed'); };
  await assert.rejects(applyChanges(nfs, [{ op: 'write', path: '/etc/kubernetes/pki/apiserver.crt', content: Buffer.from('new') }], { action: 'renew', now, lock, verify }), /the rollback failed too/);
  lock.release();
  assert.ok(fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'the lock stays');
  fs.rmSync(crt, { recursive: true }); // the operator clears the way
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(chk.code, 2);
  assert.match(chk.out, /interrupted-run/);
  const name = listBackups(path.join(root, 'var/lib/kubepki/backups'))[0]!.name;
  assert.match(chk.out, new RegExp(`kubepki restore ${name} --root `));
  const rs = await cli(['restore', name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.match(rs.out, /An interrupted run was rolled back first/);
  assert.deepEqual(snapshotTree(root), before);
});

test('every command that changes the node says the same of an interrupted run: a dry run that a real run rolls it back, a real run that it did; -o json keeps stdout the document', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  for (const argv of [['rebuild', '--dry-run'], ['sa', 'rotate', '--dry-run'], ['restore', 'nowhere', '--dry-run'], ['renew', 'all', '--dry-run']]) {
    const r = await cli([...argv, '--root', root, '--now', NOW]);
    assert.match(r.out, /^Interrupted run: a kubepki renew started \S+ was interrupted .*\nThis dry run reads the files as that run left them, .*: a real run rolls it back first \(from \S+\)/, `${argv.join(' ')}: ${r.out}${r.err}`);
  }
  const dry = await cli(['sa', 'rotate', '--dry-run', '-o', 'json', '--root', root, '--now', NOW]);
  assert.equal(dry.code, 0, dry.err);
  JSON.parse(dry.out);
  assert.match(dry.err, /a real run rolls it back first/);
  assert.match(dry.err, /^Note: shown from the files an interrupted kubepki renew left/m);
  const real = await cli(['sa', 'rotate', '-o', 'json', '--root', root, '--now', NOW]);
  assert.equal(real.code, 0, real.err);
  JSON.parse(real.out);
  assert.match(real.err, /An interrupted run was rolled back first from /);
});

test('a failed rollback under --root names the restore with that --root: without it the command it gave ran against this machine\'s own / (and was refused there)', async () => {
  // 1. the run's own rollback fails: its hint
  const root = copyFixture('kubeadm-1.26-expired');
  const nfs = new NodeFs(root);
  const { lockNode, applyChanges } = await import('../src/apply/transaction.js');
  const crt = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
  const lock = lockNode(nfs, now);
  const verify = () => { fs.rmSync(crt); fs.mkdirSync(crt); fs.writeFileSync(path.join(crt, 'x'), ''); throw new Error('verification failed'); };
  await assert.rejects(applyChanges(nfs, [{ op: 'write', path: '/etc/kubernetes/pki/apiserver.crt', content: Buffer.from('new') }], { action: 'renew', now, lock, verify }),
    (e: Error & { hint?: string }) => /the rollback failed too/.test(e.message) && new RegExp(`kubepki restore \\S+ --root ${root}\``).test(e.hint ?? ''));
  lock.release();
  // 2. the next command's rollback of a killed run fails (a directory where a file goes back): its hint
  const b = copyFixture('kubeadm-1.26-expired');
  const k = await spawnCli(['renew', 'all', '--root', b, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  const bcrt = path.join(b, 'etc/kubernetes/pki/apiserver.crt');
  fs.rmSync(bcrt); fs.mkdirSync(bcrt); fs.writeFileSync(path.join(bcrt, 'x'), '');
  const r = await cli(['renew', 'all', '--root', b, '--now', NOW]);
  assert.equal(r.code, 3, r.err + r.out);
  assert.match(r.err, /failed to roll back 1 file/);
  assert.match(r.err, new RegExp(`kubepki restore \\S+ --root ${b}\``), r.err);
});

test('taking over a dead lock rolls back that run only: an older interrupted run already put right by hand (its lock removed as the hint says, its backup restored) is not rolled back again months later over the keys renewed since', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const lockFile = path.join(root, 'var/lib/kubepki/kubepki.lock');
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  // its pid reused by another process in this boot (pid 1 here): kubepki refuses, and says to remove the lock
  const dead = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as object;
  fs.writeFileSync(lockFile, JSON.stringify({ ...dead, pid: 1 }));
  const refused = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(refused.code, 3);
  // the hint names this tree's lock file (not the node path, which is this machine's own under --root) and the
  // restore that puts back what the run changed: once the lock is removed by hand, nothing else does
  const crashed = listBackups(path.join(root, 'var/lib/kubepki/backups')).find((b) => b.state === 'in-progress')!;
  const hint = `if no kubepki is running, remove ${lockFile}, then put back what that run changed: kubepki restore ${crashed.dir} --root ${root}`;
  assert.ok(refused.err.includes(hint), refused.err);
  // the same for a lock from another machine (the node's disk mounted here)
  fs.writeFileSync(lockFile, JSON.stringify({ ...dead, host: 'node-a' }));
  const other = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.ok(other.err.includes(`if that run is gone, remove ${lockFile}, then put back what that run changed: kubepki restore ${crashed.dir} --root ${root}`), other.err);
  fs.rmSync(lockFile);
  assert.equal((await cli(['restore', crashed.dir, '--root', root, '--now', NOW])).code, 0);
  // what the killed run had written beside its targets (new keys among them) goes with it, as its rollback does
  const temps = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.kubepki-\d+\.tmp$/.test(f));
  assert.deepEqual(temps, []);
  assert.equal((await cli(['renew', 'all', '--new-key', '--root', root, '--now', '2026-12-02T00:00:00Z'])).code, 0);
  const key = path.join(root, 'etc/kubernetes/pki/etcd/server.key');
  const renewedKey = fs.readFileSync(key);
  // later, a run killed while it copied its backup (no node file changed), and the next run takes its lock over
  const k2 = await spawnCli(['renew', 'apiserver', '--root', root, '--now', '2026-12-03T00:00:00Z'], { KUBEPKI_TEST_CRASH_AT: '1' });
  assert.equal(k2.signal, 'SIGKILL', k2.out);
  // nor do check and a dry run name the older run as one to restore or roll back (that restore would put its
  // old files back over the renewals since)
  const chk = await cli(['check', '--root', root, '--now', '2026-12-03T00:00:00Z']);
  assert.doesNotMatch(chk.out, /interrupted-run/);
  const dry = await cli(['renew', 'apiserver', '--dry-run', '--root', root, '--now', '2026-12-03T00:00:00Z']);
  assert.doesNotMatch(dry.out, /was interrupted/);
  const next = await cli(['renew', 'apiserver', '--root', root, '--now', '2026-12-03T00:00:00Z']);
  assert.equal(next.code, 0, `${next.err}${next.out}`.slice(0, 3000));
  assert.doesNotMatch(next.out, /An interrupted run was rolled back first/);
  assert.deepEqual(fs.readFileSync(key), renewedKey, 'etcd/server.key is the one renew --new-key made (nothing else holds it)');
});

// a kubepki in another PID namespace of this host (the node's and a hostNetwork pod's share its name; so do two
// pods') has a pid that is none, or another process, here: its lock looked dead, and was taken over, its backup
// rolled back under it, while it was still writing. Only a lock whose run is provably gone is taken over now.
test('a lock from another PID namespace, or another machine\'s boot, is refused, though its pid is not alive here; this namespace\'s with a dead pid is taken over, as are one an older kubepki wrote and one from an earlier boot of this machine', async () => {
  type Lock = { pid: number; host: string; boot?: string; pidNs?: string; machine?: string; since: string; backupDir: string };
  const me = thisRun();
  assert.match(me.pidNs ?? '', /^pid:\[\d+\]$/, 'Linux: /proc/self/ns/pid');
  assert.match(me.boot ?? '', /^[0-9a-f-]{36}$/, 'Linux: boot_id');
  for (const variant of ['as written', 'written by an older kubepki', 'written in an earlier boot of this machine'] as const) {
    const root = copyFixture('kubeadm-1.26-expired');
    const lockFile = path.join(root, 'var/lib/kubepki/kubepki.lock');
    const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
    assert.equal(k.signal, 'SIGKILL', k.out);
    const dead = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as Lock;
    // the killed run recorded where its pid means something: this host, this boot, this PID namespace
    assert.deepEqual([dead.host, dead.boot, dead.pidNs, dead.machine], [me.host, me.boot, me.pidNs, me.machine]);
    assert.ok(!pidAlive(dead.pid), `pid ${dead.pid} is gone`);
    const crashed = listBackups(path.join(root, 'var/lib/kubepki/backups')).find((b) => b.state === 'in-progress')!;
    const half = snapshotTree(root);
    const others: [string, Lock, RegExp][] = [
      ['another PID namespace', { ...dead, pidNs: 'pid:[4026539999]' }, new RegExp(`held by kubepki pid ${dead.pid} on \\S+ in another PID namespace \\(pid:\\[4026539999\\], this run's is pid:\\[\\d+\\]`)],
      ['another boot of another machine of that name', { ...dead, boot: '00000000-0000-4000-8000-000000000000', machine: 'f'.repeat(32) }, new RegExp(`held by kubepki pid ${dead.pid} on \\S+ in another boot \\(00000000-.* \\(machine-id f{32}, this one is [0-9a-f]{32}: another machine of that name\\)`)],
      ['another boot, no machine-id recorded', { ...(({ machine: _m, ...l }) => l)(dead), boot: '00000000-0000-4000-8000-000000000000' }, /in another boot \(00000000-.*machine-id not recorded/],
    ];
    for (const [what, lock, says] of others) {
      assert.equal(lockOwnerState(lock), 'elsewhere', what);
      fs.writeFileSync(lockFile, JSON.stringify(lock));
      const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
      assert.equal(r.code, 3, `${what}: ${r.err}${r.out}`.slice(0, 2000));
      assert.match(r.err, says, what);
      assert.ok(r.err.includes(`if that run is gone, remove ${lockFile}, then put back what that run changed: kubepki restore ${crashed.dir} --root ${root}`), r.err);
      assert.equal(r.err.trim().split('\n').length <= 2, true, `${what}: one line and its hint: ${r.err}`);
      assert.deepEqual(JSON.parse(fs.readFileSync(lockFile, 'utf8')), lock, `${what}: the lock is left as it is`);
      assert.equal(listBackups(path.join(root, 'var/lib/kubepki/backups')).find((b) => b.dir === crashed.dir)?.state, 'in-progress', `${what}: nothing rolled back`);
      assert.deepEqual(snapshotTree(root), half, `${what}: no node file changed`);
      // and check says the same: not that the next command rolls it back (it refuses), but what to do
      const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
      const found = (JSON.parse(chk.out) as { findings: { code: string; severity: string; message: string }[] }).findings.filter((f) => f.code === 'interrupted-run');
      assert.equal(found.length, 1, what);
      assert.equal(found[0]!.severity, 'error');
      assert.ok(found[0]!.message.includes(`where kubepki cannot tell whether it is still running; if it is not, some files may be changed and others not: remove ${lockFile}, then put every file back as it was with kubepki restore ${crashed.name} --root ${root}`), found[0]!.message);
    }
    // this namespace and boot, the pid dead (or a lock from before locks recorded them, this host's, the pid dead):
    // taken over as before, that run rolled back first
    const { boot: _b, pidNs: _n, machine: _m, ...older } = dead;
    // or one from an earlier boot of this machine (the power went mid-renew), even one a pod wrote, its pid alive
    // now as another process: every run of that boot is gone
    const rebooted = { ...dead, boot: '00000000-0000-4000-8000-000000000000', pidNs: 'pid:[4026539999]', pid: 1 };
    const lock = variant === 'as written' ? dead : variant === 'written by an older kubepki' ? older : rebooted;
    assert.equal(lockOwnerState(lock), 'dead', variant);
    fs.writeFileSync(lockFile, JSON.stringify(lock));
    const next = await cli(['renew', 'all', '--root', root, '--now', NOW]);
    assert.equal(next.code, 0, `${variant}: ${next.err}${next.out}`.slice(0, 2000));
    assert.ok(next.out.includes(`An interrupted run was rolled back first from ${crashed.dir}.`), next.out.slice(0, 2000));
    assertConsistent(root, `${variant}, taken over`);
  }
});
