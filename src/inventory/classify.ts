import { createRequire } from 'node:module';
import { remember, type NodeFs } from '../fs/node-fs.js';
import { GO_CURVES, NO_EXPIRY_MS, OID, goCriticalExtensions, nameEncodings, type Certificate, type KeyInfo } from '../pki/certificate.js';
import { UserError } from '../errors.js';
import { kubeadmProfileForFile } from '../profiles/kubeadm.js';
import { parseThreshold, inWarningWindow, warningStart, humanDuration, certificateLifetime, DEFAULT_WARN, type Threshold } from './time.js';
import type { KubeadmHints } from './components.js';
import type { CertEntry, CertLocation, ComponentRef, Finding, KubeconfigEntry, Severity } from './types.js';
import { kubeletClientFix, kubeletRestart, embeddedKubeletConfText, renewTarget, rootFlagFor } from './next.js';
import { rancherCaAdvice, RANCHER_DATASTORE_CA } from '../layouts/detect.js';
import { allDigits, listText, unbracket } from './names.js';

/**
 * `net.isIP` without its first-call cost (~10 ms compiling the IPv6 pattern on
 * every `check`) or loading `node:net` at all (~1.5 ms): what Node's IPv4 pattern
 * accepts (four numbers 0-255 in decimal without leading zeros; no pattern at all,
 * see names.ts), and `isIP` only for text with a colon (an IPv6 address always has one).
 */
export function ipVersion(s: string): number {
  if (s.includes(':')) return (createRequire(import.meta.url)('node:net') as typeof import('node:net')).isIP(s);
  const parts = s.split('.');
  return parts.length === 4 && parts.every(isOctet) ? 4 : 0;
}

// (a number prints as written only without a sign, leading zeros, spaces, exponent or fraction)
const isOctet = (p: string) => p.length <= 3 && String(Number(p)) === p && Number(p) <= 255;

export function parseThresholdOrThrow(warn: string | undefined): Threshold {
  const th = parseThreshold(warn ?? DEFAULT_WARN);
  if (!th) {
    const t = String(warn).trim();
    if (/^\d+(\.\d+)?%$/.test(t)) throw new UserError(`--warn ${t}: a share of the lifetime used must be between 0% and 100% (exclusive)`, 'e.g. --warn 66% warns once two thirds of a certificate\'s lifetime is used');
    if (/^\d+(\.\d+)?$/.test(t)) throw new UserError(`--warn ${t} has no unit`, `did you mean --warn ${t}d (days)? Units: s, m, h, d, w, y; or a percentage such as 66%`);
    throw new UserError(`--warn ${JSON.stringify(warn)} is not a duration or a percentage`, 'use e.g. --warn 30d, --warn 2w or --warn 66% (share of the lifetime used)');
  }
  return th;
}

interface Rec {
  entry: CertEntry;
  cert: Certificate;
  keyMismatch?: boolean;
  /** its private key file spells the EC curve out (explicit parameters) */
  keyExplicit?: boolean;
  signer?: CertEntry;
  /** a certificate that is no CA but whose key made the signature */
  notCaSigner?: CertEntry;
  sameSubjectNoSig: boolean;
  copies: CertLocation[];
}

interface ClassifyInput {
  certificates: CertEntry[];
  records: Rec[];
  kubeconfigs: KubeconfigEntry[];
  fs: NodeFs;
  hints: KubeadmHints;
  componentRefs: ComponentRef[];
  threshold: Threshold;
  now: Date;
  findings: Finding[];
}

const day = (iso: string) => iso.slice(0, 10);

/** Signature algorithms Go refuses in certificates (crypto/x509 signingParamsForAlgorithm: insecure). */
const WEAK_SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'MD2', '1.2.840.113549.1.1.4': 'MD5', '1.2.840.113549.1.1.5': 'SHA-1',
  '1.2.840.10045.4.1': 'SHA-1', '1.2.840.10040.4.3': 'SHA-1', '1.3.14.3.2.29': 'SHA-1',
};

/**
 * When a certificate was issued, for --warn N%: its notBefore, unless that is its CA's; then notAfter less
 * the lifetime kubeadm's config or the installer gives (see certificateLifetime).
 */
function issuedAt(e: CertEntry, signer: CertEntry | undefined, notBefore: Date, hints: KubeadmHints): Date {
  const life = certificateLifetime(e, signer, signer?.id === e.id, { configured: hints.validity });
  return life.source === 'own' ? notBefore : new Date(Date.parse(e.notAfter) - life.seconds * 1000);
}

/**
 * A key Go programs cannot use (crypto/x509 parsePublicKey, ParseECPrivateKey): an EC curve spelled out
 * instead of named (openssl ec -param_enc explicit), a curve outside P-256/384/521, an algorithm Go does
 * not know. Or an Ed25519 CA key: Go's TLS takes Ed25519, but kubeadm loads RSA and ECDSA CA keys only
 * (pkiutil.TryLoadKeyFromDisk), so its certs renew, upgrade apply and join --control-plane stop there.
 */
function unsupportedKey(e: CertEntry, key: KeyInfo, keyFileExplicit: boolean | undefined, here = ''): Omit<Finding, 'certificate' | 'file'> & { file?: string } | undefined {
  // the same key with its curve named: openssl rewrites a key file of its own; a kubeconfig's or the
  // kubelet's pem (certificate and key in one) takes a new key
  const loc = e.privateKey.location;
  const ownFile = loc?.kind === 'pem' && !loc.sameFile ? loc.file : undefined;
  const keyFix = ownFile ? `rewrite it as the same key with the curve named (openssl ec -in ${ownFile} -param_enc named_curve -out ${ownFile})` : `kubepki renew ${renewTarget(e)} --new-key${here}`;
  if (key.algorithm === 'ECDSA' && key.explicitParameters) {
    const fix = !key.size ? `kubepki renew ${renewTarget(e)} --new-key${here} makes it a P-256 key` : keyFileExplicit ? `${keyFix}${ownFile ? `, then kubepki renew ${renewTarget(e)}${here}` : ''}` : `kubepki renew ${renewTarget(e)}${here} writes it with the curve named`;
    return { code: 'unsupported-key', severity: 'error', message: `${e.name}: its public key spells the EC curve out (explicit parameters${key.size ? ` of ${key.curve}` : ''}) instead of naming it; Go programs (kube-apiserver, etcd, kubectl) refuse the certificate ("x509: invalid ECDSA parameters"), as openssl verify does — ${fix}` };
  }
  if (keyFileExplicit) {
    return { code: 'unsupported-key', severity: 'error', message: `${e.name}: its private key ${loc?.file ?? ''} spells the EC curve out (explicit parameters) instead of naming it; Go programs (kube-apiserver, etcd, the kubelet) refuse to load it ("tls: failed to parse private key") — ${keyFix}`, ...(loc?.kind === 'pem' ? { file: loc.file } : {}) };
  }
  if (key.algorithm === 'ECDSA' && !GO_CURVES.has(key.curve ?? '')) {
    return { code: 'unsupported-key', severity: 'error', message: `${e.name}: ECDSA key on curve ${key.curve || 'unknown'}; Go programs (kube-apiserver, etcd, kubectl) use P-256, P-384 and P-521 only ("x509: unsupported elliptic curve") — kubepki renew ${renewTarget(e)} --new-key${here} makes it a P-256 key` };
  }
  if (key.algorithm === 'Ed448' || key.algorithm === 'RSA-PSS') {
    return { code: 'unsupported-key', severity: 'error', message: `${e.name}: ${key.algorithm} public key; Go programs (kube-apiserver, etcd, kubectl) do not know this key type (its key file: "tls: failed to parse private key") — kubepki renew ${renewTarget(e)} --new-key${here} makes it ${key.algorithm === 'RSA-PSS' ? 'an RSA' : 'a P-256'} key` };
  }
  if (key.algorithm === 'Ed25519' && e.isCA && e.privateKey.present && e.layout === 'kubeadm') {
    return { code: 'unsupported-key', severity: 'info', message: `${e.name}: an Ed25519 CA key; kube-apiserver, etcd and the kubelet accept Ed25519 certificates, but kubeadm signs only with RSA or ECDSA CA keys ("neither in RSA nor ECDSA format"), so kubeadm certs renew, kubeadm upgrade apply and kubeadm join --control-plane fail on this cluster; kubepki renew works` };
  }
  return undefined;
}

/** The kubelet's self-signed kubelet.crt (a leaf and its own throwaway CA in one file, or one self-signed certificate). */
function isKubeletSelfSignedServing(e: CertEntry, signer: CertEntry | undefined): boolean {
  if (e.name !== 'kubelet-serving' && e.name !== 'kubelet-serving-ca') return false;
  return e.selfSigned || signer?.location.file === e.location.file;
}

/**
 * The severity of this certificate's `expired` (or `not-yet-valid`) finding, whatever its dates now: an error, but a
 * warning for the kubelet's self-signed kubelet.crt, which it never renews and kube-apiserver does not verify by
 * default, and info for the throwaway CA behind it. The metrics label every certificate with it
 * (`expiry_severity`), so the chart's alerts page for what breaks, not forever on every node over a year old.
 */
export function expirySeverity(e: CertEntry, signer: CertEntry | undefined): Severity {
  if (!isKubeletSelfSignedServing(e, signer)) return 'error';
  return e.name === 'kubelet-serving' ? 'warning' : 'info';
}

/** The kubelet's rotated client certificate (kubelet-client-current.pem and the dated file behind it). */
function isKubeletRotated(e: CertEntry): boolean {
  return e.name === 'kubelet-client' && e.location.kind !== 'kubeconfig';
}

/** Why the kubelet cannot rotate a client certificate that is expired or not valid yet (client-go's certificate manager). */
const KUBELET_ASKS_WITH_IT = 'it asks for the next one with this certificate, which the API server';

/** Findings and status of every certificate (pure but for reading `fs` existence). */
export function classify(input: ClassifyInput): void {
  const { records, threshold, now } = input;
  // (the kubepki commands findings name read the tree they were found in)
  const here = rootFlagFor(input.fs.root);
  // (what gives the kubelet a client certificate again: one text, asked for only by the findings that need it)
  const kubeletFix = () => kubeletClientFix({ certificates: input.certificates, kubeconfigs: input.kubeconfigs, nodeName: input.hints.nodeName }, here);
  const add = (e: CertEntry, f: Omit<Finding, 'certificate' | 'file'> & { file?: string }) =>
    e.findings.push({ ...f, certificate: e.id, file: f.file ?? e.location.file });

  const byId = new Map(records.map((r) => [r.entry.id, r]));
  for (const r of records) {
    const e = r.entry;
    const c = r.cert;
    // (a root CA's signer is itself: "self-signed", not "signed by ca")
    const signerText = r.signer && r.signer.id !== e.id ? `signed by ${r.signer.name}` : e.selfSigned ? 'self-signed' : r.signer ? `signed by ${r.signer.name}` : `issuer ${e.issuerCN ?? e.issuer}`;
    // kubeadm does not renew what an external CA signed (its key is not here: "can't be renewed", spec §4.2)
    const keyElsewhere = r.signer !== undefined && r.signer.id !== e.id && !r.signer.privateKey.present;
    // nor, with external etcd, apiserver-etcd-client, wherever it is and whatever key is here (renewal.NewManager
    // lists GetCertsWithoutEtcd): the etcd's CA renews it, or kubepki where that CA's key is here
    if (input.hints.externalEtcd && e.name === 'apiserver-etcd-client' && (e.managedBy === 'kubeadm' || e.managedBy === 'manual')) {
      e.managedBy = keyElsewhere && externalEtcdCa(input, r.signer!) ? 'external-etcd-ca' : 'manual';
    } else if (e.managedBy === 'kubeadm' && keyElsewhere) e.managedBy = 'manual';
    const issued = issuedAt(e, r.signer, c.notBefore, input.hints);
    e.warnFrom = warningStart(threshold, issued, c.notAfter).toISOString();
    // (valid through notAfter itself, as RFC 5280 §4.1.2.5 says and Go checks it: expired once now.After(NotAfter))
    const outOfDates = now.getTime() > c.notAfter.getTime() ? 'expired' : now.getTime() < c.notBefore.getTime() ? 'not-yet-valid' : undefined;
    if (outOfDates && isKubeletSelfSignedServing(e, r.signer)) {
      // The kubelet makes this pair for itself when it is missing and never renews it (kubernetes/kubernetes#99418).
      // kube-apiserver does not verify it unless --kubelet-certificate-authority is set (and then a self-signed one
      // never verified, whatever its dates): logs, exec and port-forward keep working. Only clients that check it
      // refuse it. Expired or not valid yet, the same breaks, so the same severity; what to do differs: a pair made
      // on a clock ahead of this one is fixed by the clock (or, if the clock is right, by a new pair). One finding
      // for the file: its throwaway CA (the bundle's second certificate) says nothing more.
      const when = outOfDates === 'expired'
        ? `${e.name} expired on ${day(e.notAfter)} (${Math.floor(-e.residualSeconds / 86400)}d ago; ${signerText})`
        : `${e.name} is not valid until ${e.notBefore} (${signerText})`;
      if (e.name === 'kubelet-serving') {
        const key = e.privateKey.location?.file ?? `${e.location.file.slice(0, e.location.file.lastIndexOf('/'))}/kubelet.key`;
        const newPair = `remove ${e.location.file} and ${key} and restart the kubelet (systemctl restart kubelet), which makes a new pair from its clock`;
        const what = outOfDates === 'expired'
          ? `kubepki renew kubelet-serving${here}, or ${newPair}`
          : `it was made on a clock ahead of this one (this node's clock went back, or the pair was made elsewhere): fix the clock (timedatectl; is NTP synchronised?); if the clock is right, ${newPair}`;
        add(e, { code: outOfDates, severity: expirySeverity(e, r.signer), message: `${when}: the kubelet's self-signed serving pair, which it makes once and never renews; kube-apiserver does not check it by default, so logs and exec still work, but clients that verify it (metrics-server without --kubelet-insecure-tls, Prometheus) refuse it: ${what} (serverTLSBootstrap has the cluster sign it and rotates it)` });
      } else add(e, { code: outOfDates, severity: expirySeverity(e, r.signer), message: `${when}: the throwaway CA of the kubelet's self-signed kubelet.crt (see kubelet-serving)` });
    } else if (outOfDates === 'expired') {
      const expired = `${e.name} expired on ${day(e.notAfter)} (${Math.floor(-e.residualSeconds / 86400)}d ago; ${signerText})`;
      if (isKubeletRotated(e)) {
        const fix = r.signer?.privateKey.present ? `kubepki renew ${renewTarget(e)}${here}, then ${kubeletRestart(input)}` : kubeletFix();
        add(e, { code: 'expired', severity: 'error', message: `${expired}: the kubelet can no longer renew it itself (${KUBELET_ASKS_WITH_IT} now refuses): ${fix}` });
      } else add(e, { code: 'expired', severity: 'error', message: expired });
    } else if (outOfDates === 'not-yet-valid') {
      const kubelet = isKubeletRotated(e) ? `; until then the kubelet cannot renew it itself (${KUBELET_ASKS_WITH_IT} refuses)` : '';
      add(e, { code: 'not-yet-valid', severity: 'error', message: `${e.name} is not valid until ${e.notBefore} (clock skew? a certificate issued "from now" on another machine is rejected here)${kubelet}` });
    } else if (inWarningWindow(threshold, issued, c.notAfter, now)) {
      add(e, { code: 'expiring', severity: 'warning', message: `${e.name} expires in ${humanDuration(e.residualSeconds)} on ${day(e.notAfter)} (threshold ${threshold.text}; ${signerText})` });
    }
    if (r.keyMismatch || e.privateKey.matches === false) {
      // (a bundle whose first certificate is not the key's, root + intermediate: kubeadm and kube-controller-manager
      // take the first certificate of the file as the one the key belongs to, and refuse it)
      const keyFile = e.privateKey.location?.file;
      const later = keyFile && e.location.kind === 'pem' && e.location.index === 0
        ? records.find((o) => o.entry.location.file === e.location.file && o.entry.location.kind === 'pem' && o.entry.location.index > 0 && o.entry.privateKey.location?.file === keyFile && o.entry.privateKey.matches === true)
        : undefined;
      const order = later ? `: it is the key of the file's certificate [${later.entry.location.index}] (${later.cert.subjectString}); kubeadm and kube-controller-manager take the first certificate of ${e.location.file} as its certificate, so put that one first` : '';
      // the kubelet's rotated pair: client-go's store loads it with tls.X509KeyPair, which refuses it ("tls: private key
      // does not match public key"), so the kubelet has no client certificate, as when it expired: the same fix
      const kubelet = isKubeletRotated(e) && !later
        ? `: the kubelet cannot load the pair (Go: "tls: private key does not match public key"), so it has no client certificate: ${kubeletFix()}`
        : '';
      add(e, { code: 'key-mismatch', severity: 'error', message: `${e.name}: private key ${keyFile ?? ''} does not match the certificate's public key${order}${kubelet}` });
    }
    // the kubelet's rotated client certificate from a CA since re-created (seed 001): the API server refuses it and
    // the kubelet cannot ask for another with it; what gives it one from the current CA (and kubelet.conf that CA)
    const reissue = isKubeletRotated(e)
      ? `re-issue it from the current CA, with a kubelet.conf that trusts it: ${kubeletFix()}`
      : 're-issue it from the current CA';
    if (r.signer && r.sameSubjectNoSig) {
      add(e, { code: 'unknown-signer', severity: 'error', message: `${e.name}: only the old CA copy in ${r.signer.location.file} verifies it; the CA file of that name on this node has another key (a CA was re-created?) — ${reissue}` });
    } else if (!r.signer && !e.selfSigned) {
      if (r.notCaSigner) {
        add(e, { code: 'signer-not-ca', severity: 'error', message: `${e.name}: signed by ${r.notCaSigner.name} (${r.notCaSigner.location.file}), which is not a CA (${r.notCaSigner.isCA ? 'CA:TRUE' : 'no CA:TRUE in its basicConstraints'}); Go refuses the chain ("x509: certificate signed by unknown authority … parent certificate cannot sign this kind of certificate") — re-issue it from the real CA` });
      } else if (r.sameSubjectNoSig) {
        add(e, { code: 'unknown-signer', severity: 'error', message: `${e.name}: issued by "${e.issuer}", but no CA of that name on this node verifies its signature (a CA was re-created?) — ${reissue}` });
      } else {
        add(e, { code: 'unknown-signer', severity: 'info', message: `${e.name}: its issuer "${e.issuer}" is not on this node; the chain cannot be checked here` });
      }
    }
    // Go's chain rules for the CA above (crypto/x509 checkSignatureFrom, isValid): a keyUsage without
    // keyCertSign, or more CAs below one than its pathlen allows, and no Go client trusts the certificate
    if (r.signer && r.signer.id !== e.id) {
      const s = r.signer;
      if (s.keyUsage.length > 0 && !s.keyUsage.includes('keyCertSign')) {
        add(e, { code: 'signer-not-ca', severity: 'error', message: `${e.name}: its CA ${s.name} has keyUsage ${s.keyUsage.join(',')} without keyCertSign; Go refuses every certificate it signed ("parent certificate cannot sign this kind of certificate") — re-issue ${s.name} with keyCertSign (kubeadm's CAs have digitalSignature,keyEncipherment,keyCertSign)` });
      }
      // the signer is found by its decoded name (read.ts), as openssl matches names; Go looks for a certificate's
      // CA by the issuer's bytes (crypto/x509 CertPool.findPotentialParents: byName[RawIssuer]), so a CA re-made
      // with `openssl req -subj` (UTF8String) over leaves Go wrote (PrintableString) verifies with openssl and
      // with nothing written in Go
      // (not when another copy of the CA in those bytes is there too: a CA bundle holding both spellings)
      const sCert = byId.get(s.id)?.cert;
      const spelledAsIssuer = (o: Rec) => o.entry.isCA && Buffer.compare(c.issuerRaw, o.cert.subjectRaw) === 0 && c.verifySignedBy(o.cert);
      if (sCert && Buffer.compare(c.issuerRaw, sCert.subjectRaw) !== 0 && !records.some(spelledAsIssuer)) {
        const mine = nameEncodings(c.issuerRaw).join(', '), theirs = nameEncodings(sCert.subjectRaw).join(', ');
        const how = mine === theirs ? 'written differently (the same name, other bytes)' : `written as ${mine}, its CA's subject as ${theirs}`;
        add(e, { code: 'issuer-encoding', severity: 'error', message: `${e.name}: its issuer name "${e.issuer}" is ${how} in ${s.name}; openssl matches names and verifies it, but Go matches the bytes, so Go programs (kube-apiserver, etcd, kubectl, the kubelet) find no CA for it ("x509: certificate signed by unknown authority") — kubepki renew ${renewTarget(e)}${here} writes the CA's subject bytes as its issuer; or, when ${s.name}'s certificate was re-made over what it signed before (other nodes' certificates, kubelets keep the old bytes too), put it back as it was (same key, from a backup)` });
      }
      const tooLong = pathLenViolation(r, byId);
      if (tooLong) add(e, { code: 'path-length-exceeded', severity: 'error', message: `${e.name}: ${tooLong.ca.name} allows ${tooLong.pathLen} CA${tooLong.pathLen === 1 ? '' : 's'} below it (pathlen:${tooLong.pathLen}) but ${tooLong.below} stand between it and this certificate; Go refuses the chain ("too many intermediates for path length constraint")` });
    }
    // Go 1.24 (Kubernetes 1.33) refuses RSA keys under 1024 bits in TLS; kubeadm makes nothing under 2048
    if (e.keyAlgorithm === 'RSA' && e.keySize > 0 && e.keySize < 2048) {
      add(e, e.keySize < 1024
        ? { code: 'weak-key', severity: 'error', message: `${e.name}: RSA ${e.keySize} key; Go programs (Kubernetes 1.33 and later, etcd) refuse RSA keys under 1024 bits — renew it with --new-key (RSA 2048)` }
        : { code: 'weak-key', severity: 'warning', message: `${e.name}: RSA ${e.keySize} key, under kubeadm's 2048 — renew it with --new-key (RSA 2048)` });
    }
    const keyProblem = unsupportedKey(e, c.keyInfo, r.keyExplicit, here);
    if (keyProblem) add(e, keyProblem);
    // What Go programs refuse whatever the dates: kube-apiserver, etcd and kubectl would not load or trust it
    if (c.serialNegative) {
      add(e, { code: 'negative-serial', severity: 'error', message: `${e.name}: negative serial number ${e.serial}; Go 1.23 and later (Kubernetes 1.32, etcd 3.6) refuse to parse it ("x509: negative serial number") — re-issue it (kubepki renew ${renewTarget(e)}${here} gives it a positive one)` });
    }
    const critical = goCriticalExtensions(c);
    if (critical.parse) {
      add(e, { code: 'critical-extension', severity: 'error', message: `${e.name}: its ${critical.parse.name} extension is marked critical, which RFC 5280 forbids; Go programs (kube-apiserver, etcd, kubectl, the kubelet) refuse to parse the certificate ("${critical.parse.error}"), and openssl verify refuses it too — have it re-issued with the extension not critical (kubepki renew keeps every extension as it is)` });
    } else if (critical.unhandled.length > 0) {
      // (openssl verify refuses an unknown OID too, but takes a critical subjectAltName of directory names only, and
      // checks directoryName constraints)
      const known: Record<string, string> = { [OID.subjectAltName]: 'subjectAltName with no DNS, IP, e-mail or URI name in it', [OID.nameConstraints]: 'nameConstraints on a name type other than DNS, IP, e-mail or URI (a directoryName)' };
      const unknown = critical.unhandled.filter((oid) => !known[oid]);
      const what = listText(critical.unhandled.map((oid) => known[oid] ?? oid));
      const several = critical.unhandled.length > 1;
      add(e, { code: 'critical-extension', severity: 'error', message: `${e.name}: ${several ? 'critical extensions' : 'critical extension'} ${what}, which Go does not handle; Go programs (kube-apiserver, etcd, kubectl, the kubelet) refuse every chain with this certificate in it ("x509: unhandled critical extension")${unknown.length ? ', as openssl verify does' : ''} — have it re-issued without ${several ? 'them or with them' : 'it or with it'} not critical (kubepki renew keeps every extension as it is)` });
    }
    const weakHash = WEAK_SIGNATURES[c.signatureAlgorithmOid];
    if (weakHash && !e.selfSigned) {
      // (a self-signed root's own signature is never checked: it is trusted by being there)
      add(e, { code: 'weak-signature', severity: 'error', message: `${e.name}: signed with ${weakHash}; Go refuses ${weakHash} certificate signatures ("x509: cannot verify signature: insecure algorithm"; SHA-1 since Go 1.18, no override since 1.24) — re-issue it with SHA-256 (kubepki renew ${renewTarget(e)}${here})` });
    }
    // (a leaf that ends within a day of its CA, as RKE1 makes them in the same run, is not worth a warning)
    // (nor, while the CA lasts, one with no expiration of its own, notAfter 99991231235959Z (RFC 5280 §4.1.2.5): its
    // chain is its lifetime by design, and no CA can be made to outlast it; the CA's own expiry is the one to watch)
    const noExpiry = c.notAfter.getTime() === NO_EXPIRY_MS && r.signer !== undefined && now.getTime() <= Date.parse(r.signer.notAfter);
    if (r.signer && !e.isCA && r.signer.id !== e.id && !noExpiry && Date.parse(e.notAfter) > Date.parse(r.signer.notAfter) + (now.getTime() > Date.parse(r.signer.notAfter) ? 0 : 86400e3)) {
      add(e, now.getTime() > Date.parse(r.signer.notAfter)
        // the CA is gone already: the leaf's own dates are fine, its chain is not
        ? { code: 'ca-expires-before-leaf', severity: 'error', message: `${e.name}: its CA ${r.signer.name} expired on ${day(r.signer.notAfter)}, so its chain no longer verifies ("x509: certificate has expired"); ${caRenewal(r.signer, here)}, and this certificate works again` }
        : { code: 'ca-expires-before-leaf', severity: 'warning', message: `${e.name} outlives its CA ${r.signer.name} (CA ends ${day(r.signer.notAfter)}, leaf ${day(e.notAfter)}): it stops working when the CA expires` });
    }
    // Externally managed CA: worth saying only where something on this node would be renewed with it
    // (a worker holds ca.crt without its key by design; the kubelet renews through the cluster).
    const signsRenewable = (id: string) => records.some((o) => o.signer?.id === id && o.entry.id !== id && o.entry.managedBy !== 'kubelet');
    // (a key file that is there but could not be read is its own `unreadable` finding: not externally managed)
    if (e.isCA && !e.privateKey.present && !e.privateKey.location && e.name !== 'kubelet-serving-ca' && e.location.kind !== 'kubeconfig' && signsRenewable(e.id)) {
      add(e, { code: 'ca-key-missing', severity: 'info', message: externalEtcdCa(input, e)
        ? `${e.name}: the external etcd's CA (${input.hints.externalEtcd!.source}), its key kept with that etcd, not on this node: apiserver-etcd-client is renewed there (kubepki renew apiserver-etcd-client --csr-out DIR${here} makes the request to sign with it)`
        : `${e.name}: no private key on this node (externally managed); certificates it signs cannot be renewed here` });
    }
  }

  const clusters = kubeconfigClusters(input);
  checkKubeconfigs(input, clusters);
  checkApiserverSans(input, clusters);
  checkEtcdSans(input);

  for (const e of input.certificates) {
    const sev = (s: Finding['severity']) => e.findings.some((f) => f.severity === s);
    const has = (code: Finding['code']) => e.findings.some((f) => f.code === code);
    e.status = has('expired') ? 'expired' : has('not-yet-valid') ? 'not-yet-valid' : sev('error') ? 'invalid' : sev('warning') ? 'warning' : 'ok';
  }
}

/** `ca` is the CA of an external etcd (kubeadm's etcd.external): the one that signed kube-apiserver's etcd client certificate. */
function externalEtcdCa(input: ClassifyInput, ca: CertEntry): boolean {
  return input.hints.externalEtcd !== undefined
    && (ca.name === 'etcd-ca' || input.records.some((o) => o.entry.name === 'apiserver-etcd-client' && o.signer?.id === ca.id));
}

/**
 * The first CA above `r` whose pathlen is smaller than the number of CAs between it and `r` (Go counts the
 * intermediates of the chain below each CA, the leaf itself excluded).
 */
function pathLenViolation(r: Rec, byId: Map<string, Rec>): { ca: CertEntry; pathLen: number; below: number } | undefined {
  let below = 0;
  const seen = new Set<string>([r.entry.id]);
  for (let cur = r.signer ? byId.get(r.signer.id) : undefined; cur && !seen.has(cur.entry.id); cur = cur.signer ? byId.get(cur.signer.id) : undefined) {
    seen.add(cur.entry.id);
    const pathLen = cur.cert.basicConstraints?.pathLen;
    if (pathLen !== undefined && below > pathLen) return { ca: cur.entry, pathLen, below };
    if (cur.signer?.id === cur.entry.id) break;
    below++;
  }
  return undefined;
}

function apiserverRecords(input: ClassifyInput): Rec[] {
  const servingFiles = new Set(input.componentRefs.filter((r) => r.component === 'kube-apiserver' && r.via === '--tls-cert-file').map((r) => r.file));
  return input.records.filter((r) =>
    !r.entry.isCA && (servingFiles.has(r.entry.location.file) || ['apiserver', 'kube-apiserver', 'serving-kube-apiserver'].includes(r.entry.name)),
  );
}

/** The host of a `host`, `host:port`, `[v6]:port` or bare IPv6 endpoint (kubeadm's controlPlaneEndpoint accepts all). */
export function endpointHost(endpoint: string): string {
  // [v6]:port or [v6]
  const close = endpoint.startsWith('[') ? endpoint.indexOf(']') : -1;
  if (close > 1) {
    const rest = endpoint.slice(close + 1);
    if (rest === '' || (rest.startsWith(':') && allDigits(rest.slice(1)))) return endpoint.slice(1, close);
  }
  const colon = endpoint.lastIndexOf(':');
  // (a bare IPv6 address has more than one colon, and no port)
  if (colon !== endpoint.indexOf(':')) return endpoint;
  return colon >= 0 && allDigits(endpoint.slice(colon + 1)) ? endpoint.slice(0, colon) : endpoint;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

/**
 * Every cluster entry of every kubeconfig, with what it says about this node's API server: whether its
 * CA(s) verify the API server's chain (a bundle during a CA rotation, a root above an intermediate) or
 * are a CA of this node, and whether its server is this API server (kubeadm's own kubeconfigs, loopback,
 * the addresses kubeadm's config names, a name the serving certificate covers). Kubeconfigs kube-apiserver
 * itself reads (audit and authn/authz webhooks) point away from it and are left out, as are other
 * clusters in a user's kubeconfig: every kubeadm CA is called "kubernetes", so names prove nothing.
 */
function kubeconfigClusters(input: ClassifyInput) {
  const { records, kubeconfigs, componentRefs, hints } = input;
  const apiservers = apiserverRecords(input);
  const byId = new Map(records.map((r) => [r.entry.id, r]));
  const nodeCAs = records.filter((r) => r.entry.isCA && r.entry.location.kind !== 'kubeconfig');
  const nodeCaKeys = new Set(nodeCAs.map((r) => r.entry.spkiSha256));
  const outgoing = new Set(componentRefs.filter((r) => r.component === 'kube-apiserver').map((r) => r.file));
  const hintHosts = new Set([hints.advertiseAddress, hints.controlPlaneEndpoint && endpointHost(hints.controlPlaneEndpoint), ...hints.certSANs].filter((h): h is string => Boolean(h)).map((h) => h.toLowerCase()));
  // A client has what the API server sends (its --tls-cert-file: the certificate, then any chain in that file)
  // and its own certificate-authority-data: an intermediate that is only in the node's ca.crt never reaches it.
  // (a certificate of that chain is one record with every place it is in: an intermediate that is also the
  // node's ca.crt is placed there, and is still sent, from its place after the leaf in the served file)
  // (each made once: every kubeconfig's cluster asks again about the same API server certificate)
  const placesOf = new Map<Rec, CertLocation[]>();
  const places = (r: Rec) => remember(placesOf, r, () => [r.entry.location, ...r.copies].filter((l) => l.kind !== 'kubeconfig'));
  const servedOf = new Map<Rec, Rec[]>();
  const servedWith = (leaf: Rec) => remember(servedOf, leaf, () => {
    const leafPlaces = places(leaf);
    return records.filter((r) => r !== leaf && places(r).some((l) => leafPlaces.some((s) => l.file === s.file && l.index > s.index)));
  });
  const reaches = (leaf: Rec, ca: Certificate) => {
    const served = servedWith(leaf);
    let x: Rec | undefined = leaf;
    for (let hop = 0; x && hop < 6; hop++) {
      if (x.cert.verifySignedBy(ca)) return true;
      const from: Rec = x;
      const up: Rec | undefined = from.signer ? byId.get(from.signer.id) : undefined;
      x = up && up !== from && served.includes(up) ? up : served.find((r) => r !== from && from.cert.verifySignedBy(r.cert));
    }
    return false;
  };
  const out = [];
  for (const kc of kubeconfigs) {
    if (outgoing.has(kc.file)) continue;
    const owner = records.find((r) => r.entry.location.file === kc.file && r.entry.location.kubeconfig?.entry === 'user');
    for (const cl of kc.clusters) {
      const isCaOf = (l: CertLocation) => (cl.caFrom === 'data'
        ? l.file === kc.file && l.kind === 'kubeconfig' && l.kubeconfig?.entry === 'cluster' && l.kubeconfig.name === cl.name
        : cl.caFrom === 'file' && l.file === cl.caFile && l.kind !== 'kubeconfig');
      const cas = records.filter((r) => isCaOf(r.entry.location) || r.copies.some(isCaOf));
      let host: string | undefined;
      let port = '';
      try {
        const u = cl.server ? new URL(cl.server) : undefined;
        host = (u ? unbracket(u.hostname) : '').toLowerCase() || undefined;
        port = u?.port || '443';
      } catch { /* not a URL */ }
      // (each API server certificate its CAs verify: a node can hold more than one, RKE1's kube-apiserver.pem left beside kubeadm's)
      const verified = apiservers.filter((a) => cas.some((ca) => reaches(a, ca.cert)));
      const verifiesApiserver = verified.length > 0;
      const nodeCa = cas.some((ca) => nodeCaKeys.has(ca.entry.spkiSha256));
      // loopback is this API server only on its port (6443, k3s/RKE2's 6444, or --secure-port): a kind cluster
      // or a port-forward on 127.0.0.1 is another one
      const loopbackHere = host !== undefined && isLoopbackHost(host) && ['6443', '6444', hints.securePort].includes(port);
      // kubeadm's own kubeconfigs (and the kubelet's) always point at this cluster's API server; a cluster an
      // operator added beside kubeadm's (kubectl config set-cluster with KUBECONFIG=/etc/kubernetes/admin.conf) is
      // ours only by its address, as in any kubeconfig
      const ourServer = (kubeadmProfileForFile(kc.file)?.kind === 'kubeconfig' && kc.clusters.length === 1) || loopbackHere || (host !== undefined && (hintHosts.has(host) || (!isLoopbackHost(host) && apiservers.some((a) => sanCovers(a.entry.sans, host!)))));
      out.push({ kc, cl, owner, cas, host, verified, verifiesApiserver, nodeCa, ourServer, apiservers, nodeCAs });
    }
  }
  return out;
}

type KubeconfigCluster = ReturnType<typeof kubeconfigClusters>[number];

function checkKubeconfigs(input: ClassifyInput, clusters: KubeconfigCluster[]): void {
  for (const { kc, cl, owner, cas, verifiesApiserver, nodeCa, ourServer, apiservers, nodeCAs } of clusters) {
    if (cl.caFrom !== 'data' || cas.length === 0 || !ourServer) continue;
    let bad: string | undefined;
    if (apiservers.length > 0) {
      if (!verifiesApiserver) bad = `does not verify the API server certificate ${apiservers[0]!.entry.location.file}`;
    } else {
      const same = nodeCAs.find((n) => cas.some((ca) => n.entry.subject === ca.entry.subject));
      if (same && !nodeCa) bad = `is not the node's CA ${same.entry.location.file} (same name, different key)`;
    }
    if (!bad) continue;
    const f: Finding = { code: 'kubeconfig-ca-mismatch', severity: 'error', file: kc.file, message: `${kc.file}: cluster ${JSON.stringify(cl.name)} certificate-authority-data ${bad}; clients using it will fail with "x509: certificate signed by unknown authority"` };
    // (on the client certificate it travels with, else on the CA copy itself when its row is that copy: either
    // way a row is not "ok"; a copy of a CA file of this node, an etcd CA pasted in by mistake, leaves that
    // CA's row alone, and the error is one on no row)
    const holder = owner ?? cas.find((ca) => ca.entry.location.kind === 'kubeconfig' && ca.entry.location.file === kc.file);
    if (holder) holder.entry.findings.push({ ...f, certificate: holder.entry.id });
    else input.findings.push(f);
  }
  for (const kc of input.kubeconfigs) {
    if (kc.file.endsWith('/kubelet.conf') && kc.users.some((u) => u.certFrom === 'data')) {
      const owner = input.records.find((r) => r.entry.location.file === kc.file && r.entry.location.kubeconfig?.entry === 'user');
      const user = kc.users.find((u) => u.certFrom === 'data')!.name;
      // (the same certificate as the kubelet's rotated pem, before its first rotation, is that row's copy)
      const holder = owner ?? input.records.find((r) => r.copies?.some((l) => l.file === kc.file && l.kubeconfig?.entry === 'user'));
      const message = holder
        ? embeddedKubeletConfText(kc.file, user, holder.entry.notAfter, input.certificates, input.now.getTime(), Boolean(holder.signer?.privateKey.present))
        : `${kc.file} embeds the kubelet's client certificate (user ${user}), which the kubelet never rewrites (its rotation writes /var/lib/kubelet/pki/kubelet-client-current.pem); point client-certificate/client-key at that file`;
      const f: Finding = { code: 'kubelet-conf-embedded-cert', severity: 'warning', file: kc.file, message };
      if (owner) owner.entry.findings.push({ ...f, certificate: owner.entry.id });
      else input.findings.push(f);
    }
  }
}

/** `sans` name `name` as Go's verifier matches a host (an IP in any spelling; `*.x` one label deep). */
export function sanCovers(sans: readonly { type: string; value: string }[], name: string): boolean {
  const host = unbracket(name);
  if (ipVersion(host)) return sans.some((s) => s.type === 'ip' && normIp(s.value) === normIp(host));
  const lower = host.toLowerCase();
  return sans.some((s) => {
    if (s.type !== 'dns') return false;
    const v = s.value.toLowerCase();
    if (v === lower) return true;
    return v.startsWith('*.') && lower.endsWith(v.slice(1)) && !lower.slice(0, lower.length - v.length + 1).includes('.');
  });
}

function normIp(ip: string): string {
  if (ipVersion(ip) === 6) {
    // expand for comparison
    const [head, tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
    const fill = tail !== undefined ? Array(8 - h.length - t.length).fill('0') : [];
    return [...h, ...fill, ...t].map((g) => parseInt(g || '0', 16).toString(16)).join(':');
  }
  return ip;
}

/**
 * etcd's serving and peer certificates must name the addresses its manifest announces: the members and
 * kube-apiserver check them. A control-plane node given a copy of another node's whole pki directory (in
 * place of the shared CA files) serves that node's names and cannot join or be reached.
 */
function checkEtcdSans(input: ClassifyInput): void {
  const etcd = input.hints.etcd;
  if (!etcd) return;
  const here = rootFlagFor(input.fs.root);
  const sans = (hosts: string[]) => hosts.map((h) => `${ipVersion(h) ? 'IP' : 'DNS'}:${h}`).join(',');
  for (const s of etcd.served) {
    let real = s.certFile;
    try { real = input.fs.realNodePath(s.certFile); } catch { /* a loop: its own finding */ }
    const peer = s.flag === '--initial-advertise-peer-urls';
    for (const r of input.records) {
      const l = r.entry.location;
      if (r.entry.isCA || l.kind === 'kubeconfig' || l.index !== 0 || (l.file !== real && l.file !== s.certFile && l.via !== s.certFile)) continue;
      const missing = s.hosts.filter((h) => !sanCovers(r.entry.sans, h));
      if (missing.length === 0) continue;
      // (kubeadm makes etcd-server and etcd-peer with CN = the node name: another CN is another member's, copied
      // with that node's whole pki directory; kubeadm join makes this node's own, as rebuild does for missing files)
      const node = input.hints.nodeName;
      const key = r.entry.privateKey.location?.file;
      const fix = node && r.entry.subjectCN && r.entry.subjectCN !== node
        ? `it is another member's certificate (CN ${r.entry.subjectCN}; this node is ${node}), copied with that node's pki directory: run kubepki rebuild${here} --force, which backs up ${l.file}${key ? ` and ${key}` : ''} (and every other certificate of that node's) and makes this node's own`
        : `renew with --add-san ${sans(missing)}: kubepki renew ${renewTarget(r.entry)} --add-san ${sans(missing)}${here}`;
      r.entry.findings.push({
        code: 'etcd-san-missing', severity: 'error', certificate: r.entry.id, file: l.file,
        message: `${r.entry.name} has no SAN for ${missing.join(', ')} (${s.flag} in ${etcd.source}); ${peer ? 'the other etcd members' : 'kube-apiserver and etcdctl'} connecting there get "x509: certificate is valid for …" — ${fix}`,
      });
    }
  }
}

function checkApiserverSans(input: ClassifyInput, clusters: KubeconfigCluster[]): void {
  const apiservers = apiserverRecords(input);
  if (apiservers.length === 0) return;
  const h = input.hints;
  // kubeadm's config and kube-apiserver's manifest speak of the certificate that manifest serves (its
  // --tls-cert-file), not of another installer's left on the node (a migrated node's /etc/kubernetes/ssl)
  const servingFiles = new Set(input.componentRefs.filter((r) => r.component === 'kube-apiserver' && r.via === '--tls-cert-file').map((r) => r.file));
  const served = apiservers.filter((a) => servingFiles.has(a.entry.location.file));
  const needed = new Map<Rec, Map<string, string>>(apiservers.map((a) => [a, new Map()]));
  for (const a of served.length > 0 ? served : apiservers) {
    const n = needed.get(a)!;
    if (h.advertiseAddress) n.set(h.advertiseAddress, 'the advertise address');
    if (h.controlPlaneEndpoint) n.set(endpointHost(h.controlPlaneEndpoint), 'controlPlaneEndpoint in kubeadm-config.yaml');
    for (const s of h.certSANs) n.set(s, 'apiServer.certSANs in kubeadm-config.yaml');
  }
  // a kubeconfig that trusts an API server's CA must find its server name in that certificate; one for
  // another cluster (or a webhook) says nothing about it, nor about another CA's API server certificate
  for (const { kc, host, verified } of clusters) {
    if (!host) continue;
    for (const a of verified) if (!needed.get(a)!.has(host)) needed.get(a)!.set(host, `the server address in ${kc.file}`);
  }
  for (const a of apiservers) {
    for (const [name, why] of needed.get(a)!) {
      if (sanCovers(a.entry.sans, name)) continue;
      a.entry.findings.push({
        code: 'apiserver-san-missing', severity: 'error', certificate: a.entry.id, file: a.entry.location.file,
        message: `${a.entry.name} has no SAN for ${name} (${why}); clients connecting to it get "x509: certificate is valid for …" — renew with --add-san ${ipVersion(unbracket(name)) ? 'IP' : 'DNS'}:${name}`,
      });
    }
  }
}

/** How a CA is renewed keeping its key: by kubepki, or by k3s/RKE2 themselves for the CAs in their datastore. */
function caRenewal(ca: Pick<CertEntry, 'name' | 'layout' | 'location'>, here = ''): string {
  const distro = RANCHER_DATASTORE_CA.exec(ca.location.file)?.[1] as 'k3s' | 'rke2' | undefined;
  return distro ? `renew the CA keeping its key (${ca.name}: ${rancherCaAdvice(distro, [ca.name])})` : `renew the CA (kubepki renew ${renewTarget(ca)}${here}), which keeps its key`;
}
