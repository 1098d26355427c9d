/**
 * planRebuild: from the resolved settings and what already exists on the
 * node, decide for every file of a kubeadm control-plane node whether it is
 * created, kept (kubeadm never overwrites) or — with --force only — replaced.
 * Pure: no I/O, no clock (`now` is a parameter).
 */
import { posix } from 'node:path';
import type { Certificate } from '../pki/certificate.js';
import type { PlanRestart } from './types.js';
import {
  certsFor, kubeconfigsFor, kubeconfigServer, caValidity, leafValidity, canonicalIp, hostPort, minorOf,
  type RebuildCertSpec, type SanSet, type KeyType, type Usage,
} from '../profiles/rebuild.js';
import { MANIFEST_NAMES, type ManifestName, type ManifestExtras } from '../manifests/static-pods.js';
import { describeExtras, type ConfigExtras } from '../rebuild/kubeadm-config.js';
import type { RebuildSettings } from '../rebuild/settings.js';
import { pemTimestamp } from './kubelet.js';
import { sanString } from '../pki/san-validate.js';
import { KDIR, KUBELET_PKI_DIR } from '../profiles/kubeadm.js';
import { samePublicKey } from '../pki/keys.js';
import { rootFlagFor } from '../inventory/next.js';
import { listText } from '../inventory/names.js';

export { KDIR };
export const KUBELET_CURRENT = `${KUBELET_PKI_DIR}/kubelet-client-current.pem`;

/** What the reader found at each path the plan cares about. */
export interface ExistingFile {
  /** a certificate parsed from the file (first CERTIFICATE block), when it is one */
  cert?: Certificate;
  /** the file parsed as a private key (true) or failed to (false) */
  keyOk?: boolean;
  /** a kubeconfig's CA (the first cert of its certificate-authority data or file), for the "same CA" test */
  kubeconfigCa?: Certificate;
  /** the CA comes from a `certificate-authority` file (node path), not embedded data; set even when it cannot be read */
  kubeconfigCaFile?: string;
  /** a kubeconfig's client cert (embedded, or from the file it references) */
  kubeconfigClient?: Certificate;
  /** the client cert comes from a file reference (the kubelet's rotated pem), not embedded data */
  kubeconfigClientFile?: string;
  /** a kubeconfig's server (current context's cluster) */
  kubeconfigServer?: string;
  /** a private key file's SubjectPublicKeyInfo, when it could be read without OpenSSL */
  spki?: Uint8Array;
  /** a public key file's keys (SubjectPublicKeyInfo DER each) */
  publicKeys?: Uint8Array[];
  /** the kubelet's `-current` pem: its key block is the private key of its certificate */
  keyMatches?: boolean;
  /** unreadable or unparsable: why */
  problem?: string;
}

export type Existing = Record<string, ExistingFile>;

export type RebuildAction = 'create' | 'keep' | 'replace';

export interface RebuildItemBase {
  name: string;
  action: RebuildAction;
  /** why kept/replaced, or what is reused */
  reason?: string;
}

export interface RebuildCertItem extends RebuildItemBase {
  kind: 'ca' | 'leaf';
  certPath: string;
  keyPath: string;
  /** `new`: generate a key; `reuse`: the key file survived and is used as-is */
  key: 'new' | 'reuse' | 'keep';
  keyType: KeyType;
  caName?: string;
  subject: { cn: string; o: string[] };
  sans: SanSet;
  usages: Usage[];
  notBefore?: string;
  notAfter?: string;
  /**
   * a kept file's certificate as it is on disk (a KEEP line describes it, not what kubeadm would write);
   * `missingSans`: names this rebuild would put there that it lacks
   */
  onDisk?: {
    subject: string; issuer: string; isCA: boolean; sans: string[]; usages: string[]; notAfter: string; missingSans: string[];
    /** a leaf: whether the CA this rebuild uses signed it (false: the KEEP line names its issuer instead) */
    signedByCa?: boolean;
  };
}

export interface RebuildKubeconfigItem extends RebuildItemBase {
  kind: 'kubeconfig';
  path: string;
  subject: { cn: string; o: string[] };
  server: string;
  clusterName: string;
  keyType: KeyType;
  notBefore?: string;
  notAfter?: string;
  /**
   * kubelet.conf only: its client certificate lives where the kubelet's rotation keeps it
   * (spec §2.1 kubelet-finalize, §7.2), and kubelet.conf references `current`. `reuse`: a valid
   * `-current` for this node is already there; otherwise a new `pem` is written and `-current` swapped to it.
   */
  kubeletClient?: { current: string; pem?: string; reuse: boolean; reason: string };
}

export interface RebuildSaItem extends RebuildItemBase {
  kind: 'sa';
  keyPath: string;
  pubPath: string;
  key: 'new' | 'reuse' | 'keep';
  keyType: KeyType;
}

export interface RebuildManifestItem extends RebuildItemBase {
  kind: 'manifest';
  path: string;
  manifest: ManifestName;
  /** etcd only: the membership flags written (kubeadm init: itself and `new`; join: every member and `existing`), and from what */
  etcd?: EtcdMembership;
  /** a written manifest: the kubeadm config's extras it carries (`apiServer.extraArgs (oidc-issuer-url)`), and that config */
  carries?: { what: string; from: string };
}

export interface EtcdMembership { initialCluster: string; state: 'new' | 'existing'; source: string }

export type RebuildItem = RebuildCertItem | RebuildKubeconfigItem | RebuildSaItem | RebuildManifestItem;

export interface RebuildPlan {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'RebuildPlan';
  now: string;
  kubernetesVersion: string;
  items: RebuildItem[];
  /** problems that stop the rebuild (each with its fix) */
  errors: string[];
  warnings: string[];
  /** what must follow outside this node */
  followUps: string[];
  /** kept files whose certificate is expired and that `kubepki renew all` can renew (signed by the CA in use) */
  expired: string[];
  /**
   * the running components that read a file this rebuild writes, and how to restart each (renew's restart
   * planning, from the node's manifests and kubelet config as they were before the rebuild); set by rebuild()
   */
  restarts?: PlanRestart[];
  /** files kubeadm would not write on this node (e.g. super-admin.conf on a node that joined), and why */
  skipped: { path: string; reason: string }[];
  /**
   * Set when the plan would make new shared material (CAs, sa.key) on a node that belongs to an
   * existing cluster, without `--new-ca`: nothing may be written, not even with --force.
   */
  refusal?: RebuildRefusal;
  /** the kubeadm config's extraArgs/extraVolumes/extraEnvs the manifests written carry, by component */
  manifestExtras?: ManifestExtras;
}

/**
 * What on the node says the cluster exists beyond it (read by `rebuild/evidence.ts`). New CAs or a
 * new sa.key on such a node split it from the cluster: the shared material must come from a peer.
 */
export interface ClusterEvidence {
  /** why this node looks like it joined an existing cluster (kubeadm join never writes super-admin.conf) */
  joined: string[];
  /** why other control-plane members (or a shared endpoint in front of them) exist */
  peers: string[];
  /** surviving copies of the cluster CA certificate outside the PKI dir (kubeconfigs, the kubelet's clientCAFile) */
  caCopies: { path: string; cert: Certificate }[];
  /** the kubelet's client certificate (`-current`), whose issuer is the old cluster CA: context only */
  kubeletClient?: { path: string; cert: Certificate };
  /** the members this node's etcd data lists (undefined: no readable etcd data) */
  etcdMembers?: { id: string; name: string; peerURLs: string[] }[];
}

export const NO_EVIDENCE: ClusterEvidence = { joined: [], peers: [], caCopies: [] };

/** The refusal to split a node from its cluster: one line and the hint (exit 3). */
export interface RebuildRefusal { message: string; hint: string }

export interface PlanRebuildInput {
  settings: RebuildSettings;
  existing: Existing;
  now: Date;
  force?: boolean;
  /** what says the cluster exists beyond this node (default: nothing) */
  evidence?: ClusterEvidence;
  /** `--new-ca`: make new CAs / sa.key even though the evidence says the cluster has them */
  newCa?: boolean;
  /**
   * `--new-ca NAME,...`: these CAs get a new key although their files are there (a compromised key, another key
   * type): the old pair is backed up and replaced like every other file the run overwrites, and every file on
   * this node that the old CA signed or embeds is made again from the new one (no --force needed for those)
   */
  replaceCas?: string[];
  /** `--etcd-initial-cluster`: the members as `etcdctl member add` prints them (ETCD_INITIAL_CLUSTER) */
  etcdInitialCluster?: string;
  /** `--super-admin`: this node ran kubeadm init; write super-admin.conf even on a member of an HA control plane */
  superAdmin?: boolean;
  /** no control-plane endpoint was found on the node: why (what is gone), for the warning */
  endpointNotFound?: string;
  /** what the kubeadm config adds to each manifest (extraArgs …), what of it cannot be carried, and where it is */
  manifestExtras?: ConfigExtras & { label: string };
  /**
   * `--root`: the tree rebuilt (a mounted disk, a copy); the kubepki commands the plan names for this node
   * (`kubepki join`, `ca export`, `kubelet credentials` …) carry it, or they would read the host's own files
   */
  root?: string;
}

const has = (e: Existing, p: string) => e[p] !== undefined;

/** Node paths of a certificate spec under the PKI dir. */
export function certPaths(spec: RebuildCertSpec, pki: string): { certPath: string; keyPath: string } {
  return { certPath: `${pki}/${spec.profile.baseName}.crt`, keyPath: `${pki}/${spec.profile.baseName}.key` };
}

export function planRebuild(input: PlanRebuildInput): RebuildPlan {
  const { settings: s, existing, now, force = false, evidence = NO_EVIDENCE, newCa = false } = input;
  const replaced = new Set(input.replaceCas ?? []);
  // (` --root R` for the kubepki commands run here, on this tree; none for those run on the other nodes)
  const rootFlag = rootFlagFor(input.root);
  const pki = s.certificatesDir;
  const items: RebuildItem[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const followUps: string[] = [];
  const expired: string[] = [];
  const skipped: RebuildPlan['skipped'] = [];
  const isExpired = (c: Certificate | undefined) => c !== undefined && c.notAfter.getTime() < now.getTime();

  // --- CAs first: they decide whether kept leaves still chain.
  const caCert: Record<string, Certificate | undefined> = {};
  const caNew: Record<string, boolean> = {};
  const caNotBefore: Record<string, Date> = {};
  const specs = certsFor(s);
  const REPLACED = '--force: the existing files are backed up and replaced';
  for (const spec of specs.filter((c) => c.isCA)) {
    const { certPath, keyPath } = certPaths(spec, pki);
    const crt = existing[certPath], key = existing[keyPath];
    const base = {
      kind: 'ca' as const, name: spec.name, certPath, keyPath, keyType: s.keyType,
      subject: { cn: spec.cn(s), o: spec.o(s) }, sans: spec.sans(s), usages: [] as Usage[],
    };
    const fresh = caValidity(s.kubernetesVersion, now, s.caValidityMs);
    const createNew = (replace: boolean, reason = replace ? REPLACED : undefined) => {
      caNew[spec.name] = true;
      caNotBefore[spec.name] = fresh.notBefore;
      items.push({ ...base, action: replace ? 'replace' : 'create', key: 'new', reason, notBefore: fresh.notBefore.toISOString(), notAfter: fresh.notAfter.toISOString() });
    };
    if (replaced.has(spec.name)) {
      const there = [crt && certPath, key && keyPath].filter(Boolean).join(' and ');
      createNew(there !== '', there ? `--new-ca ${spec.name}: a new key replaces this CA; ${there} ${crt && key ? 'are' : 'is'} backed up first, and \`kubepki restore\` of this run puts ${crt && key ? 'them' : 'it'} back with every file re-signed here` : `--new-ca ${spec.name}`);
      continue;
    }
    // what is wrong with the files that are there (the only things --force replaces)
    const problem = crt && (crt.problem || !crt.cert) ? `${certPath}: ${crt.problem ?? 'not a certificate'}`
      : crt && !crt.cert!.isCA ? `${certPath}: not a CA certificate`
        : key && key.keyOk === false ? `${keyPath}: ${key.problem ?? 'not a private key'}`
          : crt && key && notItsKey(key, crt.cert!) ? `${keyPath}: not the private key of ${certPath}` : undefined;
    if (problem) {
      if (force) { createNew(true); continue; }
      errors.push(`failed to use ${problem}; remove it (a new CA is then made) or pass --force to replace it after a backup`);
      caNotBefore[spec.name] = fresh.notBefore;
      items.push({ ...base, action: 'keep', key: 'keep', reason: 'unusable (see problems)', ...(crt?.cert ? { onDisk: onDisk(crt.cert) } : {}) });
      continue;
    }
    if (crt && isExpired(crt.cert)) expired.push(certPath);
    if (crt && key) {
      caCert[spec.name] = crt.cert;
      caNotBefore[spec.name] = crt.cert!.notBefore;
      items.push({ ...base, action: 'keep', key: 'keep', reason: 'certificate and key exist', onDisk: onDisk(crt.cert!) });
    } else if (crt) {
      // External CA (spec §1.3): usable only if every leaf it signs already exists.
      caCert[spec.name] = crt.cert;
      caNotBefore[spec.name] = crt.cert!.notBefore;
      items.push({ ...base, action: 'keep', key: 'keep', reason: `${keyPath} is missing: treated as an external CA; every certificate it signs must already exist`, onDisk: onDisk(crt.cert!) });
    } else if (key) {
      // The key survived: a new self-signed certificate for it keeps every existing signature valid.
      caNew[spec.name] = true;
      caNotBefore[spec.name] = fresh.notBefore;
      items.push({ ...base, action: 'create', key: 'reuse', reason: `${keyPath} survived: a new certificate for the same key (old certificates still verify)`, notBefore: fresh.notBefore.toISOString(), notAfter: fresh.notAfter.toISOString() });
    } else {
      createNew(false);
    }
  }
  const caItem = (name: string) => items.find((i): i is RebuildCertItem => i.kind === 'ca' && i.name === name);
  const caReusesKey = (name: string) => caItem(name)?.key === 'reuse';
  const caHasKey = (name: string) => caItem(name)?.key !== 'keep' || has(existing, certPaths(specs.find((c) => c.name === name)!, pki).keyPath);

  // --- Leaves.
  for (const spec of specs.filter((c) => !c.isCA)) {
    const { certPath, keyPath } = certPaths(spec, pki);
    const crt = existing[certPath], key = existing[keyPath];
    const caName = spec.caName!;
    const v = leafValidity(s.kubernetesVersion, now, caNotBefore[caName]!, { validityMs: s.validityMs });
    const base = {
      kind: 'leaf' as const, name: spec.name, certPath, keyPath, keyType: s.keyType, caName,
      subject: { cn: spec.cn(s), o: spec.o(s) }, sans: spec.sans(s, warnings), usages: spec.usages,
    };
    const chains = (c: Certificate): boolean => {
      // a new CA with a reused key keeps old signatures valid; a brand-new CA signed nothing yet
      if (caNew[caName] && !caReusesKey(caName)) return false;
      const ca = caCert[caName];
      if (ca) return c.verifySignedBy(ca);
      return true; // CA certificate recreated from its surviving key: same key, same subject
    };
    // kubeadm validates a kept certificate against the config and refuses one that lacks a name this node needs
    // (spec §1.3: a leaf's "attributes are validated against the expected config"): kept, it would make etcd, kube-apiserver
    // and their clients fail on "x509: certificate is valid for …, not …" (etcd: "IP address mismatch")
    const missing = crt?.cert ? missingSans(crt.cert, base.sans) : [];
    const problem = !crt ? (key && key.keyOk === false ? `failed to use ${keyPath}: ${key.problem ?? 'not a private key'}; remove it (the pair is then re-created)` : undefined)
      : crt.problem || !crt.cert ? `failed to use ${certPath}: ${crt.problem ?? 'not a certificate'}; remove it (it is then re-created)`
        : !chains(crt.cert) ? `failed to keep ${certPath}: it is not signed by the ${caName} being used${caNew[caName] ? ' (a new CA is being created)' : ''}; remove ${certPath} and ${keyPath} so they are re-created`
          : !key ? `failed to keep ${certPath}: ${keyPath} is missing; remove ${certPath} so the pair is re-created`
            : key.keyOk === false ? `failed to keep ${certPath}: ${keyPath}: ${key.problem ?? 'not a private key'}; remove both so the pair is re-created`
              : notItsKey(key, crt.cert) ? `failed to keep ${certPath}: ${keyPath} is not its private key (the component refuses the pair: "tls: private key does not match public key"); remove both so the pair is re-created`
                : missing.length > 0 ? `failed to keep ${certPath}: it lacks ${missing.join(', ')}, which this node's ${spec.name} certificate must name (kubeadm refuses it too; clients connecting there fail with "x509: certificate is valid for …, not …"); remove ${certPath} and ${keyPath} so they are re-created with them` : undefined;
    // the CA is replaced on purpose: what it signed here is re-signed by the new one (backed up like the CA)
    const resign = replaced.has(caName) && crt?.cert !== undefined && !crt.problem;
    if (problem && !force && !resign) errors.push(`${problem}, or pass --force to back them up and replace them`);
    if ((crt && !problem) || (problem && !force && !resign)) {
      if (crt && !problem && isExpired(crt.cert)) expired.push(certPath);
      items.push({
        ...base, action: 'keep', key: 'keep', reason: problem ? 'unusable (see problems)' : 'certificate exists and is signed by its CA',
        ...(crt?.cert ? { onDisk: { ...onDisk(crt.cert, missing), signedByCa: chains(crt.cert) } } : {}),
      });
      continue;
    }
    if (!caHasKey(caName)) {
      errors.push(`failed to create ${certPath}: ${caName}'s key is missing (external CA); provide ${certPath} and ${keyPath} signed by that CA, import the CA with \`kubepki ca import FILE --certificate-key KEY${rootFlag}\`, or give the whole cluster a new ${caName} with \`kubepki rebuild --new-ca ${caName}${rootFlag}\` (the old one backed up; every other node and kubeconfig must then be given the new CA)`);
      continue;
    }
    const reuse = !crt && key && key.keyOk !== false;
    items.push({
      ...base, action: problem ? 'replace' : 'create', key: reuse ? 'reuse' : 'new',
      reason: reuse ? `${keyPath} survived and is reused` : resign ? `signed by the ${caName} being replaced: re-signed by the new one (new key), the old files backed up` : problem ? REPLACED : undefined,
      notBefore: v.notBefore.toISOString(), notAfter: v.notAfter.toISOString(),
    });
  }

  // --- Service-account key pair (spec §3): sa.key is reused when it exists.
  {
    const keyPath = `${pki}/sa.key`, pubPath = `${pki}/sa.pub`;
    const k = existing[keyPath], p = existing[pubPath];
    const bad = k && k.keyOk === false;
    // two halves of different keys: kube-apiserver signs tokens with sa.key and rejects them all with sa.pub
    const pubMismatch = k && !bad && p?.publicKeys && k.spki && !p.publicKeys.some((pk) => samePublicKey(pk, k.spki));
    if (pubMismatch) {
      if (!force) errors.push(`failed to keep ${pubPath}: it is not the public half of ${keyPath}, so kube-apiserver rejects every ServiceAccount token it signs; remove ${pubPath} (it is then re-derived from ${keyPath}) or pass --force`);
      items.push(force
        ? { kind: 'sa', name: 'sa', action: 'replace', keyPath, pubPath, key: 'keep', keyType: s.keyType, reason: `${pubPath} is re-derived from ${keyPath} (it was another key's)` }
        : { kind: 'sa', name: 'sa', action: 'keep', keyPath, pubPath, key: 'keep', keyType: s.keyType, reason: 'unusable (see problems)' });
    } else if (k && !bad) {
      items.push({ kind: 'sa', name: 'sa', action: p ? 'keep' : 'create', keyPath, pubPath, key: 'keep', keyType: s.keyType, reason: p ? 'sa.key and sa.pub exist' : 'sa.pub is re-derived from the surviving sa.key' });
    } else if (bad && !force) {
      errors.push(`failed to use ${keyPath}: ${k!.problem ?? 'not a private key'}; remove it or pass --force`);
      items.push({ kind: 'sa', name: 'sa', action: 'keep', keyPath, pubPath, key: 'keep', keyType: s.keyType, reason: 'unusable (see problems)' });
    } else {
      items.push({ kind: 'sa', name: 'sa', action: k || p ? 'replace' : 'create', keyPath, pubPath, key: 'new', keyType: s.keyType, reason: k || p ? REPLACED : undefined });
      followUps.push(`sa.key is new: every ServiceAccount token signed with the old key is now rejected — re-create legacy token Secrets and restart every pod that holds a token (\`kubepki sa refresh --restart-pods${rootFlag}\`; waiting does not help: projected tokens are refreshed by the kubelet only about once a day)`);
      // (no evidence on the node of other control-plane nodes, or sharedMaterialCheck refuses; but the endpoint is
      // what kubeadm requires for them, and the same sign keeps etcd.yaml from starting a new etcd cluster below)
      if (s.controlPlaneEndpoint) {
        warnings.push(`sa.key is made new, and the cluster has the control-plane endpoint ${s.controlPlaneEndpoint}, which kubeadm requires for more than one control-plane node: if other control-plane nodes exist, bring sa.key from one of them first (there \`kubepki ca export --out shared.yaml\`, here \`kubepki ca import shared.yaml --certificate-key KEY${rootFlag}\`), then run rebuild again: with a key of its own, this API server rejects every token the others sign, and they reject its`);
      }
    }
  }

  // --- etcd's membership, for a new etcd.yaml (undefined: not written, the member must be re-added first)
  const etcdPath = `${KDIR}/manifests/etcd.yaml`;
  // (--etcd-initial-cluster, parsed once: etcd.yaml's members, and a sign of several control-plane nodes below)
  const flagMembers = input.etcdInitialCluster !== undefined ? parseInitialCluster(input.etcdInitialCluster) : undefined;
  const etcd = s.externalEtcd || existing[etcdPath] ? undefined
    : etcdMembership(s, evidence, flagMembers, caNew['etcd-ca'] === true && !caReusesKey('etcd-ca'), { errors, warnings, followUps, skipped, path: etcdPath, rootFlag });
  const rejoining = !s.externalEtcd && !existing[etcdPath] && !etcd;

  // --- Kubeconfigs (spec §2).
  for (const spec of kubeconfigsFor(s, (file) => existing[`${KDIR}/${file}`] !== undefined)) {
    const path = `${KDIR}/${spec.file}`;
    const e = existing[path];
    if (spec.name === 'super-admin.conf' && !e && !input.superAdmin) {
      // kubeadm writes super-admin.conf (O=system:masters, which no RBAC can revoke) only on the node that ran
      // `kubeadm init`: on one of several control-plane nodes, nothing left says it was that one
      const members = [
        ...((evidence.etcdMembers?.length ?? 0) > 1 ? [`this node's etcd data lists ${evidence.etcdMembers!.length} members`] : []),
        ...(Array.isArray(flagMembers) && flagMembers.length > 1 ? [`--etcd-initial-cluster lists ${flagMembers.length} members`] : []),
      ];
      if (evidence.joined.length > 0) {
        skipped.push({ path, reason: `this node joined an existing cluster (${evidence.joined.join('; ')}): kubeadm join does not write super-admin.conf, only kubeadm init does (use admin.conf; pass --super-admin if this node did run kubeadm init)` });
        continue;
      }
      if (rejoining) members.push('its etcd member must be re-added to a cluster with other members');
      if (members.length > 0) {
        skipped.push({ path, reason: `this node is one of several control-plane nodes (${members.join('; ')}) and nothing left on it says it ran kubeadm init: kubeadm writes super-admin.conf (a system:masters credential no RBAC can revoke) only on that node, not on nodes that joined (use admin.conf; pass --super-admin if this node ran kubeadm init)` });
        continue;
      }
    }
    const v = leafValidity(s.kubernetesVersion, now, caNotBefore.ca!, { kubeconfig: true, validityMs: s.validityMs });
    const base = {
      kind: 'kubeconfig' as const, name: spec.name, path, subject: { cn: spec.cn(s), o: spec.o(s) },
      server: kubeconfigServer(spec, s), clusterName: s.clusterName, keyType: s.keyType,
    };
    let resign = false;
    if (e) {
      const ca = caCert.ca;
      const freshCa = caNew.ca && !caReusesKey('ca');
      // (a file reference that does not resolve, the kubelet's pem gone: no client credential at all)
      const clientMissing = e.kubeconfigClientFile !== undefined && !e.kubeconfigClient;
      const clientOk = !e.kubeconfigClient ? !clientMissing : freshCa ? false : ca ? e.kubeconfigClient.verifySignedBy(ca) : true;
      // a certificate-authority file is read as client-go reads it: one it cannot read or parse is no CA but a kubeconfig
      // it refuses (ConfirmUsable: "unable to read certificate-authority"); one naming ca.crt itself trusts what is left there
      const caTracksCluster = e.kubeconfigCaFile !== undefined && posix.normalize(e.kubeconfigCaFile) === posix.normalize(`${pki}/ca.crt`);
      const caMissing = e.kubeconfigCaFile !== undefined && !e.kubeconfigCa && !caTracksCluster;
      const caOk = caTracksCluster ? true : caMissing ? false : !e.kubeconfigCa ? true : freshCa ? false : ca ? Buffer.from(e.kubeconfigCa.der).equals(Buffer.from(ca.der)) : true;
      const caWrong = `${e.kubeconfigCaFile ? `its certificate-authority ${e.kubeconfigCaFile}` : 'its certificate-authority-data'} ${caMissing ? 'does not exist or holds no certificate' : freshCa ? 'is the old CA' : `is not ${pki}/ca.crt`}`;
      let problem: string | undefined;
      // the cluster CA is replaced on purpose: a kubeconfig that trusts it or holds a certificate it signed is
      // made again from the new one (kubelet.conf too: a new client pem, -current swapped to it), backed up first
      resign = replaced.has('ca') && !e.problem && !clientMissing && (!clientOk || !caOk);
      if (resign) problem = undefined;
      else if (e.problem) problem = `failed to use ${path}: ${e.problem}; remove it (it is then re-created)`;
      else if (clientMissing) problem = `failed to keep ${path}: it uses ${e.kubeconfigClientFile}, which does not exist or holds no certificate, so the kubelet has no client credential; remove ${path} (it is then re-created with a new client certificate)`;
      else if (!clientOk && e.kubeconfigClientFile) {
        // the kubelet's own rotated certificate: not ours to replace here; `renew all` cannot renew it
        // either (its CA is not the one in use), so whether expired or not the fix is new credentials
        const exp = isExpired(e.kubeconfigClient) ? ' and is expired' : '';
        // (and the CA it trusts, when that is another one: kubelet credentials writes both)
        const trusts = caOk ? '' : `, and ${caWrong}`;
        followUps.push(`${path} uses ${e.kubeconfigClientFile}, which is not signed by ${freshCa ? 'the new cluster CA' : `${pki}/ca.crt`}${exp}${trusts}: run \`kubepki kubelet credentials --node ${s.nodeName}${rootFlag}\`, which writes both from the CA in use`);
      } else if (!clientOk) problem = `failed to keep ${path}: its client certificate is not signed by ${freshCa ? 'the new cluster CA' : `${pki}/ca.crt`}; remove it so it is re-created`;
      else if (!caOk) problem = `failed to keep ${path}: ${caWrong}; remove it so it is re-created`;
      if (!resign && (!problem || !force)) {
        if (problem) errors.push(`${problem}, or pass --force to back it up and replace it`);
        // only a file signed by the CA in use is renewable by `kubepki renew all`
        else if (clientOk && isExpired(e.kubeconfigClient)) expired.push(e.kubeconfigClientFile ? `${path} (via ${e.kubeconfigClientFile})` : path);
        // (described as it is on disk: kubelet.conf on the local endpoint, an older O, are kept as they are)
        const client = e.kubeconfigClient?.commonName ? { subject: { cn: e.kubeconfigClient.commonName, o: e.kubeconfigClient.organizations } } : {};
        items.push({ ...base, ...client, ...(e.kubeconfigServer ? { server: e.kubeconfigServer } : {}), action: 'keep', reason: problem ? 'unusable (see problems)' : 'file exists' });
        continue;
      }
    }
    if (!caHasKey('ca')) {
      errors.push(`failed to create ${path}: ${pki}/ca.key is missing (external CA); provide ${path} yourself`);
      continue;
    }
    const reason = !e ? undefined : resign ? 'it trusts or holds a certificate of the cluster CA being replaced: made again from the new one, the existing file backed up' : '--force: the existing file is backed up and replaced';
    const item: RebuildKubeconfigItem = { ...base, action: e ? 'replace' : 'create', reason, notBefore: v.notBefore.toISOString(), notAfter: v.notAfter.toISOString() };
    if (spec.name === 'kubelet.conf') item.kubeletClient = kubeletClientFor(base.subject, existing[KUBELET_CURRENT], caCert.ca, caNew.ca === true && !caReusesKey('ca'), now);
    items.push(item);
  }

  // A new certificate that ends after its CA stops verifying on the CA's last day, as check's ca-expires-before-leaf
  // says the moment this run is over (a --validity/certificateValidityPeriod longer than a kept CA has left): said
  // here too, as renew does, rather than found afterwards.
  const caEnd = (name: string): Date | undefined => { const it = caItem(name); return it?.notAfter ? new Date(it.notAfter) : caCert[name]?.notAfter; };
  const outliving = new Map<string, { names: string[]; last: string }>();
  for (const it of items) {
    if ((it.kind !== 'leaf' && it.kind !== 'kubeconfig') || (it.action !== 'create' && it.action !== 'replace') || !it.notAfter) continue;
    if (it.kind === 'kubeconfig' && it.kubeletClient?.reuse) continue;
    const ca = it.kind === 'leaf' ? it.caName! : 'ca';
    const end = caEnd(ca);
    if (!end || Date.parse(it.notAfter) <= end.getTime()) continue;
    const o = outliving.get(ca) ?? { names: [], last: it.notAfter };
    o.names.push(it.name);
    if (it.notAfter > o.last) o.last = it.notAfter;
    outliving.set(ca, o);
  }
  for (const [ca, o] of outliving) {
    warnings.push(`${listText(o.names)} would outlive their CA ${ca} (it ends ${caEnd(ca)!.toISOString().slice(0, 10)}, they on ${o.last.slice(0, 10)}): from then on they no longer verify; pass a shorter --validity, or make the CA last longer first (\`kubepki renew ${ca}${rootFlag} --validity …\`, which keeps its key)`);
  }

  // --- Static pod manifests.
  if (s.externalEtcd && s.etcdExternal.endpoints.length === 0 && !existing[`${KDIR}/manifests/kube-apiserver.yaml`]) {
    errors.push('failed to write the kube-apiserver manifest: etcd is external but its endpoints are unknown; pass --config with ClusterConfiguration.etcd.external (endpoints, caFile, certFile, keyFile)');
  }
  for (const m of MANIFEST_NAMES) {
    if (m === 'etcd' && s.externalEtcd) continue;
    const path = `${KDIR}/manifests/${m}.yaml`;
    const e = existing[path];
    // existing manifests are always kept (remove one to have it written again)
    if (m === 'etcd' && !e) {
      if (etcd) items.push({ kind: 'manifest', name: m, manifest: m, path, action: 'create', etcd });
      continue;
    }
    items.push({ kind: 'manifest', name: m, manifest: m, path, action: e ? 'keep' : 'create', reason: e ? 'file exists' : undefined });
  }
  // kube-apiserver cannot start without the files it reaches the external etcd with, and they are not rebuild's to
  // make: the external etcd's CA (and its key) is that etcd's, kubeadm only copies them (upload-certs' external-etcd-*)
  if (s.externalEtcd) {
    const { caFile, certFile, keyFile } = s.etcdExternal;
    const lost = [caFile, certFile, keyFile].filter((f) => f && !existing[f]);
    if (lost.length > 0) {
      warnings.push(`etcd is external: kube-apiserver reaches it with ${listText(lost)}, which ${lost.length > 1 ? 'are' : 'is'} not on this node, and rebuild does not make ${lost.length > 1 ? 'them' : 'it'} (the external etcd's CA is not this node's): bring ${lost.length > 1 ? 'them' : 'it'} back before kube-apiserver can start. From another control-plane node: there \`kubepki ca export --out shared.yaml\`, here \`kubepki ca import shared.yaml --certificate-key KEY --config FILE${rootFlag}\` with the kubeadm config that names etcd.external's files (--config can be left out once this rebuild has written the kube-apiserver manifest, which names them too); else from the etcd hosts: its CA certificate as ${caFile || 'etcd.external.caFile'}, and a client pair it signs (CN kube-apiserver-etcd-client, extended key usage clientAuth) as ${certFile || 'etcd.external.certFile'} and ${keyFile || 'etcd.external.keyFile'}`);
    }
  }
  // the manifests written carry what the cluster's config added to kubeadm's defaults (an OIDC issuer, an audit
  // policy and its volume, a proxy), as kubeadm wrote them; an entry kubeadm itself would refuse is left out, said here
  const extras = input.manifestExtras;
  for (const i of items) {
    if (i.kind !== 'manifest' || i.action === 'keep' || !extras) continue;
    const e = extras.extras[i.manifest];
    if (e) i.carries = { what: describeExtras(i.manifest, e), from: extras.label };
    const lacks = extras.notCarried[i.manifest];
    if (lacks) warnings.push(`${i.path} is written without what kubeadm would refuse in ${extras.label}: ${lacks.join('; ')}; fix the entry and add it to the manifest by hand (the kubelet restarts the pod when the manifest changes)`);
  }
  // (kubeadm's strategic/JSON patches per component: applying them as it does is not done here)
  const written = items.flatMap((i) => (i.kind === 'manifest' && i.action !== 'keep' ? [i.path] : []));
  if (extras?.patches && written.length > 0) {
    warnings.push(`${extras.label} has patches.directory ${extras.patches}: kubeadm applied the patches there to the manifests it wrote; ${written.join(', ')} ${written.length > 1 ? 'are' : 'is'} written without them: apply them by hand (the kubelet restarts the pod when the manifest changes)`);
  }

  // --- What must follow outside this node.
  for (const i of items) {
    if (i.kind !== 'ca' || i.action !== 'replace' || !replaced.has(i.name)) continue;
    followUps.push(`the ${SHARED_LABELS[i.name] ?? i.name} (${i.certPath}) is replaced by one with a new key: the old ${short(i.certPath)} and ${short(i.keyPath)} are in this run's backup (\`kubepki restore\` of this run puts them and every file re-signed here back); ${mustFollow([i.name])} must follow. On the other control-plane nodes bring this CA (\`kubepki ca export --out shared.yaml${rootFlag}\` here, \`kubepki ca import shared.yaml --certificate-key KEY --force\` there, then \`kubepki rebuild --force\` there re-signs what the old one signed): --new-ca there too would make yet another CA`);
  }
  // (a CA replaced by name has its own line above: `ca import --force` there, as the other nodes hold the old one)
  if (caNew.ca && !caReusesKey('ca')) {
    if (!replaced.has('ca')) followUps.push(`the cluster CA is new: every other node still trusts the old one — copy the shared CA files to the other control-plane nodes (\`kubepki ca export --out shared.yaml${rootFlag}\` here, \`kubepki ca import shared.yaml --certificate-key KEY\` there) or re-join them`);
    followUps.push(`kubelets on every node hold client certificates from the old CA: re-join workers with the command \`kubepki join${rootFlag}\` prints, or give each one offline credentials made here (\`kubepki kubelet credentials --node NAME --out DIR${rootFlag}\`, then copy DIR to that node)`);
    // seed 001: nodes stay NotReady until re-joined, and kube-controller-manager evicts their pods meanwhile
    followUps.push('until every node is re-joined they are NotReady, and kube-controller-manager starts evicting and rescheduling their pods after 5 minutes: on a cluster of more than a few nodes, park it first (`mv /etc/kubernetes/manifests/kube-controller-manager.yaml /etc/kubernetes/`) and put it back once every node is Ready (`mv /etc/kubernetes/kube-controller-manager.yaml /etc/kubernetes/manifests/`)');
    followUps.push(`the kube-public/cluster-info ConfigMap still carries the old CA: refresh it (\`kubepki join${rootFlag}\` writes the manifest) before joining nodes`);
  }
  // kube-apiserver's cluster-authentication-trust controller writes its CAs into kube-system/extension-apiserver-
  // authentication merged with what is there (combineCertLists: a union, only expired certificates dropped), so an old
  // CA stays trusted by aggregated API servers until it expires or is removed by hand (seed 003)
  const merged = ([['ca', 'client-ca-file'], ['front-proxy-ca', 'requestheader-client-ca-file']] as const).filter(([n]) => caNew[n] && !caReusesKey(n));
  if (merged.length > 0) {
    const keys = merged.map(([, k]) => k).join(' and ');
    followUps.push(`kube-apiserver adds the new ${merged.map(([n]) => SHARED_LABELS[n]).join(' and ')} to kube-system/extension-apiserver-authentication (${keys}) when it starts, and keeps the old one beside it (it merges the bundles and drops only expired certificates), so aggregated API servers such as metrics-server trust both: once every kube-apiserver runs with the new one, remove the old certificate from ${keys} (\`kubectl -n kube-system edit configmap extension-apiserver-authentication\`; a kube-apiserver still on the old one adds it back)`);
  }
  if (caNew['etcd-ca'] && !caReusesKey('etcd-ca') && !s.externalEtcd && !replaced.has('etcd-ca')) {
    followUps.push('the etcd CA is new: other etcd members must get certificates from it (copy etcd/ca.* to the other control-plane nodes) or they cannot talk to this one');
  }
  if (items.some((i) => i.kind === 'kubeconfig' && i.name === 'admin.conf' && i.action !== 'keep')) {
    followUps.push('admin.conf is new: copy it where kubectl looks (cp /etc/kubernetes/admin.conf $HOME/.kube/config)');
  }
  // kubeadm join --control-plane refuses a cluster without a controlPlaneEndpoint: on a node of several, none found
  // here means it was lost with admin.conf, and the new admin.conf would name this node's API server instead
  const several = [...new Set([...evidence.joined, ...evidence.peers])];
  // (kubelet.conf too before 1.33: from then on it names the local endpoint anyway, ControlPlaneKubeletLocalMode)
  const pointed = items.filter((i): i is RebuildKubeconfigItem => i.kind === 'kubeconfig' && i.action !== 'keep'
    && (i.name === 'admin.conf' || i.name === 'super-admin.conf' || (i.name === 'kubelet.conf' && minorOf(s.kubernetesVersion) < 33)));
  // the load balancer sends clients to every control-plane node: a new apiserver.crt without its name fails them here
  const apiserver = items.find((i) => i.kind === 'leaf' && i.name === 'apiserver' && i.action !== 'keep');
  // (one warning: where none was found on the node at all, this one says why, in place of the general one below)
  const why = input.endpointNotFound;
  if (!s.controlPlaneEndpoint && several.length > 0 && pointed.length > 0) {
    warnings.push(`no controlPlaneEndpoint found${why ? ` on the node (${why})` : ''}, but this node is one of several control-plane nodes (${several.join('; ')}), and kubeadm join --control-plane refuses a cluster without a controlPlaneEndpoint: ${listText(pointed.map((i) => i.name))} would point at this node's own API server (${pointed[0]!.server})${apiserver ? ', and the new apiserver.crt would not name the endpoint (clients the load balancer sends to this node would get "x509: certificate is valid for …")' : ''}; pass --control-plane-endpoint HOST:PORT with the cluster's shared endpoint${s.certSANs.length ? ` (apiserver.crt also names ${s.certSANs.join(', ')})` : ''}`);
  } else if (why) {
    warnings.push(`no control-plane endpoint found on the node (${why}): admin.conf and kubelet.conf point at the local API endpoint; if the cluster had a load balancer or shared DNS name, pass --control-plane-endpoint (it is also an apiserver SAN)`);
  }
  // (what to restart for the files written — the components that read them, as renew plans it — needs the
  // node's manifests and kubelet config: rebuild() adds it, see restartFollowUp)
  // --- Shared material on a node of an existing cluster: comes from a peer, not from here.
  const refusal = sharedMaterialCheck(items, evidence, newCa, warnings, replaced, rootFlag);
  // (an external etcd keeps the cluster's state, tokens signed with sa.key among it, whatever became of this node)
  const freshShared = items.filter((i) => (i.kind === 'ca' || i.kind === 'sa') && i.action !== 'keep' && i.key === 'new').map((i) => SHARED_LABELS[i.name] ?? i.name);
  if (!refusal && !newCa && s.externalEtcd && freshShared.length > 0) {
    warnings.push(`etcd is external, so the cluster's state (its Nodes, Secrets and ServiceAccount tokens) is kept there, not on this node: if that etcd already holds a cluster, a new ${listText(freshShared)} cut this node off from it; bring them from another control-plane node first (there \`kubepki ca export --out shared.yaml\`, here \`kubepki ca import shared.yaml --certificate-key KEY${rootFlag}\`), then run rebuild again`);
  }
  return {
    apiVersion: 'kubepki.io/v1alpha1', kind: 'RebuildPlan', now: now.toISOString(), kubernetesVersion: s.kubernetesVersion,
    items, errors, warnings, followUps, expired, skipped, ...(refusal ? { refusal } : {}),
    ...(extras && Object.keys(extras.extras).length > 0 ? { manifestExtras: extras.extras } : {}),
  };
}

/** `name=url,name=url` (etcd's --initial-cluster, as `etcdctl member add` prints it) → entries, or why not. */
function parseInitialCluster(v: string): { name: string; url: string }[] | string {
  const out: { name: string; url: string }[] = [];
  for (const part of v.replace(/^ETCD_INITIAL_CLUSTER=/, '').replace(/^"|"$/g, '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)=(https?:\/\/\S+)$/.exec(part);
    if (!m) return `${JSON.stringify(part)} is not NAME=https://HOST:PORT`;
    out.push({ name: m[1]!, url: m[2]!.replace(/\/$/, '') });
  }
  return out.length ? out : 'it is empty';
}

interface PlanOut { errors: string[]; warnings: string[]; followUps: string[]; skipped: RebuildPlan['skipped']; path: string; /** ` --root R` for kubepki run here */ rootFlag: string }

/**
 * The membership flags of a new etcd.yaml. kubeadm init writes `--initial-cluster=<self>` (state `new`); kubeadm
 * join --control-plane first adds the member (`member add`) from a healthy one and writes every member with
 * `--initial-cluster-state=existing`. etcd reads both only when its data dir is empty: a lone `<self>` with `new`
 * then bootstraps a brand-new, empty one-member cluster — on a member of an HA cluster, a split brain whose
 * kube-apiserver serves an empty cluster. So: the operator's list (from `member add`), else the members this
 * node's etcd data lists (`existing`: if that data is wiped later, etcd stops instead of starting a new cluster),
 * else — no etcd data on a node whose cluster exists beyond it — no etcd.yaml at all, and how to re-add the member.
 * Undefined: not written (the reason is in `skipped` and the steps in `followUps`).
 */
function etcdMembership(s: RebuildSettings, ev: ClusterEvidence, entries: ReturnType<typeof parseInitialCluster> | undefined, etcdCaNew: boolean, out: PlanOut): EtcdMembership | undefined {
  const self = `https://${hostPort(s.advertiseAddress, 2380)}`;
  const lone: EtcdMembership = { initialCluster: `${s.nodeName}=${self}`, state: 'new', source: 'this node alone, as kubeadm init writes it' };
  if (entries !== undefined) {
    if (typeof entries === 'string') {
      out.errors.push(`failed to use --etcd-initial-cluster: ${entries}; pass the ETCD_INITIAL_CLUSTER value \`etcdctl member add\` printed (cp-1=https://192.0.2.11:2380,cp-2=https://192.0.2.12:2380,...)`);
      return lone;
    }
    const mine = entries.filter((x) => x.name === s.nodeName);
    if (mine.length === 0) out.errors.push(`failed to use --etcd-initial-cluster: it does not list this node's member ${s.nodeName} (etcd refuses to start: "couldn't find local name"); add it with \`etcdctl member add ${s.nodeName} --peer-urls=${self}\` on a healthy member and pass what that prints`);
    else if (!mine.some((x) => x.url === self)) out.errors.push(`failed to use --etcd-initial-cluster: it lists ${s.nodeName} at ${mine.map((x) => x.url).join(', ')}, but this node's etcd advertises ${self} (its --advertise-address); pass the right --advertise-address, or re-add the member with --peer-urls=${self}`);
    return { initialCluster: entries.map((x) => `${x.name}=${x.url}`).join(','), state: entries.length > 1 ? 'existing' : 'new', source: `flag --etcd-initial-cluster (${entries.length} member${entries.length > 1 ? 's' : ''})` };
  }
  const data = ev.etcdMembers ?? [];
  if (data.length > 1) {
    const named = data.filter((m) => m.name);
    const entries = named.flatMap((m) => m.peerURLs.map((u) => `${m.name}=${u}`));
    if (!named.some((m) => m.name === s.nodeName)) entries.push(`${s.nodeName}=${self}`);
    return { initialCluster: entries.join(','), state: 'existing', source: `${s.etcdDataDir} (this node's etcd data lists ${data.length} members)` };
  }
  if (data.length === 1 || etcdCaNew) return lone;
  // no etcd data, and the etcd CA is not new (it survived or came from a peer): does the cluster have other members?
  const reasons = [...new Set([...ev.joined, ...ev.peers])];
  if (s.controlPlaneEndpoint && !reasons.some((r) => r.includes(s.controlPlaneEndpoint))) reasons.push(`the cluster has the control-plane endpoint ${s.controlPlaneEndpoint}, which kubeadm requires for more than one control-plane node`);
  const dir = s.certificatesDir;
  // a member listens on the loopback of its advertise address's family (kubeadm's getEtcdCommand, phases/etcd/local.go:
  // https://[::1]:2379 on an IPv6 cluster, which has no 127.0.0.1 listener)
  const loopback = s.advertiseAddress.includes(':') ? '[::1]' : '127.0.0.1';
  const etcdctl = `etcdctl --endpoints https://${loopback}:2379 --cacert ${dir}/etcd/ca.crt --cert ${dir}/etcd/healthcheck-client.crt --key ${dir}/etcd/healthcheck-client.key`;
  if (reasons.length === 0) {
    out.warnings.push(`${s.etcdDataDir} holds no etcd data: the new etcd.yaml starts a new, empty one-member etcd cluster (--initial-cluster=${lone.initialCluster}); if this node was a member of an etcd cluster with other members, remove ${out.path} before the kubelet starts it, re-add the member from a healthy one (\`${etcdctl} member add ${s.nodeName} --peer-urls=${self}\`) and run kubepki rebuild${out.rootFlag} again with --etcd-initial-cluster set to the ETCD_INITIAL_CLUSTER it prints`);
    return lone;
  }
  out.skipped.push({ path: out.path, reason: `${s.etcdDataDir} holds no etcd data, and this node's etcd cluster has (or may have) other members (${reasons.join('; ')}): etcd started from a new etcd.yaml would bootstrap a new, empty one-member cluster here, and this node's kube-apiserver would serve it (split brain); the member must be re-added first (see below), or, if this was the cluster's only etcd member, pass --etcd-initial-cluster ${lone.initialCluster}` });
  out.followUps.push([
    `etcd.yaml was not written: re-add this node's etcd member (${s.nodeName}, ${self}) before etcd starts here. On a healthy control-plane node:`,
    `      ${etcdctl} member list`,
    `    if a line names ${s.nodeName} (or ${self}), remove that stale member by the ID in its first column:`,
    `      ${etcdctl} member remove ID`,
    `    then add it again (etcd refuses changes for a few seconds after a member is lost or its leader changes: on "etcdserver: unhealthy cluster" wait 5 seconds and run it again):`,
    `      ${etcdctl} member add ${s.nodeName} --peer-urls=${self}`,
    `    and here run kubepki rebuild${out.rootFlag} again with the same flags and --etcd-initial-cluster "VALUE", VALUE being the ETCD_INITIAL_CLUSTER that member add printed: it writes etcd.yaml with every member and --initial-cluster-state=existing, and etcd, its data directory ${s.etcdDataDir} empty, joins the cluster as the new member that member add made and syncs the cluster's data from the other members (nothing of this node's old data is used)`,
  ].join('\n'));
  return undefined;
}

/**
 * What must follow each new shared item beyond this node: the cluster CA is trusted by every node,
 * kubeconfig and cluster-info, sa.key by every ServiceAccount token; the etcd and front-proxy CAs only by
 * the other control-plane nodes (etcd members, kube-apiservers) and aggregated API servers.
 */
const FOLLOWERS: Record<string, string[]> = {
  ca: ['every node', 'kubeconfig', 'the cluster-info ConfigMap'],
  sa: ['every ServiceAccount token'],
  'etcd-ca': ['every other etcd member and kube-apiserver (their etcd certificates)'],
  'front-proxy-ca': ['every other kube-apiserver and the aggregated API servers (requestheader CA)'],
};

function mustFollow(fresh: string[]): string {
  return listText([...new Set(fresh.flatMap((n) => FOLLOWERS[n] ?? []))]);
}

export const SHARED_LABELS: Record<string, string> = { ca: 'cluster CA', 'front-proxy-ca': 'front-proxy CA', 'etcd-ca': 'etcd CA', sa: 'sa.key/sa.pub' };

const CONSEQUENCES: Record<string, string> = {
  ca: 'a new cluster CA cuts this node off from every other node, kubeconfig and kubelet',
  'front-proxy-ca': 'a new front-proxy CA breaks aggregated APIs served through the other API servers',
  'etcd-ca': 'a new etcd CA cuts this member off from the other etcd members',
  sa: 'a new sa.key invalidates every ServiceAccount token',
};

const short = (p: string) => p.replace(/^\/etc\/kubernetes\/(pki\/)?/, '');

/**
 * New CAs or a new sa.key are right on a lone node, and wrong on a node whose cluster exists beyond it:
 * every other node, kubeconfig, the cluster-info ConfigMap and every ServiceAccount token keep the old
 * ones, so "copy the new CA everywhere" breaks the whole cluster. With evidence of such a cluster the
 * plan is refused unless `--new-ca`; the first step is the shared material from a healthy peer.
 */
function sharedMaterialCheck(items: RebuildItem[], ev: ClusterEvidence, newCa: boolean, warnings: string[], replaced: Set<string>, rootFlag: string): RebuildRefusal | undefined {
  const fresh = items.filter((i) => (i.kind === 'ca' || i.kind === 'sa') && i.action !== 'keep' && i.key === 'new').map((i) => i.name);
  if (fresh.length === 0) return undefined;
  // the cluster CA certificate survives elsewhere while ca.crt/ca.key are being made anew: only its key is lost
  // (a CA replaced on purpose is not gone: its copies are the CA being replaced)
  const caGone = fresh.includes('ca') && !replaced.has('ca') && ev.caCopies.length > 0;
  const copies = [...new Map(ev.caCopies.map((c) => [Buffer.from(c.cert.der).toString('base64'), c])).values()];
  const caNote = copies.length === 0 ? undefined
    : `the ${caGone ? 'old ' : ''}cluster CA certificate (${copies.map((c) => c.cert.subjectString).join(', ')}) is ${replaced.has('ca') ? '' : 'still '}in ${listText(ev.caCopies.map((c) => short(c.path)))}${caGone ? ': only its key is gone' : ''}`;
  // the cluster CA and sa.key are trusted beyond this node as soon as the cluster has existed (other
  // nodes, kubeconfigs, tokens); the etcd and front-proxy CAs only once there are other members
  const peerReasons = [...new Set([...ev.joined, ...ev.peers])];
  const blocked = fresh.filter((n) => peerReasons.length > 0 || ((n === 'ca' || n === 'sa') && caNote !== undefined));
  if (blocked.length === 0) return undefined;
  const reasons = [...peerReasons];
  if (caNote && blocked.some((n) => n === 'ca' || n === 'sa')) reasons.push(caNote);
  const what = listText(blocked.map((n) => SHARED_LABELS[n] ?? n));
  if (newCa) {
    warnings.push(`--new-ca: a new ${what} although this node belongs to an existing cluster (${reasons.join('; ')}): ${mustFollow(blocked)} must follow`);
    return undefined;
  }
  if (ev.kubeletClient && blocked.includes('ca') && copies.length === 0) reasons.push(`${short(ev.kubeletClient.path)} was issued by ${ev.kubeletClient.cert.issuerString}`);
  return {
    message: `refusing to create a new ${what}: this node belongs to an existing cluster (${reasons.join('; ')}), and ${blocked.length === 1 ? CONSEQUENCES[blocked[0]!]! : `new ones would cut this node off from the rest of the cluster${blocked.includes('sa') ? ' and invalidate every ServiceAccount token' : ''}`}`,
    hint: `first bring the shared material from a healthy control-plane node: there \`kubepki ca export --out shared.yaml\`, here \`kubepki ca import shared.yaml --certificate-key KEY${rootFlag}\` (or the kubeadm-certs Secret / \`kubeadm join --control-plane\` material), then run \`kubepki rebuild${rootFlag}\` again; only if no node has them any more, pass --new-ca (every node, kubeconfig, cluster-info and ServiceAccount token must then follow)`,
  };
}

/**
 * Where a created kubelet.conf gets its client certificate: the kubelet's
 * `-current` pem when it is valid for this node (a certificate and its key,
 * CN system:node:<node> in O system:nodes, within its validity, signed by the
 * CA in use) — kubelet.conf just points at it; else a new timestamped pem
 * with `-current` swapped to it, as the kubelet's rotation stores it.
 */
function kubeletClientFor(subject: { cn: string; o: string[] }, cur: ExistingFile | undefined, ca: Certificate | undefined, freshCa: boolean, now: Date): NonNullable<RebuildKubeconfigItem['kubeletClient']> {
  const c = cur?.cert;
  const t = now.getTime();
  const why = !cur ? undefined
    : !c ? (cur.problem ?? 'no certificate in it')
      : cur.keyMatches !== true ? 'its key is missing or does not match its certificate'
        : c.commonName !== subject.cn || !subject.o.every((o) => c.organizations.includes(o)) ? `it is ${c.subjectString}, not this node's`
          : c.notAfter.getTime() < t ? 'it is expired'
            : c.notBefore.getTime() > t ? 'it is not valid yet'
              : freshCa || (ca && !c.verifySignedBy(ca)) ? 'it is not signed by the cluster CA in use' : undefined;
  if (cur && !why) return { current: KUBELET_CURRENT, reuse: true, reason: `${KUBELET_CURRENT} is valid for this node: kubelet.conf points at it` };
  return {
    current: KUBELET_CURRENT, pem: `${KUBELET_PKI_DIR}/kubelet-client-${pemTimestamp(now)}.pem`, reuse: false,
    reason: `client certificate stored as the kubelet's rotation does, kubelet.conf pointing at ${KUBELET_CURRENT}${why ? ` (the existing one is not used: ${why})` : ''}`,
  };
}

/** `DNS:x`, `IP:y`: the names of a SAN set a certificate lacks (IPs compared in canonical form). */
function missingSans(cert: Certificate, want: SanSet): string[] {
  const have = new Set(cert.subjectAltNames.map((n) => `${n.type}:${n.type === 'ip' ? canonicalIp(n.value) : n.value}`));
  return [...want.dns.map((value) => ({ type: 'dns', value })), ...want.ips.map((value) => ({ type: 'ip', value }))]
    .filter((n) => !have.has(`${n.type}:${n.value}`)).map(sanString);
}

/** What a kept certificate holds, for its KEEP line. */
function onDisk(cert: Certificate, missing: string[] = []): NonNullable<RebuildCertItem['onDisk']> {
  return {
    subject: cert.subjectString,
    issuer: cert.issuerString,
    isCA: cert.isCA,
    sans: cert.subjectAltNames.map(sanString),
    usages: cert.extKeyUsage,
    notAfter: cert.notAfter.toISOString(),
    missingSans: missing,
  };
}

/** A private key file that holds another key than the certificate's (when its public half could be read). */
function notItsKey(key: ExistingFile, cert: Certificate): boolean {
  return key.spki !== undefined && !samePublicKey(key.spki, cert.spkiRaw);
}
