// Runs in a fresh process (as a real kubepki run would): time one scan of a
// tree, cold, and print {ms, certs, problems, threads} as JSON.
//   node scan-child.mjs scan DIR [workers]     fast scan (dist/ bundle, as shipped)
//   node scan-child.mjs inventory DIR          full readInventory (signatures verified)
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, dir, workersArg] = process.argv.slice(2);
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
if (mode === 'scan') {
  const { scanCertificates, NodeFs } = await import(pathToFileURL(path.join(repo, 'dist/index.js')).href);
  const fs = new NodeFs(dir);
  const opts = workersArg !== undefined ? { workers: Number(workersArg) } : {};
  const t0 = performance.now();
  const r = await scanCertificates(fs, ['/'], opts);
  const ms = performance.now() - t0;
  // touch every record field the inventory shows, so nothing is left unread
  let earliest = Infinity;
  for (const c of r.certificates) if (c.notAfter < earliest) earliest = c.notAfter;
  process.stdout.write(JSON.stringify({ ms, certs: r.certificates.length, problems: r.problems.length, threads: r.threads, earliest: new Date(earliest).toISOString() }) + '\n');
} else if (mode === 'inventory') {
  const { readInventory } = await import(pathToFileURL(path.join(repo, 'dist-test/src/inventory/read.js')).href);
  const { NodeFs } = await import(pathToFileURL(path.join(repo, 'dist-test/src/fs/node-fs.js')).href);
  const fs = new NodeFs(dir);
  const t0 = performance.now();
  const inv = readInventory({ fs, now: new Date('2026-11-23T00:00:00Z'), layouts: [], paths: ['/'] });
  const ms = performance.now() - t0;
  const signed = inv.certificates.filter((c) => c.signedBy).length;
  process.stdout.write(JSON.stringify({ ms, certs: inv.certificates.length, problems: inv.findings.filter((f) => f.code === 'corrupt' || f.code === 'unreadable').length, signed }) + '\n');
} else {
  throw new Error(`unknown mode ${mode}`);
}
