import type { CertEntry, Inventory, Finding } from '../inventory/types.js';
import { goTime, humanDuration, kubeadmDate } from '../inventory/time.js';
import { KUBEADM_CA_NAMES, isAuthority, nextStep, signerShown } from '../inventory/next.js';
import { localeOrder } from '../inventory/order.js';

/** Colour only for a TTY; no dependency for four escape codes. */
export interface Paint { red(s: string): string; yellow(s: string): string; green(s: string): string; dim(s: string): string; bold(s: string): string }
const esc = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const colour: Paint = { red: esc(31), yellow: esc(33), green: esc(32), dim: esc(2), bold: esc(1) };
export const plain: Paint = { red: (s) => s, yellow: (s) => s, green: (s) => s, dim: (s) => s, bold: (s) => s };

/**
 * Go text/tabwriter as kubeadm uses it (minwidth 10, padding 3): each column
 * as wide as its longest cell + 3, at least 10; the last cell is not padded.
 * Widths are computed on the text without colour codes.
 */
export function tabwrite(rows: string[][]): string {
  // (most cells have no colour: no regexp run for them)
  const strip = (s: string) => (s.includes('\x1b') ? s.replace(/\x1b\[[0-9;]*m/g, '') : s);
  const cols = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) widths[c] = Math.max(10, ...rows.map((r) => strip(r[c] ?? '').length + 3));
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell + ' '.repeat(Math.max(0, widths[i]! - strip(cell).length)) : cell)).join('').trimEnd()).join('\n') + '\n';
}

const STATUS_TEXT: Record<CertEntry['status'], string> = { ok: 'ok', warning: 'warning', expired: 'EXPIRED', 'not-yet-valid': 'NOT YET VALID', invalid: 'INVALID' };

function paintStatus(s: CertEntry['status'], p: Paint): string {
  const t = STATUS_TEXT[s];
  return s === 'ok' ? p.green(t) : s === 'warning' ? p.yellow(t) : p.red(t);
}

function residual(e: CertEntry): string {
  return humanDuration(e.residualSeconds);
}

function where(e: CertEntry): string {
  const l = e.location;
  let s = l.via ?? l.file;
  if (l.kind === 'kubeconfig' && l.kubeconfig) s += ` (${l.kubeconfig.entry} ${l.kubeconfig.name})`;
  else if (l.index > 0) s += ` [${l.index}]`;
  // (kubespray's copy of another etcd host's certificate: that host reads its own)
  if (e.forHost) s += ` (${e.forHost}'s copy)`;
  return s;
}

function externallyManaged(e: CertEntry, inv: Inventory): string {
  const ca = e.isCA ? e : inv.certificates.find((c) => c.id === e.signedBy);
  if (!ca) return 'no';
  return ca.privateKey.present ? 'no' : 'yes';
}

export interface TableOptions { wide?: boolean; paint?: Paint }

/** The human view: leaves, CAs, then findings — kubeadm's check-expiration columns and more. */
export function renderTable(inv: Inventory, opts: TableOptions = {}): string {
  const p = opts.paint ?? plain;
  const wide = opts.wide ?? false;
  // (the kubelet's own self-signed kubelet.crt is CA:TRUE in form only: a certificate row, not an authority)
  const leaves = inv.certificates.filter((c) => !isAuthority(c));
  const cas = inv.certificates.filter(isAuthority);
  const head = ['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED', 'STATUS', 'RENEWED BY', wide ? 'COMPONENTS' : '', 'FILE'].filter(Boolean);
  const extra = (e: CertEntry) => (wide ? [e.subject || '-', e.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`).join(',') || '-', `${e.keyAlgorithm}${e.curve ? ` ${e.curve}` : ` ${e.keySize}`}`, e.serial] : []);
  const rows: string[][] = [wide ? [...head, 'SUBJECT', 'SANS', 'KEY', 'SERIAL'] : head];
  // kubeadm's `!MISSING!` rows, and `!INVALID!` for an expected file that is there but holds no readable certificate
  const missingRows = inv.missing.filter((m) => !m.name.startsWith('sa')).map((m) => {
    const word = m.state === 'unreadable' ? 'INVALID' : 'MISSING';
    return { name: m.name, row: [p.red(`!${word}! ${m.name}`), '', '', '', '', p.red(word), '', ...(wide ? [''] : []), m.file] };
  });
  const leafRows = leaves.map((e) => ({
    name: e.name,
    row: [e.name, kubeadmDate(new Date(e.notAfter)), residual(e), signerShown(e) ?? (e.selfSigned ? '(self)' : p.yellow('(unknown)')), externallyManaged(e, inv), paintStatus(e.status, p), e.managedBy, ...(wide ? [e.components.join(',') || '-'] : []), where(e), ...extra(e)],
  }));
  rows.push(...[...leafRows, ...missingRows.filter((m) => !cas.length || !KUBEADM_CA_NAMES.includes(m.name))].sort((a, b) => localeOrder(a.name, b.name)).map((r) => r.row));
  // an unfinished run comes first: every row below is read from the files as it left them (or is writing them)
  let out = '';
  for (const f of inv.findings.filter((x) => x.code === 'interrupted-run')) {
    out += f.severity === 'info'
      ? `${p.dim('RUN IN PROGRESS')}: ${f.message}\n(the rows below are read from files it is still writing)\n\n`
      : `${p.red('INTERRUPTED RUN')}: ${f.message}\n(the rows below are read from the files as that run left them, some changed and others not)\n\n`;
  }
  out += tabwrite(rows);
  const caHead = ['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED', 'STATUS', 'SIGNS', ...(wide ? ['COMPONENTS'] : []), 'FILE'];
  const caRows = cas.map((e) => [e.name, kubeadmDate(new Date(e.notAfter)), residual(e), e.privateKey.present ? 'no' : 'yes', paintStatus(e.status, p), String(inv.certificates.filter((c) => c.signedBy === e.id && c.id !== e.id).length), ...(wide ? [e.components.join(',') || '-'] : []), where(e), ...extra(e)]);
  for (const m of missingRows.filter((m) => KUBEADM_CA_NAMES.includes(m.name))) caRows.push(m.row.slice(0, caHead.length));
  if (caRows.length) out += '\n' + tabwrite([wide ? [...caHead, 'SUBJECT', 'SANS', 'KEY', 'SERIAL'] : caHead, ...caRows.sort((a, b) => localeOrder(a[0]!, b[0]!))]);
  const fs = inv.findings;
  if (fs.length) {
    out += `\nFINDINGS\n`;
    for (const f of sortFindings(fs)) out += `  ${paintSeverity(f, p)} ${f.code.padEnd(26)} ${f.message}\n`;
  }
  const s = inv.summary;
  const gone = inv.missing.filter((m) => m.state !== 'unreadable').length;
  const unreadable = inv.missing.length - gone;
  const next = inv.next ?? nextStep(inv);
  // errors the rows above do not show (a kubelet config the kubelet refuses, sa.pub not matching sa.key)
  const rowFiles = new Set(inv.missing.map((m) => m.file));
  const other = inv.findings.filter((f) => f.severity === 'error' && !f.certificate && !(f.file && rowFiles.has(f.file))).length;
  out += `\n${s.certificates} certificates: ${s.ok} ok, ${s.warning} warning, ${s.expired} expired, ${s.notYetValid} not yet valid, ${s.invalid} invalid` +
    `${gone ? `, ${gone} missing` : ''}${unreadable ? `, ${unreadable} unreadable` : ''}${other ? `, ${other} other error${other > 1 ? 's' : ''}` : ''} (now ${goTime(inv.now)}, warn ${inv.warn}, layouts ${inv.layouts.join(',') || 'none'})\n` +
    (next ? `Next: ${next}\n` : '');
  return out;
}

const SEV_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort((a, b) => SEV_ORDER[a.severity] - SEV_ORDER[b.severity] || localeOrder(a.code, b.code) || localeOrder(a.file ?? '', b.file ?? ''));
}

function paintSeverity(f: Finding, p: Paint): string {
  const t = f.severity.toUpperCase().padEnd(7);
  return f.severity === 'error' ? p.red(t) : f.severity === 'warning' ? p.yellow(t) : p.dim(t);
}

/** Exit code of an inventory: 2 error, 1 warning, 0 healthy. */
export function inventoryExitCode(inv: Inventory): number {
  if (inv.findings.some((f) => f.severity === 'error')) return 2;
  if (inv.findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}

