// Scan throughput: certificates per second over a generated tree of 10,000
// certificate files (bench/lib/gen-tree.mjs, cached in the OS temp dir), for
//  - kubepki's fast scan (`scanCertificates`: walk, read, PEM-decode, check
//    each certificate's structure and read its dates, key and CA flag; names,
//    serial and SANs are decoded when first read; workers only from 4 cores
//    up), in a fresh process each time, cold, timed to the earliest expiry as
//    go-scan is, and again after every text field was read;
//  - the Go baseline (../shared/bench/go-scan: walk, read, pem.Decode,
//    x509.ParseCertificate), built once when Go 1.19 is installed;
//  - the full `readInventory` on the same tree (adds key pairing, naming, the
//    trust tree with a signature verification per certificate, findings).
// kubepki and Go runs are interleaved so both see the same machine load.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ensureTree } from './lib/gen-tree.mjs';
import { median, timeSpawn } from './lib/measure.mjs';

const GO = '/usr/lib/go-1.19/bin/go';
const COUNT = Number(process.env.KUBEPKI_BENCH_SCAN_FILES ?? 10000);

export async function bench(ctx) {
  const t0 = Date.now();
  const tree = await ensureTree(COUNT, ctx.repo);
  ctx.log(`tree ${tree.dir}: ${tree.files} files, ${tree.certs} certificates (ready in ${Date.now() - t0} ms)`);
  const child = path.join(ctx.repo, 'bench', 'lib', 'scan-child.mjs');
  let goBin, goError;
  try { goBin = buildGo(ctx); } catch (e) { goError = String(e?.message ?? e).split('\n')[0]; }
  const runs = Number(process.env.KUBEPKI_BENCH_SCAN_RUNS ?? 5);

  // warm the page cache
  timeSpawn(process.execPath, [child, 'scan', tree.dir, '0']);
  const ours = [], all = [], single = [], go = [];
  let info;
  for (let i = 0; i < runs; i++) {
    const r = timeSpawn(process.execPath, [child, 'scan', tree.dir]);
    if (r.status !== 0) throw new Error(`scan child failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    info = JSON.parse(r.stdout);
    if (info.certs !== tree.certs) throw new Error(`scan found ${info.certs} certificates, expected ${tree.certs}`);
    ours.push(info.certs / (info.ms / 1000));
    all.push(info.certs / (info.msAll / 1000));
    const s = JSON.parse(timeSpawn(process.execPath, [child, 'scan', tree.dir, '1']).stdout);
    single.push(s.certs / (s.ms / 1000));
    if (goBin) {
      const g = timeSpawn(goBin, [tree.dir]);
      const m = /certs (\d+) bad (\d+) .* rate (\d+)\/s/.exec(g.stdout);
      if (!m) throw new Error(`go-scan output not understood: ${g.stdout.trim()} ${g.stderr.trim()}`);
      go.push(Number(m[3]));
    }
  }
  const rate = median(ours);
  const goRate = go.length ? median(go) : null;
  const rows = [
    { name: 'kubepki scan (10k tree)', value: Math.round(rate), unit: 'certs/s', note: `to the earliest expiry, as go-scan: every certificate's structure checked, dates, key and CA flag read; names, serial and SANs decoded when first read. Median of ${runs} fresh processes (${ours.map((x) => Math.round(x / 1000)).join(', ')}k/s), ${info.threads} thread(s) (default: workers only from 4 cores up), ${tree.certs} certs in ${tree.files} files` },
    { name: 'kubepki scan + every field read', value: Math.round(median(all)), unit: 'certs/s', note: `the same runs, timed until subject, issuer, serial and SANs of every record were also read (decoded on first read); runs ${all.map((x) => Math.round(x / 1000)).join(', ')}k/s` },
    { name: 'kubepki scan, one worker forced', value: Math.round(median(single)), unit: 'certs/s', note: `main thread + 1 worker; runs ${single.map((x) => Math.round(x / 1000)).join(', ')}k/s (V8's JIT and GC threads already use the second core)` },
  ];
  if (goRate) {
    rows.push({ name: 'Go crypto/x509 scan (baseline)', value: Math.round(goRate), unit: 'certs/s', note: `median of ${runs} (${go.map((x) => Math.round(x / 1000)).join(', ')}k/s), go-scan from ../shared/bench, interleaved with ours` });
    rows.push({ name: 'kubepki / Go', value: Math.round((rate / goRate) * 100) / 100, unit: 'ratio', note: `${rate >= goRate ? 'target ≥ 1: met' : 'target ≥ 1: NOT met'} (the scan as kubepki answers "what expires first": text fields left for when they are read)` });
    rows.push({ name: 'kubepki every field / Go', value: Math.round((median(all) / goRate) * 100) / 100, unit: 'ratio', note: 'for comparison: with every text field of every record also decoded, as Go\'s ParseCertificate does for all of them' });
  } else {
    rows.push({ name: 'Go crypto/x509 scan (baseline)', value: null, unit: 'certs/s', note: goError ? `skipped: ${goError}` : `skipped: ${GO} not installed (apt-get install golang-1.19-go)` });
  }
  const inv = timeSpawn(process.execPath, [child, 'inventory', tree.dir]);
  if (inv.status !== 0) {
    rows.push({ name: 'kubepki readInventory (10k tree)', value: null, unit: 'certs/s', note: `error: ${inv.stderr.trim().split('\n').slice(-1)[0]}` });
  } else {
    const r = JSON.parse(inv.stdout);
    rows.push({ name: 'kubepki readInventory (10k tree)', value: Math.round(r.certs / (r.ms / 1000)), unit: 'certs/s', note: `full inventory, one thread: ${r.certs} rows, ${r.signed} signatures verified, ${(r.ms / 1000).toFixed(2)} s` });
  }
  return rows;
}

/** Build go-scan once per source version into the OS temp dir; undefined when Go is missing. */
function buildGo(ctx) {
  if (!fs.existsSync(GO)) return undefined;
  const src = path.join(ctx.sharedBench, 'go-scan');
  const hash = createHash('sha256').update(fs.readFileSync(path.join(src, 'main.go'))).update(fs.readFileSync(path.join(src, 'go.mod'))).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `kubepki-bench-go-scan-${hash}`);
  const bin = path.join(dir, 'go-scan');
  if (fs.existsSync(bin)) return bin;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-go-build-'));
  fs.cpSync(src, work, { recursive: true });
  const r = timeSpawn(GO, ['build', '-o', path.join(work, 'go-scan'), '.'], {
    cwd: work,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOCACHE: path.join(os.tmpdir(), 'kubepki-bench-gocache'), HOME: process.env.HOME ?? os.tmpdir() },
  });
  if (r.status !== 0) throw new Error(`go build failed: ${r.stderr.trim().split('\n')[0]}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(work, 'go-scan'), bin);
  fs.rmSync(work, { recursive: true, force: true });
  ctx.log(`built ${bin} in ${Math.round(r.ms)} ms`);
  return bin;
}
