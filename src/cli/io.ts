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
}

export function processIo(): Io {
  return {
    stdout: (t) => { process.stdout.write(t); },
    stderr: (t) => { process.stderr.write(t); },
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    cwd: process.cwd(),
    exitCode: 0,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  };
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
