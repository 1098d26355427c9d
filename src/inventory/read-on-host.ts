/**
 * A node tree (a mounted disk, a copy: /mnt/node) read without --root: its files hold absolute paths as on the
 * node (kubelet.conf's /var/lib/kubelet/pki/kubelet-client-current.pem, kubelet-client-current.pem's link to a
 * dated pem, pki/etcd -> /srv/etcd), which are looked up on this host, not in the tree. inspect and check say so
 * (read-on-host), and renew refuses to work on a file its links take out of the tree.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { SymlinkLoopError } from '../fs/node-fs.js';
import type { Finding, Inventory, KubeconfigEntry } from './types.js';
import { inTreeCommand, nodeTreeOf } from './next.js';
import { summarize } from './read.js';

/** Where the absolute paths were looked up: this host, or the tree --root names (a tree copied inside another). */
function lookedUp(fs: NodeFs): { here: string; whose: string } {
  return fs.root === '/' ? { here: 'on this host', whose: "this host's file" } : { here: `under --root ${fs.root}`, whose: `the file under --root ${fs.root}` };
}

const realOf = (fs: NodeFs, p: string) => { try { return fs.realNodePath(p); } catch { return p; } };

/**
 * A kubeconfig of a node tree read without that tree as --root (`inspect /mnt/node/etc/kubernetes/kubelet.conf`,
 * `check --kubeconfig …`, `check --path /mnt/node`): its absolute file references were read on this host, not in
 * the tree, so a certificate shown for them is this host's, and one missing here says nothing about the tree.
 * `shown`: the kubeconfig's path as given. The finding names which host file was read (or that there is none
 * here) and the command (VERB) that reads the tree's; `row`, the certificate read through a reference.
 */
function readOnHost(inv: Inventory, fs: NodeFs, kc: KubeconfigEntry, shown: string, verb: 'inspect' | 'check'): { finding: Finding; row?: string } | undefined {
  const t = nodeTreeOf(shown);
  if (!t) return undefined; // (none, or at / itself: this host's own /etc/kubernetes)
  const { tree } = t;
  // (kubelet.conf names one file for its certificate and key: one line for it)
  const refs = new Map<string, { owner: string; fields: string[] }[]>();
  const add = (owner: string, field: string, p: string | undefined) => {
    if (p === undefined || !p.startsWith('/') || p.startsWith(`${tree}/`)) return;
    const list = refs.get(p) ?? [];
    refs.set(p, list);
    const o = list.find((x) => x.owner === owner);
    if (o) o.fields.push(field);
    else list.push({ owner, fields: [field] });
  };
  for (const u of kc.users) { add(`user ${JSON.stringify(u.name)}`, 'client-certificate', u.certFile); add(`user ${JSON.stringify(u.name)}`, 'client-key', u.keyFile); }
  for (const c of kc.clusters) add(`cluster ${JSON.stringify(c.name)}`, 'certificate-authority', c.caFile);
  if (refs.size === 0) return undefined;
  const { here, whose } = lookedUp(fs);
  let row: string | undefined;
  const read = [...refs].map(([p, owners]) => {
    const what = owners.map((o) => `${o.fields.join(' and ')} of ${o.owner}`).join(', ');
    if (!fs.stat(p)?.isFile()) return `${what} ${p}: missing ${here}`;
    const r = realOf(fs, p);
    // (the row a reader takes for the tree's: the certificate read through the first reference that gave one)
    row ??= inv.certificates.find((c) => c.location.file === r || c.location.via === p)?.id;
    return `${what} ${p}: read ${here}${r !== p ? ` (${r})` : ''}, ${whose}, not the tree's`;
  });
  return {
    finding: {
      code: 'read-on-host', severity: 'warning', file: shown,
      message: `${shown} lies in the node tree ${tree}, but its file references are absolute paths, read ${here}, not in that tree: ${read.join('; ')}; read them in the tree: ${inTreeCommand(verb, fs.root, shown)}`,
    },
    ...(row ? { row } : {}),
  };
}

/**
 * Add a read-on-host warning for each kubeconfig of INV that lies in a node tree and came from GIVEN (the files
 * and directories named on the command line: a layout's own kubeconfigs are this node's, read as its components
 * read them). On the row of the certificate read through a reference when there is one (the row a reader takes
 * for the tree's: a warning row, unless it is worse already), else on the kubeconfig. Returns how many it added.
 */
export function addReadOnHost(inv: Inventory, fs: NodeFs, given: string[], verb: 'inspect' | 'check'): number {
  let added = 0;
  const inside = (f: string, dir: string) => f === dir || f.startsWith(dir === '/' ? '/' : `${dir}/`);
  for (const kc of inv.kubeconfigs) {
    const exact = given.find((g) => kc.file === g || kc.file === realOf(fs, g));
    if (!exact && !given.some((g) => inside(kc.file, g) || inside(kc.file, realOf(fs, g)))) continue;
    const r = readOnHost(inv, fs, kc, exact ?? kc.file, verb);
    if (!r) continue;
    const entry = r.row ? inv.certificates.find((c) => c.id === r.row) : undefined;
    const f = entry ? { ...r.finding, certificate: entry.id } : r.finding;
    if (entry) {
      entry.findings.push(f);
      if (entry.status === 'ok') entry.status = 'warning';
    }
    inv.findings.push(f);
    added++;
  }
  if (added) inv.summary = summarize(inv.certificates, inv.findings);
  return added;
}

/**
 * The file of a node tree that renew --file would take from elsewhere: FILE lies in a tree (`/mnt/node/etc/…`)
 * but its links (its own, or a directory's above it, `pki/etcd -> /srv/etcd`) are absolute and lead out of the
 * tree, to this host's file. renew would renew that file in place (or write this host's certificate and key into
 * the tree, for the kubelet's pem): a one-line refusal naming the renew --root that works on the tree's.
 */
export function outOfTreeRefusal(fs: NodeFs, file: string): string | undefined {
  const t = nodeTreeOf(file);
  if (!t) return undefined;
  let real: string;
  try { real = fs.realNodePath(file); } catch (e) {
    if (e instanceof SymlinkLoopError) return undefined; // (the read reports it)
    throw e;
  }
  if (real === file || real.startsWith(`${t.tree}/`)) return undefined;
  const { here, whose } = lookedUp(fs);
  const there = fs.stat(real)?.isFile() ? `${whose}: renew would renew that file, not the tree's` : `missing ${here}: renew looks for it there, not in the tree`;
  return `failed to renew ${file}: it lies in the node tree ${t.tree}, but its links lead out of that tree to ${real}, ${there}; renew the tree's: ${inTreeCommand('renew', fs.root, file)}`;
}
