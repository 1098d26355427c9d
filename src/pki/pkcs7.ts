/**
 * The certificates of a PKCS#7 / CMS SignedData "certs-only" bundle (`.p7b`,
 * `.p7c`, `-----BEGIN PKCS7-----`): what corporate CAs hand out as a chain and
 * `openssl crl2pkcs7 -nocrl` writes. RFC 5652 §5.1: ContentInfo { contentType
 * id-signedData, [0] EXPLICIT SignedData { version, digestAlgorithms,
 * encapContentInfo, [0] IMPLICIT CertificateSet OPTIONAL, … } }. Only the
 * certificate DERs are taken out (signatures over the content, if any, are not
 * what `inspect` is asked about); each is then read like any certificate.
 */
import { readTlv, children, decodeOid, DerError } from './der.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';

/** True when the DER is a ContentInfo holding SignedData (cheap: looks at the first OID only). */
export function isPkcs7(der: Uint8Array): boolean {
  try {
    const top = readTlv(der, 0);
    if (top.tag !== 0x30) return false;
    const oid = readTlv(der, top.contentStart, top.end);
    return oid.tag === 0x06 && decodeOid(der, oid) === SIGNED_DATA;
  } catch {
    return false;
  }
}

/**
 * A PKCS#12 file (.p12, .pfx: PFX ::= SEQUENCE { version INTEGER 3, authSafe ContentInfo, … }, RFC 7292),
 * which kubepki does not open (its contents are usually encrypted with a password): recognised, so that it
 * is named as what it is instead of "DER that does not parse".
 */
export function isPkcs12(der: Uint8Array): boolean {
  try {
    const top = readTlv(der, 0);
    if (top.tag !== 0x30) return false;
    const version = readTlv(der, top.contentStart, top.end);
    if (version.tag !== 0x02 || version.end - version.contentStart !== 1 || der[version.contentStart] !== 3) return false;
    const authSafe = readTlv(der, version.end, top.end);
    if (authSafe.tag !== 0x30) return false;
    const oid = readTlv(der, authSafe.contentStart, authSafe.end);
    return oid.tag === 0x06 && /^1\.2\.840\.113549\.1\.7\.[16]$/.test(decodeOid(der, oid));
  } catch {
    return false;
  }
}

/** The DER of every certificate in the bundle, in order; throws DerError for a damaged one. */
export function pkcs7Certificates(der: Uint8Array): Uint8Array[] {
  const top = readTlv(der, 0);
  if (top.tag !== 0x30 || top.end !== der.length) throw new DerError('PKCS#7: not a ContentInfo SEQUENCE');
  const [oid, content] = children(der, top);
  if (!oid || oid.tag !== 0x06 || decodeOid(der, oid) !== SIGNED_DATA) throw new DerError('PKCS#7: not SignedData (only certificate bundles are read)');
  if (!content || content.tag !== 0xa0) throw new DerError('PKCS#7: SignedData content missing');
  const signedData = readTlv(der, content.contentStart, content.end);
  if (signedData.tag !== 0x30) throw new DerError('PKCS#7: SignedData is not a SEQUENCE');
  const fields = children(der, signedData);
  // version, digestAlgorithms SET, encapContentInfo SEQUENCE, then [0] certificates, [1] crls, signerInfos SET
  const certSet = fields.slice(3).find((f) => f.tag === 0xa0);
  if (!certSet) return [];
  return children(der, certSet)
    .filter((c) => c.tag === 0x30) // other CertificateChoices ([0] extendedCertificate, [1..3] attribute/other) are skipped
    .map((c) => der.subarray(c.start, c.end));
}
