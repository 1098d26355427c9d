/**
 * The bootstrap tokens of a cluster as `kubeadm token list` shows them, judged: what a join with each would
 * meet, and what is left lying around. The judging is pure: the Secrets and cluster-info come in, rows and findings
 * go out; listTokenSecrets is the one read every token command makes.
 *
 * What decides (k8s.io/cluster-bootstrap, kube-apiserver's bootstrap token authenticator, kube-controller-manager's
 * bootstrapsigner and tokencleaner):
 * - a token is the Secret `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` whose
 *   `token-id` is that id; the authenticator ignores any other (name and id must agree);
 * - an `expiration` at or before now, or one it cannot parse, is expired: the authenticator refuses it, the
 *   bootstrapsigner stops signing for it, and the tokencleaner deletes the Secret when it expires;
 * - `kubeadm join --token` with token discovery needs `jws-kubeconfig-<id>` in kube-public/cluster-info, a JWS
 *   of its kubeconfig with the token's secret, which the bootstrapsigner keeps for every valid signing token
 *   ("there is no JWS signed token in the cluster-info ConfigMap" otherwise).
 */
import type { V1Secret } from '@kubernetes/client-node';
import { readTokenSecret, BOOTSTRAP_TOKEN_SECRET_PREFIX, BOOTSTRAP_TOKEN_SECRET_TYPE, TOKEN_ID_REGEX, type TokenSecretInfo } from '../pki/bootstrap-token.js';
import { clusterInfoSignedBy } from './cluster-info.js';
import { call, type ClusterClient } from './connect.js';
import { goTime } from '../pki/go-duration.js';

export type TokenStatus = 'ok' | 'expired' | 'never-expires' | 'unsigned' | 'bad-signature' | 'invalid';

export interface TokenFinding {
  severity: 'error' | 'warning' | 'info';
  code: TokenStatus;
  message: string;
}

export interface TokenRow {
  /** the token id; for an invalid Secret, what its name says */
  id: string;
  /** the Secret's name */
  secret: string;
  /** the Secret's uid, as read: a delete names it, so a token made again under the name since is not deleted */
  uid?: string;
  /** the secret half, for --show-tokens; never in the default output */
  tokenSecret?: string;
  /** seconds left, truncated toward zero as Go's int(d.Seconds()) is; undefined: never expires; negative or 0: expired */
  ttlSeconds?: number;
  expiration?: string;
  usages: string[];
  groups: string[];
  description?: string;
  /** Secrets this token owns (kube-system/kubeadm-certs): the garbage collector deletes them with it */
  owns: string[];
  status: TokenStatus;
  findings: TokenFinding[];
}

interface SecretLike {
  metadata?: { name?: string; uid?: string; ownerReferences?: { kind?: string; name?: string; uid?: string }[] | null };
  data?: Record<string, string> | null;
  type?: string;
}

const SEVERITY_RANK = { error: 2, warning: 1, info: 0 } as const;

/** The bootstrap token Secrets of kube-system (type bootstrap.kubernetes.io/token, as the authenticator finds them). */
export async function listTokenSecrets(client: ClusterClient): Promise<V1Secret[]> {
  const list = await call(client, 'list bootstrap token Secrets in kube-system', () =>
    client.core.listNamespacedSecret({ namespace: 'kube-system', fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` }));
  return list.items ?? [];
}

/**
 * One row per bootstrap token Secret, sorted by id. `clusterInfo`: the data of kube-public/cluster-info, or null
 * when it does not exist. `owned`: other kube-system Secrets, to find what each token owns.
 */
export function judgeTokens(secrets: SecretLike[], clusterInfo: Record<string, string> | null | undefined, now: Date, owned: SecretLike[] = []): TokenRow[] {
  const rows = secrets.map((s) => judgeOne(s, clusterInfo, now, owned));
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

function judgeOne(s: SecretLike, clusterInfo: Record<string, string> | null | undefined, now: Date, owned: SecretLike[]): TokenRow {
  const name = s.metadata?.name ?? '';
  const nameId = name.startsWith(BOOTSTRAP_TOKEN_SECRET_PREFIX) ? name.slice(BOOTSTRAP_TOKEN_SECRET_PREFIX.length) : name;
  const owns = owned
    .filter((o) => (o.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Secret' && r.name === name && (!r.uid || !s.metadata?.uid || r.uid === s.metadata.uid)))
    .map((o) => `kube-system/${o.metadata?.name}`);
  const t = readTokenSecret(s, now);
  if (!t || t.id !== nameId || !TOKEN_ID_REGEX.test(t.id) || !/^[a-z0-9]{16}$/.test(t.secret)) {
    const why = !t ? 'it has no token-id or token-secret' : t.id !== nameId ? `its token-id ${JSON.stringify(t.id)} is not the ${JSON.stringify(nameId)} its name says` : 'its token-id or token-secret is not 6 and 16 characters of [a-z0-9]';
    return {
      id: nameId, secret: name, uid: s.metadata?.uid, usages: t?.usages ?? [], groups: t?.groups ?? [], description: t?.description, owns, status: 'invalid',
      findings: [{ severity: 'error', code: 'invalid', message: `Secret kube-system/${name} is no usable bootstrap token: ${why}, so kube-apiserver ignores it and nobody can join with it; delete it (kubectl -n kube-system delete secret ${name}) and make a token with kubepki token create` }],
    };
  }
  const row: TokenRow = {
    // (usages sorted, as kubeadm's BootstrapTokenFromSecret sorts them)
    id: t.id, secret: name, uid: s.metadata?.uid, tokenSecret: t.secret, usages: [...t.usages].sort(), groups: t.groups, description: t.description, owns, status: 'ok', findings: [],
    ...(t.expiration ? { expiration: goTime(t.expiration), ttlSeconds: Math.trunc((t.expiration.getTime() - now.getTime()) / 1000) } : {}),
  };
  row.findings = findingsOf(t, row, clusterInfo);
  row.status = worst(row.findings)?.code ?? 'ok';
  return row;
}

function findingsOf(t: TokenSecretInfo, row: TokenRow, clusterInfo: Record<string, string> | null | undefined): TokenFinding[] {
  const out: TokenFinding[] = [];
  const unparseable = t.expired && !t.expiration;
  if (t.expired) {
    out.push({
      severity: 'warning', code: 'expired',
      message: unparseable
        ? `token ${t.id}: its expiration cannot be read as a time, so kube-apiserver treats it as expired; delete it: kubepki token delete ${t.id}`
        // (the tokencleaner deletes a token when it expires: one still here is left over where the controller is off)
        : `token ${t.id} expired at ${row.expiration} and is still here: kube-apiserver refuses it already; kube-controller-manager's tokencleaner deletes expired tokens (is it in --controllers?); delete it: kubepki token delete ${t.id}`,
    });
    return out;
  }
  if (!t.expiration) {
    const joins = t.usages.includes('authentication');
    out.push({
      severity: joins ? 'warning' : 'info', code: 'never-expires',
      message: joins
        ? `token ${t.id} never expires: whoever has it can join nodes${t.groups.length ? ` (as ${t.groups.join(', ')})` : ''} until it is deleted; delete it when its nodes have joined (kubepki token delete ${t.id}) and give new ones a TTL (kubepki token create --ttl 24h)`
        : `token ${t.id} never expires (it cannot authenticate: usages ${t.usages.join(',') || 'none'})`,
    });
  }
  if (t.usages.includes('signing')) {
    if (clusterInfo === null || clusterInfo === undefined) {
      out.push({ severity: 'error', code: 'unsigned', message: `token ${t.id} is a signing token, but kube-public/cluster-info does not exist: kubeadm join --token finds no CA to trust; create it: kubepki cluster-info update` });
    } else if (clusterInfo[`jws-kubeconfig-${t.id}`] === undefined) {
      out.push({ severity: 'error', code: 'unsigned', message: `token ${t.id}: kube-public/cluster-info has no jws-kubeconfig-${t.id}, so kubeadm join with it fails ("there is no JWS signed token in the cluster-info ConfigMap"); kube-controller-manager's bootstrapsigner adds it within seconds when it runs; kubepki cluster-info update signs it now` });
    } else if (!clusterInfoSignedBy(clusterInfo, t.id, t.secret)) {
      out.push({ severity: 'error', code: 'bad-signature', message: `token ${t.id}: jws-kubeconfig-${t.id} in kube-public/cluster-info does not verify with the token over its kubeconfig (changed after it was signed), so kubeadm join with it fails ("failed to verify JWS signature"); re-sign it: kubepki cluster-info update` });
    }
  }
  return out;
}

function worst(fs: TokenFinding[]): TokenFinding | undefined {
  return [...fs].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])[0];
}

/** The rows' worst severity, for the exit code. */
export function worstSeverity(rows: TokenRow[]): TokenFinding['severity'] | undefined {
  return worst(rows.flatMap((r) => r.findings))?.severity;
}

/**
 * `kubeadm token list`'s TTL column: `<forever>` without an expiration, else apimachinery's
 * duration.ShortHumanDuration of the time left (`<invalid>` once more than a second past, as kubeadm shows it).
 */
export function ttlText(r: TokenRow): string {
  if (r.status === 'invalid' || (r.status === 'expired' && r.ttlSeconds === undefined)) return '<invalid>';
  if (r.ttlSeconds === undefined) return '<forever>';
  const s = r.ttlSeconds;
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  if (s < 86400 * 365) return `${Math.floor(s / 86400)}d`;
  return `${Math.floor(s / (86400 * 365))}y`;
}
