// `report -o markdown` is pasted into change requests and wikis, rendered by whatever renders Markdown
// there. markdown-it (CommonMark + GFM tables, with raw HTML allowed, as the laxest renderers do) is
// the reader: what a certificate says about itself must come out as text, never as markup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';
import { copyFixture, removeCopy, checkJson } from './serve-helpers.js';
import { openssl } from './support/fixtures.js';
import { putSelfSignedKubeletCrt } from './support/trees.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';

const md = new MarkdownIt({ html: true, linkify: false });
const text = (html: string) => html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

test('report -o markdown: a hostile subject and file name render as text, in their own cells, under a real Markdown renderer', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  try {
    const pki = path.join(root, 'etc/kubernetes/pki');
    const cn = '<img src=x onerror=alert(1)>[x](javascript:y)*b*_i_~s~a|b&amp;'; // ≤ 64: X.520's CN limit
    const key = path.join(pki, 'odd_name.key');
    const crt = path.join(pki, 'odd_name.crt');
    assert.equal(openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]).status, 0);
    const csr = openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`]);
    assert.equal(csr.status, 0, csr.stderr);
    const signed = openssl(['x509', '-req', '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-set_serial', '7', '-days', '30', '-out', crt], csr.stdout);
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(openssl(['x509', '-in', crt, '-noout', '-subject', '-nameopt', 'utf8']).stdout, /onerror/);

    const io = memoryIo();
    assert.equal(await run(['report', '--root', root, '--now', '2026-11-23', '-o', 'markdown'], io), 2, io.err);
    const html = md.render(io.out);
    // (the summary line's counts are ours, in bold; everything after it comes from the node)
    const fromNode = html.slice(html.indexOf('<h2>'));
    for (const tag of ['<img', '<a ', '<em>', '<strong>', '<s>', '<del>']) assert.ok(!fromNode.includes(tag), `${tag} in the rendered report:\n${fromNode}`);

    const { inv } = await checkJson(root);
    const tables = html.split('<table>').slice(1);
    const rows = tables[0].split('<tbody>')[1].split('</tr>').filter((r) => r.includes('<td'));
    assert.equal(rows.length, inv.certificates.length, 'one row per certificate');
    for (const r of rows) assert.equal(r.split('<td').length - 1, 8, `a row with 8 cells: ${r}`);
    const odd = rows.find((r) => text(r).includes('odd_name.crt'));
    assert.ok(odd, 'the odd certificate has its row');
    assert.ok(text(odd!).includes(cn), `the CN reads as itself: ${text(odd!)}`);
    // and every finding still reads as the same text check printed
    const findingsText = text(tables[1]);
    for (const f of inv.findings) assert.ok(findingsText.includes(f.message.replace(/\s*\n\s*/g, ' ')), f.message);
  } finally {
    removeCopy(root);
  }
});

/** The names in check's CERTIFICATE AUTHORITY table. */
function checkAuthorities(out: string): string[] {
  const table = out.split(/^CERTIFICATE AUTHORITY /m)[1]?.split('\n\n')[0] ?? '';
  return table.split('\n').slice(1).filter(Boolean).map((l) => l.split(/ +/)[0]!).sort();
}

test('report -o markdown marks as (CA) what check lists as certificate authorities: the kubelet\'s one-certificate self-signed kubelet.crt (CA:TRUE in form only) is a certificate signed by itself, as in check (was: "kubelet-serving (CA)", signed by kubelet-serving)', async () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    await putSelfSignedKubeletCrt(root, new Date('2026-11-22T21:00:00Z'), 365);
    assert.match(openssl(['x509', '-noout', '-ext', 'basicConstraints', '-in', path.join(root, 'var/lib/kubelet/pki/kubelet.crt')]).stdout, /CA:TRUE/);
    const check = memoryIo();
    assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], check), 0, check.out);
    const cas = checkAuthorities(check.out);
    assert.deepEqual(cas, ['ca', 'etcd-ca', 'front-proxy-ca'], check.out);

    const io = memoryIo();
    assert.equal(await run(['report', '--root', root, '--now', '2026-11-23', '-o', 'markdown'], io), 0, io.err);
    const html = md.render(io.out);
    const rows = html.split('<table>')[1]!.split('<tbody>')[1]!.split('</tr>').filter((r) => r.includes('<td'))
      .map((r) => r.split('<td').slice(1).map((c) => text(`<td${c}`).trim()));
    const marked = rows.filter((r) => r[1]!.endsWith(' (CA)')).map((r) => r[1]!.replace(/ \(CA\)$/, '')).sort();
    assert.deepEqual(marked, cas, io.out);
    const kubelet = rows.find((r) => r[1] === 'kubelet-serving');
    assert.ok(kubelet, io.out);
    assert.equal(kubelet[5], 'self-signed', 'its Signed by cell');
    // the cluster's CAs keep theirs
    assert.equal(rows.find((r) => r[1] === 'ca (CA)')?.[5], 'ca');
  } finally {
    removeCopy(root);
  }
});

test('report -o json --now T is what check -o json --now T prints, the commands its Next suggests carrying --now T (was: without it, so they judged another moment)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  try {
    const io = memoryIo();
    assert.equal(await run(['report', '-o', 'json', '--root', root, '--now', '2026-11-23'], io), 2, io.err); // (expired: check's exit code)
    const { text: checked } = await checkJson(root);
    assert.equal(io.out, checked);
    assert.match(JSON.parse(io.out).next, / --now 2026-11-23 --dry-run/);
  } finally {
    removeCopy(root);
  }
});
