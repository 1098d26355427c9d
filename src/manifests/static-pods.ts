/**
 * Static pod manifests for etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler as kubeadm writes them (phases/controlplane/manifests.go,
 * phases/etcd/local.go; shape of v1.26, checked byte for byte against the
 * kubeadm-1.26 fixture), with the ClusterConfiguration's extraArgs,
 * extraVolumes and extraEnvs put in as kubeadm puts them. Flags are sorted by
 * name, as kubeadm's ArgumentsToCommand does; YAML keys are sorted as
 * sigs.k8s.io/yaml emits them. Pure: returns file contents.
 */
import { stringify } from 'yaml';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { hostPort, parseKubeVersion, defaultEtcdTag, type ClusterFacts } from '../profiles/rebuild.js';
import { codeUnitOrder } from '../inventory/order.js';

export interface ManifestSettings extends ClusterFacts {
  podSubnet: string;
  imageRepository: string;
  etcdImage: string;
  etcdDataDir: string;
  certificatesDir: string;
  /** etcd.external: endpoints and client files for the apiserver's --etcd-* flags */
  etcdExternal?: { endpoints: string[]; caFile: string; certFile: string; keyFile: string };
  /** ca.crt kept without ca.key: the KCM signer flags are emptied (spec §1.3) */
  externalCA?: boolean;
  /** etcd's membership (kubeadm join: every member and `existing`); default: this node alone, `new` (kubeadm init) */
  etcdMembership?: { initialCluster: string; state: 'new' | 'existing' };
  /** the kubeadm config's extraArgs/extraVolumes/extraEnvs of every component (one's can change another's, as etcd's advertise-client-urls does the apiserver's) */
  extras?: ManifestExtras;
}

/** One kubeadm `Arg`: v1beta4 lists them (a name may repeat), v1beta3's map is one per name. */
export interface KubeadmArg { name: string; value: string }
/** kubeadm's HostPathMount (an extraVolumes entry). */
export interface HostPathMount { name: string; hostPath: string; mountPath: string; readOnly: boolean; pathType: string }
/** A container env var as an extraEnvs entry gives it (a core/v1 EnvVar: value or valueFrom). */
export interface KubeadmEnvVar { name: string; value?: string; valueFrom?: unknown }
/** What a ClusterConfiguration component section adds to kubeadm's defaults. */
export interface ComponentExtras { args: KubeadmArg[]; volumes: HostPathMount[]; envs: KubeadmEnvVar[] }
export type ManifestExtras = Partial<Record<ManifestName, ComponentExtras>>;

export const MANIFEST_NAMES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type ManifestName = (typeof MANIFEST_NAMES)[number];

type Obj = Record<string, unknown>;

function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.keys(x as Obj).sort().map((k) => [k, sortKeys((x as Obj)[k])]));
  }
  return x;
}

export function toKubeYaml(obj: unknown): string {
  return stringify(sortKeys(obj), { indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

/**
 * kubeadm's ArgumentsToCommand (cmd/kubeadm/app/util/arguments.go): an extra arg replaces every default of
 * its name, a name the extras repeat (v1beta4) is kept as often as given, and the whole list is sorted by
 * name, then value.
 */
function args(cmd: string, flags: Record<string, string>, extra: KubeadmArg[] = []): string[] {
  const over = new Set(extra.map((a) => a.name));
  const all = [...extra, ...Object.keys(flags).filter((k) => !over.has(k)).map((k) => ({ name: k, value: flags[k]! }))];
  all.sort((a, b) => codeUnitOrder(a.name, b.name) || codeUnitOrder(a.value, b.value));
  return [cmd, ...all.map((a) => `--${a.name}=${a.value}`)];
}

/** kubeadm's GetArgValue(args, name, -1): the last one of that name. */
function lastArg(extra: KubeadmArg[] | undefined, name: string): string | undefined {
  return extra?.filter((a) => a.name === name).pop()?.value;
}

/**
 * The liveness/startup probe host of kube-controller-manager and kube-scheduler: their bind-address extra arg,
 * if any (staticpod utils.go GetControllerManagerProbeAddress/GetSchedulerProbeAddress); an unspecified
 * address (0.0.0.0, ::) becomes no host at all, so that the kubelet probes the pod IP (getProbeAddress,
 * kubernetes#86504).
 */
function bindProbeHost(extra: KubeadmArg[] | undefined): string | undefined {
  const addr = lastArg(extra, 'bind-address');
  if (addr === undefined) return '127.0.0.1';
  return addr === '0.0.0.0' || addr === '::' ? undefined : addr;
}

/**
 * etcd's probe endpoint (utils.go GetEtcdProbeEndpoint): the first URL of a listen-metrics-urls extra arg
 * (https → HTTPS, its host, else localhost, its port, else 2381), else localhost:2381 over HTTP.
 */
function etcdProbeEndpoint(extra: KubeadmArg[] | undefined, localhost: string): { host: string; port: number; scheme: 'HTTP' | 'HTTPS' } {
  const dflt = { host: localhost, port: 2381, scheme: 'HTTP' as const };
  const v = lastArg(extra, 'listen-metrics-urls');
  if (v === undefined) return dflt;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/.exec(v.split(',')[0]!);
  if (!m) return dflt; // (Go's url.Parse of what has no `//` host gives no host and no port either)
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  const port = m[3] && /^\d+$/.test(m[3]) && Number(m[3]) >= 1 && Number(m[3]) <= 65535 ? Number(m[3]) : 2381;
  return { host: host || localhost, port, scheme: m[1]!.toLowerCase() === 'https' ? 'HTTPS' : 'HTTP' };
}

/**
 * The container env kubeadm writes (cmd/kubeadm/app/util MergeKubeadmEnvVars): one per
 * name, the last given winning, sorted by name; a core/v1 EnvVar, so an empty value is left out.
 */
function envOf(envs: KubeadmEnvVar[] | undefined): { env?: Obj[] } {
  // (kubeadm merges these over the *_proxy variables of its own environment when it ran, which no file keeps)
  const byName = new Map<string, Obj>();
  for (const e of envs ?? []) {
    byName.set(e.name, { name: e.name, ...(e.value ? { value: e.value } : {}), ...(e.valueFrom !== undefined ? { valueFrom: e.valueFrom } : {}) });
  }
  const env = [...byName.values()].sort((a, b) => codeUnitOrder(a.name as string, b.name as string));
  return env.length > 0 ? { env } : {};
}

/**
 * kubeadm's control-plane mounts with the extraVolumes added (phases/controlplane/volumes.go
 * AddExtraHostPathMounts): a hostPath volume and its mount each, one of a default's name replacing it, all
 * listed by name (VolumeMapToSlice, VolumeMountMapToSlice). The path type is written as given, `type: ""`
 * when none is (kubeadm passes a pointer to it, which omitempty keeps); readOnly only when true.
 */
function withExtraVolumes(mounts: Obj[], volumes: Obj[], extra: HostPathMount[] | undefined): { volumeMounts: Obj[]; volumes: Obj[] } {
  const m = new Map(mounts.map((x) => [x.name as string, x]));
  const v = new Map(volumes.map((x) => [x.name as string, x]));
  for (const x of extra ?? []) {
    v.set(x.name, hostPathVolume(x.name, x.hostPath, x.pathType));
    m.set(x.name, { mountPath: x.mountPath, name: x.name, ...(x.readOnly ? { readOnly: true } : {}) });
  }
  const byName = (a: Obj, b: Obj) => codeUnitOrder(a.name as string, b.name as string);
  return { volumeMounts: [...m.values()].sort(byName), volumes: [...v.values()].sort(byName) };
}

function probe(host: string | undefined, path: string, port: number, scheme: 'HTTP' | 'HTTPS', failureThreshold: number, initialDelay = true) {
  return {
    failureThreshold,
    // (no host: the kubelet probes the pod's IP)
    httpGet: { ...(host ? { host } : {}), path, port, scheme },
    ...(initialDelay ? { initialDelaySeconds: 10 } : {}),
    periodSeconds: 10,
    timeoutSeconds: 15,
  };
}

function hostPathVolume(name: string, path: string, type: string) {
  return { hostPath: { path, type }, name };
}

function pod(name: string, container: Obj, volumes: Obj[], annotations?: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(annotations ? { annotations } : {}),
      creationTimestamp: null,
      labels: { component: name, tier: 'control-plane' },
      name,
      namespace: 'kube-system',
    },
    spec: {
      containers: [container],
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      volumes,
    },
    status: {},
  };
}

function image(s: ManifestSettings, component: string): string {
  return `${s.imageRepository}/${component}:${s.kubernetesVersion}`;
}

function loopback(s: ManifestSettings): string {
  return isIP(s.advertiseAddress) === 6 ? '::1' : '127.0.0.1';
}

export function etcdManifest(s: ManifestSettings): string {
  const pki = s.certificatesDir;
  const adv = s.advertiseAddress;
  const minor = parseKubeVersion(s.kubernetesVersion)?.minor ?? 26;
  const flags: Record<string, string> = {
    name: s.nodeName,
    'listen-client-urls': `https://${hostPort(loopback(s), 2379)},https://${hostPort(adv, 2379)}`,
    'advertise-client-urls': `https://${hostPort(adv, 2379)}`,
    'listen-peer-urls': `https://${hostPort(adv, 2380)}`,
    'initial-advertise-peer-urls': `https://${hostPort(adv, 2380)}`,
    'data-dir': s.etcdDataDir,
    'cert-file': `${pki}/etcd/server.crt`,
    'key-file': `${pki}/etcd/server.key`,
    'trusted-ca-file': `${pki}/etcd/ca.crt`,
    'client-cert-auth': 'true',
    'peer-cert-file': `${pki}/etcd/peer.crt`,
    'peer-key-file': `${pki}/etcd/peer.key`,
    'peer-trusted-ca-file': `${pki}/etcd/ca.crt`,
    'peer-client-cert-auth': 'true',
    'snapshot-count': '10000',
    'listen-metrics-urls': `http://${hostPort(loopback(s), 2381)}`,
    'initial-cluster': s.etcdMembership?.initialCluster ?? `${s.nodeName}=https://${hostPort(adv, 2380)}`,
  };
  if (s.etcdMembership?.state === 'existing') flags['initial-cluster-state'] = 'existing';
  // etcd 3.6 (kubeadm ≥1.34) dropped the experimental- prefixes
  if (minor >= 34) {
    flags['feature-gates'] = 'InitialCorruptCheck=true';
    flags['watch-progress-notify-interval'] = '5s';
  } else {
    flags['experimental-initial-corrupt-check'] = 'true';
    flags['experimental-watch-progress-notify-interval'] = '5s';
  }
  const etcdImage = s.etcdImage || `${s.imageRepository}/etcd:${defaultEtcdTag(s.kubernetesVersion)}`;
  const extra = s.extras?.etcd;
  // (etcd.local.extraArgs' listen-metrics-urls moves the probes with it; GetEtcdPodSpec, phases/etcd/local.go)
  const p = etcdProbeEndpoint(extra?.args, loopback(s));
  const container = {
    command: args('etcd', flags, extra?.args),
    // etcd.local.extraEnvs alone: kubeadm gives etcd none of its proxy variables
    ...envOf(extra?.envs),
    image: etcdImage,
    imagePullPolicy: 'IfNotPresent',
    // ≥1.31 (kubernetes#124465): etcd 3.5.11's /livez and /readyz, plus a readiness probe
    livenessProbe: probe(p.host, minor >= 31 ? '/livez' : '/health?exclude=NOSPACE&serializable=true', p.port, p.scheme, 8),
    name: 'etcd',
    ...(minor >= 31 ? { readinessProbe: { failureThreshold: 3, httpGet: { host: p.host, path: '/readyz', port: p.port, scheme: p.scheme }, periodSeconds: 1, timeoutSeconds: 15 } } : {}),
    resources: { requests: { cpu: '100m', memory: '100Mi' } },
    startupProbe: probe(p.host, minor >= 31 ? '/readyz' : '/health?serializable=false', p.port, p.scheme, 24),
    // etcd's mounts are listed data first, unlike the sorted control-plane ones (local.go)
    volumeMounts: [
      { mountPath: s.etcdDataDir, name: 'etcd-data' },
      { mountPath: `${pki}/etcd`, name: 'etcd-certs' },
    ],
  };
  return toKubeYaml(pod('etcd', container, [
    hostPathVolume('etcd-certs', `${pki}/etcd`, 'DirectoryOrCreate'),
    hostPathVolume('etcd-data', s.etcdDataDir, 'DirectoryOrCreate'),
  ], { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${hostPort(adv, 2379)}` }));
}

/** Where the control-plane pods see the host's CA bundles (volumes.go caCertsVolumePath, caCertsExtraVolumePaths). */
const CA_CERTS_PATH = '/etc/ssl/certs';
const CA_CERTS_EXTRA_PATHS = ['/etc/pki/ca-trust', '/etc/pki/tls/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];

/**
 * The directories of an external etcd's client files that kube-apiserver must mount to read them, as
 * kubeadm's getEtcdCertVolumes (phases/controlplane/volumes.go) picks them: each file's directory, less
 * those already mounted (under certificatesDir, /etc/ssl/certs or a CA-bundle path; plain string prefixes,
 * as kubeadm compares), a parent taking its children's place; sorted, named etcd-certs-<i>. Without them
 * --etcd-cafile names a file the container cannot open and kube-apiserver exits.
 */
export function externalEtcdCertDirs(files: string[], certificatesDir: string): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const dir = posix.dirname(f);
    if (dir === '.' || dir.startsWith(CA_CERTS_PATH) || dir.startsWith(certificatesDir) || CA_CERTS_EXTRA_PATHS.some((p) => dir.startsWith(p))) continue;
    let covered = false;
    for (const d of [...dirs]) {
      if (d.startsWith(dir)) dirs.delete(d);
      else if (dir.startsWith(d)) covered = true;
    }
    if (!covered) dirs.add(dir);
  }
  return [...dirs].sort();
}

export function apiserverManifest(s: ManifestSettings): string {
  const pki = s.certificatesDir;
  const extra = s.extras?.['kube-apiserver'];
  const flags: Record<string, string> = {
    'advertise-address': s.advertiseAddress,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'client-ca-file': `${pki}/ca.crt`,
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    'kubelet-client-certificate': `${pki}/apiserver-kubelet-client.crt`,
    'kubelet-client-key': `${pki}/apiserver-kubelet-client.key`,
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': `${pki}/front-proxy-client.crt`,
    'proxy-client-key-file': `${pki}/front-proxy-client.key`,
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': `${pki}/front-proxy-ca.crt`,
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': String(s.bindPort),
    'service-account-issuer': `https://kubernetes.default.svc.${s.dnsDomain}`,
    'service-account-key-file': `${pki}/sa.pub`,
    'service-account-signing-key-file': `${pki}/sa.key`,
    'service-cluster-ip-range': s.serviceSubnet,
    'tls-cert-file': `${pki}/apiserver.crt`,
    'tls-private-key-file': `${pki}/apiserver.key`,
  };
  if (!s.externalEtcd) {
    flags['etcd-cafile'] = `${pki}/etcd/ca.crt`;
    flags['etcd-certfile'] = `${pki}/apiserver-etcd-client.crt`;
    flags['etcd-keyfile'] = `${pki}/apiserver-etcd-client.key`;
    flags['etcd-servers'] = `https://${hostPort(loopback(s), 2379)}`;
    // local etcd advertising elsewhere (etcd.local.extraArgs): the apiserver is pointed there (getAPIServerCommand, kubernetes#69827)
    const advertised = lastArg(s.extras?.etcd?.args, 'advertise-client-urls');
    if (advertised !== undefined) flags['etcd-servers'] = advertised;
  } else if (s.etcdExternal) {
    // kubeadm's external etcd (spec §8): the configured endpoints and files
    flags['etcd-servers'] = s.etcdExternal.endpoints.join(',');
    if (s.etcdExternal.caFile) flags['etcd-cafile'] = s.etcdExternal.caFile;
    if (s.etcdExternal.certFile) flags['etcd-certfile'] = s.etcdExternal.certFile;
    if (s.etcdExternal.keyFile) flags['etcd-keyfile'] = s.etcdExternal.keyFile;
  }
  // structured authorization (--authorization-config) cannot be given with --authorization-mode: kubeadm then
  // leaves its default out (getAPIServerCommand); an authorization-mode extra arg replaces it like any other
  if (lastArg(extra?.args, 'authorization-config') !== undefined) delete flags['authorization-mode'];
  // the probes stay on the InitConfiguration's advertise address and bind port whatever the extra args say
  // (GetAPIServerProbeAddress(endpoint), endpoint.BindPort)
  const adv = s.advertiseAddress;
  const container = {
    command: args('kube-apiserver', flags, extra?.args),
    ...envOf(extra?.envs),
    image: image(s, 'kube-apiserver'),
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(adv, '/livez', s.bindPort, 'HTTPS', 8),
    name: 'kube-apiserver',
    readinessProbe: { failureThreshold: 3, httpGet: { host: adv, path: '/readyz', port: s.bindPort, scheme: 'HTTPS' }, periodSeconds: 1, timeoutSeconds: 15 },
    resources: { requests: { cpu: '250m' } },
    startupProbe: probe(adv, '/livez', s.bindPort, 'HTTPS', 24),
    volumeMounts: [
      { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
      { mountPath: pki, name: 'k8s-certs', readOnly: true },
    ],
  };
  const volumes = [
    hostPathVolume('ca-certs', '/etc/ssl/certs', 'DirectoryOrCreate'),
    hostPathVolume('k8s-certs', pki, 'DirectoryOrCreate'),
  ];
  if (s.externalEtcd && s.etcdExternal) {
    const e = s.etcdExternal;
    externalEtcdCertDirs([e.caFile, e.certFile, e.keyFile], pki).forEach((dir, i) => {
      container.volumeMounts.push({ mountPath: dir, name: `etcd-certs-${i}`, readOnly: true });
      volumes.push(hostPathVolume(`etcd-certs-${i}`, dir, 'DirectoryOrCreate'));
    });
  }
  // (kubeadm lists volumes and mounts by name, Go's byte order)
  const all = withExtraVolumes(container.volumeMounts, volumes, extra?.volumes);
  container.volumeMounts = all.volumeMounts as typeof container.volumeMounts;
  return toKubeYaml(pod('kube-apiserver', container, all.volumes, { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': hostPort(adv, s.bindPort) }));
}

export function controllerManagerManifest(s: ManifestSettings): string {
  const pki = s.certificatesDir;
  const conf = '/etc/kubernetes/controller-manager.conf';
  const flags: Record<string, string> = {
    'authentication-kubeconfig': conf,
    'authorization-kubeconfig': conf,
    'bind-address': '127.0.0.1',
    'client-ca-file': `${pki}/ca.crt`,
    'cluster-name': s.clusterName,
    'cluster-signing-cert-file': s.externalCA ? '' : `${pki}/ca.crt`,
    'cluster-signing-key-file': s.externalCA ? '' : `${pki}/ca.key`,
    controllers: '*,bootstrapsigner,tokencleaner',
    kubeconfig: conf,
    'leader-elect': 'true',
    'requestheader-client-ca-file': `${pki}/front-proxy-ca.crt`,
    'root-ca-file': `${pki}/ca.crt`,
    'service-account-private-key-file': `${pki}/sa.key`,
    'use-service-account-credentials': 'true',
  };
  if (s.podSubnet) {
    flags['allocate-node-cidrs'] = 'true';
    flags['cluster-cidr'] = s.podSubnet;
  }
  if (s.serviceSubnet) flags['service-cluster-ip-range'] = s.serviceSubnet;
  const extra = s.extras?.['kube-controller-manager'];
  const host = bindProbeHost(extra?.args);
  const { volumeMounts, volumes } = withExtraVolumes([
    { mountPath: '/etc/ssl/certs', name: 'ca-certs', readOnly: true },
    { mountPath: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', name: 'flexvolume-dir' },
    { mountPath: pki, name: 'k8s-certs', readOnly: true },
    { mountPath: conf, name: 'kubeconfig', readOnly: true },
  ], [
    hostPathVolume('ca-certs', '/etc/ssl/certs', 'DirectoryOrCreate'),
    hostPathVolume('flexvolume-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', 'DirectoryOrCreate'),
    hostPathVolume('k8s-certs', pki, 'DirectoryOrCreate'),
    hostPathVolume('kubeconfig', conf, 'FileOrCreate'),
  ], extra?.volumes);
  const container = {
    command: args('kube-controller-manager', flags, extra?.args),
    ...envOf(extra?.envs),
    image: image(s, 'kube-controller-manager'),
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(host, '/healthz', 10257, 'HTTPS', 8),
    name: 'kube-controller-manager',
    resources: { requests: { cpu: '200m' } },
    startupProbe: probe(host, '/healthz', 10257, 'HTTPS', 24),
    volumeMounts,
  };
  return toKubeYaml(pod('kube-controller-manager', container, volumes));
}

export function schedulerManifest(s: ManifestSettings): string {
  const conf = '/etc/kubernetes/scheduler.conf';
  const flags = {
    'authentication-kubeconfig': conf,
    'authorization-kubeconfig': conf,
    'bind-address': '127.0.0.1',
    kubeconfig: conf,
    'leader-elect': 'true',
  };
  const extra = s.extras?.['kube-scheduler'];
  const host = bindProbeHost(extra?.args);
  const { volumeMounts, volumes } = withExtraVolumes([{ mountPath: conf, name: 'kubeconfig', readOnly: true }], [hostPathVolume('kubeconfig', conf, 'FileOrCreate')], extra?.volumes);
  const container = {
    command: args('kube-scheduler', flags, extra?.args),
    ...envOf(extra?.envs),
    image: image(s, 'kube-scheduler'),
    imagePullPolicy: 'IfNotPresent',
    livenessProbe: probe(host, '/healthz', 10259, 'HTTPS', 8),
    name: 'kube-scheduler',
    resources: { requests: { cpu: '100m' } },
    startupProbe: probe(host, '/healthz', 10259, 'HTTPS', 24),
    volumeMounts,
  };
  return toKubeYaml(pod('kube-scheduler', container, volumes));
}

export function renderManifest(name: ManifestName, s: ManifestSettings): string {
  switch (name) {
    case 'etcd': return etcdManifest(s);
    case 'kube-apiserver': return apiserverManifest(s);
    case 'kube-controller-manager': return controllerManagerManifest(s);
    case 'kube-scheduler': return schedulerManifest(s);
  }
}
