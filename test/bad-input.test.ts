// Bad input: one test per crash the fuzzer (test/fuzz.test.ts) found, named
// after what broke, plus the CLI's behaviour on garbage and on a missing root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks, PemError } from '../src/pki/pem.js';
import { parseCsr } from '../src/pki/csr.js';
import { parseKubeconfig, KubeconfigError } from '../src/kubeconfig/read.js';
import { parseSimpleYaml } from '../src/kubeconfig/fast-yaml.js';
import { integerDer, oidDer, timeDer, nameDer, pemOf } from '../src/pki/sign.js';
import { DerError, seq, tlv } from '../src/pki/der.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { planRenew } from '../src/plan/renew.js';
import { UserError } from '../src/errors.js';
import { copyFixture, FIXTURES, NOW, tmpDir } from './support/fixtures.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const EC_SPKI = ec.publicKey.export({ type: 'spki', format: 'der' });
const SHA256_RSA = seq(oidDer('1.2.840.113549.1.1.11'), Uint8Array.of(0x05, 0x00));

/** An (unsigned) certificate built from raw parts, so one field at a time can be broken. */
function rawCert(o: { ext?: Uint8Array[]; spki?: Uint8Array; subject?: Uint8Array; issuer?: Uint8Array }): Buffer {
  const subject = o.subject ?? nameDer([{ type: 'CN', value: 'broken' }]);
  const parts = [
    tlv(0xa0, integerDer(2)), integerDer(7), SHA256_RSA, o.issuer ?? subject,
    seq(timeDer(new Date('2026-01-01T00:00:00Z')), timeDer(new Date('2027-01-01T00:00:00Z'))),
    subject, o.spki ?? EC_SPKI,
  ];
  if (o.ext) parts.push(tlv(0xa3, seq(...o.ext)));
  return Buffer.from(seq(seq(...parts), SHA256_RSA, tlv(0x03, Uint8Array.of(0, 1, 2, 3))));
}

function touch(c: Certificate): void {
  c.checkFields();
  void [c.subjectString, c.issuerString, c.serialHex, c.signatureAlgorithm, c.fingerprint256];
}

test('Certificate: an extension without an OID is a DerError (was a TypeError in decodeOid)', () => {
  const c = new Certificate(rawCert({ ext: [seq()] }));
  assert.throws(() => touch(c), (e: unknown) => e instanceof DerError && /OBJECT IDENTIFIER/.test((e as Error).message));
});

test('Certificate: an extension with an OID and nothing else is a DerError (was a TypeError reading its value)', () => {
  const c = new Certificate(rawCert({ ext: [seq(oidDer('2.5.29.17'))] }));
  assert.throws(() => c.extensions, (e: unknown) => e instanceof DerError && /bad extension 2\.5\.29\.17/.test((e as Error).message));
});

test('Certificate: an RSA key whose BIT STRING holds an empty SEQUENCE is a DerError (was a TypeError in spkiKeyInfo)', () => {
  const spki = seq(seq(oidDer('1.2.840.113549.1.1.1'), Uint8Array.of(0x05, 0x00)), tlv(0x03, Uint8Array.of(0), seq()));
  const c = new Certificate(rawCert({ spki }));
  assert.throws(() => c.keyInfo, (e: unknown) => e instanceof DerError && /RSA public key/.test((e as Error).message));
});

test('parseCsr: an extension request holding an empty extension is a DerError (was a TypeError in decodeOid)', () => {
  const info = seq(integerDer(0), nameDer([{ type: 'CN', value: 'x' }]), EC_SPKI,
    tlv(0xa0, seq(oidDer('1.2.840.113549.1.9.14'), tlv(0x31, seq(seq())))));
  const der = seq(info, seq(oidDer('1.2.840.10045.4.3.2')), tlv(0x03, Uint8Array.of(0, 1)));
  assert.throws(() => parseCsr(der), DerError);
});

test('parsePemBlocks: a damaged BEGIN line is a PemError (was a certificate silently dropped)', () => {
  const good = pemOf(rawCert({}));
  assert.equal(parsePemBlocks(good).length, 1);
  assert.throws(() => parsePemBlocks(good.replace('-----BEGIN CERTIFICATE-----', '-----BEGÉN CERTIFICATE-----')), PemError);
  assert.throws(() => parsePemBlocks(good.replace('-----BEGIN CERTIFICATE-----', '-----BEGIN C\u0000\u0000')), (e: unknown) => e instanceof PemError && /damaged BEGIN or END line/.test((e as Error).message));
  // text around blocks is still fine (openssl x509 -text output, comments)
  assert.equal(parsePemBlocks(`subject=CN = broken\n${good}\n# trailing note\n${good}`).length, 2);
});

test('readInventory: a certificate whose SANs do not parse is reported as corrupt (was a crash from a lazy getter)', () => {
  const root = tmpDir('kubepki-bad-san-');
  try {
    const dir = path.join(root, 'etc/ssl/extra');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'broken-san.crt'), pemOf(rawCert({ ext: [seq(oidDer('2.5.29.17'), tlv(0x04, Uint8Array.of(0x30, 0x05, 0x82, 0x01)))] })));
    fs.writeFileSync(path.join(dir, 'fine.crt'), pemOf(rawCert({ subject: nameDer([{ type: 'CN', value: 'fine' }]) })));
    const inv = readInventory({ fs: new NodeFs(root), now: NOW, layouts: [], paths: ['/etc/ssl/extra'] });
    assert.ok(inv.findings.some((f) => f.code === 'corrupt' && f.file === '/etc/ssl/extra/broken-san.crt'), JSON.stringify(inv.findings));
    assert.deepEqual(inv.certificates.map((c) => c.subjectCN), ['fine']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('readInventory: a CA whose public key OpenSSL cannot read signs nothing (was a crash in verifySignedBy)', () => {
  const root = tmpDir('kubepki-bad-ca-key-');
  try {
    const dir = path.join(root, 'etc/ssl/extra');
    fs.mkdirSync(dir, { recursive: true });
    const caName = nameDer([{ type: 'CN', value: 'broken-ca' }]);
    const badSpki = seq(seq(oidDer('1.2.840.10045.2.1'), oidDer('1.2.840.10045.3.1.7')), tlv(0x03, Uint8Array.of(0, 4, 1, 2, 3)));
    const basicCa = seq(oidDer('2.5.29.19'), Uint8Array.of(0x01, 0x01, 0xff), tlv(0x04, seq(Uint8Array.of(0x01, 0x01, 0xff))));
    fs.writeFileSync(path.join(dir, 'ca.crt'), pemOf(rawCert({ subject: caName, spki: badSpki, ext: [basicCa] })));
    fs.writeFileSync(path.join(dir, 'leaf.crt'), pemOf(rawCert({ subject: nameDer([{ type: 'CN', value: 'leaf' }]), issuer: caName })));
    const inv = readInventory({ fs: new NodeFs(root), now: NOW, layouts: [], paths: ['/etc/ssl/extra'] });
    const leaf = inv.certificates.find((c) => c.subjectCN === 'leaf');
    assert.ok(leaf, 'the leaf is still reported');
    assert.equal(leaf.signedBy, undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('readInventory: a directory where a kubeadm certificate should be is reported, and its row shows missing (was silently dropped)', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const p = path.join(root, 'etc/kubernetes/pki/apiserver.crt');
    fs.rmSync(p);
    fs.mkdirSync(p);
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    const f = inv.findings.find((x) => x.file === '/etc/kubernetes/pki/apiserver.crt');
    assert.equal(f?.code, 'unreadable');
    assert.match(f!.message, /a directory where the apiserver certificate should be/);
    assert.ok(inv.missing.some((m) => m.name === 'apiserver'));
    assert.ok(inv.certificates.some((c) => c.name === 'apiserver-kubelet-client'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('huge and deeply nested inputs: every parser answers quickly with its own error or a result', () => {
  const t0 = Date.now();
  const big = 'A'.repeat(4 * 1024 * 1024);
  // PEM: a 4 MiB body, a 4 MiB body with one bad character, thousands of BEGIN lines
  assert.equal(parsePemBlocks(`-----BEGIN CERTIFICATE-----\n${big}\n-----END CERTIFICATE-----\n`)[0]!.der.length, 3 * 1024 * 1024);
  assert.throws(() => parsePemBlocks(`-----BEGIN CERTIFICATE-----\n${big}*\n-----END CERTIFICATE-----\n`), PemError);
  assert.throws(() => parsePemBlocks('-----BEGIN '.repeat(200_000)), PemError);
  // DER: a SEQUENCE claiming 4 GiB, and a real 3 MiB one that is not a certificate
  assert.throws(() => new Certificate(Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30)), DerError);
  const der3m = Buffer.concat([Buffer.from([0x30, 0x83, 0x30, 0x00, 0x00]), Buffer.alloc(0x300000)]);
  assert.throws(() => touch(new Certificate(der3m)), DerError);
  // deeply nested DER (a SEQUENCE inside a SEQUENCE … 100,000 levels)
  const depth = 100_000;
  const nested = Buffer.alloc(depth * 2);
  for (let i = 0; i < depth; i++) { nested[2 * i] = 0x30; nested[2 * i + 1] = 0x80; }
  assert.throws(() => new Certificate(nested), DerError);
  assert.throws(() => parseCsr(nested), DerError);
  // YAML: 10,000 levels of nesting, and a 2 MiB kubeconfig with one huge value
  const deep = Array.from({ length: 10_000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + '\n';
  assert.equal(parseSimpleYaml(deep), undefined, 'the fast reader steps aside');
  assert.throws(() => parseKubeconfig(deep, '/etc/kubernetes/deep.conf'), KubeconfigError);
  const wide = `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://x\n    certificate-authority-data: ${'QUFB'.repeat(512 * 1024)}\nusers: []\n`;
  assert.equal(parseKubeconfig(wide, '/etc/kubernetes/wide.conf').clusters[0]!.caData!.length, 1536 * 1024);
  assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
});

// ---------------------------------------------------------------- the CLI

const BIN = path.resolve(process.cwd(), 'bin/kubepki.js');

function kubepki(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, KUBEPKI_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const STACK = /\n\s+at |node:internal|\.js:\d+:\d+/;

test('kubepki check --root <tree with garbage>: findings, no stack trace, exit 2', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const pki = path.join(root, 'etc/kubernetes/pki');
    fs.writeFileSync(path.join(pki, 'front-proxy-client.crt'), Buffer.from('\x00garbage\xff'.repeat(30), 'latin1'));
    fs.writeFileSync(path.join(pki, 'etcd/peer.crt'), '-----BEGIN CERTIFICATE-----\nMIIB****\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(path.join(root, 'etc/kubernetes/scheduler.conf'), 'apiVersion: v1\nkind: Config\nusers:\n- name: x\n  user:\n    client-certificate-data: "!!not base64!!"\nclusters: []\n');
    fs.symlinkSync('/etc/kubernetes/pki/loop-b.crt', path.join(pki, 'loop-a.crt'));
    fs.symlinkSync('/etc/kubernetes/pki/loop-a.crt', path.join(pki, 'loop-b.crt'));
    fs.writeFileSync(path.join(pki, 'huge.crt'), Buffer.alloc(5 * 1024 * 1024, 0x2d));
    for (const output of ['table', 'json']) {
      const r = kubepki(['check', '--root', root, '--now', '2026-11-23', '-o', output]);
      assert.equal(r.status, 2, `exit 2 for -o ${output}; stderr: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, STACK);
      const text = r.stdout + r.stderr;
      for (const f of ['front-proxy-client.crt', 'etcd/peer.crt', 'scheduler.conf', 'huge.crt']) assert.ok(text.includes(f), `${f} mentioned (-o ${output})`);
      if (output === 'json') {
        const inv = JSON.parse(r.stdout);
        const names = inv.certificates.map((c: { name: string }) => c.name);
        for (const n of ['apiserver', 'ca', 'etcd-server', 'admin.conf', 'kubelet-client']) assert.ok(names.includes(n), `${n} still reported`);
        const codes = (file: string) => inv.findings.filter((x: { file?: string }) => x.file === file).map((x: { code: string }) => x.code);
        assert.ok(codes('/etc/kubernetes/pki/front-proxy-client.crt').includes('corrupt'));
        assert.ok(codes('/etc/kubernetes/pki/etcd/peer.crt').includes('corrupt'));
        assert.ok(codes('/etc/kubernetes/scheduler.conf').includes('corrupt'));
        assert.ok(codes('/etc/kubernetes/pki/huge.crt').includes('unreadable'));
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('kubepki check --root /nonexistent: one error line naming the path (plus a hint), exit 3', () => {
  const r = kubepki(['check', '--root', '/nonexistent/kubepki-node', '--now', '2026-11-23']);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, STACK);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^kubepki: .*\/nonexistent\/kubepki-node/);
  assert.ok(lines.length === 1 || (lines.length === 2 && /^\s+hint: /.test(lines[1]!)), r.stderr);
});

test('kubepki check --root FILE (not a directory) and an empty directory: one line, exit 3', () => {
  const dir = tmpDir('kubepki-empty-root-');
  try {
    const file = path.join(dir, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    for (const root of [file, dir]) {
      const r = kubepki(['check', '--root', root, '--now', '2026-11-23']);
      assert.equal(r.status, 3, r.stderr);
      assert.doesNotMatch(r.stderr, STACK);
      assert.match(r.stderr.split('\n')[0]!, /^kubepki: /);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('demo --dir never writes into a directory that holds anything (a node tree, /): one line, exit 3, nothing changed', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26');
  const list = (d: string) => fs.readdirSync(d, { recursive: true, withFileTypes: true }).map((e) => `${path.join(e.parentPath ?? e.path, e.name)}:${e.isFile() ? fs.readFileSync(path.join(e.parentPath ?? e.path, e.name)).toString('base64') : ''}`).sort();
  const before = list(root);
  const io = memoryIo();
  assert.equal(await run(['demo', '--dir', root, '--now', '2026-11-23'], io), 3);
  assert.match(io.err, /^kubepki: refusing --dir .*: it is not empty/);
  assert.deepEqual(list(root), before, 'the tree is untouched');
  // a file, and a directory whose parent is missing: one line each, exit 3
  const t = tmpDir('kubepki-demo-dir-');
  fs.writeFileSync(path.join(t, 'f'), 'x');
  for (const [dir, msg] of [[path.join(t, 'f'), /not a directory/], [path.join(t, 'no/such'), /failed to create --dir .*ENOENT/]] as const) {
    const e = memoryIo();
    assert.equal(await run(['demo', '--dir', dir, '--now', '2026-11-23'], e), 3, dir);
    assert.match(e.err, msg);
    assert.doesNotMatch(e.err, /internal error/);
  }
  // an empty one is used
  const empty = path.join(t, 'empty');
  fs.mkdirSync(empty);
  const ok = memoryIo();
  assert.equal(await run(['demo', '--dir', empty, '--now', '2026-11-23'], ok), 0);
  assert.ok(fs.existsSync(path.join(empty, 'etc/kubernetes/pki/ca.key')));
  // the summary's clock in whole seconds, as everywhere else, whatever the milliseconds of --now
  const ms = memoryIo();
  assert.equal(await run(['check', '--root', empty, '--now', '2026-11-23T10:11:12.345Z'], ms), 2, ms.err);
  assert.match(ms.out, /\(now 2026-11-23T10:11:12Z, warn /);
  fs.rmSync(t, { recursive: true, force: true });
});

test('the filesystem refusing is one line naming the path, exit 3, not an internal error: join --out in a missing directory, renew --backup-dir on a file', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26');
  const t = tmpDir('kubepki-fs-errors-');
  fs.writeFileSync(path.join(t, 'afile'), 'x');
  const cases: [string[], RegExp][] = [
    [['join', '--root', root, '--now', '2026-11-23', '--out', path.join(t, 'no/such/join.yaml')], /^kubepki: failed to open .*no\/such\/join\.yaml: ENOENT\n  hint: /],
    [['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--backup-dir', path.join(t, 'afile', 'b')], /^kubepki: failed to \w+ .*afile.*: ENOTDIR\n  hint: /],
  ];
  for (const [argv, want] of cases) {
    const io = memoryIo();
    assert.equal(await run(argv, io), 3, `${argv.join(' ')}: ${io.err}`);
    assert.match(io.err, want);
    assert.doesNotMatch(io.err, /internal error/);
  }
  fs.rmSync(t, { recursive: true, force: true });
});

test('serve checks its TLS files before listening: a file with no certificate, a key that is not the certificate\'s, a client CA with no certificate: one line naming the file, exit 3', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  const garbage = path.join(root, 'garbage.crt');
  fs.writeFileSync(garbage, 'not a certificate\n');
  const base = ['serve', '--root', root, '--listen', '127.0.0.1:0', '--now', '2026-11-23'];
  const cases: [string[], RegExp][] = [
    [['--tls-cert', garbage, '--tls-key', path.join(pki, 'apiserver.key')], /failed to use --tls-cert .*garbage\.crt: no PEM certificate/],
    [['--tls-cert', path.join(pki, 'apiserver.crt'), '--tls-key', path.join(pki, 'ca.key')], /failed to use --tls-key .*ca\.key: it is not the key of --tls-cert/],
    [['--tls-cert', path.join(pki, 'apiserver.crt'), '--tls-key', path.join(pki, 'apiserver.key'), '--client-ca', garbage], /failed to use --client-ca .*garbage\.crt: no PEM certificate/],
  ];
  for (const [extra, want] of cases) {
    const io = memoryIo();
    assert.equal(await run([...base, ...extra], io), 3, io.err);
    assert.match(io.err, want);
    assert.equal(io.err.split('\n').filter(Boolean).length, 2, 'one line and its hint');
  }
});

test('check --path: a path that does not exist is a usage error (exit 3, one line); in a directory named with --path an openssl.cnf is not a broken certificate, a broken .crt is', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = tmpDir('kubepki-path-');
  fs.mkdirSync(path.join(root, 'certs'));
  fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/pki/ca.crt'), path.join(root, 'certs/ca.crt'));
  fs.writeFileSync(path.join(root, 'certs/openssl.cnf'), '[req]\ndistinguished_name = dn\n[dn]\n');
  const missing = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/nonexistent', '--now', '2026-11-23'], missing), 3);
  assert.match(missing.err, /^kubepki: --path \/nonexistent does not exist under --root /);
  const kc = memoryIo();
  assert.equal(await run(['check', '--root', root, '--kubeconfig', '/root/.kube/config', '--now', '2026-11-23'], kc), 3);
  assert.match(kc.err, /^kubepki: --kubeconfig \/root\/\.kube\/config does not exist/);
  const ok = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/certs', '--now', '2026-11-23'], ok), 0, ok.out);
  assert.doesNotMatch(ok.out, /openssl\.cnf/);
  // a static pod manifest or kubeadm's config beside the certificates is YAML of another kind, not a broken kubeconfig
  // (check --path /etc/kubernetes said ERROR corrupt for each); a file named by itself, or kind: Config that does not parse, still is
  fs.copyFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/manifests/kube-apiserver.yaml'), path.join(root, 'certs/kube-apiserver.yaml'));
  fs.writeFileSync(path.join(root, 'certs/kubeadm.yaml'), 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n');
  const yamls = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/certs', '--now', '2026-11-23'], yamls), 0, yamls.out);
  assert.doesNotMatch(yamls.out, /corrupt/);
  const named = memoryIo();
  assert.equal(await run(['inspect', path.join(root, 'certs/kube-apiserver.yaml')], named), 3);
  assert.match(named.err, /not a kubeconfig, certificate, key or CSR/);
  fs.writeFileSync(path.join(root, 'certs/x.yaml'), 'apiVersion: v1\nkind: Config\nclusters: [\n');
  const badKc = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/certs', '--now', '2026-11-23'], badKc), 2);
  assert.match(badKc.out, /corrupt\s+\/certs\/x\.yaml/);
  for (const f of ['kube-apiserver.yaml', 'kubeadm.yaml', 'x.yaml']) fs.rmSync(path.join(root, 'certs', f));
  fs.writeFileSync(path.join(root, 'certs/broken.crt'), 'junk\n');
  const broken = memoryIo();
  assert.equal(await run(['check', '--root', root, '--path', '/certs', '--now', '2026-11-23'], broken), 2);
  assert.match(broken.out, /corrupt\s+\/certs\/broken\.crt/);
  fs.rmSync(root, { recursive: true, force: true });
});

test('flag values: one line with a hint and exit 3 for --warn 100% / 30 (no unit), --now "", --validity past 9999, --backdate before 1950, probe --timeout abc, an unknown option', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26');
  const cases: [string[], RegExp][] = [
    [['check', '--root', root, '--warn', '100%'], /^kubepki: --warn 100%: a share of the lifetime used must be between 0% and 100%/],
    [['check', '--root', root, '--warn', '30'], /^kubepki: --warn 30 has no unit\n  hint: did you mean --warn 30d/],
    [['renew', 'apiserver', '--root', root, '--warn', '0%', '--dry-run'], /between 0% and 100%/],
    [['check', '--root', root, '--now', ''], /^kubepki: --now is empty/],
    [['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--validity', '99999999999d', '--dry-run'], /^kubepki: --validity 99999999999d ends after 9999-12-31/],
    [['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--backdate', '100y', '--dry-run'], /^kubepki: --backdate 100y starts before 1950/],
    [['probe', '127.0.0.1:1', '--timeout', 'abc'], /^kubepki: --timeout "abc" is not a number of seconds/],
    [['check', '--bogus'], /^kubepki: unknown option '--bogus'\n  hint: kubepki check --help lists the options\n$/],
    // a sub-command's hint names it: `kubepki ca --help` does not list import's options
    [['csr', 'approve', '--bogus'], /^kubepki: unknown option '--bogus'\n  hint: kubepki csr approve --help lists the options\n$/],
    [['ca', 'import', 'shared.yaml'], /^kubepki: required option '--certificate-key <hex>' not specified\n  hint: kubepki ca import --help lists the options\n$/],
  ];
  for (const [argv, want] of cases) {
    const io = memoryIo();
    assert.equal(await run(argv, io), 3, `${argv.join(' ')}: ${io.err}`);
    assert.match(io.err, want, argv.join(' '));
    assert.doesNotMatch(io.err, /internal error|^error:/m);
  }
});

test('a backup directory the kernel will not make (/proc) is one line and exit 3 (Node\'s recursive mkdir spun forever there)', { timeout: 60_000 }, async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const root = copyFixture('kubeadm-1.26');
  const io = memoryIo();
  assert.equal(await run(['renew', 'apiserver', '--root', root, '--now', '2026-11-23', '--backup-dir', '/proc/kubepki-nope/b'], io), 3, io.err);
  assert.match(io.err, /^kubepki: failed to mkdir \/proc\/kubepki-nope: ENOENT\n  hint: /);
});

test('NodeFs maps odd node paths as path.posix.normalize would (empty, dot and dot-dot segments, trailing slashes, relative, dotfiles), under a root and on /', () => {
  const root = tmpDir('kubepki-paths-');
  const odd = ['/etc/kubernetes/pki/ca.crt', 'etc/kubernetes', '/etc//kubernetes/', '/etc/./kubernetes/../kubernetes/pki', '/root/.kube/config', '/a/b/..', '/..', '/', '//', '/etc/kubernetes/.', '/x/..data/y'];
  for (const p of odd) {
    const want = path.posix.normalize('/' + p);
    assert.equal(new NodeFs(root).hostPath(p), path.join(root, want), p);
    assert.equal(new NodeFs(root).snapshot().hostPath(p), path.join(root, want), `${p} (snapshot)`);
    assert.equal(new NodeFs('/').hostPath(p), want, `${p} on /`);
  }
});

test('a snapshot resolves a path in a directory it already knows to be plain as a fresh NodeFs does (links in the file, relative and absolute, dot-dot in a target, missing parts, loops)', () => {
  const root = tmpDir('kubepki-real-');
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.mkdirSync(path.join(pki, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(root, 'srv/etcd'), { recursive: true });
  fs.writeFileSync(path.join(pki, 'ca.crt'), 'x');
  fs.writeFileSync(path.join(root, 'srv/real.crt'), 'x');
  fs.symlinkSync('/srv/real.crt', path.join(pki, 'abs.crt'));
  fs.symlinkSync('sub/../ca.crt', path.join(pki, 'rel.crt'));
  fs.symlinkSync('../../../srv/etcd', path.join(pki, 'etcd'));
  fs.symlinkSync('/nowhere/../srv/x.crt', path.join(pki, 'dangling.crt'));
  fs.symlinkSync('loop-b.crt', path.join(pki, 'loop-a.crt'));
  fs.symlinkSync('loop-a.crt', path.join(pki, 'loop-b.crt'));
  const paths = ['/etc/kubernetes/pki/ca.crt', '/etc/kubernetes/pki/abs.crt', '/etc/kubernetes/pki/rel.crt', '/etc/kubernetes/pki/etcd/ca.crt',
    '/etc/kubernetes/pki/dangling.crt', '/etc/kubernetes/pki/none.crt', '/etc/kubernetes/pki/none/x.crt', '/etc/kubernetes/pki/sub', '/etc/kubernetes/pki/loop-a.crt'];
  const real = (n: NodeFs, p: string) => { try { return n.realNodePath(p); } catch (e) { return (e as Error).name; } };
  const snap = new NodeFs(root).snapshot();
  assert.equal(snap.realNodePath('/etc/kubernetes/pki'), '/etc/kubernetes/pki'); // now known to be plain
  for (const p of paths) assert.equal(real(snap, p), real(new NodeFs(root), p), p);
  assert.deepEqual(paths.map((p) => real(snap, p)), ['/etc/kubernetes/pki/ca.crt', '/srv/real.crt', '/etc/kubernetes/pki/ca.crt', '/srv/etcd/ca.crt',
    '/nowhere/../srv/x.crt', '/etc/kubernetes/pki/none.crt', '/etc/kubernetes/pki/none/x.crt', '/etc/kubernetes/pki/sub', 'SymlinkLoopError']);
});

/** The node as a user sees it: these files' reads are refused (EACCES), as for a key that is 0600 root's. */
const deniedFs = (root: string, denied: RegExp) => new (class extends NodeFs {
  override readFile(nodePath: string): Buffer {
    if (denied.test(nodePath)) throw Object.assign(new Error(`EACCES: permission denied, open '${nodePath}'`), { code: 'EACCES' });
    return super.readFile(nodePath);
  }
})(root);

test('readInventory: a CA key that is there but cannot be read (EACCES, check run as a user) is `unreadable`, not "externally managed" (ca-key-missing said the node had no key)', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const inv = readInventory({ fs: deniedFs(root, /\/pki\/ca\.key$/), now: NOW });
    assert.deepEqual(inv.findings.filter((f) => f.file === '/etc/kubernetes/pki/ca.key').map((f) => [f.code, f.message]), [['unreadable', 'failed to read /etc/kubernetes/pki/ca.key: EACCES']]);
    assert.deepEqual(inv.findings.filter((f) => f.code === 'ca-key-missing'), []);
    // and one that is not there at all still is
    fs.rmSync(path.join(root, 'etc/kubernetes/pki/front-proxy-ca.key'));
    const gone = readInventory({ fs: deniedFs(root, /\/pki\/ca\.key$/), now: NOW });
    assert.deepEqual(gone.findings.filter((f) => f.code === 'ca-key-missing').map((f) => f.message), ['front-proxy-ca: no private key on this node (externally managed); certificates it signs cannot be renewed here']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('renew run as a user (keys and kubeconfigs 0600 root\'s) stops with one line naming what it may not read and to run as root, dry run or not; what it does not need does not stop it (it planned "externally managed, the key of CA ca is missing" for every leaf, and renewed kubelet.crt for its public key without its key)', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const user = readInventory({ fs: deniedFs(root, /(\.key|\.conf|kubelet-client-[\d-]+\.pem)$/), now: NOW });
    assert.throws(() => planRenew(user, { targets: 'all' }, NOW), (e: unknown) => e instanceof UserError
      && e.message === 'permission denied reading /etc/kubernetes/admin.conf, /etc/kubernetes/controller-manager.conf, /etc/kubernetes/pki/ca.key and 4 more, which renew needs'
      && /run kubepki as root/.test(e.hint ?? ''));
    assert.throws(() => planRenew(user, { targets: ['apiserver'] }, NOW), (e: unknown) => e instanceof UserError && /^permission denied reading \/etc\/kubernetes\/pki\/ca\.key, which renew needs$/.test(e.message));
    // only the front-proxy CA's key is refused: apiserver is renewed, front-proxy-client is what stops the run
    const one = readInventory({ fs: deniedFs(root, /front-proxy-ca\.key$/), now: NOW });
    assert.equal(planRenew(one, { targets: ['apiserver'] }, NOW).items.length, 1);
    assert.throws(() => planRenew(one, { targets: ['apiserver', 'front-proxy-client'] }, NOW), (e: unknown) => e instanceof UserError && /front-proxy-ca\.key, which renew needs/.test(e.message));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('rebuild run as a user stops with one line naming what it may not read and to run as root, --force or not (it listed each 0600 key as a problem to "remove (a new CA is then made) or pass --force to replace")', async () => {
  const { rebuild } = await import('../src/rebuild/run.js');
  const root = copyFixture('kubeadm-1.26');
  try {
    const user = deniedFs(root, /(\.key|\.conf|kubelet-client-[\d-]+\.pem)$/);
    for (const force of [false, true]) {
      await assert.rejects(rebuild({ fs: user, now: NOW, flags: {}, dryRun: true, force }), (e: unknown) => e instanceof UserError
        && /^permission denied reading \/etc\/kubernetes\/admin\.conf, \/etc\/kubernetes\/controller-manager\.conf, \/etc\/kubernetes\/kubelet\.conf and \d+ more, which rebuild needs$/.test(e.message)
        && /run kubepki as root/.test(e.hint ?? ''));
    }
    // as root the same node is kept as it is
    const r = await rebuild({ fs: new NodeFs(root), now: NOW, flags: {}, dryRun: true });
    assert.deepEqual(r.plan.errors, []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a TRUSTED CERTIFICATE block (openssl x509 -addtrust) says what it is, that Go programs do not read it, and the openssl command that writes the plain certificate; after that command the file reads', () => {
  const root = copyFixture('kubeadm-1.26');
  try {
    const file = path.join(root, 'etc/kubernetes/pki/front-proxy-ca.crt');
    const r = spawnSync('openssl', ['x509', '-in', file, '-addtrust', 'clientAuth', '-out', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(fs.readFileSync(file, 'utf8'), /^-----BEGIN TRUSTED CERTIFICATE-----/);
    const inv = readInventory({ fs: new NodeFs(root), now: NOW });
    const f = inv.findings.find((x) => x.file === '/etc/kubernetes/pki/front-proxy-ca.crt');
    assert.equal(f?.code, 'corrupt');
    assert.match(f!.message, /TRUSTED CERTIFICATE \(OpenSSL's trust format.*Go programs do not read.*openssl x509 -in \/etc\/kubernetes\/pki\/front-proxy-ca\.crt -out \/etc\/kubernetes\/pki\/front-proxy-ca\.crt$/);
    // the command as given (on the node path, here the tree's)
    assert.equal(spawnSync('openssl', ['x509', '-in', file, '-out', file]).status, 0);
    const fixed = readInventory({ fs: new NodeFs(root), now: NOW });
    assert.ok(fixed.certificates.some((c) => c.name === 'front-proxy-ca'));
    assert.deepEqual(fixed.findings.filter((x) => x.file === '/etc/kubernetes/pki/front-proxy-ca.crt'), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('inspect of a file too large to be a certificate says so in one readable line, exit 3 (it said "failed to inspect F: skipped 10000000 bytes is too large …")', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const file = path.join(tmpDir(), 'big.bin');
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 10_000_000);
  const io = memoryIo();
  assert.equal(await run(['inspect', file], io), 3);
  assert.equal(io.err.split('\n')[0], `kubepki: failed to inspect ${file}: 10000000 bytes is too large for a certificate file (limit 4194304)`);
});
