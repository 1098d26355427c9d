/** Small helpers for API objects read through client-node's typed models. */

import { goTime } from '../pki/go-duration.js';

/**
 * A deep copy where every Date is a Go-style timestamp string. client-node's
 * serializer passes non-Date values through, so an object read and written
 * back keeps the exact timestamps the server sent (instead of `.000Z`).
 */
export function withGoTimes<T>(v: T): T {
  if (v instanceof Date) return goTime(v) as unknown as T;
  if (Array.isArray(v)) return v.map((x) => withGoTimes(x)) as unknown as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = withGoTimes(x);
    return out as T;
  }
  return v;
}

/** Seconds since a timestamp, for AGE columns. */
export function ageSeconds(ts: Date | string | undefined, now: Date): number | undefined {
  if (!ts) return undefined;
  const t = ts instanceof Date ? ts : new Date(ts);
  if (Number.isNaN(t.getTime())) return undefined;
  return Math.max(0, Math.floor((now.getTime() - t.getTime()) / 1000));
}

/** kubectl-style short age: 45s, 12m, 5h, 3d, 2y. */
export function shortAge(seconds: number | undefined): string {
  if (seconds === undefined) return '<unknown>';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 3600 * 3) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400 * 2) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 86400 * 365 * 2) return `${Math.floor(seconds / 86400)}d`;
  return `${Math.floor(seconds / (86400 * 365))}y`;
}

export function base64Decode(s: string | undefined): string | undefined {
  return s === undefined || s === null ? undefined : Buffer.from(s, 'base64').toString('utf8');
}
