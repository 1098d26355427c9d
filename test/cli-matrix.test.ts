// The CLI matrix: every command and sub-command held to the same rules, by running the built CLI as an operator
// does (bin/kubepki.js, output to pipes) on copies of the kubeadm-1.26 fixture. An operator who learned one command
// expects the others to behave alike: help with examples, one spelling and one meaning per flag, versioned
// machine output alone on stdout, one-line errors with exit 3 that write nothing, --dry-run that writes nothing,
// and follow-up commands that carry the --root they were given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import YAML from 'yaml';
import type { Command, Option } from 'commander';
import { COMMANDS } from '../src/cli/commands.js';
import { memoryIo } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { FIXTURES, which } from './support/fixtures.js';

const BIN = path.resolve(process.cwd(), 'bin/kubepki.js');
const NOW = ['--now', '2026-11-23'];
const STACK = /\n\s+at |node:internal|\.[cm]?js:\d+:\d+/;

interface Ran { status: number | null; stdout: string; stderr: string; argv: string[] }

/** Spawn the built CLI, output to pipes; no kubeconfig of this host is ever found (HOME is empty). */
function kubepki(args: string[], o: { cwd?: string; env?: Record<string, string | undefined>; uid?: number } = {}): Ran {
  const env: Record<string, string | undefined> = { ...process.env, KUBEPKI_DEBUG: '', NO_COLOR: undefined, KUBECONFIG: undefined, HOME: EMPTY_HOME, ...o.env };
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: o.cwd ?? WORK, encoding: 'utf8', timeout: 20_000,
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
  });
  const ran = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', argv: args };
  // a pipe never gets colour codes, whatever the command
  assert.doesNotMatch(ran.stdout + ran.stderr, /\x1b\[/, `colour codes to a pipe: kubepki ${args.join(' ')}`);
  assert.doesNotMatch(ran.stderr, STACK, `a stack trace: kubepki ${args.join(' ')}\n${ran.stderr}`);
  return ran;
}

/** The CLI run in this process (run(), output to memory), checked as `kubepki` checks a spawned run's output. */
async function inProcess(argv: string[]): Promise<Ran> {
  const io = memoryIo({ HOME: EMPTY_HOME });
  const status = await run(argv, io);
  const ran = { status, stdout: io.out, stderr: io.err, argv };
  assert.doesNotMatch(ran.stdout + ran.stderr, /\x1b\[/, `colour codes: kubepki ${argv.join(' ')}`);
  assert.doesNotMatch(ran.stderr, STACK, `a stack trace: kubepki ${argv.join(' ')}\n${ran.stderr}`);
  return ran;
}

/** The one-line error every refusal is: `kubepki: …` naming WHAT, maybe a hint line, exit 3, nothing on stdout. */
function assertUsageError(r: Ran, what: RegExp | string, code = 3): void {
  const label = `kubepki ${r.argv.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.status, code, label);
  assert.equal(r.stdout, '', label);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^kubepki: \S/, label);
  assert.ok(lines.length === 1 || (lines.length === 2 && /^ {2}hint: \S/.test(lines[1]!)), `one line and a hint: ${label}`);
  if (typeof what === 'string') assert.ok(lines[0]!.includes(what), `names ${what}: ${label}`);
  else assert.match(lines[0]!, what, label);
}

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-cli-matrix-'));
const EMPTY_HOME = path.join(WORK, 'home');
fs.mkdirSync(EMPTY_HOME);
process.on('exit', () => fs.rmSync(WORK, { recursive: true, force: true }));

/** A copy of a fixture tree, made as the brief says an operator makes one: cp -a. */
function tree(name = 'kubeadm-1.26'): string {
  const dst = fs.mkdtempSync(path.join(WORK, 'tree-'));
  fs.rmdirSync(dst);
  assert.equal(spawnSync('cp', ['-a', path.join(FIXTURES, name), dst]).status, 0);
  return dst;
}

/** Every path under DIR with its type, mode and content hash: equal before and after means nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      const what = e.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : e.isDirectory() ? 'dir' : createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      out.push(`${path.relative(dir, p)} ${(st.mode & 0o7777).toString(8)} ${what}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------- the commands, from the CLI itself

interface Leaf { words: string[]; cmd: Command }

/** Every command without sub-commands (check, ca export …), and the parents (ca, csr …) apart. */
async function commandTree(): Promise<{ leaves: Leaf[]; parents: Leaf[] }> {
  const leaves: Leaf[] = [];
  const parents: Leaf[] = [];
  for (const spec of COMMANDS) {
    const cmd = (await spec.load()).command(memoryIo());
    if (cmd.commands.length === 0) { leaves.push({ words: [spec.name], cmd }); continue; }
    parents.push({ words: [spec.name], cmd });
    for (const sub of cmd.commands) leaves.push({ words: [spec.name, sub.name()], cmd: sub });
  }
  return { leaves, parents };
}

const visible = (c: Command): Option[] => c.options.filter((o) => !o.hidden);
/**
 * Options the help leaves out on purpose. `--request-timeout` (seconds; kubectl's flag of that name takes a
 * duration, 0 for none, so it is kept out of sight rather than shown with another meaning), `--poll-ms` and
 * `--max-passes`: test knobs.
 */
const HIDDEN_ON_PURPOSE = new Set(['--request-timeout', '--poll-ms', '--max-passes']);
/** Other commands' spelling of a flag a command spells its own way, taken for it but not listed (aliasOption). */
const HIDDEN_ALIASES: Record<string, string[]> = {
  'kubelet credentials': ['--node-name'], rebuild: ['--node', '--kubeconfig'], serve: ['--node'], 'cluster-info update': ['--ca-cert'], join: ['--kubeconfig'],
};

test('help: every command and sub-command answers --help on stdout, exit 0, with its usage, examples of itself and every flag it accepts; a parent names its sub-commands', async () => {
  const { leaves, parents } = await commandTree();
  assert.ok(leaves.length >= 20, `${leaves.length} commands`);
  for (const { words, cmd } of [...leaves, ...parents]) {
    const name = words.join(' ');
    const r = kubepki([...words, '--help']);
    assert.equal(r.status, 0, name);
    assert.equal(r.stderr, '', name);
    assert.match(r.stdout, new RegExp(`^Usage: kubepki ${name} `, 'm'), name);
    const examples = /^Examples:\n((?: {2}.*\n?)+)/m.exec(r.stdout);
    assert.ok(examples, `kubepki ${name} --help has no Examples`);
    assert.ok(examples[1]!.split('\n').some((l) => l.trimStart().startsWith(`kubepki ${name}`)), `kubepki ${name} --help: no example runs kubepki ${name}`);
    assert.match(r.stdout, /^Exit codes\b/m, `kubepki ${name} --help: exit codes`);
    // every option it takes is in its help, and every one in its help it takes (the help is made from them)
    for (const o of cmd.options) {
      if (o.hidden) assert.ok(HIDDEN_ON_PURPOSE.has(o.long!) || HIDDEN_ALIASES[name]?.includes(o.long!), `kubepki ${name} accepts ${o.flags} but its help leaves it out`);
      else assert.ok(r.stdout.includes(o.flags), `kubepki ${name} --help lists no ${o.flags}`);
    }
    for (const sub of cmd.commands) assert.match(r.stdout, new RegExp(`^  ${sub.name()} `, 'm'), `kubepki ${name} --help names ${sub.name()}`);
  }
  // the top level too, and `help CMD` is `CMD --help`
  const top = kubepki(['--help']);
  assert.equal(top.status, 0);
  for (const spec of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${spec.name} `, 'm'));
  assert.equal(kubepki(['help', 'renew']).stdout, kubepki(['renew', '--help']).stdout);
});

test('help: every flag README.md gives a command (in code blocks and in `kubepki …` spans) is one its help lists', async () => {
  const { leaves, parents } = await commandTree();
  const byName = new Map([...leaves, ...parents].map((l) => [l.words.join(' '), l.cmd]));
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const spans = [...readme.matchAll(/`(kubepki [^`]+)`/g)].map((m) => m[1]!);
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) spans.push(...block[1]!.split('\n').flatMap((l) => /(kubepki [^|&#>]*)/.exec(l)?.[1] ?? []));
  let checked = 0;
  for (const span of spans) {
    const words = span.replace(/[[\]]/g, '').trim().split(/\s+/).slice(1);
    if (!/^[a-z]/.test(words[0] ?? '')) continue;
    const name = byName.has(`${words[0]} ${words[1]}`) ? `${words[0]} ${words[1]}` : words[0]!;
    const cmd = byName.get(name);
    assert.ok(cmd, `README names kubepki ${name}, which is no command: ${span}`);
    const flags = new Set(visible(cmd).flatMap((o) => [o.long, o.short]).filter(Boolean));
    for (const w of words.filter((x) => /^--?[a-z]/.test(x))) {
      assert.ok(flags.has(w.replace(/=.*$/, '')) || w === '--help', `README: kubepki ${name} ${w} — its help lists no ${w} (${span})`);
      checked++;
    }
  }
  assert.ok(checked > 40, `${checked} flags checked`);
});

test('flags: one spelling and one meaning everywhere (--root, --now, --warn, --backup-dir, --dry-run, -o/--output, --kubeconfig, --certificate-key, --ttl, --timeout)', async () => {
  const { leaves } = await commandTree();
  const seen = new Map<string, { name: string; o: Option }[]>();
  for (const { words, cmd } of leaves) for (const o of visible(cmd)) seen.set(o.long!, [...(seen.get(o.long!) ?? []), { name: words.join(' '), o }]);
  const all = (flag: string) => seen.get(flag) ?? [];
  const same = (flag: string, what: string, f: (o: Option) => unknown) => {
    const values = new Map(all(flag).map(({ name, o }) => [name, JSON.stringify(f(o))]));
    assert.equal(new Set(values.values()).size, 1, `${flag}: one ${what} everywhere, not ${JSON.stringify(Object.fromEntries(values))}`);
  };
  // the node tree, everywhere a command reads one (those that talk to the API read its admin.conf)
  assert.ok(all('--root').length >= 18);
  same('--root', 'argument', (o) => o.flags);
  // the clock: the same words, and the same checks (below)
  assert.ok(all('--now').length >= 18);
  same('--now', 'spelling and description', (o) => [o.flags, o.description]);
  same('--backup-dir', 'spelling and description', (o) => [o.flags, o.description]);
  same('--warn', 'argument and default', (o) => [o.flags, o.defaultValue]);
  same('--dry-run', 'form (a switch)', (o) => [o.flags, o.required, o.optional]);
  same('--kubeconfig', 'argument', (o) => o.flags);
  same('--certificate-key', 'argument', (o) => o.flags);
  same('--ttl', 'argument and default', (o) => [o.flags, o.defaultValue]);
  same('--timeout', 'argument (seconds)', (o) => o.flags);
  same('--token', 'argument', (o) => o.flags);
  same('--no-color', 'spelling and description', (o) => [o.flags, o.description]);
  // -o is --output everywhere, and its values are listed and checked by the parser
  for (const { name, o } of all('--output')) {
    assert.equal(o.flags, '-o, --output <format>', name);
    assert.ok(o.argChoices?.length, `kubepki ${name} -o lists no values`);
  }
  // short flags are kubectl's, with kubectl's meaning: -o output, -n namespace
  for (const { words, cmd } of leaves) {
    for (const o of visible(cmd)) if (o.short) assert.ok((o.short === '-o' && o.long === '--output') || (o.short === '-n' && o.long === '--namespace'), `kubepki ${words.join(' ')}: ${o.flags}`);
  }
  // every command that reads a node tree takes --root and --now, every one that writes node files --backup-dir and --dry-run
  const has = (name: string, flag: string) => all(flag).some((x) => x.name === name);
  for (const name of ['check', 'inspect', 'probe', 'renew', 'restore', 'rebuild', 'join', 'ca import', 'kubelet credentials', 'sa rotate', 'serve', 'report']) {
    assert.ok(has(name, '--root') && has(name, '--now'), `kubepki ${name} --root/--now`);
  }
  for (const name of ['renew', 'restore', 'rebuild', 'ca import', 'kubelet credentials', 'sa rotate']) {
    assert.ok(has(name, '--backup-dir') && has(name, '--dry-run'), `kubepki ${name} --backup-dir/--dry-run`);
  }
  // and every one that writes through the Kubernetes API (or a file for kubectl apply), --dry-run: only reads then
  for (const name of ['csr approve', 'cluster-info update', 'join', 'sa refresh']) assert.ok(has(name, '--dry-run'), `kubepki ${name} --dry-run`);
});

test('flags: a command takes the spelling other commands use for the same thing, hidden (--node-name/--node, --ca-cert for --ca, --kubeconfig with join --apply and rebuild --apply-cluster), so either works', async () => {
  const { leaves } = await commandTree();
  const byName = new Map(leaves.map((l) => [l.words.join(' '), l.cmd]));
  // each alias is stored as the option it stands for
  for (const [name, [alias, of]] of [['kubelet credentials', ['--node-name', '--node']], ['rebuild', ['--node', '--node-name']], ['serve', ['--node', '--node-name']], ['cluster-info update', ['--ca-cert', '--ca']]] as const) {
    const opts = byName.get(name)!.options;
    const a = opts.find((o) => o.long === alias), v = opts.find((o) => o.long === of);
    assert.ok(a?.hidden && v && !v.hidden, `kubepki ${name} ${alias}`);
    assert.equal(a.attributeName(), v.attributeName(), `kubepki ${name} ${alias} is ${of}`);
  }
  // kubelet credentials --node-name (rebuild's and serve's spelling) is --node, the required option satisfied
  const root = tree();
  const dry = (args: string[]) => kubepki(['kubelet', 'credentials', '--root', root, '--out', path.join(WORK, 'kubelet-alias'), '--dry-run', ...NOW, ...args]);
  const byNode = dry(['--node', 'worker-9']), byNodeName = dry(['--node-name', 'worker-9']);
  assert.equal(byNodeName.status, 0, byNodeName.stderr);
  assert.equal(byNodeName.stdout, byNode.stdout);
  assert.match(byNodeName.stdout, /system:node:worker-9/);
  // join --apply --kubeconfig FILE is --apply FILE (the kubeconfig csr, token and cluster-info take by that name);
  // alone it is refused, not taken for --apply
  const missing = path.join(WORK, 'no-such-kubeconfig');
  const out = path.join(WORK, 'join-alias.yaml');
  const viaApply = kubepki(['join', '--root', root, '--out', out, '--dry-run', '--apply', missing, ...NOW]);
  const viaAlias = kubepki(['join', '--root', root, '--out', out, '--dry-run', '--apply', '--kubeconfig', missing, ...NOW]);
  assert.equal(viaAlias.status, viaApply.status, viaAlias.stderr);
  assert.ok(viaApply.stderr.includes(missing), viaApply.stderr);
  assert.equal(viaAlias.stderr.replace(/token [a-z0-9]{6}\b/g, 'token X'), viaApply.stderr.replace(/token [a-z0-9]{6}\b/g, 'token X'));
  const alone = kubepki(['join', '--root', root, '--out', out, '--dry-run', '--kubeconfig', missing, ...NOW]);
  assert.equal(alone.status, 3);
  assert.match(alone.stderr, /^kubepki: --kubeconfig goes with --apply: it names the kubeconfig --apply reaches the cluster with\n/);
  const both = kubepki(['rebuild', '--root', root, '--dry-run', '--apply-cluster', '/a.conf', '--kubeconfig', '/b.conf', ...NOW]);
  assert.equal(both.status, 3);
  assert.match(both.stderr, /--apply-cluster \/a\.conf and --kubeconfig \/b\.conf name two kubeconfigs/);
});

// ---------------------------------------------------------------- errors: one line, exit 3, nothing written

/**
 * What each command is given besides the flag under test, so that only that flag can stop it: a real run's
 * arguments (the cluster commands get a kubeconfig that is not there, so a flag checked only after connecting
 * shows as "failed to read --kubeconfig", never as a connection attempt).
 */
function baseArgs(name: string, t: string): string[] {
  const noKubeconfig = ['--kubeconfig', path.join(WORK, 'no-such-kubeconfig')];
  const sealed = path.join(WORK, 'sealed.yaml');
  if (!fs.existsSync(sealed)) fs.writeFileSync(sealed, 'not sealed\n');
  const base: Record<string, string[]> = {
    check: [], inspect: ['/etc/kubernetes/pki/apiserver.crt'], probe: ['127.0.0.1:1'], renew: ['all'], restore: ['2026-11-23T00-00-00Z'],
    backups: [], demo: ['--dir', path.join(t, 'demo')], serve: ['--listen', '127.0.0.1:0', '--no-probe'], report: ['-o', 'json'],
    rebuild: ['--dry-run'], join: ['--out', path.join(t, 'join.yaml')], 'ca export': ['--out', path.join(t, 'sealed.yaml')],
    'ca import': [sealed, '--certificate-key', '0'.repeat(64)], 'kubelet credentials': ['--node', 'cp-1'], 'sa rotate': [],
    'csr list': noKubeconfig, 'csr approve': ['--all-valid', ...noKubeconfig], 'cluster-info update': noKubeconfig,
    'cluster-info show': noKubeconfig, 'sa refresh': ['--dry-run', ...noKubeconfig],
    'token list': noKubeconfig, 'token delete': ['--expired', ...noKubeconfig], 'token create': noKubeconfig,
  };
  assert.ok(base[name], `no base arguments for kubepki ${name}: add it to the matrix`);
  return base[name]!;
}

test('errors: a --root that does not exist, is a file, or may not be read: one line naming it, exit 3, nothing written — every command that takes --root', async () => {
  const { leaves } = await commandTree();
  const t = tree();
  fs.chmodSync(WORK, 0o755);
  const file = path.join(t, 'etc/kubernetes/admin.conf');
  const locked = path.join(WORK, 'locked-tree');
  fs.mkdirSync(locked);
  fs.cpSync(path.join(t, 'etc'), path.join(locked, 'etc'), { recursive: true });
  fs.chmodSync(locked, 0o000);
  // as root, the kernel lets it read anything: the unreadable tree is tried as nobody
  const asUser = process.getuid?.() === 0 ? { uid: 65534 } : {};
  const before = snapshot(t);
  try {
    let n = 0;
    for (const { words, cmd } of leaves) {
      const name = words.join(' ');
      if (!cmd.options.some((o) => o.long === '--root')) continue;
      const now = cmd.options.some((o) => o.long === '--now') ? NOW : [];
      // (in this process where no other user is needed: a spawn is ~150 ms, and the launcher is held to the same
      // rules by every other run of this file; ~60 spawns of it were a third of the file's time)
      for (const [root, what, o] of [
        [path.join(WORK, 'no-such-tree'), 'no such directory', undefined],
        [file, 'not a directory', undefined],
        [locked, 'permission denied', asUser],
      ] as const) {
        const argv = [...words, ...baseArgs(name, t), '--root', root, ...now];
        assertUsageError(o ? kubepki(argv, o) : await inProcess(argv), `failed to open --root ${root}: ${what}`);
        n++;
      }
    }
    assert.ok(n >= 54, `${n} runs`);
    assert.deepEqual(snapshot(t), before, 'nothing written');
  } finally {
    fs.chmodSync(locked, 0o755);
  }
});

test('errors: a file argument that is a directory names it, exit 3, and leaves nothing behind (no temp file beside it)', () => {
  const t = tree();
  const dir = path.join(t, 'etc/kubernetes/manifests');
  const before = snapshot(t);
  const root = ['--root', t, ...NOW];
  const cases: string[][] = [
    ['inspect', dir, ...root],
    ['check', '--kubeconfig', dir, ...root],
    ['ca', 'import', dir, '--certificate-key', '0'.repeat(64), ...root],
    ['rebuild', '--dry-run', '--config', dir, ...root],
    ['renew', 'all', '--dry-run', '--config', dir, ...root],
    ['renew', 'all', '--dry-run', '--plan-out', dir, ...root],
    ['join', '--out', dir, ...root],
    ['join', '--out', dir, '--force', ...root],
    ['ca', 'export', '--out', dir, '--root', t],
    ['ca', 'export', '--out', dir, '--force', '--root', t],
    ['report', '--html', dir, ...root],
    ['serve', '--bearer-token-file', dir, '--listen', '127.0.0.1:0', ...root],
    ['kubelet', 'credentials', '--node', 'cp-1', '--ca-cert', dir, '--dry-run', ...root],
  ];
  for (const argv of cases) {
    const r = kubepki(argv);
    // (as a node path under --root, or as the host path)
    assertUsageError(r, new RegExp(`(${dir}|/etc/kubernetes/manifests)\\b`));
    assert.deepEqual(snapshot(t), before, `nothing written: kubepki ${argv.join(' ')}`);
  }
  // a directory is no file that --force could write over, nor a permission problem: the hints do not send the user there
  assert.doesNotMatch(kubepki(['join', '--out', dir, ...root]).stderr, /--force/);
  assert.match(kubepki(['report', '--html', dir, ...root]).stderr, /\n {2}hint: give the path of a file, not a directory\n$/);
});

test('errors: unknown commands, missing arguments and bad flag values: one line naming what is wrong, exit 3, nothing written', async () => {
  const { leaves } = await commandTree();
  const t = tree();
  const before = snapshot(t);
  assertUsageError(kubepki(['frobnicate']), '"frobnicate"');
  assertUsageError(kubepki(['ca', 'frobnicate']), "'frobnicate'");
  // a command that needs a sub-command, given none, is a usage error as `kubepki` alone is: the help, exit 3
  for (const words of [[], ['ca'], ['csr'], ['sa'], ['kubelet'], ['cluster-info']]) {
    const r = kubepki(words);
    assert.equal(r.status, 3, `kubepki ${words.join(' ')}`);
    assert.match(r.stdout + r.stderr, /Usage: kubepki/);
  }
  for (const [argv, what] of [
    [['inspect'], 'source'], [['probe'], 'endpoint'], [['restore'], 'backup'], [['ca', 'import', '--certificate-key', '0'.repeat(64)], 'file'],
    [['ca', 'import', 'x.yaml'], '--certificate-key'], [['kubelet', 'credentials'], '--node'], [['csr', 'approve'], '--all-valid'],
  ] as const) assertUsageError(kubepki([...argv, '--root', t]), what);
  // every flag that takes a value, given a bad one, on every command that has it
  const bad: Record<string, string[]> = {
    '--now': ['garbage', ''], '--warn': ['abc'], '--output': ['bogus'], '--timeout': ['abc'], '--interval': ['abc'], '--ttl': ['abc'],
    '--validity': ['abc'], '--key-type': ['bogus'], '--layout': ['bogus'], '--certificate-key': ['zz'], '--backdate': ['abc'], '--days': ['abc'],
  };
  let n = 0;
  for (const { words, cmd } of leaves) {
    const name = words.join(' ');
    for (const o of visible(cmd)) {
      for (const value of bad[o.long!] ?? []) {
        const extra = (name === 'join' && o.long === '--certificate-key') ? ['--control-plane'] : (name === 'kubelet credentials' && o.long === '--ttl') ? ['--bootstrap', '--out', path.join(WORK, 'w1')] : [];
        const probeTimeout = name === 'inspect' && o.long === '--timeout' ? ['https://127.0.0.1:1'] : [];
        const argv = [...words, ...(probeTimeout.length ? probeTimeout : [...baseArgs(name, t), ...(name === 'demo' ? [] : ['--root', t])]), ...extra, ...(o.long === '--now' ? [] : visible(cmd).some((x) => x.long === '--now') ? NOW : []), o.long!, value];
        const r = kubepki(argv);
        assertUsageError(r, value === '' ? o.long! : new RegExp(`${o.long}|${o.short ?? o.long}|"?${value}"?`));
        n++;
      }
    }
  }
  assert.ok(n >= 40, `${n} runs`);
  // a flag given to a command it does nothing for is refused, as inspect refuses --timeout for a file
  assertUsageError(kubepki(['inspect', '/etc/kubernetes/pki/apiserver.crt', '--timeout', '3', '--root', t]), '--timeout');
  assertUsageError(kubepki(['kubelet', 'credentials', '--node', 'cp-1', '--ttl', '2h', '--dry-run', '--root', t, ...NOW]), '--ttl');
  assert.deepEqual(snapshot(t), before, 'nothing written');
});

// ---------------------------------------------------------------- writing commands: --dry-run, follow-ups

/** Every `kubepki CMD …` an output tells the user to run, each up to the next one on its line (not prose: "kubepki restore and renew print them"). */
function followUps(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/\bkubepki (?:check|inspect|probe|renew|restore|backups|rebuild|join|ca export|kubelet credentials|sa rotate|sa refresh|report|serve|csr|cluster-info)(?=[ `'"]|$)(?! (?:and|or|then|to|with|of|is|are|prints?|says?)\b)(?:(?!\bkubepki ).)*/g)) out.push(m[0]);
  }
  return out;
}

/** Run a writing command dry, then for real: the dry run writes nothing, the real run writes, and every follow-up of both carries --root. */
function dryThenReal(t: string, argv: string[]): Ran {
  const before = snapshot(t);
  const dry = kubepki([...argv, '--dry-run', '--root', t, ...NOW]);
  assert.ok(dry.status !== null && dry.status <= 1, `kubepki ${dry.argv.join(' ')}: ${dry.stderr}`);
  assert.deepEqual(snapshot(t), before, `--dry-run wrote nothing: kubepki ${argv.join(' ')}`);
  const real = kubepki([...argv, '--root', t, ...NOW]);
  assert.ok(real.status !== null && real.status <= 1, `kubepki ${real.argv.join(' ')}: ${real.stderr}`);
  assert.notDeepEqual(snapshot(t), before, `the real run writes: kubepki ${argv.join(' ')}`);
  for (const r of [dry, real]) {
    for (const f of followUps(r.stdout + r.stderr)) assert.ok(f.includes(`--root ${t}`), `kubepki ${r.argv.join(' ')} prints a follow-up without --root ${t}: ${f}`);
  }
  return real;
}

test('writing commands: --dry-run writes nothing, the same run without it writes, and every command either prints carries the --root it was given', () => {
  const t = tree();
  // renew, then restore of its backup; sa rotate, then --drop-old; kubelet credentials
  const renewed = dryThenReal(t, ['renew', 'all']);
  assert.ok(followUps(renewed.stdout).some((f) => f.startsWith('kubepki restore ')), renewed.stdout);
  const [backup] = fs.readdirSync(path.join(t, 'var/lib/kubepki/backups'));
  dryThenReal(t, ['restore', backup!]);
  dryThenReal(t, ['sa', 'rotate']);
  dryThenReal(t, ['sa', 'rotate', '--drop-old']);
  dryThenReal(t, ['kubelet', 'credentials', '--node', 'cp-1']);
  // join's manifests file (a token secret waiting for kubectl apply)
  dryThenReal(t, ['join', '--out', path.join(t, 'join.yaml')]);
  // rebuild of a tree that lost its apiserver pair; ca import of its CA material once it lost front-proxy-ca
  fs.rmSync(path.join(t, 'etc/kubernetes/pki/apiserver.crt'));
  fs.rmSync(path.join(t, 'etc/kubernetes/pki/apiserver.key'));
  dryThenReal(t, ['rebuild']);
  const sealed = path.join(WORK, 'shared.yaml');
  const exported = kubepki(['ca', 'export', '--out', sealed, '--root', t]);
  assert.equal(exported.status, 0, exported.stderr);
  const key = /[0-9a-f]{64}/.exec(exported.stdout)![0];
  fs.rmSync(path.join(t, 'etc/kubernetes/pki/front-proxy-ca.crt'));
  fs.rmSync(path.join(t, 'etc/kubernetes/pki/front-proxy-ca.key'));
  dryThenReal(t, ['ca', 'import', sealed, '--certificate-key', key]);
  // check's Next: on the same tree a year on, when everything has expired
  const late = kubepki(['check', '--root', t, '--now', '2029-01-01']);
  assert.equal(late.status, 2);
  assert.ok(followUps(late.stdout).length > 0, late.stdout);
  for (const f of followUps(late.stdout + late.stderr)) assert.ok(f.includes(`--root ${t}`), f);
});

// ---------------------------------------------------------------- machine output: versioned, alone on stdout

function versioned(r: Ran, kind?: string): Record<string, unknown> {
  const label = `kubepki ${r.argv.join(' ')}: ${r.stderr}`;
  assert.ok(r.status !== null && r.status <= 2, label);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(doc.apiVersion, 'kubepki.io/v1alpha1', label);
  assert.equal(typeof doc.kind, 'string', label);
  if (kind) assert.equal(doc.kind, kind, label);
  return doc;
}

test('machine output: every -o json is one versioned document (apiVersion kubepki.io/v1alpha1, a kind) alone on stdout; -o yaml is the same document; -o prom is only metrics', async () => {
  const t = tree();
  const root = ['--root', t, ...NOW];
  const json = kubepki(['check', '-o', 'json', ...root]);
  const inventory = versioned(json, 'Inventory');
  assert.deepEqual(inventory, YAML.parse(kubepki(['check', '-o', 'yaml', ...root]).stdout));
  assert.equal(json.stderr, '');
  // the README's "who renews it (… JSON `managedBy`)"
  for (const c of inventory.certificates as Record<string, unknown>[]) assert.equal(typeof c.managedBy, 'string', String(c.name));
  // the fields the README names for renew's and restore's -o json ("one RenewResult (items, notRenewed, …)"),
  // in the documents the commands print, not only in their types
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const readmeFields = new Map([...readme.matchAll(/one (\w+Result) \(([^)]*)\)/g)].map((m) => [m[1]!, m[2]!.split(',').map((f) => f.trim())]));
  assert.deepEqual([...readmeFields.keys()].sort(), ['RenewResult', 'RestoreResult']);
  const hasReadmeFields = (doc: Record<string, unknown>) => {
    // (a dry run has no backup)
    if (doc.dryRun) return;
    for (const f of readmeFields.get(String(doc.kind))!) assert.ok(f in doc, `README names ${f} in ${doc.kind}; kubepki's has ${Object.keys(doc).join(', ')}`);
  };
  versioned(kubepki(['inspect', '/etc/kubernetes/pki/apiserver.crt', '-o', 'json', ...root]), 'Inventory');
  versioned(kubepki(['report', '-o', 'json', ...root]), 'Inventory');
  versioned(kubepki(['backups', '-o', 'json', '--root', t]), 'BackupList');
  versioned(kubepki(['sa', 'rotate', '--dry-run', '-o', 'json', ...root]), 'SaRotatePlan');
  versioned(kubepki(['rebuild', '--dry-run', '-o', 'json', ...root]));
  // renew writes its plan to a file: the same kind of document
  const planOut = path.join(WORK, 'plan.json');
  assert.equal(kubepki(['renew', 'all', '--dry-run', '--plan-out', planOut, ...root]).status, 0);
  assert.equal(JSON.parse(fs.readFileSync(planOut, 'utf8')).apiVersion, 'kubepki.io/v1alpha1');
  // renew and restore -o json say what they did (on a tree of their own: the probe below reads this one's)
  const w = tree();
  const wroot = ['--root', w, ...NOW];
  for (const argv of [['renew', 'all', '--dry-run'], ['renew', 'all']]) {
    const r = kubepki([...argv, '-o', 'json', ...wroot]);
    hasReadmeFields(versioned(r, 'RenewResult'));
    assert.equal(r.stderr, '', argv.join(' '));
  }
  const made = (JSON.parse(kubepki(['backups', '-o', 'json', '--root', w]).stdout) as { items: { name: string }[] }).items[0]!.name;
  for (const argv of [['restore', made, '--dry-run'], ['restore', made]]) {
    const r = kubepki([...argv, '-o', 'json', ...wroot]);
    hasReadmeFields(versioned(r, 'RestoreResult'));
    assert.equal(r.stderr, '', argv.join(' '));
  }
  // a warning beside JSON goes to stderr: join's token that --now made already past on this machine's clock
  const join = kubepki(['join', '-o', 'json', '--out', path.join(WORK, 'join.yaml'), ...root]);
  versioned(join, 'JoinPlan');
  assert.match(join.stderr, /^kubepki: warning: token \w+ expires 2026-11-24T00:00:00Z: that is already past on this machine's clock/);
  // prom: HELP/TYPE comments and samples, nothing else
  const prom = kubepki(['check', '-o', 'prom', ...root]);
  assert.equal(prom.stderr, '');
  // (blank lines are ignored by the text format)
  for (const line of prom.stdout.trimEnd().split('\n').filter(Boolean)) assert.match(line, /^(# (HELP|TYPE) \w+ .+|[a-zA-Z_:][\w:]*(\{.*\})? [-+\d.eE]+|[a-zA-Z_:][\w:]*(\{.*\})? (NaN|[+-]Inf))$/, line);
  // probe, against a server that serves the tree's own apiserver certificate
  const pki = path.join(t, 'etc/kubernetes/pki');
  const server = tls.createServer({ cert: fs.readFileSync(path.join(pki, 'apiserver.crt')), key: fs.readFileSync(path.join(pki, 'apiserver.key')) }, (s) => s.end());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    const port = (server.address() as { port: number }).port;
    const r = await new Promise<Ran>((res) => {
      const argv = ['probe', `127.0.0.1:${port}`, '-o', 'json', ...root];
      const c = spawn(process.execPath, [BIN, ...argv], { env: { ...process.env, NO_COLOR: '' } });
      let stdout = ''; let stderr = '';
      c.stdout.on('data', (d) => { stdout += d; });
      c.stderr.on('data', (d) => { stderr += d; });
      c.on('close', (status) => res({ status, stdout, stderr, argv }));
    });
    const doc = versioned(r);
    assert.equal((doc.comparison as { verdict: string }).verdict, 'matches-disk', r.stdout);
  } finally {
    server.close();
  }
});

test('colour: on a terminal the table is coloured, unless NO_COLOR is set or --no-color given; never on a pipe (every run above)', { skip: which('script') ? false : 'script(1) is not installed' }, () => {
  const t = tree();
  // script(1) gives the command a terminal; it is run through sh -c with the words quoted
  const onTty = (argv: string[], env: Record<string, string | undefined> = {}) => {
    const line = [process.execPath, BIN, ...argv].map((w) => `'${w}'`).join(' ');
    const r = spawnSync('script', ['-qec', line, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, TERM: 'xterm', ...env } as NodeJS.ProcessEnv });
    return r.stdout ?? '';
  };
  const check = ['check', '--root', t, ...NOW, '--warn', '400d'];
  assert.match(onTty(check), /\x1b\[/);
  assert.doesNotMatch(onTty(check, { NO_COLOR: '1' }), /\x1b\[/);
  assert.doesNotMatch(onTty([...check, '--no-color']), /\x1b\[/);
  assert.doesNotMatch(onTty(['demo', '--dir', path.join(WORK, 'demo-tty'), ...NOW], { NO_COLOR: '1' }), /\x1b\[/);
  // every command that colours takes --no-color, in the same words
  assert.match(onTty(['demo', '--dir', path.join(WORK, 'demo-tty-2'), ...NOW]), /\x1b\[/);
  const plain = onTty(['demo', '--dir', path.join(WORK, 'demo-tty-3'), ...NOW, '--no-color']);
  assert.match(plain, /CERTIFICATE\s+EXPIRES/);
  assert.doesNotMatch(plain, /\x1b\[/);
});
