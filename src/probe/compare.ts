import { createHash } from 'node:crypto';
import { Certificate } from '../pki/certificate.js';
import type { CertEntry, Inventory } from '../inventory/types.js';

export interface ServedComparison {
  verdict: 'matches-disk' | 'stale' | 'not-on-disk';
  served: { serial: string; subject: string; notAfter: string; fingerprint: string };
  /** the disk certificate it equals, or the one it should have been */
  disk?: CertEntry;
  message: string;
}

/**
 * Is the served leaf the one on disk? Identical bytes → matches. Otherwise a
 * disk certificate for the same key or the same subject means the component
 * still serves an older certificate (renewed but never restarted: seed 002).
 */
export function compareServed(leafDer: Uint8Array, inv: Inventory): ServedComparison {
  const leaf = new Certificate(leafDer);
  const fp = leaf.fingerprint256;
  const served = { serial: leaf.serialHex, subject: leaf.subjectString, notAfter: leaf.notAfter.toISOString(), fingerprint: fp };
  const same = inv.certificates.find((c) => c.fingerprint === fp);
  if (same) return { verdict: 'matches-disk', served, disk: same, message: `matches disk: ${same.name} (${same.location.file}, serial ${same.serial})` };
  const spki = createHash('sha256').update(leaf.spkiRaw).digest('hex');
  const leaves = inv.certificates.filter((c) => !c.isCA);
  const candidate = leaves.find((c) => c.spkiSha256 === spki) ?? leaves.find((c) => c.subject === leaf.subjectString && c.issuer === leaf.issuerString);
  if (candidate) {
    return {
      verdict: 'stale', served, disk: candidate,
      message: `stale: serving serial ${served.serial} (until ${served.notAfter.slice(0, 10)}), disk has ${candidate.serial} (until ${candidate.notAfter.slice(0, 10)}) in ${candidate.location.file} — restart the component that serves it${candidate.components.length ? ` (${candidate.components.join(', ')})` : ''}`,
    };
  }
  return { verdict: 'not-on-disk', served, message: `not on disk: no certificate under the root has serial ${served.serial} or the same key/subject` };
}

/**
 * A served chain read on its own has no CA; name the disk CA that signed each
 * served certificate (signature verified) so the view matches `check`'s.
 */
export function attachDiskSigners(served: Inventory, disk: Inventory): void {
  const diskCas = disk.certificates.filter((c) => c.isCA).map((e) => ({ e, cert: certOf(e.pem) }));
  for (const s of served.certificates) {
    if (s.signerName || s.selfSigned) continue;
    const cert = certOf(s.pem);
    const ca = diskCas.find((c) => c.cert.subjectString === cert.issuerString && cert.verifySignedBy(c.cert));
    if (!ca) continue;
    s.signerName = ca.e.name;
    s.signedBy = ca.e.id;
    s.findings = s.findings.filter((f) => f.code !== 'unknown-signer');
  }
  served.findings = served.findings.filter((f) => f.code !== 'unknown-signer' || served.certificates.some((c) => c.id === f.certificate && !c.signerName));
}

export interface MissingIntermediate {
  /** the disk CA, itself signed by another CA, that signed a served certificate and was not sent */
  name: string;
  file: string;
  message: string;
}

/**
 * A server must send every intermediate between its leaf and the root its clients trust: a kubeconfig's
 * certificate-authority-data or etcd's --trusted-ca-file usually holds the root alone, and Go's verifier
 * (kubectl, the kubelet, etcd clients) then fails with "x509: certificate signed by unknown authority".
 * Run after attachDiskSigners, which names a disk CA only for a served certificate whose signer was not
 * served: when that CA is not self-signed, the server left it out. (The served inventory is sorted by
 * name, not in chain order, so every served certificate is looked at, not the last.) A leaf signed
 * straight by a root (every kubeadm CA) needs nothing more.
 */
export function missingIntermediate(served: Inventory, disk: Inventory): MissingIntermediate | undefined {
  const sent = new Set(served.certificates.map((c) => c.fingerprint));
  for (const s of served.certificates) {
    if (s.selfSigned || !s.signedBy) continue;
    const ca = disk.certificates.find((c) => c.id === s.signedBy);
    if (!ca || ca.selfSigned || sent.has(ca.fingerprint)) continue;
    const file = ca.location.via ?? ca.location.file;
    return {
      name: ca.name, file,
      message: `incomplete chain: the server does not send the intermediate CA ${ca.name} (${file}) that signed ${s.isCA ? `the CA certificate it sends (${s.subject})` : 'its certificate'}; clients that trust only the root fail with "x509: certificate signed by unknown authority": append ${file} after the certificate in the file the server reads, then restart it`,
    };
  }
  return undefined;
}

function certOf(pem: string): Certificate {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return new Certificate(Buffer.from(b64, 'base64'));
}
