import { isUtf8 } from 'node:buffer';
import { posix } from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import { splitFlag } from './flags.js';

/**
 * A systemd service as systemd starts it, read from a node tree: which command line it runs and with which
 * environment. Only what names files matters here (Kubernetes the Hard Way, kubespray's host-mode etcd,
 * hand-made installs keep their components' flags in units), so specifiers beyond the unit's own name and
 * the manager's environment are not known.
 */
export interface SystemdService {
  /** the file whose ExecStart= is in effect */
  source: string;
  /** that ExecStart= split into words and expanded as systemd does when it starts the unit */
  argv: string[];
  /** the unit's Environment= and EnvironmentFile= variables, each with the file that set it */
  env: Map<string, { value: string; source: string }>;
  /** the environment files it read, in order */
  envFiles: string[];
  /**
   * the directory it starts in, against which it resolves a relative path: WorkingDirectory=, `/` without one
   * (a system unit's default); undefined when the tree does not say (`~` of a user other than root, a specifier)
   */
  workingDirectory: string | undefined;
}

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/**
 * The unit file from the first directory that has it (a masked one, linked to /dev/null, runs nothing), then
 * its drop-ins in name order, the last ExecStart winning (an empty `ExecStart=` clears it). Comment lines
 * inside a continued line are skipped, as systemd does. Undefined when nothing would run.
 */
export function readSystemdService(fs: NodeFs, name: string): SystemdService | undefined {
  // (a directory where a unit file could be is no unit: systemd goes on to the next directory)
  const main = UNIT_DIRS.map((d) => `${d}/${name}`).find((f) => { const l = fs.lstat(f); return l && !l.isDirectory(); });
  if (!main) return undefined;
  const st = fs.stat(main);
  if (!st?.isFile() || st.size === 0) return undefined; // masked
  // drop-ins: one list across the directories, in file-name order; a name in an earlier (higher-priority)
  // directory hides the same name in a later one (`systemctl edit` writes /etc/…/override.conf, packages
  // put 10-kubeadm.conf in /usr/lib/…)
  const dropIns = new Map<string, string>();
  for (const d of UNIT_DIRS) {
    for (const e of fs.readDir(`${d}/${name}.d`)) if (e.name.endsWith('.conf') && !dropIns.has(e.name)) dropIns.set(e.name, `${d}/${name}.d/${e.name}`);
  }
  const files = [main, ...[...dropIns.keys()].sort().map((n) => dropIns.get(n)!)];
  let exec: { line: string; source: string } | undefined;
  // Environment= and EnvironmentFile= accumulate over the unit and its drop-ins; an empty one resets its list
  let assignments: { key: string; value: string; source: string }[] = [];
  let envFiles: string[] = [];
  let workingDirectory = '';
  let user = '';
  for (const file of files) {
    let text: string;
    try { text = fs.readFile(file).toString('utf8'); } catch { continue; }
    const lines = unitLines(text);
    for (const m of lines.matchAll(/^[ \t]*(ExecStart|Environment|EnvironmentFile|WorkingDirectory|User)[ \t]*=[ \t]*(.*)$/gm)) {
      const value = specifiers(m[2]!.trim(), name);
      if (m[1] === 'ExecStart') exec = value ? { line: value, source: file } : undefined;
      else if (m[1] === 'WorkingDirectory') workingDirectory = value;
      else if (m[1] === 'User') user = value;
      else if (m[1] === 'Environment') {
        if (!value) { assignments = []; continue; }
        for (const word of splitWords(value, true)) {
          const eq = word.indexOf('=');
          if (eq > 0 && ENV_NAME.test(word.slice(0, eq))) assignments.push({ key: word.slice(0, eq), value: word.slice(eq + 1), source: file });
        }
      } else if (!value) envFiles = [];
      else if (value.replace(/^-/, '').startsWith('/')) envFiles.push(value.replace(/^-/, ''));
    }
  }
  if (!exec) return undefined;
  // EnvironmentFile= wins over Environment= whatever their order, a later file over an earlier one (systemd.exec(5))
  const env = new Map<string, { value: string; source: string }>();
  for (const a of assignments) env.set(a.key, { value: a.value, source: a.source });
  const read: string[] = [];
  for (const f of envFiles) {
    for (const path of globNode(fs, f)) {
      let bytes: Buffer;
      try { bytes = fs.readFile(path); } catch { continue; } // missing: see globNode
      // systemd drops an assignment whose key or value is not UTF-8 (a comment may be anything): the bytes
      // decoded leniently, an assignment holding a replacement character is one of those
      const utf8 = isUtf8(bytes);
      const text = bytes.toString('utf8');
      read.push(path);
      for (const [key, value] of parseEnvironmentFile(text)) {
        if (!ENV_NAME.test(key) || (!utf8 && (key + value).includes('\ufffd'))) continue;
        env.set(key, { value, source: path });
      }
    }
  }
  // `ExecStart=-:/usr/bin/x …`: the prefixes before the path; `:` turns variable expansion off
  const [first, ...rest] = splitWords(exec.line, true);
  const prefix = /^[-@:+!|]*/.exec(first ?? '')![0];
  const words = [(first ?? '').slice(prefix.length), ...rest];
  const vars = new Map([...env].map(([k, v]) => [k, v.value]));
  return { source: exec.source, argv: prefix.includes(':') ? words : [words[0]!, ...expandArgv(words.slice(1), vars)], env, envFiles: read, workingDirectory: startDirectory(fs, workingDirectory, user) };
}

/**
 * The directory a system unit's process starts in (systemd.exec(5) WorkingDirectory=): `/` when unset (or set
 * empty), `~` the home of User= (root's, /root, without one), a `-` prefix letting a missing directory go
 * (the process then stays in `/`). Undefined for what the tree cannot settle.
 */
function startDirectory(fs: NodeFs, value: string, user: string): string | undefined {
  const dir = value.replace(/^-/, '');
  if (dir === '') return '/';
  if (dir === '~') return user === '' || user === 'root' || user === '0' ? '/root' : undefined;
  if (!dir.startsWith('/') || dir.includes('%')) return undefined;
  return value.startsWith('-') && !fs.exists(dir) ? '/' : posix.normalize(dir);
}

/**
 * A unit file's text as systemd reads its settings: comment lines dropped (also inside a continued line), a
 * line ending in a backslash continued on the next.
 */
export function unitLines(text: string): string {
  return text.split(/\r?\n/).filter((l) => !/^[ \t]*[#;]/.test(l)).join('\n').replace(/\\\n/g, ' ');
}

/**
 * A command line's `--flag=value` and `--flag value` options, in order (a bare `--flag` followed by another
 * option has no value): what the component sees, the last of a flag given twice winning.
 */
export function argvFlags(argv: string[]): { flag: string; value?: string }[] {
  const out: { flag: string; value?: string }[] = [];
  for (let i = 1; i < argv.length; i++) {
    const f = splitFlag(argv[i]!);
    if (!f) continue;
    let value = f.value;
    if (value === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    out.push({ flag: f.flag, ...(value !== undefined ? { value } : {}) });
  }
  return out;
}

/** A variable name as systemd accepts one (it follows bash). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The specifiers a unit's own name settles (`%n`, `%N`, `%p`, `%i`, `%%`): Debian's etcd.service reads
 * `EnvironmentFile=-/etc/default/%p`. Others depend on the running host and are left as written.
 */
function specifiers(value: string, unit: string): string {
  const base = unit.replace(/\.[^.]*$/, '');
  const at = base.indexOf('@');
  const map: Record<string, string> = { n: unit, N: base, p: at < 0 ? base : base.slice(0, at), i: at < 0 ? '' : base.slice(at + 1), '%': '%' };
  return value.replace(/%(.)/g, (m, c: string) => map[c] ?? m);
}

/**
 * Words as systemd's extract_first_word() takes them apart with EXTRACT_UNQUOTE (quotes anywhere in a word,
 * removed) and, for unit settings, EXTRACT_CUNESCAPE (C escapes: `\n`, `\x41`, `\s` for a space…).
 */
export function splitWords(text: string, cunescape: boolean): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const [ch, used] = cunescape ? unescapeOne(text, i + 1) : [text[i + 1]!, 1];
      word = (word ?? '') + ch;
      i += used;
    } else if (quote) {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (' \t\n\r'.includes(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

/** One C escape after a backslash at `i`: the character it stands for and how many characters it took. */
function unescapeOne(text: string, i: number): [string, number] {
  const c = text[i]!;
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', s: ' ' };
  if (c in simple) return [simple[c]!, 1];
  const hex = /^(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))/.exec(text.slice(i));
  if (hex) {
    const code = hex[4] ? parseInt(hex[4], 8) : parseInt((hex[1] ?? hex[2] ?? hex[3])!, 16);
    return [String.fromCodePoint(code), hex[0].length];
  }
  return [c, 1]; // `\\`, `\"`, `\'`; systemd refuses other escapes, we keep the character
}

/**
 * systemd's replace_env_argv(): a word that is `$NAME` becomes the variable's value split at whitespace (quotes
 * respected, then removed), zero or more words; `${NAME}` anywhere in a word becomes the value as it is, inside
 * that one word; `$$` is a `$`. Unset variables (and invalid names) expand to nothing. `$NAME` inside a longer
 * word and `${NAME:-default}` are not expanded: systemd leaves them as written.
 */
export function expandArgv(words: string[], env: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const word of words) {
    if (word.startsWith('$') && word[1] !== '{' && word[1] !== '$') {
      const name = word.slice(1);
      const value = ENV_NAME.test(name) ? env.get(name) : undefined;
      if (value !== undefined) out.push(...splitWords(value, false));
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([^}:]*)\}/g, (m, name: string | undefined) => (name === undefined ? '$' : ENV_NAME.test(name) ? env.get(name) ?? '' : '')));
  }
  return out;
}

/**
 * An EnvironmentFile= as systemd reads it (parse_env_file_internal): `KEY=VALUE` lines, `#` or `;` comments at
 * the start of a line, whitespace around keys and unquoted values dropped, `'…'` verbatim, `"…"` with shell
 * escapes, a backslash at the end of a line continuing it. No variable expansion. Later keys win; keys are
 * returned as written (systemd drops invalid ones, `export FOO`, when it starts the unit).
 */
export function parseEnvironmentFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEscape' | 'single' | 'double' | 'doubleEscape' | 'comment' | 'commentEscape';
  let state: State = 'preKey';
  let key = '';
  let value = '';
  // where trailing whitespace of the key / an unquoted value starts, or -1
  let keyWs = -1;
  let valueWs = -1;
  const push = () => {
    if (keyWs >= 0) key = key.slice(0, keyWs);
    out.set(key, value);
    key = '';
    value = '';
  };
  for (const c of text) {
    const newline = c === '\n' || c === '\r';
    const space = c === ' ' || c === '\t' || newline;
    switch (state) {
      case 'preKey':
        if (c === '#' || c === ';') state = 'comment';
        else if (!space) { state = 'key'; key = c; keyWs = -1; }
        break;
      case 'key':
        if (newline) { state = 'preKey'; key = ''; } else if (c === '=') { state = 'preValue'; valueWs = -1; } else {
          if (!space) keyWs = -1;
          else if (keyWs < 0) keyWs = key.length;
          key += c;
        }
        break;
      case 'preValue':
        if (newline) { state = 'preKey'; push(); } else if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '\\') state = 'valueEscape';
        else if (!space) { state = 'value'; value += c; }
        break;
      case 'value':
        if (newline) {
          state = 'preKey';
          if (valueWs >= 0) value = value.slice(0, valueWs);
          push();
        } else if (c === '\\') { state = 'valueEscape'; valueWs = -1; } else {
          if (!space) valueWs = -1;
          else if (valueWs < 0) valueWs = value.length;
          value += c;
        }
        break;
      case 'valueEscape':
        state = 'value';
        if (!newline) value += c; // an escaped newline continues the line
        break;
      case 'single':
        if (c === "'") state = 'preValue';
        else value += c;
        break;
      case 'double':
        if (c === '"') state = 'preValue';
        else if (c === '\\') state = 'doubleEscape';
        else value += c;
        break;
      case 'doubleEscape':
        state = 'double';
        if ('"\\`$'.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`; // kept, as a shell does
        break;
      case 'comment':
        if (c === '\\') state = 'commentEscape';
        else if (newline) state = 'preKey';
        break;
      case 'commentEscape':
        state = newline ? 'preKey' : 'comment';
        break;
    }
  }
  if (state === 'value' && valueWs >= 0) value = value.slice(0, valueWs);
  if (['preValue', 'value', 'valueEscape', 'single', 'double', 'doubleEscape'].includes(state)) push();
  return out;
}

/**
 * The files an EnvironmentFile= path names inside the tree: systemd takes it as a glob(3) pattern (`*`, `?`,
 * `[…]` in any component, sorted, a leading dot matched only by a dot). Missing files are left out: a
 * `-`-prefixed one is ignored by systemd too, one without makes it refuse to start the unit, which is not ours
 * to report here, and the flags it would have run with are still the best guess of what it reads.
 */
function globNode(fs: NodeFs, pattern: string): string[] {
  let paths = ['/'];
  for (const part of pattern.split('/').filter(Boolean)) {
    if (!/[*?[]/.test(part)) { paths = paths.map((p) => `${p === '/' ? '' : p}/${part}`); continue; }
    let re: RegExp;
    // (a pattern glob(3) cannot read, `etcd[` or `[z-a]`, names only the file of that exact name)
    try { re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`); } catch { re = { test: (n: string) => n === part } as RegExp; }
    paths = paths.flatMap((p) => fs.readDir(p).map((e) => e.name).filter((n) => re.test(n) && (!n.startsWith('.') || part.startsWith('.'))).sort().map((n) => `${p === '/' ? '' : p}/${n}`));
  }
  return paths;
}
