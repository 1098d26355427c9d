import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderDashboardHtml, jsonForScript } from '../src/report/html.js';
import { sampleInventory } from './dashboard-inventory.js';
import type { Inventory } from '../src/inventory/types.js';
import { chromiumMissing, launchChromium, testOutput } from './dashboard-browser.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { copyFixture } from './support/fixtures.js';
import { putSelfSignedKubeletCrt } from './support/trees.js';


/** The dashboard of `inv` written as one file (as `report` writes it), and a headless Chromium to open it in. */
async function reportInChromium(inv: Inventory) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-dash-')), 'report.html');
  fs.writeFileSync(file, renderDashboardHtml(inv, { mode: 'file' }));
  return { file, browser: await launchChromium() };
}

test('dashboard html is self-contained: no external URL, inventory embedded safely', () => {
  const inv = sampleInventory();
  inv.certificates[3].subject = 'CN=</script><script>alert(1)</script>';
  const html = renderDashboardHtml(inv, { mode: 'file' });
  assert.doesNotMatch(html, /\b(src|href)=["']?https?:/i);
  assert.doesNotMatch(html, /<link\b/i);
  assert.equal(html.split('</script>').length - 1, 3, 'only the three script tags close');
  assert.match(html, /Content-Security-Policy/);
  assert.doesNotMatch(html, /PRIVATE KEY/);
  assert.equal(JSON.parse(jsonForScript({ a: '</script>\u2028' })).a, '</script>\u2028');
});

test('dashboard snapshot in Chromium with the network blocked: one bar per certificate, expired marked, panel opens', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const inv = sampleInventory();
  const { file, browser } = await reportInChromium(inv);
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const blocked: string[] = [];
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file:')) return route.continue();
      blocked.push(u);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]');
    const bars = page.locator('[data-testid="cert-bar"]');
    assert.equal(await bars.count(), inv.certificates.length);
    const expired = page.locator('[data-testid="cert-bar"].expired');
    assert.equal(await expired.count(), 1);
    assert.equal(await expired.first().getAttribute('data-cert-id'), '/etc/kubernetes/pki/apiserver-etcd-client.crt#0');
    await expired.first().click();
    const panel = page.locator('#panel');
    await panel.waitFor({ state: 'visible' });
    const text = await panel.innerText();
    assert.match(text, /apiserver-etcd-client/);
    assert.match(text, /expired/);
    assert.match(text, /kube-apiserver-etcd-client/);
    assert.doesNotMatch(text, /PRIVATE KEY/);
    await page.screenshot({ path: testOutput('dashboard-sample-panel.png') });
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.screenshot({ path: testOutput('dashboard-sample.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400); // the timeline re-lays its axis after a resize
    await page.screenshot({ path: testOutput('dashboard-sample-phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scroll at phone width (overflow ${overflow}px)`);
    assert.deepEqual(blocked, []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('dashboard filter and "problems only" narrow the timeline; big nodes draw 500 rows and the rest on request', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const inv = sampleInventory();
  // a node with 1,200 more certificates
  const extra = Array.from({ length: 1200 }, (_, i) => ({ ...inv.certificates[3], id: `/srv/certs/leaf-${i}.crt#0`, name: `leaf-${i}`, location: { file: `/srv/certs/leaf-${i}.crt`, kind: 'pem' as const, index: 0 }, notAfter: new Date(Date.parse('2027-01-01T00:00:00Z') + i * 3600_000).toISOString(), findings: [] }));
  const big = { ...inv, certificates: [...inv.certificates, ...extra], summary: { ...inv.summary, certificates: inv.certificates.length + extra.length, ok: inv.summary.ok + extra.length } };
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.setContent(renderDashboardHtml(inv, { mode: 'file' }));
    await page.waitForSelector('body[data-ready="true"]');
    const bars = page.locator('[data-testid="cert-bar"]');
    await page.fill('#filter', 'etcd');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="cert-bar"]').length === 3);
    assert.match(await page.locator('#tl-count').innerText(), /3 of 9 shown/);
    await page.fill('#filter', '');
    await page.click('#problems');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="cert-bar"]').length === 2);
    assert.deepEqual((await bars.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.status))).sort(), ['expired', 'warning']);

    await page.setContent(renderDashboardHtml(big, { mode: 'file' }));
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await bars.count(), 500);
    await page.click('#show-all');
    assert.equal(await bars.count(), big.certificates.length);
  } finally {
    await browser.close();
  }
});

test('dashboard with --warn N%: each bar\'s warning zone starts where check\'s warning starts (warnFrom: N% of the lifetime it was issued with), not at N% of notAfter − notBefore', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const inv = sampleInventory();
  inv.warn = '50%';
  const c = inv.certificates.find((x) => x.status === 'ok' && !x.isCA)!;
  // a kubeadm ≤1.30 leaf after renewals: notBefore is the CA's, three years back, and its year decides
  c.notBefore = new Date(Date.parse(c.notAfter) - 3 * 365 * 86400e3).toISOString();
  c.lifetimeSeconds = 3 * 365 * 86400;
  c.warnFrom = new Date(Date.parse(c.notAfter) - 0.5 * 365 * 86400e3).toISOString();
  const expected = (Date.parse(c.notAfter) - Date.parse(c.warnFrom)) / (Date.parse(c.notAfter) - Date.parse(c.notBefore));
  assert.ok(Math.abs(expected - 0.5) > 0.05, `the test needs a lifetime other than a year (${expected})`);
  const { file, browser } = await reportInChromium(inv);
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]');
    const bar = page.locator(`[data-testid="cert-bar"][data-cert-id="${c.id}"]`);
    const [barBox, zoneBox] = [await bar.boundingBox(), await bar.locator('.wz').boundingBox()];
    assert.ok(barBox && zoneBox);
    assert.ok(Math.abs(zoneBox.width / barBox.width - expected) < 0.01, `zone ${zoneBox.width} of ${barBox.width} px, want ${expected}`);
  } finally {
    await browser.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test('report --html badges as CA what check lists as certificate authorities: the kubelet\'s one-certificate self-signed kubelet.crt (CA:TRUE in form only) is a certificate in the timeline, the trust tree and its panel (was: a CA badge, and check said otherwise)', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const root = copyFixture('kubeadm-1.26');
  await putSelfSignedKubeletCrt(root, new Date('2026-11-22T21:00:00Z'), 365);
  const check = memoryIo();
  assert.equal(await run(['check', '--root', root, '--now', '2026-11-23'], check), 0, check.out);
  const cas = (check.out.split(/^CERTIFICATE AUTHORITY /m)[1]?.split('\n\n')[0] ?? '').split('\n').slice(1).filter(Boolean).map((l) => l.split(/ +/)[0]!).sort();
  assert.deepEqual(cas, ['ca', 'etcd-ca', 'front-proxy-ca'], check.out);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-dash-')), 'report.html');
  const io = memoryIo();
  assert.equal(await run(['report', '--root', root, '--now', '2026-11-23', '--html', file], io), 0, io.err);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]');
    const badged = (sel: string) => page.locator(sel).evaluateAll((els) => els.filter((e) => e.querySelector('.badge.ca')).map((e) => e.querySelector('.nm')!.textContent!.replace(/\s*CA$/, '').trim()).sort());
    assert.deepEqual(await badged('.tl-row'), cas, 'timeline');
    assert.deepEqual(await badged('.tnode'), cas, 'trust tree');
    const kubeletBar = page.locator('[data-testid="cert-bar"][data-cert-id="/var/lib/kubelet/pki/kubelet.crt#0"]');
    assert.equal(await kubeletBar.count(), 1);
    assert.doesNotMatch(await kubeletBar.getAttribute('class') ?? '', /\bca\b/);
    // its own root in the tree, not under 'Signed by a CA that is not on this node'
    assert.equal(await page.locator('#tree .group-note').count(), 0, await page.locator('#tree').innerText());
    await kubeletBar.click();
    await page.locator('#panel').waitFor({ state: 'visible' });
    assert.match(await page.locator('#panel').innerText(), /^CA\s+no · CA:TRUE in form only/m);
  } finally {
    await browser.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
