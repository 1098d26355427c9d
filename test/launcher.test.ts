// bin/kubepki.js compiles dist/cli.cjs with a V8 code cache. It must use the
// cache only for the bundle it was made from, rewrite it when it is missing,
// stale or refused, never break the CLI when it cannot, and keep dynamic
// imports of the external packages working (serve, inspect -o full, cluster).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

/** What bin/kubepki.js accepts: the first 16 hex digits of the SHA-1 of the bundle bytes and of the cache body, before the body. */
function cacheState(dir: string): 'valid' | 'invalid' | 'missing' {
  const cache = path.join(dir, 'dist', 'cli.cjs.cache');
  if (!fs.existsSync(cache)) return 'missing';
  const buf = fs.readFileSync(cache);
  const hex16 = (b: Buffer) => createHash('sha1').update(b).digest('hex').slice(0, 16);
  const want = hex16(fs.readFileSync(path.join(dir, 'dist', 'cli.cjs'))) + hex16(buf.subarray(32));
  return buf.length > 32 && buf.subarray(0, 32).toString('latin1') === want ? 'valid' : 'invalid';
}
const cachePath = (dir: string) => path.join(dir, 'dist', 'cli.cjs.cache');
const noTemp = (dir: string) => assert.deepEqual(fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');

test('npm run build leaves a code cache made for this bundle, and a run with it leaves it alone', () => {
  const dir = install();
  assert.equal(cacheState(dir), 'valid');
  const before = fs.statSync(cachePath(dir));
  const r = run(dir, ['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.equal(r.stderr, '');
  assert.equal(fs.statSync(cachePath(dir)).ino, before.ino, 'an accepted cache is not rewritten');
});

test('a cache with another digest is not used: the run works and writes one for this bundle', () => {
  const dir = install();
  const buf = fs.readFileSync(cachePath(dir));
  buf.write('0'.repeat(32), 0, 'latin1');
  fs.writeFileSync(cachePath(dir), buf);
  const root = copyFixture('kubeadm-1.26');
  const v = run(dir, ['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(cacheState(dir), 'invalid', 'only check writes the cache (it holds what the run compiled)');
  const r = run(dir, ['check', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /certificates:/);
  assert.equal(cacheState(dir), 'valid', 'rewritten for this bundle');
  noTemp(dir);
});

test('a damaged cache body (a zeroed page, header intact) never reaches V8, which would crash on it: the run works and the cache is rewritten', () => {
  const dir = install();
  const buf = fs.readFileSync(cachePath(dir));
  buf.fill(0, 100_000, 104_096);
  fs.writeFileSync(cachePath(dir), buf);
  const root = copyFixture('kubeadm-1.26');
  const r = run(dir, ['check', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /16 certificates: 16 ok/);
  assert.equal(cacheState(dir), 'valid');
});

test('an edit of the bundle that keeps its length runs the edited code (V8 alone would take the old cache), and the bundle runs in strict mode', () => {
  const dir = install();
  const bundle = path.join(dir, 'dist', 'cli.cjs');
  const text = fs.readFileSync(bundle, 'latin1');
  assert.ok(text.includes('RESIDUAL TIME'));
  fs.writeFileSync(bundle, text.replaceAll('RESIDUAL TIME', 'RESIDUAL XXXX'), 'latin1');
  const root = copyFixture('kubeadm-1.26');
  let r = run(dir, ['check', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /RESIDUAL XXXX/);
  assert.equal(cacheState(dir), 'valid');
  // strict: a plain call's `this` is undefined inside the bundle
  // (the bundle is one function expression: the probe goes inside it, before its closing `})`)
  const edited = fs.readFileSync(bundle, 'latin1');
  assert.ok(edited.endsWith('\n})'));
  fs.writeFileSync(bundle, edited.slice(0, -3) + ';if ((function () { return this; })() !== undefined) throw new Error("the bundle runs in sloppy mode");\n})', 'latin1');
  r = run(dir, ['--version']);
  assert.equal(r.status, 0, r.stderr);
});

test('a missing or garbage cache is no error; KUBEPKI_NO_CODE_CACHE=1 neither reads nor writes one', () => {
  const dir = install();
  fs.rmSync(cachePath(dir));
  let r = run(dir, ['--version'], { KUBEPKI_NO_CODE_CACHE: '1' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cacheState(dir), 'missing');
  fs.writeFileSync(cachePath(dir), 'not a V8 code cache');
  r = run(dir, ['check', '--root', copyFixture('kubeadm-1.26'), '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(cacheState(dir), 'valid', 'the garbage was replaced by a real cache');
  assert.ok(fs.statSync(cachePath(dir)).size > 10_000);
  noTemp(dir);
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

test('check reads only dist/cli.cjs; other commands load dist/cli-more.cjs once, sharing the core\'s modules (one UserError, one commander)', () => {
  const dir = install();
  const root = copyFixture('kubeadm-1.26');
  const more = path.join(dir, 'dist', 'cli-more.cjs');
  assert.ok(fs.statSync(more).size > fs.statSync(path.join(dir, 'dist', 'cli.cjs')).size, 'most of the code is not check\'s');
  // a UserError thrown in cli-more.cjs is the core's class: one line and exit 3, not "internal error"
  let r = run(dir, ['renew', 'no-such-cert', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /^kubepki: failed to find certificate "no-such-cert" under /);
  assert.doesNotMatch(r.stderr, /internal error/);
  // commander's errors from a command defined in cli-more.cjs are the core's CommanderError
  r = run(dir, ['renew', '--no-such-flag']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
  assert.doesNotMatch(r.stderr, /internal error/);
  r = run(dir, ['inspect', path.join(root, 'etc/kubernetes/pki/ca.crt'), '-o', 'json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).certificates[0].subject, 'CN=kubernetes');
  fs.rmSync(more);
  r = run(dir, ['check', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /16 certificates: 16 ok/);
  r = run(dir, ['renew', 'all', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 70);
  assert.match(r.stderr, /^kubepki: cannot read .*dist\/cli-more\.cjs \(ENOENT\): run `npm run build` in /);
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

test('a closed pipe never cuts a renewal short: renew all | head -1 renews everything, then check is clean', () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const bin = path.join(repo, 'bin', 'kubepki.js');
  const r = spawnSync('bash', ['-c', `node ${bin} renew all --root ${root} --now 2026-11-23 | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.match(r.stderr, /rc=0/);
  const check = spawnSync(process.execPath, [bin, 'check', '--root', root, '--now', '2026-11-23'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout.split('\n').filter((l) => /expired|ERROR/i.test(l)).join('\n'));
  const backups = spawnSync(process.execPath, [bin, 'backups', '--root', root], { encoding: 'utf8' });
  assert.match(backups.stdout, /complete/);
});

test('standard output that cannot be written (ulimit -f, a full disk, not open for writing) is one line naming it, exit 3, not an internal error; a renewal still completes', () => {
  const root = copyFixture('kubeadm-1.26');
  const bin = path.join(repo, 'bin', 'kubepki.js');
  const out = path.join(tmpDir(), 'inv.json');
  const cases: [string, string, RegExp][] = [
    // ulimit -f counts 1024-byte blocks: the inventory as JSON is far longer
    [`ulimit -f 1; node ${bin} check --root ${root} --now 2026-11-23 -o json > ${out}`, 'EFBIG', /ulimit -f/],
    [`node ${bin} check --root ${root} --now 2026-11-23 > /dev/full`, 'ENOSPC', /disk .* is full/],
    [`node ${bin} check --root ${root} --now 2026-11-23 1</dev/null`, 'EBADF', /not open for writing/],
    [`node ${bin} --version > /dev/full`, 'ENOSPC', /disk .* is full/],
  ];
  for (const [cmd, code, hint] of cases) {
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, KUBEPKI_DEBUG: '' } });
    assert.equal(r.status, 3, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^kubepki: failed to write standard output: ${code}; the rest of the output was dropped\n  hint: `), cmd);
    assert.match(r.stderr, hint, cmd);
    assert.equal(r.stderr.split('\n').length, 3, `two lines, no stack trace: ${r.stderr}`);
  }
  assert.equal(fs.statSync(out).size, 1024, 'the file holds what fitted');
  // /dev/null (a cron job's `check >/dev/null || alert`) is written like a file: the exit code is the answer, nothing on stderr
  for (const [tree, code] of [['kubeadm-1.26', 0], ['kubeadm-1.26-expired', 2]] as const) {
    const r = spawnSync('bash', ['-c', `node ${bin} check --root ${copyFixture(tree)} --now 2026-11-23 > /dev/null`], { encoding: 'utf8' });
    assert.equal(r.status, code, r.stderr);
    assert.equal(r.stderr, '');
  }
  // the work itself is not cut short for its report
  const expired = copyFixture('kubeadm-1.26-expired');
  const renew = spawnSync('bash', ['-c', `node ${bin} renew all --root ${expired} --now 2026-11-23 > /dev/full`], { encoding: 'utf8' });
  assert.equal(renew.status, 3, renew.stderr);
  assert.match(renew.stderr, /^kubepki: failed to write standard output: ENOSPC/);
  const check = spawnSync(process.execPath, [bin, 'check', '--root', expired, '--now', '2026-11-23'], { encoding: 'utf8' });
  assert.equal(check.status, 0, 'every certificate renewed');
});

test('check --help or a check that cannot run leaves no thin cache behind; the next real check writes it', () => {
  const dir = install();
  fs.rmSync(cachePath(dir));
  let r = run(dir, ['check', '--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cacheState(dir), 'missing');
  r = run(dir, ['check', '--root', path.join(dir, 'no-such-dir')]);
  assert.ok(r.status! >= 3);
  assert.equal(cacheState(dir), 'missing');
  r = run(dir, ['check', '--root', copyFixture('kubeadm-1.26'), '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cacheState(dir), 'valid');
});

test('on a Node 20 without crypto.hash (before 20.12) the launcher checksums with createHash: the same header, a cache the next run takes', () => {
  const dir = install();
  fs.rmSync(cachePath(dir));
  const preload = path.join(tmpDir('kubepki-nohash-'), 'no-hash.cjs');
  fs.writeFileSync(preload, "delete require('node:crypto').hash;\n");
  const root = copyFixture('kubeadm-1.26');
  const old = spawnSync(process.execPath, ['-r', preload, path.join(dir, 'bin', 'kubepki.js'), 'check', '--root', root, '--now', '2026-11-23'], { encoding: 'utf8' });
  assert.equal(old.status, 0, old.stderr);
  assert.equal(cacheState(dir), 'valid', 'written with createHash, as crypto.hash would have');
  const before = fs.statSync(cachePath(dir)).ino;
  const r = run(dir, ['check', '--root', root, '--now', '2026-11-23']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.statSync(cachePath(dir)).ino, before, 'taken, not rewritten');
});

test('check loads no module it does not use: no networking, terminal or child-process builtin and no package (each costs start-up on every run: node:tty imported at the top of io.ts added ~5 M instructions)', () => {
  const root = copyFixture('kubeadm-1.26');
  const dir = tmpDir('kubepki-modules-');
  const report = path.join(dir, 'loaded.json');
  const preload = path.join(dir, 'preload.cjs');
  fs.writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)), required: Object.keys(require.cache) })));\n`);
  const r = spawnSync(process.execPath, ['-r', preload, path.join(repo, 'bin', 'kubepki.js'), 'check', '--root', root, '--now', '2026-11-23'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { builtins, required } = JSON.parse(fs.readFileSync(report, 'utf8')) as { builtins: string[]; required: string[] };
  assert.ok(builtins.includes('crypto') && builtins.includes('vm'), 'the list is the real one');
  const unwanted = ['net', 'tty', 'child_process', 'http', 'https', 'http2', 'tls', 'dns', 'dgram', 'readline', 'worker_threads', 'os', 'inspector'];
  assert.deepEqual(builtins.filter((m) => unwanted.includes(m)), []);
  assert.deepEqual(required.filter((f) => f.includes(`${path.sep}node_modules${path.sep}`)), [], 'no package (yaml, commander outside the bundle, client-node …)');
});

test('standard output on a socket (a parent reading it through Node\'s child_process, journald under systemd) is written directly too: a slow reader gets all of -o json, a reader that goes away ends the run quietly, exit 0', async () => {
  const root = copyFixture('kubeadm-1.26');
  const bin = path.join(repo, 'bin', 'kubepki.js');
  const args = [bin, 'check', '--root', root, '--now', '2026-11-23'];
  const exited = (c: ReturnType<typeof spawn>) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    let stderr = '';
    c.stderr!.on('data', (d) => { stderr += d; });
    c.on('close', (code) => resolve({ code, stderr }));
  });
  // a reader that starts reading late, after kubepki wrote everything and exited
  const big = spawn(process.execPath, [...args, '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(fs.fstatSync((big.stdout as unknown as { _handle: { fd: number } })._handle.fd).isSocket(), 'Node hands the child a socket, not a pipe');
  let text = '';
  big.stdout!.setEncoding('utf8').on('data', (d) => { text += d; }).pause();
  const done = exited(big);
  await new Promise((r) => setTimeout(r, 500));
  big.stdout!.resume();
  const b = await done;
  assert.equal(b.code, 0, b.stderr);
  assert.equal((JSON.parse(text) as { certificates: unknown[] }).certificates.length, 16);
  // a reader that takes the first chunk and closes its end
  const quit = spawn(process.execPath, [...args, '-o', 'yaml'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const q = exited(quit);
  quit.stdout!.once('data', () => quit.stdout!.destroy());
  const r = await q;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no stack trace');
});
