// Bench: `kubepki serve` holding a 10,000-certificate tree.
// Starts the real CLI (dist/cli.cjs through bin/kubepki.js) as a child process on
// the generated tree (bench/lib/gen-tree.mjs), then measures: time to the first
// complete read, resident memory, CPU spent reading, CPU while idle, and the
// time and size of one /metrics scrape (plus /api/inventory and the dashboard).
// Run alone: npm run build && node bench/serve.mjs
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ensureTree } from './lib/gen-tree.mjs';

const TICK = 100; // USER_HZ on Linux: /proc/<pid>/stat counts CPU time in 1/100 s

function procStats(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[11]) + Number(f[12])) / TICK; // utime + stime
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpu, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

function get(url, gzip = false) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    http.get(url, { headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
    }).on('error', reject);
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export async function bench(ctx = {}) {
  const repo = ctx.repo ?? process.cwd();
  const count = ctx.serveCerts ?? 10000;
  const tree = await ensureTree(count, repo);
  // The tree is one directory of certificate files; serve reads it as an extra --path of a root.
  const root = path.dirname(tree.dir);
  const nodeDir = '/' + path.basename(tree.dir);
  const bin = path.join(repo, 'bin/kubepki.js');
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [bin, 'serve', '--root', root, '--path', nodeDir, '--listen', '127.0.0.1:0', '--interval', '1h', '--layout', 'generic'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    const url = await new Promise((resolve, reject) => {
      const t = setInterval(() => {
        const m = /listening on (http:\/\/\S+\/)/.exec(stderr);
        if (m) { clearInterval(t); resolve(m[1]); }
      }, 20);
      child.on('exit', (code) => { clearInterval(t); reject(new Error(`serve exited ${code}: ${stderr}`)); });
      setTimeout(() => { clearInterval(t); reject(new Error(`serve did not start in 300 s: ${stderr}`)); }, 300000);
    });
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const afterRead = procStats(child.pid);
    const certsServed = /(\d+) certificates under/.exec(stderr)?.[1];

    // idle: no scrape, no change on disk
    await new Promise((r) => setTimeout(r, 5000));
    const idle = procStats(child.pid);
    const idleCpuPct = ((idle.cpu - afterRead.cpu) / 5) * 100;

    // scrapes, as Prometheus makes them (Accept-Encoding: gzip), and without compression
    const first = await get(url + 'metrics');
    const firstGz = await get(url + 'metrics', true);
    const times = [];
    for (let i = 0; i < 20; i++) times.push((await get(url + 'metrics', true)).ms);
    const rawTimes = [];
    for (let i = 0; i < 10; i++) rawTimes.push((await get(url + 'metrics')).ms);
    const cpuBeforeScrapes = procStats(child.pid).cpu;
    for (let i = 0; i < 20; i++) await get(url + 'metrics', true);
    const cpuPerScrapeMs = ((procStats(child.pid).cpu - cpuBeforeScrapes) / 20) * 1000;
    const api = await get(url + 'api/inventory');
    const page = await get(url);
    const end = procStats(child.pid);
    const note = `${certsServed ?? tree.certs} certificates in ${tree.files} files, one process (bin/kubepki.js serve)`;
    return [
      { name: 'serve: start to first complete read', value: Math.round(readyMs), unit: 'ms', note },
      { name: 'serve: CPU for start + first read', value: Number(afterRead.cpu.toFixed(2)), unit: 's', note: 'utime+stime from /proc' },
      { name: 'serve: resident memory holding the tree', value: Math.round(end.rssMiB), unit: 'MiB', note: `after the scrapes below; peak ${Math.round(end.hwmMiB)} MiB (VmHWM), ${Math.round(afterRead.rssMiB)} MiB after the first read, ${Math.round(idle.rssMiB)} MiB after 5 s idle (V8 gives memory back when its memory reducer runs, some seconds after its last full GC)` },
      { name: 'serve: CPU while idle', value: Number(idleCpuPct.toFixed(2)), unit: '%', note: '5 s without scrapes or changes' },
      { name: 'serve: one /metrics scrape (gzip, as Prometheus)', value: Number(median(times).toFixed(2)), unit: 'ms', note: `median of 20; ${(firstGz.bytes / 1024 / 1024).toFixed(2)} MiB on the wire, rendered once per read` },
      { name: 'serve: one /metrics scrape (no gzip)', value: Number(median(rawTimes).toFixed(2)), unit: 'ms', note: `median of 10; ${(first.bytes / 1024 / 1024).toFixed(2)} MiB of text` },
      { name: 'serve: server CPU per /metrics scrape', value: Number(cpuPerScrapeMs.toFixed(1)), unit: 'ms', note: '20 scrapes, /proc CPU time (1/100 s resolution)' },
      { name: 'serve: /metrics size', value: Math.round(first.bytes / 1024), unit: 'KiB', note: `${(first.bytes / Number(certsServed ?? tree.certs)).toFixed(0)} bytes per certificate` },
      { name: 'serve: /api/inventory', value: Number(api.ms.toFixed(1)), unit: 'ms', note: `${(api.bytes / 1024 / 1024).toFixed(1)} MiB JSON` },
      { name: 'serve: dashboard page', value: Number(page.ms.toFixed(1)), unit: 'ms', note: `${(page.bytes / 1024).toFixed(0)} KiB HTML (inventories over 1 MiB are fetched by the page, not embedded)` },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await bench()) console.log(`${row.name.padEnd(52)} ${String(row.value).padStart(10)} ${row.unit.padEnd(4)} ${row.note}`);
}
