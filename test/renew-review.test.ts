/** Regressions from the operator review of `kubepki renew`: each test is named after what broke. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ipBytes, generalNameDer } from '../src/pki/sign.js';
import { parseSans, planRenew } from '../src/plan/renew.js';
import { readInventory } from '../src/inventory/read.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { carryOutRestarts, type Runner } from '../src/apply/restart.js';
import type { Plan } from '../src/plan/types.js';
import { makeK3sTree, makeCa, makeLeaf, put } from './support/trees.js';
import { copyFixture, cli, sh, tmp, snapshotTree, NOW } from './renew-support.js';

test('--add-san IP:999.1.1.1 (and other names a certificate cannot carry as written) is refused with exit 3, dry run and real run alike, and nothing is written', async () => {
  const root = copyFixture('kubeadm-1.26');
  const before = snapshotTree(root);
  const state = path.join(root, 'var/lib/kubepki');
  const stateBefore = fs.existsSync(state) ? fs.readdirSync(state, { recursive: true }) : undefined;
  const bad: [string, RegExp][] = [
    ['IP:999.1.1.1', /"999\.1\.1\.1" is not an IPv4 or IPv6 address/],
    ['IP:1.2.3', /"1\.2\.3" is not an IPv4 or IPv6 address/],
    ['IP:256.0.0.1', /"256\.0\.0\.1"/],
    ['IP:1::2::3', /"1::2::3"/],
    ['IP:fe80::1%eth0', /zone index/],
    ['DNS:bad name', /"bad name" is not a valid DNS name/],
    ['DNS:ünï.example', /"ünï\.example" is not ASCII/],
    ['DNS:a.*.example.com', /not a valid DNS name: "\*" is not allowed/],
    ['DNS:10.0.0.300', /last label is all digits/],
    ['DNS:-lead.example.com', /not a valid DNS name/],
    ['DNS:API.example.com', /upper-case/],
    ['DNS:example.com.', /not a valid DNS name/],
    ['URI:not a uri', /"not a uri" has spaces/],
    ['URI:relative/path', /not an absolute URI/],
    ['email:nobody', /"nobody" is not an e-mail address/],
    ['email:a b@example.com', /not an e-mail address/],
  ];
  for (const [san, why] of bad) {
    for (const extra of [['--dry-run'], []]) {
      const r = await cli(['renew', 'apiserver', '--add-san', `DNS:ok.example.test,${san}`, '--root', root, '--now', NOW, ...extra]);
      assert.equal(r.code, 3, `${san} ${extra.join(' ')}: exit ${r.code}\n${r.out}${r.err}`);
      const first = r.err.split('\n')[0]!;
      assert.match(first, new RegExp(`failed to read --add-san "${san.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`), `${san}: the first line names the bad value: ${first}`);
      assert.match(first, why, `${san}: ${first}`);
      assert.equal(r.out, '', `${san}: no plan printed`);
    }
  }
  const ascii = await cli(['renew', 'apiserver', '--add-san', 'DNS:ünï.example', '--root', root, '--now', NOW]);
  assert.match(ascii.err, /hint: use the punycode form DNS:xn--n-nga1b\.example/);
  assert.deepEqual(snapshotTree(root), before, 'nothing written');
  assert.deepEqual(fs.existsSync(state) ? fs.readdirSync(state, { recursive: true }) : undefined, stateBefore, 'not even a lock or a backup');
});

test('--add-san accepts what kubeadm accepts: wildcard first label, IPv6 (with an IPv4 tail), URIs and e-mail, written exactly', () => {
  assert.deepEqual(parseSans('DNS:*.apps.example.test, DNS:cp-1,IP:2001:db8::7,ip:::ffff:192.0.2.1,URI:spiffe://cluster.local/ns/a/sa/b,email:ops@example.test'), [
    { type: 'dns', value: '*.apps.example.test' }, { type: 'dns', value: 'cp-1' }, { type: 'ip', value: '2001:db8::7' },
    { type: 'ip', value: '::ffff:192.0.2.1' }, { type: 'uri', value: 'spiffe://cluster.local/ns/a/sa/b' }, { type: 'email', value: 'ops@example.test' },
  ]);
});

test('ipBytes never wraps an out-of-range octet (999.1.1.1 was written as 231.1.1.1) and encodes every form isIP accepts', () => {
  for (const bad of ['999.1.1.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-1', '1::2::3', '1:2:3:4:5:6:7:8:9', '::ffff:999.1.1.1', 'g::1', '']) {
    assert.throws(() => ipBytes(bad), /bad IP address/, bad);
  }
  assert.deepEqual([...ipBytes('192.0.2.255')], [192, 0, 2, 255]);
  assert.deepEqual([...ipBytes('::ffff:192.0.2.1')], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  assert.deepEqual([...ipBytes('2001:db8::7')], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
  assert.deepEqual([...ipBytes('::')], new Array(16).fill(0));
});

test('an IPv4-mapped IPv6 SAN (::ffff:192.0.2.1) is written as its 4 IPv4 bytes, as Go\'s marshalSANs writes it (To4), so openssl shows IP Address:192.0.2.1 (it was 16 bytes)', () => {
  assert.deepEqual([...generalNameDer({ type: 'ip', value: '::ffff:192.0.2.1' })], [0x87, 4, 192, 0, 2, 1]);
  assert.deepEqual([...generalNameDer({ type: 'ip', value: '::ffff:c000:201' })], [0x87, 4, 192, 0, 2, 1]);
  // (other IPv6 addresses, the IPv4-compatible ::192.0.2.1 among them, stay 16 bytes, as To4 leaves them)
  assert.equal(generalNameDer({ type: 'ip', value: '::192.0.2.1' }).length, 18);
  assert.equal(generalNameDer({ type: 'ip', value: '2001:db8::7' }).length, 18);
});

test('a non-ASCII DNS, URI or e-mail name is never encoded into other bytes (it was written as latin1)', () => {
  assert.throws(() => generalNameDer({ type: 'dns', value: 'ünï.example' }), /not ASCII/);
  assert.throws(() => generalNameDer({ type: 'uri', value: 'https://ünï.example/' }), /not ASCII/);
  assert.throws(() => generalNameDer({ type: 'email', value: 'ü@example.test' }), /not ASCII/);
  assert.deepEqual([...generalNameDer({ type: 'dns', value: 'xn--n-nga1b.example' })].slice(2), [...Buffer.from('xn--n-nga1b.example')]);
});

test('renewing a leaf under an expired CA is refused (it wrote a certificate openssl rejects at depth 1) unless the CA is renewed in the same run; renew all takes the expired CA along', async () => {
  const root = copyFixture('kubeadm-1.26');
  const later = '2037-01-01T00:00:00Z'; // the fixture's CAs expired on 2036-11-19
  const at = String(Date.parse(later) / 1000 + 3600);
  const pki = path.join(root, 'etc/kubernetes/pki');
  const before = fs.readFileSync(path.join(pki, 'apiserver.crt'));

  const alone = await cli(['renew', 'apiserver', '--root', root, '--now', later]);
  assert.equal(alone.code, 1, alone.out + alone.err);
  assert.ok(alone.out.includes(`Not renewed:\n  apiserver: its CA ca expired on 2036-11-19T21:36:03Z, so a renewed apiserver would not verify; renew the CA first or together: \`kubepki renew ca apiserver --root ${root}\` (or \`kubepki renew all --root ${root}\`)`), alone.out);
  assert.deepEqual(fs.readFileSync(path.join(pki, 'apiserver.crt')), before, 'apiserver.crt untouched');
  const viaFile = await cli(['renew', '--file', '/etc/kubernetes/pki/etcd/server.crt', '--root', root, '--now', later, '--dry-run']);
  assert.equal(viaFile.code, 1);
  assert.match(viaFile.out, /etcd-server: its CA etcd-ca expired/);

  const together = await cli(['renew', 'ca', 'apiserver', '--root', root, '--now', later]);
  assert.equal(together.code, 0, together.out + together.err);
  const v = sh('openssl', ['verify', '-attime', at, '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);

  const all = await cli(['renew', 'all', '--root', root, '--now', later, '--dry-run']);
  assert.equal(all.code, 0, all.out + all.err);
  for (const ca of ['etcd-ca', 'front-proxy-ca']) assert.match(all.out, new RegExp(`^ {2}${ca} +/etc/kubernetes/pki/`, 'm'), `renew all includes the expired ${ca}`);
  assert.doesNotMatch(all.out, /Not renewed/);
});

test('planRenew: a leaf of an expired CA is a skipped result, not a warning; named together, the CA is planned first and the leaf signed by it', () => {
  const root = copyFixture('kubeadm-1.26');
  const when = new Date('2037-01-01T00:00:00Z');
  const inv = readInventory({ fs: new NodeFs(root), now: when });
  const plan = planRenew(inv, { targets: ['etcd-peer', 'front-proxy-ca'] }, when);
  assert.deepEqual(plan.items.map((i) => i.name), ['front-proxy-ca'], 'a self-signed CA renews on its own');
  assert.deepEqual(plan.results.map((r) => [r.name, r.outcome]), [['etcd-peer', 'skipped']]);
  const both = planRenew(inv, { targets: ['etcd-peer', 'etcd-ca'] }, when);
  assert.deepEqual(both.items.map((i) => i.name), ['etcd-ca', 'etcd-peer'], 'the CA first, then what it signs');
  assert.deepEqual(both.results, []);
});

test('renew ca restart list: each changed file is attributed only to the components that read that file; admin.conf asks for no restart', async () => {
  const root = copyFixture('kubeadm-1.26');
  const planFile = path.join(root, 'plan.json');
  const r = await cli(['renew', 'ca', '--root', root, '--now', NOW, '--dry-run', '--plan-out', planFile]);
  assert.equal(r.code, 0, r.out + r.err);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { restarts: { component: string; because: string[] }[]; files: { path: string }[] };
  assert.ok(plan.files.some((f) => f.path === '/etc/kubernetes/admin.conf'), 'admin.conf carries the CA and is rewritten');
  const because = Object.fromEntries(plan.restarts.map((x) => [x.component, x.because]));
  assert.deepEqual(because, {
    'kube-apiserver': ['/etc/kubernetes/pki/ca.crt'],
    'kube-controller-manager': ['/etc/kubernetes/controller-manager.conf', '/etc/kubernetes/pki/ca.crt'],
    'kube-scheduler': ['/etc/kubernetes/scheduler.conf'],
    kubelet: ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/pki/ca.crt'],
  });
  assert.doesNotMatch(r.out, /reads [^\n]*admin\.conf/);

  const admin = await cli(['renew', 'admin.conf', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(admin.code, 0, admin.out + admin.err);
  assert.doesNotMatch(admin.out, /Restart afterwards/, 'admin.conf is read by kubectl only');
});

test('restarts follow the layout: RKE1 restarts every component, the kubelet too, with docker restart (it said systemctl restart kubelet)', async () => {
  const root = copyFixture('rke1-expired');
  const planFile = path.join(root, 'plan.json');
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run', '--plan-out', planFile]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /systemctl/);
  assert.match(r.out, /kubelet \(docker container kubelet; reads \/etc\/kubernetes\/ssl\/kube-node\.pem\)\n {4}docker restart kubelet\n/);
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan;
  const byName = Object.fromEntries(plan.restarts.map((x) => [x.component, x]));
  for (const c of ['kubelet', 'kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
    assert.equal(byName[c]?.how, 'docker', `${c} runs as a docker container on RKE1`);
    assert.equal(byName[c]?.container, c);
    assert.equal(byName[c]?.command, `docker restart ${c}`);
  }
  // the actuator runs exactly that, and checks the container is running again
  const calls: string[] = [];
  const runner: Runner = {
    has: (cmd) => cmd === 'docker',
    sleep: async () => {},
    run: async (cmd, args) => { calls.push(`${cmd} ${args.join(' ')}`); return { code: 0, stdout: args[0] === 'inspect' ? 'true\n' : '', stderr: '' }; },
  };
  const log: string[] = [];
  assert.deepEqual(await carryOutRestarts(new NodeFs(root), plan.restarts, runner, { log: (l) => log.push(l) }), []);
  assert.ok(calls.includes('docker restart kubelet') && calls.includes('docker restart kube-apiserver') && calls.includes('docker restart etcd'), calls.join('\n'));
  assert.ok(!calls.some((c) => c.startsWith('systemctl')), calls.join('\n'));
  assert.ok(log.some((l) => /kubelet: container kubelet running again/.test(l)), log.join('\n'));
  // a container that does not come back is a failure
  const down: Runner = { ...runner, run: async (cmd, args) => ({ code: 0, stdout: args[0] === 'inspect' ? 'false\n' : '', stderr: '' }) };
  assert.deepEqual(await carryOutRestarts(new NodeFs(root), plan.restarts.filter((x) => x.component === 'kubelet'), down, { log: () => {} }), ['kubelet']);
});

test('restarts follow the layout: k3s restarts its one unit (k3s on a server); RKE2 restarts rke2-server or rke2-agent, which rewrites its static pods with a new FILE_HASH of their files (no manifest moved by hand)', async () => {
  const k3s = tmp('kubepki-k3s-restart-');
  await makeK3sTree(k3s, new Date('2025-10-01T00:00:00Z'));
  const inv = readInventory({ fs: new NodeFs(k3s), now: new Date(NOW) });
  assert.ok(inv.layouts.includes('k3s'));
  const plan = planRenew(inv, { targets: 'all' }, new Date(NOW));
  assert.deepEqual(plan.restarts.map((x) => [x.component, x.how, x.unit, x.command]), [['k3s', 'systemd', 'k3s', 'systemctl restart k3s']]);
  assert.ok(plan.restarts[0]!.because.includes('/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt'));
  assert.deepEqual(plan.restarts[0]!.endpoint, { host: '127.0.0.1', port: 6443, certFile: '/var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt' });

  // RKE2 server: kube-apiserver is a static pod in agent/pod-manifests that rke2-server writes when it starts,
  // with a FILE_HASH of the files its flags name (rancher/rke2 pkg/staticpod); the kubelet lives in rke2-server
  const rke2 = tmp('kubepki-rke2-restart-');
  const issued = new Date('2025-10-01T00:00:00Z');
  const ca = await makeCa('rke2-client-ca@1759276800', issued, 3650);
  const sca = await makeCa('rke2-server-ca@1759276800', issued, 3650);
  const tls = '/var/lib/rancher/rke2/server/tls';
  put(rke2, `${tls}/client-ca.crt`, ca.pem); put(rke2, `${tls}/client-ca.key`, ca.keyPem, 0o600);
  put(rke2, `${tls}/server-ca.crt`, sca.pem); put(rke2, `${tls}/server-ca.key`, sca.keyPem, 0o600);
  const api = await makeLeaf(sca, 'kube-apiserver', { eku: ['serverAuth'], sans: [{ type: 'dns', value: 'kubernetes' }], notBefore: issued, days: 365 });
  put(rke2, `${tls}/serving-kube-apiserver.crt`, api.pem + sca.pem); put(rke2, `${tls}/serving-kube-apiserver.key`, api.keyPem, 0o600);
  const kubelet = await makeLeaf(ca, 'system:node:rke2-1', { orgs: ['system:nodes'], eku: ['clientAuth'], notBefore: issued, days: 365 });
  put(rke2, '/var/lib/rancher/rke2/agent/client-kubelet.crt', kubelet.pem + ca.pem); put(rke2, '/var/lib/rancher/rke2/agent/client-kubelet.key', kubelet.keyPem, 0o600);
  put(rke2, '/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - name: kube-apiserver
    command:
    - kube-apiserver
    - --tls-cert-file=${tls}/serving-kube-apiserver.crt
    - --tls-private-key-file=${tls}/serving-kube-apiserver.key
    - --client-ca-file=${tls}/client-ca.crt
`);
  const inv2 = readInventory({ fs: new NodeFs(rke2), now: new Date(NOW) });
  assert.ok(inv2.layouts.includes('rke2'));
  const plan2 = planRenew(inv2, { targets: 'all' }, new Date(NOW));
  const got = Object.fromEntries(plan2.restarts.map((x) => [x.component, [x.how, x.unit ?? x.manifest, x.because]]));
  assert.deepEqual(got, {
    'rke2-server': ['systemd', 'rke2-server', ['/var/lib/rancher/rke2/agent/client-kubelet.crt', `${tls}/serving-kube-apiserver.crt`]],
  });
  assert.equal(plan2.restarts[0]!.command, 'systemctl restart rke2-server');
  // the restart is confirmed on what kube-apiserver serves
  assert.deepEqual(plan2.restarts[0]!.endpoint, { host: '127.0.0.1', port: 6443, certFile: `${tls}/serving-kube-apiserver.crt` });
  // a manifest rke2 does not write (one put in /etc/kubernetes/manifests by hand) is still moved out and back
  put(rke2, '/etc/kubernetes/manifests/extra-apiserver.yaml', fs.readFileSync(path.join(rke2, 'var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml'), 'utf8').replaceAll('name: kube-apiserver', 'name: extra-apiserver'));
  const plan2b = planRenew(readInventory({ fs: new NodeFs(rke2), now: new Date(NOW) }), { targets: 'all' }, new Date(NOW));
  assert.deepEqual(plan2b.restarts.map((x) => [x.component, x.how]), [['extra-apiserver', 'static-pod'], ['rke2-server', 'systemd']]);

  // the same node without its server directory is an agent: the kubelet restarts with rke2-agent
  const agent = tmp('kubepki-rke2-agent-');
  fs.cpSync(path.join(rke2, 'var/lib/rancher/rke2/agent'), path.join(agent, 'var/lib/rancher/rke2/agent'), { recursive: true });
  fs.rmSync(path.join(agent, 'var/lib/rancher/rke2/agent/pod-manifests'), { recursive: true });
  put(agent, '/var/lib/rancher/rke2/agent/client-ca.crt', ca.pem);
  put(agent, '/var/lib/rancher/rke2/agent/client-ca.key', ca.keyPem, 0o600); // only so that the leaf is renewable here
  const inv3 = readInventory({ fs: new NodeFs(agent), now: new Date(NOW) });
  const plan3 = planRenew(inv3, { targets: [], files: ['/var/lib/rancher/rke2/agent/client-kubelet.crt'] }, new Date(NOW));
  assert.deepEqual(plan3.restarts.map((x) => [x.component, x.how, x.command]), [['rke2-agent', 'systemd', 'systemctl restart rke2-agent']]);
});

test('a "Not renewed" line names the certificate once (with --csr-out it read "front-proxy-client: front-proxy-client: …")', async () => {
  // an external front-proxy CA: its certificate is here, its key is not (a CA whose files are all gone is 'ca-missing')
  const root = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/front-proxy-ca.key'));
  const out = tmp();
  const r = await cli(['renew', 'all', '--root', root, '--now', NOW, '--csr-out', out]);
  assert.equal(r.code, 1, r.out + r.err);
  const lines = r.out.split('\n').filter((l) => /^ {2}\S*front-proxy-client/.test(l));
  assert.deepEqual(lines, [
    `  front-proxy-client: externally managed, can't renew /etc/kubernetes/pki/front-proxy-client.crt: the key of CA front-proxy-ca is missing; here is a CSR for it → ${out}/front-proxy-client.csr`,
    `  ${out}/front-proxy-client.csr`,
  ]);
  assert.ok(fs.existsSync(path.join(out, 'front-proxy-client.csr')));
  for (const line of r.out.split('\n')) {
    const m = /^ {2}([^ :]+): (.*)$/.exec(line);
    if (m && r.out.includes('Not renewed:')) assert.ok(!m[2]!.startsWith(`${m[1]}:`), `name repeated: ${line}`);
  }
});

test('the plan prints new serials in whole octets like check and openssl (a leading 0 was dropped: 31 hex digits)', async () => {
  const root = copyFixture('kubeadm-1.26');
  const inv = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
  const plan = planRenew(inv, { targets: ['apiserver'], random: (n) => new Uint8Array(n).fill(0x07) }, new Date(NOW));
  assert.equal(plan.items[0]!.new!.serial, '07'.repeat(16));
  // end to end: whatever serial is drawn, the plan, openssl and check print the same digits
  for (let i = 0; i < 3; i++) {
    const planFile = path.join(tmp(), 'plan.json');
    const r = await cli(['renew', 'apiserver', '--root', root, '--now', NOW, '--plan-out', planFile]);
    assert.equal(r.code, 0, r.out + r.err);
    const serial = (JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan).items[0]!.new!.serial;
    assert.equal(serial.length % 2, 0, serial);
    assert.match(r.out, new RegExp(`→ ${serial}; notAfter`));
    const o = sh('openssl', ['x509', '-noout', '-serial', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt')]).stdout.trim();
    assert.equal(o, `serial=${serial.toUpperCase()}`);
    const after = readInventory({ fs: new NodeFs(root), now: new Date(NOW) });
    assert.equal(after.certificates.find((c) => c.name === 'apiserver')!.serial, serial);
  }
});

test('renew all --root <empty dir> is refused like check (exit 3) and leaves the directory empty; planRenew refuses an empty inventory', async () => {
  const empty = tmp('kubepki-empty-');
  for (const extra of [[], ['--dry-run']]) {
    const r = await cli(['renew', 'all', '--root', empty, '--now', NOW, ...extra]);
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.err, /failed to find any certificate under/);
    assert.doesNotMatch(r.out, /renew 0 certificate/);
    assert.deepEqual(fs.readdirSync(empty), [], 'no lock or state directory left behind');
  }
  const check = await cli(['check', '--root', empty, '--now', NOW]);
  assert.equal(check.code, 3);
  const inv = readInventory({ fs: new NodeFs(empty), now: new Date(NOW) });
  assert.throws(() => planRenew(inv, { targets: 'all' }, new Date(NOW)), (e: Error & { exitCode?: number }) => e.exitCode === 3 && /failed to find any certificate/.test(e.message));
});
