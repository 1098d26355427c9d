/**
 * planKubeletCredentials: offline credentials for a kubelet that can no
 * longer reach the cluster (off for over a year, or /var/lib/kubelet/pki
 * wiped). Either a client certificate `system:node:<name>` / `system:nodes`
 * signed by the cluster CA and stored the way the kubelet's own rotation
 * stores it (spec §7.1–7.2: `kubelet-client-<time>.pem` holding cert then key,
 * `kubelet-client-current.pem` symlink, kubelet.conf pointing at it), or a
 * bootstrap kubeconfig with a token for a clean TLS-bootstrap rejoin (§2.2).
 * Pure: no I/O, no clock.
 */
import type { KeyType } from '../pki/keygen.js';

import { KUBELET_PKI_DIR, KUBELET_CONF, BOOTSTRAP_KUBELET_CONF } from '../profiles/kubeadm.js';

export { KUBELET_PKI_DIR, KUBELET_CONF, BOOTSTRAP_KUBELET_CONF };
export const DEFAULT_KUBELET_VALIDITY_MS = 8760 * 3600_000;
const BACKDATE_MS = 5 * 60_000;

export interface KubeletCertPlan {
  mode: 'certificate';
  nodeName: string;
  subject: { cn: string; o: string[] };
  usages: ('digitalSignature' | 'keyEncipherment')[];
  keyType: KeyType;
  notBefore: string;
  notAfter: string;
  /** the new timestamped file (node path) */
  pemPath: string;
  /** the symlink swapped to it */
  currentPath: string;
  kubeconfigPath: string;
  /** `edit`: the existing kubelet.conf's current user is pointed at the pem and its CA refreshed; `create`: the kubelet's post-bootstrap shape */
  kubeconfig: 'edit' | 'create';
  server: string;
  notes: string[];
}

export interface KubeletBootstrapPlan {
  mode: 'bootstrap';
  nodeName: string;
  bootstrapPath: string;
  server: string;
  tokenId: string;
  /** files removed so the kubelet bootstraps again (backed up first) */
  remove: string[];
  notes: string[];
}

export type KubeletPlan = KubeletCertPlan | KubeletBootstrapPlan;

/** client-go's file-store timestamp `2006-01-02-15-04-05` (UTC here: the node's zone is unknown offline). */
export function pemTimestamp(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getUTCFullYear()}-${p(now.getUTCMonth() + 1)}-${p(now.getUTCDate())}-${p(now.getUTCHours())}-${p(now.getUTCMinutes())}-${p(now.getUTCSeconds())}`;
}

/**
 * Where a new dated pem of the kubelet's store goes: `<base>.pem` (base: `<dir>/<prefix>-<pemTimestamp>`), or
 * where that name is taken (a run in the same second, or with the same --now; the kubelet's own rotation then)
 * `<base>-1.pem`, `-2` …, as backups are named. client-go's store truncates a file of the same name (spec §7.2);
 * a kubepki run that did would replace the pair the last run made, which only that run's backup could give
 * back. A suffixed name is one the kubelet never writes, so it never truncates ours either.
 */
export function datedPemPath(base: string, taken: (nodePath: string) => boolean): string {
  for (let i = 0; ; i++) {
    const p = `${base}${i === 0 ? '' : `-${i}`}.pem`;
    if (!taken(p)) return p;
  }
}

export interface PlanKubeletCertInput {
  nodeName: string;
  now: Date;
  keyType: KeyType;
  validityMs?: number;
  caNotAfter: Date;
  kubeletPkiDir?: string;
  kubeconfigExists: boolean;
  server: string;
  /** whether a node path is taken now: the new dated pem never takes a name that is (datedPemPath) */
  exists?: (nodePath: string) => boolean;
}

export function planKubeletCertificate(i: PlanKubeletCertInput): KubeletCertPlan {
  const dir = i.kubeletPkiDir ?? KUBELET_PKI_DIR;
  const t = Math.floor(i.now.getTime() / 1000) * 1000;
  let notAfter = t + (i.validityMs ?? DEFAULT_KUBELET_VALIDITY_MS);
  const notes: string[] = [];
  // the KCM signer clamps to the CA's lifetime (spec §7.5); so do we
  if (notAfter > i.caNotAfter.getTime()) { notAfter = Math.floor(i.caNotAfter.getTime() / 1000) * 1000; notes.push('validity clamped to the CA\'s notAfter'); }
  notes.push('restart the kubelet (systemctl restart kubelet); with rotateCertificates on it renews this certificate itself from now on');
  return {
    mode: 'certificate',
    nodeName: i.nodeName,
    subject: { cn: `system:node:${i.nodeName}`, o: ['system:nodes'] },
    // the kubelet's CSR usages: digital signature + client auth, plus key encipherment for RSA keys (spec §7.2)
    usages: i.keyType.startsWith('rsa') ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    keyType: i.keyType,
    notBefore: new Date(t - BACKDATE_MS).toISOString(),
    notAfter: new Date(notAfter).toISOString(),
    pemPath: datedPemPath(`${dir}/kubelet-client-${pemTimestamp(i.now)}`, (p) => i.exists?.(p) === true),
    currentPath: `${dir}/kubelet-client-current.pem`,
    kubeconfigPath: KUBELET_CONF,
    kubeconfig: i.kubeconfigExists ? 'edit' : 'create',
    server: i.server,
    notes,
  };
}

/** `secretFile`: where the token Secret manifest is written, for the `kubectl apply -f` to print. */
export function planKubeletBootstrap(i: { nodeName: string; server: string; tokenId: string; existing: string[]; secretFile?: string }): KubeletBootstrapPlan {
  return {
    mode: 'bootstrap',
    nodeName: i.nodeName,
    bootstrapPath: BOOTSTRAP_KUBELET_CONF,
    server: i.server,
    tokenId: i.tokenId,
    remove: i.existing,
    notes: [
      `apply the token Secret on the cluster (kubectl apply -f ${i.secretFile ?? 'the --secret-out file'}) before restarting the kubelet`,
      'restart the kubelet: it sends a CSR with the token; the controller-manager approves and signs it (kubeadm RBAC: nodeclient auto-approval)',
    ],
  };
}
