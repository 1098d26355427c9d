/** renew --add-san under a CA with nameConstraints: Go and openssl verify reject a certificate with any SAN outside them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Certificate } from '../src/pki/certificate.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { NAME_CONSTRAINTS_OID, parseNameConstraints, constraintViolation, matchDomain } from '../src/pki/name-constraints.js';
import { cli, sh, tmp, snapshotTree } from './renew-support.js';

const CONSTRAINTS = 'nameConstraints=critical,permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0';

function o(...args: string[]): string {
  const r = sh('openssl', args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A CA made by openssl with these nameConstraints, in DIR (ca.crt, ca.key). */
function makeCa(dir: string, constraints: string): void {
  fs.mkdirSync(dir, { recursive: true });
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650', '-subj', '/CN=constrained-ca',
    '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign', '-addext', constraints);
}

/** A leaf signed by CADIR's CA with openssl (which signs whatever it is given), as DIR/NAME.crt and DIR/NAME.key. */
function makeLeaf(caDir: string, name: string, sans: string[], dir = caDir): string {
  const ext = `${dir}/${name}.ext`;
  fs.writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectAltName=${sans.join(',')}\n`);
  o('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${dir}/${name}.key`, '-out', `${dir}/${name}.csr`);
  o('x509', '-req', '-in', `${dir}/${name}.csr`, '-CA', `${caDir}/ca.crt`, '-CAkey', `${caDir}/ca.key`, '-set_serial', '0x1234', '-days', '365', '-extfile', ext, '-out', `${dir}/${name}.crt`);
  fs.rmSync(`${dir}/${name}.csr`);
  fs.rmSync(ext);
  fs.chmodSync(`${dir}/${name}.key`, 0o600);
  return `${dir}/${name}.crt`;
}

function opensslVerifies(dir: string, crt: string): boolean {
  return sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, crt]).status === 0;
}

// the certificates are made on this machine's clock, so the renewal is planned on it too
const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();

test('renew --add-san outside the CA\'s nameConstraints is refused (one line naming the SAN, the CA file and its constraint), nothing written; openssl verify fails such a certificate', async () => {
  const root = tmp('kubepki-nc-');
  const dir = path.join(root, 'etc/ssl/nc');
  makeCa(dir, CONSTRAINTS);
  const crt = makeLeaf(dir, 'server', ['DNS:api.example.com', 'IP:10.0.0.5']);
  assert.ok(opensslVerifies(dir, crt), 'the starting certificate verifies');
  const before = snapshotTree(root);
  const scratch = tmp('kubepki-nc-scratch-');
  const outside: [string, RegExp][] = [
    ['DNS:example.com', /permits only DNS:\.example\.com \(nameConstraints\)/], // ".example.com" wants at least one more label
    ['DNS:api.example.org', /permits only DNS:\.example\.com/],
    ['DNS:badexample.com', /permits only DNS:\.example\.com/],
    ['IP:192.0.2.7', /permits only IP:10\.0\.0\.0\/255\.0\.0\.0/],
    ['IP:11.0.0.1', /permits only IP:10\.0\.0\.0\/255\.0\.0\.0/],
    ['IP:2001:db8::1', /permits only IP:10\.0\.0\.0\/255\.0\.0\.0/], // an IPv6 address is in no IPv4 range
  ];
  for (const [san, why] of outside) {
    for (const extra of [['--dry-run'], []]) {
      const r = await cli(['renew', '--file', '/etc/ssl/nc/server.crt', '--add-san', `DNS:ok.example.com,${san}`, '--root', root, '--now', now, ...extra]);
      assert.equal(r.code, 3, `${san}: exit ${r.code}\n${r.out}${r.err}`);
      const first = r.err.split('\n')[0]!;
      assert.ok(first.includes(`failed to add SAN ${san} to `), `${san}: names the SAN: ${first}`);
      assert.ok(first.includes('its CA /etc/ssl/nc/ca.crt '), `${san}: names the CA file: ${first}`);
      assert.match(first, why, first);
      assert.equal(r.out, '', 'refused before any plan is printed');
    }
    assert.deepEqual(snapshotTree(root), before, `${san}: nothing written`);
    assert.equal(fs.existsSync(path.join(root, 'var/lib/kubepki')), false, 'no lock, no backup');
    // and the refusal is right: openssl signs that name when asked, and verify then fails the certificate
    const v = sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, makeLeaf(dir, 'refused', ['DNS:api.example.com', san], scratch)]);
    assert.notEqual(v.status, 0, `${san}: openssl verify accepted it`);
    assert.match(v.stdout + v.stderr, /permitted subtree violation/, san);
  }
});

test('renew --add-san inside the CA\'s nameConstraints is written, and openssl verify accepts the renewed certificate', async () => {
  const root = tmp('kubepki-nc-');
  const dir = path.join(root, 'etc/ssl/nc');
  makeCa(dir, CONSTRAINTS);
  const crt = makeLeaf(dir, 'server', ['DNS:api.example.com', 'IP:10.0.0.5']);
  const r = await cli(['renew', '--file', '/etc/ssl/nc/server.crt', '--add-san', 'DNS:web.example.com,DNS:*.apps.example.com,DNS:deep.sub.example.com,IP:10.200.0.1', '--root', root, '--now', now]);
  assert.equal(r.code, 0, r.out + r.err);
  const renewed = new Certificate(parsePemBlocks(fs.readFileSync(crt, 'utf8'))[0]!.der);
  assert.deepEqual(renewed.subjectAltNames.map((s) => `${s.type}:${s.value}`),
    ['dns:api.example.com', 'ip:10.0.0.5', 'dns:web.example.com', 'dns:*.apps.example.com', 'dns:deep.sub.example.com', 'ip:10.200.0.1']);
  const v = sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, crt]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('a SAN the certificate already has outside the constraints is a warning in the plan (an existing problem), not a refusal', async () => {
  const root = tmp('kubepki-nc-');
  const dir = path.join(root, 'etc/ssl/nc');
  makeCa(dir, CONSTRAINTS);
  const crt = makeLeaf(dir, 'server', ['DNS:api.example.com', 'DNS:legacy.example.org']);
  assert.equal(opensslVerifies(dir, crt), false, 'openssl rejects it already');
  const r = await cli(['renew', '--file', '/etc/ssl/nc/server.crt', '--root', root, '--now', now, '--dry-run']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /Warnings:\n.*its SAN DNS:legacy\.example\.org is outside the nameConstraints of its CA \/etc\/ssl\/nc\/ca\.crt \(permits only DNS:\.example\.com\)/);
  assert.doesNotMatch(r.out, /DNS:api\.example\.com is outside/);
});

test('name-constraint matching agrees with openssl verify for DNS, IP, e-mail and URI names, permitted and excluded', () => {
  const caDir = tmp('kubepki-nc-diff-');
  makeCa(caDir, 'nameConstraints=critical,permitted;DNS:example.com,permitted;DNS:.corp.test,excluded;DNS:secret.example.com,'
    + 'permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:2001:db8::/ffff:ffff::,excluded;IP:10.9.0.0/255.255.0.0,'
    + 'permitted;email:example.com,permitted;URI:.example.com');
  const ca = new Certificate(parsePemBlocks(fs.readFileSync(`${caDir}/ca.crt`, 'utf8'))[0]!.der);
  const nc = parseNameConstraints(ca.extension(NAME_CONSTRAINTS_OID)!.value)!;
  assert.deepEqual(nc.excluded.map((t) => `${t.type}:${t.value}`), ['dns:secret.example.com', 'ip:10.9.0.0/255.255.0.0']);
  const names: [string, 'dns' | 'ip' | 'email' | 'uri', string][] = [
    ['DNS:example.com', 'dns', 'example.com'], ['DNS:a.b.example.com', 'dns', 'a.b.example.com'], ['DNS:xexample.com', 'dns', 'xexample.com'],
    ['DNS:corp.test', 'dns', 'corp.test'], ['DNS:x.corp.test', 'dns', 'x.corp.test'], ['DNS:secret.example.com', 'dns', 'secret.example.com'],
    ['DNS:a.secret.example.com', 'dns', 'a.secret.example.com'], ['DNS:other.test', 'dns', 'other.test'],
    ['IP:10.1.2.3', 'ip', '10.1.2.3'], ['IP:10.9.1.1', 'ip', '10.9.1.1'], ['IP:192.0.2.1', 'ip', '192.0.2.1'],
    ['IP:2001:db8::5', 'ip', '2001:db8::5'], ['IP:2001:db9::5', 'ip', '2001:db9::5'],
    ['email:ops@example.com', 'email', 'ops@example.com'], ['email:ops@example.org', 'email', 'ops@example.org'],
    ['URI:https://www.example.com/x', 'uri', 'https://www.example.com/x'], ['URI:https://example.org/x', 'uri', 'https://example.org/x'],
  ];
  const out = tmp('kubepki-nc-leaves-');
  names.forEach(([ext, type, value], i) => {
    // (a DNS name beside every other kind, so openssl does not check the subject CN as a host name)
    const crt = makeLeaf(caDir, `n${i}`, type === 'dns' ? [ext] : ['DNS:example.com', ext], out);
    const ours = constraintViolation({ type, value }, nc) === undefined;
    assert.equal(ours, opensslVerifies(caDir, crt), `${ext}: kubepki says ${ours ? 'inside' : 'outside'}`);
  });
  // Go's rules where openssl is no guide: a wildcard stands for the names it matches (Go refuses one that
  // covers an excluded name), and a constraint is matched case-insensitively
  assert.equal(constraintViolation({ type: 'dns', value: '*.example.com' }, nc)?.why, 'excluded');
  assert.equal(constraintViolation({ type: 'dns', value: '*.corp.test' }, nc), undefined);
  assert.equal(matchDomain('API.Example.COM', '.example.com'), true);
  // an e-mail constraint without "@" is a domain constraint in Go (subdomains included), a host in openssl:
  // where they differ kubepki lets the name pass (it refuses only what is plainly outside)
  assert.equal(constraintViolation({ type: 'email', value: 'ops@mail.example.com' }, nc), undefined);
  assert.equal(matchDomain('example.com', '.example.com'), false);
  assert.equal(matchDomain('anything.test', ''), true, 'an empty constraint matches everything');
});

test('a URI without a host name (urn:…, an IP address as host) under a CA with URI constraints is refused, as openssl verify and Go refuse it; one with a host inside them is not', async () => {
  const root = tmp('kubepki-nc-uri-');
  const dir = path.join(root, 'etc/ssl/nc');
  makeCa(dir, 'nameConstraints=critical,permitted;DNS:.example.com,permitted;URI:.example.com');
  makeLeaf(dir, 'server', ['DNS:api.example.com']);
  const before = snapshotTree(root);
  const scratch = tmp('kubepki-nc-uri-scratch-');
  for (const uri of ['urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'https://10.0.0.1/x', 'https://[2001:db8::1]/x']) {
    const v = sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, makeLeaf(dir, 'refused', ['DNS:api.example.com', `URI:${uri}`], scratch)]);
    assert.notEqual(v.status, 0, `${uri}: openssl verify accepted it`);
    const r = await cli(['renew', '--file', '/etc/ssl/nc/server.crt', '--add-san', `URI:${uri}`, '--root', root, '--now', now]);
    assert.equal(r.code, 3, `${uri}: exit ${r.code}\n${r.out}${r.err}`);
    assert.match(r.err.split('\n')[0]!, new RegExp(`failed to add SAN URI:${uri.replace(/[.[\]]/g, '\\$&')} to server .*its CA /etc/ssl/nc/ca\\.crt has URI constraints \\(URI:\\.example\\.com\\), which a URI without a host name cannot be matched against`));
    assert.deepEqual(snapshotTree(root), before, `${uri}: nothing written`);
  }
  // with a host inside the constraint: accepted by openssl, and renewed
  assert.equal(sh('openssl', ['verify', '-CAfile', `${dir}/ca.crt`, makeLeaf(dir, 'ok', ['DNS:api.example.com', 'URI:spiffe://td.example.com/ns/a'], scratch)]).status, 0);
  const ok = await cli(['renew', '--file', '/etc/ssl/nc/server.crt', '--add-san', 'URI:spiffe://td.example.com/ns/a', '--root', root, '--now', now]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  // a CA with no URI constraint says nothing of a URI
  const free = parseNameConstraints(new Certificate(parsePemBlocks(fs.readFileSync(`${dir}/ca.crt`, 'utf8'))[0]!.der).extension(NAME_CONSTRAINTS_OID)!.value)!;
  assert.equal(constraintViolation({ type: 'uri', value: 'urn:x' }, { permitted: free.permitted.filter((t) => t.type !== 'uri'), excluded: [] }), undefined);
});

test('an e-mail constraint naming a mailbox matches its local part exactly and its host in any case, as openssl verify (and Go) do', () => {
  const caDir = tmp('kubepki-nc-mail-');
  makeCa(caDir, 'nameConstraints=critical,permitted;email:Ops@Example.com,permitted;DNS:example.com');
  const nc = parseNameConstraints(new Certificate(parsePemBlocks(fs.readFileSync(`${caDir}/ca.crt`, 'utf8'))[0]!.der).extension(NAME_CONSTRAINTS_OID)!.value)!;
  const out = tmp('kubepki-nc-mail-leaves-');
  ['Ops@example.com', 'Ops@EXAMPLE.COM', 'ops@Example.com', 'OPS@example.com', 'dev@example.com'].forEach((mail, i) => {
    const crt = makeLeaf(caDir, `m${i}`, ['DNS:example.com', `email:${mail}`], out);
    const ours = constraintViolation({ type: 'email', value: mail }, nc) === undefined;
    assert.equal(ours, opensslVerifies(caDir, crt), `${mail}: kubepki says ${ours ? 'inside' : 'outside'}`);
  });
});

test('inspect -o full shows a CA\'s nameConstraints as openssl x509 -text does (each permitted and excluded subtree), not as hex under 2.5.29.30', async () => {
  const dir = tmp();
  makeCa(dir, 'nameConstraints=critical,permitted;DNS:.example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:secret.example.com,excluded;email:.bad.example');
  const r = await cli(['inspect', `${dir}/ca.crt`, '-o', 'full']);
  assert.equal(r.err, '');
  assert.doesNotMatch(r.out, /2\.5\.29\.30/);
  // openssl's view, subtree by subtree, in its order
  const want = o('x509', '-in', `${dir}/ca.crt`, '-noout', '-ext', 'nameConstraints');
  const section = (label: string) => (new RegExp(`${label}:\\n((?: {6}\\S.*\\n)+)`).exec(want)?.[1] ?? '').trim().split(/\n\s*/);
  const permitted = section('Permitted'), excluded = section('Excluded');
  assert.deepEqual(permitted, ['DNS:.example.com', 'IP:10.0.0.0/255.0.0.0'], want);
  assert.deepEqual(excluded, ['DNS:secret.example.com', 'email:.bad.example'], want);
  const block = /Name Constraints: critical\n((?: {8}.*\n)+)/.exec(r.out)?.[1] ?? r.out;
  assert.deepEqual(block.trim().split('\n').map((l) => l.trim()), [...permitted.map((p) => `Permitted: ${p}`), ...excluded.map((p) => `Excluded: ${p}`)], r.out);
});
