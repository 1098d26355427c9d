import { fstatSync, writeSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** colour and live output only when true */
  isTTY: boolean;
  /** standard input is a terminal someone may answer on (an exec credential plugin may then prompt there) */
  stdinIsTTY?: boolean;
  cwd: string;
  /** set by a command to choose the process exit code (default 0) */
  exitCode: number;
  /** read all of standard input (for `inspect -`) */
  readStdin(): Promise<Buffer>;
  /**
   * True once standard output's reader has gone (EPIPE): the rest of the output
   * is dropped. Work in progress is never cut off by it (a renewal or a restart
   * half done would be worse than output nobody reads); loops that only report
   * (`csr approve --watch`) stop at their next pass.
   */
  readonly outputClosed?: boolean;
  /**
   * Why standard output could not be written (its errno code: EFBIG past `ulimit -f`, ENOSPC on a full
   * disk, EBADF when it is not open for writing): the rest of the output is dropped as on EPIPE (work in
   * progress goes on), and `run` says so on standard error and exits 3 at the end.
   */
  readonly outputError?: string;
  /** Wait until what was written to standard output through a stream has gone out (or failed: outputError). */
  flush?(): Promise<void>;
}

/**
 * What connect() is given as the terminal an exec credential plugin may prompt on (ConnectOptions.terminal):
 * this Io when its standard input is a terminal, else none (a cron job, a pod, a pipe).
 */
export function pluginTerminal(io: Io): Io | undefined {
  return io.stdinIsTTY ? io : undefined;
}

export function processIo(): Io {
  const out = stdoutKind();
  let outputClosed = false;
  let outputError: string | undefined;
  const closed = (failed?: string) => { outputClosed = true; outputError ??= failed; };
  return {
    get outputClosed() { return outputClosed; },
    get outputError() { return outputError; },
    // (a stream reports a failed write a tick later, after the command may have finished)
    flush: () => (streamed && !outputClosed ? new Promise<void>((res) => process.stdout.write('', () => res())) : Promise.resolve()),
    stdout: out === 'direct' ? directStdout(closed) : streamStdout(closed),
    stderr: (t) => { process.stderr.write(t); },
    env: process.env,
    isTTY: out === 'stream' && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    // (node:tty loads node:net and the stream classes: ~5 M instructions on every start-up of check, which never asks)
    get stdinIsTTY() { return (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(0); },
    cwd: process.cwd(),
    exitCode: 0,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/**
 * Standard output to a pipe, a socket or a file is written with write(2) (`fs.writeSync`):
 * `process.stdout` on a pipe or a socket is a net.Socket, and loading `net` for it is ~1.5 ms
 * (~7 M instructions) of every `check | jq`, of every run whose output a program reads through
 * a socketpair (Node's child_process, the bench) and of a systemd unit's (journald's stdout is a
 * socket), and /dev/null. A terminal or anything else gets `process.stdout`. When the reader has gone (`kubepki check | head`, EPIPE) the
 * rest of the output is dropped and `Io.outputClosed` says so (`csr approve
 * --watch | tee log` then stops rather than approve with nobody logging); a
 * non-blocking pipe that is full (EAGAIN) hands the rest to `process.stdout`,
 * which queues it.
 */
function stdoutKind(): 'direct' | 'stream' {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isFile() || st.isSocket() || isMemoryDevice(st) ? 'direct' : 'stream';
  } catch {
    return 'stream';
  }
}

/**
 * /dev/null (cron's `kubepki check >/dev/null || alert`), /dev/full and the other memory devices: Linux's
 * character devices of major 1, never a terminal. (process.stdout would be a SyncWriteStream there: ~0.5 ms to make.)
 */
function isMemoryDevice(st: Stats): boolean {
  return process.platform === 'linux' && st.isCharacterDevice() && st.rdev < 2 ** 32 && ((st.rdev >>> 8) & 0xfff) === 1;
}

/** Told that standard output's reader has gone (EPIPE), or with the errno code it failed with. */
type OnClosed = (failed?: string) => void;

/** An errno code other than EPIPE: why writing standard output failed (undefined: the reader has gone). */
const failure = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') throw e;
  return code === 'EPIPE' ? undefined : code;
};

function directStdout(onClosed: OnClosed): (text: string) => void {
  let mode: 'direct' | 'stream' | 'closed' = 'direct';
  let stream: ((text: string | Buffer) => void) | undefined;
  return (text) => {
    if (mode === 'closed' || text === '') return;
    if (mode === 'stream') { stream!(text); return; }
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') { mode = 'closed'; onClosed(failure(e)); return; }
      mode = 'stream';
      stream = streamStdout(onClosed);
      stream(buf.subarray(off));
    }
  };
}

/** process.stdout was written to (a terminal or device, or a pipe that was full): Io.flush waits for it. */
let streamed = false;

function streamStdout(onClosed: OnClosed): (text: string | Buffer) => void {
  streamed = true;
  let closed = false;
  const fail = (e: unknown) => { closed = true; onClosed(failure(e)); };
  process.stdout.on('error', fail);
  // (a file or device, /dev/full, is written synchronously: its error is thrown here)
  return (text) => { if (!closed) try { process.stdout.write(text); } catch (e) { fail(e); } };
}

/** An Io that records output, for tests and for library callers. */
export function memoryIo(env: Record<string, string | undefined> = {}, stdin = ''): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(t: string) { io.out += t; },
    stderr(t: string) { io.err += t; },
    env,
    isTTY: false,
    cwd: process.cwd(),
    exitCode: 0,
    readStdin: async () => Buffer.from(stdin),
  };
  return io;
}
