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
  let byPath = PROFILE_BY_PATH.get(pkiDir);
  if (!byPath) {
    if (PROFILE_BY_PATH.size >= 8) PROFILE_BY_PATH.clear(); // (a long-lived process reading many trees)
    PROFILE_BY_PATH.set(pkiDir, (byPath = new Map(KUBEADM_PROFILES.map((p) => [profileCertPath(p, pkiDir), p]))));
  }
  return byPath.get(nodePath);
}
/** PKI dir → certificate path → profile (an inventory asks hundreds of times, of one or two PKI dirs) */
const PROFILE_BY_PATH = new Map<string, Map<string, KubeadmCertProfile>>();

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

/**
 * kube-apiserver's loopback pair on a k3s or RKE2 server (its --cert-dir is server/tls/temporary-certs): client-go's
 * GenerateSelfSignedCertKeyWithFixtures names the file `<host>_<ips>_<dns>` (so `apiserver-loopback-client__`), writes
 * the leaf then its own CA (`apiserver-loopback-client-ca@<unix>`), and reads the file as it is at every later start,
 * whatever its dates. Neither k3s's start-up renewal nor `certificate rotate` touches it (k3s's rotation e2e test lists
 * it among the files left identical): only deleting the pair makes kube-apiserver write a new one.
 */
export function isRancherLoopback(file: string): boolean {
  return file === '/var/lib/rancher/k3s/server/tls/temporary-certs/apiserver-loopback-client__.crt'
    || file === '/var/lib/rancher/rke2/server/tls/temporary-certs/apiserver-loopback-client__.crt';
}

/**
 * What reads what on a k3s or RKE2 node, when nothing on disk says so (k3s runs every component inside its one
 * process; RKE2 runs the kubelet there, and its static pods name the rest): the path under
 * /var/lib/rancher/<distro>/ without extension → components (k3s pkg/daemons/control/deps, server.go).
 * `<distro>` is k3s or rke2: the agent's network policy controller and the supervisor run in the unit itself.
 */
export const RANCHER_COMPONENTS: Record<string, string[]> = {
  'server/tls/client-ca': ['kube-apiserver', 'kube-controller-manager'],
  'server/tls/server-ca': ['kube-apiserver', 'kube-controller-manager'],
  'server/tls/request-header-ca': ['kube-apiserver'],
  'server/tls/etcd/server-ca': ['etcd', 'kube-apiserver'],
  'server/tls/etcd/peer-ca': ['etcd'],
  'server/tls/temporary-certs/apiserver-loopback-client__': ['kube-apiserver'],
  'server/tls/serving-kube-apiserver': ['kube-apiserver'],
  'server/tls/client-kube-apiserver': ['kube-apiserver'],
  'server/tls/client-auth-proxy': ['kube-apiserver'],
  'server/tls/etcd/client': ['kube-apiserver'],
  'server/tls/etcd/server-client': ['etcd'],
  'server/tls/etcd/peer-server-client': ['etcd'],
  'server/tls/client-controller': ['kube-controller-manager'],
  'server/tls/kube-controller-manager/kube-controller-manager': ['kube-controller-manager'],
  'server/tls/client-scheduler': ['kube-scheduler'],
  'server/tls/kube-scheduler/kube-scheduler': ['kube-scheduler'],
  'server/tls/client-<distro>-cloud-controller': ['cloud-controller-manager'],
  'server/tls/client-supervisor': ['<distro>'],
  'server/tls/dynamic-cert': ['<distro>'],
  'agent/client-ca': ['kubelet'],
  'agent/server-ca': ['kubelet', 'kube-proxy'],
  'agent/client-kubelet': ['kubelet'],
  'agent/serving-kubelet': ['kubelet'],
  'agent/client-kube-proxy': ['kube-proxy'],
  'agent/client-<distro>-controller': ['<distro>'],
};
