// Start-up in instructions: `kubepki check` on a copy of the kubeadm-1.26 fixture against `node -e 0`, counted
// by valgrind's callgrind (skipped when valgrind is missing). Wall times on a shared 2-core VM swing by a third
// within minutes; instruction counts repeat to within ~1 M, so this is the figure to compare commits with (the
// wall-time row of startup.mjs stays the figure of record for the 30 ms).
//
// Two things make the counts comparable:
// - V8 searches a random prime for its hash seed at every start (HashSeed::InitializeRoots: 5 to 20 M
//   instructions, different each run): its inclusive cost is subtracted.
// - Both run as the bench's other processes do, with stdout and stderr on a socketpair (spawnSync): what
//   kubepki loads to write its output depends on what stdout is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

function valgrindAvailable() {
  return spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Instructions of one run of `node ARGS`, less V8's random hash-seed search, in millions. */
function instructions(ctx, env, args) {
  const out = path.join(ctx.tmp, `callgrind.${process.pid}.${Math.random().toString(36).slice(2)}`);
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`valgrind node ${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(out, 'utf8'))?.[1]);
  const ann = spawnSync('callgrind_annotate', ['--inclusive=yes', out], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout ?? '';
  const seed = Number((/^\s*([\d,]+) .*HashSeed::InitializeRoots/m.exec(ann)?.[1] ?? '0').replace(/,/g, ''));
  fs.rmSync(out, { force: true });
  if (!Number.isFinite(total) || total <= 0) throw new Error('callgrind wrote no total');
  return (total - seed) / 1e6;
}

export async function bench(ctx) {
  if (!valgrindAvailable()) return [{ name: 'check minus node -e 0 (instructions)', value: null, unit: 'M instr', note: 'skipped: valgrind is not installed (apt-get install valgrind)' }];
  const root = path.join(ctx.tmp, 'instructions-kubeadm-1.26');
  fs.cpSync(path.join(ctx.fixtures, 'kubeadm-1.26'), root, { recursive: true, verbatimSymlinks: true });
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const bin = path.join(ctx.repo, 'bin', 'kubepki.js');
  const check = [bin, 'check', '--root', root, '--now', '2026-11-23'];
  // (the first check may write the code cache: not counted)
  spawnSync(process.execPath, check, { env });
  const runs = Number(process.env.KUBEPKI_BENCH_INSTRUCTION_RUNS ?? 2);
  const bare = [], chk = [];
  for (let i = 0; i < runs; i++) {
    bare.push(instructions(ctx, env, ['-e', '0']));
    chk.push(instructions(ctx, env, check));
  }
  const min = (xs) => Math.min(...xs);
  const round = (x) => Math.round(x * 10) / 10;
  return [
    { name: 'node -e 0 (instructions)', value: round(min(bare)), unit: 'M instr', note: `callgrind, least of ${runs}, V8's random hash-seed search subtracted` },
    { name: 'kubepki check (instructions)', value: round(min(chk)), unit: 'M instr', note: `kubeadm-1.26 copy, stdout a socketpair; runs ${chk.map(round).join(', ')}` },
    { name: 'check minus node -e 0 (instructions)', value: round(min(chk) - min(bare)), unit: 'M instr', note: 'what kubepki adds, load-independent: compare commits with this (about 3.75 M instructions per ms on this VM in Dec 2026)' },
  ];
}
