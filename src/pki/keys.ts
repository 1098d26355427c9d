import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { spkiKeyInfo, type KeyInfo } from './certificate.js';
import { spkiOfPrivateKeyDer, canonicalSpki, namedCurveSpki, rsaKeyProblem, isTwoPrimeRsa, bigFrom, DamagedKeyError, type PrivateKeyDerFormat } from './key-spki.js';

/** A private key as found on disk. Never rendered: only its public half and type are shown. */
export interface PrivateKeyInfo {
  format: 'pkcs1' | 'pkcs8' | 'sec1' | 'der';
  encrypted: boolean;
  /** DER SubjectPublicKeyInfo of the matching public key (absent when encrypted) */
  spki?: Uint8Array;
  key?: KeyInfo;
  /**
   * The algorithm when only the PEM label tells it: a legacy-encrypted `EC PRIVATE KEY` or `RSA PRIVATE KEY`
   * (Proc-Type: 4,ENCRYPTED) is ECDSA or RSA, its size and curve are inside the encryption. An `ENCRYPTED
   * PRIVATE KEY` (PKCS#8) names its algorithm only inside the encryption: none.
   */
  algorithm?: string;
  keyObject?: KeyObject;
}

/** What a traditional (non-PKCS#8) private key block's label says its algorithm is. */
const LABEL_ALGORITHM: Record<string, string> = { 'RSA PRIVATE KEY': 'RSA', 'EC PRIVATE KEY': 'ECDSA' };

export const PRIVATE_KEY_LABELS: Record<string, PrivateKeyInfo['format']> = {
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
  'PRIVATE KEY': 'pkcs8',
  'ENCRYPTED PRIVATE KEY': 'pkcs8',
};

export const PUBLIC_KEY_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/** Parse one PEM private key block (label + DER + headers). */
export function parsePrivateKeyBlock(label: string, der: Uint8Array, headers: Record<string, string> = {}): PrivateKeyInfo {
  const format = PRIVATE_KEY_LABELS[label];
  if (!format) throw new KeyError(`not a private key block: ${label}`);
  if (label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/.test(headers['Proc-Type'] ?? '')) {
    return { format, encrypted: true, ...(LABEL_ALGORITHM[label] ? { algorithm: LABEL_ALGORITHM[label] } : {}) };
  }
  const type = format === 'pkcs1' ? 'pkcs1' : format === 'sec1' ? 'sec1' : 'pkcs8';
  const load = (): KeyObject => {
    try {
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type });
    } catch (e) {
      throw new KeyError(`corrupt private key (${label}): ${(e as Error).message}`);
    }
  };
  // The public half straight from the DER when it is canonical (see key-spki.ts);
  // OpenSSL is then only asked when something needs the key itself (signing).
  let spki: Uint8Array | undefined;
  try {
    spki = spkiOfPrivateKeyDer(der, type);
  } catch (e) {
    if (e instanceof DamagedKeyError) throw new KeyError(damaged(label, e.message));
    throw e;
  }
  if (!spki) {
    const keyObject = load();
    const problem = rsaProblemOf(keyObject, der, type);
    if (problem) throw new KeyError(damaged(label, problem));
    return fromKeyObject(keyObject, format);
  }
  const info: PrivateKeyInfo = { format, encrypted: false, spki, key: spkiKeyInfo(spki) };
  let keyObject: KeyObject | undefined;
  Object.defineProperty(info, 'keyObject', { enumerable: true, configurable: true, get: () => (keyObject ??= load()) });
  return info;
}

const damaged = (label: string, why: string) => `damaged private key (${label}): ${why}; Go programs (kube-apiserver, etcd, the kubelet) refuse it`;

/**
 * rsaKeyProblem for a key OpenSSL loaded (the keys the DER fast path leaves to
 * it). Only two-prime keys are judged (see isTwoPrimeRsa): a multi-prime key is
 * valid with n ≠ p·q, and the JWK export names only p and q.
 */
function rsaProblemOf(k: KeyObject, der: Uint8Array, format: PrivateKeyDerFormat): string | undefined {
  if (k.asymmetricKeyType !== 'rsa' || !isTwoPrimeRsa(der, format)) return undefined;
  const j = k.export({ format: 'jwk' });
  if (!j.n || !j.e || !j.d || !j.p || !j.q) return undefined;
  const big = (b64u: string) => bigFrom(Buffer.from(b64u, 'base64url'));
  return rsaKeyProblem(big(j.n), big(j.e), big(j.d), big(j.p), big(j.q), j.dp && j.dq && j.qi ? { dp: big(j.dp), dq: big(j.dq), qinv: big(j.qi) } : undefined);
}

/** A bare DER private key (PKCS#8, then PKCS#1, then SEC1); undefined if it is none, KeyError for a damaged RSA key. */
export function parsePrivateKeyDer(der: Uint8Array): PrivateKeyInfo | undefined {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      const keyObject = createPrivateKey({ key: Buffer.from(der), format: 'der', type });
      const problem = rsaProblemOf(keyObject, der, type);
      if (problem) throw new KeyError(damaged('DER', problem));
      return fromKeyObject(keyObject, 'der');
    } catch (e) {
      if (e instanceof KeyError) throw e;
      /* try the next encoding */
    }
  }
  return undefined;
}

function fromKeyObject(keyObject: KeyObject, format: PrivateKeyInfo['format']): PrivateKeyInfo {
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  return { format, encrypted: false, spki, key: spkiKeyInfo(spki), keyObject };
}

export function parsePublicKeyBlock(label: string, der: Uint8Array): { spki: Uint8Array; key: KeyInfo } {
  const type = label === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki';
  const fast = type === 'spki' ? canonicalSpki(der) : undefined;
  if (fast) return { spki: fast, key: spkiKeyInfo(fast) };
  try {
    const k = createPublicKey({ key: Buffer.from(der), format: 'der', type });
    const spki = k.export({ type: 'spki', format: 'der' });
    return { spki, key: spkiKeyInfo(spki) };
  } catch (e) {
    throw new KeyError(`corrupt public key (${label}): ${(e as Error).message}`);
  }
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** The same public key, however its EC curve is written (named, or spelled out: see namedCurveSpki). */
export function samePublicKey(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  // (the same bytes, the usual case, need no parse)
  return a !== undefined && b !== undefined && (sameBytes(a, b) || sameBytes(namedCurveSpki(a), namedCurveSpki(b)));
}

/**
 * The command that decrypts a PEM private key file in place. Not `openssl pkey -in F -out F`: openssl opens
 * (truncates) the output before it reads the input, and the key is lost. The new file is made 0600 by openssl.
 */
export function decryptKeyCommand(file: string): string {
  return `openssl pkey -in ${file} -out ${file}.plain && mv ${file}.plain ${file}`;
}
