/** Durations and thresholds: `30d`, `12h`, `1y`, `2w`, `1y30d`, `66%`. Pure. */

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, y: 365 * 86400 };

/** Seconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?[smhdwy])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdwy])/g)) total += Number(m[1]) * UNIT[m[2]!]!;
  return Math.round(total);
}

export type Threshold = { kind: 'duration'; seconds: number; text: string } | { kind: 'percent'; percent: number; text: string };

export function parseThreshold(text: string): Threshold | undefined {
  const t = text.trim();
  const pm = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pm) {
    const percent = Number(pm[1]);
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

/**
 * A leaf's lifetime when its notBefore is not when it was issued: kubeadm up to 1.30 and RKE1 start every
 * leaf at its CA's notBefore (spec §1.3), so after a few renewals notAfter − notBefore is years. Then the
 * installer's validity is the lifetime (kubeadm 1 year, RKE1 10 years); otherwise undefined.
 */
export function installerLifetimeSeconds(c: { isCA: boolean; notBefore: string; lifetimeSeconds: number; layout: string; managedBy: string }, signer: { notBefore: string } | undefined, self: boolean): number | undefined {
  // only what those installers made: a CA and its leaves made in the same second elsewhere (cfssl, the
  // hard way) mean nothing by it
  const installer = c.layout === 'rke1' ? 3650 : c.managedBy === 'kubeadm' ? 365 : undefined;
  if (installer === undefined || c.isCA || !signer || self || Math.abs(Date.parse(c.notBefore) - Date.parse(signer.notBefore)) >= 1000 || c.lifetimeSeconds <= 366 * 86400) return undefined;
  return installer * 86400;
}
