import type { NodeFs } from '../fs/node-fs.js';
import type { CertEntry, Inventory, LayoutName } from '../inventory/types.js';
import { DEFAULT_PKI } from '../profiles/kubeadm.js';
import { readKubeletConfig, kubeletConfigPath, nodeText, componentService, KUBELET_CONFIG } from '../inventory/components.js';
import { readSystemdService, unitLines, argvFlags } from '../inventory/systemd-unit.js';
import { BARE, flagInText, hasLineBreak } from '../inventory/flags.js';

/** A place to look for certificates, and the layout that put it there. */
export interface ScanTarget {
  /** node path of a directory or a file */
  path: string;
  layout: LayoutName;
  /** walk sub-directories */
  recursive: boolean;
  /** given by the user (`--path`, `--kubeconfig`): an unreadable target is an error, not a finding */
  explicit?: boolean;
  /** only files whose base name matches */
  match?: RegExp;
  /** a Kubernetes object manifest (a Secret's JSON or YAML): its certificates are read too */
  manifest?: boolean;
  /** the directory names of what is found are relative to, when not `path` (a file named inside a layout's directory) */
  namedFrom?: string;
}

export const ALL_LAYOUTS: LayoutName[] = ['kubeadm', 'kubelet', 'rke1', 'rke2', 'k3s', 'kubespray', 'hardway', 'k0s', 'microk8s', 'minikube', 'kops', 'generic'];

/**
 * Where each installer keeps its files (spec §7–9). Detection is by presence;
 * `--layout` forces a set.
 */
export function layoutTargets(layout: LayoutName, fs: NodeFs, pkiDir = kubeadmPkiDir(fs)): ScanTarget[] {
  switch (layout) {
    case 'kubeadm':
      return [
        { path: pkiDir, layout, recursive: true },
        // (a certificatesDir elsewhere can leave the default one behind: what is there is still on the node)
        ...(pkiDir === DEFAULT_PKI ? [] : [{ path: DEFAULT_PKI, layout, recursive: true }]),
        { path: '/etc/kubernetes', layout, recursive: false, match: /\.conf$/ },
      ];
    case 'kubespray':
      return [
        { path: '/etc/kubernetes/ssl', layout, recursive: true },
        { path: '/etc/kubernetes', layout, recursive: false, match: /\.conf$/ },
        { path: '/etc/ssl/etcd/ssl', layout, recursive: true },
      ];
    case 'kubelet':
      return [
        { path: '/var/lib/kubelet/pki', layout, recursive: false },
        { path: '/etc/kubernetes/kubelet.conf', layout, recursive: false },
      ];
    case 'rke1': {
      const out: ScanTarget[] = [{ path: '/etc/kubernetes/ssl', layout, recursive: true }];
      // the workstation kubeconfig `rke up` writes next to cluster.yml
      for (const home of homeDirs(fs)) out.push({ path: home, layout, recursive: false, match: /^kube_config_.*\.ya?ml$/ });
      return out;
    }
    case 'rke2':
    case 'k3s':
      return [
        { path: `/var/lib/rancher/${layout}/server/tls`, layout, recursive: true },
        // the serving certificate of its listener (6443 on k3s, 9345 on RKE2), kept as the Secret kube-system/<layout>-serving
        { path: `/var/lib/rancher/${layout}/server/tls/dynamic-cert.json`, layout, recursive: false, manifest: true },
        { path: `/var/lib/rancher/${layout}/server/cred`, layout, recursive: false },
        { path: `/var/lib/rancher/${layout}/agent`, layout, recursive: false },
        { path: `/etc/rancher/${layout}`, layout, recursive: false, match: /\.ya?ml$/ },
      ];
    case 'hardway':
      return [
        { path: '/var/lib/kubernetes', layout, recursive: false },
        { path: '/var/lib/kubelet', layout, recursive: false, match: /(\.crt|\.key|\.pem|kubeconfig)$/ },
        { path: '/var/lib/kube-proxy', layout, recursive: false, match: /kubeconfig$/ },
        // the admin's kubeconfig, copied to root's home on the server (`kubectl get clusterroles --kubeconfig admin.kubeconfig`)
        { path: '/root', layout, recursive: false, match: /\.kubeconfig$/ },
      ];
    // (paths as k0s and MicroK8s write them: the sources are cited at installerCert)
    case 'k0s': {
      const { dataDir: d, kubeletRootDir } = k0sDirs(fs) ?? { dataDir: K0S_DATA_DIR, kubeletRootDir: `${K0S_DATA_DIR}/kubelet` };
      return [
        // a controller's CertRootDir: the CAs, every leaf, etcd/, and the kubeconfigs k0s writes beside them
        { path: `${d}/pki`, layout, recursive: true },
        // a worker's (or a controller with --enable-worker): KubeletAuthConfigPath, and the kubelet's --cert-dir
        // under its root dir, where it rotates its client certificate
        { path: `${d}/kubelet.conf`, layout, recursive: false },
        { path: `${kubeletRootDir}/pki`, layout, recursive: false },
      ];
    }
    case 'microk8s': {
      // `current` is the snap's link to the revision in use (older revisions keep their own copies, which nothing
      // reads): read through it, and name what is found from the revision's directory, where the files are
      let d = '/var/snap/microk8s/current';
      try { d = fs.realNodePath(d); } catch { /* a link loop: nothing is read under it */ }
      return [
        // ca, server, front-proxy-*, serviceaccount.key, and the component certificates of newer releases
        { path: `${d}/certs`, layout, recursive: false },
        // client.config, controller.config, scheduler.config, proxy.config, kubelet.config
        { path: `${d}/credentials`, layout, recursive: false, match: /\.config$/ },
        // dqlite's own self-signed pair
        { path: `${d}/var/kubernetes/backend`, layout, recursive: false, match: /^cluster\.(crt|key)$/ },
      ];
    }
    case 'minikube':
      return [
        // kubeadm's certificatesDir there (the kubeadm layout finds it too, from the manifest's --client-ca-file), with
        // the host's copies beside kubeadm's files: read first by kubeadm's walk when both layouts are detected
        { path: MINIKUBE_CERTS, layout, recursive: true },
        // the kubeconfig minikube writes for its own kubectl in the node (addons): its user is apiserver.crt
        { path: '/var/lib/minikube/kubeconfig', layout, recursive: false },
      ];
    case 'kops':
      return [
        // nodeup's files (kubernetes/kops nodeup/pkg/model): ca.crt, kube-apiserver/, kube-controller-manager/,
        // kube-scheduler/, kubelet-server.crt, the kubeconfigs beside them in newer releases
        { path: KOPS_SRV, layout, recursive: true },
        // etcd-manager-<cluster>/ (etcd_manager_tls.go: the etcd CAs), kube-apiserver/ of older releases
        { path: '/etc/kubernetes/pki', layout, recursive: true },
        { path: '/etc/kubernetes/kops-controller', layout, recursive: true },
        ...['kubelet', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler'].map((c) => ({ path: `/var/lib/${c}/kubeconfig`, layout, recursive: false })),
      ];
    case 'generic':
      return [];
  }
}

/**
 * Where the layouts' files are, as node directories to watch (serve re-reads when one changes): each scan
 * target's directory, or the directory of a target that is a file; `match` when only some of its files are the
 * layout's (a home directory's kube_config_*.yml). A snap refresh switches MicroK8s's `current` link to a new
 * revision's copies, in /var/snap/microk8s.
 */
export function layoutWatchDirs(fs: NodeFs, layouts: LayoutName[]): WatchDir[] {
  const pki = kubeadmPkiDir(fs);
  const out = layouts.flatMap((l) => layoutTargets(l, fs, pki)).map((t) => watchDirOf(fs, t.path, t.match));
  if (layouts.includes('microk8s')) out.push({ dir: '/var/snap/microk8s', match: 'current' });
  return out;
}

/** A directory to watch, and which of its names matter (a name: that file alone); undefined for every one. */
export interface WatchDir { dir: string; match?: RegExp | string }

/**
 * The node path `p` as a directory to watch: itself, or a file's directory and its name (a directory not there
 * yet too: its parent says when it appears). `match`: `p` is a directory, and only those of its names matter.
 */
export function watchDirOf(fs: NodeFs, p: string, match?: RegExp): WatchDir {
  if (match) return { dir: p, match };
  if (fs.stat(p)?.isDirectory()) return { dir: p };
  const slash = p.lastIndexOf('/');
  return { dir: p.slice(0, slash) || '/', match: p.slice(slash + 1) };
}

/** The certificatesDir a kubeadm CA path says (kubeadm writes `<certificatesDir>/ca.crt` into flags and configs), or undefined. */
export function certificatesDirOfCa(file: unknown): string | undefined {
  // (/^\/.+\/ca\.crt$/, without compiling a pattern in every check)
  return typeof file === 'string' && file.length > '//ca.crt'.length && file.startsWith('/') && file.endsWith('/ca.crt') && !hasLineBreak(file.slice(1, -'/ca.crt'.length))
    ? file.slice(0, -'/ca.crt'.length) : undefined;
}

/**
 * kubeadm's certificatesDir on this node, as a node path: the directory of the kube-apiserver manifest's
 * --client-ca-file (kubeadm writes `<certificatesDir>/ca.crt` there), else of the kubelet config's
 * clientCAFile (a worker), else `certificatesDir` in /etc/kubernetes/kubeadm-config.yaml, else the default
 * (kubespray's /etc/kubernetes/ssl when that is the layout). The manifest and kubeadm-config.yaml are read
 * with patterns (the one flag, the one key); the kubelet config as the kubelet reads it (shared with check).
 */
export function kubeadmPkiDir(fs: NodeFs): string {
  const read = (p: string): string | undefined => {
    try { return fs.stat(p)?.isFile() ? nodeText(fs, p) : undefined; } catch { return undefined; }
  };
  const fromManifest = certificatesDirOfCa(flagInText(read('/etc/kubernetes/manifests/kube-apiserver.yaml') ?? '', '--client-ca-file', BARE, true));
  if (fromManifest) return fromManifest;
  // (only kubeadm's kubelet config says where kubeadm's PKI is: the hard way's kubelet keeps its CA in /var/lib/kubelet)
  const kubeletCa = kubeletConfigPath(fs) === KUBELET_CONFIG ? readKubeletConfig(fs)?.authentication?.x509?.clientCAFile : undefined;
  const fromKubelet = certificatesDirOfCa(kubeletCa);
  if (fromKubelet) return fromKubelet;
  const fromConfig = /^\s*certificatesDir:\s*["']?(\/[^\s"'#]+?)\/?["']?\s*(#.*)?$/m.exec(read('/etc/kubernetes/kubeadm-config.yaml') ?? '')?.[1];
  if (fromConfig) return fromConfig;
  return fs.exists('/etc/kubernetes/ssl/ca.crt') && !fs.exists('/etc/kubernetes/ssl/kube-ca.pem') && !fs.exists(DEFAULT_PKI) ? '/etc/kubernetes/ssl' : DEFAULT_PKI;
}

function homeDirs(fs: NodeFs): string[] {
  const out = ['/root'];
  for (const d of fs.readDir('/home')) if (d.isDirectory()) out.push(`/home/${d.name}`);
  return out;
}

/** k0s's default data directory (constant.DataDirDefault in k0sproject/k0s). */
export const K0S_DATA_DIR = '/var/lib/k0s';

/**
 * k0s's data directory on this node: /var/lib/k0s when it is there, else the --data-dir of the unit `k0s install
 * controller` or `k0s install worker` wrote, k0scontroller or k0sworker in /etc/systemd/system (where
 * kardianos/service puts it): `k0s install … --data-dir D` hands its flags to the unit's ExecStart, D made
 * absolute (`--data-dir=/abs/D`: k0sproject/k0s cmd/install/util.go cmdFlagsToArgs, and the ExecStart line of
 * pkg/install/linux_systemd.go), and every later start reads it there. Undefined when neither names a directory
 * that exists. On a node without k0s: one stat more than before, and two for the unit files.
 */
export function k0sDataDir(fs: NodeFs): string | undefined {
  return k0sDirs(fs)?.dataDir;
}

/**
 * k0s's data directory (k0sDataDir) and its kubelet's root directory: `<data dir>/kubelet`, or the
 * --kubelet-root-dir of the same unit's ExecStart (`k0s install worker --kubelet-root-dir D` writes it there, made
 * absolute, as --data-dir: cmdFlagsToArgs). The kubelet keeps its --cert-dir, `pki`, there (pkg/config/cfgvars.go
 * KubeletRootDir; pkg/component/worker/kubelet.go `--cert-dir`: KubeletRootDir/pki); kubelet.conf
 * (KubeletAuthConfigPath) stays in the data directory. Worked out once per read: detection, the scan targets and
 * the naming all ask.
 */
export function k0sDirs(fs: NodeFs): { dataDir: string; kubeletRootDir: string } | undefined {
  return fs.perRead('k0s dirs', () => {
    const atDefault = fs.exists(K0S_DATA_DIR);
    for (const unit of ['k0scontroller', 'k0sworker']) {
      if (!fs.exists(`/etc/systemd/system/${unit}.service`)) continue;
      // (the last of a flag wins, as cobra takes a flag given twice; a drop-in's ExecStart= replaces the unit's)
      const flags = argvFlags(componentService(fs, unit)?.argv ?? []);
      const abs = (flag: string) => {
        const v = flags.findLast((f) => f.flag === flag)?.value;
        return v?.startsWith('/') ? v.replace(/(.)\/+$/, '$1') : undefined;
      };
      const dir = atDefault ? K0S_DATA_DIR : abs('--data-dir');
      if (dir && (atDefault || fs.exists(dir))) return { dataDir: dir, kubeletRootDir: abs('--kubelet-root-dir') ?? `${dir}/kubelet` };
    }
    return atDefault ? { dataDir: K0S_DATA_DIR, kubeletRootDir: `${K0S_DATA_DIR}/kubelet` } : undefined;
  });
}

/** Which layouts a node tree shows. */
export function detectLayouts(fs: NodeFs): LayoutName[] {
  const found: LayoutName[] = [];
  const has = (p: string) => fs.exists(p);
  const sslIsRke = has('/etc/kubernetes/ssl/kube-ca.pem');
  const sslIsKubespray = has('/etc/kubernetes/ssl/ca.crt') && !sslIsRke;
  // (a kops control-plane node has /etc/kubernetes/pki too, for etcd-manager's CAs: that alone is no kubeadm's; a
  // kubeadm certificatesDir can be under /srv/kubernetes too, so kops is known by nodeup's own files beside it)
  const kops = has(KOPS_SRV) && (has(KOPS_NODEUP) || has(`${KOPS_SRV}/kubelet-server.crt`) || has('/etc/kubernetes/manifests/kube-apiserver.manifest'));
  if ((!kops && has('/etc/kubernetes/pki')) || has('/etc/kubernetes/admin.conf') || has('/etc/kubernetes/manifests/kube-apiserver.yaml')) {
    found.push(sslIsKubespray ? 'kubespray' : 'kubeadm');
  } else if (sslIsKubespray || has('/etc/ssl/etcd/ssl/ca.pem')) {
    // (kubespray's make-ssl-etcd.sh directory alone: a host of its etcd group that is no control-plane node)
    found.push('kubespray');
  }
  if (has('/var/lib/kubelet/pki') || has('/etc/kubernetes/kubelet.conf')) found.push('kubelet');
  if (sslIsRke) found.push('rke1');
  if (has('/var/lib/rancher/rke2')) found.push('rke2');
  if (has('/var/lib/rancher/k3s')) found.push('k3s');
  // (a hard-way worker has no /var/lib/kubernetes: its kubelet's and kube-proxy's kubeconfigs are where the guide puts them,
  // beside the kubelet's certificate; EKS, GKE and kops nodes have those kubeconfigs too, but no /var/lib/kubelet/kubelet.crt)
  const hardwayWorker = has('/var/lib/kubelet/kubelet.crt') && (has('/var/lib/kubelet/kubeconfig') || has('/var/lib/kube-proxy/kubeconfig'));
  if (has('/var/lib/kubernetes/ca.pem') || has('/var/lib/kubernetes/ca.crt') || hardwayWorker) found.push('hardway');
  if (k0sDataDir(fs)) found.push('k0s');
  if (has('/var/snap/microk8s/current')) found.push('microk8s');
  // (a minikube node is a kubeadm node too, found as one through its manifest; this adds what minikube copies there)
  if (has(MINIKUBE_CERTS)) found.push('minikube');
  if (kops) found.push('kops');
  return found;
}

type RancherNode = Pick<Inventory, 'layouts' | 'certificates'>;

/**
 * The systemd unit that runs a k3s or RKE2 node (spec §9), when the tree is one: `k3s` / `rke2-server` on a
 * server (its `server/` data directory holds certificates), `k3s-agent` / `rke2-agent` on an agent.
 */
export function rancherUnit(inv: RancherNode): { distro: 'k3s' | 'rke2'; unit: string } | undefined {
  const distro = (['k3s', 'rke2'] as const).find((d) => inv.layouts.includes(d));
  if (!distro) return undefined;
  const server = inv.certificates.some((c) => c.location.file.startsWith(`/var/lib/rancher/${distro}/server/`));
  return { distro, unit: server ? (distro === 'k3s' ? 'k3s' : 'rke2-server') : `${distro}-agent` };
}

/**
 * What k3s or RKE2 does at start-up with a leaf it made (k3s pkg/daemons/control/deps createClientCertKey: one
 * within CertificateRenewDays (120 days; 90 before May 2025) of its end, or whose names changed, is signed again; RKE2
 * runs the same code):
 * the one sentence check's Next, renew's notes and the listener's advice all say: `<distro> re-issues <what> within …`.
 */
export function rancherReissues(distro: 'k3s' | 'rke2', what: string, of = ''): string {
  // CertificateRenewDays, which dynamiclistener takes for the listener too, went from 90 to 120 in the May 2025
  // releases (k3s-io/k3s#12171; k3s docs, cli/certificate: "Prior to the May 2025 releases: v1.33.1+k3s1,
  // v1.32.5+k3s1, v1.31.9+k3s1, v1.30.13+k3s1, the 120 days window was 90 days"); RKE2 of those versions embeds it
  return `${distro} re-issues ${what} within 120 days${of} (90 before its v1.30.13, v1.31.9, v1.32.5 and v1.33.1 of May 2025)`;
}

/**
 * What renews a leaf a k3s or RKE2 node made, on this node's role: an agent re-issues those that expire within
 * the window when it starts, getting them from the server (whose CA keys they need); a server re-issues them
 * signing with its CAs here, and its agent part asks for new kubelet certificates; the listener's dynamic-cert.json
 * is re-issued by dynamiclistener the same way. Returns the advice for a certificate, or undefined: the node has
 * another role, a CA, a certificate the distro did not make, or (on a server) one whose CA's key is not here or
 * has expired itself (a restart re-signs nothing then; a server without its CA key cannot re-issue anything).
 */
export function rancherReissueAdvice(inv: RancherNode, role: 'agent' | 'server'): (c: CertEntry) => string | undefined {
  const node = rancherUnit(inv);
  if (!node || node.unit.endsWith('-agent') !== (role === 'agent')) return () => undefined;
  const reissues = `${rancherReissues(node.distro, 'its certificates that expire')} when it starts`;
  const advice = role === 'agent'
    ? `${reissues} (an agent gets them from the server, whose own must be valid): systemctl restart ${node.unit}`
    : `${reissues}, with its CAs on this node: systemctl restart ${node.unit} (each agent re-issues its own when restarted)`;
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  return (c) => {
    if (c.isCA || c.managedBy !== node.distro) return undefined;
    if (role === 'agent') return advice;
    const ca = c.signedBy ? byId.get(c.signedBy) : undefined;
    return ca?.privateKey.present && ca.status !== 'expired' ? advice : undefined;
  };
}

/**
 * The CA certificates k3s and RKE2 keep in their datastore (the encrypted bootstrap data, k3s pkg/cluster) and write
 * to server/tls at every start. A server whose copy on disk differs from the datastore's and is newer refuses to
 * start ("… newer than datastore and could cause a cluster outage. Remove the file(s) from disk and restart to be
 * recreated from datastore."): these are renewed with `<distro> certificate rotate-ca`, never in place.
 */
export const RANCHER_DATASTORE_CA = /^\/var\/lib\/rancher\/(k3s|rke2)\/server\/tls\/(client-ca|server-ca|request-header-ca|etcd\/server-ca|etcd\/peer-ca)\.crt$/;

/**
 * Why a k3s/RKE2 CA is not renewed in server/tls, and how it is (k3s docs, cli/certificate: "Rotating Self-Signed CA
 * Certificates": "You must not overwrite the currently in-use data in /var/lib/rancher/k3s/server/tls. Stage the
 * updated certificates and keys into a separate directory", load them with rotate-ca, restart servers, then agents).
 */
export function rancherCaAdvice(distro: 'k3s' | 'rke2', names: string[]): string {
  // (`it is …` / `they are …`: the caller names them)
  const server = distro === 'k3s' ? 'k3s' : 'rke2-server';
  const they = names.length > 1 ? 'they are' : 'it is';
  return `${they} ${distro}'s CA${names.length > 1 ? 's' : ''}, which ${distro} keeps in its datastore and writes to server/tls at every start; with a newer file there it does not start ("… newer than datastore and could cause a cluster outage"), so never renew ${names.length > 1 ? 'them' : 'it'} in place: stage the renewed CA files (with the other CA files and service.key, laid out as server/tls) in DIR/tls, load them with ${distro} certificate rotate-ca --path=DIR, then systemctl restart ${server} on every server, then ${distro}-agent on the agents`;
}

/** The unit kubespray's `auto_renew_certificates: true` installs and enables on a control-plane node. */
export const KUBESPRAY_RENEW_TIMER = 'k8s-certs-renew.timer';
/** The service that timer starts: it runs the renewal script. */
export const KUBESPRAY_RENEW_SERVICE = 'k8s-certs-renew.service';

/** kubespray's certificate renewal timer on this node, as systemd would run it. */
export interface KubesprayRenewTimer {
  /** the timer's unit file */
  file: string;
  /** OnCalendar= as written (kubespray's auto_renew_certificates_systemd_calendar) */
  calendar?: string;
  /** the `<target>.wants` link that enables it, if any */
  enabledBy?: string;
  /** the [Install] targets a `systemctl enable` links it into */
  wantedBy: string[];
  /** what k8s-certs-renew.service runs (kubespray's k8s-certs-renew.sh, or .py in newer releases), if it runs anything */
  script?: string;
  /**
   * the kubeadm names the script renews one by one (`kubeadm certs renew apiserver` …, as some kubespray
   * releases' k8s-certs-renew.sh does, without super-admin.conf); undefined when it renews all, or cannot be read
   */
  renews?: string[];
}

/**
 * kubespray's k8s-certs-renew.timer (roles/kubernetes/control-plane: templates k8s-certs-renew.{timer,service}
 * in /etc/systemd/system, the script in bin_dir): on its calendar the service runs kubeadm certs renew, removes
 * the control-plane pod sandboxes so the kubelet restarts them, and copies admin.conf to /root/.kube/config.
 * Enabled means a link in the .wants directory of a target its [Install] WantedBy= names (kubespray's:
 * multi-user.target). Only asked on a kubespray node: other nodes pay no stat for it.
 */
export function kubesprayRenewTimer(fs: NodeFs): KubesprayRenewTimer | undefined {
  const file = `/etc/systemd/system/${KUBESPRAY_RENEW_TIMER}`;
  const st = fs.stat(file);
  if (!st?.isFile() || st.size === 0) return undefined; // absent, or masked (a link to /dev/null)
  let text: string;
  try { text = fs.readFile(file).toString('utf8'); } catch { return undefined; }
  const lines = unitLines(text);
  const values = (key: string) => [...lines.matchAll(new RegExp(`^[ \\t]*${key}[ \\t]*=[ \\t]*(.*?)[ \\t]*$`, 'gm'))].map((m) => m[1]!);
  const calendar = values('OnCalendar').filter(Boolean).pop();
  const wantedBy = values('WantedBy').flatMap((v) => v.split(/\s+/)).filter(Boolean);
  const enabledBy = wantedBy.map((t) => `/etc/systemd/system/${t}.wants/${KUBESPRAY_RENEW_TIMER}`).find((l) => fs.lstat(l) !== undefined);
  const script = readSystemdService(fs, KUBESPRAY_RENEW_SERVICE)?.argv[0];
  const renews = script?.endsWith('.sh') ? namedRenewals(fs, script) : undefined;
  return { file, wantedBy, ...(calendar ? { calendar } : {}), ...(enabledBy ? { enabledBy } : {}), ...(script ? { script } : {}), ...(renews ? { renews } : {}) };
}

/** The certificates a shell script renews by name (`certs renew NAME`), or undefined for `certs renew all` or none named. */
function namedRenewals(fs: NodeFs, script: string): string[] | undefined {
  let text: string;
  try { text = fs.readFile(script).toString('utf8'); } catch { return undefined; }
  const names = [...text.matchAll(/^[^#\n]*\bcerts[ \t]+renew[ \t]+([\w.-]+)/gm)].map((m) => m[1]!);
  return names.length > 0 && !names.includes('all') ? [...new Set(names)] : undefined;
}

/**
 * What k0s or MicroK8s says of a certificate file of theirs (a revision's directory for MicroK8s: `current`
 * resolved): a role name where the file's says less (server.crt is kubeadm's apiserver, MicroK8s's cluster.crt is
 * dqlite's), who reads it, and whether the installer renews it itself.
 *
 * k0s (k0sproject/k0s): pkg/component/controller/certificates.go and etcd.go make the files of pki/ and
 * apiserver.go names who reads them (k0s supervises every component and names their files on their command
 * lines, nowhere on disk). Its certificate manager, pkg/certificate/manager.go, signs every leaf of pki/ whose
 * issuer is one of its CAs (isManagedByK0s: kubernetes-ca, kubernetes-front-proxy-ca, etcd-ca) again, with a new
 * key, each time the controller starts, whatever its dates (regenerateCert), for cfssl's default profile of 8760h
 * (cloudflare/cfssl config.DefaultConfig); its CAs it makes only when missing (EnsureCA, 87600h) and never renews
 * ("Replacing them is a manual process": docs/troubleshooting/certificate-authorities.md).
 *
 * MicroK8s (canonical/microk8s): microk8s-resources/default-args/kube-apiserver names what kube-apiserver reads;
 * scripts/wrappers/refresh_certs.py restarts the cluster agent for server.crt; utils.sh init_cluster makes
 * dqlite's pair. `microk8s refresh-certs --cert server.crt` and `--cert front-proxy-client.crt` sign those again
 * with their keys for 365 days (utils.sh gen_server_cert, gen_proxy_client_cert); its third choice, ca.crt, makes
 * a new CA, after which every other node leaves and joins again: not a renewal.
 */
export function installerCert(file: string, issuerCN?: string, isCA = true, k0sDir = K0S_DATA_DIR): { name: string | undefined; readers: string[]; renewedBy: 'k0s' | 'microk8s' | undefined } {
  // (issuerCN and isCA matter only to renewedBy; n: the path under pki/, or the file's name in certs/, without .crt;
  // k0sDir: k0s's data directory, k0sDataDir)
  const k0sPki = `${k0sDir}/pki/`;
  const k0s = file.startsWith(k0sPki) ? file.slice(k0sPki.length).replace(/\.crt$/, '') : undefined;
  const mk = /^\/var\/snap\/microk8s\/[^/]+\/(?:certs\/([\w-]+)|var\/kubernetes\/backend\/cluster)\.crt$/.exec(file);
  const n = k0s ?? mk?.[1] ?? (mk ? 'dqlite' : '');
  const api = ['kube-apiserver'];
  // (on k0s etcd reads etcd/*, kube-apiserver etcd/ca too; the controllers and k0s the client certificates of their
  // kubeconfigs; kube-apiserver the rest)
  const readers = k0s === undefined
    ? ({ server: ['cluster-agent', ...api], ca: api, 'front-proxy-ca': api, 'front-proxy-client': api, dqlite: ['k8s-dqlite'] } as Record<string, string[]>)[n]
    : n.startsWith('etcd/') ? ['etcd', ...(n === 'etcd/ca' ? api : [])]
      : ({ ccm: ['kube-controller-manager'], scheduler: ['kube-scheduler'], konnectivity: ['konnectivity-server'], 'k0s-api': ['k0s'], admin: ['k0s'] } as Record<string, string[]>)[n] ?? api;
  return {
    name: n === 'server' ? 'apiserver' : n === 'dqlite' ? n : undefined,
    readers: readers ?? [],
    renewedBy: k0s !== undefined ? (!isCA && ['kubernetes-ca', 'kubernetes-front-proxy-ca', 'etcd-ca'].includes(issuerCN ?? '') ? 'k0s' : undefined)
      : n === 'server' || n === 'front-proxy-client' ? 'microk8s' : undefined,
  };
}

/**
 * What an operator runs to renew a certificate k0s, MicroK8s, minikube or kops renews itself (its managedBy says so):
 * the advice of check's Next and findings, and the reason renew gives for leaving one alone. kopsControlPlane: the
 * node is a kops control plane (its instance group's role), when the caller knows.
 */
export function installerRenewal(c: Pick<CertEntry, 'managedBy' | 'location' | 'isCA'>, several = false, kopsControlPlane?: boolean): string | undefined {
  const [it, its] = several ? ['them', 'their keys'] : ['it', 'its key'];
  if (c.managedBy === 'minikube') return minikubeRenewal(c.location.file);
  if (c.managedBy === 'kops') return kopsRenewal(c, several, kopsControlPlane);
  if (c.managedBy === 'k0s') return `k0s signs ${it} again (a new key, valid 1 year) at every start of its controller: systemctl restart k0scontroller (one controller at a time)`;
  const base = c.location.file.slice(c.location.file.lastIndexOf('/') + 1);
  return c.managedBy !== 'microk8s' ? undefined : `microk8s refresh-certs --cert ${base} signs ${it} again with ${its} for 365 days and restarts kubelite${base === 'server.crt' ? ' and the cluster agent' : ''}`;
}

/** minikube's certificatesDir inside its node, the VM or kic container (kubernetes/minikube pkg/minikube/vmpath: GuestKubernetesCertsDir). */
export const MINIKUBE_CERTS = '/var/lib/minikube/certs';

/**
 * Where on the host minikube keeps the file of MINIKUBE_CERTS it copies into the node, or undefined for kubeadm's
 * own. kubernetes/minikube pkg/minikube/bootstrapper/certs.go SetupCerts copies, at every `minikube start`, the
 * shared CAs ~/.minikube/ca.crt (minikubeCA, which kubeadm then signs with) and proxy-client-ca.crt, and the
 * profile's apiserver.crt and proxy-client.crt from ~/.minikube/profiles/<profile>/ (their keys too) over what is
 * in the node: a renewal written here lasts until the next start.
 */
export function minikubeHostCopy(file: string): string | undefined {
  const base = file.startsWith(`${MINIKUBE_CERTS}/`) ? file.slice(MINIKUBE_CERTS.length + 1) : '';
  return base === 'ca.crt' || base === 'proxy-client-ca.crt' ? `~/.minikube/${base}`
    : base === 'apiserver.crt' || base === 'proxy-client.crt' ? `~/.minikube/profiles/PROFILE/${base}` : undefined;
}

/**
 * What renews a file minikube copies from the host (minikubeHostCopy), in minikube's terms (certs.go): at
 * `minikube start` it makes a CA again, with a new key, only once the host's copy has expired or is missing
 * (generateSharedCACerts, isValid), and then every profile certificate with it; a profile certificate likewise
 * (generateProfileCerts: for --cert-expiration, 26280h = 3 years by default, cmd/minikube/cmd/start_flags.go;
 * apiserver.crt is checked as its copy apiserver.crt.<hash of its names>). So an expiring one is renewed by removing
 * the host's copies and starting; a CA made again leaves kubeadm's certificates and kubeconfigs in the node signed
 * by the old key, which only a new cluster replaces.
 */
function minikubeRenewal(file: string): string | undefined {
  const host = minikubeHostCopy(file);
  if (!host) return undefined;
  const copied = `minikube copies ${host} from the host over it at every start (a renewal here is undone there)`;
  return host.startsWith('~/.minikube/profiles/')
    ? `${copied} and makes that again, with a new key, for --cert-expiration (3 years by default) once it has expired or is missing: on the host, rm ${host}* && minikube start -p PROFILE`
    : `${copied} and makes a new CA (a new key) there only once it has expired, after which kubeadm's certificates in the node no longer verify: on the host, minikube delete -p PROFILE && minikube start -p PROFILE when it ends`;
}

/** Where kops's nodeup writes the cluster's files on an instance (nodeup/pkg/model/context.go PathSrvKubernetes; /etc/srv/kubernetes on Container-Optimized OS). */
export const KOPS_SRV = '/srv/kubernetes';
/** nodeup's own directory: its binary and configuration (kops-configuration.go: /opt/kops/bin/nodeup --conf=/opt/kops/conf/kube_env.yaml). */
export const KOPS_NODEUP = '/opt/kops';

/**
 * What a kops instance's file is (kubernetes/kops): nodeup writes the CAs of the state store's keysets on every
 * instance it provisions (kubernetes-ca as ca.crt, with its key for kube-controller-manager's signing;
 * etcd-clients-ca, apiserver-aggregator-ca; etcd-manager-<cluster>/ the etcd CAs of etcd_manager_tls.go), and
 * issues the leaves there itself (nodetasks/issue_cert.go: a new key, valid 455 days plus up to 30 of skew):
 * kube-apiserver's serving certificate server.crt (CN kubernetes-master), etcd-client.crt, kubelet-api.crt,
 * apiserver-aggregator.crt (kube_apiserver.go), and the kubelet's, kube-proxy's and the controllers' credentials.
 * kops renews none of them on a running instance: nodeup runs when the instance is provisioned
 * (kops-configuration.service is written disabled, kops-configuration.go), so a new instance is what renews them.
 * Returns the keyset of a CA copy, the name check gives the file (the keyset's for a CA copy, kubeadm's for
 * kube-apiserver's), and whether only a control plane has the file.
 */
export function kopsFile(file: string): { keyset: string | undefined; name: string | undefined; controlPlane: boolean } {
  const etcdManager = /^\/etc\/kubernetes\/pki\/etcd-manager-([\w-]+)\/(etcd-manager-ca|etcd-peers-ca|etcd-clients-ca)\.crt$/.exec(file);
  const keyset = etcdManager
    ? (etcdManager[2] === 'etcd-clients-ca' && (etcdManager[1] === 'main' || etcdManager[1] === 'events') ? 'etcd-clients-ca' : `${etcdManager[2]}-${etcdManager[1]}`)
    : ({ [`${KOPS_SRV}/ca.crt`]: 'kubernetes-ca', [`${KOPS_SRV}/kube-controller-manager/ca.crt`]: 'kubernetes-ca', [`${KOPS_SRV}/kube-apiserver/etcd-ca.crt`]: 'etcd-clients-ca',
      [`${KOPS_SRV}/kube-apiserver/apiserver-aggregator-ca.crt`]: 'apiserver-aggregator-ca' } as Record<string, string>)[file];
  // (a CA copy by its keyset, as `kops get keypairs` lists it; kube-apiserver's own by their kubeadm names)
  const api = file.startsWith(`${KOPS_SRV}/kube-apiserver/`) ? file.slice(`${KOPS_SRV}/kube-apiserver/`.length) : '';
  const name = keyset ?? (api === 'server.crt' ? 'apiserver' : api === 'etcd-client.crt' ? 'apiserver-etcd-client' : api === 'kubelet-api.crt' || api === 'apiserver-aggregator.crt' ? api.slice(0, -4) : undefined);
  const controlPlane = /^\/srv\/kubernetes\/kube-(apiserver|controller-manager|scheduler)\/|^\/etc\/kubernetes\/(pki|kops-controller)\/|^\/var\/lib\/kube-(controller-manager|scheduler)\//.test(file);
  return { keyset, name, controlPlane };
}

/** A kops instance with a control plane's files (kopsFile) is one of a control-plane instance group. */
export function kopsNodeIsControlPlane(certificates: Pick<CertEntry, 'managedBy' | 'location'>[]): boolean {
  return certificates.some((c) => c.managedBy === 'kops' && kopsFile(c.location.file).controlPlane);
}

/**
 * How kops renews a file of its instance (kopsFile): a leaf, by replacing the instance (`kops rolling-update
 * cluster --force`: a rolling update replaces only instances whose configuration changed, unless forced; the
 * etcd-manager certificate advisory, docs/advisories/etcd-manager-certificate-expiration.md, uses
 * `--instance-group-roles=Master --force`); a CA, in the state store, by the keypair rotation of
 * docs/operations/rotate-secrets.md, never in place: the next instance gets the state store's.
 */
function kopsRenewal(c: Pick<CertEntry, 'location' | 'isCA'>, several: boolean, nodeIsControlPlane?: boolean): string {
  // (the kubelet's and kube-proxy's files are on every instance: their instance group is this node's)
  const { keyset, controlPlane: ofControlPlane } = kopsFile(c.location.file);
  const controlPlane = nodeIsControlPlane ?? ofControlPlane;
  if (c.isCA) {
    const ks = keyset ?? 'all';
    return `kops keeps ${several ? 'these CAs' : 'this CA'} in its state store and writes ${several ? 'them' : 'it'} on every instance it makes (renewed here, ${several ? 'they are' : 'it is'} replaced there and on the other instances): from where kops runs, kops create keypair ${ks}, kops update cluster --yes, kops rolling-update cluster --yes, then kops promote keypair ${ks} and update and roll again (kops docs, operations/rotate-secrets)`;
  }
  const which = controlPlane ? '--instance-group-roles=control-plane' : '--instance-group IG (this node\'s instance group)';
  // (a control plane keeps kubernetes-ca's key for kube-controller-manager, so kubepki can renew there; a worker has no CA key)
  return `kops issues ${several ? 'them' : 'it'} again (a new key, valid 455 days) only on an instance it provisions: from where kops runs, kops rolling-update cluster ${which} --force --yes${controlPlane ? ' (kubepki renew here lasts until then)' : ''}`;
}
