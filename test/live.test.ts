// A component started before a certificate it reads changed (seed 002: front-proxy-client renewed, kube-apiserver
// never restarted). A real process named like a component is started here (a copy of sleep); /proc is the real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { liveComponents, staleLoads } from '../src/inventory/live.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { copyFixture, NOW, tmpDir } from './support/fixtures.js';

test('a running kube-apiserver that started before front-proxy-client.crt changed: restart-pending names it; one started after, nothing', async () => {
  const bin = tmpDir('kubepki-live-');
  const fake = path.join(bin, 'kube-apiserver');
  fs.copyFileSync(fs.realpathSync('/bin/sleep'), fake);
  fs.chmodSync(fake, 0o755);
  const root = copyFixture('kubeadm-1.26');
  const crt = path.join(root, 'etc/kubernetes/pki/front-proxy-client.crt');
  // the file was written before the process started
  fs.utimesSync(crt, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
  const p = spawn(fake, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const live = liveComponents().filter((l) => l.pid === p.pid);
    assert.equal(live.length, 1, 'the process is seen as kube-apiserver in /proc');
    assert.equal(live[0]!.component, 'kube-apiserver');
    const nfs = new NodeFs(root);
    const before = readInventory({ fs: nfs, now: NOW, live });
    assert.deepEqual(before.findings.filter((f) => f.code === 'restart-pending'), [], 'nothing changed since it started');
    // renewed now, after the start
    fs.utimesSync(crt, new Date(), new Date(Date.now() + 5000));
    const after = readInventory({ fs: new NodeFs(root), now: NOW, live });
    const f = after.findings.filter((x) => x.code === 'restart-pending');
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0]!.file, '/etc/kubernetes/pki/front-proxy-client.crt');
    assert.match(f[0]!.message, new RegExp(`^kube-apiserver \\(pid ${p.pid}\\) started .* before /etc/kubernetes/pki/front-proxy-client\\.crt changed`));
    // the same through staleLoads alone, and nothing for a component that is not running
    assert.equal(staleLoads(new NodeFs(root), live.map((l) => ({ ...l, component: 'etcd' })), after.components).filter((x) => x.file?.endsWith('front-proxy-client.crt')).length, 0);
  } finally {
    p.kill();
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('restart-pending leaves out what a component reloads or writes itself (the kubelet\'s rotated pair, an audit log), and sees kube-controller-manager under its 15-character /proc name', async () => {
  const bin = tmpDir('kubepki-live2-');
  // the tree is there before the components start, as on a node (copied files are dated now: an hour back)
  const root = copyFixture('kubeadm-1.26');
  const hourAgo = new Date(Date.now() - 3600e3);
  const age = (p: string) => { for (const d of fs.readdirSync(p, { withFileTypes: true })) { const q = path.join(p, d.name); if (d.isDirectory()) age(q); else if (d.isFile()) fs.utimesSync(q, hourAgo, hourAgo); } };
  age(root);
  const procs = ['kube-controller-manager', 'kubelet', 'kube-apiserver'].map((name) => {
    const f = path.join(bin, name);
    fs.copyFileSync(fs.realpathSync('/bin/sleep'), f);
    fs.chmodSync(f, 0o755);
    return spawn(f, ['30'], { stdio: 'ignore' });
  });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const pids = new Set(procs.map((p) => p.pid));
    const live = liveComponents().filter((l) => pids.has(l.pid));
    assert.deepEqual(live.map((l) => l.component).sort(), ['kube-apiserver', 'kube-controller-manager', 'kubelet']);
    const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('    - --tls-cert-file', '    - --audit-log-path=/var/log/kubernetes/audit.log\n    - --tls-cert-file'));
    fs.mkdirSync(path.join(root, 'var/log/kubernetes'), { recursive: true });
    const later = new Date(Date.now() + 5000);
    const touch = (rel: string) => { const f = path.join(root, rel); if (!fs.existsSync(f)) fs.writeFileSync(f, 'x'); fs.utimesSync(f, later, later); };
    touch('var/log/kubernetes/audit.log');
    touch('var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
    touch('etc/kubernetes/controller-manager.conf');
    const f = readInventory({ fs: new NodeFs(root), now: NOW, live }).findings.filter((x) => x.code === 'restart-pending');
    assert.deepEqual(f.map((x) => `${x.message.split(' ')[0]} ${x.file}`), ['kube-controller-manager /etc/kubernetes/controller-manager.conf']);
  } finally {
    for (const p of procs) p.kill();
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('kubespray (pki a link to ssl): a certificate changed after kube-apiserver started is one restart-pending, under the path the manifest names', async () => {
  const bin = tmpDir('kubepki-live3-');
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  const hourAgo = new Date(Date.now() - 3600e3);
  const age = (p: string) => { for (const d of fs.readdirSync(p, { withFileTypes: true })) { const q = path.join(p, d.name); if (d.isDirectory()) age(q); else if (d.isFile()) fs.utimesSync(q, hourAgo, hourAgo); } };
  age(root);
  const fake = path.join(bin, 'kube-apiserver');
  fs.copyFileSync(fs.realpathSync('/bin/sleep'), fake);
  fs.chmodSync(fake, 0o755);
  const p = spawn(fake, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const live = liveComponents().filter((l) => l.pid === p.pid);
    assert.equal(live.length, 1);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(root, 'etc/kubernetes/ssl/apiserver.crt'), later, later);
    const f = readInventory({ fs: new NodeFs(root), now: NOW, live }).findings.filter((x) => x.code === 'restart-pending');
    assert.deepEqual(f.map((x) => x.file), ['/etc/kubernetes/pki/apiserver.crt']);
  } finally {
    p.kill();
    fs.rmSync(bin, { recursive: true, force: true });
  }
});
