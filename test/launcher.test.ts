// bin/kubepki.js compiles dist/cli.cjs with a V8 code cache. It must use the
// cache only for the bundle it was made from, rewrite it when it is missing,
// stale or refused, never break the CLI when it cannot, and keep dynamic
// imports of the external packages working (serve, inspect -o full, cluster).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tmpDir, copyFixture } from './support/fixtures.js';

const repo = process.cwd();

/** A private copy of the installed package (bin + dist, node_modules linked). */
function install(): string {
  const dir = tmpDir('kubepki-launcher-');
  fs.cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true });
  fs.cpSync(path.join(repo, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(dir: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [path.join(dir, 'bin', 'kubepki.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

const bundleHash = (dir: string) => /^\/\/ kubepki build ([0-9a-f]{64})\n/.exec(fs.readFileSync(path.join(dir, 'dist', 'cli.cjs'), 'latin1'))![1]!;
const cacheHeader = (dir: string) => fs.readFileSync(path.join(dir, 'dist', 'cli.cjs.cache')).subarray(0, 64).toString('latin1');

test('npm run build leaves a code cache made for this bundle, and a run with it leaves it alone', () => {
  const dir = install();
  assert.equal(cacheHeader(dir), bundleHash(dir));
  const before = fs.statSync(path.join(dir, 'dist', 'cli.cjs.cache'));
  const r = run(dir, ['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.equal(r.stderr, '');
  const after = fs.statSync(path.join(dir, 'dist', 'cli.cjs.cache'));
  assert.equal(after.ino, before.ino, 'an accepted cache is not rewritten');
});

test('a cache from another build is not used: the run works and writes one for this bundle', () => {
  const dir = install();
  const cache = path.join(dir, 'dist', 'cli.cjs.cache');
  const buf = fs.readFileSync(cache);
  buf.write('0'.repeat(64), 0, 'latin1');
  fs.writeFileSync(cache, buf);
  const r = run(dir, ['demo']);
  assert.ok(r.status === 0 || r.status === 2, r.stderr);
  assert.match(r.stdout, /certificates:/);
  assert.equal(cacheHeader(dir), bundleHash(dir), 'rewritten for this bundle');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
});

test('a missing or garbage cache is no error; KUBEPKI_NO_CODE_CACHE=1 neither reads nor writes one', () => {
  const dir = install();
  const cache = path.join(dir, 'dist', 'cli.cjs.cache');
  fs.rmSync(cache);
  let r = run(dir, ['--version'], { KUBEPKI_NO_CODE_CACHE: '1' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.existsSync(cache), false);
  fs.writeFileSync(cache, Buffer.concat([Buffer.from(bundleHash(dir), 'latin1'), Buffer.from('not a V8 code cache')]));
  r = run(dir, ['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(fs.statSync(cache).size > 10_000, 'the refused cache was replaced by a real one');
});

test('the bundle reaches external packages through the launcher: inspect -o full loads @peculiar/x509', () => {
  const dir = install();
  const crt = path.join(repo, '../shared/fixtures/kubeadm-1.26/etc/kubernetes/pki/ca.crt');
  const r = run(dir, ['inspect', crt, '-o', 'full']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Subject: CN=kubernetes/);
  assert.equal(r.stderr, '', 'no experimental-feature warning');
});

test('a missing bundle is one line naming the file and what to do', () => {
  const dir = install();
  fs.rmSync(path.join(dir, 'dist', 'cli.cjs'));
  const r = run(dir, ['check']);
  assert.equal(r.status, 70);
  assert.match(r.stderr, /^kubepki: cannot read .*dist\/cli\.cjs \(ENOENT\): run `npm run build` in /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('standard output: a closed pipe (check | head -1) ends quietly, a slow pipe gets all of -o json, a file gets it too', () => {
  const root = copyFixture('kubeadm-1.26');
  const bin = path.join(repo, 'bin', 'kubepki.js');
  const args = `check --root ${root} --now 2026-11-23`;
  const head = spawnSync('bash', ['-c', `set -o pipefail; node ${bin} ${args} | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  assert.match(head.stdout, /^CERTIFICATE\s+EXPIRES/);
  assert.equal(head.stdout.trim().split('\n').length, 1);
  assert.match(head.stderr, /^rc=0\n$/, 'no stack trace, exit 0');
  // a reader that waits before reading: the 64 KiB pipe fills while kubepki writes
  const slow = spawnSync('bash', ['-c', `node ${bin} ${args} -o json | (sleep 0.5; cat)`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const inv = JSON.parse(slow.stdout) as { kind: string; certificates: unknown[] };
  assert.equal(inv.kind, 'Inventory');
  assert.equal(inv.certificates.length, 16);
  const out = path.join(tmpDir(), 'inv.json');
  const file = spawnSync('bash', ['-c', `node ${bin} ${args} -o json > ${out}`], { encoding: 'utf8' });
  assert.equal(file.status, 0, file.stderr);
  assert.equal(fs.readFileSync(out, 'utf8'), slow.stdout);
});
