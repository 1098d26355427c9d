import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { UserError, EXIT } from '../errors.js';
import { addClusterOptions, outputOption, clusterFrom, parseOutput, type ClusterFlags } from './cluster-options.js';
import type { SaRefreshPlan } from '../cluster/sa-refresh.js';

interface RefreshFlags extends ClusterFlags {
  namespace?: string;
  restartPods?: boolean;
  dryRun?: boolean;
  timeout?: string;
  saPub?: string;
  output?: string;
  pollMs?: string;
}

export function renderSaRefreshPlan(plan: SaRefreshPlan, restartPods: boolean): string {
  const out: string[] = [];
  out.push(`plan: clear the token of ${plan.secrets.length} ServiceAccount token Secret${plan.secrets.length === 1 ? '' : 's'} (the token controller re-issues each with the current sa.key)`);
  for (const s of plan.secrets) out.push(`  secret ${s.namespace}/${s.name}  (ServiceAccount ${s.serviceAccount || '?'}${s.hasToken ? '' : ', token already empty'})`);
  const restart = plan.pods.filter((p) => p.restart);
  out.push(`${restartPods ? 'then restart' : 'pods holding ServiceAccount tokens (restart them with --restart-pods)'}: ${plan.pods.length} pod${plan.pods.length === 1 ? '' : 's'}, ${restart.length} restartable, kube-system first`);
  for (const p of plan.pods) {
    out.push(`  pod ${p.namespace}/${p.name}  (ServiceAccount ${p.serviceAccount}; ${p.uses.join(', ')}; ${p.restart ? `owner ${p.owner}` : `not restarted: ${p.skipReason}`})`);
  }
  return `${out.join('\n')}\n`;
}

/** `kubepki sa refresh` — registered under `kubepki sa` (src/cli/sa.ts). */
export function refreshCommand(io: Io): Command {
  return addClusterOptions(
    new Command('refresh')
      .description('after sa.key changed: re-issue every legacy ServiceAccount token Secret and restart the pods holding old tokens')
      .addHelpText('before', `Examples:
  kubepki sa refresh --dry-run                 # the Secrets and pods concerned, nothing changed
  kubepki sa refresh                           # clear each token, wait until the controller re-issued it
  kubepki sa refresh --restart-pods            # then delete the pods holding tokens, kube-system first
  kubepki sa refresh --namespace demo --restart-pods
`)
      .addHelpText('after', `
Exit codes:
  0  every token re-issued (and with --restart-pods every pod restarted), or with --dry-run the plan printed
  2  a re-issued token does not verify with sa.pub, a token was not re-issued in time, or a restarted pod's
     owner did not get Ready again (stopped before restarting more)
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403)`)
      .option('-n, --namespace <ns>', 'only this namespace')
      .option('--restart-pods', 'delete the pods that hold ServiceAccount tokens (only those a controller re-creates), one at a time')
      .option('--dry-run', 'print the plan and change nothing (only read requests: no Secret patched, no pod deleted)')
      .option('--timeout <seconds>', 'how long to wait for each token / replacement pod', '120')
      .option('--sa-pub <file>', 'check each re-issued token against this public key (default: /etc/kubernetes/pki/sa.pub under --root, when present)')
      .addOption(outputOption())
      .addOption(new Option('--poll-ms <ms>', 'poll interval while waiting').default('1000').hideHelp()),
  ).action(async (flags: RefreshFlags) => {
    const format = parseOutput(flags.output);
    const timeout = Number(flags.timeout);
    if (!(timeout > 0)) throw new UserError(`--timeout ${JSON.stringify(flags.timeout)} is not a positive number of seconds`, 'use e.g. --timeout 120');
    const client = await clusterFrom(flags, io);
    const sa = await import('../cluster/sa-refresh.js');
    const plan = await sa.readSaRefreshPlan(client, flags.namespace);
    if (format === 'json' && flags.dryRun) {
      io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'SaRefreshPlan', dryRun: true, ...plan }, null, 2)}\n`);
      return;
    }
    if (format === 'text') io.stdout(renderSaRefreshPlan(plan, Boolean(flags.restartPods)));
    if (flags.dryRun) {
      if (format === 'text') io.stdout('\nDry run: nothing was written.\n');
      return;
    }
    let keys;
    const fs = await import('node:fs');
    const path = await import('node:path');
    // (the tree's sa.pub: in its certificatesDir, links resolved inside the tree)
    const { hostFileIn, NodeFs } = await import('../fs/node-fs.js');
    const { kubeadmPkiDir } = await import('../layouts/detect.js');
    const pubPath = flags.saPub ? path.resolve(io.cwd, flags.saPub) : hostFileIn(flags.root ?? '/', `${kubeadmPkiDir(new NodeFs(flags.root ?? '/'))}/sa.pub`);
    if (flags.saPub || fs.existsSync(pubPath)) {
      try {
        keys = sa.publicKeysFromPem(fs.readFileSync(pubPath, 'utf8'));
      } catch (e) {
        throw new UserError(`failed to read ServiceAccount public key ${pubPath}: ${(e as Error).message}`, 'pass --sa-pub FILE (the new sa.pub)');
      }
    }
    const res = await sa.applySaRefresh(client, plan, {
      restartPods: Boolean(flags.restartPods),
      timeoutMs: timeout * 1000,
      pollMs: Number(flags.pollMs) || 1000,
      saPublicKeys: keys,
      log: (l) => { if (format === 'text') io.stdout(`${l}\n`); },
    });
    const bad = res.refilled.filter((r) => r.verifiesWithSaPub === false);
    if (format === 'json') io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'SaRefreshResult', plan, ...res }, null, 2)}\n`);
    else io.stdout(`done: ${res.refilled.length} token${res.refilled.length === 1 ? '' : 's'} re-issued, ${res.restarted.length} pod${res.restarted.length === 1 ? '' : 's'} restarted\n`);
    io.exitCode = bad.length ? EXIT.broken : EXIT.ok;
  });
}
