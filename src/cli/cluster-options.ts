/** Flags shared by every command that talks to the Kubernetes API. */
import { Option, type Command } from 'commander';
import { pluginTerminal, type Io } from './io.js';
import { UserError } from '../errors.js';
import type { ClusterClient } from '../cluster/connect.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  root?: string;
  now?: string;
  requestTimeout?: string;
}

export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then /etc/kubernetes/admin.conf under --root)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('--root <dir>', 'node tree whose etc/kubernetes/admin.conf is the last fallback', '/')
    .addOption(new Option('--now <date>', 'pretend the time is this (ISO date), for ages and expiry').hideHelp(false))
    // (tests: a server that never answers is given up in a moment instead of after API_TIMEOUT_MS)
    .addOption(new Option('--request-timeout <seconds>', 'give up on an API call not answered in this long (default 70)').hideHelp());
}

export async function clusterFrom(flags: ClusterFlags, io: Io): Promise<ClusterClient> {
  const { connect } = await import('../cluster/connect.js');
  let timeoutMs: number | undefined;
  if (flags.requestTimeout !== undefined) {
    const s = Number(flags.requestTimeout);
    if (!(s > 0)) throw new UserError(`--request-timeout ${JSON.stringify(flags.requestTimeout)} is not a positive number of seconds`, 'use e.g. --request-timeout 70');
    timeoutMs = s * 1000;
  }
  return connect({ kubeconfig: flags.kubeconfig, context: flags.context, root: flags.root, env: io.env, cwd: io.cwd, timeoutMs, terminal: pluginTerminal(io) });
}

/** `--now` or the clock (read here, at the CLI edge, never in library code). */
export function nowFrom(flags: { now?: string }): Date {
  if (!flags.now) return new Date();
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(flags.now) ? `${flags.now}T00:00:00Z` : flags.now);
  if (Number.isNaN(d.getTime())) throw new UserError(`--now ${JSON.stringify(flags.now)} is not a date`, 'use e.g. 2026-11-23 or 2026-11-23T10:00:00Z');
  return d;
}

/** Fixed-width text table (kubectl style: two spaces between columns). */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function parseOutput(o: string | undefined): 'text' | 'json' {
  if (!o || o === 'text' || o === 'wide') return 'text';
  if (o === 'json') return 'json';
  throw new UserError(`-o ${JSON.stringify(o)} is not an output format`, 'use -o text or -o json');
}
