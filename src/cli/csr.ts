import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { UserError, EXIT } from '../errors.js';
import { parseDuration } from '../inventory/time.js';
import { addClusterOptions, outputOption, clusterFrom, nowFrom, table, parseOutput, type ClusterFlags } from './cluster-options.js';
import type { CsrDecision } from '../cluster/csr-policy.js';
import type { ApproveRunResult, CsrActionResult } from '../cluster/csr.js';

const POLICY_HELP = `
Policy (kubepki approves nothing else):
  kubernetes.io/kube-apiserver-client-kubelet
      CN system:node:<node>, O exactly system:nodes, no SANs, usages exactly
      [digital signature, client auth] (+ key encipherment), requested by that
      node (in group system:nodes) or a bootstrap token (never for a Node that
      is Ready), and the Node exists (or --allow-new-nodes); then, as
      kube-controller-manager does, a SubjectAccessReview must allow the
      requester to create certificatesigningrequests/selfnodeclient (the node
      itself) or /nodeclient: the cluster's RBAC decides (kubeadm's bindings
      kubeadm:node-autoapprove-certificate-rotation, -bootstrap). Denied: left
      pending, with the binding that grants it. kubepki's own user needs create
      on subjectaccessreviews (admin.conf has it; else system:auth-delegator):
      without it client CSRs stay pending, serving CSRs are still approved
  kubernetes.io/kubelet-serving
      CN/O as above, requested by that node, at least one DNS/IP SAN and every
      one of them among that Node's status.addresses, no email/URI SANs,
      usages [digital signature, server auth] (+ key encipherment)
  any other signer: never approved automatically
`;

interface ListFlags extends ClusterFlags { output?: string; allowNewNodes?: boolean }
interface ApproveFlags extends ClusterFlags {
  allValid?: boolean;
  watch?: boolean;
  interval?: string;
  allowNewNodes?: boolean;
  denyInvalid?: boolean;
  output?: string;
  maxPasses?: string;
  dryRun?: boolean;
}

/** The VERDICT column: the reason too where it says what to do (fix the CSR, grant the permission, let kubepki ask). */
function verdictText(d: CsrDecision): string {
  if (d.issued) return `${d.verdict},issued`;
  return d.verdict === 'invalid' || d.verdict === 'unauthorized' || d.verdict === 'unreviewed' ? `${d.verdict}: ${d.reason}` : d.verdict;
}

export function command(io: Io): Command {
  const csr = new Command('csr')
    .description('list and approve kubelet CertificateSigningRequests with a strict policy')
    .addHelpText('before', `Examples:
  kubepki csr list
  kubepki csr approve --all-valid --dry-run  # which CSRs it would approve and why; approves nothing
  kubepki csr approve --all-valid            # approve every pending CSR that passes the policy
  kubepki csr approve csr-r98zd              # approve one, refused with the reason if it fails
  kubepki csr approve --all-valid --watch    # keep approving (kubelet serving certificate rotation)
`)
    .addHelpText('after', `${POLICY_HELP}
Exit codes: those of each command (kubepki csr list --help, kubepki csr approve --help).`);

  addClusterOptions(
    csr.command('list')
      .description('pending and recent CSRs with signer, requester, subject, SANs, usages, age and kubepki\'s verdict')
      .addHelpText('before', `Examples:
  kubepki csr list                           # each CSR with what csr approve would do with it
  kubepki csr list -o json | jq '.items[] | select(.verdict != "valid")'
  kubepki csr list --root /mnt/node          # with that tree's admin.conf, when no other kubeconfig is set
`)
      .addOption(outputOption())
      .option('--allow-new-nodes', 'judge kubelet client CSRs for Nodes that do not exist yet as valid')
      .addHelpText('after', `
Verdicts (what csr approve would do; list approves nothing):
  valid         approve approves it (a kubelet client CSR: its requester's
                SubjectAccessReview allowed it, asked as approve asks it)
  invalid       fails the policy (the reason follows)
  unauthorized  a kubelet client CSR the SubjectAccessReview refuses: left
                pending; the reason names the ClusterRoleBinding that grants it
  unreviewed    a kubelet client CSR whose SubjectAccessReview could not be
                made (kubepki's user may not create one, 403; 404; or the API
                server failed: 5xx, timeout, connection reset, 429 twice,
                no answer within 70s):
                unknown whether approve would approve it; one hint for all of
                them on stderr (after the first, no more are asked)
  manual        a signer kubepki never approves automatically
  approved, denied, failed   already decided (",issued": it has a certificate)

Exit codes:
  0  listed (whatever the verdicts, unreviewed ones too)
  3+ kubepki could not run (a bad flag, no kubeconfig, API server unreachable, 401/403)`),
  ).action(async (flags: ListFlags) => {
    const format = parseOutput(flags.output);
    const now = nowFrom(flags);
    const client = await clusterFrom(flags, io);
    const { listCsrs, listNodes, previewApproval } = await import('../cluster/csr.js');
    const { ageSeconds, shortAge } = await import('../cluster/objects.js');
    const [csrs, nodes] = await Promise.all([listCsrs(client), listNodes(client)]);
    // as approve judges them, SubjectAccessReviews included: a pending client CSR says whether RBAC lets it through
    const judged = await previewApproval(client, csrs, nodes, flags);
    const rows = judged.map((p, i) => ({ ...p, age: ageSeconds(csrs[i]!.metadata?.creationTimestamp, now) }));
    if (format === 'json') {
      const items = rows.map((r) => ({ ...r.decision, ageSeconds: r.age, ...(r.error?.hint ? { hint: r.error.hint } : {}) }));
      io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'CsrList', now: now.toISOString(), items }, null, 2)}\n`);
      return;
    }
    // what to grant kubepki's user (or how to go on without), once: it is the same for every CSR a 403 held back
    for (const hint of new Set(rows.flatMap((r) => (r.error?.hint ? [r.error.hint] : [])))) io.stderr(`kubepki: hint: ${hint}\n`);
    if (rows.length === 0) { io.stdout('no CertificateSigningRequests\n'); return; }
    io.stdout(table(
      ['NAME', 'AGE', 'SIGNER', 'REQUESTER', 'SUBJECT', 'SANS', 'USAGES', 'VERDICT'],
      rows.map(({ decision: d, age }) => [
        d.name, shortAge(age), d.signer, d.requester, d.subject, d.sans.join(',') || '-', d.usages.join(',') || '-', verdictText(d),
      ]),
    ));
  });

  addClusterOptions(
    csr.command('approve')
      .description('approve CSRs that pass the policy; refuse (or with --deny-invalid deny) the rest, saying why')
      .addHelpText('before', `Examples:
  kubepki csr approve --all-valid --deny-invalid --dry-run   # what it would approve and deny, and why
  kubepki csr approve --all-valid            # every pending CSR that passes the policy
  kubepki csr approve csr-r98zd              # one, refused with the reason if it fails
  kubepki csr approve --all-valid --deny-invalid --watch --interval 30s
`)
      .argument('[names...]', 'CSR names')
      .option('--all-valid', 'every pending CSR that passes the policy')
      .option('--watch', 'keep running and approve new valid CSRs as they come (a long-running approver)')
      .option('--interval <duration>', 'with --watch: time between passes (10s, 1m; a bare number is seconds)', '10s')
      .option('--allow-new-nodes', 'approve kubelet client CSRs from bootstrap tokens for Nodes that do not exist yet')
      .option('--deny-invalid', 'deny kubelet CSRs that fail the policy instead of leaving them pending')
      .option('--dry-run', 'judge every CSR and print what would be approved or denied, and why; send no approval or denial (one pass: not with --watch)')
      .addOption(outputOption())
      .addOption(new Option('--max-passes <n>', 'with --watch: stop after n passes (tests, cron)').hideHelp())
      .addHelpText('after', `${POLICY_HELP}
Outcomes (the first word of each line; "outcome" in -o json, with "verdict"
saying why):
  approved    approved now
  denied      denied now (--deny-invalid)
  refused     not approved, and left as it is: it fails the policy (verdict
              invalid), the SubjectAccessReview refused its requester
              (unauthorized), or it is already Denied or Failed (denied,
              failed: it can never be approved)
  skipped     already approved: nothing to do
  gone        (--all-valid) deleted since it was listed: its kubelet gave up,
              or another approver or the CSR cleaner removed it; nothing to
              do, and not an error (a CSR named on the command line that is
              deleted is reported not found, exit 2)
  unreviewed  a kubelet client CSR left pending because its
              SubjectAccessReview could not be made (on stderr in text)
  forbidden   left pending because the API server does not let kubepki's
              user approve CSRs of its signer (on stderr in text, once per
              signer, with the RBAC rule that would: approve on signers,
              resourceNames the signer); the other signers' CSRs go on

--dry-run: each CSR is read and judged as without it, SubjectAccessReviews
included (they store nothing: csr list asks them too), and no approval or
denial is sent: the approved and denied lines say what would be, marked
"(dry run)" after the CSR, as kubectl marks what it did not send ("dryRun":
true in -o json), then "Dry run: nothing was written.". The API
server's own refusal of an approval (forbidden, 5xx) shows only when one is
sent. One pass: with --watch it is refused.

Exit codes (with --dry-run, those the run would end with, as judged now):
  0  every CSR asked for was approved or was already (or there was nothing
     to do); with --deny-invalid, those that fail the policy were denied
  1  --all-valid left CSRs pending: ones that fail the policy (without
     --deny-invalid) or whose requester the SubjectAccessReview refused
     (listed with the reason)
  2  a CSR named on the command line fails the policy (also when
     --deny-invalid denied it), is refused by the SubjectAccessReview, is
     already Denied or Failed (it can never be approved: the kubelet makes a
     new CSR; a bootstrap token's must be deleted first), or does not exist
  3+ kubepki could not run (no kubeconfig, API server unreachable, 401/403);
     nothing is approved then. An approval the API server refuses (5xx,
     401, a 403 other than for its signer) stops the pass there: the CSRs it acted on before are listed
     first (those approved are approved), the rest left as they are. 4 when
     the API server refused kubepki's user the approval of a CSR for its
     signer ("user not permitted to approve requests with signerName"):
     that signer's CSRs are left pending (forbidden), the others' still
     approved; --watch tries again at the next pass. Also when a kubelet client CSR's
     SubjectAccessReview could not be made (4 when the API server refused
     kubepki's credentials, 401, or its user may not create it, 403; 3 when the API server failed: 5xx, timeout, connection
     reset, a 429 or 5xx again after its Retry-After, no answer within 70s): that CSR is left pending, and
     the other client CSRs of the pass too, unasked, all on one line with one
     hint; the serving CSRs are still approved; --watch tries again at the
     next pass. There is no option to approve them without the review: check
     them and approve them by hand (kubectl certificate approve NAME...)`),
  ).action(async (names: string[], flags: ApproveFlags) => {
    const format = parseOutput(flags.output);
    if (!flags.allValid && names.length === 0) throw new UserError('csr approve needs CSR names or --all-valid', 'run `kubepki csr list` to see the pending CSRs');
    // a watching dry run approves nothing forever: a long-running approver left with --dry-run (a Deployment's args)
    // would look as if it worked while every CSR stayed pending; one pass answers "what would it do now"
    if (flags.dryRun && flags.watch) throw new UserError('--dry-run cannot be used with --watch: a dry run is one pass', 'drop --watch to see what one pass would approve, or --dry-run to keep approving');
    // a duration as serve's --interval takes it (30s, 1m), or a bare number of seconds, as this flag first took
    const text = flags.interval!.trim();
    const interval = /^\d+(\.\d+)?$/.test(text) ? Number(text) : parseDuration(text);
    if (!(interval !== undefined && interval > 0)) throw new UserError(`--interval ${JSON.stringify(flags.interval)} is not a duration`, 'use e.g. --interval 10s or 1m (a bare number is seconds)');
    const client = await clusterFrom(flags, io);
    const { approveRun, ApproveRunError } = await import('../cluster/csr.js');
    const opts = { names, allValid: Boolean(flags.allValid), denyInvalid: Boolean(flags.denyInvalid), allowNewNodes: Boolean(flags.allowNewNodes), dryRun: Boolean(flags.dryRun) };
    const reported = new Set<string>();
    const maxPasses = flags.maxPasses ? Number(flags.maxPasses) : Infinity;
    let lastFailure: string | undefined;
    /** Print what a pass did (only what was not printed before, with --watch); its exit code. */
    const report = (run: ApproveRunResult): void => {
      const fresh = flags.watch ? run.results.filter((r) => !reported.has(`${r.name}/${r.outcome}`)) : run.results;
      for (const r of fresh) reported.add(`${r.name}/${r.outcome}`);
      // left pending because kubepki could not do its job: a review it could not make, an approval its user may not make
      const held = (r: CsrActionResult) => r.outcome === 'unreviewed' || r.outcome === 'forbidden';
      const unreviewed = run.results.flatMap((r) => (held(r) && r.error ? [r.error] : []));
      if (format === 'json') {
        io.stdout(`${JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'CsrApproval', ...(flags.dryRun ? { dryRun: true } : {}), results: fresh.map(jsonResult), missing: run.missing }, null, 2)}\n`);
      } else {
        for (const r of fresh) if (!held(r)) io.stdout(`${describe(r)}\n`);
        // an error, not a verdict: on stderr like a missing CSR, message and hint on one line; the CSRs that
        // share one (the first review that cannot be made stops those of the pass; the first approval refused for its
        // signer, the others of that signer) on one line, the hint once, as csr list prints it
        const byError = new Map<unknown, CsrActionResult[]>();
        for (const r of fresh.filter(held)) byError.set(r.error ?? r, [...(byError.get(r.error ?? r) ?? []), r]);
        for (const [, rs] of byError) {
          const e = rs[0]!.error;
          const what = e ? `${e.message}; ${rs.map((r) => r.name).join(', ')} ${rs.length === 1 ? 'was' : 'were'} left pending` : rs[0]!.decision.reason;
          io.stderr(`kubepki: ${what}${flags.watch ? ` (retrying every ${interval}s)` : ''}${e?.hint ? `; hint: ${e.hint}` : ''}\n`);
        }
        for (const m of run.missing) io.stderr(`kubepki: CertificateSigningRequest ${m} not found\n`);
        if (!flags.watch && run.results.length === 0 && run.missing.length === 0) io.stdout('no pending CertificateSigningRequests\n');
        if (flags.dryRun) io.stdout('Dry run: nothing was written.\n');
      }
      // (a named CSR that is already Denied or Failed is `refused`: not approved and never will be, not "nothing to do")
      const namedBad = run.missing.length > 0 || run.results.some((r) => names.includes(r.name) && (r.outcome === 'refused' || r.outcome === 'denied'));
      // left pending is something to do (exit 1); denied, as --deny-invalid asked, is done
      const anyBad = run.results.some((r) => r.outcome === 'refused' && (r.decision.verdict === 'invalid' || r.decision.verdict === 'unauthorized'));
      // a review that could not be made, or an approval kubepki's user may not make, is kubepki failing to do its job:
      // its error's code (4 for 403), above 1 and 2, as for any CSR left pending for kubepki's own permissions
      io.exitCode = unreviewed.length ? Math.max(...unreviewed.map((e) => e.exitCode)) : namedBad ? EXIT.broken : anyBad ? EXIT.warning : EXIT.ok;
    };
    for (let pass = 1; ; pass++) {
      let run;
      try {
        run = await approveRun(client, opts);
      } catch (e) {
        // a pass that stopped at an approval the API server refused (403, 5xx) had approved some CSRs already:
        // they are approved, so they are said, before the error (it said nothing of them)
        if (e instanceof ApproveRunError) report(e.done);
        // a long-running approver outlives API server restarts: say it once per pass and try again (what to do
        // with it once, not every pass while the same failure lasts)
        if (!flags.watch || pass >= maxPasses) throw e;
        const { message, hint } = e as UserError;
        io.stderr(`kubepki: ${message} (retrying in ${interval}s)${hint && message !== lastFailure ? `; hint: ${hint}` : ''}\n`);
        lastFailure = message;
        await sleep(interval * 1000);
        continue;
      }
      lastFailure = undefined;
      report(run);
      if (!flags.watch || pass >= maxPasses) return;
      if (io.outputClosed) { io.stderr('kubepki: standard output was closed: stopping the approver\n'); return; }
      await sleep(interval * 1000);
    }
  });
  return csr;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describe(r: CsrActionResult): string {
  const d = r.decision;
  // (as kubectl marks what --dry-run=client did not send: "… approved (dry run)")
  const what = `${r.name} (${d.kind === 'other' ? d.signer : d.kind}${d.node ? ` for ${d.node}` : ''})${r.dryRun ? ' (dry run)' : ''}`;
  switch (r.outcome) {
    case 'approved': return `approved ${what}: ${d.reason}${r.attempts > 1 ? ` (after ${r.attempts - 1} conflict${r.attempts > 2 ? 's' : ''})` : ''}`;
    case 'denied': return `denied   ${what}: ${d.reason}`;
    case 'skipped': return `skipped  ${what}: already approved`;
    case 'gone': return `gone     ${what}: ${d.reason}`;
    case 'refused': return d.verdict === 'denied' || d.verdict === 'failed'
      // (a decided CSR cannot be decided again. A rotating kubelet asks again with a new CSR (generated name); a
      // bootstrapping one names its CSR after its key (node-csr-<digest>, client-go's certificate/csr), which it
      // keeps, so it meets the same decided CSR again until that is deleted)
      ? `refused  ${what}: already ${d.verdict === 'denied' ? 'Denied' : 'Failed (its signer could not sign it)'}, so it can never be approved; ${d.requester.startsWith('system:bootstrap:')
        ? `a bootstrapping kubelet asks again under the same name and finds it decided: delete it (kubectl delete csr ${r.name}), then approve the kubelet's next request (kubepki csr list)`
        : 'the kubelet makes a new CSR when it tries again: approve that one (kubepki csr list)'}`
      : `refused  ${what}: ${d.reason}`;
    // (the caller prints these on stderr, as an error, with its hint)
    case 'unreviewed': return `unreviewed ${what}: ${d.reason}`;
    case 'forbidden': return `forbidden ${what}: ${d.reason}`;
  }
}

function jsonResult(r: CsrActionResult): unknown {
  return { name: r.name, outcome: r.outcome, attempts: r.attempts, kind: r.decision.kind, node: r.decision.node, verdict: r.decision.verdict, reason: r.decision.reason, violations: r.decision.violations, sans: r.decision.sans, ...(r.error?.hint ? { hint: r.error.hint } : {}) };
}
