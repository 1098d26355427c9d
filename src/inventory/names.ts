/**
 * What a name says: a file's (a certificate, a kubeconfig, one of the kubelet's rotated pairs), a host's.
 *
 * These are string methods, not regular expressions, because `check` reads them once per start: V8 compiles a
 * regular expression at its first use in every process (the code cache keeps none), and again to machine code at
 * its second. That was 15–250 µs each here, ~1.7 ms for the 66 that a check of a kubeadm node used.
 */

const CERT_EXTS = new Set(['crt', 'pem', 'cer', 'cert', 'der']);
const CERTISH_EXTS = new Set([...CERT_EXTS, 'key', 'pub', 'csr', 'p7b', 'p7c']);

/** The extension of a name or path in lower case ('' when none); `a.d/b` has the extension `d/b`, which none matches. */
function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** A name a certificate, key, CSR or PKCS#7 file has: `.crt .pem .cer .cert .der .key .pub .csr .p7b .p7c`, any case. */
export function isCertishName(name: string): boolean {
  return CERTISH_EXTS.has(extension(name));
}

/**
 * A name a kubeconfig has: `*.conf *.config *.kubeconfig *.yaml *.yml`, or `kubeconfig` or `config` itself, any
 * case (`.config`: MicroK8s's credentials/client.config and the other kubeconfigs its services read).
 */
export function isKubeconfigishName(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith('.conf') || n.endsWith('.config') || n.endsWith('.kubeconfig') || n.endsWith('.yaml') || n.endsWith('.yml') || n === 'kubeconfig' || n === 'config';
}

/** A name or path without its certificate extension (`.crt .pem .cer .cert .der`, any case), if it has one. */
export function withoutCertExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && CERT_EXTS.has(name.slice(dot + 1).toLowerCase()) ? name.slice(0, dot) : name;
}

/** `name` without `.yaml` or `.yml` at its end. */
export function withoutYamlExtension(name: string): string {
  return name.endsWith('.yaml') ? name.slice(0, -5) : name.endsWith('.yml') ? name.slice(0, -4) : name;
}

/** The directory of a path as a prefix to join a name to: '' for a file at the top (`/ca.key`, not `//ca.key`). */
export function dirPrefix(dir: string): string {
  return dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

/** An ASCII digit (what `\d` matches), by its char code. */
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Only ASCII digits, at least one. */
export function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * One of the kubelet's rotated pairs by its name (client-go's certificate store, spec §7.2):
 * `kubelet-client-2024-01-31-12-00-00.pem` (the stamp), or `kubelet-server-updated.pem` (a swap in progress).
 */
export function kubeletPairName(name: string): { kind: 'client' | 'server'; stamp: string } | undefined {
  if (!name.startsWith('kubelet-') || !name.endsWith('.pem') || name.charCodeAt(14) !== 45) return undefined;
  const kind = name.slice(8, 14);
  if (kind !== 'client' && kind !== 'server') return undefined;
  const stamp = name.slice(15, -4);
  return stamp === 'updated' || isRotationStamp(stamp) ? { kind, stamp } : undefined;
}

/** `2024-01-31-12-00-00`, the time client-go's store names a pair by. */
function isRotationStamp(s: string): boolean {
  if (s.length !== 19) return false;
  for (let i = 0; i < 19; i++) {
    const c = s.charCodeAt(i);
    if (i === 4 || i === 7 || i === 10 || i === 13 || i === 16 ? c !== 45 : !isDigit(c)) return false;
  }
  return true;
}

/** A path ending in `/kubelet-client-current.pem` or `/kubelet-server-current.pem`: the link the kubelet reads. */
export function isKubeletCurrentPath(path: string): boolean {
  return path.endsWith('/kubelet-client-current.pem') || path.endsWith('/kubelet-server-current.pem');
}

/** A path ending in `/kubelet-client-…` or `/kubelet-server-…` `.pem` with only digits and dashes between: a rotated pair's file. */
export function isKubeletRotatedPath(path: string): boolean {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return false;
  const base = path.slice(slash + 1);
  if (!(base.startsWith('kubelet-client-') || base.startsWith('kubelet-server-')) || !base.endsWith('.pem')) return false;
  const middle = base.slice(15, -4);
  if (middle.length === 0) return false;
  for (let i = 0; i < middle.length; i++) {
    const c = middle.charCodeAt(i);
    if (c !== 45 && !isDigit(c)) return false;
  }
  return true;
}

/** A host without the brackets of an IPv6 address (`[::1]` as a URL's hostname has it): a leading [ and a trailing ]. */
export function unbracket(host: string): string {
  let h = host;
  if (h.startsWith('[')) h = h.slice(1);
  if (h.endsWith(']')) h = h.slice(0, -1);
  return h;
}

/** Names as a sentence lists them: `a`, `a and b`, `a, b and c`. */
export function listText(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The first `n` names, and how many more: `a, b, c and 4 more`. */
export function someNames(names: string[], n = 3): string {
  return `${names.slice(0, n).join(', ')}${names.length > n ? ` and ${names.length - n} more` : ''}`;
}
