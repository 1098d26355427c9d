/**
 * kubeadm configuration files as rebuild inputs: a multi-document
 * `InitConfiguration` + `ClusterConfiguration` (kubeadm.k8s.io/v1beta3 or
 * v1beta4), or a dump of the `kube-system/kubeadm-config` ConfigMap (YAML or
 * JSON, `kubectl get cm kubeadm-config -o yaml`), whose `data.ClusterConfiguration`
 * holds the ClusterConfiguration as a string. Parsing only; no I/O.
 */
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { keyTypeFromEncryptionAlgorithm } from '../profiles/rebuild.js';
import { readValidityPeriods } from '../inventory/components.js';
import type { SettingsSource } from './settings.js';
import { codeUnitOrder } from '../inventory/order.js';
import type { ComponentExtras, HostPathMount, KubeadmArg, KubeadmEnvVar, ManifestExtras, ManifestName } from '../manifests/static-pods.js';

type Obj = Record<string, any>;

export interface KubeadmConfigDocs {
  init?: Obj;
  cluster?: Obj;
  /** `v1beta3` | `v1beta4` | … of the ClusterConfiguration (or InitConfiguration) */
  apiVersion?: string;
  /** InitConfiguration.certificateKey, if any */
  certificateKey?: string;
}

const GROUP = 'kubeadm.k8s.io/';

/** Parse the documents of a kubeadm config file or ConfigMap dump. `label` names the file in errors. */
export function parseKubeadmConfig(text: string, label: string): KubeadmConfigDocs {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false }).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS();
    });
  } catch (e) {
    throw new UserError(`failed to parse kubeadm config ${label}: ${(e as Error).message.split('\n')[0]}`, 'pass a valid YAML InitConfiguration/ClusterConfiguration (kubeadm config print init-defaults shows the shape)');
  }
  const out: KubeadmConfigDocs = {};
  const seen = new Set<string>();
  for (const d of docs) {
    if (!d || typeof d !== 'object') continue;
    const o = d as Obj;
    // `kubectl get cm -o yaml` of kubeadm-config, or a List holding it
    if (o.kind === 'List' && Array.isArray(o.items)) {
      for (const item of o.items) mergeConfigMap(item, out, label);
      continue;
    }
    if (o.kind === 'ConfigMap') { mergeConfigMap(o, out, label); continue; }
    if (typeof o.apiVersion === 'string' && o.apiVersion.startsWith(GROUP)) {
      const v = o.apiVersion.slice(GROUP.length);
      if (!/^v1beta[34]$/.test(v)) {
        throw new UserError(`failed to read kubeadm config ${label}: apiVersion ${o.apiVersion} is not supported`, 'convert it with `kubeadm config migrate` to kubeadm.k8s.io/v1beta3 or v1beta4');
      }
      if (seen.has(o.kind)) {
        // kubeadm's own check (SplitYAMLDocuments): which of the two was meant is anybody's guess
        throw new UserError(`failed to read kubeadm config ${label}: invalid configuration: kind ${JSON.stringify(o.kind)} is specified twice in YAML file`, 'keep one of the two documents, as kubeadm requires');
      }
      seen.add(o.kind);
      if (o.kind === 'InitConfiguration') { out.init = o; out.apiVersion ??= v; }
      else if (o.kind === 'ClusterConfiguration') { out.cluster = o; out.apiVersion = v; }
      // JoinConfiguration, KubeletConfiguration etc. are not needed here
    }
  }
  if (!out.init && !out.cluster) {
    throw new UserError(`failed to read kubeadm config ${label}: no InitConfiguration or ClusterConfiguration in it`, 'pass the file given to `kubeadm init --config`, or `kubectl -n kube-system get cm kubeadm-config -o yaml`');
  }
  if (typeof out.init?.certificateKey === 'string') out.certificateKey = out.init.certificateKey;
  return out;
}

function mergeConfigMap(cm: Obj, out: KubeadmConfigDocs, label: string): void {
  const data = cm?.data;
  if (!data || typeof data !== 'object') return;
  for (const key of ['ClusterConfiguration', 'InitConfiguration', 'ClusterStatus']) {
    if (typeof data[key] !== 'string') continue;
    let inner: Obj;
    try {
      // (a key twice: kubeadm warns and keeps the last, as uniqueKeys: false does)
      inner = parseYaml(data[key], { uniqueKeys: false }) as Obj;
    } catch (e) {
      throw new UserError(`failed to parse kubeadm config ${label}: data.${key}: ${(e as Error).message.split('\n')[0]}`, 'dump the ConfigMap again: kubectl -n kube-system get cm kubeadm-config -o yaml');
    }
    if (!inner || typeof inner !== 'object') continue;
    if (inner.kind === 'ClusterConfiguration') { out.cluster = inner; out.apiVersion = String(inner.apiVersion ?? '').replace(GROUP, ''); }
    else if (inner.kind === 'InitConfiguration') out.init = inner;
    else if (inner.kind === 'ClusterStatus' && inner.apiEndpoints && typeof inner.apiEndpoints === 'object') {
      // older releases (≤1.21) kept node → endpoint here; take it only as a hint of the advertise address
      const [name, ep] = Object.entries(inner.apiEndpoints as Obj)[0] ?? [];
      if (name && ep && !out.init) out.init = { nodeRegistration: { name }, localAPIEndpoint: ep };
    }
  }
}

/** The manifest each ClusterConfiguration component section shapes (kubeadm's control-plane and etcd phases). */
const COMPONENT_SECTIONS = [
  { manifest: 'kube-apiserver', field: 'apiServer', at: (c: Obj) => c.apiServer },
  { manifest: 'kube-controller-manager', field: 'controllerManager', at: (c: Obj) => c.controllerManager },
  { manifest: 'kube-scheduler', field: 'scheduler', at: (c: Obj) => c.scheduler },
  { manifest: 'etcd', field: 'etcd.local', at: (c: Obj) => c.etcd?.local },
] as const;

/**
 * v1beta3 `extraArgs: {k: v}` and v1beta4 `extraArgs: [{name, value}]` as kubeadm's internal list: v1beta4's
 * in the order given, repeats kept (ArgumentsToCommand writes each); a map has one of each name.
 */
export function extraArgList(x: unknown): KubeadmArg[] {
  if (Array.isArray(x)) return x.filter((a) => a && typeof a === 'object' && a.name).map((a) => ({ name: String(a.name), value: String(a.value ?? '') }));
  if (x && typeof x === 'object') return Object.entries(x as Obj).sort(([a], [b]) => codeUnitOrder(a, b)).map(([name, v]) => ({ name, value: String(v ?? '') }));
  return [];
}

/** What the kubeadm config adds to each manifest, and what of it cannot be written as kubeadm would. */
export interface ConfigExtras {
  extras: ManifestExtras;
  /** per manifest, `field: what` that is left out of it (an entry kubeadm's validation would refuse) */
  notCarried: Partial<Record<ManifestName, string[]>>;
  /** InitConfiguration.patches.directory: kubeadm patched the manifests it wrote with what is there; rebuild does not */
  patches?: string;
}

/**
 * Each component's extraArgs, extraVolumes (control plane only: etcd.local has none) and extraEnvs
 * (v1beta4), as the manifests kubeadm writes carry them (phases/controlplane/manifests.go, volumes.go,
 * phases/etcd/local.go). An extraVolumes entry without a name, hostPath or mountPath, or an extraEnvs entry
 * without a name, is one kubeadm refuses (ValidateHostPathMounts …): left out, and said so.
 */
export function componentExtras(docs: KubeadmConfigDocs): ConfigExtras {
  const out: ConfigExtras = { extras: {}, notCarried: {} };
  const c = docs.cluster ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
  for (const { manifest, field, at } of COMPONENT_SECTIONS) {
    const sec = at(c);
    if (!sec || typeof sec !== 'object') continue;
    const skipped: string[] = [];
    const volumes: HostPathMount[] = [];
    for (const [i, v] of (manifest !== 'etcd' && Array.isArray(sec.extraVolumes) ? sec.extraVolumes : []).entries()) {
      const e = (v && typeof v === 'object' ? v : {}) as Obj;
      const missing = ['name', 'hostPath', 'mountPath'].filter((k) => !str(e[k]));
      if (missing.length > 0) { skipped.push(`${field}.extraVolumes[${i}]${e.name ? ` (${str(e.name)})` : ''} has no ${missing.join(', ')}`); continue; }
      volumes.push({ name: str(e.name), hostPath: str(e.hostPath), mountPath: str(e.mountPath), readOnly: e.readOnly === true, pathType: str(e.pathType) });
    }
    const envs: KubeadmEnvVar[] = [];
    for (const [i, v] of (Array.isArray(sec.extraEnvs) ? sec.extraEnvs : []).entries()) {
      const e = (v && typeof v === 'object' ? v : {}) as Obj;
      if (!str(e.name)) { skipped.push(`${field}.extraEnvs[${i}] has no name`); continue; }
      envs.push({ name: str(e.name), ...(e.value !== undefined ? { value: str(e.value) } : {}), ...(e.valueFrom !== undefined ? { valueFrom: e.valueFrom } : {}) });
    }
    const args = extraArgList(sec.extraArgs);
    if (args.length + volumes.length + envs.length > 0) out.extras[manifest] = { args, volumes, envs };
    if (skipped.length > 0) out.notCarried[manifest] = skipped;
  }
  const patches = docs.init?.patches?.directory;
  if (typeof patches === 'string' && patches.trim() !== '') out.patches = patches.trim();
  return out;
}

/** `apiServer.extraArgs (oidc-issuer-url, audit-policy-file), extraVolumes (audit)`: what a manifest carries, for the plan. */
export function describeExtras(manifest: ManifestName, e: ComponentExtras): string {
  const field = COMPONENT_SECTIONS.find((x) => x.manifest === manifest)!.field;
  const parts = ([['extraArgs', e.args], ['extraVolumes', e.volumes], ['extraEnvs', e.envs]] as const)
    .filter(([, l]) => l.length > 0)
    .map(([k, l], i) => `${i === 0 ? `${field}.` : ''}${k} (${[...new Set(l.map((x) => x.name))].join(', ')})`);
  return parts.join(', ');
}

/** The settings a kubeadm config gives, each labelled with the field it came from. */
export function settingsFromKubeadmConfig(docs: KubeadmConfigDocs, label: string, warnings: string[]): SettingsSource {
  const s: SettingsSource = {};
  const at = (field: string) => `${label} (${field})`;
  const i = docs.init ?? {};
  const c = docs.cluster ?? {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

  const nodeName = str(i.nodeRegistration?.name);
  if (nodeName) s.nodeName = { value: nodeName.toLowerCase(), source: at('InitConfiguration.nodeRegistration.name') };
  const adv = str(i.localAPIEndpoint?.advertiseAddress);
  if (adv) s.advertiseAddress = { value: adv, source: at('InitConfiguration.localAPIEndpoint.advertiseAddress') };
  if (Number.isInteger(i.localAPIEndpoint?.bindPort) && i.localAPIEndpoint.bindPort > 0) {
    s.bindPort = { value: i.localAPIEndpoint.bindPort, source: at('InitConfiguration.localAPIEndpoint.bindPort') };
  }
  const cpe = str(c.controlPlaneEndpoint);
  if (cpe) s.controlPlaneEndpoint = { value: cpe, source: at('ClusterConfiguration.controlPlaneEndpoint') };
  const svc = str(c.networking?.serviceSubnet);
  if (svc) s.serviceSubnet = { value: svc, source: at('ClusterConfiguration.networking.serviceSubnet') };
  const pod = str(c.networking?.podSubnet);
  if (pod) s.podSubnet = { value: pod, source: at('ClusterConfiguration.networking.podSubnet') };
  const dom = str(c.networking?.dnsDomain);
  if (dom) s.dnsDomain = { value: dom, source: at('ClusterConfiguration.networking.dnsDomain') };
  if (Array.isArray(c.apiServer?.certSANs)) s.certSANs = { value: c.apiServer.certSANs.map(String), source: at('ClusterConfiguration.apiServer.certSANs') };
  if (c.etcd?.external) {
    s.externalEtcd = { value: true, source: at('ClusterConfiguration.etcd.external') };
    const x = c.etcd.external;
    s.etcdExternal = {
      value: { endpoints: Array.isArray(x.endpoints) ? x.endpoints.map(String) : [], caFile: str(x.caFile) ?? '', certFile: str(x.certFile) ?? '', keyFile: str(x.keyFile) ?? '' },
      source: at('ClusterConfiguration.etcd.external'),
    };
  }
  else if (c.etcd?.local || docs.cluster) s.externalEtcd = { value: false, source: at('ClusterConfiguration.etcd') };
  const local = c.etcd?.local ?? {};
  if (Array.isArray(local.serverCertSANs)) s.etcdServerCertSANs = { value: local.serverCertSANs.map(String), source: at('ClusterConfiguration.etcd.local.serverCertSANs') };
  if (Array.isArray(local.peerCertSANs)) s.etcdPeerCertSANs = { value: local.peerCertSANs.map(String), source: at('ClusterConfiguration.etcd.local.peerCertSANs') };
  const dataDir = str(local.dataDir);
  if (dataDir) s.etcdDataDir = { value: dataDir, source: at('ClusterConfiguration.etcd.local.dataDir') };
  const clusterName = str(c.clusterName);
  if (clusterName) s.clusterName = { value: clusterName, source: at('ClusterConfiguration.clusterName') };
  const ver = str(c.kubernetesVersion);
  if (ver && /^v?\d+\.\d+/.test(ver)) s.kubernetesVersion = { value: ver.startsWith('v') ? ver : `v${ver}`, source: at('ClusterConfiguration.kubernetesVersion') };
  else if (ver) warnings.push(`${label}: kubernetesVersion ${JSON.stringify(ver)} is a label, not a version; pass --kubernetes-version`);
  const repo = str(c.imageRepository);
  if (repo) s.imageRepository = { value: repo, source: at('ClusterConfiguration.imageRepository') };
  const etcdRepo = str(local.imageRepository), etcdTag = str(local.imageTag);
  if (etcdRepo && etcdTag) s.etcdImage = { value: `${etcdRepo}/etcd:${etcdTag}`, source: at('ClusterConfiguration.etcd.local.imageRepository/imageTag') };
  const certDir = str(c.certificatesDir);
  if (certDir) s.certificatesDir = { value: certDir, source: at('ClusterConfiguration.certificatesDir') };

  const algo = str(c.encryptionAlgorithm);
  if (algo) {
    const k = keyTypeFromEncryptionAlgorithm(algo);
    if (k) s.keyType = { value: k, source: at('ClusterConfiguration.encryptionAlgorithm') };
    else warnings.push(`${label}: encryptionAlgorithm ${JSON.stringify(algo)} is not one kubeadm knows; ignored`);
  } else if (c.featureGates?.PublicKeysECDSA === true) {
    s.keyType = { value: 'ecdsa-p256', source: at('ClusterConfiguration.featureGates.PublicKeysECDSA') };
  }
  // the lifetimes, by the rule renew and check read them with (Go durations, v1beta4 only)
  const periods = docs.cluster ? readValidityPeriods(docs.cluster, label) : undefined;
  if (periods?.certificateValidityPeriod) s.validityMs = { value: periods.certificateValidityPeriod.seconds * 1000, source: at('ClusterConfiguration.certificateValidityPeriod') };
  if (periods?.caCertificateValidityPeriod) s.caValidityMs = { value: periods.caCertificateValidityPeriod.seconds * 1000, source: at('ClusterConfiguration.caCertificateValidityPeriod') };
  for (const p of periods?.problems ?? []) warnings.push(p.message);
  return s;
}
