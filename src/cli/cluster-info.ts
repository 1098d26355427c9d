import { Command } from 'commander';
import { pluginTerminal, type Io } from './io.js';
import { UserError, EXIT } from '../errors.js';
import { addClusterOptions, outputOption, clusterFrom, nowFrom, parseOutput, type ClusterFlags } from './cluster-options.js';
import type { ClusterClient } from '../cluster/connect.js';
import { certificateKeyFlag, aliasOption } from './options.js';

export interface ClusterInfoUpdateFlags extends ClusterFlags {
  ca?: string;
  server?: string;
  token?: string;
  createToken?: boolean;
  ttl?: string;
  description?: string;
  uploadCerts?: boolean;
  certificateKey?: string;
  discoveryHash?: string;
  output?: string;
  dryRun?: boolean;
  /** working directory for a relative --ca */
  cwd?: string;
}

/** `host:port` of an https URL, as `kubeadm join` takes it. */
export function endpointOf(server: string): string {
  try {
    const u = new URL(server);
    return `${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || '443'}`;
  } catch {
    return server;
  }
}

export interface ApplyJoinCliResult {
  joinCommand?: string;
  discoveryHash: string;
  certificateKey?: string;
  steps: string[];
  /** nothing was written: `steps` say what would be */
  dryRun?: boolean;
  /** a dry run: why the run that writes would not verify (exit 2) */
  problems?: { message: string; hint?: string }[];
}

const CERTIFICATE_KEY_HINT = 'pass 64 hex characters (kubeadm certs certificate-key makes one)';

/**
 * The values of update's own flags, before the kubeconfig is read and the API server asked: a --ttl that is no
 * duration was refused only once cluster-info had been read (or, with no kubeconfig, hidden behind that error).
 */
async function checkUpdateFlags(flags: ClusterInfoUpdateFlags): Promise<void> {
  const { parseDurationSeconds, parseToken, BootstrapTokenError } = await import('../pki/bootstrap-token.js');
  for (const [flag, value, check, hint] of [
    ['--ttl', flags.ttl, parseDurationSeconds, 'use e.g. 24h, 2h30m or 0 for never'],
    ['--token', flags.token, parseToken, 'make one with `kubepki join` or pass --create-token'],
  ] as const) {
    try {
      if (value !== undefined) check(value);
    } catch (e) {
      if (e instanceof BootstrapTokenError) throw new UserError(`${flag}: ${e.message}`, hint);
      throw e;
    }
  }
  if (flags.certificateKey !== undefined) await certificateKeyFlag(flags.certificateKey, CERTIFICATE_KEY_HINT);
}

/**
 * The work behind `cluster-info update` and `join --apply`: read the CA (and
 * the shared keys for --upload-certs) from the node tree, then
 * `applyJoin`. Exported so the join/rebuild commands can call it.
 */
export async function applyJoinFromNode(client: ClusterClient, flags: ClusterInfoUpdateFlags, now: Date): Promise<ApplyJoinCliResult> {
  const { NodeFs } = await import('../fs/node-fs.js');
  const { applyJoin } = await import('../cluster/apply-join.js');
  const { readClusterInfo } = await import('../cluster/cluster-info.js');
  const { generateToken, parseToken, BootstrapTokenError } = await import('../pki/bootstrap-token.js');
  const { kubeadmPkiDir } = await import('../layouts/detect.js');
  const nfs = new NodeFs(flags.root ?? '/');
  // kubeadm's certificatesDir on this node (its manifests, kubelet config or kubeadm config say where)
  const pkiDir = kubeadmPkiDir(nfs);
  const caPath = flags.ca ?? `${pkiDir}/ca.crt`;
  let caPem: string;
  try {
    // --ca is a path on this machine; the default is the node's CA under --root
    caPem = (flags.ca ? (await import('node:fs')).readFileSync((await import('node:path')).resolve(flags.cwd ?? process.cwd(), flags.ca)) : nfs.readFile(caPath)).toString('utf8');
  } catch (e) {
    throw new UserError(`failed to read CA ${caPath}: ${(e as Error).message.split('\n')[0]}`, 'pass --ca FILE (the cluster CA certificate) or --root DIR');
  }
  let server = flags.server;
  if (!server) {
    // (only a 404 is "none yet": a read that failed otherwise says nothing of the server it names, and the update stops)
    const { callOptional } = await import('../cluster/connect.js');
    const cur = await callOptional(client, 'read ConfigMap kube-public/cluster-info', () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' }));
    server = readClusterInfo(cur?.data).server ?? client.server;
  }
  let token = flags.token;
  const tokenDrawn = Boolean(flags.createToken && !token);
  if (tokenDrawn) token = generateToken();
  try {
    if (token) parseToken(token);
  } catch (e) {
    if (e instanceof BootstrapTokenError) throw new UserError(`--token: ${e.message}`, 'make one with `kubepki join` or pass --create-token');
    throw e;
  }
  let kubeadmCerts: Record<string, string> | undefined;
  let certificateKey: string | undefined;
  if (flags.uploadCerts) {
    const up = await import('../pki/upload-certs.js');
    certificateKey = flags.certificateKey ?? up.newCertificateKey();
    const key = await certificateKeyFlag(certificateKey, CERTIFICATE_KEY_HINT);
    const files: Record<string, Uint8Array | undefined> = {};
    for (const rel of up.sharedFiles(!nfs.exists(`${pkiDir}/etcd/ca.crt`))) {
      files[rel] = nfs.exists(`${pkiDir}/${rel}`) ? nfs.readFile(`${pkiDir}/${rel}`) : undefined;
    }
    kubeadmCerts = up.sealFiles(key, files);
  }
  const res = await applyJoin(client, {
    token: token ? { token, ttl: flags.ttl ?? '24h', description: flags.description } : undefined,
    caPem,
    server,
    discoveryHash: flags.discoveryHash,
    kubeadmCerts,
    now,
    dryRun: flags.dryRun,
    tokenDrawn,
  });
  // a dry run prints no token or key it drew: nothing was made with them, and the run that writes draws others
  if (flags.dryRun && !flags.certificateKey) certificateKey = certificateKey && '<new certificate key>';
  const shownToken = flags.dryRun && tokenDrawn ? '<new token>' : token;
  const joinCommand = token
    ? `kubeadm join ${endpointOf(server)} --token ${shownToken} --discovery-token-ca-cert-hash ${res.discoveryHash}${certificateKey ? ` --control-plane --certificate-key ${certificateKey}` : ''}`
    : undefined;
  if (res.dryRun) return { joinCommand, discoveryHash: res.discoveryHash, ...(flags.certificateKey ? { certificateKey } : {}), steps: res.steps, dryRun: true, problems: res.problems ?? [] };
  return { joinCommand, discoveryHash: res.discoveryHash, certificateKey, steps: res.steps };
}

export interface ApplyClusterOptions {
  /** node tree whose CA, keys and admin.conf are used */
  root?: string;
  /** kubeconfig to use; default: admin.conf under --root, then $KUBECONFIG, ~/.kube/config */
  kubeconfig?: string;
  /** the option that took it (`--apply-cluster`), for messages */
  kubeconfigFlag?: string;
  now: Date;
  /** how long to wait for the API server to answer (it may be restarting) */
  waitSeconds?: number;
  /** join token to publish; default: a new one */
  token?: string;
  ttl?: string;
  uploadCerts?: boolean;
  certificateKey?: string;
}

/**
 * `join --apply` / `rebuild --apply-cluster`: wait for the API server, create a
 * bootstrap token, publish the node's CA in cluster-info signed for every
 * valid token (optionally kubeadm-certs), verify by reading back, and print
 * the join command. Sets io.exitCode; throws UserError (exit >= 2) on failure.
 */
export async function applyClusterCommand(io: Io, o: ApplyClusterOptions): Promise<ApplyJoinCliResult> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { connect, waitForApi } = await import('../cluster/connect.js');
  const { hostFileIn } = await import('../fs/node-fs.js');
  const admin = hostFileIn(o.root ?? '/', '/etc/kubernetes/admin.conf');
  const kubeconfig = o.kubeconfig ?? (fs.existsSync(admin) ? admin : undefined);
  const client = await connect({ kubeconfig, flag: o.kubeconfigFlag, root: o.root, env: io.env, cwd: io.cwd, terminal: pluginTerminal(io) });
  io.stdout(`waiting for the API server ${client.server} (kubeconfig ${client.kubeconfigPath}) …\n`);
  await waitForApi(client, (o.waitSeconds ?? 120) * 1000, undefined, 2000, true);
  const r = await applyJoinFromNode(client, {
    root: o.root, token: o.token, createToken: !o.token, ttl: o.ttl ?? '24h', uploadCerts: o.uploadCerts, certificateKey: o.certificateKey, cwd: io.cwd,
  }, o.now);
  for (const s of r.steps) io.stdout(`${s}\n`);
  if (r.joinCommand) io.stdout(`\njoin with:\n  ${r.joinCommand}\n`);
  io.exitCode = EXIT.ok;
  return r;
}

export interface ApplyJoinPlanOptions {
  root?: string;
  /** kubeconfig; default: admin.conf under --root, then $KUBECONFIG, ~/.kube/config */
  kubeconfig?: string;
  /** the option that took it (`--apply`), for messages */
  kubeconfigFlag?: string;
  token: string;
  ttlSeconds: number;
  description?: string;
  caPem: string;
  server: string;
  /** the hash the printed join command pins */
  discoveryHash: string;
  /** sealed kubeadm-certs data for a control-plane join */
  kubeadmCerts?: Record<string, string>;
  now: Date;
  /** read, and print what would be put into the cluster; write nothing */
  dryRun?: boolean;
  /** `token` was drawn for this run: a dry run does not name it */
  tokenDrawn?: boolean;
}

/**
 * `kubepki join --apply`: put a join plan's token, cluster-info (with the CA,
 * signed for every valid token) and kubeadm-certs into the cluster through
 * the API, then read back and verify. Prints what it did; throws UserError.
 * With `dryRun`, reads only and prints what it would put there, and on stderr
 * why reading back would not verify (`problems`: the caller's exit 2).
 */
export async function applyJoinPlan(io: Io, o: ApplyJoinPlanOptions): Promise<{ problems: { message: string; hint?: string }[] }> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { connect } = await import('../cluster/connect.js');
  const { applyJoin } = await import('../cluster/apply-join.js');
  const { hostFileIn } = await import('../fs/node-fs.js');
  const admin = hostFileIn(o.root ?? '/', '/etc/kubernetes/admin.conf');
  const client = await connect({ kubeconfig: o.kubeconfig ?? (fs.existsSync(admin) ? admin : undefined), flag: o.kubeconfigFlag, root: o.root, env: io.env, cwd: io.cwd, terminal: pluginTerminal(io) });
  const res = await applyJoin(client, {
    token: { token: o.token, ttlSeconds: o.ttlSeconds, ...(o.description ? { description: o.description } : {}) },
    caPem: o.caPem,
    server: o.server,
    discoveryHash: o.discoveryHash,
    kubeadmCerts: o.kubeadmCerts,
    now: o.now,
    dryRun: o.dryRun,
    tokenDrawn: o.tokenDrawn,
  });
  io.stdout(`${o.dryRun ? 'Would apply' : 'Applied'} to the cluster at ${client.server} (kubeconfig ${client.kubeconfigPath}):\n`);
  for (const s of res.steps) io.stdout(`  ${s}\n`);
  const problems = res.problems ?? [];
  sayProblems(io, problems);
  return { problems };
}

/** Why a dry run's real run would not verify: one line each on stderr, with its hint, as errors are said. */
function sayProblems(io: Io, problems: { message: string; hint?: string }[]): void {
  for (const p of problems) io.stderr(`kubepki: the run would not verify: ${p.message}${p.hint ? `; hint: ${p.hint}` : ''}\n`);
}

/** A dry run's last lines: what would fail its verification (stderr, one line each with its hint), and that nothing was written. */
function printDryRunEnd(io: Io, r: Pick<ApplyJoinCliResult, 'problems'>): void {
  sayProblems(io, r.problems ?? []);
  io.stdout('\nDry run: nothing was written.\n');
}

export function command(io: Io): Command {
  const ci = new Command('cluster-info')
    .description('publish and check kube-public/cluster-info (the CA and signatures joining nodes trust)')
    .addHelpText('before', `Examples:
  kubepki cluster-info show
  kubepki cluster-info update                       # after a new CA: publish it, re-sign for every token
  kubepki cluster-info update --create-token        # and make a 24h join token; prints the join command
  kubepki cluster-info update --create-token --upload-certs   # control-plane join (kubeadm-certs, 2h)
`)
    .addHelpText('after', `
Exit codes: those of each command (kubepki cluster-info update --help, kubepki cluster-info show --help).`);

  addClusterOptions(
    ci.command('update')
      .description('write the CA into cluster-info, sign it for every valid signing token, verify by reading back')
      .addHelpText('before', `Examples:
  kubepki cluster-info update --dry-run             # the server and CA hash it would publish, the signatures; writes nothing
  kubepki cluster-info update                       # after a new CA: publish it, re-sign for every token
  kubepki cluster-info update --create-token        # and make a 24h join token; prints the join command
  kubepki cluster-info update --root /mnt/node --kubeconfig /mnt/node/etc/kubernetes/admin.conf
`)
      .option('--ca <file>', 'CA bundle to publish (default: ca.crt in the node\'s certificatesDir under --root, /etc/kubernetes/pki unless its manifests or kubeadm config say otherwise)')
      .addOption(aliasOption('--ca-cert <file>', 'ca'))
      .option('--server <url>', 'control-plane endpoint (default: the one cluster-info has, else the kubeconfig\'s)')
      .option('--token <id.secret>', 'also create this bootstrap token Secret (the same token again is replaced; an id that is a token with another secret is refused)')
      .option('--create-token', 'also create a new bootstrap token')
      .option('--ttl <duration>', 'token lifetime (0 = never)', '24h')
      .option('--description <text>', 'token description')
      .option('--upload-certs', 'also upload the shared CA/SA keys, encrypted, as kube-system/kubeadm-certs (2h)')
      .option('--certificate-key <hex>', 'with --upload-certs: the AES-256 key (default: a new one, printed)')
      .option('--discovery-hash <sha256:hex>', 'fail unless cluster-info ends up pinned to this CA hash')
      .option('--dry-run', 'read, and print what would be written (the server and CA hash for cluster-info, its signatures, the token Secret and its expiry, kubeadm-certs); write nothing')
      .addOption(outputOption())
      .addHelpText('after', `
--dry-run makes only read requests: the token Secrets, cluster-info (also
with no credentials, as kubeadm join reads it) and each object it would
create or replace. A token --create-token would draw, and a certificate
key --upload-certs would draw, are not shown: the run that writes draws its
own (pass --token, --certificate-key to choose them).

Exit codes:
  0  written, and verified by reading it back (--dry-run: what would be written printed)
  2  written, but reading back did not verify (another writer, a signature, the CA hash not --discovery-hash, or
     joining nodes may not read it: kubeadm join reads it with no credentials); --dry-run: the run would not
     verify (the CA hash not --discovery-hash, joining nodes may not read cluster-info)
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403, --token an id that is
     someone else's token), --dry-run too`),
  ).action(async (flags: ClusterInfoUpdateFlags) => {
    const format = parseOutput(flags.output);
    const now = nowFrom(flags);
    await checkUpdateFlags(flags);
    const client = await clusterFrom(flags, io);
    const r = await applyJoinFromNode(client, { ...flags, cwd: io.cwd }, now);
    if (format === 'json') {
      io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'ClusterInfoUpdate', ...r }, null, 2)}\n`);
    } else {
      for (const s of r.steps) io.stdout(`${s}\n`);
      io.stdout(`discovery-token-ca-cert-hash: ${r.discoveryHash}\n`);
      if (r.joinCommand) io.stdout(`\njoin with${r.dryRun ? ', once written' : ''}:\n  ${r.joinCommand}\n`);
      if (r.dryRun) printDryRunEnd(io, r);
    }
    io.exitCode = r.problems?.length ? EXIT.broken : EXIT.ok;
  });

  addClusterOptions(
    ci.command('show')
      .description('the server, CA hashes and signing tokens of cluster-info, and whether each signature verifies')
      .addHelpText('before', `Examples:
  kubepki cluster-info show
  kubepki cluster-info show -o json --kubeconfig ~/.kube/config --context prod
`)
      .addOption(outputOption())
      .addHelpText('after', `
Exit codes:
  0  cluster-info is sound: every signature verifies, every valid signing token has one
  2  it is missing, has a problem, a signature does not verify, or a signing token has none
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403)`),
  ).action(async (flags: ClusterFlags & { output?: string }) => {
    const format = parseOutput(flags.output);
    const now = nowFrom(flags);
    const client = await clusterFrom(flags, io);
    const { callOptional } = await import('../cluster/connect.js');
    const { readClusterInfo, clusterInfoSignedBy } = await import('../cluster/cluster-info.js');
    const { readTokenSecret } = await import('../pki/bootstrap-token.js');
    const { listTokenSecrets } = await import('../cluster/tokens.js');
    const cm = await callOptional(client, 'read ConfigMap kube-public/cluster-info', () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' }));
    if (!cm) {
      // (kubeadm init makes it; without it `kubeadm join --token` finds no CA to trust: seed 001)
      throw new UserError(`ConfigMap kube-public/cluster-info does not exist in ${client.server}: nodes cannot join with a bootstrap token`, 'create it: kubepki cluster-info update (with --create-token for a join command)', EXIT.broken);
    }
    const view = readClusterInfo(cm.data);
    const tokens = (await listTokenSecrets(client)).map((s) => readTokenSecret(s, now)).filter((t) => t !== undefined);
    const sigs = view.signedBy.map((id) => {
      const t = tokens.find((x) => x.id === id);
      return { token: id, verifies: t ? clusterInfoSignedBy(cm.data, id, t.secret) : undefined, tokenExpired: t?.expired, tokenMissing: !t };
    });
    const unsigned = tokens.filter((t) => !t.expired && t.usages.includes('signing') && !view.signedBy.includes(t.id)).map((t) => t.id);
    const bad = Boolean(view.problem) || sigs.some((s) => s.verifies === false) || unsigned.length > 0;
    if (format === 'json') {
      io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'ClusterInfo', server: view.server, caHashes: view.caHashes, problem: view.problem, signatures: sigs, unsignedTokens: unsigned }, null, 2)}\n`);
    } else {
      io.stdout(`server: ${view.server ?? '(none)'}\n`);
      for (const h of view.caHashes) io.stdout(`CA: ${h}\n`);
      if (view.problem) io.stdout(`problem: ${view.problem}\n`);
      for (const s of sigs) io.stdout(`jws-kubeconfig-${s.token}: ${s.tokenMissing ? 'token Secret missing' : s.verifies ? 'verifies' : 'DOES NOT VERIFY'}${s.tokenExpired ? ' (token expired)' : ''}\n`);
      for (const u of unsigned) io.stdout(`token ${u}: valid signing token without a signature (run kubepki cluster-info update)\n`);
    }
    io.exitCode = bad ? EXIT.broken : EXIT.ok;
  });
  return ci;
}
