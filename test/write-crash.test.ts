/**
 * Commands other than renew that change a node (rebuild, kubelet credentials, ca import, restore), killed or
 * failing half way: the next run must see a consistent tree, and nothing may be lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBackups } from '../src/apply/transaction.js';
import { cli, tmp, spawnCli, NOW } from './renew-support.js';
import { copyFixture } from './support/fixtures.js';
import { opensslVerify, PKI_CERTS } from './rebuild-support.js';

/** kubeadm-1.26 with its PKI and kubeconfigs deleted: what rebuild is for. */
function wipedNode(): string {
  const root = copyFixture('kubeadm-1.26', { dir: tmp('kubepki-wiped-'), realSymlinks: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  for (const f of fs.readdirSync(path.join(root, 'etc/kubernetes'))) if (f.endsWith('.conf')) fs.rmSync(path.join(root, 'etc/kubernetes', f));
  return root;
}

const REBUILD = ['--now', NOW, '--key-type', 'ecdsa-p256'];

test('rebuild killed at any write step, then run again: the interrupted run is rolled back before the plan is made, so every file is made and signed by the CA on disk', async (t) => {
  let killed = 0;
  for (let n = 2; n < 200; n += 5) {
    const root = wipedNode();
    const r = await spawnCli(['rebuild', '--root', root, ...REBUILD], { KUBEPKI_TEST_CRASH_AT: String(n) });
    if (r.signal === null) { assert.equal(r.code, 0, r.out); break; }
    assert.equal(r.signal, 'SIGKILL', r.out);
    killed++;
    const interrupted = listBackups(path.join(root, 'var/lib/kubepki/backups')).some((b) => b.state === 'in-progress');
    const again = await cli(['rebuild', '--root', root, ...REBUILD]);
    assert.equal(again.code, 0, `rebuild after a kill at step ${n}: ${again.err}${again.out}`);
    if (interrupted) assert.match(again.out, /An interrupted run was rolled back first from /);
    // (was: the second run planned to keep what the killed one had written, then the lock rolled that back:
    // exit 0 with apiserver-etcd-client.key, admin.conf … missing, or leaves signed by a CA no longer there)
    const check = await cli(['check', '--root', root, '--now', NOW]);
    assert.equal(check.code, 0, `killed at step ${n}, rebuilt again: ${check.out}`);
    for (const c of PKI_CERTS) {
      if (!c.ca) continue;
      const pki = path.join(root, 'etc/kubernetes/pki');
      assert.match(opensslVerify(path.join(pki, `${c.ca}.crt`), path.join(pki, `${c.base}.crt`), c.purpose), /: OK$/, `killed at ${n}: ${c.base}`);
    }
  }
  assert.ok(killed >= 10, `killed at ${killed} steps`);
  t.diagnostic(`rebuild killed at ${killed} write steps (every 5th)`);
});

test('ca import --force killed at any write step, then run again: every CA file is the imported one (the interrupted run is rolled back before the comparison with what is on disk)', async (t) => {
  const KEY = 'ab'.repeat(32);
  const from = copyFixture('kubeadm-1.26', { dir: tmp('kubepki-ca-from-') });
  const sealed = path.join(tmp('kubepki-ca-sealed-'), 'shared.yaml');
  assert.equal((await cli(['ca', 'export', '--root', from, '--out', sealed, '--certificate-key', KEY])).code, 0);
  const FILES = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub', 'etcd/ca.crt', 'etcd/ca.key'];
  const want = (root: string) => FILES.filter((f) => !fs.readFileSync(path.join(root, 'etc/kubernetes/pki', f)).equals(fs.readFileSync(path.join(from, 'etc/kubernetes/pki', f))));
  let killed = 0;
  for (let n = 1; n < 100; n++) {
    const root = copyFixture('kubeadm-1.26-expired', { dir: tmp('kubepki-ca-into-'), realSymlinks: true });
    const r = await spawnCli(['ca', 'import', sealed, '--root', root, '--certificate-key', KEY, '--force', '--now', NOW], { KUBEPKI_TEST_CRASH_AT: String(n) });
    if (r.signal === null) { assert.equal(r.code, 0, r.out); assert.deepEqual(want(root), []); break; }
    killed++;
    const again = await cli(['ca', 'import', sealed, '--root', root, '--certificate-key', KEY, '--force', '--now', NOW]);
    assert.equal(again.code, 0, `killed at ${n}: ${again.err}${again.out}`);
    // (was: a file the killed run had put in place compared "same" and was skipped, then rolled back: an old ca.crt with the new ca.key)
    assert.deepEqual(want(root), [], `killed at ${n}, imported again: every file differing from the export`);
  }
  assert.ok(killed >= 5);
  t.diagnostic(`ca import killed at ${killed} write steps`);
});

test('a second writer is refused before it reads or plans: rebuild, kubelet credentials, ca import, sa rotate and restore while another kubepki holds the lock', async () => {
  const root = copyFixture('kubeadm-1.26-expired', { dir: tmp('kubepki-locked-'), realSymlinks: true });
  const renew = await cli(['renew', 'front-proxy-client', '--root', root, '--now', NOW]);
  assert.equal(renew.code, 0, renew.err);
  const [backup] = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  fs.writeFileSync(path.join(root, 'var/lib/kubepki/kubepki.lock'), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), since: NOW }));
  const sealed = path.join(tmp('kubepki-sealed-'), 'shared.yaml');
  assert.equal((await cli(['ca', 'export', '--root', root, '--out', sealed, '--certificate-key', 'cd'.repeat(32)])).code, 0);
  for (const args of [
    ['rebuild', '--force', ...REBUILD],
    ['kubelet', 'credentials', '--node', 'cp-1', '--now', NOW],
    ['ca', 'import', sealed, '--certificate-key', 'cd'.repeat(32), '--force', '--now', NOW],
    ['sa', 'rotate', '--now', NOW],
    ['restore', backup!.name, '--now', NOW],
  ]) {
    const r = await cli([...args, '--root', root]);
    assert.equal(r.code, 3, `${args[0]}: ${r.err}`);
    assert.match(r.err, new RegExp(`^kubepki: failed to lock /var/lib/kubepki/kubepki.lock: kubepki \\(pid ${process.ppid}\\) is already changing this node`), args[0]);
    assert.equal(r.out, '', `${args.slice(0, 2).join(' ')}: refused before printing a plan`);
  }
});

test('two renews started together after a crash: exactly one rolls the dead run back and renews, the other is refused (was: both took the dead lock over, rolled back and renewed at once, and could leave a broken tree)', async (t) => {
  const crashed = copyFixture('kubeadm-1.26-expired', { dir: tmp('kubepki-crashed-'), realSymlinks: true });
  const k = await spawnCli(['renew', 'all', '--root', crashed, '--now', NOW], { KUBEPKI_TEST_CRASH_AT: '30' });
  assert.equal(k.signal, 'SIGKILL', k.out);
  for (let i = 0; i < 6; i++) {
    const root = tmp('kubepki-race-');
    fs.cpSync(crashed, root, { recursive: true, verbatimSymlinks: true });
    const runs = await Promise.all([0, 1].map(() => spawnCli(['renew', 'all', '--root', root, '--now', NOW], {})));
    const codes = runs.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 3], `trial ${i}: ${runs.map((r) => r.out).join('\n---\n')}`);
    const loser = runs.find((r) => r.code === 3)!;
    assert.match(loser.out, /^kubepki: failed to lock \/var\/lib\/kubepki\/kubepki\.lock: kubepki \(pid \d+\) is already changing this node/);
    assert.equal(listBackups(path.join(root, 'var/lib/kubepki/backups')).filter((b) => b.state === 'recovered').length, 1, `trial ${i}: rolled back once`);
    assert.equal((await cli(['check', '--root', root, '--now', NOW])).code, 0, `trial ${i}`);
    assert.deepEqual(fs.readdirSync(path.join(root, 'var/lib/kubepki')), ['backups'], `trial ${i}: no lock or takeover file left`);
  }
  t.diagnostic('6 trials of two concurrent renews after a crash');
});
