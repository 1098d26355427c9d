// Runs in a fresh process (as a real kubepki run would): time one scan of a
// tree, cold, and print {ms, msAll, certs, problems, threads} as JSON: `ms` to
// the earliest expiry (what go-scan computes), `msAll` after also reading every
// text field of every record (subject, issuer, serial, SANs).
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
  // what go-scan does with its certificates: find the earliest expiry
  let earliest = Infinity;
  for (const c of r.certificates) if (c.notAfter < earliest) earliest = c.notAfter;
  const ms = performance.now() - t0;
  // then every text field a row shows (decoded on first read): the price of a full listing
  let chars = 0;
  for (const c of r.certificates) {
    chars += c.subject.length + c.issuer.length + c.serial.length;
    for (const n of c.sans) chars += n.value.length;
  }
  const msAll = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, msAll, chars, certs: r.certificates.length, problems: r.problems.length, threads: r.threads, earliest: new Date(earliest).toISOString() }) + '\n');
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
