import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, verify } from 'node:crypto';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { FIXTURES, copyFixture, NOW } from './rebuild-support.js';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** A legacy ServiceAccount token the recorded API server signed with the fixture's sa.key. */
function recordedToken(): string {
  const rec = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'apiserver/serviceaccounts.json'), 'utf8'));
  for (const r of rec.requests) {
    const t = r.responseBody?.data?.token;
    if (typeof t === 'string' && t) return Buffer.from(t, 'base64').toString();
  }
  throw new Error('no token in the recording');
}

/** Does any key in sa.pub verify this RS256 JWT (what kube-apiserver does with --service-account-key-file)? */
function verifiesWith(pubFile: string, jwt: string): boolean {
  const [h, p, s] = jwt.split('.');
  return parsePemBlocks(fs.readFileSync(pubFile, 'utf8')).some((b) => verify('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key: Buffer.from(b.der), format: 'der', type: 'spki' }), Buffer.from(s!, 'base64url')));
}

test('sa rotate keeps old tokens verifying until --drop-old; the new key is the first in sa.pub', async () => {
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  const jwt = recordedToken();
  assert.ok(verifiesWith(path.join(pki, 'sa.pub'), jwt), 'the recorded token verifies with the original sa.pub');
  const oldKey = fs.readFileSync(path.join(pki, 'sa.key'), 'utf8');

  const dry = await cli('sa', 'rotate', '--root', root, '--dry-run', '--now', NOW);
  assert.equal(dry.code, 0, dry.err);
  assert.equal(fs.readFileSync(path.join(pki, 'sa.key'), 'utf8'), oldKey, 'dry run writes nothing');

  const r = await cli('sa', 'rotate', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /kubepki sa refresh/);
  assert.match(r.out, /restart kube-apiserver/);
  const newKey = fs.readFileSync(path.join(pki, 'sa.key'), 'utf8');
  assert.notEqual(newKey, oldKey);
  assert.match(newKey, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(fs.statSync(path.join(pki, 'sa.key')).mode & 0o777, 0o600);
  const blocks = parsePemBlocks(fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8'));
  assert.equal(blocks.length, 2);
  const newPub = createPublicKey(newKey).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(blocks[0]!.der), newPub, 'the new key first');
  assert.ok(verifiesWith(path.join(pki, 'sa.pub'), jwt), 'old tokens still verify');

  // (on a cluster: only after `kubepki sa refresh --restart-pods` restarted every pod)
  const d = await cli('sa', 'rotate', '--root', root, '--drop-old', '--now', NOW);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /1 old key dropped/);
  assert.equal(parsePemBlocks(fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8')).length, 1);
  assert.ok(!verifiesWith(path.join(pki, 'sa.pub'), jwt), 'old tokens are rejected after --drop-old');
  assert.equal(fs.readFileSync(path.join(pki, 'sa.key'), 'utf8'), newKey, '--drop-old keeps sa.key');
});

test('sa rotate advice: the old key stays until every pod is restarted (projected tokens are accepted for up to a year, refreshed about daily), not "an hour"', async () => {
  const root = copyFixture();
  const r = await cli('sa', 'rotate', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /within an hour|1h by default/, 'an hour is not enough: the old key would be dropped while pods still use tokens it signed');
  const steps = r.out.split('What must follow:')[1]!;
  // (run on a tree under --root, the commands for this node name it: pasted, they read the tree, not the host)
  for (const c of ['kubepki sa refresh --restart-pods', 'kubepki sa rotate --drop-old', 'kubepki ca export --out shared.yaml']) assert.ok(steps.includes(`${c} --root ${root}`), `${c} carries --root: ${steps}`);
  const refresh = steps.indexOf('kubepki sa refresh --restart-pods');
  const drop = steps.indexOf('kubepki sa rotate --drop-old');
  assert.ok(refresh >= 0 && drop > refresh, `refresh --restart-pods comes before --drop-old:\n${steps}`);
  assert.match(steps, /--service-account-extend-token-expiration=true/);
  assert.match(steps, /up to a year/);
  assert.match(steps, /older than 24h or past 80% of its lifetime/);
  const json = JSON.parse((await cli('sa', 'rotate', '--root', copyFixture(), '--now', NOW, '--dry-run', '-o', 'json')).out);
  assert.ok(json.followUps.every((f: string) => !/within an hour|1h by default/.test(f)));

  const d = await cli('sa', 'rotate', '--root', root, '--drop-old', '--now', NOW);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /Warnings:\n  - tokens signed with the dropped key are rejected once kube-apiserver restarts: do this only after `kubepki sa refresh --restart-pods --root \S+` restarted every pod/);

  const h = await cli('sa', 'rotate', '--help');
  assert.match(h.out, /--drop-old +# only after every pod was restarted/);
  assert.doesNotMatch(h.out, /once every token was re-issued`?$/m);

  // rebuild with a new sa.key says the same: restart the pods, waiting does not help
  const rb = copyFixture();
  fs.rmSync(path.join(rb, 'etc/kubernetes/pki/sa.key'));
  fs.rmSync(path.join(rb, 'etc/kubernetes/pki/sa.pub'));
  // the kubeconfigs still hold the cluster CA: a new sa.key needs --new-ca (without it: refused, exit 3)
  const refused = await cli('rebuild', '--root', rb, '--now', NOW, '--dry-run');
  assert.equal(refused.code, 3);
  assert.match(refused.err, /refusing to create a new sa\.key\/sa\.pub: this node belongs to an existing cluster/);
  const p = await cli('rebuild', '--root', rb, '--now', NOW, '--dry-run', '--new-ca');
  // (with the tree's --root: sa refresh checks the re-issued tokens against its new sa.pub)
  assert.ok(p.out.includes(`\`kubepki sa refresh --restart-pods --root ${rb}\``), p.out);
});
