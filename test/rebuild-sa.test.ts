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

  const d = await cli('sa', 'rotate', '--root', root, '--drop-old', '--now', '2026-11-23T01:00:00Z');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /1 old key dropped/);
  assert.equal(parsePemBlocks(fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8')).length, 1);
  assert.ok(!verifiesWith(path.join(pki, 'sa.pub'), jwt), 'old tokens are rejected after --drop-old');
  assert.equal(fs.readFileSync(path.join(pki, 'sa.key'), 'utf8'), newKey, '--drop-old keeps sa.key');
});
