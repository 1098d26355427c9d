import { Command, Option } from 'commander';
import { pluginTerminal, type Io } from './io.js';
import { readInventory } from '../inventory/read.js';
import { addReadOnHost } from '../inventory/read-on-host.js';
import { kubeadmLeavesDue, nextStep } from '../inventory/next.js';
import { renderTable, inventoryExitCode, colour, plain } from '../report/table.js';
import { addNodeReadOptions, nodeReadInputs, requireSomething, resolveNow, type NodeOptions } from './options.js';
import { EXIT_CODES_HELP, VERSION } from './main.js';

interface CheckOptions extends NodeOptions {
  output: string;
  color?: boolean;
  /** --cluster [kubeconfig] (issue 5) */
  cluster?: string | boolean;
}

export function command(io: Io): Command {
  return addNodeReadOptions(new Command('check'))
    .summary('find every certificate on a node and say what will break and when')
    .description(`Find every certificate on a node (kubeadm, kubelet, RKE1, RKE2/k3s, kubespray, hard-way,
k0s, MicroK8s, minikube and kops layouts, plus any --path and --kubeconfig), check expiry, chains, key pairs and SANs,
and report findings. A --kubeconfig or --path in a node tree given without --root
(DIR/etc/kubernetes/kubelet.conf) has its absolute file references read on this host: a
read-on-host warning names what was read and the check --root to run.

Examples:
  kubepki check                                  # this node
  kubepki check --root /mnt/broken-node          # a mounted disk or a copied tree
  kubepki check --warn 60d -o wide               # more columns, earlier warning
  kubepki check -o json | jq '.certificates[] | select(.status != "ok") | .name'
  kubepki check --path /etc/ssl/etcd/ssl --kubeconfig ~/.kube/config
  kubepki check -o prom > /var/lib/node_exporter/textfile/kubepki.prom

${EXIT_CODES_HELP}`)
    .addOption(new Option('-o, --output <format>', 'table, wide, json, yaml or prom').default('table').choices(['table', 'wide', 'json', 'yaml', 'prom']))
    .option('--no-color', 'never colour the table')
    .option('--cluster [kubeconfig]', 'also check certificates in the cluster through the API: TLS Secrets, CA bundles, webhook/APIService caBundles, issued CSRs (kubeconfig default: $KUBECONFIG, ~/.kube/config, admin.conf under --root)')
    .action(async (o: CheckOptions) => {
      const now = resolveNow(o.now);
      const inputs = nodeReadInputs(o, io.cwd);
      const fs = inputs.fs;
      // the table shows no fingerprint or PEM: those are made only if something reads them
      // on the node itself, what its running components loaded is compared with the files (not under --root:
      // a mounted disk's processes are not running here)
      const live = fs.root === '/' ? (await import('../inventory/live.js')).liveComponents() : undefined;
      const inv = readInventory({ ...inputs, now, lazyDigests: o.output === 'table' || o.output === 'wide', ...(live ? { live } : {}) });
      // a --kubeconfig or --path in a node tree (DIR/etc/kubernetes/kubelet.conf) without that tree as --root: its
      // absolute file references were read on this host, not in the tree; say so, and Next names the check --root
      if (inv.given && addReadOnHost(inv, fs, inv.given, 'check')) inv.next = nextStep(inv);
      // (the member list only when a kubeadm leaf is due, which Next then says of the other control-plane nodes:
      // its reader loads the YAML library and the rest of the CLI, ~100 ms that a healthy node's check does without)
      if (kubeadmLeavesDue(inv)) (await import('../rebuild/etcd-members.js')).addEtcdMembers(inv, fs);
      if (o.cluster) {
        const { connect } = await import('../cluster/connect.js');
        const { readClusterCertificates, mergeClusterCertificates } = await import('../cluster/inventory.js');
        const client = await connect({ kubeconfig: typeof o.cluster === 'string' ? o.cluster : undefined, flag: '--cluster', root: o.root, env: io.env, cwd: io.cwd, terminal: pluginTerminal(io) });
        mergeClusterCertificates(inv, await readClusterCertificates(client, now, o.warn));
      }
      requireSomething(inv, fs.root);
      switch (o.output) {
        // structured output loads the yaml library: only when asked for (start-up of the table view)
        case 'json': io.stdout((await import('../report/structured.js')).renderJson(inv)); break;
        case 'yaml': io.stdout((await import('../report/structured.js')).renderYaml(inv)); break;
        case 'prom': {
          const { renderPrometheus } = await import('../report/metrics.js');
          io.stdout(await renderPrometheus(inv, inv.nodeName, { version: VERSION }));
          break;
        }
        default:
          io.stdout(renderTable(inv, { wide: o.output === 'wide', paint: io.isTTY && o.color !== false ? colour : plain }));
      }
      io.exitCode = inventoryExitCode(inv);
    });
}
