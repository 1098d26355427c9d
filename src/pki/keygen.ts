import { generateKeyPair, createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyInfo } from './certificate.js';

/**
 * Key generation and key serialisation as kubeadm writes them: RSA keys as
 * PKCS#1 `RSA PRIVATE KEY`, EC keys as SEC1 `EC PRIVATE KEY` (Go's
 * `keyutil.MarshalPrivateKeyToPEM`), Ed25519 as PKCS#8 `PRIVATE KEY` (the only
 * encoding it has). Generation is async so several keys are made in parallel on
 * the libuv pool (RSA 2048 costs ~50–150 ms each).
 */

export type KeyType = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519';

export const KEY_TYPES: readonly KeyType[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];

/** A new private key of the given type (`KeyObject` of type 'private'). */
export function generateKey(type: KeyType): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void => {
      if (err) reject(err);
      else resolve(priv);
    };
    switch (type) {
      case 'rsa-2048': case 'rsa-3072': case 'rsa-4096':
        generateKeyPair('rsa', { modulusLength: Number(type.slice(4)), publicExponent: 0x10001 }, done);
        return;
      case 'ecdsa-p256':
        generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
        return;
      case 'ecdsa-p384':
        generateKeyPair('ec', { namedCurve: 'secp384r1' }, done);
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

/** "Same type and size" of an existing key, or undefined for types we cannot generate. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = d.modulusLength ?? 0;
      return bits <= 2048 ? 'rsa-2048' : bits <= 3072 ? 'rsa-3072' : 'rsa-4096';
    }
    case 'ec':
      if (d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256') return 'ecdsa-p256';
      if (d.namedCurve === 'secp384r1' || d.namedCurve === 'P-384') return 'ecdsa-p384';
      return undefined;
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}

/** Same as `keyTypeOf` from the inventory's view of a key (`Certificate.keyInfo`). */
export function keyTypeOfInfo(info: Pick<KeyInfo, 'algorithm' | 'size' | 'curve'>): KeyType | undefined {
  if (info.algorithm === 'RSA') return info.size <= 2048 ? 'rsa-2048' : info.size <= 3072 ? 'rsa-3072' : 'rsa-4096';
  if (info.algorithm === 'ECDSA') return info.curve === 'P-256' ? 'ecdsa-p256' : info.curve === 'P-384' ? 'ecdsa-p384' : undefined;
  if (info.algorithm === 'Ed25519') return 'ed25519';
  return undefined;
}
