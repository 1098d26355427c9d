// Row order (src/inventory/order.ts) is the same whatever the machine's locale, and a consistent order: a
// sort of the same names in any input order gives one result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const orderModule = new URL('../src/inventory/order.js', import.meta.url).href;
const NAMES = ['ab', 'aa', 'Ac', 'kube-apiserver', 'etcd/ca', 'Z', 'a.b', 'a-b', 'a/b', 'a0', 'secret/demo/app-tls', 'kubelet-serving-ca'];

function sortsUnder(lang: string): string[][] {
  const script = `
    const { localeOrder } = await import(${JSON.stringify(orderModule)});
    const names = ${JSON.stringify(NAMES)};
    const out = new Set();
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const a = [...names];
      for (let j = a.length - 1; j > 0; j--) { seed = (seed * 1103515245 + 12345) % 2147483648; const k = seed % (j + 1); [a[j], a[k]] = [a[k], a[j]]; }
      out.add(JSON.stringify(a.sort(localeOrder)));
    }
    console.log(JSON.stringify([...out].map((s) => JSON.parse(s))));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LANG: lang, LC_ALL: lang } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

test('row order: one result for any input order, the same under da_DK (where "aa" sorts after "z") as under C and en_US', () => {
  const c = sortsUnder('C.UTF-8');
  assert.equal(c.length, 1, `one order, got ${c.length}`);
  assert.deepEqual(c[0], [...NAMES].sort(new Intl.Collator('en').compare), 'English collation');
  for (const lang of ['da_DK.UTF-8', 'en_US.UTF-8']) assert.deepEqual(sortsUnder(lang), c, lang);
});
