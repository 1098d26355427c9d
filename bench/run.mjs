// `npm run bench`: run every bench/*.mjs (except this file) and print one table.
// Each bench module exports `async function bench(ctx)` returning rows
// `{ name, value, unit, note }`. A bench that throws (or times out) becomes an
// error row and the run goes on. Results also go to bench/out/results.json.
//
//   node bench/run.mjs               every bench
//   node bench/run.mjs scan startup  only these (file names without .mjs)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(benchDir);
const only = process.argv.slice(2);
const PER_BENCH_TIMEOUT_MS = Number(process.env.KUBEPKI_BENCH_TIMEOUT_MS ?? 100_000);

const files = fs.readdirSync(benchDir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')))
  .sort((a, b) => order(a) - order(b) || a.localeCompare(b));

function order(f) {
  // the headline figures first
  return ['startup.mjs', 'scan.mjs'].includes(f) ? ['startup.mjs', 'scan.mjs'].indexOf(f) : 10;
}

const ctx = {
  repo,
  fixtures: path.resolve(repo, '../shared/fixtures'),
  sharedBench: path.resolve(repo, '../shared/bench'),
  tmp: fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-bench-')),
  log: (msg) => process.stderr.write(`  ${msg}\n`),
};

const rows = [];
const started = Date.now();
process.stderr.write(`kubepki bench: ${files.length} bench file(s), node ${process.version}, ${os.availableParallelism?.() ?? os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
for (const f of files) {
  const bench = f.replace(/\.mjs$/, '');
  const t0 = Date.now();
  process.stderr.write(`- ${bench} …\n`);
  let timer;
  try {
    const mod = await import(pathToFileURL(path.join(benchDir, f)).href);
    if (typeof mod.bench !== 'function') throw new Error(`${f} does not export async function bench(ctx)`);
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${PER_BENCH_TIMEOUT_MS / 1000} s`)), PER_BENCH_TIMEOUT_MS); });
    const out = await Promise.race([mod.bench({ ...ctx, log: (m) => ctx.log(`${bench}: ${m}`) }), timeout]);
    if (!Array.isArray(out)) throw new Error('bench() did not return an array of rows');
    for (const r of out) rows.push({ bench, name: String(r.name), value: r.value, unit: r.unit ?? '', note: r.note ?? '' });
  } catch (e) {
    rows.push({ bench, name: `${bench} (failed)`, value: null, unit: '', note: `error: ${String(e?.message ?? e).split('\n')[0]}` });
  } finally {
    clearTimeout(timer);
  }
  process.stderr.write(`  ${bench} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
fs.rmSync(ctx.tmp, { recursive: true, force: true });

// The start-up target (30 ms) was set on the machines shared/bench describes: `node -e 0` about 47 ms,
// the Go scan baseline ~85,000 certificates/s. When this run measured them too, the start-up delta is also shown
// scaled by this machine's speed against that one, both ways: estimates, next to (never instead of) the
// measured figure. The two disagree when this machine is slow at one kind of work and not the other (start-up
// is page faults and cold code; the scan is warm JIT code), which is why neither decides the target.
const delta = rows.find((r) => r.bench === 'startup' && r.name === 'check minus node -e 0')?.value;
const nodeHere = rows.find((r) => r.bench === 'startup' && r.name === 'node -e 0')?.value;
const goRate = rows.find((r) => r.bench === 'scan' && r.name === 'Go crypto/x509 scan (baseline)')?.value;
const scaledRow = (name, factor, how) => {
  const scaled = Math.round(delta * factor * 10) / 10;
  rows.push({ bench: 'startup', name, value: scaled, unit: 'ms', note: `estimate: ${delta} ms × ${how}; ${scaled <= 30 ? '≤ 30 ms' : '> 30 ms'} at that speed. The measured row is the figure of record` });
};
// (shared/bench does not say whether its 47 ms had NODE_EXTRA_CA_CERTS set, as every process here has: both)
const nodeWithCa = rows.find((r) => r.bench === 'startup' && r.name === 'node -e 0 with NODE_EXTRA_CA_CERTS')?.value;
if (typeof delta === 'number' && typeof nodeHere === 'number' && nodeHere > 0) {
  scaledRow('check minus node -e 0, scaled by node', 47 / nodeHere, `(node -e 0 ~47 ms on the issue's machine ÷ ${nodeHere} ms here, both without NODE_EXTRA_CA_CERTS)`);
}
if (typeof delta === 'number' && typeof nodeWithCa === 'number' && nodeWithCa > 0) {
  scaledRow('check minus node -e 0, scaled by node with CA file', 47 / nodeWithCa, `(node -e 0 ~47 ms on the issue's machine ÷ ${nodeWithCa} ms here, both with this machine's NODE_EXTRA_CA_CERTS)`);
}
if (typeof delta === 'number' && typeof goRate === 'number' && goRate > 0) {
  scaledRow('check minus node -e 0, scaled by Go', goRate / 85_000, `(Go baseline here ${Math.round(goRate).toLocaleString('en-US')}/s ÷ ~85,000/s on the issue's machine)`);
}

const fmt = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 })) : String(v));
const table = [['BENCH', 'MEASURE', 'VALUE', 'UNIT', 'NOTE'], ...rows.map((r) => [r.bench, r.name, fmt(r.value), r.unit, r.note])];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => (i === 4 ? 0 : row[i].length))));
for (const row of table) {
  process.stdout.write(`${row.map((c, i) => (i === 4 ? c : i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ')}\n`);
}
const total = (Date.now() - started) / 1000;
process.stdout.write(`\n(${total.toFixed(1)} s total)\n`);
fs.mkdirSync(path.join(benchDir, 'out'), { recursive: true });
fs.writeFileSync(path.join(benchDir, 'out', 'results.json'), JSON.stringify({
  date: new Date().toISOString(), node: process.version, cores: os.availableParallelism?.() ?? os.cpus().length,
  loadavg: os.loadavg(), seconds: total, rows,
}, null, 2) + '\n');
// A bench that leaves a handle open (a server, a child) must not keep the run alive.
process.exit(0);
