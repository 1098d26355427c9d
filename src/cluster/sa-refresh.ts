/**
 * After `sa.key` changed (`kubepki sa rotate`, or a rebuild that lost it),
 * every ServiceAccount token signed with the old key is dead:
 * - legacy token Secrets (`kubernetes.io/service-account-token`): clearing
 *   `data.token` makes the controller-manager's token controller issue a new
 *   one with the new key;
 * - pods hold tokens in memory or in files: those mounting the Secrets, and
 *   every pod with a projected (bound) ServiceAccount token, must restart.
 * Pods are deleted only when a controller re-creates them, kube-system first
 * (kube-proxy and the CNI need working tokens for everything else), one at a
 * time, waiting for the replacement to be Ready.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { UserError } from '../errors.js';
import { call, httpStatus, apiError, type ClusterClient } from './connect.js';

export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';

export interface TokenSecretRef {
  namespace: string;
  name: string;
  serviceAccount: string;
  hasToken: boolean;
}

export interface PodRef {
  namespace: string;
  name: string;
  /** tells the pod from its replacement, which a StatefulSet makes under the same name */
  uid?: string;
  serviceAccount: string;
  /** why it needs a restart */
  uses: string[];
  /** `ReplicaSet/x`, `DaemonSet/y` …; undefined for a bare pod */
  owner?: string;
  ownerUid?: string;
  /** deleted only when a controller re-creates it */
  restart: boolean;
  /** why it is not restarted */
  skipReason?: string;
  ready: boolean;
}

export interface SaRefreshPlan {
  secrets: TokenSecretRef[];
  pods: PodRef[];
}

function ownerOf(p: V1Pod): { kind: string; name: string; uid?: string } | undefined {
  const o = (p.metadata?.ownerReferences ?? []).find((r) => r.controller) ?? p.metadata?.ownerReferences?.[0];
  return o ? { kind: o.kind, name: o.name, uid: o.uid } : undefined;
}

export function podReady(p: V1Pod): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Why `pod` holds a ServiceAccount token that must be refreshed (empty when it holds none). */
export function tokenUses(pod: V1Pod, tokenSecrets: Set<string>): string[] {
  const ns = pod.metadata?.namespace ?? '';
  const uses: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.secret?.secretName && tokenSecrets.has(`${ns}/${v.secret.secretName}`)) uses.push(`mounts Secret ${v.secret.secretName}`);
    for (const src of v.projected?.sources ?? []) {
      if (src.serviceAccountToken) uses.push(`projected token (volume ${v.name})`);
      if (src.secret?.name && tokenSecrets.has(`${ns}/${src.secret.name}`)) uses.push(`projects Secret ${src.secret.name}`);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef?.name;
      if (ref && tokenSecrets.has(`${ns}/${ref}`)) uses.push(`env ${e.name} from Secret ${ref}`);
    }
    for (const f of c.envFrom ?? []) {
      if (f.secretRef?.name && tokenSecrets.has(`${ns}/${f.secretRef.name}`)) uses.push(`envFrom Secret ${f.secretRef.name}`);
    }
  }
  return [...new Set(uses)];
}

/** kube-system first, then namespaces and names in order. */
function podOrder(a: PodRef, b: PodRef): number {
  const rank = (p: PodRef) => (p.namespace === 'kube-system' ? 0 : 1);
  return rank(a) - rank(b) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

/** Pure: the plan from listed Secrets and Pods. */
export function planSaRefresh(secrets: V1Secret[], pods: V1Pod[]): SaRefreshPlan {
  const refs: TokenSecretRef[] = secrets
    .filter((s) => s.type === SA_TOKEN_TYPE)
    .map((s) => ({
      namespace: s.metadata?.namespace ?? '',
      name: s.metadata?.name ?? '',
      serviceAccount: s.metadata?.annotations?.['kubernetes.io/service-account.name'] ?? '',
      hasToken: Boolean(s.data?.token),
    }))
    .sort((a, b) => (a.namespace === 'kube-system' ? 0 : 1) - (b.namespace === 'kube-system' ? 0 : 1) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const names = new Set(refs.map((r) => `${r.namespace}/${r.name}`));
  const podRefs: PodRef[] = [];
  for (const p of pods) {
    const uses = tokenUses(p, names);
    if (uses.length === 0) continue;
    const owner = ownerOf(p);
    const mirror = p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined;
    const done = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    let skipReason: string | undefined;
    if (mirror) skipReason = 'static pod: restart it on its node (kubepki restarts static pods with renew/rebuild)';
    else if (!owner) skipReason = 'bare pod: no controller would re-create it; re-create it yourself';
    else if (done) skipReason = `pod has ${p.status?.phase}`;
    podRefs.push({
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      ...(p.metadata?.uid ? { uid: p.metadata.uid } : {}),
      serviceAccount: p.spec?.serviceAccountName ?? 'default',
      uses,
      owner: owner ? `${owner.kind}/${owner.name}` : undefined,
      ownerUid: owner?.uid,
      restart: !skipReason,
      skipReason,
      ready: podReady(p),
    });
  }
  podRefs.sort(podOrder);
  return { secrets: refs, pods: podRefs };
}

export async function readSaRefreshPlan(client: ClusterClient, namespace?: string): Promise<SaRefreshPlan> {
  const fieldSelector = `type=${SA_TOKEN_TYPE}`;
  const secrets = await call(client, `list ServiceAccount token Secrets${namespace ? ` in ${namespace}` : ''}`, () =>
    namespace ? client.core.listNamespacedSecret({ namespace, fieldSelector }) : client.core.listSecretForAllNamespaces({ fieldSelector }));
  const pods = await call(client, `list Pods${namespace ? ` in ${namespace}` : ''}`, () =>
    namespace ? client.core.listNamespacedPod({ namespace }) : client.core.listPodForAllNamespaces());
  return planSaRefresh(secrets.items ?? [], pods.items ?? []);
}

// ---------------------------------------------------------------- JWT check

/** Whether a ServiceAccount JWT's signature verifies with one of `keys` (RS256/ES256…); undefined if unreadable. */
export function jwtSignedBy(token: string, keys: KeyObject[]): boolean | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let alg: string;
  try {
    alg = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')).alg;
  } catch {
    return undefined;
  }
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  const hash = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', PS256: 'sha256' }[alg];
  if (!hash) return undefined;
  return keys.some((k) => {
    try {
      if (alg.startsWith('ES')) return verify(hash, input, { key: k, dsaEncoding: 'ieee-p1363' }, sig);
      return verify(hash, input, k, sig);
    } catch {
      return false;
    }
  });
}

export function publicKeysFromPem(pem: string): KeyObject[] {
  const out: KeyObject[] = [];
  for (const m of pem.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)) {
    try { out.push(createPublicKey(m[0])); } catch { /* not a key */ }
  }
  return out;
}

// ---------------------------------------------------------------- apply

export interface SaRefreshOptions {
  restartPods: boolean;
  /** ms to wait for each Secret to be re-filled / each replacement pod to be Ready */
  timeoutMs: number;
  pollMs?: number;
  /** the new sa.pub: check that each re-issued token verifies with it */
  saPublicKeys?: KeyObject[];
  /** progress lines */
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface SaRefreshResult {
  refilled: { namespace: string; name: string; verifiesWithSaPub?: boolean }[];
  restarted: { namespace: string; name: string }[];
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function applySaRefresh(client: ClusterClient, plan: SaRefreshPlan, o: SaRefreshOptions): Promise<SaRefreshResult> {
  const sleep = o.sleep ?? defaultSleep;
  const poll = o.pollMs ?? 1000;
  const result: SaRefreshResult = { refilled: [], restarted: [] };
  const old = new Map<string, string | undefined>();

  // 1. clear every token (the controller re-issues them in parallel), then wait for each
  for (const s of plan.secrets) {
    const what = `clear the token of Secret ${s.namespace}/${s.name}`;
    try {
      const r = await client.core.patchNamespacedSecret({ name: s.name, namespace: s.namespace, body: { data: { token: null } } }, client.mergePatch);
      old.set(`${s.namespace}/${s.name}`, r.data?.token);
      o.log(`cleared token of Secret ${s.namespace}/${s.name}`);
    } catch (e) {
      if (httpStatus(e) === 404) { o.log(`Secret ${s.namespace}/${s.name} is gone; skipped`); continue; }
      throw apiError(e, client, what);
    }
  }
  for (const s of plan.secrets) {
    if (!old.has(`${s.namespace}/${s.name}`)) continue;
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      const cur = await call(client, `read Secret ${s.namespace}/${s.name}`, () => client.core.readNamespacedSecret({ name: s.name, namespace: s.namespace }));
      const tok = cur.data?.token;
      if (tok) {
        const jwt = Buffer.from(tok, 'base64').toString('utf8');
        const ok = o.saPublicKeys?.length ? jwtSignedBy(jwt, o.saPublicKeys) : undefined;
        result.refilled.push({ namespace: s.namespace, name: s.name, verifiesWithSaPub: ok });
        o.log(`Secret ${s.namespace}/${s.name} has a new token${ok === true ? ' (verifies with sa.pub)' : ok === false ? ' that does NOT verify with sa.pub: is kube-controller-manager still using the old sa.key?' : ''}`);
        break;
      }
      if (Date.now() >= deadline) {
        throw new UserError(`failed to refresh Secret ${s.namespace}/${s.name}: its token was not re-issued within ${+(o.timeoutMs / 1000).toFixed(1)}s`, 'is kube-controller-manager running with the new --service-account-private-key-file? (kubepki check)', 2);
      }
      await sleep(poll);
    }
  }

  // 2. restart pods, one at a time, each waiting for its controller's replacement
  if (o.restartPods) {
    for (const p of plan.pods) {
      if (!p.restart) { o.log(`not restarting pod ${p.namespace}/${p.name}: ${p.skipReason}`); continue; }
      const readyBefore = await readyOwned(client, p);
      try {
        await client.core.deleteNamespacedPod({ name: p.name, namespace: p.namespace });
      } catch (e) {
        if (httpStatus(e) !== 404) throw apiError(e, client, `delete Pod ${p.namespace}/${p.name}`);
      }
      o.log(`deleted pod ${p.namespace}/${p.name} (${p.owner} re-creates it)`);
      result.restarted.push({ namespace: p.namespace, name: p.name });
      const want = readyBefore.filter((x) => !isDeleted(x, p)).length + (p.ready ? 1 : 0);
      const deadline = Date.now() + o.timeoutMs;
      for (;;) {
        const now = (await readyOwned(client, p)).filter((x) => !isDeleted(x, p));
        if (now.length >= want) break;
        if (Date.now() >= deadline) {
          throw new UserError(`failed to restart pod ${p.namespace}/${p.name}: ${p.owner} has ${now.length} Ready pods, wanted ${want}, after ${+(o.timeoutMs / 1000).toFixed(1)}s; stopped before restarting more`, `kubectl -n ${p.namespace} describe ${p.owner?.toLowerCase()}`, 2);
        }
        await sleep(poll);
      }
    }
  }
  return result;
}

/**
 * Whether `x` is the pod `p` deleted, not its replacement: by uid, since a StatefulSet re-creates its pod under
 * the same name (db-0 again), which a comparison of names took for the deleted one, never counting it Ready.
 */
function isDeleted(x: { name: string; uid?: string }, p: PodRef): boolean {
  return p.uid !== undefined && x.uid !== undefined ? x.uid === p.uid : x.name === p.name;
}

async function readyOwned(client: ClusterClient, p: PodRef): Promise<{ name: string; uid?: string }[]> {
  const l = await call(client, `list Pods in ${p.namespace}`, () => client.core.listNamespacedPod({ namespace: p.namespace }));
  return (l.items ?? [])
    .filter((x) => (x.metadata?.ownerReferences ?? []).some((r) => r.uid === p.ownerUid) && podReady(x) && !x.metadata?.deletionTimestamp)
    .map((x) => ({ name: x.metadata?.name ?? '', uid: x.metadata?.uid }));
}
