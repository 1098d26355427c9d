import { createHash } from 'node:crypto';
import type { Certificate } from '../pki/certificate.js';
import type { CertEntry } from './types.js';

/** The fields of a CertEntry that come from the certificate itself (and `now`). */
export type CertFacts = Pick<CertEntry,
  'subject' | 'subjectCN' | 'subjectO' | 'issuer' | 'issuerCN' | 'serial' | 'notBefore' | 'notAfter' | 'residualSeconds' |
  'lifetimeSeconds' | 'sans' | 'keyUsage' | 'extKeyUsage' | 'isCA' | 'keyAlgorithm' | 'keySize' | 'curve' | 'signatureAlgorithm' |
  'subjectKeyId' | 'authorityKeyId' | 'fingerprint' | 'spkiSha256' | 'pem'>;

/** One place that turns a parsed certificate into inventory fields, for disk and cluster alike. */
export function certFacts(c: Certificate, now: Date): CertFacts {
  const ki = c.keyInfo;
  return {
    subject: c.subjectString,
    subjectCN: c.commonName,
    subjectO: c.organizations,
    issuer: c.issuerString,
    issuerCN: c.issuerCommonName,
    serial: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    residualSeconds: Math.floor((c.notAfter.getTime() - now.getTime()) / 1000),
    lifetimeSeconds: Math.floor((c.notAfter.getTime() - c.notBefore.getTime()) / 1000),
    sans: c.subjectAltNames,
    keyUsage: c.keyUsage,
    extKeyUsage: c.extKeyUsage,
    isCA: c.isCA,
    keyAlgorithm: ki.algorithm,
    keySize: ki.size,
    ...(ki.curve ? { curve: ki.curve } : {}),
    signatureAlgorithm: c.signatureAlgorithm,
    subjectKeyId: c.subjectKeyId,
    authorityKeyId: c.authorityKeyId,
    fingerprint: c.fingerprint256,
    spkiSha256: createHash('sha256').update(c.spkiRaw).digest('hex'),
    pem: c.toPem(),
  };
}
