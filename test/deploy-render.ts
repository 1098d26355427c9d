// A renderer for the subset of Helm's Go templates that deploy/helm/kubepki
// uses, for machines without `helm`: {{ .Values.x }}, .Release.*, .Chart.*,
// $, $name := declarations, if/else/end, with, range over lists, pipelines, (parenthesized)
// arguments, quote, toYaml, nindent, indent, not, eq, fail, default, index, required, printf (%s, %q),
// .Files.Get, string literals and {{- -}} trimming.
// Anything else throws, so the chart cannot silently grow past what this
// checks. When run directly it rewrites deploy/manifests/ from the chart:
//   npm run build && node dist-test/test/deploy-render.js --write
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify, parse } from 'yaml';

type Ctx = { root: Record<string, unknown>; dot: unknown; files: (p: string) => string; vars: Map<string, unknown> };

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; expr: string }
  | { t: 'set'; name: string; expr: string }
  | { t: 'if'; expr: string; then: Node[]; else: Node[] }
  | { t: 'with'; expr: string; body: Node[]; else: Node[] }
  | { t: 'range'; expr: string; body: Node[]; else: Node[] };

function tokenize(src: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { out.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src[j] === '-' && src[j + 1] === ' ') { text = text.replace(/\s+$/, ''); j += 2; }
    // find the closing }} outside string literals ({{ "}}" }} prints braces)
    let close = -1;
    for (let q = j, inStr = false; q < src.length; q++) {
      if (inStr) { if (src[q] === '\\') q++; else if (src[q] === '"') inStr = false; continue; }
      if (src[q] === '"') { inStr = true; continue; }
      if (src[q] === '}' && src[q + 1] === '}') { close = q; break; }
    }
    if (close < 0) throw new Error('unclosed {{');
    let action = src.slice(j, close);
    let k = close + 2;
    if (action.endsWith(' -')) { action = action.slice(0, -2); const m = /^\s*/.exec(src.slice(k))!; k += m[0].length; }
    out.push({ text });
    out.push({ action: action.trim() });
    i = k;
  }
  return out.filter((x) => x.action !== undefined || x.text);
}

function parseNodes(tokens: { text?: string; action?: string }[]): Node[] {
  let pos = 0;
  function block(stopAt: string[]): { nodes: Node[]; stop: string } {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tk = tokens[pos++];
      if (tk.text !== undefined) { nodes.push({ t: 'text', s: tk.text }); continue; }
      const a = tk.action!;
      if (a.startsWith('/*')) continue;
      const kw = a.split(/\s+/)[0];
      if (kw === 'else' && a !== 'else') throw new Error(`unsupported {{ ${a} }}: nest an if in the else`);
      if (stopAt.includes(kw)) return { nodes, stop: kw };
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        const expr = a.slice(kw.length).trim();
        const body = block(['else', 'end']);
        const els = body.stop === 'else' ? block(['end']).nodes : [];
        if (kw === 'if') nodes.push({ t: 'if', expr, then: body.nodes, else: els });
        else nodes.push({ t: kw, expr, body: body.nodes, else: els });
        continue;
      }
      if (kw === 'end' || kw === 'else') throw new Error(`unexpected ${kw}`);
      if (['define', 'template', 'include', 'block', 'tpl'].includes(kw)) throw new Error(`unsupported action ${kw}`);
      const decl = /^\$([A-Za-z_]\w*)\s*:=\s*(.+)$/s.exec(a);
      if (decl) { nodes.push({ t: 'set', name: decl[1], expr: decl[2] }); continue; }
      if (/^\$\w*\s*=/.test(a)) throw new Error(`unsupported assignment ${a}`);
      nodes.push({ t: 'out', expr: a });
    }
    if (stopAt.length) throw new Error(`missing {{ end }}`);
    return { nodes, stop: '' };
  }
  return block([]).nodes;
}

function lookup(base: unknown, pathText: string): unknown {
  let v = base;
  for (const part of pathText.split('.').filter(Boolean)) {
    if (v === null || v === undefined) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  // (a parenthesized pipeline is one argument; no nested parentheses)
  const re = /\((?:[^()"]|"(?:[^"\\]|\\.)*")*\)|"(?:[^"\\]|\\.)*"|\S+/g;
  for (const m of s.matchAll(re)) out.push(m[0]);
  return out;
}

function value(tok: string, ctx: Ctx): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok);
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  if (tok === 'true' || tok === 'false') return tok === 'true';
  if (tok === '.') return ctx.dot;
  if (tok === '$') return ctx.root;
  if (tok.startsWith('$.')) return lookup(ctx.root, tok.slice(2));
  if (tok.startsWith('(') && tok.endsWith(')')) return evalPipe(tok.slice(1, -1), ctx);
  const v = /^\$([A-Za-z_]\w*)(\..*)?$/.exec(tok);
  if (v) {
    if (!ctx.vars.has(v[1])) throw new Error(`undefined variable $${v[1]}`);
    return lookup(ctx.vars.get(v[1]), v[2] ?? '');
  }
  if (tok.startsWith('.')) return lookup(ctx.dot, tok.slice(1));
  throw new Error(`unsupported value ${tok}`);
}

function indent(n: number, s: string): string {
  return s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
}

function toYaml(v: unknown): string {
  return stringify(v, { lineWidth: 0 }).replace(/\n$/, '');
}

function call(fn: string, args: unknown[]): unknown {
  switch (fn) {
    case 'quote': return JSON.stringify(String(args[0] ?? ''));
    case 'toYaml': return toYaml(args[0]);
    case 'nindent': return '\n' + indent(Number(args[0]), String(args[1]));
    case 'indent': return indent(Number(args[0]), String(args[1]));
    case 'not': return !truthy(args[0]);
    case 'eq': return args.slice(1).some((x) => x === args[0]);
    case 'fail': throw new Error(String(args[0]));
    case 'default': return truthy(args[1]) ? args[1] : args[0];
    // (Helm's index gives nil for a missing map key; required fails the render with its message on nil or empty)
    case 'index': return args.slice(1).reduce((v: any, k) => (v == null ? undefined : v[k as string]), args[0]);
    // (Go's %q is strconv.Quote: the same as JSON for the printable ASCII of release names and label values)
    case 'printf': {
      let i = 1;
      return String(args[0]).replace(/%([sq%])/g, (_m, verb: string) => {
        if (verb === '%') return '%';
        if (i >= args.length) throw new Error(`printf ${JSON.stringify(args[0])}: missing argument`);
        const a = String(args[i++]);
        if (verb === 'q' && !/^[\x20-\x7e]*$/.test(a)) throw new Error(`printf %q of ${JSON.stringify(a)}: only printable ASCII is rendered like Go`);
        return verb === 'q' ? JSON.stringify(a) : a;
      });
    }
    case 'required': if (args[1] === undefined || args[1] === null || args[1] === '') throw new Error(String(args[0])); return args[1];
    default: throw new Error(`unsupported function ${fn}`);
  }
}

function evalCommand(cmd: string, ctx: Ctx, piped: unknown[] | undefined): unknown {
  const toks = splitArgs(cmd.trim());
  if (toks[0] === '.Files.Get') return ctx.files(value(toks[1], ctx) as string);
  const head = toks[0];
  if (/^[a-zA-Z]+$/.test(head) && !['true', 'false'].includes(head)) {
    const args = toks.slice(1).map((t) => value(t, ctx));
    return call(head, piped ? [...args, ...piped] : args);
  }
  if (toks.length !== 1 || piped) throw new Error(`unsupported command ${cmd}`);
  return value(head, ctx);
}

function evalPipe(expr: string, ctx: Ctx): unknown {
  const parts = splitArgs(expr).reduce<string[][]>((acc, tok) => { if (tok === '|') acc.push([]); else acc[acc.length - 1].push(tok); return acc; }, [[]]).map((p) => p.join(' '));
  let v: unknown;
  parts.forEach((p, i) => { v = evalCommand(p, ctx, i === 0 ? undefined : [v]); });
  return v;
}

function render(nodes: Node[], ctx: Ctx): string {
  let out = '';
  for (const n of nodes) {
    switch (n.t) {
      case 'text': out += n.s; break;
      case 'out': {
        const v = evalPipe(n.expr, ctx);
        if (v === undefined || v === null) throw new Error(`template value ${n.expr} is not set`);
        out += typeof v === 'object' ? JSON.stringify(v) : String(v);
        break;
      }
      // (Go: a variable lives until the end of the block that declares it)
      case 'set': ctx.vars.set(n.name, evalPipe(n.expr, ctx)); break;
      case 'if': out += render(truthy(evalPipe(n.expr, ctx)) ? n.then : n.else, { ...ctx, vars: new Map(ctx.vars) }); break;
      case 'with': {
        const v = evalPipe(n.expr, ctx);
        out += truthy(v) ? render(n.body, { ...ctx, dot: v, vars: new Map(ctx.vars) }) : render(n.else, { ...ctx, vars: new Map(ctx.vars) });
        break;
      }
      case 'range': {
        const v = evalPipe(n.expr, ctx);
        if (v !== undefined && v !== null && !Array.isArray(v)) throw new Error(`range over a non-list ${n.expr}`);
        const list = (v ?? []) as unknown[];
        out += list.length ? list.map((item) => render(n.body, { ...ctx, dot: item, vars: new Map(ctx.vars) })).join('') : render(n.else, { ...ctx, vars: new Map(ctx.vars) });
        break;
      }
    }
  }
  return out;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b;
}

export interface Rendered { template: string; text: string; docs: Record<string, unknown>[] }

/** Render every template of the chart like `helm template RELEASE CHART -n NAMESPACE -f overrides`. */
export function renderChart(chartDir: string, opts: { release?: string; namespace?: string; values?: Record<string, unknown> } = {}): Rendered[] {
  const chart = parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const values = deepMerge(defaults, opts.values ?? {}) as Record<string, unknown>;
  const root = {
    Values: values,
    Release: { Name: opts.release ?? 'kubepki', Namespace: opts.namespace ?? 'kubepki', Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const files = (p: string) => fs.readFileSync(path.join(chartDir, p), 'utf8');
  const dir = path.join(chartDir, 'templates');
  const out: Rendered[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith('.yaml')) continue;
    const text = render(parseNodes(tokenize(fs.readFileSync(path.join(dir, name), 'utf8'))), { root, dot: root, files, vars: new Map() });
    const docs: Record<string, unknown>[] = [];
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length) throw new Error(`templates/${name} renders invalid YAML: ${d.errors[0].message}\n${text}`);
      const js = d.toJS();
      if (js) docs.push(js as Record<string, unknown>);
    }
    out.push({ template: name, text, docs });
  }
  return out;
}

export const CHART_DIR = path.resolve(process.cwd(), 'deploy/helm/kubepki');
export const MANIFEST_DIR = path.resolve(process.cwd(), 'deploy/manifests');

/** The plain manifests kept in deploy/manifests, as rendered from the chart. */
export function manifestFiles(): Record<string, string> {
  const header = (what: string) => `# Rendered from deploy/helm/kubepki (${what}); do not edit by hand:\n#   npm run build && node dist-test/test/deploy-render.js --write\n`;
  const join = (r: Rendered[]) => r.flatMap((x) => x.docs).map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  const base = renderChart(CHART_DIR);
  const renewal = renderChart(CHART_DIR, { values: { renewal: { enabled: true, nodes: ['cp-1', 'cp-2', 'cp-3'] } } }).filter((r) => r.template.startsWith('renewal'));
  // Prometheus without the Operator (annotation scraping, node_exporter's textfile) loads no PrometheusRule: the same
  // rules as a rule_files file, with the selector of that path
  const rules = (values: Record<string, unknown>) => stringify({ groups: (renderChart(CHART_DIR, { values }).flatMap((r) => r.docs).find((d) => d.kind === 'PrometheusRule') as { spec: { groups: unknown[] } }).spec.groups }, { lineWidth: 0 });
  const selectorNote = '# The PrometheusRule matches job="kubepki", the job the ServiceMonitor gives (release kubepki). Scraped another\n'
    + '# way, no alert fires and KubepkiAbsent fires for good: use prometheus-rules-pod-annotations.yaml or\n'
    + '# prometheus-rules-textfile.yaml, or render the chart with prometheusRule.selector/absence (docs/fleet.md).\n';
  return {
    'kubepki.yaml': header('default values') + selectorNote + join(base),
    'prometheus-rules-pod-annotations.yaml': header('prometheusRule.selector=\'job="kubernetes-pods", namespace="kubepki"\'')
      + '# Prometheus rule_files for a Prometheus that scrapes the pods by their prometheus.io annotations under a job\n'
      + '# kubernetes-pods that sets a namespace label (as the prometheus-community chart does). Another job name or\n'
      + '# namespace: render with prometheusRule.selector set in a values file.\n'
      + rules({ prometheusRule: { selector: 'job="kubernetes-pods", namespace="kubepki"' } }),
    'prometheus-rules-textfile.yaml': header('prometheusRule.selector=\'job="node-exporter"\', absence=series, readStaleMinutes=90')
      + '# Prometheus rule_files for `kubepki check -o prom` written into node_exporter\'s textfile directory at least\n'
      + '# hourly, node_exporter scraped as job node-exporter (as kube-prometheus names it). up is node_exporter\'s, so\n'
      + '# no KubepkiDown, and KubepkiAbsent fires when no node exports kubepki_build_info. Another job name or cron\n'
      + '# period: render with prometheusRule.selector and prometheusRule.readStaleMinutes (above the cron period).\n'
      + rules({ prometheusRule: { selector: 'job="node-exporter"', absence: 'series', readStaleMinutes: 90 } }),
    'renewal-example.yaml': header('renewal.enabled=true, renewal.nodes=[cp-1,cp-2,cp-3]; apply after kubepki.yaml') + join(renewal),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('test', 'deploy-render.js')) && process.argv.includes('--write')) {
  fs.mkdirSync(MANIFEST_DIR, { recursive: true });
  for (const [name, text] of Object.entries(manifestFiles())) {
    fs.writeFileSync(path.join(MANIFEST_DIR, name), text);
    console.log(`wrote deploy/manifests/${name}`);
  }
}
