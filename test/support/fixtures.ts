import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { spawnSync } from 'node:child_process';

/** The shared fixtures, beside the repository (../shared/fixtures). */
export const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures');

export const NOW = new Date('2026-11-23T00:00:00Z');

/**
 * Copy a fixture tree to a fresh temp dir (fixtures are never edited), keeping
 * symlinks as they are and making files writable (keys 0600, others 0644) the
 * way a real node has them.
 */
export function copyFixture(name: string, o: { dir?: string; realSymlinks?: boolean } = {}): string {
  const dst = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kubepki-${name}-`));
  fs.cpSync(path.join(FIXTURES, name), dst, { recursive: true, verbatimSymlinks: true });
  const fix = (p: string) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, d.name);
      if (d.isSymbolicLink()) continue;
      if (d.isDirectory()) { fs.chmodSync(q, 0o755); fix(q); continue; }
      // a checkout without symlinks leaves a small file holding the absolute target: optionally a link again
      if (o.realSymlinks && /-current\.pem$/.test(d.name)) {
        const text = fs.readFileSync(q, 'utf8').trim();
        if (/^\/[^\n]*\.pem$/.test(text)) { fs.rmSync(q); fs.symlinkSync(text, q); continue; }
      }
      fs.chmodSync(q, /(\.key|-key\.pem|\.conf|kubelet-client-.*\.pem)$/.test(d.name) ? 0o600 : 0o644);
    }
  };
  fs.chmodSync(dst, 0o755);
  fix(dst);
  return dst;
}

export function tmpDir(prefix = 'kubepki-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function openssl(args: string[], input?: string | Buffer): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
}

/** openssl's standard output; a failure fails the test, naming the command and what openssl said. */
export function opensslOk(args: string[], input?: string | Buffer): string {
  const r = openssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
