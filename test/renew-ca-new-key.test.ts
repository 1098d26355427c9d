/**
 * `renew ca --new-key` keeps a CA's key and says how a new one is made: the command it gives, run on a
 * copy of a kubeadm node, gives a new CA key whose certificates openssl verifies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFixture, cli, sh, NOW } from './renew-support.js';

const pubOf = (keyFile: string) => sh('openssl', ['pkey', '-in', keyFile, '-pubout']).stdout;

test('renew etcd-ca --new-key said "use kubepki rebuild for that", but rebuild keeps a CA that is there (nothing changed): the note gives the one command, and running it makes a new etcd CA key that every etcd certificate verifies against', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const oldPub = pubOf(path.join(pki, 'etcd/ca.key'));

  // what the note used to send the operator to: rebuild with the CA in place keeps the old key
  const asWas = await cli(['rebuild', '--root', root, '--new-ca', '--force', '--dry-run', '--now', NOW]);
  assert.match(asWas.out, /KEEP {4}\/etc\/kubernetes\/pki\/etcd\/ca\.crt/);

  const r = await cli(['renew', 'etcd-ca', '--new-key', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.doesNotMatch(r.out, /use `kubepki rebuild` for that/);
  // (was: `mkdir -p /root/kubepki-old-etcd-ca && mv ca.crt ca.key …` then `kubepki rebuild --new-ca --force`: the old CA
  // outside every backup, so `kubepki restore` of that rebuild could not bring it back)
  assert.doesNotMatch(r.out, /mkdir -p|mv \/etc\/kubernetes\/pki\/etcd\/ca/);
  const m = /`(kubepki rebuild --new-ca etcd-ca[^`]*)`/.exec(r.out);
  assert.equal(m?.[1], `kubepki rebuild --new-ca etcd-ca --root ${root}`, r.out);

  // follow it on the copy (the tree renew was given: its --root): the one command, nothing moved by hand
  const rb = await cli([...m![1]!.split(' ').slice(1), '--now', NOW]);
  assert.equal(rb.code, 0, rb.err + rb.out);
  assert.match(rb.out, /undo with: kubepki restore /);

  assert.notEqual(pubOf(path.join(pki, 'etcd/ca.key')), oldPub, 'a new etcd CA key');
  for (const leaf of ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
    const v = sh('openssl', ['verify', '-CAfile', path.join(pki, 'etcd/ca.crt'), path.join(pki, `${leaf}.crt`)]);
    assert.equal(v.status, 0, `${leaf}: ${v.stdout}${v.stderr}`);
  }
  const ca = sh('openssl', ['x509', '-in', path.join(pki, 'etcd/ca.crt'), '-noout', '-subject', '-ext', 'basicConstraints']).stdout;
  assert.match(ca, /subject=CN ?= ?etcd-ca/);
  assert.match(ca, /critical\s+CA:TRUE/);
  // the other CAs were not touched
  const other = sh('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]);
  assert.equal(other.status, 0, other.stdout + other.stderr);
});
