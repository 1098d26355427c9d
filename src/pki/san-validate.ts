/**
 * Validation of subjectAltName entries given by the user (`--cert-sans`,
 * certSANs in a kubeadm config). kubeadm classifies an entry as an IP, else a
 * DNS-1123 subdomain, else a wildcard subdomain, and skips anything else with a
 * warning — so `300.1.1.1` becomes a DNS name and `bad_name` silently goes
 * missing. We refuse both: a SAN that is not in the certificate is an outage
 * later. Pure: no I/O.
 */
import { isIP } from 'node:net';

export type SanEntry = { type: 'ip' | 'dns'; value: string };

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` is not an RFC 1123 subdomain (first label may be `*`), or undefined when it is one. */
export function dnsNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'longer than 253 characters';
  const labels = name.split('.');
  for (const [n, l] of labels.entries()) {
    if (n === 0 && l === '*' && labels.length > 1) continue;
    if (l === '') return 'it has an empty label';
    if (l.length > 63) return `label "${l}" is longer than 63 characters`;
    if (/[A-Z]/.test(l)) return 'upper-case letters are not allowed (write it in lower case)';
    const bad = /[^-a-z0-9]/.exec(l);
    if (bad) return `"${bad[0]}" is not allowed (only a-z, 0-9, "-" and "." are)`;
    if (!LABEL.test(l)) return `label "${l}" starts or ends with "-"`;
  }
  // a name whose last label is all digits is an address, not a host name (RFC 3696 §2)
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'its last label is all digits (a mistyped IP address?)';
  return undefined;
}

/** Classify one entry, or say in a few words why it is neither an IP address nor a DNS name. */
export function checkSan(raw: string): SanEntry | { problem: string } {
  const s = raw.trim();
  if (s === '') return { problem: 'empty entry' };
  if (isIP(s)) return { type: 'ip', value: s };
  if (/^[0-9.]+$/.test(s)) return { problem: `${JSON.stringify(s)} is not a valid IPv4 address` };
  if (s.includes(':')) return { problem: `${JSON.stringify(s)} is not a valid IPv6 address` };
  const p = dnsNameProblem(s);
  return p ? { problem: `${JSON.stringify(s)} is not a valid DNS name: ${p}` } : { type: 'dns', value: s };
}

/**
 * Check a list (a comma-separated flag split, or a config's certSANs): the
 * classified entries, and the problems of every entry that is neither.
 */
export function checkSans(entries: string[]): { sans: SanEntry[]; problems: string[] } {
  const sans: SanEntry[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    const r = checkSan(e);
    if ('problem' in r) problems.push(r.problem);
    else sans.push(r);
  }
  return { sans, problems };
}

/** `DNS:x`, `IP:y`, `email:z`, `URI:u`: a SAN as --add-san takes it and openssl prints it. */
export function sanString(s: { type: string; value: string }): string {
  const label = { dns: 'DNS', ip: 'IP', email: 'email', uri: 'URI', dirname: 'dirName', other: 'otherName' }[s.type] ?? s.type;
  return `${label}:${s.value}`;
}
