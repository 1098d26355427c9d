/**
 * `kubepki token create`: the Secret `kubeadm token create` writes, then the `jws-kubeconfig-<id>` signature that
 * kube-controller-manager's bootstrapsigner would add to kube-public/cluster-info for it.
 *
 * As kubeadm (phases/bootstraptoken/node CreateNewTokens → UpdateOrCreateTokens with failIfExists): the token's
 * Secret is read first and an id that is there is refused ("a token with id … already exists"), never replaced. Where
 * kubeadm would then create-or-update, kubepki only creates: a 409 AlreadyExists, someone else's token made since the
 * read, is refused as well.
 *
 * kubepki signs cluster-info itself, as join --apply does (apply-join.ts): `kubeadm join --token` needs the signature
 * and the controller-manager is often the thing being repaired. HMAC is deterministic, so the bootstrapsigner, when
 * it runs, writes the same value. The Secret comes first: the bootstrapsigner removes a signature whose token it does
 * not find.
 *
 * With `dryRun` it makes the same reads and writes nothing (kubeadm's --dry-run, kubectl's --dry-run=client).
 */
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { UserError } from '../errors.js';
import { call, callOptional, httpStatus, apiError, type ClusterClient } from './connect.js';
import { parseToken, tokenSecretManifest, type SecretManifest } from '../pki/bootstrap-token.js';
import { signClusterInfo } from '../pki/jws.js';
import { readClusterInfo, clusterInfoSignedBy, type ClusterInfoView } from './cluster-info.js';

export interface CreateTokenOptions {
  /** `id.secret`, validated by the caller */
  token: string;
  /** 0: never expires */
  ttlSeconds: number;
  usages: string[];
  /** auth-extra-groups; [] for none */
  groups: string[];
  /** '' for none (kubeadm token create writes no description key then) */
  description: string;
  now: Date;
  /** cluster-info is needed for a token that does not sign too (the join command's endpoint and CA hashes) */
  readClusterInfo?: boolean;
  /** read, and say what would be written; write nothing */
  dryRun?: boolean;
  /**
   * `token` was drawn for this run: a dry run neither names it nor asks whether its id is taken (the run that writes
   * draws another)
   */
  drawn?: boolean;
}

export interface CreateTokenResult {
  /** the Secret as sent (or, in a dry run, as it would be) */
  manifest: SecretManifest;
  /** cluster-info as read before anything was written, when it was read */
  clusterInfo?: ClusterInfoView;
  /** a signing token: cluster-info signed for it (in a dry run: would be) */
  signs: boolean;
  /** human-readable, in order */
  steps: string[];
  /** the Secret is written, but signing cluster-info for it failed or did not verify */
  signError?: unknown;
}

const NS_SYSTEM = 'kube-system';
const NS_PUBLIC = 'kube-public';
const MAX_ATTEMPTS = 5;

function alreadyExists(id: string, drawn: boolean | undefined): UserError {
  return new UserError(`a token with id ${JSON.stringify(id)} already exists (Secret ${NS_SYSTEM}/bootstrap-token-${id}): kubepki token create does not replace a token`,
    drawn ? 'run the command again: it draws another token' : `leave the token out to draw a new one, or delete that one first: kubepki token delete ${id}`);
}

/** What a token Secret about to be sent says, as written (its base64 data decoded): expiration, usages in its key order, extra groups. */
export function secretFields(m: SecretManifest): { expiration?: string; usages: string[]; groups?: string } {
  const get = (k: string) => (m.data[k] !== undefined ? Buffer.from(m.data[k]!, 'base64').toString('utf8') : undefined);
  const usages = Object.keys(m.data).filter((k) => k.startsWith('usage-bootstrap-')).map((k) => k.slice('usage-bootstrap-'.length));
  const expiration = get('expiration');
  const groups = get('auth-extra-groups');
  return { ...(expiration !== undefined ? { expiration } : {}), usages, ...(groups !== undefined ? { groups } : {}) };
}

/** What the Secret says of itself, for the steps: expiry, usages, groups. */
export function describeSecret(m: SecretManifest): string {
  const { expiration, usages, groups } = secretFields(m);
  return `${expiration ? `expires ${expiration}` : 'never expires'}, usages ${usages.join(', ')}, extra groups ${groups ?? 'none'}`;
}

export async function createToken(client: ClusterClient, o: CreateTokenOptions): Promise<CreateTokenResult> {
  const { id, secret } = parseToken(o.token);
  const m = tokenSecretManifest({ token: o.token, ttlSeconds: o.ttlSeconds, usages: o.usages, groups: o.groups, description: o.description }, o.now);
  const signs = m.data['usage-bootstrap-signing'] !== undefined;
  const name = m.metadata.name;
  const shownName = o.dryRun && o.drawn ? `bootstrap-token-<id>` : name;
  const steps: string[] = [];

  // every refusal before the first write: the id taken, no cluster-info to sign or to take the join command from
  if (!(o.dryRun && o.drawn)) {
    const there = await callOptional(client, `read Secret ${NS_SYSTEM}/${name}`, () => client.core.readNamespacedSecret({ name, namespace: NS_SYSTEM }));
    if (there) throw alreadyExists(id, o.drawn);
  }
  let clusterInfo: ClusterInfoView | undefined;
  if (signs || o.readClusterInfo) {
    const cm = await callOptional(client, `read ConfigMap ${NS_PUBLIC}/cluster-info`, () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC }));
    const why = signs ? 'a signing token needs it signed for it' : 'the join command takes its endpoint and CA hash from it';
    if (!cm) {
      throw new UserError(`ConfigMap ${NS_PUBLIC}/cluster-info does not exist in ${client.server}: ${why}, and kubeadm join --token finds no CA to trust without it`,
        `create it first: kubepki cluster-info update${signs ? ' (or make a token that does not sign: --usages authentication)' : ''}`);
    }
    clusterInfo = readClusterInfo(cm.data);
    if (clusterInfo.problem) {
      throw new UserError(`ConfigMap ${NS_PUBLIC}/cluster-info cannot be used: ${clusterInfo.problem} (${why})`, 'write it again: kubepki cluster-info update');
    }
  }

  if (o.dryRun) {
    steps.push(o.drawn
      ? `would create Secret ${NS_SYSTEM}/${shownName} for a new random token (${describeSecret(m)}); its id and secret are drawn when it is written (pass TOKEN to choose them)`
      : `would create Secret ${NS_SYSTEM}/${name} (${describeSecret(m)})`);
    if (signs) steps.push(`would sign ${NS_PUBLIC}/cluster-info for it (jws-kubeconfig-${o.drawn ? '<id>' : id}), as kube-controller-manager's bootstrapsigner would`);
    return { manifest: m, clusterInfo, signs, steps };
  }

  try {
    await client.core.createNamespacedSecret({ namespace: NS_SYSTEM, body: m as unknown as V1Secret });
  } catch (e) {
    // (made by someone else between the read and this create: theirs, as kubeadm's read would have found it)
    if (httpStatus(e) === 409) throw alreadyExists(id, o.drawn);
    throw apiError(e, client, `create Secret ${NS_SYSTEM}/${name}`);
  }
  steps.push(`created Secret ${NS_SYSTEM}/${name} (${describeSecret(m)})`);
  if (!signs) return { manifest: m, clusterInfo, signs, steps };
  try {
    steps.push(await signFor(client, id, secret));
  } catch (e) {
    return { manifest: m, clusterInfo, signs, steps, signError: e };
  }
  return { manifest: m, clusterInfo, signs, steps };
}

/**
 * Add `jws-kubeconfig-<id>` to cluster-info, signing the kubeconfig string stored there byte for byte (the other keys
 * kept: it is not cluster-info update, which also re-signs and prunes), then read it back and verify it as a joiner
 * does. Replaces with the resourceVersion read, again on a 409 (another writer, the bootstrapsigner itself).
 */
async function signFor(client: ClusterClient, id: string, secret: string): Promise<string> {
  const key = `jws-kubeconfig-${id}`;
  for (let attempt = 1; ; attempt++) {
    const cur = await call(client, `read ConfigMap ${NS_PUBLIC}/cluster-info`, () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC }));
    const kubeconfig = cur.data?.kubeconfig;
    if (kubeconfig === undefined) throw new UserError(`failed to sign ${NS_PUBLIC}/cluster-info for token ${id}: it has no kubeconfig key any more`, 'write it again: kubepki cluster-info update', 2);
    // (the bootstrapsigner got there first)
    if (clusterInfoSignedBy(cur.data, id, secret)) return `${NS_PUBLIC}/cluster-info is signed for it (${key}), by kube-controller-manager's bootstrapsigner`;
    const body: V1ConfigMap = { ...cur, metadata: { ...cur.metadata, managedFields: undefined }, data: { ...cur.data, [key]: signClusterInfo(kubeconfig, id, secret) } };
    try {
      await client.core.replaceNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC, body });
      break;
    } catch (e) {
      if (httpStatus(e) !== 409 || attempt >= MAX_ATTEMPTS) throw apiError(e, client, `update ConfigMap ${NS_PUBLIC}/cluster-info`);
    }
  }
  const back = await call(client, `read back ConfigMap ${NS_PUBLIC}/cluster-info`, () => client.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS_PUBLIC }));
  if (!clusterInfoSignedBy(back.data, id, secret)) {
    throw new UserError(`failed to verify ${NS_PUBLIC}/cluster-info: ${key} does not verify with the token's secret over its kubeconfig (changed by another writer since)`,
      'sign it again: kubepki cluster-info update', 2);
  }
  return `signed ${NS_PUBLIC}/cluster-info for it (${key}), as kube-controller-manager's bootstrapsigner would; read back, it verifies`;
}
