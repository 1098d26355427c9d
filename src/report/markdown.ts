/**
 * `kubepki report -o markdown`: the inventory as a change-request attachment
 * (GitHub/GitLab-flavoured Markdown tables). Pure.
 */
import type { CertEntry, Inventory } from '../inventory/types.js';
import { isAuthority, signerShown } from '../inventory/next.js';

const DAY = 86400;

// Text from the node (subjects, file names, messages quoting them) is not ours: a CN of
// `<img src=x onerror=…>` or `[x](javascript:…)` must read as itself wherever the report is pasted,
// including renderers that pass HTML through. CommonMark lets any ASCII punctuation be
// backslash-escaped; these are the ones that can start HTML, an entity, a link, emphasis, a code span,
// strikethrough or a table cell. A newline would end the table row.
const MARKDOWN_SPECIAL = /[\\`*_[\]<>&~|]/g;

function cell(s: string | undefined): string {
  return (s ?? '').replace(/\r?\n/g, ' ').replace(MARKDOWN_SPECIAL, '\\$&');
}

// Inside a code span nothing is markup, but a backtick would close it, a `|` would split the table
// cell (GFM reads `\|` there as `|`) and a newline would end the row.
function code(s: string | undefined): string {
  if (!s) return '';
  return '`' + s.replace(/`/g, 'ˋ').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|') + '`';
}

export function residualText(seconds: number): string {
  const a = Math.abs(seconds);
  const t = a >= 730 * DAY ? `${(a / (365.25 * DAY)).toFixed(1)} y` : a >= 2 * DAY ? `${Math.floor(a / DAY)} d` : a >= 7200 ? `${Math.floor(a / 3600)} h` : `${Math.floor(a / 60)} min`;
  return seconds <= 0 ? `expired ${t} ago` : t;
}

const STATUS: Record<string, string> = { ok: 'ok', warning: '⚠️ expiring', expired: '❌ expired', 'not-yet-valid': '❌ not yet valid', invalid: '❌ invalid' };

function location(c: CertEntry): string {
  const l = c.location;
  if (l.kind === 'kubeconfig' && l.kubeconfig) return `${code(l.file)} (${l.kubeconfig.entry} ${cell(l.kubeconfig.name)})`;
  return code(l.via ?? l.file);
}

export function renderMarkdown(inv: Inventory): string {
  const s = inv.summary;
  const out: string[] = [];
  const date = inv.now.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  out.push(`# Certificates of ${inv.nodeName ? `node ${code(inv.nodeName)}` : code(inv.root)}`);
  out.push('');
  out.push(`Read ${date} by kubepki · layouts: ${inv.layouts.join(', ') || 'none detected'} · warning threshold ${inv.warn}`);
  out.push('');
  const parts = [`**${s.certificates}** certificates`, `**${s.expired}** expired`, `**${s.warning}** expiring within ${inv.warn}`, `**${s.ok}** ok`];
  if (s.notYetValid) parts.push(`**${s.notYetValid}** not yet valid`);
  if (s.invalid) parts.push(`**${s.invalid}** invalid`);
  out.push(parts.join(' · '));
  out.push('');

  const certs = [...inv.certificates].sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter) || a.name.localeCompare(b.name));
  out.push('## Certificates (soonest to expire first)');
  out.push('');
  out.push('| Status | Name | Expires (UTC) | Remaining | Subject CN | Signed by | Read by | Location |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of certs) {
    // as check's table: the kubelet's own self-signed kubelet.crt (CA:TRUE in form only) is a certificate, signed by itself
    out.push(`| ${STATUS[c.status] ?? c.status} | ${cell(c.name)}${isAuthority(c) ? ' (CA)' : ''} | ${c.notAfter.slice(0, 16).replace('T', ' ')} | ${residualText(c.residualSeconds)} | ${cell(c.subjectCN)} | ${cell(signerShown(c) ?? (c.selfSigned ? 'self-signed' : ''))} | ${cell(c.components.join(', '))} | ${location(c)} |`);
  }
  out.push('');

  out.push('## Findings');
  out.push('');
  const order: Record<string, number> = { error: 0, warning: 1, info: 2 };
  const findings = [...inv.findings].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3) || a.code.localeCompare(b.code));
  if (findings.length === 0) out.push('None.');
  else {
    out.push('| Severity | Code | Finding | File |');
    out.push('| --- | --- | --- | --- |');
    for (const f of findings) out.push(`| ${f.severity} | ${code(f.code)} | ${cell(f.message)} | ${code(f.file)} |`);
  }
  out.push('');
  if (inv.missing.length) {
    out.push('## Expected but missing or unreadable');
    out.push('');
    for (const m of inv.missing) out.push(`- ${cell(m.name)}: ${code(m.file)} (${m.layout}) ${m.state === 'unreadable' ? `unreadable: ${cell(m.reason)}` : 'missing'}`);
    out.push('');
  }
  out.push('<details><summary>Fingerprints (SHA-256)</summary>');
  out.push('');
  out.push('| Name | Serial | SHA-256 |');
  out.push('| --- | --- | --- |');
  for (const c of certs) out.push(`| ${cell(c.name)} | ${code(c.serial)} | ${code(c.fingerprint)} |`);
  out.push('');
  out.push('</details>');
  out.push('');
  return out.join('\n');
}
