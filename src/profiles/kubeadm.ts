/**
 * The kubeadm certificate table as data (spec §1.1, §2, §4.1): each entry's
 * CLI name, where it lives, which CA signs it and the UX long name. Names in
 * `check`, `renew NAME` and help are generated from this table.
 */

export interface KubeadmCertProfile {
  /** CLI name: `apiserver`, `etcd-peer`, `admin.conf` … */
  name: string;
  /** `pki` pair (base name under the PKI dir) or a kubeconfig file under /etc/kubernetes */
  kind: 'pki' | 'kubeconfig';
  /** `apiserver` → pki/apiserver.crt + .key; `admin.conf` → /etc/kubernetes/admin.conf */
  baseName: string;
  /** CA name (`ca`, `etcd-ca`, `front-proxy-ca`); undefined for CAs themselves */
  caName?: string;
  isCA?: boolean;
  longName: string;
  /** listed by `kubeadm certs check-expiration` (and so expected on a control-plane node) */
  checkExpiration: boolean;
  /** needs local etcd */
  etcd?: boolean;
}

export const KUBEADM_CAS: KubeadmCertProfile[] = [
  { name: 'ca', kind: 'pki', baseName: 'ca', isCA: true, longName: 'self-signed Kubernetes CA to provision identities for other Kubernetes components', checkExpiration: true },
  { name: 'etcd-ca', kind: 'pki', baseName: 'etcd/ca', isCA: true, longName: 'self-signed CA to provision identities for etcd', checkExpiration: true, etcd: true },
  { name: 'front-proxy-ca', kind: 'pki', baseName: 'front-proxy-ca', isCA: true, longName: 'self-signed CA to provision identities for front proxy', checkExpiration: true },
];

export const KUBEADM_LEAVES: KubeadmCertProfile[] = [
  { name: 'admin.conf', kind: 'kubeconfig', baseName: 'admin.conf', caName: 'ca', longName: 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself', checkExpiration: true },
  { name: 'apiserver', kind: 'pki', baseName: 'apiserver', caName: 'ca', longName: 'certificate for serving the Kubernetes API', checkExpiration: true },
  { name: 'apiserver-etcd-client', kind: 'pki', baseName: 'apiserver-etcd-client', caName: 'etcd-ca', longName: 'certificate the apiserver uses to access etcd', checkExpiration: true, etcd: true },
  { name: 'apiserver-kubelet-client', kind: 'pki', baseName: 'apiserver-kubelet-client', caName: 'ca', longName: 'certificate for the API server to connect to kubelet', checkExpiration: true },
  { name: 'controller-manager.conf', kind: 'kubeconfig', baseName: 'controller-manager.conf', caName: 'ca', longName: 'certificate embedded in the kubeconfig file for the controller manager to use', checkExpiration: true },
  { name: 'etcd-healthcheck-client', kind: 'pki', baseName: 'etcd/healthcheck-client', caName: 'etcd-ca', longName: 'certificate for liveness probes to healthcheck etcd', checkExpiration: true, etcd: true },
  { name: 'etcd-peer', kind: 'pki', baseName: 'etcd/peer', caName: 'etcd-ca', longName: 'certificate for etcd nodes to communicate with each other', checkExpiration: true, etcd: true },
  { name: 'etcd-server', kind: 'pki', baseName: 'etcd/server', caName: 'etcd-ca', longName: 'certificate for serving etcd', checkExpiration: true, etcd: true },
  { name: 'front-proxy-client', kind: 'pki', baseName: 'front-proxy-client', caName: 'front-proxy-ca', longName: 'certificate for the front proxy client', checkExpiration: true },
  { name: 'scheduler.conf', kind: 'kubeconfig', baseName: 'scheduler.conf', caName: 'ca', longName: 'certificate embedded in the kubeconfig file for the scheduler manager to use', checkExpiration: true },
  { name: 'super-admin.conf', kind: 'kubeconfig', baseName: 'super-admin.conf', caName: 'ca', longName: 'certificate embedded in the kubeconfig file for the super-admin', checkExpiration: false },
  { name: 'kubelet.conf', kind: 'kubeconfig', baseName: 'kubelet.conf', caName: 'ca', longName: 'kubeconfig the kubelet uses to talk to the API server', checkExpiration: false },
];

export const KUBEADM_PROFILES = [...KUBEADM_CAS, ...KUBEADM_LEAVES];

export const KDIR = '/etc/kubernetes';
export const DEFAULT_PKI = '/etc/kubernetes/pki';
/** The kubelet's files as kubeadm lays them out (inventory and plans both name them: no imports here). */
export const KUBELET_PKI_DIR = '/var/lib/kubelet/pki';
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';
export const BOOTSTRAP_KUBELET_CONF = '/etc/kubernetes/bootstrap-kubelet.conf';

/** Node path of a profile's certificate file under a PKI dir. */
export function profileCertPath(p: KubeadmCertProfile, pkiDir = DEFAULT_PKI): string {
  return p.kind === 'pki' ? `${pkiDir}/${p.baseName}.crt` : `${KDIR}/${p.baseName}`;
}

export function profileKeyPath(p: KubeadmCertProfile, pkiDir = DEFAULT_PKI): string | undefined {
  return p.kind === 'pki' ? `${pkiDir}/${p.baseName}.key` : undefined;
}

/** Profile of a node path, if kubeadm knows it. */
export function kubeadmProfileForFile(nodePath: string, pkiDir = DEFAULT_PKI): KubeadmCertProfile | undefined {
  return KUBEADM_PROFILES.find((p) => profileCertPath(p, pkiDir) === nodePath);
}

export function kubeadmProfile(name: string): KubeadmCertProfile | undefined {
  return KUBEADM_PROFILES.find((p) => p.name === name);
}

/**
 * What reads what, when no manifest says so (RKE1 runs its components as
 * plain containers, not static pods): certificate name → components.
 */
export const RKE1_COMPONENTS: Record<string, string[]> = {
  'kube-apiserver': ['kube-apiserver'],
  'kube-apiserver-proxy-client': ['kube-apiserver'],
  'kube-controller-manager': ['kube-controller-manager'],
  'kube-scheduler': ['kube-scheduler'],
  'kube-proxy': ['kube-proxy'],
  'kube-node': ['kubelet'],
  'kube-ca': ['kube-apiserver', 'kube-controller-manager', 'kubelet', 'kube-proxy', 'kube-scheduler'],
  'kube-apiserver-requestheader-ca': ['kube-apiserver'],
  'kube-service-account-token': ['kube-apiserver', 'kube-controller-manager'],
};
