/**
 * The seeds' operators replayed step by step (seed 000: a year offline, every kubelet expired; seed 001: a
 * control plane rebuilt, workers and backups to follow): each test is named after what such an operator saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { copyFixture, cli, sh, spawnCli, tmp } from './renew-support.js';
import { freePort } from './support/fixtures.js';

const nextOf = (out: string) => /^Next: (.*)$/m.exec(out)?.[1] ?? '';

test('a worker back after a year, its kubelet client certificate expired and the cluster CA key elsewhere: Next said to renew it "where that CA is" (which renews that node\'s own kubelet) with --csr-out, against its own finding; it now gives the finding\'s fix, and that fix, run on a control-plane node, clears it', async () => {
  const now = '2026-11-23T00:00:00Z';
  // the worker: kubelet.conf, the cluster CA without its key, the kubelet's rotated client pair (no self-signed kubelet.crt)
  const worker = copyFixture('kubeadm-1.26-expired');
  for (const f of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubeadm-config.yaml', 'manifests']) fs.rmSync(path.join(worker, 'etc/kubernetes', f), { recursive: true });
  for (const f of fs.readdirSync(path.join(worker, 'etc/kubernetes/pki'))) if (f !== 'ca.crt') fs.rmSync(path.join(worker, 'etc/kubernetes/pki', f), { recursive: true });
  for (const f of ['kubelet.crt', 'kubelet.key']) fs.rmSync(path.join(worker, 'var/lib/kubelet/pki', f));
  const before = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(before.code, 2, before.out);
  const finding = /ERROR +expired +kubelet-client expired on [^:]+: the kubelet can no longer renew it itself \([^)]*\): (.*)$/m.exec(before.out)?.[1] ?? '';
  assert.match(finding, /^on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin/, before.out);
  const next = nextOf(before.out);
  assert.doesNotMatch(next, /where that CA is|--csr-out/, next);
  assert.equal(next, `kubelet-client has expired and its CA's key is not on this node: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${worker} --now ${now}`);

  // the advice, as typed: on the control-plane node (the CA key is there), then the copy (tar, as its Next says)
  const cp = copyFixture('kubeadm-1.26-expired');
  const out = path.join(tmp(), 'for-worker');
  const made = await cli(['kubelet', 'credentials', '--node', 'cp-1', '--out', out, '--root', cp, '--now', now]);
  assert.equal(made.code, 0, made.err);
  const tar = sh('sh', ['-c', `tar -C '${out}' -cf - etc var | tar -C '${worker}' --no-overwrite-dir -xpf -`]);
  assert.equal(tar.status, 0, tar.stderr);
  const after = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(after.code, 0, after.out);
  assert.match(after.out, /^kubelet-client +.* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  assert.equal(nextOf(after.out), '');
  // and openssl agrees: the new pair is signed by the CA the worker holds
  const dated = fs.readlinkSync(path.join(worker, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  const v = sh('openssl', ['verify', '-CAfile', path.join(worker, 'etc/kubernetes/pki/ca.crt'), path.join(worker, dated)]);
  assert.equal(v.status, 0, v.stderr + v.stdout);
});

test('renew run twice, then the first one restored: restore said the files were changed "by something else" and that "the kubelet rotated its pair since", when the second renew did it; it now names that run, and how to undo only it, which works', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const now = '2026-11-23T00:00:00Z';
  const backups: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await cli(['renew', 'all', '--root', root, '--now', now]);
    assert.equal(r.code, 0, r.out + r.err);
    backups.push(/^Backup: \S+\/(\S+) /m.exec(r.out)![1]!);
  }
  const [first, second] = backups as [string, string];
  assert.notEqual(first, second);
  const dry = await cli(['restore', first, '--root', root, '--now', now, '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.doesNotMatch(dry.out, /by something else|the kubelet rotated its pair since/, dry.out);
  assert.match(dry.out, /^Changed since that run \(by later kubepki runs\); restoring puts the state from before the run back over it:$/m);
  assert.match(dry.out, new RegExp(`^ {2}/var/lib/kubelet/pki/kubelet-client-current\\.pem: the run left a link to /var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00\\.pem, now a link to /var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00-1\\.pem \\(by the later renew ${second}\\)$`, 'm'));
  assert.match(dry.out, new RegExp(`^ {2}/etc/kubernetes/pki/apiserver\\.crt: the run left what it wrote, now other content \\(by the later renew ${second}\\)$`, 'm'));
  const undo = new RegExp(`^To undo only the latest run instead \\(renew ${second}\\): kubepki (restore .*)$`, 'm').exec(dry.out)?.[1];
  assert.ok(undo, dry.out);
  // the command as printed (its --root is the tree's)
  const argv = undo.split(' ');
  assert.deepEqual(argv, ['restore', second, '--root', root]);
  const r2 = await cli([...argv, '--now', now]);
  assert.equal(r2.code, 0, r2.out + r2.err);
  // what the first run left is back: restoring it now changes nothing made since
  const again = await cli(['restore', first, '--root', root, '--now', now, '--dry-run']);
  assert.doesNotMatch(again.out, /Changed since/, again.out);
  // a change kubepki did not make is still "something else" (the kubelet's own rotation, as before)
  fs.appendFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'), '\n');
  const other = await cli(['restore', first, '--root', root, '--now', now, '--dry-run']);
  assert.match(other.out, /^Changed since that run \(by something else\);/m);
  assert.match(other.out, /^ {2}\/etc\/kubernetes\/pki\/apiserver\.crt: the run left what it wrote, now other content$/m);
  assert.doesNotMatch(other.out, /To undo only the latest/);
});

test('admin.conf deleted on a node whose certificates expired, the tree checked under --root: renew said to re-create it with `kubepki rebuild` and rebuild then said `kubepki renew all`, both without --root, which act on the host\'s own / instead of the tree; each now carries the tree\'s --root, and followed as printed they leave the tree healthy', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const now = '2026-11-23T00:00:00Z';
  fs.rmSync(path.join(root, 'etc/kubernetes/admin.conf'));
  const check = await cli(['check', '--root', root, '--now', now]);
  assert.match(check.out, /ERROR +missing-file +admin\.conf: \/etc\/kubernetes\/admin\.conf is missing/);
  // what each command prints between backticks, run as printed
  const printed = (out: string, re: RegExp) => { const m = re.exec(out); assert.ok(m, out); return m[1]!.split(' ').slice(1); };
  const renew = await cli(['renew', 'all', '--root', root, '--now', now]);
  assert.equal(renew.code, 1, renew.out + renew.err);
  assert.ok(renew.out.includes(`  admin.conf: /etc/kubernetes/admin.conf is missing; restore it from a backup (\`kubepki backups --root ${root}\`) or re-create it with \`kubepki rebuild --root ${root}\`\n`), renew.out);
  const rebuildArgv = printed(renew.out, /re-create it with `(kubepki rebuild[^`]*)`/);
  assert.deepEqual(rebuildArgv, ['rebuild', '--root', root]);
  const backups = await cli([...printed(renew.out, /restore it from a backup \(`(kubepki backups[^`]*)`\)/)]);
  assert.match(backups.out, /^2026-11-23T00-00-00Z +renew +complete/m);
  // rebuild before renew (an operator who reads the first advice first): it re-creates admin.conf and says what renews the rest
  const tree2 = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(tree2, 'etc/kubernetes/admin.conf'));
  const rb = await cli(['rebuild', '--root', tree2, '--now', now]);
  assert.equal(rb.code, 1, rb.out + rb.err);
  const renewArgv = printed(rb.out, /^Warning: .*: run `(kubepki renew all[^`]*)`$/m);
  assert.deepEqual(renewArgv, ['renew', 'all', '--root', tree2]);
  assert.equal((await cli([...renewArgv, '--now', now])).code, 0);
  // and the first tree, rebuilt as renew said
  assert.equal((await cli([...rebuildArgv, '--now', now])).code, 0);
  for (const t of [root, tree2]) {
    const after = await cli(['check', '--root', t, '--now', now]);
    assert.equal(after.code, 0, after.out);
    assert.match(after.out, /^admin\.conf +.* ok +kubeadm +\/etc\/kubernetes\/admin\.conf \(user kubernetes-admin\)$/m);
    // kubectl reads the re-created admin.conf, and openssl verifies its certificate with the node's CA
    const cert = sh('kubectl', ['config', 'view', '--raw', '--kubeconfig', path.join(t, 'etc/kubernetes/admin.conf'), '-o', 'jsonpath={.users[0].user.client-certificate-data}']);
    assert.equal(cert.status, 0, cert.stderr);
    const pem = Buffer.from(cert.stdout, 'base64').toString();
    const v = sh('openssl', ['verify', '-CAfile', path.join(t, 'etc/kubernetes/pki/ca.crt')], pem);
    assert.equal(v.status, 0, v.stderr + v.stdout);
  }
});

test('a control-plane node whose clock went back years (a dead RTC battery): every certificate, the CAs too, was "not yet valid" and Next said "or re-issue with a margin: kubepki renew all --backdate 1h", which re-signs the CAs to end years early and every leaf to end before the real date; it now says the clock is wrong and not to renew until it is set; renew run on that clock warned of nothing, and now says so too', async () => {
  const root = copyFixture('kubeadm-1.26');
  const back = await cli(['check', '--root', root, '--now', '2020-01-01T00:00:00Z']);
  assert.equal(back.code, 2, back.out);
  assert.match(back.out, /^16 certificates: 0 ok, 0 warning, 0 expired, 16 not yet valid/m);
  const next = nextOf(back.out);
  assert.doesNotMatch(next, /kubepki renew|re-issue/, next);
  assert.equal(next, `this node's clock (2020-01-01T00:00:00Z) is before ca was made (2026-11-22T21:36:03Z): the clock is wrong, not the certificates: set it (timedatectl; is NTP synchronised?), then kubepki check --root ${root} again; do not renew before that (certificates made on this clock would start and end years too early: expired, CAs shortened, once the clock is right)`);
  // what the old advice did: with this clock the CAs come out ending in 2029 instead of 2036
  const dry = await cli(['renew', 'all', '--root', root, '--now', '2020-01-01T00:00:00Z', '--backdate', '1h', '--dry-run']);
  assert.match(dry.out, /notAfter 2036-11-19 → 2029-12-29/);
  // and renew itself, run on that clock (its own or by hand), says so before anything is written
  assert.match(dry.out, /^Warnings:\n {2}the clock \(2020-01-01T00:00:00Z\) is before ca was made \(2026-11-22T21:36:03Z\): if this clock is wrong, set it first \(timedatectl; is NTP synchronised\?\) and renew then; what is renewed now ends counted from this clock, too early once it is right$/m);
  // the clock set right: the same command, as printed, finds the node healthy
  const argv = /then (kubepki check [^;]*) again/.exec(next)![1]!.split(' ').slice(1);
  const fixed = await cli([...argv, '--now', '2026-11-23T00:00:00Z']);
  assert.equal(fixed.code, 0, fixed.out);
  // a leaf issued on a machine whose clock ran ahead (seed 000's "not yet valid elsewhere"), the CAs fine: re-issuing here is the fix
  const ahead = copyFixture('kubeadm-1.26');
  assert.equal((await cli(['renew', 'apiserver', '--root', ahead, '--now', '2026-11-25T00:00:00Z'])).code, 0);
  const skew = await cli(['check', '--root', ahead, '--now', '2026-11-23T00:00:00Z']);
  assert.doesNotMatch((await cli(['renew', 'apiserver', '--root', ahead, '--now', '2026-11-23T00:00:00Z', '--dry-run'])).out, /is before .* was made/);
  assert.match(nextOf(skew.out), /^apiserver starts after this node's clock: check the clock \(timedatectl; is NTP synchronised\?\), or re-issue with a margin: kubepki renew apiserver --root \S+ --now \S+ --backdate 1h$/);
});

test('seed 001\'s worker after the control plane was rebuilt with a new cluster CA (its new ca.crt copied over): the kubelet\'s client certificate from the old CA was an unknown-signer ERROR saying only "re-issue it from the current CA", with no command, on a node without the CA key; it now gives the kubelet\'s fix, and that fix, run on the control-plane node, clears every ERROR', async () => {
  const now = '2026-11-23T00:00:00Z';
  // the control-plane node, rebuilt with a new cluster CA
  const cp = copyFixture('kubeadm-1.26');
  const rb = await cli(['rebuild', '--root', cp, '--new-ca', 'ca', '--now', now]);
  assert.equal(rb.code, 0, rb.out + rb.err);
  // the worker: its kubelet's files from before, and the new ca.crt
  const worker = copyFixture('kubeadm-1.26');
  for (const f of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubeadm-config.yaml', 'manifests', 'pki']) fs.rmSync(path.join(worker, 'etc/kubernetes', f), { recursive: true });
  fs.mkdirSync(path.join(worker, 'etc/kubernetes/pki'));
  fs.copyFileSync(path.join(cp, 'etc/kubernetes/pki/ca.crt'), path.join(worker, 'etc/kubernetes/pki/ca.crt'));
  const before = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(before.code, 2, before.out);
  const finding = /ERROR +unknown-signer +kubelet-client: .* — (re-issue it from the current CA.*)$/m.exec(before.out)?.[1];
  assert.equal(finding, `re-issue it from the current CA, with a kubelet.conf that trusts it: on a control-plane node run kubepki kubelet credentials --node cp-1 --out DIR and copy DIR to this node, then systemctl restart kubelet; or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${worker}`, before.out);
  // the fix as printed, DIR a directory, run on the control-plane node, then copied with tar
  const out = path.join(tmp(), 'for-worker');
  const argv = /run (kubepki kubelet credentials --node cp-1 --out DIR) and copy/.exec(finding)![1]!.replace('DIR', out).split(' ').slice(1);
  const made = await cli([...argv, '--root', cp, '--now', now]);
  assert.equal(made.code, 0, made.err);
  const tar = sh('sh', ['-c', `tar -C '${out}' -cf - etc var | tar -C '${worker}' --no-overwrite-dir -xpf -`]);
  assert.equal(tar.status, 0, tar.stderr);
  const after = await cli(['check', '--root', worker, '--now', now]);
  assert.equal(after.code, 0, after.out);
  assert.doesNotMatch(after.out, /ERROR/);
});

test('seed 002\'s restart, pasted on the node: renew printed "mv etcd.yaml … && (wait until `crictl ps --name etcd -q` is empty, ≥20s) && mv … back", which sh runs as the `wait` builtin: it fails, and the manifest stays parked, etcd and kube-apiserver down; the printed command now runs as is in sh and bash, with crictl or without, and always puts the manifest back', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const now = '2026-11-23T00:00:00Z';
  const r = await cli(['renew', 'all', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const printed = new Map([...r.out.matchAll(/^ {2}(etcd|kube-apiserver|kube-controller-manager|kube-scheduler): (mv .*)$/gm)].map((m) => [m[1]!, m[2]!]));
  assert.deepEqual([...printed.keys()].sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  // fake crictl (lists a container for its first two calls, as the kubelet stops it) and sleep (instant), logging calls
  const bin = tmp();
  const log = path.join(bin, 'log');
  fs.writeFileSync(path.join(bin, 'crictl'), `#!/bin/sh\necho "crictl $*" >> ${log}\nn=$(grep -c '^crictl' ${log})\n[ "$n" -le 2 ] && echo 0123456789ab\nexit 0\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'sleep'), `#!/bin/sh\necho "sleep $*" >> ${log}\n`, { mode: 0o755 });
  const nocrictl = tmp();
  fs.symlinkSync(path.join(bin, 'sleep'), path.join(nocrictl, 'sleep'));
  for (const [shell, dir] of [['sh', bin], ['bash', bin], ['bash', nocrictl]] as const) {
    for (const [component, command] of printed) {
      fs.rmSync(log, { force: true });
      // the node's paths, under this tree
      const here = command.replaceAll('/etc/kubernetes/', `${root}/etc/kubernetes/`);
      const manifest = path.join(root, 'etc/kubernetes/manifests', `${component}.yaml`);
      const before = fs.readFileSync(manifest, 'utf8');
      const run = sh('env', [`PATH=${dir}:/usr/bin:/bin`, shell, '-c', here]);
      assert.equal(run.status, 0, `${shell} ${component}: ${run.stderr}`);
      assert.equal(run.stderr, '', `${shell} ${component}`);
      assert.equal(fs.readFileSync(manifest, 'utf8'), before, `${component}.yaml is back`);
      assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes', `${component}.yaml.kubepki-parked`)));
      const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
      // longer than the kubelet's 20 s file check, then until crictl lists no container of that name
      assert.equal(calls[0], 'sleep 25');
      if (dir === bin) assert.deepEqual(calls.slice(1), [`crictl ps --name ^${component}$ -q`, 'sleep 2', `crictl ps --name ^${component}$ -q`, 'sleep 2', `crictl ps --name ^${component}$ -q`]);
      else assert.deepEqual(calls, ['sleep 25']);
    }
  }
});

test('seed 002\'s kube-apiserver still serving its old certificate after the renewal: probe said "stale … restart the component that serves it (kube-apiserver)" with no command, which is where that operator deleted the pod (it does not restart the container); it now gives the restart renew gives for that file', async () => {
  const root = copyFixture('kubeadm-1.26');
  const now = '2026-11-23T00:00:00Z';
  const old = path.join(tmp(), 'apiserver-old.crt');
  fs.copyFileSync(path.join(root, 'etc/kubernetes/pki/apiserver.crt'), old);
  const renew = await cli(['renew', 'apiserver', '--root', root, '--now', now]);
  assert.equal(renew.code, 0, renew.out + renew.err);
  const command = /^ {2}kube-apiserver: (mv .*)$/m.exec(renew.out)![1]!;
  // a real TLS server (openssl s_server) serving the certificate from before the renewal, with the same key
  const port = await freePort();
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', old, '-key', path.join(root, 'etc/kubernetes/pki/apiserver.key'), '-quiet'], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      const up = await new Promise<boolean>((resolve) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); }); c.on('error', () => resolve(false)); });
      if (up) break;
      assert.ok(i < 100, 'openssl s_server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const probe = await cli(['probe', `127.0.0.1:${port}`, '--root', root, '--now', now]);
    assert.equal(probe.code, 2, probe.out + probe.err);
    assert.match(probe.out, /^stale: serving serial \S+ \(until 2027-11-22\), disk has \S+ \(until 2027-11-23\) in \/etc\/kubernetes\/pki\/apiserver\.crt — restart the component that serves it \(kube-apiserver\)$/m);
    assert.ok(probe.out.includes(`\n  kube-apiserver: ${command}\n`), probe.out);
  } finally {
    server.kill('SIGTERM');
  }
});

test('renew, then a second renew killed (kill -9) halfway, then the first one restored: restore --dry-run said every file was changed "by something else" since the first run, though the real restore rolls the killed run back first and finds what the first run left; it now says which run changed them and that it is rolled back first', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const first = await cli(['renew', 'all', '--root', root, '--now', '2026-11-23T00:00:00Z']);
  assert.equal(first.code, 0, first.out + first.err);
  const killed = await spawnCli(['renew', 'all', '--root', root, '--now', '2026-11-24T00:00:00Z'], { KUBEPKI_TEST_CRASH_AT: '40' });
  assert.equal(killed.signal, 'SIGKILL', killed.out);
  const dry = await cli(['restore', '2026-11-23T00-00-00Z', '--root', root, '--now', '2026-11-24T00:00:00Z', '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.doesNotMatch(dry.out, /by something else|To undo only the latest/, dry.out);
  const changed = dry.out.split('\n').filter((l) => /^ {2}\/.*: the run left /.test(l));
  assert.ok(changed.length > 0, dry.out);
  for (const l of changed) assert.match(l, / \(by the interrupted renew 2026-11-24T00-00-00Z, which is rolled back first: the restore finds what the run left\)$/);
  // and so it is: the real restore rolls the killed run back, then finds nothing changed since the first run
  const real = await cli(['restore', '2026-11-23T00-00-00Z', '--root', root, '--now', '2026-11-24T00:00:00Z']);
  assert.equal(real.code, 0, real.out + real.err);
  assert.match(real.out, /^An interrupted run was rolled back first from \S+\/2026-11-24T00-00-00Z\.$/m);
  assert.doesNotMatch(real.out, /Changed since/);
  const check = await cli(['check', '--root', root, '--now', '2026-11-23T00:00:00Z']);
  assert.match(check.out, /^16 certificates: 3 ok, 0 warning, 13 expired/m);
});

test('seed 000\'s kubelet client certificate expired, the node checked under --root: the finding said "kubepki renew kubelet-client, then systemctl restart kubelet" (and its other kubelet fixes, check\'s and renew\'s, no --root), which pasted renews the host\'s kubelet instead of the tree\'s, while Next carried --root; they now carry it too, and run as printed they renew the tree\'s', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const now = '2026-11-23T00:00:00Z';
  const before = await cli(['check', '--root', root, '--now', now, '-o', 'json']);
  const entry = (JSON.parse(before.out) as { certificates: { name: string; findings: { code: string; message: string }[] }[] }).certificates.find((c) => c.name === 'kubelet-client')!;
  const message = entry.findings.find((f) => f.code === 'expired')!.message;
  const argv = /: (kubepki renew kubelet-client[^,]*), then systemctl restart kubelet$/.exec(message)?.[1]?.split(' ').slice(1);
  assert.deepEqual(argv, ['renew', 'kubelet-client', '--root', root], message);
  const r = await cli([...argv!, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const after = await cli(['check', '--root', root, '--now', now]);
  assert.match(after.out, /^kubelet-client +.* ok +kubelet +\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem$/m);
  // a worker (the CA key gone): the bootstrap rejoin, which writes into this tree, names it as well
  const worker = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(worker, 'etc/kubernetes/pki/ca.key'));
  const w = await cli(['renew', 'kubelet-client', '--root', worker, '--now', now, '--dry-run']);
  assert.ok(w.out.includes(`or rejoin with a bootstrap token: kubepki kubelet credentials --node cp-1 --bootstrap --root ${worker}`), w.out);
});
