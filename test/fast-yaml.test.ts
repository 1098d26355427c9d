// The fast YAML reader (src/kubeconfig/fast-yaml.ts) must give exactly what the
// `yaml` library gives, or step aside: checked on every fixture YAML file and on
// thousands of seeded mutations of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseSimpleYaml, parseYamlFast, parseAllYamlFast } from '../src/kubeconfig/fast-yaml.js';
import { FIXTURES } from './support/fixtures.js';

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...yamlFiles(p));
    else if (d.isFile() && /\.(ya?ml|conf)$/.test(d.name)) out.push(p);
  }
  return out;
}

const files = yamlFiles(FIXTURES);
const texts = files.map((f) => fs.readFileSync(f, 'utf8'));

function library(text: string): { value: unknown } | { error: true } {
  try { return { value: parseYaml(text) }; } catch { return { error: true }; }
}

test('fast YAML: every fixture kubeconfig and manifest reads the same as the yaml library, most without it', () => {
  let fast = 0;
  files.forEach((f, i) => {
    const t = texts[i]!;
    const r = parseSimpleYaml(t);
    const lib = library(t);
    if ('error' in lib) {
      // multi-document files (kubeadm-config.yaml): the library's error, not ours
      assert.equal(r, undefined, f);
      assert.throws(() => parseYamlFast(t), f);
      return;
    }
    if (r) { fast++; assert.deepEqual(r.value, lib.value, f); }
    assert.deepEqual(parseYamlFast(t), lib.value, f);
  });
  const kubeconfigs = files.filter((f) => f.endsWith('.conf') || /kubecfg/.test(f));
  assert.ok(kubeconfigs.length > 4);
  for (const f of kubeconfigs) assert.ok(parseSimpleYaml(fs.readFileSync(f, 'utf8')), `${f} takes the fast path`);
  assert.ok(fast >= files.length - 3, `${fast} of ${files.length} fast`);
  // multi-document kubeadm-config.yaml
  for (const f of files.filter((x) => x.endsWith('kubeadm-config.yaml'))) {
    const t = fs.readFileSync(f, 'utf8');
    const docs = parseAllYamlFast(t);
    assert.ok(docs.length >= 2, f);
    assert.deepEqual(docs, Array.from(parseAllDocuments(t), (d) => d.toJS()), f);
  }
  for (const t of ['a: 1\n---\nb: [x]\n', '---\na: 1\n', 'a: 1\n---\n', '--- !tag\na: 1\n', 'a: 1\n---\nb: x\u2028---\nc: 2\n']) {
    assert.deepEqual(parseAllYamlFast(t), Array.from(parseAllDocuments(t), (d) => d.toJS()), JSON.stringify(t));
  }
});

test('fast YAML: on seeded mutations it agrees with the yaml library or steps aside', () => {
  let seed = 0x79616d6c;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const pieces = [' ', '  ', '\n', '- ', ': ', ':', '#', ' #', '"', "'", '{}', '[]', '[a]', '{a: 1}', '&x ', '*x', '!!str ', '|', '>', '---\n', '? ', '0', '12', '-1', '0x1f', '1.5', '.inf', 'null', '~', 'True', 'no', 'key: v', '\t', 'é', '-\n', '- - a', 'a: b: c', '__proto__: 1', '0s', '250m', '1.2.3', '1e', 'e3', '0x', '0o8', '-.5', '+.inf', '1_000', '0b1', '192.0.2.10', '\u00a0', '\u3000', '\v', '\u2028', ':  \u00a0x'];
  let agreed = 0, stepped = 0;
  for (let i = 0; i < 4000; i++) {
    let t = texts[rnd(texts.length)]!;
    for (let k = 1 + rnd(3); k > 0; k--) {
      const p = rnd(t.length + 1);
      const op = rnd(3);
      t = op === 0 ? t.slice(0, p) + pieces[rnd(pieces.length)] + t.slice(p)
        : op === 1 ? t.slice(0, p) + t.slice(p + 1 + rnd(6))
          : t.slice(0, p) + pieces[rnd(pieces.length)] + t.slice(p + 1 + rnd(3));
    }
    const r = parseSimpleYaml(t);
    if (!r) { stepped++; continue; }
    const lib = library(t);
    assert.ok(!('error' in lib), `fast path accepted what the library rejects (i=${i}): ${JSON.stringify(t)}`);
    assert.deepEqual(r.value, (lib as { value: unknown }).value, `i=${i}: ${JSON.stringify(t)}`);
    agreed++;
  }
  assert.ok(agreed > 500 && stepped > 500, `agreed ${agreed}, stepped aside ${stepped}`);
});

test('fast YAML: scalars that look like numbers only at a glance read as the library reads them', () => {
  // the fast path skips the number patterns for a scalar that is not a digit or a dot after an optional sign
  for (const s of ['--kubeconfig=/etc/kubernetes/admin.conf', '-v=2', '-x', '+x', '+', '-1', '+1', '-0', '+.5', '-.5', '.5', '.inf', '-.inf', '+.Inf', '.nan', '.NaN', '.x', '-.x', '1e3', '-1e3', '0o7', '0x1f', '00', '07', '1_000', 'x1', 'v1.26.1', '192.0.2.10', '10.96.0.10/12', '6443', '2379',
    // what JavaScript's Number() reads and the core schema may not: the fast path leaves them to the library
    '0b1', '0B1', '0O7', '0X1F', '0x', '0o', '0xZZ', '1.', '1.0', '1.50', '0.1', '0.0000001', '-0.0', '1E+21', '1e+21', '1e400', '5e', '.', '.e5',
    '12345678901234567', '123456789012345678901', '999999999999999', '1:30', '2024-01-01', '0s', '250m', '1.5', '"6443"', '"a\\tb"', '"a\\\\b"', "'1'"]) {
    const t = `k: ${s}\n`;
    assert.deepEqual(parseYamlFast(t), parseYaml(t), JSON.stringify(s));
  }
  // a number as JavaScript prints it needs no library
  for (const s of ['0', '6443', '-1', '0.5', '-2.25', '999999999999999']) assert.ok(parseSimpleYaml(`k: ${s}\n`), s);
  // a key that is a bool or null in the core schema is not a string key: the library decides
  for (const k of ['true', 'False', 'NULL', 'null', 'yes', 'on']) {
    const t = `${k}: 1\n`;
    assert.deepEqual(parseYamlFast(t), parseYaml(t), JSON.stringify(k));
  }
});
