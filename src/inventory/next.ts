/**
 * What to do next about an inventory, in the operator's words: the line `check` prints as `Next:`, the
 * dashboard's headline advice and the JSON's `next`. One place, so every view gives the same advice.
 */
import { installerRenewal, kopsNodeIsControlPlane, rancherCaAdvice, rancherReissueAdvice, KUBESPRAY_RENEW_TIMER, KUBESPRAY_RENEW_SERVICE, RANCHER_DATASTORE_CA } from '../layouts/detect.js';
import type { CertEntry, Finding, Inventory } from './types.js';
import { BOOTSTRAP_KUBELET_CONF, KUBELET_CONF, KUBELET_PKI_DIR } from '../profiles/kubeadm.js';
import { shellArg } from '../apply/state.js';
import { listText, someNames } from './names.js';
import { goTime } from './time.js';
import { UserError } from '../errors.js';

/** Whether the key that signs a certificate is on this node (its own, if self-signed): renew can re-sign it here. */
function signedHere(inv: Omit<Inventory, 'next'>): (c: CertEntry) => boolean {
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  return (c) => (c.selfSigned ? c.privateKey.present : Boolean(c.signedBy && byId.get(c.signedBy)?.privateKey.present));
}

/**
 * On one of several control-plane nodes, kubeadm's certificates due here are this node's own: each of the others
 * has its own apiserver, etcd and kubeconfig certificates, made when it joined, so about as old ("If you are running
 * an HA cluster, this command needs to be executed on all the control-plane nodes", kubeadm certs renew's docs).
 */
function otherControlPlanes(inv: Omit<Inventory, 'next'>): string {
  const members = inv.etcdMembers ?? [];
  // (an external etcd's members are not the control-plane nodes: nothing here counts those)
  if (members.length < 2 && inv.externalEtcd && kubeadmLeavesDue(inv)) return `; ${externalEtcdPeers(inv.externalEtcd)}: kubepki check on each of them too, and renew there the same way, one node at a time`;
  if (members.length < 2 || !kubeadmLeavesDue(inv)) return '';
  return `; this node is one of ${members.length} control-plane nodes (etcd members ${listText(members)}), and kubeadm's certificates are each node's own: kubepki check on ${otherMembers(members, inv.nodeName, 'the others')} too, and renew there the same way, one node at a time`;
}

/** What an external etcd leaves unknown of the control plane (check's Next and renew's note say it alike). */
export function externalEtcdPeers(ext: { source: string }): string {
  return `etcd is external (${ext.source}), so its members do not tell how many control-plane nodes there are, and kubeadm's certificates are each control-plane node's own (apiserver-etcd-client aside: one pair they share)`;
}

/** The etcd members other than this node, as a sentence lists them; `unknown` when this node's name is not among them. */
export function otherMembers(members: string[], nodeName: string | undefined, unknown: string): string {
  return nodeName && members.includes(nodeName) ? listText(members.filter((m) => m !== nodeName)) : unknown;
}

/** A certificate each control-plane node has its own of: kubeadm's leaves, but super-admin.conf (the kubeadm init node's alone). */
export function eachNodesOwn(c: Pick<CertEntry, 'managedBy' | 'isCA' | 'name'>): boolean {
  return c.managedBy === 'kubeadm' && !c.isCA && c.name !== 'super-admin.conf';
}

/**
 * Whether a kubeadm leaf is due here: only then does Next name the other control-plane nodes, so only then is
 * the etcd member list worth reading (check on a healthy node does not load that code).
 */
export function kubeadmLeavesDue(inv: Omit<Inventory, 'next'>): boolean {
  return dueOf(inv).some(eachNodesOwn);
}

/** The certificates a renewal is due for: expired, or within the warning threshold. */
function dueOf(inv: Omit<Inventory, 'next'>): CertEntry[] {
  return inv.certificates.filter((c) => c.status === 'expired' || c.status === 'warning');
}

/** Every certificate due, but the kubelet's, is one kubespray's enabled k8s-certs-renew.timer renews, none expired yet: the timer will. */
function timerOnly(inv: Omit<Inventory, 'next'>, renew: string): string | undefined {
  // (the kubelet renews its own client certificate, the timer the rest)
  const due = dueOf(inv).filter((c) => c.managedBy !== 'kubelet');
  if (due.length === 0 || !due.every((c) => c.managedBy === KUBESPRAY_RENEW_TIMER)) return undefined;
  // (one expired: the timer did not do it in time, its finding says where to look; kubepki renew does it now)
  if (due.some((c) => c.status === 'expired')) return undefined;
  const service = KUBESPRAY_RENEW_SERVICE;
  return `${KUBESPRAY_RENEW_TIMER} renews them on its calendar (systemctl list-timers ${KUBESPRAY_RENEW_TIMER} says when next); systemctl start ${service} runs it now (or ${renew} --dry-run, then without --dry-run)`;
}

/**
 * The renew command that reaches every certificate due: `renew all` reads the layouts' places only, so a
 * certificate due in a file given with --path or --kubeconfig (a bare directory, a file no layout knows) is
 * named with --file, as renew takes it (`renew all` on a node with no layout fails: nothing found under /).
 */
function renewCommand(inv: Omit<Inventory, 'next'>, rootFlag: string): string {
  const under = (f: string) => (inv.given ?? []).some((p) => f === p || f.startsWith(p.endsWith('/') ? p : `${p}/`));
  const dueGiven = dueOf(inv).filter((c) => c.layout === 'generic' && (under(c.location.file) || (c.location.via !== undefined && under(c.location.via))));
  if (dueGiven.length === 0) return `kubepki renew all${rootFlag}`;
  const files = [...new Set(dueGiven.map(renewTarget))];
  const all = dueGiven.length < dueOf(inv).length ? ' all' : '';
  return `kubepki renew${all}${files.map((f) => ` ${f}`).join('')}${rootFlag}`;
}

/**
 * What `kubepki renew` is given for a certificate: its name, or, for one found only in a file given with --path or
 * --kubeconfig (layout generic), that file: renew reads the layouts' places, where such a name is not found.
 */
export function renewTarget(e: Pick<CertEntry, 'name' | 'layout' | 'location'>): string {
  return e.layout === 'generic' ? `--file ${shellArg(e.location.via ?? e.location.file)}` : e.name;
}

/** kubeadm's CA names (their rows go in the CA table; without them nothing can be renewed). */
/** ` --root R` for the kubepki commands advice gives about a tree at ROOT (none for the node's own /). */
/**
 * A message (an `unreadable` finding's, a missing entry's reason, a read's error) says the read was not allowed:
 * kubepki ran as a user.
 */
export const permissionDenied = (message: string): boolean => /\bE(ACCES|PERM)\b/.test(message);

/** What renew and rebuild say of a file they were not allowed to read. */
export const RUN_AS_ROOT = 'run kubepki as root (sudo): it reads and rewrites the node\'s keys and kubeconfigs';

/** The one line renew and rebuild stop with when run as a user: the node files `command` needs and may not read. */
export function permissionDeniedError(files: string[], command: 'renew' | 'rebuild'): UserError {
  return new UserError(`permission denied reading ${someNames([...files].sort())}, which ${command} needs`, RUN_AS_ROOT);
}

export function rootFlagFor(root: string | undefined): string {
  return root && root !== '/' ? ` --root ${shellArg(root)}` : '';
}

/** Where a node's own directories start in a path: a tree's root is what comes before the last of them. */
const NODE_DIRS = /\/(?:etc\/kubernetes|etc\/rancher|var\/lib)\//g;

/**
 * The node tree a node path lies in (`/mnt/node` of `/mnt/node/etc/kubernetes/kubelet.conf`) and the path inside
 * it; undefined for a path that is not in one, or is in the root's own (`/etc/kubernetes/kubelet.conf`).
 */
export function nodeTreeOf(nodePath: string): { tree: string; inTree: string } | undefined {
  const at = [...nodePath.matchAll(NODE_DIRS)].pop()?.index;
  if (!at) return undefined;
  return { tree: nodePath.slice(0, at), inTree: nodePath.slice(at) };
}

/**
 * The command that reads FILE (a node path lying in a node tree, under ROOT) in its tree: `kubepki inspect --root
 * TREE /etc/kubernetes/kubelet.conf`, `kubepki check --root TREE --kubeconfig …`, `kubepki renew --root TREE --file …`.
 */
export function inTreeCommand(verb: 'inspect' | 'check' | 'renew', root: string, file: string): string {
  const t = nodeTreeOf(file);
  if (!t) return '';
  const flag = verb === 'check' ? ' --kubeconfig' : verb === 'renew' ? ' --file' : '';
  return `kubepki ${verb} --root ${shellArg(root === '/' ? t.tree : `${root}${t.tree}`)}${flag} ${shellArg(t.inTree)}`;
}

export const KUBEADM_CA_NAMES = ['ca', 'etcd-ca', 'front-proxy-ca'];

/**
 * The kubelet's kubelet.crt when it is one self-signed certificate (kubelets before 1.11 made it so, with CA:TRUE;
 * admins do with openssl): a CA only in form. It is this kubelet's serving identity, not a trust anchor anyone
 * copied or that signs anything: renewing it with its key needs nothing done on other nodes or in kubeconfigs,
 * and check lists it with the certificates, not the authorities (as kubeadm's check-expiration lists only CAs).
 */
export function isKubeletOwnServing(c: Pick<CertEntry, 'name' | 'selfSigned'> | undefined): boolean {
  return c?.name === 'kubelet-serving' && c.selfSigned;
}

/**
 * A certificate authority for check's CA table: a CA certificate, except the kubelet's own self-signed serving one.
 * The reader records it in each entry's `authority`, so every output (the dashboard in the browser too) says the same.
 */
export function isAuthority(c: Pick<CertEntry, 'name' | 'isCA' | 'selfSigned'>): boolean {
  return c.isCA && !isKubeletOwnServing(c);
}

/** The name of the CA that signed it, as check shows it: none for a certificate that signed itself and is no authority (then '(self)'). */
export function signerShown(c: Pick<CertEntry, 'id' | 'name' | 'isCA' | 'selfSigned' | 'signedBy' | 'signerName'>): string | undefined {
  return c.signedBy === c.id && !isAuthority(c) ? undefined : c.signerName;
}

export function nextStep(inv: Omit<Inventory, 'next'>): string {
  const s = inv.summary;
  // (the --now check was given goes with --root: a suggested command copied judges at the table's moment)
  const nowFlag = inv.nowGiven === undefined ? '' : ` --now ${shellArg(inv.nowGiven)}`;
  const rootFlag = `${rootFlagFor(inv.root)}${nowFlag}`;
  const gone = inv.missing.filter((m) => m.state !== 'unreadable').length;
  const unreadable = inv.missing.length - gone;
  // a run cut short left some files new and some old: everything else is judged from those, so it comes first,
  // with the restore that puts them back (its finding's own words, as the table's first line gives them)
  const run = inv.findings.find((f) => f.code === 'interrupted-run' && f.severity === 'error');
  if (run) return `${run.message}; then kubepki check${rootFlag} again`;
  // what kubepki was not allowed to read it cannot judge (and a file it cannot see is not missing): that comes first
  const denied = inv.findings.filter((f) => f.code === 'unreadable' && permissionDenied(f.message)).map((f) => f.file ?? '');
  if (denied.length > 0) {
    return `run kubepki as root (in a container: with the capability DAC_READ_SEARCH): permission denied reading ${someNames(denied)}`;
  }
  // a kubeconfig of a node tree given without that tree as --root: what was read for its references is not the
  // tree's (a file missing here is not missing there), so the tree is judged by reading it as its node does
  const onHost = inv.findings.find((f) => f.code === 'read-on-host' && f.file);
  if (onHost) {
    return `read the node tree's own files: ${inTreeCommand('check', inv.root, onHost.file!)}${nowFlag} (see read-on-host under FINDINGS)`;
  }
  // without its CA nothing can be renewed: that comes first
  const caGone = inv.missing.filter((m) => m.state !== 'unreadable' && KUBEADM_CA_NAMES.includes(m.name)).map((m) => m.file);
  if (caGone.length > 0) {
    return `bring back ${caGone.join(', ')} and their keys from a backup (kubepki backups${rootFlag}) or another control-plane node (kubepki ca export / ca import); with no copy left, kubepki rebuild${rootFlag} --new-ca --dry-run`;
  }
  if (s.expired + s.warning > 0) {
    const renew = renewCommand(inv, rootFlag);
    return rancherCas(inv) ?? agentOnly(inv) ?? serverOnly(inv) ?? installerOnly(inv) ?? casTooShort(inv, rootFlag) ?? notARenewal(inv, rootFlag) ?? kubeletClientOnly(inv, rootFlag) ?? elsewhereOnly(inv, renew) ?? timerOnly(inv, renew) ?? `${renew} --dry-run, then without --dry-run (backup first); restart what it lists${otherControlPlanes(inv)}`;
  }
  if (s.notYetValid > 0) {
    const early = inv.certificates.filter((c) => c.status === 'not-yet-valid');
    // a CA file of the node (not the kubelet's self-signed kubelet.crt, alone or with the throwaway CA behind it, nor a
    // kubeconfig's copy, which may be another cluster's, made elsewhere) that starts
    // after this clock: the clock is behind, not the certificates. Nothing signed by it verifies here until then,
    // and re-issuing with this clock would give the CAs and leaves an end that has passed once the clock is right
    const ca = early.filter((c) => isAuthority(c) && c.location.index === 0 && c.location.kubeconfig?.entry !== 'cluster').sort((a, b) => Date.parse(a.notBefore) - Date.parse(b.notBefore))[0];
    if (ca) {
      // (the check after the clock is set reads that clock: not the --now this one was given, which it replaces)
      return `this node's clock (${goTime(inv.now)}) is before ${ca.name} was made (${goTime(ca.notBefore)}): the clock is wrong, not the certificates: set it (timedatectl; is NTP synchronised?), then kubepki check${rootFlagFor(inv.root)} again; do not renew before that (certificates made on this clock would start and end years too early: expired, CAs shortened, once the clock is right)`;
    }
    const names = early.map((c) => c.name);
    const head = `${someNames(names)} ${names.length > 1 ? 'start' : 'starts'} after this node's clock: check the clock (timedatectl; is NTP synchronised?)`;
    // re-issuing with a margin is for what renew can sign here: not a kubeconfig's copy of a CA, nor what a CA elsewhere signed
    const signs = signedHere(inv);
    const here = early.filter((c) => c.location.kubeconfig?.entry !== 'cluster' && signs(c));
    if (here.length === 0) return `${head}; they were issued elsewhere: re-issue them there with a margin (a notBefore a few minutes back)`;
    return `${head}, or re-issue with a margin: kubepki renew ${here.length > 3 ? 'all' : here.map((c) => c.name).join(' ')}${rootFlag} --backdate 1h`;
  }
  // (rebuild refuses a kubelet.conf whose client certificate is gone: the kubelet's own command makes one)
  if (inv.missing.length > 0 && inv.missing.every((m) => m.name === 'kubelet-client')) return inv.missing[0]!.fix ?? kubeletClientFix(inv, rootFlag);
  if (gone > 0) return `kubepki rebuild${rootFlag} --dry-run (re-creates missing kubeadm files)`;
  if (unreadable > 0) return `restore the unreadable files from a backup (kubepki backups${rootFlag}), or move them aside and run kubepki rebuild${rootFlag} --dry-run`;
  // an invalid row, or an error on no row (a kubelet config the kubelet refuses, sa.pub not matching sa.key):
  // the finding itself says what to do
  const errors = inv.findings.filter((f) => f.severity === 'error');
  // (the kubelet's rotated pair whose key is not its certificate's: no client certificate, as when it expired)
  const kubeletPair = (f: Finding) => f.code === 'key-mismatch' && inv.certificates.some((c) => c.id === f.certificate && c.name === 'kubelet-client' && c.location.kind !== 'kubeconfig');
  if (errors.length > 0 && errors.every(kubeletPair)) return `kubelet-client's key does not match its certificate: ${kubeletClientFix(inv, rootFlag)}`;
  const codes = [...new Set(errors.map((f) => f.code))];
  if (codes.length > 0) return `do what each ERROR under FINDINGS says (${someNames(codes)}); then kubepki check${rootFlag} again`;
  return '';
}

/**
 * What gives the kubelet a client certificate again when the one kubelet.conf names is gone: with a
 * bootstrap-kubelet.conf the kubelet bootstraps a new one itself when restarted (kubeadm removes that file
 * after the join, and its token lasts 24h); else `kubepki kubelet credentials` signs one with the cluster
 * CA (here, or on a control-plane node for a worker), or writes a bootstrap kubeconfig for a rejoin. On k0s,
 * which runs the kubelet in its own unit and writes none of kubeadm's files, k0s's own bootstrap does it.
 */
export function kubeletClientFix(inv: Pick<Inventory, 'certificates' | 'kubeconfigs' | 'nodeName'>, rootFlag: string, caKeyOnNode = false, signingOff = false): string {
  const k0s = k0sKubelet(inv);
  const swap = interruptedSwap(inv.certificates);
  if (swap) {
    const dir = swap.via.slice(0, swap.via.lastIndexOf('/'));
    return `a rotation was cut short between its two renames: ${swap.via} → ${swap.file} holds the new pair, and the kubelet renames it to kubelet-client-current.pem when it starts: systemctl restart ${k0s?.unit ?? 'kubelet'} (or by hand: mv -T ${swap.via} ${dir}/kubelet-client-current.pem)`;
  }
  if (k0s) return k0sKubeletClientFix(k0s);
  const user = inv.kubeconfigs.find((k) => k.file === KUBELET_CONF)?.users.find((u) => /^system:node:./.test(u.name))?.name;
  const node = user?.slice('system:node:'.length) ?? inv.nodeName ?? 'NODE';
  // (`caKeyOnNode`: the cluster CA's pair is on the node though this read did not take it in: inspect of kubelet.conf)
  const caHere = caKeyOnNode || inv.certificates.some((c) => c.name === 'ca' && c.isCA && c.privateKey.present);
  // kubeadm's external-CA mode (this node's kube-controller-manager runs with --cluster-signing-key-file= empty,
  // its kubelet-csr-unsigned finding): no node holds the CA key, so `kubelet credentials` fails everywhere ("failed
  // to read CA key"), and a bootstrap token's request is approved but never signed; only the CA's owner can sign one
  const unsigned = caHere ? undefined : inv.certificates.find((c) => c.findings.some((f) => f.code === 'kubelet-csr-unsigned'));
  if (unsigned) {
    return `kubepki renew ${unsigned.name} --csr-out DIR${rootFlag} writes its request (the kubelet's own key): have whoever holds the cluster CA's key sign it (nothing in this cluster signs kubelet requests: kubeadm's external-CA mode), put the certificate where renew says, then systemctl restart kubelet`;
  }
  // (the same, with no certificate left to renew: `signingOff`, this node's kube-controller-manager signs nothing)
  if (signingOff && !caHere) {
    return `nothing in this cluster signs kubelet requests (kubeadm's external-CA mode), so neither a bootstrap token nor a control-plane node can make one: where the cluster CA's key is, kubepki kubelet credentials --node ${node} --ca-cert CA.crt --ca-key CA.key --out DIR, copy DIR to this node, then systemctl restart kubelet`;
  }
  const make = caHere
    ? `kubepki kubelet credentials --node ${node}${rootFlag} (signed by the cluster CA here), then systemctl restart kubelet`
    : `on a control-plane node run kubepki kubelet credentials --node ${node} --out DIR and copy DIR to this node, then systemctl restart kubelet`;
  if (inv.kubeconfigs.some((k) => k.file === BOOTSTRAP_KUBELET_CONF)) {
    return `${BOOTSTRAP_KUBELET_CONF} is here: systemctl restart kubelet and it bootstraps a new client certificate while that token is valid; once it has expired: ${make}`;
  }
  return `${make}; or rejoin with a bootstrap token: kubepki kubelet credentials --node ${node} --bootstrap${rootFlag}`;
}

/**
 * On a k0s node, the unit the kubelet runs in and its kubeconfig (KubeletAuthConfigPath, `<data dir>/kubelet.conf`);
 * undefined elsewhere. k0s supervises the kubelet itself: in k0sworker on a worker, in k0scontroller on a controller
 * with --enable-worker (k0sproject/k0s cmd/controller/controller.go startWorker). A controller's pki/ holds the
 * cluster CA's key; a worker's holds ca.crt alone, written from its join token (pkg/component/worker/utils.go). (Not
 * any CA with its key: the kubelet's self-signed kubelet.crt is one, on a worker too.)
 */
export function k0sKubelet(inv: Pick<Inventory, 'certificates' | 'kubeconfigs'>): { unit: 'k0scontroller' | 'k0sworker'; conf: string } | undefined {
  if (!inv.certificates.some((c) => c.layout === 'k0s')) return undefined;
  const conf = inv.kubeconfigs.find((k) => k.file !== KUBELET_CONF && k.file.endsWith('/kubelet.conf'))?.file ?? '/var/lib/k0s/kubelet.conf';
  return { unit: inv.certificates.some((c) => c.layout === 'k0s' && c.name === 'ca' && c.privateKey.present) ? 'k0scontroller' : 'k0sworker', conf };
}

/** What restarts this node's kubelet: its systemd unit, or on k0s the k0s unit it runs in (k0sKubelet). */
export function kubeletRestart(inv: Pick<Inventory, 'certificates' | 'kubeconfigs'>): string {
  return `systemctl restart ${k0sKubelet(inv)?.unit ?? 'kubelet'}`;
}

/**
 * How k0s gives its kubelet a new client certificate (k0sproject/k0s pkg/component/worker/utils.go
 * BootstrapKubeletClientConfig, run at every start of the unit): with kubelet.conf there it does nothing, whatever
 * the certificate's dates; without it, it bootstraps one (the kubelet's own bootstrap.LoadClientCert) from
 * `<data dir>/kubelet-bootstrap.conf`, or the join token the unit was installed with (`--token-file`, kept on its
 * ExecStart and read at every start), or on a controller from its own admin.conf. The kubelet it runs has no
 * --bootstrap-kubeconfig (pkg/component/worker/kubelet.go), so it never re-bootstraps by itself.
 */
function k0sKubeletClientFix(k: { unit: 'k0scontroller' | 'k0sworker'; conf: string }): string {
  const why = `k0s bootstraps the kubelet a new client certificate at the start of ${k.unit} only when ${k.conf} is missing (never while it is there, whatever its certificate)`;
  return k.unit === 'k0scontroller'
    ? `${why}: mv ${k.conf} ${k.conf}.old, then systemctl restart k0scontroller`
    : `${why}: mv ${k.conf} ${k.conf}.old; the file the k0sworker unit's --token-file names must hold a valid worker join token (the one it joined with, or once that has expired a new one: k0s token create --role=worker --expiry=1h on a controller); then systemctl restart k0sworker`;
}

/**
 * What gives the kubelet a serving certificate again when kubelet-server-current.pem is gone (a dangling link
 * to a deleted dated file): with serverTLSBootstrap it asks for a new one with a CSR when it starts, which
 * kube-controller-manager never approves (spec §7.4); without it the kubelet serves kubelet.crt.
 */
export function kubeletServingFix(): string {
  return 'systemctl restart kubelet: with serverTLSBootstrap it asks for a new serving certificate with a CSR, which kube-controller-manager never approves: then kubepki csr approve --all-valid (without serverTLSBootstrap the kubelet serves kubelet.crt and never reads this link: remove it)';
}

/**
 * The kubelet's client pair when a swap was interrupted (client-go's file store, spec §7.2): no
 * kubelet-client-current.pem, and kubelet-client-updated.pem a link to the new pair, which the kubelet's
 * store renames to -current when it starts. Its node path and the file it leads to, or undefined.
 */
export function interruptedSwap(certificates: CertEntry[]): { via: string; file: string } | undefined {
  const c = certificates.find((e) => e.location.kind !== 'kubeconfig' && e.location.index === 0 && (e.location.via ?? '').endsWith('/kubelet-client-updated.pem'));
  return c ? { via: c.location.via!, file: c.location.file } : undefined;
}

/**
 * When every certificate that is due is due only for a setting renew does not change (the kubelet's
 * rotateCertificates off): `renew all` would re-issue every healthy certificate of the node and restart the
 * control plane for nothing; the finding says what to do.
 */
function notARenewal(inv: Omit<Inventory, 'next'>, rootFlag: string): string | undefined {
  const due = dueOf(inv);
  const reasons = due.flatMap((c) => c.findings.filter((f) => f.severity !== 'info'));
  if (due.length === 0 || due.some((c) => c.status !== 'warning') || !reasons.every((f) => f.code === 'kubelet-rotation-off')) return undefined;
  return `do what the WARNING kubelet-rotation-off under FINDINGS says (no certificate needs renewing now); then kubepki check${rootFlag} again`;
}

/**
 * When every certificate that is due is due only because it outlives its CA (seed 000's 100-year leaves under
 * a 10-year CA), `renew all` would give them the same lifetime again and change nothing: the CA is what must
 * last longer. It keeps its key, so everything it signed stays valid.
 */
function casTooShort(inv: Omit<Inventory, 'next'>, rootFlag: string): string | undefined {
  const due = dueOf(inv);
  const onlyOutlives = (c: CertEntry) => c.status === 'warning' && c.findings.every((f) => f.severity !== 'warning' || f.code === 'ca-expires-before-leaf')
    && c.findings.some((f) => f.code === 'ca-expires-before-leaf');
  if (due.length === 0 || !due.every(onlyOutlives)) return undefined;
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  const found = [...new Set(due.map((c) => c.signedBy))].map((id) => (id ? byId.get(id) : undefined));
  if (found.some((ca) => !ca || ca.location.kind === 'kubeconfig')) return undefined;
  const cas = found as CertEntry[];
  const until = due.reduce((a, b) => (Date.parse(b.notAfter) > Date.parse(a) ? b.notAfter : a), due[0]!.notAfter);
  const years = Math.ceil((Date.parse(until) - Date.parse(inv.now)) / (365 * 86400e3));
  const names = cas.map((ca) => ca.name).sort();
  const cas_ = names.length > 1 ? 'CAs' : 'CA';
  const head = `${due.length === 1 ? `${due[0]!.name} outlives its CA` : `${due.length} certificates outlive their ${cas_}`} (${names.join(', ')}): renewing them would keep their lifetime, so make the ${cas_} last longer instead, keeping ${names.length > 1 ? 'their keys' : 'its key'} (everything signed stays valid)`;
  // (a CA read only from a --path file is renewed by its file: renew does not find it by name)
  const targets = [...cas].sort((a, b) => a.name.localeCompare(b.name)).map(renewTarget).join(' ');
  if (cas.every((ca) => ca.privateKey.present)) return `${head}: kubepki renew ${targets}${rootFlag} --validity ${years}y --dry-run (they end on ${until.slice(0, 10)}), then without --dry-run`;
  // (a worker holds the CA without its key: it is renewed where the key is, and its file copied here)
  const files = [...new Set(cas.map((ca) => ca.location.file))];
  return `${head}, where ${names.length > 1 ? 'their keys are' : 'its key is'} (not on this node): kubepki renew ${targets} --validity ${years}y there (they end on ${until.slice(0, 10)}), then copy ${files.join(', ')} here`;
}

/**
 * On a k3s/RKE2 agent where every expiring certificate is a leaf the agent re-issues and whose CA key is
 * not here, restarting the agent is the step: `renew all` would renew nothing there.
 */
function agentOnly(inv: Omit<Inventory, 'next'>): string | undefined {
  const advice = rancherReissueAdvice(inv, 'agent');
  const due = dueOf(inv);
  const caKeyHere = (id: string | undefined) => Boolean(id && inv.certificates.find((c) => c.id === id)?.privateKey.present);
  return due.length > 0 && due.every((c) => advice(c) && !caKeyHere(c.signedBy)) ? advice(due[0]!) : undefined;
}

/**
 * On a k3s/RKE2 server whose own CAs are due (expiring, expired, or outlived by the leaves they sign): the distro
 * keeps them in its datastore, so the step is its certificate rotate-ca (`renew` refuses them in place), and the
 * restart of every server after it re-issues the leaves too.
 */
function rancherCas(inv: Omit<Inventory, 'next'>): string | undefined {
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  const cas = new Set<CertEntry>();
  for (const c of dueOf(inv)) {
    const ca = c.isCA ? c : c.findings.some((f) => f.code === 'ca-expires-before-leaf') && c.signedBy ? byId.get(c.signedBy) : undefined;
    if (ca && RANCHER_DATASTORE_CA.test(ca.location.file)) cas.add(ca);
  }
  const first = [...cas][0];
  if (!first) return undefined;
  const names = [...cas].map((c) => c.name).sort();
  return `${names.join(', ')}: ${rancherCaAdvice(RANCHER_DATASTORE_CA.exec(first.location.file)![1] as 'k3s' | 'rke2', names)}`;
}

/**
 * On a k3s/RKE2 server where every certificate that is due is a leaf the server re-issues itself when it
 * starts, restarting it is the step: `renew all` ends with the same restart, and cannot write the listener's
 * dynamic-cert.json.
 */
function serverOnly(inv: Omit<Inventory, 'next'>): string | undefined {
  const advice = rancherReissueAdvice(inv, 'server');
  const due = dueOf(inv);
  return due.length > 0 && due.every((c) => advice(c)) ? advice(due[0]!) : undefined;
}

/**
 * On a k0s, MicroK8s, minikube or kops node where every certificate due (but the kubelet's, which rotates its own) is
 * one the installer renews itself: its command is the step, for each (k0s signs its leaves again at every controller
 * start, so renew leaves them alone; MicroK8s's refresh-certs restarts what reads what it renews; minikube's start
 * copies the host's files over what renew would write; kops issues an instance's files when it makes the instance).
 */
function installerOnly(inv: Omit<Inventory, 'next'>): string | undefined {
  const due = dueOf(inv).filter((c) => c.managedBy !== 'kubelet');
  if (due.length === 0 || due.some((c) => c.managedBy !== 'k0s' && c.managedBy !== 'microk8s' && c.managedBy !== 'minikube' && c.managedBy !== 'kops')) return undefined;
  // (one command for k0s's leaves, one for kops's leaves and one for its CAs, one for each file MicroK8s's
  // refresh-certs takes or minikube copies)
  const groups = new Map<string, CertEntry[]>();
  for (const c of due) { const k = c.managedBy === 'k0s' ? '' : c.managedBy === 'kops' ? `kops:${c.isCA}` : c.location.file; groups.set(k, [...(groups.get(k) ?? []), c]); }
  const kopsControlPlane = kopsNodeIsControlPlane(inv.certificates);
  return [...groups.values()].map((cs) => `${someNames(cs.map((c) => c.name))}: ${installerRenewal(cs[0]!, cs.length > 1, kopsControlPlane)}`).join('; ');
}

/**
 * A worker whose only certificate due is the kubelet's expired client certificate, its CA's key elsewhere: the
 * kubelet cannot renew it itself any more, and renewing "where that CA is" would renew that node's own kubelet,
 * not this one's: what gives this kubelet a new one, as the finding and renew say it.
 */
function kubeletClientOnly(inv: Omit<Inventory, 'next'>, rootFlag: string): string | undefined {
  const due = dueOf(inv);
  const signs = signedHere(inv);
  if (due.length === 0 || !due.every((c) => c.name === 'kubelet-client' && c.status === 'expired' && !signs(c))) return undefined;
  return `kubelet-client has expired and its CA's key is not on this node: ${kubeletClientFix(inv, rootFlag)}`;
}

/**
 * When no certificate that is due can be renewed here (its CA's key is elsewhere: an external etcd's CA, a
 * corporate CA, another cluster's), `renew all` would only renew the healthy ones: say where the work is.
 */
function elsewhereOnly(inv: Omit<Inventory, 'next'>, renew: string): string | undefined {
  const due = dueOf(inv);
  const signs = signedHere(inv);
  // the kubelet's own pair, and the throwaway CA behind it in kubelet.crt, which renew makes again with it
  const serving = new Set(inv.certificates.filter((c) => c.name === 'kubelet-serving').map((c) => c.location.file));
  const here = (c: CertEntry) => signs(c) || c.name === 'kubelet-serving' || (c.isCA && !c.privateKey.present && c.location.index > 0 && serving.has(c.location.file));
  const away = due.filter((c) => !here(c));
  if (away.length === 0) return undefined;
  const cas = [...new Set(away.map((c) => c.signerName ?? c.issuerCN ?? c.issuer))].sort();
  const keys = `${cas.join(', ')}, whose key${cas.length > 1 ? 's are' : ' is'} not on this node`;
  if (away.length === due.length) {
    return `${due.length === 1 ? `${due[0]!.name} is` : `the ${due.length} certificates due are`} signed by ${keys}: renew ${due.length === 1 ? 'it' : 'them'} where ${cas.length > 1 ? 'those CAs are' : 'that CA is'} (${renew} --dry-run says how for each; --csr-out DIR writes CSRs to take there)`;
  }
  // some here, some not (an external etcd's CA, kubeadm's external-CA mode with the kubelet's own pair): renew
  // alone would renew the few it can and leave the rest for its "Not renewed" list
  const names = (list: CertEntry[]) => someNames(list.map((c) => c.name));
  return `${renew} --dry-run, then without --dry-run (backup first), renews ${names(due.filter(here))} here; ${names(away)} ${away.length > 1 ? 'are' : 'is'} signed by ${keys}: renew ${away.length > 1 ? 'them' : 'it'} where ${cas.length > 1 ? 'those CAs are' : 'that CA is'} (--csr-out DIR writes CSRs to take there)${otherControlPlanes(inv)}`;
}

/**
 * A kubelet.conf that embeds the kubelet's client certificate (kubeadm's init node before kubelet-finalize,
 * spec §2.1): the kubelet rotates into kubelet-client-current.pem and never rewrites the embedded copy; once
 * that copy has expired, the kubelet refuses to start on it (its bootstrap check: "part of the existing
 * bootstrap client certificate in … is expired", then it needs bootstrap-kubelet.conf), whatever the rotated
 * pair says. What that means and what fixes it: check's finding and renew's advice say the same.
 */
export function embeddedKubeletConfText(file: string, user: string, notAfter: string, certificates: Pick<CertEntry, 'name' | 'location' | 'notBefore' | 'notAfter'>[], nowMs: number, caKeyHere: boolean): string {
  const current = `${KUBELET_PKI_DIR}/kubelet-client-current.pem`;
  const day = notAfter.slice(0, 10);
  const when = Date.parse(notAfter) > nowMs ? `when this copy expires (${day})` : `since this copy expired (${day})`;
  const rotated = certificates.some((c) => c.name === 'kubelet-client' && (c.location.via ?? c.location.file) === current && Date.parse(c.notBefore) <= nowMs && nowMs <= Date.parse(c.notAfter));
  const point = `point client-certificate/client-key at ${current}`;
  const fix = caKeyHere
    ? `${point} (kubepki renew kubelet.conf does this, with a renewed certificate in a new dated file)`
    : rotated
      ? `${point}, which the kubelet keeps renewed: kubectl config set-credentials ${user} --client-certificate=${current} --client-key=${current} --kubeconfig ${file}, then systemctl restart kubelet`
      : `${point} once a valid pair is there, as kubeadm's kubelet-finalize does (kubepki renew kubelet.conf does both where the cluster CA key is)`;
  return `${file} embeds the kubelet's client certificate (user ${user}), which the kubelet never rewrites: its rotation writes ${current}, so ${when} the kubelet fails at its next start ("part of the existing bootstrap client certificate in ${file} is expired", then it looks for bootstrap-kubelet.conf); ${fix}`;
}
