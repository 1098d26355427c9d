/**
 * The settings a rebuild needs, and where each value came from. Sources give
 * partial answers; `resolveSettings` picks, field by field, the first source
 * in priority order that knows it (flags, then --config, then what survives on
 * the node, then kubeadm's defaults), and remembers the others for `--dry-run`.
 * Pure: no I/O, no clock.
 */
import { UserError } from '../errors.js';
import type { KeyType, ClusterFacts } from '../profiles/rebuild.js';
import { DEFAULT_CA_VALIDITY_MS, DEFAULT_LEAF_VALIDITY_MS, DEFAULT_IMAGE_REPOSITORY } from '../profiles/rebuild.js';

export interface RebuildSettings extends ClusterFacts {
  podSubnet: string;
  imageRepository: string;
  /** full etcd image reference (`registry.k8s.io/etcd:3.5.6-0`), empty = kubeadm's default for the version */
  etcdImage: string;
  etcdDataDir: string;
  certificatesDir: string;
  keyType: KeyType;
  validityMs: number;
  caValidityMs: number;
  /** etcd.external (endpoints and the apiserver's client files); empty with local etcd */
  etcdExternal: EtcdExternal;
}

export interface EtcdExternal { endpoints: string[]; caFile: string; certFile: string; keyFile: string }

export type SettingName = keyof RebuildSettings;

export interface Sourced<T = unknown> {
  value: T;
  /** human description: `flag --node-name`, `/etc/kubernetes/manifests/etcd.yaml (--name)`, `kubeadm default` */
  source: string;
}

/** One source's partial answer. */
export type SettingsSource = Partial<{ [K in SettingName]: Sourced<RebuildSettings[K]> }>;

export interface ResolvedSettings {
  settings: RebuildSettings;
  provenance: { [K in SettingName]: Sourced<RebuildSettings[K]> };
  /** other sources that gave a different value (shown by --dry-run) */
  overridden: { name: SettingName; value: unknown; source: string }[];
  warnings: string[];
}

/** The flag that supplies each setting, for "cannot find X: pass --flag". */
export const SETTING_FLAGS: Record<SettingName, string> = {
  nodeName: '--node-name',
  advertiseAddress: '--advertise-address',
  bindPort: '--bind-port',
  controlPlaneEndpoint: '--control-plane-endpoint',
  serviceSubnet: '--service-cidr',
  podSubnet: '--pod-network-cidr',
  dnsDomain: '--dns-domain',
  certSANs: '--cert-sans',
  etcdServerCertSANs: '--config (etcd.local.serverCertSANs)',
  etcdPeerCertSANs: '--config (etcd.local.peerCertSANs)',
  clusterName: '--config (clusterName)',
  kubernetesVersion: '--kubernetes-version',
  externalEtcd: '--config (etcd.external)',
  imageRepository: '--image-repository',
  etcdImage: '--config (etcd.local.imageRepository/imageTag)',
  etcdDataDir: '--config (etcd.local.dataDir)',
  certificatesDir: '--config (certificatesDir)',
  keyType: '--key-type',
  validityMs: '--validity',
  caValidityMs: '--ca-validity',
  etcdExternal: '--config (etcd.external)',
};

const DEFAULTS: Partial<RebuildSettings> = {
  bindPort: 6443,
  controlPlaneEndpoint: '',
  serviceSubnet: '10.96.0.0/12',
  podSubnet: '',
  dnsDomain: 'cluster.local',
  certSANs: [],
  etcdServerCertSANs: [],
  etcdPeerCertSANs: [],
  clusterName: 'kubernetes',
  externalEtcd: false,
  imageRepository: DEFAULT_IMAGE_REPOSITORY,
  etcdImage: '',
  etcdDataDir: '/var/lib/etcd',
  certificatesDir: '/etc/kubernetes/pki',
  keyType: 'rsa-2048',
  validityMs: DEFAULT_LEAF_VALIDITY_MS,
  caValidityMs: DEFAULT_CA_VALIDITY_MS,
  etcdExternal: { endpoints: [], caFile: '', certFile: '', keyFile: '' },
};

/** Settings with no sensible default: rebuild refuses to guess them. */
const REQUIRED: SettingName[] = ['nodeName', 'advertiseAddress', 'kubernetesVersion'];

const ORDER: SettingName[] = [
  'nodeName', 'advertiseAddress', 'bindPort', 'controlPlaneEndpoint', 'serviceSubnet', 'podSubnet', 'dnsDomain',
  'certSANs', 'etcdServerCertSANs', 'etcdPeerCertSANs', 'clusterName', 'kubernetesVersion', 'externalEtcd',
  'imageRepository', 'etcdImage', 'etcdDataDir', 'certificatesDir', 'keyType', 'validityMs', 'caValidityMs', 'etcdExternal',
];
export const SETTING_NAMES = ORDER;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Merge sources, highest priority first. Throws one `UserError` listing every
 * required value that no source knows, each with the flag that supplies it.
 * `config`: the --config given, which then cannot be what the hint asks for.
 */
export function resolveSettings(sources: SettingsSource[], warnings: string[] = [], config?: { label: string; hasInit: boolean }): ResolvedSettings {
  const provenance: Partial<Record<SettingName, Sourced>> = {};
  const overridden: ResolvedSettings['overridden'] = [];
  const missing: SettingName[] = [];
  for (const name of ORDER) {
    const found = sources.map((s) => s[name] as Sourced | undefined).filter((x): x is Sourced => x !== undefined);
    if (found.length > 0) {
      provenance[name] = found[0];
      for (const other of found.slice(1)) {
        if (!same(other.value, found[0]!.value)) overridden.push({ name, value: other.value, source: other.source });
      }
    } else if (name in DEFAULTS) {
      provenance[name] = { value: DEFAULTS[name], source: 'kubeadm default' };
    } else if (REQUIRED.includes(name)) {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    const list = missing.map((n) => `${n} (${SETTING_FLAGS[n]})`).join(', ');
    const flags = missing.map((n) => SETTING_FLAGS[n]).join(' and ');
    // a kubeadm-config ConfigMap holds the cluster's ClusterConfiguration, never a node's InitConfiguration
    const why = config && !config.hasInit ? `: --config ${config.label} has no InitConfiguration (the kubeadm-config ConfigMap holds only the cluster's settings, not this node's)` : config ? ` (--config ${config.label} does not say it either)` : ", or --config with the cluster's kubeadm configuration";
    throw new UserError(`failed to work out ${list}: nothing left on the node says it`, `pass ${flags}${why}`);
  }
  const settings = Object.fromEntries(ORDER.map((n) => [n, provenance[n]!.value])) as unknown as RebuildSettings;
  return { settings, provenance: provenance as ResolvedSettings['provenance'], overridden, warnings };
}

/** Render a setting value for the dry-run listing. */
export function formatSetting(name: SettingName, value: unknown): string {
  if (name === 'validityMs' || name === 'caValidityMs') return `${Math.round((value as number) / 3600_000)}h`;
  if (Array.isArray(value)) return value.length ? value.join(',') : '(none)';
  if (name === 'etcdExternal') {
    const e = value as EtcdExternal;
    return e.endpoints.length ? `${e.endpoints.join(',')} (ca ${e.caFile || '-'}, cert ${e.certFile || '-'}, key ${e.keyFile || '-'})` : '(local etcd)';
  }
  if (value === '') return '(none)';
  return String(value);
}
