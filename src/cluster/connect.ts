/**
 * Connecting to the Kubernetes API: which kubeconfig, the typed clients, and
 * one translation of every transport/HTTP failure into a one-line UserError
 * (exit code ≥ 3) with a hint. `@kubernetes/client-node` is imported lazily
 * so commands that never talk to a cluster do not pay for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { hostFileIn } from '../fs/node-fs.js';
import { REDACTED, redactArgs, redactText, secretEnvValues } from './redact.js';

type K8s = typeof import('@kubernetes/client-node');

export interface ConnectOptions {
  /** --kubeconfig */
  kubeconfig?: string;
  /** the option that takes the kubeconfig in this command (`--cluster` in check), for messages; default `--kubeconfig` */
  flag?: string;
  /** --root: node tree whose /etc/kubernetes/admin.conf is the last fallback */
  root?: string;
  /** --context */
  context?: string;
  env: Record<string, string | undefined>;
  /** home directory (default os.homedir()) */
  home?: string;
  cwd?: string;
  /** how long one API call may take before it is given up (default API_TIMEOUT_MS; tests pass a short one) */
  timeoutMs?: number;
  /** how a read waits for the Retry-After of a 429 or 5xx before it is sent again (retryingReads); a test's, a real wait by default */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
  /**
   * Standard input is a terminal someone answers on. An exec credential plugin whose interactiveMode is not
   * Never then runs in it, as kubectl runs it: it may prompt (a device code, a password, a browser login), what
   * it writes to standard error is shown with `stderr` as it comes, and it has INTERACTIVE_PLUGIN_TIMEOUT_MS.
   * Unset: a plugin gets no terminal (a cron job, a pod, a pipe).
   */
  terminal?: { stderr(text: string): void };
}

export interface KubeconfigChoice {
  path: string;
  /** why this file: `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`, `admin.conf` */
  source: string;
}

export interface ClusterClient {
  k8s: K8s;
  kc: import('@kubernetes/client-node').KubeConfig;
  kubeconfigPath: string;
  server: string;
  /** user name of the current context (for messages) */
  user: string;
  /** the command line of that user's exec credential plugin, if its credentials come from one (for messages: secrets redacted) */
  exec?: string;
  core: import('@kubernetes/client-node').CoreV1Api;
  certs: import('@kubernetes/client-node').CertificatesV1Api;
  admission: import('@kubernetes/client-node').AdmissionregistrationV1Api;
  apiregistration: import('@kubernetes/client-node').ApiregistrationV1Api;
  rbac: import('@kubernetes/client-node').RbacAuthorizationV1Api;
  /** SubjectAccessReviews (csr approve asks whether a CSR's requester may have it approved) */
  authz: import('@kubernetes/client-node').AuthorizationV1Api;
  /** options that make a PATCH a JSON merge patch */
  mergePatch: import('@kubernetes/client-node').ConfigurationOptions;
  /** how long each call of these clients may take (`apiClient`): a call not answered by then fails (`timedOut`) */
  timeoutMs: number;
  /** another typed client for this server, with the same credentials and timeout */
  apiClient<T>(api: new (config: import('@kubernetes/client-node').Configuration) => T): T;
}

/**
 * How long one API call may take before kubepki gives up on it. Longer than kube-apiserver's own
 * --request-timeout (60s by default), after which it answers 504 Timeout itself, and so than an authorization
 * webhook's (30s), so that a slow server's own answer comes first; what is left is a server, or a load balancer
 * in front of it, that took the request and never answers (a failover leaves such half-open connections), which
 * would otherwise hold the command (and `csr approve --watch`) forever: client-node has no timeout of its own.
 * kubepki makes no watch or other long-running request, which this would cut.
 */
export const API_TIMEOUT_MS = 70_000;

/**
 * How long an exec plugin that has the terminal (`ConnectOptions.terminal`) may take: someone may be logging in
 * (a device code is typed in a browser elsewhere; Azure AD's lasts 15 minutes, AWS SSO's 10), and Ctrl-C stops
 * it any time. Still a limit, so that a forgotten terminal does not wait forever.
 */
export const INTERACTIVE_PLUGIN_TIMEOUT_MS = 15 * 60_000;

/**
 * The kubeconfig to use: `--kubeconfig`, else the first existing file of
 * `$KUBECONFIG` (colon-separated), else `~/.kube/config`, else
 * `/etc/kubernetes/admin.conf` under `--root`. (`connect` then falls back to
 * the in-cluster ServiceAccount when running in a pod.)
 */
export function resolveKubeconfig(o: ConnectOptions): KubeconfigChoice {
  const cwd = o.cwd ?? process.cwd();
  const flag = o.flag ?? '--kubeconfig';
  if (o.kubeconfig) {
    const p = path.resolve(cwd, o.kubeconfig);
    if (!fs.existsSync(p)) throw new UserError(`failed to read kubeconfig ${p}: no such file`, `pass an existing file to ${flag} (on a control-plane node: /etc/kubernetes/admin.conf)`);
    return { path: p, source: flag };
  }
  const tried: string[] = [];
  for (const p of (o.env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean)) {
    const abs = path.resolve(cwd, p);
    if (fs.existsSync(abs)) return { path: abs, source: '$KUBECONFIG' };
    tried.push(abs);
  }
  const home = o.home ?? o.env.HOME ?? os.homedir();
  const user = path.join(home, '.kube', 'config');
  if (fs.existsSync(user)) return { path: user, source: '~/.kube/config' };
  tried.push(user);
  const admin = hostFileIn(o.root ?? '/', '/etc/kubernetes/admin.conf');
  if (fs.existsSync(admin)) return { path: admin, source: 'admin.conf' };
  tried.push(admin);
  throw new UserError(`failed to find a kubeconfig: tried ${tried.join(', ')}`, `pass ${flag} FILE or set KUBECONFIG`);
}

/** Load the client library and the kubeconfig; no request is made yet. */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Running in a pod with a mounted ServiceAccount token (e.g. `csr approve --watch` as a Deployment). */
export function inCluster(env: Record<string, string | undefined>): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) && fs.existsSync(`${SA_DIR}/token`);
}

export async function connect(o: ConnectOptions): Promise<ClusterClient> {
  let choice: KubeconfigChoice;
  let fromCluster = false;
  try {
    choice = resolveKubeconfig(o);
  } catch (e) {
    if (o.kubeconfig || !inCluster(o.env)) throw e;
    choice = { path: `${SA_DIR} (in-cluster)`, source: 'in-cluster' };
    fromCluster = true;
  }
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  let text: string | undefined;
  try {
    if (fromCluster) kc.loadFromCluster();
    else {
      // (kc.loadFromFile, with a tree's node paths re-rooted before the relative ones are made absolute)
      text = fs.readFileSync(choice.path, 'utf8');
      const treeRoot = o.root !== undefined && inTree(o.root, choice.path) ? o.root : undefined;
      const tokenFiles = tokenFilesResolved(k8s, text, choice.path, treeRoot);
      kc.loadFromString(tokenFiles?.text ?? text);
      if (tokenFiles) trimFileTokens(kc, tokenFiles.users);
      if (treeRoot !== undefined) nodePathsIn(kc, treeRoot);
      kc.makePathsAbsolute(path.dirname(choice.path));
    }
    if (o.context) kc.setCurrentContext(o.context);
  } catch (e) {
    throw new UserError(`failed to read kubeconfig ${choice.path}: ${firstLine(e)}`, 'check the file with `kubepki inspect FILE`');
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new UserError(`failed to read kubeconfig ${choice.path}: the current context names no cluster with a server`, 'set current-context, or pass --context');
  }
  const timeoutMs = o.timeoutMs ?? API_TIMEOUT_MS;
  // kc.makeApiClient, with the timeout in every client's configuration: each call gets it, and options a call
  // passes with middlewareMergeStrategy 'append' (setHeaderOptions, timeoutOptions) keep it or set their own
  const server = cluster.server;
  const user = kc.getCurrentUser()?.name ?? '(none)';
  const plugin = execOf(kc.getCurrentUser());
  const exec = plugin ? commandLine(plugin) : undefined;
  // (client-node keeps no cluster extensions: the one a plugin is given is read from the file itself)
  const clusterInfo = plugin?.provideClusterInfo === true
    ? () => execCluster(cluster, rawCluster(k8s, text, cluster.name), choice.path)
    : undefined;
  const guard = plugin && exec !== undefined ? execPluginGuard(kc, plugin, exec, choice.path, user, timeoutMs, o.terminal, clusterInfo) : undefined;
  const httpApi = retryingReads(k8s, guard ? reportingRefusals(k8s, guard.refused) : new k8s.IsomorphicFetchHttpLibrary(), o.sleep);
  const apiClient = <T>(api: new (config: import('@kubernetes/client-node').Configuration) => T): T => new api(k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(server, {}),
    authMethods: { default: guard ?? kc },
    middleware: [timeoutMiddleware(k8s, timeoutMs)],
    httpApi,
  }));
  return {
    k8s,
    kc,
    kubeconfigPath: choice.path,
    server,
    user,
    ...(exec !== undefined ? { exec } : {}),
    core: apiClient(k8s.CoreV1Api),
    certs: apiClient(k8s.CertificatesV1Api),
    admission: apiClient(k8s.AdmissionregistrationV1Api),
    apiregistration: apiClient(k8s.ApiregistrationV1Api),
    rbac: apiClient(k8s.RbacAuthorizationV1Api),
    authz: apiClient(k8s.AuthorizationV1Api),
    mergePatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    timeoutMs,
    apiClient,
  };
}

/**
 * A CoreV1Api for `client`'s server as nobody: the same cluster entry (server, CA, tls-server-name) and timeout,
 * no credentials, so requests are `system:anonymous`'s, as `kubeadm join` reads kube-public/cluster-info before it
 * trusts anything (its token discovery's client has no credentials).
 */
export function anonymousCore(client: Pick<ClusterClient, 'k8s' | 'kc' | 'server' | 'timeoutMs'>): import('@kubernetes/client-node').CoreV1Api {
  const { k8s } = client;
  const cluster = client.kc.getCurrentCluster();
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...(cluster ?? { name: 'cluster', skipTLSVerify: false }), server: client.server }],
    users: [{ name: 'anonymous' }],
    contexts: [{ name: 'anonymous', cluster: cluster?.name ?? 'cluster', user: 'anonymous' }],
    currentContext: 'anonymous',
  });
  return new k8s.CoreV1Api(k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(client.server, {}),
    authMethods: { default: kc },
    middleware: [timeoutMiddleware(k8s, client.timeoutMs)],
    httpApi: retryingReads(k8s, new k8s.IsomorphicFetchHttpLibrary()),
  }));
}

/** `file` lies in the node tree `root` (not `/`): admin.conf found under --root, or a tree's kubeconfig named with it. */
function inTree(root: string, file: string): boolean {
  const r = path.resolve(root);
  const rel = path.relative(r, path.resolve(file));
  return r !== path.parse(r).root && rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * A kubeconfig of the node tree under --root names files as paths on that node (kubeadm's admin.conf may name
 * /etc/kubernetes/pki/ca.crt): they are the tree's files, links resolved inside it as for admin.conf itself,
 * not this host's. client-node would read them on the host (a missing file, or the host's CA trusted for the
 * tree's cluster). Relative ones stay relative to the kubeconfig, as client-go reads them.
 */
function nodePathsIn(kc: import('@kubernetes/client-node').KubeConfig, root: string): void {
  const inRoot = (p: string | undefined) => (p && path.isAbsolute(p) ? hostFileIn(root, p) : p);
  for (const c of kc.clusters) c.caFile = inRoot(c.caFile);
  for (const u of kc.users) {
    u.certFile = inRoot(u.certFile);
    u.keyFile = inRoot(u.keyFile);
  }
}

/**
 * users[].user.tokenFile as client-go reads it (clientcmd's getUserIdentificationPartialConfig and the bearer
 * round tripper's file token source): a relative path is relative to the kubeconfig (ResolvePaths), under
 * --root a node path is the tree's file, and with a token too the file's token is sent while the file can be
 * read, the token otherwise. client-node knows no tokenFile (a user with only one sent no credentials); it
 * reads a `token-file` of its own while it parses, as written (from the working directory, on this host), and
 * sends a token before it. So the text it is given has client-go's reading as its `token-file`, and no other
 * (kubectl ignores a `token-file`). undefined when no user has either; `users`: those whose token is a file's.
 */
function tokenFilesResolved(k8s: K8s, text: string, kubeconfig: string, root: string | undefined): { text: string; users: Set<string> } | undefined {
  // (most kubeconfigs have neither: client-node's own parse is then the only one)
  if (!text.includes('tokenFile') && !text.includes('token-file')) return undefined;
  const doc = k8s.loadYaml<{ users?: { name?: unknown; user?: Record<string, unknown> }[] }>(text);
  const users = new Set<string>();
  let changed = false;
  for (const u of Array.isArray(doc?.users) ? doc.users : []) {
    const user = u?.user;
    if (!user || typeof user !== 'object' || !('tokenFile' in user || 'token-file' in user)) continue;
    changed = true;
    const file = user.tokenFile;
    delete user.tokenFile;
    delete user['token-file'];
    if (typeof file !== 'string' || file === '') continue;
    const resolved = path.isAbsolute(file) ? (root !== undefined ? hostFileIn(root, file) : file) : path.resolve(path.dirname(kubeconfig), file);
    if (typeof user.token === 'string' && user.token !== '') {
      if (!fs.existsSync(resolved)) continue;
      delete user.token;
    }
    user['token-file'] = resolved;
    if (typeof u.name === 'string') users.add(u.name);
  }
  return changed ? { text: k8s.dumpYaml(doc), users } : undefined;
}

/**
 * A token read from a tokenFile without the white space around it, as client-go's cached file token source
 * takes it (strings.TrimSpace): the newline `echo TOKEN > file` leaves would otherwise go into the
 * Authorization header, which Node refuses to send.
 */
function trimFileTokens(kc: import('@kubernetes/client-node').KubeConfig, users: Set<string>): void {
  for (const u of kc.users) if (users.has(u.name) && typeof u.token === 'string') (u as { token?: string }).token = u.token.trim();
}

interface ExecConfig {
  command?: string;
  args?: string[];
  apiVersion?: string;
  env?: { name?: string; value?: string }[];
  /** client.authentication.k8s.io: Never, IfAvailable (the default when unset), Always */
  interactiveMode?: string;
  /** give the plugin the cluster it authenticates to (KUBERNETES_EXEC_INFO spec.cluster) */
  provideClusterInfo?: boolean;
}

/** The cluster extension client-go hands an exec plugin as spec.cluster.config (clientcmd's clusterExtensionKey). */
const EXEC_EXTENSION = 'client.authentication.k8s.io/exec';

/** `clusters[].cluster` of the kubeconfig TEXT for the cluster NAME, as written (client-node's parser: the same reading). */
function rawCluster(k8s: K8s, text: string | undefined, name: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const doc = k8s.loadYaml<{ clusters?: { name?: unknown; cluster?: Record<string, unknown> }[] }>(text);
  return (Array.isArray(doc?.clusters) ? doc.clusters : []).find((c) => c?.name === name)?.cluster;
}

/**
 * KUBERNETES_EXEC_INFO's spec.cluster for a plugin with provideClusterInfo, as client-go builds it
 * (rest.ConfigToExecCluster; clientauthentication/v1 Cluster): server always; tls-server-name,
 * insecure-skip-tls-verify, certificate-authority-data, proxy-url and disable-compression when set; config is the
 * cluster's extension client.authentication.k8s.io/exec, null without one (its Go RawExtension encodes so). The CA
 * is the one the connection trusts, its data also when the kubeconfig names a certificate-authority file: the
 * Cluster type has no file field, "CA data will always be passed to the plugin as bytes".
 */
function execCluster(cluster: import('@kubernetes/client-node').Cluster, raw: Record<string, unknown> | undefined, kubeconfigPath: string): Record<string, unknown> {
  let ca: Buffer | undefined;
  if (cluster.caFile) {
    try {
      ca = fs.readFileSync(cluster.caFile);
    } catch (e) {
      throw new UserError(
        `failed to read the certificate-authority ${cluster.caFile} of cluster ${cluster.name} in ${kubeconfigPath} for its exec plugin (provideClusterInfo): ${(e as NodeJS.ErrnoException).code ?? firstLine(e)}`,
        'make it name a readable CA file, or embed the CA as certificate-authority-data',
      );
    }
  } else if (cluster.caData) ca = Buffer.from(cluster.caData, 'base64');
  const extensions = Array.isArray(raw?.extensions) ? (raw.extensions as { name?: unknown; extension?: unknown }[]) : [];
  return {
    server: cluster.server,
    ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
    ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(ca?.length ? { 'certificate-authority-data': ca.toString('base64') } : {}),
    ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
    ...(raw?.['disable-compression'] === true ? { 'disable-compression': true } : {}),
    config: extensions.find((x) => x?.name === EXEC_EXTENSION)?.extension ?? null,
  };
}

/** What kubepki reads of a plugin's ExecCredential (client-node applies its credentials). */
interface ExecCredential {
  status?: { expirationTimestamp?: string | null };
}

/** The parts of client-node's ExecAuth (exec_auth.js) execPluginGuard takes over: not in its typings. */
interface ExecAuthInternals {
  execFn: typeof spawn;
  getCredential(user: import('@kubernetes/client-node').User): Promise<ExecCredential | null>;
  tokenCache: Record<string, ExecCredential | null>;
}

/** The exec credential plugin of a kubeconfig user (`users[].user.exec`, or the legacy auth-provider `exec`). */
function execOf(u: import('@kubernetes/client-node').User | null): ExecConfig | undefined {
  return u?.exec ?? u?.authProvider?.config?.exec;
}

/**
 * The plugin's command line as messages show it: every value that may be a secret (`--client-secret …`,
 * `--password=…`, a token, a URL's password) is `<redacted>` (redact.ts). Its `env` is never shown.
 */
function commandLine(exec: ExecConfig): string {
  return redactArgs([exec.command, ...(exec.args ?? [])].filter((w): w is string => Boolean(w))).join(' ');
}

/** Where the values a redacted command line hides are, for an operator told to run it (none when nothing is hidden). */
function redactedFrom(command: string): string {
  return command.includes(REDACTED) ? `with the values shown as ${REDACTED} from the kubeconfig` : '';
}

/** `run `COMMAND` yourself`, saying where the redacted values are. */
function runYourself(command: string): string {
  const from = redactedFrom(command);
  return `run \`${command}\` yourself${from ? ` (${from})` : ''}`;
}

/** The exec plugins running now, of every connection, and how to stop each: a signal that ends kubepki ends them too. */
const runningPlugins = new Map<ChildProcess, (sig: NodeJS.Signals) => void>();
const PLUGIN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * A signal while plugins run: they are stopped (in their own process group, a Ctrl-C does not reach them). Then,
 * if the process has no handler of its own for the signal, it is raised again and ends kubepki as it would have;
 * if it has one (`serve` stopping gracefully, a library caller), that handler alone decides what happens next: no
 * second signal that would end the process before it is done. (This listener is prepended: the others seen here
 * are all there are.)
 */
function onSignalWhilePluginsRun(sig: NodeJS.Signals): void {
  const handledElsewhere = process.listenerCount(sig) > 1;
  for (const stop of runningPlugins.values()) stop(sig);
  if (handledElsewhere) return;
  for (const s of PLUGIN_SIGNALS) process.off(s, onSignalWhilePluginsRun);
  process.kill(process.pid, sig);
}

function trackPlugin(child: ChildProcess, stop: (sig: NodeJS.Signals) => void): void {
  if (runningPlugins.size === 0) for (const s of PLUGIN_SIGNALS) process.prependListener(s, onSignalWhilePluginsRun);
  runningPlugins.set(child, stop);
  // (closed, not exited: what it started may still hold its stdout, and client-node waits for that)
  child.once('close', () => {
    runningPlugins.delete(child);
    if (runningPlugins.size === 0) for (const s of PLUGIN_SIGNALS) process.off(s, onSignalWhilePluginsRun);
  });
}

/**
 * What to do when the API server refused the credentials of `client`'s kubeconfig (401), by where they come from:
 * its exec plugin (an expired cloud login), else a client certificate or token in the file.
 */
export function credentialsHint(client: Pick<ClusterClient, 'kubeconfigPath'> & Partial<Pick<ClusterClient, 'exec'>>): string {
  if (client.exec !== undefined) {
    return `they come from its exec plugin \`${client.exec}\`: log in again with the tool it belongs to (run the command${redactedFrom(client.exec) ? `, ${redactedFrom(client.exec)},` : ''} to see what it returns), or use another kubeconfig`;
  }
  return 'the client certificate (or token) is expired, revoked or not from this cluster\'s CA: run `kubepki check` (and `kubepki inspect ' + client.kubeconfigPath + '`)';
}

/**
 * For a user whose credentials come from an exec plugin (aws eks get-token, gke-gcloud-auth-plugin, kubelogin …):
 * client-node runs the plugin before any middleware, so the API timeout does not cover it, and a plugin that
 * waits (for a login, a prompt on the stdin it is never given, the network) held every command forever. Here the
 * plugin has `timeoutMs` to answer; then it is killed with everything it started (it runs in its own process
 * group, so a script's children go too: they hold its stdout, and client-node waits for that to close), and the
 * call fails with one line naming the kubeconfig, the user and the command (its secrets redacted). (client-go
 * sets no limit either; a kubepki command, possibly a cron job or `csr approve --watch`, must not hang.)
 *
 * With a terminal (`terminal`) and an interactiveMode other than Never, the plugin runs as client-go runs it
 * then: on kubepki's standard input, in kubepki's session and process group, so that it can prompt and read
 * /dev/tty (a process group of its own would mean a session of its own, setsid(), without the terminal); its
 * standard error is shown as it comes; it has INTERACTIVE_PLUGIN_TIMEOUT_MS, and then it alone is stopped
 * (SIGTERM, so that it can give the terminal back as it was, then SIGKILL). interactiveMode Always without a
 * terminal fails at once, as in client-go. The plugin is told which in KUBERNETES_EXEC_INFO (spec.interactive), and
 * with provideClusterInfo the cluster it authenticates to (spec.cluster, `execCluster`).
 */
function execPluginGuard(
  kc: import('@kubernetes/client-node').KubeConfig,
  exec: ExecConfig,
  command: string,
  kubeconfigPath: string,
  user: string,
  timeoutMs: number,
  terminal: ConnectOptions['terminal'],
  /** spec.cluster for a plugin with provideClusterInfo (`execCluster`) */
  clusterInfo: (() => Record<string, unknown>) | undefined,
): import('@kubernetes/client-node').SecurityAuthentication & { refused(ctx: import('@kubernetes/client-node').RequestContext): void } {
  const mode = exec.interactiveMode ?? 'IfAvailable';
  const interactive = terminal !== undefined && mode !== 'Never';
  const limitMs = interactive ? Math.max(timeoutMs, INTERACTIVE_PLUGIN_TIMEOUT_MS) : timeoutMs;
  const failedPlugin = `failed to get the credentials of user ${user} in ${kubeconfigPath}: its exec plugin \`${command}\``;
  const timedOutError = () => new UserError(
    `${failedPlugin} did not answer within ${limitMs / 1000}s and was stopped`,
    `${runYourself(command)} to see what it waits for (a login, a prompt: ${interactive ? 'it had the terminal' : `it had no terminal, as ${mode === 'Never' ? 'its interactiveMode is Never' : 'kubepki\'s standard input is not one'}`}; the network), then run the command again`,
  );
  let timedOut = false;
  let failed = false;
  let signalled: NodeJS.Signals | undefined;
  const stop = (child: ChildProcess) => {
    if (!interactive) {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      return;
    }
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  };
  // client-node's ExecAuth spawns the plugin with its `execFn` (child_process.spawn): swapped for one that
  // starts it as said above and stops it at the deadline
  const execAuth = ((kc as unknown as { authenticators?: object[] }).authenticators ?? []).find((a) => 'execFn' in a) as ExecAuthInternals | undefined;
  // client-node keeps a credential until its expirationTimestamp, and one without it not at all: the plugin ran
  // again for every API call of a command (an interactive one prompted again). Its getCredential is wrapped to
  // keep the credential as client-go does (exec.go: getCreds, credsExpired, maybeRefreshCreds): until its
  // expirationTimestamp, without one for as long as the process runs, and either way until the API server
  // refuses it (401, `refused`), after which the next call runs the plugin again.
  let kept: ExecCredential | undefined;
  const sentWith = new WeakMap<import('@kubernetes/client-node').RequestContext, ExecCredential>();
  const fresh = (c: ExecCredential) => {
    const expires = c.status?.expirationTimestamp;
    return expires === undefined || expires === null || Date.parse(expires) > Date.now();
  };
  if (execAuth) {
    const run = execAuth.getCredential.bind(execAuth);
    execAuth.getCredential = async (u) => {
      if (kept && fresh(kept)) return kept;
      kept = undefined;
      // (client-node's own cache would hand back a refused credential until it expires)
      execAuth.tokenCache[u.name] = null;
      const c = await run(u);
      kept = c?.status ? c : undefined;
      return c;
    };
    execAuth.execFn = ((cmd: string, args: readonly string[] | undefined, opts: import('node:child_process').SpawnOptions) => {
      // (thrown in client-node's promise: the call fails with it)
      if (!['Never', 'IfAvailable', 'Always'].includes(mode)) {
        throw new UserError(`${failedPlugin} has interactiveMode ${JSON.stringify(mode)}`, `set users[].user.exec.interactiveMode of user ${user} to Never, IfAvailable or Always`);
      }
      if (mode === 'Always' && !terminal) {
        throw new UserError(`${failedPlugin} needs a terminal (interactiveMode: Always), and kubepki's standard input is not one`, 'run the command in a terminal, or log in with the plugin\'s tool first');
      }
      const spec = { ...(clusterInfo ? { cluster: clusterInfo() } : {}), interactive };
      const env = { ...(opts.env ?? process.env), KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', ...(exec.apiVersion ? { apiVersion: exec.apiVersion } : {}), spec }) };
      const child = interactive
        ? spawn(cmd, args ?? [], { ...opts, env, stdio: ['inherit', 'pipe', 'pipe'] })
        : spawn(cmd, args ?? [], { ...opts, env, detached: true });
      if (interactive) child.stderr?.on('data', (d: Buffer | string) => terminal!.stderr(String(d)));
      child.once('error', () => { failed = true; });
      child.once('exit', (code) => { if (code !== 0) failed = true; });
      if (child.pid === undefined) return child;
      const timer = setTimeout(() => { timedOut = true; stop(child); }, limitMs);
      child.once('close', () => clearTimeout(timer));
      trackPlugin(child, (sig) => { signalled = sig; stop(child); });
      return child;
    }) as typeof spawn;
  }
  const authenticate = async (ctx: import('@kubernetes/client-node').RequestContext): Promise<void> => {
    // (a plugin that escaped its group and keeps its stdout open would still hold the call: given up a moment later)
    let late: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => { late = setTimeout(() => reject(timedOutError()), limitMs + 2000); });
    try {
      await Promise.race([kc.applySecurityAuthentication(ctx), deadline]);
      if (kept) sentWith.set(ctx, kept);
    } catch (e) {
      if (e instanceof UserError) throw e;
      const [wasTimedOut, wasFailed, wasSignalled] = [timedOut, failed, signalled];
      timedOut = false;
      failed = false;
      signalled = undefined;
      // (the process goes on after a signal only when it stops gracefully by itself: `serve`)
      if (wasSignalled) throw new UserError(`${failedPlugin} was stopped: kubepki got ${wasSignalled}`, 'run the command again');
      if (wasTimedOut) throw timedOutError();
      // (exit 0 with something else on stdout, a login banner or a proxy's HTML page: client-node's JSON.parse
      // throws, quoting the start of that output, which read as the API server's answer)
      if (e instanceof SyntaxError) {
        throw new UserError(`${failedPlugin} did not print an ExecCredential: its output is not JSON`, `${runYourself(command)} to see why`);
      }
      if (!wasFailed) throw e;
      // (its first line of standard error, with what looks like a secret redacted as in its command line, and
      // the secrets of its env)
      const said = redactText(firstLine(e).trim(), secretEnvValues(exec.env));
      throw new UserError(`${failedPlugin} failed${said ? `: ${said}` : ''}`, `${runYourself(command)} to see why`);
    } finally {
      clearTimeout(late);
    }
  };
  // One call at a time, as client-go does: calls made together (Promise.all) would each start the plugin, and
  // one that prompts would prompt twice at once on the terminal. The next call finds the credential kept;
  // calls that waited for a run that failed fail with its error instead of starting the plugin again.
  let inLine: Promise<void> = Promise.resolve();
  return {
    getName: () => kc.getName(),
    // (only the credential that call was sent with: calls refused together, or one answered after the plugin
    // ran again, do not drop a newer one and run the plugin once more, as client-go compares cachedCreds)
    refused: (ctx) => {
      if (kept !== undefined && sentWith.get(ctx) === kept) kept = undefined;
    },
    applySecurityAuthentication: (ctx) => {
      const previous = inLine;
      const mine = previous.then(() => authenticate(ctx));
      inLine = mine;
      const done = () => { if (inLine === mine) inLine = Promise.resolve(); };
      mine.then(done, done);
      return mine;
    },
  };
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0]!;
}

/** HTTP status of a client-node ApiException, if it is one. */
export function httpStatus(e: unknown): number | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
}

/**
 * client-node's fetch library, telling `refused` of each 401: the guard then drops the exec plugin's credential
 * that call was sent with, as client-go's round tripper does (the answer stays what it was: only the next call
 * runs the plugin again).
 */
function reportingRefusals(k8s: K8s, refused: (ctx: import('@kubernetes/client-node').RequestContext) => void): import('@kubernetes/client-node').HttpLibrary {
  const fetchLibrary = new k8s.IsomorphicFetchHttpLibrary();
  return k8s.wrapHttpLibrary({
    send: async (ctx) => {
      const res = await fetchLibrary.send(ctx).toPromise();
      if (res.httpStatusCode === 401) refused(ctx);
      return res;
    },
  });
}

/**
 * The longest Retry-After waited for. kube-apiserver's max-in-flight and priority-and-fairness filters ask 1 s or
 * a few (5 while it shuts down), its ServerTimeout 500s a few (apierrors.NewServerTimeout's retryAfterSeconds,
 * sent as Retry-After by responsewriters.ErrorNegotiated); a server asking for more is not better in a moment:
 * its answer is the call's.
 */
export const MAX_RETRY_AFTER_S = 10;

/**
 * The ms an answer's Retry-After asks to wait before its request is sent again, when it may be. client-go's rule
 * (rest/request.go checkWait, retryAfterSeconds): a 429 or any 5xx whose Retry-After is a whole number of seconds;
 * without one (or with an HTTP date), never. kubepki waits at most MAX_RETRY_AFTER_S.
 */
export function retryAfterMs(status: number | undefined, headers: Record<string, string> | undefined): number | undefined {
  if (status === undefined || (status !== 429 && status < 500)) return undefined;
  const h = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (h === undefined || !/^\d+$/.test(h.trim())) return undefined;
  const s = Number(h.trim());
  return s <= MAX_RETRY_AFTER_S ? s * 1000 : undefined;
}

/** How many times a read is sent again after a Retry-After: client-go's (rest/request.go, withRetry maxRetries). */
const READ_RETRIES = 10;

/** Wait `ms`, or less if `signal` aborts first: true when the whole wait passed. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(false); return; }
    const stop = () => { clearTimeout(t); resolve(false); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', stop); resolve(true); }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * `library`, sending a GET again after the wait its answer's Retry-After asks (retryAfterMs), up to READ_RETRIES
 * times, as client-go sends any request again: on a busy control plane kube-apiserver's priority-and-fairness and
 * max-in-flight filters answer 429 with Retry-After 1, and a read that gave up there failed a whole command. Writes
 * are left to their callers, which decide whether one may be sent twice (csr-sar.ts sendWithRetryAfter). A wait
 * that the call's own timeout (its signal) cuts short gives the answer waited on, so the error says what the server
 * said rather than that it did not answer.
 */
function retryingReads(k8s: K8s, library: import('@kubernetes/client-node').HttpLibrary, sleep: (ms: number, signal?: AbortSignal) => Promise<boolean> = realSleep): import('@kubernetes/client-node').HttpLibrary {
  return k8s.wrapHttpLibrary({
    send: async (ctx) => {
      let res = await library.send(ctx).toPromise();
      if (ctx.getHttpMethod() !== k8s.HttpMethod.GET) return res;
      for (let retry = 0; retry < READ_RETRIES; retry++) {
        const ms = retryAfterMs(res.httpStatusCode, res.headers);
        if (ms === undefined || !(await sleep(ms, ctx.getSignal()))) return res;
        await res.body.binary().catch(() => undefined); // the answer not given is read, so its connection is free again
        res = await library.send(ctx).toPromise();
      }
      return res;
    },
  });
}

/** A middleware that gives up on a request `ms` after it is sent (and on reading its answer): an AbortError, `timedOut`. */
function timeoutMiddleware(k8s: K8s, ms: number): import('@kubernetes/client-node').ObservableMiddleware {
  return {
    pre: (ctx) => { ctx.setSignal(AbortSignal.timeout(ms)); return new k8s.Observable(Promise.resolve(ctx)); },
    post: (res) => new k8s.Observable(Promise.resolve(res)),
  };
}

/**
 * Options for one call that give it its own timeout, `ms`, instead of the client's (`ClusterClient.timeoutMs`):
 * appended after the client's own middleware, its signal replaces the client's.
 */
export function timeoutOptions(client: Pick<ClusterClient, 'k8s'>, ms: number): import('@kubernetes/client-node').ConfigurationOptions {
  return { middleware: [timeoutMiddleware(client.k8s, ms)], middlewareMergeStrategy: 'append' };
}

/** A call given up by `timeoutOptions`. */
export function timedOut(e: unknown): boolean {
  return (e as { name?: unknown })?.name === 'AbortError';
}

/** The `Status` body's message of an ApiException (the body may be a string or parsed). */
export function statusMessage(e: unknown): string | undefined {
  let body = (e as { body?: unknown })?.body;
  if (typeof body === 'string') {
    const text: string = body;
    try { body = JSON.parse(text); } catch { return text.split('\n')[0]; }
  }
  const m = (body as { message?: unknown })?.message;
  return typeof m === 'string' ? m : undefined;
}

const TLS_UNKNOWN_CA = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE',
]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** The transport error code (ECONNREFUSED, CERT_HAS_EXPIRED …) hidden in a fetch error chain. */
export function transportCode(e: unknown): string | undefined {
  let cur: any = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (typeof cur.code === 'string') return cur.code;
    if (typeof cur.errno === 'string') return cur.errno;
    cur = cur.cause ?? cur.reason;
  }
  const msg = e instanceof Error ? e.message : String(e);
  const m = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|ECONNRESET|CERT_HAS_EXPIRED)\b/.exec(msg);
  return m?.[1];
}

/**
 * One clear line for a failed API call. `what` says what was being done
 * (`list CertificateSigningRequests`). Everything ends as UserError with
 * exit code 3 (4 for authentication/authorization refusals).
 */
export function apiError(e: unknown, client: Pick<ClusterClient, 'server' | 'kubeconfigPath' | 'user'> & Partial<Pick<ClusterClient, 'timeoutMs' | 'exec'>>, what: string): UserError {
  if (e instanceof UserError) return e;
  const status = httpStatus(e);
  const where = `the API server ${client.server}`;
  if (status === undefined && timedOut(e)) {
    return new UserError(
      `failed to ${what}: ${where} did not answer ${client.timeoutMs !== undefined ? `within ${client.timeoutMs / 1000}s` : 'in time'}`,
      'the API server, or a load balancer in front of it, took the request and is not answering: see whether it is ready with `kubectl get --raw /readyz`, then run the command again',
    );
  }
  if (status !== undefined) {
    const msg = statusMessage(e);
    if (status === 401) {
      return new UserError(
        `failed to ${what}: ${where} refused the credentials of user ${client.user} in ${client.kubeconfigPath} (401 Unauthorized)`,
        credentialsHint(client),
        4,
      );
    }
    if (status === 403) {
      return new UserError(`failed to ${what}: ${msg ?? 'forbidden'} (403 Forbidden)`, `use a kubeconfig with more rights (on a control-plane node: /etc/kubernetes/admin.conf)`, 4);
    }
    return new UserError(`failed to ${what}: ${where} answered ${status}${msg ? `: ${msg}` : ''}`, statusHint(status));
  }
  const code = transportCode(e);
  if (code === 'CERT_HAS_EXPIRED') {
    return new UserError(`failed to ${what}: the serving certificate of ${where} has expired`, 'run `kubepki check` on a control-plane node, then `kubepki renew`');
  }
  if (code && TLS_UNKNOWN_CA.has(code)) {
    return new UserError(`failed to ${what}: the serving certificate of ${where} is not signed by the CA in ${client.kubeconfigPath} (${code})`, 'the cluster CA changed or the kubeconfig is stale: run `kubepki check` and `kubepki probe ' + client.server.replace(/^https:\/\//, '') + '`');
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new UserError(`failed to ${what}: the serving certificate of ${where} does not name that host`, 'run `kubepki check` (finding apiserver-san-missing) or use the server address the certificate names');
  }
  if (code && UNREACHABLE.has(code)) {
    return new UserError(`failed to ${what}: ${where} is unreachable (${code})`, 'is kube-apiserver running? `kubepki check` on a control-plane node shows whether its certificates expired');
  }
  return new UserError(`failed to ${what}: ${where}: ${firstLine(e)}`, 'run `kubepki check` to see whether the cluster\'s certificates are valid');
}

/** What to do after an API answer other than 401/403, by its status. */
function statusHint(status: number): string | undefined {
  if (status === 404) return 'it does not exist (any more): check the name and namespace';
  if (status === 409) return 'it was changed or created by someone else meanwhile: run the command again';
  if (status === 400 || status === 415 || status === 422) return 'the API server refused what kubepki sent: please report it with `kubepki --version`, the command and this line';
  if (status === 429 || status >= 500) {
    return 'the API server is overloaded or failing: try again in a minute; on a control-plane node `kubepki check` shows whether the certificates it uses for etcd expired';
  }
  return undefined;
}

/** Run one API call, translating failures with `apiError`. */
export async function call<T>(client: ClusterClient, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw apiError(e, client, what);
  }
}

/** Like `call`, but a 404 gives `undefined`. */
export async function callOptional<T>(client: ClusterClient, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw apiError(e, client, what);
  }
}

/**
 * Wait until the API server answers `/version` (after a rebuild its static
 * pod takes a while to start). Connection-level failures, 5xx and a call not
 * answered within the client's timeout are retried until `timeoutMs`; anything else (TLS trust, 401, 403) fails at once.
 */
export async function waitForApi(
  client: ClusterClient,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  pollMs = 2000,
  /** also retry TLS trust failures and 401: right after a rebuild the old API server may still be answering with the old certificates */
  retryTrust = false,
): Promise<void> {
  const version = client.apiClient(client.k8s.VersionApi);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await version.getCode();
      return;
    } catch (e) {
      const status = httpStatus(e);
      const code = transportCode(e);
      const trust = status === 401 || (status === undefined && code !== undefined && (TLS_UNKNOWN_CA.has(code) || code === 'CERT_HAS_EXPIRED'));
      const retry = (status !== undefined && status >= 500) || (status === undefined && ((code !== undefined && UNREACHABLE.has(code)) || timedOut(e))) || (retryTrust && trust);
      if (!retry || Date.now() >= deadline) throw apiError(e, client, 'reach the API server');
    }
    await sleep(pollMs);
  }
}
