/** restore of a run that made directories (a rebuild's pki/etcd) removes those that are empty again, and no other. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBackups, readManifest } from '../src/apply/transaction.js';
import { cli, tmp, NOW } from './renew-support.js';
import { copyFixture } from './support/fixtures.js';

const REBUILD = ['--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1', '--now', NOW];

/** Every directory and file under root (relative), except kubepki's own state. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, d.name);
      const rel = path.relative(root, q);
      if (rel === 'var/lib/kubepki' || rel.startsWith('var/lib/kubepki/')) continue;
      out.push(d.isDirectory() ? `${rel}/` : rel);
      if (d.isDirectory()) walk(q);
    }
  };
  walk(root);
  return out.sort();
}

function onlyBackup(root: string): string {
  const b = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  assert.equal(b.length, 1, 'one backup');
  return b[0]!.dir;
}

test('restore of a rebuild on an empty node removes the files and the directories it made: the tree is as before', async () => {
  const root = tmp('kubepki-restore-dirs-');
  fs.mkdirSync(path.join(root, 'etc/kubernetes/manifests'), { recursive: true }); // there before, and empty
  fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  const before = listing(root);
  const r = await cli(['rebuild', '--root', root, ...REBUILD]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = onlyBackup(root);
  const made = readManifest(backup).createdDirs ?? [];
  assert.ok(made.includes('/etc/kubernetes/pki/etcd') && made.includes('/etc/kubernetes/pki') && made.includes('/var/lib/kubelet/pki'), made.join(', '));
  assert.ok(!made.includes('/etc/kubernetes') && !made.includes('/etc/kubernetes/manifests') && !made.includes('/var/lib'), 'directories that were there are not the run\'s');
  assert.ok(fs.existsSync(path.join(root, 'etc/kubernetes/pki/etcd/ca.crt')));

  const dry = await cli(['restore', backup, '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /rmdir +\/etc\/kubernetes\/pki\/etcd \(made by that run; if empty\)/);
  assert.ok(fs.existsSync(path.join(root, 'etc/kubernetes/pki/etcd')), 'dry run removes nothing');

  const res = await cli(['restore', backup, '--root', root, '--now', NOW]);
  assert.equal(res.code, 0, res.err);
  assert.match(res.out, /Removed \d+ empty directories that run had made: .*\/etc\/kubernetes\/pki\/etcd/);
  assert.deepEqual(listing(root), before, 'no empty pki/, pki/etcd/ or var/lib/kubelet/pki/ left behind; manifests/ (there before) kept');
});

test('restore keeps a directory the run made once something else is in it, and every directory that was there before', async () => {
  const root = tmp('kubepki-restore-dirs-');
  fs.mkdirSync(path.join(root, 'etc/kubernetes/manifests'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/kubernetes/notes.txt'), 'mine');
  const r = await cli(['rebuild', '--root', root, ...REBUILD]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = onlyBackup(root);
  // put there after the rebuild: not the run's, and its directory is then not empty
  fs.writeFileSync(path.join(root, 'etc/kubernetes/pki/etcd/operator-notes.txt'), 'keep me');
  const res = await cli(['restore', backup, '--root', root, '--now', NOW]);
  assert.equal(res.code, 0, res.err);
  assert.match(res.out, /Kept \/etc\/kubernetes\/pki\/etcd, \/etc\/kubernetes\/pki: made by that run, but not empty/);
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc/kubernetes/pki/etcd')), ['operator-notes.txt']);
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc/kubernetes/pki')), ['etcd']);
  assert.ok(fs.statSync(path.join(root, 'etc/kubernetes/manifests')).isDirectory(), 'there before: kept although empty');
  assert.equal(fs.readFileSync(path.join(root, 'etc/kubernetes/notes.txt'), 'utf8'), 'mine');
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/kubelet')), 'the run\'s empty var/lib/kubelet/pki and var/lib/kubelet removed');
});

test('restore of a kubelet-client renewal lists only what it does: not the swap\'s kubelet-client-updated.pem, which that run made and renamed itself', async () => {
  const root = copyFixture('kubeadm-1.26', { realSymlinks: true });
  const r = await cli(['renew', 'kubelet-client', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = onlyBackup(root);
  assert.ok(readManifest(backup).entries.some((e) => e.path.endsWith('/kubelet-client-updated.pem')), 'the run records the swap file it made');
  const d = await cli(['restore', backup, '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(d.code, 0, d.err);
  assert.doesNotMatch(d.out, /kubelet-client-updated\.pem/);
  assert.match(d.out, /^ {2}link {4}\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem → \/var\/lib\/kubelet\/pki\/kubelet-client-2026-11-22-21-36-05\.pem$/m);
  assert.match(d.out, /^ {2}remove {2}\/var\/lib\/kubelet\/pki\/kubelet-client-2026-11-23-00-00-00\.pem$/m);
});

test('restore that removes what a rebuild made names the components that read those files, before and after it runs (not "no component reads them")', async () => {
  const root = tmp('kubepki-restore-removed-');
  const r = await cli(['rebuild', '--root', root, ...REBUILD]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = onlyBackup(root);
  const removedLead = /These components read files the restore removed: each fails when it next loads them \(etcd on its next connection/;
  const etcdLine = /^ {2}etcd \(reads [^)]*\/etc\/kubernetes\/pki\/etcd\/peer\.crt[^)]*\/etc\/kubernetes\/pki\/etcd\/server\.crt[^)]*\)$/m;
  for (const dryRun of [true, false]) {
    const res = await cli(['restore', backup, '--root', root, '--now', NOW, ...(dryRun ? ['--dry-run'] : [])]);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, removedLead, res.out);
    // the manifest goes with the files, so only a read before the restore knows who reads them
    assert.match(res.out, etcdLine, res.out);
    assert.match(res.out, /^ {2}kube-apiserver \(reads [^)]*\/etc\/kubernetes\/pki\/apiserver\.crt/m);
    assert.doesNotMatch(res.out, /No component reads them/);
    // no restart command for a component whose files are gone
    assert.doesNotMatch(res.out, /etcd\.yaml\.kubepki-parked/);
  }
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/pki/etcd/peer.crt')));
});

test('restore of a rebuild that made the etcd healthcheck-client pair: the etcd quorum caution names no file the restore removes', async () => {
  const root = copyFixture('kubeadm-1.26');
  const manifest = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--initial-cluster=\S+/, '--initial-cluster=cp-1=https://192.0.2.10:2380,cp-2=https://192.0.2.12:2380,cp-3=https://192.0.2.13:2380'));
  for (const f of ['healthcheck-client', 'server', 'peer']) for (const x of ['crt', 'key']) fs.rmSync(path.join(root, `etc/kubernetes/pki/etcd/${f}.${x}`));
  const r = await cli(['rebuild', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  const backup = onlyBackup(root);
  for (const dry of [true, false]) {
    const u = await cli(['restore', backup, '--root', root, '--now', '2026-11-23T01:00:00Z', ...(dry ? ['--dry-run'] : [])]);
    assert.equal(u.code, 0, u.out + u.err);
    const caution = /\((this etcd is one of 3 members[^\n]*)\)$/m.exec(u.out)?.[1];
    assert.ok(caution, u.out);
    // every file the advice hands to etcdctl exists once the restore is done
    for (const m of caution.matchAll(/--(?:cacert|cert|key) (\/\S+)/g)) {
      assert.ok(fs.existsSync(path.join(root, m[1]!)) || dry && !/healthcheck-client/.test(m[1]!), `${m[1]} named in: ${caution}`);
    }
    assert.doesNotMatch(caution, /--cert \/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.crt/);
    assert.match(caution, /healthcheck-client\.crt, \/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.key go with this restore: kubepki rebuild makes them again/);
  }
  assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/pki/etcd/healthcheck-client.crt')));
});
