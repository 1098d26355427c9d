import type { CertEntry, Inventory, KeyEntry, CsrEntry } from '../inventory/types.js';
import { humanDuration } from '../inventory/time.js';
import { isAuthority, signerShown } from '../inventory/next.js';

const sanText = (e: { sans: CertEntry['sans'] }) => e.sans.map((s) => `${s.type === 'dns' ? 'DNS' : s.type === 'ip' ? 'IP' : s.type === 'email' ? 'email' : s.type === 'uri' ? 'URI' : s.type}:${s.value}`).join(', ');

export function validityText(e: CertEntry): string {
  if (e.status === 'not-yet-valid') return `not yet valid (starts in ${humanDuration(-Math.floor((Date.parse(e.inventoryNow ?? '') - Date.parse(e.notBefore)) / 1000))})`;
  return e.residualSeconds < 0 ? `EXPIRED ${humanDuration(-e.residualSeconds)} ago` : `${humanDuration(e.residualSeconds)} left`;
}

declare module '../inventory/types.js' {
  interface CertEntry { inventoryNow?: string }
}

/** The short view of one certificate (never a key). */
export function renderCertShort(e: CertEntry, title: string): string {
  const lines = [
    `${title}`,
    `  Name:        ${e.name}`,
    `  Subject:     ${e.subject || '(empty)'}`,
    `  Issuer:      ${e.issuer || '(empty)'}`,
    `  Serial:      ${e.serial}`,
    `  Valid:       ${e.notBefore} → ${e.notAfter} (${validityText(e)})`,
    `  Status:      ${e.status}`,
  ];
  if (e.sans.length) lines.push(`  SANs:        ${sanText(e)}`);
  lines.push(`  Key:         ${e.keyAlgorithm}${e.curve ? ` ${e.curve}` : e.keySize ? ` ${e.keySize}` : ''}${e.privateKey.present ? `; private key ${e.privateKey.encrypted ? 'encrypted' : e.privateKey.matches ? 'present and matches' : 'DOES NOT MATCH'} (${e.privateKey.location?.file}${e.privateKey.location?.user ? `, user ${e.privateKey.location.user}` : ''})` : '; no private key found'}`);
  if (e.keyUsage.length || e.extKeyUsage.length) lines.push(`  Usage:       ${[...e.keyUsage, ...e.extKeyUsage].join(', ')}`);
  // (as check: the kubelet's own self-signed kubelet.crt is CA:TRUE in form only, a certificate signed by itself)
  lines.push(`  CA:          ${isAuthority(e) ? 'yes' : e.isCA ? 'no, CA:TRUE in form only (a self-signed serving certificate that signs nothing)' : 'no'}${e.selfSigned ? ' (self-signed)' : ''}`);
  const signer = signerShown(e);
  lines.push(`  Signed by:   ${signer ? `${signer} (signature verified)` : e.selfSigned ? 'itself' : 'no CA found here'}`);
  if (e.components.length) lines.push(`  Read by:     ${e.components.join(', ')}`);
  lines.push(`  Renewed by:  ${e.managedBy}`);
  lines.push(`  SHA-256:     ${e.fingerprint}`);
  for (const f of e.findings) lines.push(`  ${f.severity.toUpperCase()}: ${f.message}`);
  return lines.join('\n') + '\n';
}

export function renderKeyShort(k: KeyEntry): string {
  return `${k.kind === 'private' ? 'Private' : 'Public'} key ${k.file}\n  Type:        ${k.keyAlgorithm ?? 'unknown'}${k.curve ? ` ${k.curve}` : k.keySize ? ` ${k.keySize}` : ''}${k.explicitParameters && k.curve !== 'explicit parameters' ? ', explicit parameters' : ''} (${k.format}${k.encrypted ? ', encrypted' : ''})\n` +
    (k.spkiSha256 ? `  Public key SHA-256: ${k.spkiSha256}\n` : '') +
    (k.certificates.length ? `  Certificates: ${k.certificates.join(', ')}\n` : '');
}

/** The short view of one CSR: what an operator checks before signing it (never its challengePassword). */
export function renderCsrShort(c: CsrEntry): string {
  const lines = [`Certificate request ${c.file}`, `  Subject:     ${c.subject || '(empty)'}`];
  if (c.sans.length) lines.push(`  SANs:        ${sanText(c)}`);
  lines.push(`  Key:         ${c.keyAlgorithm}`);
  lines.push(`  Usage:       ${c.keyUsage.length || c.extKeyUsage.length ? [...c.keyUsage, ...c.extKeyUsage].join(', ') : 'none requested'}`);
  lines.push(`  Signature:   ${c.signatureAlgorithm}, ${c.signatureValid === null ? 'not checked (an algorithm kubepki does not verify)' : c.signatureValid ? 'verified with the requested key' : 'DOES NOT VERIFY with the requested key'}`);
  if (c.challengePassword) lines.push('  Challenge password: present (not shown)');
  return lines.join('\n') + '\n';
}

export function locationTitle(e: CertEntry, i: number, n: number): string {
  const l = e.location;
  const where = l.kind === 'kubeconfig' && l.kubeconfig ? `${l.file}, ${l.kubeconfig.entry} ${l.kubeconfig.name}` : `${l.via ?? l.file}${l.index ? ` [${l.index}]` : ''}`;
  return `Certificate ${i + 1} of ${n} (${where})`;
}

/** Every certificate, key and CSR of an inventory in the short view. */
export function renderInventoryShort(inv: Inventory): string {
  const certs = inv.certificates;
  let out = certs.map((e, i) => renderCertShort({ ...e, inventoryNow: inv.now }, locationTitle(e, i, certs.length))).join('\n');
  // a key is shown under its certificate when that is shown, else on its own (with the certificates it is for)
  const keys = inv.keys.filter((k) => !k.certificates.some((id) => certs.some((c) => c.id === id)));
  if (keys.length) out += (out ? '\n' : '') + keys.map(renderKeyShort).join('\n');
  if (inv.csrs.length) out += (out ? '\n' : '') + inv.csrs.map(renderCsrShort).join('\n');
  for (const kc of inv.kubeconfigs) {
    out += (out ? '\n' : '') + `Kubeconfig ${kc.file}${kc.currentContext ? ` (current context ${kc.currentContext})` : ''}\n`;
    for (const c of kc.clusters) out += `  cluster ${c.name || '""'}: ${c.server ?? '(no server)'}; CA ${c.caFrom === 'data' ? 'embedded' : c.caFrom === 'file' ? `from ${c.caFile}` : 'none (system trust)'}\n`;
    for (const u of kc.users) out += `  user ${u.name || '""'}: ${u.auth.length ? u.auth.join(', ') : 'no credentials (anonymous)'}${u.certFrom === 'file' ? ` (${u.certFile})` : ''}\n`;
  }
  const loose = inv.findings.filter((f) => !f.certificate);
  for (const f of loose) out += `${f.severity.toUpperCase()}: ${f.message}\n`;
  return out;
}

let x509Loaded: Promise<typeof import('@peculiar/x509')> | undefined;

/**
 * @peculiar/x509, loaded on first use and adapted once to print as openssl does: the names it leaves as bare
 * OIDs, a CA's nameConstraints, and a CSR's challengePassword shown as present, never its value.
 */
function loadX509(): Promise<typeof import('@peculiar/x509')> {
  return (x509Loaded ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    // names the library leaves as bare OIDs, as openssl x509 -text prints them (an Ed25519 key and signature)
    Object.assign(x509.OidSerializer.items, { '1.3.101.112': 'ED25519', '1.3.101.113': 'ED448' });
    // the library has no class for nameConstraints and printed a CA's constraints as bare hex under
    // "2.5.29.30": show the permitted and excluded subtrees as openssl x509 -text does
    const { NAME_CONSTRAINTS_OID, parseNameConstraints, constraintText } = await import('../pki/name-constraints.js');
    class NameConstraintsExtension extends x509.Extension {
      static override NAME = 'Name Constraints';
      override toTextObject(): InstanceType<typeof x509.TextObject> {
        const nc = parseNameConstraints(new Uint8Array(this.value));
        if (!nc) return super.toTextObject();
        const obj = this.toTextObjectWithoutValue();
        if (nc.permitted.length) obj['Permitted'] = nc.permitted.map((t) => new x509.TextObject('', {}, constraintText(t)));
        if (nc.excluded.length) obj['Excluded'] = nc.excluded.map((t) => new x509.TextObject('', {}, constraintText(t)));
        return obj;
      }
    }
    x509.ExtensionFactory.register(NAME_CONSTRAINTS_OID, NameConstraintsExtension);
    // a CSR's challengePassword is a secret shared with the CA
    class HiddenPassword extends x509.ChallengePasswordAttribute {
      override toTextObject(): InstanceType<typeof x509.TextObject> {
        return new x509.TextObject('Challenge Password', {}, '(present, not shown)');
      }
    }
    x509.AttributeFactory.register('1.2.840.113549.1.9.7', HiddenPassword);
    return x509;
  })());
}

/** The full, openssl-like text of one CSR (as `openssl req -text`), its challengePassword shown as present only. */
export async function renderCsrFull(pem: string): Promise<string> {
  const x509 = await loadX509();
  return new x509.Pkcs10CertificateRequest(pem).toString('text') + '\n';
}

/** The full, openssl-like text of one certificate (lazy: loads @peculiar/x509). */
export async function renderCertFull(pem: string): Promise<string> {
  const x509 = await loadX509();
  return new x509.X509Certificate(pem).toString('text') + '\n';
}
