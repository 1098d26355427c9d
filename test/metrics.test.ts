import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { renderPrometheus, splitDn, serialDecimal } from '../src/report/metrics.js';
import { sampleInventory } from './dashboard-inventory.js';
import { parsePromText, promtoolCheck } from './metrics-parse.js';

test('splitDn and serialDecimal follow the exporter label shapes', () => {
  assert.deepEqual(splitDn('O=system:masters, CN=kubernetes-admin'), { O: 'system:masters', CN: 'kubernetes-admin' });
  assert.deepEqual(splitDn('O=a, O=b, CN=x, y'), { O: 'a,b', CN: 'x, y' });
  assert.equal(serialDecimal('0a'), '10');
  assert.equal(serialDecimal('5a1e0c3f9b'), String(0x5a1e0c3f9b));
});

test('metrics: one x509_cert_not_after per certificate with notAfter as epoch seconds', async () => {
  const inv = sampleInventory();
  const text = await renderPrometheus(inv, 'cp-1');
  const fams = parsePromText(text);
  const na = fams.get('x509_cert_not_after')!;
  assert.equal(na.type, 'gauge');
  assert.equal(na.samples.length, inv.certificates.length);
  for (const c of inv.certificates) {
    const s = na.samples.find((x) => x.labels.filepath === c.location.file && x.labels.name === c.name);
    assert.ok(s, `series for ${c.id}`);
    assert.equal(s.value, Date.parse(c.notAfter) / 1000);
    assert.equal(s.labels.node, 'cp-1');
    assert.equal(s.labels.subject_CN, c.subjectCN);
  }
  const expired = fams.get('x509_cert_expired')!.samples;
  assert.equal(expired.filter((s) => s.value === 1).length, 1);
  assert.equal(expired.find((s) => s.value === 1)!.labels.name, 'apiserver-etcd-client');
  const admin = na.samples.find((s) => s.labels.name === 'admin.conf')!;
  assert.equal(admin.labels.embedded_kind, 'user');
  assert.equal(admin.labels.embedded_key, 'kubernetes-admin');
  assert.equal(admin.labels.subject_O, 'system:masters');
  assert.equal(admin.labels.filename, 'admin.conf');
  const findings = fams.get('kubepki_findings')!.samples;
  assert.deepEqual(findings.map((s) => `${s.labels.code}/${s.labels.severity}=${s.value}`).sort(), ['corrupt/error=1', 'expired/error=1', 'expiring/warning=1']);
  assert.equal(fams.get('kubepki_read_errors')!.samples[0].value, 1);
  // nothing was probed: no reassuring stale=0, and the probe count says so
  assert.equal(fams.get('kubepki_served_cert_stale')?.samples.length ?? 0, 0);
  assert.equal(fams.get('kubepki_served_cert_probed')!.samples[0].value, 0);
  const check = promtoolCheck(text);
  if (!check) console.log('# promtool not installed (/usr/bin/promtool): skipped promtool check metrics');
  else assert.ok(check.ok, check.output);
});

test('metrics: a fresh registry per render, no series left from an earlier inventory', async () => {
  const inv = sampleInventory();
  await renderPrometheus(inv, 'cp-1');
  const fewer = { ...inv, certificates: inv.certificates.slice(0, 2) };
  const fams = parsePromText(await renderPrometheus(fewer, 'cp-1'));
  assert.equal(fams.get('x509_cert_not_after')!.samples.length, 2);
});

test('metrics: the same certificate twice in one bundle gets a discriminator, not a lost series', async () => {
  const inv = sampleInventory();
  const twin = { ...inv.certificates[3], id: inv.certificates[3].id + '-2', fingerprint: 'f'.repeat(64), location: { ...inv.certificates[3].location, index: 1 } };
  const fams = parsePromText(await renderPrometheus({ ...inv, certificates: [...inv.certificates, twin] }, 'cp-1'));
  const s = fams.get('x509_cert_not_after')!.samples;
  assert.equal(s.length, inv.certificates.length + 1);
  assert.equal(s.filter((x) => x.labels.discriminator).length, 1);
});

test('strict parser rejects what Prometheus rejects', () => {
  assert.throws(() => parsePromText('x 1\n'), /without TYPE/);
  assert.throws(() => parsePromText('# TYPE x gauge\nx{a="\\q"} 1\n'), /bad escape/);
  assert.throws(() => parsePromText('# TYPE x gauge\nx 1\nx 2\n'), /duplicate series/);
  assert.throws(() => parsePromText('# TYPE x gauge\nx one\n'), /bad value/);
});

test('check -o prom (node_exporter textfile) is the same exposition, valid for promtool', async () => {
  const { copyFixture, removeCopy } = await import('./serve-helpers.js');
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26-expired');
  try {
    const io = memoryIo();
    await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'prom'], io);
    const fams = parsePromText(io.out);
    assert.equal(fams.get('x509_cert_not_after')!.samples.length, 16);
    assert.equal(fams.get('x509_cert_expired')!.samples.filter((s) => s.value === 1).length, 13);
    // (the version a fleet dashboard groups nodes by: it was empty in the textfile)
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.deepEqual(fams.get('kubepki_build_info')!.samples.map((s) => s.labels.version), [pkg.version]);
    const check = promtoolCheck(io.out);
    if (check) assert.ok(check.ok, check.output);
  } finally {
    removeCopy(root);
  }
});

// The kubelet makes its self-signed kubelet.crt once and never renews it, and kube-apiserver does not verify it: check
// rates its expiry a warning (its throwaway CA info). The series had nothing to tell it from apiserver.crt, so the
// chart paged critical, for good, on every node over a year old. expiry_severity carries check's rating, from who the
// certificate is (never its dates: the label set is the same before and after it expires).
test('metrics: expiry_severity is check\'s rating of each certificate\'s expiry, the same while valid and once expired', async () => {
  const { copyFixture, removeCopy } = await import('./serve-helpers.js');
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const ratings = async (fixture: string) => {
    const root = copyFixture(fixture);
    try {
      const prom = memoryIo();
      await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'prom'], prom);
      const json = memoryIo();
      await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'json'], json);
      const inv = JSON.parse(json.out) as import('../src/inventory/types.js').Inventory;
      const series = parsePromText(prom.out).get('x509_cert_not_after')!.samples;
      return { series, inv, by: Object.fromEntries(series.map((s) => [s.labels.name, s.labels.expiry_severity])) };
    } finally {
      removeCopy(root);
    }
  };
  const expired = await ratings('kubeadm-1.26-expired');
  for (const c of expired.inv.certificates) {
    const finding = c.findings.find((f) => f.code === 'expired');
    if (!finding) continue;
    const s = expired.series.find((x) => x.labels.filepath === c.location.file && x.labels.serial_number === serialDecimal(c.serial) && x.labels.embedded_key === (c.location.kubeconfig?.name ?? ''));
    assert.equal(s?.labels.expiry_severity, finding.severity, `${c.name}: expiry_severity is the severity of check's expired finding`);
  }
  assert.equal(expired.by['kubelet-serving'], 'warning');
  assert.equal(expired.by['kubelet-serving-ca'], 'info');
  assert.equal(expired.by.apiserver, 'error');
  assert.equal(expired.by['kubelet-client'], 'error');
  const valid = await ratings('kubeadm-1.26');
  assert.deepEqual(valid.by, expired.by, 'the same label values before the certificates expire');
});

// A directory the reader may not list (an etcd directory owned by another user, 0700, read by root without
// CAP_DAC_READ_SEARCH as in a container that drops every capability) was read as an empty directory: its
// certificates vanished from /metrics with kubepki_read_errors 0, so no alert said they were not watched.
test('check -o prom without capabilities: a directory it may not list is a read error, its files unreadable rather than missing', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { copyFixture, removeCopy } = await import('./serve-helpers.js');
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) { t.skip('needs root and setpriv (util-linux) to drop capabilities'); return; }
  const root = copyFixture('kubeadm-1.26');
  try {
    const etcd = path.join(root, 'etc/kubernetes/pki/etcd');
    for (const f of fs.readdirSync(etcd)) fs.chownSync(path.join(etcd, f), 998, 0);
    fs.chownSync(etcd, 998, 0);
    fs.chmodSync(etcd, 0o700);
    const bin = path.resolve(process.cwd(), 'bin/kubepki.js');
    const kubepki = (...args: string[]) => spawnSync('setpriv', ['--bounding-set=-all', '--', process.execPath, bin, ...args, '--root', root, '--now', '2026-11-23'], { encoding: 'utf8' });
    const prom = kubepki('check', '-o', 'prom');
    assert.equal(prom.status, 2, `an unreadable directory is an error (exit 2): ${prom.stderr}`);
    const fams = parsePromText(prom.stdout);
    assert.equal(fams.get('kubepki_read_errors')!.samples[0]!.value, 1, 'the alert KubepkiReadErrors has a series to fire on');
    assert.equal(fams.get('kubepki_unreadable_files')!.samples[0]!.value, 4, 'etcd ca, server, peer, healthcheck-client: there, not read');
    assert.equal(fams.get('kubepki_missing_files')!.samples[0]!.value, 0, 'not reported missing (rebuild would make new ones)');
    const check = promtoolCheck(prom.stdout);
    if (check) assert.ok(check.ok, check.output);
    const text = kubepki('check');
    assert.match(text.stdout, /failed to read \/etc\/kubernetes\/pki\/etcd: EACCES \(permission denied: run kubepki as root/);
    assert.match(text.stdout, /^Next: run kubepki as root .*permission denied reading \/etc\/kubernetes\/pki\/etcd$/m);
  } finally {
    removeCopy(root);
  }
});

// `check -o prom` into node_exporter's textfile directory: the series carry node_exporter's job and instance, and up is
// node_exporter's. The rules matched only the chart's job, so nothing fired; with prometheusRule.selector set to
// node_exporter's job and absence: series, the expiry alerts fire on check's series and KubepkiAbsent watches them.
test('check -o prom under node_exporter\'s job: the chart\'s rules with selector job="node-exporter" and absence: series fire on it', async (t) => {
  const { copyFixture, removeCopy } = await import('./serve-helpers.js');
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const { renderChart, CHART_DIR } = await import('./deploy-render.js');
  const { promtoolTestRules } = await import('./metrics-parse.js');
  const rule = renderChart(CHART_DIR, { values: { prometheusRule: { selector: 'job="node-exporter"', absence: 'series' } } })
    .flatMap((r) => r.docs).find((d) => d.kind === 'PrometheusRule') as { spec: { groups: { rules: Record<string, unknown>[] }[] } };
  const root = copyFixture('kubeadm-1.26-expired');
  let text: string;
  try {
    const io = memoryIo();
    await run(['check', '--root', root, '--now', '2026-11-23', '-o', 'prom'], io);
    text = io.out;
  } finally {
    removeCopy(root);
  }
  const target = { job: 'node-exporter', instance: '10.0.0.1:9100' };
  const T = Math.floor(new Date('2026-11-23T00:00:00Z').getTime() / 1000);
  const at = (name: string, m: Record<string, string>) => `${name}{${Object.entries(m).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
  const fams = parsePromText(text);
  // promtool's clock starts at 0: timestamps become seconds since the read; the cron rewrites the file every minute
  const series = [...fams.values()].flatMap((f) => f.samples.map((x) => {
    const ts = /^x509_cert_not_(after|before)$|^kubepki_last_read_timestamp_seconds$/.test(x.name);
    return { series: at(x.name, { ...x.labels, ...target }), values: `${ts ? x.value - T : x.value}+${x.name === 'kubepki_last_read_timestamp_seconds' ? 60 : 0}x40` };
  }));
  // (the kubelet's self-signed kubelet.crt is a warning, its throwaway CA nothing: as on the ServiceMonitor path)
  const expired = fams.get('x509_cert_not_after')!.samples.filter((x) => x.value <= T && x.labels.expiry_severity !== 'info');
  assert.ok(expired.filter((x) => x.labels.expiry_severity === 'error').length >= 10, `the fixture has expired certificates: ${expired.length}`);
  const r = promtoolTestRules(rule.spec.groups, [
    // node_exporter on a worker without a kubepki file is down: no KubepkiDown (its up is not kubepki's)
    { interval: '1m', input_series: [...series, { series: at('up', target), values: '1+0x40' }, { series: at('up', { job: 'node-exporter', instance: '10.0.0.8:9100' }), values: '0+0x40' }],
      alert_rule_test: [
        { eval_time: '1m', alertname: 'KubepkiCertificateExpired', exp_alerts: expired.map((x) => ({ exp_labels: Object.fromEntries(Object.entries({ ...x.labels, ...target, alertname: 'KubepkiCertificateExpired', severity: x.labels.expiry_severity === 'warning' ? 'warning' : 'critical' }).filter(([, v]) => v !== '')) })) },
        { eval_time: '40m', alertname: 'KubepkiDown', exp_alerts: [] },
        { eval_time: '40m', alertname: 'KubepkiAbsent', exp_alerts: [] },
        { eval_time: '40m', alertname: 'KubepkiReadStale', exp_alerts: [] },
      ] },
    // node_exporter scraped, no kubepki file on any node: KubepkiAbsent after 30m
    { interval: '1m', input_series: [{ series: at('up', target), values: '1+0x40' }],
      alert_rule_test: [{ eval_time: '20m', alertname: 'KubepkiAbsent', exp_alerts: [] },
        { eval_time: '40m', alertname: 'KubepkiAbsent', exp_alerts: [{ exp_labels: { job: 'node-exporter', alertname: 'KubepkiAbsent', severity: 'warning' } }] }] },
  ]);
  if (!r) { t.skip('promtool not installed (/usr/bin/promtool)'); return; }
  assert.ok(r.ok, r.output);
});
