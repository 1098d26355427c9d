/**
 * A CA's nameConstraints (RFC 5280 §4.2.1.10) and the matching Go's crypto/x509 does when it verifies a
 * chain: every SAN of a certificate under the CA must lie inside one of the CA's permitted subtrees of that
 * name type (when it has any of that type) and inside none of its excluded ones, or Go (and openssl verify)
 * reject the whole certificate. DNS names and IP ranges are matched exactly as Go does; e-mail and URI
 * names only where the answer is plain, but a URI without a host name, which Go and openssl refuse under
 * any URI constraint, is refused. Pure: no I/O.
 */
import { readTlv, children, contentBytes, latin1Text } from './der.js';
import { formatIp, OID } from './certificate.js';
import { ipBytes } from './sign.js';

export const NAME_CONSTRAINTS_OID = OID.nameConstraints;

export interface Subtree {
  type: 'dns' | 'ip' | 'email' | 'uri' | 'other';
  /** DNS name, e-mail constraint, URI host constraint; for IP `address/mask` as openssl writes it */
  value: string;
  ip?: { addr: Uint8Array; mask: Uint8Array };
}

export interface NameConstraints { permitted: Subtree[]; excluded: Subtree[] }

export interface SanName { type: string; value: string }

export interface ConstraintViolation {
  /**
   * `excluded`: inside an excluded subtree; `not-permitted`: outside every permitted subtree of its type;
   * `unmatchable`: a URI without a host name (urn:…, or an IP address as host), which Go and openssl
   * refuse under any URI constraint (RFC 5280 §4.2.1.10: "the application MUST reject the certificate")
   */
  why: 'excluded' | 'not-permitted' | 'unmatchable';
  /** the constraints that decide it (the excluding one, or every permitted one of the name's type) */
  constraints: Subtree[];
}

/** Parse the extension value (NameConstraints SEQUENCE); undefined when it is not readable. */
export function parseNameConstraints(value: Uint8Array): NameConstraints | undefined {
  try {
    const out: NameConstraints = { permitted: [], excluded: [] };
    for (const part of children(value, readTlv(value, 0))) {
      const into = part.tag === 0xa0 ? out.permitted : part.tag === 0xa1 ? out.excluded : undefined;
      if (!into) continue;
      for (const sub of children(value, part)) {
        const base = children(value, sub)[0];
        if (!base) continue;
        switch (base.tag) {
          case 0x82: into.push({ type: 'dns', value: latin1Text(value, base.contentStart, base.end) }); break;
          case 0x81: into.push({ type: 'email', value: latin1Text(value, base.contentStart, base.end) }); break;
          case 0x86: into.push({ type: 'uri', value: latin1Text(value, base.contentStart, base.end) }); break;
          case 0x87: {
            const b = contentBytes(value, base);
            const n = b.length / 2;
            if (n !== 4 && n !== 16) { into.push({ type: 'other', value: `IP:${Buffer.from(b).toString('hex')}` }); break; }
            const addr = b.slice(0, n), mask = b.slice(n);
            into.push({ type: 'ip', value: `${formatIp(addr)}/${formatIp(mask)}`, ip: { addr, mask } });
            break;
          }
          default: into.push({ type: 'other', value: `tag ${base.tag.toString(16)}` });
        }
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** `DNS:.example.com`, `IP:10.0.0.0/255.0.0.0`: a constraint as openssl prints it. */
export function constraintText(t: Subtree): string {
  const prefix = { dns: 'DNS', ip: 'IP', email: 'email', uri: 'URI', other: '' }[t.type];
  return prefix ? `${prefix}:${t.value}` : t.value;
}

/** Go's domainToReverseLabels: labels last first; undefined for an empty label or a character outside 33-126. */
function reverseLabels(domain: string): string[] | undefined {
  if (domain === '') return [];
  const labels = domain.split('.').reverse();
  if (labels.some((l) => l === '' || /[^\x21-\x7e]/.test(l))) return undefined;
  return labels;
}

/**
 * Go's matchDomainConstraint: an empty constraint matches everything; `.example.com` matches names with at
 * least one more label; `example.com` matches itself and every name under it; labels compare
 * case-insensitively. For an excluded constraint a wildcard name also matches when one of the names it
 * stands for would be excluded (`*.example.com` against `secret.example.com`), as Go now refuses it.
 */
export function matchDomain(domain: string, constraint: string, excluded = false): boolean | undefined {
  if (constraint === '') return true;
  const d = reverseLabels(domain);
  const mustHaveSub = constraint.startsWith('.');
  const c = reverseLabels(mustHaveSub ? constraint.slice(1) : constraint);
  if (!d || !c) return undefined;
  const within = (labels: string[]) => labels.length >= c.length && !(mustHaveSub && labels.length === c.length)
    && c.every((l, i) => l.toLowerCase() === labels[i]!.toLowerCase());
  if (within(d)) return true;
  if (excluded && d[d.length - 1] === '*') {
    // *.example.com stands for x.example.com: excluded when some x.example.com is
    const stem = d.slice(0, -1);
    return c.length === d.length && stem.every((l, i) => l.toLowerCase() === c[i]!.toLowerCase());
  }
  return false;
}

function matchIp(ip: Uint8Array, t: Subtree): boolean {
  const { addr, mask } = t.ip!;
  if (ip.length !== addr.length) return false;
  return ip.every((b, i) => (b & mask[i]!) === (addr[i]! & mask[i]!));
}

/**
 * Go's matchEmailConstraint: `user@host` as that mailbox, the local part exactly and the host in any case
 * (openssl alike: Ops@example.com is not ops@example.com); else the host part against a domain constraint.
 */
function matchEmail(email: string, constraint: string, excluded: boolean): boolean | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const cat = constraint.lastIndexOf('@');
  if (cat >= 0) return email.slice(0, at) === constraint.slice(0, cat) && email.slice(at + 1).toLowerCase() === constraint.slice(cat + 1).toLowerCase();
  return matchDomain(email.slice(at + 1), constraint, excluded);
}

/**
 * The host name of a URI SAN as Go's matchURIConstraint takes it; undefined when it has none (no authority, an IP
 * address: URL gives IPv6 in brackets and IPv4 as dotted digits).
 */
function uriHost(uri: string): string | undefined {
  let host: string;
  try { host = new URL(uri).hostname; } catch { return undefined; }
  if (host === '' || host.startsWith('[') || /^[0-9.]+$/.test(host)) return undefined;
  return host;
}

/** Go's matchURIConstraint: the URI's host (a DNS name) against a domain constraint. */
function matchUri(uri: string, constraint: string, excluded: boolean): boolean | undefined {
  const host = uriHost(uri);
  return host === undefined ? undefined : matchDomain(host, constraint, excluded);
}

/**
 * Whether a SAN lies outside the constraints, as Go's chain verification decides it (excluded first, then
 * permitted of the same type). A name that cannot be matched (an unreadable e-mail or URI, an IP Go would
 * compare with another length) is only refused when it is plainly outside: otherwise undefined.
 */
export function constraintViolation(san: SanName, nc: NameConstraints): ConstraintViolation | undefined {
  const type = san.type;
  if (type !== 'dns' && type !== 'ip' && type !== 'email' && type !== 'uri') return undefined;
  let ip: Uint8Array | undefined;
  if (type === 'ip') {
    try { ip = ipBytes(san.value); } catch { return undefined; }
  }
  const match = (t: Subtree, excluded: boolean): boolean | undefined => {
    switch (type) {
      case 'dns': return matchDomain(san.value, t.value, excluded);
      case 'ip': return matchIp(ip!, t);
      case 'email': return matchEmail(san.value, t.value, excluded);
      case 'uri': return matchUri(san.value, t.value, excluded);
    }
  };
  // a URI with no host name is matched against no URI constraint: Go ("URI with empty host … cannot be matched
  // against constraints", "URI with IP … ") and openssl refuse the certificate when the CA has any
  if (type === 'uri' && uriHost(san.value) === undefined) {
    const any = [...nc.excluded, ...nc.permitted].filter((t) => t.type === 'uri');
    if (any.length > 0) return { why: 'unmatchable', constraints: any };
  }
  const excluding = nc.excluded.find((t) => t.type === type && match(t, true) === true);
  if (excluding) return { why: 'excluded', constraints: [excluding] };
  const permitted = nc.permitted.filter((t) => t.type === type);
  if (permitted.length === 0) return undefined;
  const answers = permitted.map((t) => match(t, false));
  // no permitted subtree holds it, and every one of them said so plainly
  if (answers.every((a) => a === false)) return { why: 'not-permitted', constraints: permitted };
  return undefined;
}

/** `permits only DNS:.example.com` / `excludes DNS:secret.example.com`: a violation in a few words. */
export function violationText(v: ConstraintViolation): string {
  if (v.why === 'unmatchable') return `has URI constraints (${v.constraints.map(constraintText).join(', ')}), which a URI without a host name cannot be matched against`;
  return v.why === 'excluded' ? `excludes ${constraintText(v.constraints[0]!)}` : `permits only ${v.constraints.map(constraintText).join(', ')}`;
}
