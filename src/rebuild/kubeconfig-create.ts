/**
 * New kubeconfig files in the exact shape kubeadm writes (spec §2): one
 * cluster, one user named after the client CN, one context `<user>@<cluster>`
 * that is also current-context, CA and client cert/key embedded, keys sorted.
 */
import { toKubeYaml } from '../manifests/static-pods.js';

export interface EmbeddedKubeconfig {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** instead of embedded cert/key: file references (the kubelet's rotated pem) */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** bootstrap token (bootstrap-kubelet.conf) */
  token?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function renderKubeconfig(k: EmbeddedKubeconfig): string {
  const user: Record<string, string> = {};
  if (k.clientCertPem) user['client-certificate-data'] = b64(k.clientCertPem);
  if (k.clientKeyPem) user['client-key-data'] = b64(k.clientKeyPem);
  if (k.clientCertFile) user['client-certificate'] = k.clientCertFile;
  if (k.clientKeyFile) user['client-key'] = k.clientKeyFile;
  if (k.token) user.token = k.token;
  const context = `${k.userName}@${k.clusterName}`;
  return toKubeYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(k.caPem), server: k.server }, name: k.clusterName }],
    contexts: [{ context: { cluster: k.clusterName, user: k.userName }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: k.userName, user }],
  });
}
