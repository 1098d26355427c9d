/**
 * Make a cluster joinable again after its CA changed (or a token is needed):
 * create the bootstrap token Secret, rewrite `kube-public/cluster-info` with
 * the CA and a JWS for each valid signing token, optionally upload the
 * encrypted `kubeadm-certs` Secret — then read everything back and verify it
 * the way `kubeadm join` will (the JWS verifies with the token's secret, the
 * CA pin equals the join command's `--discovery-token-ca-cert-hash`).
 *
 * The bootstrapsigner controller would add the JWS itself within seconds; we
 * write it too so that the verification does not depend on a running
 * controller-manager (it is often the thing being repaired), and because
 * HMAC is deterministic the controller writes the same value.
 *
 * With `dryRun` it reads what the run would read (the token Secrets, cluster-info, each object it would create or
 * replace) and says what it would write, writing nothing: kubeadm's --dry-run, kubectl's --dry-run=client. Not the
 * API server's dry run (?dryRun=All): those are write requests, in its audit log and needing write permissions, and
 * a dry run is asked of exactly a cluster one does not want touched yet.
 */
import type { V1ConfigMap, V1Role, V1RoleBinding, V1Secret } from '@kubernetes/client-node';
import { kubeadmCertsRbac } from '../plan/join.js';
import { UserError } from '../errors.js';
import { anonymousCore, call, callOptional, httpStatus, apiError, statusMessage, type ClusterClient } from './connect.js';
import { parseToken, tokenSecretManifest, readTokenSecret, generateToken, type TokenSecretOptions } from '../pki/bootstrap-token.js';
import { listTokenSecrets } from './tokens.js';
import { signClusterInfo } from '../pki/jws.js';
import { clusterInfoKubeconfig, discoveryHashesOfPem, parseDiscoveryHash } from '../pki/discovery.js';
import { readClusterInfo, clusterInfoSignedBy, type ClusterInfoView } from './cluster-info.js';

export const KUBEADM_CERTS_TOKEN_DESCRIPTION = 'Proxy for managing TTL for the kubeadm-certs secret';

export interface ApplyJoinOptions {
  /** the join token `id.secret`; its Secret is created (or replaced) */
  token?: TokenSecretOptions;
  /** CA bundle PEM to publish (kubeadm: /etc/kubernetes/pki/ca.crt) */
  caPem: string;
  /** control-plane endpoint for cluster-info (kubeadm: admin.conf's server) */
  server: string;
  /** the `--discovery-token-ca-cert-hash` the join command prints; checked against what is read back */
  discoveryHash?: string;
  /** sealed kubeadm-certs data (from `sealFiles`), to upload with a 2h owner token */
  kubeadmCerts?: Record<string, string>;
  /** for the kubeadm-certs owner token */
  random?: (n: number) => Uint8Array;
  now: Date;
  /** read, and say what would be written; write nothing */
  dryRun?: boolean;
  /**
   * `token` was drawn at random for this run (--create-token): a dry run names no id for it, as the run that writes
   * draws another
   */
  tokenDrawn?: boolean;
}

export interface ApplyJoinResult {
  /** human-readable, in order */
  steps: string[];
  tokenId?: string;
  discoveryHash: string;
  clusterInfo: { server?: string; caHashes: string[]; signedBy: string[]; kubeconfigChanged: boolean };
  kubeadmCertsTokenId?: string;
  /** a dry run: nothing was written, `steps` say what would be */
  dryRun?: boolean;
  /**
   * a dry run: why the run that writes would fail its verification (exit 2): the CA to publish is not
   * --discovery-hash, joining nodes may not read cluster-info
   */
  problems?: { message: string; hint?: string }[];
}

const NS_SYSTEM = 'kube-system';
const NS_PUBLIC = 'kube-public';
const MAX_ATTEMPTS = 5;

function asSecret(m: ReturnType<typeof tokenSecretManifest> | Record<string, unknown>): V1Secret {
  return m as unknown as V1Secret;
}

/**
 * Create an object, or replace it (with the current resourceVersion) when it
 * already exists (409), as kubeadm's CreateOrUpdate does.
 */
async function upsert<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }>(
  client: ClusterClient, kind: string, body: T,
  api: { create: (body: T) => Promise<T>; read: (name: string, namespace: string) => Promise<T>; replace: (name: string, namespace: string, body: T) => Promise<T> },
  /** throws when the object that is there must not be replaced */
  mayReplace?: (current: T) => void,
): Promise<T> {
  const name = body.metadata!.name!;
  const namespace = body.metadata!.namespace!;
  const what = `${kind} ${namespace}/${name}`;
  try {
    return await api.create(body);
  } catch (e) {
    if (httpStatus(e) !== 409) throw apiError(e, client, `create ${what}`);
  }
  const cur = await call(client, `read ${what}`, () => api.read(name, namespace));
  mayReplace?.(cur);
  return call(client, `replace ${what}`, () => api.replace(name, namespace, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } }));
}

/** What `upsert` would do, reading only: `create` when there is no such object, else `replace` (after `mayReplace`). */
async function plannedUpsert<T>(client: ClusterClient, what: string, read: () => Promise<T>, mayReplace?: (current: T) => void): Promise<'create' | 'replace'> {
  const cur = await callOptional(client, `read ${what}`, read);
  if (cur === undefined) return 'create';
  mayReplace?.(cur);
  return 'replace';
}

const upsertSecret = (client: ClusterClient, body: V1Secret, mayReplace?: (current: V1Secret) => void): Promise<V1Secret> => upsert(client, 'Secret', body, {
  create: (b) => client.core.createNamespacedSecret({ namespace: b.metadata!.namespace!, body: b }),
  read: (name, namespace) => client.core.readNamespacedSecret({ name, namespace }),
  replace: (name, namespace, b) => client.core.replaceNamespacedSecret({ name, namespace, body: b }),
}, mayReplace);

const upsertRole = (client: ClusterClient, body: V1Role): Promise<V1Role> => upsert(client, 'Role', body, {
  create: (b) => client.rbac.createNamespacedRole({ namespace: b.metadata!.namespace!, body: b }),
  read: (name, namespace) => client.rbac.readNamespacedRole({ name, namespace }),
  replace: (name, namespace, b) => client.rbac.replaceNamespacedRole({ name, namespace, body: b }),
});

const upsertRoleBinding = (client: ClusterClient, body: V1RoleBinding): Promise<V1RoleBinding> => upsert(client, 'RoleBinding', body, {
  create: (b) => client.rbac.createNamespacedRoleBinding({ namespace: b.metadata!.namespace!, body: b }),
  read: (name, namespace) => client.rbac.readNamespacedRoleBinding({ name, namespace }),
  replace: (name, namespace, b) => client.rbac.replaceNamespacedRoleBinding({ name, namespace, body: b }),
});

/** Valid signing tokens (id → secret) among the bootstrap token Secrets. */
async function signingTokens(client: ClusterClient, now: Date): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await listTokenSecrets(client)) {
    const t = readTokenSecret(s, now);
    if (t && !t.expired && t.usages.includes('signing') && s.metadata?.name === `bootstrap-token-${t.id}`) out.set(t.id, t.secret);
  }
  return out;
}

/**
 * Rewrite cluster-info for `server`/`caPem` and sign it for every valid
 * signing token (plus `extra`, e.g. a token just created). Stale signatures
 * are removed. A kubeconfig that already says the same thing is kept byte
 * for byte. Retries on 409.
 */
export async function updateClusterInfo(
  client: ClusterClient,
  o: { server: string; caPem: string; now: Date; extra?: Map<string, string>; dryRun?: boolean },
): Promise<{ kubeconfigChanged: boolean; signedBy: string[]; created: boolean; before: ClusterInfoView }> {
  const tokens = await signingTokens(client, o.now);
  for (const [id, secret] of o.extra ?? []) tokens.set(id, secret);
  const wanted = clusterInfoKubeconfig(o.server, o.caPem);
  const wantedHashes = discoveryHashesOfPem(o.caPem);
  for (let attempt = 1; ; attempt++) {
    const cur = await callOptional(client, 'read ConfigMap kube-public/cluster-info', () =>
      client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC }));
    const old = readClusterInfo(cur?.data);
    const same = old.server === o.server && old.caPem !== undefined && old.caHashes.join() === wantedHashes.join() && old.caPem.trim() === o.caPem.trim();
    const kubeconfig = same && old.kubeconfig ? old.kubeconfig : wanted;
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(cur?.data ?? {})) if (!k.startsWith('jws-kubeconfig-')) data[k] = v;
    data.kubeconfig = kubeconfig;
    for (const [id, secret] of [...tokens].sort()) data[`jws-kubeconfig-${id}`] = signClusterInfo(kubeconfig, id, secret);
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: cur ? { ...cur.metadata, managedFields: undefined } : { name: 'cluster-info', namespace: NS_PUBLIC },
      data,
    };
    const result = { kubeconfigChanged: kubeconfig !== old.kubeconfig, signedBy: [...tokens.keys()].sort(), created: !cur, before: old };
    if (o.dryRun) return result;
    try {
      if (cur) await client.core.replaceNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC, body });
      else await client.core.createNamespacedConfigMap({ namespace: NS_PUBLIC, body });
      return result;
    } catch (e) {
      if (httpStatus(e) !== 409 || attempt >= MAX_ATTEMPTS) throw apiError(e, client, `${cur ? 'update' : 'create'} ConfigMap kube-public/cluster-info`);
    }
  }
}

/**
 * A joining node reads cluster-info before it has any credentials: `kubeadm join`'s token discovery asks as
 * system:anonymous, which kubeadm init lets get it (Role and RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo).
 * Read back with kubepki's own (admin) credentials, a cluster without them, or whose API server runs with
 * --anonymous-auth=false, verified; each join then failed ('configmaps "cluster-info" is forbidden: User
 * "system:anonymous" cannot get …', kubeadm issue #1105).
 */
async function verifyAnonymousRead(client: ClusterClient): Promise<void> {
  try {
    await anonymousCore(client).readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC });
  } catch (e) {
    const status = httpStatus(e);
    const what = 'failed to verify kube-public/cluster-info: joining nodes cannot read it (kubeadm join reads it as system:anonymous)';
    if (status === 403) {
      throw new UserError(`${what}: ${statusMessage(e) ?? 'forbidden'} (403 Forbidden)`,
        'create what kubeadm init creates for it: kubectl -n kube-public create role kubeadm:bootstrap-signer-clusterinfo --verb=get --resource=configmaps --resource-name=cluster-info'
        + ' && kubectl -n kube-public create rolebinding kubeadm:bootstrap-signer-clusterinfo --role=kubeadm:bootstrap-signer-clusterinfo --user=system:anonymous', 2);
    }
    if (status === 401) {
      throw new UserError(`${what}: the API server ${client.server} refuses requests without credentials (401 Unauthorized)`,
        'kube-apiserver runs with --anonymous-auth=false, so token discovery cannot work: join with a discovery file instead (kubeadm join --discovery-file, a kubeconfig with the cluster CA)', 2);
    }
    const base = apiError(e, client, 'read kube-public/cluster-info as system:anonymous');
    throw new UserError(`failed to verify kube-public/cluster-info: ${base.message.replace(/^failed to /, 'could not ')}`, base.hint, 2);
  }
}

/**
 * A token of this id with another secret is someone's token: replacing it would lock out whoever holds it
 * (kubeadm token create: "a token with id … already exists"). The same token again is this command re-run.
 */
function notSomeonesToken(id: string, secret: string, now: Date): (current: V1Secret) => void {
  return (cur) => {
    if (readTokenSecret(cur, now)?.secret === secret) return;
    const name = `bootstrap-token-${id}`;
    throw new UserError(`bootstrap token ${id} already exists in kube-system (Secret ${name}) with another secret: kubepki does not replace someone's token`,
      `leave --token out to get a new one, or remove that token first: kubectl -n kube-system delete secret ${name}`);
  };
}

function expiresText(m: ReturnType<typeof tokenSecretManifest>): string {
  return m.data.expiration ? ` (expires ${Buffer.from(m.data.expiration, 'base64').toString()})` : ' (never expires)';
}

/**
 * applyJoin with `dryRun`: the reads it makes, the refusals it makes before writing (a token id that is someone
 * else's), each write it would send, and why reading back would not verify: the CA to publish is not the
 * --discovery-hash, or joining nodes may not read cluster-info (read as they read it, with no credentials).
 */
async function dryRunApplyJoin(client: ClusterClient, o: ApplyJoinOptions, expected: string): Promise<ApplyJoinResult> {
  const steps: string[] = [];
  const problems: { message: string; hint?: string }[] = [];
  const extra = new Map<string, string>();
  let tokenId: string | undefined;
  // (a token drawn for this run is not named: the run that writes draws another)
  const NEW = '<new token>';
  if (o.kubeadmCerts) {
    const name = 'kubeadm:kubeadm-certs';
    const role = await plannedUpsert(client, `Role ${NS_SYSTEM}/${name}`, () => client.rbac.readNamespacedRole({ name, namespace: NS_SYSTEM }));
    const binding = await plannedUpsert(client, `RoleBinding ${NS_SYSTEM}/${name}`, () => client.rbac.readNamespacedRoleBinding({ name, namespace: NS_SYSTEM }));
    steps.push(`would ${role} Role and ${binding} RoleBinding ${NS_SYSTEM}/${name} (bootstrap tokens may get kubeadm-certs)`);
  }
  if (o.token) {
    const { id, secret } = parseToken(o.token.token);
    const m = tokenSecretManifest(o.token, o.now);
    const usages = Object.keys(m.data).filter((k) => k.startsWith('usage-bootstrap-')).map((k) => k.slice('usage-bootstrap-'.length));
    if (o.tokenDrawn) {
      steps.push(`would create Secret ${NS_SYSTEM}/bootstrap-token-<id> for a new random token${expiresText(m)}, usages ${usages.join(', ')}; its id and secret are drawn when it is written (pass --token to choose them)`);
    } else {
      tokenId = id;
      const verb = await plannedUpsert(client, `Secret ${NS_SYSTEM}/${m.metadata.name}`, () => client.core.readNamespacedSecret({ name: m.metadata.name, namespace: NS_SYSTEM }), notSomeonesToken(id, secret, o.now));
      steps.push(`would ${verb} Secret ${NS_SYSTEM}/${m.metadata.name}${expiresText(m)}, usages ${usages.join(', ')}`);
    }
    if (m.data['usage-bootstrap-signing']) extra.set(o.tokenDrawn ? NEW : id, secret);
  }
  const ci = await updateClusterInfo(client, { server: o.server, caPem: o.caPem, now: o.now, extra, dryRun: true });
  const before = ci.before;
  const after = { server: o.server, caHashes: discoveryHashesOfPem(o.caPem) };
  steps.push(`would ${ci.created ? 'create' : 'update'} ConfigMap ${NS_PUBLIC}/cluster-info (${ci.kubeconfigChanged ? (ci.created ? 'new' : 'new CA/server') : 'CA and server unchanged, the kubeconfig kept byte for byte'}):`);
  // the kubeconfig's diff as a joiner trusts it: the server it dials, the CA hashes it pins (not the base64 of the CA)
  const diff = (what: string, was: string[], now: string[]) => {
    if (was.join() === now.join()) return [`  ${what} ${now.join(', ') || '(none)'}`];
    return [...(ci.created ? [] : was.map((v) => `  - ${what} ${v}`)), ...now.map((v) => `  + ${what} ${v}`)];
  };
  steps.push(...diff('server:', before.server ? [before.server] : [], [after.server]), ...diff('CA:', before.caHashes, after.caHashes));
  const kept = ci.signedBy.filter((id) => before.signedBy.includes(id));
  const added = ci.signedBy.filter((id) => !before.signedBy.includes(id));
  const dropped = before.signedBy.filter((id) => !ci.signedBy.includes(id));
  steps.push(`  signatures: ${[...kept.map((id) => `jws-kubeconfig-${id} (${ci.kubeconfigChanged ? 're-signed' : 'kept'})`), ...added.map((id) => `jws-kubeconfig-${id} (added)`),
    ...dropped.map((id) => `jws-kubeconfig-${id} (removed: not a valid signing token)`)].join(', ') || 'none'}`);

  if (o.kubeadmCerts) {
    steps.push(`would create Secret ${NS_SYSTEM}/bootstrap-token-<id> for a new random 2h token without usages (it owns kubeadm-certs: "${KUBEADM_CERTS_TOKEN_DESCRIPTION}")`);
    const verb = await plannedUpsert(client, `Secret ${NS_SYSTEM}/kubeadm-certs`, () => client.core.readNamespacedSecret({ name: 'kubeadm-certs', namespace: NS_SYSTEM }));
    steps.push(`would ${verb} Secret ${NS_SYSTEM}/kubeadm-certs (owned by that token, deleted with it in 2h), encrypted: ${Object.keys(o.kubeadmCerts).sort().join(', ')}`);
  }

  // what reading back would find wrong, found now: the CA hash published, cluster-info as joiners read it
  if (!after.caHashes.includes(expected)) {
    problems.push({ message: `the CA to publish has hash ${after.caHashes.join(', ')}, not the join command's ${expected}: reading back would not verify`, hint: 'pass the CA whose hash the join command pins (--ca), or that CA\'s --discovery-hash' });
  }
  if (!ci.created) {
    try {
      await verifyAnonymousRead(client);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      problems.push({ message: e.message.replace(/^failed to verify kube-public\/cluster-info: /, 'kube-public/cluster-info: '), ...(e.hint ? { hint: e.hint } : {}) });
    }
  }
  return {
    steps,
    ...(tokenId ? { tokenId } : {}),
    discoveryHash: expected,
    clusterInfo: { server: after.server, caHashes: after.caHashes, signedBy: ci.signedBy, kubeconfigChanged: ci.kubeconfigChanged },
    dryRun: true,
    problems,
  };
}

export async function applyJoin(client: ClusterClient, o: ApplyJoinOptions): Promise<ApplyJoinResult> {
  const steps: string[] = [];
  const hashes = discoveryHashesOfPem(o.caPem);
  if (hashes.length === 0) throw new UserError('failed to publish the CA: the CA bundle holds no certificate', 'pass the cluster CA (/etc/kubernetes/pki/ca.crt)');
  const expected = o.discoveryHash ? parseDiscoveryHash(o.discoveryHash) : hashes[0]!;
  if (!expected) throw new UserError(`discovery hash ${JSON.stringify(o.discoveryHash)} is not sha256:<64 hex>`);
  if (o.dryRun) return dryRunApplyJoin(client, o, expected);
  const extra = new Map<string, string>();
  let tokenId: string | undefined;

  if (o.kubeadmCerts) {
    // first, so an identity that may not write RBAC stops here, before any token or key is in the cluster:
    // without it a cluster made without --upload-certs answers the joiner's read of kubeadm-certs with 403
    const [role, binding] = kubeadmCertsRbac();
    await upsertRole(client, role as V1Role);
    await upsertRoleBinding(client, binding as V1RoleBinding);
    steps.push('ensured Role and RoleBinding kube-system/kubeadm:kubeadm-certs (bootstrap tokens may get kubeadm-certs)');
  }

  if (o.token) {
    const { id, secret } = parseToken(o.token.token);
    tokenId = id;
    const m = tokenSecretManifest(o.token, o.now);
    await upsertSecret(client, asSecret(m), notSomeonesToken(id, secret, o.now));
    steps.push(`wrote Secret kube-system/${m.metadata.name}${expiresText(m)}`);
    if (m.data['usage-bootstrap-signing']) extra.set(id, secret);
  }

  const ci = await updateClusterInfo(client, { server: o.server, caPem: o.caPem, now: o.now, extra });
  steps.push(`${ci.created ? 'created' : 'updated'} ConfigMap kube-public/cluster-info (${ci.kubeconfigChanged ? 'new CA/server' : 'CA and server unchanged'}; signed for ${ci.signedBy.join(', ') || 'no token'})`);

  let kubeadmCertsTokenId: string | undefined;
  if (o.kubeadmCerts) {
    // kubeadm: a 2h token without usages owns kubeadm-certs, so the garbage collector deletes it when the token expires (spec §6)
    const proxy = generateToken(o.random);
    const m = tokenSecretManifest({ token: proxy, ttl: '2h', usages: [], groups: [], description: KUBEADM_CERTS_TOKEN_DESCRIPTION }, o.now);
    const owner = await upsertSecret(client, asSecret(m));
    kubeadmCertsTokenId = parseToken(proxy).id;
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'kubeadm-certs',
        namespace: NS_SYSTEM,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: m.metadata.name, uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      type: 'Opaque',
      data: o.kubeadmCerts,
    };
    await upsertSecret(client, body);
    steps.push(`wrote Secret kube-system/kubeadm-certs (owned by ${m.metadata.name}, deleted with it in 2h)`);
  }

  // ---- verify by reading back, as a joiner would
  const back = await call(client, 'read back ConfigMap kube-public/cluster-info', () =>
    client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC }));
  const view = readClusterInfo(back.data);
  if (view.problem) throw new UserError(`failed to verify kube-public/cluster-info: ${view.problem}`, undefined, 2);
  if (!view.caHashes.includes(expected)) {
    throw new UserError(`failed to verify kube-public/cluster-info: its CA hash ${view.caHashes.join(', ')} is not the join command's ${expected}`, 'another writer changed cluster-info; run the command again', 2);
  }
  await verifyAnonymousRead(client);
  if (o.token) {
    const { id, secret } = parseToken(o.token.token);
    const ts = await call(client, `read back Secret kube-system/bootstrap-token-${id}`, () =>
      client.core.readNamespacedSecret({ name: `bootstrap-token-${id}`, namespace: NS_SYSTEM }));
    const info = readTokenSecret(ts, o.now);
    if (!info || info.id !== id || info.secret !== secret) throw new UserError(`failed to verify Secret kube-system/bootstrap-token-${id}: it does not hold the token`, undefined, 2);
    if (info.usages.includes('signing') && !clusterInfoSignedBy(back.data, id, secret)) {
      throw new UserError(`failed to verify kube-public/cluster-info: jws-kubeconfig-${id} does not verify with the token's secret`, 'run the command again; if it persists, check the bootstrapsigner controller', 2);
    }
    steps.push(`verified: cluster-info's JWS for ${id} verifies with the token, its CA hash is ${expected}`);
  } else {
    steps.push(`verified: cluster-info's CA hash is ${expected}`);
  }
  if (o.kubeadmCerts) {
    const kc = await call(client, 'read back Secret kube-system/kubeadm-certs', () => client.core.readNamespacedSecret({ name: 'kubeadm-certs', namespace: NS_SYSTEM }));
    const want = Object.keys(o.kubeadmCerts).sort().join();
    if (Object.keys(kc.data ?? {}).sort().join() !== want) throw new UserError('failed to verify Secret kube-system/kubeadm-certs: its keys differ from what was written', undefined, 2);
  }
  return {
    steps,
    tokenId,
    discoveryHash: expected,
    clusterInfo: { server: view.server, caHashes: view.caHashes, signedBy: view.signedBy, kubeconfigChanged: ci.kubeconfigChanged },
    kubeadmCertsTokenId,
  };
}
