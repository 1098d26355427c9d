import { sha256Hex } from '../pki/digest.js';
import { derToPem, type Certificate } from '../pki/certificate.js';
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
    fingerprint: '',
    spkiSha256: '',
    pem: '',
  };
}

/**
 * The digests and the PEM of an entry's certificate, worked out when first read
 * (JSON/YAML output, the dashboard, metrics) rather than for every row of a
 * table nobody serialises. Spreading or serialising the entry reads them.
 * Replaces the placeholders `certFacts` leaves, in place, so key order stays.
 */
export function withCertDigests<T extends CertFacts>(entry: T, c: Certificate): T {
  // only the bytes are kept for later, not the parsed certificate, and only until all three are made
  let bytes: CertBytes | undefined = { der: c.der, spki: c.spkiRaw };
  let left = DIGEST_KEYS.length;
  for (const key of DIGEST_KEYS) {
    let v: string | undefined;
    Object.defineProperty(entry, key, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (v === undefined) {
          v = DIGESTS[key](bytes!);
          if (--left === 0) bytes = undefined;
        }
        return v;
      },
      set: (x: string) => { if (v === undefined && --left === 0) bytes = undefined; v = x; },
    });
  }
  return entry;
}

/** The digests and the PEM of an entry's certificate, as plain values now (see withCertDigests). */
export function withEagerDigests<T extends CertFacts>(entry: T, c: Certificate): T {
  const bytes: CertBytes = { der: c.der, spki: c.spkiRaw };
  for (const key of DIGEST_KEYS) entry[key] = DIGESTS[key](bytes);
  return entry;
}

interface CertBytes { der: Uint8Array; spki: Uint8Array }

/** How each of the three is made from the certificate's bytes, eagerly or lazily. */
const DIGESTS = {
  fingerprint: (b: CertBytes) => sha256Hex(b.der),
  spkiSha256: (b: CertBytes) => sha256Hex(b.spki),
  pem: (b: CertBytes) => derToPem(b.der, 'CERTIFICATE'),
};
const DIGEST_KEYS = ['fingerprint', 'spkiSha256', 'pem'] as const;
