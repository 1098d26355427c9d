/**
 * restore and files changed since the run by something other than kubepki (the kubelet rotating its pair, `kubeadm
 * certs renew`, an operator's edit): named, and put back over only with --overwrite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBackups } from '../src/apply/transaction.js';
import { copyFixture, cli, snapshotTree, NOW } from './renew-support.js';

const LATER = '2026-12-01T00:00:00Z';

/** After `renew all`: the kubelet rotates, kubeadm renews apiserver.crt, an operator edits admin.conf. */
async function renewedThenChanged(): Promise<{ root: string; backup: string; pristine: Map<string, string> }> {
  const root = copyFixture('kubeadm-1.26');
  const pristine = snapshotTree(root);
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = listBackups(path.join(root, 'var/lib/kubepki/backups'))[0]!.name;
  const pki = path.join(root, 'var/lib/kubelet/pki');
  // (client-go's file store: a new dated pem, then -current swapped to it)
  fs.copyFileSync(path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem'), path.join(pki, 'kubelet-client-2026-12-01-00-00-00.pem'));
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2026-12-01-00-00-00.pem', path.join(pki, 'kubelet-client-updated.pem'));
  fs.renameSync(path.join(pki, 'kubelet-client-updated.pem'), path.join(pki, 'kubelet-client-current.pem'));
  fs.appendFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '\n');
  fs.appendFileSync(path.join(root, 'etc/kubernetes/admin.conf'), '# edited by hand\n');
  return { root, backup, pristine };
}

test('restore over files changed since the run by something else (kubelet rotation, kubeadm, a hand edit) names them and writes nothing; it overwrote them with exit 0', async () => {
  const { root, backup } = await renewedThenChanged();
  const before = snapshotTree(root);
  const backups = listBackups(path.join(root, 'var/lib/kubepki/backups')).length;
  const r = await cli(['restore', backup, '--root', root, '--now', LATER]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.ok(r.err.startsWith(`kubepki: refusing to restore ${path.join(root, 'var/lib/kubepki/backups', backup)}: 3 file(s) changed since that run by something other than kubepki: `), r.err);
  for (const f of ['/etc/kubernetes/pki/apiserver.crt', '/var/lib/kubelet/pki/kubelet-client-current.pem', '/etc/kubernetes/admin.conf']) assert.ok(r.err.includes(f), `${f} named: ${r.err}`);
  assert.match(r.err, /\n {2}hint: .*pass --overwrite/);
  assert.deepEqual(snapshotTree(root), before, 'nothing written');
  assert.equal(listBackups(path.join(root, 'var/lib/kubepki/backups')).length, backups, 'no backup made');
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubepki/kubepki.lock')), 'lock released');

  // the dry run says the same
  const dry = await cli(['restore', backup, '--root', root, '--now', LATER, '--dry-run']);
  assert.equal(dry.code, 3, 'the dry run exits as the refused run would');
  assert.match(dry.out, /^Without --overwrite this restore refuses and writes nothing: 3 file\(s\) changed since that run by something other than kubepki: /m);
});

test('restore --overwrite puts the state from before the run back over those changes, and restoring its own backup brings them back', async () => {
  const { root, backup, pristine } = await renewedThenChanged();
  const changed = snapshotTree(root);
  const r = await cli(['restore', backup, '--root', root, '--now', LATER, '--overwrite']);
  assert.equal(r.code, 0, r.out + r.err);
  // every file as before the run; the kubelet's own new pair, which no run made, stays
  const restored = snapshotTree(root);
  const rotated = 'var/lib/kubelet/pki/kubelet-client-2026-12-01-00-00-00.pem';
  assert.ok(restored.delete(rotated));
  assert.deepEqual(restored, pristine);
  const undo = /^Backup: \S+\/(\S+) /m.exec(r.out)![1]!;
  const back = await cli(['restore', undo, '--root', root, '--now', LATER]);
  assert.equal(back.code, 0, back.out + back.err);
  assert.deepEqual(snapshotTree(root), changed, 'the kubelet\'s, kubeadm\'s and the operator\'s changes are back');
});

test('restore right after the run, or over changes only later kubepki runs made, needs no --overwrite', async () => {
  const root = copyFixture('kubeadm-1.26');
  const before = snapshotTree(root);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  assert.equal((await cli(['renew', 'apiserver', '--root', root, '--now', '2026-11-24T00:00:00Z'])).code, 0);
  const [first] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const r = await cli(['restore', first!.name, '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(snapshotTree(root), before);
});

test('the kubelet rotated between two renews, then the first restored: refused, and the hint names the restore of only the latest run, which works and keeps the kubelet\'s pair', async () => {
  const root = copyFixture('kubeadm-1.26');
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const pki = path.join(root, 'var/lib/kubelet/pki');
  fs.copyFileSync(path.join(pki, 'kubelet-client-2026-11-23-00-00-00.pem'), path.join(pki, 'kubelet-client-2026-12-01-00-00-00.pem'));
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-2026-12-01-00-00-00.pem', path.join(pki, 'kubelet-client-updated.pem'));
  fs.renameSync(path.join(pki, 'kubelet-client-updated.pem'), path.join(pki, 'kubelet-client-current.pem'));
  const rotated = snapshotTree(root);
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', '2026-12-02T00:00:00Z'])).code, 0);
  const [first, second] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const r = await cli(['restore', first!.name, '--root', root, '--now', '2026-12-03T00:00:00Z']);
  assert.equal(r.code, 3, r.out + r.err);
  assert.ok(r.err.includes(': 1 file(s) changed since that run by something other than kubepki: /var/lib/kubelet/pki/kubelet-client-current.pem;'), r.err);
  const only = new RegExp(`or undo only the latest run instead \\(renew ${second!.name}: kubepki (restore [^)]*)\\)`).exec(r.err)?.[1];
  assert.ok(only, r.err);
  assert.deepEqual(only.split(' '), ['restore', second!.name, '--root', root]);
  const rs = await cli([...only.split(' '), '--now', '2026-12-03T00:00:00Z']);
  assert.equal(rs.code, 0, rs.out + rs.err);
  assert.deepEqual(snapshotTree(root), rotated, 'the tree as the kubelet left it before the second renew');
});
