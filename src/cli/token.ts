import { Command } from 'commander';
import type { Io } from './io.js';
import { UserError, EXIT } from '../errors.js';
import { addClusterOptions, outputOption, clusterFrom, nowFrom, table, parseOutput, type ClusterFlags } from './cluster-options.js';
import type { ClusterClient } from '../cluster/connect.js';
import type { TokenRow } from '../cluster/tokens.js';

interface ListFlags extends ClusterFlags { output?: string; showTokens?: boolean }
interface DeleteFlags extends ClusterFlags { expired?: boolean; dryRun?: boolean }

const NS = 'kube-system';

/** The bootstrap token Secrets, cluster-info's data (null: none) and the other kube-system Secrets a token may own. */
async function readTokens(client: ClusterClient, now: Date): Promise<TokenRow[]> {
  const { callOptional } = await import('../cluster/connect.js');
  const { judgeTokens, listTokenSecrets } = await import('../cluster/tokens.js');
  const [secrets, clusterInfo, kubeadmCerts] = await Promise.all([
    listTokenSecrets(client),
    callOptional(client, 'read ConfigMap kube-public/cluster-info', () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' })),
    // (the one Secret kubeadm has a token own: upload-certs' kubeadm-certs, deleted with its 2h token)
    callOptional(client, 'read Secret kube-system/kubeadm-certs', () => client.core.readNamespacedSecret({ name: 'kubeadm-certs', namespace: NS })),
  ]);
  return judgeTokens(secrets, clusterInfo ? (clusterInfo.data ?? {}) : null, now, kubeadmCerts ? [kubeadmCerts] : []);
}

export function command(io: Io): Command {
  const token = new Command('token')
    .description('list the cluster\'s bootstrap tokens, judged (expired, never expiring, unsigned in cluster-info), and delete them')
    .addHelpText('before', `Examples:
  kubepki token list                         # every bootstrap token, and what a join with it would meet
  kubepki token delete w7k2qx                # by id (or the whole id.secret)
  kubepki token delete --expired --dry-run   # the expired ones the tokencleaner left
`)
    .addHelpText('after', `
A new token: kubepki join (the token, the discovery hash and the join commands;
--apply also creates it and signs cluster-info for it), or kubepki cluster-info
update --create-token.

Exit codes: those of each command (kubepki token list --help, kubepki token delete --help).`);

  addClusterOptions(
    token.command('list')
      .description('the bootstrap tokens in kube-system with TTL, usages, groups and what is wrong with each')
      .addHelpText('before', `Examples:
  kubepki token list
  kubepki token list -o json | jq '.items[] | select(.status != "ok")'
  kubepki token list --show-tokens           # whole tokens, as kubeadm token list prints them
`)
      .addOption(outputOption())
      .option('--show-tokens', 'print whole tokens (id.secret), as kubeadm token list does; by default only their ids (a token is a credential to join a node)')
      .addHelpText('after', `
Status (the worst finding of the token):
  ok             valid; a signing token is signed in kube-public/cluster-info
  unsigned       a signing token with no jws-kubeconfig-<id> in cluster-info (or
                 no cluster-info): kubeadm join --token with it fails
  bad-signature  its JWS in cluster-info does not verify (cluster-info changed)
  invalid        a bootstrap token Secret kube-apiserver ignores (its name and
                 token-id differ, or a field is malformed)
  expired        expired and still there (kube-apiserver refuses it; the
                 tokencleaner controller should have deleted it)
  never-expires  no expiration: a standing credential to join nodes

Exit codes:
  0  every token is sound (or there are none)
  1  warnings: an expired token left over, a token that never expires
  2  a token a join would fail with (unsigned, bad signature) or an invalid one
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403)`),
  ).action(async (flags: ListFlags) => {
    const format = parseOutput(flags.output);
    const now = nowFrom(flags);
    const client = await clusterFrom(flags, io);
    const { worstSeverity, ttlText } = await import('../cluster/tokens.js');
    const rows = await readTokens(client, now);
    const shown = (r: TokenRow) => (flags.showTokens && r.tokenSecret ? `${r.id}.${r.tokenSecret}` : r.id);
    if (format === 'json') {
      const items = rows.map(({ tokenSecret, ...r }) => ({ ...r, ...(flags.showTokens && tokenSecret ? { token: `${r.id}.${tokenSecret}` } : {}) }));
      io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'BootstrapTokenList', now: now.toISOString(), items }, null, 2)}\n`);
    } else if (rows.length === 0) {
      io.stdout('no bootstrap tokens in kube-system\n');
    } else {
      io.stdout(table(
        ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS', 'STATUS'],
        rows.map((r) => [shown(r), ttlText(r), r.expiration ?? '<never>', r.usages.join(',') || '<none>', r.description ?? '<none>', r.groups.join(',') || '<none>', r.status]),
      ));
      const findings = rows.flatMap((r) => r.findings);
      const owners = rows.filter((r) => r.owns.length > 0);
      if (findings.length > 0 || owners.length > 0) io.stdout('\n');
      for (const f of findings) io.stdout(`${f.severity.toUpperCase().padEnd(7)} ${f.code.padEnd(13)}  ${f.message}\n`);
      for (const r of owners) io.stdout(`INFO    ${'owner'.padEnd(13)}  token ${r.id} owns ${r.owns.join(', ')}: it goes when the token does (expiry or delete)\n`);
    }
    const worst = worstSeverity(rows);
    io.exitCode = worst === 'error' ? EXIT.broken : worst === 'warning' ? EXIT.warning : EXIT.ok;
  });

  addClusterOptions(
    token.command('delete')
      .description('delete bootstrap tokens by id or whole token, or every expired one')
      .argument('[tokens...]', 'token ids (abcdef) or whole tokens (abcdef.0123456789abcdef)')
      .addHelpText('before', `Examples:
  kubepki token delete w7k2qx
  kubepki token delete w7k2qx.9fj3m1r8t4zq6b0c
  kubepki token delete --expired              # every expired token still there
  kubepki token delete --expired --dry-run    # which ones, deleting nothing
`)
      .option('--expired', 'delete every expired bootstrap token (with the ids given, if any)')
      .option('--dry-run', 'say what would be deleted; delete nothing')
      .addHelpText('after', `
A whole token (id.secret) is deleted only when its secret is the one stored:
a mistyped token does not delete another. Secrets a token owns (kubeadm-certs,
from upload-certs) are deleted with it by the garbage collector: the line says so.
Each delete names the Secret's uid as a precondition, so a token re-created since
it was read is not deleted.

Exit codes:
  0  deleted (or, with --dry-run, listed; --expired with none expired is no error)
  2  a token given does not exist, or its secret is not the one given (the others are still deleted)
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403)`),
  ).action(async (given: string[], flags: DeleteFlags) => {
    const { TOKEN_ID_REGEX, TOKEN_REGEX, redactToken } = await import('../pki/bootstrap-token.js');
    // every argument before the first request: a typo is said as such, not after half the deletes
    const wanted = given.map((arg) => {
      const full = TOKEN_REGEX.exec(arg);
      if (full) return { arg: redactToken(arg), id: full[1]!, secret: full[2]! };
      if (TOKEN_ID_REGEX.test(arg)) return { arg, id: arg, secret: undefined };
      throw new UserError(`${JSON.stringify(arg.includes('.') ? redactToken(arg) : arg)} is neither a token id nor a token`, 'pass ids (6 characters of [a-z0-9]) or whole tokens (id.secret); kubepki token list shows them');
    });
    if (wanted.length === 0 && !flags.expired) throw new UserError('token delete needs token ids, whole tokens or --expired', 'kubepki token list shows them');
    const now = nowFrom(flags);
    // (--now pretends for what is shown; what is deleted is not pretended: a later --now would pick tokens
    // kube-apiserver, on its own clock, still accepts)
    if (flags.expired && flags.now !== undefined && now.getTime() > Date.now()) {
      throw new UserError(`--expired with --now ${flags.now}, later than this machine's clock, would delete tokens that have not expired`, 'leave --now out, or list them first: kubepki token list --now …');
    }
    const client = await clusterFrom(flags, io);
    const rows = await readTokens(client, now);
    const targets: TokenRow[] = [];
    let failed = false;
    for (const w of wanted) {
      const r = rows.find((x) => x.id === w.id);
      if (!r) {
        io.stderr(`kubepki: no bootstrap token ${w.id} in kube-system (kubepki token list shows them)\n`);
        failed = true;
      } else if (w.secret !== undefined && r.tokenSecret !== w.secret) {
        io.stderr(`kubepki: not deleting token ${w.id}: ${w.arg} is not its secret (pass the id alone to delete it whatever its secret)\n`);
        failed = true;
      } else if (!targets.includes(r)) targets.push(r);
    }
    if (flags.expired) for (const r of rows) if (r.status === 'expired' && !targets.includes(r)) targets.push(r);
    if (targets.length === 0 && !failed) io.stdout(flags.expired ? 'no expired bootstrap tokens\n' : '');
    const { httpStatus, apiError } = await import('../cluster/connect.js');
    for (const r of targets) {
      const what = `token ${r.id} (Secret kube-system/${r.secret}${r.status === 'expired' ? ', expired' : ''})${r.owns.length ? `, and with it ${r.owns.join(', ')}` : ''}`;
      if (flags.dryRun) { io.stdout(`would delete ${what}\n`); continue; }
      try {
        await client.core.deleteNamespacedSecret({ name: r.secret, namespace: NS, ...(r.uid ? { body: { preconditions: { uid: r.uid } } } : {}) });
        io.stdout(`deleted ${what}\n`);
      } catch (e) {
        const status = httpStatus(e);
        // gone since it was listed (the tokencleaner at its expiry, another admin): what was asked is done
        if (status === 404) { io.stdout(`token ${r.id} was already deleted\n`); continue; }
        // 409: the uid precondition failed, so the Secret of that name is another token, made since
        if (status === 409) { io.stderr(`kubepki: not deleting token ${r.id}: Secret kube-system/${r.secret} was deleted and made again since it was read (run kubepki token list)\n`); failed = true; continue; }
        throw apiError(e, client, `delete Secret kube-system/${r.secret}`);
      }
    }
    // (the line every API-writing command's dry run ends with, whether or not there was anything to do)
    if (flags.dryRun) io.stdout(`${targets.length > 0 ? '\n' : ''}Dry run: nothing was written.\n`);
    io.exitCode = failed ? EXIT.broken : EXIT.ok;
  });
  return token;
}
