// Rebuild: `kubepki rebuild` of a whole kubeadm control-plane node from flags
// alone (3 CAs, 7 leaves, sa.key, 4 kubeconfigs, 4 manifests — 15 keys), as a
// whole CLI process, with RSA-2048 and with ECDSA P-256 keys. Beside it, the
// same number of RSA-2048 keys made with `openssl genrsa` one after another in
// one shell loop (the by-hand procedure of seeds 001/003 does at least that).
// Rounds are interleaved so machine load hits every variant alike; medians.
// Target (issue 4): RSA rebuild ≤ 60% of the sequential openssl time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, timeSpawn } from './lib/measure.mjs';

const ROUNDS = Number(process.env.KUBEPKI_BENCH_REBUILD_ROUNDS ?? 5);

function rebuildOnce(ctx, keyType, n) {
  const root = path.join(ctx.tmp, `rebuild-${keyType}-${n}`);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const r = timeSpawn(process.execPath, [
    path.join(ctx.repo, 'bin/kubepki.js'), 'rebuild', '--root', root, '--now', '2026-11-23T00:00:00Z',
    '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1',
    '--control-plane-endpoint', 'cluster-api.example.test:6443', '--cert-sans', 'cluster-api.example.test,192.0.2.100',
    '--key-type', keyType,
  ]);
  if (r.status !== 0) throw new Error(`rebuild ${keyType} failed: ${r.stderr.split('\n')[0]}`);
  const keys = Number(/\((\d+) new keys\)/.exec(r.stdout)?.[1]);
  const files = Number(/Wrote (\d+) files/.exec(r.stdout)?.[1]);
  fs.rmSync(root, { recursive: true, force: true });
  return { ms: r.ms, keys, files };
}

function opensslSequential(keys) {
  const r = timeSpawn('sh', ['-c', `i=0; while [ $i -lt ${keys} ]; do openssl genrsa -out /dev/null 2048 2>/dev/null || exit 1; i=$((i+1)); done`]);
  if (r.status !== 0) throw new Error('openssl genrsa failed');
  return r.ms;
}

export async function bench(ctx) {
  const rsa = [], ec = [], ossl = [];
  let keys = 15, files = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const a = rebuildOnce(ctx, 'rsa-2048', i);
    keys = a.keys; files = a.files;
    rsa.push(a.ms);
    ossl.push(opensslSequential(keys));
    ec.push(rebuildOnce(ctx, 'ecdsa-p256', i).ms);
    ctx.log(`round ${i + 1}/${ROUNDS}: rsa ${a.ms.toFixed(0)} ms, openssl ${ossl.at(-1).toFixed(0)} ms, ecdsa ${ec.at(-1).toFixed(0)} ms`);
  }
  // In-process: wall time against CPU time (all threads) of the same RSA rebuild = how
  // parallel key generation really was on this machine at this load.
  const { rebuild } = await import(pathToFileURL(path.join(ctx.repo, 'dist-test/src/rebuild/run.js')).href);
  const { NodeFs } = await import(pathToFileURL(path.join(ctx.repo, 'dist-test/src/fs/node-fs.js')).href);
  const par = [];
  for (let i = 0; i < 3; i++) {
    const root = path.join(ctx.tmp, `rebuild-inproc-${i}`);
    fs.mkdirSync(root, { recursive: true });
    const src = (v) => ({ value: v, source: 'bench' });
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    await rebuild({ fs: new NodeFs(root), now: new Date('2026-11-23T00:00:00Z'), flags: { nodeName: src('cp-1'), advertiseAddress: src('192.0.2.10'), kubernetesVersion: src('v1.26.1') } });
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(c0);
    par.push({ wall, cpu: (cpu.user + cpu.system) / 1000 });
    fs.rmSync(root, { recursive: true, force: true });
  }
  const pWall = median(par.map((p) => p.wall)), pCpu = median(par.map((p) => p.cpu));
  const mRsa = median(rsa), mEc = median(ec), mOssl = median(ossl);
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const load = os.loadavg()[0].toFixed(1);
  return [
    { name: 'rebuild, RSA-2048 (whole CLI)', value: Math.round(mRsa), unit: 'ms', note: `${files} files, ${keys} keys generated in parallel; median of ${ROUNDS}` },
    { name: 'rebuild, ECDSA P-256 (whole CLI)', value: Math.round(mEc), unit: 'ms', note: `same tree; median of ${ROUNDS}` },
    { name: `openssl genrsa 2048 × ${keys}, one after another`, value: Math.round(mOssl), unit: 'ms', note: 'the keys alone, sequential shell loop' },
    { name: 'rebuild RSA-2048 in-process: CPU time / wall time', value: Number((pCpu / pWall).toFixed(2)), unit: '×', note: `wall ${Math.round(pWall)} ms, CPU ${Math.round(pCpu)} ms: effective parallelism of key generation (median of 3)` },
    { name: 'RSA rebuild / sequential openssl', value: Math.round((mRsa / mOssl) * 100), unit: '%', note: `target ≤ 60% (${cores} cores, load ${load}: parallel key generation cannot beat 1/cores)` },
  ];
}
