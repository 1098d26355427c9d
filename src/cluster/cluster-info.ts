/**
 * Reading `kube-public/cluster-info` as a joiner does: the kubeconfig string,
 * its server and CA bundle, the CA pins, and which `jws-kubeconfig-<id>`
 * signatures verify with which token.
 */
import { parse } from 'yaml';
import { parsePemBlocks } from '../pki/pem.js';
import { discoveryHash } from '../pki/discovery.js';
import { verifyClusterInfoJws } from '../pki/jws.js';

export interface ClusterInfoView {
  kubeconfig?: string;
  server?: string;
  caPem?: string;
  /** `sha256:<hex>` of every CA certificate in the bundle, in order */
  caHashes: string[];
  /** token ids with a `jws-kubeconfig-<id>` key */
  signedBy: string[];
  /** why the kubeconfig could not be read, if it could not */
  problem?: string;
}

export function readClusterInfo(data: Record<string, string> | undefined | null): ClusterInfoView {
  const d = data ?? {};
  const signedBy = Object.keys(d).filter((k) => k.startsWith('jws-kubeconfig-')).map((k) => k.slice('jws-kubeconfig-'.length)).sort();
  const kubeconfig = d.kubeconfig;
  if (!kubeconfig) return { caHashes: [], signedBy, problem: 'cluster-info has no kubeconfig key' };
  try {
    const doc = parse(kubeconfig) as { clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[] };
    const cluster = doc?.clusters?.[0]?.cluster;
    const caPem = cluster?.['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') : undefined;
    const caHashes = caPem ? parsePemBlocks(caPem).filter((b) => b.label === 'CERTIFICATE').map((b) => discoveryHash(b.der)) : [];
    return { kubeconfig, server: cluster?.server, caPem, caHashes, signedBy, problem: caHashes.length ? undefined : 'cluster-info kubeconfig carries no CA certificate' };
  } catch (e) {
    return { kubeconfig, caHashes: [], signedBy, problem: `cluster-info kubeconfig is not readable: ${(e as Error).message}` };
  }
}

/** Whether `jws-kubeconfig-<id>` is present and verifies with the token's secret over the stored kubeconfig. */
export function clusterInfoSignedBy(data: Record<string, string> | undefined | null, tokenId: string, tokenSecret: string): boolean {
  const jws = data?.[`jws-kubeconfig-${tokenId}`];
  const kc = data?.kubeconfig;
  return Boolean(jws && kc !== undefined && verifyClusterInfoJws(jws, kc, tokenId, tokenSecret));
}
