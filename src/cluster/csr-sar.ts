/**
 * The authorization half of kubelet client CSR approval, done the way
 * kube-controller-manager's csrapproving controller does it
 * (pkg/controller/certificates/approver/sarapprove.go): the requester's group
 * names alone are not trusted. For a CSR that passes the shape checks, the API
 * server is asked with a SubjectAccessReview whether the requester (the CSR's
 * spec.username, uid, groups and extra) may `create` the `certificates.k8s.io`
 * resource `certificatesigningrequests` with subresource
 *  - `selfnodeclient`, when the CSR's subject CN equals spec.username (a node
 *    renewing its own certificate), then
 *  - `nodeclient` (any kubelet client CSR, e.g. a bootstrap token's),
 * in that order, and the CSR is approved at the first one allowed. So the
 * cluster's RBAC (kubeadm: the ClusterRoleBindings
 * kubeadm:node-autoapprove-certificate-rotation and
 * kubeadm:node-autoapprove-bootstrap) decides, as it does for the controller.
 */
import type { V1CertificateSigningRequest, V1SubjectAccessReview } from '@kubernetes/client-node';
import { UserError } from '../errors.js';
import { apiError, credentialsHint, httpStatus, realSleep, retryAfterMs, timedOut, timeoutOptions, type ClusterClient } from './connect.js';
import type { CsrDecision } from './csr-policy.js';
import { DEFAULT_TOKEN_GROUP } from '../pki/bootstrap-token.js';

export type NodeClientSubresource = 'selfnodeclient' | 'nodeclient';

/** What kubeadm creates to grant each permission (spec §5; kubeadm's bootstraptoken/node phase). */
const KUBEADM_AUTOAPPROVE: Record<NodeClientSubresource, { binding: string; clusterRole: string; group: string }> = {
  selfnodeclient: {
    binding: 'kubeadm:node-autoapprove-certificate-rotation',
    clusterRole: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    group: 'system:nodes',
  },
  nodeclient: {
    binding: 'kubeadm:node-autoapprove-bootstrap',
    clusterRole: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    group: DEFAULT_TOKEN_GROUP,
  },
};

/**
 * The permissions to ask for, in csrapproving's order: `selfnodeclient` only
 * when spec.username is the subject CN (the policy has already required CN =
 * system:node:<node>), then `nodeclient`.
 */
export function nodeClientSubresources(d: Pick<CsrDecision, 'node' | 'requester'>): NodeClientSubresource[] {
  return d.node !== undefined && d.requester === `system:node:${d.node}` ? ['selfnodeclient', 'nodeclient'] : ['nodeclient'];
}

/** The SubjectAccessReview for `csr`'s requester and one permission (cluster-scoped: no namespace). */
export function subjectAccessReviewFor(csr: V1CertificateSigningRequest, subresource: NodeClientSubresource): V1SubjectAccessReview {
  const s = csr.spec;
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: s?.username,
      uid: s?.uid,
      groups: s?.groups,
      extra: s?.extra,
      resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
    },
  };
}

/** A review's answer, for the one object (`uid`, the CSR's metadata.uid) it was made for. */
export type NodeClientAuthorization =
  | { allowed: true; uid: string | undefined; subresource: NodeClientSubresource; reason: string }
  | { allowed: false; uid: string | undefined; tried: NodeClientSubresource[]; reason: string };

/**
 * One line for a requester the API server's authorizer refused: which
 * permission is missing and the kubeadm ClusterRoleBinding that grants it.
 * `said` is the API server's reason or evaluation error, if it gave one.
 */
function deniedReason(d: Pick<CsrDecision, 'requester'>, groups: string[], tried: NodeClientSubresource[], said = ''): string {
  const want = tried[0]!;
  const k = KUBEADM_AUTOAPPROVE[want];
  // a bootstrap token made with other --groups is not in kubeadm's group: name the requester's own
  const group = groups.includes(k.group) || want === 'selfnodeclient' ? k.group : groups.find((g) => g.startsWith('system:bootstrappers:')) ?? 'system:bootstrappers';
  const binding = group === k.group ? k.binding : `kubepki:node-autoapprove-${group.replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '')}`;
  return `requester ${d.requester || '(none)'}${groups.length ? ` (groups ${groups.join(', ')})` : ''} may not create certificatesigningrequests/${tried.join(' or /')} in certificates.k8s.io`
    + ` (SubjectAccessReview denied${said ? `: ${said}` : ''}), so kube-controller-manager would not approve it either;`
    + ` ${group === k.group ? 'kubeadm grants it' : `kubeadm grants it to ${k.group}, which this requester is not in; grant it`} with`
    + ` \`kubectl create clusterrolebinding ${binding} --clusterrole=${k.clusterRole} --group=${group}\``;
}

/** How `authorizeNodeClient` waits before its one retry of a 429 (tests pass a fake; never the clock). */
export interface ReviewOptions {
  sleep?: (ms: number) => Promise<void>;
  /**
   * how long one review may take before it is given up (default the client's, API_TIMEOUT_MS: longer than
   * kube-apiserver's own 60s request timeout and an authorization webhook's 30s, so a slow server's answer comes first)
   */
  timeoutMs?: number;
}

/**
 * An answer's Retry-After in ms, when a retry is worth it (connect.ts retryAfterMs: client-go's rule, at most
 * MAX_RETRY_AFTER_S). kubepki sends a review again once: a pass holds every kubelet client CSR behind its first
 * review, and a server failing again is failing (the pass stops asking).
 */
function retryAfterOf(e: unknown): number | undefined {
  return retryAfterMs(httpStatus(e), (e as { headers?: Record<string, string> }).headers);
}

/** An answer sent again after its Retry-After, failed again: the first answer's status and the wait. */
export interface Waited { ms: number; status: number }

/**
 * `send`, and once more after the Retry-After its answer asked (retryAfterOf), if it did. A failure of the
 * second try is thrown with what was waited (`waited` is set). `sleep`: a test's; a real wait by default.
 */
export async function sendWithRetryAfter<T>(send: () => Promise<T>, sleep: ((ms: number) => Promise<void>) | undefined, waited: { last?: Waited }): Promise<T> {
  try {
    return await send();
  } catch (e) {
    const ms = retryAfterOf(e);
    if (ms === undefined) throw e;
    waited.last = { ms, status: httpStatus(e)! };
    await (sleep ? sleep(ms) : realSleep(ms));
    return await send();
  }
}

/** The message of a failure that answered the request sent again after its first answer's Retry-After, saying so. */
export function afterRetry(message: string, waited: Waited | undefined): string {
  return waited === undefined ? message : `${message} (again, after the ${waited.ms / 1000}s its first ${waited.status}'s Retry-After asked)`;
}

/**
 * Ask the API server whether the requester of a shape-valid kubelet client
 * CSR may have it approved. A failed review is an error, never an approval
 * (`csr approve` leaves that CSR pending, `csr list` marks it `unreviewed`);
 * a 429 or 5xx with a short Retry-After is sent again once, after it.
 */
export async function authorizeNodeClient(client: ClusterClient, csr: V1CertificateSigningRequest, d: CsrDecision, o: ReviewOptions = {}): Promise<NodeClientAuthorization> {
  const tried = nodeClientSubresources(d);
  const said: string[] = [];
  // (the client's own timeout unless the caller gives one for the reviews)
  const timeoutMs = o.timeoutMs ?? client.timeoutMs;
  const options = o.timeoutMs !== undefined ? timeoutOptions(client, o.timeoutMs) : undefined;
  const create = (body: V1SubjectAccessReview) => client.authz.createSubjectAccessReview({ body }, options);
  for (const subresource of tried) {
    const body = subjectAccessReviewFor(csr, subresource);
    let review: V1SubjectAccessReview;
    const waited: { last?: Waited } = {};
    try {
      review = await sendWithRetryAfter(() => create(body), o.sleep, waited);
    } catch (e) {
      throw sarError(e, client, d.name, subresource, waited.last, timedOut(e) ? timeoutMs : undefined);
    }
    const st = review.status;
    if (st?.allowed === true) {
      return { allowed: true, uid: csr.metadata?.uid, subresource, reason: `SubjectAccessReview allowed ${d.requester} to create certificatesigningrequests/${subresource}${st.reason ? ` (${st.reason})` : ''}` };
    }
    const s = [st?.reason, st?.evaluationError].filter(Boolean).join('; ');
    if (s) said.push(s);
  }
  return { allowed: false, uid: csr.metadata?.uid, tried, reason: deniedReason(d, csr.spec?.groups ?? [], tried, said.join('; ')) };
}

/**
 * Why no SubjectAccessReview of a pass can be made: `unauthenticated` (401: the API server refused kubepki's
 * credentials, or they could not be had from the kubeconfig's exec plugin: refused for one review, refused for
 * all), `forbidden` (403: kubepki's own user may not create
 * subjectaccessreviews), `unserved` (404: no authorization.k8s.io/v1 there) or `failing` (the API server, or a
 * proxy or authorization webhook behind it, failed to answer: 5xx, 504 Timeout, 429 or 5xx again after its Retry-After,
 * a connection reset or refused, no answer within the client's timeout, API_TIMEOUT_MS). Every other review of the same pass would get the same answer (a failing
 * server, after its timeout again), so the callers ask no more after one (csr.ts, ReviewPass).
 */
export type ReviewUnavailable = 'unauthenticated' | 'forbidden' | 'unserved' | 'failing';

export class ReviewUnavailableError extends UserError {
  constructor(message: string, hint: string, exitCode: number, readonly why: ReviewUnavailable) {
    super(message, hint, exitCode);
  }
}

/** Up to this many CSRs are named in a hint's `kubectl certificate approve`; beyond, it gives the generic command. */
const HINT_NAMES = 5;

/** The CSRs `names` approved by hand, with kubectl (which takes several names). */
function byHand(names: string[]): string {
  const approve = names.length <= HINT_NAMES ? `kubectl certificate approve ${names.join(' ')}` : `kubectl certificate approve NAME..., for the ${names.length} unreviewed CSRs of kubepki csr list`;
  return `check ${names.length === 1 ? 'the CSR and approve it' : 'the CSRs and approve them'} by hand (${approve})`;
}

/**
 * What to do when the review cannot be made, once for all the kubelet client
 * CSRs `names` a pass left unreviewed. (kubepki has no option to approve
 * without the review: by hand, the operator checks them. Refused credentials:
 * what to do about them, the same as for any other call.)
 */
export function unavailableHint(client: Pick<ClusterClient, 'user' | 'kubeconfigPath'>, why: ReviewUnavailable, names: string[]): string {
  if (why === 'unauthenticated') return credentialsHint(client);
  if (why === 'forbidden') {
    return `kubepki approves kubelet client CSRs only after a SubjectAccessReview, as kube-controller-manager does: give user ${client.user} create on subjectaccessreviews.authorization.k8s.io (ClusterRole system:auth-delegator), or use /etc/kubernetes/admin.conf`;
  }
  if (why === 'unserved') {
    return `this API server (or a proxy in front of it) does not serve authorization.k8s.io/v1 SubjectAccessReviews, so kubepki cannot tell whether the requester may get the certificate: ${byHand(names)}`;
  }
  return 'kubepki approves a kubelet client CSR only after a SubjectAccessReview allows it, and the API server failed to answer one (no more were asked in this pass):'
    + ` run the command again once it is healthy (\`kubepki check\` on a control-plane node shows whether its certificates expired), or ${byHand(names)}`;
}

/** A review of one CSR failed: the pass stops asking unless the failure is about this request (400, 409, 422 …). */
function sarError(e: unknown, client: ClusterClient, name: string, subresource: NodeClientSubresource, waited?: Waited, gaveUpAfter?: number): UserError {
  const what = `ask the API server whether the requester of CertificateSigningRequest ${name} may create certificatesigningrequests/${subresource} (SubjectAccessReview)`;
  if (gaveUpAfter !== undefined) {
    return new ReviewUnavailableError(`failed to ${what}: the API server ${client.server} did not answer within ${gaveUpAfter / 1000}s`, unavailableHint(client, 'failing', [name]), 3, 'failing');
  }
  const base = apiError(e, client, what);
  const status = httpStatus(e);
  // (a UserError here: no credentials to send, from the exec plugin)
  const why: ReviewUnavailable | undefined = status === 401 || e instanceof UserError ? 'unauthenticated' : status === 403 ? 'forbidden' : status === 404 ? 'unserved'
    : status === undefined || status === 429 || status >= 500 ? 'failing' : undefined;
  if (!why) return base;
  if (e instanceof UserError) return new ReviewUnavailableError(base.message, base.hint ?? unavailableHint(client, why, [name]), base.exitCode, why);
  return new ReviewUnavailableError(afterRetry(base.message, waited), unavailableHint(client, why, [name]), base.exitCode, why);
}
