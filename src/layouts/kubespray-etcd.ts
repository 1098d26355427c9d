import { posix } from 'node:path';
import type { CertEntry, ComponentRef, Finding, Inventory } from '../inventory/types.js';
import type { PlanItem, PlanNote } from '../plan/types.js';
import type { EtcdInitialCluster } from '../rebuild/etcd-members.js';
import { listText } from '../inventory/names.js';
import { codeUnitOrder } from '../inventory/order.js';

/**
 * kubespray's etcd certificates (roles/etcd, files/make-ssl-etcd.sh): `member-HOST.pem` (etcd's serving and
 * peer pair), `admin-HOST.pem` (etcdctl's) for every host of its etcd group, `node-HOST.pem` (kube-apiserver's
 * and the network plugin's etcd client) for the Kubernetes hosts; HOST is the inventory host name. kubespray
 * makes them all on the first etcd host, then copies every etcd host's member and admin pairs (and the
 * control-plane hosts' node pairs) to each etcd host (tasks/gen_certs_script.yml: "Gather etcd member/admin
 * and kube_control_plane client certs from first etcd node", "Write … to other etcd nodes"): node1 keeps
 * member-node2.pem, which only node2's etcd reads, from node2's own copy.
 */
const KUBESPRAY_ETCD_CERT = /^(member|admin|node)-(.+)\.pem$/;

function kubesprayEtcdHost(file: string): string | undefined {
  const m = KUBESPRAY_ETCD_CERT.exec(posix.basename(file));
  return m && !m[2]!.endsWith('-key') ? m[2] : undefined;
}

/**
 * This host's inventory name, as the kubespray certificates its own etcd and kube-apiserver read say it
 * (etcd.env's ETCD_CERT_FILE=…/member-node1.pem, --etcd-certfile=…/node-node1.pem), and their directory;
 * undefined when nothing on the node reads one.
 */
export function kubesprayEtcdSelf(refs: ComponentRef[]): { hosts: Set<string>; dir: string } | undefined {
  const own = refs.filter((r) => (r.component === 'etcd' || r.component === 'kube-apiserver') && kubesprayEtcdHost(r.file) !== undefined);
  if (own.length === 0) return undefined;
  return { hosts: new Set(own.map((r) => kubesprayEtcdHost(r.file)!)), dir: posix.dirname(own[0]!.file) };
}

/**
 * Marks kubespray's copies of other hosts' etcd certificates (`forHost`) and says, once, that their rows tell
 * nothing about those hosts: renewing node2's copy on node1 leaves node2's etcd with its own, and a clean check
 * here is no sign that node2's is.
 */
export function markOtherHostCopies(certificates: CertEntry[], refs: ComponentRef[]): Finding | undefined {
  const self = kubesprayEtcdSelf(refs);
  if (!self) return undefined;
  const copies: CertEntry[] = [];
  for (const c of certificates) {
    if (c.location.kind !== 'pem' || posix.dirname(c.location.file) !== self.dir || c.components.length > 0) continue;
    const host = kubesprayEtcdHost(c.location.file);
    if (host === undefined || self.hosts.has(host)) continue;
    c.forHost = host;
    copies.push(c);
  }
  if (copies.length === 0) return undefined;
  const hosts = [...new Set(copies.map((c) => c.forHost!))].sort();
  const selfName = [...self.hosts].sort().join(', ');
  return {
    code: 'other-host-copies', severity: 'info', file: self.dir,
    message: `${copies.map((c) => c.name).join(', ')} ${copies.length === 1 ? 'is' : 'are'} ${listText(hosts.map((h) => `${h}'s`))} etcd certificate${copies.length === 1 ? '' : 's'}, not this host's (${selfName}): kubespray makes every etcd host's certificates on its first etcd host and copies them to each etcd host, but etcd and etcdctl on ${listText(hosts)} read their own copies there, so ${copies.length === 1 ? 'its status' : 'their status'} here says nothing about ${hosts.length === 1 ? 'that host' : 'those hosts'}: run kubepki check on ${listText(hosts)}`,
  };
}

/**
 * Renewing kubespray's etcd certificates on one etcd host: what the other etcd hosts need, as kubespray itself
 * hands them out. It regenerates on the first host of its etcd group (groups['etcd'][0], first in
 * ETCD_INITIAL_CLUSTER: roles/kubespray_defaults etcd_peer_addresses), and on each run copies that host's
 * member and admin pairs to every etcd host whose own differ by checksum (roles/etcd/tasks/check_certs.yml,
 * gen_certs_script.yml), then restarts etcd there, half the group at a time (handlers/main.yml "Restart etcd",
 * throttle groups['etcd'] | length // 2). So renewed copies of other hosts' certificates reach them by a copy or
 * by kubespray's next run from here; renewed on any other host, that run puts the first host's back.
 */
export function kubesprayEtcdNote(inv: Inventory, items: PlanItem[], etcdCluster: (() => (EtcdInitialCluster & { healthCommand?: string }) | undefined) | undefined): PlanNote | undefined {
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  const ours = items.filter((it) => it.location.kind === 'pem' && byId.get(it.id)?.layout === 'kubespray' && kubesprayEtcdHost(it.location.file) !== undefined);
  if (ours.length === 0) return undefined;
  const copies = ours.filter((it) => byId.get(it.id)?.forHost !== undefined);
  const cluster = etcdCluster?.();
  const healthCommand = cluster?.healthCommand;
  const first = cluster?.initialCluster?.[0];
  const isFirst = first !== undefined && cluster?.self !== undefined ? first.name === cluster.self : undefined;
  const firstText = first ? `${first.name}${first.url ? ` at ${first.url}` : ''} is first in ETCD_INITIAL_CLUSTER of ${cluster?.source ?? '/etc/etcd.env'}` : undefined;
  // (the etcdctl command names this host's member pair: on another host, that host's own)
  const selfHosts = [...(kubesprayEtcdSelf(inv.components)?.hosts ?? [])];
  const healthOn = (host: string) => selfHosts.reduce((cmd, h) => cmd.replaceAll(`/member-${h}.pem`, `/member-${host}.pem`).replaceAll(`/member-${h}-key.pem`, `/member-${host}-key.pem`), healthCommand ?? '');
  // (own certificates renewed on the first etcd host: nothing elsewhere reads this host's copies)
  if (copies.length === 0 && isFirst !== false) return undefined;
  const steps: string[] = [];
  const byHost = new Map<string, PlanItem[]>();
  for (const it of copies) {
    const h = byId.get(it.id)!.forHost!;
    byHost.set(h, [...(byHost.get(h) ?? []), it]);
  }
  for (const [host, its] of [...byHost].sort(([a], [b]) => codeUnitOrder(a, b))) {
    const dir = posix.dirname(its[0]!.location.file);
    const files = its.map((it) => posix.basename(it.location.file)).sort();
    const keys = its.filter((it) => it.key.action === 'new' && it.key.location).map((it) => posix.basename(it.key.location!.file)).sort();
    const kinds = new Set(files.map((f) => KUBESPRAY_ETCD_CERT.exec(f)![1]));
    const restart = [
      ...(kinds.has('member') ? [`\`systemctl restart etcd\` there, one etcd host at a time, every member healthy before the next${healthCommand ? `: ${healthOn(host)}` : ''}`] : []),
      ...(kinds.has('node') ? [`restart kube-apiserver there (and the network plugin's etcd clients, calico-node or cilium, that read ${files.filter((f) => f.startsWith('node-')).join(', ')})`] : []),
    ];
    steps.push(`${host}: copy ${listText(files)}${keys.length ? ` and ${keys.length === 1 ? 'its new key' : 'their new keys'} ${listText(keys)}` : ''} from this node's ${dir} to ${dir} there${keys.length ? '' : ' (the keys are unchanged)'}${restart.length ? `, then ${restart.join(', and ')}` : ' (etcdctl there reads it; nothing to restart)'}`);
  }
  if (copies.length > 0) {
    steps.push(isFirst === true
      ? `or let kubespray do it: this node is its first etcd host (${firstText}, this node's etcd), and its next cluster.yml run copies this node's member and admin pairs to every etcd host whose own differ and restarts etcd there, never more than half the etcd hosts at once`
      : isFirst === false
        ? `kubespray's first etcd host too (${firstText}; this node's etcd is ${cluster!.self}): kubespray's next cluster.yml run hands out that host's copies to every etcd host whose own differ, this one included, so copy ${listText(ours.map((it) => posix.basename(it.location.file)).sort())} there as well (or renew there and copy from it)`
        : 'kubespray\'s next cluster.yml run hands out its first etcd host\'s copies (the first host of its etcd group) to every etcd host whose own differ: renewed on another host, copy them to that host too');
  } else {
    steps.push(`kubespray's first etcd host (${firstText}; this node's etcd is ${cluster!.self}): copy ${listText(ours.map((it) => posix.basename(it.location.file)).sort())} there too, or its next cluster.yml run copies that host's over these (it hands them out from there, to every etcd host whose own differ) and this renewal is undone`);
  }
  const hosts = [...byHost.keys()].sort();
  return {
    topic: 'outside-this-node', about: (copies[0] ?? ours[0]!).id,
    title: copies.length > 0
      ? `${copies.map((it) => it.name).join(', ')} ${copies.length === 1 ? 'is a copy' : 'are copies'} of ${listText(hosts.map((h) => `${h}'s`))} etcd certificate${copies.length === 1 ? '' : 's'} (kubespray keeps every etcd host's on each): renewed here, ${listText(hosts)} still ${hosts.length === 1 ? 'reads its' : 'read their'} own, which keep${hosts.length === 1 ? 's' : ''} ${copies.length === 1 ? 'its' : 'their'} old expiry until copied there`
      : `this node is not kubespray's first etcd host, from which kubespray hands out every etcd host's etcd certificates: renewed here only, they are undone by its next run`,
    steps,
  };
}
