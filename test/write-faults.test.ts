/**
 * The disk refusing part of a write (a file-size limit, `ulimit -f`, standing in for a full disk: write(2)
 * writes what fits, then fails): every file kubepki writes is all old or all new, the refusal is one line
 * naming the file, and nothing half made is left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { copyFixture, snapshotTree, tmp, NOW } from './renew-support.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** The CLI under a file-size limit of `kb` KiB (SIGXFSZ is ignored by Node: a write past it is EFBIG). */
function cliLimited(kb: number, args: string[]): { code: number | null; out: string; err: string } {
  const node = `${JSON.stringify(process.execPath)} --input-type=module -e ${JSON.stringify(`import { main } from ${JSON.stringify(MAIN)}; main(process.argv.slice(1));`)}`;
  const r = spawnSync('bash', ['-c', `ulimit -f ${kb}; exec ${node} "$@"`, 'bash', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Files under dir whose names say kubepki was writing them. */
function temps(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /kubepki-\d+\.tmp$|\.kubepki-(tmp|restore)$/.test(f));
}

test('ca export --force and join --out over an existing file, with too little room: exit 3, one line naming the file, the old file and its mode as they were (was: exit 0, the export cut at 1 KiB)', () => {
  const root = copyFixture('kubeadm-1.26');
  const dir = tmp('kubepki-out-');
  for (const [name, args] of [
    ['shared.yaml', ['ca', 'export', '--root', root, '--force', '--certificate-key', 'ab'.repeat(32)]],
    ['join.yaml', ['join', '--root', root, '--force', '--now', NOW]],
  ] as const) {
    const out = path.join(dir, name);
    fs.writeFileSync(out, 'what was there\n');
    fs.chmodSync(out, 0o640);
    const r = cliLimited(1, [...args, '--out', out]);
    assert.equal(r.code, 3, `${args[0]}: ${r.err}${r.out}`);
    assert.equal(r.err, `kubepki: failed to write ${out}: EFBIG\n  hint: the file is larger than this process may write (ulimit -f): raise the limit and run again\n`);
    assert.equal(fs.readFileSync(out, 'utf8'), 'what was there\n', `${name} untouched`);
    assert.equal(fs.statSync(out).mode & 0o777, 0o640);
    assert.deepEqual(temps(dir), [], 'no temp file left');
    // with room, the new file replaces it, 0600 (it holds the CA keys / a join token)
    const ok = cliLimited(1024, [...args, '--out', out]);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  }
});

test('renew, kubelet credentials and restore under file-size limits that stop them at each phase (backup copies, manifest, new files, the manifest that commits): all done or nothing changed, one line, no internal error, no temp files, no backup without a manifest (was: "the rollback failed too" with every file back)', async (t) => {
  const renewed = copyFixture('kubeadm-1.26-expired');
  assert.equal(cliLimited(1 << 20, ['renew', 'all', '--root', renewed, '--now', NOW]).code, 0);
  const backupName = fs.readdirSync(path.join(renewed, 'var/lib/kubepki/backups'))[0]!;
  const cases: [string[], number[], boolean][] = [
    [['renew', 'all'], [1, 2, 3, 5], false],
    // a new key per certificate: the manifest that records what the run left outgrows 8 KiB, after every file was written
    [['renew', 'all', '--new-key'], [8], false],
    [['kubelet', 'credentials', '--node', 'cp-1'], [1], false],
    [['restore', backupName], [1, 5], true],
  ];
  let refused = 0;
  for (const [args, limits, fromRenewed] of cases) {
    for (const kb of limits) {
      const root = copyFixture('kubeadm-1.26-expired');
      if (fromRenewed) { fs.rmSync(root, { recursive: true }); fs.cpSync(renewed, root, { recursive: true, verbatimSymlinks: true }); }
      const backups = () => fs.existsSync(path.join(root, 'var/lib/kubepki/backups')) ? fs.readdirSync(path.join(root, 'var/lib/kubepki/backups')) : [];
      const before = snapshotTree(root);
      const backupsBefore = backups();
      const r = cliLimited(kb, [...args, '--root', root, '--now', NOW]);
      const label = `${args.join(' ')} with ${kb} KiB`;
      assert.doesNotMatch(r.err, /internal error|rollback failed/, `${label}: ${r.err}`);
      assert.deepEqual(temps(root), [], `${label}: no temp file left`);
      for (const b of backups()) assert.ok(fs.existsSync(path.join(root, 'var/lib/kubepki/backups', b, 'manifest.json')), `${label}: backup ${b} has its manifest`);
      assert.ok(r.code === 2 || r.code === 3, `${label}: refused (exit ${r.code}): ${r.err}`);
      refused++;
      assert.match(r.err, /^kubepki: failed to .*EFBIG/, label);
      assert.equal(r.err.trimEnd().split('\n').length, 2, `${label}: one line and its hint: ${r.err}`);
      assert.deepEqual(snapshotTree(root), before, `${label}: every file as before`);
      assert.ok(backups().length - backupsBefore.length <= 1, label);
    }
  }
  t.diagnostic(`${refused} runs refused by the limit, each leaving the tree as it was`);
});

test('a backup that cannot be made (a full disk, a read-only mount, a file in the path): one line naming the path, exit 3, the node as it was, no backup left to offer', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a tmpfs'); return; }
  const { cli } = await import('./renew-support.js');
  const { listBackups } = await import('../src/apply/transaction.js');
  const mnt = tmp('kubepki-bdir-');
  const probe = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (probe.status !== 0) { t.skip(`mount: ${probe.stderr.trim()}`); return; }
  spawnSync('umount', [mnt]);
  const cases: { name: string; setup: () => string; code: RegExp }[] = [
    // (a full tmpfs: the first backup copy fails, ENOSPC)
    { name: 'full', setup: () => { spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]); spawnSync('dd', ['if=/dev/zero', `of=${mnt}/fill`, 'bs=4k']); return path.join(mnt, 'backups'); }, code: /ENOSPC/ },
    { name: 'read-only', setup: () => { spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', mnt]); return path.join(mnt, 'backups'); }, code: /EROFS/ },
    { name: 'a file in the path', setup: () => { fs.writeFileSync(path.join(mnt, 'afile'), 'x'); return path.join(mnt, 'afile', 'backups'); }, code: /ENOTDIR/ },
  ];
  for (const c of cases) {
    const root = copyFixture('kubeadm-1.26-expired');
    const before = snapshotTree(root);
    // (snapshotTree holds files' modes; this the directories' and links' too)
    const modesOf = () => fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('var/lib/kubepki')).map((f) => `${f} ${fs.lstatSync(path.join(root, f)).mode.toString(8)}`).join('\n');
    const modes = modesOf();
    try {
      const backups = c.setup();
      const r = await cli(['renew', 'all', '--backup-dir', backups, '--root', root, '--now', NOW]);
      assert.equal(r.code, 3, `${c.name}: ${r.err}`);
      assert.match(r.err, new RegExp(`^kubepki: failed to \\w+ ${mnt}/\\S*: ${c.code.source}\\n  hint: [^\\n]+\\n$`), c.name);
      assert.deepEqual(snapshotTree(root), before, `${c.name}: every file as before`);
      assert.equal(modesOf(), modes, `${c.name}: modes as before`);
      assert.deepEqual(listBackups(backups), [], `${c.name}: no partial backup`);
      // (nor the copies made before the failure: keys lying on the backup disk in a directory nothing lists)
      assert.deepEqual(fs.existsSync(backups) ? fs.readdirSync(backups) : [], [], `${c.name}: nothing left in ${backups}`);
      assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), `${c.name}: lock released`);
    } finally {
      spawnSync('umount', [mnt]);
      fs.rmSync(path.join(mnt, 'afile'), { force: true });
    }
  }
});
