/**
 * CertificateSigningRequests through the API: list, and approve/deny one CSR
 * the way `kubectl certificate approve` does (PUT the full object as read, plus
 * a condition, to `.../certificatesigningrequests/NAME/approval`), re-reading
 * and re-judging it when the server answers 409 Conflict.
 */
import type { V1CertificateSigningRequest, V1Node } from '@kubernetes/client-node';
import { call, httpStatus, apiError, statusMessage, type ClusterClient } from './connect.js';
import { evaluateCsr, SIGNER_KUBELET_CLIENT, type CsrDecision, type PolicyOptions } from './csr-policy.js';
import { afterRetry, authorizeNodeClient, ReviewUnavailableError, sendWithRetryAfter, unavailableHint, type NodeClientAuthorization, type ReviewOptions, type Waited } from './csr-sar.js';
import { withGoTimes } from './objects.js';
import { UserError } from '../errors.js';

export const APPROVE_REASON = 'KubepkiApprove';
export const DENY_REASON = 'KubepkiDeny';
const MAX_ATTEMPTS = 5;

export async function listCsrs(client: ClusterClient): Promise<V1CertificateSigningRequest[]> {
  const l = await call(client, 'list CertificateSigningRequests', () => client.certs.listCertificateSigningRequest());
  return l.items ?? [];
}

export async function listNodes(client: ClusterClient): Promise<V1Node[]> {
  const l = await call(client, 'list Nodes', () => client.core.listNode());
  return l.items ?? [];
}

export async function readCsr(client: ClusterClient, name: string): Promise<V1CertificateSigningRequest> {
  return call(client, `read CertificateSigningRequest ${name}`, () => client.certs.readCertificateSigningRequest({ name }));
}

export type CsrAction = 'approve' | 'deny';

export interface CsrActionResult {
  name: string;
  /**
   * what happened (the word `csr approve` prints, text and `-o json` alike): `approved`/`denied` by us; `refused`,
   * not approved and `decision.verdict` says why (`invalid`: the policy; `unauthorized`: the SubjectAccessReview;
   * `denied`/`failed`: already Denied or Failed, so it never can be); `skipped`, already approved (nothing to do);
   * `unreviewed`, a kubelet client CSR left pending because its SubjectAccessReview could not be made;
   * `gone`, a CSR `approveRun` listed that was deleted before it could be acted on (its kubelet gave up, or another
   * approver or the CSR cleaner removed it): nothing to do, not an error (a named one is `missing` instead);
   * `forbidden`, left pending because the API server does not let kubepki's user approve CSRs of its signer
   * (SignerForbiddenError; after the first, the others of that signer are not sent in the pass)
   */
  outcome: 'approved' | 'denied' | 'refused' | 'skipped' | 'unreviewed' | 'gone' | 'forbidden';
  decision: CsrDecision;
  /** with `unreviewed`: why the review could not be made; with `forbidden`: the approval's 403 (API error, hint, exit code) */
  error?: UserError;
  /** PUTs sent (more than 1 after a 409) */
  attempts: number;
  /** `approved`/`denied` by a dry run: what the pass would send, not sent (attempts 0) */
  dryRun?: boolean;
}

/** The body kubectl sends: the object as read (timestamps verbatim) with one more condition. */
export function approvalBody(csr: V1CertificateSigningRequest, action: CsrAction, why: string): V1CertificateSigningRequest {
  const body = withGoTimes(csr);
  body.kind = 'CertificateSigningRequest';
  body.apiVersion = 'certificates.k8s.io/v1';
  const condition = action === 'approve'
    ? { type: 'Approved', status: 'True', reason: APPROVE_REASON, message: `This CSR was approved by kubepki csr approve: ${why}` }
    : { type: 'Denied', status: 'True', reason: DENY_REASON, message: `This CSR was denied by kubepki csr approve: ${why}` };
  body.status = { ...(body.status ?? {}), conditions: [...(body.status?.conditions ?? []), condition as never] };
  return body;
}

/**
 * The SubjectAccessReviews of one pass (one `csr list`, one `approveRun`).
 * After the first the API server cannot make at all (403: kubepki's user may
 * not create them; 404: no authorization.k8s.io/v1; 5xx, a timeout, a reset:
 * the API server is failing), the next would get the same answer (a sick
 * server: after as long a wait, 300 CSRs, 300 of them): none is asked any
 * more, and each client CSR left is `unreviewed` for that reason.
 */
interface ReviewPass extends ReviewOptions {
  unavailable?: ReviewUnavailableError;
  /** the client CSRs left unreviewed for it, the first included */
  unreviewed: Set<string>;
  /**
   * the signers whose approval the API server refused kubepki's user in this pass (SignerForbiddenError): the
   * others of that signer would get the same 403, so none is sent any more, and each is `forbidden` for it
   */
  forbiddenSigners?: Map<string, SignerForbiddenError>;
  /** judge and review, but send no approval or denial (`csr approve --dry-run`) */
  dryRun?: boolean;
}

/**
 * kube-apiserver's CertificateSigningRequest approval admission plugin (plugin/pkg/admission/certificates/approval,
 * on by default) lets a user approve or deny a CSR, PUT to `/approval`, only if it may `approve` the resource
 * `signers` of group certificates.k8s.io named after the CSR's signerName (or `DOMAIN/*`); else 403 Forbidden,
 * admission.NewForbidden of `user not permitted to approve requests with signerName %q`, so the Status message
 * is `certificatesigningrequests.certificates.k8s.io "NAME" is forbidden: user not permitted to approve requests
 * with signerName "SIGNER"`. It is about the signer, not the CSR: an approver allowed only kubelet-serving (while
 * kube-controller-manager approves the client CSRs) gets it for every client CSR, and the serving ones still go
 * through. Any other 403 (no `update` on certificatesigningrequests/approval at all) is not this one.
 */
export class SignerForbiddenError extends UserError {
  /** (exit code 4, as any 403) */
  constructor(message: string, hint: string, readonly signer: string) {
    super(message, hint, 4);
  }
}

/** The signer named by the approval admission plugin's 403 (SignerForbiddenError), if `e` is that one. */
function forbiddenSigner(e: unknown): string | undefined {
  if (httpStatus(e) !== 403) return undefined;
  return /^certificatesigningrequests\.certificates\.k8s\.io "[^"]*" is forbidden: user not permitted to approve requests with signerName "([^"]*)"$/.exec(statusMessage(e) ?? '')?.[1];
}

/** What to grant kubepki's user to approve CSRs of `signer` (the rule the approval admission plugin checks). */
export function signerHint(client: Pick<ClusterClient, 'user'>, signer: string): string {
  const kcm = signer === SIGNER_KUBELET_CLIENT ? ' (kube-controller-manager approves kubelet client CSRs itself)' : '';
  return `user ${client.user} may not approve CSRs of signer ${signer}: they are left to an approver that may${kcm}; for kubepki to approve them,`
    + ` bind that user a ClusterRole with the rule {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [${signer}]}`;
}

/**
 * The error every CSR `pass` left unreviewed for a review it could not make
 * (ReviewPass) reports: the first review's (message, exit code), with one
 * hint for the pass that names them all ("approve it by hand" names each
 * CSR). `undefined` when every review could be asked.
 */
function passError(client: ClusterClient, pass: ReviewPass): ReviewUnavailableError | undefined {
  const first = pass.unavailable;
  if (!first) return undefined;
  // (refused credentials: what to do about them is the first error's hint, which names no CSR)
  const hint = (first.why === 'unauthenticated' ? first.hint : undefined) ?? unavailableHint(client, first.why, [...pass.unreviewed]);
  return new ReviewUnavailableError(first.message, hint, first.exitCode, first.why);
}

/**
 * What `action` makes of `csr` as it is now, writing nothing: `outcome` when
 * it leaves the CSR as it is (`skipped`, `refused`, `unreviewed`), none when
 * the approval (or denial) is to be sent with `decision.reason`. A kubelet
 * client CSR to approve is approved only after a SubjectAccessReview allows
 * its requester: `authz` is that review; `reviewed`, one made before for the
 * same object (a CSR's spec cannot change), is used only for an object of the
 * uid it was made for, never for one made again under the same name, nor for
 * an object without a uid. A review that cannot be made (403, 404, 5xx, …) is
 * `unreviewed`, with the error: never an approval; after one that is not about
 * this CSR's request (ReviewPass), `pass` asks no more.
 */
async function judge(
  client: ClusterClient,
  csr: V1CertificateSigningRequest,
  action: CsrAction,
  nodes: V1Node[],
  opts: PolicyOptions,
  pass: ReviewPass,
  reviewed?: NodeClientAuthorization,
): Promise<{ outcome?: 'skipped' | 'refused' | 'unreviewed'; decision: CsrDecision; authz?: NodeClientAuthorization; error?: UserError }> {
  const decision = evaluateCsr(csr, nodes, opts);
  if (decision.verdict === 'approved') return { outcome: 'skipped', decision };
  // already Denied or Failed: a decided CSR cannot be decided again, so it is not approved, and never will be
  if (decision.verdict === 'denied' || decision.verdict === 'failed') return { outcome: 'refused', decision };
  if (decision.verdict !== (action === 'approve' ? 'valid' : 'invalid')) return { outcome: 'refused', decision };
  if (action !== 'approve' || decision.kind !== 'kubelet-client') return { decision };
  // its approval would not be sent (act: the API server refused kubepki's user this signer in this pass): no review to ask
  if (pass.forbiddenSigners?.has(decision.signer)) return { decision };
  // a review answers only for the object it was made for (deleted and made again under this name by
  // another requester, the CSR read now is another object): ask anew
  let authz = reviewed && reviewed.uid !== undefined && reviewed.uid === csr.metadata?.uid ? reviewed : undefined;
  if (!authz && pass.unavailable) {
    pass.unreviewed.add(decision.name);
    const reason = `SubjectAccessReview not asked, the first of this pass could not be made: ${pass.unavailable.message}`;
    return { outcome: 'unreviewed', decision: { ...decision, verdict: 'unreviewed', reason }, error: pass.unavailable };
  }
  try {
    authz ??= await authorizeNodeClient(client, csr, decision, pass);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    if (e instanceof ReviewUnavailableError) { pass.unavailable = e; pass.unreviewed.add(decision.name); }
    return { outcome: 'unreviewed', decision: { ...decision, verdict: 'unreviewed', reason: e.message }, error: e };
  }
  if (!authz.allowed) {
    // left pending, as kube-controller-manager leaves it: granting the permission later lets it through
    return { outcome: 'refused', decision: { ...decision, verdict: 'unauthorized', reason: authz.reason, violations: [authz.reason] }, authz };
  }
  return { decision: { ...decision, reason: `${decision.reason}; ${authz.reason}` }, authz };
}

/** One CSR as `csr approve` would judge it now (approving nothing): `csr list`'s row. */
export interface CsrPreview {
  /**
   * for a pending kubelet client CSR that passes the policy, after its SubjectAccessReview: `valid` (approve
   * would approve it), `unauthorized` (the reason names the ClusterRoleBinding that grants it) or
   * `unreviewed` (the review could not be made, `error` says why: whether approve would approve it is unknown)
   */
  decision: CsrDecision;
  error?: UserError;
}

/**
 * Judge CSRs the way `csr approve` does, SubjectAccessReviews included, and
 * approve nothing. A review that cannot be made marks its CSR `unreviewed`
 * and the others are still judged (after a 403, 404, 5xx, timeout …, without
 * asking: ReviewPass).
 */
export async function previewApproval(client: ClusterClient, csrs: V1CertificateSigningRequest[], nodes: V1Node[], opts: PolicyOptions & ReviewOptions = {}): Promise<CsrPreview[]> {
  const out: CsrPreview[] = [];
  const pass: ReviewPass = { unreviewed: new Set(), sleep: opts.sleep, timeoutMs: opts.timeoutMs };
  for (const csr of csrs) {
    const j = await judge(client, csr, 'approve', nodes, opts, pass);
    out.push(j.error ? { decision: j.decision, error: j.error } : { decision: j.decision });
  }
  // one error, one hint, for all the CSRs the pass left unreviewed
  const shared = passError(client, pass);
  return shared ? out.map((p) => (p.error === pass.unavailable ? { ...p, error: shared } : p)) : out;
}

/**
 * Approve (only if the policy says `valid` and, for a kubelet client CSR, a
 * SubjectAccessReview allows its requester) or deny (only if `invalid`) one
 * CSR. Reads it fresh first, unless given; after a 409 the CSR is read and
 * judged again, because whoever changed it may have changed what we are
 * approving (the review answers for the retries while it is the same object).
 * A review that cannot be made (403, 404, 5xx, …) leaves the CSR pending: outcome
 * `unreviewed`, with the error. An approval the API server refuses is thrown,
 * its signer's 403 (SignerForbiddenError) included: only `approveRun`, which
 * goes on with the other signers, makes that one `forbidden`.
 */
export async function actOnCsr(
  client: ClusterClient,
  name: string,
  action: CsrAction,
  nodes: V1Node[],
  opts: PolicyOptions = {},
  first?: V1CertificateSigningRequest,
): Promise<CsrActionResult> {
  return act(client, name, action, nodes, opts, first, { unreviewed: new Set() });
}

/** actOnCsr within a pass of `approveRun`: its reviews are `pass`'s. */
async function act(
  client: ClusterClient,
  name: string,
  action: CsrAction,
  nodes: V1Node[],
  opts: PolicyOptions,
  first: V1CertificateSigningRequest | undefined,
  pass: ReviewPass,
): Promise<CsrActionResult> {
  let csr = first ?? (await readCsr(client, name));
  let authz: NodeClientAuthorization | undefined;
  for (let attempt = 1; ; attempt++) {
    const j = await judge(client, csr, action, nodes, opts, pass, authz);
    if (j.outcome === 'unreviewed') {
      // never approved without an allowed review; the rest of the pass (serving CSRs) goes on
      return { name, outcome: j.outcome, decision: { ...j.decision, reason: `${j.decision.reason}; ${name} was left pending` }, attempts: attempt - 1, error: j.error };
    }
    if (j.outcome) return { name, outcome: j.outcome, decision: j.decision, attempts: attempt - 1 };
    const decision = j.decision;
    authz = j.authz;
    // the API server refused kubepki's user the approval of another CSR of this signer in this pass: this one would
    // get the same 403 (approve and deny alike), so it is left pending with that error, unsent
    const refusedSigner = pass.forbiddenSigners?.get(decision.signer);
    if (refusedSigner) {
      const reason = `${decision.reason}; not ${action === 'approve' ? 'approved' : 'denied'}: the API server refused kubepki's user the approval of a CSR of signer ${decision.signer} in this pass; ${name} was left pending`;
      return { name, outcome: 'forbidden', decision: { ...decision, reason }, attempts: attempt - 1, error: refusedSigner };
    }
    // a dry run stops where the approval would be sent: the CSR judged and its review asked (a SubjectAccessReview
    // stores nothing, and csr list asks it too), so what it says is what the real pass would send, as judged now
    if (pass.dryRun) return { name, outcome: action === 'approve' ? 'approved' : 'denied', decision, attempts: 0, dryRun: true };
    const body = approvalBody(csr, action, decision.reason);
    // a 429 or 5xx with a short Retry-After (kube-apiserver's priority-and-fairness or max-in-flight filter on a busy
    // control plane) is sent again once after it, as the reviews are and as client-go sends any request again: the
    // first approval of a pass that got one failed the whole pass, its other CSRs left as they were
    const waited: { last?: Waited } = {};
    try {
      await sendWithRetryAfter(() => client.certs.replaceCertificateSigningRequestApproval({ name, body }), pass.sleep, waited);
      return { name, outcome: action === 'approve' ? 'approved' : 'denied', decision, attempts: attempt };
    } catch (e) {
      if (httpStatus(e) === 404) throw new CsrGoneError(apiError(e, client, `${action} CertificateSigningRequest ${name}`), action, decision, attempt);
      const signer = forbiddenSigner(e);
      if (signer !== undefined && pass.forbiddenSigners) {
        // not this CSR's fault but kubepki's user's: left pending, and the rest of the pass (other signers) goes on
        const error = new SignerForbiddenError(apiError(e, client, `${action} CertificateSigningRequest ${name}`).message, signerHint(client, signer), signer);
        pass.forbiddenSigners.set(decision.signer, error);
        return { name, outcome: 'forbidden', decision: { ...decision, reason: `${decision.reason}; ${name} was left pending` }, attempts: attempt, error };
      }
      if (httpStatus(e) !== 409 || attempt >= MAX_ATTEMPTS) throw againAfter(apiError(e, client, `${action} CertificateSigningRequest ${name}`), waited.last);
      // (the same name may now be another object: the review is checked against its uid above)
      try {
        csr = await client.certs.readCertificateSigningRequest({ name });
      } catch (r) {
        // changed, then deleted before it was read again: gone as well
        if (httpStatus(r) === 404) throw new CsrGoneError(apiError(r, client, `read CertificateSigningRequest ${name}`), action, decision, attempt);
        throw apiError(r, client, `read CertificateSigningRequest ${name}`);
      }
    }
  }
}

/** `e`, saying it was the answer to the request sent again after the first answer's Retry-After, if it was. */
function againAfter(e: UserError, waited: Waited | undefined): UserError {
  return waited ? new UserError(afterRetry(e.message, waited), e.hint, e.exitCode) : e;
}

/**
 * The CSR was deleted after it was read (the approval, or the read again after a 409, answered 404):
 * `approveRun` reports a listed one as `gone` and a named one as not found.
 */
class CsrGoneError extends UserError {
  constructor(e: UserError, readonly action: CsrAction, readonly decision: CsrDecision, readonly attempts: number) {
    super(e.message, e.hint, e.exitCode);
  }
}

export interface ApproveRunOptions extends PolicyOptions, ReviewOptions {
  /** CSR names given on the command line; empty with allValid */
  names: string[];
  allValid: boolean;
  denyInvalid: boolean;
  /** send no approval or denial: each CSR it would approve or deny is reported so, with `dryRun` (only reads, and reviews) */
  dryRun?: boolean;
}

export interface ApproveRunResult {
  results: CsrActionResult[];
  /** names asked for that do not exist */
  missing: string[];
}

/**
 * A pass of `approveRun` that failed (an approval the API server refused: 5xx, 401, a 403 other than its signer's,
 * which leaves only that signer's CSRs `forbidden`) after it had acted on some
 * CSRs: the error, and `done`, what the pass did before it (approved, denied, refused … as a whole pass reports
 * them). The approvals made are in the cluster: a caller says so before the error.
 */
export class ApproveRunError extends UserError {
  constructor(e: UserError, readonly done: ApproveRunResult) {
    super(e.message, e.hint, e.exitCode);
  }
}

/**
 * One pass of `csr approve`: for named CSRs, approve each valid one and
 * refuse the rest with the reason; for `--all-valid`, approve every pending
 * valid CSR and report the others (deny the invalid kubelet ones with
 * `--deny-invalid`). A kubelet client CSR whose review could not be made is
 * left pending (`unreviewed`), as are the CSRs of a signer the API server
 * does not let kubepki's user approve (`forbidden`, SignerForbiddenError: the
 * first gets the 403, the others are not sent); the caller decides the exit code.
 */
export async function approveRun(client: ClusterClient, o: ApproveRunOptions): Promise<ApproveRunResult> {
  const nodes = await listNodes(client);
  const results: CsrActionResult[] = [];
  const missing: string[] = [];
  // the listed objects are acted on as listed (a PUT of one changed since answers 409, and actOnCsr reads it
  // again then); only the names given on the command line that the list did not return are read one by one
  const listed = new Map<string, V1CertificateSigningRequest>();
  if (o.allValid) {
    for (const c of await listCsrs(client)) if (c.metadata?.name && !c.status?.conditions?.length) listed.set(c.metadata.name, c);
  }
  const targets = o.allValid ? [...new Set([...o.names, ...listed.keys()])].filter(Boolean) : o.names;
  const found: { name: string; csr: V1CertificateSigningRequest }[] = [];
  for (const name of targets) {
    const known = listed.get(name);
    if (known) { found.push({ name, csr: known }); continue; }
    try {
      found.push({ name, csr: await client.certs.readCertificateSigningRequest({ name }) });
    } catch (e) {
      if (httpStatus(e) === 404) { missing.push(name); continue; }
      throw apiError(e, client, `read CertificateSigningRequest ${name}`);
    }
  }
  // a SubjectAccessReview that cannot be made (kubepki's user may not create them: 403; the API server fails)
  // holds back only the kubelet client CSRs (`unreviewed`, and after the first none is asked any more: ReviewPass):
  // serving CSRs, which need none, are still approved
  // an approval the API server refuses for its signer (SignerForbiddenError) holds back only that signer's CSRs
  const pass: ReviewPass = { unreviewed: new Set(), forbiddenSigners: new Map(), sleep: o.sleep, timeoutMs: o.timeoutMs, dryRun: o.dryRun };
  for (const { name, csr } of found) {
    try {
      const r = await act(client, name, 'approve', nodes, o, csr, pass);
      // refused for the policy, the approval was not tried: the CSR is still the one just judged
      results.push(r.outcome === 'refused' && o.denyInvalid && r.decision.verdict === 'invalid' ? await act(client, name, 'deny', nodes, o, csr, pass) : r);
    } catch (e) {
      // the pass stops here; what it did before is said with the error (the CSRs it approved are approved)
      if (!(e instanceof CsrGoneError)) throw e instanceof UserError && results.length ? new ApproveRunError(e, { results, missing }) : e;
      // deleted since it was read. Named on the command line: not found, as a read by name would have said (exit 2).
      // Only listed: nothing is left to do (the kubelet gave up, another approver or the CSR cleaner removed it)
      if (o.names.includes(name)) { missing.push(name); continue; }
      const reason = `deleted since it was listed, before it could be ${e.action === 'approve' ? 'approved' : 'denied'} (its kubelet gave up, or another approver or the CSR cleaner removed it): nothing to do`;
      results.push({ name, outcome: 'gone', decision: { ...e.decision, reason }, attempts: e.attempts });
    }
  }
  // one error, one hint, for all the CSRs the pass left unreviewed (the CLI prints them on one line)
  const shared = passError(client, pass);
  return { results: shared ? results.map((r) => (r.error === pass.unavailable ? { ...r, error: shared } : r)) : results, missing };
}
