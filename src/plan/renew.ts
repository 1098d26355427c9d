/**
 * planRenew: which certificates to renew, how, into which files, and what to
 * restart afterwards. Pure: the inventory, the options and `now` in; a Plan
 * (plain JSON) out. Signing happens in `apply/renew.ts`.
 */
import type { Inventory, CertEntry, CertLocation, MissingEntry } from '../inventory/types.js';
import type { Plan, PlanItem, PlanFile, PlanRestart, PlanResult, PlanItemKind, PlanNote } from './types.js';
import { keyTypeOfInfo, type KeyType } from '../pki/keygen.js';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { newSerial, generalNameDer, pssChange, signatureAlgorithmFor } from '../pki/sign.js';
import { dnsNameProblem, sanString } from '../pki/san-validate.js';
import { NAME_CONSTRAINTS_OID, parseNameConstraints, constraintViolation, violationText, type NameConstraints } from '../pki/name-constraints.js';
import { Certificate, GO_CURVES, NO_EXPIRY_MS } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { decryptKeyCommand } from '../pki/keys.js';
import { UserError } from '../errors.js';
import { keyModeChange } from '../fs/key-mode.js';
import { KUBEADM_PROFILES, KUBELET_PKI_DIR } from '../profiles/kubeadm.js';
import { K0S_DATA_DIR, installerRenewal, rancherCaAdvice, rancherReissueAdvice, rancherReissues, rancherUnit, RANCHER_DATASTORE_CA } from '../layouts/detect.js';
import { certificateLifetime, goTime, type Lifetime } from '../inventory/time.js';
import { kubesprayEtcdNote } from '../layouts/kubespray-etcd.js';
import { listText, someNames } from '../inventory/names.js';
import type { EtcdInitialCluster } from '../rebuild/etcd-members.js';
import { kubeletClientFix, k0sKubelet as k0sKubeletOf, kubeletServingFix, interruptedSwap, embeddedKubeletConfText, isKubeletOwnServing, isAuthority, rootFlagFor, permissionDenied, permissionDeniedError, RUN_AS_ROOT, eachNodesOwn, otherMembers, externalEtcdPeers } from '../inventory/next.js';
import { datedPemPath, pemTimestamp } from './kubelet.js';

export type SanInput = { type: 'dns' | 'ip' | 'email' | 'uri'; value: string };

export interface RenewOptions {
  /** `all`, or names / ids as `check` shows them */
  targets: 'all' | string[];
  /** `--file`: every certificate in these node paths */
  files?: string[];
  /** new lifetime in seconds (default: the kubeadm config's period for kubeadm's certificates, else the old certificate's lifetime; see certificateLifetime) */
  validitySeconds?: number;
  /** notBefore this many seconds before now (default 5 min; the kubelet's own serving pair 1 h; a CA keeps its notBefore) */
  backdateSeconds?: number;
  newKey?: boolean;
  addSans?: SanInput[];
  onlyExpiring?: boolean;
  /** node-independent directory for CSRs of certificates whose CA key is missing */
  csrOut?: string;
  /** other places each certificate (by id) lives in: bundles, kubeconfig CA data */
  copies?: Record<string, CertLocation[]>;
  /** randomness for serial numbers (tests) */
  random?: (n: number) => Uint8Array;
  /** the mode of a node file as it is now (the plan says which key files others can read and are narrowed) */
  modeOf?: (nodePath: string) => number | undefined;
  /** whether a node path is taken now (a file, a link): a new dated kubelet pem never takes a name that is */
  exists?: (nodePath: string) => boolean;
  /**
   * the members of this node's etcd cluster (its data or manifest), and the etcdctl command that asks all of
   * them; for a systemd etcd also its name and ETCD_INITIAL_CLUSTER in order (kubespray's first etcd host).
   * Asked only when the plan restarts etcd or renews kubespray's etcd certificates (it reads etcd's database)
   */
  etcdCluster?: () => ({ members: string[]; healthCommand: string } & EtcdInitialCluster) | undefined;
}

/** a dated (or -updated) file of either pair the kubelet's certificate store keeps (spec §7.1) */
const KUBELET_PAIR = /\/(kubelet-(?:client|server))-(?!current)[^/]*\.pem$/;

/**
 * The pair a file of the kubelet's certificate store belongs to (`kubelet-client` or `kubelet-server`): a
 * dated file (behind -current), or a -current.pem that is a regular file (copied without its link), which the
 * kubelet's store cannot swap: renewing it makes it the link client-go expects, to a dated file. Both pairs
 * are renewed as client-go stores them (spec §7.2): a new dated file named from `now`, -current swapped to it.
 */
function kubeletPairOf(c: CertEntry): 'kubelet-client' | 'kubelet-server' | undefined {
  if (c.location.kind === 'kubeconfig') return undefined;
  const m = KUBELET_PAIR.exec(c.location.file) ?? (c.location.via ? null : /\/(kubelet-(?:client|server))-current\.pem$/.exec(c.location.file));
  return m ? m[1] as 'kubelet-client' | 'kubelet-server' : undefined;
}

/** The flags by which kube-apiserver and kube-controller-manager name the ServiceAccount token key pair. */
const SA_KEY_FLAGS = new Set(['--service-account-key-file', '--service-account-signing-key-file', '--service-account-private-key-file']);

/**
 * The components that sign or verify ServiceAccount tokens with this certificate's key pair, when it is one:
 * RKE1's kube-service-account-token (its containers name no files on disk), or a pair a component names by
 * an SA flag (Kubernetes the Hard Way's service-accounts.crt/.key). A new key for it invalidates every token.
 */
function serviceAccountKeyReaders(c: CertEntry, inv: Inventory): string[] {
  const files = new Set([c.location.file, c.privateKey.location?.file].filter((f): f is string => Boolean(f)));
  const readers = new Set(inv.components.filter((r) => SA_KEY_FLAGS.has(r.via) && files.has(r.file)).map((r) => r.component));
  if (c.layout === 'rke1' && /\/kube-service-account-token\.pem$/.test(c.location.file)) { readers.add('kube-apiserver'); readers.add('kube-controller-manager'); }
  return [...readers].sort();
}

function wholeSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

function isKubeletConf(c: CertEntry): boolean {
  return c.location.kind === 'kubeconfig' && (c.profile === 'kubelet.conf' || c.location.file.endsWith('/kubelet.conf'));
}

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `90 days`, `1 year`, `36 hours`: a lifetime as the plan explains it. */
function lifetimeText(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds % (365 * 86400) === 0) return plural(seconds / (365 * 86400), 'year');
  if (seconds % 86400 === 0) return plural(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  return seconds % 60 === 0 ? plural(seconds / 60, 'minute') : plural(seconds, 'second');
}

/** Where a renewed certificate's lifetime came from, when it is not --validity or its own. */
function lifetimeNote(life: Lifetime, layout: string): string | undefined {
  if (life.source === 'kubeadm-config') {
    const { field, text, file } = life.configured!;
    return `validity ${lifetimeText(life.seconds)} (the cluster's): ${field} ${text} in ${file} (--validity to choose another)`;
  }
  if (life.source === 'installer') {
    if (layout === 'k3s' || layout === 'rke2') {
      // (CATTLE_NEW_SIGNED_CERT_EXPIRATION_DAYS in the unit's environment changes it: nothing on disk says so)
      return `validity 1 year (${layout}'s, unless CATTLE_NEW_SIGNED_CERT_EXPIRATION_DAYS says otherwise): its notBefore is its CA's, as ${layout} sets it, so notAfter − notBefore is not its lifetime (--validity to choose another)`;
    }
    return `validity ${layout === 'rke1' ? '10 years (RKE\'s)' : '1 year (kubeadm\'s)'}: its notBefore is its CA's, as ${layout === 'rke1' ? 'RKE' : 'kubeadm up to 1.30'} sets it, so notAfter − notBefore is not its lifetime (--validity to choose another)`;
  }
  return undefined;
}

/**
 * Why the entry's key file, which is there, could not be read (its `unreadable` finding), or undefined: a key
 * kubepki was not allowed to read is no missing key (renew, run as a user, called every CA externally managed).
 */
function keyUnreadable(e: CertEntry, inv: Inventory): { message: string; denied: boolean; file: string } | undefined {
  const file = e.privateKey.location?.file;
  if (e.privateKey.present || file === undefined) return undefined;
  const f = inv.findings.find((x) => x.code === 'unreadable' && x.file === file);
  return f && { message: f.message, denied: permissionDenied(f.message), file };
}

/** A CA as renew names it: a bundle's later certificate (ca.crt's root behind its intermediate, `ca#1`) with its CN too. */
function caLabel(ca: CertEntry): string {
  return ca.location.index > 0 && ca.subjectCN ? `${ca.name} (CN=${ca.subjectCN})` : ca.name;
}

function isKubeadmCa(name: string): boolean {
  return KUBEADM_PROFILES.some((p) => p.name === name && p.isCA);
}

/** What is wrong with an expected file: gone, or there but unreadable (and why). */
function missingText(m: MissingEntry): string {
  // (kubelet-client's reason ends with its fix, which missingAdvice gives)
  if (m.name === 'kubelet-client') return m.danglingTo ? `${m.file} is a dangling symlink to ${m.danglingTo}, which is gone` : `${m.file} is ${m.state}`;
  return m.state === 'unreadable' ? m.reason : `${m.file} is missing`;
}

/** ` --root R` for the commands renew's advice gives about a tree (without it they would act on the host's /). */
function rootFlagOf(inv: Inventory): string {
  return rootFlagFor(inv.root);
}

function missingAdvice(m: MissingEntry, inv: Inventory): string {
  // (rebuild keeps no kubelet.conf whose client certificate is gone: the kubelet's own command makes one)
  if (m.name === 'kubelet-client') return m.fix ?? kubeletClientFix(inv, rootFlagOf(inv));
  const r = rootFlagOf(inv);
  if (m.state === 'unreadable' && permissionDenied(m.reason)) return RUN_AS_ROOT;
  return m.state === 'unreadable'
    ? `restore it from a backup (\`kubepki backups${r}\`), or move it aside and re-create it with \`kubepki rebuild${r}\``
    : `restore it from a backup (\`kubepki backups${r}\`) or re-create it with \`kubepki rebuild${r}\``;
}

export function planRenew(inv: Inventory, opts: RenewOptions, now: Date): Plan {
  // `check` refuses a tree without a certificate (exit 3); so does renew, rather than "renew 0 certificate(s)"
  if (inv.certificates.length === 0) {
    throw new UserError(`failed to find any certificate under ${inv.root}`, 'pass --root DIR pointing at a node tree (with etc/kubernetes, var/lib/rancher, var/lib/k0s, var/snap/microk8s, var/lib/minikube or srv/kubernetes inside), or --file PATH for a certificate kubepki does not know about');
  }
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  const warnings: string[] = [];
  const results: PlanResult[] = [];

  // ---- select
  const selected: CertEntry[] = [];
  const add = (c: CertEntry) => { if (!selected.includes(c)) selected.push(c); };
  const isCaCopyOnly = (c: CertEntry) => c.location.kind === 'kubeconfig' && c.location.kubeconfig?.entry === 'cluster';
  const isThrowawayCa = (c: CertEntry) => c.isCA && !c.privateKey.present && c.location.index > 0;
  if (opts.targets === 'all') {
    for (const c of inv.certificates) {
      if (isCaCopyOnly(c) || isThrowawayCa(c)) continue;
      // CAs are renewed by name, or by `all` once they are expiring: renewing a healthy CA is a decision, not a chore.
      if (c.isCA && c.status === 'ok') continue;
      // older kubelet-client-<time>.pem files the kubelet keeps beside the -current one are history, not in use
      const pair = KUBELET_PAIR.exec(c.location.file)?.[1];
      if (pair && !c.location.via && inv.certificates.some((o) => o !== c && KUBELET_PAIR.exec(o.location.file)?.[1] === pair && o.location.via && dirOf(o.location.file) === dirOf(c.location.file))) continue;
      add(c);
    }
  } else {
    for (const t of opts.targets) {
      const hits = inv.certificates.filter((c) => c.name === t || c.id === t);
      const gone = hits.length === 0 ? inv.missing.find((m) => m.name === t) : undefined;
      if (gone) {
        throw new UserError(`failed to renew ${t}: ${missingText(gone)}`, isKubeadmCa(t)
          ? restoreCaAdvice(inv)
          : `${missingAdvice(gone, inv)}; renew renews what is there`);
      }
      // the kubelet's link to a dated file that is gone (check's finding says so): what makes the kubelet a new
      // pair, as check says it (the client link kubelet.conf names is a missing entry, above)
      const link = hits.length === 0 && (t === 'kubelet-server' || t === 'kubelet-client') ? inv.findings.find((f) => f.danglingTo && f.file === `${KUBELET_PKI_DIR}/${t}-current.pem`) : undefined;
      if (link) {
        throw new UserError(`failed to renew ${t}: ${link.file} is a dangling symlink to ${link.danglingTo}, which is gone`,
          `${t === 'kubelet-server' ? kubeletServingFix() : kubeletClientFix(inv, rootFlagOf(inv))}; renew renews what is there`);
      }
      if (hits.length === 0) {
        const names = [...new Set(inv.certificates.filter((c) => !isCaCopyOnly(c)).map((c) => c.name))].sort();
        throw new UserError(`failed to find certificate ${JSON.stringify(t)} under ${inv.root}`, `use a name as \`kubepki check\` shows it: ${names.join(', ')}; or --file PATH`);
      }
      hits.forEach(add);
    }
  }
  for (const f of opts.files ?? []) {
    // (a leaf the file shares with another, ~/.kube/config copied from admin.conf, is that one's copy: it is
    // renewed where it is kept and every copy, this file's included, follows; it was "failed to find a
    // certificate", or with another user beside it, silently left out. A CA whose copy the file holds, a
    // kubeconfig's cluster entry, is not renewed for it: renewing a CA is asked for by name)
    // (a kubeconfig whose client-certificate is a file, client-go's path relative to the kubeconfig's directory
    // already resolved: that file is its certificate, as the kubeconfig's row in check shows; it was "failed to find
    // a certificate in" it)
    const refs = new Set(inv.kubeconfigs.filter((k) => k.file === f).flatMap((k) => k.users.flatMap((u) => (u.certFrom === 'file' && u.certFile ? [u.certFile] : []))));
    const inFile = (l: CertLocation) => l.file === f || l.via === f || (l.kind !== 'kubeconfig' && l.index === 0 && (refs.has(l.file) || (l.via !== undefined && refs.has(l.via))));
    const hits = inv.certificates.filter((c) => inFile(c.location) || (!c.isCA && (c.copies ?? []).some(inFile)));
    if (hits.length === 0) throw new UserError(`failed to find a certificate in ${f}`, 'give the node path of a certificate file that `kubepki check --path FILE` lists');
    hits.filter((c) => !isThrowawayCa(c)).forEach(add);
  }
  // (a certificate not valid yet fails now as an expired one does: seed 000's apiserver, made "from now" elsewhere)
  const chosen = opts.onlyExpiring ? selected.filter((c) => c.status === 'expired' || c.status === 'not-yet-valid' || c.status === 'warning') : selected;
  // a certificate the operator named (or gave with --file) that --only-expiring leaves alone is said, with why: the
  // run printed "Nothing to renew." and nothing about it. With `all`, the healthy ones are the point, not news.
  if (opts.onlyExpiring && opts.targets !== 'all') {
    for (const c of selected) {
      if (chosen.includes(c)) continue;
      const left = Math.floor(c.residualSeconds / 86400);
      results.push({ id: c.id, name: c.name, outcome: 'not-needed', message: `not expiring: valid until ${goTime(c.notAfter)} (${left}d left)${c.warnFrom ? `, entering the --warn ${inv.warn} window on ${goTime(c.warnFrom)}` : ''}; --only-expiring leaves it (run without it to renew it now)` });
    }
  }

  // ---- items
  const items: PlanItem[] = [];
  const random = opts.random;
  const nowMs = Math.floor(now.getTime() / 1000) * 1000;
  const stamp = pemTimestamp(now);
  /** The dated file each kubelet pair's renewal makes (by item id), never over one that is there (datedPemPath). */
  const newPems = new Map<string, string>();
  const newPemOf = (c: CertEntry, pair: 'kubelet-client' | 'kubelet-server' | undefined): string => {
    let p = newPems.get(c.id);
    if (p) return p;
    // the kubelet's store is the directory of the link it reads (its --cert-dir), not of the file that
    // link points at: a -current.pem pointing into another directory is swapped where it is
    const link = pair && c.location.via && /\/kubelet-(?:client|server)-(?:current|updated)\.pem$/.test(c.location.via) ? c.location.via : undefined;
    const base = `${pair ? dirOf(link ?? c.location.file) : '/var/lib/kubelet/pki'}/${pair ?? 'kubelet-client'}-${stamp}`;
    const taken = new Set(newPems.values());
    p = datedPemPath(base, (x) => taken.has(x) || opts.exists?.(x) === true);
    newPems.set(c.id, p);
    return p;
  };
  const addSans = opts.addSans ?? [];
  // the CSR for a certificate whose CA is elsewhere asks for the names --add-san adds, as a renewal here would
  // write them (they were left out, silently: the CA owner signed a certificate without them)
  const csrResult = (c: CertEntry): Pick<PlanResult, 'csr' | 'install' | 'addSans'> => {
    const add = c.isCA ? [] : sansToAdd(c, addSans).add;
    const install = installAdvice(c, inv);
    // (said beside what the CSR carries, before the check to run once it is back)
    const at = install.findIndex((l) => l.startsWith('the CSR carries'));
    if (add.length) install.splice(at < 0 ? install.length : at + 1, 0, `it also asks for ${add.map(sanString).join(', ')} (--add-san), which the certificate does not have yet: make sure the CA keeps them`);
    // (--new-key was dropped without a word here: a new key on the node would not match the certificate in use
    // until the signed one is back, so the CSR is the kept key's; say so, and how to get a new key)
    if (opts.newKey) install.splice(at < 0 ? install.length : at + 1 + (add.length ? 1 : 0), 0, '--new-key does not apply to a CSR: it is made with the kept key (the one the certificate in use has); for a new key, renew it with --new-key on a machine that holds the CA key, or have the CA owner issue a new pair');
    return { csr: `${opts.csrOut}/${safeName(c.name)}.csr`, install, ...(add.length ? { addSans: add } : {}) };
  };
  const newNotAfter = new Map<string, number>();
  /** files renew needs that kubepki was not allowed to read (run as a user): the run stops, below */
  const denied = new Set<string>();

  // CAs first, roots before the CAs they sign: certificates signed in the same run take the renewed CA.
  const ancestors = (c: CertEntry): CertEntry[] => {
    const out: CertEntry[] = [];
    for (let a = c.signedBy ? byId.get(c.signedBy) : undefined; a && a !== c && !out.includes(a) && out.length < 16; a = a.signedBy && a.signedBy !== a.id ? byId.get(a.signedBy) : undefined) out.push(a);
    return out;
  };
  const depth = (c: CertEntry) => (c.isCA ? ancestors(c).length : Number.MAX_SAFE_INTEGER);
  const ordered = [...chosen].sort((a, b) => depth(a) - depth(b));
  /** CAs this run re-issues (ids): their leaves are signed by the renewed certificate */
  const renewedCas = new Set<string>();
  /** CAs already explained as missing (the advice is given once) */
  const explainedGone = new Set<string>();
  // a k3s/RKE2 agent's leaf (its CA key is on a server): the agent unit gets it re-issued when restarted
  const agentAdvice = rancherReissueAdvice(inv, 'agent');
  const rancherAdvice = (c: CertEntry) => { const a = agentAdvice(c); return a ? `; ${a}` : undefined; };
  // what `all` cannot renew because it is not there to renew is said, not skipped in silence
  if (opts.targets === 'all') {
    const advised = new Set<string>();
    // (the -updated link of an interrupted kubelet swap is renewed, and -current made again, in this run)
    const swapRenewed = chosen.some((c) => /\/kubelet-client-updated\.pem$/.test(c.location.via ?? ''));
    for (const m of inv.missing) {
      if (m.name.startsWith('sa')) continue;
      if (m.name === 'kubelet-client' && swapRenewed && interruptedSwap(inv.certificates)) continue;
      const isCa = isKubeadmCa(m.name);
      if (isCa) explainedGone.add(m.name);
      // each piece of advice once (a node that lost its PKI has a dozen of these lines)
      const advice = isCa ? restoreCaAdvice(inv) : missingAdvice(m, inv);
      const said = advised.has(advice);
      advised.add(advice);
      if (m.state === 'unreadable' && permissionDenied(m.reason)) denied.add(m.file);
      results.push({ id: m.file, name: m.name, outcome: 'missing', message: `${missingText(m)}${said ? ` (${isCa ? 'restore it as the CA above' : 'see above'})` : `; ${advice}`}` });
    }
  }
  /**
   * The CA of `c` when its own files are gone from this node: known only from kubeconfig copies
   * (certificate-authority-data), or not at all while the inventory lists its file as missing. That is a
   * node that lost its PKI, not an external CA (whose ca.crt is here without ca.key).
   */
  const caGone = (c: CertEntry, signerEntry: CertEntry | undefined): { name: string; file?: string; other?: string; copy?: string } | undefined => {
    if (c.isCA && signerEntry === c) return undefined;
    // an intermediate as the cluster CA (a Vault or corporate root signed ca.crt) whose root the node knows only from
    // a kubeconfig's bundle: that root's key was never on a node, so it is an external CA (a CSR for the root's owner),
    // not a lost one to restore or rebuild; unless a CA of this node is itself missing
    if (c.isCA && !inv.missing.some((m) => isKubeadmCa(m.name))) return undefined;
    const kubeletOwn = KUBELET_PAIR.exec(c.location.file)?.[1] === 'kubelet-client' || isKubeletConf(c);
    const caName = KUBEADM_PROFILES.find((p) => p.name === c.profile || p.name === c.name)?.caName ?? (kubeletOwn ? 'ca' : undefined);
    const missing = caName ? inv.missing.find((m) => m.name === caName) : undefined;
    // a worker knows the cluster CA from kubelet.conf alone: its kubelet certificate is the kubelet's business
    if (kubeletOwn && !missing) return undefined;
    if (signerEntry) {
      if (signerEntry.privateKey.present || signerEntry.location.kind !== 'kubeconfig') return undefined;
      // the CA's file is there but holds another CA of that name (re-created, or another key type put in): only
      // a kubeconfig's copy of the old one verifies this certificate
      const other = missing ? undefined : inv.certificates.find((o) => o.isCA && o.location.kind !== 'kubeconfig' && o.subject === signerEntry.subject && o.spkiSha256 !== signerEntry.spkiSha256);
      return { name: missing?.name ?? signerEntry.subjectCN ?? signerEntry.name, ...(missing ? { file: missing.file } : {}), ...(other ? { other: other.location.file, copy: signerEntry.location.file } : {}) };
    }
    return missing ? { name: missing.name, file: missing.file } : undefined;
  };
  /** Why the private key file beside a certificate could not be used (a `corrupt` finding on it), if so. */
  const keyDamage = (e: CertEntry): string | undefined => {
    if (e.privateKey.present) return undefined;
    // an embedded client-key-data that does not parse leaves no key location, only its finding
    if (e.location.kind === 'kubeconfig' && e.location.kubeconfig?.entry === 'user' && !e.privateKey.location) {
      const user = `user ${JSON.stringify(e.location.kubeconfig.name)} client-key-data`;
      return inv.findings.find((f) => f.code === 'corrupt' && f.file === e.location.file && f.message.includes(user))?.message;
    }
    const file = e.privateKey.location?.file;
    if (!file) return undefined;
    return inv.findings.find((f) => f.code === 'corrupt' && f.file === file)?.message;
  };
  /** a certificate of a --file (read through a link, or as the link) */
  const byFile = (c: CertEntry) => Boolean(opts.files?.some((f) => f === c.location.file || f === c.location.via));
  for (const c of ordered) {
    const signerEntry = c.signedBy ? byId.get(c.signedBy) : undefined;
    if (c.location.kind === 'pkcs7') {
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `${c.location.file} is a PKCS#7 bundle: kubepki does not rewrite bundles; renew the certificate where it is issued, then make the bundle again (openssl crl2pkcs7 -nocrl -certfile …)` });
      continue;
    }
    if (c.location.manifest) {
      // (planned as a PEM file, the write found no PEM block in it and stopped with an internal error)
      // (the distro's own listener certificate, still valid, is the distro's to re-issue: not a failure of `renew all`)
      const distros = c.managedBy === 'k3s' || c.managedBy === 'rke2';
      results.push({ id: c.id, name: c.name, outcome: distros && Date.parse(c.notAfter) > nowMs ? 'not-needed' : 'unsupported', message: manifestAdvice(c, inv) });
      continue;
    }
    // (a k3s/RKE2 CA written here stops the server at its next start: the datastore's copy is the one that counts)
    const datastoreCa = c.isCA ? RANCHER_DATASTORE_CA.exec(c.location.file) : null;
    if (datastoreCa) {
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file} in place: ${rancherCaAdvice(datastoreCa[1] as 'k3s' | 'rke2', [c.name])}` });
      continue;
    }
    // Left to the installer: k0s signs its leaves again, with new keys, at every start of its controller (one written
    // here is replaced by the very restart that would have it read, so the restart is the renewal); minikube's start
    // copies the host's file over this one (written here, it lasts until then, and is then the old one again); a kops
    // CA is the state store's (every new instance gets that one, and the other instances keep theirs)
    if (c.managedBy === 'k0s' || c.managedBy === 'minikube' || (c.managedBy === 'kops' && c.isCA)) {
      const undone = c.managedBy === 'k0s' ? `, replacing anything written to ${c.location.file} before it is read` : '';
      results.push({ id: c.id, name: c.name, outcome: c.status === 'ok' ? 'not-needed' : 'unsupported', message: `not renewed here: ${installerRenewal(c)}${undone}` });
      continue;
    }
    const kind0: PlanItemKind = c.location.kind === 'kubeconfig' ? 'kubeconfig' : kubeletPairOf(c) ?? 'leaf';
    let kind: PlanItemKind;
    let signer: PlanItem['signer'];
    const notes: string[] = [];
    if (c.location.kind === 'kubeconfig' && c.location.kubeconfig?.entry === 'cluster') continue;
    if (signerEntry && signerEntry.id === c.id) {
      kind = c.isCA ? 'ca' : 'leaf';
      signer = 'self';
    } else if (signerEntry && isKubeletSelfSignedPair(c, signerEntry)) {
      kind = 'kubelet-serving';
      signer = 'throwaway';
    } else if (caGone(c, signerEntry)) {
      const gone = caGone(c, signerEntry)!;
      const first = !explainedGone.has(gone.name);
      explainedGone.add(gone.name);
      results.push({
        id: c.id, name: c.name, outcome: 'ca-missing',
        message: (gone.other
          ? `can't renew ${c.location.file}: the CA ${gone.name} that signed it is on this node only as the copy in ${gone.copy}, without its key; ${gone.other} is another CA of that name (another key: re-created?)`
          : `can't renew ${c.location.file}: the CA ${gone.name} is not on this node (its files are missing${gone.file ? `: ${gone.file}` : ''})`) + (first ? `: ${restoreCaAdvice(inv)}` : '; see above'),
      });
      continue;
    } else if (!signerEntry && (kind0 === 'kubelet-client' || isKubeletConf(c))) {
      results.push({ id: c.id, name: c.name, outcome: Date.parse(c.notAfter) > nowMs ? 'not-needed' : 'externally-managed', message: `can't renew ${c.location.file} here: the CA that signed it (${c.issuer}) is not on this node. ${kubeletAdvice(c, inv, nowMs)}` });
      continue;
    } else if (!signerEntry) {
      const csr = opts.csrOut && c.privateKey.present;
      // (a --file certificate's CA may be anywhere, under any name: it can be given)
      const how = byFile(c) ? 'pass it with --ca-cert FILE --ca-key KEY, or --csr-out DIR for a CSR to take to the CA' : 'pass --csr-out DIR for a CSR to take to the CA';
      results.push({ id: c.id, name: c.name, outcome: 'externally-managed', message: `externally managed, can't renew ${c.location.file}: the CA that signed it (${c.issuer}) is not on this node` + (csr ? '; here is a CSR for it' : rancherAdvice(c) ?? (opts.csrOut || !c.privateKey.present ? (byFile(c) ? ' (pass it with --ca-cert FILE --ca-key KEY)' : '') : ` (${how})`)), ...(csr ? csrResult(c) : {}) });
      continue;
    } else {
      kind = c.isCA ? 'ca' : kind0;
      signer = { id: signerEntry.id, name: signerEntry.name, certFile: signerEntry.location.file, keyFile: signerEntry.privateKey.location?.file ?? '' };
    }
    const signerKeyOk = signer === 'throwaway' || (signer === 'self'
      ? c.privateKey.present && c.privateKey.matches !== false && !c.privateKey.encrypted
      : Boolean(signerEntry?.privateKey.present && signerEntry.privateKey.matches !== false && !signerEntry.privateKey.encrypted));
    // (unless nobody signs what the kubelet asks for, external-CA mode: then it is a certificate for the CA, below)
    const kubeletUnsigned = c.findings.some((f) => f.code === 'kubelet-csr-unsigned');
    if (!signerKeyOk && signer !== 'self' && (kind === 'kubelet-client' || isKubeletConf(c)) && !signerEntry!.privateKey.present && !kubeletUnsigned) {
      // a worker: the cluster CA's key lives on the control-plane nodes; the kubelet renews its own client certificate
      results.push({ id: c.id, name: c.name, outcome: Date.parse(c.notAfter) > nowMs ? 'not-needed' : 'externally-managed', message: `can't renew ${c.location.file} here: the key of CA ${signerEntry!.name} is not on this node (a worker, or a node without the CA key). ${kubeletAdvice(c, inv, nowMs)}` });
      continue;
    }
    if (!signerKeyOk) {
      const ca = signer === 'self' ? c : signerEntry!;
      const damage = keyDamage(ca);
      if (damage) {
        results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file}: the key of CA ${caLabel(ca)} is damaged (${damage}); restore it from a backup (\`kubepki backups${rootFlagOf(inv)}\`, \`kubepki restore NAME${rootFlagOf(inv)}\`) or from another control-plane node (\`kubepki ca export --out F\` there, \`kubepki ca import F --certificate-key KEY --force${rootFlagOf(inv)}\` here: --force replaces the damaged key, backed up first)` });
        continue;
      }
      const unreadable = keyUnreadable(ca, inv);
      if (unreadable) {
        if (unreadable.denied) denied.add(unreadable.file);
        results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file}: the key of CA ${caLabel(ca)} is there, but ${unreadable.message}` });
        continue;
      }
      const canCsr = Boolean(opts.csrOut && c.privateKey.present && !c.privateKey.encrypted && c.privateKey.matches !== false);
      if (inv.externalEtcd && c.name === 'apiserver-etcd-client' && !ca.privateKey.present) {
        // kubeadm certs renew leaves it out with external etcd (renewal.NewManager: GetCertsWithoutEtcd); while it is
        // valid that is no failure of `renew all`, as for kubeadm, but what to do is said: it will expire
        const due = c.status === 'expired' || c.status === 'warning' || c.status === 'not-yet-valid';
        results.push({
          id: c.id, name: c.name, outcome: due || canCsr || opts.targets !== 'all' ? 'externally-managed' : 'not-needed',
          message: `can't renew ${c.location.file} here: it is signed by the external etcd's CA ${caLabel(ca)} (${inv.externalEtcd.source}), whose key is kept with that etcd, not on this node (kubeadm certs renew leaves it out too)`
            + (canCsr ? '; here is a CSR for it: have it signed with that CA' : `; kubepki renew apiserver-etcd-client --csr-out DIR${rootFlagOf(inv)} writes a request to sign with it`)
            + ', then put the certificate there on every control-plane node (kubeadm join --control-plane copies the same pair to each, as external-etcd.crt) and restart kube-apiserver on one node at a time',
          ...(canCsr ? csrResult(c) : {}),
        });
        continue;
      }
      results.push({
        id: c.id, name: c.name, outcome: 'externally-managed',
        message: `externally managed, can't renew ${c.location.file}: the key of CA ${caLabel(ca)} is ${ca.privateKey.encrypted ? 'encrypted' : ca.privateKey.present ? 'not the CA certificate\'s key' : 'missing'}`
          + (canCsr ? '; here is a CSR for it' : rancherAdvice(c) ?? (opts.csrOut ? '' : byFile(c) && ca !== c && !ca.privateKey.encrypted && ca.location.kind !== 'kubeconfig'
            ? ` (pass its key with --ca-cert ${ca.location.file} --ca-key KEY, or --csr-out DIR for a CSR to take to the CA)`
            : ' (pass --csr-out DIR for a CSR to take to the CA)')),
        ...(canCsr ? csrResult(c) : {}),
      });
      continue;
    }
    if (c.location.kind === 'kubeconfig' && c.location.kubeconfig?.field !== 'client-certificate-data') {
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `${c.location.file} refers to its certificate by file; renew that file instead` });
      continue;
    }
    // A certificate signed by an expired CA does not verify (openssl: "certificate has expired" at depth 1; Go
    // likewise): renewing it alone would write a certificate nothing accepts. Refuse unless every expired CA
    // above it is renewed in this same run (`renew all` takes expired CAs along; or name them).
    if (signer !== 'self' && signer !== 'throwaway' && signerEntry) {
      const stale = [signerEntry, ...ancestors(signerEntry)].find((a) => a.isCA && Date.parse(a.notAfter) < nowMs && !renewedCas.has(a.id));
      if (stale) {
        // (a run given --file: those names are not the node's, `renew ca p384` finds neither and `renew all` leaves
        // the file alone; the files themselves are what the run needs)
        const fileOf = (e: CertEntry) => e.location.via ?? e.location.file;
        const together = opts.files?.length
          ? `\`kubepki renew --file ${fileOf(stale)} --file ${fileOf(c)}${rootFlagOf(inv)}\``
          : `\`kubepki renew ${stale.name} ${c.name}${rootFlagOf(inv)}\` (or \`kubepki renew all${rootFlagOf(inv)}\`)`;
        results.push({
          id: c.id, name: c.name, outcome: 'skipped',
          message: `its CA ${stale.name} expired on ${goTime(stale.notAfter)}, so a renewed ${c.name} would not verify; renew the CA first or together: ${together}`,
        });
        continue;
      }
    }
    if (c.privateKey.present && c.privateKey.matches === false) {
      results.push({ id: c.id, name: c.name, outcome: 'skipped', message: `${c.privateKey.location?.file} is not this certificate's key; fix the pair (or renew with --new-key) first` });
      if (!opts.newKey) continue;
    }
    // (a key that is there but unreadable is not renewed for "the same public key" without it)
    const ownKeyUnreadable = keyUnreadable(c, inv);
    if (ownKeyUnreadable && !opts.newKey) {
      if (ownKeyUnreadable.denied) denied.add(ownKeyUnreadable.file);
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file}: its key is there, but ${ownKeyUnreadable.message}` });
      continue;
    }
    const needsKeyFile = kind === 'kubelet-client' || kind === 'kubelet-server' || isKubeletConf(c) || opts.newKey;
    if (needsKeyFile && !c.privateKey.present && !opts.newKey) {
      results.push({ id: c.id, name: c.name, outcome: 'skipped', message: `its private key is not on this node, so the kubelet file cannot be rewritten` });
      continue;
    }

    // key
    let keyAction: 'keep' | 'new' = 'keep';
    // an RSA key under 2048 bits is not made again that weak: its new key is RSA 2048, and the plan says so;
    // a key Go cannot use (unsupported-key) is not made again either: the nearest type it takes
    const weakRsa = c.keyAlgorithm === 'RSA' && c.keySize > 0 && c.keySize < 2048;
    const goUnusable = unusableKeyReplacement(c);
    const keyType = weakRsa ? 'rsa-2048' : goUnusable?.type ?? keyTypeOfInfo({ algorithm: c.keyAlgorithm, size: c.keySize, curve: c.curve });
    if (opts.newKey) {
      const saReaders = kind === 'ca' ? [] : serviceAccountKeyReaders(c, inv);
      if (weakRsa && kind !== 'ca' && saReaders.length === 0) notes.push(`new key RSA 2048, not RSA ${c.keySize}: kubepki makes no RSA key under 2048 bits`);
      if (goUnusable && kind !== 'ca' && saReaders.length === 0) notes.push(`new key ${goUnusable.label}, not ${c.keyAlgorithm}${c.curve ? ` ${c.curve}` : ` ${c.keySize}`}: Go programs (kube-apiserver, etcd, kubectl) cannot use that key`);
      if (kind === 'ca') notes.push(newCaKeyNote(c, rootFlagOf(inv)));
      else if (saReaders.length > 0) notes.push(`keeps its key: it is the ServiceAccount token key (${saReaders.join(', ')} ${saReaders.length > 1 ? 'sign and verify' : 'use'} every token with it): a new key would invalidate every ServiceAccount token in the cluster`);
      else if (!keyType) warnings.push(`${c.name}: cannot generate a ${c.keyAlgorithm} ${c.keySize} key; keeping the old key`);
      else if (c.privateKey.location?.kind === 'der') warnings.push(`${c.name}: its key ${c.privateKey.location.file} is bare DER; keeping the old key (convert it to PEM to renew it with --new-key)`);
      else keyAction = 'new';
    }
    const damage = keyDamage(c);
    if (damage && keyAction === 'keep') {
      // renewing for the damaged key's public half would give a certificate whose key the components refuse
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file} with its key: ${damage}; run again with --new-key for a new key (the damaged one is backed up), or restore the key from a backup` });
      continue;
    }
    if (c.privateKey.encrypted && keyAction === 'keep' && kind !== 'ca') {
      // its public half would be certified, then the write's verification fails on the passphrase and rolls back the
      // whole run; the components that read it take no passphrase either
      const kf = c.privateKey.location?.file;
      const decrypt = kf && kf !== c.location.file && c.privateKey.location?.kind === 'pem' ? `decrypt it (${decryptKeyCommand(kf)}) and run again, or ` : '';
      results.push({ id: c.id, name: c.name, outcome: 'unsupported', message: `can't renew ${c.location.file} with its key: ${kf && kf !== c.location.file ? kf : `the private key in ${c.location.file}`} is encrypted, and Kubernetes components take no passphrase: ${decrypt}run again with --new-key for a new unencrypted key (the encrypted one is backed up)` });
      continue;
    }
    if (!c.privateKey.present && kind !== 'kubeconfig' && keyAction === 'keep' && kind !== 'ca') {
      notes.push('private key not found on this node; the certificate is renewed for the same public key');
    }

    // validity: --validity, else the cluster's kubeadm config, else the installer's, else the certificate's own
    // lifetime (certificateLifetime decides, for `check --warn N%` too); the plan says which when it is not obvious
    const life = certificateLifetime(c, signerEntry, signerEntry?.id === c.id, { configured: inv.kubeadmValidity, renewal: true, validitySeconds: opts.validitySeconds });
    const lifetime = life.seconds;
    const why = lifetimeNote(life, c.layout);
    if (why) notes.push(why);
    // once per bad field, not per certificate
    const ignored = life.ignored && `${life.ignored}; renewing with each certificate's own lifetime (or its installer's) instead — pass --validity to choose one`;
    if (ignored && !warnings.includes(ignored)) warnings.push(ignored);
    // notBefore: a renewed CA keeps its original one (leaves issued before today must stay inside the
    // CA's validity, or openssl and Go reject the chain); a leaf starts 5 minutes back for clock skew
    // between nodes (as the KCM signer does); the kubelet's own self-signed pair starts 1 hour back (as
    // the kubelet makes it). --backdate overrides.
    const backdate = opts.backdateSeconds ?? (kind === 'kubelet-serving' ? 3600 : 300);
    const nb = kind === 'ca' && opts.backdateSeconds === undefined ? Math.min(Date.parse(c.notBefore), nowMs) : nowMs - backdate * 1000;
    // (a certificate meant never to expire, notAfter 99991231235959Z, keeps that value: its own lifetime of ~8000
    // years from now would pass year 9999, which no X.509 time holds; it was written as +010000 and failed its check)
    const na = Math.min(kind === 'kubelet-serving' && opts.validitySeconds === undefined ? nb + lifetime * 1000 : nowMs + lifetime * 1000, NO_EXPIRY_MS);
    newNotAfter.set(c.id, na);
    if (signer !== 'self' && signer !== 'throwaway' && signerEntry) {
      const caNa = newNotAfter.get(signerEntry.id) ?? Date.parse(signerEntry.notAfter);
      if (na > caNa) warnings.push(`${c.name} would outlive its CA ${signerEntry.name} (${goTime(na)} > ${goTime(caNa)}); renew the CA too or pass a shorter --validity`);
    }

    // nameConstraints of the CAs above it (Go and openssl check every CA of the chain): a SAN outside them makes
    // the whole certificate invalid. An added one is refused before anything is written; a kept one was
    // already outside, and is said.
    if (signerEntry && signer !== 'self' && signer !== 'throwaway') {
      for (const ca of [signerEntry, ...ancestors(signerEntry)]) {
        const nc = nameConstraintsOf(ca);
        if (!nc) continue;
        for (const san of kind === 'ca' ? [] : addSans) {
          const v = constraintViolation(san, nc);
          if (v) {
            throw new UserError(`failed to add SAN ${sanString(san)} to ${c.name} (${c.location.file}): its CA ${ca.location.file} ${violationText(v)} (nameConstraints), so Go and openssl verify would reject the whole certificate`,
              'add only names inside the CA\'s constraints, or name the certificates to renew so this one is left out');
          }
        }
        for (const san of c.sans) {
          const v = constraintViolation(san, nc);
          if (v) warnings.push(`${c.name}: its SAN ${sanString(san)} is outside the nameConstraints of its CA ${ca.location.file} (${violationText(v)}): Go and openssl verify reject this certificate already, and the renewed one too; re-issue it without that name`);
        }
      }
    }

    if (kind === 'kubelet-client' || kind === 'kubelet-server') {
      const made = baseName(newPemOf(c, kind));
      notes.push(c.location.file.endsWith(`/${kind}-current.pem`)
        ? `new ${made}; ${kind}-current.pem, a regular file the kubelet cannot rotate, made the link to it that the kubelet's store swaps (the old file is in the backup)`
        : `new ${made}; ${kind}-current.pem swapped to it (old file kept)`);
    }
    if (isKubeletConf(c)) notes.push(`kubelet.conf embeds its client certificate: moved to ${baseName(newPemOf(c, undefined))} and kubelet.conf pointed at kubelet-client-current.pem (kubeadm's recovery)`);
    if (kind === 'kubelet-serving') notes.push('the throwaway CA of this self-signed pair (made with it by the kubelet, or kube-apiserver for its loopback) is re-made (its key was never kept); same leaf key and names');
    if (kind === 'ca') notes.push(isKubeletOwnServing(c)
      ? "the kubelet's own self-signed serving certificate (one certificate, no separate CA, as kubelets before 1.11 made it): same key and names; only this kubelet serves it and nothing else holds a copy"
      : 'same key, subject and key identifier: every certificate it signed stays valid; its copies on other nodes and in the cluster must follow (see "Outside this node")');
    if (kind === 'ca') renewedCas.add(c.id);

    // RSASSA-PSS parameters Go refuses are signed again in Go's form (pssLike in pki/sign.ts): a changed field, said
    // (the key that signs the renewal: the signer's, or a self-signed CA's own, new when it gets a new key)
    const signingEntry = signer === 'self' ? c : signerEntry;
    const newSigningKey = signer === 'self' && keyAction === 'new' ? keyType : undefined;
    const pss = c.signatureAlgorithm === 'rsassaPss' && signer !== 'throwaway' ? pssNote(c, signingEntry, newSigningKey) : undefined;
    if (pss) notes.push(pss);
    // a SHA-1 (MD5, MD2) signature is not kept: the renewal signs with the SHA-2 Go picks for the key (signatureAlgorithmFor)
    const weak = signer !== 'throwaway' && c.findings.some((f) => f.code === 'weak-signature') ? weakSignatureNote(c, signingEntry, newSigningKey) : undefined;
    if (weak) notes.push(weak);

    const { add: itemSans, already } = kind === 'ca' ? { add: [], already: [] } : sansToAdd(c, addSans);
    if (already.length) notes.push(`already has ${already.map(sanString).join(', ')}: not added again`);

    items.push({
      id: c.id, name: c.name, kind, location: c.location, subject: c.subject,
      old: { serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter },
      new: { serial: serialHex(newSerial(random)), notBefore: wholeSeconds(nb), notAfter: wholeSeconds(na) },
      key: { action: keyAction, ...(keyType ? { type: keyType } : {}), ...(c.privateKey.location ? { location: c.privateKey.location } : {}) },
      signer,
      addSans: itemSans,
      notes,
    });

    // copies of a renewed certificate (CA data in kubeconfigs, bundles) follow it; PKCS#7 bundles are read-only
    for (const loc of c.copies ?? []) {
      if (loc.kind === 'pkcs7') warnings.push(`${c.name}: its copy in ${loc.file} (a PKCS#7 bundle) is not rewritten: make the bundle again after the renewal (openssl crl2pkcs7 -nocrl -certfile …)`);
    }
    for (const loc of opts.copies?.[c.id] ?? []) {
      if (loc.kind === 'pem' && keptBackupName(loc.file)) {
        warnings.push(`${c.name}: its copy ${loc.file} is not updated: its name says it is a copy kept as a backup (the old certificate, which kubepki's own backup holds too); rename it if something reads it`);
        continue;
      }
      // (a copy in a file has its own key, beside it or the one a kubeconfig pairs with it: the new key goes there too)
      const copyKey = keyAction === 'new' && loc.kind !== 'kubeconfig' && loc.index === 0 ? c.copyKeys?.find((k) => k.file === loc.file)?.key : undefined;
      items.push({
        id: `${c.id}~copy~${loc.file}#${loc.kubeconfig ? `${loc.kubeconfig.entry}/${loc.kubeconfig.name}/` : ''}${loc.index}`,
        name: c.name, kind: 'ca-copy', location: loc, subject: c.subject,
        old: { serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter },
        key: { action: keyAction, ...(copyKey ? { location: copyKey } : {}) }, signer: 'self', addSans: [], follows: c.id,
        notes: [`copy of ${c.name} in ${loc.file}${loc.kubeconfig ? ` (${loc.kubeconfig.entry} ${loc.kubeconfig.name})` : ''} updated${keyAction === 'new' && (loc.kubeconfig?.entry === 'user' || copyKey) ? `, with the new key${copyKey && !copyKey.sameFile ? ` (${copyKey.file})` : ''}` : ''}`],
      });
    }
  }
  if (addSans.length > 0 && items.length > 0 && opts.targets === 'all') {
    warnings.push('--add-san applies to every renewed certificate; name the certificates to limit it');
  }
  // a renewed CA that ends before certificates it signed that this plan leaves alone (those it renews were
  // compared with it above): they stop verifying when it ends, long before their own notAfter
  for (const it of items) {
    if (it.kind !== 'ca' || !it.new) continue;
    const caNa = Date.parse(it.new.notAfter);
    const outliving = inv.certificates.filter((o) => o.signedBy === it.id && o.id !== it.id && !newNotAfter.has(o.id)
      && Date.parse(o.notAfter) > caNa && Date.parse(o.notAfter) > nowMs);
    if (outliving.length === 0) continue;
    const last = outliving.reduce((a, b) => (Date.parse(b.notAfter) > Date.parse(a.notAfter) ? b : a));
    warnings.push(`${it.name} renewed until ${it.new.notAfter.slice(0, 10)}, before ${outliving.length} certificate(s) it signed end (${outliving.slice(0, 3).map((o) => o.name).join(', ')}${outliving.length > 3 ? ' …' : ''}; the last on ${last.notAfter.slice(0, 10)}): from then on they no longer verify; pass a longer --validity (or renew them too)`);
  }
  // a renewed CA has a new serial number: a certificate it signed that names it by its old one (authorityKeyIdentifier
  // with issuer and serial, as openssl's authorityKeyIdentifier=keyid,issuer writes) and that this plan leaves alone
  // is not chained to it by openssl, curl or anything built on OpenSSL ("unable to get local issuer certificate");
  // Go matches the key identifier alone and still takes it
  for (const it of items) {
    if (it.kind !== 'ca' || !it.new || !it.old) continue;
    const oldSerial = it.old.serial;
    const named = inv.certificates.filter((o) => o.signedBy === it.id && o.id !== it.id && !newNotAfter.has(o.id) && authorityCertSerialOf(o) === oldSerial);
    if (named.length === 0) continue;
    const names = [...new Set(named.map((o) => o.name))];
    warnings.push(`${someNames(names)} name${names.length === 1 ? 's' : ''} ${it.name} by its serial number ${oldSerial} in ${names.length === 1 ? 'its' : 'their'} authorityKeyIdentifier: once ${it.name} has a new one, openssl verify (and curl, nginx, anything on OpenSSL) no longer finds ${names.length === 1 ? 'its' : 'their'} CA ("unable to get local issuer certificate"), though Go programs still do; renew ${names.length === 1 ? 'it' : 'them'} in the same run (kubepki renew ${it.name} ${names.join(' ')}${rootFlagOf(inv)}), which names the CA by its key identifier alone`);
  }

  // a CA of the node (not a throwaway CA bundled behind a self-signed leaf, nor the kubelet's own self-signed
  // kubelet.crt) made after this clock: the clock is most likely behind (check says so); what is renewed now
  // starts and ends counted from it
  const futureCa = inv.certificates.filter((c) => isAuthority(c) && c.location.index === 0 && c.location.kubeconfig?.entry !== 'cluster' && Date.parse(c.notBefore) > nowMs)
    .sort((a, b) => Date.parse(a.notBefore) - Date.parse(b.notBefore))[0];
  if (futureCa && items.some((it) => it.new)) {
    warnings.push(`the clock (${goTime(now)}) is before ${futureCa.name} was made (${goTime(futureCa.notBefore)}): if this clock is wrong, set it first (timedatectl; is NTP synchronised?) and renew then; what is renewed now ends counted from this clock, too early once it is right`);
  }

  // ---- files
  const files: PlanFile[] = [];
  const fileOf = (path: string, kind: PlanFile['kind'], id: string, extra: Partial<PlanFile> = {}) => {
    let f = files.find((x) => x.path === path);
    if (!f) { f = { path, kind, items: [], ...extra }; files.push(f); }
    if (!f.items.includes(id)) f.items.push(id);
  };
  // kubeconfig users whose embedded key moves out to a file (kubelet.conf → kubelet-client-current.pem)
  const movedKeys = new Set<string>();
  // (the kubelet.conf items whose pair moves out: the kubelet then reads it from kubelet-client-current.pem)
  const movedTo = new Map<string, string>();
  for (const it of items) {
    const c = byId.get(it.follows ?? it.id);
    const pair = it.kind === 'kubelet-client' || it.kind === 'kubelet-server' ? it.kind : undefined;
    if (pair || (it.kind === 'kubeconfig' && c && isKubeletConf(c))) {
      const newFile = newPemOf(c!, pair);
      const current = `${dirOf(newFile)}/${pair ?? 'kubelet-client'}-current.pem`;
      fileOf(newFile, 'kubelet-pem', it.id, { create: true, mode: 0o600 });
      fileOf(current, 'symlink', it.id, { target: newFile, ...(pair && it.location.file === current ? { replacesFile: true } : {}) });
      if (it.kind === 'kubeconfig') {
        fileOf(it.location.file, 'kubeconfig', it.id);
        if (it.location.kubeconfig) movedKeys.add(`${it.location.file}\n${it.location.kubeconfig.name}`);
        movedTo.set(it.id, current);
      }
      continue;
    }
    if (it.location.kind === 'kubeconfig') {
      fileOf(it.location.file, 'kubeconfig', it.id);
    } else {
      fileOf(it.location.file, it.location.index > 0 || it.kind === 'kubelet-serving' ? 'pem-bundle' : 'certificate', it.id);
    }
    if (it.key.action === 'new' && it.key.location && !it.key.location.sameFile) {
      fileOf(it.key.location.file, it.key.location.kind === 'kubeconfig' ? 'kubeconfig' : 'key', it.id);
    }
  }

  // a file holding a private key (a key file, a kubeconfig with client-key-data, a pem with its key) that
  // others can read is written without their bits, and the plan says so (a kubelet.conf whose only embedded
  // key moves to kubelet-client-current.pem holds none once written: it keeps its mode, as the write does)
  const holdsKey = (f: PlanFile) => f.kind === 'key'
    || (f.kind === 'kubeconfig' && inv.kubeconfigs.some((k) => k.file === f.path && k.users.some((u) => u.keyFrom === 'data' && !movedKeys.has(`${k.file}\n${u.name}`))))
    || ((f.kind === 'certificate' || f.kind === 'pem-bundle') && inv.keys.some((k) => k.kind === 'private' && k.file === f.path));
  for (const f of files) {
    const mode = f.create || f.kind === 'symlink' || !holdsKey(f) ? undefined : opts.modeOf?.(f.path);
    const m = mode === undefined ? undefined : keyModeChange(f.path, mode);
    if (m) f.keyMode = { from: m.from, to: m.to };
  }

  // ---- restarts: components that read a changed file (manifest flags, kubelet config) or the certificate
  const changed = new Set(files.map((f) => f.path));
  // a file written through a link is changed under the name components read it by too (a manifest names
  // /etc/kubernetes/pki/etcd/server.crt, the write goes to where pki/etcd points)
  for (const it of items) if (it.location.via && changed.has(it.location.file)) changed.add(it.location.via);
  const { because, need, readersOf } = restartTracker(inv, changed);
  for (const it of items) {
    if (it.follows) {
      // a copy: whoever reads the file it sits in (the other certificates of that file, e.g. a kubeconfig's
      // user or a bundle's leaf); admin.conf and super-admin.conf have no reader to restart (spec §8)
      for (const e of inv.certificates) {
        if (e.location.file === it.location.file || e.location.via === it.location.file) for (const comp of readersOf(e)) need(comp, it.location.file);
      }
      continue;
    }
    const c = byId.get(it.id);
    const moved = movedTo.get(it.id);
    if (c) for (const comp of readersOf(c)) {
      need(comp, it.location.via ?? it.location.file);
      if (moved) need(comp, moved);
    }
  }
  // (an etcd-peer that had expired: the other members' most likely did too, and no member can be healthy yet; an
  // expired etcd CA: every member's, the one copy they all share)
  const expired = (name: string) => items.some((it) => it.name === name && !it.follows && Date.parse(it.old.notAfter) < nowMs);
  const peerChange = expired('etcd-ca') ? 'ca-expired' as const : expired('etcd-peer') ? 'peer-expired' as const : undefined;
  // (read once: the etcd data's member list, for the restart caution and the other control-plane nodes' note)
  let cluster: ReturnType<NonNullable<RenewOptions['etcdCluster']>> | null = null;
  const etcdCluster = opts.etcdCluster && (() => (cluster === null ? (cluster = opts.etcdCluster!()) : cluster));
  const restarts = withEtcdCaution(restartsFrom(inv, because, changed), etcdCluster, peerChange);

  // Run as a user, renew can neither sign (the CA keys) nor write: a plan of "can't renew" lines would hide that.
  if (denied.size > 0) throw permissionDeniedError([...denied], 'renew');
  const notes = outsideNotes(inv, items, opts.copies ?? {}, nowMs);
  // (kubespray's etcd certificates: every etcd host keeps a copy of each, handed out from its first etcd host)
  const kubesprayEtcd = inv.layouts.includes('kubespray') ? kubesprayEtcdNote(inv, items, etcdCluster) : undefined;
  if (kubesprayEtcd) notes.push(kubesprayEtcd);
  const peers = otherControlPlanesNote(inv, items, etcdCluster);
  if (peers) notes.push(peers);
  return {
    apiVersion: 'kubepki.io/v1alpha1', kind: 'Plan', action: 'renew', root: inv.root, now: now.toISOString(),
    items, files, restarts, results, warnings, ...(notes.length ? { notes } : {}),
  };
}

/**
 * kubeadm's leaves and kubeconfigs are each control-plane node's own (its apiserver, etcd and kubeconfig
 * certificates, made when it joined, so about as old): renewed here, the other nodes of an HA control plane still
 * need theirs ("If you are running an HA cluster, this command needs to be executed on all the control-plane
 * nodes", kubeadm certs renew's docs). The members of this node's etcd name them.
 */
function otherControlPlanesNote(inv: Inventory, items: PlanItem[], etcdCluster: RenewOptions['etcdCluster']): PlanNote | undefined {
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  // (a CA's own item and its copies are no node's own: eachNodesOwn takes leaves only)
  const own = items.filter((it) => { const e = byId.get(it.id); return e !== undefined && eachNodesOwn(e); });
  if (own.length === 0) return undefined;
  const members = etcdCluster?.()?.members ?? [];
  const named = own.map((it) => it.name);
  const names = named.length > 3 ? 'all' : named.join(' ');
  if (members.length < 2 && inv.externalEtcd) {
    return {
      topic: 'outside-this-node', about: own[0]!.id,
      title: `${externalEtcdPeers(inv.externalEtcd)}: this renewed this node's only`,
      steps: [`on every other control-plane node, if the cluster has any: kubepki check there, then kubepki renew ${names} there (--dry-run first) and the restarts it lists, one node at a time`],
    };
  }
  if (members.length < 2) return undefined;
  const others = otherMembers(members, inv.nodeName, 'the other members\' nodes');
  return {
    topic: 'outside-this-node', about: own[0]!.id,
    title: `this node is one of ${members.length} control-plane nodes (etcd members ${listText(members)}), and kubeadm's certificates are each node's own: this renewed this node's only`,
    steps: [`on ${others}: kubepki check there, then kubepki renew ${names} there (--dry-run first) and the restarts it lists, one node at a time`],
  };
}

/** The etcd restart of a member of a multi-member etcd carries etcdQuorumCaution (renew, restore and rebuild alike). */
function withEtcdCaution(restarts: PlanRestart[], etcdCluster: RenewOptions['etcdCluster'], peers?: EtcdPeerChange): PlanRestart[] {
  // (k3s and RKE2 servers run their etcd member inside the unit: restarting k3s or rke2-server restarts it)
  const etcd = restarts.find((r) => r.component === 'etcd') ?? restarts.find((r) => r.component === 'k3s' || r.component === 'rke2-server');
  const ec = etcd ? etcdCluster?.() : undefined;
  if (!etcd || !ec || ec.members.length < 2) return restarts;
  etcd.caution = peers === 'peer-expired' ? etcdPeersExpiredCaution(ec.members, ec.healthCommand)
    : peers === 'ca-expired' ? etcdCaExpiredCaution(ec.members, ec.healthCommand)
    : peers === 'new-ca' ? etcdNewCaCaution(ec.members, ec.healthCommand)
      : peers === 'ca-changed' ? etcdCaChangedCaution(ec.members, ec.healthCommand)
        : etcdQuorumCaution(ec.members, ec.healthCommand);
  return restarts;
}

/**
 * Why this member's peers may not take its restart as a routine one: its peer certificate had expired, this run
 * makes a new etcd CA (rebuild --new-ca etcd-ca), or its peer certificate is re-signed by an etcd CA other than the
 * one etcd trusted when it started (the new CA brought here with ca import).
 */
export type EtcdPeerChange = 'peer-expired' | 'ca-expired' | 'new-ca' | 'ca-changed';

/**
 * An expired etcd CA is every member's (the one copy they share): each refuses the others' peer certificates
 * ("x509: certificate has expired"), and etcd builds its trusted pool only at start (see etcdNewCaCaution), so a
 * member with the renewed CA is healthy only once a majority run with it: waiting for every member between nodes
 * would never end after the first.
 */
export function etcdCaExpiredCaution(members: string[], healthCommand: string): string {
  return `this etcd is one of ${members.length} members (${members.join(', ')}) and its CA had expired: while their copy of it is expired the members refuse each other's peer certificates, and etcd reads its CA file only when it starts, so no member turns healthy until a majority run with the renewed CA; restart etcd here now, then on each other member's node bring the renewed CA (see "Outside this node") and restart etcd there at once, without waiting for every member to be healthy between nodes; etcd is healthy again once a majority have it (${healthCommand})`;
}

/**
 * etcd re-reads its own pair at each handshake but builds its trusted CA pool once, at start (pkg/transport
 * TLSInfo.ServerConfig / ClientConfig), and members refuse peers whose certificate their pool does not verify
 * ("x509: certificate signed by unknown authority"). So a member whose pair a new etcd CA signed is cut off from
 * the others as soon as the files are written, until it restarts and enough of the others have the new CA too;
 * the member that turns the majority to the new CA stops the cluster between its rebuild and its restart. Waiting
 * for every member to be healthy between nodes would never end (test/ha-openssl.test.ts shows it with a real etcd).
 */
export function etcdNewCaCaution(members: string[], healthCommand: string): string {
  return `this etcd is one of ${members.length} members (${members.join(', ')}) and its CA is new: etcd reads its trusted CA file only when it starts and refuses peers signed by a CA it does not trust, so this member is cut off from the others from now until more of them have the new CA; restart etcd here now, then on each other member's node in turn bring this CA, rebuild and restart etcd there at once (between the two that member is cut off from both sides, and while the member that makes the majority is, etcd has no quorum and every API server stops); do not wait for every member to be healthy between nodes: that holds only once all have the new CA (${healthCommand})`;
}

/** The members that follow a new etcd CA (etcdNewCaCaution): a member re-signed by it is cut off until it restarts. */
export function etcdCaChangedCaution(members: string[], healthCommand: string): string {
  return `this etcd is one of ${members.length} members (${members.join(', ')}) and its peer certificate is now signed by another etcd CA than the one it trusted when it started: restart etcd here at once (until then this member is cut off from every other member), then the next member's node the same way; members still on the old CA refuse it until they have the new one too, so every member is healthy only once all have it (${healthCommand})`;
}

/**
 * The one-at-a-time advice assumes a healthy cluster. With this member's peer certificate expired, the others'
 * (kubeadm made them minutes or days apart) most likely are too: every member refuses the others' peer handshakes
 * ("tls: failed to verify client certificate: x509: certificate has expired"), so there is no quorum and no member
 * turns healthy until a majority hold a valid peer pair; waiting for "every member healthy" after this node would
 * never end. etcd (3.2+) loads its peer pair anew at each handshake (pkg/transport TLSInfo's GetCertificate and
 * GetClientCertificate read the files; etcd's "TLS reload" integration tests), so renewing the files on every member
 * is what brings the quorum back, no restart needed (test/ha-openssl.test.ts shows it with a real 3-member etcd).
 */
export function etcdPeersExpiredCaution(members: string[], healthCommand: string): string {
  return `this etcd is one of ${members.length} members (${members.join(', ')}) and its peer certificate had expired: if the other members' have too (kubeadm makes them within days of each other; kubepki check there says), they refuse each other's peer connections and no member turns healthy until a majority hold a valid one, so do not wait for every member to be healthy between nodes: renew etcd-peer on every member's node first (etcd reads its peer pair anew at each connection, so the members reconnect without a restart), then check that every member is healthy (${healthCommand}), and only then restart etcd on one member's node at a time`;
}

/**
 * etcd keeps working while a majority of its members is up: restarting it on several control-plane nodes at
 * once (a loop, an ansible run over every node) stops the cluster. https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance
 */
export function etcdQuorumCaution(members: string[], healthCommand: string): string {
  const n = members.length;
  const tolerated = Math.floor((n - 1) / 2);
  // (two members need both for a quorum: one at a time is all there is, and even that one stops the cluster a moment)
  if (tolerated === 0) return `this etcd is one of ${n} members (${members.join(', ')}): two members tolerate none down, so while this one restarts etcd has no quorum and every API server stops until it is back; restart etcd on one member's node at a time, and before the next node wait until every member is healthy (${healthCommand})`;
  return `this etcd is one of ${n} members (${members.join(', ')}): restart etcd on one member's node at a time, and before the next node wait until every member is healthy (${healthCommand}); with etcd down on more than ${tolerated} of ${n} at once the cluster loses quorum and every API server stops`;
}

/**
 * A renewed CA (same key) reaches only this node's copies. Every other copy — other control-plane
 * nodes, workers' ca.crt and kubelet.conf, kube-public/cluster-info, kube-root-ca.crt ConfigMaps,
 * users' kubeconfigs — keeps the old certificate, and Go clients reject an expired trust anchor.
 * Say where those copies are and how to reach them.
 */
function outsideNotes(inv: Inventory, items: PlanItem[], copies: Record<string, CertLocation[]>, nowMs: number): PlanNote[] {
  const notes: PlanNote[] = [];
  for (const it of items) {
    const entry = inv.certificates.find((c) => c.id === it.id);
    if (it.kind !== 'ca' || it.signer !== 'self' || isKubeletOwnServing(entry)) continue;
    const file = it.location.file;
    const old = Date.parse(it.old.notAfter);
    const when = `${old < nowMs ? 'expired on' : 'expires on'} ${goTime(it.old.notAfter)}`;
    const title = `${it.name} was renewed on this node only: every other copy keeps the old certificate (${when})${old < nowMs ? ', and Go clients (kubelet, kubectl, controllers) reject an expired trust anchor' : ''}`;
    const clusterNames = [...new Set((copies[it.id] ?? []).filter((l) => l.kubeconfig?.entry === 'cluster').map((l) => l.kubeconfig!.name))];
    const cluster = clusterNames[0] ?? 'kubernetes';
    const setCluster = (name: string, kubeconfig: string, caFile = file) => `kubectl config set-cluster ${name} --certificate-authority=${caFile} --embed-certs=true --kubeconfig ${kubeconfig}`;
    const unchangedHash = `the discovery hash is unchanged (same key): --discovery-token-ca-cert-hash sha256:${byIdSpki(inv, it.id)} still pins it`;
    // (` --root R` for what runs here, on this tree; nothing for the other nodes')
    const here = rootFlagOf(inv);
    const exportImport = `here \`kubepki ca export --out ca-shared.yaml${here}\`, there \`kubepki ca import ca-shared.yaml --certificate-key KEY --force\` (the keys are the same, so only the CA certificates are replaced; the old files are backed up)`;
    const steps: string[] = [];
    // kubeadm's steps (ca export/import, kubelet.conf, cluster-info, the discovery hash) are for a CA kubeadm made:
    // the hard way's /var/lib/kubernetes/ca.crt is named ca too, on nodes with no kubeadm, kubelet.conf or cluster-info
    const layout = entry?.layout;
    const byKubeadm = layout === 'kubeadm' || layout === 'kubespray';
    const kubeadmCa = (n: string) => byKubeadm && (it.name === n || file.endsWith(`/pki/${n === 'etcd-ca' ? 'etcd/ca' : n}.crt`));
    if (layout === 'hardway') {
      // (docs 05 and 09 of the 2024 edition: each worker keeps the CA as /var/lib/kubelet/ca.crt, the cfssl editions
      // as /var/lib/kubernetes/ca.pem as the controllers do; every kubeconfig embeds it (set-cluster --embed-certs))
      const workerCa = file.endsWith('.pem') ? file : '/var/lib/kubelet/ca.crt';
      steps.push(
        `every worker: copy the renewed ${file} to ${workerCa} there, put it into the CA data of its kubeconfigs (${setCluster(cluster, 'F', workerCa)} for F in /var/lib/kubelet/kubeconfig, /var/lib/kube-proxy/kubeconfig), then \`systemctl restart kubelet kube-proxy\``,
        `other controllers: copy it to ${file} there, put it into the CA data of /var/lib/kubernetes/kube-controller-manager.kubeconfig and /var/lib/kubernetes/kube-scheduler.kubeconfig (${setCluster(cluster, 'F')}), then \`systemctl restart kube-apiserver kube-controller-manager kube-scheduler\``,
        'the kube-root-ca.crt ConfigMap in every namespace (what pods trust): kube-controller-manager republishes it from --root-ca-file once restarted (see the restarts); pods see the mounted file change without a restart',
        `the jumpbox, where the certificates were made (its CA beside ca.conf, or ca-config.json in the cfssl editions), and the kubeconfigs made there or handed out (admin.kubeconfig, ~/.kube/config): copy the renewed file over that CA and replace certificate-authority-data: ${setCluster(cluster, 'KUBECONFIG')}`,
      );
    } else if (kubeadmCa('ca')) {
      steps.push(
        // (kubeadm join --control-plane writes no super-admin.conf, and the kubelet's TLS bootstrap writes kubelet.conf
        // with its cluster named default-cluster, spec §2.2: set-cluster would create the one and miss the other)
        `other control-plane nodes: ${exportImport}, or copy ${file}; then on each: ${setCluster(cluster, 'F')} for F in admin.conf, controller-manager.conf, scheduler.conf under /etc/kubernetes (and super-admin.conf on the node that ran kubeadm init: the others have none, and kubectl would create one); on a node that joined, ${setCluster('default-cluster', '/etc/kubernetes/kubelet.conf')} (the kubelet wrote it with its cluster named default-cluster; on the kubeadm init node the cluster is ${cluster}); and restart kube-apiserver, kube-controller-manager, kube-scheduler and the kubelet there as listed above`,
        // (kubeadm join writes the CA to the cluster's certificatesDir, this node's, and the kubelet config names it there)
        `every worker: copy this node's ${file} to ${file} there, put it into the CA data of its kubelet.conf (${setCluster('default-cluster', '/etc/kubernetes/kubelet.conf', file)}; a worker's cluster is named default-cluster), then \`systemctl restart kubelet\`; or, on this node, \`kubepki kubelet credentials --node NAME --out DIR${here}\` writes both (and a new kubelet client certificate) for copying to that worker`,
        `kube-public/cluster-info (what \`kubeadm join\` trusts): \`kubepki cluster-info update${here}\``,
        'the kube-root-ca.crt ConfigMap in every namespace (what pods trust): kube-controller-manager republishes it from --root-ca-file once restarted (see the restarts); pods see the mounted file change without a restart',
        `users' kubeconfigs (~/.kube/config, CI secrets, kubeconfigs handed out from admin.conf): replace certificate-authority-data: ${setCluster(cluster, '~/.kube/config')} (after copying ${file} there)`,
        unchangedHash,
      );
    } else if (kubeadmCa('etcd-ca')) {
      steps.push(
        `other control-plane nodes (etcd members, and every kube-apiserver talking to etcd): ${exportImport}, or copy ${file}; then restart etcd and kube-apiserver there`,
        'etcd clients elsewhere (backup jobs, etcdctl on other hosts, an external etcd\'s members): give them the new etcd CA certificate',
      );
    } else if (kubeadmCa('front-proxy-ca')) {
      steps.push(
        `other control-plane nodes: ${exportImport}, or copy ${file}; then restart kube-apiserver and kube-controller-manager there`,
        'the extension-apiserver-authentication ConfigMap in kube-system (what aggregated API servers such as metrics-server trust for requestheader): kube-apiserver republishes requestheader-client-ca-file once restarted',
      );
    } else {
      steps.push(`every other node holding a copy of ${file}: copy the renewed file there (same key: everything it signed stays valid) and restart what reads it there`);
      // kubeconfigs and kube-root-ca.crt hold the CA API clients trust: an etcd CA (kubespray's /etc/ssl/etcd/ssl/ca.pem)
      // is in none of them, and putting it in a kubeconfig as its cluster CA breaks that kubeconfig
      const apiTrust = clusterNames.length > 0
        || inv.kubeconfigs.some((k) => k.clusters.some((cl) => cl.caFile !== undefined && (cl.caFile === file || cl.caFile === it.location.via)));
      // (a node with no kubeconfig at all cannot tell: its CA may well be the cluster's)
      if (apiTrust || (inv.kubeconfigs.length === 0 && !entry?.components.includes('etcd'))) {
        steps.push(
          `kubeconfigs elsewhere that embed it (users' ~/.kube/config, ${inv.layouts.includes('rke1') ? 'kube_config_<cluster>.yml on the workstation that ran rke, ' : ''}CI secrets): replace certificate-authority-data: ${setCluster(cluster, 'KUBECONFIG')}`,
        );
        // kube-controller-manager's root-ca-cert-publisher writes kube-root-ca.crt from its --root-ca-file; cluster-info
        // (kube-public) is kubeadm's, made by `kubeadm init` and never republished from a file: RKE1, RKE2 and k3s have none
        steps.push('the kube-root-ca.crt ConfigMap in every namespace (what pods trust): kube-controller-manager republishes it from --root-ca-file once restarted with the new file; pods see the mounted file change without a restart');
        if (inv.layouts.includes('kubeadm') || inv.layouts.includes('kubespray')) steps.push(`kube-public/cluster-info (what \`kubeadm join\` trusts), if this CA is the one it holds: \`kubepki cluster-info update${here}\``);
      } else if (entry?.components.includes('etcd')) {
        steps.push('etcd clients elsewhere (the kube-apiserver of every control-plane node, backup jobs, etcdctl on other hosts): give them the renewed CA certificate and restart what reads it; no kubeconfig holds it');
      } else {
        // (RKE1's kube-apiserver-requestheader-ca: kube-apiserver's --requestheader-client-ca-file, which it
        // publishes for aggregated API servers, as kubeadm's front-proxy-ca)
        const requestheader = entry?.components.includes('kube-apiserver') ? ' (aggregated API servers such as metrics-server read a requestheader CA from the extension-apiserver-authentication ConfigMap in kube-system, which kube-apiserver republishes once restarted)' : '';
        steps.push(`what trusts it elsewhere${requestheader}: give it the renewed certificate; no kubeconfig on this node trusts it, so kubeconfigs keep their CA`);
      }
      if (inv.layouts.includes('rke1')) steps.push('RKE1 keeps the full certificate state in cluster.rkestate beside cluster.yml on the workstation that runs rke: put the renewed certificate there too (certificatesBundle → ' + it.name + ' → certificatePEM), or the next `rke up` deploys the old one again');
    }
    notes.push({ topic: 'outside-this-node', about: it.id, title, steps });
  }
  // RKE1 deploys every certificate from cluster.rkestate: renewed leaves that are not put there come back
  // old with the next `rke up`, and the other nodes of the same role hold the same files
  const rkeLeaves = items.filter((it) => it.kind !== 'ca' && it.kind !== 'ca-copy' && it.location.kind !== 'kubeconfig' && inv.certificates.find((c) => c.id === it.id)?.layout === 'rke1');
  if (rkeLeaves.length > 0) {
    notes.push({
      topic: 'outside-this-node', about: rkeLeaves[0]!.id,
      title: `RKE1 keeps every certificate in cluster.rkestate: the ${rkeLeaves.length} renewed here change on this node only`,
      steps: [
        `cluster.rkestate (beside cluster.yml on the workstation that runs rke): put each renewed certificate there (certificatesBundle → NAME → certificatePEM, for ${rkeLeaves.map((i) => i.name).join(', ')}), or the next \`rke up\` deploys the old ones again; \`rke cert rotate\` from that workstation renews them there and on every node instead`,
        'the other nodes of the same role (controlplane, etcd) hold the same files in /etc/kubernetes/ssl: copy the renewed ones there and restart the containers that read them',
      ],
    });
  }
  return notes;
}

/**
 * What to do about a certificate kept in a Kubernetes object's manifest: kubepki rewrites certificate files,
 * not objects. k3s and RKE2 cache their listener's serving certificate (the kube-system/<distro>-serving
 * Secret) in server/tls/dynamic-cert.json and re-issue it themselves within 120 days of its end (90 before May
 * 2025, rancherReissues); `certificate rotate` marks it for re-issue at the next start.
 */
function manifestAdvice(c: CertEntry, inv: Inventory): string {
  const file = c.location.file;
  const rancher = rancherUnit(inv);
  if (rancher && file === `/var/lib/rancher/${rancher.distro}/server/tls/dynamic-cert.json`) {
    return `${file} is ${rancher.distro}'s copy of its listener's serving certificate (${c.location.manifest}), which ${rancherReissues(rancher.distro, 'itself when it is', ' of its end')}; to re-issue it now, as ${rancher.distro}'s docs say: systemctl stop ${rancher.unit}; ${rancher.distro} certificate rotate; systemctl start ${rancher.unit}`;
  }
  return `${file} is a manifest of ${c.location.manifest}: kubepki rewrites certificate files, not Kubernetes objects; renew the certificate where it is issued, put it in the object's data and apply it (kubectl apply -f ${file})`;
}

function restoreCaAdvice(inv: Inventory): string {
  const r = rootFlagOf(inv);
  return `restore it from a backup (\`kubepki backups${r}\`, \`kubepki restore NAME${r}\`), copy it from another control-plane node (\`kubepki ca export --out F\` there, \`kubepki ca import F --certificate-key KEY${r}\` here) or re-create the control plane with \`kubepki rebuild${r}\``;
}

/** What to do about a kubelet client certificate whose CA key is not on this node (a worker). */
function kubeletAdvice(c: CertEntry, inv: Inventory, nowMs: number): string {
  const until = goTime(c.notAfter);
  // (check's finding for the same certificate gives the same fix: a bootstrap-kubelet.conf that is here first)
  const fix = kubeletClientFix(inv, rootFlagOf(inv));
  const off = c.findings.find((f) => f.code === 'kubelet-rotation-off');
  if (off) {
    return `The kubelet does not renew it (client certificate rotation is off, ${off.file ?? 'in its config'}): turn it on (rotateCertificates: true in its config, no --rotate-certificates=false in its unit) and restart the kubelet while it is valid (until ${until}), or ${fix}`;
  }
  // (the kubelet rotates into kubelet-client-current.pem, never into the copy kubelet.conf embeds)
  if (isKubeletConf(c) && c.location.kubeconfig) return `${embeddedKubeletConfText(c.location.file, c.location.kubeconfig.name, c.notAfter, inv.certificates, nowMs, false)}.`;
  return Date.parse(c.notAfter) > nowMs
    ? `The kubelet renews this certificate itself while it is valid (until ${until}; rotateCertificates, approved by kube-controller-manager); nothing to do here. Should it expire: ${fix}`
    : `It expired on ${until}, so the kubelet can no longer renew it itself: ${fix}`;
}

/**
 * Where the signed certificate for a CSR goes, and what the CA must add: the CSR carries the subject and
 * SANs (kubeadm's generate-csr: no usages; ours also requests them, but a CA applies its own profile).
 */
function installAdvice(c: CertEntry, inv: Inventory): string[] {
  const out: string[] = [];
  const loc = c.location;
  if (loc.kind === 'kubeconfig' && loc.kubeconfig) {
    const user = loc.kubeconfig.name;
    out.push(`put the signed certificate base64-encoded into client-certificate-data of user ${user} in ${loc.file} (its client-key-data is kept and is the CSR's key): kubectl config set-credentials ${user} --client-certificate=SIGNED.crt --embed-certs=true --kubeconfig ${loc.file}`);
  } else {
    const others = inv.certificates.filter((o) => o !== c && o.location.file === loc.file && o.location.kind === loc.kind).length;
    const key = c.privateKey.location;
    const keyText = !key ? '' : key.sameFile || key.file === loc.file ? ' (the key in that file is kept and is the CSR\'s key)' : `, next to its kept key ${key.file} (the CSR's key)`;
    out.push(`put the signed certificate (PEM${loc.kind === 'der' ? ', converted to DER: openssl x509 -outform der' : ''}) at ${loc.file}${others > 0 ? ` in place of certificate ${loc.index + 1} (keep the other ${others} as they are)` : ''}${keyText}`);
  }
  const usages = [
    c.keyUsage.length ? `key usage ${c.keyUsage.join(', ')}` : '',
    c.extKeyUsage.length ? `extended key usage ${c.extKeyUsage.join(', ')}` : '',
    c.isCA ? 'CA:TRUE' : 'CA:FALSE',
  ].filter(Boolean).join('; ');
  out.push(`the CSR carries the subject and SANs (it also asks for the usages, but a CA applies its own profile, as with \`kubeadm certs generate-csr\`): make sure the CA signs it with ${usages}`);
  // how each reader restarts on this node (RKE1: docker restart kubelet; a static pod: its manifest out and back)
  const restarts = restartsForFiles(inv, [loc.file, ...(loc.via ? [loc.via] : [])]);
  const how = (r: PlanRestart) => (r.how === 'static-pod' ? `${r.component} (move ${r.manifest ?? 'its manifest'} out of the manifest directory and back)` : r.how === 'none' ? r.component : `${r.component} (${r.command})`);
  const readers = restarts.length ? restarts.map(how) : c.components;
  // the check that shows it: on this tree, and told about a file no layout reads (a --file, a --path)
  const rootFlag = rootFlagOf(inv);
  const extra = c.layout !== 'generic' ? '' : loc.kind === 'kubeconfig' ? ` --kubeconfig ${loc.file}` : ` --path ${loc.file}`;
  out.push(`then \`kubepki check${rootFlag}${extra}\` shows it renewed${readers.length ? `; restart what reads it: ${readers.join(', ')}` : ''}`);
  return out;
}

function byIdSpki(inv: Inventory, id: string): string {
  return inv.certificates.find((c) => c.id === id)?.spkiSha256 ?? '<unchanged>';
}

/**
 * How to restart each component that reads a changed file, as the layout runs it (spec §8, §9): static
 * pods by moving their manifest, the kubelet with systemd, RKE1 containers with docker, k3s/RKE2 through
 * their unit. `because`: component → the changed files it reads.
 */
export function restartsFrom(inv: Inventory, because: Map<string, Set<string>>, changed: Set<string>): PlanRestart[] {
  const need = (component: string, file: string) => {
    if (!because.has(component)) because.set(component, new Set());
    because.get(component)!.add(file);
  };
  // endpoints whose served certificate proves the restart took (kubeadm defaults, spec §8; RKE2/k3s §9.2)
  const SERVED: Record<string, { port: number; file: RegExp }> = {
    'kube-apiserver': { port: 6443, file: /(\/pki\/apiserver\.crt|\/server\/tls\/serving-kube-apiserver\.crt|^\/var\/lib\/k0s\/pki\/server\.crt)$/ },
    etcd: { port: 2379, file: /\/pki\/etcd\/server\.crt$/ },
    kubelet: { port: 10250, file: /(\/kubelet\.crt|\/agent\/serving-kubelet\.crt)$/ },
  };
  // or the file its serving flag names, wherever the layout keeps it (kubespray's /etc/kubernetes/ssl, the hard
  // way's kube-api-server.crt, etcd's --cert-file or ETCD_CERT_FILE under systemd)
  const SERVING_VIA = new Set(['--tls-cert-file', 'tlsCertFile', 'default self-signed serving pair', '--cert-file', 'ETCD_CERT_FILE', 'client-transport-security.cert-file']);
  // A component whose flags name what it serves is checked on that file only; one read by other references
  // only on a file matching kubeadm's paths that it reads (a leftover kubelet.crt beside serverTLSBootstrap is
  // not served); one with no references at all (k3s runs without them) on kubeadm's paths.
  const endpointOf = (component: string): PlanRestart['endpoint'] => {
    const s = SERVED[component];
    if (!s) return undefined;
    const refs = inv.components.filter((r) => r.component === component && !(r.through && changed.has(r.through)));
    const serving = new Set(refs.filter((r) => SERVING_VIA.has(r.via)).map((r) => r.file));
    const reads = new Set(refs.map((r) => r.file));
    const f = [...changed].find((p) => (serving.size > 0 ? serving.has(p) : s.file.test(p) && (refs.length === 0 || reads.has(p))));
    // (kube-apiserver on another --secure-port is probed there)
    const port = component === 'kube-apiserver' && inv.apiserverPort ? inv.apiserverPort : s.port;
    return f ? { host: '127.0.0.1', port, certFile: f } : undefined;
  };

  // How each component runs depends on the layout (spec §9): kubeadm runs the control plane as static pods
  // and the kubelet under systemd; RKE1 runs every component, the kubelet included, as a docker container
  // named after it; k3s runs them all inside one systemd unit (`k3s` on a server, `k3s-agent` on an agent);
  // RKE2 runs the kubelet inside `rke2-server`/`rke2-agent` and the rest as static pods that the unit writes
  // when it starts, each with a FILE_HASH of the files its flags name (rancher/rke2 pkg/staticpod): restarting
  // the unit restarts every pod whose certificates changed, as after `rke2 certificate rotate`. Moving those
  // manifests out and back as well restarted each pod twice, and a manifest put back after the unit rewrote it
  // carried the old hash.
  const rancherNode = rancherUnit(inv);
  const rancher = rancherNode?.distro;
  const rancherUnitName = rancherNode?.unit;
  // (kops names its static pods <component>.manifest: the kubelet reads every file of the directory)
  const manifestOf = (component: string) => inv.components.find((r) => r.component === component && /\/(manifests|pod-manifests)\/[^/]+\.(ya?ml|manifest)$/.test(r.source))?.source;
  const unitWrites = (manifest: string | undefined) => !manifest || rancher === 'k3s' || manifest.startsWith(`/var/lib/rancher/${rancher}/agent/pod-manifests/`);
  if (rancher && rancherUnitName) {
    // the service reads its own certificates (supervisor, embedded components): a changed file in its data
    // directory that no pod of another's making reads restarts the unit
    const attributed = new Set([...because].filter(([component]) => !unitWrites(manifestOf(component))).flatMap(([, f]) => [...f]));
    for (const f of changed) if (f.startsWith(`/var/lib/rancher/${rancher}/`) && !attributed.has(f)) need(rancherUnitName, f);
  }
  // k0s supervises every control-plane component (etcd, kine, konnectivity and its own API too) from its one unit,
  // which reads its pki directory, and writes its kubeconfigs from it, when it starts; its kubelet, which reads
  // kubelet.conf and its rotated pair, runs in the worker's unit, or in the controller's with --enable-worker
  // (k0scontroller and k0sworker: the units `k0s install controller` and `k0s install worker` write).
  // MicroK8s runs its components as snap services, systemd units snap.microk8s.daemon-<name>: kube-apiserver and the
  // rest in kubelite (utils.sh restart_service), the cluster agent and dqlite (k8s-dqlite) on their own; refresh_certs.py
  // restarts kubelite and cluster-agent by those names. Its other files (credentials/*.config) kubelite's components read.
  const k0s = inv.layouts.includes('k0s');
  const k0sDir = inv.k0sDataDir ?? K0S_DATA_DIR;
  // (a worker's pki/ holds ca.crt too, from its join token: the controller is known by the cluster CA's key, k0sKubelet)
  const k0sKubelet = k0sKubeletOf(inv)?.unit ?? 'k0sworker';
  // (kubelet.conf in the data directory, its rotated pair under the kubelet's root dir: --kubelet-root-dir, when given)
  const k0sKubeletDir = inv.k0sKubeletRootDir ?? `${k0sDir}/kubelet`;
  if (k0s) {
    for (const f of changed) {
      if (f.startsWith(`${k0sDir}/pki/`)) need('k0scontroller', f);
      else if (f.startsWith(`${k0sDir}/kubelet`) || f.startsWith(`${k0sKubeletDir}/`)) need(k0sKubelet, f);
    }
  }
  const microk8s = inv.layouts.includes('microk8s');
  if (microk8s) {
    const read = new Set([...because.values()].flatMap((f) => [...f]));
    for (const f of changed) if (f.startsWith('/var/snap/microk8s/') && !read.has(f)) need('kubelite', f);
  }
  const rke1 = inv.layouts.includes('rke1');
  const restarts: PlanRestart[] = [];
  const byUnit = new Map<string, PlanRestart>();
  const viaUnit = (unit: string, list: string[]) => {
    const r = byUnit.get(unit);
    if (r) { r.because = [...new Set([...r.because, ...list])].sort(); return; }
    const endpoint = endpointOf('kube-apiserver') ?? endpointOf('kubelet');
    const made: PlanRestart = { component: unit, how: 'systemd', unit, because: list, command: `systemctl restart ${unit}`, ...(endpoint ? { endpoint } : {}) };
    byUnit.set(unit, made);
    restarts.push(made);
  };
  for (const [component, files_] of [...because].sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = manifestOf(component);
    const unit = inv.components.find((r) => r.component === component && r.unit)?.unit;
    const list = [...files_].sort();
    const endpoint = endpointOf(component);
    if (rancher && rancherUnitName && (component === rancherUnitName || component === 'kubelet' || unitWrites(manifest))) {
      viaUnit(rancherUnitName, list);
    } else if (k0s && !manifest) {
      viaUnit(component === 'kubelet' || component === 'k0sworker' ? k0sKubelet : 'k0scontroller', list);
    } else if (microk8s && !manifest && component !== 'kubelet') {
      viaUnit(`snap.microk8s.daemon-${component === 'cluster-agent' || component === 'k8s-dqlite' ? component : 'kubelite'}`, list);
    } else if (manifest) {
      const parked = `${dirOf(dirOf(manifest))}/${manifest.slice(manifest.lastIndexOf('/') + 1)}.kubepki-parked`;
      restarts.push({ component, how: 'static-pod', manifest, because: list, command: parkCommand(manifest, parked, component), ...(endpoint ? { endpoint } : {}) });
    } else if (rke1) {
      restarts.push({ component, how: 'docker', container: component, because: list, command: `docker restart ${component}`, ...(endpoint ? { endpoint } : {}) });
    } else if (unit) {
      restarts.push({ component, how: 'systemd', unit, because: list, command: `systemctl restart ${unit}`, ...(endpoint ? { endpoint } : {}) });
    } else if (component === 'kubelet') {
      restarts.push({ component, how: 'systemd', unit: 'kubelet', because: list, command: 'systemctl restart kubelet', ...(endpoint ? { endpoint } : {}) });
    } else {
      restarts.push({ component, how: 'none', because: list, command: `restart ${component}` });
    }
  }
  restarts.sort((a, b) => a.component.localeCompare(b.component));
  return restarts;
}

/**
 * The shell command that restarts a static pod, as carryOutRestarts does it: move its manifest out of the
 * manifests directory, wait longer than the kubelet's 20 s fileCheckFrequency and until crictl lists no container
 * of that name (without crictl, the wait alone), then move it back, whatever the wait did. Pasted into sh or bash
 * on the node it runs as is (kubepki used to print a "(wait until … is empty, ≥20s)" that the shell ran as
 * `wait`, which failed and left the manifest parked: the component stayed down).
 */
export function parkCommand(manifest: string, parked: string, component: string): string {
  return `mv ${manifest} ${parked} && { sleep 25; while [ -n "$(crictl ps --name '^${component}$' -q 2>/dev/null)" ]; do sleep 2; done; mv ${parked} ${manifest}; }`;
}

/**
 * The restarts for a set of changed node files whatever changed them (`restore`): every component whose
 * flags or config name one of the files, and the readers of every certificate stored in one.
 */
export function restartsForFiles(inv: Inventory, files: string[], etcdCluster?: RenewOptions['etcdCluster'], peers?: EtcdPeerChange): PlanRestart[] {
  const changed = new Set(files);
  const { because, need, readersOf } = restartTracker(inv, changed);
  for (const c of inv.certificates) {
    const keyFile = c.privateKey.location ? [c.privateKey.location.file] : [];
    const hit = [c.location.file, ...(c.location.via ? [c.location.via] : []), ...keyFile].find((f) => changed.has(f));
    if (hit) for (const comp of readersOf(c, keyFile)) need(comp, hit);
  }
  return withEtcdCaution(restartsFrom(inv, because, changed), etcdCluster, peers);
}

/**
 * Who must restart for which changed files, shared by renew and restore. Each changed file is attributed
 * only to the components that read THAT file: the flag/config references naming it, and the readers of a
 * certificate stored in it. A CertEntry's `components` also counts the readers of its copies (ca.crt lists
 * kube-scheduler because scheduler.conf embeds it), so a component named by a reference is kept for a
 * certificate only when one of its references names one of that certificate's own files; components known
 * from the layout's profile alone (RKE1 runs without manifests) are kept.
 */
function restartTracker(inv: Inventory, changed: Set<string>) {
  const because = new Map<string, Set<string>>();
  const need = (component: string, file: string) => {
    if (!because.has(component)) because.set(component, new Set());
    because.get(component)!.add(file);
  };
  // (a file changed under the name the component gives it is said once, under that name)
  for (const ref of inv.components) if (changed.has(ref.file) && !(ref.through && changed.has(ref.through))) need(ref.component, ref.file);
  const refFiles = new Map<string, Set<string>>();
  for (const ref of inv.components) {
    if (!refFiles.has(ref.component)) refFiles.set(ref.component, new Set());
    refFiles.get(ref.component)!.add(ref.file);
  }
  const readersOf = (c: CertEntry, extraFiles: string[] = []): string[] => {
    const own = [c.location.file, ...(c.location.via ? [c.location.via] : []), ...extraFiles];
    return c.components.filter((comp) => {
      const named = refFiles.get(comp);
      return !named || own.some((f) => named.has(f));
    });
  };
  return { because, need, readersOf };
}

/**
 * What signing C again with SIGNER's key (or, for a CA renewed with a new key, a new key of NEWKEY's type)
 * changes of its RSASSA-PSS parameters, if anything (see pssChange). Unreadable: nothing said.
 */
function pssNote(c: CertEntry, signer: CertEntry | undefined, newKey: KeyType | undefined): string | undefined {
  try {
    const cert = certOfEntry(c);
    if (!cert) return undefined;
    let key: Parameters<typeof pssChange>[1] | undefined;
    // (a new key that is no RSA key signs no RSASSA-PSS at all: the key's own note says that change)
    if (newKey) key = newKey.startsWith('rsa') ? { asymmetricKeyType: 'rsa', asymmetricKeyDetails: {} } : undefined;
    else key = signer && certOfEntry(signer)?.publicKey();
    return key && pssChange(cert.signatureAlgorithmRaw, key);
  } catch {
    return undefined;
  }
}

/**
 * What signing C again does to its weak signature (the weak-signature finding: SHA-1, MD5, MD2, which Go refuses):
 * the algorithm the signer's key signs with instead. Unreadable: nothing said.
 */
function weakSignatureNote(c: CertEntry, signer: CertEntry | undefined, newKey: KeyType | undefined): string | undefined {
  try {
    // (a CA given a new key signs with that key's algorithm: its type is all the note can say)
    if (newKey) return `signature ${c.signatureAlgorithm} → the SHA-2 algorithm Go uses for its new ${newKey} key (Go refuses SHA-1 and MD5 certificate signatures)`;
    const sc = signer && certOfEntry(signer);
    if (!sc) return undefined;
    return `signature ${c.signatureAlgorithm} → ${signatureAlgorithmFor(sc.publicKey()).name} (Go refuses SHA-1 and MD5 certificate signatures)`;
  } catch {
    return undefined;
  }
}

/** The certificate of an inventory entry, parsed from its PEM (undefined without one; damage throws). */
function certOfEntry(e: CertEntry): Certificate | undefined {
  const der = parsePemBlocks(e.pem).find((b) => b.label === 'CERTIFICATE')?.der;
  return der && new Certificate(der);
}

/** The CA serial number a certificate's authorityKeyIdentifier names, if any (an unreadable one: none). */
function authorityCertSerialOf(c: CertEntry): string | undefined {
  try {
    return certOfEntry(c)?.authorityCertSerial;
  } catch {
    return undefined;
  }
}

/** The nameConstraints a CA certificate carries, if any (an unreadable extension: none we can match). */
function nameConstraintsOf(ca: CertEntry): NameConstraints | undefined {
  if (!ca.isCA) return undefined;
  let der: Uint8Array | undefined;
  try { der = parsePemBlocks(ca.pem).find((b) => b.label === 'CERTIFICATE')?.der; } catch { return undefined; }
  const ext = der && new Certificate(der).extension(NAME_CONSTRAINTS_OID);
  return ext ? parseNameConstraints(ext.value) : undefined;
}

/**
 * `renew ca --new-key` keeps the CA's key (renew re-signs one certificate at a time; a new CA key must take every
 * certificate it signed and every copy of it along); the note names the command that does: on a kubeadm node,
 * `kubepki rebuild --new-ca NAME` replaces the CA and everything on the node it signed or that embeds it in one
 * backed-up transaction (`kubepki restore` undoes it) and lists what must follow beyond this node.
 */
function newCaKeyNote(c: CertEntry, rootFlag: string): string {
  const lead = 'CA keeps its key: a new CA key would invalidate every certificate it signed';
  const key = c.privateKey.location?.file;
  if (c.layout !== 'kubeadm' || !key || c.location.kind !== 'pem' || !isKubeadmCa(c.name)) return `${lead} (kubepki makes a new CA only on a kubeadm node, with \`kubepki rebuild --new-ca\`)`;
  return `${lead}; for a new one on this kubeadm node: \`kubepki rebuild --new-ca ${c.name}${rootFlag}\` (it backs up ${c.location.file} and ${key}, writes the new CA and re-signs what the old one signed here in one run, and \`kubepki restore\` of that run puts everything back; --dry-run first shows what it re-signs and what must follow on the other nodes)`;
}

/** A serial as `check`, openssl and `Certificate.serialHex` print it: lowercase hex in whole octets (a leading 0 kept). */
export function serialHex(v: bigint): string {
  const h = v.toString(16);
  return h.length % 2 ? `0${h}` : h;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;

/** Why a DNS SAN is not acceptable (kubeadm's RFC 1123 subdomain rule, wildcard first label; shared with rebuild), or undefined. */
function dnsProblem(v: string): { why: string; hint: string } | undefined {
  if (/[^\x00-\x7f]/.test(v)) {
    const ascii = domainToASCII(v.toLowerCase());
    return { why: 'is not ASCII: a certificate carries DNS names as IA5String', hint: ascii ? `use the punycode form DNS:${ascii}` : 'use the punycode (xn--) form of the name' };
  }
  const p = dnsNameProblem(v);
  if (!p) return undefined;
  return { why: `is not a valid DNS name: ${p}`, hint: 'a DNS name is lower-case letters, digits, "-" and "." (RFC 1123), at most 253 characters; a wildcard only as the whole first label (*.example.com)' };
}

/** Why a SAN value is not acceptable, or undefined. */
function sanProblem(san: SanInput): { why: string; hint: string } | undefined {
  const v = san.value;
  switch (san.type) {
    case 'ip': {
      if (v.includes('%')) return { why: 'has a zone index, which a certificate cannot carry', hint: 'give the address without %zone' };
      if (isIP(v) === 0) return { why: 'is not an IPv4 or IPv6 address', hint: 'write IP:192.0.2.7 (four octets 0-255) or IP:2001:db8::7' };
      return undefined;
    }
    case 'dns': return dnsProblem(v);
    case 'uri': {
      if (/[^\x21-\x7e]/.test(v)) return { why: 'has spaces or non-ASCII characters', hint: 'percent-encode them (a certificate carries URIs as IA5String)' };
      if (!URL.canParse(v) || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(v)) return { why: 'is not an absolute URI', hint: 'write it with its scheme, e.g. URI:spiffe://cluster.local/ns/default/sa/web' };
      return undefined;
    }
    case 'email': {
      if (!EMAIL.test(v)) return { why: 'is not an e-mail address', hint: 'write email:name@example.com (ASCII)' };
      return undefined;
    }
  }
  return { why: 'has an unknown type', hint: 'write each name as DNS:name, IP:address, URI:uri or email:address' };
}

/**
 * Parse `--add-san DNS:x,IP:y,URI:z,email:w`, refusing (UserError, exit 3)
 * any name that a certificate could not carry exactly as written, so that a
 * dry run and a real run agree and nothing is written for a bad name.
 */
export function parseSans(text: string): SanInput[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(dns|ip|uri|email):(.+)$/i.exec(s);
    if (!m) throw new UserError(`failed to read --add-san ${JSON.stringify(s)}: not TYPE:value`, 'write each name as DNS:name, IP:address, URI:uri or email:address, comma-separated');
    const san: SanInput = { type: m[1]!.toLowerCase() as SanInput['type'], value: m[2]! };
    const problem = sanProblem(san);
    if (problem) throw new UserError(`failed to read --add-san ${JSON.stringify(s)}: ${JSON.stringify(san.value)} ${problem.why}`, problem.hint);
    try {
      generalNameDer(san); // the encoder agrees, so the real run cannot fail where the dry run passed
    } catch (e) {
      throw new UserError(`failed to read --add-san ${JSON.stringify(s)}: ${(e as Error).message}`, 'write each name as DNS:name, IP:address, URI:uri or email:address, comma-separated');
    }
    return san;
  });
}

/**
 * The kubelet's own serving pair when it has no --tls-cert-file: kubelet.crt holds the certificate and,
 * after it, the throwaway CA that signed it, whose key the kubelet never kept (certutil names it
 * `<host>-ca@<unix time>`). Only that CA is re-made on renewal. Any other issuer found later in the same
 * file (a full chain's intermediate, a root after an intermediate in ca.crt) is a real CA kept elsewhere:
 * its certificates are externally managed, never re-signed by a look-alike.
 */
function isKubeletSelfSignedPair(c: CertEntry, signer: CertEntry): boolean {
  return !signer.privateKey.present && signer.selfSigned && signer.location.file === c.location.file && signer.location.index > c.location.index
    && /-ca@\d+$/.test(signer.subjectCN ?? '') && !RANCHER_CA_CN.test(signer.subjectCN ?? '') && !c.isCA;
}

/**
 * The CAs k3s and RKE2 make (spec §9.2; `<prefix>-ca@<unix>` like a throwaway CA): every leaf file they write ends
 * with a copy of its CA, so on an agent (whose CA keys are on the server) without its client-ca.crt and
 * server-ca.crt that copy is the only signer in sight. Re-signing such a leaf under a new throwaway CA gave the
 * kubelet a serving certificate kube-apiserver refuses (--kubelet-certificate-authority is server-ca) and the
 * agent a client certificate it refuses.
 */
const RANCHER_CA_CN = /^(k3s|rke2)-(client|server|request-header)-ca@\d+$|^etcd-(server|peer)-ca@\d+$/;

/**
 * The key type --new-key makes for a key Go programs cannot use: an ECDSA key on another curve (secp256k1,
 * brainpool, unknown explicit parameters) gets P-256, kubeadm's and the kubelet's; an RSA-PSS key an RSA key
 * of its size. Undefined for every key Go takes (those are made again as they were).
 */
function unusableKeyReplacement(c: CertEntry): { type: KeyType; label: string } | undefined {
  if (c.keyAlgorithm === 'ECDSA' && !GO_CURVES.has(c.curve ?? '')) return { type: 'ecdsa-p256', label: 'ECDSA P-256' };
  if (c.keyAlgorithm === 'RSA-PSS') {
    const bits = c.keySize >= 2048 && c.keySize <= 16384 ? c.keySize : 2048;
    return { type: `rsa-${bits}`, label: `RSA ${bits}` };
  }
  if (c.keyAlgorithm === 'Ed448') return { type: 'ecdsa-p256', label: 'ECDSA P-256' };
  return undefined;
}

/**
 * --add-san adds (as rebuild --cert-sans does): a name the certificate already has (or one given twice) is kept
 * once, and said. The same for a renewal and for a CSR taken to the CA.
 */
function sansToAdd(c: CertEntry, addSans: SanInput[]): { add: SanInput[]; already: SanInput[] } {
  const sanDer = (n: { type: string; value: string }) => {
    try { return Buffer.from(generalNameDer(n as SanInput)).toString('hex'); } catch { return undefined; }
  };
  const have = new Set(c.sans.map(sanDer).filter(Boolean));
  const add: SanInput[] = [];
  const already: SanInput[] = [];
  for (const n of addSans) {
    const k = sanDer(n);
    if (have.has(k)) { if (c.sans.some((o) => sanDer(o) === k)) already.push(n); continue; }
    have.add(k);
    add.push(n);
  }
  return { add, already };
}

/**
 * A file named as operators name the copy they keep before a change (`cp apiserver.crt apiserver-old.crt`,
 * `apiserver.crt.bak`, `…crt.2026-11-30`, an editor's `~`, or in a `pki.bak`/`backup` directory): a copy of a renewed
 * certificate there is the old certificate kept on purpose, not one a component reads, and is left as it is.
 */
export function keptBackupName(file: string): boolean {
  const parts = file.split('/');
  const base = parts.pop() ?? '';
  return /(?:\.(?:bak|backup|old|orig|save|sav|prev)(?:\.\d+)?|~)$/i.test(base)
    || /[-_.](?:old|bak|backup|orig|prev|save)\.(?:crt|pem|cert|cer)$/i.test(base)
    || /\.(?:crt|pem|cert|cer)[-_.][\d-]{6,}$/.test(base)
    || parts.some((d) => /(?:^|[-_.])(?:bak|backups?|old|orig)(?:[-_.]|$)/i.test(d));
}
