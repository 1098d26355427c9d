import { sha256Hex } from '../pki/digest.js';
import { nextStep, isAuthority, kubeletClientFix, kubeletServingFix, interruptedSwap, rootFlagFor } from './next.js';
import { localeOrder } from './order.js';
import { splitFlag } from './flags.js';
import { dirPrefix, isCertishName, isKubeconfigishName, isKubeletCurrentPath, isKubeletRotatedPath, kubeletPairName, withoutCertExtension } from './names.js';
import { posix } from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import { SymlinkLoopError } from '../fs/node-fs.js';
import { Certificate, describeKey, derToPem } from '../pki/certificate.js';
import { DerError } from '../pki/der.js';
import { looksLikePem, parsePemBlocks, PemError } from '../pki/pem.js';
import { parsePrivateKeyBlock, parsePrivateKeyDer, parsePublicKeyBlock, PRIVATE_KEY_LABELS, PUBLIC_KEY_LABELS, KeyError, samePublicKey, decryptKeyCommand } from '../pki/keys.js';
import { namedCurveSpki } from '../pki/key-spki.js';
import { isPkcs7, isPkcs12, pkcs7Certificates } from '../pki/pkcs7.js';
import { parseCsr } from '../pki/csr.js';
import { parseKubeconfig, looksLikeKubeconfig, KubeconfigError, clientGoRefusals, KUBECONFIG_DOC, type KubeconfigDoc } from '../kubeconfig/read.js';
import { manifestPems } from '../kubeconfig/manifest.js';
import { markOtherHostCopies } from '../layouts/kubespray-etcd.js';
import { detectLayouts, installerCert, installerRenewal, k0sDirs, kopsFile, kopsNodeIsControlPlane, minikubeHostCopy, K0S_DATA_DIR, kubeadmPkiDir, kubesprayRenewTimer, layoutTargets, KUBESPRAY_RENEW_TIMER, KUBESPRAY_RENEW_SERVICE, type KubesprayRenewTimer, type ScanTarget } from '../layouts/detect.js';
import { kubeadmProfileForFile, KUBEADM_PROFILES, profileCertPath, profileKeyPath, RKE1_COMPONENTS, RANCHER_COMPONENTS, isRancherLoopback, DEFAULT_PKI, KUBELET_CONF, KUBELET_PKI_DIR, type KubeadmCertProfile } from '../profiles/kubeadm.js';
import { readComponentRefs, readKubeadmConfigHints, readKubeletConfig, kubeletConfigPath, kubeletClientRotation, kubeletClientSigningOff, kubeletConfigProblems } from './components.js';
import { interruptedRuns } from './interrupted.js';
import { staleLoads, type LiveComponent } from './live.js';
import { certFacts, withCertDigests, withEagerDigests } from './describe.js';
import { classify, parseThresholdOrThrow } from './classify.js';
import type { CertEntry, CertLocation, ComponentRef, CsrEntry, Finding, Inventory, KeyEntry, KeyLocation, KubeconfigEntry, LayoutName, ManagedBy, MissingEntry } from './types.js';

export interface ReadOptions {
  fs: NodeFs;
  now: Date;
  /** warning threshold: `30d`, `66%` (default 30d) */
  warn?: string;
  /** force these layouts instead of detecting */
  layouts?: LayoutName[];
  /** extra files or directories (node paths) */
  paths?: string[];
  /** extra kubeconfig files (node paths) */
  kubeconfigs?: string[];
  /** files above this size are reported, not parsed (default 4 MiB) */
  maxFileSize?: number;
  /**
   * Work out each entry's fingerprint, spkiSha256 and pem only when first read
   * (a table that shows none of them). Entries then carry accessors holding the
   * certificate bytes: for a short-lived read, not an inventory kept in memory.
   */
  lazyDigests?: boolean;
  /** the --now as the operator typed it (check's): the commands Next suggests carry it (Inventory.nowGiven) */
  nowGiven?: string;
  /** read the files the static pod manifests and kubelet config name, and say who reads what (default true; inspect: one file only) */
  componentRefs?: boolean;
  /** the components running on this node (`liveComponents()`, for a check of the live node): files they read that changed after they started are reported */
  live?: LiveComponent[];
}

/** What one file turned out to hold. */
interface FileContent {
  path: string;
  layout: LayoutName;
  scanRoot: string;
  certs: Certificate[];
  /** certificates from PKCS#7 bundles in the file, in bundle order (read-only: renew leaves bundles alone) */
  pkcs7: Certificate[];
  keys: { der: Uint8Array; info: ReturnType<typeof parsePrivateKeyBlock> }[];
  publicKeys: { spki: Uint8Array; info: ReturnType<typeof parsePublicKeyBlock>['key'] }[];
  csrs: CsrEntry[];
  kubeconfig?: KubeconfigDoc;
  kind: 'pem' | 'der' | 'kubeconfig' | 'other';
  via?: string;
  /** the Kubernetes object whose data held the certificates (`Secret kube-system/k3s-serving`), for a manifest file */
  manifest?: string;
}

interface CertRecord {
  cert: Certificate;
  location: CertLocation;
  layout: LayoutName;
  scanRoot: string;
  copies: CertLocation[];
  /** the keys paired with copies in files (CertEntry.copyKeys) */
  copyKeys?: { file: string; key: KeyLocation }[];
  keyLocation?: KeyLocation;
  keySpki?: Uint8Array;
  keyEncrypted?: boolean;
  /** the key file spells its EC curve out (explicit parameters), which Go refuses */
  keyExplicit?: boolean;
  /** conventional partner key file was found but holds another key */
  keyMismatch?: boolean;
  entry?: CertEntry;
}

/**
 * A component's flag or config field that names a certificate, key, CA or kubeconfig file: a `--flag` one of whose
 * words is cert, key, ca, kubeconfig … (--tls-cert-file, --etcd-cafile, --proxy-client-key-file), the kubelet's
 * fields, etcd's variables and config-file keys.
 */
export function isCertRef(via: string): boolean {
  // (a flag name alone, one dash between its words: `--kubeconfig → client-certificate`, a file a kubeconfig
  // names, or `--x=y` is not one)
  const flag = splitFlag(via);
  if (flag && flag.value === undefined) {
    const words = via.slice(2).split('-');
    if (!words.includes('') && words.some((w) => CERT_REF_WORDS.has(w))) return true;
  }
  if (CERT_REF_FIELDS.has(via)) return true;
  if (via.startsWith('ETCD_') && ETCD_FILE_VAR.test(via)) return true;
  return via.includes('-transport-security.') && ETCD_TRANSPORT_KEY.test(via);
}

const CERT_REF_WORDS = new Set(['cert', 'certfile', 'certificate', 'key', 'keyfile', 'ca', 'cafile', 'authority', 'kubeconfig']);
const CERT_REF_FIELDS = new Set(['tlsCertFile', 'tlsPrivateKeyFile', 'authentication.x509.clientCAFile']);
const ETCD_FILE_VAR = /^ETCD_[A-Z_]*(?:CERT|KEY|CA)_FILE$/;
const ETCD_TRANSPORT_KEY = /-transport-security\.(?:(?:client-)?cert|(?:client-)?key|trusted-ca)-file$/;

/**
 * Read a node tree into an Inventory. Never throws for a bad file: every
 * problem becomes a finding on its row. Throws `UserError` only for bad
 * options or an explicit `--path` that cannot be read.
 */
export function readInventory(opts: ReadOptions): Inventory {
  const { now } = opts;
  const fs = opts.fs.snapshot();
  const threshold = parseThresholdOrThrow(opts.warn);
  const maxSize = opts.maxFileSize ?? 4 * 1024 * 1024;
  const layouts = opts.layouts ?? detectLayouts(fs);
  const pki = kubeadmPkiDir(fs);
  const targets: ScanTarget[] = layouts.flatMap((l) => layoutTargets(l, fs, pki));
  // a file named on its own (inspect, layouts []) inside a distro's directory on a node of that distro is
  // that distro's: RKE1's kube-apiserver.pem is renewed by rke and read by kube-apiserver, k0s's pki/server.crt
  // and kops's kube-apiserver/server.crt are apiserver, minikube's apiserver.crt the host's copy, as check says
  const distroTargets = opts.paths?.length && opts.layouts?.length === 0
    ? detectLayouts(fs).filter((l) => l === 'rke1' || l === 'rke2' || l === 'k3s' || l === 'k0s' || l === 'microk8s' || l === 'minikube' || l === 'kops').flatMap((l) => layoutTargets(l, fs, pki))
    : [];
  const inTarget = (p: string) => distroTargets.find((t) => (t.recursive
    ? p.startsWith(`${t.path}/`)
    : posix.dirname(p) === t.path && (!t.match || t.match.test(posix.basename(p)))));
  // (MicroK8s's targets are the revision's directories, which `current` links to: the file as given, or in its
  // directory's real place)
  const distroTarget = (p: string): ScanTarget | undefined => {
    if (distroTargets.length === 0) return undefined;
    let dir = posix.dirname(p);
    try { dir = fs.realNodePath(dir); } catch { /* a link loop: read as given */ }
    return inTarget(p) ?? inTarget(posix.join(dir, posix.basename(p)));
  };
  // (named from the distro's directory, as check names it: k3s's server/tls/etcd/server-ca.crt is etcd/server-ca, not a
  // second server-ca beside server/tls/server-ca.crt)
  for (const p of opts.paths ?? []) {
    const t = distroTarget(p);
    targets.push({ path: p, layout: t?.layout ?? 'generic', recursive: true, explicit: true, ...(t?.recursive ? { namedFrom: t.path } : {}) });
    // (and the node is read as that distro's where the layout decides more than the name: k0s's data directory,
    // minikube's host copies, the installers' renewal advice)
    if (t && !layouts.includes(t.layout)) layouts.push(t.layout);
  }
  for (const p of opts.kubeconfigs ?? []) targets.push({ path: p, layout: 'generic', recursive: false, explicit: true });
  if (opts.paths?.length && !layouts.includes('generic')) layouts.push('generic');

  const findings: Finding[] = [];
  // --path and --kubeconfig are node paths: under --root they are looked up inside it
  const underRoot = fs.root === '/' ? '' : ` under --root ${fs.root} (paths given with --root are read inside the tree)`;
  const files = new Map<string, FileContent>();
  const seenDirs = new Set<string>();

  /** paths already read (or found unreadable): a file named twice (a walk, then a manifest flag) is reported once */
  const tried = new Set<string>();
  const readOne = (nodePath: string, target: ScanTarget, explicit: boolean, via?: string): FileContent | undefined => {
    let real: string;
    try {
      real = fs.realNodePath(nodePath);
    } catch (e) {
      if (e instanceof SymlinkLoopError) {
        if (!tried.has(nodePath)) findings.push({ code: 'unreadable', severity: 'error', file: nodePath, message: `failed to read ${nodePath}: symlink loop` });
        tried.add(nodePath);
        return undefined;
      }
      throw e;
    }
    const existing = files.get(real);
    if (existing) {
      if (via && !existing.via) existing.via = via;
      return existing;
    }
    if (tried.has(real)) return undefined;
    tried.add(real);
    const st = fs.stat(real);
    if (!st) {
      if (fs.linkTarget(nodePath) !== undefined || fs.lstat(nodePath)?.isSymbolicLink()) {
        // (the kubelet's serving link: the kubelet makes a new pair, not a backup; its client link gets its fix below)
        const fix = nodePath === `${KUBELET_PKI_DIR}/kubelet-server-current.pem` ? `: ${kubeletServingFix()}` : '';
        findings.push({ code: 'unreadable', severity: 'error', file: nodePath, message: `failed to read ${nodePath}: dangling symlink to ${real}${fix}`, danglingTo: real });
      } else if (explicit) {
        findings.push({ code: 'missing-file', severity: 'error', file: nodePath, message: `${nodePath} does not exist${underRoot}` });
      }
      return undefined;
    }
    if (!st.isFile()) return undefined;
    if (st.size > maxSize) {
      findings.push({ code: 'unreadable', severity: 'error', file: real, message: `skipped ${real}: ${st.size} bytes is too large for a certificate file (limit ${maxSize})` });
      return undefined;
    }
    let buf: Buffer;
    try {
      buf = fs.readFile(real);
    } catch (e) {
      findings.push({ code: 'unreadable', severity: 'error', file: real, message: `failed to read ${real}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return undefined;
    }
    const fc = parseFileContent(buf, real, target, explicit, findings);
    if (!fc) return undefined;
    const kubeconfig = fc.kubeconfig;
    if (kubeconfig) fs.perRead(`${KUBECONFIG_DOC}${real}`, () => kubeconfig);
    if (via || real !== nodePath) fc.via = via ?? nodePath;
    files.set(real, fc);
    return fc;
  };

  // serverTLSBootstrap: the kubelet serves the pair it bootstraps (kubelet-server-current.pem) and never reads
  // nor makes its self-signed kubelet.crt (spec §7.1): one left from before is not in use, like rotated history
  const selfSignedUnused = readKubeletConfig(fs)?.serverTLSBootstrap === true ? ['/var/lib/kubelet/pki/kubelet.crt', '/var/lib/kubelet/pki/kubelet.key'] : [];
  const leftovers = new Set<string>();
  const walk = (dir: string, target: ScanTarget, depth: number) => {
    let realDir: string;
    try { realDir = fs.realNodePath(dir); } catch { return; }
    if (seenDirs.has(realDir) || depth > 8) return;
    seenDirs.add(realDir);
    // a directory that is there but cannot be listed (kubespray's etcd certificates, kube-owned 0700, read
    // without CAP_DAC_READ_SEARCH) is a read error, not a directory without certificates
    const entries = fs.readDir(dir, (e) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return;
      const denied = e.code === 'EACCES' || e.code === 'EPERM' ? ' (permission denied: run kubepki as root; in a container, with the capability DAC_READ_SEARCH)' : '';
      findings.push({ code: 'unreadable', severity: 'error', file: dir, message: `failed to read ${dir}: ${e.code ?? e.message}${denied}` });
    }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of entries) {
      const p = dir === '/' ? `/${d.name}` : `${dir}/${d.name}`;
      if (d.isDirectory()) {
        if (target.recursive) walk(p, target, depth + 1);
        continue;
      }
      if (target.match && !target.match.test(d.name)) continue;
      const isLink = d.isSymbolicLink() || fs.linkTarget(p) !== undefined;
      if (isLink) {
        if (fs.isDir(p)) {
          if (target.recursive) walk(p, target, depth + 1);
          continue;
        }
      }
      if (!target.explicit && !isCertishName(d.name) && !isKubeconfigishName(d.name)) continue;
      // rotated kubelet pairs other than the current one are history, not in use
      // (a swap the kubelet was stopped in the middle of leaves -current missing and -updated pointing at the
      // new pair: the kubelet renames it to -current when it starts, so it stands for -current; beside a
      // -current, an -updated is a leftover the kubelet removes at its next rotation; spec §7.2)
      const pair = kubeletPairName(d.name);
      if (pair && (fs.exists(`${dir}/kubelet-${pair.kind}-current.pem`) || (pair.stamp !== 'updated' && fs.lstat(`${dir}/kubelet-${pair.kind}-updated.pem`)?.isSymbolicLink()))) continue;
      if (!target.explicit && selfSignedUnused.includes(p)) { leftovers.add(p); continue; }
      // in a directory the user named every file is read, but only a certificate-like name that does not
      // parse is reported: an openssl.cnf or a README beside the certificates is not a broken certificate
      readOne(p, target, Boolean(target.explicit) && (isCertishName(d.name) || isKubeconfigishName(d.name)), isLink ? p : undefined);
    }
  };

  for (const t of targets) {
    const st = fs.stat(t.path);
    if (!st) {
      if (t.explicit) findings.push({ code: 'missing-file', severity: 'error', file: t.path, message: `${t.path} does not exist${underRoot}` });
      continue;
    }
    if (st.isDirectory()) walk(t.path, t, 0);
    else readOne(t.path, t, t.explicit ?? false, fs.linkTarget(t.path) !== undefined ? t.path : undefined);
  }

  // Files the static pod manifests and the kubelet's config name are read too, wherever they are: an
  // external etcd's client certificate in /etc/etcd/pki, a --tls-cert-file outside the PKI directory.
  const componentRefs = opts.componentRefs === false ? [] : withRealPaths(fs, readComponentRefs(fs));
  for (const ref of componentRefs) {
    if (!isCertRef(ref.via) || files.has(ref.file)) continue;
    const target: ScanTarget = { path: posix.dirname(ref.file), layout: 'generic', recursive: false };
    readOne(ref.file, target, false, fs.linkTarget(ref.file) !== undefined ? ref.file : undefined);
    // and the key beside it, which no flag names (an external etcd's /etc/etcd/pki/ca.key): a CA whose key
    // is on the node is not externally managed
    for (const key of partnerKeyPaths(ref.file)) if (fs.exists(key) && !files.has(safeReal(fs, key))) readOne(key, target, false, fs.linkTarget(key) !== undefined ? key : undefined);
  }

  // Files that kubeconfigs reference (kubelet.conf → kubelet-client-current.pem) are read too.
  for (const fc of [...files.values()]) {
    if (!fc.kubeconfig) continue;
    for (const u of fc.kubeconfig.users) {
      for (const ref of [u.certFile, u.keyFile]) {
        if (ref) readOne(ref, { path: ref, layout: fc.layout, recursive: false }, false, fs.linkTarget(ref) !== undefined ? ref : undefined);
      }
    }
    for (const c of fc.kubeconfig.clusters) if (c.caFile) readOne(c.caFile, { path: c.caFile, layout: fc.layout, recursive: false }, false);
  }

  // (unless a component names it after all: its tlsCertFile)
  const leftover = '/var/lib/kubelet/pki/kubelet.crt';
  if (leftovers.has(leftover) && !files.has(safeReal(fs, leftover))) {
    findings.push({ code: 'kubelet-serving-unused', severity: 'info', file: leftover, message: `${leftover} (with kubelet.key) is the kubelet's self-signed serving pair from before serverTLSBootstrap: the kubelet now serves /var/lib/kubelet/pki/kubelet-server-current.pem and never reads it, so its dates do not matter; it can be deleted` });
  }
  findings.push(...interruptedRuns(fs));
  // (certificates, keys and kubeconfigs only: a log or an audit policy file changes without mattering here)
  if (opts.live?.length) findings.push(...staleLoads(fs, opts.live, componentRefs.filter((r) => isCertRef(r.via))));
  const inv = assemble(fs, [...files.values()], findings, layouts, threshold, now, opts.warn, opts.lazyDigests ?? false, componentRefs, pki);
  // (what no layout reads: the advice names it, as `renew all` would not reach it)
  const given = [...(opts.paths ?? []), ...(opts.kubeconfigs ?? [])];
  if (opts.nowGiven !== undefined) inv.nowGiven = opts.nowGiven;
  inv.next = nextStep(given.length > 0 ? { ...inv, given } : inv);
  if (given.length > 0) inv.given = given;
  return inv;
}

function parseFileContent(buf: Buffer, file: string, target: ScanTarget, explicit: boolean, findings: Finding[]): FileContent | undefined {
  const fc: FileContent = { path: file, layout: target.layout, scanRoot: target.namedFrom ?? target.path, certs: [], pkcs7: [], keys: [], publicKeys: [], csrs: [], kind: 'other' };
  const base = posix.basename(file);
  const corrupt = (why: string) => {
    findings.push({ code: 'corrupt', severity: 'error', file, message: `${file}: ${why}` });
  };
  const addCsr = (der: Uint8Array) => {
    const c = parseCsr(der);
    const entry: CsrEntry = {
      file, subject: c.subjectString, sans: c.sans, keyAlgorithm: describeKey(c.key), keyUsage: c.keyUsage, extKeyUsage: c.extKeyUsage,
      signatureAlgorithm: c.signatureAlgorithm, signatureValid: c.signatureValid ?? null, challengePassword: c.challengePassword,
    };
    Object.defineProperty(entry, 'pem', { value: derToPem(der, 'CERTIFICATE REQUEST'), enumerable: false });
    fc.csrs.push(entry);
    if (c.signatureValid === false) corrupt(`the certificate request's signature does not verify with the key it requests: it was altered after it was signed (or made with another key); do not sign it, ask for a new one`);
  };
  if (looksLikePem(buf)) {
    fc.kind = 'pem';
    let blocks;
    try {
      blocks = parsePemBlocks(buf.toString('latin1'));
    } catch (e) {
      if (e instanceof PemError) { corrupt(e.message); return undefined; }
      throw e;
    }
    takeBlocks(blocks);
    return fc;
  }
  function takeBlocks(blocks: ReturnType<typeof parsePemBlocks>): void {
    for (const b of blocks) {
      try {
        // (OpenSSL's old label, which openssl still reads: Go takes CERTIFICATE blocks only, crypto/tls X509KeyPair
        // 'failed to find "CERTIFICATE" PEM block … after skipping PEM blocks of the following types: [X509 CERTIFICATE]'
        // and client-go's certutil.ParseCertsPEM alike, so no Kubernetes component reads the certificate)
        if (b.label === 'X509 CERTIFICATE') corrupt(`PEM block ${b.index + 1} is labelled X509 CERTIFICATE (OpenSSL's old name), which Go programs do not read: they take CERTIFICATE blocks only; relabel it with sed -i 's/ X509 CERTIFICATE-----/ CERTIFICATE-----/' ${file}`);
        else if (b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE') fc.certs.push(new Certificate(b.der).checkFields());
        else if (b.label in PRIVATE_KEY_LABELS) fc.keys.push({ der: b.der, info: parsePrivateKeyBlock(b.label, b.der, b.headers) });
        else if (PUBLIC_KEY_LABELS.has(b.label)) {
          const pk = parsePublicKeyBlock(b.label, b.der);
          fc.publicKeys.push({ spki: pk.spki, info: pk.key });
        } else if (b.label === 'PKCS7' || b.label === 'CMS' || b.label === 'PKCS #7 SIGNED DATA') {
          const ders = pkcs7Certificates(b.der);
          if (ders.length === 0) corrupt(`PEM block ${b.index + 1} (${b.label}): PKCS#7 bundle without certificates`);
          for (const der of ders) fc.pkcs7.push(new Certificate(der).checkFields());
        } else if (b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST') {
          addCsr(b.der);
        }
      } catch (e) {
        // (OpenSSL's trust format, `openssl x509 -addtrust`: the certificate and then its trust settings; Go reads
        // only CERTIFICATE blocks, so no Kubernetes component takes the file as it is)
        if (b.label === 'TRUSTED CERTIFICATE' && e instanceof DerError && e.message === 'trailing bytes after certificate') corrupt(`PEM block ${b.index + 1} is a TRUSTED CERTIFICATE (OpenSSL's trust format: the certificate and then its trust settings), which Go programs do not read: write the plain certificate with openssl x509 -in ${file} -out ${file}`);
        else if (e instanceof DerError || e instanceof KeyError || e instanceof RangeError) corrupt(`PEM block ${b.index + 1} (${b.label}): ${e.message}`);
        else throw e;
      }
    }
  }
  if (buf.length > 0 && buf[0] === 0x30) {
    fc.kind = 'der';
    try {
      fc.certs.push(new Certificate(buf).checkFields());
      return fc;
    } catch { /* not a certificate: maybe a PKCS#7 bundle, a key or a CSR */ }
    if (isPkcs7(buf)) {
      try {
        for (const der of pkcs7Certificates(buf)) fc.pkcs7.push(new Certificate(der).checkFields());
      } catch (e) {
        if (e instanceof DerError || e instanceof RangeError) { corrupt(`PKCS#7 bundle: ${e.message} (a BER-encoded bundle can be re-encoded: openssl pkcs7 -in FILE -inform DER -outform DER)`); return undefined; }
        throw e;
      }
      if (fc.pkcs7.length === 0) corrupt('PKCS#7 bundle without certificates');
      return fc;
    }
    let k: ReturnType<typeof parsePrivateKeyDer>;
    try {
      k = parsePrivateKeyDer(buf);
    } catch (e) {
      if (e instanceof KeyError) { corrupt(e.message); return undefined; }
      throw e;
    }
    if (k) { fc.keys.push({ der: buf, info: k }); return fc; }
    try {
      addCsr(buf);
      return fc;
    } catch { /* fall through */ }
    if (isPkcs12(buf)) {
      // a .p12 beside the certificates (exported for a browser or a Java client): not a broken certificate
      if (explicit) corrupt(`a PKCS#12 bundle, which kubepki does not open: openssl pkcs12 -in ${file} -nokeys | kubepki inspect -`);
      return undefined;
    }
    if (isCertishName(base) || explicit) corrupt('not a certificate, key or CSR (DER that does not parse)');
    return undefined;
  }
  const text = buf.toString('utf8');
  if (isKubeconfigishName(base) || ((explicit || target.manifest) && !isCertishName(base))) {
    // kubeadm's own kubeconfigs (and *.kubeconfig files) must parse: an empty or broken admin.conf is a finding, not nothing
    const mustBeKubeconfig = kubeadmProfileForFile(file) !== undefined || /(\.kubeconfig|^kubeconfig)$/.test(base);
    if (looksLikeKubeconfig(text) || mustBeKubeconfig) {
      try {
        fc.kubeconfig = parseKubeconfig(text, file);
        fc.kind = 'kubeconfig';
        return fc;
      } catch (e) {
        if (e instanceof KubeconfigError) { corrupt(`not a readable kubeconfig: ${e.message}`); return undefined; }
        throw e;
      }
    }
    if (explicit || target.manifest) {
      // `kubectl get secret -o yaml > s.yaml; kubepki inspect s.yaml`: the certificates a Secret or ConfigMap holds
      const pems = manifestPems(text);
      if (pems && pems.length > 0) {
        fc.kind = 'pem';
        fc.manifest = [...new Set(pems.map((m) => m.object))].join(', ');
        for (const m of pems) {
          try { takeBlocks(parsePemBlocks(m.pem)); } catch (e) {
            if (e instanceof PemError) corrupt(`${m.where}: ${e.message}`);
            else throw e;
          }
        }
        return fc;
      }
    }
    // (in a directory given with --path: a Kubernetes object of another kind, a static pod manifest or kubeadm's
    // ClusterConfiguration beside the certificates, holds none and is not broken; a file named by itself is reported)
    const otherKind = target.path !== file && /^kind:[ \t]*(?!Config[ \t]*$)\S/m.test(text);
    if ((explicit && !otherKind) || /\.(conf|kubeconfig)$/.test(base)) {
      if ((explicit && !otherKind) || base.endsWith('.conf') && /^\s*(apiVersion|kind)\s*:\s*Config/m.test(text)) corrupt('not a kubeconfig, certificate, key or CSR');
    }
    return undefined;
  }
  if (isCertishName(base)) corrupt(buf.length === 0 ? 'empty file' : 'no PEM block and not DER: not a certificate, key or CSR');
  return undefined;
}

/**
 * Index of the first certificate of a leaf's chain file (leaf first, then each CA that signed the one before, RFC
 * 8446 §4.4.2 / RFC 5246 §7.4.2) that did not sign the one before it; undefined when every one did. `known(i)`:
 * the trust tree already found certificate i+1 signed certificate i (no second signature check). Whatever follows a
 * self-signed root is left alone: the chain is complete there, and a trust bundle appended to it is no wrong link.
 */
export function chainBreak(chain: Certificate[], known: (i: number) => boolean = () => false): number | undefined {
  for (let i = 1; i < chain.length; i++) {
    const below = chain[i - 1]!;
    // a self-signed root ends the chain: what follows is a trust bundle appended (sent for nothing, but no wrong link)
    if (below.isSelfIssued && below.verifySignedBy(below)) return undefined;
    if (!known(i - 1) && !below.verifySignedBy(chain[i]!)) return i;
  }
  return undefined;
}

/**
 * A leaf's chain file, or value (a Secret's tls.crt): more than one certificate, a leaf first. What follows it is its
 * chain (spec §1: "first block = leaf, rest = intermediates"); a CA first is a CA bundle (old and new CA during a
 * rotation, several roots), whose certificates need not sign each other.
 */
export function isLeafChain(certs: Certificate[]): boolean {
  return certs.length > 1 && !certs[0]!.isCA;
}

/**
 * The bundle-chain-mismatch finding of a leaf's chain (see isLeafChain) at `file` (a node path, or a cluster
 * object's `secret/ns/name:tls.crt`) for its leaf's row `certificate`, or undefined when each certificate signed
 * the one before it (see chainBreak for `known`).
 */
export function bundleChainMismatch(file: string, certificate: string, chain: Certificate[], known?: (i: number) => boolean): Finding | undefined {
  const brk = isLeafChain(chain) ? chainBreak(chain, known) : undefined;
  if (brk === undefined) return undefined;
  const [below, above] = [chain[brk - 1]!, chain[brk]!];
  return {
    code: 'bundle-chain-mismatch', severity: 'warning', certificate, file,
    message: `${file}: certificate ${brk + 1} (${above.subjectString}) did not sign certificate ${brk} (${below.subjectString}, issued by ${below.issuerString}): the blocks after the first are sent as its chain, and this one is not part of it (a CA pasted from elsewhere, or the certificate re-issued by another CA and the file not updated); clients that need the issuing CA from the server fail, and strict ones refuse an out-of-order chain. Put the certificate's own chain after it (leaf, then each CA that signed the one before), or drop the blocks that are not`,
  };
}

const LOCATION_RANK = (l: CertLocation) => (l.kind === 'kubeconfig' ? 2 : l.index > 0 ? 1 : 0);

function assemble(fs: NodeFs, files: FileContent[], findings: Finding[], layouts: LayoutName[], threshold: ReturnType<typeof parseThresholdOrThrow>, now: Date, warnText: string | undefined, lazyDigests: boolean, componentRefs: ComponentRef[], pkiLogical: string): Inventory {
  const byFile = new Map(files.map((f) => [f.path, f]));
  const records: CertRecord[] = [];
  const byDer = new Map<string, CertRecord>();
  const keys: KeyEntry[] = [];
  const keyBySpki = new Map<string, { file: string; kind: KeyLocation['kind']; user?: string; explicit?: boolean }>();
  const kubeconfigs: KubeconfigEntry[] = [];
  const csrs: CsrEntry[] = [];
  // identity of bytes inside this read, as a Map key: their SHA-256 (crypto/x509's CertPool finds a duplicate by
  // the SHA-224 of its bytes, haveSum), a one-call digest with no Hash object, where the bytes themselves as a
  // string were a copy of every certificate, ~1 KB each, for one look-up
  const same = (b: Uint8Array) => sha256Hex(b);

  const addCert = (cert: Certificate, location: CertLocation, f: FileContent): CertRecord => {
    const k = same(cert.der);
    const prior = byDer.get(k);
    if (prior) {
      // The same certificate in another place (a CA copied into a kubeconfig or a bundle): one row, many copies.
      if (LOCATION_RANK(location) < LOCATION_RANK(prior.location)) {
        prior.copies.push(prior.location);
        prior.location = location;
        prior.layout = f.layout;
        prior.scanRoot = f.scanRoot;
      } else prior.copies.push(location);
      return prior;
    }
    const r: CertRecord = { cert, location, layout: f.layout, scanRoot: f.scanRoot, copies: [] };
    records.push(r);
    byDer.set(k, r);
    return r;
  };

  // 1. every certificate and key in files
  const chainFiles: { file: string; records: CertRecord[] }[] = [];
  // (indexed loops over the files and records: a check runs assemble once, unoptimised, where each for…of
  // step allocates an iterator result)
  for (let fi = 0; fi < files.length; fi++) {
    const f = files[fi]!;
    const inFile = f.certs.map((cert, index) => addCert(cert, { file: f.path, kind: f.kind === 'der' ? 'der' : 'pem', index, ...(f.via ? { via: f.via } : {}), ...(f.manifest ? { manifest: f.manifest } : {}) }, f));
    if (isLeafChain(f.certs)) chainFiles.push({ file: f.path, records: inFile });
    f.pkcs7.forEach((cert, index) => addCert(cert, { file: f.path, kind: 'pkcs7', index, ...(f.via ? { via: f.via } : {}) }, f));
    for (const k of f.keys) {
      const spkiHex = k.info.spki ? sha256Hex(k.info.spki) : undefined;
      const spkiKey = k.info.spki ? same(namedCurveSpki(k.info.spki)) : undefined;
      if (spkiKey !== undefined && !keyBySpki.has(spkiKey)) keyBySpki.set(spkiKey, { file: f.path, kind: f.kind === 'der' ? 'der' : 'pem', explicit: k.info.key?.explicitParameters });
      keys.push({ file: f.path, kind: 'private', format: k.info.format, encrypted: k.info.encrypted, keyAlgorithm: k.info.key?.algorithm ?? k.info.algorithm, keySize: k.info.key?.size, curve: k.info.key?.curve, ...(k.info.key?.explicitParameters ? { explicitParameters: true as const } : {}), spkiSha256: spkiHex, certificates: [] });
      if (k.info.encrypted) {
        // kube-apiserver, etcd, the kubelet … take no passphrase: a key one of them reads keeps it from starting
        const readers = [...new Set(componentRefs.filter((c) => c.file === f.path || c.file === f.via).map((c) => c.component))].sort();
        findings.push(readers.length > 0
          ? { code: 'key-encrypted', severity: 'error', file: f.path, message: `${f.path} holds an encrypted private key, and ${readers.join(', ')} ${readers.length > 1 ? 'read' : 'reads'} it: Kubernetes components take no passphrase and fail to start with it; decrypt it (${decryptKeyCommand(f.path)}) or put the unencrypted key back` }
          : { code: 'key-encrypted', severity: 'info', file: f.path, message: `${f.path} holds an encrypted private key; kubepki cannot check or use it` });
      }
    }
    for (const pk of f.publicKeys) {
      keys.push({ file: f.path, kind: 'public', format: 'spki', encrypted: false, keyAlgorithm: pk.info.algorithm, keySize: pk.info.size, curve: pk.info.curve, ...(pk.info.explicitParameters ? { explicitParameters: true as const } : {}), spkiSha256: sha256Hex(pk.spki), certificates: [] });
    }
    csrs.push(...f.csrs);
  }

  // 2. kubeconfig entries
  // (the CA data of every kubeconfig is ca.crt again: its bytes are looked up before they are parsed)
  const known = (der: Uint8Array) => byDer.get(same(der))?.cert;
  for (let fi = 0; fi < files.length; fi++) {
    const f = files[fi]!;
    const kc = f.kubeconfig;
    if (!kc) continue;
    kubeconfigs.push({
      file: f.path,
      currentContext: kc.currentContext,
      clusters: kc.clusters.map((c) => ({ name: c.name, server: c.server, caFrom: c.caData ? 'data' : c.caFile ? 'file' : undefined, caFile: c.caFile })),
      users: kc.users.map((u) => ({ name: u.name, certFrom: u.certData ? 'data' : u.certFile ? 'file' : undefined, certFile: u.certFile, keyFrom: u.keyData ? 'data' : u.keyFile ? 'file' : undefined, keyFile: u.keyFile, token: u.token, auth: [
        ...(u.certData || u.certFile ? ['client-certificate'] : []), ...(u.token ? ['token'] : []), ...(u.exec ? ['exec'] : []),
        ...(u.basic ? ['basic'] : []), ...(u.authProvider ? ['auth-provider'] : []),
      ] })),
    });
    for (const c of kc.clusters) {
      if (!c.caData) continue;
      const certs = certsFromBytes(c.caData, `${f.path}: cluster ${JSON.stringify(c.name)} certificate-authority-data`, findings, known);
      certs.forEach((cert, index) => addCert(cert, { file: f.path, kind: 'kubeconfig', index, kubeconfig: { entry: 'cluster', name: c.name, field: 'certificate-authority-data' }, ...(f.via ? { via: f.via } : {}) }, f));
    }
    for (const u of kc.users) {
      let userKeySpki: Uint8Array | undefined;
      let userKeyExplicit: boolean | undefined;
      let userKeyLoc: KeyLocation | undefined;
      let encrypted = false;
      if (u.keyData) {
        try {
          const blocks = parsePemBlocks(u.keyData.toString('latin1'));
          const kb = blocks.find((b) => b.label in PRIVATE_KEY_LABELS);
          if (!kb) throw new KeyError('no private key block');
          const info = parsePrivateKeyBlock(kb.label, kb.der, kb.headers);
          encrypted = info.encrypted;
          userKeySpki = info.spki;
          userKeyExplicit = info.key?.explicitParameters;
          userKeyLoc = { file: f.path, kind: 'kubeconfig', user: u.name, field: 'client-key-data' };
          if (info.spki) keyBySpki.set(same(namedCurveSpki(info.spki)), { file: f.path, kind: 'kubeconfig', user: u.name, explicit: userKeyExplicit });
        } catch (e) {
          findings.push({ code: 'corrupt', severity: 'error', file: f.path, message: `${f.path}: user ${JSON.stringify(u.name)} client-key-data: ${(e as Error).message}` });
        }
      } else if (u.keyFile) {
        const kf = byFile.get(safeReal(fs, u.keyFile));
        const k = kf?.keys[0];
        // (a key file is a key file wherever it was named: `field` is for a key inside the kubeconfig)
        userKeyLoc = { file: kf?.path ?? u.keyFile, kind: 'pem' };
        if (k) { userKeySpki = k.info.spki; encrypted = k.info.encrypted; userKeyExplicit = k.info.key?.explicitParameters; }
      }
      const attach = (r: CertRecord, take: boolean) => {
        if (!userKeyLoc) return;
        if (take && (!r.keyLocation || r.location.kind === 'kubeconfig')) {
          r.keyLocation = userKeyLoc;
          r.keySpki = userKeySpki;
          r.keyEncrypted = encrypted;
          r.keyExplicit = userKeyExplicit;
        }
        // a pair the row does not show (its key is another copy): kubectl still refuses this user if they differ
        if (r.keyLocation !== userKeyLoc && userKeySpki && !samePublicKey(userKeySpki, r.cert.spkiRaw)) {
          findings.push({ code: 'key-mismatch', severity: 'error', file: f.path, message: `${f.path}: user ${JSON.stringify(u.name)}: ${userKeyLoc.kind === 'kubeconfig' ? 'client-key-data' : `client-key ${userKeyLoc.file}`} is not the key of its client certificate (kubectl: "tls: private key does not match public key")` });
        }
      };
      if (u.certData) {
        const certs = certsFromBytes(u.certData, `${f.path}: user ${JSON.stringify(u.name)} client-certificate-data`, findings, known);
        certs.forEach((cert, index) => {
          // client-certificate-data may carry the chain (k3s): the key belongs to the first certificate only
          const r = addCert(cert, { file: f.path, kind: 'kubeconfig', index, kubeconfig: { entry: 'user', name: u.name, field: 'client-certificate-data' }, ...(f.via ? { via: f.via } : {}) }, f);
          // (a copy of a certificate file's: that file's row takes its own key, beside it or the one a kubeconfig
          // pairs with it, and this one only when it has none, step 3)
          if (index === 0) attach(r, r.location.kind === 'kubeconfig');
        });
      } else if (u.certFile) {
        const real = safeReal(fs, u.certFile);
        const cf = byFile.get(real);
        if (!cf) {
          findings.push({ code: 'missing-file', severity: 'error', file: f.path, message: `${f.path}: user ${JSON.stringify(u.name)} client-certificate ${u.certFile} does not exist or is unreadable` });
        } else {
          const first = cf.certs[0];
          const r = first ? byDer.get(same(first.der)) : undefined;
          // (a copy of the row's file: its key is that copy's, not the row's)
          if (r && u.keyFile && safeReal(fs, u.keyFile) !== real) attach(r, r.location.file === real);
          if (r && r.location.file !== real && userKeyLoc && userKeySpki && samePublicKey(userKeySpki, r.cert.spkiRaw)) (r.copyKeys ??= []).push({ file: real, key: userKeyLoc });
        }
      }
    }
    for (const problem of clientGoRefusals(kc, (p) => fs.exists(p))) {
      findings.push({ code: 'kubeconfig-invalid', severity: 'error', file: f.path, message: `${f.path}: ${problem}; kubectl, the kubelet and every client-go program refuse it ("Error in configuration")` });
    }
  }

  const layoutOf = new Set(layouts);
  // kubespray keeps kubeadm's files in /etc/kubernetes/ssl (with pki a symlink to it): use the real directory
  const pkiDir = layoutOf.has('kubespray') && pkiLogical === DEFAULT_PKI ? '/etc/kubernetes/ssl' : safeReal(fs, pkiLogical);
  // A certificate in two files is one row at the first file read; when the other is kubeadm's own file (an operator's
  // `cp apiserver.crt apiserver-old.crt` before renewing by hand, read first as it sorts first), the row is
  // kubeadm's file and the copy the other: else kubeadm's file was "no certificate in it", the row was named after
  // the copy (apiserver-old, RENEWED BY manual) and renew sent the operator to a restore for kubeadm's file.
  const kubeadmFile = (l: CertLocation) => l.kind === 'pem' && l.index === 0
    && (kubeadmProfileForFile(l.file, pkiDir) ?? (l.via ? kubeadmProfileForFile(l.via, pkiLogical) : undefined))?.kind === 'pki';
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    if (r.copies.length === 0 || kubeadmFile(r.location)) continue;
    const i = r.copies.findIndex((l) => LOCATION_RANK(l) <= LOCATION_RANK(r.location) && kubeadmFile(l));
    if (i < 0) continue;
    const f = byFile.get(r.copies[i]!.file);
    [r.location, r.copies[i]] = [r.copies[i]!, r.location];
    if (f) { r.layout = f.layout; r.scanRoot = f.scanRoot; }
  }

  // 3. private keys for certificates
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    if (r.keyLocation) continue;
    const f = byFile.get(r.location.file);
    if (!f) continue;
    if (r.location.kind !== 'kubeconfig' && r.location.index === 0 && f.keys.length > 0) {
      // cert and key in one file (kubelet-client-*.pem)
      r.keyLocation = { file: f.path, kind: 'pem', sameFile: true };
      r.keySpki = f.keys[0]!.info.spki;
      r.keyEncrypted = f.keys[0]!.info.encrypted;
      r.keyExplicit = f.keys[0]!.info.key?.explicitParameters;
      continue;
    }
    if (r.location.kind === 'kubeconfig' || r.location.index !== 0) continue;
    for (const cand of partnerKeyPaths(f.path)) {
      const kf = byFile.get(cand) ?? (fs.exists(cand) ? undefined : null);
      if (kf === null) continue;
      const k = kf?.keys[0];
      r.keyLocation = { file: cand, kind: 'pem' };
      if (k) { r.keySpki = k.info.spki; r.keyEncrypted = k.info.encrypted; r.keyExplicit = k.info.key?.explicitParameters; }
      if (k && k.info.spki && !samePublicKey(k.info.spki, r.cert.spkiRaw)) r.keyMismatch = true;
      break;
    }
  }
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    if (r.keyLocation) continue;
    const hit = keyBySpki.get(same(namedCurveSpki(r.cert.spkiRaw)));
    if (hit) {
      r.keyLocation = { file: hit.file, kind: hit.kind, ...(hit.user ? { user: hit.user } : {}) };
      r.keySpki = r.cert.spkiRaw;
      r.keyExplicit = hit.explicit;
    }
  }
  // the key of each copy in a file, in it or beside it, when it is this certificate's
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    for (const l of r.copies) {
      if (l.kind === 'kubeconfig' || l.index !== 0 || r.copyKeys?.some((k) => k.file === l.file)) continue;
      const f = byFile.get(l.file);
      const pairs = (k: { info: { spki?: Uint8Array } } | undefined) => k?.info.spki !== undefined && samePublicKey(k.info.spki, r.cert.spkiRaw);
      if (f && pairs(f.keys[0])) { (r.copyKeys ??= []).push({ file: l.file, key: { file: l.file, kind: 'pem', sameFile: true } }); continue; }
      const cand = partnerKeyPaths(l.file).find((p) => pairs(byFile.get(p)?.keys[0]));
      if (cand) (r.copyKeys ??= []).push({ file: l.file, key: { file: cand, kind: 'pem' } });
    }
    if (r.keyLocation) r.copyKeys = r.copyKeys?.filter((k) => k.key.file !== r.keyLocation!.file);
  }

  // 4. names
  // kubeadm's name for a file: by where it is, or by the path it was found under (pki/etcd a link elsewhere,
  // apiserver.crt a link to a dated file)
  // a kubeadm kubeconfig whose client-certificate is a file reference: that file is the kubeconfig's certificate
  const referencedBy = new Map<string, KubeadmCertProfile>();
  // kubeadm writes and renews one user in each of its kubeconfigs, the current context's: another user an
  // operator added (kubectl config set-credentials with KUBECONFIG=/etc/kubernetes/admin.conf) is not kubeadm's
  const kubeadmUser = (l: CertLocation): boolean => {
    const kc = byFile.get(l.file)?.kubeconfig;
    if (!kc || l.kubeconfig?.entry !== 'user') return false;
    return kc.users.length <= 1 || kc.contexts.find((c) => c.name === kc.currentContext)?.user === l.kubeconfig.name;
  };
  for (const k of kubeconfigs) {
    const prof = kubeadmProfileForFile(k.file, pkiDir);
    const users = k.users.filter((u) => u.certFrom === 'file' && u.certFile);
    // (kubelet.conf's reference is the kubelet's rotating client pair, named as such)
    if (prof?.kind === 'kubeconfig' && prof.name !== 'kubelet.conf' && users.length === 1) referencedBy.set(safeReal(fs, users[0]!.certFile!), prof);
  }
  // and one whose embedded client certificate is also saved in a file (extracted for curl, or the file another
  // kubeconfig references): that file's row is the kubeconfig's certificate, which kubeadm renews there
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    if (r.location.kind === 'kubeconfig' || r.location.index !== 0) continue;
    for (const l of r.copies) {
      const prof = l.kind === 'kubeconfig' && l.index === 0 && kubeadmUser(l) ? kubeadmProfileForFile(l.file, pkiDir) : undefined;
      if (prof?.kind === 'kubeconfig' && prof.name !== 'kubelet.conf' && !referencedBy.has(r.location.file)) referencedBy.set(r.location.file, prof);
    }
  }
  const profileOf = (l: CertLocation) => (l.kind === 'kubeconfig' && !kubeadmUser(l) ? undefined : kubeadmProfileForFile(l.file, pkiDir)
    ?? (l.via ? kubeadmProfileForFile(l.via, pkiLogical) ?? kubeadmProfileForFile(l.via, pkiDir) : undefined))
    ?? (l.kind !== 'kubeconfig' && l.index === 0 ? referencedBy.get(l.file) : undefined);
  // (k0s's data directory: its files are known by their path under it; read only on a k0s node)
  const k0s = layouts.includes('k0s') ? k0sDirs(fs) : undefined;
  const k0sDir = k0s?.dataDir ?? K0S_DATA_DIR;
  const names = nameRecords(records, profileOf, k0sDir);
  // (minikube's node is read as kubeadm's; what the host copies over kubeadm's files is minikube's)
  const minikube = layouts.includes('minikube');

  // 5. trust tree: which CA's key made each signature
  const cas = records.filter((r) => r.cert.isCA);
  const caBySubject = new Map<string, CertRecord[]>();
  for (const ca of cas) {
    // by the decoded name, not the bytes: a CA re-made by openssl (UTF8String) must still be found for a Go-made leaf (PrintableString)
    const k = ca.cert.subjectString;
    caBySubject.set(k, [...(caBySubject.get(k) ?? []), ca]);
  }
  const signerOf = new Map<CertRecord, CertRecord | undefined>();
  const sameSubjectNoSig = new Set<CertRecord>();
  const notCaSigner = new Map<CertRecord, CertRecord>();
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    const cands = caBySubject.get(r.cert.issuerString) ?? [];
    let found: CertRecord | undefined;
    const aki = r.cert.authorityKeyId;
    // CA files first (what components load), then copies in kubeconfigs; matching key ids first.
    const rank = (c: CertRecord) => (c.location.kind === 'kubeconfig' ? 2 : 0) + (c.cert.subjectKeyId === aki ? 0 : 1);
    const ordered = [...cands].sort((a, b) => rank(a) - rank(b));
    for (const ca of ordered) {
      if (ca === r && !r.cert.isSelfIssued) continue;
      if (r.cert.verifySignedBy(ca.cert)) { found = ca; break; }
    }
    // (a self-signed certificate that is no CA signed itself all the same: its peers trust it as itself, as dqlite's
    // cluster.crt on MicroK8s, CA:FALSE, is trusted by every node of the cluster)
    if (!found && cands.length === 0 && r.cert.isSelfIssued && !r.cert.isCA && r.cert.verifySignedBy(r.cert)) found = r;
    signerOf.set(r, found);
    // a certificate that is not a CA (CA:FALSE, or v3 without basicConstraints) whose key made the signature: Go
    // refuses the chain ("parent certificate cannot sign this kind of certificate") however the dates stand
    if (!found && !r.cert.isSelfIssued) {
      const notCa = records.find((o) => o !== r && !o.cert.isCA && o.cert.subjectString === r.cert.issuerString && r.cert.verifySignedBy(o.cert));
      if (notCa) notCaSigner.set(r, notCa);
    }
    // No CA of that name verifies it, or only an old copy left in a kubeconfig does while the CA file
    // components load is another key: the state after a partial rebuild.
    const fileCas = cands.filter((c) => c.location.kind !== 'kubeconfig');
    if (cands.length > 0 && (!found || (found.location.kind === 'kubeconfig' && fileCas.length > 0 && !r.cert.isCA))) sameSubjectNoSig.add(r);
  }

  // 6. components that read each file, and hints from kubeadm's config
  const hints = readKubeadmConfigHints(fs);
  // a lifetime the config sets but kubeadm would not take: renew and --warn N% go on without it, and say so
  if (hints.problem) findings.push({ code: 'kubeadm-config-invalid', severity: 'warning', file: hints.source, message: hints.problem });
  for (const p of hints.validity?.problems ?? []) findings.push({ code: 'kubeadm-config-invalid', severity: 'warning', file: hints.validity!.file, message: p.message });
  // the kubelet renews its client certificate only with rotateCertificates on (kubeadm's default)
  const kubeletConfig = readKubeletConfig(fs);
  const kubeletConfigFile = kubeletConfigPath(fs);
  for (const message of kubeletConfigProblems(fs)) findings.push({ code: 'kubelet-config-invalid', severity: 'error', file: kubeletConfigFile, message });
  const rotation = kubeletClientRotation(fs);
  const kubeletRotationOff = rotation?.on === false;
  // (rotation on, but nobody signs what the kubelet asks for: kubeadm's external-CA mode)
  const signingOff = kubeletRotationOff ? undefined : kubeletClientSigningOff(fs);
  // serverTLSBootstrap: the kubelet asks for its serving certificate with a CSR that kube-controller-manager
  // never approves by itself (spec §7.4); until someone does, there is no serving certificate at all
  const servingSwap = '/var/lib/kubelet/pki/kubelet-server-updated.pem';
  const noServingPair = kubeletConfig?.serverTLSBootstrap === true && !fs.exists('/var/lib/kubelet/pki/kubelet-server-current.pem');
  if (noServingPair && fs.lstat(servingSwap)?.isSymbolicLink() && fs.exists(servingSwap)) {
    // (the swap of a rotated serving pair was cut short: nothing waits for approval, spec §7.2)
    findings.push({ code: 'kubelet-serving-pending', severity: 'warning', file: servingSwap, message: `there is no /var/lib/kubelet/pki/kubelet-server-current.pem, but ${servingSwap} leads to a serving pair: a rotation was cut short between its two renames, and the kubelet renames it to kubelet-server-current.pem when it starts: systemctl restart kubelet (or by hand: mv -T ${servingSwap} /var/lib/kubelet/pki/kubelet-server-current.pem)` });
  } else if (noServingPair) {
    findings.push({ code: 'kubelet-serving-pending', severity: 'warning', file: kubeletConfigFile, message: `serverTLSBootstrap: true in ${kubeletConfigFile}, but there is no /var/lib/kubelet/pki/kubelet-server-current.pem: the kubelet's serving certificate request waits for approval (kube-controller-manager never approves those), and kubectl logs/exec to this node fail until then; approve it: kubepki csr approve --all-valid` });
  }

  // 7. entries
  const certificates: CertEntry[] = [];
  /** file → the components whose flags or configs name it (looked up per row, not scanned) */
  const readersOf = new Map<string, string[]>();
  for (let i = 0; i < componentRefs.length; i++) {
    const ref = componentRefs[i]!;
    const readers = readersOf.get(ref.file);
    if (readers) readers.push(ref.component);
    else readersOf.set(ref.file, [ref.component]);
  }
  // (the kubepki commands findings name read the tree they were found in)
  const here = rootFlagFor(fs.root);
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    const c = r.cert;
    const name = names.get(r)!;
    const signer = signerOf.get(r);
    const files = [r.location.file, ...(r.location.via ? [r.location.via] : []), ...r.copies.map((l) => l.file)];
    const components = new Set<string>();
    for (let fi = 0; fi < files.length; fi++) {
      const readers = readersOf.get(files[fi]!);
      if (readers) for (let i = 0; i < readers.length; i++) components.add(readers[i]!);
    }
    if (r.layout === 'rke1') for (const comp of rke1Readers(fs, name)) components.add(comp);
    // (and of its copies: on a server, agent/client-kube-proxy.crt is the server's file as the supervisor hands it out,
    // and the kubelet reads agent/client-ca.crt, the server's CA)
    if (r.layout === 'k3s' || r.layout === 'rke2') for (const l of [r.location, ...r.copies]) for (const comp of rancherReaders(r.layout, l)) components.add(comp);
    if ((r.layout === 'k0s' || r.layout === 'microk8s') && r.location.index === 0) for (const comp of installerCert(r.location.file, undefined, true, k0sDir).readers) components.add(comp);
    const profile = r.location.kind !== 'kubeconfig' || r.location.kubeconfig?.entry === 'user' ? profileOf(r.location) : undefined;
    // client-go's store swaps -current as a symlink and refuses a regular file there ("expected … to be a
    // symlink but it is a file", spec §7.2): a pair copied without its link is never rotated again
    const stuck = r.location.kind !== 'kubeconfig' && r.location.index === 0 && !r.location.via && !kubeletRotationOff
      && (r.location.file === `${KUBELET_PKI_DIR}/kubelet-client-current.pem` || r.location.file === `${KUBELET_PKI_DIR}/kubelet-server-current.pem`);
    // the kubelet's client certificate, in its rotated pem or still embedded in kubelet.conf (kubeadm's external-CA
    // mode has the operator write kubelet.conf): either way, a CSR for it is signed by nothing when signing is off
    const kubeletClient = name === 'kubelet-client'
      || (r.location.kind === 'kubeconfig' && r.location.kubeconfig?.entry === 'user' && r.location.file.endsWith('/kubelet.conf'));
    const selfSigned = c.isSelfIssued && signer === r;
    const entry: CertEntry = {
      id: certId(r.location),
      name,
      location: r.location,
      ...certFacts(c, now),
      selfSigned,
      authority: isAuthority({ name, isCA: c.isCA, selfSigned }),
      privateKey: {
        present: Boolean(r.keyLocation && (r.keySpki || r.keyEncrypted)),
        ...(r.keyLocation ? { location: r.keyLocation } : {}),
        ...(r.keySpki ? { matches: samePublicKey(r.keySpki, c.spkiRaw) } : {}),
        ...(r.keyEncrypted ? { encrypted: true } : {}),
      },
      components: [...components].sort(),
      // (the kubelet asks for its next client certificate with the one it has: once that is expired, or not valid
      // yet, the API server refuses the request and only a bootstrap kubeconfig or an operator gives it a new one)
      managedBy: ((kubeletRotationOff || signingOff || now > c.notAfter || now < c.notBefore) && kubeletClient) || stuck ? 'manual' : managedBy(r, name, profile?.name, k0sDir, minikube),
      ...(profile ? { profile: profile.name } : {}),
      layout: r.layout,
      status: 'ok',
      findings: [],
    };
    if (r.copies.length) entry.copies = r.copies;
    if (r.copyKeys?.length) entry.copyKeys = r.copyKeys;
    if (kubeletRotationOff && name === 'kubelet-client') {
      const fix = rotation!.setting.startsWith('--') ? 'drop the flag (with rotateCertificates: true in its config) or set --rotate-certificates=true' : 'set rotateCertificates: true';
      entry.findings.push({ code: 'kubelet-rotation-off', severity: 'warning', certificate: entry.id, file: rotation!.file, message: `the kubelet does not renew ${name} (${rotation!.setting} in ${rotation!.file}): on ${entry.notAfter.slice(0, 10)} the node goes NotReady; ${fix} and restart the kubelet, or renew it by hand before then (kubepki renew ${name}${here})` });
    }
    if (signingOff && kubeletClient && !stuck) {
      // (once it has expired, "before then" is past: the node is NotReady now)
      const when = now > c.notAfter
        ? `it expired on ${entry.notAfter.slice(0, 10)}, so the node is NotReady until one signed by the CA that holds the key is put in place`
        : `on ${entry.notAfter.slice(0, 10)} the node goes NotReady; sign it with the CA that holds the key before then`;
      entry.findings.push({ code: 'kubelet-csr-unsigned', severity: 'warning', certificate: entry.id, file: signingOff.file, message: `the kubelet asks for a new client certificate (${name}) before it expires, but kube-controller-manager signs no such request (${signingOff.setting} in ${signingOff.file}: ${signingOff.why}): ${when} (kubepki renew ${name} --csr-out DIR${here} writes the request)` });
    }
    if (stuck) {
      const f = r.location.file;
      const dir = f.slice(0, f.lastIndexOf('/'));
      const kind = f.includes('kubelet-client') ? 'client' : 'server';
      const dated = `${dir}/kubelet-${kind}-${entry.notBefore.slice(0, 19).replace(/[T:]/g, '-')}.pem`;
      const byKubepki = `kubepki renew ${name}${here} does that with a renewed pair; or by hand: `;
      entry.findings.push({ code: 'kubelet-rotation-off', severity: 'warning', certificate: entry.id, file: f, message: `${f} is a regular file, not the symlink the kubelet's certificate store swaps: the kubelet cannot rotate ${name} ("expected ${f} to be a symlink but it is a file"), so on ${entry.notAfter.slice(0, 10)} ${kind === 'client' ? 'the node goes NotReady' : 'its serving certificate expires'}; make it a link to a dated file (${byKubepki}mv ${f} ${dated} && ln -s ${dated} ${f}), then restart the kubelet` });
    }
    r.entry = entry;
    certificates.push(lazyDigests ? withCertDigests(entry, c) : withEagerDigests(entry, c));
  }
  for (let ri = 0; ri < records.length; ri++) {
    const r = records[ri]!;
    const s = signerOf.get(r);
    if (s && s.entry && r.entry) {
      r.entry.signedBy = s.entry.id;
      r.entry.signerName = s.entry.name;
    }
  }
  for (const { file, records: chain } of chainFiles) {
    const leaf = chain[0]!.entry;
    const mismatch = leaf && bundleChainMismatch(file, leaf.id, chain.map((r) => r.cert), (i) => signerOf.get(chain[i]!) === chain[i + 1]);
    if (mismatch) leaf.findings.push(mismatch);
  }
  const bySpki = new Map<string, CertEntry[]>();
  for (const c of certificates) bySpki.set(c.spkiSha256, [...(bySpki.get(c.spkiSha256) ?? []), c]);
  // kubeadm writes private keys 0600; a key others can read is worth knowing (info: copied trees often lose modes)
  const keyFiles = new Set([...keys.filter((k) => k.kind === 'private').map((k) => k.file), ...kubeconfigs.filter((k) => k.users.some((u) => u.keyFrom === 'data')).map((k) => k.file)]);
  for (const file of keyFiles) {
    const mode = fs.stat(file)?.mode;
    if (mode !== undefined && mode & 0o077) {
      findings.push({ code: 'key-permissions', severity: 'info', file, message: `${file} holds a private key and is mode ${(mode & 0o777).toString(8).padStart(4, '0')}, readable beyond its owner: chmod 600 ${file} (0640 if a component reads it through its group)` });
    }
  }
  for (const k of keys) {
    if (!k.spkiSha256) continue;
    k.certificates = (bySpki.get(k.spkiSha256) ?? []).map((c) => c.id);
  }

  // 8. missing kubeadm files, and those that are there but hold no certificate the inventory could read
  const missing: MissingEntry[] = [];
  /** the error already reported for `file` (or the file its link points at), for the row's reason */
  const problemOf = (file: string): string | undefined => {
    let real = file;
    try { real = fs.realNodePath(file); } catch { /* a loop: reported under the link's own path */ }
    return findings.find((f) => f.severity === 'error' && (f.file === file || f.file === real))?.message;
  };
  if ((layoutOf.has('kubeadm') || layoutOf.has('kubespray')) && isKubeadmControlPlane(fs, pkiDir)) {
    // (external etcd: kubeadm makes no etcd serving, peer or healthcheck certificates, though its CA's certificate
    // is often at pki/etcd/ca.crt, where kubeadm's docs put it)
    const localEtcd = !hints.externalEtcd && (fs.exists('/etc/kubernetes/manifests/etcd.yaml') || fs.exists(`${pkiDir}/etcd`));
    for (const p of KUBEADM_PROFILES) {
      if (!p.checkExpiration || (p.etcd && !localEtcd)) continue;
      const file = profileCertPath(p, pkiDir);
      // in a directory kubepki could not list (permission denied), a file is not known to be missing
      const deniedDir = findings.find((f) => f.code === 'unreadable' && file.startsWith(`${f.file}/`));
      if (deniedDir) {
        missing.push({ name: p.name, file, layout: 'kubeadm', state: 'unreadable', reason: `${p.name}: ${deniedDir.message}` });
        continue;
      }
      if (!fs.exists(file)) {
        // (a manifest flag can put it elsewhere: then it is read from there, under its name)
        if (!certificates.some((c) => c.name === p.name)) {
          const reason = `${p.name}: ${file} is missing (${p.longName})`;
          missing.push({ name: p.name, file, layout: 'kubeadm', state: 'missing', reason });
          findings.push({ code: 'missing-file', severity: 'error', file, message: reason });
        }
        continue;
      }
      if (fs.isDir(file)) {
        const reason = `failed to read ${file}: a directory where the ${p.name} certificate should be (${p.longName})`;
        missing.push({ name: p.name, file, layout: 'kubeadm', state: 'unreadable', reason });
        findings.push({ code: 'unreadable', severity: 'error', file, message: reason });
        continue;
      }
      const inFile = (f: string) => {
        const real = safeReal(fs, f);
        return certificates.some((c) => c.location.kind !== 'kubeconfig' && (c.location.file === f || c.location.via === f || c.location.file === real));
      };
      // (kubeconfigs are known by the file they are in: /etc/kubernetes a link to /data/kubernetes reads them there)
      const realFile = safeReal(fs, file);
      const read = p.kind === 'kubeconfig'
        ? certificates.some((c) => c.location.file === realFile && c.location.kubeconfig?.entry === 'user')
          // (client-certificate: a file reference, read as that file)
          || kubeconfigs.some((k) => k.file === realFile && k.users.some((u) => u.certFrom === 'file' && u.certFile !== undefined && inFile(u.certFile)))
          // (its certificate also in a file: one row, at that file, with this copy)
          || certificates.some((c) => c.copies?.some((l) => l.file === realFile && l.kubeconfig?.entry === 'user'))
        : inFile(file);
      if (!read) {
        let reason = problemOf(file);
        if (!reason) {
          reason = p.kind === 'kubeconfig' ? `${file}: no client certificate in it (${p.longName})` : `${file}: no certificate in it (${p.longName})`;
          findings.push({ code: 'corrupt', severity: 'error', file, message: reason });
        }
        missing.push({ name: p.name, file, layout: 'kubeadm', state: 'unreadable', reason });
      }
      const keyFile = profileKeyPath(p, pkiDir);
      if (keyFile && !p.isCA && !fs.exists(keyFile)) {
        findings.push({ code: 'missing-file', severity: 'error', file: keyFile, message: `${p.name}: private key ${keyFile} is missing` });
      }
    }
    // the ServiceAccount signer takes RSA or ECDSA keys only: an Ed25519 sa.key means no token is issued
    const saKey = keys.find((k) => k.file === `${pkiDir}/sa.key` && k.kind === 'private');
    if (saKey?.keyAlgorithm && saKey.keyAlgorithm !== 'RSA' && saKey.keyAlgorithm !== 'ECDSA') {
      findings.push({ code: 'sa-key-type', severity: 'error', file: saKey.file, message: `${saKey.file} is an ${saKey.keyAlgorithm} key; kube-apiserver signs ServiceAccount tokens with RSA or ECDSA keys only (kubepki sa rotate --key-type rsa-2048)` });
    }
    if (saKey?.explicitParameters) {
      // keyutil.ParsePrivateKeyPEM (kube-apiserver, kube-controller-manager) refuses a curve spelled out
      findings.push({ code: 'sa-key-type', severity: 'error', file: saKey.file, message: `${saKey.file} spells its EC curve out (explicit parameters); kube-apiserver and kube-controller-manager cannot load it — rewrite it as the same key with the curve named (openssl ec -in ${saKey.file} -param_enc named_curve -out ${saKey.file}), so ServiceAccount tokens stay valid` });
    }
    // kube-apiserver signs tokens with sa.key and verifies them with sa.pub: two halves of different keys
    // mean every ServiceAccount token is rejected
    const saPub = keys.find((k) => k.file === `${pkiDir}/sa.pub` && k.kind === 'public');
    if (saPub?.explicitParameters) {
      // keyutil.ParsePublicKeysPEM skips a key Go cannot parse ("x509: invalid ECDSA parameters"), and kube-apiserver
      // then finds no key in its --service-account-key-file and does not start
      findings.push({ code: 'sa-key-type', severity: 'error', file: saPub.file, message: `${saPub.file} spells its EC curve out (explicit parameters); kube-apiserver cannot load it and does not start — rewrite it as the same key with the curve named (openssl ec -pubin -in ${saPub.file} -param_enc named_curve -pubout -out ${saPub.file}), so ServiceAccount tokens stay valid` });
    }
    // (the same key whether or not its curve is spelled out: that is sa-key-type above, not another key)
    const fileOf = (k: KeyEntry | undefined) => files.find((f) => f.path === k?.file);
    const saKeySpki = fileOf(saKey)?.keys[0]?.info.spki, saPubSpki = fileOf(saPub)?.publicKeys[0]?.spki;
    if (saKey?.spkiSha256 && saPub?.spkiSha256 && saKey.spkiSha256 !== saPub.spkiSha256 && !samePublicKey(saKeySpki, saPubSpki)) {
      findings.push({ code: 'sa-key-mismatch', severity: 'error', file: saPub.file, message: `${saPub.file} is not the public half of ${saKey.file}: kube-apiserver verifies with it the ServiceAccount tokens it signs with ${saKey.file}, so every token is rejected (make it again: openssl pkey -in ${saKey.file} -pubout -out ${saPub.file}, then restart kube-apiserver)` });
    }
    for (const f of ['sa.key', 'sa.pub']) {
      const file = `${pkiDir}/${f}`;
      if (!fs.exists(file)) {
        const reason = `${file} is missing (service-account signing key; every ServiceAccount token depends on it)`;
        missing.push({ name: f === 'sa.key' ? 'sa' : 'sa.pub', file, layout: 'kubeadm', state: 'missing', reason });
        findings.push({ code: 'missing-file', severity: 'error', file, message: reason });
      }
    }
  }
  // the kubelet's client certificate where kubelet.conf names it (kubelet-client-current.pem): without it the
  // kubelet cannot start. Gone (a dangling link to a deleted dated file, or no file) is `missing`, there but
  // holding no certificate `unreadable`; its earlier findings (the dangling link, kubelet.conf's reference)
  // become one, with the fix. (k0s's kubelet.conf, in its data directory, names its pair as kubeadm's does.)
  const kubeletConfs = k0s ? [KUBELET_CONF, `${k0sDir}/kubelet.conf`] : [KUBELET_CONF];
  for (const { conf, u } of kubeconfigs.filter((k) => kubeletConfs.includes(k.file)).flatMap((k) => k.users.map((u) => ({ conf: k.file, u })))) {
    const file = u.certFrom === 'file' ? u.certFile : undefined;
    if (!file) continue;
    let real: string | undefined;
    try { real = fs.realNodePath(file); } catch { /* a loop: there, but unreadable */ }
    // (one entry holds every place of identical bytes: a copy of the pair elsewhere may be where its row is)
    const realFile = real ?? file;
    if (certificates.some((c) => [c.location, ...(c.copies ?? [])].some((l) => l.kind !== 'kubeconfig' && (l.file === file || l.via === file || l.file === realFile)))) continue;
    const gone = real !== undefined && !fs.stat(real);
    const dangling = gone && real !== file;
    const earlier = (f: Finding) => f.severity === 'error' && (f.file === file || (real !== undefined && f.file === real)
      || (f.code === 'missing-file' && f.file === conf && f.message.includes(` client-certificate ${file} `)));
    const prior = findings.find((f) => earlier(f) && f.file !== conf);
    const problem = gone
      ? `${file}, the client certificate ${conf} names, ${dangling ? `is a dangling symlink to ${real}` : 'does not exist'}`
      : prior?.message ?? `${file}: no certificate in it`;
    // (what kubepki kubelet credentials signs with by default: the node's ca.crt and ca.key, read here or not)
    const caKeyOnNode = fs.exists(`${pkiDir}/ca.crt`) && fs.exists(`${pkiDir}/ca.key`);
    const fix = kubeletClientFix({ certificates, kubeconfigs, nodeName: hints.nodeName }, here, caKeyOnNode, signingOff !== undefined);
    const reason = `kubelet-client: ${problem}: ${interruptedSwap(certificates) ? '' : 'the kubelet cannot start; '}${fix}`;
    const code = gone ? 'missing-file' : prior?.code ?? 'corrupt';
    for (let i = findings.length - 1; i >= 0; i--) if (earlier(findings[i]!)) findings.splice(i, 1);
    missing.push({ name: 'kubelet-client', file, layout: 'kubelet', state: gone ? 'missing' : 'unreadable', reason, ...(dangling ? { danglingTo: real } : {}), fix });
    findings.push({ code, severity: 'error', file, message: reason });
  }

  classify({ certificates, records: records.map((r) => ({ entry: r.entry!, keyMismatch: r.keyMismatch, keyExplicit: r.keyExplicit, signer: signerOf.get(r)?.entry, notCaSigner: notCaSigner.get(r)?.entry, sameSubjectNoSig: sameSubjectNoSig.has(r), cert: r.cert, copies: r.copies })), kubeconfigs, fs, hints, componentRefs, threshold, now, findings });
  // (after classify: what it left kubeadm's, signed by a CA whose key is here, is what the timer's kubeadm renews)
  if (layoutOf.has('kubespray')) {
    renewedByTimer(kubesprayRenewTimer(fs), certificates);
    const copies = markOtherHostCopies(certificates, componentRefs);
    if (copies) findings.push(copies);
  }

  if (layoutOf.has('k0s') || layoutOf.has('microk8s') || layoutOf.has('kops') || minikube) renewedByInstaller(certificates);

  const all = [...findings, ...certificates.flatMap((c) => c.findings)];
  const inv: Inventory = {
    apiVersion: 'kubepki.io/v1alpha1',
    kind: 'Inventory',
    root: fs.root,
    ...(hints.nodeName ? { nodeName: hints.nodeName } : {}),
    ...(hints.externalEtcd ? { externalEtcd: hints.externalEtcd } : {}),
    ...(hints.securePort && hints.securePort !== '6443' ? { apiserverPort: Number(hints.securePort) } : {}),
    now: now.toISOString(),
    warn: warnText ?? threshold.text,
    layouts,
    certificates: certificates.sort((a, b) => (a.isCA === b.isCA ? localeOrder(a.name, b.name) || localeOrder(a.id, b.id) : a.isCA ? 1 : -1)),
    missing,
    keys,
    kubeconfigs,
    csrs,
    components: componentRefs,
    findings: all,
    summary: summarize(certificates, all),
    ...(hints.validity ? { kubeadmValidity: hints.validity } : {}),
    ...(k0sDir !== K0S_DATA_DIR ? { k0sDataDir: k0sDir } : {}),
    ...(k0s && k0s.kubeletRootDir !== `${k0sDir}/kubelet` ? { k0sKubeletRootDir: k0s.kubeletRootDir } : {}),
  };
  return inv;
}

/** An inventory's counts, and its worst status (the order exit codes follow). */
export function summarize(certificates: CertEntry[], findings: Finding[]): Inventory['summary'] {
  const count = (s: CertEntry['status']) => certificates.filter((c) => c.status === s).length;
  return {
    certificates: certificates.length,
    ok: count('ok'),
    warning: count('warning'),
    expired: count('expired'),
    notYetValid: count('not-yet-valid'),
    invalid: count('invalid'),
    errors: findings.filter((f) => f.severity === 'error').length,
    worst: (['invalid', 'expired', 'not-yet-valid', 'warning', 'ok'] as const).find((s) => count(s) > 0) ?? 'ok',
  };
}

/**
 * A component reads through links: kubespray's manifests name /etc/kubernetes/pki/apiserver.crt, which is
 * /etc/kubernetes/ssl/apiserver.crt, read there. Each reference whose real path differs is also kept under
 * that path, so what reads a file (and what to restart after writing it) is found by either name.
 */
function withRealPaths(fs: NodeFs, refs: ComponentRef[]): ComponentRef[] {
  const out = [...refs];
  const seen = new Set(refs.map((r) => `${r.component}|${r.via}|${r.file}`));
  for (const r of refs) {
    const real = safeReal(fs, r.file);
    const key = `${r.component}|${r.via}|${real}`;
    if (real === r.file || seen.has(key)) continue;
    seen.add(key);
    out.push({ ...r, file: real, through: r.file });
  }
  return out;
}

function safeReal(fs: NodeFs, p: string): string {
  try { return fs.realNodePath(p); } catch { return p; }
}

/** `known`: a certificate of these very bytes parsed already (a kubeconfig's copy of ca.crt), taken as it is. */
function certsFromBytes(bytes: Buffer, where: string, findings: Finding[], known: (der: Uint8Array) => Certificate | undefined = () => undefined): Certificate[] {
  const parse = (der: Uint8Array) => known(der) ?? new Certificate(der).checkFields();
  try {
    if (looksLikePem(bytes)) {
      return parsePemBlocks(bytes.toString('latin1')).filter((b) => b.label === 'CERTIFICATE').map((b) => parse(b.der));
    }
    return [parse(bytes)];
  } catch (e) {
    findings.push({ code: 'corrupt', severity: 'error', file: where.split(':')[0], message: `${where}: ${(e as Error).message}` });
    return [];
  }
}

/**
 * Files that say something about `file` without being it: the key beside a certificate (apiserver.key,
 * server-key.pem), the certificate beside a key, and the CA files of its directory (ca.crt, etcd-ca.pem …).
 */
export function companionFiles(node: NodeFs, file: string): string[] {
  // (a file at the top of the tree: /ca.key, not //ca.key)
  const dir = dirPrefix(posix.dirname(file));
  const base = posix.basename(file);
  const out = [...partnerKeyPaths(file)];
  const keyStem = /^(.*?)(?:\.key|-key\.pem|\.pem\.key)$/.exec(base)?.[1];
  if (keyStem) out.push(`${dir}/${keyStem}.crt`, `${dir}/${keyStem}.pem`);
  for (const d of node.readDir(dir || '/')) {
    // a CA beside it, and that CA's key (renew --file signs with it)
    if (CA_FILE_NAME.test(d.name)) out.push(`${dir}/${d.name}`, ...partnerKeyPaths(`${dir}/${d.name}`));
  }
  return [...new Set(out)].filter((p) => p !== file && node.stat(p)?.isFile());
}

/** A file name that says it holds a CA certificate: ca.crt, etcd-ca.pem, kube-ca.pem, front-proxy-ca.crt … */
export const CA_FILE_NAME = /(^|[-_.])ca\.(crt|pem)$/i;

/** Where the private key of a certificate file conventionally lives. */
export function partnerKeyPaths(certPath: string): string[] {
  const dir = dirPrefix(posix.dirname(certPath));
  const stem = withoutCertExtension(posix.basename(certPath));
  return [`${dir}/${stem}.key`, `${dir}/${stem}-key.pem`, `${dir}/${stem}.pem.key`].filter((p) => p !== certPath);
}

export function certId(l: CertLocation): string {
  if (l.kind === 'kubeconfig' && l.kubeconfig) return `${l.file}#${l.kubeconfig.entry}/${l.kubeconfig.name}${l.index ? `/${l.index}` : ''}`;
  return `${l.file}#${l.index}`;
}

function nameRecords(records: CertRecord[], profileOf: (l: CertLocation) => KubeadmCertProfile | undefined, k0sDir: string): Map<CertRecord, string> {
  const names = new Map<CertRecord, string>();
  const pathBased: CertRecord[] = [];
  const kubeconfigLabel = kubeconfigLabels(records.filter((r) => r.location.kind === 'kubeconfig').map((r) => r.location.file));
  for (const r of records) {
    const l = r.location;
    if (l.kind === 'kubeconfig') {
      const base = kubeconfigLabel.get(l.file)!;
      const prof = profileOf(l);
      if (l.kubeconfig?.entry === 'user') {
        // (a user's chain, k3s.yaml's admin certificate then its CA, is one user: its CA is named as part of the chain)
        const users = records.filter((o) => o.location.file === l.file && o.location.kubeconfig?.entry === 'user' && o.location.index === 0).length;
        // (kubeadm's user is the kubeconfig's name; another user beside it is named by both)
        const name = prof ? prof.name : users === 1 ? base : `${base}:${l.kubeconfig.name}`;
        names.set(r, l.index > 0 ? `${name}-chain-${l.index}` : name);
      } else {
        // (a bundle, the old and new CA during a rotation: one name each)
        names.set(r, `${base}:cluster/${l.kubeconfig?.name || '""'}${l.index > 0 ? `#${l.index}` : ''}`);
      }
      continue;
    }
    const base = posix.basename(l.file);
    const prof = profileOf(l);
    if (prof && l.index === 0) { names.set(r, prof.name); continue; }
    // (a -current.pem that is a regular file, copied without its link, is still the kubelet's pair)
    if (isKubeletCurrentPath(l.via ?? l.file) || isKubeletRotatedPath(l.file)) {
      const kind = (l.via ?? l.file).includes('kubelet-server') ? 'kubelet-server' : 'kubelet-client';
      names.set(r, l.index === 0 ? kind : `${kind}-chain-${l.index}`);
      continue;
    }
    // (kube-apiserver's loopback pair on k3s/RKE2, leaf then its own CA: named as what it is, not temporary-certs/apiserver-loopback-client__)
    if (isRancherLoopback(l.file)) {
      names.set(r, l.index === 0 ? 'apiserver-loopback-client' : `apiserver-loopback-client-ca${l.index > 1 ? `#${l.index}` : ''}`);
      continue;
    }
    // (k0s's, MicroK8s's and kops's server.crt is what kubeadm calls apiserver; MicroK8s's cluster.crt is dqlite's)
    const role = l.index !== 0 ? undefined : r.layout === 'k0s' || r.layout === 'microk8s' ? installerCert(l.file, undefined, true, k0sDir).name : r.layout === 'kops' ? kopsFile(l.file).name : undefined;
    if (role) { names.set(r, role); continue; }
    // (the kubelet's --cert-dir: a CA-signed kubelet.crt elsewhere, as Kubernetes the Hard Way places it, is not its self-signed pair)
    // (by the path the kubelet opens: /var/lib/kubelet a link to another disk reads it at /data/kubelet/pki)
    const kubeletPath = l.via ?? l.file;
    if (posix.basename(kubeletPath) === 'kubelet.crt' && kubeletPath.startsWith('/var/lib/kubelet/pki/')) {
      names.set(r, l.index === 0 ? 'kubelet-serving' : 'kubelet-serving-ca');
      continue;
    }
    pathBased.push(r);
  }
  // Path-based names: the path below the scanned directory without extension,
  // lengthened with parent directories until unique.
  const taken = new Set(names.values());
  const stemOf = (r: CertRecord, depth: number) => {
    const rel = r.location.file.startsWith(r.scanRoot + '/') ? r.location.file.slice(r.scanRoot.length + 1) : posix.basename(r.location.file);
    const parts = withoutCertExtension(rel).split('/');
    // (outside the scanned directory, a parent that says nothing — ssl, pki, certs — is skipped: kubespray's
    // /etc/ssl/etcd/ssl/ca.pem beside kubeadm's ca is etcd/ca, not ssl/ca)
    const absAll = withoutCertExtension(r.location.file).split('/').filter(Boolean);
    const abs = [...absAll.slice(0, -1).filter((d) => !GENERIC_DIRS.has(d)), absAll[absAll.length - 1]!];
    const chosen = depth < parts.length ? parts.slice(parts.length - 1 - depth) : abs.slice(Math.max(0, abs.length - 1 - depth));
    return chosen.join('/') + (r.location.index > 0 ? `#${r.location.index}` : '');
  };
  for (let depth = 0; pathBased.length > 0 && depth < 12; depth++) {
    const proposals = new Map<string, CertRecord[]>();
    for (const r of pathBased) {
      const n = depth === 0 ? stemOf(r, Math.max(0, relDepth(r) - 1)) : stemOf(r, relDepth(r) - 1 + depth);
      proposals.set(n, [...(proposals.get(n) ?? []), r]);
    }
    for (const [n, rs] of proposals) {
      if (rs.length === 1 && !taken.has(n)) {
        names.set(rs[0]!, n);
        taken.add(n);
        pathBased.splice(pathBased.indexOf(rs[0]!), 1);
      }
    }
  }
  for (const r of pathBased) names.set(r, certId(r.location));
  return names;
}

/**
 * A kubeconfig's part of its rows' names: its base name, with as many parent directories as it takes to
 * tell it from the other kubeconfigs of the same name (Kubernetes the Hard Way's /var/lib/kubelet/kubeconfig
 * and /var/lib/kube-proxy/kubeconfig are kubelet/kubeconfig and kube-proxy/kubeconfig, not both kubeconfig).
 */
function kubeconfigLabels(files: string[]): Map<string, string> {
  const labels = new Map<string, string>();
  const byBase = new Map<string, string[]>();
  for (const f of new Set(files)) byBase.set(posix.basename(f), [...(byBase.get(posix.basename(f)) ?? []), f]);
  for (const [base, group] of byBase) {
    // (a name that says nothing alone, the hard way's /var/lib/kube-proxy/kubeconfig, keeps its directory even
    // when its twin /var/lib/kubelet/kubeconfig is folded into the kubelet's certificate as a copy)
    if (group.length === 1 && !GENERIC_KUBECONFIG.has(base)) { labels.set(group[0]!, base); continue; }
    const parts = group.map((f) => f.split('/').filter(Boolean));
    let depth = 2;
    const label = (p: string[]) => p.slice(Math.max(0, p.length - depth)).join('/');
    while (new Set(parts.map(label)).size < group.length && parts.some((p) => p.length > depth)) depth++;
    group.forEach((f, i) => labels.set(f, label(parts[i]!)));
  }
  return labels;
}

/** kubeconfig file names that do not say whose they are */
const GENERIC_KUBECONFIG = new Set(['kubeconfig', 'config', 'kubeconfig.yaml', 'config.yaml']);

const GENERIC_DIRS = new Set(['ssl', 'pki', 'certs', 'cert', 'tls', 'private', 'secrets']);

function relDepth(r: CertRecord): number {
  if (!r.location.file.startsWith(r.scanRoot + '/')) return 1;
  return r.location.file.slice(r.scanRoot.length + 1).split('/').length;
}

function managedBy(r: CertRecord, name: string, profile: string | undefined, k0sDir: string, minikube: boolean): ManagedBy {
  // (kube-apiserver makes its loopback pair only when the files are missing; the distro never re-issues it)
  if (isRancherLoopback(r.location.file)) return 'manual';
  if (minikube && r.location.index === 0 && minikubeHostCopy(r.location.file)) return 'minikube';
  // (nodeup writes every file of a kops instance when it makes the instance; the kubelet's own pki, read as the kubelet layout's, is the kubelet's)
  if (r.layout === 'kops' && r.location.index === 0) return 'kops';
  if (r.layout === 'rke1' || r.layout === 'rke2' || r.layout === 'k3s') return r.layout;
  // (k0s re-signs only the leaves of its CAs; the kubelet under its data directory rotates its own, as anywhere)
  const installer = (r.layout === 'k0s' || r.layout === 'microk8s') && r.location.index === 0 ? installerCert(r.location.file, r.cert.issuerCommonName, r.cert.isCA, k0sDir).renewedBy : undefined;
  if (installer) return installer;
  // (the kubelet makes its self-signed serving pair, kubelet-serving, only when the files are missing, and never
  // renews it: kubernetes/kubernetes#99418; it serves the expired one until someone renews or deletes it)
  if (name.startsWith('kubelet-client') || name.startsWith('kubelet-server')) return 'kubelet';
  if (profile === 'kubelet.conf') return r.location.kind === 'kubeconfig' ? 'manual' : 'kubelet';
  if (profile && !r.cert.isCA) return 'kubeadm';
  return 'manual';
}

/**
 * Who reads an RKE1 certificate (its containers name no files on disk: rancher/rke's BuildKube*Process).
 * kube-apiserver uses kube-node as its etcd client on a control-plane node; the kubelet serves its
 * kube-kubelet-<ip> when generate_serving_certificate is on; etcd its kube-etcd-<ip>.
 */
function rke1Readers(fs: NodeFs, name: string): string[] {
  if (name.startsWith('kube-etcd')) return ['etcd'];
  if (name.startsWith('kube-kubelet-')) return ['kubelet'];
  const readers = RKE1_COMPONENTS[name] ?? [];
  return name === 'kube-node' && fs.exists('/etc/kubernetes/ssl/kube-apiserver.pem') ? [...readers, 'kube-apiserver'] : readers;
}

/** Who reads a certificate k3s or RKE2 made, by where a copy of it is (RANCHER_COMPONENTS); not its CA copies at the end. */
function rancherReaders(distro: 'k3s' | 'rke2', l: CertLocation): string[] {
  const dir = `/var/lib/rancher/${distro}/`;
  if (l.kind === 'kubeconfig' || l.index !== 0 || !l.file.startsWith(dir)) return [];
  const key = l.file.slice(dir.length).replace(/\.(crt|pem|json)$/, '').replace(`-${distro}-`, '-<distro>-');
  return (RANCHER_COMPONENTS[key] ?? []).map((c) => c.replace('<distro>', distro));
}

/**
 * kubespray's k8s-certs-renew.timer, enabled, renews what kubeadm renews on this node: RENEWED BY says so, and
 * an expiring or expired certificate's finding says what the timer does about it (installed but not enabled:
 * that nothing runs it).
 */
function renewedByTimer(timer: KubesprayRenewTimer | undefined, certificates: CertEntry[]): void {
  if (!timer) return;
  const service = KUBESPRAY_RENEW_SERVICE;
  // (kubespray's newer k8s-certs-renew.py renews only when a certificate expires within 7 days after the timer's
  // next run, so starting it now renews nothing that run will; its k8s-certs-renew.sh renews every time)
  const nearNextRun = timer.script?.endsWith('.py') ?? false;
  const does = `kubeadm certs renew${nearNextRun ? ' (only when a certificate expires within 7 days after the timer\'s next run)' : ''}, then a restart of the control-plane pods`;
  const runs = `${service}${timer.script ? ` (${timer.script})` : ''} runs ${does}`;
  const calendar = timer.calendar ? ` (OnCalendar=${timer.calendar})` : '';
  for (const c of certificates) {
    if (c.managedBy !== 'kubeadm') continue;
    // (a script that renews certificates by name leaves the others to kubeadm's owner: kubepki renew)
    if (timer.renews && !timer.renews.includes(c.name)) continue;
    if (timer.enabledBy) c.managedBy = KUBESPRAY_RENEW_TIMER;
    for (const f of c.findings) {
      if (f.code !== 'expiring' && f.code !== 'expired') continue;
      if (!timer.enabledBy) {
        const wants = timer.wantedBy.length ? ` (no link in ${timer.wantedBy.map((t) => `/etc/systemd/system/${t}.wants`).join(', ')})` : ' (its [Install] section names no target)';
        f.message += `; kubespray's ${KUBESPRAY_RENEW_TIMER} is installed but not enabled${wants}, so nothing renews it: systemctl enable --now ${KUBESPRAY_RENEW_TIMER}, whose ${runs}${calendar}`;
      } else if (f.code === 'expiring') {
        f.message += `; ${KUBESPRAY_RENEW_TIMER} renews it (enabled: ${timer.enabledBy}): on its calendar${calendar} ${runs}; systemctl list-timers ${KUBESPRAY_RENEW_TIMER} says when next, systemctl start ${service} ${nearNextRun ? 'runs it now (kubepki renew renews it now)' : 'renews now'}`;
      } else {
        f.message += `; ${KUBESPRAY_RENEW_TIMER} is enabled (${timer.enabledBy}) but has not renewed it: journalctl -u ${service} says why, systemctl list-timers ${KUBESPRAY_RENEW_TIMER} when it last ran${calendar}; systemctl start ${service} runs ${does} now`;
      }
    }
  }
}

/** An expiring or expired certificate that k0s, MicroK8s, minikube or kops renews itself: its finding says how, in the installer's terms. */
function renewedByInstaller(certificates: CertEntry[]): void {
  const kopsControlPlane = kopsNodeIsControlPlane(certificates);
  for (const c of certificates) {
    const advice = installerRenewal(c, false, kopsControlPlane);
    if (advice) for (const f of c.findings) if (f.code === 'expiring' || f.code === 'expired') f.message += `; ${advice}`;
  }
}

function isKubeadmControlPlane(fs: NodeFs, pkiDir: string): boolean {
  return fs.exists('/etc/kubernetes/manifests/kube-apiserver.yaml') || fs.exists(`${pkiDir}/ca.key`) || fs.exists(`${pkiDir}/apiserver.crt`);
}
