/**
 * The Inventory: everything `read` learns about a node. It is plain data
 * (JSON-serialisable) so that `check -o json`, `/api/inventory`, the
 * dashboard, metrics and the planners all consume the same object.
 */

export type Severity = 'info' | 'warning' | 'error';

export type CertStatus = 'ok' | 'warning' | 'expired' | 'not-yet-valid' | 'invalid';

export type LayoutName = 'kubeadm' | 'kubelet' | 'rke1' | 'rke2' | 'k3s' | 'kubespray' | 'hardway' | 'k0s' | 'microk8s' | 'minikube' | 'kops' | 'generic';

/**
 * who renews a certificate; `k8s-certs-renew.timer`: kubespray's enabled timer (auto_renew_certificates), which runs
 * kubeadm certs renew; `external-etcd-ca`: whoever holds the CA of an external etcd (kubeadm's etcd.external), whose
 * key is not on the node; `k0s`, `microk8s`: the installer signs it again itself; `minikube`: the host's `minikube start`
 * copies its own over it; `kops`: kops writes it on a new instance (docs/layouts.md)
 */
export type ManagedBy = 'kubeadm' | 'kubelet' | 'rke1' | 'rke2' | 'k3s' | 'k0s' | 'microk8s' | 'minikube' | 'kops' | 'k8s-certs-renew.timer' | 'external-etcd-ca' | 'manual';

/** Stable finding codes. Never rename one: alerts and scripts key on them. */
export type FindingCode =
  | 'expired'
  | 'expiring'
  | 'not-yet-valid'
  | 'key-mismatch'
  | 'key-encrypted'
  | 'unknown-signer'
  | 'kubeconfig-ca-mismatch'
  | 'kubeconfig-invalid'
  | 'ca-expires-before-leaf'
  | 'apiserver-san-missing'
  | 'etcd-san-missing'
  | 'kubelet-conf-embedded-cert'
  | 'missing-file'
  | 'unreadable'
  | 'corrupt'
  | 'ca-key-missing'
  | 'key-permissions'
  | 'secret-key-missing'
  | 'weak-key'
  | 'sa-key-type'
  | 'unsupported-key'
  | 'interrupted-run'
  | 'sa-key-mismatch'
  | 'kubelet-rotation-off'
  | 'kubelet-csr-unsigned'
  | 'kubelet-config-invalid'
  | 'negative-serial'
  | 'critical-extension'
  | 'issuer-encoding'
  | 'weak-signature'
  | 'signer-not-ca'
  | 'path-length-exceeded'
  | 'bundle-chain-mismatch'
  | 'restart-pending'
  | 'kubelet-serving-pending'
  | 'kubelet-serving-unused'
  | 'kubeadm-config-invalid'
  | 'read-on-host'
  | 'other-host-copies';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  /** node path of the file concerned */
  file?: string;
  /** id of the certificate concerned */
  certificate?: string;
  /** `file` is a dangling symlink: the node path it points at, which is gone */
  danglingTo?: string;
}

/** Where one certificate lives. */
export interface CertLocation {
  /** node path (as on the node, not under --root) of the file holding it */
  file: string;
  /** `pem` file (bundle), bare `der`, embedded in a `kubeconfig`, or in a `pkcs7` bundle (.p7b, read-only) */
  kind: 'pem' | 'der' | 'kubeconfig' | 'pkcs7';
  /** index of the certificate among the file's certificates of that kind (0 = first) */
  index: number;
  /** for kubeconfig entries */
  kubeconfig?: {
    /** `user` (client-certificate-data) or `cluster` (certificate-authority-data) */
    entry: 'user' | 'cluster';
    /** name of the user or cluster entry */
    name: string;
    /** the field the certificate came from */
    field: 'client-certificate-data' | 'client-certificate' | 'certificate-authority-data' | 'certificate-authority';
  };
  /** when `file` was reached through a symlink (kubelet-client-current.pem) */
  via?: string;
  /** `file` is a Kubernetes object manifest (a Secret's YAML or JSON, k3s's dynamic-cert.json): the object */
  manifest?: string;
  /** for certificates read from the Kubernetes API (`check --cluster`); `file` is then `<kind>/<namespace>/<name>:<key>` */
  cluster?: {
    kind: 'Secret' | 'ConfigMap' | 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'APIService' | 'CertificateSigningRequest';
    namespace?: string;
    name: string;
    /** data key (`tls.crt`, `ca.crt`, `client-ca-file`), webhook name, or `status.certificate` */
    key: string;
  };
}

export interface KeyLocation {
  file: string;
  kind: 'pem' | 'der' | 'kubeconfig';
  /** kubeconfig user when embedded */
  user?: string;
  /** the kubeconfig field it is in (`kind: 'kubeconfig'` only; a client-key file reference is that file, `pem`) */
  field?: 'client-key-data';
  /** key in the same file as the certificate (kubelet-client-*.pem) */
  sameFile?: boolean;
}

export interface SubjectAltName {
  type: 'dns' | 'ip' | 'email' | 'uri' | 'dirname' | 'other';
  value: string;
}

export interface CertEntry {
  /** unique, stable within one inventory: `<file>#<index>` or `<file>#user/<name>` */
  id: string;
  /** kubeadm name (`apiserver`, `etcd-peer`, `admin.conf` …) or a path-based one */
  name: string;
  location: CertLocation;
  /** other places holding the byte-identical certificate (a CA embedded in kubeconfigs, a bundle) */
  copies?: CertLocation[];
  /**
   * the private key paired with a copy in a file (`file`, a location in `copies`): the key beside it, in it, or
   * the one a kubeconfig's client-key pairs with it; a new key must reach these too
   */
  copyKeys?: { file: string; key: KeyLocation }[];
  subject: string;
  subjectCN?: string;
  subjectO: string[];
  issuer: string;
  issuerCN?: string;
  /** lowercase hex */
  serial: string;
  notBefore: string;
  notAfter: string;
  /** seconds from `now` to notAfter (negative when expired) */
  residualSeconds: number;
  /** seconds notAfter − notBefore */
  lifetimeSeconds: number;
  /**
   * when it enters `--warn`'s window: that long before notAfter, or after N% of the lifetime it was issued
   * with (notBefore, or kubeadm's config or installer when notBefore is its CA's: see certificateLifetime)
   */
  warnFrom?: string;
  sans: SubjectAltName[];
  keyUsage: string[];
  extKeyUsage: string[];
  isCA: boolean;
  selfSigned: boolean;
  /**
   * a certificate authority as check lists it (its CA table, the dashboard's and the Markdown report's CA
   * badge): a CA certificate, except the kubelet's own self-signed kubelet.crt, CA:TRUE in form only
   * (see isAuthority)
   */
  authority: boolean;
  keyAlgorithm: string;
  keySize: number;
  curve?: string;
  signatureAlgorithm: string;
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** SHA-256 of the DER, hex */
  fingerprint: string;
  /** SHA-256 of the SubjectPublicKeyInfo, hex (the kubeadm discovery pin for CAs) */
  spkiSha256: string;
  privateKey: {
    present: boolean;
    location?: KeyLocation;
    /** undefined when the key could not be read (encrypted or missing) */
    matches?: boolean;
    encrypted?: boolean;
  };
  /** id of the CA certificate in this inventory whose key made the signature */
  signedBy?: string;
  /** name of that CA (`ca`, `etcd-ca` …) */
  signerName?: string;
  /** components that read this certificate (from manifests and kubelet config) */
  components: string[];
  managedBy: ManagedBy;
  /** profile key when kubepki knows this file (kubeadm table, RKE1 …) */
  profile?: string;
  layout: LayoutName;
  /**
   * kubespray's copy of another host's etcd certificate (member-node2.pem on node1): that host's inventory name.
   * Nothing here reads it; that host reads its own copy (finding other-host-copies)
   */
  forHost?: string;
  status: CertStatus;
  findings: Finding[];
  /** PEM of the certificate (public data; never a key) */
  pem: string;
}

/** A validity period as a kubeadm ClusterConfiguration sets it: whole seconds, and the value as written (`2160h`). */
export interface ConfiguredPeriod {
  seconds: number;
  text: string;
}

/**
 * The certificate lifetimes the node's kubeadm ClusterConfiguration sets (kubeadm.k8s.io/v1beta4, kubeadm 1.31
 * and later; spec §1.3): what `kubeadm certs renew` gives every renewed leaf, and what kubeadm gives its CAs.
 */
export interface KubeadmValidity {
  /** node path of the kubeadm config file they were read from */
  file: string;
  /** `certificateValidityPeriod`: kubeadm's leaves, kubeconfig client certificates included */
  certificateValidityPeriod?: ConfiguredPeriod;
  /** `caCertificateValidityPeriod`: kubeadm's CAs (ca, etcd-ca, front-proxy-ca) */
  caCertificateValidityPeriod?: ConfiguredPeriod;
  /** fields that are set but cannot be used (not a Go duration, or in a config version that has no such field), one line each */
  problems?: { field: 'certificateValidityPeriod' | 'caCertificateValidityPeriod'; message: string }[];
}

/** A file the layout expects whose certificate the inventory does not have. */
export interface MissingEntry {
  name: string;
  file: string;
  layout: LayoutName;
  /**
   * `missing`: not on disk; `unreadable`: there, but no certificate could be read from it (corrupt, empty, a directory, a
   * dangling or looping link). The kubelet's `kubelet-client` is `missing` behind a dangling link too: the kubelet deletes
   * old dated files, and a link to one it deleted is no file it could read.
   */
  state: 'missing' | 'unreadable';
  /** why, in one line (the finding's message) */
  reason: string;
  /** `file` is a dangling symlink: the node path it points at, which is gone */
  danglingTo?: string;
  /** what gives it back, when that depends on more than the inventory shows (kubelet-client on a node whose cluster signs no kubelet request) */
  fix?: string;
}

export interface KeyEntry {
  file: string;
  kind: 'private' | 'public';
  format: string;
  encrypted: boolean;
  keyAlgorithm?: string;
  keySize?: number;
  curve?: string;
  /** an EC key whose curve is spelled out rather than named: Go refuses to load it (finding unsupported-key) */
  explicitParameters?: true;
  spkiSha256?: string;
  /** ids of certificates whose public key this is */
  certificates: string[];
}

export interface KubeconfigEntry {
  file: string;
  clusters: { name: string; server?: string; caFrom?: 'data' | 'file'; caFile?: string }[];
  users: { name: string; certFrom?: 'data' | 'file'; certFile?: string; keyFrom?: 'data' | 'file'; keyFile?: string; token?: boolean;
    /** how this user authenticates: client-certificate, token, exec, basic, auth-provider (none: anonymous) */
    auth: string[] }[];
  currentContext?: string;
}

export interface CsrEntry {
  file: string;
  subject: string;
  sans: SubjectAltName[];
  keyAlgorithm: string;
  /** requested keyUsage and extKeyUsage (empty: not requested) */
  keyUsage: string[];
  extKeyUsage: string[];
  signatureAlgorithm: string;
  /** signed by the key it requests; null: an algorithm kubepki cannot check */
  signatureValid: boolean | null;
  /** it carries a challengePassword (never shown) */
  challengePassword: boolean;
  /** the request as PEM, for inspect -o full: not enumerable, so never in -o json/yaml (its DER holds any challengePassword) */
  readonly pem?: string;
}

export interface ComponentRef {
  component: string;
  /** `--flag` or config field that names the file */
  via: string;
  /** node path */
  file: string;
  /** where this reference was read */
  source: string;
  /** the systemd unit that runs the component, when it is not a static pod (etcd from /etc/etcd.env: `etcd`) */
  unit?: string;
  /** the path the component names, when `file` is where its links lead (kubespray's pki → ssl): the same reference again */
  through?: string;
}

export interface Inventory {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'Inventory';
  /** node root the inventory was read from (host path) */
  root: string;
  nodeName?: string;
  /**
   * The members of this node's etcd when there are several (its data's member list, else its manifest's
   * --initial-cluster): a control-plane node of an HA cluster, whose peers hold certificates of their own
   */
  etcdMembers?: string[];
  /** kube-apiserver's etcd is external (kubeadm's etcd.external): its endpoints and the file that says so */
  externalEtcd?: { endpoints: string[]; source: string };
  /** kube-apiserver's --secure-port when its manifest sets one other than 6443 */
  apiserverPort?: number;
  /** `now` used for every residual time, ISO */
  now: string;
  /**
   * The --now check was given, as typed, when one was: the kubepki commands `next` suggests carry it, so that,
   * copied, they judge the node at the moment of the table the operator read (not this machine's clock)
   */
  nowGiven?: string;
  /** warning threshold as given (`30d`, `66%`) */
  warn: string;
  layouts: LayoutName[];
  certificates: CertEntry[];
  missing: MissingEntry[];
  keys: KeyEntry[];
  kubeconfigs: KubeconfigEntry[];
  csrs: CsrEntry[];
  components: ComponentRef[];
  /** findings not tied to one certificate (corrupt files, missing files …) plus all certificate findings */
  findings: Finding[];
  summary: { certificates: number; ok: number; warning: number; expired: number; notYetValid: number; invalid: number; errors: number; worst: CertStatus };
  /** what to do next, as `check` prints it after `Next:` (empty when nothing needs doing) */
  next?: string;
  /** the node paths given with --path and --kubeconfig, when any: what no layout reads, so `renew all` does not reach it */
  given?: string[];
  /** lifetimes the node's kubeadm config sets (v1beta4 certificateValidityPeriod / caCertificateValidityPeriod), when it sets any */
  kubeadmValidity?: KubeadmValidity;
  /** k0s's data directory when it is not /var/lib/k0s (the --data-dir of its systemd unit's ExecStart) */
  k0sDataDir?: string;
  /** k0s's kubelet root directory when it is not `<k0sDataDir>/kubelet` (the --kubelet-root-dir of that ExecStart): its pki/ */
  k0sKubeletRootDir?: string;
}
