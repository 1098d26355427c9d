import { fstatSync, writeSync } from 'node:fs';
/** What a command may touch of the outside world; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** colour and live output only when true */
  isTTY: boolean;
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
}

export function processIo(): Io {
  const out = stdoutKind();
  let outputClosed = false;
  const closed = () => { outputClosed = true; };
  return {
    get outputClosed() { return outputClosed; },
    stdout: out === 'direct' ? directStdout(closed) : streamStdout(closed),
    stderr: (t) => { process.stderr.write(t); },
    env: process.env,
    isTTY: out === 'stream' && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
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
 * Standard output to a pipe or a file is written with write(2) (`fs.writeSync`):
 * `process.stdout` on a pipe is a net.Socket, and loading `net` for it is ~1.5 ms
 * of every `check | jq`. A terminal, a socket or anything else gets
 * `process.stdout`. When the reader has gone (`kubepki check | head`, EPIPE) the
 * rest of the output is dropped and `Io.outputClosed` says so (`csr approve
 * --watch | tee log` then stops rather than approve with nobody logging); a
 * non-blocking pipe that is full (EAGAIN) hands the rest to `process.stdout`,
 * which queues it.
 */
function stdoutKind(): 'direct' | 'stream' {
  try {
    const st = fstatSync(1);
    return st.isFIFO() || st.isFile() ? 'direct' : 'stream';
  } catch {
    return 'stream';
  }
}

function directStdout(onClosed: () => void): (text: string) => void {
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
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') { mode = 'closed'; onClosed(); return; }
      if (code !== 'EAGAIN') throw e;
      mode = 'stream';
      stream = streamStdout(onClosed);
      stream(buf.subarray(off));
    }
  };
}

function streamStdout(onClosed: () => void): (text: string | Buffer) => void {
  let closed = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') { closed = true; onClosed(); return; }
    throw e;
  });
  return (text) => { if (!closed) process.stdout.write(text); };
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
