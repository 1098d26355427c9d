/**
 * planJoin: everything a node needs to (re)join: a bootstrap token, the
 * discovery hash of the CA (SHA-256 over its SubjectPublicKeyInfo: works for
 * RSA and ECDSA alike), the worker and control-plane `kubeadm join` commands,
 * and the manifests the cluster must hold for them to work (spec §5, §6): the
 * token Secret, `kube-public/cluster-info` with the CA and the token's JWS,
 * and for control-plane joins the encrypted `kube-system/kubeadm-certs` Secret
 * with the Role that lets bootstrap tokens read it. Pure: no I/O, no clock.
 */
import { parseToken, tokenSecretManifest, DEFAULT_TOKEN_GROUP, type SecretManifest } from '../pki/bootstrap-token.js';
import { signClusterInfo } from '../pki/jws.js';
import { discoveryHashesOfPem, clusterInfoConfigMap, type ConfigMapManifest } from '../pki/discovery.js';
import { kubeadmCertsSecret } from '../pki/upload-certs.js';

export interface PlanJoinInput {
  /** PEM of the cluster CA (ca.crt; a bundle is allowed) */
  caPem: string;
  /** API server URL joiners use (`https://host:port`) */
  server: string;
  /** `id.secret` (make one with generateToken) */
  token: string;
  /** token TTL in seconds; 0 = never expires */
  ttlSeconds: number;
  now: Date;
  /** for control-plane joins: the certificate key and the sealed shared files (sealFiles) */
  controlPlane?: { certificateKey: string; sealed: Record<string, string> };
  description?: string;
}

export interface JoinPlan {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'JoinPlan';
  tokenId: string;
  /** `host:port` joiners dial */
  endpoint: string;
  discoveryHashes: string[];
  expiration?: string;
  workerCommand: string;
  controlPlaneCommand?: string;
  /** apply with `kubectl apply -f` (they hold the token secret: keep the file private) */
  manifests: (SecretManifest | ConfigMapManifest | Record<string, unknown>)[];
}

export function endpointOf(server: string): string {
  return server.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

export function planJoin(i: PlanJoinInput): JoinPlan {
  const { id, secret } = parseToken(i.token);
  const hashes = discoveryHashesOfPem(i.caPem);
  if (hashes.length === 0) throw new Error('no CERTIFICATE in the CA PEM');
  const endpoint = endpointOf(i.server);
  const tokenSecret = tokenSecretManifest({ token: i.token, ttlSeconds: i.ttlSeconds, description: i.description ?? 'Bootstrap token made by kubepki join' }, i.now);
  const clusterInfo = clusterInfoConfigMap(i.server, i.caPem);
  clusterInfo.data[`jws-kubeconfig-${id}`] = signClusterInfo(clusterInfo.data.kubeconfig!, id, secret);
  // keep kubeadm's key order: jws entries first, kubeconfig last
  clusterInfo.data = Object.fromEntries(Object.entries(clusterInfo.data).sort(([a], [b]) => (a === 'kubeconfig' ? 1 : b === 'kubeconfig' ? -1 : a.localeCompare(b))));
  const worker = [`kubeadm join ${endpoint}`, `--token ${i.token}`, ...hashes.map((h) => `--discovery-token-ca-cert-hash ${h}`)];
  const manifests: JoinPlan['manifests'] = [tokenSecret, clusterInfo];
  let controlPlaneCommand: string | undefined;
  if (i.controlPlane) {
    controlPlaneCommand = [...worker, '--control-plane', `--certificate-key ${i.controlPlane.certificateKey}`].join(' \\\n    ');
    manifests.push(kubeadmCertsSecret(i.controlPlane.sealed));
    manifests.push(...kubeadmCertsRbac());
  }
  const exp = tokenSecret.data.expiration ? Buffer.from(tokenSecret.data.expiration, 'base64').toString() : undefined;
  return {
    apiVersion: 'kubepki.io/v1alpha1', kind: 'JoinPlan', tokenId: id, endpoint, discoveryHashes: hashes,
    ...(exp ? { expiration: exp } : {}),
    workerCommand: worker.join(' \\\n    '), controlPlaneCommand, manifests,
  };
}

/**
 * kubeadm's upload-certs RBAC (spec §6): the Role and RoleBinding
 * `kube-system/kubeadm:kubeadm-certs` that let bootstrap tokens `get` the
 * kubeadm-certs Secret. A cluster made without `--upload-certs` has neither,
 * and `kubeadm join --control-plane --certificate-key` then fails with 403.
 */
export function kubeadmCertsRbac(): [Record<string, any>, Record<string, any>] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
      metadata: { name: 'kubeadm:kubeadm-certs', namespace: 'kube-system' },
      rules: [{ apiGroups: [''], resourceNames: ['kubeadm-certs'], resources: ['secrets'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
      metadata: { name: 'kubeadm:kubeadm-certs', namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadm:kubeadm-certs' },
      subjects: [{ kind: 'Group', name: DEFAULT_TOKEN_GROUP }],
    },
  ];
}
