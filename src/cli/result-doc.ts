/**
 * The documents `renew -o json` and `restore -o json` print: what the run did (or, with --dry-run, would do),
 * built from the plan and the transaction's result rather than a second description of them. Paths are node
 * paths; keys are named by file, never included (the plan holds none either).
 */
import type { NodeFs } from '../fs/node-fs.js';
import type { Plan, PlanFile, PlanItem, PlanNote, PlanResult, PlanRestart } from '../plan/types.js';
import { UserError, ExitError, errorMessage } from '../errors.js';
import type { Io } from './io.js';
import { restoreArgs } from '../apply/state.js';
import { rollbackOf } from '../apply/transaction.js';
import { basename } from 'node:path';

/**
 * What the exit code means, one word: `renewed` (0), `nothing-to-renew` (0), `partial` (1: some certificates not
 * renewed, see notRenewed), `failed` (2: rolled back, see failure; 3: nothing was written), `restart-failed` and
 * `served-old` (2: the files are renewed, a component did not restart or still serves the old certificate).
 */
export type RenewOutcome = 'renewed' | 'nothing-to-renew' | 'partial' | 'failed' | 'restart-failed' | 'served-old';

/** A file of the plan as the run leaves it: `mode` is its mode afterwards, in octal as ls and chmod give it. */
export type ResultFile = Omit<PlanFile, 'mode' | 'create'> & { action: 'write' | 'create' | 'link'; mode?: string };

export type ResultRestart = PlanRestart & {
  /** --restart restarted it (false: the operator is to, with `command`) */
  restarted: boolean;
  /** with --restart: how it went; `serving` is the TLS probe of its endpoint afterwards */
  result?: 'ok' | 'failed';
  serving?: { endpoint: string; renewed: boolean; detail?: string };
};

/**
 * Why a run that had made its plan failed. `state`: `nothing-written` (it failed before changing a node file),
 * `rolled-back` (every file put back; `backup` holds the rolled-back run), `rollback-failed` (files may be half
 * written: `restore` is the command that puts them back), `written` (the node files are renewed; what came after
 * them failed).
 */
export interface Failure {
  message: string;
  hint?: string;
  state: 'nothing-written' | 'rolled-back' | 'rollback-failed' | 'written';
  backup?: string;
  restore?: string;
}

export interface Backup {
  dir: string;
  /** the one command that undoes the run */
  restore: string;
}

export interface RenewResult {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'RenewResult';
  root: string;
  now: string;
  dryRun: boolean;
  outcome: RenewOutcome;
  exitCode: number;
  /** interrupted runs rolled back before this one (their backups) */
  recovered?: string[];
  /** renewed certificates, and (kind ca-copy) the copies updated with them */
  items: PlanItem[];
  notRenewed: PlanResult[];
  /** CSRs written under --csr-out (host paths); with --dry-run, those that would be */
  csrs: string[];
  files: ResultFile[];
  /** node paths the transaction wrote (none in a dry run, or when it was rolled back) */
  written: string[];
  backup?: Backup;
  restarts: ResultRestart[];
  warnings: string[];
  /** what must also happen outside this node */
  outside: PlanNote[];
  failure?: Failure;
}

export function backupOf(nfs: NodeFs, dir: string, backupRoot: string | undefined): Backup {
  return { dir, restore: `kubepki restore ${restoreArgs(nfs.root, basename(dir), backupRoot)}` };
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * The plan's files, each with its mode afterwards: in a dry run what the run will give it (a new file its planned
 * mode, a key file others could read its narrowed one, any other the mode it has), after a run the mode it has.
 */
export function resultFiles(nfs: NodeFs, plan: Plan, dryRun: boolean): ResultFile[] {
  return plan.files.map(({ mode, create, ...f }) => {
    const action = f.kind === 'symlink' ? 'link' as const : create ? 'create' as const : 'write' as const;
    if (action === 'link') return { ...f, action };
    const now = dryRun ? (f.keyMode?.to ?? mode ?? nfs.stat(f.path)?.mode) : nfs.stat(f.path)?.mode;
    return { ...f, action, ...(now !== undefined ? { mode: octal(now) } : {}) };
  });
}

/**
 * Report E as main does (its one line on stderr) and return the exit code, so that a document written after
 * it can say the code; the caller then throws failedAfterReport(code), which main reports as that code alone.
 */
export async function reportNow(e: unknown, io: Io): Promise<number> {
  const { reportError } = await import('./main.js');
  return reportError(e, io);
}

export function failedAfterReport(code: number): ExitError {
  return new ExitError(code);
}

/** A failure as a document says it; `written`: node files had been committed when it came. */
export function failureOf(nfs: NodeFs, e: unknown, written: boolean, backupRoot: string | undefined): Failure {
  const mark = rollbackOf(e);
  const base = { message: errorMessage(e), ...(e instanceof UserError && e.hint ? { hint: e.hint } : {}) };
  if (mark) {
    return {
      ...base, state: mark.rollback === 'done' ? 'rolled-back' : 'rollback-failed', backup: mark.backupDir,
      ...(mark.rollback === 'failed' ? { restore: backupOf(nfs, mark.backupDir, backupRoot).restore } : {}),
    };
  }
  return { ...base, state: written ? 'written' : 'nothing-written' };
}

/** Print DOC alone on stdout, as every -o json does. */
export function printDoc(write: (s: string) => void, doc: object): void {
  write(JSON.stringify(doc, null, 2) + '\n');
}

/**
 * What the exit code of a restore means: `restored` (0), `nothing-to-restore` (0: every file is as it was
 * before that run already), `refused` (3: files changed since by something other than kubepki, listed in
 * changedByOthers, and no --overwrite; nothing written), `failed` (2: rolled back, see failure; 3: nothing
 * written). With --dry-run, the outcome the real run would have, and its exit code: 3 for `refused`, else 0.
 */
export type RestoreOutcome = 'restored' | 'nothing-to-restore' | 'refused' | 'failed';

export interface RestoreFile {
  path: string;
  action: 'write' | 'link' | 'remove';
  /** the link's target, for `link` */
  target?: string;
  /** the later kubepki run whose backup it comes from: only that run changed it since */
  laterRun?: string;
}

export interface RestoreResult {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'RestoreResult';
  root: string;
  now: string;
  dryRun: boolean;
  outcome: RestoreOutcome;
  exitCode: number;
  /** interrupted runs rolled back before this one (their backups) */
  recovered?: string[];
  /** the backup put back, and the run that made it */
  backup: { dir: string; action: string; created: string; state: string };
  /** later kubepki runs whose changes are put back too (the tree as it was before the backup's run) */
  laterRuns: { name: string; action: string; dir: string }[];
  /** --force: unreadable backups beside it, whose runs' changes are not undone */
  leftOut: { dir: string; reason: string }[];
  files: RestoreFile[];
  /** directories the runs made, removed when empty (in a dry run, to be removed if empty) */
  dirsRemoved: string[];
  /** of those, the ones kept: something else is in them now */
  dirsKept: string[];
  /** files changed since by something other than kubepki: refused without --overwrite, put back over with it */
  changedByOthers: string[];
  /** to undo only the latest of the later runs instead */
  latestOnly?: string;
  /** components to restart: they read the files put back */
  restarts: PlanRestart[];
  /** components that read files the restore removes: they fail when they next load them */
  readersOfRemoved: PlanRestart[];
  /** why the components could not be worked out (restart every one that reads the files) */
  restartsUnknown?: string;
  /** the restore's own backup of what it replaced, and the command that undoes the restore */
  newBackup?: Backup;
  failure?: Failure;
}

/**
 * What `token create -o json` prints. `outcome`: `created` (0: the Secret written and, for a signing token,
 * cluster-info signed for it and read back verified), `unsigned` (2: the Secret written, but signing cluster-info for
 * it failed or did not verify; `failure` says why, state `written`). With --dry-run, what the run would do.
 */
export interface TokenCreateResult {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'TokenCreateResult';
  now: string;
  dryRun: boolean;
  outcome: 'created' | 'unsigned';
  exitCode: number;
  /** the whole token (id.secret), as kubeadm token create prints it; `<new token>` for one a dry run would draw */
  token: string;
  /** its id (none for a token a dry run would draw) */
  id?: string;
  /** the Secret: kube-system/bootstrap-token-<id> */
  secret: string;
  /** RFC 3339, whole seconds, as the Secret holds it; none: it never expires */
  expiration?: string;
  usages: string[];
  groups: string[];
  description?: string;
  /** kube-public/cluster-info is signed for it (jws-kubeconfig-<id>), or with --dry-run would be */
  signed: boolean;
  /** --print-join-command: the `kubeadm join` line, and the CA hashes it pins (cluster-info's) */
  joinCommand?: string;
  discoveryHashes?: string[];
  steps: string[];
  warnings: string[];
  failure?: Failure;
}
