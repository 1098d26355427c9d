import { createPublicKey, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { sha256Hex } from './digest.js';
import { readTlv, children, decodeOid, decodeString, decodeTime, hex, contentBytes, rawBytes, latin1Text, DerError, type Tlv } from './der.js';
import { rsaPublicJwk, explicitCurveOid } from './key-spki.js';

/** One attribute of a distinguished name, in DER order. */
export interface NameAttribute {
  oid: string;
  /** short name (CN, O, OU, C, …) or the OID when unknown */
  type: string;
  value: string;
  /** index of the RDN (the SET) the attribute belongs to: attributes with the same index form one multi-valued RDN (absent: an RDN of its own) */
  rdn?: number;
}

export interface GeneralName {
  type: 'dns' | 'ip' | 'email' | 'uri' | 'dirname' | 'other';
  value: string;
}

export interface RawExtension {
  oid: string;
  critical: boolean;
  /** DER of the extnValue OCTET STRING's content */
  value: Uint8Array;
}

export interface KeyInfo {
  /** 'RSA' | 'ECDSA' | 'Ed25519' | 'Ed448' | 'RSA-PSS' | OID */
  algorithm: string;
  /** RSA modulus bits, EC field bits, 256 for Ed25519 */
  size: number;
  /** EC curve name (P-256, P-384, P-521) */
  curve?: string;
  /** an EC key whose curve is spelled out (explicit parameters) rather than named: Go refuses it */
  explicitParameters?: boolean;
}

export const NAME_TYPES: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.12': 'title', '2.5.4.17': 'postalCode',
  '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection', '1.3.6.1.5.5.7.3.8': 'timeStamping', '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

export const KEY_USAGE_BITS = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const;

export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/**
 * 99991231235959Z: the notAfter RFC 5280 §4.1.2.5 gives a certificate with "no well-defined expiration date",
 * and the last time an X.509 GeneralizedTime (four-digit year) can hold.
 */
export const NO_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Curves Go's crypto/tls signs and verifies with (crypto/x509 also parses P-224, which no TLS handshake offers). */
export const GO_CURVES = new Set(['P-256', 'P-384', 'P-521']);

export const CURVES: Record<string, [string, number]> = {
  '1.2.840.10045.3.1.7': ['P-256', 256],
  '1.3.132.0.34': ['P-384', 384],
  '1.3.132.0.35': ['P-521', 521],
  // named so that a finding can say which curve Go refuses (unsupported-key)
  '1.3.132.0.33': ['P-224', 224],
  '1.3.132.0.10': ['secp256k1', 256],
  '1.3.36.3.3.2.8.1.1.7': ['brainpoolP256r1', 256],
  '1.3.36.3.3.2.8.1.1.11': ['brainpoolP384r1', 384],
  '1.3.36.3.3.2.8.1.1.13': ['brainpoolP512r1', 512],
};

/** Signature algorithm OID → the hash node:crypto verifies it with (null: none, Ed25519/Ed448). */
export const SIG_HASH: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512', '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, '1.3.101.113': null,
};

export const SIG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss', '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384', '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '1.3.101.112': 'ED25519', '1.3.101.113': 'ED448',
};

/**
 * A parsed X.509 certificate. The DER bytes are kept; the TBS layout is walked
 * once, and every derived view (names, SANs, key usage …) is computed on first
 * use. Throws `DerError` on malformed input.
 */
export class Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly serialBytes: Uint8Array;
  readonly issuerRaw: Uint8Array;
  readonly subjectRaw: Uint8Array;
  readonly spkiRaw: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithmOid: string;
  /** the signatureAlgorithm AlgorithmIdentifier as it is (RSASSA-PSS's parameters in it) */
  readonly signatureAlgorithmRaw: Uint8Array;
  readonly signature: Uint8Array;
  readonly version: number;
  private readonly extTlv: Tlv | undefined;
  private _ext?: RawExtension[];
  private _subject?: NameAttribute[];
  private _issuer?: NameAttribute[];
  private _pub?: KeyObject;
  private _signedBy?: Map<Certificate, boolean>;
  private _key?: KeyInfo;
  /**
   * The views an inventory reads more than once (checkFields, then the row, the findings and the trust tree),
   * made once: each is a fresh array or string otherwise, a few KB a certificate that a check on a
   * kubeadm node turns into one more young-generation GC. null: worked out, and absent.
   */
  private _subjectString?: string;
  private _issuerString?: string;
  private _basicConstraints?: { ca: boolean; pathLen?: number } | null;
  private _keyUsage?: string[];
  private _extKeyUsage?: string[];
  private _subjectAltNames?: GeneralName[];
  private _subjectKeyId?: string | null;
  private _authorityKeyId?: string | null;

  constructor(der: Uint8Array) {
    this.der = der;
    const top = readTlv(der, 0);
    if (top.tag !== 0x30) throw new DerError('not a certificate (expected SEQUENCE)');
    if (top.end !== der.length) throw new DerError('trailing bytes after certificate');
    // (indexing rather than destructuring or for…of, here and in the parsers below: a check runs them
    // unoptimised, where every destructuring and every loop step allocates an iterator result)
    const parts = children(der, top);
    const tbsT = parts[0], sigAlgT = parts[1], sigT = parts[2];
    if (!tbsT || !sigAlgT || !sigT || tbsT.tag !== 0x30) throw new DerError('not a certificate (bad structure)');
    this.tbs = rawBytes(der, tbsT);
    const f = children(der, tbsT);
    let i = 0;
    this.version = 1;
    if (f[0]?.tag === 0xa0) {
      const v = readTlv(der, f[0].contentStart, f[0].end);
      this.version = der[v.contentStart]! + 1;
      i = 1;
    }
    const serialT = f[i++], sigInnerT = f[i++], issuerT = f[i++], validityT = f[i++], subjectT = f[i++], spkiT = f[i++];
    if (!serialT || !sigInnerT || !issuerT || !validityT || !subjectT || !spkiT) throw new DerError('not a certificate (missing TBS fields)');
    if (serialT.tag !== 0x02) throw new DerError('bad serial number');
    this.serialBytes = contentBytes(der, serialT);
    this.issuerRaw = rawBytes(der, issuerT);
    this.subjectRaw = rawBytes(der, subjectT);
    this.spkiRaw = rawBytes(der, spkiT);
    const validity = children(der, validityT);
    const nb = validity[0], na = validity[1];
    if (!nb || !na) throw new DerError('bad validity');
    this.notBefore = decodeTime(der, nb);
    this.notAfter = decodeTime(der, na);
    for (; i < f.length; i++) if (f[i]!.tag === 0xa3) this.extTlv = f[i];
    const algOid = children(der, sigAlgT)[0];
    if (!algOid) throw new DerError('bad signature algorithm');
    this.signatureAlgorithmOid = decodeOid(der, algOid);
    this.signatureAlgorithmRaw = rawBytes(der, sigAlgT);
    if (sigT.tag !== 0x03) throw new DerError('bad signature');
    this.signature = der.subarray(sigT.contentStart + 1, sigT.end);
  }

  /** Serial as lowercase hex without leading zero padding (as openssl prints it, uppercased there). */
  /** RFC 5280 wants a positive serial; Go 1.23 and later refuse to parse a negative one (x509negativeserial). */
  get serialNegative(): boolean {
    return this.serialBytes.length > 0 && (this.serialBytes[0]! & 0x80) !== 0;
  }

  get serialHex(): string {
    return serialText(this.serialBytes);
  }

  get subject(): NameAttribute[] {
    return (this._subject ??= parseName(this.subjectRaw));
  }

  get issuer(): NameAttribute[] {
    return (this._issuer ??= parseName(this.issuerRaw));
  }

  get subjectString(): string { return (this._subjectString ??= nameToString(this.subject)); }
  get issuerString(): string { return (this._issuerString ??= nameToString(this.issuer)); }
  get commonName(): string | undefined { return this.subject.find((a) => a.type === 'CN')?.value; }
  get organizations(): string[] { return this.subject.filter((a) => a.type === 'O').map((a) => a.value); }
  get issuerCommonName(): string | undefined { return this.issuer.find((a) => a.type === 'CN')?.value; }

  get extensions(): RawExtension[] {
    if (this._ext) return this._ext;
    const out: RawExtension[] = [];
    if (this.extTlv) {
      const seq = readTlv(this.der, this.extTlv.contentStart, this.extTlv.end);
      const all = children(this.der, seq);
      for (let i = 0; i < all.length; i++) {
        const parts = children(this.der, all[i]!);
        const oid = decodeOid(this.der, parts[0]);
        let critical = false;
        let valT = parts[1];
        if (valT?.tag === 0x01) { critical = this.der[valT.contentStart] !== 0; valT = parts[2]; }
        if (!valT || valT.tag !== 0x04) throw new DerError(`bad extension ${oid}`);
        out.push({ oid, critical, value: contentBytes(this.der, valT) });
      }
    }
    return (this._ext = out);
  }

  extension(oid: string): RawExtension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  get isSelfIssued(): boolean {
    return Buffer.compare(this.subjectRaw, this.issuerRaw) === 0; // (Uint8Arrays as they are: Buffer.from would copy both)
  }

  get basicConstraints(): { ca: boolean; pathLen?: number } | undefined {
    if (this._basicConstraints === undefined) this._basicConstraints = this.parseBasicConstraints() ?? null;
    return this._basicConstraints ?? undefined;
  }

  private parseBasicConstraints(): { ca: boolean; pathLen?: number } | undefined {
    const e = this.extension(OID.basicConstraints);
    if (!e) return undefined;
    const seq = readTlv(e.value, 0);
    let ca = false;
    let pathLen: number | undefined;
    const parts = children(e.value, seq);
    for (let i = 0; i < parts.length; i++) {
      const c = parts[i]!;
      if (c.tag === 0x01) ca = e.value[c.contentStart] !== 0;
      if (c.tag === 0x02) pathLen = e.value[c.contentStart];
    }
    return { ca, pathLen };
  }

  get isCA(): boolean {
    const bc = this.basicConstraints;
    if (bc) return bc.ca;
    // v1 self-signed roots carry no extensions at all.
    return this.version === 1 && this.isSelfIssued;
  }

  get keyUsage(): string[] {
    if (this._keyUsage) return this._keyUsage;
    const e = this.extension(OID.keyUsage);
    return (this._keyUsage = e ? keyUsageNames(e.value) : []);
  }

  get extKeyUsage(): string[] {
    if (this._extKeyUsage) return this._extKeyUsage;
    const e = this.extension(OID.extKeyUsage);
    return (this._extKeyUsage = e ? extKeyUsageNames(e.value) : []);
  }

  get subjectAltNames(): GeneralName[] {
    if (this._subjectAltNames) return this._subjectAltNames;
    const e = this.extension(OID.subjectAltName);
    return (this._subjectAltNames = e ? parseGeneralNames(e.value) : []);
  }

  get subjectKeyId(): string | undefined {
    if (this._subjectKeyId === undefined) this._subjectKeyId = this.parseSubjectKeyId() ?? null;
    return this._subjectKeyId ?? undefined;
  }

  private parseSubjectKeyId(): string | undefined {
    const e = this.extension(OID.subjectKeyIdentifier);
    if (!e) return undefined;
    const t = readTlv(e.value, 0);
    return hex(contentBytes(e.value, t));
  }

  get authorityKeyId(): string | undefined {
    if (this._authorityKeyId === undefined) this._authorityKeyId = this.parseAuthorityKeyId() ?? null;
    return this._authorityKeyId ?? undefined;
  }

  private parseAuthorityKeyId(): string | undefined {
    const e = this.extension(OID.authorityKeyIdentifier);
    if (!e) return undefined;
    const seq = readTlv(e.value, 0);
    const kid = children(e.value, seq).find((c) => c.tag === 0x80);
    return kid ? hex(contentBytes(e.value, kid)) : undefined;
  }

  /**
   * The serial number authorityKeyIdentifier names the issuing CA by (its authorityCertSerialNumber, which
   * openssl's `authorityKeyIdentifier=keyid,issuer` writes), as `serialHex` prints it; undefined without one.
   */
  get authorityCertSerial(): string | undefined {
    const e = this.extension(OID.authorityKeyIdentifier);
    if (!e) return undefined;
    const serial = children(e.value, readTlv(e.value, 0)).find((c) => c.tag === 0x82);
    return serial ? serialText(contentBytes(e.value, serial)) : undefined;
  }

  /** (parsed once: the inventory's facts and its findings both read it) */
  get keyInfo(): KeyInfo {
    return (this._key ??= spkiKeyInfo(this.spkiRaw));
  }

  get signatureAlgorithm(): string {
    return SIG_NAMES[this.signatureAlgorithmOid] ?? this.signatureAlgorithmOid;
  }

  /** SHA-256 of the whole DER, lowercase hex. */
  get fingerprint256(): string {
    return sha256Hex(this.der);
  }

  /** The certified public key (made once: a CA verifies thousands of leaves on a big node). */
  publicKey(): KeyObject {
    return (this._pub ??= spkiPublicKey(this.spkiRaw));
  }

  /**
   * Whether `issuer`'s key made this certificate's signature. (Asked once per issuer: check asks again for the
   * API server's certificate against each kubeconfig's CA, which is the node's CA, ~35 µs a verification.)
   */
  verifySignedBy(issuer: Certificate): boolean {
    const known = this._signedBy?.get(issuer);
    if (known !== undefined) return known;
    let ok: boolean;
    try {
      ok = verifySignature(this, issuer.publicKey());
    } catch {
      ok = false; // a CA whose public key OpenSSL cannot read signed nothing we can check
    }
    (this._signedBy ??= new Map()).set(issuer, ok);
    return ok;
  }

  toPem(): string {
    return derToPem(this.der, 'CERTIFICATE');
  }

  /**
   * Parse now every field an inventory row shows (names, extensions, SANs,
   * usages, key identifiers, key info), so a malformed one throws `DerError`
   * here, where the caller reports the file, instead of later. Returns this.
   */
  checkFields(): this {
    void [this.subject, this.issuer, this.isCA, this.keyUsage, this.extKeyUsage, this.subjectAltNames, this.subjectKeyId, this.authorityKeyId, this.keyInfo];
    return this;
  }
}

/**
 * The extensions Go's crypto/x509 understands (parser.go processExtensions): a critical extension of any other OID
 * is "unhandled", and Verify refuses every chain holding such a certificate, leaf, intermediate or root
 * (golang/go#22260), as openssl verify does ("unhandled critical extension").
 */
const GO_KNOWN_EXTENSIONS = new Set([
  '2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.32', '2.5.29.33', '2.5.29.35',
  '2.5.29.36', '2.5.29.37', '2.5.29.54', '1.3.6.1.5.5.7.1.1',
]);

/** Extensions RFC 5280 says are never critical, which Go refuses even to parse when they are (golang/go#70278). */
const GO_NEVER_CRITICAL: Record<string, [string, string]> = {
  '2.5.29.14': ['subjectKeyIdentifier', 'subject key identifier'],
  '1.3.6.1.5.5.7.1.1': ['authorityInfoAccess', 'authority info access'],
};

/**
 * Whether a nameConstraints value constrains a name type Go does not check: its parser takes DNS, IP, e-mail and
 * URI subtrees and marks the extension unhandled for any other (a directoryName, as corporate CAs limit their
 * subjects with; parser.go parseNameConstraintsExtension, "default: unhandled = true").
 */
function constrainsOtherNames(value: Uint8Array): boolean {
  try {
    for (const part of children(value, readTlv(value, 0))) {
      for (const sub of children(value, part)) {
        const tag = children(value, sub)[0]?.tag;
        if (tag !== undefined && tag !== 0x81 && tag !== 0x82 && tag !== 0x86 && tag !== 0x87) return true;
      }
    }
  } catch {
    // (a value that is no DER at all: Go refuses to parse the certificate, which this does not tell apart)
  }
  return false;
}

/**
 * What Go makes of this certificate's critical extensions: `parse` names one it refuses to parse the certificate
 * for (with Go's error), `unhandled` the OIDs it does not know, for which it refuses to verify any chain with the
 * certificate in it. A critical subjectAltName is unhandled when it holds no DNS, e-mail, IP or URI name, a critical
 * nameConstraints when it constrains any other name type.
 */
export function goCriticalExtensions(cert: Certificate): { parse?: { name: string; error: string }; unhandled: string[] } {
  const unhandled: string[] = [];
  for (const e of cert.extensions) {
    if (!e.critical) continue;
    const never = GO_NEVER_CRITICAL[e.oid];
    if (never) return { parse: { name: never[0], error: `x509: ${never[1]} incorrectly marked critical` }, unhandled };
    if (!GO_KNOWN_EXTENSIONS.has(e.oid)) unhandled.push(e.oid);
    else if (e.oid === OID.subjectAltName && !cert.subjectAltNames.some((n) => n.type !== 'dirname' && n.type !== 'other')) unhandled.push(e.oid);
    else if (e.oid === OID.nameConstraints && constrainsOtherNames(e.value)) unhandled.push(e.oid);
  }
  return { unhandled };
}

export function verifySignature(cert: Certificate, key: KeyObject): boolean {
  const alg = cert.signatureAlgorithmOid;
  try {
    if (alg in SIG_HASH) {
      return cryptoVerify(SIG_HASH[alg] ?? null, cert.tbs, key, cert.signature);
    }
    // Rare algorithms (RSA-PSS with parameters …): let OpenSSL handle the whole certificate.
    return new X509Certificate(Buffer.from(cert.der)).verify(key);
  } catch {
    return false;
  }
}

/** The names of the bits set in a keyUsage extension value (a BIT STRING), in bit order. */
export function keyUsageNames(value: Uint8Array): string[] {
  const t = readTlv(value, 0);
  const bytes = value.subarray(t.contentStart + 1, t.end);
  const out: string[] = [];
  KEY_USAGE_BITS.forEach((name, bit) => {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && byte & (0x80 >> (bit & 7))) out.push(name);
  });
  return out;
}

/** The purposes of an extKeyUsage extension value (serverAuth, clientAuth, or the OID). */
export function extKeyUsageNames(value: Uint8Array): string[] {
  const seq = readTlv(value, 0);
  return children(value, seq).map((c) => {
    const oid = decodeOid(value, c);
    return EKU_NAMES[oid] ?? oid;
  });
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function parseName(raw: Uint8Array): NameAttribute[] {
  const seq = readTlv(raw, 0);
  const out: NameAttribute[] = [];
  const sets = children(raw, seq);
  for (let rdn = 0; rdn < sets.length; rdn++) {
    const atvs = children(raw, sets[rdn]!);
    for (let i = 0; i < atvs.length; i++) {
      const atv = children(raw, atvs[i]!);
      const oidT = atv[0], valT = atv[1];
      if (!oidT || !valT) throw new DerError('bad name attribute');
      const oid = decodeOid(raw, oidT);
      out.push({ oid, type: NAME_TYPES[oid] ?? oid, value: decodeString(raw, valT), rdn });
    }
  }
  return out;
}

/**
 * `O=system:masters, CN=kubernetes` in DER order, as `openssl x509 -subject` lists them; the
 * attributes of one multi-valued RDN are joined with ` + ` (`CN=a + O=b`), as openssl does.
 * Values are escaped as RFC 4514 §2.4 says (`escapeDnValue`), so a CN holding `, O=x` reads as one
 * value, not as another RDN: the string is `openssl x509 -nameopt RFC2253` without its reversal
 * (dn_rev) and with spaces round the separators (sep_comma_plus_space).
 */
export function nameToString(attrs: NameAttribute[]): string {
  let out = '';
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    if (i > 0) out += a.rdn !== undefined && a.rdn === attrs[i - 1]!.rdn ? RDN_PLUS : RDN_COMMA;
    out += `${a.type}=${escapeDnValue(a.value)}`;
  }
  return out;
}

/** A character RFC 4514 §2.4 (or a control character, as openssl's esc_ctrl) wants escaped somewhere in the value. */
const DN_SPECIAL = /[,+"\\<>;\x00-\x1f\x7f]|^[# ]| $/;

/**
 * An attribute value as RFC 4514 §2.4 writes it (https://www.rfc-editor.org/rfc/rfc4514#section-2.4):
 * `"`, `+`, `,`, `;`, `<`, `>` and `\` escaped with a backslash anywhere, `#` and space at the start,
 * space at the end; control characters as `\XX` hex (NUL must be, the others so a name cannot break a
 * line of our output). Other characters, UTF-8 included, are kept as they are (openssl's RFC2253
 * escapes bytes above 0x7f as hex too; RFC 4514 does not ask it). One difference from openssl: it leaves
 * a value that is only `#` unescaped, RFC 4514 (and this) does not.
 */
export function escapeDnValue(v: string): string {
  if (!DN_SPECIAL.test(v)) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (',+"\\<>;'.includes(ch) || (i === 0 && (ch === '#' || ch === ' ')) || (i === v.length - 1 && ch === ' ')) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/**
 * The attributes of a `nameToString` string, values unescaped: `CN=a\, b, O=x` → CN `a, b` and O `x`.
 * Separators are a `,` or `+` not escaped that a `TYPE=` follows, so an unescaped comma inside a
 * value (a string made before values were escaped) stays in it.
 */
export function splitNameString(dn: string): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  const next = /^\s*[A-Za-z][A-Za-z0-9.-]*=/;
  let part = '';
  // where the last escape pair of `part` ends: a space before it is value (`\ `), one after it the separator's
  // (`a\\ + O=b`: the value is `a\`, the space is ` + `'s)
  let escaped = 0;
  const flush = () => {
    let end = part.length;
    while (end > escaped && part[end - 1] === ' ') end--;
    const eq = part.indexOf('=');
    if (eq > 0) out.push({ type: part.slice(0, eq).trim(), value: unescapeDnValue(part.slice(eq + 1, end).replace(/^ +/, '')) });
    part = '';
    escaped = 0;
  };
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) { part += ch + dn[i + 1]; i++; escaped = part.length; continue; }
    if ((ch === ',' || ch === '+') && next.test(dn.slice(i + 1))) { flush(); continue; }
    part += ch;
  }
  flush();
  return out;
}

/** Undo `escapeDnValue`: `\,` → `,`, `\0A` → newline (hex pairs are UTF-8 bytes). */
export function unescapeDnValue(v: string): string {
  if (!v.includes('\\')) return v;
  return v.replace(/(?:\\[0-9A-Fa-f]{2})+|\\(.)/g, (m, c: string | undefined) =>
    c !== undefined ? c : Buffer.from(m.replace(/\\/g, ''), 'hex').toString('utf8'));
}

const STRING_TAGS: Record<number, string> = {
  0x0c: 'UTF8String', 0x13: 'PrintableString', 0x14: 'TeletexString', 0x16: 'IA5String', 0x1c: 'UniversalString', 0x1e: 'BMPString',
};

/** The string types a DER Name's values are written in, in order of first use: `PrintableString`, `UTF8String`. */
export function nameEncodings(raw: Uint8Array): string[] {
  const out: string[] = [];
  const sets = children(raw, readTlv(raw, 0));
  for (let i = 0; i < sets.length; i++) {
    const atvs = children(raw, sets[i]!);
    for (let j = 0; j < atvs.length; j++) {
      const tag = children(raw, atvs[j]!)[1]?.tag;
      const name = tag === undefined ? undefined : STRING_TAGS[tag] ?? `tag 0x${tag.toString(16)}`;
      if (name && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** What `nameToString` puts between two RDNs, and between two attributes of one RDN. */
export const RDN_COMMA = ', ';
export const RDN_PLUS = ' + ';

export function parseGeneralNames(value: Uint8Array): GeneralName[] {
  const seq = readTlv(value, 0);
  const out: GeneralName[] = [];
  const names = children(value, seq);
  for (let i = 0; i < names.length; i++) {
    const g = names[i]!;
    switch (g.tag) {
      case 0x82: out.push({ type: 'dns', value: latin1Text(value, g.contentStart, g.end) }); break;
      case 0x81: out.push({ type: 'email', value: latin1Text(value, g.contentStart, g.end) }); break;
      case 0x86: out.push({ type: 'uri', value: latin1Text(value, g.contentStart, g.end) }); break;
      case 0x87: out.push({ type: 'ip', value: formatIp(contentBytes(value, g)) }); break;
      case 0xa4: out.push({ type: 'dirname', value: nameToString(parseName(contentBytes(value, g))) }); break;
      default: out.push({ type: 'other', value: hex(rawBytes(value, g)) });
    }
  }
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    // compress the longest run of zero groups (RFC 5952)
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8;) {
      if (groups[i] !== '0') { i++; continue; }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return hex(bytes);
}

export function spkiKeyInfo(spki: Uint8Array): KeyInfo {
  const seq = readTlv(spki, 0);
  const top = children(spki, seq);
  const algT = top[0], keyT = top[1];
  if (!algT || !keyT) throw new DerError('bad SubjectPublicKeyInfo');
  const alg = children(spki, algT);
  const oidT = alg[0], paramT = alg[1];
  const oid = decodeOid(spki, oidT);
  switch (oid) {
    case '1.2.840.113549.1.1.1':
    case '1.2.840.113549.1.1.10': {
      const inner = spki.subarray(keyT.contentStart + 1, keyT.end);
      const rsa = readTlv(inner, 0);
      const mod = children(inner, rsa)[0];
      if (!mod) throw new DerError('bad RSA public key');
      let p = mod.contentStart;
      while (p < mod.end && inner[p] === 0) p++;
      const bytes = mod.end - p;
      const lead = inner[p] ?? 0;
      const bits = bytes > 0 ? (bytes - 1) * 8 + (32 - Math.clz32(lead)) : 0;
      return { algorithm: oid.endsWith('.10') ? 'RSA-PSS' : 'RSA', size: bits };
    }
    case '1.2.840.10045.2.1': {
      if (paramT && paramT.tag === 0x30) {
        const c = CURVES[explicitCurveOid(spki.subarray(paramT.start, paramT.end)) ?? ''];
        return { algorithm: 'ECDSA', size: c?.[1] ?? 0, curve: c?.[0] ?? 'explicit parameters', explicitParameters: true };
      }
      const curveOid = paramT && paramT.tag === 0x06 ? decodeOid(spki, paramT) : '';
      const c = CURVES[curveOid];
      return { algorithm: 'ECDSA', size: c?.[1] ?? 0, curve: c?.[0] ?? curveOid };
    }
    case '1.3.101.112': return { algorithm: 'Ed25519', size: 256 };
    case '1.3.101.113': return { algorithm: 'Ed448', size: 448 };
    default: return { algorithm: oid, size: 0 };
  }
}

/**
 * A KeyObject for a SubjectPublicKeyInfo. An RSA key goes in as its two numbers (JWK): OpenSSL 3 decodes DER
 * through its generic decoder machinery, whose first use is a visible share of `check`'s start-up (~0.25 ms,
 * then ~0.1 ms a key, against ~0.05 ms for a JWK). Anything else, or an RSA key JWK refuses, is handed over
 * as DER.
 */
export function spkiPublicKey(spki: Uint8Array): KeyObject {
  const jwk = rsaPublicJwk(spki);
  if (jwk) {
    try { return createPublicKey({ key: jwk, format: 'jwk' }); } catch { /* DER below says what is wrong */ }
  }
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** `RSA 2048`, `ECDSA P-256`, `Ed25519`. */
export function describeKey(k: KeyInfo): string {
  if (k.algorithm === 'ECDSA') return `ECDSA ${k.curve}`;
  if (k.algorithm.startsWith('RSA')) return `${k.algorithm} ${k.size}`;
  return k.algorithm;
}

/**
 * A serial number's INTEGER content as openssl prints it, lower case: hex without leading zero bytes, and a
 * negative one (two's complement; RFC 5280 forbids it, Go ≥1.23 refuses it) with a minus sign, -04d2.
 */
export function serialText(b: Uint8Array): string {
  if (b.length > 0 && b[0]! & 0x80) {
    const magnitude = ((1n << BigInt(8 * b.length)) - BigInt(`0x${hex(b)}`)).toString(16);
    return `-${magnitude.length % 2 ? `0${magnitude}` : magnitude}`;
  }
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return hex(b);
}
