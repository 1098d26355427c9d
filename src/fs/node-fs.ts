// (named imports: a namespace import of a built-in costs a copy of all its properties in the CLI bundle)
import { accessSync, constants, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Dirent, type Stats } from 'node:fs';
import { posix, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';

/**
 * A node's filesystem seen through `--root`. Every path kubepki handles is a
 * *node path* (absolute, as on the node: `/etc/kubernetes/pki/ca.crt`); this
 * class maps it to a host path under the root. Symlinks are resolved inside
 * the root: an absolute link target (`/var/lib/kubelet/pki/kubelet-client-…pem`,
 * as the kubelet writes them) is re-rooted, never followed on the host.
 */
export class NodeFs {
  readonly root: string;
  constructor(root = '/') {
    this.root = resolve(root);
  }

  /**
   * Host path of a node path, to lstat, read, write, rename or unlink: links in its directories are resolved
   * inside the root (the host kernel would follow an absolute one, `pki/etcd -> /srv/etcd`, out of it); the
   * last component is kept as it is.
   */
  hostPath(nodePath: string): string {
    return this.hostPathOfReal(this.parentResolved(nodePath));
  }

  /** Host path of a node path whose directories are already resolved (what `realNodePath` returns). */
  hostPathOfReal(nodePath: string): string {
    return remembered(this.hosts, nodePath) ?? remember(this.hosts, nodePath, () => {
      const clean = normalNodePath(nodePath);
      // (the root is resolved: no trailing slash, no dot segments; `clean` neither)
      return this.root === '/' ? clean : this.root + clean;
    });
  }

  /** Node path of a host path that lies under the root. */
  nodePath(hostPath: string): string {
    const rel = relative(this.root, resolve(hostPath));
    if (rel.startsWith('..')) return resolve(hostPath);
    return '/' + rel.split(sep).join('/');
  }

  /**
   * Resolve every symlink of a node path inside the root. Returns the final
   * node path. Throws `SymlinkLoopError` after 40 hops (as the kernel does).
   */
  realNodePath(nodePath: string): string {
    return remembered(this.reals, nodePath) ?? remember(this.reals, nodePath, () => this.resolveNodePath(nodePath));
  }

  private resolveNodePath(nodePath: string): string {
    const clean = normalNodePath(nodePath);
    // `at`: the real node path resolved so far ('' for the root), one string grown a component at a time. A path
    // in a directory already known to be plain (nearly every file a check reads) starts from that directory:
    // its components would all be found in plainDirs again, at the cost of a string for each.
    const slash = clean.lastIndexOf('/');
    const dir = clean.slice(0, slash);
    let at = '';
    let parts: string[];
    if (slash > 0 && this.plainDirs?.has(dir)) {
      at = dir;
      parts = [clean.slice(slash + 1)];
    } else parts = clean.split('/').filter(Boolean);
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      if (part === '.') continue;
      if (part === '..') { at = at.slice(0, at.lastIndexOf('/')); continue; }
      const candidate = `${at}/${part}`;
      if (this.plainDirs?.has(candidate)) { at = candidate; continue; }
      let st: Stats;
      try {
        st = this.lstatHost(candidate);
      } catch {
        // Missing component: the rest cannot be resolved further.
        const missing = parts.length > 0 ? `${candidate}/${parts.join('/')}` : candidate;
        if (this.lstats?.get(candidate) === NO_ENTRY) this.absent?.add(missing);
        return missing;
      }
      const target = this.linkTargetOf(candidate, st);
      if (target !== undefined) {
        if (++hops > 40) throw new SymlinkLoopError(nodePath);
        const targetParts = target.split('/').filter(Boolean);
        if (target.startsWith('/')) at = '';
        parts = [...targetParts, ...parts];
      } else {
        if (st.isDirectory()) this.plainDirs?.add(candidate);
        at = candidate;
      }
    }
    return at || '/';
  }

  /** Directories known to be plain (no link) during one read; see `snapshot`. */
  private plainDirs?: Set<string>;
  /** Real node paths found not to exist (a component is missing) during one read: nothing is under them. */
  private absent?: Set<string>;

  /**
   * The same root with a memory of directories already resolved: one read of a
   * big tree resolves each directory once instead of once per file. Use one
   * snapshot per read, so later changes to the tree are seen by the next read.
   */
  snapshot(): NodeFs {
    // keep the subclass (tests trace reads through one)
    const n = new (this.constructor as new (root: string) => NodeFs)(this.root);
    n.plainDirs = new Set();
    n.absent = new Set();
    n.lstats = new Map();
    n.reals = new Map();
    n.links = new Map();
    n.hosts = new Map();
    n.parents = new Map();
    n.facts = new Map();
    return n;
  }

  /**
   * `make()`, made once per read when this is a snapshot (always made again otherwise, so a NodeFs kept across
   * changes to the tree never answers from before them): facts several passes of one read ask for, such as
   * which kubelet config file the kubelet reads.
   */
  perRead<T>(key: string, make: () => T): T {
    return remember(this.facts, key, make) as T;
  }

  /**
   * Target of a link: a real symlink, or a git checkout's stand-in for one
   * (`core.symlinks=false` writes a small regular file holding the target path,
   * which is how copied trees often arrive).
   */
  private linkTargetOf(nodePath: string, st: Stats): string | undefined {
    return remember(this.links, nodePath, () => this.readLinkTarget(nodePath, st));
  }

  private readLinkTarget(nodePath: string, st: Stats): string | undefined {
    if (st.isSymbolicLink()) return readlinkSync(this.hostPathOfReal(nodePath));
    if (!st.isFile() || st.size === 0 || st.size > 512) return undefined;
    let text: string;
    try { text = readFileSync(this.hostPathOfReal(nodePath), 'utf8'); } catch { return undefined; }
    if (!/^\/[^\s\0]+$/.test(text) || text === nodePath) return undefined;
    return existsSync(this.hostPathOfReal(text)) ? text : undefined;
  }

  /** Whether a node path is a link (symlink or git stand-in), and to what. */
  linkTarget(nodePath: string): string | undefined {
    let p: string;
    try { p = this.parentResolved(nodePath); } catch { return undefined; }
    const st = this.lstat(p);
    return st ? this.linkTargetOf(p, st) : undefined;
  }

  /** lstat of the path itself, its parent directories resolved inside the root (never followed on the host). */
  lstat(nodePath: string): Stats | undefined {
    try { return this.lstatHost(this.parentResolved(nodePath)); } catch { return undefined; }
  }

  /**
   * The node path with every link in its directories resolved inside the root, the last component kept as
   * it is: what lstat and readlink must be given, since the host kernel would follow an absolute link in a
   * parent (`pki/etcd -> /srv/etcd`) outside the root.
   */
  private parentResolved(nodePath: string): string {
    return remembered(this.parents, nodePath) ?? remember(this.parents, nodePath, () => this.resolveParent(nodePath));
  }

  private resolveParent(nodePath: string): string {
    const clean = normalNodePath(nodePath);
    // (on the node itself the kernel resolves links as the node does)
    if (clean === '/' || this.root === '/') return clean;
    const dir = posix.dirname(clean);
    const real = dir === '/' ? '/' : this.realNodePath(dir);
    return real === dir ? clean : posix.join(real, posix.basename(clean));
  }

  /** lstat, remembered for the life of a snapshot (a read asks about each file several times). */
  private lstatHost(nodePath: string): Stats {
    const st = remembered(this.lstats, nodePath) ?? remember<string, Stats | Error>(this.lstats, nodePath, () => {
      // a missing path is common (a check looks for every layout's files): no Error object built for it, and
      // no system call for one in a directory found missing (a check asks for two dozen systemd units and config
      // files in directories most nodes do not have)
      if (this.absent?.has(nodePath.slice(0, nodePath.lastIndexOf('/')))) return NO_ENTRY;
      try { return lstatSync(this.hostPathOfReal(nodePath), { throwIfNoEntry: false }) ?? NO_ENTRY; } catch (e) { return e as Error; }
    });
    if (st instanceof Error) throw st;
    return st;
  }

  private lstats?: Map<string, Stats | Error>;
  /** node path → real node path, and path → link target, during one snapshot */
  private reals?: Map<string, string>;
  private links?: Map<string, string | undefined>;
  private hosts?: Map<string, string>;
  private parents?: Map<string, string>;
  private facts?: Map<string, unknown>;

  stat(nodePath: string): Stats | undefined {
    try {
      const real = this.realNodePath(nodePath);
      // in a snapshot the real path's lstat is known, and for what is not a link it is the stat
      const st = this.lstats?.get(real);
      if (st === NO_ENTRY) return undefined;
      if (st !== undefined && !(st instanceof Error) && !st.isSymbolicLink()) return st;
      return statSync(this.hostPathOfReal(real), { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  }

  exists(nodePath: string): boolean {
    return this.lstat(nodePath) !== undefined;
  }

  readFile(nodePath: string): Buffer {
    return readFileSync(this.hostPathOfReal(this.realNodePath(nodePath)));
  }

  readLink(nodePath: string): string | undefined {
    try { return readlinkSync(this.hostPathOfReal(this.parentResolved(nodePath))); } catch { return undefined; }
  }

  /** The entries of a directory; [] when it cannot be listed (`onError` is told why, e.g. EACCES). */
  readDir(nodePath: string, onError?: (e: NodeJS.ErrnoException) => void): Dirent[] {
    try {
      return readdirSync(this.hostPathOfReal(this.realNodePath(nodePath)), { withFileTypes: true });
    } catch (e) {
      onError?.(e as NodeJS.ErrnoException);
      return [];
    }
  }

  isDir(nodePath: string): boolean {
    return this.stat(nodePath)?.isDirectory() ?? false;
  }
}

/** What `lstatHost` throws for a path that does not exist (ENOENT, ENOTDIR). */
const NO_ENTRY: Error = Object.assign(new Error('no such file or directory'), { code: 'ENOENT' });

/**
 * `posix.normalize('/' + p)`, without its cost for a path that is already plain (absolute, no empty, `.` or
 * `..` segment, no trailing slash): nearly every path kubepki asks about, hundreds of times a check.
 */
function normalNodePath(p: string): string {
  return p.length > 1 && p.charCodeAt(0) === 0x2f && !p.endsWith('/') && !p.includes('//') && !p.includes('/.') ? p : posix.normalize('/' + p);
}

/** `make()`, kept in `map` when there is one (a snapshot) so it is made once per key. */
export function remember<K, V>(map: Map<K, V> | undefined, key: K, make: () => V): V {
  if (!map) return make();
  if (map.has(key)) return map.get(key) as V;
  const v = make();
  map.set(key, v);
  return v;
}

/** What `remember` keeps for a key, if it does: a check asks for the same few paths hundreds of times, and a hit found here makes no closure for `make`. */
function remembered<V>(map: Map<string, V> | undefined, key: string): V | undefined {
  return map?.get(key);
}

export class SymlinkLoopError extends Error {
  constructor(p: string) {
    super(`too many levels of symbolic links at ${p}`);
    this.name = 'SymlinkLoopError';
  }
}

/**
 * The host path of a file on the node tree under `root`, every link resolved inside the tree (admin.conf
 * under --root when /etc/kubernetes is an absolute link, say): for code that hands a path to a library.
 */
export function hostFileIn(root: string, nodePath: string): string {
  const nfs = new NodeFs(root);
  try { return nfs.hostPathOfReal(nfs.realNodePath(nodePath)); } catch { return nfs.hostPath(nodePath); }
}

const deniedRoot = (r: string) => new UserError(`failed to open --root ${r}: permission denied`, 'run kubepki as root (sudo), or give a tree this user may read');

/** Root a user gave: must be a readable directory. */
export function openRoot(root: string | undefined): NodeFs {
  const r = resolve(root ?? '/');
  let st: Stats;
  try {
    st = statSync(r);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') throw deniedRoot(r);
    throw new UserError(`failed to open --root ${r}: no such directory`, 'pass the directory that holds the node tree (the one with etc/ and var/ inside)');
  }
  if (!st.isDirectory()) throw new UserError(`failed to open --root ${r}: not a directory`, 'pass a directory, not a file');
  // A tree this user may not list reads as an empty one: check said "no certificates found", inspect "no such
  // file", backups "No backups" (exit 0), rebuild "nothing left on the node says" the node name.
  try { accessSync(r, constants.R_OK | constants.X_OK); } catch { throw deniedRoot(r); }
  return new NodeFs(r);
}
