// What `inspect` shows of names and requests, checked against openssl's own output of the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, copyFixture, sh, tmp, FIXTURES } from './renew-support.js';
import { opensslOk } from './support/fixtures.js';
import { Certificate, nameToString } from '../src/pki/certificate.js';
import { fastRecord, record, plainRecord, scanBuffer, type ScanRecord } from '../src/inventory/scan.js';
import { splitDn } from '../src/report/metrics.js';

const openssl = opensslOk;

/** `openssl x509 -noout -subject` (default name options) as kubepki writes names: `CN = a + O = b` → `CN=a + O=b`. */
const opensslName = (file: string, which: 'subject' | 'issuer'): string =>
  openssl(['x509', '-in', file, '-noout', `-${which}`]).trim().replace(/^(subject|issuer)=/, '').replaceAll(' = ', '=');

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** kubepki's form (DER order, `, ` and ` + `) turned into RFC 2253's (reversed, `,` and `+`). */
const rfc2253 = (name: string): string => name.split(/(, | \+ )/).reverse().map((p) => (p === ', ' ? ',' : p === ' + ' ? '+' : p)).join('');

test('a multi-valued RDN (CN=a + O=b) keeps its + in inspect, -o json, the fast scan and the metrics labels; the CA it names is still found as the signer', async () => {
  const dir = tmp('kubepki-names-');
  const at = (f: string) => path.join(dir, f);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'),
    '-subj', '/O=org1/CN=multi-ca+O=b', '-multivalue-rdn', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('leaf.key'), '-out', at('leaf.csr'),
    '-subj', '/CN=leaf+OU=x+O=y/O=z', '-multivalue-rdn']);
  openssl(['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '365', '-out', at('leaf.crt')]);
  fs.rmSync(at('leaf.csr'));

  const caSubject = opensslName(at('ca.crt'), 'subject');
  const leafSubject = opensslName(at('leaf.crt'), 'subject');
  assert.equal(caSubject, 'O=org1, O=b + CN=multi-ca', 'openssl shows one RDN with two attributes (in DER SET order)');
  assert.equal(opensslName(at('leaf.crt'), 'issuer'), caSubject);

  for (const f of ['ca.crt', 'leaf.crt']) {
    const pemDer = Buffer.from(fs.readFileSync(at(f), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const c = new Certificate(pemDer);
    assert.equal(c.subjectString, opensslName(at(f), 'subject'), `${f} subject`);
    assert.equal(c.issuerString, opensslName(at(f), 'issuer'), `${f} issuer`);
    assert.equal(rfc2253(c.subjectString), openssl(['x509', '-in', at(f), '-noout', '-subject', '-nameopt', 'RFC2253']).trim().replace(/^subject=/, ''));
    // the fast scan extractor gives exactly what the Certificate class gives
    const fast = fastRecord(pemDer, `/${f}`, 0);
    assert.ok(fast, 'the fast path takes a multi-valued RDN');
    assert.deepEqual(plainRecord(fast), record(c, `/${f}`, 0));
    const scanned: ScanRecord[] = [];
    scanBuffer(fs.readFileSync(at(f)), `/${f}`, scanned, []);
    assert.equal(scanned[0]!.subject, c.subjectString);
    assert.equal(scanned[0]!.issuer, c.issuerString);
  }

  const short = await cli(['inspect', at('leaf.crt')]);
  assert.equal(short.code, 0, short.err);
  assert.match(short.out, new RegExp(`Subject:\\s+${esc(leafSubject)}\\n\\s+Issuer:\\s+${esc(caSubject)}\\n`));
  assert.match(short.out, /Subject:\s+\S+ \+ \S+ \+ \S+, O=z\n/, 'one RDN of three attributes, then one of one');
  // the leaf is matched to its CA by issuer name (ca.crt is in the same directory)
  assert.match(short.out, /Signed by:\s+\S+ \(signature verified\)/, short.out);
  const json = JSON.parse((await cli(['inspect', at('leaf.crt'), '-o', 'json'])).out);
  assert.equal(json.certificates[0].subject, leafSubject);
  assert.equal(json.certificates[0].issuer, caSubject);

  // metrics labels split an RDN's attributes as they split RDNs
  assert.deepEqual(splitDn(leafSubject), { CN: 'leaf', OU: 'x', O: 'y,z' });
  assert.deepEqual(splitDn('O=system:masters, CN=kubernetes-admin'), { O: 'system:masters', CN: 'kubernetes-admin' });
});

/** kubepki's form in RFC 2253's order and separators, reading escaped separators (`\,`) as value text. */
function escapedRfc2253(name: string): string {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') { cur += name.slice(i, i + 2); i++; continue; }
    const sep = name.startsWith(', ', i) ? ',' : name.startsWith(' + ', i) ? '+' : undefined;
    if (sep) { parts.push(cur, sep); cur = ''; i += sep === ',' ? 1 : 2; continue; }
    cur += name[i];
  }
  parts.push(cur);
  return parts.reverse().join('');
}

test('names are escaped as RFC 4514 says: a CN holding ", O=x", "+", quotes or a leading "#"/space reads as one value in check, inspect, -o json and metrics (was: printed raw, it read as more RDNs, and a leaf of CA "CN=ca\\, O=team" was said to fail the signature of CA "CN=ca, O=team")', async () => {
  const dir = tmp('kubepki-escape-');
  const at = (f: string) => path.join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = ['-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  // two CAs whose unescaped names read the same: one RDN `CN=ca, O=team`, and two RDNs CN=ca / O=team
  openssl(['req', '-x509', ...ec, '-keyout', at('ca.key'), '-out', at('ca.crt'), '-subj', '/CN=ca, O=team', ...ca]);
  openssl(['req', '-x509', ...ec, '-keyout', at('team-ca.key'), '-out', at('team-ca.crt'), '-subj', '/CN=ca/O=team', ...ca]);
  openssl(['req', '-new', ...ec, '-keyout', at('leaf.key'), '-out', at('leaf.csr'), '-subj', '/CN=#leaf, O=x \\+ OU=y/O= spaced /OU=q"u<o>t;e\\\\b']);
  openssl(['x509', '-req', '-in', at('leaf.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '365', '-out', at('leaf.crt')]);
  for (const f of ['leaf.csr', 'ca.key', 'ca.srl']) fs.rmSync(at(f), { force: true });
  const leafSubject = 'CN=\\#leaf\\, O=x \\+ OU=y, O=\\ spaced\\ , OU=q\\"u\\<o\\>t\\;e\\\\b';

  // our form is openssl's RFC2253 without the reversal and with spaced separators; reversed, it is RFC2253 itself
  const ours = (f: string, which: 'subject' | 'issuer') => openssl(['x509', '-in', at(f), '-noout', `-${which}`, '-nameopt', 'esc_2253,esc_ctrl,esc_msb,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,sname']).trim().replace(/^(subject|issuer)=/, '');
  const rfc = (f: string, which: 'subject' | 'issuer') => openssl(['x509', '-in', at(f), '-noout', `-${which}`, '-nameopt', 'RFC2253']).trim().replace(/^(subject|issuer)=/, '');
  assert.equal(ours('leaf.crt', 'subject'), leafSubject);
  assert.equal(rfc('leaf.crt', 'subject'), 'OU=q\\"u\\<o\\>t\\;e\\\\b,O=\\ spaced\\ ,CN=\\#leaf\\, O=x \\+ OU=y');
  for (const f of ['ca.crt', 'team-ca.crt', 'leaf.crt']) {
    const der = Buffer.from(fs.readFileSync(at(f), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const c = new Certificate(der);
    for (const which of ['subject', 'issuer'] as const) {
      const got = which === 'subject' ? c.subjectString : c.issuerString;
      assert.equal(got, ours(f, which), `${f} ${which}`);
      assert.equal(escapedRfc2253(got), rfc(f, which), `${f} ${which} (RFC2253)`);
    }
    const fast = fastRecord(der, `/${f}`, 0);
    assert.ok(fast, f);
    assert.deepEqual(plainRecord(fast), record(c, `/${f}`, 0), 'the fast scan escapes as the Certificate class does');
  }
  assert.notEqual(new Certificate(Buffer.from(fs.readFileSync(at('ca.crt'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')).subjectString, 'CN=ca, O=team');

  const short = await cli(['inspect', at('leaf.crt')]);
  assert.equal(short.code, 0, short.err);
  assert.ok(short.out.includes(`  Subject:     ${leafSubject}\n  Issuer:      CN=ca\\, O=team\n`), short.out);
  assert.match(short.out, /Signed by:\s+ca \(signature verified\)/, short.out);
  fs.rmSync(at('ca.crt'));
  // check: the leaf's CA (one RDN) is not here; team-ca.crt (two RDNs) only reads the same unescaped, and is no
  // CA "of that name" whose signature failed
  const now = new Date(Date.now() + 3600e3).toISOString();
  const j = await cli(['check', '--path', dir, '--now', now, '-o', 'json']);
  const inv = JSON.parse(j.out);
  const leaf = inv.certificates.find((c: any) => c.location.file.endsWith('/leaf.crt'));
  assert.equal(leaf.subject, leafSubject);
  assert.equal(leaf.issuer, 'CN=ca\\, O=team');
  assert.deepEqual(inv.findings.filter((f: any) => f.file === leaf.location.file).map((f: any) => `${f.severity} ${f.code}`), ['info unknown-signer'], JSON.stringify(inv.findings));
  assert.equal(j.code, 0, j.out);
  // metrics labels: the values, unescaped
  assert.deepEqual(splitDn(leafSubject), { CN: '#leaf, O=x + OU=y', O: ' spaced ', OU: 'q"u<o>t;e\\b' });
  // what openssl -subj cannot make: control characters as \XX (a name cannot break our lines), a lone "#" (openssl leaves it)
  assert.equal(nameToString([{ oid: '2.5.4.3', type: 'CN', value: 'a\nb#', rdn: 0 }, { oid: '2.5.4.10', type: 'O', value: '#', rdn: 1 }, { oid: '2.5.4.11', type: 'OU', value: ' ', rdn: 1 }]), 'CN=a\\0Ab#, O=\\# + OU=\\ ');
  assert.deepEqual(splitDn('CN=a\\0Ab#, O=\\# + OU=\\ '), { CN: 'a\nb#', O: '#', OU: ' ' });
});

test('a metrics label of a value ending in a backslash, in a multi-valued RDN, is the value (was: a space from the " + " separator stuck to it)', () => {
  const attrs = [{ oid: '2.5.4.3', type: 'CN', value: 'a\\', rdn: 0 }, { oid: '2.5.4.10', type: 'O', value: 'b\\', rdn: 0 }, { oid: '2.5.4.11', type: 'OU', value: 'c ', rdn: 0 }];
  const dn = nameToString(attrs);
  assert.equal(dn, 'CN=a\\\\ + O=b\\\\ + OU=c\\ ');
  assert.deepEqual(splitDn(dn), { CN: 'a\\', O: 'b\\', OU: 'c ' });
});

/** A copy of a PEM CSR with one byte of its signature flipped (the last byte of the DER is in the signature BIT STRING). */
function corruptSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 3]! ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

test('inspect of a CSR shows what openssl req -text shows an operator: subject, SANs, requested key usage and EKU, key, whether its signature verifies; -o full is the whole request; never its challengePassword', async () => {
  const dir = tmp('kubepki-csr-view-');
  const at = (f: string) => path.join(dir, f);
  const PASSWORD = 'Sup3rS3cretChallenge';
  fs.writeFileSync(at('req.cnf'), `[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nO=system:nodes\nCN=system:node:worker-1\n[attrs]\nchallengePassword=${PASSWORD}\n`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('client.key'), '-out', at('client.csr'), '-config', at('req.cnf'),
    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment', '-addext', 'extendedKeyUsage=clientAuth']);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('serving.key'), '-out', at('serving.csr'), '-subj', '/O=system:nodes/CN=system:node:worker-1',
    '-addext', 'keyUsage=digitalSignature', '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'subjectAltName=DNS:worker-1,IP:10.0.0.5']);
  fs.writeFileSync(at('tampered.csr'), corruptSignature(fs.readFileSync(at('serving.csr'), 'utf8')));
  const verifies = (f: string) => { const r = sh('openssl', ['req', '-in', at(f), '-noout', '-verify']); return /verify OK/.test(r.stdout + r.stderr) && !/failure/.test(r.stdout + r.stderr); };
  assert.equal(verifies('client.csr'), true);
  assert.equal(verifies('tampered.csr'), false, 'openssl refuses the tampered request');
  const text = openssl(['req', '-in', at('serving.csr'), '-noout', '-text']);
  assert.match(text, /Digital Signature\n/);
  assert.match(text, /TLS Web Server Authentication/);
  assert.match(text, /DNS:worker-1, IP Address:10\.0\.0\.5/);
  assert.match(text, /Public-Key: \(2048 bit\)/);

  const client = await cli(['inspect', at('client.csr')]);
  assert.equal(client.code, 0, client.err);
  assert.match(client.out, /Subject:\s+O=system:nodes, CN=system:node:worker-1\n/);
  assert.match(client.out, /Key:\s+ECDSA P-256\n/);
  assert.match(client.out, /Usage:\s+digitalSignature, keyEncipherment, clientAuth\n/);
  assert.match(client.out, /Signature:\s+ecdsa-with-SHA256, verified with the requested key\n/);
  assert.match(client.out, /Challenge password: present \(not shown\)/);

  const serving = await cli(['inspect', at('serving.csr')]);
  assert.equal(serving.code, 0, serving.err);
  assert.match(serving.out, /SANs:\s+DNS:worker-1, IP:10\.0\.0\.5\n/);
  assert.match(serving.out, /Key:\s+RSA 2048\n/);
  assert.match(serving.out, /Usage:\s+digitalSignature, serverAuth\n/);
  assert.match(serving.out, /Signature:\s+sha256WithRSAEncryption, verified with the requested key\n/);
  assert.doesNotMatch(serving.out, /Challenge password/);

  const tampered = await cli(['inspect', at('tampered.csr')]);
  assert.equal(tampered.code, 2, 'a request whose signature does not verify is an error');
  assert.match(tampered.out, /Signature:\s+sha256WithRSAEncryption, DOES NOT VERIFY with the requested key\n/);
  assert.match(tampered.out, /ERROR: .*tampered\.csr: the certificate request's signature does not verify with the key it requests/);
  assert.match(tampered.out, /Usage:\s+digitalSignature, serverAuth\n/, 'and still shows what it asks for');

  const json = JSON.parse((await cli(['inspect', at('client.csr'), '-o', 'json'])).out);
  assert.deepEqual(
    { ...json.csrs[0], file: undefined },
    { file: undefined, subject: 'O=system:nodes, CN=system:node:worker-1', sans: [], keyAlgorithm: 'ECDSA P-256', keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['clientAuth'], signatureAlgorithm: 'ecdsa-with-SHA256', signatureValid: true, challengePassword: true },
  );
  assert.equal(JSON.parse((await cli(['inspect', at('tampered.csr'), '-o', 'json'])).out).csrs[0].signatureValid, false);

  const full = await cli(['inspect', at('client.csr'), '-o', 'full']);
  assert.equal(full.code, 0, full.err);
  assert.match(full.out, /Usage:\s+digitalSignature, keyEncipherment, clientAuth\n/, 'the short view first');
  assert.match(full.out, /PKCS#10 Certificate Request:\n\s+Data:/, 'then the whole request');
  assert.match(full.out, /Key Usages: critical\n\s+digitalSignature, keyEncipherment\n/);
  assert.match(full.out, /Extended Key Usages:\n\s+TLS WWW client authentication/);
  assert.match(full.out, /Challenge Password: \(present, not shown\)/);

  // the password is in the request (openssl shows it) but in no output of kubepki's, nor base64 of the DER holding it
  assert.match(openssl(['req', '-in', at('client.csr'), '-noout', '-text']), new RegExp(PASSWORD));
  for (const o of ['short', 'json', 'full']) {
    const r = await cli(['inspect', at('client.csr'), '-o', o]);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out + r.err, new RegExp(`${PASSWORD}|BEGIN CERTIFICATE REQUEST`), `-o ${o}`);
  }
});

test('inspect of a kubeconfig *-data value copied as it is (base64 of a PEM), in a file or on stdin, says to decode it and how (it said only "not a kubeconfig, certificate, key or CSR")', async () => {
  const { run } = await import('../src/cli/main.js');
  const { memoryIo } = await import('../src/cli/io.js');
  const kubeconfig = fs.readFileSync(path.join(FIXTURES, 'kubeadm-1.26/etc/kubernetes/admin.conf'), 'utf8');
  const data = /client-certificate-data: (\S+)/.exec(kubeconfig)![1]!;
  const file = path.join(tmp(), 'copied.txt');
  fs.writeFileSync(file, `${data}\n`);
  const r = await cli(['inspect', file]);
  assert.equal(r.code, 3);
  assert.match(r.err, /^kubepki: failed to inspect .*copied\.txt: .*\n/);
  assert.equal(r.err.split('\n')[1], `  hint: it is base64 (as a kubeconfig's *-data field or a Secret's data holds it): base64 -d ${file} | kubepki inspect -`);
  const io = memoryIo({}, data);
  assert.equal(await run(['inspect', '-'], io), 3);
  assert.equal(io.err.split('\n')[1], '  hint: it is base64 (as a kubeconfig\'s *-data field or a Secret\'s data holds it): … | base64 -d | kubepki inspect -');
  // and decoded, it is the certificate
  const decoded = memoryIo({}, Buffer.from(data, 'base64').toString('latin1'));
  assert.equal(await run(['inspect', '-', '--now', '2026-11-23'], decoded), 0, decoded.err);
  assert.match(decoded.out, /Subject:\s+.*CN=kubernetes-admin/);
  // text that is not base64 of one keeps the general hint
  fs.writeFileSync(file, 'hello world\n');
  assert.match((await cli(['inspect', file])).err, /hint: pass a PEM or DER certificate, key, CSR or a kubeconfig/);
});

test('inspect of an OpenSSH key (ssh-keygen\'s private key file, its .pub) says it is one, which no Kubernetes component reads (it said "no certificate, key, CSR or kubeconfig in it" / "no PEM block and not DER")', async () => {
  const dir = tmp();
  const key = path.join(dir, 'id_ed25519');
  // (as ssh-keygen -t ed25519 writes them, shortened: ssh-keygen need not be installed)
  fs.writeFileSync(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBmZm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4eHh4eHh4eHh4eA==\n-----END OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
  fs.writeFileSync(`${key}.pub`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZmb29iYXJiYXpxdXhxdXV4eHh4eHh4eHh4eHh4eHh4eHh4 root@cp-1\n');
  for (const [file, kind] of [[key, 'private'], [`${key}.pub`, 'public']] as const) {
    const r = await cli(['inspect', file]);
    assert.equal(r.code, 3);
    assert.equal(r.err.split('\n')[1], `  hint: it is an OpenSSH ${kind} key, which no Kubernetes component reads: kubepki reads X.509 certificates, PEM or DER keys, CSRs and kubeconfigs`);
    assert.doesNotMatch(r.out + r.err, /OPENSSH PRIVATE KEY|AAAA/);
  }
});

test('inspect under --root of an intermediate or a leaf whose issuer is on the node only as a kubeconfig\'s certificate-authority-data (ca.crt gone, admin.conf keeping it) names that CA as check does (it said "no CA found here"); a file outside a node tree still reads no kubeconfig', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pki = path.join(root, 'etc/kubernetes/pki');
  // (a --now after openssl's notBefore, this machine's clock) an intermediate CA signed by the cluster CA, then the cluster CA's files gone
  const ext = path.join(root, 'ext');
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=intermediate', '-keyout', path.join(pki, 'intermediate.key'), '-out', path.join(root, 'i.csr')]);
  openssl(['x509', '-req', '-in', path.join(root, 'i.csr'), '-CA', path.join(pki, 'ca.crt'), '-CAkey', path.join(pki, 'ca.key'), '-days', '365', '-extfile', ext, '-out', path.join(pki, 'intermediate.crt')]);
  for (const f of ['ca.crt', 'ca.key']) fs.rmSync(path.join(pki, f));
  const check = await cli(['check', '--root', root, '--now', '2027-01-15']);
  assert.match(check.out, /^apiserver +.* admin\.conf:cluster\/kubernetes +yes /m, check.out);
  for (const file of ['/etc/kubernetes/pki/intermediate.crt', '/etc/kubernetes/pki/apiserver.crt', '/var/lib/kubelet/pki/kubelet-client-current.pem']) {
    const r = await cli(['inspect', '--root', root, '--now', '2027-01-15', file]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^ {2}Signed by: +admin\.conf:cluster\/kubernetes \(signature verified\)$/m, `${file}: ${r.out}`);
    assert.doesNotMatch(r.out, /no CA found here|is not on this node/);
  }
  // the same intermediate as a plain file, on a machine that is no kubeadm node: nothing to find it with
  if (!fs.existsSync('/etc/kubernetes/admin.conf')) {
    const loose = path.join(tmp('kubepki-loose-'), 'intermediate.crt');
    fs.copyFileSync(path.join(pki, 'intermediate.crt'), loose);
    const r = await cli(['inspect', '--now', '2027-01-15', loose]);
    assert.match(r.out, /^ {2}Signed by: +no CA found here$/m, r.out);
  }
});
