/**
 * --backup-dir on every command that backs node files up before writing them: the backup goes there (nothing
 * in the tree's own backup directory), the printed restore puts every file back byte for byte and mode for
 * mode, the lock rolls back an interrupted run kept there, and a failed run leaves no directory it made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { listBackups } from '../src/apply/transaction.js';
import { memoryIo } from '../src/cli/io.js';
import { COMMANDS } from '../src/cli/commands.js';
import { backupDirOption } from '../src/cli/options.js';
import { BIN, FIXTURES, NOW, copyFixture, cli, inShell, spawnCli, snapshotTree, tmp } from './renew-support.js';

/** The certificate key of the recorded kubeadm-certs Secret (kubeadm-1.26's shared files). */
const KEY = '3537befb4f0e05e28ba5e8ae5766ed1b0c314721d7140c4c29bfbde4c16cdd7b';
const pki = (root: string, f: string) => path.join(root, 'etc/kubernetes/pki', f);

/** Each command that writes node files, on a fixture copy where it changes, creates and replaces files. */
const CASES: { name: string; fixture: string; prepare?: (root: string) => void; argv: (root: string) => string[] }[] = [
  { name: 'renew', fixture: 'kubeadm-1.26-expired', argv: (root) => ['renew', 'all', '--root', root, '--now', NOW] },
  {
    name: 'rebuild', fixture: 'kubeadm-1.26',
    prepare: (root) => { for (const f of ['apiserver.crt', 'apiserver.key']) fs.rmSync(pki(root, f)); },
    argv: (root) => ['rebuild', '--root', root, '--now', NOW],
  },
  {
    // another cluster's CA over this node's (--force): replaced files, created ones, a key whose mode changes
    name: 'ca import', fixture: 'kubeadm-1.26-expired',
    prepare: (root) => { for (const f of ['front-proxy-ca.crt', 'front-proxy-ca.key']) fs.rmSync(pki(root, f)); fs.chmodSync(pki(root, 'ca.key'), 0o644); },
    argv: (root) => ['ca', 'import', path.join(FIXTURES, 'apiserver/upload-certs.json'), '--certificate-key', KEY, '--force', '--root', root, '--now', NOW],
  },
  {
    name: 'sa rotate', fixture: 'kubeadm-1.26-expired',
    prepare: (root) => fs.chmodSync(pki(root, 'sa.key'), 0o644),
    argv: (root) => ['sa', 'rotate', '--root', root, '--now', NOW],
  },
  {
    name: 'kubelet credentials', fixture: 'kubeadm-1.26',
    argv: (root) => ['kubelet', 'credentials', '--node', 'cp-1', '--root', root, '--now', NOW],
  },
];

function setUp(c: (typeof CASES)[number]): string {
  const root = copyFixture(c.fixture);
  c.prepare?.(root);
  return root;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const defaultBackups = (root: string) => path.join(root, 'var/lib/kubepki/backups');

for (const c of CASES) {
  test(`${c.name} --backup-dir: the backup goes there, not into the tree, and the restore it prints undoes the run exactly`, async () => {
    const root = setUp(c);
    const before = snapshotTree(root);
    const bdir = path.join(tmp('kubepki-bdir-'), 'other-disk', 'backups');
    const r = await cli([...c.argv(root), '--backup-dir', bdir]);
    assert.equal(r.code, 0, r.err + r.out);
    const made = listBackups(bdir);
    assert.equal(made.length, 1, `one backup in --backup-dir: ${r.out}`);
    assert.equal(made[0]!.state, 'complete');
    assert.ok(!fs.existsSync(defaultBackups(root)), 'nothing in <root>/var/lib/kubepki/backups');
    assert.notDeepEqual(snapshotTree(root), before, 'the run changed the node');
    const undo = `kubepki restore ${made[0]!.name} --root ${root} --backup-dir ${bdir}`;
    assert.match(r.out, new RegExp(`^Backup: ${esc(made[0]!.dir)}  \\(undo with: ${esc(undo)}\\)$`, 'm'), r.out);
    const after = snapshotTree(root);
    // the printed command, as the operator runs it
    const rs = await cli([...undo.split(' ').slice(1), '--now', NOW]);
    assert.equal(rs.code, 0, rs.err + rs.out);
    assert.deepEqual(snapshotTree(root), before, 'every file back, bytes and mode; every file the run made gone');
    assert.ok(!fs.existsSync(defaultBackups(root)), 'restore kept its own backup in --backup-dir too');
    assert.deepEqual(listBackups(bdir).map((b) => b.action), [made[0]!.action, 'restore']);
    // backups lists both, in columns: each STATE under its header, whatever the action's length
    const list = await cli(['backups', '--root', root, '--backup-dir', bdir]);
    const rows = list.out.split('\n').slice(0, 3);
    const col = rows[0]!.indexOf('STATE');
    assert.deepEqual(rows.slice(1).map((l) => l.slice(col).split(/\s+/)[0]), ['complete', 'complete'], list.out);
    assert.match(list.out, new RegExp(`put one back with \`${esc(`kubepki restore NAME --root ${root} --backup-dir ${bdir}`)}\``));
    // restore, a command that writes node files, ends with the same line (the README says so): the wrong backup
    // restored is undone by the command it prints
    const [, restored] = listBackups(bdir);
    const undoRestore = `kubepki restore ${restored!.name} --root ${root} --backup-dir ${bdir}`;
    assert.match(rs.out, new RegExp(`^Backup: ${esc(restored!.dir)}  \\(undo with: ${esc(undoRestore)}\\)$`, 'm'), rs.out);
    const back = await cli([...undoRestore.split(' ').slice(1), '--now', NOW]);
    assert.equal(back.code, 0, back.err + back.out);
    assert.deepEqual(snapshotTree(root), after, 'undoing the restore gives the tree the run left');
  });

  test(`${c.name} --backup-dir: the node lock rolls back an interrupted run kept in that directory first`, async () => {
    const root = setUp(c);
    const before = snapshotTree(root);
    const bdir = path.join(tmp('kubepki-bdir-'), 'backups');
    const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, '--backup-dir', bdir], { KUBEPKI_TEST_CRASH_AT: '30' });
    assert.equal(crashed.signal, 'SIGKILL', crashed.out);
    assert.notDeepEqual(snapshotTree(root), before, 'the killed renew left files half renewed');
    const [interrupted] = listBackups(bdir);
    assert.equal(interrupted?.state, 'in-progress');
    const r = await cli([...c.argv(root), '--backup-dir', bdir]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, new RegExp(`^An interrupted run was rolled back first from ${esc(interrupted!.dir)}\\.$`, 'm'));
    assert.equal(listBackups(bdir).find((b) => b.dir === interrupted!.dir)?.state, 'recovered');
    // and what the run backed up is the tree as it was before the killed renew: restoring gives exactly that
    const mine = listBackups(bdir).find((b) => b.dir !== interrupted!.dir)!;
    const rs = await cli(['restore', mine.name, '--root', root, '--backup-dir', bdir, '--now', NOW]);
    assert.equal(rs.code, 0, rs.err + rs.out);
    assert.deepEqual(snapshotTree(root), before);
  });

  test(`${c.name} --backup-dir: a run that fails in its backup removes the --backup-dir it made, and changes nothing`, async () => {
    const root = setUp(c);
    const before = snapshotTree(root);
    const base = tmp('kubepki-bdir-');
    const bdir = path.join(base, 'made', 'backups');
    // (step 1: the first backup copy, or the manifest where the run only creates files)
    for (const step of ['1']) {
      const r = await cli([...c.argv(root), '--backup-dir', bdir], { KUBEPKI_TEST_FAIL_AT: step });
      assert.equal(r.code, 3, `step ${step}: ${r.err}${r.out}`);
      assert.match(r.err, new RegExp(`^kubepki: failed to write ${esc(bdir)}/\\S+: EIO\\n  hint: `), r.err);
      assert.deepEqual(snapshotTree(root), before, `step ${step}: every file as before`);
      assert.ok(!fs.existsSync(path.join(base, 'made')), `step ${step}: the directories the run made for its backup are gone`);
      assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki')), `step ${step}: nothing made in the tree either (lock released)`);
    }
  });
}

test('--backup-dir is one option, with one text, on every command that backs up node files and on backups', async () => {
  const want = backupDirOption().description;
  const found = new Map<string, string>();
  const walk = (cmd: Command, words: string[]) => {
    const o = cmd.options.find((x) => x.long === '--backup-dir');
    if (o) found.set(words.join(' '), o.description);
    for (const sub of cmd.commands) walk(sub, [...words, sub.name()]);
  };
  for (const spec of COMMANDS) walk((await spec.load()).command(memoryIo()), [spec.name]);
  assert.deepEqual([...found.keys()].sort(), ['backups', 'ca import', 'kubelet credentials', 'rebuild', 'renew', 'restore', 'sa rotate']);
  for (const [words, text] of found) assert.equal(text, want, `kubepki ${words} --help`);
});

test('kubelet credentials: --backup-dir with --out (which replaces nothing) is refused, nothing written', async () => {
  const root = copyFixture('kubeadm-1.26');
  const before = snapshotTree(root);
  const base = tmp('kubepki-bdir-');
  const r = await cli(['kubelet', 'credentials', '--node', 'worker-1', '--root', root, '--now', NOW, '--out', path.join(base, 'out'), '--backup-dir', path.join(base, 'b')]);
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /^kubepki: --backup-dir has no use with --out/);
  assert.deepEqual(fs.readdirSync(base), []);
  assert.deepEqual(snapshotTree(root), before);
});

// check after a crash of a run that kept its backup elsewhere: it looked only in the tree's own backups, so the
// half-renewed node got no interrupted-run error, and the restore it names must carry that --backup-dir
test('check names an interrupted run whose backup is in a --backup-dir, with the restore that undoes it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = snapshotTree(root);
  const bdir = path.join(tmp('kubepki-bdir-'), 'backups');
  const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, '--backup-dir', bdir], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.out);
  const [interrupted] = listBackups(bdir);
  assert.equal(interrupted?.state, 'in-progress');
  const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  assert.equal(chk.code, 2, chk.err);
  const finding = JSON.parse(chk.out).findings.find((f: { code: string }) => f.code === 'interrupted-run');
  assert.ok(finding, chk.out.slice(0, 2000));
  assert.equal(finding.severity, 'error');
  // (a node path, as every finding's file: the backup outside the tree has none, the lock that names it has)
  assert.equal(finding.file, '/var/lib/kubepki/kubepki.lock');
  const cmd = /kubepki (restore \S+ --root \S+ --backup-dir \S+)/.exec(finding.message)?.[1];
  assert.equal(cmd, `restore ${interrupted!.name} --root ${root} --backup-dir ${bdir}`, finding.message);
  const rs = await cli([...cmd!.split(' '), '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.deepEqual(snapshotTree(root), before, 'the command check named put the tree back');
  assert.doesNotMatch((await cli(['check', '--root', root, '--now', NOW])).out, /interrupted-run/);
});

// check -o json names files as they are on the node (not under --root), but an interrupted run's file was the
// host path of its backup when that was in a --backup-dir, and the node path otherwise
test('interrupted-run\'s file is a node path wherever the run kept its backup; the message names the backup as the operator reaches it', async () => {
  const base = tmp('kubepki-bdir-');
  const cases: { name: string; backupDir?: (root: string) => string; file: (root: string, dir: string) => string }[] = [
    { name: 'the tree\'s own backups', file: (_root, dir) => `/var/lib/kubepki/backups/${path.basename(dir)}` },
    { name: 'a --backup-dir inside the tree', backupDir: (root) => path.join(root, 'srv/kubepki-backups'), file: (root, dir) => `/${path.relative(root, dir)}` },
    { name: 'a --backup-dir outside the tree', backupDir: () => path.join(base, 'outside'), file: () => '/var/lib/kubepki/kubepki.lock' },
  ];
  for (const c of cases) {
    const root = copyFixture('kubeadm-1.26-expired');
    const bdir = c.backupDir?.(root);
    const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, ...(bdir ? ['--backup-dir', bdir] : [])], { KUBEPKI_TEST_CRASH_AT: '30' });
    assert.equal(crashed.signal, 'SIGKILL', crashed.out);
    const [run] = listBackups(bdir ?? path.join(root, 'var/lib/kubepki/backups'));
    assert.equal(run?.state, 'in-progress', c.name);
    const found = (JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out) as { findings: { code: string; file?: string; message: string }[] }).findings.filter((f) => f.code === 'interrupted-run');
    assert.equal(found.length, 1, c.name);
    assert.equal(found[0]!.file, c.file(root, run!.dir), c.name);
    assert.ok(!found[0]!.file!.startsWith(root), `${c.name}: not under --root`);
    assert.ok(found[0]!.message.includes(`kubepki restore ${run!.name} --root ${root}${bdir ? ` --backup-dir ${bdir}` : ''} `), `${c.name}: ${found[0]!.message}`);
  }
});

// a tree copied with its lock (a disk image, a copy to try a fix on) names the original's run kept in a
// --backup-dir: check on the copy reported that run, with a restore that restore then refused (made for the
// original's --root), though the next run on the copy rightly leaves it alone; check now decides as the lock does
test('check on a copy of a tree whose interrupted run kept its backup in a --backup-dir reports no run of the original', async () => {
  const a = copyFixture('kubeadm-1.26-expired');
  const bdir = path.join(tmp('kubepki-bdir-'), 'backups');
  const crashed = await spawnCli(['renew', 'all', '--root', a, '--now', NOW, '--backup-dir', bdir], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.out);
  const b = path.join(tmp('kubepki-copy-'), 'node');
  fs.cpSync(a, b, { recursive: true, verbatimSymlinks: true });
  assert.ok(fs.existsSync(path.join(b, 'var/lib/kubepki/kubepki.lock')), 'the copy has the lock');
  const findings = async (root: string) => (JSON.parse((await cli(['check', '--root', root, '--now', NOW, '-o', 'json'])).out) as { findings: { code: string; message: string }[] }).findings.filter((f) => f.code === 'interrupted-run');
  assert.deepEqual(await findings(b), [], 'the copy has no run of its own to restore');
  // the original still reports its run, with the restore that undoes it there
  const [orig] = await findings(a);
  assert.match(orig?.message ?? '', new RegExp(`kubepki restore \\S+ --root ${esc(a)} --backup-dir ${esc(bdir)} `));
  // as the next run on the copy decides: nothing of the original rolled back, its backup still in-progress
  const next = await cli(['renew', 'front-proxy-client', '--root', b, '--now', NOW]);
  assert.equal(next.code, 0, next.err + next.out);
  assert.doesNotMatch(next.out, /rolled back first/);
  assert.deepEqual(listBackups(bdir).map((x) => x.state), ['in-progress']);
});

// The restore a run prints is run as printed, in a shell, from another directory: a --root or --backup-dir
// with a space (or a quote) in it was printed bare, and the shell split it into other arguments (inShell)
test('the undo line and check\'s interrupted-run restore run as printed, from another directory, with spaces and quotes in --root and --backup-dir', async () => {
  const base = tmp('kubepki-bdir-');
  const root = path.join(base, "node's disk");
  fs.cpSync(copyFixture('kubeadm-1.26-expired'), root, { recursive: true, verbatimSymlinks: true });
  const before = snapshotTree(root);
  const there = path.join(base, 'ops dir');
  const elsewhere = path.join(base, 'elsewhere');
  for (const d of [there, elsewhere]) fs.mkdirSync(d);
  // a relative --backup-dir, given from one directory, is printed as the one it named
  const r = spawnSync(process.execPath, [BIN, 'renew', 'all', '--root', root, '--now', NOW, '--backup-dir', 'my backups'], { cwd: there, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const undo = /\(undo with: (kubepki restore .*)\)$/m.exec(r.stdout)?.[1];
  assert.ok(undo, r.stdout);
  const rs = inShell(elsewhere, undo!);
  assert.equal(rs.status, 0, `${undo}\n${rs.stderr}${rs.stdout}`);
  assert.deepEqual(snapshotTree(root), before, 'the printed restore put the tree back');
  assert.deepEqual(listBackups(path.join(there, 'my backups')).map((b) => b.action), ['renew', 'restore']);

  // killed half way: check names the restore, which runs as printed too
  const bdir = path.join(base, 'other disk', 'backups');
  const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, '--backup-dir', bdir], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.out);
  const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const finding = JSON.parse(chk.out).findings.find((f: { code: string }) => f.code === 'interrupted-run');
  const named = / with (kubepki restore .*) \(any kubepki command/.exec(finding?.message ?? '')?.[1];
  assert.ok(named, chk.out.slice(0, 2000));
  const rs2 = inShell(elsewhere, named!);
  assert.equal(rs2.status, 0, `${named}\n${rs2.stderr}${rs2.stdout}`);
  assert.deepEqual(snapshotTree(root), before, 'the restore check named put the tree back');
});

// the dry run an operator runs first says what the real run will roll back: a run killed with --backup-dir is
// rolled back by a later run given none (the lock names its backup), but the dry run looked only in the tree's
// own backups and said nothing, its plan made against the half-renewed files
test('a dry run without --backup-dir names the interrupted --backup-dir run that the real run rolls back', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const bdir = path.join(tmp('kubepki-bdir-'), 'backups');
  const crashed = await spawnCli(['renew', 'all', '--root', root, '--now', NOW, '--backup-dir', bdir], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.out);
  const [interrupted] = listBackups(bdir);
  assert.equal(interrupted?.state, 'in-progress');
  for (const argv of [['renew', 'all'], ['sa', 'rotate'], ['rebuild']]) {
    const dry = await cli([...argv, '--root', root, '--now', NOW, '--dry-run']);
    assert.match(dry.out, new RegExp(`^This dry run reads the files as that run left them, .*: a real run rolls it back first \\(from ${esc(interrupted!.dir)}\\) `, 'm'), `${argv.join(' ')}: ${dry.err}${dry.out}`);
  }
  const real = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(real.code, 0, real.err + real.out);
  assert.match(real.out, new RegExp(`^An interrupted run was rolled back first from ${esc(interrupted!.dir)}\\.$`, 'm'));
});

// a --backup-dir inside a directory check reads all the way down: check then listed the backup's old copies as
// the node's (EXPIRED, exit 2), and renew all planned to renew them, writing into the backup it should undo with
test('a --backup-dir inside the pki directory (or a link to it) is refused before anything is written', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = snapshotTree(root);
  const base = tmp('kubepki-bdir-');
  fs.symlinkSync(path.join(root, 'etc/kubernetes/pki'), path.join(base, 'pki-link'));
  for (const bdir of [path.join(root, 'etc/kubernetes/pki/kubepki-backups'), path.join(root, 'etc/kubernetes/pki'), path.join(base, 'pki-link', 'old')]) {
    for (const c of CASES) {
      const r = await cli([...c.argv(root), '--backup-dir', bdir]);
      assert.equal(r.code, 3, `${c.name} ${bdir}: ${r.err}${r.out}`);
      assert.match(r.err, /^kubepki: --backup-dir \S+ is inside \/etc\/kubernetes\/pki \(under --root \S+\), where kubepki reads the node's certificates: .*\n  hint: give a directory outside it/, r.err);
      assert.deepEqual(snapshotTree(root), before, `${c.name}: nothing written`);
      assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/pki/kubepki-backups')) && !fs.existsSync(path.join(root, 'var/lib/kubepki')));
    }
  }
  // a directory beside it is fine, and check reads nothing of the backup there
  const beside = path.join(root, 'etc/kubernetes/kubepki-backups');
  const ok = await cli(['renew', 'all', '--root', root, '--now', NOW, '--backup-dir', beside]);
  assert.equal(ok.code, 0, ok.err + ok.out);
  const chk = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(chk.code, 0, chk.out);
  assert.doesNotMatch(chk.out, /kubepki-backups/);
});

// rebuild -o json named the files it wrote but not its backup (the text's Backup line; sa rotate's JSON has
// `backup`): a script running it had no way to the restore that undoes it
test('rebuild -o json names its backup, as sa rotate\'s does, and restoring it undoes the rebuild', async () => {
  const c = CASES.find((x) => x.name === 'rebuild')!;
  const root = setUp(c);
  const before = snapshotTree(root);
  const bdir = path.join(tmp('kubepki-bdir-'), 'backups');
  const r = await cli([...c.argv(root), '--backup-dir', bdir, '-o', 'json']);
  assert.equal(r.code, 0, r.err + r.out);
  const doc = JSON.parse(r.out) as { written: string[]; backup?: string };
  assert.ok(doc.written.length > 0);
  assert.equal(doc.backup, listBackups(bdir)[0]?.dir, r.out.slice(-500));
  const rs = await cli(['restore', doc.backup!, '--root', root, '--backup-dir', bdir, '--now', NOW]);
  assert.equal(rs.code, 0, rs.err + rs.out);
  assert.deepEqual(snapshotTree(root), before);
});

test('backups of a --backup-dir nodes share names each run\'s host: the list was every node\'s runs by their time alone, and only this node\'s can be restored here', async () => {
  const bdir = path.join(tmp('kubepki-bdir-'), 'shared');
  const mine = copyFixture('kubeadm-1.26');
  const theirs = copyFixture('kubeadm-1.26');
  assert.equal((await cli(['renew', 'apiserver', '--root', mine, '--now', NOW, '--backup-dir', bdir])).code, 0);
  assert.equal((await cli(['renew', 'apiserver', '--root', theirs, '--now', '2026-11-23T01:00:00Z', '--backup-dir', bdir])).code, 0);
  const [, other] = listBackups(bdir);
  // (the second run as another node's: every node of a cluster is --root /, so the host is what tells them apart)
  const file = path.join(other!.dir, 'manifest.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), host: 'cp-2.example' }, null, 2));
  const r = await cli(['backups', '--backup-dir', bdir]);
  assert.equal(r.code, 0, r.err);
  const here = os.hostname();
  assert.match(r.out, /^BACKUP {16}HOST +ACTION  STATE/);
  assert.match(r.out, new RegExp(`^2026-11-23T00-00-00Z  ${esc(here)} +renew `, 'm'));
  assert.match(r.out, /^2026-11-23T01-00-00Z  cp-2\.example +renew /m);
  const json = JSON.parse((await cli(['backups', '--backup-dir', bdir, '-o', 'json'])).out) as { items: { host?: string }[] };
  assert.deepEqual(json.items.map((i) => i.host), [here, 'cp-2.example']);
  // one node's own backups only: no HOST column
  assert.equal((await cli(['renew', 'apiserver', '--root', mine, '--now', NOW])).code, 0);
  const own = await cli(['backups', '--root', mine]);
  assert.match(own.out, /^BACKUP {16}ACTION  STATE/, own.out);
});
