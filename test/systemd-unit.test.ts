import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandArgv, parseEnvironmentFile, splitWords } from '../src/inventory/systemd-unit.js';

test('unit words as systemd splits them: quotes anywhere in a word removed, C escapes in unit settings, an empty quoted word kept', () => {
  assert.deepEqual(splitWords(`/bin/x --a="b c" 'd'e \\x41 "" --f=\\"q\\"`, true), ['/bin/x', '--a=b c', 'de', 'A', '', '--f="q"']);
  assert.deepEqual(splitWords('a\\sb \\n', true), ['a b', '\n']);
  assert.deepEqual(splitWords('a\\sb', false), ['asb'], 'a variable split with $VAR takes no C escapes');
});

test('ExecStart variables as systemd expands them (replace_env_argv): ${VAR} inside a word as one argument, $VAR as a word split into several, unset ones empty', () => {
  const env = new Map([['FOO', 'BAR BAR'], ['BAR', 'waldo'], ['ARGS', '"--a=/x y" --b=/z']]);
  const cases: [string, string[]][] = [
    ['${FOO}', ['BAR BAR']],
    ['--tls-cert-file=${BAR}/c.crt', ['--tls-cert-file=waldo/c.crt']],
    ['${FOO}${BAR}', ['BAR BARwaldo']],
    ['$FOO', ['BAR', 'BAR']],
    ['$ARGS', ['--a=/x y', '--b=/z']],
    ['$NOPE', []],
    ['${NOPE}', ['']],
    ['FOO$FOO', ['FOO$FOO']], // braceless only as a whole word
    ['$FOO$FOO', []], // "FOO$FOO" is no variable name: expands to nothing, as systemd does
    ['${FOO', ['${FOO']],
    ['${FOO:-x}', ['${FOO:-x}']], // no default-value syntax on command lines
    ['$$FOO', ['$FOO']],
  ];
  for (const [word, want] of cases) assert.deepEqual(expandArgv([word], env), want, word);
});

test('EnvironmentFile= as systemd reads it: comments, quotes, escapes, continued lines, later keys win, no expansion', () => {
  const env = parseEnvironmentFile([
    '# a comment', '; another', 'A=1', '  B = two words  ', 'C="x \\"y\\" \\n"', "D='lit \\n'", 'export E=5', 'F=a\\', 'b', 'NOEQ', 'G=', 'H="multi', 'line"', 'I=$A', 'A=2',
  ].join('\n'));
  assert.deepEqual([...env], [['A', '2'], ['B', 'two words'], ['C', 'x "y" \\n'], ['D', 'lit \\n'], ['export E', '5'], ['F', 'ab'], ['G', ''], ['H', 'multi\nline'], ['I', '$A']]);
});
