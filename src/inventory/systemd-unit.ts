import type { NodeFs } from '../fs/node-fs.js';

/**
 * A systemd service as systemd starts it, read from a node tree: which command line it runs. Only what names
 * files matters here (Kubernetes the Hard Way and hand-made installs keep their components' flags in units).
 */
export interface SystemdService {
  /** the file whose ExecStart= is in effect */
  source: string;
  /** that ExecStart= split into words as systemd does */
  argv: string[];
}

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/**
 * The unit file from the first directory that has it (a masked one, linked to /dev/null, runs nothing), then
 * its drop-ins in name order, the last ExecStart winning (an empty `ExecStart=` clears it). Comment lines
 * inside a continued line are skipped, as systemd does. Undefined when nothing would run.
 */
export function readSystemdService(fs: NodeFs, name: string): SystemdService | undefined {
  const main = UNIT_DIRS.map((d) => `${d}/${name}`).find((f) => fs.lstat(f));
  if (!main) return undefined;
  const st = fs.stat(main);
  if (!st?.isFile() || st.size === 0) return undefined; // masked
  const files = [main];
  for (const d of UNIT_DIRS) files.push(...fs.readDir(`${d}/${name}.d`).filter((e) => e.name.endsWith('.conf')).map((e) => `${d}/${name}.d/${e.name}`).sort());
  let exec: { line: string; source: string } | undefined;
  for (const file of files) {
    let text: string;
    try { text = fs.readFile(file).toString('utf8'); } catch { continue; }
    const lines = text.split(/\r?\n/).filter((l) => !/^[ \t]*[#;]/.test(l)).join('\n').replace(/\\\n/g, ' ');
    for (const m of lines.matchAll(/^[ \t]*ExecStart[ \t]*=[ \t]*(.*)$/gm)) {
      const value = m[1]!.trim();
      exec = value ? { line: value, source: file } : undefined;
    }
  }
  if (!exec) return undefined;
  // `ExecStart=-/usr/bin/x …`: the prefixes before the path
  const [first, ...rest] = splitWords(exec.line, true);
  const prefix = /^[-@:+!|]*/.exec(first ?? '')![0];
  return { source: exec.source, argv: [(first ?? '').slice(prefix.length), ...rest] };
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
