// What `inspect` shows of names and requests, checked against openssl's own output of the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, sh, tmp } from './renew-support.js';
import { Certificate } from '../src/pki/certificate.js';
import { fastRecord, record, plainRecord, scanBuffer, type ScanRecord } from '../src/inventory/scan.js';
import { splitDn } from '../src/report/metrics.js';

function openssl(args: string[]): string {
  const r = sh('openssl', args);
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

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
