import { readTlv, children, decodeOid, rawBytes, DerError } from './der.js';
import { parseName, parseGeneralNames, spkiKeyInfo, nameToString, type NameAttribute, type GeneralName, type KeyInfo } from './certificate.js';

/** A PKCS#10 certificate request, read as far as inventory and CSR policy need. */
export interface CsrInfo {
  subject: NameAttribute[];
  subjectString: string;
  spki: Uint8Array;
  key: KeyInfo;
  sans: GeneralName[];
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

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
  if (attrsT && attrsT.tag === 0xa0) {
    for (const attr of children(der, attrsT)) {
      const [oidT, setT] = children(der, attr);
      if (!oidT || !setT || decodeOid(der, oidT) !== EXTENSION_REQUEST) continue;
      const exts = children(der, setT)[0];
      if (!exts) continue;
      for (const ext of children(der, exts)) {
        const parts = children(der, ext);
        if (decodeOid(der, parts[0]!) !== '2.5.29.17') continue;
        const val = parts[parts.length - 1]!;
        sans = parseGeneralNames(der.subarray(val.contentStart, val.end));
      }
    }
  }
  return { subject, subjectString: nameToString(subject), spki, key: spkiKeyInfo(spki), sans };
}
