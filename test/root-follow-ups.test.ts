/**
 * A node tree worked on under --root (a mounted disk, a copy) from another machine: every kubepki command
 * printed for that tree must read the tree, and a kubeconfig of a tree read without --root must say that its
 * absolute references were read on this host (seed replay).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, NOW, cli, copyFixture, discoveryHash, inShell, sh, tmp } from './renew-support.js';

/** The words a shell makes of a printed command (its quoting as printed). */
function words(command: string): string[] {
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

/** A copy of a fixture at a path with a space and a quote in it (the shell must get it back as one word). */
function treeCopy(name: string): { base: string; root: string } {
  const base = tmp('kubepki-followups-');
  const root = path.join(base, "node's disk");
  fs.cpSync(copyFixture(name), root, { recursive: true, verbatimSymlinks: true });
  return { base, root };
}

/** openssl verify of a certificate file against a CA file (at the test's clock). */
function verifies(caFile: string, certFile: string): void {
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 3600), '-CAfile', caFile, certFile]);
  assert.equal(v.status, 0, `${certFile}: ${v.stdout}${v.stderr}`);
}

test('rebuild --root of a mounted disk printed its follow-ups for the other nodes (kubepki join, ca export, kubelet credentials) without --root, so pasted they read this host\'s /etc/kubernetes; each command run here now carries the tree\'s --root, and run as printed it reads the tree: join\'s CA hash is openssl\'s of the tree\'s new CA', async () => {
  const { base, root } = treeCopy('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const oldHash = discoveryHash(path.join(pki, 'ca.crt'));
  fs.rmSync(pki, { recursive: true });
  const ops = path.join(base, 'ops');
  fs.mkdirSync(ops);
  const rb = spawnSync(process.execPath, [BIN, 'rebuild', '--root', root, '--new-ca', '--force', '--now', NOW], { cwd: ops, encoding: 'utf8' });
  assert.equal(rb.status, 0, rb.stdout + rb.stderr);
  const section = rb.stdout.slice(rb.stdout.indexOf('\nThen, outside this node:\n'));
  assert.ok(section.length > 30, rb.stdout);
  // every kubepki command the follow-ups print, as the shell reads it; those run on this node carry the tree
  const printed = [...section.matchAll(/`(kubepki [^`]*)`( there)?/g)].map((m) => ({ command: m[1]!, there: m[2] !== undefined, argv: words(m[1]!) }));
  const named = (re: RegExp) => { const c = printed.find((p) => re.test(p.command)); assert.ok(c, `${re}: ${section}`); return c; };
  const join = named(/^kubepki join\b/);
  const exp = named(/^kubepki ca export\b/);
  const own = named(/^kubepki kubelet credentials --node cp-1\b/);
  const out = named(/^kubepki kubelet credentials --node NAME --out DIR\b/);
  const sa = named(/^kubepki sa refresh\b/);
  for (const c of printed) {
    if (c.there) assert.ok(!c.argv.includes('--root'), `${c.command} runs on another node: this tree's --root is not its`);
    else assert.deepEqual(c.argv.slice(c.argv.indexOf('--root')), ['--root', root], `${c.command} runs here: it must name the tree`);
  }
  assert.ok(printed.some((c) => c.there && /^kubepki ca import\b/.test(c.command)), section);
  assert.ok(sa.argv.includes('--root'), 'sa refresh checks the re-issued tokens against the tree\'s new sa.pub');
  const caFile = path.join(pki, 'ca.crt');
  const newHash = discoveryHash(caFile);
  assert.notEqual(newHash, oldHash);

  // kubepki join, as printed: the CA hash of the tree's (new) CA, as kubeadm pins it
  const j = inShell(ops, join.command);
  assert.equal(j.status, 0, j.stdout + j.stderr);
  assert.match(j.stdout, /; CA hash (sha256:[0-9a-f]{64})\n/);
  assert.equal(/; CA hash (sha256:[0-9a-f]{64})\n/.exec(j.stdout)![1], newHash);
  assert.ok(j.stdout.includes(`--discovery-token-ca-cert-hash ${newHash}`), j.stdout);

  // kubepki ca export, as printed: it seals the tree's files (imported back into the tree, every one is the same)
  const e = inShell(ops, exp.command, null);
  assert.equal(e.status, 0, e.stdout + e.stderr);
  const key = /Certificate key \(keep it secret; needed to import\): ([0-9a-f]{64})/.exec(e.stdout)?.[1];
  assert.ok(key, e.stdout);
  const back = await cli(['ca', 'import', path.join(ops, 'shared.yaml'), '--certificate-key', key, '--root', root, '--dry-run', '--now', NOW]);
  assert.equal(back.code, 0, back.out + back.err);
  const lines = back.out.split('\n').filter((l) => l.startsWith('  '));
  assert.ok(lines.length >= 5 && lines.every((l) => /^ {2}same +\/etc\/kubernetes\/pki\//.test(l)), back.out);
  assert.ok(lines.some((l) => l.endsWith('/etc/kubernetes/pki/ca.key')), back.out);

  // kubepki kubelet credentials --node cp-1, as printed: a client certificate from the tree's CA, in the tree
  const k = inShell(ops, own.command);
  assert.equal(k.status, 0, k.stdout + k.stderr);
  const current = fs.readlinkSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  verifies(caFile, path.join(root, current));

  // kubepki kubelet credentials --node NAME --out DIR, as printed (NAME and DIR filled in): signed by the tree's CA
  const dir = path.join(base, 'for-worker-1');
  const w = inShell(ops, out.command.replace('NAME', 'worker-1').replace('DIR', dir));
  assert.equal(w.status, 0, w.stdout + w.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'etc/kubernetes/pki/ca.crt')), fs.readFileSync(caFile));
  const worker = fs.readlinkSync(path.join(dir, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  verifies(caFile, path.join(dir, worker));
});
