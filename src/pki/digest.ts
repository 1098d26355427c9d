import { createHash, hash } from 'node:crypto';

/**
 * SHA-256 of bytes, lowercase hex: crypto.hash's one call (Node >= 20.12) where there is one, a Hash object
 * otherwise. An inventory takes a few dozen (key and certificate digests), each a Hash object and a stream
 * set-up with createHash, which cold code pays for at every start.
 */
export function sha256Hex(data: Uint8Array): string {
  return typeof hash === 'function' ? hash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}
