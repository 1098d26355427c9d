/**
 * Where `ca import` writes what it decrypts, as kubeadm's download-certs does (certsToTransfer in
 * kubernetes/kubernetes cmd/kubeadm/app/phases/copycerts/copycerts.go): the shared CA files under the
 * ClusterConfiguration's certificatesDir, and an external etcd's CA and client pair, which the export carries as
 * external-etcd-ca.crt, external-etcd.crt and external-etcd.key, at its etcd.external caFile, certFile and keyFile.
 *
 * This node's kube-apiserver manifest says both for the node as it runs (--client-ca-file, --etcd-*), so it comes
 * first, and a --config that names other paths is refused: which of the two is meant is a guess, and files put
 * where kube-apiserver does not look fix nothing. Without the manifest (a wiped node) the ClusterConfiguration
 * comes from --config, else the cluster's kubeadm-config ConfigMap in the etcd data on the node (a stacked node's
 * database; an external-etcd node keeps none, so --config is its route), else a kubeadm config file left on it.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { UserError } from '../errors.js';
import { certificatesDirOfCa, kubeadmPkiDir } from '../layouts/detect.js';
import { flagInText, BARE } from '../inventory/flags.js';
import { MANIFEST_DIR, KUBEADM_CONFIG_CANDIDATES, readText as text } from './infer.js';
import { externalEtcdFiles } from './node-files.js';
import { parseKubeadmConfig, type KubeadmConfigDocs } from './kubeadm-config.js';
import { readEtcdClusterConfig } from './etcd-cluster-config.js';
import { EXTERNAL_ETCD_KEYS, type ExternalEtcdFiles } from './shared-certs.js';

const APISERVER = `${MANIFEST_DIR}/kube-apiserver.yaml`;
const FLAGS = { caFile: '--etcd-cafile', certFile: '--etcd-certfile', keyFile: '--etcd-keyfile' } as const;
type Field = keyof typeof EXTERNAL_ETCD_KEYS;
const FIELDS = Object.keys(EXTERNAL_ETCD_KEYS) as Field[];

export interface ImportTargets {
  /** where the shared files go */
  pki: string;
  /** per external-etcd-* entry (by its name in the export): the node path, or why it has none */
  externalEtcd: Record<string, { path: string } | { why: string }>;
  /** what named the external etcd paths, for the output */
  externalSource?: string;
}

function externalOf(docs: KubeadmConfigDocs): ExternalEtcdFiles | undefined {
  const x = docs.cluster?.etcd?.external;
  if (!x || typeof x !== 'object') return undefined;
  const out: ExternalEtcdFiles = {};
  for (const f of FIELDS) if (typeof x[f] === 'string' && x[f].trim() !== '') out[f] = x[f].trim();
  return out;
}

/**
 * `config` is --config, parsed; `needExternal` whether the export carries external-etcd-* entries (only then is
 * the etcd database read, and a manifest's --etcd-* flags compared with --config).
 */
export function importTargets(fs: NodeFs, config: { docs: KubeadmConfigDocs; label: string } | undefined, needExternal: boolean): ImportTargets {
  const manifest = text(fs, APISERVER);
  const fromConfig = config ? { certificatesDir: typeof config.docs.cluster?.certificatesDir === 'string' ? config.docs.cluster.certificatesDir.trim().replace(/(.)\/+$/, '$1') : '', external: externalOf(config.docs) } : undefined;
  const refuse = (what: string, cfg: string, node: string) => new UserError(
    `failed to import: --config ${config!.label} has ${what} ${cfg}, but this node's ${APISERVER} reads ${node}`,
    'pass the kubeadm config this node was made with, or leave --config out to follow the manifest');

  let pki: string;
  const manifestPki = manifest ? certificatesDirOfCa(flagInText(manifest, '--client-ca-file', BARE, true)) : undefined;
  if (manifestPki) {
    pki = manifestPki;
    if (fromConfig?.certificatesDir && fromConfig.certificatesDir !== pki) throw refuse('certificatesDir', fromConfig.certificatesDir, `its CA from ${pki}`);
  } else pki = fromConfig?.certificatesDir || kubeadmPkiDir(fs);

  const out: ImportTargets = { pki, externalEtcd: {} };
  if (!needExternal) return out;
  const all = (why: string): ImportTargets => {
    for (const f of FIELDS) out.externalEtcd[EXTERNAL_ETCD_KEYS[f]] = { why };
    return out;
  };
  if (fs.exists(`${MANIFEST_DIR}/etcd.yaml`)) return all(`this node runs etcd itself (${MANIFEST_DIR}/etcd.yaml): an external etcd's files are not for it`);

  let files: ExternalEtcdFiles | undefined;
  let source: string;
  const tried: string[] = [];
  if (manifest) {
    files = externalEtcdFiles(fs, pki);
    if (!files) return all(`${APISERVER} has no --etcd-cafile, or its etcd is this node's: an external etcd's files are not for it`);
    source = `${APISERVER} (${FIELDS.map((f) => FLAGS[f]).join(', ')})`;
    for (const f of FIELDS) {
      const c = fromConfig?.external?.[f];
      if (c !== undefined && c !== files[f]) throw refuse(`etcd.external.${f}`, c, `${FLAGS[f]}=${files[f] ?? '(none)'}`);
    }
    if (fromConfig && !fromConfig.external) throw refuse('no etcd.external', '(its etcd is local)', `an external etcd's files (${FLAGS.caFile}=${files.caFile})`);
  } else if (config) {
    if (!fromConfig!.external) return all(`--config ${config.label} has no etcd.external: its etcd is local, and an external etcd's files are not for it`);
    files = fromConfig!.external;
    source = `--config ${config.label} (etcd.external)`;
  } else {
    // the cluster's own ClusterConfiguration first: upgrade apply keeps it current, where a file given to init goes stale
    const etcd = readEtcdClusterConfig(fs, '/var/lib/etcd');
    if (etcd?.kubeadm) {
      try {
        const docs = parseKubeadmConfig(etcd.kubeadm.text, etcd.kubeadm.label);
        files = externalOf(docs);
        if (!files) return all(`${etcd.kubeadm.label} has no etcd.external: its etcd is local, and an external etcd's files are not for it`);
        source = `${etcd.kubeadm.label} (etcd.external)`;
      } catch (e) { tried.push((e as Error).message); }
    } else if (etcd) tried.push(...etcd.warnings);
    for (const p of files ? [] : KUBEADM_CONFIG_CANDIDATES) {
      const t = text(fs, p);
      if (!t) continue;
      try {
        const docs = parseKubeadmConfig(t, p);
        if (!docs.cluster) continue;
        files = externalOf(docs);
        if (!files) return all(`${p} has no etcd.external: its etcd is local, and an external etcd's files are not for it`);
        source = `${p} (etcd.external)`;
        break;
      } catch (e) { tried.push(`${(e as Error).message}; ignored`); }
    }
    if (!files) {
      return all(`nothing on this node says where they go: no ${APISERVER}, no kubeadm-config in /var/lib/etcd, no kubeadm config file${tried.length ? ` (${tried.join('; ')})` : ''}; pass --config FILE, the kubeadm config with etcd.external or \`kubectl -n kube-system get cm kubeadm-config -o yaml\` from a working control-plane node, and run this import again`);
    }
  }
  out.externalSource = source!;
  for (const f of FIELDS) {
    const p = files[f];
    // (kubeadm's validation wants these absolute: ValidateAbsolutePath in ValidateEtcd)
    out.externalEtcd[EXTERNAL_ETCD_KEYS[f]] = !p ? { why: `${source!} names no ${manifest ? FLAGS[f] : `etcd.external.${f}`}` }
      : !p.startsWith('/') ? { why: `${source!} gives ${manifest ? FLAGS[f] : `etcd.external.${f}`} ${p}, not an absolute path` }
      : { path: p };
  }
  return out;
}
