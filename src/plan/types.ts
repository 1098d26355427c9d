/**
 * A Plan: what a command will do to a node, as plain JSON. `--dry-run` prints
 * it, `--plan-out` saves it, `apply` carries it out. Nothing in here is secret:
 * keys are named by file, never included.
 */
import type { CertLocation, KeyLocation } from '../inventory/types.js';
import type { KeyType } from '../pki/keygen.js';

export type PlanItemKind =
  /** a certificate in a PEM/DER file, signed by a CA we hold the key of */
  | 'leaf'
  /** a CA certificate re-issued with the same key, subject and key identifier */
  | 'ca'
  /** a client certificate embedded in a kubeconfig (`client-certificate-data`) */
  | 'kubeconfig'
  /** the kubelet's rotated client pem (`kubelet-client-<time>.pem` + `-current` symlink) */
  | 'kubelet-client'
  /** the kubelet's rotated serving pem (`kubelet-server-<time>.pem` + `-current` symlink, serverTLSBootstrap), stored the same way */
  | 'kubelet-server'
  /** the kubelet's self-signed serving pair (leaf + throwaway CA in `kubelet.crt`) */
  | 'kubelet-serving'
  /** a copy of a renewed CA: bundle member or kubeconfig `certificate-authority-data` */
  | 'ca-copy';

export interface PlanCertState {
  serial: string;
  notBefore: string;
  notAfter: string;
}

export interface PlanItem {
  /** inventory id of the certificate */
  id: string;
  name: string;
  kind: PlanItemKind;
  location: CertLocation;
  /** subject as text, for people */
  subject: string;
  old: PlanCertState;
  /** absent for `ca-copy` (takes whatever its CA becomes) */
  new?: PlanCertState;
  key: {
    action: 'keep' | 'new';
    type?: KeyType;
    /** where the key lives now (and is written when `new`) */
    location?: KeyLocation;
  };
  /** who signs: the CA's inventory id, `self` (CA renewal), or `throwaway` (kubelet serving) */
  signer: { id: string; name: string; certFile: string; keyFile: string } | 'self' | 'throwaway';
  /** names added with --add-san (kept names are copied verbatim) */
  addSans: { type: 'dns' | 'ip' | 'email' | 'uri'; value: string }[];
  /** for `ca-copy`: the id of the CA item it follows */
  follows?: string;
  /** for kubeconfig clusters refreshed from the node CA, kubelet symlink swaps, kubelet.conf repointing */
  notes: string[];
}

export interface PlanFile {
  /** node path */
  path: string;
  kind: 'certificate' | 'key' | 'kubeconfig' | 'pem-bundle' | 'kubelet-pem' | 'symlink';
  /** items (ids) that change this file */
  items: string[];
  /** a new file (the kubelet's timestamped pem) rather than a rewrite */
  create?: boolean;
  /** symlink target (node path) for `symlink` */
  target?: string;
  /** `symlink` over a regular file (a kubelet-client/-server-current.pem copied without its link) */
  replacesFile?: boolean;
  /** mode for new files */
  mode?: number;
  /** an existing file that holds a private key and that others could read: written with mode `to` (keyFileMode) */
  keyMode?: { from: number; to: number };
}

export interface PlanRestart {
  component: string;
  how: 'static-pod' | 'systemd' | 'docker' | 'none';
  /** static pod manifest (node path) */
  manifest?: string;
  /** systemd unit */
  unit?: string;
  /** docker container (RKE1 runs every component, the kubelet too, as a container named after it) */
  container?: string;
  /** changed files that make the restart necessary */
  because: string[];
  /** what an operator would type */
  command: string;
  /** after the restart this endpoint must serve `certFile` (node path): checked with a TLS probe */
  endpoint?: { host: string; port: number; certFile: string };
  /** what to mind around this restart (etcd with other members: one node at a time, quorum) */
  caution?: string;
}

export interface PlanResult {
  id: string;
  name: string;
  /**
   * `ca-missing`: the CA's own files are gone from this node (not an external CA: restore or copy it);
   * `not-needed`: someone else renews it in time (the kubelet its valid client certificate) — not a failure;
   * `missing`: an expected file (kubeadm's) is not there or holds no readable certificate: renew renews what is there
   */
  outcome: 'externally-managed' | 'ca-missing' | 'skipped' | 'unsupported' | 'not-needed' | 'missing';
  message: string;
  /** node path of the CSR to write (under --csr-out) */
  csr?: string;
  /** where the signed certificate for `csr` must go, and what the CA must add (for people) */
  install?: string[];
  /** names --add-san adds that `csr` asks for besides the certificate's own */
  addSans?: PlanItem['addSans'];
}

/** Something the plan cannot do on this node but the operator must do elsewhere (other nodes, the cluster, users). */
export interface PlanNote {
  topic: 'outside-this-node';
  /** inventory id of the certificate it is about */
  about: string;
  /** one line saying why */
  title: string;
  /** one step each */
  steps: string[];
}

export interface Plan {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'Plan';
  action: 'renew' | 'rebuild' | 'restore' | string;
  /** host root the plan was made for */
  root: string;
  /** `now` the plan was made with, ISO */
  now: string;
  items: PlanItem[];
  files: PlanFile[];
  restarts: PlanRestart[];
  results: PlanResult[];
  warnings: string[];
  /** what must also happen outside this node (a renewed CA reaching every other copy) */
  notes?: PlanNote[];
  /** file name (timestamp) of the new kubelet client pem, when one is made */
  csrOut?: string;
}
