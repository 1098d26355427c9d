import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { KUBEADM_126, NOW, copyFixture, deleteAllButManifests, tmpDir, opensslFields, opensslVerify } from './rebuild-support.js';
import { spawnCli } from './renew-support.js';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

const PEM = 'var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem';
const CURRENT = 'var/lib/kubelet/pki/kubelet-client-current.pem';

function kubectlView(file: string): any {
  return JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file]).toString());
}

/** The pem holds the certificate then its key (client-go file store), and they match. */
function checkPem(root: string, caFile: string, keyLabel = 'EC PRIVATE KEY'): void {
  const file = path.join(root, PEM);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(new RegExp(`^-----BEGIN CERTIFICATE-----[\\s\\S]+-----END CERTIFICATE-----\n-----BEGIN ${keyLabel}-----`).test(text), text.slice(0, 80));
  const f = opensslFields(file);
  assert.equal(f.subject, 'O = system:nodes, CN = system:node:cp-1');
  assert.equal(f.extKeyUsage, 'TLS Web Client Authentication');
  assert.equal(f.keyUsage, keyLabel === 'EC PRIVATE KEY' ? 'Digital Signature (critical)' : 'Digital Signature, Key Encipherment (critical)');
  assert.equal(f.basicConstraints, 'CA:FALSE (critical)');
  assert.match(opensslVerify(caFile, file, 'sslclient'), /: OK$/);
  const certPub = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', file]).toString();
  const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', file]).toString();
  assert.equal(certPub, keyPub);
  const link = fs.readlinkSync(path.join(root, CURRENT));
  assert.equal(link, `/${PEM}`, 'absolute symlink, as the kubelet makes it');
}

test('kubelet credentials: a system:node cert from the CA, stored as the kubelet stores it, and kubelet.conf pointing at it', async () => {
  const root = copyFixture();
  const oldTarget = fs.readlinkSync(path.join(root, CURRENT));
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r.code, 0, r.err);
  checkPem(root, path.join(root, 'etc/kubernetes/pki/ca.crt'));
  assert.ok(fs.existsSync(path.join(root, oldTarget)), 'the previous pem stays');
  const k = kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));
  assert.equal(k.users[0].name, 'system:node:cp-1', 'names kept');
  assert.equal(k.users[0].user['client-certificate'], `/var/lib/kubelet/pki/kubelet-client-current.pem`);
  assert.equal(k.clusters[0].cluster.server, 'https://cluster-api.example.test:6443');
  // everything else in kubelet.conf is byte-identical
  assert.equal(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'), fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubelet.conf'), 'utf8'));
});

test('kubelet credentials twice in the same second (same --now): the second pem is kubelet-client-<time>-1.pem, the first is not replaced, and restore undoes each run', async () => {
  const root = copyFixture();
  const r1 = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r1.code, 0, r1.err);
  const first = fs.readFileSync(path.join(root, PEM));
  const afterFirst = fs.readdirSync(path.join(root, 'var/lib/kubelet/pki')).sort();
  const r2 = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r2.code, 0, r2.err);
  assert.deepEqual(fs.readFileSync(path.join(root, PEM)), first, 'the first run\'s pem is kept');
  const second = PEM.replace(/\.pem$/, '-1.pem');
  assert.equal(fs.readlinkSync(path.join(root, CURRENT)), `/${second}`);
  opensslVerify(path.join(root, 'etc/kubernetes/pki/ca.crt'), path.join(root, second));
  const backup = /Backup: (\S+)/.exec(r2.out)![1]!;
  const rs = await cli('restore', backup, '--root', root, '--now', NOW);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual(fs.readdirSync(path.join(root, 'var/lib/kubelet/pki')).sort(), afterFirst);
  assert.equal(fs.readlinkSync(path.join(root, CURRENT)), `/${PEM}`);
  assert.deepEqual(fs.readFileSync(path.join(root, PEM)), first);
});

test('after a rebuild with a new CA, the kubelet identity is already from it; kubelet credentials can re-issue it again', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const rb = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(rb.code, 0, rb.err);
  // rebuild wrote kubelet.conf on a new pem from the new CA (not embedded), so no follow-up for it
  assert.doesNotMatch(rb.out, /kubepki kubelet credentials --node cp-1/);
  checkPem(root, path.join(root, 'etc/kubernetes/pki/ca.crt'), 'RSA PRIVATE KEY');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', '2026-11-24T00:00:00Z');
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.readlinkSync(path.join(root, CURRENT)), '/var/lib/kubelet/pki/kubelet-client-2026-11-24-00-00-00.pem');
  const k = kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));
  assert.equal(k.users[0].user['client-certificate-data'], undefined);
  assert.equal(k.users[0].user['client-key'], '/var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.equal(Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), fs.readFileSync(path.join(root, 'etc/kubernetes/pki/ca.crt'), 'utf8'));
});

test('a wiped worker: CA from the host, kubelet.conf in the shape the kubelet writes after bootstrap', async () => {
  const root = tmpDir();
  const ca = path.join(KUBEADM_126, 'etc/kubernetes/pki/ca.crt');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW, '--ca-cert', ca, '--control-plane-endpoint', 'cluster-api.example.test:6443', '--validity', '30d');
  assert.equal(r.code, 0, r.err);
  checkPem(root, ca);
  const end = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', path.join(root, PEM)]).toString().trim();
  assert.equal(end, 'notAfter=Dec 23 00:00:00 2026 GMT');
  const k = parse(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'));
  assert.equal(k['current-context'], 'default-context');
  assert.equal(k.contexts[0].context.namespace, 'default');
  assert.equal(k.users[0].name, 'default-auth');
  assert.equal(k.clusters[0].name, 'default-cluster');
  assert.equal(k.clusters[0].cluster.server, 'https://cluster-api.example.test:6443');
  kubectlView(path.join(root, 'etc/kubernetes/kubelet.conf'));

  const noKey = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--ca-cert', path.join(root, 'nope.crt'));
  assert.equal(noKey.code, 3);
  assert.match(noKey.err, /failed to read CA certificate/);
});

test('kubelet credentials --bootstrap: bootstrap-kubelet.conf with a token, stale credentials removed (backed up), token Secret to apply', async () => {
  const root = copyFixture();
  const out = path.join(tmpDir(), 'token.yaml');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', out);
  assert.equal(r.code, 0, r.err);
  const k = kubectlView(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'));
  assert.equal(k.users[0].name, 'tls-bootstrap-token-user');
  assert.match(k.users[0].user.token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.equal(k['current-context'], 'tls-bootstrap-token-user@kubernetes');
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')), false);
  assert.equal(fs.existsSync(path.join(root, CURRENT)) || (() => { try { fs.lstatSync(path.join(root, CURRENT)); return true; } catch { return false; } })(), false);
  const secret = parse(fs.readFileSync(out, 'utf8'));
  assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
  assert.equal(`${Buffer.from(secret.data['token-id'], 'base64')}.${Buffer.from(secret.data['token-secret'], 'base64')}`, k.users[0].user.token);
  const backup = /Backup: (\S+)/.exec(r.out)?.[1];
  assert.ok(backup && fs.existsSync(path.join(backup, 'files/etc/kubernetes/kubelet.conf')), r.out);
});

test('kubelet credentials --bootstrap: a node write that fails leaves no Secret (it is written only once the node\'s files are), exit 2, the node as it was', async () => {
  const root = copyFixture();
  const before = treeState(root);
  const dir = tmpDir();
  const secret = path.join(dir, 'token.yaml');
  for (const step of ['4', '6']) {
    const io = memoryIo({ KUBEPKI_TEST_FAIL_AT: step });
    const code = await run(['kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', secret], io);
    assert.equal(code, 2, `step ${step}: ${io.out}${io.err}`);
    assert.match(io.err, /injected failure at step/);
    assert.ok(!fs.existsSync(secret), `step ${step}: no Secret for a token the node never got`);
    const now = Object.fromEntries(Object.entries(treeState(root)).filter(([f]) => !f.startsWith('var/lib/kubepki/')));
    assert.deepEqual(now, before, `step ${step}: the node is not changed (but for kubepki's backup of the run)`);
  }
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing left beside it');
});

test('kubelet credentials --bootstrap killed at any step, then run again with the same --secret-out: the run again just works, and its Secret holds the token bootstrap-kubelet.conf has (the Secret, written before the node, outlived the killed run: "exists")', async (t) => {
  let killed = 0;
  for (let n = 1; n < 100; n++) {
    const root = copyFixture();
    const secret = path.join(tmpDir(), 'token.yaml');
    const args = ['kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', secret];
    const r = await spawnCli(args, { KUBEPKI_TEST_CRASH_AT: String(n) });
    if (r.signal === null) {
      assert.equal(r.code, 0, r.out);
      assert.ok(fs.existsSync(secret), 'past the last step: written');
      break;
    }
    assert.equal(r.signal, 'SIGKILL', r.out);
    killed++;
    // (every step is the node's transaction: a kill at one is before the Secret)
    assert.ok(!fs.existsSync(secret), `killed at step ${n}: no Secret for a token the node may not get`);
    const again = await cli(...args);
    assert.equal(again.code, 0, `run again after a kill at step ${n}: ${again.err}${again.out}`);
    const k = kubectlView(path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf'));
    const s = parse(fs.readFileSync(secret, 'utf8'));
    assert.equal(`${Buffer.from(s.data['token-id'], 'base64')}.${Buffer.from(s.data['token-secret'], 'base64')}`, k.users[0].user.token, `killed at step ${n}`);
    assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/kubelet.conf')), false);
  }
  assert.ok(killed >= 3, `killed at ${killed} steps`);
  t.diagnostic(`kubelet credentials --bootstrap killed at ${killed} steps`);
});

test('kubelet credentials --bootstrap: a --secret-out whose directory is missing stops the run before the node is changed (the Secret is written after it)', async () => {
  const root = copyFixture();
  const before = treeState(root);
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', path.join(tmpDir(), 'no/such/token.yaml'));
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /failed to write \S+no\/such\/token\.yaml: there is no directory \S+no\/such\n  hint: pass another --secret-out\n$/);
  assert.deepEqual(treeState(root), before, 'the node is not changed');
});

test('kubelet credentials --bootstrap --secret-out never replaces a file: one there stops the run, one the run itself writes is refused', async () => {
  const root = copyFixture();
  const before = treeState(root);
  const dir = tmpDir();
  const mine = path.join(dir, 'token.yaml');
  fs.writeFileSync(mine, 'mine\n', { mode: 0o640 });
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', mine);
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, new RegExp(`failed to write ${mine}: it exists`));
  assert.equal(fs.readFileSync(mine, 'utf8'), 'mine\n');
  assert.equal(fs.statSync(mine).mode & 0o777, 0o640);
  assert.deepEqual(fs.readdirSync(dir), ['token.yaml'], 'no temp file left beside it');
  assert.deepEqual(treeState(root), before, 'the node is not changed');

  // the Secret aimed at the bootstrap kubeconfig the run writes: it was renamed over it, leaving the kubelet a Secret to read
  const clash = path.join(root, 'etc/kubernetes/bootstrap-kubelet.conf');
  const c = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', clash);
  assert.equal(c.code, 3, c.out);
  assert.match(c.err, /--secret-out \S+bootstrap-kubelet\.conf is one of the files this run writes/);
  assert.deepEqual(treeState(root), before, 'the node is not changed');

  const ok = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--secret-out', path.join(dir, 'new.yaml'));
  assert.equal(ok.code, 0, ok.err);
  assert.equal(fs.statSync(path.join(dir, 'new.yaml')).mode & 0o777, 0o600);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['new.yaml', 'token.yaml']);
});

/** The pem the (absolute) -current symlink of a tree points at, on the host. */
const currentPem = (root: string) => path.join(root, fs.readlinkSync(path.join(root, CURRENT)));

/** Every file under a tree, as `relative path → sha256 or link target`. */
function treeState(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) out[path.relative(root, p)] = `-> ${fs.readlinkSync(p)}`;
      else out[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

test('kubelet credentials --node OTHER on a control-plane tree is refused: the node\'s own kubelet identity is not replaced', async () => {
  const root = copyFixture();
  const before = treeState(root);
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW);
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /this tree is node cp-1's \(\/etc\/kubernetes\/manifests\/etcd\.yaml --name\)/);
  assert.match(r.err, /--out DIR/);
  const b = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--bootstrap', '--now', NOW, '--secret-out', path.join(tmpDir(), 't.yaml'));
  assert.equal(b.code, 3, b.out);
  assert.deepEqual(treeState(root), before, 'cp-1\'s tree is untouched (kubelet.conf and -current kept)');
  assert.equal(opensslFields(currentPem(root)).subject, 'O = system:nodes, CN = system:node:cp-1');

  // the identity is found without the etcd manifest too (a worker: kubelet.conf user, then the client cert CN)
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  fs.rmSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'));
  fs.rmSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'));
  const k = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW);
  assert.equal(k.code, 3);
  assert.match(k.err, /node cp-1's \(\/etc\/kubernetes\/kubelet\.conf user\)/);
  fs.rmSync(path.join(root, 'etc/kubernetes/kubelet.conf'));
  const c = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW);
  assert.equal(c.code, 3);
  assert.match(c.err, /node cp-1's \(\/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem subject CN\)/);

  // --force: the operator says the tree really is worker-1's
  const f = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW, '--force');
  assert.equal(f.code, 0, f.err);
  assert.equal(opensslFields(currentPem(root)).subject, 'O = system:nodes, CN = system:node:worker-1');
});

test('kubelet credentials --node OTHER --out DIR: the other node\'s files laid out as its tree, this tree untouched', async () => {
  const root = copyFixture();
  const before = treeState(root);
  const out = path.join(tmpDir(), 'worker-1');
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW, '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(treeState(root), before, 'cp-1\'s tree is untouched');
  // not `tar -cf - .`: extracting ./ onto / would give / the mode of DIR; existing directories keep theirs
  assert.match(r.out, /tar -C \S+ -cf - etc var \| ssh root@worker-1 tar -C \/ --no-overwrite-dir -xpf -/);
  assert.deepEqual(Object.keys(treeState(out)).sort(), [
    'etc/kubernetes/kubelet.conf', 'etc/kubernetes/pki/ca.crt', PEM, CURRENT,
  ].sort());
  const ca = path.join(root, 'etc/kubernetes/pki/ca.crt');
  const f = opensslFields(path.join(out, PEM));
  assert.equal(f.subject, 'O = system:nodes, CN = system:node:worker-1');
  assert.match(opensslVerify(ca, path.join(out, PEM), 'sslclient'), /: OK$/);
  assert.equal(fs.statSync(path.join(out, PEM)).mode & 0o777, 0o600);
  assert.equal(fs.readlinkSync(path.join(out, CURRENT)), `/${PEM}`, 'absolute, as on worker-1');
  const k = kubectlView(path.join(out, 'etc/kubernetes/kubelet.conf'));
  assert.equal(k.users[0].user['client-certificate'], '/var/lib/kubelet/pki/kubelet-client-current.pem');
  assert.equal(k.clusters[0].cluster.server, 'https://cluster-api.example.test:6443');
  assert.equal(fs.readFileSync(path.join(out, 'etc/kubernetes/pki/ca.crt'), 'utf8'), fs.readFileSync(ca, 'utf8'));
  // nothing in DIR is overwritten
  const again = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', '2026-11-24T00:00:00Z', '--out', out);
  assert.equal(again.code, 3);
  assert.match(again.err, /exists/);

  // a write that fails half-way leaves no file behind (DIR/etc is a file: kubelet.conf cannot be written after the pem)
  const broken = tmpDir();
  fs.writeFileSync(path.join(broken, 'etc'), '');
  const half = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--now', NOW, '--out', broken);
  assert.equal(half.code, 3, half.out);
  assert.match(half.err, /failed to write /);
  assert.deepEqual(Object.keys(treeState(broken)), ['etc'], 'no pem or -current left');

  // --bootstrap --out: bootstrap-kubelet.conf for worker-1 in DIR, nothing deleted from cp-1
  const bout = path.join(tmpDir(), 'worker-1');
  const secret = path.join(tmpDir(), 'token.yaml');
  const b = await cli('kubelet', 'credentials', '--root', root, '--node', 'worker-1', '--bootstrap', '--now', NOW, '--out', bout, '--secret-out', secret);
  assert.equal(b.code, 0, b.err);
  assert.deepEqual(treeState(root), before);
  assert.ok(fs.existsSync(path.join(bout, 'etc/kubernetes/bootstrap-kubelet.conf')));
  assert.ok(fs.existsSync(secret));
  assert.match(b.out, /remove \/etc\/kubernetes\/kubelet\.conf and \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem first/);
  // the printed commands work as copied: the token Secret is the --secret-out file, and the copy's tar
  // (its local half, with a local tar for ssh's) names only directories DIR has (--bootstrap writes no var)
  assert.ok(b.out.includes(`kubectl apply -f ${secret})`), b.out);
  for (const [text, dir] of [[b.out, bout], [r.out, out]] as const) {
    const tarCmd = /\((tar -C (\S+) -cf - [a-z ]+?) \| ssh root@worker-1 tar -C \/ (--no-overwrite-dir -xpf -):/.exec(text);
    assert.ok(tarCmd, text);
    assert.equal(tarCmd[2], dir);
    const to = tmpDir();
    execFileSync('bash', ['-o', 'pipefail', '-c', `${tarCmd[1]} | tar -C ${to} ${tarCmd[3]}`], { stdio: 'pipe' });
    assert.deepEqual(treeState(to), treeState(dir));
  }
  // the old meaning of --out (the Secret file) is caught with a pointer to --secret-out
  const old = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--bootstrap', '--now', NOW, '--out', path.join(tmpDir(), 'token.yaml'));
  assert.equal(old.code, 3);
  assert.match(old.err, /--secret-out/);
});

test('kubelet credentials --help: the example for another node uses --out', async () => {
  const h = await cli('kubelet', 'credentials', '--help');
  assert.equal(h.code, 0);
  assert.match(h.out, /Examples:/, 'help goes to the io given to run()');
  for (const line of h.out.split('\n').filter((l) => /kubepki kubelet credentials --node worker-1/.test(l))) {
    assert.match(line, /--out|--root \/mnt\/worker-1/, `help example writes worker-1's identity into this tree: ${line}`);
  }
  // the default CA is the tree's certificatesDir's (a cluster with /srv/kubernetes/pki has it there), not always /etc/kubernetes/pki
  assert.match(h.out.replace(/\s+/g, ' '), /--ca-cert <file> CA certificate on this host \(default: ca\.crt in the node tree's certificatesDir/);
});

test('kubelet credentials without --validity gives what kube-controller-manager gives the kubelet\'s CSRs: its --cluster-signing-duration (seed 004: years), said on the write line', async () => {
  const root = copyFixture();
  const manifest = path.join(root, 'etc/kubernetes/manifests/kube-controller-manager.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('    - --cluster-signing-key-file', '    - --cluster-signing-duration=43800h0m0s\n    - --cluster-signing-key-file'));
  const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /→ 2031-11-22T00:00:00Z, 43800h0m0s as kube-controller-manager's --cluster-signing-duration in \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml;/);
  const end = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', path.join(root, PEM)]).toString().trim();
  assert.equal(end, 'notAfter=Nov 22 00:00:00 2031 GMT');
  // a commented-out flag is not read: the default year
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('    - --cluster-signing-duration', '    # - --cluster-signing-duration'));
  const d = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', '2026-11-24T00:00:00Z', '--dry-run');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /→ 2027-11-24T00:00:00Z; signed by/);
});

/**
 * kubelet.conf edited by `edit` in a copy of the fixture, then `kubelet credentials` run on it (and with --dry-run):
 * refused with exit 3 and one line naming the file, and the tree exactly as it was (no pem, no -current swap, no
 * backup under var/lib/kubepki). Returns the first line of stderr.
 */
async function refusedKubeletConf(edit: (text: string) => string, flags: string[] = []): Promise<string> {
  const root = copyFixture();
  const file = path.join(root, 'etc/kubernetes/kubelet.conf');
  const text = fs.readFileSync(file, 'utf8');
  const edited = edit(text);
  assert.notEqual(edited, text, 'the edit applies to the fixture');
  fs.writeFileSync(file, edited);
  const before = treeState(root);
  let first = '';
  for (const extra of [[], ['--dry-run']]) {
    const r = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--now', NOW, ...flags, ...extra);
    assert.equal(r.code, 3, `${extra.join(' ')}: ${r.out}${r.err}`);
    assert.equal(r.out, '', 'no plan printed for a run that cannot be done');
    const lines = r.err.trimEnd().split('\n');
    assert.ok(lines[0]!.startsWith(`kubepki: failed to edit ${file}: `), r.err);
    assert.ok(lines.length <= 2 && (lines.length === 1 || lines[1]!.startsWith('  hint: ')), `a message and at most a hint, no stack: ${r.err}`);
    assert.doesNotMatch(r.err, /internal error|TypeError|\n\s+at /);
    assert.deepEqual(treeState(root), before, 'nothing written, moved or backed up');
    assert.equal(fs.readFileSync(file, 'utf8'), edited);
    first ||= r.err;
  }
  return first;
}

const KUBELET_CONTEXTS = 'contexts:\n- context:\n    cluster: kubernetes\n    user: system:node:cp-1\n  name: system:node:cp-1@kubernetes\n';

test('kubelet credentials on a kubelet.conf whose current-context names no context: refused, nothing written (the kubelet refuses it too: "context was not found for specified context")', async () => {
  const err = await refusedKubeletConf((t) => t.replace('current-context: system:node:cp-1@kubernetes', 'current-context: gone@kubernetes'));
  assert.match(err, /: its current-context "gone@kubernetes" names no context in it \(the kubelet refuses it: "context was not found for specified context"\)\n/);
  // the way out: point it at a context that is there, or let the command write a fresh kubelet.conf
  assert.match(err, /hint: .*config use-context system:node:cp-1@kubernetes.* or move it aside and run kubepki kubelet credentials again: with no kubelet\.conf it writes a fresh one/);
  // no current-context at all: client-go then has no context either ("no configuration has been provided")
  const none = await refusedKubeletConf((t) => t.replace('current-context: system:node:cp-1@kubernetes\n', ''));
  assert.match(none, /: it has no current-context \(the kubelet refuses it: "no configuration has been provided"\)\n/);
});

test('kubelet credentials on a kubelet.conf with no contexts: refused with one line, not a TypeError, nothing written', async () => {
  for (const edit of [(t: string) => t.replace(KUBELET_CONTEXTS, 'contexts: []\n'), (t: string) => t.replace(KUBELET_CONTEXTS, '')]) {
    const err = await refusedKubeletConf(edit);
    assert.match(err, /: it has no contexts \(the kubelet refuses it: "context was not found for specified context"\)\n/);
    assert.match(err, /hint: move it aside and run kubepki kubelet credentials again: with no kubelet\.conf it writes a fresh one/);
  }
});

test('kubelet credentials on a kubelet.conf whose context names a user or cluster it lacks: refused naming the entry, nothing written', async () => {
  const user = await refusedKubeletConf((t) => t.replace('    user: system:node:cp-1\n', '    user: someone-else\n'));
  assert.match(user, /: its context "system:node:cp-1@kubernetes" names user "someone-else", which is not in its users\n/);
  assert.match(user, /hint: add user "someone-else" to it or point the context at one of its users \("system:node:cp-1"\), or move it aside/);
  const cluster = await refusedKubeletConf((t) => t.replace('    cluster: kubernetes\n', '    cluster: elsewhere\n'));
  assert.match(cluster, /: its context "system:node:cp-1@kubernetes" names cluster "elsewhere", which is not in its clusters\n/);
  assert.match(cluster, /hint: add cluster "elsewhere" to it or point the context at one of its clusters \("kubernetes"\), or move it aside/);
});

test('kubelet credentials without --bootstrap refuses its token flags, naming them in a sentence that agrees with their number', async () => {
  const root = copyFixture();
  const one = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--dry-run', '--now', NOW, '--ttl', '2h');
  assert.equal(one.code, 3);
  assert.match(one.err, /kubepki: --ttl applies to --bootstrap, not to a client certificate\n\s+hint: add --bootstrap for a bootstrap token, or drop it\n/);
  const two = await cli('kubelet', 'credentials', '--root', root, '--node', 'cp-1', '--dry-run', '--now', NOW, '--ttl', '2h', '--token', 'abcdef.0123456789abcdef', '--secret-out', path.join(root, 's.yaml'));
  assert.equal(two.code, 3);
  assert.match(two.err, /kubepki: --token, --ttl and --secret-out apply to --bootstrap, not to a client certificate\n\s+hint: add --bootstrap for a bootstrap token, or drop them\n/);
});
