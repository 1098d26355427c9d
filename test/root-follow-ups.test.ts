/**
 * A node tree worked on under --root (a mounted disk, a copy) from another machine: every kubepki command
 * printed for that tree must read the tree, and a kubeconfig of a tree read without --root must say that its
 * absolute references were read on this host (seed replay).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, NOW, cli, copyFixture, discoveryHash, inShell, sh, snapshotTree, tmp } from './renew-support.js';

/** The words a shell makes of a printed command (its quoting as printed). */
function words(command: string): string[] {
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${command}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

/** A copy of a fixture at a path with a space and a quote in it (the shell must get it back as one word). */
function treeCopy(name: string): { base: string; root: string } {
  const base = tmp('kubepki-followups-');
  const root = path.join(base, "node's disk");
  fs.cpSync(copyFixture(name), root, { recursive: true, verbatimSymlinks: true });
  return { base, root };
}

/** openssl verify of a certificate file against a CA file (at the test's clock). */
function verifies(caFile: string, certFile: string): void {
  const v = sh('openssl', ['verify', '-attime', String(Date.parse(NOW) / 1000 + 3600), '-CAfile', caFile, certFile]);
  assert.equal(v.status, 0, `${certFile}: ${v.stdout}${v.stderr}`);
}

test('rebuild --root of a mounted disk printed its follow-ups for the other nodes (kubepki join, ca export, kubelet credentials) without --root, so pasted they read this host\'s /etc/kubernetes; each command run here now carries the tree\'s --root, and run as printed it reads the tree: join\'s CA hash is openssl\'s of the tree\'s new CA', async () => {
  const { base, root } = treeCopy('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const oldHash = discoveryHash(path.join(pki, 'ca.crt'));
  fs.rmSync(pki, { recursive: true });
  const ops = path.join(base, 'ops');
  fs.mkdirSync(ops);
  const rb = spawnSync(process.execPath, [BIN, 'rebuild', '--root', root, '--new-ca', '--force', '--now', NOW], { cwd: ops, encoding: 'utf8' });
  assert.equal(rb.status, 0, rb.stdout + rb.stderr);
  const section = rb.stdout.slice(rb.stdout.indexOf('\nThen, outside this node:\n'));
  assert.ok(section.length > 30, rb.stdout);
  // every kubepki command the follow-ups print, as the shell reads it; those run on this node carry the tree
  const printed = [...section.matchAll(/`(kubepki [^`]*)`( there)?/g)].map((m) => ({ command: m[1]!, there: m[2] !== undefined, argv: words(m[1]!) }));
  const named = (re: RegExp) => { const c = printed.find((p) => re.test(p.command)); assert.ok(c, `${re}: ${section}`); return c; };
  const join = named(/^kubepki join\b/);
  const exp = named(/^kubepki ca export\b/);
  const own = named(/^kubepki kubelet credentials --node cp-1\b/);
  const out = named(/^kubepki kubelet credentials --node NAME --out DIR\b/);
  const sa = named(/^kubepki sa refresh\b/);
  for (const c of printed) {
    if (c.there) assert.ok(!c.argv.includes('--root'), `${c.command} runs on another node: this tree's --root is not its`);
    else assert.deepEqual(c.argv.slice(c.argv.indexOf('--root')), ['--root', root], `${c.command} runs here: it must name the tree`);
  }
  assert.ok(printed.some((c) => c.there && /^kubepki ca import\b/.test(c.command)), section);
  assert.ok(sa.argv.includes('--root'), 'sa refresh checks the re-issued tokens against the tree\'s new sa.pub');
  const caFile = path.join(pki, 'ca.crt');
  const newHash = discoveryHash(caFile);
  assert.notEqual(newHash, oldHash);

  // kubepki join, as printed: the CA hash of the tree's (new) CA, as kubeadm pins it
  const j = inShell(ops, join.command);
  assert.equal(j.status, 0, j.stdout + j.stderr);
  assert.match(j.stdout, /; CA hash (sha256:[0-9a-f]{64})\n/);
  assert.equal(/; CA hash (sha256:[0-9a-f]{64})\n/.exec(j.stdout)![1], newHash);
  assert.ok(j.stdout.includes(`--discovery-token-ca-cert-hash ${newHash}`), j.stdout);

  // kubepki ca export, as printed: it seals the tree's files (imported back into the tree, every one is the same)
  const e = inShell(ops, exp.command, null);
  assert.equal(e.status, 0, e.stdout + e.stderr);
  const key = /Certificate key \(keep it secret; needed to import\): ([0-9a-f]{64})/.exec(e.stdout)?.[1];
  assert.ok(key, e.stdout);
  const back = await cli(['ca', 'import', path.join(ops, 'shared.yaml'), '--certificate-key', key, '--root', root, '--dry-run', '--now', NOW]);
  assert.equal(back.code, 0, back.out + back.err);
  const lines = back.out.split('\n').filter((l) => l.startsWith('  '));
  assert.ok(lines.length >= 5 && lines.every((l) => /^ {2}same +\/etc\/kubernetes\/pki\//.test(l)), back.out);
  assert.ok(lines.some((l) => l.endsWith('/etc/kubernetes/pki/ca.key')), back.out);

  // kubepki kubelet credentials --node cp-1, as printed: a client certificate from the tree's CA, in the tree
  const k = inShell(ops, own.command);
  assert.equal(k.status, 0, k.stdout + k.stderr);
  const current = fs.readlinkSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  verifies(caFile, path.join(root, current));

  // kubepki kubelet credentials --node NAME --out DIR, as printed (NAME and DIR filled in): signed by the tree's CA
  const dir = path.join(base, 'for-worker-1');
  const w = inShell(ops, out.command.replace('NAME', 'worker-1').replace('DIR', dir));
  assert.equal(w.status, 0, w.stdout + w.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'etc/kubernetes/pki/ca.crt')), fs.readFileSync(caFile));
  const worker = fs.readlinkSync(path.join(dir, 'var/lib/kubelet/pki/kubelet-client-current.pem'));
  verifies(caFile, path.join(dir, worker));
});

test('inspect of a copied tree\'s kubelet.conf without --root looked for /var/lib/kubelet/pki/kubelet-client-current.pem on this host: "does not exist", or this host\'s certificate shown as the tree\'s; a read-on-host warning now says which host file was read (or that there is none) and the inspect --root that reads the tree\'s, which works as printed', async () => {
  const { base, root } = treeCopy('kubeadm-1.26');
  const kubeletConf = path.join(root, 'etc/kubernetes/kubelet.conf');
  const hint = (out: string) => { const m = /; read them in the tree: (kubepki inspect .*)$/m.exec(out); assert.ok(m, out); return m[1]!; };
  const elsewhere = path.join(base, 'elsewhere');
  fs.mkdirSync(elsewhere);

  // the kubelet's link is not on this host (a test machine is no node): missing here, said as such
  if (!fs.existsSync('/var/lib/kubelet/pki/kubelet-client-current.pem')) {
    const r = await cli(['inspect', kubeletConf, '--now', NOW]);
    assert.equal(r.code, 2, r.out + r.err);
    assert.ok(r.out.includes(`WARNING: ${kubeletConf} lies in the node tree ${root}, but its file references are absolute paths, read on this host, not in that tree: client-certificate and client-key of user "system:node:cp-1" /var/lib/kubelet/pki/kubelet-client-current.pem: missing on this host; read them in the tree: kubepki inspect --root '${root.replace(/'/g, `'\\''`)}' /etc/kubernetes/kubelet.conf\n`), r.out);
    assert.deepEqual(words(hint(r.out)), ['kubepki', 'inspect', '--root', root, '/etc/kubernetes/kubelet.conf']);
  }

  // a reference this host does have: kubelet.conf pointing at an absolute path that exists here (through a link),
  // holding another certificate than the tree's file of that path
  const hostDir = tmp('kubepki-hostfiles-');
  const pki = path.join(copyFixture('kubeadm-1.26'), 'etc/kubernetes/pki');
  fs.writeFileSync(path.join(hostDir, 'other.pem'), fs.readFileSync(path.join(pki, 'apiserver-kubelet-client.crt')) + fs.readFileSync(path.join(pki, 'apiserver-kubelet-client.key'), 'utf8'));
  const ref = path.join(hostDir, 'client.pem');
  fs.symlinkSync(path.join(hostDir, 'other.pem'), ref);
  fs.writeFileSync(kubeletConf, fs.readFileSync(kubeletConf, 'utf8').replaceAll('/var/lib/kubelet/pki/kubelet-client-current.pem', ref));
  fs.mkdirSync(path.join(root, hostDir), { recursive: true });
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-current.pem', path.join(root, ref));
  const r = await cli(['inspect', kubeletConf, '--now', NOW]);
  assert.match(r.out, /^ {2}Subject: +O=system:masters, CN=kube-apiserver-kubelet-client$/m, 'the host\'s file is what was read');
  assert.ok(r.out.includes(`WARNING: ${kubeletConf} lies in the node tree ${root}, but its file references are absolute paths, read on this host, not in that tree: client-certificate and client-key of user "system:node:cp-1" ${ref}: read on this host (${path.join(hostDir, 'other.pem')}), this host's file, not the tree's; read them in the tree`), r.out);
  const json = JSON.parse((await cli(['inspect', kubeletConf, '--now', NOW, '-o', 'json'])).out) as { certificates: { id: string; subject: string; findings: { code: string; certificate?: string }[] }[]; findings: { code: string; severity: string; file: string }[] };
  assert.deepEqual(json.findings.filter((f) => f.code === 'read-on-host').map((f) => [f.severity, f.file]), [['warning', kubeletConf]]);
  // (on the row of the host's certificate, the one shown as if it were the tree's: as check has it)
  const hostRow = json.certificates.find((c) => c.subject.includes('CN=kube-apiserver-kubelet-client'));
  assert.deepEqual(hostRow?.findings.filter((f) => f.code === 'read-on-host').map((f) => f.certificate), [hostRow?.id]);
  // the inspect it names, run as printed from elsewhere: the tree's own client certificate, no warning
  const t = inShell(elsewhere, hint(r.out));
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, /^ {2}Subject: +O=system:nodes, CN=system:node:cp-1$/m);
  assert.doesNotMatch(t.stdout, /kube-apiserver-kubelet-client|read on this host/);

  // a kubeconfig outside any node directory: nothing to say
  const loose = path.join(elsewhere, 'kubelet.conf');
  fs.copyFileSync(kubeletConf, loose);
  assert.doesNotMatch((await cli(['inspect', loose, '--now', NOW])).out, /read-on-host|read them in the tree/);
});

test('check\'s Next line on a tree at a path with a space and a quote is pasteable: it built --root by hand, unquoted, so the shell split it (or waited for the closing quote); the renew command it names reads the tree as one word', () => {
  const { root } = treeCopy('kubeadm-1.26-expired');
  const r = spawnSync(process.execPath, [BIN, 'check', '--root', root, '--now', NOW], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  const next = /^Next: (kubepki renew all .*?) --dry-run, then without/m.exec(r.stdout);
  assert.ok(next, r.stdout);
  const argv = words(next[1]!);
  // (with the --now check was given: run at another moment, it would plan for another table)
  assert.deepEqual(argv.slice(argv.indexOf('--root')), ['--root', root, '--now', NOW]);
  // and run as printed, its dry run plans the tree's renewals
  const dry = spawnSync('sh', ['-c', `${next[1]!.replace(/^kubepki /, `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} `)} --dry-run`], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /apiserver/);
});

test('check --kubeconfig DIR/etc/kubernetes/kubelet.conf (or --path DIR/etc/kubernetes) without --root read /var/lib/kubelet/pki/kubelet-client-current.pem on this host and said only that it "does not exist" (or showed this host\'s certificate as the tree\'s) with no word of it: the read-on-host warning inspect gives, on the row read through the reference, exit 1 for it alone, and Next names the check --root that reads the tree\'s, which works as printed', async () => {
  const { base, root } = treeCopy('kubeadm-1.26');
  const kubeletConf = path.join(root, 'etc/kubernetes/kubelet.conf');
  const quoted = `'${root.replace(/'/g, `'\\''`)}'`;
  const hint = (out: string) => { const m = /; read them in the tree: (kubepki check .*)$/m.exec(out); assert.ok(m, out); return m[1]!; };
  type Json = { certificates: { id: string; subject: string; status: string; findings: { code: string; certificate?: string; file: string; message: string }[] }[]; findings: { code: string; severity: string; file: string; certificate?: string; message: string }[]; next: string };
  const onHost = (j: Json) => j.findings.filter((f) => f.code === 'read-on-host');
  const elsewhere = path.join(base, 'elsewhere');
  fs.mkdirSync(elsewhere);

  // the kubelet's link is not on this host (a test machine is no node): missing here, said as such
  if (!fs.existsSync('/var/lib/kubelet/pki/kubelet-client-current.pem')) {
    const r = await cli(['check', '--kubeconfig', kubeletConf, '--now', NOW]);
    assert.equal(r.code, 2, r.out + r.err); // (the missing-file error stays: on this host it is missing)
    assert.ok(r.out.includes(`\n  WARNING read-on-host               ${kubeletConf} lies in the node tree ${root}, but its file references are absolute paths, read on this host, not in that tree: client-certificate and client-key of user "system:node:cp-1" /var/lib/kubelet/pki/kubelet-client-current.pem: missing on this host; read them in the tree: kubepki check --root ${quoted} --kubeconfig /etc/kubernetes/kubelet.conf\n`), r.out);
    assert.deepEqual(words(hint(r.out)), ['kubepki', 'check', '--root', root, '--kubeconfig', '/etc/kubernetes/kubelet.conf']);
    assert.ok(r.out.includes(`\nNext: read the node tree's own files: kubepki check --root ${quoted} --kubeconfig /etc/kubernetes/kubelet.conf --now ${NOW} (see read-on-host under FINDINGS)\n`), r.out);
    const j = JSON.parse((await cli(['check', '--kubeconfig', kubeletConf, '--now', NOW, '-o', 'json'])).out) as Json;
    assert.deepEqual(onHost(j).map((f) => [f.severity, f.file, f.certificate]), [['warning', kubeletConf, undefined]]);
    assert.match(j.next, /^read the node tree's own files: kubepki check --root /);
    // --path of the directory that holds it: the same word, for the kubeconfig found in it
    const p = JSON.parse((await cli(['check', '--path', path.join(root, 'etc/kubernetes'), '--now', NOW, '-o', 'json'])).out) as Json;
    assert.deepEqual(onHost(p).map((f) => f.message), onHost(j).map((f) => f.message));
  }

  // a reference this host does have: kubelet.conf pointing at an absolute path that exists here (through a link),
  // holding another certificate than the tree's file of that path
  const hostDir = tmp('kubepki-hostfiles-');
  const pki = path.join(copyFixture('kubeadm-1.26'), 'etc/kubernetes/pki');
  const other = path.join(hostDir, 'other.pem');
  fs.writeFileSync(other, fs.readFileSync(path.join(pki, 'apiserver-kubelet-client.crt')) + fs.readFileSync(path.join(pki, 'apiserver-kubelet-client.key'), 'utf8'), { mode: 0o600 });
  const ref = path.join(hostDir, 'client.pem');
  fs.symlinkSync(other, ref);
  fs.writeFileSync(kubeletConf, fs.readFileSync(kubeletConf, 'utf8').replaceAll('/var/lib/kubelet/pki/kubelet-client-current.pem', ref));
  fs.mkdirSync(path.join(root, hostDir), { recursive: true });
  fs.symlinkSync('/var/lib/kubelet/pki/kubelet-client-current.pem', path.join(root, ref));
  const r = await cli(['check', '--kubeconfig', kubeletConf, '--now', NOW]);
  assert.equal(r.code, 1, `a warning's exit code: ${r.out}${r.err}`);
  assert.ok(r.out.includes(`\n  WARNING read-on-host               ${kubeletConf} lies in the node tree ${root}, but its file references are absolute paths, read on this host, not in that tree: client-certificate and client-key of user "system:node:cp-1" ${ref}: read on this host (${other}), this host's file, not the tree's; read them in the tree: kubepki check --root ${quoted} --kubeconfig /etc/kubernetes/kubelet.conf\n`), r.out);
  const j = JSON.parse((await cli(['check', '--kubeconfig', kubeletConf, '--now', NOW, '-o', 'json'])).out) as Json;
  // on the row of the certificate read through the reference: this host's, which a reader takes for the tree's
  const row = j.certificates.find((c) => c.subject.includes('CN=kube-apiserver-kubelet-client'));
  assert.ok(row, JSON.stringify(j.certificates.map((c) => c.subject)));
  assert.equal(row.status, 'warning');
  assert.deepEqual(row.findings.map((f) => [f.code, f.certificate, f.file]), [['read-on-host', row.id, kubeletConf]]);
  assert.deepEqual(onHost(j).map((f) => [f.severity, f.certificate]), [['warning', row.id]]);
  // the check it names, run as printed from elsewhere: the tree's own client certificate, no warning
  const t = inShell(elsewhere, `${hint(r.out)} -o json`);
  assert.equal(t.status, 0, t.stdout + t.stderr);
  const tree = JSON.parse(t.stdout) as Json;
  assert.ok(tree.certificates.some((c) => c.subject === 'O=system:nodes, CN=system:node:cp-1'), t.stdout);
  assert.deepEqual(onHost(tree), []);

  // a kubeconfig outside any node directory: nothing to say
  const loose = path.join(elsewhere, 'kubelet.conf');
  fs.copyFileSync(kubeletConf, loose);
  const l = await cli(['check', '--kubeconfig', loose, '--now', NOW]);
  assert.doesNotMatch(l.out, /read-on-host|read them in the tree/);
  // probe reads no --path or --kubeconfig (only this node's layouts, or --root's): it has no such trap to fall in
  const pr = await cli(['probe', '127.0.0.1:1', '--path', path.join(root, 'etc/kubernetes')]);
  assert.equal(pr.code, 3);
  assert.match(pr.err, /unknown option '--path'/);
});

test('renew --file of a copied tree\'s file whose absolute link leads out of the tree (pki/etcd -> /srv/etcd, kubelet-client-current.pem -> /var/lib/kubelet/pki/…) renewed the host\'s file without --root: the host\'s /srv/etcd/server.crt rewritten, or the host\'s kubelet certificate and key written into the tree; it now refuses in one line naming the file and the renew --root that renews the tree\'s, exit 3, nothing written, and that command renews the tree\'s file; check of the tree\'s kubelet.conf says read-on-host on the host\'s row', async () => {
  // the host is simulated by --root HOST (a test writes nothing outside temp dirs): a control-plane node of the
  // same cluster with its own etcd pair in /srv/etcd and its own kubelet pem, and the copied tree inside it
  const host = tmp('kubepki-host-');
  const expired = copyFixture('kubeadm-1.26-expired');
  fs.cpSync(path.join(expired, 'etc/kubernetes/pki/etcd'), path.join(host, 'srv/etcd'), { recursive: true });
  fs.cpSync(path.join(expired, 'var/lib/kubelet/pki'), path.join(host, 'var/lib/kubelet/pki'), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(host, 'etc/kubernetes/pki'), { recursive: true });
  for (const f of ['ca.crt', 'ca.key']) fs.copyFileSync(path.join(expired, 'etc/kubernetes/pki', f), path.join(host, 'etc/kubernetes/pki', f));
  const tree = path.join(host, "node's disk");
  fs.cpSync(copyFixture('kubeadm-1.26'), tree, { recursive: true, verbatimSymlinks: true });
  // the tree keeps its etcd pairs where its pki/etcd link points, as on its node
  fs.mkdirSync(path.join(tree, 'srv'));
  fs.renameSync(path.join(tree, 'etc/kubernetes/pki/etcd'), path.join(tree, 'srv/etcd'));
  fs.symlinkSync('/srv/etcd', path.join(tree, 'etc/kubernetes/pki/etcd'));
  const quoted = `'${tree.replace(/'/g, `'\\''`)}'`;
  const nodeTree = "/node's disk";
  const before = snapshotTree(host);

  const etcdServer = `${nodeTree}/etc/kubernetes/pki/etcd/server.crt`;
  const r = await cli(['renew', '--root', host, '--file', etcdServer, '--now', NOW]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.equal(r.out, '');
  assert.equal(r.err, `kubepki: failed to renew ${etcdServer}: it lies in the node tree ${nodeTree}, but its links lead out of that tree to /srv/etcd/server.crt, the file under --root ${host}: renew would renew that file, not the tree's; renew the tree's: kubepki renew --root ${quoted} --file /etc/kubernetes/pki/etcd/server.crt\n`);
  const kubeletLink = `${nodeTree}/var/lib/kubelet/pki/kubelet-client-current.pem`;
  for (const extra of [[], ['--dry-run']]) {
    const k = await cli(['renew', '--root', host, '--file', kubeletLink, '--now', NOW, ...extra]);
    assert.equal(k.code, 3, k.out + k.err);
    assert.equal(k.err, `kubepki: failed to renew ${kubeletLink}: it lies in the node tree ${nodeTree}, but its links lead out of that tree to /var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem, the file under --root ${host}: renew would renew that file, not the tree's; renew the tree's: kubepki renew --root ${quoted} --file /var/lib/kubelet/pki/kubelet-client-current.pem\n`);
  }
  assert.deepEqual(snapshotTree(host), before, 'nothing written');
  assert.ok(!fs.existsSync(path.join(host, 'var/lib/kubepki')), 'no lock, no backup');

  // truly without --root (dry run: nothing may be written on this host even if the refusal were gone): the tree's
  // /srv/etcd is looked for on this host
  if (!fs.existsSync('/srv/etcd')) {
    const d = await cli(['renew', '--file', path.join(tree, 'etc/kubernetes/pki/etcd/server.crt'), '--now', NOW, '--dry-run']);
    assert.equal(d.code, 3, d.out + d.err);
    assert.equal(d.err, `kubepki: failed to renew ${path.join(tree, 'etc/kubernetes/pki/etcd/server.crt')}: it lies in the node tree ${tree}, but its links lead out of that tree to /srv/etcd/server.crt, missing on this host: renew looks for it there, not in the tree; renew the tree's: kubepki renew --root ${quoted} --file /etc/kubernetes/pki/etcd/server.crt\n`);
  }

  // the renew it names, run as printed from elsewhere: the tree's etcd server certificate, signed by the tree's etcd
  // CA (openssl verify); the host's untouched
  const elsewhere = tmp('kubepki-elsewhere-');
  const printed = /renew the tree's: (kubepki renew .*)$/m.exec(r.err)![1]!;
  assert.deepEqual(words(printed), ['kubepki', 'renew', '--root', tree, '--file', '/etc/kubernetes/pki/etcd/server.crt']);
  const treeServer = path.join(tree, 'srv/etcd/server.crt');
  const old = fs.readFileSync(treeServer);
  const run = inShell(elsewhere, printed);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.notDeepEqual(fs.readFileSync(treeServer), old);
  verifies(path.join(tree, 'srv/etcd/ca.crt'), treeServer);
  const hostSrv = (m: Map<string, string>) => [...m].filter(([k]) => k.startsWith('srv/'));
  assert.deepEqual(hostSrv(snapshotTree(host)), hostSrv(before));
  assert.deepEqual(fs.readFileSync(path.join(host, 'srv/etcd/server.crt')), fs.readFileSync(path.join(expired, 'etc/kubernetes/pki/etcd/server.crt')));

  // check of the tree's kubelet.conf under the host's root: the host's expired kubelet pem was shown as the tree's
  // client certificate; the read-on-host warning is on that row (expired it stays), naming the check --root
  const kubeletConf = `${nodeTree}/etc/kubernetes/kubelet.conf`;
  const c = await cli(['check', '--root', host, '--kubeconfig', kubeletConf, '--now', NOW, '-o', 'json']);
  const j = JSON.parse(c.out) as { certificates: { id: string; status: string; location: { file: string }; findings: { code: string; certificate?: string; file: string; message: string }[] }[]; next: string };
  const row = j.certificates.find((x) => x.location.file === '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
  assert.ok(row, c.out);
  assert.equal(row.status, 'expired');
  const f = row.findings.find((x) => x.code === 'read-on-host');
  assert.ok(f, JSON.stringify(row.findings));
  assert.deepEqual([f.certificate, f.file], [row.id, kubeletConf]);
  assert.ok(f.message.includes(`/var/lib/kubelet/pki/kubelet-client-current.pem: read under --root ${host} (/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem), the file under --root ${host}, not the tree's; read them in the tree: kubepki check --root ${quoted} --kubeconfig /etc/kubernetes/kubelet.conf`), f.message);
  assert.equal(j.next, `read the node tree's own files: kubepki check --root ${quoted} --kubeconfig /etc/kubernetes/kubelet.conf --now ${NOW} (see read-on-host under FINDINGS)`);
  // as printed: the tree's own kubelet pem, valid, and nothing read on the host
  const t = inShell(elsewhere, `${/^read the node tree's own files: (kubepki check .*) \(see/.exec(j.next)![1]} -o json`);
  const tj = JSON.parse(t.stdout) as typeof j;
  const own = tj.certificates.find((x) => x.location.file === '/var/lib/kubelet/pki/kubelet-client-2026-11-22-21-36-05.pem');
  assert.equal(own?.status, 'ok', t.stdout);
  assert.ok(!t.stdout.includes('read-on-host'), t.stdout);
});
