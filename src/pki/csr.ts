import { createPublicKey, verify } from 'node:crypto';
import { readTlv, children, decodeOid, rawBytes, DerError } from './der.js';
import { parseName, parseGeneralNames, spkiKeyInfo, nameToString, keyUsageNames, extKeyUsageNames, SIG_HASH, SIG_NAMES, OID, type NameAttribute, type GeneralName, type KeyInfo } from './certificate.js';

/** A PKCS#10 certificate request, read as far as inventory, inspect and CSR policy need. */
export interface CsrInfo {
  subject: NameAttribute[];
  subjectString: string;
  spki: Uint8Array;
  key: KeyInfo;
  sans: GeneralName[];
  /** requested keyUsage bits and extKeyUsage purposes (empty: not requested) */
  keyUsage: string[];
  extKeyUsage: string[];
  /** signature algorithm name (ecdsa-with-SHA256 …) or OID */
  signatureAlgorithm: string;
  /** whether the request is signed by the key it requests; undefined: an algorithm kubepki cannot check */
  signatureValid: boolean | undefined;
  /** the request carries a challengePassword attribute (its value is never kept) */
  challengePassword: boolean;
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const CHALLENGE_PASSWORD = '1.2.840.113549.1.9.7';

export function parseCsr(der: Uint8Array): CsrInfo {
  const top = readTlv(der, 0);
  if (top.tag !== 0x30) throw new DerError('not a certificate request');
  const info = children(der, top)[0];
  if (!info || info.tag !== 0x30) throw new DerError('not a certificate request');
  const [, subjT, spkiT, attrsT] = children(der, info);
  if (!subjT || !spkiT) throw new DerError('not a certificate request (missing fields)');
  const subject = parseName(rawBytes(der, subjT));
  const spki = rawBytes(der, spkiT);
  let sans: GeneralName[] = [];
  let keyUsage: string[] = [];
  let extKeyUsage: string[] = [];
  let challengePassword = false;
  if (attrsT && attrsT.tag === 0xa0) {
    for (const attr of children(der, attrsT)) {
      const [oidT, setT] = children(der, attr);
      if (!oidT || !setT) continue;
      const attrOid = decodeOid(der, oidT);
      if (attrOid === CHALLENGE_PASSWORD) challengePassword = true;
      if (attrOid !== EXTENSION_REQUEST) continue;
      const exts = children(der, setT)[0];
      if (!exts) continue;
      for (const ext of children(der, exts)) {
        const parts = children(der, ext);
        const extOid = decodeOid(der, parts[0]!); // (a DerError for an empty extension)
        const val = parts[parts.length - 1]!;
        const value = der.subarray(val.contentStart, val.end);
        switch (extOid) {
          case OID.subjectAltName: sans = parseGeneralNames(value); break;
          case OID.keyUsage: keyUsage = keyUsageNames(value); break;
          case OID.extKeyUsage: extKeyUsage = extKeyUsageNames(value); break;
        }
      }
    }
  }
  const [, algT] = children(der, top);
  const algOid = algT && algT.tag === 0x30 && children(der, algT)[0] ? decodeOid(der, children(der, algT)[0]) : '';
  return {
    subject, subjectString: nameToString(subject), spki, key: spkiKeyInfo(spki), sans, keyUsage, extKeyUsage,
    signatureAlgorithm: SIG_NAMES[algOid] ?? algOid, signatureValid: algOid in SIG_HASH ? csrSignatureValid(der, spki) : undefined, challengePassword,
  };
}

/**
 * Proof of possession: the request is signed by the key it asks a certificate for. `hashes`: the signature
 * algorithms accepted (OID → hash for node:crypto); any other algorithm is false.
 */
export function csrSignatureValid(der: Uint8Array, spki: Uint8Array, hashes: Record<string, string | null> = SIG_HASH): boolean {
  try {
    const top = readTlv(der, 0);
    const [info, alg, sig] = children(der, top);
    if (!info || !alg || !sig || sig.tag !== 0x03) return false;
    const oid = decodeOid(der, children(der, alg)[0]);
    if (!(oid in hashes)) return false;
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return verify(hashes[oid] ?? null, rawBytes(der, info), key, der.subarray(sig.contentStart + 1, sig.end));
  } catch {
    return false;
  }
}
