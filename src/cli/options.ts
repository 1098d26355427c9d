import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UserError } from '../errors.js';
import { openRoot, type NodeFs } from '../fs/node-fs.js';
import { parseNow } from '../inventory/time.js';
import { ALL_LAYOUTS, detectLayouts, layoutTargets } from '../layouts/detect.js';
import type { Inventory, LayoutName } from '../inventory/types.js';
import type { ReadOptions } from '../inventory/read.js';
import { parseThresholdOrThrow } from '../inventory/classify.js';
import { restoreArgs } from '../apply/state.js';

/** Options every node-reading command shares. */
export interface NodeOptions {
  root?: string;
  now?: string;
  warn?: string;
  layout?: string;
  path?: string[];
  kubeconfig?: string[];
}

export const collect = (v: string, prev: string[] = []) => [...prev, v];

export function rootOption() {
  return new Option('--root <dir>', 'read the node tree under DIR (a mounted disk, a backup, a copy) instead of /');
}
export function nowOption() {
  return new Option('--now <time>', 'pretend the time is TIME (ISO date), for reproducible output');
}
/**
 * --backup-dir, with the same words on every command that backs node files up before writing them (renew,
 * restore, rebuild, ca import, sa rotate, kubelet credentials) and on backups, which lists them.
 */
export function backupDirOption() {
  return new Option('--backup-dir <dir>', 'where backups are kept: DIR instead of <root>/var/lib/kubepki/backups (another disk when / is full, a directory nodes share); kubepki backups and restore take the same DIR');
}
/**
 * --backup-dir as a host path; undefined: the tree's own backup directory. With the tree a command writes
 * (`fs`), a directory check reads certificates from, all the way down (kubeadm's pki, kubespray's ssl, …), is
 * refused: the backup's copies of the old files would be read as the node's, EXPIRED rows in check, and
 * renew all would plan to renew them, writing into the backup.
 */
export function resolveBackupDir(backupDir: string | undefined, cwd: string, fs?: NodeFs): string | undefined {
  if (!backupDir) return undefined;
  const dir = resolve(cwd, backupDir);
  if (fs) {
    const real = (p: string): string => { try { return realpathSync(p); } catch { return dirname(p) === p ? p : join(real(dirname(p)), basename(p)); } };
    const inside = (d: string, p: string) => { const rel = relative(d, p); return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)); };
    const layouts = new Set<LayoutName>([...detectLayouts(fs), 'kubeadm']);
    for (const t of [...layouts].flatMap((l) => layoutTargets(l, fs)).filter((x) => x.recursive)) {
      const host = fs.hostPath(t.path);
      if (inside(host, dir) || inside(real(host), real(dir))) {
        throw new UserError(`--backup-dir ${dir} is inside ${t.path}${fs.root === '/' ? '' : ` (under --root ${fs.root})`}, where kubepki reads the node's certificates: the old files it backs up there would be read as the node's`, 'give a directory outside it (the default is <root>/var/lib/kubepki/backups); to restore a backup kept there, give restore its full path without --backup-dir');
      }
    }
  }
  return dir;
}
/**
 * The line a run that wrote node files ends with: where its backup is, and the restore that undoes it, with
 * the --root and --backup-dir restore needs to find it (and to keep its own backup beside it).
 */
export function backupLine(fs: NodeFs, backup: string, backupRoot: string | undefined): string {
  return `Backup: ${backup}  (undo with: kubepki restore ${restoreArgs(fs.root, basename(backup), backupRoot)})`;
}
export function warnOption() {
  return new Option('--warn <threshold>', 'warn when a certificate expires within this duration or has used this share of its lifetime (30d, 2w, 66%)').default('30d');
}
export function layoutOption() {
  return new Option('--layout <names>', `force layouts instead of detecting them (comma-separated: ${ALL_LAYOUTS.join(', ')})`);
}
export function pathOption() {
  return new Option('--path <dir|file>', 'also read this directory or file (repeatable)').argParser(collect);
}
export function kubeconfigOption() {
  return new Option('--kubeconfig <file>', 'also read this kubeconfig (repeatable)').argParser(collect);
}

export function resolveNow(text: string | undefined): Date {
  try {
    return parseNow(text, () => new Date());
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

export function resolveLayouts(text: string | undefined): LayoutName[] | undefined {
  if (!text) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!ALL_LAYOUTS.includes(n as LayoutName)) throw new UserError(`--layout ${JSON.stringify(n)} is not a layout kubepki knows`, `use one or more of ${ALL_LAYOUTS.join(', ')}`);
  }
  return names as LayoutName[];
}

/**
 * Paths given on the command line are host paths; the inventory works in node
 * paths. Under --root, an absolute path is taken as a node path (as the user
 * sees it on the node) unless it is a host path inside the root; a relative one
 * is relative to the working directory when that is inside the root, and to the
 * root otherwise (`--root node etc/kubernetes/admin.conf`).
 */
export function toNodePaths(fs: NodeFs, paths: string[] | undefined, cwd: string): string[] {
  const inRoot = (host: string) => host === fs.root || host.startsWith(fs.root + '/');
  return (paths ?? []).map((p) => {
    if (fs.root === '/') return resolve(cwd, p);
    if (inRoot(p)) return fs.nodePath(p);
    if (p.startsWith('/')) return p;
    const host = resolve(cwd, p);
    return inRoot(host) ? fs.nodePath(host) : `/${p}`;
  });
}

export function openNode(o: NodeOptions): NodeFs {
  return openRoot(o.root);
}

/** The flags of every command that reads a node: --root, --warn, --now, --layout, --path, --kubeconfig. */
export function addNodeReadOptions(cmd: Command): Command {
  return cmd.addOption(rootOption()).addOption(warnOption()).addOption(nowOption()).addOption(layoutOption()).addOption(pathOption()).addOption(kubeconfigOption());
}

/** Those flags, validated, as readInventory takes them (all but `now`). */
export function nodeReadInputs(o: NodeOptions, cwd: string): Omit<ReadOptions, 'now'> {
  const layouts = resolveLayouts(o.layout);
  parseThresholdOrThrow(o.warn);
  const fs = openNode(o);
  const paths = toNodePaths(fs, o.path, cwd);
  const kubeconfigs = toNodePaths(fs, o.kubeconfig, cwd);
  // a path the user typed that is not there is a usage error (exit 3), not a broken node (exit 2)
  for (const [flag, list] of [['--path', paths], ['--kubeconfig', kubeconfigs]] as const) {
    for (const p of list) {
      if (fs.lstat(p)) continue;
      throw new UserError(`${flag} ${p} does not exist${fs.root === '/' ? '' : ` under --root ${fs.root}`}`, fs.root === '/' ? 'check the path' : 'with --root, paths are read inside the tree: give the path as it is on the node');
    }
  }
  // (kubectl --kubeconfig DIR refuses it too; read as a --path, a directory of kubeconfigs passed as one)
  for (const p of kubeconfigs) {
    if (fs.stat(p)?.isDirectory()) throw new UserError(`--kubeconfig ${p} is a directory${fs.root === '/' ? '' : ` under --root ${fs.root}`}`, `give a kubeconfig file, or --path ${p} to read every file in it`);
  }
  // (the --now as typed: the commands the inventory's Next suggests carry it, ReadOptions.nowGiven)
  return { fs, warn: o.warn, layouts, paths, kubeconfigs, ...(o.now === undefined ? {} : { nowGiven: o.now }) };
}

/** A tree with nothing kubepki recognises is a usage error, not a healthy node. */
export function requireSomething(inv: Inventory, root: string): void {
  if (inv.certificates.length === 0 && inv.missing.length === 0 && inv.findings.length === 0) {
    throw new UserError(`no certificates found under ${root}`, 'pass --root DIR pointing at a node tree (with etc/kubernetes, var/lib/rancher, var/lib/k0s, var/snap/microk8s, var/lib/minikube or srv/kubernetes inside), or --path DIR');
  }
}

/**
 * Write a file a flag names (--out, --secret-out) that must be new: the write itself refuses to replace one
 * that is there (however recently made; an existsSync check first would overwrite one made in between), whole,
 * with MODE, fsynced. `replace` (--force): write over it.
 */
export async function writeOutFile(file: string, content: string, mode: number, o: { replace?: boolean | undefined; hint: string }): Promise<void> {
  const { writeFileAtomic } = await import('../apply/transaction.js');
  try {
    writeFileAtomic(file, content, mode, { create: !o.replace });
  } catch (e) {
    // (--force cannot write over a directory: the hint that says to pass it would only lead to EISDIR)
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !o.replace) throw outFileTaken(file, o.hint) ?? e;
    throw e;
  }
}

/**
 * The refusal of an output FILE that is there already: a directory (which --force cannot write over either), or a
 * file not to be replaced (`hint` says what to do); undefined when nothing is there.
 */
export function outFileTaken(file: string, hint: string): UserError | undefined {
  if (!lstatSync(file, { throwIfNoEntry: false })) return undefined;
  return isDirectory(file) ? new UserError(`failed to write ${file}: it is a directory`, 'give the path of a file to write') : new UserError(`failed to write ${file}: it exists`, hint);
}

function isDirectory(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/**
 * Another command's spelling of an option this command spells its own way (rebuild's and serve's `--node-name` for
 * kubelet credentials' `--node`): hidden from --help, and stored as the option it stands for (`of`, its attribute
 * name), so the two are one option (the last given wins, as for a flag given twice; a required one is satisfied).
 */
export function aliasOption(flags: string, of: string): Option {
  const o = new Option(flags).hideHelp();
  o.attributeName = () => of;
  return o;
}

/**
 * The hidden `--kubeconfig FILE` of a command whose kubeconfig for the API rides on an optional value
 * (`join --apply [kubeconfig]`, `rebuild --apply-cluster [kubeconfig]`), as csr, token, cluster-info and sa refresh
 * spell it: `--apply --kubeconfig FILE` is `--apply FILE`. Alone it says nothing about whether to write into the
 * cluster, so it is refused rather than taken for `--apply`.
 */
export const kubeconfigAliasOption = (): Option => new Option('--kubeconfig <file>').hideHelp();

/** `flag`'s value with the hidden --kubeconfig folded in (kubeconfigAliasOption). */
export function withKubeconfigAlias(value: string | boolean | undefined, kubeconfig: string | undefined, flag: string, cwd: string): string | boolean | undefined {
  if (kubeconfig === undefined) return value;
  if (!value) throw new UserError(`--kubeconfig goes with ${flag}: it names the kubeconfig ${flag} reaches the cluster with`, `${flag} --kubeconfig ${kubeconfig} (the same as ${flag} ${kubeconfig})`);
  if (typeof value === 'string' && resolve(cwd, value) !== resolve(cwd, kubeconfig)) throw new UserError(`${flag} ${value} and --kubeconfig ${kubeconfig} name two kubeconfigs`, `give one of them`);
  return kubeconfig;
}

/** --servername and --timeout of commands that connect to a TLS endpoint (probe, inspect https://). */
export function tlsOptions(): Option[] {
  return [new Option('--servername <name>', 'TLS SNI name to send (default: the host, when it is a name)'), new Option('--timeout <seconds>', 'handshake timeout').default('5')];
}

/** --timeout's seconds as milliseconds; a one-line error for anything but a number of seconds in (0, 3600]. */
export function timeoutMs(text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(seconds > 0) || seconds > 3600) throw new UserError(`--timeout ${JSON.stringify(text)} is not a number of seconds between 0 and 3600`, 'e.g. --timeout 5');
  return seconds * 1000;
}

/** --certificate-key (kubeadm's: 64 hex digits, an AES-256 key): its bytes, or the flag's one-line refusal with `hint`. */
export async function certificateKeyFlag(key: string, hint: string): Promise<Buffer> {
  const { parseCertificateKey, CertificateKeyError } = await import('../pki/upload-certs.js');
  try {
    return parseCertificateKey(key);
  } catch (e) {
    if (e instanceof CertificateKeyError) throw new UserError(`--certificate-key: ${e.message}`, hint);
    throw e;
  }
}
