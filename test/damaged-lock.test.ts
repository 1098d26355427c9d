// A run killed half way whose backup's manifest.json is damaged: nothing can tell which files it changed, nor roll
// them back. Its backup was skipped as if there were none: the next command took the dead lock over and renewed on
// top of the half-changed node, and check said nothing. Now check reports it and every command that writes refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { listBackups } from '../src/apply/transaction.js';
import { lockedRunBackups } from '../src/apply/state.js';
import { copyFixture, cli, snapshotTree, spawnCli, tmp, NOW } from './renew-support.js';

type Finding = { code: string; severity: string; file?: string; message: string };

/** Every file under DIR (kubepki's own state included: the lock, the backups and their manifests), by content. */
function snapshotAll(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of (fs.readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const p = path.join(dir, f);
    const st = fs.lstatSync(p);
    out.set(f, st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : 'dir');
  }
  return out;
}

async function interrupted(root: string): Promise<{ code: number; found: Finding[]; next: string }> {
  const chk = await cli(['check', '--root', root, '--now', NOW, '-o', 'json']);
  const doc = JSON.parse(chk.out) as { findings: Finding[]; next: string };
  return { code: chk.code, found: doc.findings.filter((f) => f.code === 'interrupted-run'), next: doc.next };
}

test('a killed renew whose backup manifest is damaged: check reports it (exit 2), every command that writes refuses it in one line (exit 3) and writes nothing; once the operator has put it right and removed the lock, renew runs', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const state = path.join(root, 'var/lib/kubepki');
  const lockFile = path.join(state, 'kubepki.lock');
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '40' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  const half = snapshotTree(root);
  assert.notDeepEqual(half, pristine, 'the killed run left some files changed');
  const run = listBackups(path.join(state, 'backups')).find((b) => b.state === 'in-progress')!;
  const manifest = path.join(run.dir, 'manifest.json');
  const whole = fs.readFileSync(manifest, 'utf8');
  const deadLock = fs.readFileSync(lockFile);

  for (const [what, text, why] of [
    ['cut short', whole.slice(0, Math.floor(whole.length / 2)), 'manifest.json is not valid JSON (damaged)'],
    ['garbage', '\u0000\u0000\u0000\u0000', 'manifest.json is not valid JSON (damaged)'],
    ['not a kubepki backup', '{"hello": "world"}', 'manifest.json is not a kubepki backup'],
  ] as const) {
    fs.writeFileSync(manifest, text);
    const before = snapshotAll(root);
    // check: an error naming the backup and what to do, first in the table and as Next
    const { code, found, next } = await interrupted(root);
    assert.equal(code, 2, what);
    assert.equal(found.length, 1, `${what}: ${JSON.stringify(found)}`);
    assert.equal(found[0]!.severity, 'error');
    assert.equal(found[0]!.file, `/var/lib/kubepki/backups/${run.name}`);
    // (the backup and the lock where the operator reaches them: under --root, in the tree)
    const says = `left backup ${run.dir}, which cannot be read (${why})`;
    assert.ok(found[0]!.message.includes(says), found[0]!.message);
    assert.ok(found[0]!.message.includes(`under ${run.dir}/files, each at its node path: put them back by hand, then remove ${lockFile}`), found[0]!.message);
    assert.ok(found[0]!.message.includes(`restore an older backup: kubepki backups --root ${root}`), found[0]!.message);
    assert.doesNotMatch(found[0]!.message, /kubepki restore /, `${what}: no restore of a backup that cannot be read`);
    assert.ok(next.startsWith(found[0]!.message), next);
    const table = await cli(['check', '--root', root, '--now', NOW]);
    assert.equal(table.code, 2);
    assert.ok(table.out.startsWith(`INTERRUPTED RUN: a kubepki run was interrupted and ${says}`), table.out.slice(0, 500));
    // the real run: one line and its hint, exit 3; the tree, the lock and the backup as they were, no guard left
    const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
    assert.equal(r.code, 3, `${what}: ${r.err}${r.out}`.slice(0, 2000));
    assert.equal(r.out, '');
    assert.equal(r.err,
      `kubepki: the interrupted kubepki run that holds ${lockFile} left backup ${run.dir}, which cannot be read (${why}): kubepki cannot tell which files it changed\n` +
      `  hint: its copies of the files it was to change are under ${run.dir}/files, each at its node path: put them back by hand, then remove ${lockFile} (or remove it and restore an older backup: kubepki backups --root ${root})\n`);
    assert.deepEqual(snapshotTree(root), half, `${what}: no node file changed`);
    assert.deepEqual(fs.readFileSync(lockFile), deadLock, `${what}: the lock is left as it is`);
    assert.deepEqual(snapshotAll(root), before, `${what}: nothing written (no guard file, no backup, no manifest marked)`);
    // the dry run says the real run refuses (not that it rolls the run back), and what to do
    const dry = await cli(['renew', 'all', '--dry-run', '--root', root, '--now', NOW]);
    assert.equal(dry.code, 0, dry.err);
    assert.ok(dry.out.startsWith(`Interrupted run: a kubepki run was interrupted and ${says}`), dry.out.slice(0, 500));
    assert.match(dry.out, /\nThis dry run reads the files as that run left them, some changed and others not: a real run is refused until that lock is removed\.\n/);
    assert.doesNotMatch(dry.out, /rolls it back first/);
    assert.ok(dry.out.trimEnd().endsWith(`put them back by hand from ${run.dir}/files and remove the lock first, then dry-run again.`), dry.out.slice(-500));
    // and the reason is the one kubepki backups gives
    const listed = await cli(['backups', '--root', root]);
    assert.ok(listed.out.includes(`  ${run.name}: ${why}; what that run replaced is in ${run.dir}/files\n`), listed.out);
  }

  // a run that is still going (its pid alive here) is reported as such, not as an error; its lock is refused as
  // before, the hint saying what a damaged backup leaves to do by hand
  const dead = JSON.parse(deadLock.toString('utf8')) as { pid: number; host: string };
  fs.writeFileSync(lockFile, JSON.stringify({ ...dead, pid: 1 }));
  const alive = await interrupted(root);
  assert.deepEqual(alive.found.map((f) => [f.severity, f.message]), [['info', `a kubepki run is changing this node right now (backup /var/lib/kubepki/backups/${run.name}); check again when it has finished`]]);
  const busy = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(busy.code, 3);
  assert.match(busy.err, /is already changing this node since /);
  assert.ok(busy.err.includes(`remove ${lockFile}, then put back by hand what that run changed: its backup ${run.dir} cannot be read (manifest.json is not a kubepki backup)`), busy.err);
  // a lock from another host: an error that says both (it may be running there; its backup cannot be read)
  fs.writeFileSync(lockFile, JSON.stringify({ ...dead, host: 'node-a' }));
  const away = await interrupted(root);
  assert.equal(away.code, 2);
  assert.equal(away.found.length, 1);
  assert.equal(away.found[0]!.severity, 'error');
  assert.match(away.found[0]!.message, /^a kubepki run holds this node's lock from another host, boot or PID namespace \(pid \d+ on node-a\), where kubepki cannot tell whether it is still running, and its backup \S+ cannot be read \(manifest.json is not a kubepki backup\): if that run is gone, .*put them back by hand, then remove /);
  const refused = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /held by kubepki pid \d+ on node-a /);
  assert.ok(refused.err.includes(`its backup ${run.dir} cannot be read`), refused.err);
  assert.deepEqual(snapshotTree(root), half);

  // the operator puts the files back by hand and removes the lock: renew runs, and rolls nothing back
  for (const f of fs.readdirSync(path.join(run.dir, 'files'), { recursive: true }) as string[]) {
    const from = path.join(run.dir, 'files', f);
    if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(root, f));
  }
  fs.rmSync(lockFile);
  assert.deepEqual((await interrupted(root)).found, []);
  const again = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(again.code, 0, `${again.err}${again.out}`.slice(0, 2000));
  assert.doesNotMatch(again.out, /rolled back first/);
  assert.equal(fs.readFileSync(manifest, 'utf8'), '{"hello": "world"}', 'the damaged backup is left as it is, for the operator');
  assert.ok(!fs.existsSync(lockFile));
});

test('a run killed while it copied its backup (no manifest.json yet, no node file changed) is still taken over in silence, its half-made backup removed; check says nothing of it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const backups = path.join(root, 'var/lib/kubepki/backups');
  const k = await spawnCli(['renew', 'all', '--root', root, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '2' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  const [halfMade] = fs.readdirSync(backups);
  assert.ok(halfMade && !fs.existsSync(path.join(backups, halfMade, 'manifest.json')));
  assert.deepEqual(snapshotTree(root), pristine);
  assert.deepEqual((await interrupted(root)).found, []);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  // (the new run's backup has the same name: the same --now)
  assert.deepEqual(fs.readdirSync(backups), [halfMade], 'the half-made backup is gone, the new run\'s in its place');
  assert.deepEqual(listBackups(backups).map((b) => b.state), ['complete']);
});

test('lockedRunBackups: a damaged manifest is returned with why when the backup is this tree\'s (its own backups, the command\'s --backup-dir, or anywhere for the node itself, root /); no manifest.json, or another tree\'s, is skipped', () => {
  const base = tmp('kubepki-damaged-');
  const tree = path.join(base, 'tree');
  const ownDir = path.join(tree, 'var/lib/kubepki/backups');
  const elsewhere = path.join(base, 'elsewhere');
  const make = (dir: string, manifest?: string) => {
    fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
    if (manifest !== undefined) fs.writeFileSync(path.join(dir, 'manifest.json'), manifest);
    return dir;
  };
  const read = (dir: string): { state?: unknown; root?: unknown } => {
    let text: string;
    try { text = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'); } catch (e) { throw new Error(`failed to read backup ${dir}: ${(e as Error).message}`); }
    try { return JSON.parse(text) as { state?: unknown; root?: unknown }; } catch { throw new Error(`failed to read backup ${dir}: manifest.json is not valid JSON (damaged)`); }
  };
  const own = make(path.join(ownDir, 'A'), '{"state": "in-pro');
  const where = { root: tree, ownDir, backupRoot: ownDir };
  assert.deepEqual(lockedRunBackups(where, own, read), [{ dir: own, damaged: 'manifest.json is not valid JSON (damaged)' }]);
  // the lock copied with the tree names the original's path: the copy's own backup of that name is found
  assert.deepEqual(lockedRunBackups(where, '/somewhere/else/var/lib/kubepki/backups/A', read).map((r) => r.dir), [own]);
  // no manifest.json: skipped (takeLock removes that half-made directory)
  assert.deepEqual(lockedRunBackups(where, make(path.join(ownDir, 'B')), read), []);
  // a --backup-dir outside the tree: the command's own is this tree's; the one a lock names elsewhere only for root /
  const other = make(path.join(elsewhere, 'C'), 'garbage');
  assert.deepEqual(lockedRunBackups({ ...where, backupRoot: elsewhere }, other, read), [{ dir: other, damaged: 'manifest.json is not valid JSON (damaged)' }]);
  assert.deepEqual(lockedRunBackups(where, other, read), [], 'a lock copied with a tree names the original\'s backup');
  assert.deepEqual(lockedRunBackups({ ...where, root: '/' }, other, read), [{ dir: other, damaged: 'manifest.json is not valid JSON (damaged)' }]);
  // a readable one as before: in-progress and this tree's
  const ok = make(path.join(elsewhere, 'D'), JSON.stringify({ state: 'in-progress', root: tree }));
  assert.deepEqual(lockedRunBackups(where, ok, read), [{ dir: ok, m: { state: 'in-progress', root: tree } }]);
  make(path.join(elsewhere, 'E'), JSON.stringify({ state: 'complete', root: tree }));
  assert.deepEqual(lockedRunBackups(where, path.join(elsewhere, 'E'), read), []);
});
