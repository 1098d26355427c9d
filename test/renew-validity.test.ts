/**
 * kubeadm ≥1.31 (config v1beta4) sets certificate lifetimes in the ClusterConfiguration:
 * certificateValidityPeriod (every leaf `kubeadm certs renew` renews, kubeconfig client certificates
 * included) and caCertificateValidityPeriod (CAs). renew takes them (after --validity), check --warn N%
 * measures against them, and a value kubeadm would not take is a warning naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { parseGoDuration } from '../src/inventory/time.js';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { copyFixture, cli, sh, NOW } from './renew-support.js';

const PKI = 'etc/kubernetes/pki';

/**
 * The fixture's kubeadm-config.yaml (InitConfiguration + ClusterConfiguration, two documents) as a
 * kubeadm 1.31 node has it: apiVersion v1beta4 (unless given), with `lines` added to the ClusterConfiguration.
 */
function writeKubeadmConfig(root: string, lines: string[], apiVersion = 'kubeadm.k8s.io/v1beta4'): string {
  const file = path.join(root, 'etc/kubernetes/kubeadm-config.yaml');
  const text = fs.readFileSync(file, 'utf8').replaceAll('apiVersion: kubeadm.k8s.io/v1beta3', `apiVersion: ${apiVersion}`);
  assert.match(text, /^kind: InitConfiguration$/m);
  fs.writeFileSync(file, text.replace(/^kind: ClusterConfiguration\n/m, (m) => m + lines.map((l) => `${l}\n`).join('')));
  return file;
}

/** `openssl x509 -noout -startdate -enddate` of the first certificate in a PEM file or PEM text. */
function dates(pemFileOrText: string): { notBefore: string; notAfter: string } {
  const r = pemFileOrText.includes('-----BEGIN')
    ? sh('openssl', ['x509', '-noout', '-startdate', '-enddate'], pemFileOrText)
    : sh('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', pemFileOrText]);
  assert.equal(r.status, 0, r.stderr);
  return { notBefore: /notBefore=(.*)/.exec(r.stdout)![1]!, notAfter: /notAfter=(.*)/.exec(r.stdout)![1]! };
}

/** The client certificate a kubeconfig embeds (client-certificate-data), as PEM. */
function embeddedCert(kubeconfig: string): string {
  const m = /client-certificate-data: (\S+)/.exec(fs.readFileSync(kubeconfig, 'utf8'));
  assert.ok(m, `${kubeconfig} embeds its client certificate`);
  return Buffer.from(m[1]!, 'base64').toString('utf8');
}

// NOW is 2026-11-23T00:00:00Z: 90 days later, and the 5 minutes' backdate before it
const NOW_PLUS_90D = 'Feb 21 00:00:00 2027 GMT';
const NOW_MINUS_5M = 'Nov 22 23:55:00 2026 GMT';

test('certificateValidityPeriod: 2160h in a v1beta4 ClusterConfiguration was ignored (renew gave the old year): every kubeadm leaf, kubeconfig ones included, is renewed until now + 90 days, and the plan says where that came from', async () => {
  const root = copyFixture('kubeadm-1.26');
  writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h']);
  const kubeletBefore = readInventory({ fs: new NodeFs(root), now: new Date(NOW) }).certificates.find((c) => c.name === 'kubelet-client')!;

  const dry = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.err + dry.out);
  assert.match(dry.out, /apiserver .*\n.*notAfter 2027-11-22 → 2027-02-21;.*\n.*validity 90 days \(the cluster's\): certificateValidityPeriod 2160h in \/etc\/kubernetes\/kubeadm-config\.yaml \(--validity to choose another\)/);
  assert.doesNotMatch(dry.out, /Warnings:/);

  const r = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  for (const base of ['apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client']) {
    assert.deepEqual(dates(path.join(root, PKI, `${base}.crt`)), { notBefore: NOW_MINUS_5M, notAfter: NOW_PLUS_90D }, base);
  }
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    assert.deepEqual(dates(embeddedCert(path.join(root, 'etc/kubernetes', conf))), { notBefore: NOW_MINUS_5M, notAfter: NOW_PLUS_90D }, conf);
  }
  // the kubelet's client certificate is the kubelet's (signed through a CSR), not kubeadm's: its own lifetime
  const kubelet = readInventory({ fs: new NodeFs(root), now: new Date(NOW) }).certificates.find((c) => c.name === 'kubelet-client')!;
  assert.ok(Math.abs(kubelet.lifetimeSeconds - kubeletBefore.lifetimeSeconds) <= 300, `kubelet-client keeps its lifetime: ${kubelet.notBefore} → ${kubelet.notAfter}`);
  // a CA the run did not renew is not touched by the leaf period
  assert.notEqual(dates(path.join(root, PKI, 'ca.crt')).notAfter, NOW_PLUS_90D);
});

test('renew ca took notAfter − notBefore, not caCertificateValidityPeriod: a kubeadm CA is renewed for the CA period (not the leaf one), and keeps its notBefore', async () => {
  const root = copyFixture('kubeadm-1.26');
  writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h0m0s', 'caCertificateValidityPeriod: 43800h0m0s']);
  const before = dates(path.join(root, PKI, 'etcd/ca.crt'));
  const r = await cli(['renew', 'etcd-ca', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /validity 5 years \(the cluster's\): caCertificateValidityPeriod 43800h0m0s in \/etc\/kubernetes\/kubeadm-config\.yaml/);
  assert.deepEqual(dates(path.join(root, PKI, 'etcd/ca.crt')), { notBefore: before.notBefore, notAfter: 'Nov 22 00:00:00 2031 GMT' }, 'now + 43800h (5 × 365 days)');
  // its leaves, untouched, still verify against it
  const v = sh('openssl', ['verify', '-CAfile', path.join(root, PKI, 'etcd/ca.crt'), path.join(root, PKI, 'etcd/server.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('--validity wins over the configured periods, for a leaf and for a CA, and the plan then cites no config', async () => {
  const root = copyFixture('kubeadm-1.26');
  writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h', 'caCertificateValidityPeriod: 43800h']);
  // without it, the configured periods decide
  const dry = await cli(['renew', 'apiserver', 'front-proxy-ca', '--root', root, '--now', NOW, '--dry-run']);
  assert.match(dry.out, /apiserver .*\n.*notAfter 2027-11-22 → 2027-02-21;.*\n.*validity 90 days \(the cluster's\)/);
  assert.match(dry.out, /front-proxy-ca .*\n.*notAfter 2036-11-19 → 2031-11-22;.*\n.*validity 5 years \(the cluster's\)/);
  const r = await cli(['renew', 'apiserver', 'front-proxy-ca', '--root', root, '--now', NOW, '--validity', '30d']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.doesNotMatch(r.out, /the cluster's|ValidityPeriod/);
  assert.equal(dates(path.join(root, PKI, 'apiserver.crt')).notAfter, 'Dec 23 00:00:00 2026 GMT');
  assert.equal(dates(path.join(root, PKI, 'front-proxy-ca.crt')).notAfter, 'Dec 23 00:00:00 2026 GMT');
});

test('a period kubeadm would not take (90d, a bare number, a v1beta3 field) is a warning naming the file, in check and in the plan, never a crash; renew goes on with the certificate\'s own lifetime', async () => {
  const root = copyFixture('kubeadm-1.26');
  const file = writeKubeadmConfig(root, ['certificateValidityPeriod: 90d', 'caCertificateValidityPeriod: 87600']);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  const bad = inv.findings.filter((f) => f.code === 'kubeadm-config-invalid');
  assert.deepEqual(bad.map((f) => [f.severity, f.file]), [['warning', '/etc/kubernetes/kubeadm-config.yaml'], ['warning', '/etc/kubernetes/kubeadm-config.yaml']]);
  assert.match(bad[0]!.message, /^ClusterConfiguration\.certificateValidityPeriod "90d" in \/etc\/kubernetes\/kubeadm-config\.yaml is not a Go duration/);
  assert.match(bad[1]!.message, /caCertificateValidityPeriod 87600 in \/etc\/kubernetes\/kubeadm-config\.yaml is not a Go duration/);

  const check = await cli(['check', '--root', root, '--now', NOW]);
  assert.equal(check.code, 1, 'a warning: the certificates are fine, the config is not');
  assert.match(check.out, /certificateValidityPeriod "90d" in \/etc\/kubernetes\/kubeadm-config\.yaml is not a Go duration/);
  assert.doesNotMatch(check.out + check.err, /at .*\.js:\d+/);

  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /Warnings:\n {2}ClusterConfiguration\.certificateValidityPeriod "90d" in \/etc\/kubernetes\/kubeadm-config\.yaml is not a Go duration \(kubeadm refuses it too; write hours, e\.g\. 2160h\): ignored; renewing with each certificate's own lifetime \(or its installer's\) instead — pass --validity to choose one\n/);
  assert.doesNotMatch(r.out, /caCertificateValidityPeriod/, 'no CA renewed: the CA field is not this run\'s business');
  assert.equal(dates(path.join(root, PKI, 'apiserver.crt')).notAfter, 'Nov 23 00:00:00 2027 GMT', 'its own lifetime (the fixture\'s year), as before');

  // the fields in a v1beta3 ClusterConfiguration: kubeadm does not know them there, so neither does kubepki
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('90d', '2160h').replace(/\ncaCertificateValidityPeriod: .*/, '').replaceAll('v1beta4', 'v1beta3'));
  const old = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(old.code, 0, old.err + old.out);
  assert.match(old.out, /ClusterConfiguration\.certificateValidityPeriod in \/etc\/kubernetes\/kubeadm-config\.yaml is ignored: kubeadm\.k8s\.io\/v1beta3 has no such field/);
  assert.doesNotMatch(old.out, /the cluster's/);
  // zero (or negative): Go reads it, but certificates would be born expired
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('v1beta3', 'v1beta4').replace('2160h', '0s'));
  const zero = readInventory({ fs: new NodeFs(root), now: new Date(NOW) }).findings.find((f) => f.code === 'kubeadm-config-invalid');
  assert.match(zero?.message ?? '', /certificateValidityPeriod "0s" in \/etc\/kubernetes\/kubeadm-config\.yaml is not a positive duration/);
});

test('check --warn N% with certificateValidityPeriod set: a kubeconfig client certificate with its CA\'s notBefore (how kubeadm ≥1.31 makes them) is measured against the configured period; a PKI leaf of that shape (kubeadm ≤1.30 made it) keeps kubeadm\'s old year', async () => {
  const root = copyFixture('kubeadm-1.26');
  const ca = new Certificate(parsePemBlocks(fs.readFileSync(path.join(root, PKI, 'ca.crt'), 'latin1'))[0]!.der);
  const back = Math.round((Date.parse(NOW) - ca.notBefore.getTime()) / 1000);
  // the shape kubeadm ≤1.30 leaves: notBefore = the CA's, notAfter 2029-11-22
  for (const name of ['apiserver', 'scheduler.conf']) {
    assert.equal((await cli(['renew', name, '--root', root, '--now', NOW, '--backdate', `${back}s`, '--validity', '1095d'])).code, 0);
  }
  const status = (when: string, name: string) => readInventory({ fs: new NodeFs(root), now: new Date(when), warn: '50%' }).certificates.find((c) => c.name === name)!.status;
  // 60 days before they end: 84% of kubeadm's old year used, a third of 90 days
  const sixtyDaysLeft = '2029-09-23T00:00:00Z';
  assert.equal(status(sixtyDaysLeft, 'apiserver'), 'warning');
  assert.equal(status(sixtyDaysLeft, 'scheduler.conf'), 'warning');
  writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h']);
  assert.equal(status(sixtyDaysLeft, 'scheduler.conf'), 'ok', 'a third of 90 days used');
  assert.equal(status('2029-10-23T00:00:00Z', 'scheduler.conf'), 'warning', 'two thirds of 90 days used');
  // warnFrom (what the dashboard shades) says the same: half of 90 days before notAfter, not half of 3 years
  const sched = readInventory({ fs: new NodeFs(root), now: new Date(sixtyDaysLeft), warn: '50%' }).certificates.find((c) => c.name === 'scheduler.conf')!;
  assert.equal((Date.parse(sched.notAfter) - Date.parse(sched.warnFrom!)) / 86400e3, 45);
  assert.equal(status(sixtyDaysLeft, 'apiserver'), 'warning', 'a PKI leaf with the CA\'s notBefore was issued by kubeadm ≤1.30, for a year');
  // renew gives both the configured period, as kubeadm certs renew does
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', sixtyDaysLeft, '--dry-run']);
  assert.match(r.out, /validity 90 days \(the cluster's\)/);
  assert.doesNotMatch(r.out, /1 year \(kubeadm's\)/);
});

test('parseGoDuration reads what Go\'s time.ParseDuration reads, in whole seconds, and refuses the rest', () => {
  const cases: [string, number | undefined][] = [
    ['8760h0m0s', 8760 * 3600], ['2160h', 2160 * 3600], ['720h', 720 * 3600], ['1h30m', 5400], ['1.5h', 5400], ['.5h', 1800], ['1.h', 3600],
    ['90s', 90], ['1500ms', 1], ['0', 0], ['0s', 0], ['-1h', -3600], ['+2h', 7200], ['1h1h', 7200], ['2562047h', 2562047 * 3600],
    ['90d', undefined], ['1y', undefined], ['8760', undefined], ['', undefined], ['h', undefined], ['.h', undefined], ['1.5.5h', undefined],
    [' 720h', undefined], ['2562048h', undefined],
    // Go sums the fraction as float64(f) * (unit / 10^digits): exact where 4.35 * 3600e9 is not
    ['4.35h', 15660], ['0.1h', 360], ['2.5m', 150],
  ];
  for (const [text, seconds] of cases) assert.equal(parseGoDuration(text), seconds, JSON.stringify(text));
});

test('renew --config takes the periods from a kubeadm config the operator gives (a kubeadm-config ConfigMap dump), over the node\'s own kubeadm-config.yaml; a file that is no kubeadm config is one line, exit 3, nothing written', async () => {
  const root = copyFixture('kubeadm-1.26');
  // the node's file says 90 days; the cluster's ConfigMap (what kubeadm certs renew reads) says 30
  writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h']);
  const dir = fs.mkdtempSync(path.join(root, '..', 'kubepki-config-'));
  const cm = path.join(dir, 'kubeadm-config.yaml');
  fs.writeFileSync(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeadm-config\n  namespace: kube-system\ndata:\n  ClusterConfiguration: |\n    apiVersion: kubeadm.k8s.io/v1beta4\n    kind: ClusterConfiguration\n    certificateValidityPeriod: 720h0m0s\n');
  const before = fs.readFileSync(path.join(root, PKI, 'apiserver.crt'));
  const bad = path.join(dir, 'not-kubeadm.yaml');
  fs.writeFileSync(bad, 'apiVersion: v1\nkind: Config\n');
  const refused = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--config', bad]);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /failed to read kubeadm config .*not-kubeadm\.yaml: no InitConfiguration or ClusterConfiguration in it/);
  assert.deepEqual(fs.readFileSync(path.join(root, PKI, 'apiserver.crt')), before, 'nothing written');
  // a ConfigMap whose ClusterConfiguration is no YAML: the same one line (it was an internal error)
  fs.writeFileSync(bad, 'apiVersion: v1\nkind: ConfigMap\ndata:\n  ClusterConfiguration: "a: [b\\n  c: : d"\n');
  const broken = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--config', bad]);
  assert.equal(broken.code, 3, broken.err);
  assert.match(broken.err, /^kubepki: failed to parse kubeadm config .*not-kubeadm\.yaml: data\.ClusterConfiguration: /);
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--config', cm]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /validity 30 days \(the cluster's\): certificateValidityPeriod 720h0m0s in .*kubeadm-config\.yaml/);
  assert.equal(dates(path.join(root, PKI, 'apiserver.crt')).notAfter, 'Dec 23 00:00:00 2026 GMT');
});

test('a CA renewed for less than the certificates it signed still have (caCertificateValidityPeriod: 720h, or --validity) is a warning naming them, not a silent "stays valid"', async () => {
  const root = copyFixture('kubeadm-1.26');
  writeKubeadmConfig(root, ['caCertificateValidityPeriod: 720h']);
  const r = await cli(['renew', 'ca', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Warnings:\n {2}ca renewed until 2026-12-23, before \d+ certificate\(s\) it signed end \(.*apiserver.*; the last on 2027-11-22\): from then on they no longer verify/);
  const long = await cli(['renew', 'ca', '--root', root, '--now', NOW, '--dry-run', '--validity', '10y']);
  assert.doesNotMatch(long.out, /no longer verify/);
});

test('a kubeadm config giving ClusterConfiguration twice is refused as kubeadm refuses it: check warns and takes neither document\'s lifetimes or certSANs, rebuild --config and renew --config stop with kubeadm\'s message', async () => {
  const root = copyFixture('kubeadm-1.26');
  const file = writeKubeadmConfig(root, ['certificateValidityPeriod: 2160h']);
  const text = fs.readFileSync(file, 'utf8');
  const cluster = /^apiVersion: kubeadm\.k8s\.io\/v1beta4\nkind: ClusterConfiguration\n[^]*?(?=^---|(?![^]))/m.exec(text)![0];
  fs.writeFileSync(file, `${text.trimEnd()}\n---\n${cluster.replace('2160h', '4320h')}`);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  const bad = inv.findings.filter((f) => f.code === 'kubeadm-config-invalid');
  assert.equal(bad.length, 1, JSON.stringify(bad));
  assert.match(bad[0]!.message, /^\/etc\/kubernetes\/kubeadm-config\.yaml gives kind "ClusterConfiguration" twice: kubeadm refuses it/);
  assert.equal(inv.kubeadmValidity, undefined, 'neither period taken');
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--dry-run']);
  assert.doesNotMatch(r.out, /the cluster's/);
  for (const args of [['renew', 'apiserver', '--dry-run'], ['rebuild', '--dry-run', '--node-name', 'cp-1', '--advertise-address', '192.0.2.10']]) {
    const c = await cli([...args, '--root', root, '--now', NOW, '--config', file]);
    assert.equal(c.code, 3, c.out + c.err);
    assert.match(c.err, /invalid configuration: kind "ClusterConfiguration" is specified twice in YAML file/);
    assert.equal(c.err.trim().split('\n').length <= 2, true, c.err);
  }
});

test('--days N, as openssl x509 -days takes it, is --validity Nd (seed 000 typed 36500); with --validity too, or not a whole number, it is refused', async () => {
  const root = copyFixture('kubeadm-1.26');
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--days', '36500']);
  assert.equal(r.code, 0, r.err);
  assert.equal(dates(path.join(root, PKI, 'apiserver.crt')).notAfter, 'Oct 30 00:00:00 2126 GMT');
  for (const bad of [['--days', '10y'], ['--days', '0'], ['--days', '365', '--validity', '1y']]) {
    const e = await cli(['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--dry-run', ...bad]);
    assert.equal(e.code, 3, bad.join(' '));
    assert.match(e.err, /^kubepki: --days /, e.err);
  }
});
