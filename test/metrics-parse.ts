// A strict parser for the Prometheus text exposition format 0.0.4, for tests.
// It throws on anything a Prometheus server would reject (bad names, bad
// escapes, a sample before its TYPE, duplicate series, non-numeric values).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';

export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; help?: string; type?: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePromText(text: string): Map<string, Family> {
  const fams = new Map<string, Family>();
  const seen = new Set<string>();
  if (text.length && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, n) => {
    const where = `line ${n + 1}: ${line}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      const fam = fams.get(name) ?? { name, samples: [] };
      if (kind === 'TYPE') {
        if (fam.type) throw new Error(`second TYPE, ${where}`);
        if (fam.samples.length) throw new Error(`TYPE after samples, ${where}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type, ${where}`);
        fam.type = rest;
      } else {
        if (fam.help !== undefined) throw new Error(`second HELP, ${where}`);
        fam.help = rest;
      }
      fams.set(name, fam);
      return;
    }
    let i = 0;
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`bad sample name, ${where}`);
    const name = nm[0];
    i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
        if (!lm || !LABEL.test(lm[0])) throw new Error(`bad label name at ${i}, ${where}`);
        const ln = lm[0];
        i += ln.length;
        if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`expected =" at ${i}, ${where}`);
        i += 2;
        let v = '';
        for (;;) {
          const ch = line[i];
          if (ch === undefined) throw new Error(`unterminated label value, ${where}`);
          if (ch === '"') { i++; break; }
          if (ch === '\\') {
            const e = line[i + 1];
            if (e === '\\') v += '\\'; else if (e === '"') v += '"'; else if (e === 'n') v += '\n';
            else throw new Error(`bad escape \\${e}, ${where}`);
            i += 2;
            continue;
          }
          v += ch;
          i++;
        }
        if (ln in labels) throw new Error(`duplicate label ${ln}, ${where}`);
        labels[ln] = v;
        if (line[i] === ',') i++;
        else if (line[i] !== '}') throw new Error(`expected , or } at ${i}, ${where}`);
      }
      i++;
    }
    if (line[i] !== ' ') throw new Error(`expected space before value, ${where}`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2) throw new Error(`trailing data, ${where}`);
    const raw = parts[0];
    if (!/^([+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)|[+-]?Inf|NaN)$/.test(raw)) throw new Error(`bad value ${raw}, ${where}`);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`bad timestamp, ${where}`);
    const base = name.replace(/_(bucket|sum|count|total|created)$/, '');
    const fam = fams.get(name) ?? fams.get(base);
    if (!fam || !fam.type) throw new Error(`sample without TYPE, ${where}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series, ${where}`);
    seen.add(key);
    fam.samples.push({ name, labels, value: Number(raw.replace('Inf', 'Infinity')) });
  });
  return fams;
}

export const PROMTOOL = '/usr/bin/promtool';

/** `promtool check metrics` on the text; undefined when promtool is not installed. */
export function promtoolCheck(text: string): { ok: boolean; output: string } | undefined {
  if (!fs.existsSync(PROMTOOL)) return undefined;
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** `promtool test rules` of these tests against these rule groups (annotations dropped: the expressions and labels are
 * under test, `promtool check rules` checks the templates); undefined when promtool is not installed. */
export function promtoolTestRules(groups: { rules: Record<string, unknown>[] }[], tests: unknown[]): { ok: boolean; output: string } | undefined {
  if (!fs.existsSync(PROMTOOL)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-ruletest-'));
  try {
    const bare = groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) }));
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: bare }));
    fs.writeFileSync(path.join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }, { lineWidth: 0 }));
    const r = spawnSync(PROMTOOL, ['test', 'rules', 'tests.yaml'], { encoding: 'utf8', cwd: dir });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.slice(0, 4000) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` of these rule groups: the rule count it reports, or its errors; undefined without promtool. */
export function promtoolCheckRules(groups: unknown[]): { ok: boolean; output: string } | undefined {
  if (!fs.existsSync(PROMTOOL)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-rules-'));
  try {
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups }));
    const r = spawnSync(PROMTOOL, ['check', 'rules', path.join(dir, 'rules.yaml')], { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
