import { sha256Hex } from '../pki/digest.js';
import { Certificate } from '../pki/certificate.js';
import type { CertEntry, Inventory } from '../inventory/types.js';
import { sanCovers } from '../inventory/classify.js';
import { unbracket } from '../inventory/names.js';

export interface ServedComparison {
  /** `external-etcd`: a member of the node's external etcd, whose certificate is kept on the etcd's hosts; `untrusted` when kube-apiserver would refuse it */
  verdict: 'matches-disk' | 'stale' | 'not-on-disk' | 'external-etcd' | 'untrusted';
  served: { serial: string; subject: string; notAfter: string; fingerprint: string };
  /** the disk certificate it equals, or the one it should have been */
  disk?: CertEntry;
  message: string;
}

/**
 * Is the served leaf the one on disk? Identical bytes → matches. Otherwise a
 * disk certificate for the same key or the same subject means the component
 * still serves an older certificate (renewed but never restarted: seed 002). `endpoint`: where it was served,
 * for a member of the node's external etcd, whose certificate is never on this node (externalEtcdVerdict).
 */
export function compareServed(leafDer: Uint8Array, inv: Inventory, endpoint?: { host: string; port: number }): ServedComparison {
  const leaf = new Certificate(leafDer);
  const fp = leaf.fingerprint256;
  const served = { serial: leaf.serialHex, subject: leaf.subjectString, notAfter: leaf.notAfter.toISOString(), fingerprint: fp };
  const same = inv.certificates.find((c) => c.fingerprint === fp);
  if (same) return { verdict: 'matches-disk', served, disk: same, message: `matches disk: ${same.name} (${same.location.file}, serial ${same.serial})` };
  const spki = sha256Hex(leaf.spkiRaw);
  const leaves = inv.certificates.filter((c) => !c.isCA);
  const candidate = leaves.find((c) => c.spkiSha256 === spki) ?? leaves.find((c) => c.subject === leaf.subjectString && c.issuer === leaf.issuerString);
  if (candidate) {
    return {
      verdict: 'stale', served, disk: candidate,
      message: `stale: serving serial ${served.serial} (until ${served.notAfter.slice(0, 10)}), disk has ${candidate.serial} (until ${candidate.notAfter.slice(0, 10)}) in ${candidate.location.file} — restart the component that serves it${candidate.components.length ? ` (${candidate.components.join(', ')})` : ''}`,
    };
  }
  const external = endpoint && externalEtcdMember(inv, endpoint);
  if (external) return externalEtcdVerdict(leaf, inv, endpoint, external, served);
  const portless = endpoint && portlessEtcdServer(inv, endpoint);
  const unreachable = portless ? `; ${portless} in ${inv.externalEtcd!.source} names this host without a port, which kube-apiserver's etcd client cannot dial ("missing port in address"): write the member's port there (${portless.replace(/\/*$/, '')}:${endpoint.port})` : '';
  return { verdict: 'not-on-disk', served, message: `not on disk: no certificate under the root has serial ${served.serial} or the same key/subject${unreachable}` };
}

/**
 * An --etcd-servers entry's host and port as kube-apiserver's etcd client dials it. clientv3's translateEndpoint
 * (client/v3/internal/endpoint/endpoint.go) hands gRPC url.Host, the scheme dropped and no port added, and
 * grpc-go's transport dials that address with net.Dialer (internal/transport/http2_client.go dial, ParseDialTarget
 * → "tcp"), which refuses a host without a port: `https://host` reaches no member, neither :2379 nor :443.
 */
function etcdServerOf(u: string): { host: string; port?: number } | undefined {
  // (read from the text, not with URL: WHATWG's drops a scheme's default port, https://host:443 → port '', which
  // Go's url.Parse keeps in url.Host and dials)
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::(\d+))?(?:[/?#]|$)/i.exec(u.trim());
  if (!m || !m[1]) return undefined;
  return { host: unbracket(m[1]).toLowerCase(), ...(m[2] ? { port: Number(m[2]) } : {}) };
}

/** The --etcd-servers (etcd.external.endpoints) entry `endpoint` is, when the node's etcd is external. */
function externalEtcdMember(inv: Inventory, endpoint: { host: string; port: number }): string | undefined {
  return etcdServerNaming(inv, endpoint.host, (port) => port === endpoint.port);
}

/** An --etcd-servers entry naming `endpoint`'s host without a port: meant for it, but never dialed (etcdServerOf). */
function portlessEtcdServer(inv: Inventory, endpoint: { host: string; port: number }): string | undefined {
  return etcdServerNaming(inv, endpoint.host, (port) => port === undefined);
}

/** The first --etcd-servers entry naming HOST whose port (as etcdServerOf reads it) passes `portIs`. */
function etcdServerNaming(inv: Inventory, host: string, portIs: (port: number | undefined) => boolean): string | undefined {
  const h = unbracket(host).toLowerCase();
  return inv.externalEtcd?.endpoints.find((u) => {
    const s = etcdServerOf(u);
    return s !== undefined && s.host === h && portIs(s.port);
  });
}

/**
 * A member of an external etcd serves a certificate of the etcd's hosts, never on this node: what matters here
 * is whether kube-apiserver accepts it, as Go's verifier does: signed by the CA of its --etcd-cafile, naming the
 * host of the --etcd-servers entry it dials.
 */
function externalEtcdVerdict(leaf: Certificate, inv: Inventory, endpoint: { host: string; port: number }, url: string, served: ServedComparison['served']): ServedComparison {
  const cafile = inv.components.find((r) => r.component === 'kube-apiserver' && r.via === '--etcd-cafile')?.file;
  const trusted = inv.certificates.filter((c) => c.isCA && cafile !== undefined && (c.location.file === cafile || c.location.via === cafile));
  const ca = trusted.find((c) => signs(certOf(c.pem), leaf));
  const where = `a member of the external etcd (${url}, ${inv.externalEtcd!.source}): its certificate is kept on that etcd's hosts, not on this node`;
  // (Go's Verify checks the leaf's dates before anything else: a signature and a name are no use past them)
  const now = new Date(inv.now).getTime();
  if (now > leaf.notAfter.getTime() || now < leaf.notBefore.getTime()) {
    const when = now > leaf.notAfter.getTime() ? `expired at ${served.notAfter}` : `is not valid before ${leaf.notBefore.toISOString()}`;
    return { verdict: 'untrusted', served, message: `${where}, and it ${when}: kube-apiserver dialing ${url} fails with "x509: certificate has expired or is not yet valid" — renew it on the etcd's hosts, with ${ca ? `${ca.name}'s key` : 'the key of the CA kube-apiserver trusts for etcd'}, and restart that member` };
  }
  // (Go's Verify, as etcd's client in kube-apiserver calls it, asks for serverAuth: an extKeyUsage without it or
  // anyExtendedKeyUsage fails; no extKeyUsage at all allows any)
  const ekus = leaf.extKeyUsage;
  if (ekus.length > 0 && !ekus.includes('serverAuth') && !ekus.includes('anyExtendedKeyUsage')) {
    return { verdict: 'untrusted', served, message: `${where}, and its extended key usage ${ekus.join(', ')}, not serverAuth: kube-apiserver dialing ${url} fails with "x509: certificate specifies an incompatible key usage" — have the member's serving certificate issued with extendedKeyUsage serverAuth on the etcd's hosts` };
  }
  if (!ca) {
    return { verdict: 'untrusted', served, message: `${where}, and it is not signed by ${cafile ? `the CA kube-apiserver trusts for etcd (--etcd-cafile ${cafile})` : 'a CA kube-apiserver is given for etcd (no --etcd-cafile found)'}: kube-apiserver fails with "x509: certificate signed by unknown authority" — bring that etcd's current CA here as ${cafile ?? 'the --etcd-cafile file'} (then restart kube-apiserver), or have the member's certificate issued by the CA kube-apiserver trusts` };
  }
  const host = unbracket(endpoint.host);
  const sans = leaf.subjectAltNames;
  const named = sanCovers(sans, host);
  if (!named) {
    return { verdict: 'untrusted', served, message: `${where}, signed by ${ca.name} (${ca.location.file}) as kube-apiserver expects, but it does not name ${host}: kube-apiserver dialing ${url} fails with "x509: certificate is valid for ${sans.map((n) => n.value).join(', ')}, not ${host}" — have the member's certificate re-issued with ${host} among its SANs on the etcd's hosts` };
  }
  return { verdict: 'external-etcd', served, message: `${where}; signed by ${ca.name} (${ca.location.file}), which kube-apiserver trusts for etcd, and it names ${host}: kube-apiserver accepts it (renewed on the etcd's hosts, by whoever holds ${ca.name}'s key)` };
}

/**
 * A served chain read on its own has no CA; name the disk CA that signed each
 * served certificate (signature verified) so the view matches `check`'s. Who renews
 * a served certificate is who renews it on disk (kubeadm, k3s …): read alone it is
 * nobody's, and RENEWED BY said manual for kube-apiserver's own certificate.
 */
export function attachDiskSigners(served: Inventory, disk: Inventory, cmp?: ServedComparison): void {
  const signerOnDisk = diskSigners(disk);
  const byFingerprint = new Map(disk.certificates.map((c) => [c.fingerprint, c]));
  for (const s of served.certificates) {
    const same = byFingerprint.get(s.fingerprint);
    if (same) s.managedBy = same.managedBy;
  }
  // (a stale leaf: the disk certificate that replaces it is renewed the same way)
  const leaf = served.certificates[0];
  if (leaf && cmp?.verdict === 'stale' && cmp.disk) leaf.managedBy = cmp.disk.managedBy;
  // a key is the disk's: a served certificate whose public key a disk certificate shares has that one's private
  // key on this node (it said "no private key found" for kube-apiserver's own certificate)
  const keyOnDisk = new Map(disk.certificates.filter((c) => c.privateKey.present).map((c) => [c.spkiSha256, c]));
  for (const s of served.certificates) {
    const k = keyOnDisk.get(s.spkiSha256);
    if (k && !s.privateKey.present) s.privateKey = { ...k.privateKey };
  }
  // a CA the server sends with its leaf (k3s's server-ca) is named as on disk, not by its place in the chain
  // ("Signed by: 127.0.0.1:6444#1")
  const diskName = new Map(served.certificates.map((s) => [s.id, byFingerprint.get(s.fingerprint)?.name]));
  for (const s of served.certificates) {
    const name = s.signedBy ? diskName.get(s.signedBy) : undefined;
    if (name) s.signerName = name;
  }
  for (const s of served.certificates) {
    if (s.signerName || s.selfSigned) continue;
    const ca = signerOnDisk(certOf(s.pem));
    if (!ca) continue;
    s.signerName = ca.name;
    s.signedBy = ca.id;
    s.findings = s.findings.filter((f) => f.code !== 'unknown-signer');
  }
  served.findings = served.findings.filter((f) => f.code !== 'unknown-signer' || served.certificates.some((c) => c.id === f.certificate && !c.signerName));
}

export interface MissingIntermediate {
  /** the disk CA, itself signed by another CA, that signed a served certificate and was not sent */
  name: string;
  file: string;
  message: string;
}

/**
 * A server must send every intermediate between its leaf and the root its clients trust: a kubeconfig's
 * certificate-authority-data or etcd's --trusted-ca-file usually holds the root alone, and Go's verifier
 * (kubectl, the kubelet, etcd clients) then fails with "x509: certificate signed by unknown authority".
 * `chain`: the certificates the server sent (DER, as the handshake gave them). Every one of them not signed by
 * another it sent is looked at (not only the last: the order is the server's): when the disk CA that signed it
 * is not self-signed, and was not sent, the server left it out. A leaf signed straight by a root (every kubeadm
 * CA) needs nothing more. Pure, in memory: `probe` and `serve`'s metrics ask the same question of it.
 */
export function missingIntermediate(chain: Uint8Array[], disk: Inventory): MissingIntermediate | undefined {
  const sent = chain.map((der) => new Certificate(der));
  const fingerprints = new Set(sent.map((c) => c.fingerprint256));
  const signerOnDisk = diskSigners(disk);
  for (const s of sent) {
    if (s.isSelfIssued && s.verifySignedBy(s)) continue;
    if (sent.some((o) => o !== s && signs(o, s))) continue;
    const ca = signerOnDisk(s);
    if (!ca || ca.selfSigned || fingerprints.has(ca.fingerprint)) continue;
    const file = ca.location.via ?? ca.location.file;
    return {
      name: ca.name, file,
      message: `incomplete chain: the server does not send the intermediate CA ${ca.name} (${file}) that signed ${s.isCA ? `the CA certificate it sends (${s.subjectString})` : 'its certificate'}; clients that trust only the root fail with "x509: certificate signed by unknown authority": append ${file} after the certificate in the file the server reads, then restart it`,
    };
  }
  return undefined;
}

/** `ca` signed `c`: its subject is c's issuer, and its key verifies c's signature. */
function signs(ca: Certificate, c: Certificate): boolean {
  return ca.subjectString === c.issuerString && c.verifySignedBy(ca);
}

/** The disk CA (signature verified) that signed a certificate, or undefined: each disk CA parsed once. */
function diskSigners(disk: Inventory): (c: Certificate) => CertEntry | undefined {
  const cas = disk.certificates.filter((c) => c.isCA).map((e) => ({ e, cert: certOf(e.pem) }));
  return (c) => cas.find((ca) => signs(ca.cert, c))?.e;
}

function certOf(pem: string): Certificate {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return new Certificate(Buffer.from(b64, 'base64'));
}
