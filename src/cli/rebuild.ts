import * as nfs from 'node:fs';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { rootOption, nowOption, resolveNow, backupDirOption, resolveBackupDir, backupLine, aliasOption, kubeconfigAliasOption, withKubeconfigAlias } from './options.js';
import { openRoot } from '../fs/node-fs.js';
import { parseKeyType, parseDuration, parseKubeVersion, firstServiceIp, isDnsSubdomain, endpointProblem, KEY_TYPES } from '../profiles/rebuild.js';
import type { SettingsSource } from '../rebuild/settings.js';
import { checkSans } from '../pki/san-validate.js';
import { withNodeLock, testStepHook } from './node-lock.js';

export const SAN_HINT = 'pass IP addresses (192.0.2.10, 2001:db8::1) and DNS names (api.example.com, *.example.com: lower-case letters, digits, "-" and "."), comma-separated';

interface RebuildCliOptions {
  root?: string;
  now?: string;
  backupDir?: string;
  config?: string;
  dryRun?: boolean;
  force?: boolean;
  /** `--new-ca` alone: true; `--new-ca ca,etcd-ca`: the existing CAs to replace */
  newCa?: boolean | string;
  etcdInitialCluster?: string;
  superAdmin?: boolean;
  output: string;
  nodeName?: string;
  advertiseAddress?: string;
  bindPort?: string;
  controlPlaneEndpoint?: string;
  serviceCidr?: string;
  podNetworkCidr?: string;
  dnsDomain?: string;
  certSans?: string;
  keyType?: string;
  validity?: string;
  caValidity?: string;
  kubernetesVersion?: string;
  imageRepository?: string;
  /** --apply-cluster [kubeconfig] (issue 5) */
  applyCluster?: string | boolean;
}

/** Check every flag first (mkcert style: one sentence naming the flag and the fix), then build the flag source. */
export function flagsToSource(o: RebuildCliOptions): SettingsSource {
  const s: SettingsSource = {};
  const src = (flag: string) => `flag --${flag}`;
  if (o.nodeName !== undefined) {
    const n = o.nodeName.trim().toLowerCase();
    if (!isDnsSubdomain(n)) throw new UserError(`--node-name ${JSON.stringify(o.nodeName)} is not a valid node name`, 'use a lower-case DNS name such as cp-1');
    s.nodeName = { value: n, source: src('node-name') };
  }
  if (o.advertiseAddress !== undefined) {
    if (!isIP(o.advertiseAddress)) throw new UserError(`--advertise-address ${JSON.stringify(o.advertiseAddress)} is not an IP address`, 'pass the IP the API server listens on, e.g. 192.0.2.10');
    s.advertiseAddress = { value: o.advertiseAddress, source: src('advertise-address') };
  }
  if (o.bindPort !== undefined) {
    const p = Number(o.bindPort);
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UserError(`--bind-port ${JSON.stringify(o.bindPort)} is not a port number`, 'pass 1-65535 (kubeadm default 6443)');
    s.bindPort = { value: p, source: src('bind-port') };
  }
  if (o.controlPlaneEndpoint !== undefined) {
    // it becomes an apiserver SAN and every kubeconfig's server URL: a bad one is an outage later
    const why = endpointProblem(o.controlPlaneEndpoint);
    if (why) throw new UserError(`--control-plane-endpoint ${JSON.stringify(o.controlPlaneEndpoint)} is not host[:port]: ${why}`, 'pass the load balancer\'s DNS name or IP, with an optional port 1-65535, e.g. cluster-api.example.com:6443 or 192.0.2.100');
    s.controlPlaneEndpoint = { value: o.controlPlaneEndpoint.trim(), source: src('control-plane-endpoint') };
  }
  if (o.serviceCidr !== undefined) {
    try { firstServiceIp(o.serviceCidr); } catch { throw new UserError(`--service-cidr ${JSON.stringify(o.serviceCidr)} is not a CIDR`, 'pass e.g. 10.96.0.0/12'); }
    s.serviceSubnet = { value: o.serviceCidr, source: src('service-cidr') };
  }
  if (o.podNetworkCidr !== undefined) s.podSubnet = { value: o.podNetworkCidr, source: src('pod-network-cidr') };
  if (o.dnsDomain !== undefined) {
    if (!isDnsSubdomain(o.dnsDomain)) throw new UserError(`--dns-domain ${JSON.stringify(o.dnsDomain)} is not a DNS domain`, 'pass e.g. cluster.local');
    s.dnsDomain = { value: o.dnsDomain, source: src('dns-domain') };
  }
  if (o.certSans !== undefined) {
    // kubeadm turns 300.1.1.1 into a DNS SAN and skips bad_name with a warning; a SAN that is silently
    // missing is an outage later, so every entry must be an IP address or an RFC 1123 name
    const { sans, problems } = checkSans(o.certSans.split(',').filter((x) => x.trim() !== ''));
    if (problems.length > 0) throw new UserError(`--cert-sans: ${problems.join('; ')}`, SAN_HINT);
    s.certSANs = { value: sans.map((x) => x.value), source: src('cert-sans') };
  }
  if (o.keyType !== undefined) {
    const k = parseKeyType(o.keyType);
    if (!k) throw new UserError(`--key-type ${JSON.stringify(o.keyType)} is not supported`, `use one of ${KEY_TYPES.join(', ')}`);
    s.keyType = { value: k, source: src('key-type') };
  }
  if (o.validity !== undefined) {
    const ms = parseDuration(o.validity);
    if (!ms) throw new UserError(`--validity ${JSON.stringify(o.validity)} is not a duration`, 'pass e.g. 8760h or 365d');
    s.validityMs = { value: ms, source: src('validity') };
  }
  if (o.caValidity !== undefined) {
    const ms = parseDuration(o.caValidity);
    if (!ms) throw new UserError(`--ca-validity ${JSON.stringify(o.caValidity)} is not a duration`, 'pass e.g. 87600h or 10y');
    s.caValidityMs = { value: ms, source: src('ca-validity') };
  }
  if (o.kubernetesVersion !== undefined) {
    if (!parseKubeVersion(o.kubernetesVersion)) throw new UserError(`--kubernetes-version ${JSON.stringify(o.kubernetesVersion)} is not a version`, 'pass e.g. v1.26.1');
    const v = o.kubernetesVersion.trim();
    s.kubernetesVersion = { value: v.startsWith('v') ? v : `v${v}`, source: src('kubernetes-version') };
  }
  if (o.imageRepository !== undefined) s.imageRepository = { value: o.imageRepository.replace(/\/$/, ''), source: src('image-repository') };
  return s;
}

export function command(io: Io): Command {
  return new Command('rebuild')
    .configureHelp({ helpWidth: 120 })
    .summary('re-create every missing file of a kubeadm control-plane node (CAs, certs, kubeconfigs, manifests)')
    .description(`Re-create every missing file of a kubeadm control-plane node exactly as kubeadm makes
them: the CAs, every certificate, sa.key/sa.pub, admin.conf, super-admin.conf (1.29+),
controller-manager.conf, scheduler.conf, kubelet.conf and the static pod manifests.
Settings come from flags, then --config, then what survives on the node (static pod
manifests, kubeadm config files, certificates and kubeconfigs still there, the kubelet's
config), then kubeadm's defaults; --dry-run shows each value and where it came from.
Existing files are kept (as kubeadm does) if they are usable here: one that is not, such as a certificate
lacking a name this node needs (its address, a certSAN), stops the rebuild, as kubeadm refuses it;
--force replaces only those in the way, after a backup.
On a node whose cluster exists beyond it (etcd joined or has other members, as its manifest or
the etcd data left in /var/lib/etcd says; kubeconfigs on a shared endpoint or still holding the
CA), new CAs or a new sa.key are refused: bring them from a healthy control-plane node (kubepki
ca export there, kubepki ca import here) first, or pass --new-ca. super-admin.conf is not made
on a node that joined or is one of several etcd members (only kubeadm init writes it; --super-admin
on the node that ran it).
A CA that is there gets a new key only when named: --new-ca ca (or front-proxy-ca, etcd-ca) backs up
its ca.crt/ca.key and every file kubeadm makes on this node that it signed or that embeds it, writes the
new CA and those files in one transaction, names the other certificates it signed here (to issue again),
and says what must follow on the other nodes; kubepki restore undoes it.

Examples:
  kubepki rebuild --dry-run                      # what would be made, and from what
  kubepki rebuild                                # after rm -rf /etc/kubernetes/pki
  kubepki rebuild --config kubeadm-config.yaml
  kubepki rebuild --new-ca ca --dry-run          # a new cluster CA key: what it re-signs, what must follow
  kubectl -n kube-system get cm kubeadm-config -o yaml > cm.yaml   # the cluster's settings, not this node's:
  kubepki rebuild --config cm.yaml --node-name cp-1 --advertise-address 192.0.2.10
  kubepki rebuild --node-name cp-1 --advertise-address 192.0.2.10 --kubernetes-version v1.26.1 \\
      --control-plane-endpoint cluster-api.example.test:6443 --cert-sans 192.0.2.100

kubelet.conf references the kubelet's rotated client certificate
(/var/lib/kubelet/pki/kubelet-client-current.pem, as kubeadm's kubelet-finalize leaves it): a
valid one for this node is used, else a new kubelet-client-<time>.pem is written and -current
swapped to it. Kept files are not renewed: expired ones are listed (kubepki renew all renews them).

Exit codes:
  0  done (or, with --dry-run, the plan printed)
  1  done (or planned), but kept files are expired: run kubepki renew all
  2  the run failed and every file was put back as it was
  3  a value is missing, a flag is wrong, an existing file blocks the rebuild, or new CAs/sa.key
     would split this node from its cluster, or another kubepki is changing the node (nothing written)`)
    .addOption(rootOption())
    .option('--config <file>', 'kubeadm InitConfiguration + ClusterConfiguration (v1beta3/v1beta4) or a kubeadm-config ConfigMap dump')
    .option('--dry-run', 'print the settings (with their sources) and the plan; write nothing')
    .option('--force', 'replace existing files that are in the way (unreadable, not signed by the CA in use, or a certificate lacking a name this node needs); backed up first (under --backup-dir, or <root>/var/lib/kubepki/backups)')
    .addOption(backupDirOption())
    .option('--new-ca [CAs]', 'make new CAs and a new sa.key even though this node belongs to an existing cluster (another etcd member, a shared endpoint, the CA still in kubeconfigs); every node, kubeconfig, the cluster-info ConfigMap and every ServiceAccount token must then follow. Without it, bring the shared files from a healthy control-plane node (kubepki ca export/import). With CAs (ca, front-proxy-ca, etcd-ca, comma-separated): replace those existing CAs with new keys (a compromised key, --key-type ecdsa-p256) and re-sign what kubeadm makes on this node that they signed (the plan names any other certificate they signed here); the old files go into the run\'s backup, so `kubepki restore` undoes it all')
    .option('--etcd-initial-cluster <members>', 'the etcd members for a new etcd.yaml, NAME=https://IP:2380,... as `etcdctl member add` prints them (ETCD_INITIAL_CLUSTER): more than this node writes --initial-cluster-state=existing, as kubeadm join does. Default: the members /var/lib/etcd lists; with no etcd data on a node of a cluster with other members, etcd.yaml is not written and the plan says how to re-add the member')
    .option('--super-admin', 'write super-admin.conf (1.29+) although this node joined or is one of several control-plane nodes: kubeadm makes it only on the node that ran kubeadm init')
    .option('--node-name <name>', 'node name (etcd member name, CN of etcd certs, kubelet identity)')
    .addOption(aliasOption('--node <name>', 'nodeName'))
    .option('--advertise-address <ip>', 'IP address the API server advertises')
    .option('--bind-port <port>', 'API server port (default 6443)')
    .option('--control-plane-endpoint <host[:port]>', 'shared endpoint (load balancer DNS name or IP) for admin.conf, kubelet.conf and the apiserver SANs')
    .option('--service-cidr <cidr>', 'service subnet; its first IP goes into the apiserver certificate (default 10.96.0.0/12, unless a surviving apiserver.crt names another Service IP: then it must be given)')
    .option('--pod-network-cidr <cidr>', 'pod subnet for the controller-manager manifest')
    .option('--dns-domain <domain>', 'cluster DNS domain (default cluster.local)')
    .option('--cert-sans <list>', 'apiserver SANs to add, comma-separated IPs and DNS names: added to the certSANs --config or the node\'s kubeadm config (else its surviving apiserver.crt) lists, never instead of them (as renew --add-san adds)')
    .option('--key-type <type>', `key type for new keys: ${KEY_TYPES.join(', ')} (default rsa-2048, or that of the surviving CA or, when it differs, of the newest surviving leaf)`)
    .option('--validity <duration>', 'leaf certificate validity (default 8760h)')
    .option('--ca-validity <duration>', 'CA certificate validity (default 87600h)')
    .option('--kubernetes-version <version>', 'Kubernetes version: subjects (1.29 changes), super-admin.conf, manifest images')
    .option('--image-repository <repo>', 'image repository for the static pods (default registry.k8s.io)')
    .option('--apply-cluster [kubeconfig]', 'after writing: wait for the API server, publish the CA in kube-public/cluster-info signed for a new 24h join token, verify it, print the join command (kubeconfig default: the rebuilt admin.conf)')
    .addOption(kubeconfigAliasOption())
    .addOption(new Option('-o, --output <format>', 'text or json (the plan)').default('text').choices(['text', 'json']))
    .addOption(nowOption())
    .action(async (o: RebuildCliOptions & { kubeconfig?: string }) => {
      o.applyCluster = withKubeconfigAlias(o.applyCluster, o.kubeconfig, '--apply-cluster', io.cwd);
      const now = resolveNow(o.now);
      const flags = flagsToSource(o);
      const fs = openRoot(o.root);
      let config: { text: string; label: string } | undefined;
      if (o.config) {
        const p = path.resolve(io.cwd, o.config);
        try { config = { text: nfs.readFileSync(p, 'utf8'), label: o.config }; } catch (e) {
          throw new UserError(`failed to read --config ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass the path of a kubeadm config file or ConfigMap dump');
        }
      }
      const { rebuild } = await import('../rebuild/run.js');
      const { renderSettings, renderPlan, expiredWarning } = await import('../rebuild/render.js');
      // (a dry run takes no lock: it writes nothing, and says what an interrupted run will be rolled back to)
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd, fs);
      const r = await withNodeLock(io, fs, now, { dryRun: o.dryRun, json: o.output === 'json', backupRoot }, (lock) =>
        rebuild({ fs, now, flags, backupRoot, config, force: o.force, newCa: o.newCa !== undefined, replaceCas: typeof o.newCa === 'string' ? o.newCa.split(',').map((n) => n.trim()).filter(Boolean) : undefined, etcdInitialCluster: o.etcdInitialCluster, superAdmin: o.superAdmin, dryRun: o.dryRun, lock, onStep: testStepHook(io.env) }));
      if (o.output === 'json') {
        io.stdout(JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'RebuildResult', settings: r.gathered.provenance, overridden: r.gathered.overridden, plan: r.plan, written: r.written?.written ?? [], backup: r.written?.backupDir }, null, 2) + '\n');
        io.exitCode = o.dryRun && r.plan.errors.length ? 3 : r.plan.expired.length ? 1 : 0;
        return;
      }
      io.stdout(renderSettings(r.gathered) + '\n' + renderPlan(r.plan, fs.root));
      if (o.dryRun) {
        // (what the real run prints after writing: a replaced key file others could read is written without their bits)
        const { keyModeChange, modeChangeText } = await import('../fs/key-mode.js');
        const keyFiles = r.plan.items.filter((i) => i.action === 'replace').flatMap((i) =>
          (i.kind === 'ca' || i.kind === 'leaf' || i.kind === 'sa') ? (i.key === 'new' ? [i.keyPath] : []) : i.kind === 'kubeconfig' && !i.kubeletClient ? [i.path] : []);
        for (const f of keyFiles) {
          const mode = fs.stat(f)?.mode;
          const m = mode === undefined ? undefined : keyModeChange(f, mode);
          if (m) io.stdout(`  ${f}: ${modeChangeText(m)}\n`);
        }
        // (the cluster is not asked: the CA and admin.conf it would publish and connect with are the ones this run writes)
        if (o.applyCluster) io.stdout('\n--apply-cluster: after writing, the run waits for the API server, publishes this node\'s CA in kube-public/cluster-info signed for a new 24h join token and verifies it; a dry run does not ask the cluster.\n');
        io.stdout(`\nDry run: nothing written.${r.plan.errors.length ? ' Fix the problems above (each says how) before running it.' : ''}\n`);
        io.exitCode = r.plan.errors.length ? 3 : r.plan.expired.length ? 1 : 0;
        return;
      }
      const n = r.written?.written.length ?? 0;
      io.stdout(`\nWrote ${n} file${n === 1 ? '' : 's'} (${r.output?.keysGenerated ?? 0} new keys).\n`);
      if (r.written?.backupDir) io.stdout(`${backupLine(fs, r.written.backupDir, backupRoot)}\n`);
      if (r.written?.keyModes?.length) {
        const { modeChangeText } = await import('../fs/key-mode.js');
        for (const m of r.written.keyModes) io.stdout(`  ${m.path}: ${modeChangeText(m)}\n`);
      }
      if (r.plan.expired.length) {
        io.stdout(`Warning: ${expiredWarning(r.plan, fs.root)}\n`);
        io.exitCode = 1;
      }
      if (o.applyCluster) {
        const { applyClusterCommand } = await import('./cluster-info.js');
        io.stdout('\n');
        await applyClusterCommand(io, { root: o.root, kubeconfig: typeof o.applyCluster === 'string' ? path.resolve(io.cwd, o.applyCluster) : undefined, kubeconfigFlag: '--apply-cluster', now });
      }
    });
}
