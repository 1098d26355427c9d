import { sha256Hex } from './digest.js';
import { Certificate } from './certificate.js';
import { parsePemBlocks } from './pem.js';

/**
 * Token discovery (spec §5): the `--discovery-token-ca-cert-hash` pin and the
 * `kube-public/cluster-info` kubeconfig that joiners fetch and check against it.
 */

export const DISCOVERY_HASH_REGEX = /^sha256:([0-9a-f]{64})$/i;

/** `sha256:` + lowercase hex SHA-256 of the CA's DER SubjectPublicKeyInfo (RSA, ECDSA, Ed25519 alike). */
export function discoveryHash(ca: Uint8Array | Certificate): string {
  const cert = ca instanceof Certificate ? ca : new Certificate(ca);
  return `sha256:${sha256Hex(cert.spkiRaw)}`;
}

/** Discovery hashes of every CERTIFICATE block in a PEM bundle, in order. */
export function discoveryHashesOfPem(pem: string): string[] {
  return parsePemBlocks(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => discoveryHash(b.der));
}

/** Normalise a `sha256:<hex>` pin (case-insensitive, as kubeadm parses it); undefined when malformed. */
export function parseDiscoveryHash(s: string): string | undefined {
  const m = DISCOVERY_HASH_REGEX.exec(s.trim());
  return m ? `sha256:${m[1]!.toLowerCase()}` : undefined;
}

function yamlScalar(s: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[A-Za-z0-9:/._[\]%@-]*$/.test(s) ? s : JSON.stringify(s);
}

/**
 * The `kubeconfig` value of `cluster-info`, byte-for-byte in the shape
 * kubeadm's Go serializer writes: one cluster named "" with the CA bundle and
 * the server, no users or contexts.
 */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  const caData = Buffer.from(caPem, 'utf8').toString('base64');
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${caData}`,
    `    server: ${yamlScalar(server)}`,
    '  name: ""',
    'contexts: null',
    'current-context: ""',
    'kind: Config',
    'preferences: {}',
    'users: null',
    '',
  ].join('\n');
}

export interface ConfigMapManifest {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string };
  data: Record<string, string>;
}

/**
 * The `kube-public/cluster-info` ConfigMap for `server` and CA bundle
 * `caPem`, with `jws-kubeconfig-<id>` entries for the given signatures
 * (map token id → JWS; make them with `signClusterInfo`).
 */
export function clusterInfoConfigMap(server: string, caPem: string, jws: Record<string, string> = {}): ConfigMapManifest {
  const data: Record<string, string> = {};
  for (const [id, sig] of Object.entries(jws)) data[`jws-kubeconfig-${id}`] = sig;
  data.kubeconfig = clusterInfoKubeconfig(server, caPem);
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data };
}
