/**
 * Text rendering of a rebuild: the settings with where each came from, the
 * files and what happens to each, warnings and follow-ups. Pure.
 */
import type { RebuildPlan, RebuildItem } from '../plan/rebuild.js';
import { formatSetting, SETTING_NAMES, type ResolvedSettings } from './settings.js';
import { rootFlagFor } from '../inventory/next.js';
import { goTime } from '../pki/go-duration.js';

/** A column cell: padded, and always at least two spaces before the next column. */
function cell(v: string, width: number): string {
  return v.length + 2 > width ? `${v}  ` : v.padEnd(width);
}

/** A setting's name as shown: kubeadm's own where the internal one says how it is stored (validityMs holds a duration). */
const SHOWN: Record<string, string> = { validityMs: 'certificateValidityPeriod', caValidityMs: 'caCertificateValidityPeriod' };
const shown = (n: string) => SHOWN[n] ?? n;

export function renderSettings(r: ResolvedSettings): string {
  const width = Math.max(...SETTING_NAMES.map((n) => shown(n).length)) + 2;
  const vwidth = Math.min(48, Math.max(...SETTING_NAMES.map((n) => formatSetting(n, r.provenance[n].value).length)) + 2);
  const lines = ['Settings (value, and where it came from):'];
  for (const n of SETTING_NAMES) {
    const p = r.provenance[n];
    lines.push(`  ${shown(n).padEnd(width)}${cell(formatSetting(n, p.value), vwidth)}${p.source}`);
  }
  if (r.overridden.length > 0) {
    lines.push('', 'Also found (not used, a source above wins):');
    for (const o of r.overridden) lines.push(`  ${shown(o.name).padEnd(width)}${cell(formatSetting(o.name, o.value), vwidth)}${o.source}`);
  }
  return lines.join('\n') + '\n';
}

function describe(i: RebuildItem): string {
  switch (i.kind) {
    case 'ca':
    case 'leaf': {
      // a kept file: what is on disk, and what it lacks that this rebuild would put there
      const d = i.action === 'keep' ? i.onDisk : undefined;
      if (d) {
        // (what the file is: a CA file that holds no CA, a leaf another CA signed, as the problems below say)
        const parts = [d.subject, i.kind === 'ca' ? (d.isCA ? 'CA' : 'no CA (no CA:TRUE)') : d.signedByCa === false ? `issued by ${d.issuer}, not signed by ${i.caName}` : `signed by ${i.caName}`];
        if (d.usages.length) parts.push(d.usages.join('+'));
        parts.push(d.sans.length ? `SANs ${d.sans.join(', ')}` : 'no SANs');
        if (d.missingSans.length) parts.push(`missing SAN${d.missingSans.length > 1 ? 's' : ''} ${d.missingSans.join(', ')}`);
        parts.push(`until ${goTime(d.notAfter)}`);
        return parts.join('; ');
      }
      const subj = `${i.subject.o.map((o) => `O=${o}, `).join('')}CN=${i.subject.cn}`;
      const sans = [...i.sans.dns.map((d) => `DNS:${d}`), ...i.sans.ips.map((ip) => `IP:${ip}`)].join(', ');
      const parts = [subj, i.kind === 'ca' ? 'CA' : `signed by ${i.caName}`];
      if (i.usages.length) parts.push(i.usages.join('+'));
      if (sans) parts.push(`SANs ${sans}`);
      if (i.action !== 'keep') parts.push(`key ${i.key === 'reuse' ? 'reused' : i.keyType}`, `${i.notBefore?.slice(0, 19)}Z → ${i.notAfter?.slice(0, 19)}Z`);
      return parts.join('; ');
    }
    case 'kubeconfig': {
      const kc = i.kubeletClient;
      const cert = i.action === 'keep' ? '' : kc?.reuse ? `; client certificate ${kc.current}` : `; key ${i.keyType}; until ${i.notAfter?.slice(0, 19)}Z`;
      const where = kc && i.action !== 'keep' ? `\n          (${kc.reason})` : '';
      return `${i.subject.o.map((o) => `O=${o}, `).join('')}CN=${i.subject.cn}; server ${i.server}${cert}${where}`;
    }
    case 'sa':
      return i.key === 'new' ? `new ${i.keyType} key pair` : 'from the existing sa.key';
    case 'manifest': {
      const base = i.etcd ? `static pod etcd; --initial-cluster=${i.etcd.initialCluster}${i.etcd.state === 'existing' ? ' --initial-cluster-state=existing' : ''} (${i.etcd.source})` : `static pod ${i.manifest}`;
      return i.carries ? `${base}; with ${i.carries.what} from ${i.carries.from}` : base;
    }
  }
}

function pathsOf(i: RebuildItem): string {
  switch (i.kind) {
    case 'ca': case 'leaf': return `${i.certPath} (+ .key)`;
    case 'sa': return i.action !== 'keep' && i.key === 'keep' ? i.pubPath : `${i.keyPath}, ${i.pubPath}`;
    case 'kubeconfig': return i.kubeletClient?.pem && i.action !== 'keep' ? `${i.path} (+ ${i.kubeletClient.pem}, with ${i.kubeletClient.current} → it)` : i.path;
    default: return i.path;
  }
}

export function renderPlan(plan: RebuildPlan, root = '/'): string {
  const lines = [`Files (kubeadm ${plan.kubernetesVersion} layout):`];
  for (const i of plan.items) {
    lines.push(`  ${i.action.toUpperCase().padEnd(8)}${pathsOf(i)}`);
    lines.push(`          ${describe(i)}${i.reason ? `\n          (${i.reason})` : ''}`);
  }
  for (const k of plan.skipped ?? []) lines.push(`  ${'SKIP'.padEnd(8)}${k.path}`, `          (${k.reason})`);
  const warnings = [...plan.warnings, ...(plan.expired.length ? [expiredWarning(plan, root)] : [])];
  if (warnings.length) lines.push('', 'Warnings:', ...warnings.map((w) => `  - ${w}`));
  if (plan.errors.length) lines.push('', 'Problems (nothing is written until they are fixed):', ...plan.errors.map((e) => `  - ${e}`));
  if (plan.followUps.length) lines.push('', 'Then, outside this node:', ...plan.followUps.map((f) => `  - ${f}`));
  return lines.join('\n') + '\n';
}

/**
 * `N kept files are expired (names): run \`kubepki renew all[ --root R]\`` — names relative to /etc/kubernetes(/pki);
 * the tree's --root, as every command kubepki prints for a tree (or it renews the host's files).
 */
export function expiredWarning(plan: RebuildPlan, root = '/'): string {
  const short = (p: string) => p.replace(/^\/etc\/kubernetes\/pki\//, '').replace(/^\/etc\/kubernetes\//, '');
  const n = plan.expired.length;
  return `${n} kept file${n === 1 ? ' is' : 's are'} expired (${plan.expired.map(short).join(', ')}): run \`kubepki renew all${rootFlagFor(root)}\``;
}
