import { createRequire } from 'node:module';

type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | undefined;
/**
 * The yaml library, loaded on first need: `check` on a machine-written node
 * never needs it, and loading it costs ~15 ms of start-up. (A created require
 * is not bundled by esbuild, so the library stays out of the CLI's start-up chunk.)
 */
function yaml(): YamlLib {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}
// logLevel 'error': a node's arbitrary YAML ("keys with collection values will be stringified") must not
// print process warnings in the middle of check's output
const parseYaml = (text: string, uniqueKeys = true): unknown => yaml().parse(text, { logLevel: 'error', uniqueKeys });
const parseAllDocuments = (text: string) => yaml().parseAllDocuments(text, { logLevel: 'error' });

/**
 * YAML as Go's gopkg.in/yaml.v2 reads it, which is how sigs.k8s.io/yaml (every Kubernetes component's
 * config loader) turns YAML into JSON: YAML 1.1, where a plain `no`, `off` or `y` is a boolean and a
 * quoted "false" a string. The library itself, always: the fast reader cannot tell `no` from "no".
 */
export const parseYaml11 = (text: string): unknown => yaml().parse(text, { logLevel: 'error', uniqueKeys: false, version: '1.1' });

/**
 * YAML as machines write it, read fast. Kubeconfigs, static pod manifests and
 * kubelet configs on a node are written by Go's yaml libraries: block mappings
 * and sequences, plain or simply quoted scalars, no anchors, tags, flow
 * collections or multi-line scalars. `check` reads a dozen such files, and the
 * full `yaml` parser costs several milliseconds for each while its code is still
 * cold. This reader handles exactly that subset and gives up (returns
 * undefined) on anything else, in which case `parseYamlFast` hands the text to
 * the `yaml` library — so results are always the library's (core schema, YAML
 * 1.2), only sooner. test/fast-yaml.test.ts checks that claim differentially.
 */
export function parseYamlFast(text: string, o: { uniqueKeys?: boolean } = {}): unknown {
  const fast = memoSimple(text);
  // (a key twice is not in the simple subset: with uniqueKeys false the library keeps the last, as Go's lenient decoders do)
  return fast ? fast.value : parseYaml(text, o.uniqueKeys ?? true);
}

/**
 * `check` reads a kubeconfig once for its certificates and again for the files
 * a component's kubeconfig points at, and the apiserver manifest for its flags
 * and for its advertise address: the fast results of the last few texts are
 * kept, frozen as the parser makes them (every mapping and sequence), since every reader only looks.
 */
const memo = new Map<string, { value: unknown } | undefined>();
function memoSimple(text: string): { value: unknown } | undefined {
  if (memo.has(text)) return memo.get(text);
  const fast = parseSimpleYaml(text);
  if (text.length > 256 * 1024) return fast;
  if (memo.size >= 32) memo.delete(memo.keys().next().value!);
  memo.set(text, fast);
  return fast;
}

/**
 * Every document of a multi-document text (`---` between them), as
 * `parseAllDocuments(text).map((d) => d.toJS())` gives them — fast when every
 * document is in the simple subset, else exactly that.
 */
export function parseAllYamlFast(text: string): unknown[] {
  // (a split by a multiline regexp tries it at every position of the text: most files have no marker at all)
  const marked = text.startsWith('---') || text.includes('\n---');
  // (a multiline split also breaks lines at U+2028/U+2029, which YAML 1.2 does not: such a text goes to the library)
  if (marked && (text.includes('\u2028') || text.includes('\u2029'))) return Array.from(parseAllDocuments(text), (d) => d.toJS() as unknown);
  const parts = marked ? text.split(/^---[ ]*$/m) : [text];
  if (parts.length > 1 && parts[0]!.trim() === '') parts.shift();
  const out: unknown[] = [];
  for (const part of parts) {
    const fast = part.trim() === '' ? undefined : memoSimple(part);
    if (!fast) return Array.from(parseAllDocuments(text), (d) => d.toJS() as unknown);
    out.push(fast.value);
  }
  return out;
}

class Bail extends Error {}
const bail = (): never => { throw new Bail(); };

/** `{ value }` when `text` is in the simple subset, else undefined. */
export function parseSimpleYaml(text: string): { value: unknown } | undefined {
  // (U+2028 and U+2029 are not line breaks in YAML 1.2, but no machine writes them: the library decides)
  if (text.length > 1 << 20 || text.includes('\t') || text.includes('\r') || text.includes('\0') || text.includes('\ufeff') || text.includes('\u2028') || text.includes('\u2029')) return undefined;
  const p = new SimpleParser(text);
  if (!p.readLines() || p.count === 0 || p.indent[0] !== 0) return undefined;
  try {
    const value = p.node(0, 0);
    if (p.pos !== p.count) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}

const INF_NAN = new Set(['.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN']);
const NOT_STRING_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);

/**
 * The parser works on offsets into the text: each line that holds something is where its text starts (after
 * the indentation) and ends (before trailing spaces), and a key or value is sliced out only when it is kept.
 * A string and an object per line, and a match array per key, were most of what a check's ~450 lines of
 * manifests and kubeconfigs allocated.
 */
class SimpleParser {
  pos = 0;
  count = 0;
  readonly start: number[] = [];
  readonly end: number[] = [];
  readonly indent: number[] = [];
  private depth = 0;
  constructor(private readonly text: string) {}

  /** Finds the lines that hold something (not blank, not a comment); false for what the subset leaves out. */
  readLines(): boolean {
    const { text, start, end, indent } = this;
    // the next ' #' at or after the line looked at: a line holding one may end in a comment
    let hash = text.indexOf(' #');
    for (let at = 0; at < text.length;) {
      const from = at;
      let nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
      at = nl + 1;
      let s = from;
      while (s < nl && text.charCodeAt(s) === 0x20) s++;
      let e = nl;
      while (e > s && text.charCodeAt(e - 1) === 0x20) e--;
      if (e === s) continue;
      const c = text.charCodeAt(s);
      if (c === 0x23) continue; // '#' comment line
      if (s === from && (c === 0x25 || text.startsWith('---', s) || text.startsWith('...', s))) return false; // directives, document markers
      while (hash >= 0 && hash < s) hash = text.indexOf(' #', hash + 1);
      if (hash >= 0 && hash + 1 < e) return false; // maybe a trailing comment
      start.push(s);
      end.push(e);
      indent.push(s - from);
    }
    this.count = start.length;
    return true;
  }

  /** The block starting at line `i` (indentation `ind`). */
  node(i: number, ind: number): unknown {
    if (++this.depth > 64) bail(); // machine-written files are shallow; deep nesting goes to the library
    this.pos = i;
    const v = isSeqItemAt(this.text, this.start[i]!, this.end[i]!) ? this.seq(ind) : this.map(ind);
    this.depth--;
    return v;
  }

  /** Value of `key:` with nothing after the colon: a nested block, a same-indent sequence, or null. */
  private nested(ind: number): unknown {
    const i = this.pos;
    if (i >= this.count || this.indent[i]! < ind) return null;
    if (this.indent[i]! > ind) return this.node(i, this.indent[i]!);
    if (isSeqItemAt(this.text, this.start[i]!, this.end[i]!)) return this.seq(ind); // Go style: a mapping's sequence at the key's indentation
    return null;
  }

  /** The mapping at indentation `ind`; its first key at offset `first` of the current line when it follows a `- `. */
  private map(ind: number, first?: number): Record<string, unknown> {
    const { text, start, end, indent, count } = this;
    const out: Record<string, unknown> = {};
    let at = first;
    for (;;) {
      const i = this.pos;
      if (at === undefined) {
        if (i >= count || indent[i]! < ind) return Object.freeze(out);
        if (indent[i]! > ind || isSeqItemAt(text, start[i]!, end[i]!)) bail();
        at = start[i]!;
      }
      const e = end[i]!;
      const colon = keyEnd(text, at, e);
      if (colon < 0) bail();
      const key = text.slice(at, colon);
      if (key.length > 1000 || NOT_STRING_KEYS.has(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) bail();
      this.pos++;
      // (spaces only: trimStart would also take a no-break space or U+3000, which YAML keeps in the value)
      let v = colon + 1;
      while (v < e && text.charCodeAt(v) === 0x20) v++;
      out[key] = v === e ? this.nested(ind) : scalar(text.slice(v, e));
      at = undefined;
    }
  }

  private seq(ind: number): unknown[] {
    const { text, start, end, indent, count } = this;
    const out: unknown[] = [];
    for (;;) {
      const i = this.pos;
      if (i >= count || indent[i]! < ind || (indent[i] === ind && !isSeqItemAt(text, start[i]!, end[i]!))) { Object.freeze(out); return out; }
      if (indent[i]! > ind) bail();
      const s = start[i]!;
      const e = end[i]!;
      if (e === s + 1) { // `-` alone
        this.pos++;
        const j = this.pos;
        out.push(j < count && indent[j]! > ind ? this.node(j, indent[j]!) : null);
        continue;
      }
      let r = s + 1;
      while (text.charCodeAt(r) === 0x20) r++;
      if (isSeqItemAt(text, r, e)) bail();
      if (keyEnd(text, r, e) >= 0) {
        // `- key: value` starts a mapping whose keys sit at the first key's column
        out.push(this.map(ind + (r - s), r));
      } else {
        this.pos++;
        out.push(scalar(text.slice(r, e)));
      }
    }
  }
}

/** Whether the text in [s, e) is a sequence item: `-` alone or followed by a space. */
function isSeqItemAt(text: string, s: number, e: number): boolean {
  return text.charCodeAt(s) === 0x2d && (e === s + 1 || text.charCodeAt(s + 1) === 0x20);
}

/**
 * Where the key of a `key:` or `key: value` line starting at `s` (line end `e`) ends: the offset of its colon,
 * or -1 when the line is not one. A key is a letter or `_`, then letters, digits and `_./-` (a plain key as
 * Kubernetes writes them; anything else is the library's).
 */
function keyEnd(text: string, s: number, e: number): number {
  let c = text.charCodeAt(s);
  if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f)) return -1;
  let i = s + 1;
  for (; i < e; i++) {
    c = text.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2f || c === 0x2d)) break;
  }
  if (i >= e || c !== 0x3a) return -1;
  return i + 1 === e || text.charCodeAt(i + 1) === 0x20 ? i : -1;
}

function isSeqItem(t: string): boolean {
  return t === '-' || t.startsWith('- ');
}

/** A one-line scalar, resolved as YAML 1.2's core schema does; bails on anything unusual. */
function scalar(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c === 0x22) { // "double"
    const inner = s.slice(1, -1);
    if (s.length < 2 || !s.endsWith('"') || inner.includes('"') || inner.includes('\\')) bail();
    return inner;
  }
  if (c === 0x27) { // 'single'
    if (s.length < 2 || !s.endsWith("'") || s.slice(1, -1).includes("'")) bail();
    return s.slice(1, -1);
  }
  if (s === '{}') return Object.freeze({});
  if (s === '[]') return Object.freeze([]);
  // indicators that start anything but a plain string (flow, anchors, aliases, tags, block scalars, reserved)
  if ('[]{},&*!|>%@`#?:'.includes(s[0]!) || isSeqItem(s) || s.includes(': ') || s.endsWith(':')) bail();
  if (s === 'null' || s === 'Null' || s === 'NULL' || s === '~') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  // every number of the core schema is a digit or a dot, after an optional sign: most scalars (paths, names,
  // --flags) are not, and need none of the number patterns below
  const d = c === 0x2b || c === 0x2d ? s.charCodeAt(1) : c;
  if (!((d >= 0x30 && d <= 0x39) || d === 0x2e)) return s;
  // a number as JavaScript prints it (6443, -1, 0.5) is the number the core schema reads; no patterns, as
  // compiling each costs more at every start than this whole parse (see inventory/names.ts)
  const n = Number(s);
  if (String(n) === s) return n;
  // what else JavaScript reads as a number (octal, hex, 1.0, 1e3, 007) and the core schema's .inf and .nan:
  // let the library decide (it reads 0b1 and 0O1 as strings; the library says so too)
  if (!Number.isNaN(n) || s.startsWith('0o') || INF_NAN.has(c === 0x2b || c === 0x2d ? s.slice(1) : s)) bail();
  return s; // 0s, 250m, 192.0.2.10, v1.26.1 …
}
