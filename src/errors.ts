/**
 * The one error vocabulary of kubepki. Library code throws these; only
 * `cli/main.ts` turns them into a message and an exit code.
 */

/** Something the user can fix: bad flag, unreadable explicit file, missing input. */
export class UserError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode = 3) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}

/** A command finished and wants a specific exit code (e.g. 1 = warning, 2 = expired). */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = '') {
    super(message);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

/** Exit codes, documented in `kubepki --help`. */
export const EXIT = {
  ok: 0,
  warning: 1,
  broken: 2,
  cannotRun: 3,
} as const;

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
