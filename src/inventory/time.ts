/** Durations and thresholds: `30d`, `12h`, `1y`, `2w`, `1y30d`, `66%`; Go durations; certificate lifetimes. Pure. */
import type { KubeadmValidity } from './types.js';
import { kubeadmProfile } from '../profiles/kubeadm.js';

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, y: 365 * 86400 };

/** Seconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  // (one number and a unit, `30d`, needs none of the patterns below: see names.ts for why that counts)
  const unit = UNIT[t.slice(-1)];
  if (unit !== undefined && plainNumber(t.slice(0, -1))) return Math.round(Number(t.slice(0, -1)) * unit);
  if (!/^(\d+(\.\d+)?[smhdwy])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdwy])/g)) total += Number(m[1]) * UNIT[m[2]!]!;
  return Math.round(total);
}

/** `30`, `1.5`: digits and a fraction, as JavaScript prints the number (not `030`, `1.50`, `1e3`, `+1`). */
function plainNumber(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 48 && c <= 57 && String(Number(s)) === s;
}

export type Threshold = { kind: 'duration'; seconds: number; text: string } | { kind: 'percent'; percent: number; text: string };

export function parseThreshold(text: string): Threshold | undefined {
  const t = text.trim();
  const pm = !t.endsWith('%') ? undefined : plainNumber(t.slice(0, -1)) ? t.slice(0, -1) : /^(\d+(?:\.\d+)?)%$/.exec(t)?.[1];
  if (pm !== undefined) {
    const percent = Number(pm);
    if (percent <= 0 || percent >= 100) return undefined;
    return { kind: 'percent', percent, text: t };
  }
  const s = parseDuration(t);
  return s === undefined ? undefined : { kind: 'duration', seconds: s, text: t };
}

export const DEFAULT_WARN = '30d';

/**
 * Whether a certificate is inside the warning window. For a percentage, the
 * window opens once that share of the lifetime has passed (`66%` = warn after
 * two thirds, as cert-manager renews).
 */
export function inWarningWindow(th: Threshold, notBefore: Date, notAfter: Date, now: Date): boolean {
  const left = (notAfter.getTime() - now.getTime()) / 1000;
  if (th.kind === 'duration') return left <= th.seconds;
  const life = (notAfter.getTime() - notBefore.getTime()) / 1000;
  const used = life - left;
  return life > 0 && used / life >= th.percent / 100;
}

/** When the warning window opens. */
export function warningStart(th: Threshold, notBefore: Date, notAfter: Date): Date {
  if (th.kind === 'duration') return new Date(notAfter.getTime() - th.seconds * 1000);
  return new Date(notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) * (th.percent / 100));
}

/**
 * kubeadm ≥1.31 RESIDUAL TIME ("HumanDuration" of apimachinery), spec §4.1.
 */
export function humanDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 10) {
    const sec = s % 60;
    return sec === 0 ? `${minutes}m` : `${minutes}m${sec}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(s / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 192) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 2 * 8760) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (hours < 8 * 8760) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** `Jan 02, 2006 15:04 MST` in UTC, as kubeadm prints EXPIRES. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function kubeadmDate(d: Date): string {
  const mon = MONTHS[d.getUTCMonth()]!; // as toLocaleString('en-US', { month: 'short' }) says, without loading ICU (~8 ms)
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${mon} ${dd}, ${d.getUTCFullYear()} ${hh}:${mm} UTC`;
}

/** Parse `--now`: an ISO date or date-time. */
export function parseNow(text: string | undefined, fallback: () => Date): Date {
  if (text === undefined) return fallback();
  if (!text.trim()) throw new Error('--now is empty; use e.g. 2026-11-23 or 2026-11-23T10:00:00Z, or leave it out for the clock');
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new Error(`--now ${JSON.stringify(text)} is not a date; use e.g. 2026-11-23 or 2026-11-23T10:00:00Z`);
  return d;
}

/** Go durations (kubeadm's certificateValidityPeriod, token TTLs): one parser, in pki/ where the token code can reach it. */
export { goTime, parseGoDuration } from '../pki/go-duration.js';

/** Where a certificate's lifetime comes from (the renew plan says which). */
export type LifetimeSource = 'validity-flag' | 'kubeadm-config' | 'installer' | 'own';

export interface Lifetime {
  seconds: number;
  source: LifetimeSource;
  /** `kubeadm-config`: the field, its value as written and the file */
  configured?: { field: 'certificateValidityPeriod' | 'caCertificateValidityPeriod'; text: string; file: string };
  /** the kubeadm config sets this certificate's period, but unusably: the reason, and `seconds` come from the next source */
  ignored?: string;
}

type LifetimeCert = { isCA: boolean; notBefore: string; lifetimeSeconds: number; layout: string; managedBy: string; profile?: string; location?: { kind: string } };

/**
 * How long a certificate lives, and why: the one place that decides it, for renew (the new certificate's
 * lifetime) and for `check --warn N%` (the lifetime it was issued with). In order:
 * 1. `--validity` (renewal only);
 * 2. the node's kubeadm config (v1beta4, kubeadm ≥1.31): `certificateValidityPeriod` for kubeadm's leaves,
 *    kubeconfig client certificates included, `caCertificateValidityPeriod` for kubeadm's CAs. A renewal always
 *    takes it, as `kubeadm certs renew` does (spec §1.3, §4). For `check` it is the lifetime only of a
 *    kubeconfig client certificate whose notBefore is its CA's: kubeadm ≥1.31 creates those so (spec §1.3),
 *    while it starts every PKI leaf and every renewal at its own start, so a PKI leaf with the CA's notBefore
 *    was made by kubeadm ≤1.30 with its year, and anything else was issued with its own lifetime;
 * 3. the installer's, for a leaf whose notBefore is not when it was issued: kubeadm up to 1.30 and RKE1 start
 *    every leaf at its CA's notBefore (spec §1.3), and so do k3s and RKE2 (rancher/dynamiclistener's
 *    NewSignedCert, before its CalculateNotBefore of late 2025), so after a few renewals notAfter − notBefore
 *    is years (kubeadm, k3s and RKE2 1 year, spec §9.2; RKE1 10 years);
 * 4. its own, notAfter − notBefore.
 */
export function certificateLifetime(
  c: LifetimeCert,
  signer: { notBefore: string } | undefined,
  self: boolean,
  o: { configured?: KubeadmValidity; renewal?: boolean; validitySeconds?: number } = {},
): Lifetime {
  if (o.renewal && o.validitySeconds !== undefined) return { seconds: o.validitySeconds, source: 'validity-flag' };
  // only what those installers made: a CA and its leaves made in the same second elsewhere (cfssl, the
  // hard way) mean nothing by it
  const installerDays = c.layout === 'rke1' ? 3650 : byKubeadm(c) || byRancher(c) ? 365 : undefined;
  // (a kubeadm built for longer certificates, as seed 004's 10-year one, signs its leaves seconds after its CA
  // for whole years: notAfter − notBefore is then N×365 days and a few seconds, which a renewal by a stock
  // kubeadm gives only by landing within the hour of an anniversary of the CA: that is its own lifetime)
  const wholeYears = byKubeadm(c) && c.lifetimeSeconds >= 2 * 365 * 86400 && c.lifetimeSeconds % (365 * 86400) < 3600;
  const notBeforeIsCas = installerDays !== undefined && !c.isCA && signer !== undefined && !self && !wholeYears
    && Math.abs(Date.parse(c.notBefore) - Date.parse(signer.notBefore)) < 1000 && c.lifetimeSeconds > 366 * 86400;
  let ignored: string | undefined;
  const field = kubeadmPeriodOf(c);
  if (field && o.configured && (o.renewal || (notBeforeIsCas && c.location?.kind === 'kubeconfig'))) {
    const period = o.configured[field];
    if (period) return { seconds: period.seconds, source: 'kubeadm-config', configured: { field, text: period.text, file: o.configured.file } };
    ignored = o.configured.problems?.find((p) => p.field === field)?.message;
  }
  const base: Lifetime = notBeforeIsCas ? { seconds: installerDays * 86400, source: 'installer' } : { seconds: c.lifetimeSeconds, source: 'own' };
  return ignored ? { ...base, ignored } : base;
}

/** The kubeadm config field that sets c's lifetime, if kubeadm made c. */
function kubeadmPeriodOf(c: LifetimeCert): 'certificateValidityPeriod' | 'caCertificateValidityPeriod' | undefined {
  // (a CA's managedBy is `manual` even in kubeadm's PKI: its profile says it is kubeadm's)
  if (c.isCA) return c.profile !== undefined && kubeadmProfile(c.profile)?.isCA && !['rke1', 'rke2', 'k3s'].includes(c.layout) ? 'caCertificateValidityPeriod' : undefined;
  return byKubeadm(c) ? 'certificateValidityPeriod' : undefined;
}

/**
 * k3s or RKE2 made c and re-issues it when it starts (not kube-apiserver's loopback pair in the same tree, which
 * client-go made with its own CA and a hundred years)
 */
function byRancher(c: LifetimeCert): boolean {
  return (c.layout === 'k3s' || c.layout === 'rke2') && c.managedBy === c.layout;
}

/** kubeadm made c and renews it: by hand, or run by kubespray's k8s-certs-renew.timer */
function byKubeadm(c: LifetimeCert): boolean {
  return c.managedBy === 'kubeadm' || c.managedBy === 'k8s-certs-renew.timer';
}
