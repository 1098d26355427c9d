// Go's time.ParseDuration, which kubeadm uses for its durations (certificateValidityPeriod, token TTLs),
// and the RFC 3339 text Go writes times in.

/** Nanoseconds per unit of a Go duration (time.ParseDuration: no day or year unit). */
const GO_UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const GO_MAX_NS = 2n ** 63n - 1n;

/**
 * Whole seconds in a Go duration as kubeadm reads them (time.ParseDuration:
 * `8760h0m0s`, `720h`, `1h30m`, `1.5h`, `-1h`, `0`); undefined for what Go refuses (`90d`, `1y`, `8760`,
 * more than ~292 years). Not inventory's `parseDuration`: that one takes days and years, which kubeadm does not.
 */
export function parseGoDuration(text: string): number | undefined {
  let t = text;
  const negative = t.startsWith('-');
  if (negative || t.startsWith('+')) t = t.slice(1);
  if (t === '0') return 0;
  if (t === '') return undefined;
  const re = /(\d*)(?:\.(\d*))?([^\d.]*)/y;
  // as Go sums it: the whole part in integers, the fraction as float64(f) * (unit / 10^digits), truncated
  // (`4.35h` is 15660 s exactly, where 4.35 * 3600e9 in floating point falls a nanosecond short)
  let ns = 0n;
  while (re.lastIndex < t.length) {
    const m = re.exec(t);
    const unit = m && GO_UNIT_NS[m[3]!];
    // a number needs a digit (`.5h`, `1.h`, not `.h`) and a unit
    if (!m || (!m[1] && !m[2]) || !unit) return undefined;
    ns += BigInt(m[1] || '0') * BigInt(unit);
    if (m[2]) ns += BigInt(Math.trunc(Number(m[2]) * (unit / 10 ** m[2].length)));
    if (ns > GO_MAX_NS) return undefined;
  }
  const seconds = Number(ns / 1_000_000_000n);
  return negative ? -seconds : seconds;
}

/**
 * RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 and metav1.Time write it
 * (`2026-11-22T21:43:01Z`, not JavaScript's `.000Z`): for messages and API objects.
 */
export function goTime(t: Date | string | number): string {
  const ms = typeof t === 'string' ? Date.parse(t) : typeof t === 'number' ? t : t.getTime();
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A time as Go's time.Parse(time.RFC3339, …) reads it, goTime's inverse: a fraction of a second allowed, `Z` or
 * ±hh:mm, the day within its month; an invalid Date for anything Go refuses (JavaScript's Date takes
 * `2026-11-23 21:43:39`, `2026-11-23` or 30 February).
 */
export function parseGoTime(s: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/.exec(s);
  if (!m) return new Date(NaN);
  const [, y, mo, d, h, mi, sec, , , zh, zm] = m.map(Number);
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysInMonth || h! > 23 || mi! > 59 || sec! > 59) return new Date(NaN);
  if (m[9] !== undefined && (zh! > 23 || zm! > 59)) return new Date(NaN);
  return new Date(s);
}
