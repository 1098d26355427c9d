/** Helpers for the renew/apply tests: fixture copies, openssl, CLI runs, tree snapshots. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { copyFixture as copyFixtureInto } from './support/fixtures.js';

export const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures');
export const NOW = '2026-11-23T00:00:00Z';

const made: string[] = [];
process.on('exit', () => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

export function tmp(prefix = 'kubepki-renew-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A fixture copy (see support/fixtures.ts) removed at exit, with the kubelet's -current link made a real symlink. */
export function copyFixture(name: string): string {
  return copyFixtureInto(name, { dir: tmp(`kubepki-${name}-`), realSymlinks: true });
}

export function sh(cmd: string, args: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
}

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** Run the CLI in its own process (so it can be SIGKILLed, e.g. by KUBEPKI_TEST_CRASH_AT=<write step>). */
export function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', `import { main } from ${JSON.stringify(MAIN)}; main(process.argv.slice(1));`, ...args], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

/** `sha256:` + hex SHA-256 of the certificate's SubjectPublicKeyInfo, computed by openssl (the kubeadm discovery pin). */
export function discoveryHash(certFile: string): string {
  const pub = sh('openssl', ['x509', '-noout', '-pubkey', '-in', certFile]);
  if (pub.status !== 0) throw new Error(`openssl x509 -pubkey -in ${certFile}: ${pub.stderr}`);
  const der = sh('sh', ['-c', 'openssl pkey -pubin -outform der | openssl dgst -sha256 -r'], pub.stdout);
  if (der.status !== 0) throw new Error(`openssl pkey | dgst: ${der.stderr}`);
  return `sha256:${der.stdout.split(' ')[0]}`;
}

/** The built CLI (bin/kubepki.js), for runs in their own process and directory. */
export const BIN = path.resolve('bin/kubepki.js');

/**
 * A command kubepki printed, run as printed: by a shell (its quoting is the printed one), from CWD, with the built
 * CLI for `kubepki` and the test's clock added (--now NOW; none for a command that reads no clock: `now` null).
 */
export function inShell(cwd: string, command: string, now: string | null = NOW): { stdout: string; stderr: string; status: number | null } {
  return spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${command.replace(/^kubepki /, '')}${now ? ` --now ${now}` : ''}`], { cwd, encoding: 'utf8' });
}

export async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(env);
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** sha256 of every file and symlink target under a root, except kubepki's own state. */
export function snapshotTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, d.name);
      const rel = path.relative(root, q);
      if (rel.startsWith('var/lib/kubepki')) continue;
      if (d.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(q)}`);
      else if (d.isDirectory()) walk(q);
      else out.set(rel, `${(fs.statSync(q).mode & 0o777).toString(8)} ${createHash('sha256').update(fs.readFileSync(q)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

/** The text of `openssl x509 -text` without what renewal must change (serial, validity, AKI, signature, key when new). */
export function stableText(pemFile: string, index = 0): string {
  const pems = fs.readFileSync(pemFile, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
  const r = sh('openssl', ['x509', '-noout', '-text', '-certopt', 'no_serial,no_validity,no_sigdump,no_pubkey'], pems[index]);
  return r.stdout
    .replace(/X509v3 Authority Key Identifier:\s*\n\s*[0-9A-F:]+\n/, '')
    .replace(/Signature Algorithm:.*\n/g, '');
}

export function certPems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
}
