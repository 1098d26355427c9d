/**
 * kubeadm's upload-certs encryption (spec §6; kubeadm util/crypto/crypto.go):
 * AES-256-GCM under a 32-byte key given as 64 hex characters, a fresh 12-byte
 * nonce per value, no additional data, stored as nonce ‖ ciphertext ‖ 16-byte tag.
 * Data keys are file names relative to the PKI dir with `/` → `-`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export class CertificateKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateKeyError';
  }
}

/** 32 random bytes as 64 lowercase hex characters (`kubeadm certs certificate-key`). */
export function newCertificateKey(random: (n: number) => Buffer = randomBytes): string {
  return random(32).toString('hex');
}

export function parseCertificateKey(hex: string): Buffer {
  const t = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new CertificateKeyError('a certificate key is 64 hex characters (32 bytes)');
  return Buffer.from(t, 'hex');
}

export function encryptUploadValue(key: Buffer, plaintext: Uint8Array, random: (n: number) => Buffer = randomBytes): Buffer {
  if (key.length !== 32) throw new CertificateKeyError('the certificate key must be 32 bytes');
  const nonce = random(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

export function decryptUploadValue(key: Buffer, sealed: Uint8Array): Buffer {
  if (key.length !== 32) throw new CertificateKeyError('the certificate key must be 32 bytes');
  const b = Buffer.from(sealed);
  if (b.length < NONCE_BYTES + TAG_BYTES) throw new CertificateKeyError('value too short to be AES-GCM output');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, NONCE_BYTES));
  d.setAuthTag(b.subarray(b.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(b.subarray(NONCE_BYTES, b.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new CertificateKeyError('decryption failed: wrong certificate key, or the data was altered');
  }
}

/** The shared control-plane files (spec §6), as PKI-relative paths, in kubeadm's order. */
export function sharedFiles(externalEtcd: boolean): string[] {
  const base = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key'];
  return externalEtcd ? base : [...base, 'etcd/ca.crt', 'etcd/ca.key'];
}

export function dataKeyOf(relPath: string): string {
  return relPath.replace(/\//g, '-');
}

export function relPathOfDataKey(dataKey: string): string {
  return dataKey.startsWith('etcd-') ? `etcd/${dataKey.slice(5)}` : dataKey;
}

/** Encrypt each file; a missing file is stored as an empty value (as kubeadm does). */
export function sealFiles(key: Buffer, files: Record<string, Uint8Array | undefined>, random?: (n: number) => Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, content] of Object.entries(files)) {
    out[dataKeyOf(rel)] = content ? encryptUploadValue(key, content, random).toString('base64') : '';
  }
  return out;
}

/** Decrypt a Secret's `data` (base64 values); empty values are skipped. */
export function openFiles(key: Buffer, data: Record<string, string>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(data)) {
    if (!v) continue;
    out[relPathOfDataKey(k)] = decryptUploadValue(key, Buffer.from(v, 'base64'));
  }
  return out;
}

/** The `kube-system/kubeadm-certs` Secret manifest (type Opaque) holding sealed data. */
export function kubeadmCertsSecret(data: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'kubeadm-certs', namespace: 'kube-system' },
    type: 'Opaque',
    data,
  };
}
