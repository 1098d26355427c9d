// Start-up: `kubepki check` on a copy of the kubeadm-1.26 fixture against bare
// `node -e 0`, interleaved in the same run (median of 15 each). Target: kubepki
// adds at most 30 ms.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, timeSpawn } from './lib/measure.mjs';

export async function bench(ctx) {
  const root = path.join(ctx.tmp, 'startup-kubeadm-1.26');
  fs.cpSync(path.join(ctx.fixtures, 'kubeadm-1.26'), root, { recursive: true, verbatimSymlinks: true });
  const bin = path.join(ctx.repo, 'bin', 'kubepki.js');
  const checkArgs = [bin, 'check', '--root', root, '--now', '2026-11-23'];
  const runs = Number(process.env.KUBEPKI_BENCH_STARTUP_RUNS ?? 15);
  // NODE_EXTRA_CA_CERTS makes every node process read and parse that bundle before its first line runs
  // (the system bundle, 140-odd certificates, is ~40 ms here). Some machines set it for all processes; it
  // is a cost of that machine's environment, paid alike by `node -e 0` and by kubepki, so both run without
  // it: the baseline is then Node's own start-up, comparable with shared/bench's `node -e 0` figure.
  const env = { ...process.env };
  const extraCa = env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_EXTRA_CA_CERTS;
  const spawn = (args) => timeSpawn(process.execPath, args, { env });
  // warm the page cache and check the command works before timing it
  const first = spawn(checkArgs);
  if (first.status !== 0) throw new Error(`kubepki check exited ${first.status}: ${first.stderr.split('\n')[0]}`);
  spawn(['-e', '0']);
  const bare = [], check = [], help = [], bareWithCa = [];
  for (let i = 0; i < runs; i++) {
    bare.push(spawn(['-e', '0']).ms);
    // (and as this machine runs node, for comparing with a baseline that may have been timed with it)
    if (extraCa) bareWithCa.push(timeSpawn(process.execPath, ['-e', '0']).ms);
    check.push(spawn(checkArgs).ms);
    help.push(spawn([bin, '--version']).ms);
  }
  const b = median(bare), c = median(check), h = median(help);
  const delta = c - b;
  // CPU time (user + system) says the same with less noise on a busy machine
  const cpuRows = [];
  if (fs.existsSync('/usr/bin/time')) {
    const cpu = (args) => {
      const r = timeSpawn('/usr/bin/time', ['-f', 'KPCPU %U %S', process.execPath, ...args], { env });
      const m = /KPCPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
      return m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN;
    };
    const cb = [], cc = [];
    for (let i = 0; i < Math.min(runs, 9); i++) { cb.push(cpu(['-e', '0'])); cc.push(cpu(checkArgs)); }
    cpuRows.push({ name: 'check CPU minus node -e 0 CPU', value: round(median(cc) - median(cb)), unit: 'ms', note: `user+sys, median of ${cb.length} (node -e 0: ${round(median(cb))} ms, check: ${round(median(cc))} ms; 10 ms clock ticks)` });
  }
  return [
    { name: 'node -e 0', value: round(b), unit: 'ms', note: `median of ${runs}${extraCa ? ` (NODE_EXTRA_CA_CERTS=${extraCa} is set here: unset for every timed process, kubepki's and node's)` : ''}` },
    ...(extraCa ? [{ name: 'node -e 0 with NODE_EXTRA_CA_CERTS', value: round(median(bareWithCa)), unit: 'ms', note: `median of ${runs}; not used for the delta, only to scale it (see the scaled rows)` }] : []),
    { name: 'kubepki --version', value: round(h), unit: 'ms', note: `median of ${runs} (CLI bundle load only)` },
    { name: 'kubepki check (kubeadm-1.26)', value: round(c), unit: 'ms', note: `median of ${runs}; ${first.stdout.trim().split('\n').pop()}` },
    { name: 'check minus node -e 0', value: round(delta), unit: 'ms', note: `${delta <= 30 ? 'target ≤ 30 ms: met' : 'target ≤ 30 ms: NOT met'} (load ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism?.() ?? os.cpus().length} cores)` },
    ...cpuRows,
  ];
}

const round = (x) => Math.round(x * 10) / 10;
