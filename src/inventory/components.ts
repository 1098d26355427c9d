import { parseYamlFast as parseYaml, parseAllYamlFast, parseYaml11 } from '../kubeconfig/fast-yaml.js';
import { posix } from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import { parseKubeconfig, KUBECONFIG_DOC } from '../kubeconfig/read.js';
import type { ComponentRef, KubeadmValidity } from './types.js';
import { parseGoDuration } from './time.js';
import { argvFlags, parseEnvironmentFile, readSystemdService, type SystemdService } from './systemd-unit.js';
import { isDigit, unbracket, withoutYamlExtension } from './names.js';
import { BARE, UNTIL_DOUBLE_QUOTE, flagInText, hasLineBreak, splitFlag } from './flags.js';

const MANIFEST_DIRS = ['/etc/kubernetes/manifests', '/var/lib/rancher/rke2/agent/pod-manifests'];

/** kubeadm's (and most installers') kubelet config file, when the kubelet's unit names none. */
export const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';

/**
 * A component's systemd service, read once per read (readComponentRefs reads every component's; kubeletConfigPath
 * the kubelet's, kubeletClientSigningOff kube-controller-manager's).
 */
export function componentService(fs: NodeFs, component: string): SystemdService | undefined {
  return fs.perRead(`${component}.service`, () => readSystemdService(fs, `${component}.service`));
}
const kubeletService = (fs: NodeFs): SystemdService | undefined => componentService(fs, 'kubelet');

/** A static pod manifest, read once per read (readComponentRefs reads them all; kubeletClientSigningOff kube-controller-manager's, readKubeadmConfigHints kube-apiserver's). */
function staticPod(fs: NodeFs, file: string): Record<string, unknown> | undefined {
  return fs.perRead(`pod:${file}`, () => parseYaml(nodeText(fs, file)) as Record<string, unknown> | undefined);
}

/**
 * A node file's text, read once per read of the node: kube-apiserver.yaml is parsed for its flags, and searched
 * for --client-ca-file (kubeadmPkiDir) and --advertise-address/--secure-port (the kubeadm-config hints);
 * kubeadm-config.yaml is read by kubeadmPkiDir and the hints.
 */
export function nodeText(fs: NodeFs, file: string): string {
  return fs.perRead(`text:${file}`, () => fs.readFile(file).toString('utf8'));
}

/**
 * The kubelet's config file: its unit's last --config (Kubernetes the Hard Way's /var/lib/kubelet/kubelet-config.yaml,
 * kubespray's /etc/kubernetes/kubelet-config.yaml through kubelet.env; kubeadm's drop-in says
 * /var/lib/kubelet/config.yaml, and KUBELET_EXTRA_ARGS may give another), else KUBELET_CONFIG.
 */
export function kubeletConfigPath(fs: NodeFs): string {
  const v = argvFlags(kubeletService(fs)?.argv ?? []).findLast((f) => f.flag === '--config')?.value;
  return v?.startsWith('/') ? v : KUBELET_CONFIG;
}

/** The switches of the kubelet's config that kubepki reads (bool fields of KubeletConfiguration). */
const KUBELET_SWITCHES = ['rotateCertificates', 'serverTLSBootstrap'] as const;

/**
 * The kubelet's configuration as the kubelet reads it: the file kubeletConfigPath names, a key given twice
 * keeping its last value, and its switches as YAML 1.1 reads them (the kubelet's decoder: `rotateCertificates:
 * no` is false, `rotateCertificates: "false"` a string, which the kubelet refuses); undefined when there is none
 * or it does not parse (a broken kubelet config is not ours to report: the kubelet says so). Parsed once per
 * read, whoever asks.
 */
export function readKubeletConfig(fs: NodeFs): Record<string, any> | undefined {
  return fs.perRead('kubelet config', () => {
    try {
      const file = kubeletConfigPath(fs);
      if (!fs.exists(file)) return undefined;
      const text = fs.readFile(file).toString('utf8');
      const cfg = parseYaml(text, { uniqueKeys: false });
      if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) return undefined;
      const out = { ...(cfg as Record<string, any>) };
      // (a switch that reads as a string is a YAML 1.1 boolean or a quoted string: only YAML 1.1 tells which)
      if (KUBELET_SWITCHES.some((k) => typeof out[k] === 'string')) {
        const v11 = parseYaml11(text) as Record<string, unknown>;
        for (const k of KUBELET_SWITCHES) if (k in out) out[k] = v11[k];
      }
      return out;
    } catch {
      return undefined;
    }
  });
}

/**
 * What in the kubelet's config the kubelet would refuse to start with, among what kubepki reads: a switch
 * that is not a boolean (`rotateCertificates: "false"`, quoted, is a string to its decoder: "json: cannot
 * unmarshal string into Go struct field KubeletConfiguration.rotateCertificates of type bool").
 */
export function kubeletConfigProblems(fs: NodeFs): string[] {
  const cfg = readKubeletConfig(fs);
  if (!cfg) return [];
  const file = kubeletConfigPath(fs);
  return KUBELET_SWITCHES.filter((k) => cfg[k] !== undefined && cfg[k] !== null && typeof cfg[k] !== 'boolean').map((k) =>
    `${k}: ${JSON.stringify(cfg[k])} in ${file} is not a boolean: the kubelet refuses this file and does not start (cannot unmarshal ${typeof cfg[k]} into Go struct field KubeletConfiguration.${k} of type bool); write ${k}: ${/^(false|no|off|n)$/i.test(String(cfg[k])) ? 'false' : 'true'} without quotes`);
}

/** Go's strconv.ParseBool, which reads a bool flag's value. */
function goBool(v: string): boolean | undefined {
  if (/^(1|t|T|true|TRUE|True)$/.test(v)) return true;
  if (/^(0|f|F|false|FALSE|False)$/.test(v)) return false;
  return undefined;
}

/** Whether the kubelet renews its client certificate, and which setting says so. */
export interface KubeletRotation {
  /** undefined: a setting the kubelet refuses (it does not start) */
  on: boolean | undefined;
  /** the file that decides: the kubelet's config or the unit file whose ExecStart= has the flag */
  file: string;
  /** that setting as written, for messages */
  setting: string;
}

/**
 * The kubelet's client certificate rotation: its unit's `--rotate-certificates` (a flag wins over the config
 * file), else the config file's rotateCertificates, whose default is false (kubeadm writes true; a config
 * without it, as Kubernetes the Hard Way's, does not rotate). Undefined when neither is there: a copy of a
 * node without the kubelet's config is taken as kubeadm's, rotating.
 */
export function kubeletClientRotation(fs: NodeFs): KubeletRotation | undefined {
  const unit = kubeletService(fs);
  const flag = argvFlags(unit?.argv ?? []).findLast((f) => f.flag === '--rotate-certificates');
  if (unit && flag) {
    // (pflag's bool flag takes no separate word: only --rotate-certificates=VALUE sets a value)
    const written = unit.argv.findLast((a) => a === '--rotate-certificates' || a.startsWith('--rotate-certificates='))!;
    const value = written.includes('=') ? written.slice(written.indexOf('=') + 1) : 'true';
    return { on: goBool(value), file: unit.source, setting: written };
  }
  const cfg = readKubeletConfig(fs);
  if (!cfg) return undefined;
  const v: unknown = cfg.rotateCertificates;
  const file = kubeletConfigPath(fs);
  if (v === undefined || v === null) return { on: false, file, setting: 'no rotateCertificates (the kubelet\'s default is false)' };
  return { on: typeof v === 'boolean' ? v : undefined, file, setting: `rotateCertificates: ${JSON.stringify(v)}` };
}

/** Flags whose value names a kubeconfig: the component reads every certificate inside. */
const KUBECONFIG_FLAGS = new Set(['--kubeconfig', '--authentication-kubeconfig', '--authorization-kubeconfig']);

interface Container { name?: string; command?: unknown[]; args?: unknown[]; env?: { name?: unknown; value?: unknown }[] }

/**
 * etcd's command line as it reads it: Go's flag package takes -cert-file as --cert-file (older etcd docs and
 * hand-made units write one dash; the Kubernetes components' pflag reads -x as shorthands).
 */
/** A static pod's name without the node's name kubelet appends to a mirror pod's (`etcd-cp1`, `kube-apiserver-master`). */
function withoutNodeSuffix(name: string): string {
  const dash = name.lastIndexOf('-');
  if (dash < 0) return name;
  const last = name.slice(dash);
  return last.startsWith('-cp') || last.startsWith('-master') || last.startsWith('-node') ? name.slice(0, dash) : name;
}

/** A value without the one quote, ' or ", a shell or YAML left at either end. */
function unquote<T extends string | undefined>(s: T): T {
  if (s === undefined) return s;
  let t: string = s;
  if (t.startsWith('"') || t.startsWith("'")) t = t.slice(1);
  if (t.endsWith('"') || t.endsWith("'")) t = t.slice(0, -1);
  return t as T;
}

const etcdArgv = (argv: string[]): string[] => argv.map((a, i) => (i > 0 && a.length > 1 && a[0] === '-' && a[1] !== '-' ? `-${a}` : a));

/**
 * Which component reads which file: static pod manifests' flags (spec §8) and
 * the kubelet's config and kubeconfig. Files referenced through a kubeconfig
 * are attributed too.
 */
export function readComponentRefs(fs: NodeFs): ComponentRef[] {
  const refs: ComponentRef[] = [];
  for (const dir of MANIFEST_DIRS) {
    for (const d of fs.readDir(dir)) {
      // (the kubelet reads every file there; kops writes kube-apiserver.manifest and the like)
      if (withoutYamlExtension(d.name) === d.name && !d.name.endsWith('.manifest')) continue;
      const file = `${dir}/${d.name}`;
      let pod: Record<string, unknown> | undefined;
      try { pod = staticPod(fs, file); } catch { continue; }
      const spec = (pod?.spec ?? {}) as { containers?: Container[] };
      const podName = withoutNodeSuffix(String(((pod?.metadata ?? {}) as Record<string, unknown>).name ?? withoutYamlExtension(d.name)));
      for (const c of spec.containers ?? []) {
        const component = c.name ?? podName;
        const words = [...(c.command ?? []), ...(c.args ?? [])].map(String);
        if (component === 'etcd') {
          // (etcd given a config file takes everything from it, its other flags ignored, as under systemd;
          // without a command the image's entrypoint comes first)
          const env = new Map((Array.isArray(c.env) ? c.env : []).filter((e) => typeof e?.value === 'string').map((e) => [String(e.name), { value: e.value as string, source: file }]));
          const config = etcdConfigFile(etcdArgv(c.command?.length ? words : ['etcd', ...words]), env, file);
          if (config) { refs.push(...etcdConfigRefs(fs, config)); continue; }
        }
        // (indexed: a check runs this once, unoptimised, where each for…of step over a manifest's flags allocates)
        for (let w = 0; w < words.length; w++) {
          // (`--flag=value` with a value on one line)
          const f = splitFlag(words[w]!);
          if (!f?.value || hasLineBreak(f.value)) continue;
          const { flag, value } = f;
          const values = value.split(',');
          for (let i = 0; i < values.length; i++) {
            const v = values[i]!;
            if (!v.startsWith('/')) continue;
            refs.push({ component, via: flag, file: v, source: file });
            if (KUBECONFIG_FLAGS.has(flag)) refs.push(...kubeconfigFileRefs(fs, v, component, flag));
            if (flag === '--config') refs.push(...componentConfigRefs(fs, component, v));
          }
        }
      }
    }
  }
  const units = new Map<string, SystemdService>();
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'etcd']) {
    const unit = componentService(fs, component);
    if (unit) units.set(component, component === 'etcd' ? { ...unit, argv: etcdArgv(unit.argv) } : unit);
  }
  const etcdUnit = units.get('etcd');
  const etcdConfig = etcdUnit && etcdConfigFile(etcdUnit.argv, etcdUnit.env, etcdUnit.source, etcdUnit.workingDirectory);
  refs.push(...systemdEtcdRefs(fs, etcdUnit, etcdConfig));
  refs.push(...systemdUnitRefs(fs, units, etcdConfig));
  // kubelet: its config file and its kubeconfig (kubeadm's drop-in defaults)
  const kubeletConfig = kubeletConfigPath(fs);
  const cfg = readKubeletConfig(fs);
  const ca = cfg?.authentication?.x509?.clientCAFile;
  if (typeof ca === 'string') refs.push({ component: 'kubelet', via: 'authentication.x509.clientCAFile', file: ca, source: kubeletConfig });
  for (const k of ['tlsCertFile', 'tlsPrivateKeyFile'] as const) {
    if (typeof cfg?.[k] === 'string') refs.push({ component: 'kubelet', via: k, file: cfg[k], source: kubeletConfig });
  }
  // Without tlsCertFile or serverTLSBootstrap (or with no config file at all: the defaults) the kubelet
  // serves the self-signed pair it made in its cert dir; renewing it needs a kubelet restart.
  // (its unit's --tls-cert-file serves instead, as a flag overrides the config)
  const flagServes = refs.some((r) => r.component === 'kubelet' && r.via === '--tls-cert-file');
  if (!cfg?.tlsCertFile && !cfg?.serverTLSBootstrap && !flagServes && fs.exists('/var/lib/kubelet/pki/kubelet.crt')) {
    refs.push({ component: 'kubelet', via: 'default self-signed serving pair', file: '/var/lib/kubelet/pki/kubelet.crt', source: fs.exists(kubeletConfig) ? kubeletConfig : 'kubelet defaults' });
  }
  const kubeletConf = kubeletKubeconfigPath(fs);
  if (fs.exists(kubeletConf)) {
    refs.push({ component: 'kubelet', via: '--kubeconfig', file: kubeletConf, source: '/var/lib/kubelet/kubeadm-flags.env' });
    refs.push(...kubeconfigFileRefs(fs, kubeletConf, 'kubelet', '--kubeconfig'));
  }
  for (const pem of ['/var/lib/kubelet/pki/kubelet-client-current.pem', '/var/lib/kubelet/pki/kubelet-server-current.pem']) {
    if (fs.exists(pem)) {
      refs.push({ component: 'kubelet', via: 'certificate rotation', file: pem, source: '/var/lib/kubelet/pki' });
      try { refs.push({ component: 'kubelet', via: 'certificate rotation', file: fs.realNodePath(pem), source: pem }); } catch { /* loop: reported elsewhere */ }
    }
  }
  return dedupe(refs);
}

/**
 * Components run as systemd services with their flags in the unit (Kubernetes the Hard Way, spec §9.4,
 * and other hand-made installs): `ExecStart=/usr/local/bin/kube-apiserver --tls-cert-file=… \`, the
 * flags read after systemd's variable expansion (`--tls-cert-file=${TLS_CERT}`, `$DAEMON_ARGS`).
 */
function systemdUnitRefs(fs: NodeFs, units: Map<string, SystemdService>, etcdConfig: EtcdConfigFile | undefined): ComponentRef[] {
  const out: ComponentRef[] = [];
  for (const [component, unit] of units) {
    // (etcd given a config file takes everything from it, its other flags ignored: systemdEtcdRefs names it)
    if (component === 'etcd' && etcdConfig) continue;
    for (const { flag, value } of argvFlags(unit.argv)) {
      for (const v of (value ?? '').split(',')) {
        if (!v.startsWith('/')) continue;
        out.push({ component, via: flag, file: v, source: unit.source, unit: component });
        if (KUBECONFIG_FLAGS.has(flag)) out.push(...kubeconfigFileRefs(fs, v, component, flag).map((r) => ({ ...r, unit: component })));
        if (flag === '--config') out.push(...componentConfigRefs(fs, component, v).map((r) => ({ ...r, unit: component })));
      }
    }
  }
  return out;
}

/** etcd's YAML config file, and what named it (its flag or environment). */
interface EtcdConfigFile { file: string; via: string; source: string }

/**
 * The YAML config file etcd's command line (from its unit or static pod, `source`) and environment give it: the
 * last --config-file, else ETCD_CONFIG_FILE (etcdmain's config.parse reads that variable only when the flag is
 * not given). With one, etcd reads every setting from that file and ignores its other flags and ETCD_* variables
 * ("Loading server configuration from … Other configuration command line flags and environment variables will
 * be ignored if provided", etcd 3.4). etcd opens a relative path from the directory it runs in, `cwd` (a unit's
 * WorkingDirectory=): the file is that node path, undefined cwd leaving it relative (it names nothing).
 */
function etcdConfigFile(argv: string[], env: ReadonlyMap<string, { value: string; source: string }>, source: string, cwd?: string): EtcdConfigFile | undefined {
  const flag = argvFlags(argv).findLast((f) => f.flag === '--config-file')?.value;
  const named = flag ? { file: flag, via: '--config-file', source } : undefined;
  const fromEnv = env.get('ETCD_CONFIG_FILE');
  const config = named ?? (fromEnv?.value ? { file: fromEnv.value, via: 'ETCD_CONFIG_FILE', source: fromEnv.source } : undefined);
  return config && cwd && !config.file.startsWith('/') ? { ...config, file: posix.resolve(cwd, config.file) } : config;
}

/** What etcd given a config file reads: that file, and the certificates it names (its only references). */
function etcdConfigRefs(fs: NodeFs, config: EtcdConfigFile): ComponentRef[] {
  // (a relative path left so: etcd's working directory, which the tree does not say)
  if (!config.file.startsWith('/')) return [];
  return [{ component: 'etcd', ...config }, ...etcdConfigFileRefs(fs, config.file)];
}

/**
 * etcd run by systemd, not as a static pod (kubespray's default `host` mode, spec §9.3; distro packages):
 * its environment file names the certificates as ETCD_*_FILE, a YAML config (--config-file, ETCD_CONFIG_FILE)
 * as *-transport-security.
 */
function systemdEtcdRefs(fs: NodeFs, unit: SystemdService | undefined, config: EtcdConfigFile | undefined): ComponentRef[] {
  const inUnit = (refs: ComponentRef[]) => refs.map((r) => ({ ...r, unit: 'etcd' }));
  if (config) return inUnit(etcdConfigRefs(fs, config));
  const out: ComponentRef[] = [];
  const etcdFile = (key: string, value: string, source: string) => {
    if (/^ETCD_[A-Z_]*FILE$/.test(key) && value.startsWith('/')) out.push({ component: 'etcd', via: key, file: value, source, unit: 'etcd' });
  };
  // what the unit gives etcd (kubespray: EnvironmentFile=/etc/etcd.env), then the usual files no unit named:
  // a tree without the unit, or one whose etcd is started otherwise (a shell script sourcing them: `export` is
  // allowed there)
  for (const [key, { value, source }] of unit?.env ?? []) etcdFile(key, value, source);
  for (const file of ['/etc/etcd.env', '/etc/default/etcd', '/etc/etcd/etcd.conf']) {
    if (unit?.envFiles.includes(file) || !fs.exists(file)) continue;
    let text: string;
    try { text = fs.readFile(file).toString('utf8'); } catch { continue; }
    const env = new Map([...parseEnvironmentFile(text)].map(([key, value]) => [key.replace(/^export[ \t]+/, ''), { value, source: file }]));
    // (one that sets ETCD_CONFIG_FILE sends etcd to that file, its other ETCD_* ignored, as the unit's own
    // would; where etcd is started from, for a relative path, is not known)
    const config = etcdConfigFile([], env, file);
    if (config) out.push(...inUnit(etcdConfigRefs(fs, config)));
    else for (const [key, { value }] of env) etcdFile(key, value, file);
  }
  for (const file of ['/etc/etcd/etcd.conf.yml', '/etc/etcd/etcd.conf.yaml']) out.push(...inUnit(etcdConfigFileRefs(fs, file)));
  return out;
}

/**
 * The files etcd's YAML config (its --config-file) names in its transport sections: a distro's
 * /etc/etcd/etcd.conf.yml, or RKE2's etcd static pod, whose only flag is
 * --config-file=/var/lib/rancher/rke2/server/db/etcd/config.
 */
function etcdConfigFileRefs(fs: NodeFs, file: string): ComponentRef[] {
  const out: ComponentRef[] = [];
  if (!fs.exists(file)) return out;
  let cfg: Record<string, any> | undefined;
  // (a key written twice keeps its last value, as etcd's decoder, sigs.k8s.io/yaml's lenient Unmarshal, does)
  try { cfg = parseYaml(fs.readFile(file).toString('utf8'), { uniqueKeys: false }) as Record<string, any>; } catch { return out; }
  for (const section of ['client-transport-security', 'peer-transport-security']) {
    // (client-cert-file / client-key-file: the pair etcd 3.5+ presents as a client, to its peers, as its
    // --peer-client-cert-file does; embed's securityConfig)
    for (const key of ['cert-file', 'key-file', 'client-cert-file', 'client-key-file', 'trusted-ca-file']) {
      const v = cfg?.[section]?.[key];
      if (typeof v === 'string' && v.startsWith('/')) out.push({ component: 'etcd', via: `${section}.${key}`, file: v, source: file });
    }
  }
  return out;
}

function kubeletKubeconfigPath(fs: NodeFs): string {
  for (const env of ['/var/lib/kubelet/kubeadm-flags.env', '/etc/default/kubelet', '/etc/sysconfig/kubelet']) {
    if (!fs.exists(env)) continue;
    const v = flagInText(fs.readFile(env).toString('utf8'), '--kubeconfig', UNTIL_DOUBLE_QUOTE);
    if (v) return v;
  }
  return '/etc/kubernetes/kubelet.conf';
}

/**
 * kube-scheduler's and kube-proxy's --config file names their kubeconfig (clientConnection.kubeconfig, as
 * Kubernetes the Hard Way configures both): the component reads it, and the certificates it points at.
 * (The kubelet's --config is read by readKubeletConfig.)
 */
function componentConfigRefs(fs: NodeFs, component: string, config: string): ComponentRef[] {
  if (component !== 'kube-scheduler' && component !== 'kube-proxy') return [];
  let kubeconfig: unknown;
  try { kubeconfig = (parseYaml(fs.readFile(config).toString('utf8'), { uniqueKeys: false }) as Record<string, any>)?.clientConnection?.kubeconfig; } catch { return []; }
  if (typeof kubeconfig !== 'string' || !kubeconfig.startsWith('/')) return [];
  return [{ component, via: 'clientConnection.kubeconfig', file: kubeconfig, source: config }, ...kubeconfigFileRefs(fs, kubeconfig, component, 'clientConnection.kubeconfig')];
}

function kubeconfigFileRefs(fs: NodeFs, kubeconfig: string, component: string, flag: string): ComponentRef[] {
  const out: ComponentRef[] = [];
  try {
    // (read once per read of the node: kube-controller-manager names its kubeconfig three times, with
    // --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig; and the walk has read it, see
    // KUBECONFIG_DOC. Relative references are the kubeconfig directory's, as client-go resolves them.)
    const kc = fs.perRead(`${KUBECONFIG_DOC}${kubeconfig}`, () => parseKubeconfig(fs.readFile(kubeconfig).toString('utf8'), kubeconfig));
    for (const u of kc.users) {
      for (const [k, v] of [['client-certificate', u.certFile], ['client-key', u.keyFile]] as const) {
        if (v === undefined) continue;
        out.push({ component, via: `${flag} → ${k}`, file: v, source: kubeconfig });
        try { out.push({ component, via: `${flag} → ${k}`, file: fs.realNodePath(v), source: kubeconfig }); } catch { /* ignore */ }
      }
    }
    for (const c of kc.clusters) if (c.caFile !== undefined) out.push({ component, via: `${flag} → certificate-authority`, file: c.caFile, source: kubeconfig });
  } catch { /* unreadable kubeconfig: reported by the inventory */ }
  return out;
}

function dedupe(refs: ComponentRef[]): ComponentRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = `${r.component}|${r.file}|${r.via}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What the node's kubeadm config and manifests say the apiserver must be called. */
export interface KubeadmHints {
  nodeName?: string;
  /** kube-apiserver's --secure-port, when the manifest sets it */
  securePort?: string;
  advertiseAddress?: string;
  controlPlaneEndpoint?: string;
  certSANs: string[];
  /** certificateValidityPeriod / caCertificateValidityPeriod of the ClusterConfiguration, when it sets either */
  validity?: KubeadmValidity;
  /** where each came from, for messages */
  source?: string;
  /** why the config file was not taken (kubeadm would refuse it too) */
  problem?: string;
  /** the addresses etcd's static pod announces, and the certificate it serves each with (etcdAdvertised) */
  etcd?: EtcdAdvertised;
  /** kube-apiserver's etcd is not on this node (kubeadm's etcd.external): no etcd static pod or certificates here */
  externalEtcd?: ExternalEtcd;
}

/** An etcd kubeadm does not run (ClusterConfiguration.etcd.external): where kube-apiserver reaches it, and the file that says so. */
export interface ExternalEtcd {
  endpoints: string[];
  /** `etcd.external in FILE`, or kube-apiserver's --etcd-servers in its manifest */
  source: string;
}

/** What kubeadm writes for its own (stacked) etcd in kube-apiserver's --etcd-servers (controlplane/manifests.go: 127.0.0.1 and etcd's client port). */
const LOCAL_ETCD_SERVER = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]):2379\/?$/;

/** kube-apiserver's --etcd-servers (comma-separated) names this node's own etcd, as kubeadm writes it for stacked etcd. */
export function namesLocalEtcd(servers: string): boolean {
  return servers.split(',').some((u) => LOCAL_ETCD_SERVER.test(u.trim()));
}

/**
 * Whether this control-plane node's etcd is external, as kubeadm decides it (etcd.external in the
 * ClusterConfiguration: no etcd static pod, no etcd serving, peer or healthcheck certificates, and `kubeadm
 * certs renew` leaves apiserver-etcd-client to the etcd's own CA, renewal.NewManager's GetCertsWithoutEtcd).
 * An etcd static pod here is local etcd whatever a config says. Without the config, kube-apiserver's
 * --etcd-servers tells: kubeadm points it at 127.0.0.1:2379 for its own etcd, at etcd.external.endpoints else.
 */
function externalEtcdOf(fs: NodeFs, fromConfig: ExternalEtcd | undefined, apiserverManifest: string | undefined): ExternalEtcd | undefined {
  if (fs.exists('/etc/kubernetes/manifests/etcd.yaml')) return undefined;
  if (fromConfig) return fromConfig;
  const servers = apiserverManifest === undefined ? undefined : flagInText(apiserverManifest, '--etcd-servers', BARE);
  if (!servers) return undefined;
  const endpoints = servers.split(',').map((u) => u.trim()).filter(Boolean);
  return endpoints.length > 0 && !namesLocalEtcd(servers)
    ? { endpoints, source: '--etcd-servers in /etc/kubernetes/manifests/kube-apiserver.yaml' }
    : undefined;
}

/** What a static-pod etcd (kubeadm's stacked etcd) tells clients and peers to connect to, and with which certificate it answers there. */
export interface EtcdAdvertised {
  source: string;
  served: { flag: string; certFile: string; hosts: string[] }[];
}

/**
 * The hosts of etcd.yaml's --advertise-client-urls (served with --cert-file) and --initial-advertise-peer-urls
 * (with --peer-cert-file): kube-apiserver, etcdctl and the other members connect there and check the name.
 */
function etcdAdvertised(fs: NodeFs): EtcdAdvertised | undefined {
  const source = '/etc/kubernetes/manifests/etcd.yaml';
  if (!fs.exists(source)) return undefined;
  let argv: string[];
  try {
    const pod = staticPod(fs, source) as { spec?: { containers?: Container[] } } | undefined;
    const c = pod?.spec?.containers?.find((x) => x.name === 'etcd') ?? pod?.spec?.containers?.[0];
    argv = [...(c?.command ?? []), ...(c?.args ?? [])].map(String);
  } catch { return undefined; }
  const last = (flag: string) => argv.findLast((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  const served: EtcdAdvertised['served'] = [];
  for (const [flag, certFlag] of [['--advertise-client-urls', '--cert-file'], ['--initial-advertise-peer-urls', '--peer-cert-file']] as const) {
    const urls = unquote(last(flag)), certFile = unquote(last(certFlag));
    if (!urls || !certFile?.startsWith('/')) continue;
    const hosts = urls.split(',').map((u) => u.trim()).filter((u) => u.startsWith('https://')).flatMap((u) => {
      try { return [unbracket(new URL(u).hostname)]; } catch { return []; }
    });
    if (hosts.length > 0) served.push({ flag, certFile, hosts: [...new Set(hosts)] });
  }
  return served.length > 0 ? { source, served } : undefined;
}

const PERIODS = ['certificateValidityPeriod', 'caCertificateValidityPeriod'] as const;
const OLDER_KUBEADM_APIS = ['kubeadm.k8s.io/v1beta1', 'kubeadm.k8s.io/v1beta2', 'kubeadm.k8s.io/v1beta3'];

/**
 * The lifetimes a ClusterConfiguration sets (kubeadm.k8s.io/v1beta4, kubeadm 1.31+; spec §1.3, §4), or
 * undefined when it sets none. A value kubeadm would not take is a problem named with the file, not a throw:
 * the node's other certificates still have to be read, and renew still has to run (see certificateLifetime).
 */
export function readValidityPeriods(d: Record<string, any>, file: string): KubeadmValidity | undefined {
  const out: KubeadmValidity = { file };
  const problems: NonNullable<KubeadmValidity['problems']> = [];
  // v1beta3 and older have no such fields: kubeadm reports them as unknown and goes on without them
  const apiVersion = String(d.apiVersion ?? '');
  const older = OLDER_KUBEADM_APIS.includes(apiVersion) ? apiVersion : undefined;
  for (const field of PERIODS) {
    const raw: unknown = d[field];
    if (raw === undefined || raw === null) continue;
    const shown = typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
    if (older) {
      problems.push({ field, message: `ClusterConfiguration.${field} in ${file} is ignored: ${older} has no such field (kubeadm 1.31 and later read it from kubeadm.k8s.io/v1beta4)` });
      continue;
    }
    const seconds = typeof raw === 'string' ? parseGoDuration(raw) : undefined;
    if (seconds === undefined) {
      problems.push({ field, message: `ClusterConfiguration.${field} ${shown} in ${file} is not a Go duration (kubeadm refuses it too; write hours, e.g. ${field === 'caCertificateValidityPeriod' ? '87600h' : '2160h'}): ignored` });
    } else if (seconds <= 0) {
      problems.push({ field, message: `ClusterConfiguration.${field} ${shown} in ${file} is not a positive duration (certificates would be born expired): ignored` });
    } else {
      out[field] = { seconds, text: raw as string };
    }
  }
  if (problems.length) out.problems = problems;
  return out.certificateValidityPeriod || out.caCertificateValidityPeriod || out.problems ? out : undefined;
}

export function readKubeadmConfigHints(fs: NodeFs): KubeadmHints {
  const hints: KubeadmHints = { certSANs: [] };
  const file = '/etc/kubernetes/kubeadm-config.yaml';
  let fromConfig: ExternalEtcd | undefined;
  let apiserverManifest: string | undefined;
  if (fs.exists(file)) {
    try {
      // (the kubeadm-config ConfigMap saved there, `kubectl -n kube-system get cm kubeadm-config -o yaml`, holds the
      // cluster's ClusterConfiguration as a string, which is what kubeadm certs renew reads by default)
      const docs = (parseAllYamlFast(nodeText(fs, file)) as Record<string, any>[]).flatMap((d) => (d?.kind === 'ConfigMap' && typeof d?.data?.ClusterConfiguration === 'string'
        ? parseAllYamlFast(d.data.ClusterConfiguration) as Record<string, any>[] : [d]));
      // kubeadm refuses a file that gives a kind twice ("invalid configuration: kind %q is specified twice in
      // YAML file"): which of the two was meant is anybody's guess, so neither is taken
      const kinds = docs.map((d) => (typeof d?.apiVersion === 'string' && d.apiVersion.startsWith('kubeadm.k8s.io/') ? d.kind : undefined)).filter((k) => k !== undefined);
      const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
      if (twice !== undefined) {
        hints.problem = `${file} gives kind ${JSON.stringify(twice)} twice: kubeadm refuses it ("invalid configuration: kind ${JSON.stringify(twice)} is specified twice in YAML file"), and kubepki takes none of its settings (certSANs, certificate lifetimes); keep one`;
      }
      for (const d of twice === undefined ? docs : []) {
        if (d?.kind === 'InitConfiguration' || d?.kind === 'JoinConfiguration') {
          hints.nodeName ??= d?.nodeRegistration?.name;
          hints.advertiseAddress ??= d?.localAPIEndpoint?.advertiseAddress ?? d?.controlPlane?.localAPIEndpoint?.advertiseAddress;
        }
        if (d?.kind === 'ClusterConfiguration') {
          hints.controlPlaneEndpoint ??= d?.controlPlaneEndpoint || undefined;
          for (const s of d?.apiServer?.certSANs ?? []) hints.certSANs.push(String(s));
          hints.validity ??= readValidityPeriods(d, file);
          const ext = d?.etcd?.external;
          if (ext && typeof ext === 'object') {
            const endpoints = Array.isArray(ext.endpoints) ? ext.endpoints.filter((x: unknown) => typeof x === 'string') as string[] : [];
            fromConfig ??= { endpoints, source: `etcd.external in ${file}` };
          }
        }
      }
      hints.source = file;
    } catch { /* unreadable config: ignore for hints */ }
  }
  const manifest = '/etc/kubernetes/manifests/kube-apiserver.yaml';
  if (fs.exists(manifest)) {
    try {
      const text = nodeText(fs, manifest);
      apiserverManifest = text;
      const adv = flagInText(text, '--advertise-address', BARE);
      if (adv) hints.advertiseAddress ??= adv;
      hints.securePort = flagInText(text, '--secure-port', isDigit, true);
      // (the parse readComponentRefs made of it in this read)
      const pod = staticPod(fs, manifest) as Record<string, any> | undefined;
      const ann = pod?.metadata?.annotations?.['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint'];
      if (typeof ann === 'string' && !hints.advertiseAddress) hints.advertiseAddress = unbracket(ann.replace(/:\d+$/, ''));
    } catch { /* ignore */ }
  }
  hints.etcd = etcdAdvertised(fs);
  const external = externalEtcdOf(fs, fromConfig, apiserverManifest);
  if (external) hints.externalEtcd = external;
  const etcd = '/etc/kubernetes/manifests/etcd.yaml';
  if (!hints.nodeName && fs.exists(etcd)) {
    const name = flagInText(nodeText(fs, etcd), '--name', BARE);
    if (name) hints.nodeName = name;
  }
  return hints;
}

/**
 * kube-controller-manager's --cluster-signing-duration (--experimental-cluster-signing-duration before 1.22):
 * the lifetime the kubelet's CSRs get (seed 004 sets 10 years), from its static pod manifest; undefined
 * when there is none or the flag is not set (its default is 8760h) or is no Go duration.
 */
export function clusterSigningDuration(fs: NodeFs): { seconds: number; text: string; file: string } | undefined {
  const file = '/etc/kubernetes/manifests/kube-controller-manager.yaml';
  let text: string;
  try { text = fs.readFile(file).toString('utf8'); } catch { return undefined; }
  const live = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
  const m = /--(?:experimental-)?cluster-signing-duration=["']?([^"'\s,\]]+)/.exec(live);
  const seconds = m ? parseGoDuration(m[1]!) : undefined;
  return m && seconds && seconds > 0 ? { seconds, text: m[1]!, file } : undefined;
}

/** kube-controller-manager's setting that leaves the kubelet's client certificate requests unsigned. */
export interface KubeletSigningOff {
  /** the manifest or unit that runs kube-controller-manager on this node */
  file: string;
  /** the flag as written (`--cluster-signing-key-file=`) */
  setting: string;
  /** why it signs nothing: kubeadm's external-CA mode (an empty flag) */
  why: string;
}

/**
 * Whether the kube-controller-manager on this node signs the kubelet's client certificate requests
 * (kubernetes.io/kube-apiserver-client-kubelet). In kubeadm's external-CA mode (ca.key absent) kubeadm writes
 * `--cluster-signing-cert-file=` and `--cluster-signing-key-file=` empty (spec §1.3): the signing controller
 * does not run, so the kubelet's rotation requests are approved but never signed. Undefined when it signs, or when this node runs
 * no kube-controller-manager (a worker: the control plane's decides). The flag for that signer alone
 * (--cluster-signing-kubelet-client-key-file) wins over the general one.
 */
export function kubeletClientSigningOff(fs: NodeFs): KubeletSigningOff | undefined {
  const manifest = '/etc/kubernetes/manifests/kube-controller-manager.yaml';
  let argv: string[] | undefined;
  let file = manifest;
  try {
    const pod = staticPod(fs, manifest) as { spec?: { containers?: Container[] } } | undefined;
    const c = pod?.spec?.containers?.find((x) => x.name === 'kube-controller-manager') ?? pod?.spec?.containers?.[0];
    argv = [...(c?.command ?? []), ...(c?.args ?? [])].map(String);
  } catch {
    const unit = componentService(fs, 'kube-controller-manager');
    if (unit) { argv = unit.argv; file = unit.source; }
  }
  if (!argv) return undefined;
  const last = (flag: string) => argv!.findLast((a) => a.startsWith(`${flag}=`));
  const written = last('--cluster-signing-kubelet-client-key-file') ?? last('--cluster-signing-key-file');
  if (written === undefined) return undefined;
  const value = unquote(written.slice(written.indexOf('=') + 1));
  // (a key file the flag names but this tree lacks is not taken for the same: a copy of a node or a backup
  // may leave keys out on purpose)
  return value === '' ? { file, setting: written, why: 'kubeadm\'s external-CA mode: the CA key is not in the cluster, so its CSR signing controller does not run' } : undefined;
}
