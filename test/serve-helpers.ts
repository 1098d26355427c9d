// Shared by the serve and dashboard tests: fixture copies, a server over the
// real reader, and small HTTP helpers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { startServer, type RunningServer, type ServeOptions } from '../src/server/server.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { Inventory } from '../src/inventory/types.js';

export const FIXTURES = path.resolve(process.cwd(), '../shared/fixtures');
export const NOW = new Date('2026-11-23T00:00:00Z');

function makeWritable(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) { fs.chmodSync(p, 0o755); makeWritable(p); }
    else fs.chmodSync(p, /\.key$/.test(e.name) ? 0o600 : 0o644);
  }
}

/** A writable copy of a fixture tree in a fresh temp dir. */
export function copyFixture(name: string): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-serve-'));
  const root = path.join(tmp, name);
  fs.cpSync(path.join(FIXTURES, name), root, { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(root, 0o755);
  makeWritable(root);
  return root;
}

export function removeCopy(root: string): void {
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
}

export function readFixture(root: string, now = NOW): Inventory {
  return readInventory({ fs: new NodeFs(root), now });
}

/** `kubepki check -o json` on the tree, parsed. */
export async function checkJson(root: string, now = '2026-11-23'): Promise<{ text: string; inv: Inventory }> {
  const io = memoryIo();
  await run(['check', '--root', root, '--now', now, '-o', 'json'], io);
  assert(io.out.startsWith('{'), `check -o json printed JSON: ${io.err}`);
  return { text: io.out, inv: JSON.parse(io.out) as Inventory };
}

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export async function serveFixture(root: string, extra: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return startServer({
    root,
    listen: { host: '127.0.0.1', port: 0 },
    intervalSeconds: 3600,
    // (as `kubepki serve --now 2026-11-23` reads: what checkJson's check prints)
    read: (now) => readInventory({ fs: new NodeFs(root), now, nowGiven: '2026-11-23' }),
    now: () => NOW,
    watch: false,
    ...extra,
  });
}

export interface Got { status: number; headers: http.IncomingHttpHeaders; body: string }

export function get(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
