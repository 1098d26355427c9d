import { Command } from 'commander';
import type { Io } from './io.js';
import { UserError, EXIT, errorMessage } from '../errors.js';
import { addClusterOptions, outputOption, clusterFrom, nowFrom, table, parseOutput, type ClusterFlags } from './cluster-options.js';
import type { ClusterClient } from '../cluster/connect.js';
import type { TokenRow } from '../cluster/tokens.js';
import type { TokenCreateResult } from './result-doc.js';

interface ListFlags extends ClusterFlags { output?: string; showTokens?: boolean }
interface DeleteFlags extends ClusterFlags { expired?: boolean; dryRun?: boolean }
interface CreateFlags extends ClusterFlags {
  ttl: string;
  usages?: string[];
  groups?: string[];
  description?: string;
  printJoinCommand?: boolean;
  dryRun?: boolean;
  output?: string;
}

/**
 * kubeadm's --usages and --groups are pflag StringSlices: comma-separated, repeatable (each use adds to the list),
 * and '' is an empty list. The default applies only when the flag is not given (undefined here).
 */
function slice(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...(value === '' ? [] : value.split(','))];
}

interface CreateInputs {
  token: string;
  /** TOKEN was not given: one is drawn */
  drawn: boolean;
  ttlSeconds: number;
  usages: string[];
  groups: string[];
  description: string;
}

/**
 * TOKEN and the flags checked as kubeadm token create checks them, before anything is asked of the cluster:
 * NewBootstrapTokenString (the token), then validation.ValidateBootstrapTokens (ValidateTokenUsages: each of
 * bootstrapapi.KnownTokenUsages; ValidateTokenGroups: groups only with the authentication usage, each matching
 * bootstrapapi.BootstrapGroupPattern). Where kubepki is stricter than kubeadm, it is where kubeadm would make a token
 * nobody asked for: a negative --ttl (kubeadm: never expires) or one under a second (expired at once), and an empty
 * --usages (kubeadm puts its defaults back). --groups '' is no extra groups, which kubeadm's defaulting undoes too.
 */
async function createInputs(given: string | undefined, flags: CreateFlags): Promise<CreateInputs> {
  const bt = await import('../pki/bootstrap-token.js');
  if (given !== undefined && !bt.TOKEN_REGEX.test(given)) {
    // (echoed only where it holds no secret: a token whose dot was lost, abcdef0123456789abcdef, is one all the same)
    const shown = given.includes('.') ? bt.redactToken(given) : /[a-z0-9]{16}/i.test(given) ? '<redacted>' : given;
    throw new UserError(`TOKEN ${JSON.stringify(shown)} is not a bootstrap token: it must match [a-z0-9]{6}.[a-z0-9]{16} (e.g. abcdef.0123456789abcdef)`,
      'leave it out and a random one is drawn');
  }
  let ttlSeconds: number;
  try {
    ttlSeconds = bt.parseDurationSeconds(flags.ttl);
  } catch (e) {
    if (e instanceof bt.BootstrapTokenError) throw new UserError(`--ttl: ${e.message}`, 'kubeadm\'s --ttl takes Go durations: h, m, s and no d (168h is a week)');
    throw e;
  }
  const usages = flags.usages ?? [...bt.DEFAULT_TOKEN_USAGES];
  const unknown = usages.filter((u) => !(bt.TOKEN_USAGES as readonly string[]).includes(u));
  if (unknown.length) {
    throw new UserError(`--usages: invalid bootstrap token usage ${unknown.map((u) => JSON.stringify(u)).join(', ')}: the usages are ${bt.TOKEN_USAGES.join(' and ')}`, 'pass signing, authentication or both, comma-separated (the default: signing,authentication)');
  }
  if (usages.length === 0) {
    throw new UserError('--usages is empty: a token without usages can neither sign cluster-info for discovery nor authenticate a joining kubelet', 'pass signing, authentication or both (the default: signing,authentication)');
  }
  const groups = flags.groups ?? [bt.DEFAULT_TOKEN_GROUP];
  if (groups.length > 0 && !usages.includes('authentication')) {
    throw new UserError(`--groups: token groups cannot be specified unless --usages includes "authentication"${flags.groups ? '' : ` (--groups is ${bt.DEFAULT_TOKEN_GROUP} by default)`}`,
      'add authentication to --usages, or pass --groups \'\' for no extra groups');
  }
  for (const g of groups) {
    if (!bt.EXTRA_GROUP_REGEX.test(g)) {
      throw new UserError(`--groups: bootstrap group ${JSON.stringify(g)} is invalid: it must match ${bt.EXTRA_GROUP_REGEX.source}`, `extra groups are under system:bootstrappers: (kubeadm's: ${bt.DEFAULT_TOKEN_GROUP})`);
    }
  }
  const token = given ?? bt.generateToken();
  return { token, drawn: given === undefined, ttlSeconds, usages, groups, description: flags.description ?? '' };
}

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
    .description('list the cluster\'s bootstrap tokens, judged (expired, never expiring, unsigned in cluster-info), create and delete them')
    .addHelpText('before', `Examples:
  kubepki token list                         # every bootstrap token, and what a join with it would meet
  kubepki token create --print-join-command  # a new 24h token, as kubeadm token create makes it, and its join line
  kubepki token delete w7k2qx                # by id (or the whole id.secret)
  kubepki token delete --expired --dry-run   # the expired ones the tokencleaner left
`)
    .addHelpText('after', `
token create makes a token as kubeadm token create does, and signs cluster-info for
it. kubepki join (the manifests and join commands, --apply to put them into the
cluster) and kubepki cluster-info update --create-token make one too.

Exit codes: those of each command (kubepki token list --help, kubepki token create --help, kubepki token delete --help).`);

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
    token.command('create')
      .description('create a bootstrap token as kubeadm token create does, and sign cluster-info for it')
      .argument('[token]', 'the token to create, [a-z0-9]{6}.[a-z0-9]{16} (default: a random one)')
      .addHelpText('before', `Examples:
  kubepki token create                                  # a new 24h token, printed alone
  kubepki token create --print-join-command             # the whole kubeadm join line for a worker
  kubepki token create --ttl 2h --description "rack 7 workers"
  kubepki token create --usages authentication --groups system:bootstrappers:rack7
  kubepki token create abcdef.0123456789abcdef --dry-run
`)
      .option('--ttl <duration>', 'token lifetime, a Go duration (0 = never expires)', '24h')
      .option('--usages <list>', 'signing and/or authentication, comma-separated or repeated (default: signing,authentication)', slice)
      .option('--groups <list>', 'extra groups it authenticates as, comma-separated or repeated, each system:bootstrappers:… (default: system:bootstrappers:kubeadm:default-node-token; \'\' for none)', slice)
      .option('--description <text>', 'what the token is for (default: none, as kubeadm token create)')
      .option('--print-join-command', 'print the whole `kubeadm join` command with the token instead of the token alone')
      .option('--dry-run', 'read, and say what would be written (the Secret, the cluster-info signature); write nothing')
      .addOption(outputOption())
      .addHelpText('after', `
As kubeadm token create: TOKEN, --usages and --groups are checked as kubeadm checks them
(--groups need the authentication usage; pass --groups '' for a token that only signs), an id
that is already a token is refused, never replaced, and the Secret kube-system/bootstrap-token-<id>
holds what kubeadm writes (no description unless --description). Only the token, or with
--print-join-command the join command, goes to standard output: TOKEN=$(kubepki token create).

A signing token needs jws-kubeconfig-<id> in kube-public/cluster-info, or kubeadm join --token
fails. kube-controller-manager's bootstrapsigner adds it when it runs; kubepki signs it itself
(the same value), reads it back and says so on standard error. The join command's endpoint and
--discovery-token-ca-cert-hash are cluster-info's: what kubeadm join reads and pins (kubeadm
takes them from the kubeconfig; on a kubeadm cluster they are the same).

--dry-run makes only read requests (the token's Secret, cluster-info); a token it would draw is
shown as <new token>: the run that writes draws its own (pass TOKEN to choose it).

Exit codes:
  0  created (and, for a signing token, cluster-info signed for it and verified); --dry-run: what would be written printed
  2  created, but signing cluster-info for it failed or did not verify (the token is printed; the bootstrapsigner
     signs it when it runs, kubepki cluster-info update now)
  3+ kubepki could not run, nothing written: a bad TOKEN or flag, the id is already a token, no cluster-info for a
     signing token or the join command, no kubeconfig, API server unreachable, 401/403`),
  ).action(async (given: string | undefined, flags: CreateFlags) => {
    const format = parseOutput(flags.output);
    const input = await createInputs(given, flags);
    const now = nowFrom(flags);
    const client = await clusterFrom(flags, io);
    const { createToken, secretFields } = await import('../cluster/token-create.js');
    const { parseToken } = await import('../pki/bootstrap-token.js');
    const { goTime } = await import('../pki/go-duration.js');
    const res = await createToken(client, {
      token: input.token, ttlSeconds: input.ttlSeconds, usages: input.usages, groups: input.groups, description: input.description,
      now, readClusterInfo: flags.printJoinCommand, dryRun: flags.dryRun, drawn: input.drawn,
    });
    // a dry run shows no token it drew: nothing is made with it, and the run that writes draws another
    const hidden = flags.dryRun && input.drawn;
    const shown = hidden ? '<new token>' : input.token;
    const { id } = parseToken(input.token);
    const shownId = hidden ? '<id>' : id;
    const { expiration, usages } = secretFields(res.manifest);
    let joinCommand: string | undefined;
    let discoveryHashes: string[] | undefined;
    if (flags.printJoinCommand) {
      const { endpointOf } = await import('./cluster-info.js');
      discoveryHashes = res.clusterInfo!.caHashes;
      // (kubeadm's GetJoinWorkerCommand prints the same words, with the spaces its template's line breaks leave)
      joinCommand = `kubeadm join ${endpointOf(res.clusterInfo!.server ?? client.server)} --token ${shown}${discoveryHashes.map((h) => ` --discovery-token-ca-cert-hash ${h}`).join('')}`;
    }
    const warnings: string[] = [];
    // (--now makes the token for another moment: one already past on this machine's clock is refused by the cluster)
    if (expiration && Date.parse(expiration) <= Date.now()) {
      warnings.push(`token ${shownId} expires ${expiration}, already past on this machine's clock (${goTime(new Date())}): kube-apiserver refuses it and the tokencleaner deletes it; run without --now, or with a longer --ttl`);
    }
    if (!expiration && usages.includes('authentication')) {
      warnings.push(`token ${shownId} never expires: whoever has it can join nodes until it is deleted (kubepki token delete ${shownId}); give it a --ttl unless it is meant to stay`);
    }
    if (joinCommand && !(usages.includes('signing') && usages.includes('authentication'))) {
      warnings.push(`kubeadm join with this command fails: ${usages.includes('signing') ? 'without the authentication usage the token cannot bootstrap the kubelet' : 'without the signing usage there is no JWS for it in cluster-info ("there is no JWS signed token in the cluster-info ConfigMap")'}`);
    }
    for (const w of warnings) io.stderr(`kubepki: warning: ${w}\n`);
    let exitCode: number = EXIT.ok;
    let failure: TokenCreateResult['failure'];
    const e = res.signError;
    if (e !== undefined) {
      // the Secret is written: exit 2, and the token is said all the same (a credential now in the cluster: to use
      // once the bootstrapsigner signs cluster-info for it, or to delete)
      failure = { message: errorMessage(e), ...(e instanceof UserError && e.hint ? { hint: e.hint } : {}), state: 'written' };
      exitCode = EXIT.broken;
    }
    const reportFailure = async () => {
      if (e === undefined) return;
      const { reportError } = await import('./main.js');
      // (not an error kubepki knows, a bug: its own code, as main gives it)
      if (reportError(e, io) === 70) exitCode = 70;
    };
    if (format === 'json') {
      await reportFailure();
      const doc: TokenCreateResult = {
        apiVersion: 'kubepki.io/v1alpha1', kind: 'TokenCreateResult', now: now.toISOString(), dryRun: Boolean(flags.dryRun),
        outcome: failure ? 'unsigned' : 'created', exitCode,
        token: shown, ...(hidden ? {} : { id }), secret: `kube-system/bootstrap-token-${shownId}`,
        ...(expiration ? { expiration } : {}), usages, groups: input.groups, ...(input.description ? { description: input.description } : {}),
        signed: res.signs && !failure, ...(joinCommand ? { joinCommand, discoveryHashes } : {}),
        steps: res.steps, warnings, ...(failure ? { failure } : {}),
      };
      io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
    } else if (flags.dryRun) {
      for (const s of res.steps) io.stdout(`${s}\n`);
      io.stdout(`${joinCommand ?? shown}\n\nDry run: nothing was written.\n`);
    } else {
      // (what was done on stderr: standard output is the token alone, as kubeadm prints it, for TOKEN=$(…))
      for (const s of res.steps) io.stderr(`${s}\n`);
      await reportFailure();
      io.stdout(`${joinCommand ?? shown}\n`);
    }
    io.exitCode = exitCode;
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
