import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitWords } from '../src/inventory/systemd-unit.js';

test('unit words as systemd splits them: quotes anywhere in a word removed, C escapes in unit settings, an empty quoted word kept', () => {
  assert.deepEqual(splitWords(`/bin/x --a="b c" 'd'e \\x41 "" --f=\\"q\\"`, true), ['/bin/x', '--a=b c', 'de', 'A', '', '--f="q"']);
  assert.deepEqual(splitWords('a\\sb \\n', true), ['a b', '\n']);
  assert.deepEqual(splitWords('a\\sb', false), ['asb'], 'a variable split with $VAR takes no C escapes');
});
