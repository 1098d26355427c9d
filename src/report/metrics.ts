/**
 * Prometheus text for an Inventory, through prom-client.
 *
 * The per-certificate series keep the metric and label names of the
 * x509-certificate-exporter (enix) so the alerts and Grafana dashboards its
 * users already run keep working when they point them at kubepki:
 * `x509_cert_not_after`, `x509_cert_not_before`, `x509_cert_expired` with
 * `serial_number` (decimal), `subject_*`, `issuer_*`, `filename`, `filepath`,
 * and for kubeconfig entries `embedded_kind` (`user`/`cluster`) and
 * `embedded_key` (the entry's name). kubepki adds `node`, `name` (kubeadm
 * name), `component`, `managed_by` and `expiry_severity` (what check calls
 * this certificate's expiry: `error`, or `warning`/`info` for the kubelet's
 * self-signed kubelet.crt and its throwaway CA, which nothing renews and
 * kube-apiserver does not verify: the alerts page only for `error`).
 *
 * A fresh Registry per render: the global default registry would leak series
 * of certificates that are gone from disk between two reads.
 *
 * Pure: no I/O, no clock; prom-client is imported lazily so `check` does not
 * pay for it unless `-o prom` is asked for.
 */
import type { CertEntry, Inventory } from '../inventory/types.js';
import { splitNameString } from '../pki/certificate.js';
import { expirySeverity } from '../inventory/classify.js';

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const DN_FIELDS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;

export const CERT_LABELS = [
  'serial_number',
  ...DN_FIELDS.map((f) => `subject_${f}`),
  ...DN_FIELDS.map((f) => `issuer_${f}`),
  'filename',
  'filepath',
  'embedded_kind',
  'embedded_key',
  'node',
  'name',
  'component',
  'managed_by',
  'expiry_severity',
  // only set when two certificates would otherwise share every label
  // (the same certificate twice in one bundle): the SHA-256 prefix.
  'discriminator',
] as const;

export interface ServedProbe {
  /** host:port probed */
  endpoint: string;
  component?: string;
  /** node path of the certificate the endpoint should serve */
  file?: string;
  /** true when the served certificate is not the one on disk */
  stale: boolean;
  /** true when the endpoint leaves out an intermediate CA that is on disk (what `kubepki probe` calls an incomplete chain) */
  incompleteChain?: boolean;
}

export interface MetricsExtras {
  /** 1 when the server's last read of the tree failed (it serves the previous inventory) */
  readErrors?: number;
  /** failed reads since the server started */
  readFailuresTotal?: number;
  /** seconds the last read took */
  readDurationSeconds?: number;
  /** epoch seconds of the last successful read */
  lastReadTimestamp?: number;
  /** results of a live probe of the local endpoints, when one ran */
  probes?: ServedProbe[];
  version?: string;
}

/** Split `CN=a, O=b, O=c` or `CN=a + O=b` (nameToString's form, values RFC 4514-escaped) into fields, values unescaped; repeated fields join with `,`. */
export function splitDn(dn: string): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (const a of splitNameString(dn)) (out[a.type] ??= []).push(a.value);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.join(',')]));
}

/** Lowercase hex serial → decimal string, as the exporter labels it. */
export function serialDecimal(hex: string): string {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  if (!clean) return '';
  try { return BigInt('0x' + clean).toString(10); } catch { return clean; }
}

function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export function certLabels(c: CertEntry, node: string, signer?: CertEntry): Record<string, string> {
  const s = splitDn(c.subject);
  const i = splitDn(c.issuer);
  const labels: Record<string, string> = { serial_number: serialDecimal(c.serial) };
  for (const f of DN_FIELDS) labels[`subject_${f}`] = s[f] ?? '';
  for (const f of DN_FIELDS) labels[`issuer_${f}`] = i[f] ?? '';
  // prefer the structured fields when the reader filled them
  if (c.subjectCN !== undefined) labels.subject_CN = c.subjectCN;
  if (c.subjectO.length) labels.subject_O = c.subjectO.join(',');
  if (c.issuerCN !== undefined) labels.issuer_CN = c.issuerCN;
  const file = c.location.file;
  labels.filepath = file;
  labels.filename = file.slice(file.lastIndexOf('/') + 1);
  labels.embedded_kind = c.location.kubeconfig?.entry ?? '';
  labels.embedded_key = c.location.kubeconfig?.name ?? '';
  labels.node = node;
  labels.name = c.name;
  labels.component = [...c.components].sort().join(',');
  labels.managed_by = c.managedBy;
  // (from who the certificate is, never its dates: the label set stays the same when it expires)
  labels.expiry_severity = expirySeverity(c, signer);
  return labels;
}

/** Count of findings that mean a file could not be read. */
export function readErrorFindings(inv: Inventory): number {
  return inv.findings.filter((f) => f.code === 'unreadable' || f.code === 'corrupt').length;
}

/**
 * The metrics text for one inventory. `nodeName` fills the `node` label
 * (defaults to the inventory's node name, then '').
 */
export async function renderPrometheus(inventory: Inventory, nodeName?: string, extras: MetricsExtras = {}): Promise<string> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  const node = nodeName ?? inventory.nodeName ?? '';
  const nowSec = epochSeconds(inventory.now);
  const labelNames = [...CERT_LABELS];

  const notAfter = new prom.Gauge({ name: 'x509_cert_not_after', help: 'Certificate notAfter as seconds since the Unix epoch', labelNames, registers: [registry] });
  const notBefore = new prom.Gauge({ name: 'x509_cert_not_before', help: 'Certificate notBefore as seconds since the Unix epoch', labelNames, registers: [registry] });
  const expired = new prom.Gauge({ name: 'x509_cert_expired', help: '1 when the certificate has expired at read time, 0 otherwise', labelNames, registers: [registry] });

  const seen = new Set<string>();
  const byId = new Map(inventory.certificates.map((c) => [c.id, c]));
  for (const c of inventory.certificates) {
    const labels = certLabels(c, node, c.signedBy ? byId.get(c.signedBy) : undefined);
    let key = JSON.stringify(labels);
    if (seen.has(key)) {
      labels.discriminator = c.fingerprint.slice(0, 12);
      key = JSON.stringify(labels);
      if (seen.has(key)) continue; // byte-identical certificate repeated in one place: one series
    }
    seen.add(key);
    const na = epochSeconds(c.notAfter);
    notAfter.set(labels, na);
    notBefore.set(labels, epochSeconds(c.notBefore));
    expired.set(labels, na <= nowSec ? 1 : 0);
  }

  const certs = new prom.Gauge({ name: 'kubepki_certificates', help: 'Certificates by status at read time', labelNames: ['node', 'status'], registers: [registry] });
  const s = inventory.summary;
  for (const [status, n] of [['ok', s.ok], ['warning', s.warning], ['expired', s.expired], ['not-yet-valid', s.notYetValid], ['invalid', s.invalid]] as const) {
    certs.set({ node, status }, n);
  }

  const findings = new prom.Gauge({ name: 'kubepki_findings', help: 'Findings by code and severity (see `kubepki check`)', labelNames: ['node', 'code', 'severity'], registers: [registry] });
  const counts = new Map<string, { code: string; severity: string; n: number }>();
  for (const f of inventory.findings) {
    const k = `${f.code}\u0000${f.severity}`;
    const e = counts.get(k) ?? { code: f.code, severity: f.severity, n: 0 };
    e.n++;
    counts.set(k, e);
  }
  for (const e of counts.values()) findings.set({ node, code: e.code, severity: e.severity }, e.n);

  const missing = new prom.Gauge({ name: 'kubepki_missing_files', help: 'Files the detected layout expects that are not on disk', labelNames: ['node'], registers: [registry] });
  missing.set({ node }, inventory.missing.filter((m) => m.state !== 'unreadable').length);
  const unreadable = new prom.Gauge({ name: 'kubepki_unreadable_files', help: 'Files the detected layout expects that are on disk but hold no readable certificate (corrupt, empty, a directory, a broken link)', labelNames: ['node'], registers: [registry] });
  unreadable.set({ node }, inventory.missing.filter((m) => m.state === 'unreadable').length);

  // one series per probed endpoint (without probes, none: kubepki_served_cert_probed 0 says nothing was compared)
  const probeGauge = (name: string, help: string, on: (p: NonNullable<typeof extras.probes>[number]) => boolean | undefined) => {
    const g = new prom.Gauge({ name, help, labelNames: ['node', 'endpoint', 'component', 'filepath'], registers: [registry] });
    for (const p of extras.probes ?? []) g.set({ node, endpoint: p.endpoint, component: p.component ?? '', filepath: p.file ?? '' }, on(p) ? 1 : 0);
  };
  probeGauge('kubepki_served_cert_stale', '1 when a local endpoint still serves a certificate that is no longer the one on disk (component not restarted)', (p) => p.stale);
  // the chain `kubepki probe` calls incomplete (exit 2): clients that trust only the root refuse the endpoint,
  // whatever its certificate's dates
  probeGauge('kubepki_served_chain_incomplete', '1 when a local endpoint does not send an intermediate CA (on disk) between its certificate and the root: clients that trust only the root fail with "x509: certificate signed by unknown authority"', (p) => p.incompleteChain);
  // How many local endpoints answered the probe: 0 means kubepki_served_cert_stale says nothing about
  // the running components (nothing listening, or --no-probe), rather than a reassuring 0.
  const probed = new prom.Gauge({ name: 'kubepki_served_cert_probed', help: 'Local endpoints whose served certificate was compared with disk in the last read', labelNames: ['node'], registers: [registry] });
  probed.set({ node }, extras.probes?.length ?? 0);

  const readErrors = new prom.Gauge({ name: 'kubepki_read_errors', help: 'Files that could not be read or parsed now, plus 1 while the last read of the whole tree failed', labelNames: ['node'], registers: [registry] });
  readErrors.set({ node }, readErrorFindings(inventory) + (extras.readErrors ?? 0));
  if (extras.readFailuresTotal !== undefined) {
    const failures = new prom.Counter({ name: 'kubepki_read_failures_total', help: 'Reads of the node tree that failed since serve started', labelNames: ['node'], registers: [registry] });
    failures.inc({ node }, extras.readFailuresTotal);
  }

  const readTs = new prom.Gauge({ name: 'kubepki_last_read_timestamp_seconds', help: 'When the last successful read of the node was made (its `now`), seconds since the Unix epoch; 0 while none has succeeded', labelNames: ['node'], registers: [registry] });
  readTs.set({ node }, extras.lastReadTimestamp ?? nowSec);
  if (extras.readDurationSeconds !== undefined) {
    const dur = new prom.Gauge({ name: 'kubepki_read_duration_seconds', help: 'Seconds the last read of the node tree took', labelNames: ['node'], registers: [registry] });
    dur.set({ node }, extras.readDurationSeconds);
  }
  const info = new prom.Gauge({ name: 'kubepki_build_info', help: 'kubepki version and what it read', labelNames: ['node', 'version', 'layouts', 'warn'], registers: [registry] });
  info.set({ node, version: extras.version ?? '', layouts: inventory.layouts.join(','), warn: inventory.warn }, 1);

  return registry.metrics();
}
