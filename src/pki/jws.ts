import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The detached JWS that the bootstrapsigner controller writes into
 * `kube-public/cluster-info` as `jws-kubeconfig-<token-id>` (spec §5;
 * upstream k8s.io/cluster-bootstrap/token/jws): RFC 7515 compact form with
 * the payload left out, `BASE64URL(header) + ".." + BASE64URL(HMAC)`.
 * Sign and verify the stored `kubeconfig` string verbatim: joiners compare
 * the whole string, so re-serialising the YAML would break the signature.
 */

function b64url(buf: Uint8Array | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** Compact detached JWS of `payload` (the exact cluster-info kubeconfig string). */
export function signClusterInfo(payload: string, tokenId: string, tokenSecret: string): string {
  // Header JSON exactly as Go's go-jose marshals it: alg, then kid.
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const mac = createHmac('sha256', Buffer.from(tokenSecret, 'ascii')).update(`${header}.${b64url(payload)}`).digest();
  return `${header}..${b64url(mac)}`;
}

/** Whether `jws` is the detached signature of `payload` by this token (whole-string compare, as joiners do). */
export function verifyClusterInfoJws(jws: string, payload: string, tokenId: string, tokenSecret: string): boolean {
  const want = Buffer.from(signClusterInfo(payload, tokenId, tokenSecret));
  const got = Buffer.from(jws.trim());
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The token id named in a JWS header (`kid`), or undefined when the header is unreadable. */
export function jwsKeyId(jws: string): string | undefined {
  try {
    const h = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof h.kid === 'string' ? h.kid : undefined;
  } catch {
    return undefined;
  }
}
