/**
 * Work out a lost node's kubeadm settings from what survives on it: static pod
 * manifests' flags, a kubeadm config file or ConfigMap dump, certificates and
 * kubeconfigs still there, the kubelet's config, flags file and client
 * certificate. Reads through `NodeFs` (so `--root` works) and never writes.
 */
import { parse as parseYaml } from 'yaml';
import { currentEntries, userClientCert } from '../kubeconfig/client-cert.js';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { apiserverSans, splitHostPort, localEndpoint, canonicalIp, parseKubeVersion, endpointProblem, firstServiceIp, inFirstServiceCidr, type KeyType } from '../profiles/rebuild.js';
import { isIP } from 'node:net';
import { parseKubeadmConfig, settingsFromKubeadmConfig, componentExtras, type ConfigExtras } from './kubeadm-config.js';
import { UserError } from '../errors.js';
import { checkSans } from '../pki/san-validate.js';
import { resolveSettings, type ResolvedSettings, type SettingsSource, type Sourced } from './settings.js';
import { certificatesDirOfCa } from '../layouts/detect.js';
import { readEtcdClusterConfig } from './etcd-cluster-config.js';
import { namesLocalEtcd } from '../inventory/components.js';

export const KUBEADM_CONFIG_CANDIDATES = [
  '/etc/kubernetes/kubeadm-config.yaml',
  '/etc/kubernetes/kubeadm.yaml',
  '/etc/kubernetes/kubeadm-config-cm.yaml',
  '/root/kubeadm-config.yaml',
];
/** flannel's record of its network on a node it runs on (flannel's subnet.env, written at its start) */
const FLANNEL_SUBNET_ENV = '/run/flannel/subnet.env';
export const MANIFEST_DIR = '/etc/kubernetes/manifests';
export const KUBELET_CONFIG = '/var/lib/kubelet/config.yaml';
export const KUBELET_FLAGS = '/var/lib/kubelet/kubeadm-flags.env';
export const KUBELET_CLIENT_CURRENT = '/var/lib/kubelet/pki/kubelet-client-current.pem';

export interface GatherInput {
  fs: NodeFs;
  /** settings given as flags (highest priority) */
  flags: SettingsSource;
  /** `--config`: text and the path to name in messages */
  config?: { text: string; label: string };
}

export interface Gathered extends ResolvedSettings {
  /** node paths that were read and gave at least one value */
  consulted: string[];
  /** InitConfiguration.certificateKey from --config or a surviving config */
  certificateKey?: string;
  /**
   * no control-plane endpoint was found on the node: why (what is gone). The plan warns with it, once: on a node of
   * several control-plane nodes, in the warning that says the cluster must have one.
   */
  endpointNotFound?: string;
  /** extraArgs/extraVolumes/extraEnvs of the kubeadm config the settings came from, for the manifests written */
  manifestExtras?: ConfigExtras & { label: string };
}

/** Flags of a static pod manifest's first container: `--k=v` → {k: v}, plus image and annotations. */
export interface ManifestFacts { flags: Record<string, string>; image?: string; annotations: Record<string, string> }

export function readManifestFacts(text: string): ManifestFacts | undefined {
  let pod: any;
  try { pod = parseYaml(text); } catch { return undefined; }
  const c = pod?.spec?.containers?.[0];
  if (!c) return undefined;
  const flags: Record<string, string> = {};
  for (const arg of [...(c.command ?? []), ...(c.args ?? [])]) {
    const m = /^--([^=]+)=(.*)$/s.exec(String(arg));
    if (m) flags[m[1]!] = m[2]!;
  }
  return { flags, image: typeof c.image === 'string' ? c.image : undefined, annotations: pod?.metadata?.annotations ?? {} };
}

/** `registry.k8s.io/kube-apiserver:v1.26.1` → repository and tag. */
export function splitImage(image: string): { repository: string; name: string; tag?: string } {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tag = colon > slash ? ref.slice(colon + 1) : undefined;
  const path = colon > slash ? ref.slice(0, colon) : ref;
  return { repository: slash >= 0 ? path.slice(0, path.lastIndexOf('/')) : '', name: path.slice(path.lastIndexOf('/') + 1), tag };
}

/** A regular file's text, or undefined (missing, a directory, unreadable). */
export function readText(fs: NodeFs, p: string): string | undefined {
  try { return fs.stat(p)?.isFile() ? fs.readFile(p).toString('utf8') : undefined; } catch { return undefined; }
}

function firstCert(fs: NodeFs, p: string): Certificate | undefined {
  const text = readText(fs, p);
  if (!text) return undefined;
  try {
    const b = parsePemBlocks(text).find((x) => x.label === 'CERTIFICATE');
    return b ? new Certificate(b.der) : undefined;
  } catch { return undefined; }
}

function keyTypeOf(cert: Certificate): KeyType | undefined {
  const k = cert.keyInfo;
  if (k.algorithm === 'RSA' && [2048, 3072, 4096].includes(k.size)) return `rsa-${k.size}` as KeyType;
  if (k.algorithm === 'ECDSA' && k.curve === 'P-256') return 'ecdsa-p256';
  if (k.algorithm === 'ECDSA' && k.curve === 'P-384') return 'ecdsa-p384';
  return undefined;
}

function fromManifests(fs: NodeFs, consulted: Set<string>): SettingsSource {
  const s: SettingsSource = {};
  const api = `${MANIFEST_DIR}/kube-apiserver.yaml`;
  const apiText = readText(fs, api);
  const a = apiText ? readManifestFacts(apiText) : undefined;
  if (a) {
    consulted.add(api);
    const at = (f: string) => `${api} (${f})`;
    const f = a.flags;
    if (f['advertise-address']) s.advertiseAddress = { value: f['advertise-address'], source: at('--advertise-address') };
    if (f['secure-port'] && /^\d+$/.test(f['secure-port'])) s.bindPort = { value: Number(f['secure-port']), source: at('--secure-port') };
    if (f['service-cluster-ip-range']) s.serviceSubnet = { value: f['service-cluster-ip-range'], source: at('--service-cluster-ip-range') };
    const iss = /^https:\/\/kubernetes\.default\.svc\.(.+)$/.exec(f['service-account-issuer'] ?? '');
    if (iss) s.dnsDomain = { value: iss[1]!, source: at('--service-account-issuer') };
    if (f['client-ca-file']?.endsWith('/ca.crt')) s.certificatesDir = { value: f['client-ca-file'].slice(0, -'/ca.crt'.length), source: at('--client-ca-file') };
    if (f['etcd-cafile'] && s.certificatesDir) {
      // (kubeadm's docs copy an external etcd's CA to etcd/ca.crt too: --etcd-servers away from this node tells it)
      const local = f['etcd-cafile'] === `${s.certificatesDir.value}/etcd/ca.crt` && (!f['etcd-servers'] || namesLocalEtcd(f['etcd-servers']));
      s.externalEtcd = { value: !local, source: at('--etcd-cafile') };
      if (!local) {
        s.etcdExternal = {
          value: { endpoints: (f['etcd-servers'] ?? '').split(',').filter(Boolean), caFile: f['etcd-cafile'] ?? '', certFile: f['etcd-certfile'] ?? '', keyFile: f['etcd-keyfile'] ?? '' },
          source: at('--etcd-servers, --etcd-cafile/certfile/keyfile'),
        };
      }
    }
    if (a.image) {
      const img = splitImage(a.image);
      if (img.repository) s.imageRepository = { value: img.repository, source: at('image') };
      if (img.tag && parseKubeVersion(img.tag)) s.kubernetesVersion = { value: img.tag.split('_')[0]!.replace(/^(?!v)/, 'v'), source: at('image') };
    }
  }
  const etcd = `${MANIFEST_DIR}/etcd.yaml`;
  const etcdText = readText(fs, etcd);
  const e = etcdText ? readManifestFacts(etcdText) : undefined;
  if (e) {
    consulted.add(etcd);
    const at = (f: string) => `${etcd} (${f})`;
    if (e.flags.name) s.nodeName = { value: e.flags.name, source: at('--name') };
    const url = (e.flags['advertise-client-urls'] ?? '').split(',')[0];
    if (url && !s.advertiseAddress) {
      const { host } = splitHostPort(url);
      if (host) s.advertiseAddress = { value: host, source: at('--advertise-client-urls') };
    }
    if (e.flags['data-dir']) s.etcdDataDir = { value: e.flags['data-dir'], source: at('--data-dir') };
    if (e.image) s.etcdImage = { value: e.image, source: at('image') };
    s.externalEtcd ??= { value: false, source: at('present') };
  }
  const kcm = `${MANIFEST_DIR}/kube-controller-manager.yaml`;
  const kcmText = readText(fs, kcm);
  const k = kcmText ? readManifestFacts(kcmText) : undefined;
  if (k) {
    consulted.add(kcm);
    const at = (f: string) => `${kcm} (${f})`;
    if (k.flags['cluster-name']) s.clusterName = { value: k.flags['cluster-name'], source: at('--cluster-name') };
    if (k.flags['cluster-cidr']) s.podSubnet = { value: k.flags['cluster-cidr'], source: at('--cluster-cidr') };
    if (!s.serviceSubnet && k.flags['service-cluster-ip-range']) s.serviceSubnet = { value: k.flags['service-cluster-ip-range'], source: at('--service-cluster-ip-range') };
    if (!s.kubernetesVersion && k.image) {
      const tag = splitImage(k.image).tag;
      if (tag && parseKubeVersion(tag)) s.kubernetesVersion = { value: tag.replace(/^(?!v)/, 'v'), source: at('image') };
    }
  }
  const sch = `${MANIFEST_DIR}/kube-scheduler.yaml`;
  const schText = readText(fs, sch);
  const sc = schText ? readManifestFacts(schText) : undefined;
  if (sc && !s.kubernetesVersion && sc.image) {
    consulted.add(sch);
    const tag = splitImage(sc.image).tag;
    if (tag && parseKubeVersion(tag)) s.kubernetesVersion = { value: tag.replace(/^(?!v)/, 'v'), source: `${sch} (image)` };
  }
  return s;
}

/** server and cluster name of the current context of a kubeconfig (no validation: a hint only, so the first entry where a name finds none). */
function kubeconfigFacts(text: string): { server?: string; cluster?: string; user?: string } {
  try {
    const { context, cluster } = currentEntries(parseYaml(text), { orFirst: true });
    return { server: cluster?.cluster?.server, cluster: cluster?.name as string | undefined, user: context?.context?.user };
  } catch { return {}; }
}

function fromKubeconfigs(fs: NodeFs, consulted: Set<string>): SettingsSource {
  const s: SettingsSource = {};
  for (const file of ['admin.conf', 'super-admin.conf', 'kubelet.conf']) {
    const p = `/etc/kubernetes/${file}`;
    const text = readText(fs, p);
    if (!text) continue;
    const f = kubeconfigFacts(text);
    if (f.server) {
      // A server that is not the local endpoint is the control-plane endpoint; the
      // comparison with the advertise address happens after resolution.
      s.controlPlaneEndpoint ??= { value: f.server.replace(/^https:\/\//, '').replace(/\/$/, ''), source: `${p} (server)` };
      consulted.add(p);
    }
    if (f.cluster && file !== 'kubelet.conf') s.clusterName ??= { value: f.cluster, source: `${p} (cluster name)` };
    if (file === 'kubelet.conf' && f.user?.startsWith('system:node:')) s.nodeName ??= { value: f.user.slice('system:node:'.length), source: `${p} (user)` };
  }
  return s;
}

/**
 * The client certificate embedded for the current context's user of a kubeconfig, if any (the first
 * context or user where a name finds none: any certificate the cluster CA signed says the key type).
 * Only embedded data: what `kubeadm certs renew` re-keys; a client-certificate file is not kubeadm's.
 */
function embeddedClientCert(text: string | undefined): Certificate | undefined {
  if (!text) return undefined;
  try { return userClientCert(currentEntries(parseYaml(text), { orFirst: true }).user).cert; } catch { return undefined; }
}

function fromCertificates(fs: NodeFs, pki: string, consulted: Set<string>): SettingsSource {
  const s: SettingsSource = {};
  const server = firstCert(fs, `${pki}/etcd/server.crt`);
  if (server?.commonName) { s.nodeName = { value: server.commonName, source: `${pki}/etcd/server.crt (subject CN)` }; consulted.add(`${pki}/etcd/server.crt`); }
  // kubeadm makes every new key of one type (encryptionAlgorithm): a surviving CA's says which...
  let caPath: string | undefined;
  let ca: Certificate | undefined;
  for (const p of [`${pki}/ca.crt`, `${pki}/front-proxy-ca.crt`, `${pki}/etcd/ca.crt`]) {
    ca = firstCert(fs, p);
    if (ca) { caPath = p; break; }
  }
  const kt = ca && keyTypeOf(ca);
  // ...unless a leaf was made later with another one: kubeadm certs renew makes every new key of the
  // encryptionAlgorithm of the day, while CAs keep theirs (an RSA CA from init, ECDSA-P256 chosen since)
  // (only leaves this node's CAs signed: a foreign one in the way says nothing of the cluster's choice)
  let newest: { path: string; cert: Certificate; type: KeyType } | undefined;
  for (const [b, signer] of [['apiserver', 'ca'], ['apiserver-kubelet-client', 'ca'], ['front-proxy-client', 'front-proxy-ca'], ['apiserver-etcd-client', 'etcd/ca'],
    ['etcd/server', 'etcd/ca'], ['etcd/peer', 'etcd/ca'], ['etcd/healthcheck-client', 'etcd/ca']] as const) {
    const path = `${pki}/${b}.crt`;
    const cert = firstCert(fs, path);
    const type = cert && keyTypeOf(cert);
    const issuer = type && firstCert(fs, `${pki}/${signer}.crt`);
    if (cert && type && issuer && cert.verifySignedBy(issuer) && (!newest || cert.notBefore > newest.cert.notBefore)) newest = { path, cert, type };
  }
  // (and the client certificates kubeadm embeds in its kubeconfigs, which certs renew re-keys the same way)
  const clusterCa = firstCert(fs, `${pki}/ca.crt`);
  for (const file of ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    const path = `/etc/kubernetes/${file}`;
    const cert = embeddedClientCert(readText(fs, path));
    const type = cert && keyTypeOf(cert);
    if (cert && type && clusterCa && cert.verifySignedBy(clusterCa) && (!newest || cert.notBefore > newest.cert.notBefore)) newest = { path, cert, type };
  }
  if (newest && newest.type !== kt) {
    s.keyType = { value: newest.type, source: `${newest.path} (key type of the newest leaf; ${caPath} has another: a CA keeps its key when encryptionAlgorithm changes)` };
    consulted.add(newest.path);
  } else if (kt) { s.keyType = { value: kt, source: `${caPath} (key type)` }; consulted.add(caPath!); }
  else if (ca) {
    // not one kubeadm makes (Ed25519, P-521, RSA 1024…): kubeadm's default, and the plan says why
    const k = ca.keyInfo;
    const what = k.algorithm === 'ECDSA' ? `ECDSA ${k.curve ?? `${k.size}-bit`}` : k.algorithm === 'RSA' ? `RSA ${k.size}` : k.algorithm;
    s.keyType = { value: 'rsa-2048', source: `kubeadm default RSA-2048 (${caPath} has an ${what} key, which kubeadm's encryptionAlgorithm cannot be)` };
    consulted.add(caPath!);
  }
  const api = firstCert(fs, `${pki}/apiserver.crt`);
  if (api) {
    const ips = api.subjectAltNames.filter((n) => n.type === 'ip').map((n) => n.value);
    // kubeadm puts the service IP first and the advertise address second
    if (ips[1]) s.advertiseAddress = { value: ips[1], source: `${pki}/apiserver.crt (second IP SAN)` };
    const dom = api.subjectAltNames.find((n) => n.type === 'dns' && n.value.startsWith('kubernetes.default.svc.'));
    if (dom) s.dnsDomain = { value: dom.value.slice('kubernetes.default.svc.'.length), source: `${pki}/apiserver.crt (DNS SAN)` };
    consulted.add(`${pki}/apiserver.crt`);
  }
  return s;
}

function fromKubelet(fs: NodeFs, consulted: Set<string>, hints: { clusterDNS?: string }): SettingsSource {
  const s: SettingsSource = {};
  const cfgText = readText(fs, KUBELET_CONFIG);
  if (cfgText) {
    try {
      const cfg = parseYaml(cfgText) as any;
      // kubeadm sets clusterDNS to the 10th address of the first service subnet (constants.GetDNSIP): no range, but
      // a check on one that nothing on the node gave
      if (Array.isArray(cfg?.clusterDNS) && isIP(String(cfg.clusterDNS[0] ?? ''))) hints.clusterDNS = String(cfg.clusterDNS[0]);
      if (typeof cfg?.clusterDomain === 'string' && cfg.clusterDomain) {
        s.dnsDomain = { value: cfg.clusterDomain, source: `${KUBELET_CONFIG} (clusterDomain)` };
        consulted.add(KUBELET_CONFIG);
      }
      // kubeadm writes clientCAFile as <certificatesDir>/ca.crt: with /etc/kubernetes gone, it is what says a
      // certificatesDir outside it (whose CAs and keys survived) is where the PKI is
      const dir = certificatesDirOfCa(cfg?.authentication?.x509?.clientCAFile);
      if (dir) {
        s.certificatesDir = { value: dir, source: `${KUBELET_CONFIG} (authentication.x509.clientCAFile)` };
        consulted.add(KUBELET_CONFIG);
      }
    } catch { /* a hint only */ }
  }
  const flagsText = readText(fs, KUBELET_FLAGS);
  if (flagsText) {
    const host = /--hostname-override[= ]([^\s"']+)/.exec(flagsText)?.[1];
    if (host) { s.nodeName = { value: host.toLowerCase(), source: `${KUBELET_FLAGS} (--hostname-override)` }; consulted.add(KUBELET_FLAGS); }
    const ip = /--node-ip[= ]([^\s"',]+)/.exec(flagsText)?.[1];
    // `::` and `0.0.0.0` only pick the family of the node's default address (the kubelet's --node-ip help): no address
    if (ip && !isUnspecifiedIp(ip)) { s.advertiseAddress = { value: ip, source: `${KUBELET_FLAGS} (--node-ip)` }; consulted.add(KUBELET_FLAGS); }
  }
  const cur = firstCert(fs, KUBELET_CLIENT_CURRENT);
  const cn = cur?.commonName;
  if (cn?.startsWith('system:node:')) {
    s.nodeName ??= { value: cn.slice('system:node:'.length), source: `${KUBELET_CLIENT_CURRENT} (subject CN)` };
    consulted.add(KUBELET_CLIENT_CURRENT);
  }
  return s;
}

/** `0.0.0.0`, `::` (any spelling): an address that means "any", never one to advertise. */
function isUnspecifiedIp(ip: string): boolean {
  return isIP(ip) !== 0 && /^(0\.0\.0\.0|::)$/.test(canonicalIp(ip));
}

/** An IP address in one spelling (2001:DB8::1 = 2001:db8:0::1), a DNS name in lower case: what makes two SANs the same. */
function sanKey(s: string): string {
  return isIP(s) ? `ip:${canonicalIp(s)}` : `dns:${s.toLowerCase()}`;
}

/**
 * The certSANs found (config, surviving apiserver.crt, or none) followed by the added ones not among them, in
 * order; the source says which SANs came from where (--dry-run shows it, -o json carries it).
 */
export function addCertSans(resolved: ResolvedSettings, added: Sourced<string[]>): ResolvedSettings {
  const base = resolved.provenance.certSANs;
  const seen = new Set(base.value.map(sanKey));
  const fresh: string[] = [];
  const already: string[] = [];
  for (const s of added.value) {
    const k = sanKey(s);
    if (seen.has(k)) already.push(s);
    else { seen.add(k); fresh.push(s); }
  }
  const parts: string[] = [];
  if (base.source !== 'kubeadm default') parts.push(`${base.value.length ? base.value.join(',') : '(none)'} from ${base.source}`);
  parts.push(`${fresh.length ? fresh.join(',') : 'nothing new'} from ${added.source}${already.length ? ` (${already.join(',')} already listed)` : ''}`);
  const certSANs: Sourced<string[]> = { value: [...base.value, ...fresh], source: parts.join('; ') };
  return { ...resolved, settings: { ...resolved.settings, certSANs: certSANs.value }, provenance: { ...resolved.provenance, certSANs } };
}

/**
 * Every source, in priority order: flags, --config, the cluster's kubeadm-config
 * ConfigMap in the etcd data left on the node, a surviving kubeadm config,
 * static pod manifests, kubeconfigs, certificates, the kubelet. Then
 * two refinements that need the merged answer: a kubeconfig server equal to
 * the local endpoint is no control-plane endpoint, and a surviving
 * apiserver.crt's extra SANs are the certSANs.
 */
export function gatherSettings(input: GatherInput): Gathered {
  const { fs } = input;
  const warnings: string[] = [];
  const consulted = new Set<string>();
  // --cert-sans adds to the certSANs the node's config (or surviving apiserver.crt) already lists, so it is
  // no source that wins over them: an operator adding one name must not lose the load balancer's
  const { certSANs: addedSans, ...flags } = input.flags;
  const sources: SettingsSource[] = [flags];
  let certificateKey: string | undefined;
  let config: { label: string; hasInit: boolean } | undefined;
  let extras: Gathered['manifestExtras'];
  if (input.config) {
    const docs = parseKubeadmConfig(input.config.text, input.config.label);
    config = { label: input.config.label, hasInit: docs.init !== undefined };
    certificateKey = docs.certificateKey;
    const fromConfig = settingsFromKubeadmConfig(docs, input.config.label, warnings);
    for (const f of [fromConfig.certSANs, fromConfig.etcdServerCertSANs]) {
      const problems = f ? checkSans(f.value).problems : [];
      if (problems.length > 0) {
        throw new UserError(`failed to use --config ${input.config.label}: ${f!.source.slice(input.config.label.length + 2, -1)}: ${problems.join('; ')}`, 'fix the entries: IP addresses (192.0.2.10, 2001:db8::1) or DNS names (api.example.com, *.example.com)');
      }
    }
    sources.push(fromConfig);
    if (docs.cluster) extras ??= { ...componentExtras(docs), label: input.config.label };
  }
  const nodeConfigs: SettingsSource[] = [];
  let nodeExtras: Gathered['manifestExtras'];
  for (const p of KUBEADM_CONFIG_CANDIDATES) {
    const text = readText(fs, p);
    if (!text) continue;
    try {
      const docs = parseKubeadmConfig(text, p);
      certificateKey ??= docs.certificateKey;
      nodeConfigs.push(settingsFromKubeadmConfig(docs, p, warnings));
      if (docs.cluster) nodeExtras ??= { ...componentExtras(docs), label: p };
      consulted.add(p);
    } catch (e) {
      warnings.push(`${p}: ${(e as Error).message}; ignored`);
    }
  }
  const manifests = fromManifests(fs, consulted);
  // The cluster's own ClusterConfiguration, in the etcd data rm -rf /etc/kubernetes leaves behind: below --config
  // (the operator's word), above a kubeadm config file on the node and everything else. It is what kubeadm itself
  // reads back once the cluster is up (upgrade apply/node, join, certs renew take kube-system/kubeadm-config, never
  // a file on the node unless given with --config), and upgrade apply keeps it current where a file given to init
  // goes stale; the manifests kubeadm writes come from it. It has no InitConfiguration: this node's name and
  // address still come from the node.
  const etcdDataDir = [...sources, ...nodeConfigs, manifests].map((s) => s.etcdDataDir?.value).find(Boolean) ?? '/var/lib/etcd';
  const etcd = readEtcdClusterConfig(fs, etcdDataDir);
  let fromEtcd: { settings: SettingsSource; label: string } | undefined;
  if (etcd) {
    warnings.push(...etcd.warnings);
    if (etcd.kubeadm) {
      const { label } = etcd.kubeadm;
      try {
        const docs = parseKubeadmConfig(etcd.kubeadm.text, label);
        const settings = settingsFromKubeadmConfig({ ...docs, init: undefined }, label, warnings);
        for (const name of ['certSANs', 'etcdServerCertSANs'] as const) {
          const problems = settings[name] ? checkSans(settings[name].value).problems : [];
          if (problems.length > 0) { warnings.push(`${settings[name]!.source}: ${problems.join('; ')}; ignored`); delete settings[name]; }
        }
        sources.push(settings);
        fromEtcd = { settings, label };
        if (docs.cluster) extras ??= { ...componentExtras(docs), label };
        consulted.add(etcd.db);
      } catch (e) {
        warnings.push(`${(e as Error).message}; ignored`);
      }
    }
  }
  sources.push(...nodeConfigs);
  // (the first config read wins, as its settings do: --config, else the cluster's in etcd, else the node's own)
  extras ??= nodeExtras;
  sources.push(manifests);
  const kubeconfigs = fromKubeconfigs(fs, consulted);
  sources.push(kubeconfigs);
  // certificatesDir decides where to look for surviving certificates (the kubelet's config is the last to say it)
  const kubeletHints: { clusterDNS?: string } = {};
  const kubelet = fromKubelet(fs, consulted, kubeletHints);
  const pki = [...sources, kubelet].map((s) => s.certificatesDir?.value).find(Boolean) ?? '/etc/kubernetes/pki';
  sources.push(fromCertificates(fs, pki, consulted));
  sources.push(kubelet);
  // the cluster's ClusterConfiguration without a controlPlaneEndpoint says the cluster has none (the last word:
  // anything on the node that says otherwise wins, and is shown with it)
  if (fromEtcd && !fromEtcd.settings.controlPlaneEndpoint) sources.push({ controlPlaneEndpoint: { value: '', source: `${fromEtcd.label} (no controlPlaneEndpoint)` } });

  let resolved = resolveSettings(sources, warnings, config);
  // Without a controlPlaneEndpoint kubeadm's kubeconfigs point at https://<advertiseAddress>:<bindPort>
  // (GetControlPlaneEndpoint): a kubeconfig server on this node's own address says the port the API server listens
  // on when nothing else (its manifest's --secure-port, a kubeadm config) did, rather than being a shared endpoint
  // on a port this API server would not listen on
  {
    const c = resolved.provenance.controlPlaneEndpoint;
    const { host, port } = c.source.endsWith('(server)') ? splitHostPort(c.value) : { host: '', port: undefined };
    if (port && port !== resolved.settings.bindPort && resolved.provenance.bindPort.source === 'kubeadm default'
      && isIP(host) && isIP(resolved.settings.advertiseAddress) && canonicalIp(host) === canonicalIp(resolved.settings.advertiseAddress)) {
      sources.push({ bindPort: { value: port, source: `${c.source.replace(/ \(server\)$/, '')} (server on this node's advertise address)` } });
      resolved = resolveSettings(sources, warnings, config);
    }
  }
  // A kubeconfig server that is just the local API endpoint means "no control-plane endpoint":
  // that is a finding (the cluster has none), not a gap to warn about.
  const cpe = resolved.provenance.controlPlaneEndpoint;
  let kubeletLocalOnly = false;
  const minor = parseKubeVersion(resolved.settings.kubernetesVersion)?.minor ?? 0;
  if (cpe.source.includes('(server)') && `https://${cpe.value}` === localEndpoint(resolved.settings) && cpe.source.startsWith('/etc/kubernetes/kubelet.conf') && minor >= 33) {
    // 1.33+ kubelet.conf always points at the local endpoint (ControlPlaneKubeletLocalMode): it says nothing
    delete kubeconfigs.controlPlaneEndpoint;
    kubeletLocalOnly = true;
    resolved = resolveSettings(sources, warnings);
  } else if (cpe.source.includes('(server)') && `https://${cpe.value}` === localEndpoint(resolved.settings)) {
    kubeconfigs.controlPlaneEndpoint = { value: '', source: `${cpe.source.replace(/ \(server\)$/, '')} (server is this node's API endpoint: no shared endpoint)` };
    resolved = resolveSettings(sources, warnings);
  }
  // A range nobody gave is kubeadm's default, and the Service IP in apiserver.crt and --service-cluster-ip-range follow
  // it: a surviving apiserver.crt whose first IP SAN (the kubernetes Service IP, which kubeadm's GetAPIServerAltNames
  // puts first) is not the default's says the cluster has another range, and guessing would give the API server a
  // range its Services are not in and in-cluster clients a certificate without the IP they connect to
  if (resolved.provenance.serviceSubnet.source === 'kubeadm default') {
    const file = `${resolved.settings.certificatesDir}/apiserver.crt`;
    const svcIp = firstCert(fs, file)?.subjectAltNames.find((n) => n.type === 'ip')?.value;
    const def = resolved.settings.serviceSubnet;
    if (svcIp && canonicalIp(svcIp) !== firstServiceIp(def)) {
      throw new UserError(`failed to work out serviceSubnet (--service-cidr): ${file}'s first IP SAN ${canonicalIp(svcIp)} is the cluster's kubernetes Service IP (kubeadm puts it first), not ${firstServiceIp(def)} of kubeadm's default ${def}, and nothing left on the node says the range`,
        `pass --service-cidr with the cluster's service range (the one holding ${canonicalIp(svcIp)}; kube-controller-manager's --service-cluster-ip-range on another control-plane node), or --config with the cluster's kubeadm configuration`);
    }
    // (one an apiserver.crt confirms stands: nodelocaldns' 169.254.25.10 is a clusterDNS outside any service range)
    if (!svcIp && kubeletHints.clusterDNS && !inFirstServiceCidr(kubeletHints.clusterDNS, def)) {
      warnings.push(`serviceSubnet is kubeadm's default ${def} (nothing left on the node says it), but ${KUBELET_CONFIG}'s clusterDNS ${kubeletHints.clusterDNS} is outside it (kubeadm sets clusterDNS to the 10th address of the service subnet): if the cluster's service range is another, pass --service-cidr, or apiserver.crt lacks the kubernetes Service IP and the manifests carry the wrong --service-cluster-ip-range`);
    }
  }
  // kube-controller-manager gives each Node its pod range only with --cluster-cidr (kubeadm's podSubnet, with
  // --allocate-node-cidrs): without it new Nodes get no spec.podCIDR, and flannel's kube-subnet-mgr on them waits for
  // one forever. With kubeadm's files gone, flannel's own record on a node it runs on says the network its
  // net-conf.json gave, which kubeadm's podSubnet must be (/run/flannel/subnet.env, FLANNEL_NETWORK).
  if (resolved.provenance.podSubnet.source === 'kubeadm default') {
    const net = /^FLANNEL_NETWORK=(\S+)$/m.exec(readText(fs, FLANNEL_SUBNET_ENV) ?? '')?.[1];
    if (net) {
      sources.push({ podSubnet: { value: net, source: `${FLANNEL_SUBNET_ENV} (FLANNEL_NETWORK)` } });
      resolved = resolveSettings(sources, warnings);
    } else {
      warnings.push(`podSubnet is unknown (nothing left on the node says it), so kube-controller-manager gets no --cluster-cidr and allocates no pod ranges: if the cluster was made with a pod network CIDR (kubeadm init --pod-network-cidr; flannel needs it), pass --pod-network-cidr, or Nodes that join from now on get no spec.podCIDR`);
    }
  }
  // Extra SANs of a surviving apiserver.crt are certSANs kubeadm was given; none there means it had none.
  if (resolved.provenance.certSANs.source === 'kubeadm default') {
    const api = firstCert(fs, `${resolved.settings.certificatesDir}/apiserver.crt`);
    if (api) {
      const base = apiserverSans(resolved.settings);
      const dns = new Set(base.dns), ips = new Set(base.ips);
      const extra = api.subjectAltNames
        .filter((n) => (n.type === 'dns' && !dns.has(n.value)) || (n.type === 'ip' && !ips.has(canonicalIp(n.value))))
        .map((n) => n.value);
      const file = `${resolved.settings.certificatesDir}/apiserver.crt`;
      sources.push({ certSANs: { value: extra, source: extra.length > 0 ? `${file} (SANs beyond kubeadm's own)` : `${file} (no SANs beyond kubeadm's own)` } });
      resolved = resolveSettings(sources, warnings);
    }
  }
  // and one without apiServer.certSANs that the cluster had none, where no apiserver.crt says what it was given
  if (fromEtcd && !fromEtcd.settings.certSANs && resolved.provenance.certSANs.source === 'kubeadm default') {
    sources.push({ certSANs: { value: [], source: `${fromEtcd.label} (no apiServer.certSANs)` } });
    resolved = resolveSettings(sources, warnings);
  }
  if (etcd?.clusterCa) {
    const file = `${resolved.settings.certificatesDir}/ca.crt`;
    const ca = firstCert(fs, file);
    if (ca && !etcd.clusterCa.certs.some((c) => Buffer.compare(c.der, ca.der) === 0)) {
      warnings.push(`${file} is not the cluster's CA: ${etcd.clusterCa.label} (data.kubeconfig) holds ${etcd.clusterCa.certs.map((c) => `"${c.subjectString}" (SHA-256 ${c.fingerprint256.slice(0, 16)}…)`).join(', ')}, while ${file} is "${ca.subjectString}" (SHA-256 ${ca.fingerprint256.slice(0, 16)}…): nodes and clients that trust the cluster's CA will not trust what this one signs. Bring the cluster's ca.crt and ca.key from a healthy control-plane node (kubepki ca export there, kubepki ca import here), unless this etcd data is another cluster's; if this CA is meant to replace it, cluster-info must follow (kubepki join writes the manifest that refreshes it)`);
    }
  }
  for (const [name, why] of [
    ['controlPlaneEndpoint', resolved.settings.controlPlaneEndpoint && endpointProblem(resolved.settings.controlPlaneEndpoint)],
    ['advertiseAddress', !isIP(resolved.settings.advertiseAddress) ? 'it is not an IP address'
      // kubeadm replaces an unspecified one with the default route's address (SetAPIEndpointDynamicDefaults); from
      // a copy of the node (--root) that cannot be known, and an API server cannot advertise it
      : isUnspecifiedIp(resolved.settings.advertiseAddress) ? 'it is the unspecified address, not one other nodes can reach' : undefined],
  ] as const) {
    if (!why) continue;
    const p = resolved.provenance[name];
    throw new UserError(`failed to use ${name} ${JSON.stringify(p.value)} from ${p.source}: ${why}`, `fix it there, or pass --${name === 'advertiseAddress' ? 'advertise-address' : 'control-plane-endpoint'} with the right value`);
  }
  const endpointNotFound = resolved.provenance.controlPlaneEndpoint.source !== 'kubeadm default' ? undefined
    : kubeletLocalOnly ? 'admin.conf and kubeadm configs are gone; kubelet.conf points at the local endpoint, as it always does from 1.33' : 'admin.conf, kubelet.conf and kubeadm configs are gone';
  const kp = resolved.provenance.keyType;
  if (kp.source.startsWith('kubeadm default RSA-2048 (')) {
    warnings.push(`new keys are RSA 2048, kubeadm's default: ${kp.source.slice('kubeadm default RSA-2048 ('.length, -1)} (RSA-2048/3072/4096, ECDSA-P256/P384 only), and no kubeadm config says its encryptionAlgorithm; the CA still signs them (Go accepts this chain). Pass --key-type (or --config with ClusterConfiguration.encryptionAlgorithm) to choose another`);
  }
  if (addedSans) resolved = addCertSans(resolved, addedSans);
  if (resolved.provenance.certSANs.source === 'kubeadm default') {
    warnings.push('no extra apiserver SANs found on the node (apiserver.crt and kubeadm configs are gone): pass --cert-sans if the cluster had apiServer.certSANs');
  }
  return { ...resolved, warnings, consulted: [...consulted], certificateKey, ...(endpointNotFound ? { endpointNotFound } : {}), ...(extras ? { manifestExtras: extras } : {}) };
}
