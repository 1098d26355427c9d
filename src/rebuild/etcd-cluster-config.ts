/**
 * The cluster's own kubeadm configuration, read from the etcd data left on a control-plane node: with
 * /etc/kubernetes gone the API server cannot start (its certificates went with it), so `kubectl get cm` is
 * out of reach, but its etcd's database still holds every object. Two are read here:
 * - `kube-system/kubeadm-config`, data.ClusterConfiguration: what `kubeadm init`/`upgrade apply` uploaded and
 *   what kubeadm itself reads back (upgrade, join, certs renew): certSANs, controlPlaneEndpoint, networking,
 *   kubernetesVersion, the components' extraArgs… that nothing else on the node may still say;
 * - `kube-public/cluster-info`, data.kubeconfig: the cluster's CA certificate, which a ca.crt on the node
 *   should be.
 * apiserver stores an object under `/registry/<resource>/<namespace>/<name>` (its --etcd-prefix, `/registry`
 * by default, kubeadm's too), protobuf-encoded unless --storage-media-type says JSON, and encrypted when
 * encryption at rest covers it (then nothing can be read without its key: said once, and the rest goes on).
 */
import { parse as parseYaml } from 'yaml';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { readEtcdKeys, type EtcdKeyValue } from './etcd-kv.js';
import { protoFields, protoBytes, protoString } from './protobuf.js';
import type { BboltLimits } from './bbolt.js';

export const KUBEADM_CONFIG_KEY = '/registry/configmaps/kube-system/kubeadm-config';
export const CLUSTER_INFO_KEY = '/registry/configmaps/kube-public/cluster-info';

/** What the data of a ConfigMap value stored by apiserver is, or why it cannot be read. */
export type StoredConfigMap = { data: Record<string, string> } | { encrypted: string } | { error: string };

/** protobuf.go's magic: "k8s" and a zero byte before a runtime.Unknown. */
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** the prefix of a value encrypted at rest (apiserver/pkg/storage/value/encrypt: k8s:enc:<provider>:v1:<key name>:) */
const ENCRYPTED = 'k8s:enc:';

/**
 * A ConfigMap as apiserver stores it: `k8s\0` + runtime.Unknown (apimachinery
 * pkg/runtime/serializer/protobuf/protobuf.go; pkg/runtime/generated.proto: typeMeta = 1 {apiVersion = 1,
 * kind = 2}, raw = 2, contentEncoding = 3, contentType = 4) whose raw is a v1.ConfigMap (api core/v1/generated.proto:
 * metadata = 1, data = 2 as map<string, string> entries {key = 1, value = 2}, binaryData = 3, immutable = 4); or
 * JSON (--storage-media-type=application/json); or `k8s:enc:…`, encrypted at rest.
 */
export function decodeStoredConfigMap(value: Buffer): StoredConfigMap {
  if (value.subarray(0, ENCRYPTED.length).toString('latin1') === ENCRYPTED) {
    const provider = value.subarray(ENCRYPTED.length, ENCRYPTED.length + 64).toString('latin1').split(':')[0]!.replace(/[^\w-]/g, '');
    return { encrypted: `${ENCRYPTED}${provider}` };
  }
  try {
    if (value.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
      const unknown = protoFields(value.subarray(4));
      const typeMeta = protoFields(protoBytes(unknown, 1) ?? Buffer.alloc(0));
      const [apiVersion, kind] = [protoString(typeMeta, 1) ?? '', protoString(typeMeta, 2) ?? ''];
      if (apiVersion !== 'v1' || kind !== 'ConfigMap') return { error: `a ${apiVersion}/${kind}, not a v1 ConfigMap` };
      const encoding = protoString(unknown, 3) ?? '', type = protoString(unknown, 4) ?? '';
      if (encoding !== '' || (type !== '' && type !== 'application/vnd.kubernetes.protobuf')) return { error: `content ${type || 'protobuf'}${encoding ? ` encoded ${encoding}` : ''}` };
      const data: Record<string, string> = {};
      for (const f of protoFields(protoBytes(unknown, 2) ?? Buffer.alloc(0))) {
        if (f.field !== 2) continue;
        if (f.wire !== 2) throw new Error('data is not length-delimited');
        const entry = protoFields(f.bytes);
        data[protoString(entry, 1) ?? ''] = protoString(entry, 2) ?? '';
      }
      return { data };
    }
    if (value[0] === 0x7b) {
      const o = JSON.parse(value.toString('utf8')) as { apiVersion?: unknown; kind?: unknown; data?: unknown };
      if (o.kind !== 'ConfigMap') return { error: `a ${String(o.kind)}, not a ConfigMap` };
      const data: Record<string, string> = {};
      if (o.data && typeof o.data === 'object') for (const [k, v] of Object.entries(o.data)) if (typeof v === 'string') data[k] = v;
      return { data };
    }
    return { error: 'neither protobuf (k8s\\0) nor JSON' };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export interface EtcdClusterConfig {
  /** the database's node path */
  db: string;
  /** kube-system/kubeadm-config's data.ClusterConfiguration, with the label its settings carry */
  kubeadm?: { text: string; label: string };
  /** the CA certificates of kube-public/cluster-info's kubeconfig, with where they came from */
  clusterCa?: { certs: Certificate[]; label: string };
  warnings: string[];
}

/**
 * The kubeadm-config and cluster-info ConfigMaps of the etcd data in `dataDir` (a node path), each at its latest
 * revision; undefined when there is no database. What cannot be used (deleted, encrypted, damaged, beyond the
 * budget) is left out, with a warning unless it was deleted (a cluster may have no such object).
 */
export function readEtcdClusterConfig(nfs: NodeFs, dataDir: string, limits?: BboltLimits): EtcdClusterConfig | undefined {
  const read = readEtcdKeys(nfs, dataDir, [KUBEADM_CONFIG_KEY, CLUSTER_INFO_KEY], limits);
  if (!read) return undefined;
  const { db } = read;
  const out: EtcdClusterConfig = { db, warnings: [] };
  const notRead = `the cluster's kubeadm-config ConfigMap in it was not read, so the settings come from the rest of the node (pass --config with a copy of its ClusterConfiguration if one is kept elsewhere)`;
  if ('unreadable' in read) {
    out.warnings.push(`${db}: cannot read the etcd database (${read.unreadable}); ${notRead}`);
    return out;
  }
  const name = (kv: EtcdKeyValue) => kv.key.replace(/^\/registry\/configmaps\//, '');
  const label = (kv: EtcdKeyValue) => `${db} (${name(kv)}, revision ${kv.revision})`;
  const encrypted: string[] = [];
  const data = (key: string): { kv: EtcdKeyValue; data: Record<string, string> } | undefined => {
    const kv = read.found.get(key);
    if (!kv || kv.deleted) return undefined;
    const cm = decodeStoredConfigMap(kv.value);
    if ('encrypted' in cm) { encrypted.push(`${name(kv)} (${cm.encrypted})`); return undefined; }
    if ('error' in cm) { out.warnings.push(`${label(kv)}: cannot decode it (${cm.error}); ignored`); return undefined; }
    return { kv, data: cm.data };
  };
  const kubeadm = data(KUBEADM_CONFIG_KEY);
  const text = kubeadm?.data.ClusterConfiguration;
  if (kubeadm && text) out.kubeadm = { text, label: label(kubeadm.kv) };
  else if (kubeadm) out.warnings.push(`${label(kubeadm.kv)}: has no data.ClusterConfiguration; ignored`);
  const info = data(CLUSTER_INFO_KEY);
  if (info) {
    const certs = clusterInfoCas(info.data.kubeconfig);
    if (certs.length > 0) out.clusterCa = { certs, label: label(info.kv) };
  }
  if (encrypted.length > 0) {
    out.warnings.push(`${db}: ${encrypted.join(' and ')} ${encrypted.length === 1 ? 'is' : 'are'} encrypted at rest and cannot be read without the apiserver's encryption key; going on without ${encrypted.length === 1 ? 'it' : 'them'} (pass --config with a copy of kubeadm-config's ClusterConfiguration if one is kept elsewhere)`);
  }
  if (read.incomplete && !(read.found.has(KUBEADM_CONFIG_KEY))) out.warnings.push(`${db}: ${read.incomplete}; ${notRead}`);
  return out;
}

/** The CA certificates of cluster-info's kubeconfig (its one cluster's certificate-authority-data). */
function clusterInfoCas(kubeconfig: string | undefined): Certificate[] {
  if (!kubeconfig) return [];
  try {
    const cfg = parseYaml(kubeconfig) as { clusters?: { cluster?: { 'certificate-authority-data'?: unknown } }[] };
    const b64 = cfg?.clusters?.[0]?.cluster?.['certificate-authority-data'];
    if (typeof b64 !== 'string') return [];
    return parsePemBlocks(Buffer.from(b64, 'base64').toString('utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => new Certificate(b.der));
  } catch { return []; }
}
