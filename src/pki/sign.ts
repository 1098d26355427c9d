import { constants, createHash, createPublicKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readTlv, children, tlv, seq, decodeOid, contentBytes, rawBytes, DerError } from './der.js';
import { namedCurveSpki } from './key-spki.js';
import { OID } from './certificate.js';

/**
 * Building and signing certificates and CSRs.
 *
 * Renewal must copy the subject, the issuer (the CA's own subject bytes) and
 * every extension *byte for byte*, so the TBSCertificate is assembled here from
 * raw DER pieces with a tiny DER writer instead of going through an object
 * model that would re-encode names (PrintableString vs UTF8String, multi-valued
 * RDN order) and drop extensions it does not know. Signing uses node:crypto
 * (async, on the libuv pool). The rules are Go's, the strictest reader of what
 * we write: whole-second dates, UTCTime before 2050 and GeneralizedTime from
 * 2050 on (RFC 5280 §4.1.2.5), positive serials of at most 20 octets
 * (RFC 5280 §4.1.2.2).
 */

export interface ExtensionDer {
  oid: string;
  critical: boolean;
  /** DER of the extnValue OCTET STRING's content */
  value: Uint8Array;
}

export type SanInput = { type: 'dns' | 'ip' | 'email' | 'uri'; value: string };

export interface IssueOptions {
  /** DER Name of the subject (copy `Certificate.subjectRaw` to keep it verbatim) */
  subjectDer: Uint8Array;
  /** DER Name of the issuer: the signing CA's own `subjectRaw` */
  issuerDer: Uint8Array;
  /** the certified public key: DER SubjectPublicKeyInfo, or a (private or public) KeyObject */
  spki: Uint8Array | KeyObject;
  /** positive serial: bigint, or hex string */
  serial: bigint | string;
  notBefore: Date;
  notAfter: Date;
  extensions: ExtensionDer[];
  signingKey: KeyObject;
  /**
   * The signature algorithm to keep when the signing key can use it: its OID, or its whole AlgorithmIdentifier
   * (DER) to keep RSASSA-PSS parameters too. A renewal passes the old certificate's, so a CA that signed with
   * SHA-384 or SHA-512 still does, and one that signed with RSASSA-PSS still does (see pssLike). Without it (or
   * for SHA-1, which Go refuses) the digest is the one Go picks for the key.
   */
  signatureLike?: string | Uint8Array;
  /**
   * 1: an X.509 v1 certificate (no version field, no extensions), for the renewal of one: a v1 self-signed root is
   * a CA to openssl by being v1 (X509_check_ca), and the same certificate as v3 without basicConstraints is none.
   * Default 3.
   */
  version?: 1 | 3;
}

// ---------------------------------------------------------------- DER writer

const set = (...c: Uint8Array[]): Uint8Array => tlv(0x31, ...c);
const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
const bitString = (b: Uint8Array, unused = 0): Uint8Array => tlv(0x03, Uint8Array.of(unused), b);
const NULL = Uint8Array.of(0x05, 0x00);
const TRUE = Uint8Array.of(0x01, 0x01, 0xff);

export function oidDer(oid: string): Uint8Array {
  const parts = oid.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new Error(`bad OID ${oid}`);
  const first = parts[0]! * 40n + parts[1]!;
  const bytes: number[] = [];
  for (const v of [first, ...parts.slice(2)]) {
    const chunk: number[] = [Number(v & 0x7fn)];
    let x = v >> 7n;
    while (x > 0n) { chunk.unshift(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** DER INTEGER of a non-negative bigint (minimal, with a 0x00 pad when the top bit is set). */
export function integerDer(v: bigint | number): Uint8Array {
  let x = BigInt(v);
  if (x < 0n) throw new Error('negative INTEGER not supported');
  const bytes: number[] = [];
  do { bytes.unshift(Number(x & 0xffn)); x >>= 8n; } while (x > 0n);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

/** Whole seconds; UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function timeDer(d: Date): Uint8Array {
  const t = new Date(Math.floor(d.getTime() / 1000) * 1000);
  const y = t.getUTCFullYear();
  // (a five-digit year is no GeneralizedTime: Go and openssl refuse the certificate)
  if (y > 9999 || y < 0) throw new Error(`cannot write ${t.toISOString()} as an X.509 time (years 0000-9999)`);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p2(t.getUTCMonth() + 1)}${p2(t.getUTCDate())}${p2(t.getUTCHours())}${p2(t.getUTCMinutes())}${p2(t.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p2(y % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'));
}

function bytesOf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------- serials

/**
 * A fresh serial number: 16 random octets with the top bit cleared, so it is
 * positive and at most 16 content octets; never zero. (kubeadm draws from
 * [1, 2^63−1); the KCM uses 128 bits. Both fit RFC 5280's 20-octet limit.)
 */
export function newSerial(random: (n: number) => Uint8Array = randomBytes): bigint {
  for (;;) {
    const b = Uint8Array.from(random(16));
    b[0] = b[0]! & 0x7f;
    const v = BigInt('0x' + (bytesOf(b).toString('hex') || '0'));
    if (v !== 0n) return v;
  }
}

function serialValue(s: bigint | string): bigint {
  const v = typeof s === 'bigint' ? s : BigInt('0x' + s.replace(/^0x/i, '').replace(/:/g, ''));
  if (v <= 0n) throw new Error('serial number must be positive');
  if (v >= 1n << 159n) throw new Error('serial number longer than 20 octets');
  return v;
}

// ---------------------------------------------------------------- algorithms

interface SigAlg { hash: string | null; algId: Uint8Array; name: string; /** RSASSA-PSS: the salt length */ pssSalt?: number }

const RSA_SIG_OID = { sha256: '1.2.840.113549.1.1.11', sha384: '1.2.840.113549.1.1.12', sha512: '1.2.840.113549.1.1.13' } as const;
const ECDSA_SIG_OID = { sha256: '1.2.840.10045.4.3.2', sha384: '1.2.840.10045.4.3.3', sha512: '1.2.840.10045.4.3.4' } as const;
type Sha2 = keyof typeof RSA_SIG_OID;
const digestOf = (oids: Record<Sha2, string>, oid: string | undefined): Sha2 | undefined => (Object.keys(oids) as Sha2[]).find((h) => oids[h] === oid);

export const RSASSA_PSS_OID = '1.2.840.113549.1.1.10';
const MGF1_OID = '1.2.840.113549.1.1.8';
const HASH_OID: Record<Sha2, string> = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' };
const HASH_LEN: Record<Sha2, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** RSASSA-PSS-params (RFC 4055 §3.1) as Go writes them: hash and MGF1 hash the same, with NULL parameters; salt = hash length. */
function pssAlgId(hash: Sha2, salt = HASH_LEN[hash]): Uint8Array {
  const hashId = seq(oidDer(HASH_OID[hash]), NULL);
  return seq(oidDer(RSASSA_PSS_OID), seq(tlv(0xa0, hashId), tlv(0xa1, seq(oidDer(MGF1_OID), hashId)), tlv(0xa2, integerDer(salt))));
}

/**
 * What an RSASSA-PSS AlgorithmIdentifier asks for: its hash and salt length, and whether Go's crypto/x509 takes it.
 * Go verifies only SHA256/384/512WithRSAPSS: hash and MGF1 hash given and the same (parameters absent or NULL),
 * salt length = hash length, trailer field 1 (x509.go getSignatureAlgorithmFromAI); anything else is
 * UnknownSignatureAlgorithm, a certificate no Go program verifies.
 */
function pssParams(algId: Uint8Array): { hash?: Sha2; hashOid: string; mgfHashOid: string; salt: number; goAccepts: boolean } | undefined {
  try {
    const [oidT, paramsT] = children(algId, readTlv(algId, 0));
    if (decodeOid(algId, oidT) !== RSASSA_PSS_OID) return undefined;
    // (RFC 4055's defaults: SHA-1, MGF1 with SHA-1, 20, 1)
    let hashOid = '1.3.14.3.2.26', hashParams: Uint8Array | undefined, mgfOid = MGF1_OID, mgfHashOid = '1.3.14.3.2.26', mgfHashParams: Uint8Array | undefined;
    let salt = 20, trailer = 1, given = 0;
    const int = (t: { contentStart: number; end: number }) => Number(BigInt('0x' + (Buffer.from(contentBytes(algId, readTlv(algId, t.contentStart))).toString('hex') || '0')));
    for (const f of paramsT ? children(algId, paramsT) : []) {
      const inner = readTlv(algId, f.contentStart);
      if (f.tag === 0xa0) { const [o, p] = children(algId, inner); hashOid = decodeOid(algId, o); hashParams = p && rawBytes(algId, p); given |= 1; }
      else if (f.tag === 0xa1) {
        const [o, p] = children(algId, inner);
        mgfOid = decodeOid(algId, o);
        const [ho, hp] = p ? children(algId, p) : [];
        if (ho) mgfHashOid = decodeOid(algId, ho);
        mgfHashParams = hp && rawBytes(algId, hp);
        given |= 2;
      } else if (f.tag === 0xa2) { salt = int(f); given |= 4; } else if (f.tag === 0xa3) trailer = int(f);
    }
    const hash = digestOf(HASH_OID, hashOid);
    const isNull = (p: Uint8Array | undefined) => p === undefined || (p.length === 2 && p[0] === 0x05 && p[1] === 0x00);
    const goAccepts = given === 7 && hash !== undefined && isNull(hashParams) && mgfOid === MGF1_OID && mgfHashOid === hashOid && isNull(mgfHashParams)
      && trailer === 1 && salt === HASH_LEN[hash];
    return { ...(hash ? { hash } : {}), hashOid, mgfHashOid, salt, goAccepts };
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

/**
 * The RSASSA-PSS signature a renewal makes for an old one made with RSASSA-PSS (`like`), or for any signature by
 * an RSA-PSS key (id-RSASSA-PSS SubjectPublicKeyInfo, which signs nothing else). Parameters Go takes are kept,
 * AlgorithmIdentifier bytes and all; others become Go's for the same SHA-2 hash (SHA-256 for SHA-1), so the
 * renewal keeps the operator's choice of PSS and a Go program can verify it. An RSA-PSS key's own restrictions
 * (RFC 4055 §3.3: its hash, a least salt length) are kept: Go cannot use such a CA at all (its key is an
 * "unknown public key algorithm" to crypto/x509), but openssl can, and the key refuses anything else.
 */
function pssLike(key: SigningKeyKind, like: string | Uint8Array | undefined): SigAlg | undefined {
  const old = like instanceof Uint8Array ? pssParams(like) : undefined;
  const pssKey = key.asymmetricKeyType === 'rsa-pss';
  if (!old && !pssKey && !(typeof like === 'string' && like === RSASSA_PSS_OID)) return undefined;
  const details = pssKey ? key.asymmetricKeyDetails : undefined;
  const keyHash = details?.hashAlgorithm?.replace('-', '');
  const hash: Sha2 = keyHash && keyHash in HASH_LEN ? keyHash as Sha2 : old?.hash ?? (typeof like === 'string' ? digestOf(RSA_SIG_OID, like) : undefined) ?? 'sha256';
  const salt = Math.max(HASH_LEN[hash], details?.saltLength ?? 0);
  if (old?.goAccepts && old.hash === hash && old.salt === salt && like instanceof Uint8Array) {
    return { hash, algId: like, name: `RSASSA-PSS ${hash}`, pssSalt: salt };
  }
  return { hash, algId: pssAlgId(hash, salt), name: `RSASSA-PSS ${hash}`, pssSalt: salt };
}

/** What pssLike reads of a signing key: its type, and an RSA-PSS key's restrictions. */
export type SigningKeyKind = Pick<KeyObject, 'asymmetricKeyType' | 'asymmetricKeyDetails'>;

const HASH_NAME: Record<string, string> = { '1.3.14.3.2.26': 'SHA-1', [HASH_OID.sha256]: 'SHA-256', [HASH_OID.sha384]: 'SHA-384', [HASH_OID.sha512]: 'SHA-512' };
const hashName = (oid: string): string => HASH_NAME[oid] ?? oid;

/**
 * What a renewal signed by `key` changes of `old`, an RSASSA-PSS AlgorithmIdentifier, for the plan to say:
 * `signature RSASSA-PSS salt 20 → 32 (Go refuses other salt lengths)`; undefined when it is kept byte for byte, or
 * is no RSASSA-PSS. Go verifies RSASSA-PSS only with SHA-256/384/512, the same hash for MGF1 and a salt as long
 * as the hash (golang/go src/crypto/x509/x509.go: getSignatureAlgorithmFromAI, and checkSignature's
 * rsa.PSSSaltLengthEqualsHash), so pssLike rewrites anything else to that form; an RSA-PSS key's own restrictions
 * win over it (the key signs nothing else).
 */
export function pssChange(old: Uint8Array, key: SigningKeyKind): string | undefined {
  const was = pssParams(old);
  if (!was) return undefined;
  const now = pssLike(key, old);
  if (!now || Buffer.from(now.algId).equals(Buffer.from(old))) return undefined;
  const hash = HASH_OID[now.hash as Sha2];
  const parts: string[] = [];
  if (was.hashOid !== hash) parts.push(`hash ${hashName(was.hashOid)} → ${hashName(hash)}`);
  if (was.mgfHashOid !== hash) parts.push(`MGF1 ${hashName(was.mgfHashOid)} → ${hashName(hash)}`);
  if (was.salt !== now.pssSalt) parts.push(`salt ${was.salt} → ${now.pssSalt}`);
  // (the same values, written otherwise: a field left to its default, hash parameters other than NULL, a trailer)
  if (parts.length === 0) parts.push('parameters written out as Go writes them');
  const why = key.asymmetricKeyType === 'rsa-pss' ? 'what the signing RSA-PSS key allows'
    : parts.length === 1 && was.salt !== now.pssSalt ? 'Go refuses other salt lengths'
    : 'Go verifies RSASSA-PSS only with SHA-256/384/512, the same hash for MGF1 and a salt as long as the hash';
  return `signature RSASSA-PSS ${parts.join(', ')} (${why})`;
}

/**
 * Signature algorithm for a signing key: the one Go picks (SHA-256 with RSA; by curve for ECDSA; Ed25519),
 * or the SHA-2 digest of `like` when that is an algorithm of the same key family (RSASSA-PSS kept as such: pssLike).
 */
export function signatureAlgorithmFor(key: KeyObject, like?: string | Uint8Array): SigAlg {
  const likeOid = like instanceof Uint8Array ? algorithmOid(like) : like;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const pss = pssLike(key, like);
      if (pss) return pss;
      const hash = digestOf(RSA_SIG_OID, likeOid) ?? 'sha256';
      return { hash, algId: seq(oidDer(RSA_SIG_OID[hash]), NULL), name: `${hash}WithRSAEncryption` };
    }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const hash = digestOf(ECDSA_SIG_OID, likeOid) ?? (curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256');
      return { hash, algId: seq(oidDer(ECDSA_SIG_OID[hash])), name: `ecdsa-with-${hash.toUpperCase()}` };
    }
    case 'ed25519':
      return { hash: null, algId: seq(oidDer('1.3.101.112')), name: 'ED25519' };
    default:
      throw new Error(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

function algorithmOid(algId: Uint8Array): string | undefined {
  try { return decodeOid(algId, children(algId, readTlv(algId, 0))[0]); } catch { return undefined; }
}

function signAsync(alg: SigAlg, data: Uint8Array, key: KeyObject): Promise<Buffer> {
  // (MGF1 takes the message digest, as Go's VerifyPSS expects; RSA_PKCS1_PSS_PADDING with an explicit salt length)
  const k = alg.pssSalt === undefined ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pssSalt };
  return new Promise((resolve, reject) => {
    cryptoSign(alg.hash, data, k, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

/** The key as a certificate carries it: an EC curve always named (Go refuses explicit parameters, see namedCurveSpki). */
function spkiBytes(spki: Uint8Array | KeyObject): Uint8Array {
  if (spki instanceof Uint8Array) return namedCurveSpki(spki);
  const pub = spki.type === 'private' ? createPublicKey(spki) : spki;
  return namedCurveSpki(pub.export({ type: 'spki', format: 'der' }));
}

function extensionsDer(exts: ExtensionDer[]): Uint8Array {
  return seq(...exts.map((e) => seq(oidDer(e.oid), ...(e.critical ? [TRUE] : []), octets(e.value))));
}

// ---------------------------------------------------------------- certificates

/**
 * Sign a v3 (or v1) certificate from raw parts. Returns the DER. The issuer bytes,
 * subject bytes and extension values are written exactly as given.
 */
export async function issueCertificate(o: IssueOptions): Promise<Uint8Array> {
  const alg = signatureAlgorithmFor(o.signingKey, o.signatureLike);
  if (o.notAfter.getTime() < o.notBefore.getTime()) throw new Error('notAfter is before notBefore');
  const v1 = o.version === 1;
  if (v1 && o.extensions.length > 0) throw new Error('an X.509 v1 certificate has no extensions');
  const tbsParts = [
    ...(v1 ? [] : [tlv(0xa0, integerDer(2))]),
    integerDer(serialValue(o.serial)),
    alg.algId,
    o.issuerDer,
    seq(timeDer(o.notBefore), timeDer(o.notAfter)),
    o.subjectDer,
    spkiBytes(o.spki),
  ];
  if (o.extensions.length > 0) tbsParts.push(tlv(0xa3, extensionsDer(o.extensions)));
  const tbs = seq(...tbsParts);
  const sig = await signAsync(alg, tbs, o.signingKey);
  return seq(tbs, alg.algId, bitString(sig));
}

export interface CsrOptions {
  subjectDer: Uint8Array;
  /** private key of the request (signs it; its public half is requested) */
  key: KeyObject;
  /** extensions to request (extensionRequest attribute) — e.g. SANs, key usage */
  extensions?: ExtensionDer[];
}

/** A PKCS#10 request (RFC 2986), DER. */
export async function createCsr(o: CsrOptions): Promise<Uint8Array> {
  const alg = signatureAlgorithmFor(o.key);
  const attrs = o.extensions && o.extensions.length > 0
    ? [seq(oidDer('1.2.840.113549.1.9.14'), set(extensionsDer(o.extensions)))]
    : [];
  const info = seq(integerDer(0), o.subjectDer, spkiBytes(o.key), tlv(0xa0, ...attrs));
  const sig = await signAsync(alg, info, o.key);
  return seq(info, alg.algId, bitString(sig));
}

// ---------------------------------------------------------------- names

export type NameType = 'CN' | 'O' | 'OU' | 'C' | 'ST' | 'L' | 'serialNumber';

const NAME_OIDS: Record<NameType, string> = {
  C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5',
};

/** The order Go's `pkix.Name.ToRDNSequence` writes attributes in. */
const GO_ORDER: NameType[] = ['C', 'ST', 'L', 'O', 'OU', 'CN', 'serialNumber'];

/** Go's `encoding/asn1` PrintableString test (it also allows '*'). */
function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?*]*$/.test(s);
}

function stringDer(s: string, type: NameType): Uint8Array {
  // Go writes country and serialNumber as PrintableString always; others printable when possible, else UTF8.
  if (isPrintable(s)) return tlv(0x13, Buffer.from(s, 'latin1'));
  if (type === 'C' || type === 'serialNumber') throw new Error(`${type} must be printable: ${s}`);
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

/**
 * DER Name the way Go's crypto/x509 writes a `pkix.Name`: attributes in Go's
 * fixed order (C, ST, L, O, OU, CN, serialNumber), all values of one type in one
 * RDN SET, PrintableString when the value allows it and UTF8String otherwise.
 */
export function nameDer(attrs: { type: NameType; value: string }[]): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const type of GO_ORDER) {
    const values = attrs.filter((a) => a.type === type);
    if (values.length === 0) continue;
    // DER SET OF: members sorted by their encoding (X.690 §11.6), as Go does.
    const members = values
      .map((a) => seq(oidDer(NAME_OIDS[type]), stringDer(a.value, type)))
      .sort((a, b) => Buffer.compare(bytesOf(a), bytesOf(b)));
    rdns.push(set(...members));
  }
  return seq(...rdns);
}

// ---------------------------------------------------------------- extensions

export const EXT_OID = {
  ...OID,
} as const;

const KEY_USAGE_BIT: Record<string, number> = {
  digitalSignature: 0, nonRepudiation: 1, contentCommitment: 1, keyEncipherment: 2, dataEncipherment: 3,
  keyAgreement: 4, keyCertSign: 5, cRLSign: 6, encipherOnly: 7, decipherOnly: 8,
};

const EKU_OID: Record<string, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4', timeStamping: '1.3.6.1.5.5.7.3.8', OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
};

/** basicConstraints (critical, as Go writes it). `cA` FALSE is omitted (DER default). */
export function basicConstraintsExt(ca: boolean, pathLen?: number): ExtensionDer {
  const parts: Uint8Array[] = [];
  if (ca) parts.push(TRUE);
  if (ca && pathLen !== undefined) parts.push(integerDer(pathLen));
  return { oid: EXT_OID.basicConstraints, critical: true, value: seq(...parts) };
}

/** keyUsage (critical) from names: digitalSignature, keyEncipherment, keyCertSign … */
export function keyUsageExt(usages: string[]): ExtensionDer {
  let bits = 0;
  for (const u of usages) {
    const b = KEY_USAGE_BIT[u];
    if (b === undefined) throw new Error(`unknown key usage ${u}`);
    bits |= 1 << b;
  }
  const nbytes = bits > 0xff ? 2 : 1;
  const bytes = new Uint8Array(nbytes);
  for (let i = 0; i < 9; i++) if (bits & (1 << i)) bytes[i >> 3]! |= 0x80 >> (i & 7);
  // DER: trailing zero bits are not encoded (X.690 §11.2.2).
  let last = bytes.length - 1;
  while (last > 0 && bytes[last] === 0) last--;
  const trimmed = bytes.subarray(0, last + 1);
  const lastByte = trimmed[last]!;
  let unused = 0;
  if (lastByte !== 0) while (!((lastByte >> unused) & 1)) unused++;
  return { oid: EXT_OID.keyUsage, critical: true, value: bitString(trimmed, lastByte === 0 ? 0 : unused) };
}

/** extendedKeyUsage (not critical) from names (serverAuth, clientAuth …) or OIDs. */
export function extKeyUsageExt(usages: string[]): ExtensionDer {
  return { oid: EXT_OID.extKeyUsage, critical: false, value: seq(...usages.map((u) => oidDer(EKU_OID[u] ?? u))) };
}

/** Octets of a dotted-quad IPv4 address, or undefined: four decimal octets 0–255, no leading zeros (never wraps). */
function ipv4Octets(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out.push(v);
  }
  return out;
}

/**
 * The iPAddress GeneralName octets of an IPv4 (4 octets) or IPv6 (16 octets,
 * `::` and a dotted IPv4 tail allowed) address. Anything else, an octet over
 * 255 included, throws: an address is never wrapped or truncated into another.
 */
export function ipBytes(ip: string): Uint8Array {
  const bad = (why: string) => new Error(`bad IP address ${JSON.stringify(ip)}: ${why}`);
  if (!ip.includes(':')) {
    const v4 = ipv4Octets(ip);
    if (!v4) throw bad('an IPv4 address is four decimal octets 0-255 (a.b.c.d)');
    return Uint8Array.from(v4);
  }
  let s = ip;
  const last = s.lastIndexOf(':');
  const tail = s.slice(last + 1);
  if (tail.includes('.')) {
    const v4 = ipv4Octets(tail);
    if (!v4) throw bad(`${JSON.stringify(tail)} is not an IPv4 address`);
    s = `${s.slice(0, last + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw bad('"::" may appear once');
  let groups: string[];
  if (halves.length === 2) {
    const h = halves[0] ? halves[0].split(':') : [];
    const t = halves[1] ? halves[1].split(':') : [];
    if (h.length + t.length > 7) throw bad('too many groups');
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  } else groups = s.split(':');
  if (groups.length !== 8) throw bad('an IPv6 address has eight groups');
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw bad('each IPv6 group is 1-4 hex digits');
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  return out;
}

/** IA5String content (dNSName, rfc822Name, URI): ASCII only — never re-encoded into other bytes. */
function ia5(type: string, value: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(value)) throw new Error(`${type} name ${JSON.stringify(value)} is not ASCII; a certificate carries it as IA5String (use the punycode / percent-encoded form)`);
  return Buffer.from(value, 'ascii');
}

/**
 * An IP SAN's bytes as Go writes them (crypto/x509 marshalSANs: `ip.To4()` when it has one): an IPv4-mapped
 * IPv6 address (::ffff:192.0.2.1, as kubeadm's certSANs may give it) is the 4 bytes of its IPv4 address, which
 * OpenSSL-based clients (curl) connecting to 192.0.2.1 match and 16 bytes they do not.
 */
function sanIpBytes(ip: string): Uint8Array {
  const b = ipBytes(ip);
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? b.subarray(12) : b;
}

/** One GeneralName, DER. */
export function generalNameDer(n: SanInput): Uint8Array {
  switch (n.type) {
    case 'dns': return tlv(0x82, ia5('DNS', n.value));
    case 'email': return tlv(0x81, ia5('email', n.value));
    case 'uri': return tlv(0x86, ia5('URI', n.value));
    case 'ip': return tlv(0x87, sanIpBytes(n.value));
    default: throw new Error(`unsupported SAN type ${(n as SanInput).type}`);
  }
}

/** subjectAltName (not critical) in the given order. */
export function subjectAltNameExt(names: SanInput[]): ExtensionDer {
  return { oid: EXT_OID.subjectAltName, critical: false, value: seq(...names.map(generalNameDer)) };
}

/**
 * Append names to an existing subjectAltName extension value, keeping every
 * existing GeneralName byte for byte and skipping names already present.
 */
export function appendSans(existing: Uint8Array | undefined, add: SanInput[]): Uint8Array {
  const kept: Uint8Array[] = [];
  if (existing) {
    const top = readTlv(existing, 0);
    for (const c of children(existing, top)) kept.push(existing.subarray(c.start, c.end));
  }
  const have = new Set(kept.map((k) => bytesOf(k).toString('hex')));
  for (const n of add) {
    const d = generalNameDer(n);
    const h = bytesOf(d).toString('hex');
    if (!have.has(h)) { kept.push(d); have.add(h); }
  }
  return seq(...kept);
}

/** The subjectPublicKey BIT STRING's bytes of a DER SubjectPublicKeyInfo. */
export function publicKeyBits(spki: Uint8Array | KeyObject): Uint8Array {
  const der = spkiBytes(spki);
  const top = readTlv(der, 0);
  const bits = children(der, top)[1];
  if (!bits || bits.tag !== 0x03) throw new Error('bad SubjectPublicKeyInfo');
  return der.subarray(bits.contentStart + 1, bits.end);
}

/** Key identifier as Go computes it: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifier(spki: Uint8Array | KeyObject): Uint8Array {
  return createHash('sha1').update(publicKeyBits(spki)).digest();
}

export function subjectKeyIdentifierExt(keyId: Uint8Array): ExtensionDer {
  return { oid: EXT_OID.subjectKeyIdentifier, critical: false, value: octets(keyId) };
}

/** authorityKeyIdentifier with only `keyIdentifier` [0], as Go writes it. */
export function authorityKeyIdentifierExt(keyId: Uint8Array): ExtensionDer {
  return { oid: EXT_OID.authorityKeyIdentifier, critical: false, value: seq(tlv(0x80, keyId)) };
}

/** PEM of a DER certificate or CSR. */
export function pemOf(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = bytesOf(der).toString('base64');
  return `-----BEGIN ${label}-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
}
