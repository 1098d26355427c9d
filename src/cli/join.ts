import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { rootOption, nowOption, resolveNow, writeOutFile, outFileTaken, kubeconfigAliasOption, withKubeconfigAlias } from './options.js';
import { openRoot } from '../fs/node-fs.js';
import { kubeadmPkiDir } from '../layouts/detect.js';
import { goTime } from '../pki/go-duration.js';

export interface JoinCliOptions {
  root?: string;
  now?: string;
  token?: string;
  ttl: string;
  controlPlaneEndpoint?: string;
  controlPlane?: boolean;
  certificateKey?: string;
  out?: string;
  force?: boolean;
  output: 'text' | 'json';
  /** --apply [kubeconfig] (issue 5) */
  apply?: string | boolean;
  dryRun?: boolean;
}

/**
 * Build the join plan from the node (exported so `--apply`, added by the
 * cluster work, can reuse it).
 */
export async function buildJoinPlan(o: JoinCliOptions, io: Io) {
  const now = resolveNow(o.now);
  const fs = openRoot(o.root);
  const { loadCa, apiServerUrl, hasLocalEtcd, externalEtcdFiles } = await import('../rebuild/node-files.js');
  const { generateToken, parseToken, parseDurationSeconds, BootstrapTokenError } = await import('../pki/bootstrap-token.js');
  const { planJoin } = await import('../plan/join.js');
  const pki = kubeadmPkiDir(fs);
  const ca = loadCa(fs, `${pki}/ca.crt`, `${pki}/ca.key`, false);
  const server = apiServerUrl(fs, o.controlPlaneEndpoint);
  let token = o.token ?? generateToken();
  let ttlSeconds: number;
  try {
    parseToken(token);
    ttlSeconds = parseDurationSeconds(o.ttl);
  } catch (e) {
    if (e instanceof BootstrapTokenError) throw new UserError(e.message.replace(/^invalid/, 'failed to use --token/--ttl: invalid'), 'leave --token out to get a new random one; --ttl like 24h, 2h30m or 0 (never)');
    throw e;
  }
  token = token.trim();
  let controlPlane: { certificateKey: string; sealed: Record<string, string> } | undefined;
  if (o.controlPlane || o.certificateKey) {
    const { newCertificateKey, CertificateKeyError } = await import('../pki/upload-certs.js');
    const { readSharedFiles, sealShared } = await import('../rebuild/shared-certs.js');
    const certificateKey = o.certificateKey ?? newCertificateKey();
    try {
      controlPlane = { certificateKey, sealed: sealShared(certificateKey, readSharedFiles(fs, pki, !hasLocalEtcd(fs, pki), externalEtcdFiles(fs, pki))) };
    } catch (e) {
      if (e instanceof CertificateKeyError) throw new UserError(`--certificate-key: ${e.message}`, 'make one with `openssl rand -hex 32`, or leave it out');
      throw e;
    }
  }
  const plan = planJoin({ caPem: ca.pem, server: server.url, token, ttlSeconds, now, controlPlane });
  const { controlPlaneJoinProblem } = await import('../rebuild/node-files.js');
  const controlPlaneWarning = controlPlane ? controlPlaneJoinProblem(fs, server.url) : undefined;
  void io;
  return { plan, token, server, pki, fs, now, controlPlaneWarning };
}

export function command(io: Io): Command {
  return new Command('join')
    .configureHelp({ helpWidth: 120 })
    .summary('print ready `kubeadm join` commands (new token, CA hash, certificate key) and the manifests they need')
    .description(`Make the cluster joinable again (after a rebuild, or when the old token expired): a new
bootstrap token, the discovery-token-ca-cert-hash of this node's CA (SHA-256 of its public
key: RSA or ECDSA), the worker and control-plane join commands, and the manifests the cluster
needs for them — the token Secret, kube-public/cluster-info with the CA and the token's
signature, and (--control-plane) the encrypted kubeadm-certs Secret — in one file for
\`kubectl apply -f\`.

Examples:
  kubepki join                                   # worker join command + kubepki-join-<id>.yaml
  kubepki join --control-plane                   # also --certificate-key and kubeadm-certs
  kubepki join --ttl 2h --out /root/join.yaml && kubectl apply -f /root/join.yaml
  kubepki join --apply --dry-run                 # what --apply would put into the cluster; writes nothing

--dry-run writes no manifests file (it says where it would go, and refuses an --out that is there without
--force, as the run does) and, with --apply, makes only read requests: it prints the objects it would create
or replace, the server and CA hash cluster-info would carry, and why reading back would not verify. A token
and a certificate key it drew are shown as <new token> and <new certificate key>: nothing is made with them,
and the run that writes draws its own (pass --token, --certificate-key to keep them).

Exit codes:
  0  the manifests written and the join commands printed (with --apply: put into the cluster and verified);
     with --dry-run, what would be written printed
  2  --apply: put into the cluster, but reading it back did not verify (with --dry-run: it would not verify, the
     CA hash published not the join command's, or joining nodes may not read cluster-info)
  3+ kubepki could not run (a bad flag, no CA or kubeconfig on the node, --out exists, with --apply the API
     server unreachable or 401/403)`)
    .addOption(rootOption())
    .option('--token <id.secret>', 'use this bootstrap token instead of a new random one')
    .option('--ttl <duration>', 'token lifetime (0 = never expires)', '24h')
    .option('--control-plane-endpoint <host:port>', 'address joiners dial (default: admin.conf\'s server)')
    .option('--control-plane', 'also a control-plane join: certificate key and the encrypted kubeadm-certs Secret')
    .option('--certificate-key <hex>', 'certificate key for --control-plane (default: a new one)')
    .option('--out <file>', 'where to write the manifests (default ./kubepki-join-<token id>.yaml, mode 0600)')
    .option('--force', 'overwrite --out if it exists')
    .option('--apply [kubeconfig]', 'also put the token, cluster-info and kubeadm-certs into the cluster through the API and verify them (kubeconfig default: admin.conf under --root, then $KUBECONFIG, ~/.kube/config)')
    .addOption(kubeconfigAliasOption())
    .option('--dry-run', 'print the join commands and what would be written (the manifests file, with --apply the objects in the cluster); write nothing')
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']))
    .addOption(nowOption())
    .action(async (o: JoinCliOptions & { kubeconfig?: string }) => {
      o.apply = withKubeconfigAlias(o.apply, o.kubeconfig, '--apply', io.cwd);
      const { plan: drawnPlan, server, token, pki, fs, now, controlPlaneWarning } = await buildJoinPlan(o, io);
      // a dry run shows no token or key it drew: nothing is made with them, and the run that writes draws others
      const tokenDrawn = o.token === undefined;
      const hideDrawn = (text: string): string => {
        if (!o.dryRun) return text;
        let t = tokenDrawn ? text.replaceAll(token, '<new token>') : text;
        const key = o.certificateKey === undefined ? /--certificate-key ([0-9a-f]{64})/.exec(drawnPlan.controlPlaneCommand ?? '')?.[1] : undefined;
        if (key) t = t.replaceAll(key, '<new certificate key>');
        return t;
      };
      const plan = o.dryRun
        ? { ...drawnPlan, tokenId: tokenDrawn ? '<id>' : drawnPlan.tokenId, workerCommand: hideDrawn(drawnPlan.workerCommand), ...(drawnPlan.controlPlaneCommand ? { controlPlaneCommand: hideDrawn(drawnPlan.controlPlaneCommand) } : {}) }
        : drawnPlan;
      const { toKubeYaml } = await import('../manifests/static-pods.js');
      const out = path.resolve(io.cwd, o.out ?? `kubepki-join-${plan.tokenId}.yaml`);
      const hint = 'pass --force to overwrite it, or another --out';
      if (o.dryRun) {
        // (the run would refuse it: so does its dry run, before asking the cluster anything)
        const taken = o.force ? undefined : outFileTaken(out, hint);
        if (taken) throw taken;
      } else {
        await writeOutFile(out, plan.manifests.map((m) => toKubeYaml(m)).join('---\n'), 0o600, { replace: o.force, hint });
      }
      let problems: unknown[] = [];
      if (o.apply) {
        const { applyJoinPlan } = await import('./cluster-info.js');
        const { parseDurationSeconds } = await import('../pki/bootstrap-token.js');
        const certs = plan.manifests.find((m) => (m as { metadata?: { name?: string } }).metadata?.name === 'kubeadm-certs') as { data?: Record<string, string> } | undefined;
        ({ problems } = await applyJoinPlan(o.output === 'json' ? { ...io, stdout: io.stderr } : io, {
          root: o.root, kubeconfig: typeof o.apply === 'string' ? path.resolve(io.cwd, o.apply) : undefined, kubeconfigFlag: '--apply',
          token, ttlSeconds: parseDurationSeconds(o.ttl), description: 'Bootstrap token made by kubepki join',
          caPem: fs.readFile(`${pki}/ca.crt`).toString('utf8'), server: server.url, discoveryHash: plan.discoveryHashes[0]!,
          kubeadmCerts: certs?.data, now, dryRun: o.dryRun, tokenDrawn,
        }));
      }
      // with --dry-run, the run would not verify what --apply put there
      if (problems.length) io.exitCode = 2;
      // (--now makes the plan for another moment: a token already past on this machine's clock is refused by the cluster)
      const past = plan.expiration && Date.parse(plan.expiration) <= Date.now()
        ? `that is already past on this machine's clock (${goTime(new Date())}): the cluster deletes the token and kubeadm join is refused; run without --now, or with a longer --ttl.` : undefined;
      if (o.output === 'json') {
        // (the JSON alone on stdout, the warning the text gives on stderr: it was dropped)
        if (past) io.stderr(`kubepki: warning: token ${plan.tokenId} expires ${plan.expiration}: ${past}\n`);
        io.stdout(JSON.stringify({ ...plan, manifests: undefined, manifestsFile: out, serverSource: server.source, ...(controlPlaneWarning ? { controlPlaneWarning } : {}), ...(o.dryRun ? { dryRun: true } : {}) }, null, 2) + '\n');
        return;
      }
      const lines = [
        `API server ${server.url} (from ${server.source}); CA hash ${plan.discoveryHashes.join(', ')}`,
        `Token ${plan.tokenId}.<secret> ${plan.expiration ? `expires ${plan.expiration}` : 'never expires'}.${past ? ` Warning: ${past}` : ''}`,
        '',
        `1. Put the token and the CA into the cluster:  kubectl apply -f ${out}${o.dryRun ? ' (not written: dry run)' : ''}`,
        `   (token Secret, kube-public/cluster-info signed for this token${plan.controlPlaneCommand ? ', kubeadm-certs Secret + Role' : ''})`,
        '',
        '2. On each worker node:',
        `   ${plan.workerCommand.replace(/\n/g, '\n   ')}`,
      ];
      if (plan.controlPlaneCommand) {
        lines.push('', '3. On each new control-plane node:', `   ${plan.controlPlaneCommand.replace(/\n/g, '\n   ')}`,
          '   (delete the kubeadm-certs Secret once they have joined: kubectl -n kube-system delete secret kubeadm-certs)');
        if (controlPlaneWarning) lines.push(`   Warning: ${controlPlaneWarning}`);
      }
      if (o.dryRun) lines.push('', `Dry run: nothing was written (the manifests would go to ${out}, mode 0600).`);
      io.stdout(lines.join('\n') + '\n');
    });
}
