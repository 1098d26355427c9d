import { createHash } from 'node:crypto';

/**
 * crypto.hash, the one-call digest, where this Node has it (>= 20.12); found through getBuiltinModule (>= 20.16)
 * since a named import of it would fail to load at all on an older Node 20 (package.json allows >= 20).
 */
const oneShot = (process.getBuiltinModule?.('node:crypto') as typeof import('node:crypto') | undefined)?.hash;

/**
 * SHA-256 of bytes, lowercase hex: crypto.hash's one call where there is one, a Hash object otherwise. An
 * inventory takes a few dozen (key and certificate digests), each a Hash object and a stream set-up with
 * createHash, which cold code pays for at every start.
 */
export function sha256Hex(data: Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}
