/** Flags shared by every command that talks to the Kubernetes API. */
import { Option, type Command } from 'commander';
import { pluginTerminal, type Io } from './io.js';
import { UserError } from '../errors.js';
import { openRoot } from '../fs/node-fs.js';
import { nowOption, resolveNow } from './options.js';
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
    // (the same words and checks as every other command's --now: a script passes one --now to all of them)
    .addOption(nowOption())
    // (tests: a server that never answers is given up in a moment instead of after API_TIMEOUT_MS)
    .addOption(new Option('--request-timeout <seconds>', 'give up on an API call not answered in this long (default 70)').hideHelp());
}

/** -o of the commands that talk to the API: text or json, refused by the parser as every other command's -o. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']);
}

export async function clusterFrom(flags: ClusterFlags, io: Io): Promise<ClusterClient> {
  // every flag before the first connection (mkcert's order): a --root that is not there, or a --now that is not a
  // date, is said as it is, not as "failed to find a kubeconfig: tried …/etc/kubernetes/admin.conf", or never
  nowFrom(flags);
  openRoot(flags.root);
  const { connect } = await import('../cluster/connect.js');
  let timeoutMs: number | undefined;
  if (flags.requestTimeout !== undefined) {
    const s = Number(flags.requestTimeout);
    if (!(s > 0)) throw new UserError(`--request-timeout ${JSON.stringify(flags.requestTimeout)} is not a positive number of seconds`, 'use e.g. --request-timeout 70');
    timeoutMs = s * 1000;
  }
  return connect({ kubeconfig: flags.kubeconfig, context: flags.context, root: flags.root, env: io.env, cwd: io.cwd, timeoutMs, terminal: pluginTerminal(io) });
}

/** `--now` or the clock (read here, at the CLI edge, never in library code), as every command reads it. */
export function nowFrom(flags: { now?: string }): Date {
  return resolveNow(flags.now);
}

/** Fixed-width text table (kubectl style: two spaces between columns). */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function parseOutput(o: string | undefined): 'text' | 'json' {
  return o === 'json' ? 'json' : 'text';
}
