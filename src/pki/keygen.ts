import { generateKeyPair, createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyInfo } from './certificate.js';

/**
 * Key generation and key serialisation as kubeadm writes them: RSA keys as
 * PKCS#1 `RSA PRIVATE KEY`, EC keys as SEC1 `EC PRIVATE KEY` (Go's
 * `keyutil.MarshalPrivateKeyToPEM`), Ed25519 as PKCS#8 `PRIVATE KEY` (the only
 * encoding it has). Generation is async so several keys are made in parallel on
 * the libuv pool (RSA 2048 costs ~50–150 ms each).
 */

/** `rsa-<bits>`: any size from 2048 up (a renewed 8192-bit key stays 8192 bits), kubeadm's three the usual ones. */
export type KeyType = `rsa-${number}` | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ed25519';

/** The types offered by name (--key-type); `keyTypeOf` also gives other RSA sizes and P-521 for "the same as before". */
export const KEY_TYPES: readonly KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];

/** RSA sizes kubepki makes: below 2048 is too weak to make again, above 16384 takes minutes. */
const RSA_BITS = { min: 2048, max: 16384 };

/** A new private key of the given type (`KeyObject` of type 'private'). */
export function generateKey(type: KeyType): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void => {
      if (err) reject(err);
      else resolve(priv);
    };
    if (type.startsWith('rsa-')) {
      const bits = Number(type.slice(4));
      if (!Number.isInteger(bits) || bits < RSA_BITS.min || bits > RSA_BITS.max) {
        reject(new Error(`unsupported key type ${type} (RSA from ${RSA_BITS.min} to ${RSA_BITS.max} bits)`));
        return;
      }
      generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, done);
      return;
    }
    switch (type) {
      case 'ecdsa-p256':
        generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
        return;
      case 'ecdsa-p384':
        generateKeyPair('ec', { namedCurve: 'secp384r1' }, done);
        return;
      case 'ecdsa-p521':
        generateKeyPair('ec', { namedCurve: 'secp521r1' }, done);
        return;
      case 'ed25519':
        generateKeyPair('ed25519', {}, done);
        return;
      default:
        reject(new Error(`unsupported key type ${String(type)}`));
    }
  });
}

/** PEM of a private key in the encoding kubeadm/Go uses for its type. */
export function privateKeyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return key.export({ type: 'pkcs1', format: 'pem' }) as string;
    case 'ec':
      return key.export({ type: 'sec1', format: 'pem' }) as string;
    default:
      return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
}

/** PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of a private or public key. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }) as string;
}

/** DER SubjectPublicKeyInfo of a private or public key. */
export function spkiDer(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** The exact size (never rounded: an 8192-bit key is not made again as 4096), or undefined below 2048 bits. */
function rsaType(bits: number): KeyType | undefined {
  return bits >= RSA_BITS.min && bits <= RSA_BITS.max ? `rsa-${bits}` : undefined;
}

/** "Same type and size" of an existing key, or undefined for types we cannot (or will not) generate. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return rsaType(d.modulusLength ?? 0);
    case 'ec':
      if (d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256') return 'ecdsa-p256';
      if (d.namedCurve === 'secp384r1' || d.namedCurve === 'P-384') return 'ecdsa-p384';
      if (d.namedCurve === 'secp521r1' || d.namedCurve === 'P-521') return 'ecdsa-p521';
      return undefined;
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

/** Same as `keyTypeOf` from the inventory's view of a key (`Certificate.keyInfo`). */
export function keyTypeOfInfo(info: Pick<KeyInfo, 'algorithm' | 'size' | 'curve'>): KeyType | undefined {
  if (info.algorithm === 'RSA') return rsaType(info.size);
  if (info.algorithm === 'ECDSA') return info.curve === 'P-256' ? 'ecdsa-p256' : info.curve === 'P-384' ? 'ecdsa-p384' : info.curve === 'P-521' ? 'ecdsa-p521' : undefined;
  if (info.algorithm === 'Ed25519') return 'ed25519';
  return undefined;
}
