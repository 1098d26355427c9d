import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, commandProgram } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { COMMANDS } from '../src/cli/commands.js';
import { renderPrometheus } from '../src/report/metrics.js';
import { sampleInventory } from './dashboard-inventory.js';
import { FIXTURES } from './support/fixtures.js';

/** Shell words of one command line, quotes removed ('…' and "…" keep their spaces). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/**
 * The kubepki invocations of shell lines as an operator copies them: continuation lines joined, comments
 * dropped, each `kubepki …` of a pipeline or `&&` chain taken alone, without its redirections.
 */
function kubepkiCalls(lines: string[]): string[][] {
  const joined: string[] = [];
  for (const raw of lines) {
    const prev = joined.length ? joined[joined.length - 1]! : undefined;
    if (prev !== undefined && prev.endsWith('\\')) joined[joined.length - 1] = `${prev.slice(0, -1)} ${raw.trim()}`;
    else joined.push(raw.trim());
  }
  const out: string[][] = [];
  for (const line of joined) {
    // a comment starts at a # after a space, outside quotes
    const code = line.replace(/^((?:[^'"#]|'[^']*'|"[^"]*")*?)\s+#.*$/, '$1');
    for (const part of code.split(/\s*(?:\|\||&&|\|)\s*/)) {
      const words = shellWords(part);
      if (words[0] !== 'kubepki') continue;
      const argv: string[] = [];
      for (let i = 1; i < words.length; i++) {
        if (/^\d?>>?$/.test(words[i]!)) { i++; continue; }
        if (/^\d?>/.test(words[i]!)) continue;
        argv.push(words[i]!);
      }
      out.push(argv);
    }
  }
  return out;
}

/** Every `kubepki …` line of a Markdown file's sh code blocks. */
function markdownCommands(file: string): string[][] {
  const text = fs.readFileSync(path.resolve(process.cwd(), file), 'utf8');
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((b) => kubepkiCalls(b[1]!.split('\n')));
}

function readmeCommands(): string[][] {
  return markdownCommands('README.md');
}

/** The Examples: blocks of a help text (up to the first blank line after each). */
function helpExamples(help: string): string[][] {
  const out: string[][] = [];
  for (const m of help.matchAll(/^\s*Examples:\n((?:[ \t]*\S.*\n?)*)/gm)) out.push(...kubepkiCalls(m[1]!.split('\n')));
  return out;
}

/** Every command's and sub-command's --help text, by the words that name it. */
async function allHelp(): Promise<Map<string, string>> {
  const helps = new Map<string, string>();
  const top = memoryIo();
  await run(['--help'], top);
  helps.set('', top.out);
  for (const spec of COMMANDS) {
    const mod = await spec.load();
    for (const words of [[spec.name], ...mod.command(memoryIo()).commands.map((c) => [spec.name, c.name()])]) {
      const io = memoryIo();
      await run([...words, '--help'], io);
      helps.set(words.join(' '), io.out);
    }
  }
  return helps;
}

class Parsed extends Error {}

/** Parse argv with the CLI's own option parser and stop before the command runs: '' when it parses, else the error. */
async function parseOnly(argv: string[]): Promise<string> {
  const spec = COMMANDS.find((c) => c.name === argv[0]);
  if (!spec) return `unknown command "${argv[0]}"`;
  const io = memoryIo();
  const program = await commandProgram(spec, io);
  program.hook('preAction', () => { throw new Parsed(); });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return `ran without reaching an action (a command without a sub-command?) ${io.out}${io.err}`;
  } catch (e) {
    return e instanceof Parsed ? '' : `${io.err || String(e)}`.trim();
  }
}

test('every documented kubepki command parses as written: README, docs/*.md and every --help Examples block', async () => {
  const docs = fs.readdirSync(path.resolve(process.cwd(), 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const sources: [string, string[][]][] = [['README.md', readmeCommands()], ...docs.map((f) => [f, markdownCommands(f)] as [string, string[][]])];
  for (const [words, help] of await allHelp()) sources.push([`kubepki ${words ? `${words} ` : ''}--help`, helpExamples(help)]);
  let n = 0;
  const failures: string[] = [];
  for (const [where, calls] of sources) {
    for (const argv of calls) {
      n++;
      const why = await parseOnly(argv);
      if (why) failures.push(`${where}: kubepki ${argv.join(' ')}: ${why}`);
    }
  }
  assert.deepEqual(failures, []);
  // the README alone has over 40, each command's help a few; a parser that found none would pass silently
  assert.ok(n > 100, `only ${n} example commands found`);
  const helps = await allHelp();
  for (const [words, help] of helps) {
    // commander wraps a help line longer than its width: a wrapped example is two broken commands when copied
    for (const m of help.matchAll(/^\s*Examples:\n((?:[ \t]*\S.*\n?)*)/gm)) {
      for (const line of m[1]!.split('\n').filter(Boolean)) assert.match(line, /^\s/, `kubepki ${words} --help: an example line was wrapped: "${line}"`);
    }
    // every command has examples in its own help (the README says so), or (a sub-command) in its group's; a
    // group's own help shows some of its sub-commands
    const [group, sub] = words.split(' ');
    const shown = [...helpExamples(help), ...(sub ? helpExamples(helps.get(group!)!) : [])];
    if (!words) continue;
    assert.ok(shown.some((argv) => argv.slice(0, words.split(' ').length).join(' ') === words), `kubepki ${words} --help has no example of it`);
  }
});

test('README: every kubepki command line names a real command and only flags its help lists', async () => {
  const lines = readmeCommands();
  assert.ok(lines.length > 20, `found ${lines.length} example lines`);
  const names = new Set(COMMANDS.map((c) => c.name));
  for (const argv of lines) {
    const [cmd, sub] = argv;
    assert.ok(names.has(cmd!), `README uses unknown command "kubepki ${argv.join(' ')}"`);
    const words = sub && !sub.startsWith('-') && /^[a-z][a-z-]*$/.test(sub) ? [cmd!, sub] : [cmd!];
    const io = memoryIo();
    let code = await run([...words, '--help'], io);
    let help = io.out;
    if (code !== 0 && words.length === 2) {
      // the second word was an argument (e.g. `renew all`), not a subcommand
      const again = memoryIo();
      code = await run([cmd!, '--help'], again);
      help = again.out;
    }
    assert.equal(code, 0, `kubepki ${words.join(' ')} --help: ${io.err}`);
    for (const flag of argv.filter((a) => a.startsWith('--'))) {
      const name = flag.split('=')[0]!;
      assert.ok(help.includes(name), `README: "kubepki ${argv.join(' ')}" uses ${name}, which "kubepki ${words.join(' ')} --help" does not list`);
    }
  }
});

test('README: the findings table has every finding code kubepki emits, and no other', () => {
  const src = (f: string) => fs.readFileSync(path.resolve(process.cwd(), f), 'utf8');
  const union = /export type FindingCode =([^;]*);/.exec(src('src/inventory/types.ts'))![1]!;
  const codes = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
  const files = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : []));
  const code = files(path.resolve(process.cwd(), 'src')).filter((f) => !f.endsWith('types.ts')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const emitted = codes.filter((c) => code.includes(`code: '${c}'`));
  const table = new Set([...src('README.md').matchAll(/^\| ((?:`[a-z-]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!)));
  assert.ok(emitted.length > 25, `${emitted.length} codes found`);
  for (const c of emitted) assert.ok(table.has(c), `README's findings table lacks \`${c}\`, which check reports`);
  for (const c of table) assert.ok(codes.includes(c), `README's findings table has \`${c}\`, which is no finding code`);
});

test('README: every severity a finding code is emitted with is named in the findings table row of that code', () => {
  const src = (f: string) => fs.readFileSync(path.resolve(process.cwd(), f), 'utf8');
  const files = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : []));
  const code = files(path.resolve(process.cwd(), 'src')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  // (only literal pairs: a severity computed at run time, the kubelet.crt's expired warning, is not seen here)
  const emitted = new Set([...code.matchAll(/code: '([a-z-]+)',\s*severity: '(error|warning|info)'/g)].map((m) => `${m[1]} ${m[2]}`));
  const rows = src('README.md').split('\n').filter((l) => /^\| `[a-z-]+`/.test(l));
  assert.ok(emitted.size > 30, `${emitted.size} (code, severity) pairs found`);
  const missing: string[] = [];
  for (const pair of emitted) {
    const [c, sev] = pair.split(' ') as [string, string];
    // the severity column of the code's row, or its meaning (the kubelet.crt's warning, "info while the run is
    // still going"), or a row that says how the code shows elsewhere (check --cluster's "key-encrypted as a warning")
    if (!rows.some((r) => r.includes(`\`${c}\``) && new RegExp(`\\b${sev}\\b`).test(r))) missing.push(pair);
  }
  assert.deepEqual(missing, [], 'README findings table: codes kubepki emits with a severity the table does not name for them');
});

test('docs/fleet.md names every series serve exports', async () => {
  const fleet = fs.readFileSync(path.resolve(process.cwd(), 'docs/fleet.md'), 'utf8');
  // serve's extras (failures, read time, probes) make every series appear
  const text = await renderPrometheus(sampleInventory(), 'cp-1', { readFailuresTotal: 0, readDurationSeconds: 0.1, readErrors: 0, probes: [] });
  const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
  assert.ok(names.length > 10, names.join(' '));
  for (const n of names) assert.ok(fleet.includes(`\`${n}`), `docs/fleet.md does not name ${n}`);
});

test('README: the top-level help lists every command with exit codes', async () => {
  const io = memoryIo();
  assert.equal(await run(['--help'], io), 0);
  for (const c of COMMANDS) assert.match(io.out, new RegExp(`^  ${c.name}\\s`, 'm'));
  assert.match(io.out, /Exit codes:\n\s+0\s+healthy/);
  const none = memoryIo();
  assert.equal(await run([], none), 3);
  const unknown = memoryIo();
  assert.equal(await run(['frobnicate'], unknown), 3);
  assert.match(unknown.err, /unknown command "frobnicate"/);
});

test('README: the commands that change things list their own exit codes in --help, as it says', async () => {
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const named = /commands that change things \(([^)]*)\) list their own in `--help`/.exec(readme.replace(/\n/g, ' '));
  assert.ok(named, 'the README sentence about exit codes of commands that change things');
  const commands = [...named[1]!.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!);
  assert.ok(commands.length >= 3, named[1]);
  for (const c of commands) {
    const io = memoryIo();
    assert.equal(await run([c, '--help'], io), 0);
    assert.match(io.out, /^Exit codes:\n\s+0\s/m, `kubepki ${c} --help lists no exit codes`);
  }
});

test('every command\'s --help says its exit codes (from 0); a command with sub-commands points at theirs', async () => {
  for (const spec of COMMANDS) {
    const mod = await spec.load();
    const subs = mod.command(memoryIo()).commands.map((c) => c.name());
    const help = async (words: string[]) => { const io = memoryIo(); assert.equal(await run([...words, '--help'], io), 0, words.join(' ')); return io.out; };
    const top = await help([spec.name]);
    if (subs.length === 0) {
      assert.match(top, /^Exit codes\b[^\n]*:\s+0\s/m, `kubepki ${spec.name} --help lists no exit codes`);
      continue;
    }
    const line = /^Exit codes\b.*$/m.exec(top)?.[0];
    assert.ok(line, `kubepki ${spec.name} --help says nothing of exit codes`);
    for (const sub of subs) {
      assert.ok(line.includes(`kubepki ${spec.name} ${sub} --help`), `kubepki ${spec.name} --help: its exit codes line names kubepki ${spec.name} ${sub} --help`);
      assert.match(await help([spec.name, sub]), /^Exit codes\b[^\n]*:\s+0\s/m, `kubepki ${spec.name} ${sub} --help lists no exit codes`);
    }
  }
});

test('every command and sub-command answers --help and a bad flag through io (never the real terminal), exit 0 and 3', async () => {
  for (const spec of COMMANDS) {
    const mod = await spec.load();
    const subs = mod.command(memoryIo()).commands.map((c) => c.name());
    for (const words of [[spec.name], ...subs.map((s) => [spec.name, s])]) {
      const help = memoryIo();
      assert.equal(await run([...words, '--help'], help), 0, words.join(' '));
      assert.match(help.out, new RegExp(`Usage: kubepki ${words.join(' ')}`), words.join(' '));
      const bad = memoryIo();
      assert.equal(await run([...words, '--no-such-flag-anywhere'], bad), 3, `${words.join(' ')}: ${bad.err}`);
      assert.ok(bad.err.length > 0, words.join(' '));
    }
  }
});

test('README: the fields it names for a JSON result document (one RenewResult (a, b …)) are fields of that document', () => {
  const src = (f: string) => fs.readFileSync(path.resolve(process.cwd(), f), 'utf8');
  const types = src('src/cli/result-doc.ts');
  const named = [...src('README.md').matchAll(/one (\w+Result) \(([^)]*)\)/g)];
  assert.ok(named.length >= 2, `${named.length} result documents described`);
  for (const [, kind, list] of named) {
    const body = new RegExp(`export interface ${kind} \\{\\n([\\s\\S]*?)\\n\\}`).exec(types)?.[1];
    assert.ok(body, `README names ${kind}, which src/cli/result-doc.ts does not define`);
    const fields = new Set([...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!));
    // a script reads these names: "renewed" for `items` would send it looking for a key that is not there
    for (const f of list!.split(',').map((w) => w.trim())) assert.ok(fields.has(f), `README: ${kind} has no field "${f}" (its fields: ${[...fields].join(', ')})`);
  }
});

test('README: its exit code table says what kubepki --help says, code for code', async () => {
  const io = memoryIo();
  assert.equal(await run(['--help'], io), 0);
  const strip = (s: string) => s.replace(/`/g, '').replace(/\s+/g, ' ').trim();
  // the help's rows, continuation lines joined
  const helpRows = new Map<string, string>();
  let last = '';
  for (const line of /^Exit codes:\n((?:  .*\n?)*)/m.exec(io.out)![1]!.split('\n').filter(Boolean)) {
    const m = /^ {2}(\d\+?)\s+(.*)$/.exec(line);
    if (m) helpRows.set((last = m[1]!), m[2]!);
    else helpRows.set(last, `${helpRows.get(last)} ${line.trim()}`);
  }
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const table = /^## Exit codes\n[\s\S]*?\n((?:\|.*\n)+)/m.exec(readme)![1]!;
  const readmeRows = new Map([...table.matchAll(/^\| (\d\+?) \| (.*) \|$/gm)].map((m) => [m[1]!, strip(m[2]!)]));
  assert.deepEqual([...readmeRows.keys()], [...helpRows.keys()]);
  for (const [code, text] of helpRows) {
    const r = readmeRows.get(code)!;
    // the README may say more, after the help's own words (up to its first "(" or "or")
    const head = strip(text).split(/ \(| or /)[0]!;
    assert.ok(r.startsWith(head), `exit ${code}: README "${r}", kubepki --help "${strip(text)}"`);
    for (const n of r.match(/\b\d{2,3}\b/g) ?? []) assert.ok(text.includes(n), `exit ${code}: README names exit ${n}, kubepki --help does not`);
  }
});

test('README: every --flag its prose names is one a kubepki --help lists, or another program\'s', async () => {
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const helps = [...(await allHelp()).values()].join('\n');
  // flags of the programs the README quotes: kube-apiserver, etcd, the kubelet, kube-controller-manager, kubeadm,
  // microk8s refresh-certs, k0s install, node
  const others = new Set(['--advertise-client-urls', '--initial-advertise-peer-urls', '--initial-cluster', '--anonymous-auth', '--etcd-servers', '--cluster-signing-key-file', '--rotate-certificates', '--patches', '--cert', '--enable-worker', '--token-file', '--test']);
  const flags = new Set([...readme.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]));
  assert.ok(flags.size > 60, `${flags.size} flags found`);
  // a flag renamed in the CLI but not in the README's prose (the code blocks are checked above)
  const unknown = [...flags].filter((f) => !others.has(f) && !new RegExp(`${f}(?![\\w-])`).test(helps));
  assert.deepEqual(unknown, []);
});

test('--help of every command that takes the node\'s lock says its exit 3 is also "another kubepki is changing the node"', async () => {
  // the README's list of commands that write node files, and backups --prune, which holds the lock as renew does
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8').replace(/\n/g, ' ');
  const listed = /Every command that writes node files \(([^)]*)\)/.exec(readme)?.[1];
  assert.ok(listed, 'the README sentence naming the commands that write node files');
  const commands = [...listed.matchAll(/`([a-z -]+)`/g)].map((m) => m[1]!.trim().split(/\s+/));
  assert.ok(commands.length >= 6, listed);
  for (const words of [...commands, ['backups']]) {
    const io = memoryIo();
    assert.equal(await run([...words, '--help'], io), 0, words.join(' '));
    // (the refusal a second run meets while a cron renew holds the lock: a script must be able to tell it from bad input)
    const exit3 = /^ {2}3\+? ([\s\S]*?)(?=\n {2}\S|\n\n|(?![\s\S]))/m.exec(io.out.slice(io.out.indexOf('Exit codes')))?.[1] ?? '';
    assert.match(exit3.replace(/\s+/g, ' '), /another kubepki (is )?changing the node/, `kubepki ${words.join(' ')} --help, exit 3: ${exit3}`);
  }
});

test('README: the check table\'s columns and STATUS words it quotes are the ones check prints', async () => {
  const readme = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8').replace(/\n/g, ' ');
  const m = /The table has kubeadm's `certs check-expiration` columns \(([^)]*)\) plus `STATUS` \(([^)]*)\)/.exec(readme);
  assert.ok(m, 'the README sentence naming check\'s columns');
  const quoted = (s: string) => [...s.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
  const columns = [...quoted(m[1]!), 'STATUS'];
  const statuses = quoted(m[2]!);
  // the expired tree has EXPIRED rows, the fresh one ok rows; --warn and --now give warning and NOT YET VALID
  const out = async (tree: string, ...more: string[]) => {
    const io = memoryIo();
    await run(['check', '--root', path.join(FIXTURES, tree), '--no-color', ...more], io);
    return io.out;
  };
  const tables = [
    await out('kubeadm-1.26', '--now', '2026-12-08'),
    await out('kubeadm-1.26', '--now', '2026-12-08', '--warn', '400d'),
    await out('kubeadm-1.26-expired', '--now', '2026-12-08'),
    await out('kubeadm-1.26', '--now', '2020-01-01'),
  ];
  const seen = new Set<string>();
  for (const t of tables) {
    // the certificates' table: its header, then rows up to the first blank line
    const [header, ...rows] = t.slice(0, t.indexOf('\n\n')).split('\n');
    for (const c of columns) assert.match(header!, new RegExp(`(^|  )${c}(  |$)`), `README names column ${c}; check prints: ${header}`);
    const at = header!.indexOf('  STATUS') + 2;
    for (const r of rows) if (!r.startsWith('!')) seen.add(r.slice(at).split(/ {2,}/)[0]!);
  }
  // every word the README quotes is printed, and check prints no other
  assert.deepEqual([...seen].sort(), [...statuses].filter((s) => s !== 'INVALID').sort(), 'STATUS words check printed, against the README\'s');
  const src = fs.readFileSync(path.resolve(process.cwd(), 'src/report/table.ts'), 'utf8');
  const words = [.../const STATUS_TEXT[^=]*= \{([^}]*)\}/.exec(src)![1]!.matchAll(/: '([^']+)'/g)].map((x) => x[1]!);
  assert.deepEqual([...statuses].sort(), [...words].sort(), 'the README\'s STATUS words and src/report/table.ts\'s STATUS_TEXT');
});
