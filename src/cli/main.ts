import { Command, CommanderError } from 'commander';
import { COMMANDS, type CommandSpec } from './commands.js';
import { processIo, type Io } from './io.js';
import { UserError, ExitError, EXIT } from '../errors.js';

export const VERSION = '0.1.0';

export const EXIT_CODES_HELP = `Exit codes:
  0  healthy: nothing expired, nothing within the warning threshold
  1  something is within the warning threshold (--warn)
  2  something is expired, not yet valid, invalid or broken
  3+ kubepki could not run (bad flags, no readable tree, API server unreachable) or write its output;
     70 is an internal error (a bug: please report it)`;

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `kubepki keeps Kubernetes clusters' certificates alive.

Examples:
  kubepki demo                          # a throwaway tree with expired certificates, checked
  kubepki check                         # every certificate on this node, with findings
  kubepki check --root /mnt/disk -o json
  kubepki inspect /etc/kubernetes/admin.conf
  kubepki probe 127.0.0.1:6443

Usage: kubepki <command> [options]    (kubepki <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

${EXIT_CODES_HELP}
`;
}

/**
 * Run the CLI as a function: parse, dispatch, and map every error to a
 * message and an exit code. This is the only place that decides exit codes;
 * `main` is the only place that calls process.exit.
 */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const code = await runCommand(argv, io);
  await io.flush?.();
  return outputFailed(io, code);
}

async function runCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'help' && argv[1]) argv = [...argv.slice(1), '--help'];
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topHelp());
    return name ? EXIT.ok : EXIT.cannotRun;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) {
    io.stderr(`kubepki: unknown command ${JSON.stringify(name)}; run 'kubepki --help' for the list\n`);
    return EXIT.cannotRun;
  }
  io.exitCode = EXIT.ok;
  try {
    const program = await commandProgram(spec, io);
    await program.parseAsync([name, ...rest], { from: 'user' });
    return io.exitCode;
  } catch (e) {
    return reportError(e, io);
  }
}

/**
 * Standard output that could not be written (a redirect past `ulimit -f`, to a full disk, a descriptor not
 * open for writing): what it holds is cut short, so say so and exit 3 whatever the command found; the
 * command itself ran to its end (a renewal is not left half done for its report).
 */
function outputFailed(io: Io, code: number): number {
  if (!io.outputError) return code;
  io.stderr(`kubepki: failed to write standard output: ${io.outputError}; the rest of the output was dropped\n  hint: ${STDOUT_HINTS[io.outputError] ?? 'send standard output to a file or pipe that can be written'}\n`);
  return Math.max(code, EXIT.cannotRun);
}

const STDOUT_HINTS: Record<string, string> = {
  EFBIG: 'the output is larger than this process may write to a file (ulimit -f): raise the limit, or send it elsewhere',
  ENOSPC: 'the disk standard output goes to is full: free some space, or send the output elsewhere',
  EDQUOT: 'the disk quota of the file standard output goes to is used up: free some space, or send the output elsewhere',
  EBADF: 'standard output is not open for writing: run with it going to a file (> FILE) or a pipe',
};

/**
 * The commander program for one command: every level (sub-commands such as `ca export` too) writes through
 * io and never exits the process itself. `run` parses with it; tests parse documented examples with it.
 */
export async function commandProgram(spec: CommandSpec, io: Io): Promise<Command> {
  const name = spec.name;
  const mod = await spec.load();
  const program = new Command('kubepki').exitOverride().configureOutput({
    writeOut: (s) => io.stdout(s),
    writeErr: (s) => io.stderr(commanderError(s, name)),
  });
  const cmd = mod.command(io);
  // Descriptions are laid out by hand; a wide help width keeps commander from re-wrapping them mid-line.
  // A bad flag's hint names the command it was given to (`kubepki ca import --help`, whose options it lists).
  const wire = (c: Command, words: string): void => {
    c.configureHelp({ helpWidth: 120 });
    c.exitOverride();
    c.configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(commanderError(s, words)) });
    c.commands.forEach((sub) => wire(sub, `${words} ${sub.name()}`));
  };
  wire(cmd, name);
  program.addCommand(cmd);
  return program;
}

/** commander's `error: unknown option '--bogus'` in kubepki's form: prefixed, with where to look. */
function commanderError(s: string, command: string): string {
  const m = /^error: (.*)\n?$/s.exec(s);
  return m ? `kubepki: ${m[1]!.trimEnd()}\n  hint: kubepki ${command} --help lists the options\n` : s;
}

export function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
    // (`kubepki ca` without export or import: commander shows the help on stderr in place of the missing
    // sub-command, as `kubepki` alone shows the list, and that is a usage error there too)
    if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT.ok : EXIT.cannotRun;
    // commander already printed its one-line message
    return EXIT.cannotRun;
  }
  if (e instanceof ExitError) {
    if (e.message) io.stderr(`${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof UserError) {
    io.stderr(`kubepki: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}\n`);
    return e.exitCode;
  }
  // The filesystem refusing (a directory not writable, a path that is a directory, a read-only or full
  // disk) is the machine's answer, not a bug: one line naming the path, exit 3.
  const sys = e as NodeJS.ErrnoException;
  if (typeof sys?.code === 'string' && typeof sys.syscall === 'string' && typeof sys.path === 'string' && FS_HINTS[sys.code]) {
    io.stderr(`kubepki: failed to ${sys.syscall} ${sys.path}: ${sys.code}\n  hint: ${FS_HINTS[sys.code]}\n`);
    return EXIT.cannotRun;
  }
  const err = e as Error;
  io.stderr(`kubepki: internal error: ${err?.message ?? String(e)}\n${process.env.KUBEPKI_DEBUG ? `${err?.stack}\n` : '  (set KUBEPKI_DEBUG=1 for a stack trace, and please report it)\n'}`);
  return 70;
}

const FS_HINTS: Record<string, string> = {
  // (a read as well as a write: `ca export` run as a user is refused ca.key)
  EACCES: 'permission denied: run kubepki as root (sudo) on a node, or choose a path this user may write (--backup-dir, --out, --dir)',
  EPERM: 'permission denied: run kubepki as root (sudo) on a node, or choose another path',
  EROFS: 'the filesystem is read-only: remount it read-write or write elsewhere',
  ENOSPC: 'the disk is full: free some space and run again',
  EFBIG: 'the file is larger than this process may write (ulimit -f): raise the limit and run again',
  EDQUOT: 'the disk quota is used up: free some space and run again',
  EIO: 'the disk failed the write (an I/O error): check it (dmesg, the kernel log), or write elsewhere, and run again',
  ENOENT: 'check the path: a directory in it does not exist',
  ENOTDIR: 'check the path: a part of it is a file, not a directory',
  EISDIR: 'give a file path, not a directory',
  EEXIST: 'something is already there: move it away or choose another path',
};

export function main(argv: string[]): void {
  // `kubepki check | head`: a closed pipe drops the rest of the output, quietly (see processIo).
  run(argv).then(
    (code) => { process.exitCode = code; },
    (e) => { process.stderr.write(`kubepki: ${String(e)}\n`); process.exitCode = 70; },
  );
}
