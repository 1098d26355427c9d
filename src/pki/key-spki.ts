/**
 * The public half of an unencrypted private key, read from its DER without
 * loading it into OpenSSL. `check` only needs to know whether a key file
 * matches its certificate, which is what Go's `tls.X509KeyPair` decides by
 * comparing the public key the private key file carries (RSA n and e; the EC
 * point, which OpenSSL also takes from the file). Ed25519 keys, whose public
 * half OpenSSL derives from the seed, take the OpenSSL path. Loading every key
 * with `createPrivateKey` and exporting its public half cost ~0.5 ms per key,
 * a fifth of `check`'s start-up on a kubeadm node.
 *
 * Only canonical encodings are accepted here (minimal INTEGERs, a named curve,
 * an uncompressed point, nothing after the structure): for those the bytes
 * built below are exactly what OpenSSL exports. Anything else returns
 * undefined and the caller takes the OpenSSL path, which stays the judge of
 * what is corrupt.
 */
import { readTlv, children, decodeOid, tlv, seq, type Tlv } from './der.js';

const RSA = '1.2.840.113549.1.1.1';
const EC = '1.2.840.10045.2.1';
/** AlgorithmIdentifier DER, written out (oidDer's BigInt arithmetic cost more than the rest of a key) */
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const EC_OID_DER = Buffer.from('06072a8648ce3d0201', 'hex');
/**
 * Named curve → private scalar length and the curve's p and b (y² = x³ − 3x + b
 * mod p; SEC 2 / FIPS 186-4 D.1.2). OpenSSL refuses a key whose point is not on
 * its curve, so the fast path checks that too.
 */
const EC_CURVES: Record<string, { scalar: number; oid: string; p: bigint; b: bigint; gx: bigint }> = {
  '1.2.840.10045.3.1.7': {
    scalar: 32,
    oid: '06082a8648ce3d030107',
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  '1.3.132.0.34': {
    scalar: 48,
    oid: '06052b81040022',
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  '1.3.132.0.35': {
    scalar: 66,
    oid: '06052b81040023',
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

/**
 * The named curve that explicit EC domain parameters (SpecifiedECDomain, RFC 3279 §2.3.5: `openssl ec
 * -param_enc explicit` writes them) spell out: same prime, a = −3, same b and generator. Undefined for
 * anything else (a named curve, other parameters). Go refuses such keys and certificates ("x509: invalid
 * ECDSA parameters"), and OpenSSL 3's verify refuses such certificates (error 94).
 */
export function explicitCurveOid(params: Uint8Array): string | undefined {
  try {
    const top = readTlv(params, 0);
    if (top.tag !== 0x30) return undefined;
    const [, fieldT, curveT, baseT] = children(params, top);
    if (!fieldT || !curveT || !baseT || baseT.tag !== 0x04) return undefined;
    const [fieldType, pT] = children(params, fieldT);
    if (!fieldType || !pT || decodeOid(params, fieldType) !== '1.2.840.10045.1.1' || pT.tag !== 0x02) return undefined;
    const [aT, bT] = children(params, curveT);
    if (!aT || !bT) return undefined;
    const p = bigFrom(params.subarray(pT.contentStart, pT.end));
    const base = params.subarray(baseT.contentStart, baseT.end);
    for (const [oid, c] of Object.entries(EC_CURVES)) {
      if (c.p !== p || bigFrom(params.subarray(aT.contentStart, aT.end)) !== p - 3n || bigFrom(params.subarray(bT.contentStart, bT.end)) !== c.b) continue;
      return base.length >= 1 + c.scalar && bigFrom(base.subarray(1, 1 + c.scalar)) === c.gx ? oid : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * The same public key with its curve named: an EC SubjectPublicKeyInfo with explicit parameters of a known
 * curve becomes the one Go, OpenSSL and kubeadm write (the point is the key; how the curve is written is
 * not). Anything else comes back as it is. Key matching compares these, and renewal writes them.
 */
export function namedCurveSpki(spki: Uint8Array): Uint8Array {
  try {
    const top = readTlv(spki, 0);
    const [algT, keyT] = children(spki, top);
    if (!algT || !keyT || keyT.tag !== 0x03) return spki;
    const [oidT, paramT] = children(spki, algT);
    if (!oidT || !paramT || paramT.tag !== 0x30 || !Buffer.from(spki.subarray(oidT.start, oidT.end)).equals(EC_OID_DER)) return spki;
    const oid = explicitCurveOid(spki.subarray(paramT.start, paramT.end));
    return oid ? seq(seq(EC_OID_DER, Buffer.from(EC_CURVES[oid]!.oid, 'hex')), spki.subarray(keyT.start, keyT.end)) : spki;
  } catch {
    return spki;
  }
}

function onCurve(point: Uint8Array, c: { p: bigint; b: bigint }): boolean {
  const n = (point.length - 1) / 2;
  const x = bigFrom(point.subarray(1, 1 + n));
  const y = bigFrom(point.subarray(1 + n));
  if (x >= c.p || y >= c.p) return false;
  const rhs = (((x * x) % c.p) * x - 3n * x + c.b) % c.p;
  return (y * y - rhs) % c.p === 0n;
}

export type PrivateKeyDerFormat = 'pkcs1' | 'sec1' | 'pkcs8';

/**
 * DER SubjectPublicKeyInfo of the key, or undefined when the fast path does not
 * apply. Throws DamagedKeyError for an RSA key Go would refuse.
 */
export function spkiOfPrivateKeyDer(der: Uint8Array, format: PrivateKeyDerFormat): Uint8Array | undefined {
  try {
    const top = whole(der);
    if (!top) return undefined;
    if (format === 'pkcs1') return rsaSpki(der, top);
    if (format === 'sec1') return ecSpki(der, top, undefined);
    return pkcs8Spki(der, top);
  } catch (e) {
    if (e instanceof DamagedKeyError) throw e;
    return undefined;
  }
}

/**
 * readTlv, refusing what DER forbids and BER allows (a length in more bytes than
 * it needs): a key written that way is left to OpenSSL, whose verdict it is.
 */
function strictTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  const t = readTlv(buf, pos, limit);
  const len = t.end - t.contentStart;
  const minimal = len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
  if (t.contentStart - t.start !== minimal) throw new Error('non-minimal DER length');
  return t;
}

const strictChildren = (buf: Uint8Array, t: Tlv): Tlv[] => children(buf, t, strictTlv);

/** The unsigned big-endian integer in `bytes`. */
export const bigFrom = (bytes: Uint8Array): bigint => bigAt(bytes, 0, bytes.length);

/** The unsigned big-endian integer in bytes [start, end) of `buf`, read in place (no view of its own: an RSA key has eight). */
function bigAt(buf: Uint8Array, start: number, end: number): bigint {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return BigInt(`0x${b.toString('hex', start, end) || '0'}`);
}

function whole(der: Uint8Array): Tlv | undefined {
  const top = strictTlv(der, 0, der.length);
  return top.tag === 0x30 && top.end === der.length ? top : undefined;
}

function canonicalInteger(buf: Uint8Array, t: Tlv): boolean {
  const len = t.end - t.contentStart;
  if (t.tag !== 0x02 || len === 0) return false;
  const b0 = buf[t.contentStart]!;
  if (b0 & 0x80) return false; // negative: not a key component
  return !(len > 1 && b0 === 0 && !(buf[t.contentStart + 1]! & 0x80));
}

/**
 * Why Go would refuse this RSA key (crypto/rsa PrivateKey.Validate, which
 * x509.ParsePKCS1PrivateKey and ParsePKCS8PrivateKey run), or undefined. OpenSSL
 * loads such a key without a word, but kube-apiserver, etcd and the kubelet
 * will not start with it: a damaged p, q or d is worth a finding, not "matches".
 */
export function rsaKeyProblem(n: bigint, e: bigint, d: bigint, p: bigint, q: bigint, crt?: { dp: bigint; dq: bigint; qinv: bigint }): string | undefined {
  if (e < 2n) return 'public exponent too small';
  if (e >= 1n << 31n) return 'public exponent too large';
  if (p <= 1n || q <= 1n) return 'invalid prime value';
  if (p * q !== n) return 'n is not p·q (invalid modulus)';
  const de = d * e;
  if (de % (p - 1n) !== 1n || de % (q - 1n) !== 1n) return 'd·e is not 1 mod p-1 and q-1 (invalid exponents)';
  // the CRT values the file carries, which Go ≥ 1.24 (Kubernetes ≥ 1.33) and OpenSSL's rsa -check also check
  if (crt) {
    if (crt.dp !== d % (p - 1n) || crt.dq !== d % (q - 1n)) return 'dp or dq is not d mod p-1, q-1 (invalid CRT exponents)';
    if ((crt.qinv * q) % p !== 1n) return 'qinv is not q⁻¹ mod p (invalid CRT coefficient)';
  }
  return undefined;
}

/** An RSA key whose numbers do not fit together (see rsaKeyProblem). */
export class DamagedKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedKeyError';
  }
}

const bigOf = (buf: Uint8Array, t: Tlv): bigint => bigAt(buf, t.contentStart, t.end);

function rsaSpki(buf: Uint8Array, top: Tlv): Uint8Array | undefined {
  const f = strictChildren(buf, top);
  // two-prime RSAPrivateKey: version 0 and eight INTEGERs
  if (f.length !== 9 || !f.every((t) => canonicalInteger(buf, t))) return undefined;
  if (f[0]!.end - f[0]!.contentStart !== 1 || buf[f[0]!.contentStart] !== 0) return undefined;
  const problem = rsaKeyProblem(bigOf(buf, f[1]!), bigOf(buf, f[2]!), bigOf(buf, f[3]!), bigOf(buf, f[4]!), bigOf(buf, f[5]!),
    { dp: bigOf(buf, f[6]!), dq: bigOf(buf, f[7]!), qinv: bigOf(buf, f[8]!) });
  if (problem) throw new DamagedKeyError(problem);
  const rsaPublicKey = seq(buf.subarray(f[1]!.start, f[1]!.end), buf.subarray(f[2]!.start, f[2]!.end));
  return seq(RSA_ALGORITHM, tlv(0x03, Uint8Array.of(0), rsaPublicKey));
}

function ecSpki(buf: Uint8Array, top: Tlv, curveFromAlgorithm: string | undefined): Uint8Array | undefined {
  const f = strictChildren(buf, top);
  const [version, priv, ...rest] = f;
  if (!version || !priv || version.tag !== 0x02 || version.end - version.contentStart !== 1 || buf[version.contentStart] !== 1) return undefined;
  if (priv.tag !== 0x04 || rest.length > 2) return undefined;
  let curve = curveFromAlgorithm;
  let point: Uint8Array | undefined;
  let lastTag = 0;
  for (const t of rest) {
    if (t.tag <= lastTag) return undefined; // [0] then [1], each once
    lastTag = t.tag;
    if (t.tag === 0xa0) {
      const oidT = strictTlv(buf, t.contentStart, t.end);
      if (oidT.tag !== 0x06 || oidT.end !== t.end) return undefined;
      const oid = decodeOid(buf, oidT);
      if (curve && curve !== oid) return undefined;
      curve = oid;
    } else if (t.tag === 0xa1) {
      const bits = strictTlv(buf, t.contentStart, t.end);
      if (bits.tag !== 0x03 || bits.end !== t.end || buf[bits.contentStart] !== 0) return undefined;
      point = buf.subarray(bits.contentStart + 1, bits.end);
    } else return undefined;
  }
  const c = curve ? EC_CURVES[curve] : undefined;
  if (!c || !point || priv.end - priv.contentStart !== c.scalar || point.length !== 2 * c.scalar + 1 || point[0] !== 0x04) return undefined;
  if (!onCurve(point, c)) return undefined;
  return seq(seq(EC_OID_DER, Buffer.from(c.oid, 'hex')), tlv(0x03, Uint8Array.of(0), point));
}

function pkcs8Spki(buf: Uint8Array, top: Tlv): Uint8Array | undefined {
  const f = strictChildren(buf, top);
  // version 0, algorithm, key: what OpenSSL and Go write (attributes and v2 public keys go to OpenSSL)
  const [version, alg, inner] = f;
  if (f.length !== 3 || !version || !alg || !inner || version.tag !== 0x02 || alg.tag !== 0x30 || inner.tag !== 0x04) return undefined;
  if (version.end - version.contentStart !== 1 || buf[version.contentStart] !== 0) return undefined;
  const algParts = strictChildren(buf, alg);
  const algOid = decodeOid(buf, algParts[0]);
  const innerDer = buf.subarray(inner.contentStart, inner.end);
  if (algOid === RSA) {
    const p = algParts[1];
    if (algParts.length !== 2 || !p || p.tag !== 0x05 || p.end !== p.contentStart) return undefined;
    const t = whole(innerDer);
    return t ? rsaSpki(innerDer, t) : undefined;
  }
  if (algOid === EC) {
    if (algParts.length !== 2 || algParts[1]!.tag !== 0x06) return undefined;
    const t = whole(innerDer);
    return t ? ecSpki(innerDer, t, decodeOid(buf, algParts[1])) : undefined;
  }
  return undefined;
}

/**
 * A `PUBLIC KEY` block (sa.pub) is already a SubjectPublicKeyInfo: returned as
 * it is when it is a canonical RSA key or a NIST-curve point on its curve (what
 * OpenSSL would accept and export byte for byte), else undefined.
 */
export function canonicalSpki(der: Uint8Array): Uint8Array | undefined {
  try {
    const parts = spkiParts(der);
    if (!parts) return undefined;
    const { alg, algDer, key } = parts;
    if (Buffer.from(algDer).equals(RSA_ALGORITHM)) return canonicalRsaKey(key) ? der : undefined;
    const [oid, curveT, ...rest] = strictChildren(der, alg);
    if (!oid || !curveT || rest.length || !Buffer.from(der.subarray(oid.start, oid.end)).equals(EC_OID_DER) || curveT.tag !== 0x06) return undefined;
    const c = EC_CURVES[decodeOid(der, curveT)];
    return c && key.length === 2 * c.scalar + 1 && key[0] === 0x04 && onCurve(key, c) ? der : undefined;
  } catch {
    return undefined;
  }
}

/** A SubjectPublicKeyInfo's algorithm and key bytes, when it is exactly SEQUENCE { algorithm, BIT STRING }. */
function spkiParts(der: Uint8Array): { alg: Tlv; algDer: Uint8Array; key: Uint8Array } | undefined {
  const top = whole(der);
  if (!top) return undefined;
  const [alg, bits, ...more] = strictChildren(der, top);
  if (!alg || !bits || more.length || alg.tag !== 0x30 || bits.tag !== 0x03 || der[bits.contentStart] !== 0) return undefined;
  return { alg, algDer: der.subarray(alg.start, alg.end), key: der.subarray(bits.contentStart + 1, bits.end) };
}

/** n and e of an RSAPublicKey, when it is two canonical positive INTEGERs and nothing else. */
function canonicalRsaKey(key: Uint8Array): [Tlv, Tlv] | undefined {
  const t = whole(key);
  const f = t ? strictChildren(key, t) : [];
  return f.length === 2 && f.every((x) => canonicalInteger(key, x)) ? [f[0]!, f[1]!] : undefined;
}

/**
 * n and e of an rsaEncryption SubjectPublicKeyInfo as a JWK, only when the DER is canonical (what OpenSSL
 * reads as exactly this key, see canonicalSpki); undefined for anything else.
 */
export function rsaPublicJwk(spki: Uint8Array): { kty: 'RSA'; n: string; e: string } | undefined {
  try {
    const parts = spkiParts(spki);
    if (!parts || !Buffer.from(parts.algDer).equals(RSA_ALGORITHM)) return undefined;
    const { key } = parts;
    const ne = canonicalRsaKey(key);
    if (!ne) return undefined;
    const unsigned = (t: Tlv) => {
      const p = key[t.contentStart] === 0 && t.end - t.contentStart > 1 ? t.contentStart + 1 : t.contentStart;
      return Buffer.from(key.buffer, key.byteOffset + p, t.end - p).toString('base64url');
    };
    return { kty: 'RSA', n: unsigned(ne[0]), e: unsigned(ne[1]) };
  } catch {
    return undefined;
  }
}

/**
 * True when the DER is a two-prime RSA key (RSAPrivateKey version 0, alone or
 * inside PKCS#8): a key with more primes (version 1) is valid with n ≠ p·q.
 * Lenient about encodings, since OpenSSL has already loaded the key.
 */
export function isTwoPrimeRsa(der: Uint8Array, format: PrivateKeyDerFormat): boolean {
  try {
    let buf = der;
    let top = readTlv(buf, 0);
    if (format === 'pkcs8') {
      const [, , inner] = children(buf, top);
      if (!inner || inner.tag !== 0x04) return false;
      buf = buf.subarray(inner.contentStart, inner.end);
      top = readTlv(buf, 0);
    } else if (format !== 'pkcs1') return false;
    const [version] = children(buf, top);
    return !!version && version.tag === 0x02 && version.end - version.contentStart === 1 && buf[version.contentStart] === 0;
  } catch {
    return false;
  }
}
