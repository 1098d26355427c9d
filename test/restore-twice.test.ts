/** The same restore run twice: the second finds the tree as it was before the run, and changes nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { listBackups } from '../src/apply/transaction.js';
import { copyFixture, cli, snapshotTree, NOW } from './renew-support.js';

test('restore run twice: the second says there is nothing to restore and makes no backup; it rewrote every file, and its dry run offered "to undo only the latest run instead", which re-applied the renew', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pristine = snapshotTree(root);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const backups = path.join(root, 'var/lib/kubepki/backups');
  const [renew] = listBackups(backups);
  const first = await cli(['restore', renew!.name, '--root', root, '--now', NOW]);
  assert.equal(first.code, 0, first.out + first.err);
  assert.deepEqual(snapshotTree(root), pristine);
  const made = listBackups(backups).length;
  for (const extra of [['--dry-run'], []]) {
    const again = await cli(['restore', renew!.name, '--root', root, '--now', NOW, ...extra]);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(again.out, new RegExp(`^Nothing to restore: every file ${renew!.name} \\(renew of [^)]+\\) changed is already as it was before that run \\(and so is every file the later runs changed\\)\\.$`, 'm'));
    assert.doesNotMatch(again.out, /To undo only the latest run|^Restored/m);
  }
  assert.equal(listBackups(backups).length, made, 'no backup of nothing');
  assert.deepEqual(snapshotTree(root), pristine);
});

test('a restore that has something to put back still does so when other files are as they were', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pristine = snapshotTree(root);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const [renew] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  assert.equal((await cli(['restore', renew!.name, '--root', root, '--now', NOW])).code, 0);
  // the restore's own backup undone: the renew's files are back, and restoring the renew again has work to do
  const undo = listBackups(path.join(root, 'var/lib/kubepki/backups')).at(-1)!;
  assert.equal((await cli(['restore', undo.name, '--root', root, '--now', NOW])).code, 0);
  const r = await cli(['restore', renew!.name, '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^Restored\.$/m);
  assert.deepEqual(snapshotTree(root), pristine);
});
