// Generate (once, cached in os.tmpdir) a tree of certificate files for the scan
// bench: a few CAs (RSA-2048 and ECDSA P-256) signing many leaves with RSA and
// ECDSA keys, kubeadm-like extensions, one PEM certificate per file (some files
// carry the CA chain after the leaf, like kubelet.crt bundles). The
// certificates are real: built and signed with our own src/pki/sign.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const VERSION = 'v2';

export function treeDir(count) {
  return path.join(os.tmpdir(), `kubepki-bench-tree-${VERSION}-${count}`);
}

/** Returns `{dir, files, certs}`; builds the tree when it is missing or incomplete. */
export async function ensureTree(count = 10000, repo = process.cwd()) {
  const dir = treeDir(count);
  const stamp = path.join(dir, '.complete.json');
  if (fs.existsSync(stamp)) return { dir, ...JSON.parse(fs.readFileSync(stamp, 'utf8')) };
  fs.rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const sign = await import(pathToFileURL(path.join(repo, 'dist-test/src/pki/sign.js')).href);
  const keygen = await import(pathToFileURL(path.join(repo, 'dist-test/src/pki/keygen.js')).href);
  const { createPublicKey } = await import('node:crypto');

  const spkiOf = (k) => createPublicKey(k).export({ type: 'spki', format: 'der' });
  const notBefore = new Date('2026-01-10T08:00:00Z');
  const caKeys = await Promise.all([keygen.generateKey('rsa-2048'), keygen.generateKey('ecdsa-p256'), keygen.generateKey('ecdsa-p256')]);
  const leafKeys = await Promise.all([
    keygen.generateKey('rsa-2048'), keygen.generateKey('rsa-2048'),
    keygen.generateKey('ecdsa-p256'), keygen.generateKey('ecdsa-p256'), keygen.generateKey('ecdsa-p384'),
  ]);
  const cas = [];
  for (let i = 0; i < caKeys.length; i++) {
    const key = caKeys[i];
    const subjectDer = sign.nameDer([{ type: 'CN', value: `bench-ca-${i}` }]);
    const kid = sign.keyIdentifier(key);
    const der = await sign.issueCertificate({
      subjectDer, issuerDer: subjectDer, spki: key, serial: BigInt(1000 + i), notBefore,
      notAfter: new Date('2036-01-08T08:00:00Z'), signingKey: key,
      extensions: [sign.keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']), sign.basicConstraintsExt(true), sign.subjectKeyIdentifierExt(kid)],
    });
    cas.push({ key, subjectDer, kid, der, pem: sign.pemOf(der) });
  }
  fs.mkdirSync(tmp, { recursive: true });
  cas.forEach((ca, i) => fs.writeFileSync(path.join(tmp, `ca-${i}.crt`), ca.pem));
  const leafSpki = leafKeys.map(spkiOf);
  const perDir = 500;
  let certs = cas.length;
  const batch = 64;
  for (let start = 0; start < count; start += batch) {
    const jobs = [];
    for (let n = start; n < Math.min(count, start + batch); n++) {
      // 1 in 5 leaves signed by the RSA CA (RSA signing is the slow part of generation)
      const ca = cas[n % 5 === 0 ? 0 : 1 + (n % 2)];
      const k = n % leafKeys.length;
      const cn = n % 3 === 0 ? `system:node:worker-${n}` : `svc-${n}.bench.svc`;
      const subjectDer = sign.nameDer(n % 3 === 0 ? [{ type: 'O', value: 'system:nodes' }, { type: 'CN', value: cn }] : [{ type: 'CN', value: cn }]);
      const ext = [
        sign.keyUsageExt(k < 2 ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']),
        sign.extKeyUsageExt(n % 3 === 0 ? ['clientAuth'] : ['serverAuth', 'clientAuth']),
        sign.basicConstraintsExt(false),
        sign.authorityKeyIdentifierExt(ca.kid),
      ];
      if (n % 3 !== 0) {
        ext.push(sign.subjectAltNameExt([
          { type: 'dns', value: `svc-${n}` }, { type: 'dns', value: `svc-${n}.bench.svc.cluster.local` },
          { type: 'ip', value: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
        ]));
      }
      const notAfter = new Date(Date.UTC(2026, 0, 10 + (n % 900), 8, 0, 0));
      jobs.push(sign.issueCertificate({ subjectDer, issuerDer: ca.subjectDer, spki: leafSpki[k], serial: BigInt(0x100000 + n), notBefore, notAfter, signingKey: ca.key, extensions: ext })
        .then((der) => ({ n, pem: sign.pemOf(der) + (n % 50 === 0 ? ca.pem : '') })));
    }
    for (const { n, pem } of await Promise.all(jobs)) {
      const sub = path.join(tmp, `d${String(Math.floor(n / perDir)).padStart(3, '0')}`);
      if (n % perDir === 0 || !fs.existsSync(sub)) fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `leaf-${n}.crt`), pem);
      certs += n % 50 === 0 ? 2 : 1;
    }
  }
  const meta = { files: count + cas.length, certs };
  fs.writeFileSync(path.join(tmp, '.complete.json'), JSON.stringify(meta));
  fs.renameSync(tmp, dir);
  return { dir, ...meta };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t = Date.now();
  const r = await ensureTree(Number(process.argv[2] ?? 10000));
  console.log(r, `${Date.now() - t} ms`);
}
