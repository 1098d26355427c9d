import type { Command } from 'commander';
import type { Io } from './io.js';

/**
 * Every command, loaded lazily so `kubepki check` never pays for the
 * Kubernetes client or the X.509 builder. Each module exports
 * `command(io: Io): Command`.
 */
export interface CommandSpec {
  name: string;
  summary: string;
  load: () => Promise<{ command(io: Io): Command }>;
}

export const COMMANDS: CommandSpec[] = [
  { name: 'check', summary: 'find every certificate on a node and say what will break and when', load: () => import('./check.js') },
  { name: 'inspect', summary: 'show every certificate in a file, kubeconfig, CSR, key, stdin or https://host:port', load: () => import('./inspect.js') },
  { name: 'probe', summary: 'show the chain a live endpoint serves and whether it is the one on disk', load: () => import('./probe.js') },
  { name: 'renew', summary: 'renew certificates in place, keeping everything they carried (backup, atomic, rollback)', load: () => import('./renew.js') },
  { name: 'restore', summary: 'put a backup back: renew, rebuild, ca import, sa rotate … make them (atomically, after backing up)', load: () => import('./restore.js') },
  { name: 'backups', summary: 'list the backups kubepki made before writing node files (renew, restore, rebuild, ca import, sa rotate, kubelet); --prune removes old ones', load: () => import('./backups.js') },
  { name: 'demo', summary: 'make a throwaway node tree with expired certificates and run check on it', load: () => import('./demo.js') },
  { name: 'csr', summary: 'list and approve kubelet CertificateSigningRequests with a strict policy', load: () => import('./csr.js') },
  { name: 'token', summary: 'list the cluster\'s bootstrap tokens, judged (expired, never expiring, unsigned), create and delete them', load: () => import('./token.js') },
  { name: 'cluster-info', summary: 'publish the CA and token signatures joining nodes trust (kube-public/cluster-info)', load: () => import('./cluster-info.js') },
  { name: 'sa', summary: 'ServiceAccount key and tokens: rotate sa.key/sa.pub on the node, then refresh the tokens in the cluster', load: () => import('./sa.js') },
  { name: 'serve', summary: 'serve /metrics, a live dashboard, /api/inventory and /healthz for this node', load: () => import('./serve.js') },
  { name: 'report', summary: 'write the dashboard as one offline HTML file, or a Markdown summary', load: () => import('./report.js') },
  { name: 'rebuild', summary: 're-create every missing file of a kubeadm control-plane node', load: () => import('./rebuild.js') },
  { name: 'join', summary: 'print ready kubeadm join commands (token, CA hash, certificate key) and the manifests they need', load: () => import('./join.js') },
  { name: 'ca', summary: 'export/import the shared CA material, encrypted as kubeadm upload-certs does', load: () => import('./ca.js') },
  { name: 'kubelet', summary: 'offline kubelet credentials (client certificate signed by the CA, or a bootstrap token)', load: () => import('./kubelet.js') },
];
