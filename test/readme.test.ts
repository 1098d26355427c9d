import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { COMMANDS } from '../src/cli/commands.js';

/** Every `kubepki …` line of the README's code blocks, without comments. */
function readmeCommands(): string[][] {
  const text = fs.readFileSync(path.resolve(process.cwd(), 'README.md'), 'utf8');
  const out: string[][] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const m = /(?:^|\|\s*)kubepki (.*)$/.exec(line);
      if (m) out.push(m[1]!.split(/\s+/).filter(Boolean));
    }
  }
  return out;
}

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
