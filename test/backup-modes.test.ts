/** What a backup holds (old private keys, for years) is the owner's only, whatever the modes of the files it copied. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBackups } from '../src/apply/transaction.js';
import { copyFixture, cli, snapshotTree, NOW } from './renew-support.js';

test('a backup\'s copies are 0600 and its directories 0700 though the files were 0644 (a copied tree, an installer\'s modes); restore puts back the files\' own modes', async () => {
  const root = copyFixture('kubeadm-1.26');
  for (const f of ['etc/kubernetes/admin.conf', 'etc/kubernetes/pki/apiserver.key', 'etc/kubernetes/pki/apiserver.crt']) fs.chmodSync(path.join(root, f), 0o644);
  const pristine = snapshotTree(root);
  const r = await cli(['renew', 'admin.conf', 'apiserver', '--new-key', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const [b] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  const modes: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      modes.push(`${path.relative(b!.dir, p)} ${(fs.lstatSync(p).mode & 0o777).toString(8)}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(b!.dir);
  assert.ok(modes.includes('files/etc/kubernetes/pki/apiserver.key 600'), modes.join('\n'));
  assert.ok(modes.includes('files/etc/kubernetes/admin.conf 600'), modes.join('\n'));
  assert.deepEqual(modes.filter((m) => !/ (600|700)$/.test(m)), [], 'every copy 0600, every directory 0700');
  assert.equal(fs.statSync(b!.dir).mode & 0o777, 0o700);
  const rs = await cli(['restore', b!.name, '--root', root, '--now', NOW]);
  assert.equal(rs.code, 0, rs.out + rs.err);
  assert.deepEqual(snapshotTree(root), pristine, 'the files\' own modes (0644) back, as the manifest recorded them');
});
