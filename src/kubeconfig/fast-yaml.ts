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

interface Line { indent: number; text: string }

class Bail extends Error {}
const bail = (): never => { throw new Bail(); };

/** `{ value }` when `text` is in the simple subset, else undefined. */
export function parseSimpleYaml(text: string): { value: unknown } | undefined {
  if (text.length > 1 << 20 || text.includes('\t') || text.includes('\r') || text.includes('\0') || text.includes('\ufeff')) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    let indent = 0;
    while (raw.charCodeAt(indent) === 0x20) indent++;
    let end = raw.length;
    while (end > indent && raw.charCodeAt(end - 1) === 0x20) end--;
    if (end === indent) continue;
    const t = raw.slice(indent, end);
    const c = t.charCodeAt(0);
    if (c === 0x23) continue; // '#' comment line
    if (indent === 0 && (c === 0x25 || t.startsWith('---') || t.startsWith('...'))) return undefined; // directives, document markers
    if (t.includes(' #')) return undefined; // maybe a trailing comment
    lines.push({ indent, text: t });
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const p = new SimpleParser(lines);
    const value = p.node(0, 0);
    if (p.pos !== lines.length) return undefined;
    return { value };
  } catch (e) {
    if (e instanceof Bail) return undefined;
    throw e;
  }
}

const INF_NAN = new Set(['.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN']);
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: (.*))?$/;
const NOT_STRING_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);

class SimpleParser {
  pos = 0;
  constructor(private readonly lines: Line[]) {}

  /** The block starting at line `i` (indentation `ind`). */
  private depth = 0;

  node(i: number, ind: number): unknown {
    if (++this.depth > 64) bail(); // machine-written files are shallow; deep nesting goes to the library
    this.pos = i;
    const v = isSeqItem(this.lines[i]!.text) ? this.seq(ind) : this.map(ind);
    this.depth--;
    return v;
  }

  /** Value of `key:` with nothing after the colon: a nested block, a same-indent sequence, or null. */
  private nested(ind: number): unknown {
    const next = this.lines[this.pos];
    if (!next || next.indent < ind) return null;
    if (next.indent > ind) return this.node(this.pos, next.indent);
    if (isSeqItem(next.text)) return this.seq(ind); // Go style: a mapping's sequence at the key's indentation
    return null;
  }

  private map(ind: number, first?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let text: string | undefined = first;
    for (;;) {
      if (text === undefined) {
        const line = this.lines[this.pos];
        if (!line || line.indent < ind) return Object.freeze(out);
        if (line.indent > ind || isSeqItem(line.text)) bail();
        text = line.text;
      }
      const m = KEY.exec(text) ?? bail();
      const key = m[1]!;
      if (key.length > 1000 || NOT_STRING_KEYS.has(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) bail();
      this.pos++;
      // (spaces only: trimStart would also take a no-break space or U+3000, which YAML keeps in the value)
      const rest = m[2] === undefined ? undefined : m[2].slice(leadingSpaces(m[2]));
      out[key] = rest === undefined || rest === '' ? this.nested(ind) : scalar(rest);
      text = undefined;
    }
  }

  private seq(ind: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.pos];
      if (!line || line.indent < ind || (line.indent === ind && !isSeqItem(line.text))) { Object.freeze(out); return out; }
      if (line.indent > ind) bail();
      if (line.text === '-') {
        this.pos++;
        const next = this.lines[this.pos];
        out.push(next && next.indent > ind ? this.node(this.pos, next.indent) : null);
        continue;
      }
      let off = 1;
      while (line.text.charCodeAt(off) === 0x20) off++;
      const rest = line.text.slice(off);
      if (isSeqItem(rest)) bail();
      if (KEY.test(rest)) {
        // `- key: value` starts a mapping whose keys sit at the first key's column
        out.push(this.map(ind + off, rest));
      } else {
        this.pos++;
        out.push(scalar(rest));
      }
    }
  }
}

function leadingSpaces(t: string): number {
  let i = 0;
  while (t.charCodeAt(i) === 0x20) i++;
  return i;
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
