// The dashboard on real trees, in Debian's Chromium: served by `serve` (live
// updates without a reload) and written by `report --html` (offline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, testOutput } from './dashboard-browser.js';
import { copyFixture, removeCopy, checkJson, serveFixture, FIXTURES } from './serve-helpers.js';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import type { Inventory } from '../src/inventory/types.js';

async function assertDashboard(page: Page, inv: Inventory): Promise<void> {
  await page.waitForSelector('body[data-ready="true"]');
  const bars = page.locator('[data-testid="cert-bar"]');
  assert.equal(await bars.count(), inv.certificates.length, 'one bar per certificate');
  const ids = await bars.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.certId));
  assert.deepEqual([...ids].sort(), inv.certificates.map((c) => c.id).sort());
  const expiredIds = inv.certificates.filter((c) => c.status === 'expired').map((c) => c.id).sort();
  const marked = await page.locator('[data-testid="cert-bar"].expired').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.certId));
  assert.deepEqual([...marked].sort(), expiredIds, 'exactly the expired certificates are marked expired');
  const expiredRows = await page.locator('.tl-row[data-status="expired"] .badge.expired').count();
  assert.equal(expiredRows, expiredIds.length, 'expired rows carry an "expired" badge');
  // the trust tree and findings are there
  assert.ok(await page.locator('#tree .tnode').count() >= inv.certificates.length);
  assert.equal(await page.locator('#findings li').count(), inv.findings.length);
}

async function openPanel(page: Page, inv: Inventory, name: string): Promise<string> {
  const c = inv.certificates.find((x) => x.name === name)!;
  await page.locator(`[data-testid="cert-bar"][data-cert-id="${c.id}"]`).click();
  await page.locator('#panel').waitFor({ state: 'visible' });
  const text = await page.locator('#panel').innerText();
  // everything inspect shows that identifies the certificate
  for (const want of [c.name, c.subject, c.issuer, c.serial, c.fingerprint, c.spkiSha256, c.location.file, c.signatureAlgorithm]) {
    assert.ok(text.includes(want), `panel shows ${want}`);
  }
  for (const san of c.sans) assert.ok(text.includes(san.value), `panel shows SAN ${san.value}`);
  assert.doesNotMatch(text, /PRIVATE KEY|BEGIN RSA|BEGIN EC/, 'never a key');
  return text;
}

test('served dashboard on kubeadm-1.26-expired: bars, expired marked, panel, screenshots, live update without reload', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const root = copyFixture('kubeadm-1.26-expired');
  const server = await serveFixture(root, { watch: true, debounceMs: 100, pollSeconds: 1 });
  const browser = await launchChromium();
  try {
    const { inv } = await checkJson(root);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await assertDashboard(page, inv);
    await page.screenshot({ path: testOutput('dashboard.png'), fullPage: true });
    const text = await openPanel(page, inv, 'apiserver');
    assert.match(text, /expired/);
    assert.match(text, /kube-apiserver/, 'the component that reads it');
    await page.screenshot({ path: testOutput('dashboard-panel.png') });
    await page.keyboard.press('Escape');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(400);
    await page.screenshot({ path: testOutput('dashboard-phone.png'), fullPage: true });
    await page.screenshot({ path: testOutput('dashboard-phone-top.png') });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling at 390px (overflow ${overflow}px)`);
    await openPanel(page, inv, 'apiserver');
    await page.screenshot({ path: testOutput('dashboard-phone-panel.png') });
    await page.keyboard.press('Escape');
    await page.setViewportSize({ width: 1360, height: 900 });

    // renew apiserver on disk: the open page changes without a reload
    await page.evaluate(() => { (window as unknown as { __marker: number }).__marker = 42; });
    const id = inv.certificates.find((c) => c.name === 'apiserver')!.id;
    for (const f of ['apiserver.crt', 'apiserver.key']) {
      fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki', f), path.join(root, 'etc/kubernetes/pki', f));
    }
    await page.waitForSelector(`[data-testid="cert-bar"][data-cert-id="${id}"][data-status="ok"]`, { timeout: 10000 });
    assert.equal(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker), 42, 'same page, no reload');
    assert.equal(await page.locator('[data-testid="cert-bar"].expired').count(), inv.certificates.filter((c) => c.status === 'expired').length - 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    removeCopy(root);
  }
});

test('served dashboard of a big node fetches the inventory instead of embedding it', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const root = copyFixture('kubeadm-1.26');
  const server = await serveFixture(root, { embedLimit: 0 });
  const browser = await launchChromium();
  try {
    const { inv } = await checkJson(root);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const html = await (await page.goto(server.url))!.text();
    assert.match(html, /id="kubepki-inventory">null</);
    await assertDashboard(page, inv);
    assert.equal(await page.locator('[data-testid="cert-bar"].expired').count(), 0);
  } finally {
    await browser.close();
    await server.close();
    removeCopy(root);
  }
});

test('served dashboard behind --bearer-token-file opens in a browser given the token as the Basic password', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const root = copyFixture('kubeadm-1.26-expired');
  const tokenFile = path.join(path.dirname(root), 'token');
  fs.writeFileSync(tokenFile, 'dashboard-token-1\n', { mode: 0o600 });
  const server = await serveFixture(root, { bearerTokenFile: tokenFile, embedLimit: 0 });
  const browser = await launchChromium();
  try {
    const { inv } = await checkJson(root);
    // without credentials, or with the wrong ones, the browser is refused: it would prompt for a user name and
    // password (headless, Playwright cancels the prompt and the navigation fails)
    const refused = async (page: Page) => {
      const got = await page.goto(server.url).then((r) => r?.status(), (e: Error) => e.message);
      assert.match(String(got), /^401$|ERR_INVALID_AUTH_CREDENTIALS/);
      assert.equal(await page.locator('[data-testid="cert-bar"]').count(), 0);
    };
    await refused(await browser.newPage());
    // with them it answers the Basic challenge; the page's own fetch of /api/inventory (embedLimit 0) is
    // sent with the same credentials, so the whole dashboard renders
    const ctx = await browser.newContext({ httpCredentials: { username: 'operator', password: 'dashboard-token-1' }, viewport: { width: 1360, height: 900 } });
    const page = await ctx.newPage();
    assert.equal((await page.goto(server.url))!.status(), 200);
    await assertDashboard(page, inv);
    assert.ok(inv.summary.expired > 0 && await page.locator('[data-testid="cert-bar"].expired').count() === inv.summary.expired);
    await refused(await (await browser.newContext({ httpCredentials: { username: 'operator', password: 'not-the-token' } })).newPage());
  } finally {
    await browser.close();
    await server.close();
    removeCopy(root);
  }
});

test('report --html opens offline (every non-file request aborted) and shows the same', async (t) => {
  const missing = chromiumMissing();
  if (missing) { t.skip(missing); return; }
  const root = copyFixture('kubeadm-1.26-expired');
  const file = path.join(path.dirname(root), 'cp-1 report.html');
  const io = memoryIo();
  const code = await run(['report', '--root', root, '--now', '2026-11-23', '--html', file], io);
  assert.equal(code, 2, `the report is written and the exit code says what check would: ${io.err}`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o644);
  const html = fs.readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /PRIVATE KEY/);
  const browser = await launchChromium();
  try {
    const { inv } = await checkJson(root);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('file:')) return route.continue();
      requests.push(u);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    await assertDashboard(page, inv);
    await openPanel(page, inv, 'etcd-server');
    await page.screenshot({ path: testOutput('report-html.png') });
    assert.match(await page.locator('#live').innerText(), /snapshot/);
    assert.deepEqual(requests, [], 'the report asked the network for nothing');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    removeCopy(root);
  }
});

test('report -o markdown lists every certificate and finding', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  try {
    const io = memoryIo();
    assert.equal(await run(['report', '--root', root, '--now', '2026-11-23', '-o', 'markdown'], io), 2, io.err);
    const { inv } = await checkJson(root);
    const rows = io.out.split('\n').filter((l) => /^\| (ok|⚠️|❌)/.test(l));
    assert.equal(rows.length, inv.certificates.length);
    assert.equal(rows.filter((r) => r.includes('❌ expired')).length, inv.summary.expired);
    for (const f of inv.findings) assert.ok(io.out.includes(f.message.replace(/\|/g, '\\|')), f.message);
    const none = memoryIo();
    assert.equal(await run(['report', '--root', root], none), 3);
    assert.match(none.err, /--html FILE or -o markdown/);
  } finally {
    removeCopy(root);
  }
});
