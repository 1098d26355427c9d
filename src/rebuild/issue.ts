/**
 * kubeadm-shaped certificates (spec §1.3) on top of the shared signer in
 * pki/sign.ts: extension set and order as Go's x509.CreateCertificate writes
 * them for kubeadm's templates (keyUsage, extKeyUsage, basicConstraints,
 * SKI for CAs / AKI for leaves, subjectAltName).
 */
import type { KeyObject } from 'node:crypto';
import {
  issueCertificate, nameDer, newSerial, keyUsageExt, extKeyUsageExt, basicConstraintsExt,
  subjectKeyIdentifierExt, authorityKeyIdentifierExt, subjectAltNameExt, keyIdentifier,
  type ExtensionDer, type SanInput,
} from '../pki/sign.js';
import type { SanSet, Usage } from '../profiles/rebuild.js';

export interface Subject { cn: string; o: string[] }

export function subjectDer(s: Subject): Uint8Array {
  return nameDer([...s.o.map((v) => ({ type: 'O' as const, value: v })), { type: 'CN' as const, value: s.cn }]);
}

function sanList(s: SanSet): SanInput[] {
  return [...s.dns.map((v) => ({ type: 'dns' as const, value: v })), ...s.ips.map((v) => ({ type: 'ip' as const, value: v }))];
}

export interface CaIssue {
  subject: Subject;
  sans: SanSet;
  key: KeyObject;
  notBefore: Date;
  notAfter: Date;
  random?: (n: number) => Uint8Array;
}

/** A self-signed kubeadm CA: KU digitalSignature|keyEncipherment|keyCertSign, CA:TRUE, SKI, SAN = CN. */
export async function issueCa(o: CaIssue): Promise<Uint8Array> {
  const name = subjectDer(o.subject);
  const exts: ExtensionDer[] = [
    keyUsageExt(['digitalSignature', 'keyEncipherment', 'keyCertSign']),
    basicConstraintsExt(true),
    subjectKeyIdentifierExt(keyIdentifier(o.key)),
  ];
  if (o.sans.dns.length + o.sans.ips.length > 0) exts.push(subjectAltNameExt(sanList(o.sans)));
  return issueCertificate({
    subjectDer: name, issuerDer: name, spki: o.key, serial: newSerial(o.random),
    notBefore: o.notBefore, notAfter: o.notAfter, extensions: exts, signingKey: o.key,
  });
}

export interface LeafIssue {
  subject: Subject;
  sans: SanSet;
  usages: Usage[];
  /** the new certificate's key (private or public) */
  key: KeyObject;
  /** the CA's subject bytes, verbatim */
  caSubjectDer: Uint8Array;
  /** the CA's subject key identifier (its SKI extension, or computed from its key) */
  caKeyId: Uint8Array;
  caKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  random?: (n: number) => Uint8Array;
}

/** A kubeadm leaf: KU digitalSignature|keyEncipherment, EKU, CA:FALSE, AKI, SANs when any. */
export async function issueLeaf(o: LeafIssue): Promise<Uint8Array> {
  const exts: ExtensionDer[] = [keyUsageExt(['digitalSignature', 'keyEncipherment'])];
  if (o.usages.length > 0) exts.push(extKeyUsageExt(o.usages));
  exts.push(basicConstraintsExt(false), authorityKeyIdentifierExt(o.caKeyId));
  if (o.sans.dns.length + o.sans.ips.length > 0) exts.push(subjectAltNameExt(sanList(o.sans)));
  return issueCertificate({
    subjectDer: subjectDer(o.subject), issuerDer: o.caSubjectDer, spki: o.key, serial: newSerial(o.random),
    notBefore: o.notBefore, notAfter: o.notAfter, extensions: exts, signingKey: o.caKey,
  });
}
