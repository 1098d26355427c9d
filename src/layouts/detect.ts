import type { NodeFs } from '../fs/node-fs.js';
import type { LayoutName } from '../inventory/types.js';

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
}

export const ALL_LAYOUTS: LayoutName[] = ['kubeadm', 'kubelet', 'rke1', 'rke2', 'k3s', 'kubespray', 'hardway', 'generic'];

/**
 * Where each installer keeps its files (spec §7–9). Detection is by presence;
 * `--layout` forces a set.
 */
export function layoutTargets(layout: LayoutName, fs: NodeFs): ScanTarget[] {
  switch (layout) {
    case 'kubeadm':
      return [
        { path: '/etc/kubernetes/pki', layout, recursive: true },
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
        { path: `/var/lib/rancher/${layout}/server/cred`, layout, recursive: false },
        { path: `/var/lib/rancher/${layout}/agent`, layout, recursive: false },
        { path: `/etc/rancher/${layout}`, layout, recursive: false, match: /\.ya?ml$/ },
      ];
    case 'hardway':
      return [
        { path: '/var/lib/kubernetes', layout, recursive: false },
        { path: '/var/lib/kubelet', layout, recursive: false, match: /(\.crt|\.key|\.pem|kubeconfig)$/ },
        { path: '/var/lib/kube-proxy', layout, recursive: false, match: /kubeconfig$/ },
      ];
    case 'generic':
      return [];
  }
}

function homeDirs(fs: NodeFs): string[] {
  const out = ['/root'];
  for (const d of fs.readDir('/home')) if (d.isDirectory()) out.push(`/home/${d.name}`);
  return out;
}

/** Which layouts a node tree shows. */
export function detectLayouts(fs: NodeFs): LayoutName[] {
  const found: LayoutName[] = [];
  const has = (p: string) => fs.exists(p);
  const sslIsRke = has('/etc/kubernetes/ssl/kube-ca.pem');
  const sslIsKubespray = has('/etc/kubernetes/ssl/ca.crt') && !sslIsRke;
  if (has('/etc/kubernetes/pki') || has('/etc/kubernetes/admin.conf') || has('/etc/kubernetes/manifests/kube-apiserver.yaml')) {
    found.push(sslIsKubespray ? 'kubespray' : 'kubeadm');
  } else if (sslIsKubespray) found.push('kubespray');
  if (has('/var/lib/kubelet/pki') || has('/etc/kubernetes/kubelet.conf')) found.push('kubelet');
  if (sslIsRke) found.push('rke1');
  if (has('/var/lib/rancher/rke2')) found.push('rke2');
  if (has('/var/lib/rancher/k3s')) found.push('k3s');
  if (has('/var/lib/kubernetes/ca.pem') || has('/var/lib/kubernetes/ca.crt')) found.push('hardway');
  return found;
}

/**
 * The systemd unit that runs a k3s or RKE2 node (spec §9), when the tree is one: `k3s` / `rke2-server` on a
 * server (its `server/` data directory holds certificates), `k3s-agent` / `rke2-agent` on an agent.
 * Either re-issues its own leaf certificates when it starts if they expire within 90 days (an agent gets
 * them from the server), so restarting that unit is how they are renewed where the CA key is not here.
 */
export function rancherUnit(layouts: readonly LayoutName[], files: readonly string[]): { distro: 'k3s' | 'rke2'; unit: string } | undefined {
  const distro = (['k3s', 'rke2'] as const).find((d) => layouts.includes(d));
  if (!distro) return undefined;
  const server = files.some((f) => f.startsWith(`/var/lib/rancher/${distro}/server/`));
  return { distro, unit: server ? (distro === 'k3s' ? 'k3s' : 'rke2-server') : `${distro}-agent` };
}

/** What renews a k3s/RKE2 leaf when its CA key is not on this node: the distro's unit, restarted. */
export function rancherRestartAdvice(r: { distro: string; unit: string }): string {
  return `${r.distro} re-issues its certificates that expire within 90 days when it starts${r.unit.endsWith('-agent') ? ' (an agent gets them from the server, whose own must be valid)' : ''}: systemctl restart ${r.unit}`;
}
