import { Command, Option } from 'commander';
import * as fsp from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { NodeFs, SymlinkLoopError } from '../fs/node-fs.js';
import { readInventory, companionFiles, summarize, certId, partnerKeyPaths, CA_FILE_NAME } from '../inventory/read.js';
import type { CertEntry, CertLocation, Inventory } from '../inventory/types.js';
import { renderInventoryShort, renderCertFull, renderCertShort, renderCsrShort, renderCsrFull, locationTitle } from '../report/cert-text.js';
import { renderJson } from '../report/structured.js';
import { inventoryExitCode } from '../report/table.js';
import { nowOption, warnOption, resolveNow, rootOption, openNode, toNodePaths, tlsOptions, timeoutMs } from './options.js';
import { kubeadmPkiDir } from '../layouts/detect.js';
import { BOOTSTRAP_KUBELET_CONF, KDIR, KUBEADM_LEAVES } from '../profiles/kubeadm.js';
import { EXIT_CODES_HELP } from './main.js';
import { readKubeletConfig } from '../inventory/components.js';
import { derToPem } from '../pki/certificate.js';
import { addReadOnHost } from '../inventory/read-on-host.js';

interface InspectOptions { output: string; now?: string; warn?: string; root?: string; servername?: string; timeout: string }

export function command(io: Io): Command {
  return new Command('inspect')
    .summary('show every certificate in a file, kubeconfig, CSR, key, stdin or https://host:port')
    .description(`Show every certificate in a .crt/.pem bundle, a DER file, a PKCS#7 bundle (.p7b), a
kubeconfig (every user and cluster entry), a Secret or ConfigMap manifest, a CSR or a key (never
printing the key), standard input (-) or the chain a TLS endpoint serves (https://HOST:PORT).
With --root DIR, FILE is a path on that node tree (a mounted disk, a copy): a kubeconfig's file
references and absolute symlinks (kubelet-client-current.pem) resolve inside DIR, not on this host.
Without it, a kubeconfig lying in a node tree (DIR/etc/kubernetes/kubelet.conf) has its absolute
references read on this host: a read-on-host warning names what was read and the inspect --root to run.

Examples:
  kubepki inspect /etc/kubernetes/pki/apiserver.crt
  kubepki inspect /etc/kubernetes/admin.conf -o full
  kubectl get secret -n demo app-tls -o jsonpath='{.data.tls\\.crt}' | base64 -d | kubepki inspect -
  kubepki inspect https://127.0.0.1:6443 -o json
  kubepki inspect /etc/kubernetes/kubelet.conf --root /mnt/node

${EXIT_CODES_HELP}`)
    .argument('<source>', 'file, -, or https://HOST:PORT')
    .addOption(new Option('-o, --output <format>', 'short, full (openssl-like) or json').default('short').choices(['short', 'full', 'json']))
    .addOption(rootOption())
    .addOption(nowOption())
    .addOption(warnOption())
    .addOption(tlsOptions()[0]!)
    .addOption(tlsOptions()[1]!)
    .action(async (source: string, o: InspectOptions) => {
      const endpoint = /^(https|tls):\/\//i.test(source);
      if (o.root && path.resolve(o.root) !== '/' && (source === '-' || endpoint)) throw new UserError(`--root applies to a file on a node tree, not to ${source === '-' ? 'standard input' : source}`, 'drop --root, or pass a file');
      if (!endpoint && (o.servername !== undefined || o.timeout !== '5')) throw new UserError(`--servername and --timeout apply to https://HOST:PORT, not to ${source === '-' ? 'standard input' : source}`, 'drop them, or pass https://HOST:PORT');
      const now = resolveNow(o.now);
      let inv: Inventory;
      if (endpoint) {
        const { parseEndpoint, probeEndpoint } = await import('../probe/probe.js');
        const { formatHostPort } = await import('../server/listen.js');
        const ep = parseEndpoint(source);
        const res = await probeEndpoint(ep.host, ep.port, { servername: o.servername, timeoutMs: timeoutMs(o.timeout) });
        inv = servedInventory(res.chain, formatHostPort(ep), now, o.warn);
        // (the chain is what the server sent before it ended the handshake, as openssl s_client shows it)
        if (res.handshakeError) io.stderr(`kubepki: ${formatHostPort(ep)} sent its chain, then ${res.handshakeError}\n`);
      } else if (source === '-') {
        // (named `-` wherever a file is named, as given: not the throwaway file it was read through)
        inv = inventoryOfBytes(await io.readStdin(), 'stdin', '-', now, o.warn);
      } else {
        // a host path, or under --root a node path (absolute as the node sees it, or relative inside DIR);
        // stat through the node: an absolute symlink such as kubelet-client-current.pem points inside --root
        const node = openNode(o);
        const file = toNodePaths(node, [source], io.cwd)[0]!;
        // a symlink loop (in the file or a directory above it) is not "no such file": the file is there and cannot
        // be read, exit 3 as for every file inspect cannot read
        let real: string;
        try { real = node.realNodePath(file); } catch (e) {
          if (e instanceof SymlinkLoopError) throw new UserError(`failed to read ${node.hostPathOfReal(file)}: symlink loop (too many levels of symbolic links)`, 'point the link at the file itself (ls -l shows where each link of the path points)');
          throw e;
        }
        const abs = node.hostPath(file);
        const st = node.stat(file);
        if (!st && real !== file && node.lstat(file)) throw new UserError(`failed to read ${abs}: dangling symlink to ${real}`, 'the file it points at is gone: restore it, or point the link at an existing file');
        if (!st) throw new UserError(`failed to read ${abs}: no such file`, o.root ? `pass a path on the node under ${node.root} (/etc/kubernetes/kubelet.conf) or drop --root` : 'check the path');
        if (st.isDirectory()) throw new UserError(`failed to inspect ${abs}: it is a directory`, 'pass a file, or use kubepki check --path DIR for a directory');
        // its key and CA beside it are read too, for "key present and matches" and "signed by", and only what
        // the file holds (and the files a kubeconfig in it references) is shown
        const companions = companionFiles(node, file);
        const cas = nodeCaFiles(node).filter((f) => f !== file && !companions.includes(f));
        const read = (kubeconfigs: string[]) => focus(readInventory({ fs: node, now, warn: o.warn, layouts: [], paths: [file, ...companions, ...cas], kubeconfigs, componentRefs: false }), node, file);
        inv = read([]);
        // a certificate whose issuer no CA file here is may have it on the node only as a kubeconfig's
        // certificate-authority-data (an intermediate's root, a ca.crt gone), where check finds it: read kubeadm's
        // kubeconfigs too, only then (a plain file, or one whose CA is beside it or in pki/, reads nothing more)
        if (inv.certificates.some((c) => !c.selfSigned && !c.signedBy)) {
          const confs = kubeadmKubeconfigs(node).filter((f) => f !== file && !companions.includes(f));
          if (confs.length > 0) inv = read(confs);
        }
        // (a kubeconfig of a node tree read without that tree as --root: its absolute references were read here)
        addReadOnHost(inv, node, [file], 'inspect');
        const unread = inv.findings.find((f) => (f.code === 'corrupt' || f.code === 'unreadable') && f.file === file);
        const hint = () => (st.size < 1 << 20 ? bytesHint(node.readFile(file), abs) : undefined) ?? 'pass a PEM or DER certificate, key, CSR or a kubeconfig';
        if (unread && inv.certificates.length === 0 && inv.keys.length === 0 && inv.csrs.length === 0) throw new UserError(`failed to inspect ${abs}: ${unread.message.replace(`skipped ${file}: `, '').replace(`${file}: `, '')}`, hint());
        if (inv.certificates.length === 0 && inv.keys.length === 0 && inv.csrs.length === 0 && inv.kubeconfigs.length === 0) {
          throw new UserError(`failed to inspect ${abs}: no certificate, key, CSR or kubeconfig in it`, hint());
        }
      }
      // what to do next is check's advice about a node; a temp dir or one file is not one
      delete inv.next;
      if (o.output === 'json') io.stdout(renderJson(inv));
      else if (o.output === 'full') {
        for (const [i, e] of inv.certificates.entries()) {
          io.stdout(renderCertShort({ ...e, inventoryNow: inv.now }, locationTitle(e, i, inv.certificates.length)));
          io.stdout(await renderCertFull(e.pem));
          io.stdout('\n');
        }
        for (const c of inv.csrs) {
          io.stdout(renderCsrShort(c));
          if (c.pem) io.stdout(await renderCsrFull(c.pem));
          io.stdout('\n');
        }
        // keys and loose findings have no longer form: show what the short view shows of them
        io.stdout(renderInventoryShort({ ...inv, certificates: [], csrs: [] }));
      } else io.stdout(renderInventoryShort(inv));
      io.exitCode = inventoryExitCode(inv);
    });
}

/**
 * The node's CA certificates that are not beside the files they sign, with their keys: kubeadm's (ca,
 * front-proxy-ca, etcd/ca in its certificatesDir), the kubelet's clientCAFile, RKE1's and kubespray's in
 * /etc/kubernetes/ssl, k3s's and RKE2's (server/tls, server/tls/etcd, and the agent's copies: spec §9.2).
 * The kubelet's pairs (/var/lib/kubelet/pki), apiserver-etcd-client.crt (etcd/ca.crt), a kubeconfig's client
 * certificate (admin.conf, k3s.yaml, server/cred/*.kubeconfig) are signed by them: without them inspect said
 * their issuer "is not on this node", and without the keys that the CA's key is not ("externally managed").
 */
function nodeCaFiles(node: NodeFs): string[] {
  const out: string[] = [];
  const pki = kubeadmPkiDir(node);
  const rancher = ['k3s', 'rke2'].flatMap((d) => ['server/tls', 'server/tls/etcd', 'agent'].map((sub) => `/var/lib/rancher/${d}/${sub}`));
  for (const dir of [pki, `${pki}/etcd`, '/etc/kubernetes/ssl', ...rancher]) {
    for (const d of node.readDir(dir)) if (CA_FILE_NAME.test(d.name)) out.push(`${dir}/${d.name}`, ...partnerKeyPaths(`${dir}/${d.name}`));
  }
  const clientCa = readKubeletConfig(node)?.authentication?.x509?.clientCAFile;
  if (typeof clientCa === 'string' && clientCa.startsWith('/')) out.push(clientCa);
  return [...new Set(out)].filter((p) => node.stat(p)?.isFile());
}

/** kubeadm's kubeconfigs on the node (admin.conf, kubelet.conf …), whose certificate-authority-data check reads as CAs. */
function kubeadmKubeconfigs(node: NodeFs): string[] {
  const names = [...KUBEADM_LEAVES.filter((p) => p.kind === 'kubeconfig').map((p) => `${KDIR}/${p.baseName}`), BOOTSTRAP_KUBELET_CONF];
  return names.filter((p) => node.stat(p)?.isFile());
}

/**
 * Bytes that are not on a node (stdin, a served chain): read through a throwaway file named after `label`
 * (which names its certificates). `shownAs`: what the inventory calls that file (its file fields, ids,
 * messages and root) instead of the throwaway path.
 */
export function inventoryOfBytes(bytes: Buffer, label: string, shownAs: string, now: Date, warn?: string): Inventory {
  const dir = fsp.mkdtempSync(path.join(os.tmpdir(), 'kubepki-inspect-'));
  try {
    // no extension: the reader then sniffs PEM, DER or a kubeconfig (a .pem name would rule the last out)
    const file = `/${label.replace(/[^a-z0-9.:[\]-]/gi, '_')}`;
    fsp.writeFileSync(path.join(dir, file), bytes);
    const inv = readInventory({ fs: new NodeFs(dir), now, warn, layouts: [], paths: [file], componentRefs: false });
    // facts about the throwaway file, not about anything the user has: its mode, and CAs whose keys are elsewhere
    const notOurs = (f: { code: string }) => f.code !== 'key-permissions' && f.code !== 'ca-key-missing';
    inv.findings = inv.findings.filter(notOurs);
    for (const c of inv.certificates) c.findings = c.findings.filter(notOurs);
    // (where the bytes came from, not the throwaway directory, which is gone when this returns)
    inv.root = shownAs;
    renameFile(inv, file, shownAs);
    if (inv.certificates.length === 0 && inv.keys.length === 0 && inv.csrs.length === 0) {
      const why = inv.findings[0]?.message.replace(/^[^:]*: /, '') ?? 'nothing readable';
      throw new UserError(`failed to inspect ${label}: ${why}`, bytesHint(bytes, shownAs) ?? 'pass PEM or DER certificates, a CSR, a key or a kubeconfig');
    }
    return inv;
  } finally {
    fsp.rmSync(dir, { recursive: true, force: true });
  }
}

/** What bytes that hold nothing kubepki reads are instead, when that is something an operator copies by mistake. */
function bytesHint(bytes: Buffer, source: string): string | undefined {
  return base64Hint(bytes, source) ?? sshKeyHint(bytes);
}

/** An OpenSSH key (ssh-keygen's private key file, or an authorized_keys line): said as such, since nothing in Kubernetes reads one. */
function sshKeyHint(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 64).toString('latin1');
  const ssh = head.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----') ? 'private' : /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com) AAAA/.test(head) ? 'public' : undefined;
  return ssh && `it is an OpenSSH ${ssh} key, which no Kubernetes component reads: kubepki reads X.509 certificates, PEM or DER keys, CSRs and kubeconfigs`;
}

/**
 * A kubeconfig's *-data field or a Secret's data value copied as it is: base64 of a PEM or DER certificate, key or
 * CSR, which kubectl and client-go decode before reading. Says how to decode it; undefined for anything else.
 */
function base64Hint(bytes: Buffer, source: string): string | undefined {
  const text = bytes.toString('latin1').replace(/\s+/g, '');
  if (text.length < 64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64');
  if (decoded.subarray(0, 11).toString('latin1') !== '-----BEGIN ' && decoded[0] !== 0x30) return undefined;
  return `it is base64 (as a kubeconfig's *-data field or a Secret's data holds it): ${source === '-' ? '… | base64 -d' : `base64 -d ${source}`} | kubepki inspect -`;
}

/** The chain an endpoint served, as one bundle named by the endpoint (its certificates are 0, 1 … in it). */
export function servedInventory(chain: Uint8Array[], endpoint: string, now: Date, warn?: string): Inventory {
  return inventoryOfBytes(Buffer.from(chain.map((der) => derToPem(der, 'CERTIFICATE')).join(''), 'latin1'), endpoint, endpoint, now, warn);
}

/**
 * Every mention of node path FROM in the inventory as TO: a file field (`/stdin`), an id (`/stdin#0`), a
 * message about it (`/stdin: …`), a kubeconfig's reference to itself.
 */
function renameFile(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') {
    return value === from ? to : value.startsWith(`${from}#`) || value.startsWith(`${from}: `) ? to + value.slice(from.length) : value;
  }
  if (Array.isArray(value)) { value.forEach((v, i) => { value[i] = renameFile(v, from, to); }); return value; }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) (value as Record<string, unknown>)[k] = renameFile(v, from, to);
  }
  return value;
}

/** The inventory of `file` alone (and what a kubeconfig in it references), its companions used but not shown. */
function focus(inv: Inventory, node: NodeFs, file: string): Inventory {
  const real = (p: string) => { try { return node.realNodePath(p); } catch { return p; } };
  const shown = new Set([file, real(file)]);
  for (const kc of inv.kubeconfigs) {
    if (!shown.has(kc.file)) continue;
    for (const u of kc.users) for (const f of [u.certFile, u.keyFile]) if (f) { shown.add(f); shown.add(real(f)); }
    for (const c of kc.clusters) if (c.caFile) { shown.add(c.caFile); shown.add(real(c.caFile)); }
  }
  const isShown = (l: CertLocation) => shown.has(l.file) || (l.via !== undefined && shown.has(l.via));
  // Every certificate of the file itself, at its place in it, in its order: the read makes one entry of
  // byte-identical certificates, placed where a copy ranks first (a chain file's CA at ca.crt beside it, a
  // certificate the file holds twice at its first place), so each of the file's places becomes an entry here.
  const given = real(file);
  const inGiven = (l: CertLocation) => l.kind !== 'kubeconfig' && l.file === given;
  const renamed = new Map<string, string>();
  const placed: CertEntry[] = [];
  for (const e of inv.certificates) {
    const places = [e.location, ...(e.copies ?? [])];
    const own = places.filter(inGiven);
    const at = own.length > 0 ? own : isShown(e.location) ? [e.location] : places.filter(isShown).slice(0, 1);
    for (const l of at) {
      if (l === e.location) { placed.push(e); continue; }
      const id = certId(l);
      const copies = places.filter((o) => o !== l);
      if (!at.includes(e.location) && !renamed.has(e.id)) renamed.set(e.id, id);
      placed.push({ ...e, id, location: l, ...(copies.length ? { copies } : {}), findings: e.findings.map((f) => ({ ...f, certificate: id })) });
    }
  }
  const kindOrder = (l: CertLocation) => (l.kind === 'pkcs7' ? 1 : 0);
  const certificates = placed
    .map((c, i) => ({ c, i }))
    .sort((a, b) => {
      const x = inGiven(a.c.location), y = inGiven(b.c.location);
      if (x && y) return kindOrder(a.c.location) - kindOrder(b.c.location) || a.c.location.index - b.c.location.index;
      return x !== y ? (x ? -1 : 1) : a.i - b.i;
    })
    .map(({ c }) => (c.signedBy && renamed.has(c.signedBy) ? { ...c, signedBy: renamed.get(c.signedBy)! } : c));
  const loose = inv.findings.filter((f) => !f.certificate && (f.file === undefined || shown.has(f.file)));
  const findings = [...loose, ...certificates.flatMap((c) => c.findings)];
  return {
    ...inv,
    certificates,
    keys: inv.keys.filter((k) => shown.has(k.file)).map((k) => ({ ...k, certificates: k.certificates.map((id) => renamed.get(id) ?? id) })),
    kubeconfigs: inv.kubeconfigs.filter((k) => shown.has(k.file)),
    csrs: inv.csrs.filter((c) => shown.has(c.file)),
    findings,
    summary: summarize(certificates, findings),
  };
}
