/**
 * kubespray with `auto_renew_certificates: true` (roles/kubernetes/control-plane) installs
 * /etc/systemd/system/k8s-certs-renew.{timer,service} and {{ bin_dir }}/k8s-certs-renew.sh, and enables the
 * timer (`systemd_service: enabled: true`, its [Install] WantedBy=multi-user.target): on its calendar
 * (auto_renew_certificates_systemd_calendar, default "Mon *-*-1,2,3,4,5,6,7 03:00:00") the service runs
 * kubeadm certs renew and removes the control-plane pod sandboxes. check says that timer renews kubeadm's
 * certificates, and its expiring/expired findings say what to do about the timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import type { CertEntry, Inventory } from '../src/inventory/types.js';
import { copyFixture, cli, sh } from './renew-support.js';
import { byName } from './support/by-name.js';

const TIMER = '/etc/systemd/system/k8s-certs-renew.timer';
const WANTS = '/etc/systemd/system/multi-user.target.wants/k8s-certs-renew.timer';
const CALENDAR = 'Mon *-*-1,2,3,4,5,6,7 03:00:00';
/** 21 days before the fixture's leaves expire (2027-11-22): inside the default 30-day warning */
const EXPIRING = '2027-11-01T00:00:00Z';
const EXPIRED = '2027-12-01T00:00:00Z';

/** The kubeadm-1.26 fixture laid out as kubespray does: kubeadm's files in /etc/kubernetes/ssl, pki a link to it. */
function kubesprayNode(): string {
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  return root;
}

function put(root: string, nodePath: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(root, nodePath)), { recursive: true });
  fs.writeFileSync(path.join(root, nodePath), text, { mode });
}

/** What kubespray's templates render to (bin_dir /usr/local/bin, one control-plane node), and `systemctl enable`'s link. */
function addRenewTimer(root: string, o: { enabled: boolean }): void {
  put(root, TIMER, `[Unit]\nDescription=Timer to renew K8S control plane certificates\n\n[Timer]\nOnCalendar=${CALENDAR}\nRandomizedDelaySec=10min\nFixedRandomDelay=yes\nPersistent=yes\n\n[Install]\nWantedBy=multi-user.target\n`);
  put(root, '/etc/systemd/system/k8s-certs-renew.service', '[Unit]\nDescription=Renew K8S control plane certificates\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/k8s-certs-renew.sh\n');
  put(root, '/usr/local/bin/k8s-certs-renew.sh', '#!/bin/bash\necho "## Renewing certificates managed by kubeadm ##"\n/usr/local/bin/kubeadm certs renew all\n/usr/local/bin/crictl pods --namespace kube-system --name \'kube-scheduler-*|kube-controller-manager-*|kube-apiserver-*|etcd-*\' -q | /usr/bin/xargs /usr/local/bin/crictl rmp -f\n/usr/bin/cp /etc/kubernetes/admin.conf /root/.kube/config\n', 0o755);
  if (o.enabled) {
    fs.mkdirSync(path.dirname(path.join(root, WANTS)), { recursive: true });
    fs.symlinkSync(TIMER, path.join(root, WANTS));
  }
}


const KUBEADMS = ['apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client', 'etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'admin.conf', 'controller-manager.conf', 'scheduler.conf'];

test('kubespray node with k8s-certs-renew.timer enabled: RENEWED BY says the timer for what kubeadm renews (not the CAs, not the kubelet\'s), and an expiring certificate\'s finding says it renews it on its calendar and how to run it now', async () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: true });
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  assert.ok(inv.layouts.includes('kubespray'), inv.layouts.join());
  for (const n of KUBEADMS) assert.equal(byName(inv, n).managedBy, 'k8s-certs-renew.timer', n);
  for (const n of ['ca', 'etcd-ca', 'front-proxy-ca']) assert.equal(byName(inv, n).managedBy, 'manual', n);
  assert.equal(byName(inv, 'kubelet-client').managedBy, 'kubelet');

  const expiring = byName(inv, 'apiserver').findings.find((f) => f.code === 'expiring');
  assert.ok(expiring, JSON.stringify(byName(inv, 'apiserver').findings));
  assert.match(expiring.message, /^apiserver expires in 21d .*; k8s-certs-renew\.timer renews it \(enabled: \/etc\/systemd\/system\/multi-user\.target\.wants\/k8s-certs-renew\.timer\): on its calendar \(OnCalendar=Mon \*-\*-1,2,3,4,5,6,7 03:00:00\) k8s-certs-renew\.service \(\/usr\/local\/bin\/k8s-certs-renew\.sh\) runs kubeadm certs renew, then a restart of the control-plane pods; systemctl list-timers k8s-certs-renew\.timer says when next, systemctl start k8s-certs-renew\.service renews now$/);
  // (the kubelet's self-signed kubelet.crt, due too, is renewed by nobody: the next step stays kubepki's)
  assert.match(inv.next ?? '', /^kubepki renew all/);
  // with a kubelet serving certificate the cluster signs (serverTLSBootstrap) instead, the timer and the kubelet renew all that is due
  for (const f of ['kubelet.crt', 'kubelet.key']) fs.rmSync(path.join(root, 'var/lib/kubelet/pki', f));
  const bootstrapped = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  assert.ok(bootstrapped.certificates.some((c) => c.name === 'kubelet-client' && c.status === 'warning'));
  assert.match(bootstrapped.next ?? '', /^k8s-certs-renew\.timer renews them on its calendar \(systemctl list-timers k8s-certs-renew\.timer says when next\); systemctl start k8s-certs-renew\.service runs it now \(or kubepki renew all --root \S+ --dry-run, then without --dry-run\)$/);

  // the table's RENEWED BY column and the JSON say the same
  const table = await cli(['check', '--root', root, '--now', EXPIRING]);
  assert.equal(table.code, 1, table.err + table.out);
  assert.match(table.out, /^apiserver +.* warning +k8s-certs-renew\.timer +\/etc\/kubernetes\/ssl\/apiserver\.crt$/m);
  assert.match(table.out, /^admin\.conf +.* k8s-certs-renew\.timer +\/etc\/kubernetes\/admin\.conf \(user kubernetes-admin\)$/m);
  const json = await cli(['check', '--root', root, '--now', EXPIRING, '-o', 'json']);
  const doc = JSON.parse(json.out) as Inventory;
  assert.equal(doc.certificates.find((c) => c.name === 'scheduler.conf')?.managedBy, 'k8s-certs-renew.timer');
  // Prometheus's managed_by label
  const prom = await cli(['check', '--root', root, '--now', EXPIRING, '-o', 'prom']);
  assert.match(prom.out, /name="apiserver".*managed_by="k8s-certs-renew\.timer"|managed_by="k8s-certs-renew\.timer".*name="apiserver"/);
});

test('kubespray timer enabled but certificates expired anyway: the finding says the timer has not renewed them (journalctl, list-timers) and how to run it now', () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: true });
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRED) });
  const expired = byName(inv, 'front-proxy-client').findings.find((f) => f.code === 'expired');
  assert.ok(expired);
  assert.match(expired.message, /; k8s-certs-renew\.timer is enabled \(\/etc\/systemd\/system\/multi-user\.target\.wants\/k8s-certs-renew\.timer\) but has not renewed it: journalctl -u k8s-certs-renew\.service says why, systemctl list-timers k8s-certs-renew\.timer when it last ran \(OnCalendar=Mon \*-\*-1,2,3,4,5,6,7 03:00:00\); systemctl start k8s-certs-renew\.service runs kubeadm certs renew, then a restart of the control-plane pods now$/);
  // it did not come in time: the next step is kubepki's, now
  for (const f of ['kubelet.crt', 'kubelet.key']) fs.rmSync(path.join(root, 'var/lib/kubelet/pki', f));
  assert.match(readInventory({ fs: new NodeFs(root), now: new Date(EXPIRED) }).next ?? '', /^kubepki renew all/);
});

test('kubespray timer installed but not enabled (no link in multi-user.target.wants): RENEWED BY stays kubeadm, and the finding says nothing renews it until systemctl enable --now', () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: false });
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  for (const n of KUBEADMS) assert.equal(byName(inv, n).managedBy, 'kubeadm', n);
  const expiring = byName(inv, 'apiserver').findings.find((f) => f.code === 'expiring');
  assert.match(expiring?.message ?? '', /; kubespray's k8s-certs-renew\.timer is installed but not enabled \(no link in \/etc\/systemd\/system\/multi-user\.target\.wants\), so nothing renews it: systemctl enable --now k8s-certs-renew\.timer, whose k8s-certs-renew\.service \(\/usr\/local\/bin\/k8s-certs-renew\.sh\) runs kubeadm certs renew/);
  assert.match(inv.next ?? '', /^kubepki renew all/);
  // a masked timer (a link to /dev/null) runs nothing: as if it were not there
  fs.rmSync(path.join(root, TIMER));
  fs.symlinkSync('/dev/null', path.join(root, TIMER));
  const masked = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  assert.doesNotMatch(JSON.stringify(masked), /k8s-certs-renew/);
});

test('without the timer nothing changes: a kubespray node without it, and a plain kubeadm node with its files (no kubespray layout: not even looked for)', () => {
  const bare = kubesprayNode();
  const inv = readInventory({ fs: new NodeFs(bare), now: new Date(EXPIRING) });
  assert.equal(byName(inv, 'apiserver').managedBy, 'kubeadm');
  assert.doesNotMatch(JSON.stringify(inv), /k8s-certs-renew/);

  const plain = copyFixture('kubeadm-1.26');
  addRenewTimer(plain, { enabled: true });
  const kubeadm = readInventory({ fs: new NodeFs(plain), now: new Date(EXPIRING) });
  assert.ok(!kubeadm.layouts.includes('kubespray'), kubeadm.layouts.join());
  assert.equal(byName(kubeadm, 'apiserver').managedBy, 'kubeadm');
  assert.doesNotMatch(JSON.stringify(kubeadm), /k8s-certs-renew/);
});

test('renew on a kubespray node whose timer renews kubeadm\'s certificates still takes certificateValidityPeriod from the v1beta4 kubeadm config, as kubeadm certs renew does', async () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: true });
  const file = path.join(root, 'etc/kubernetes/kubeadm-config.yaml');
  const text = fs.readFileSync(file, 'utf8').replaceAll('kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4').replace('certificatesDir: /etc/kubernetes/pki', 'certificatesDir: /etc/kubernetes/ssl');
  fs.writeFileSync(file, text.replace(/^kind: ClusterConfiguration\n/m, (m) => `${m}certificateValidityPeriod: 2160h\n`));
  const r = await cli(['renew', 'apiserver', '--root', root, '--now', EXPIRING]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /certificateValidityPeriod 2160h/);
  const d = sh('openssl', ['x509', '-noout', '-enddate', '-in', path.join(root, 'etc/kubernetes/ssl/apiserver.crt')]);
  assert.equal(d.status, 0, d.stderr);
  // 2027-11-01 + 90 days
  assert.equal(d.stdout.trim(), 'notAfter=Jan 30 00:00:00 2028 GMT');
});

// kubespray's newer releases install k8s-certs-renew.py, which renews only when a certificate expires within 7
// days after the timer's next run: starting the service now renews nothing that run will, so the findings and
// Next said 'systemctl start k8s-certs-renew.service renews now' of a run that skips
test('kubespray timer whose service runs k8s-certs-renew.py: the expiring finding says it renews only near its next run, and points at kubepki renew for now', () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: true });
  put(root, '/etc/systemd/system/k8s-certs-renew.service', '[Unit]\nDescription=Renew K8S control plane certificates\n\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/k8s-certs-renew.py\n');
  put(root, '/usr/local/bin/k8s-certs-renew.py', '#!/usr/bin/env python3\n', 0o755);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  assert.equal(byName(inv, 'apiserver').managedBy, 'k8s-certs-renew.timer');
  const expiring = byName(inv, 'apiserver').findings.find((f) => f.code === 'expiring');
  assert.ok(expiring);
  assert.match(expiring.message, /k8s-certs-renew\.service \(\/usr\/local\/bin\/k8s-certs-renew\.py\) runs kubeadm certs renew \(only when a certificate expires within 7 days after the timer's next run\), then a restart of the control-plane pods; systemctl list-timers k8s-certs-renew\.timer says when next, systemctl start k8s-certs-renew\.service runs it now \(kubepki renew renews it now\)$/);
  assert.doesNotMatch(expiring.message, /renews now/);
});

// Some kubespray releases' k8s-certs-renew.sh renews certificates one by one (`kubeadm certs renew apiserver` …,
// upstream 157187ec), a list without super-admin.conf (kubeadm ≥ 1.29, not in this 1.26 tree): the timer renews
// only what its script names; here a script without admin.conf's line, so admin.conf stays kubeadm's.
test('kubespray k8s-certs-renew.sh that renews certificates by name: RENEWED BY says the timer only for those it names', () => {
  const root = kubesprayNode();
  addRenewTimer(root, { enabled: true });
  const listed = KUBEADMS.filter((n) => n !== 'admin.conf');
  put(root, '/usr/local/bin/k8s-certs-renew.sh', [
    '#!/bin/bash', 'KUBEADM_BIN="/usr/local/bin/kubeadm "', '# $KUBEADM_BIN certs renew all  (not this release)',
    ...listed.map((n) => `[ -f "/etc/kubernetes/ssl/${n}.key" ] && $KUBEADM_BIN certs renew ${n}`), '',
  ].join('\n'), 0o755);
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(EXPIRING) });
  for (const n of listed) assert.equal(byName(inv, n).managedBy, 'k8s-certs-renew.timer', n);
  assert.equal(byName(inv, 'admin.conf').managedBy, 'kubeadm');
  assert.doesNotMatch(byName(inv, 'admin.conf').findings.map((f) => f.message).join('\n'), /k8s-certs-renew/);
});
