/**
 * Fast parallel certificate scan: walk directories of a node, read every
 * certificate file, PEM-decode it and pull out exactly the fields an inventory
 * row shows (subject, issuer, serial, validity, SANs, key algorithm and size,
 * CA or not) with our lazy DER reader. No signature checks, no key matching:
 * that is `readInventory`'s job. Used for big trees (thousands of files) and by
 * the scan bench; on a 2-core machine it splits the file list between the main
 * thread and one `worker_threads` worker (`scan-worker.ts`), which steal
 * batches from a shared counter so neither core idles while the other works.
 *
 * Never throws for a bad file: a file that cannot be read or parsed becomes a
 * `ScanProblem` with the same codes the inventory uses (`unreadable`, `corrupt`).
 */
import { openSync, readSync, closeSync, fstatSync, readdirSync, type Dirent } from 'node:fs';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate, nameToString, type GeneralName } from '../pki/certificate.js';
import { DerError } from '../pki/der.js';
import { parsePemBlocks, PemError } from '../pki/pem.js';

/** One certificate as the scan sees it: plain data, cheap to pass between threads. */
export interface ScanRecord {
  /** node path of the file */
  file: string;
  /** index among the file's certificates */
  index: number;
  subject: string;
  issuer: string;
  /** lowercase hex, no padding */
  serial: string;
  /** milliseconds since the epoch (whole seconds) */
  notBefore: number;
  notAfter: number;
  sans: GeneralName[];
  keyAlgorithm: string;
  keySize: number;
  curve?: string;
  isCA: boolean;
}

export interface ScanProblem {
  file: string;
  code: 'unreadable' | 'corrupt';
  message: string;
}

export interface ScanResult {
  certificates: ScanRecord[];
  problems: ScanProblem[];
  /** files read (or attempted) */
  files: number;
  /** threads that did work (1 = main thread only) */
  threads: number;
}

export interface ScanOptions {
  /** extra threads beside the main one (default: one per spare core, at most 3; 0 for none) */
  workers?: number;
  /** below this many files no worker is started (its start-up costs ~20–40 ms); default 2000 */
  minFilesForWorkers?: number;
  /** files above this size are reported, not parsed (default 4 MiB) */
  maxFileSize?: number;
}

/** Files that may hold certificates. */
export const CERT_FILE = /\.(crt|pem|cer|cert|der)$/i;

/** Files a worker batch holds (each thread takes this many at a time). */
const BATCH = 128;

/**
 * Every certificate under `dirs` (node paths; files are accepted too). Sorted
 * by file then index, so the result does not depend on thread timing.
 */
export async function scanCertificates(fs: NodeFs, dirs: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const list = listCertificateFiles(fs, dirs);
  const problems: ScanProblem[] = [...list.problems];
  const n = list.nodePaths.length;
  const cores = await availableCores();
  const wanted = opts.workers ?? Math.min(3, Math.max(0, cores - 1));
  const workers = n >= (opts.minFilesForWorkers ?? 2000) ? wanted : 0;
  const maxSize = opts.maxFileSize ?? 4 * 1024 * 1024;
  let certificates: ScanRecord[];
  let threads = 1;
  if (workers <= 0) {
    const out = scanFiles(list.hostPaths, list.nodePaths, 0, n, maxSize);
    certificates = out.certificates;
    problems.push(...out.problems);
  } else {
    const { Worker } = await import('node:worker_threads');
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const url = new URL('./scan-worker.js', import.meta.url);
    const parts: ScanBatchResult[] = [];
    const running = Array.from({ length: workers }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(url, { workerData: { hostPaths: list.hostPaths, nodePaths: list.nodePaths, counter, batch: BATCH, maxSize } });
      w.once('message', (m: ScanBatchResult) => { parts.push(m); resolve(); });
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scan worker exited with code ${code}`))));
    }));
    // The main thread works too, from the same shared counter.
    parts.push(stealBatches(list.hostPaths, list.nodePaths, counter, BATCH, maxSize));
    await Promise.all(running);
    threads = parts.filter((p) => p.certificates.length > 0 || p.problems.length > 0).length;
    certificates = parts.flatMap((p) => p.certificates);
    for (const p of parts) problems.push(...p.problems);
    certificates.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index));
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { certificates, problems, files: n, threads };
}

async function availableCores(): Promise<number> {
  const os = await import('node:os');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

export interface ScanBatchResult {
  certificates: ScanRecord[];
  problems: ScanProblem[];
}

/** Take batches from the shared counter until the list is done (main thread and workers). */
export function stealBatches(hostPaths: string[], nodePaths: string[], counter: Int32Array, batch: number, maxSize: number): ScanBatchResult {
  const certificates: ScanRecord[] = [];
  const problems: ScanProblem[] = [];
  for (;;) {
    const start = Atomics.add(counter, 0, batch);
    if (start >= hostPaths.length) break;
    scanInto(hostPaths, nodePaths, start, Math.min(hostPaths.length, start + batch), maxSize, certificates, problems);
  }
  return { certificates, problems };
}

/** Scan files [start, end) of the list on this thread. */
export function scanFiles(hostPaths: string[], nodePaths: string[], start: number, end: number, maxSize = 4 * 1024 * 1024): ScanBatchResult {
  const certificates: ScanRecord[] = [];
  const problems: ScanProblem[] = [];
  scanInto(hostPaths, nodePaths, start, end, maxSize, certificates, problems);
  return { certificates, problems };
}

/** Reused read buffer (per thread): most certificate files are a few KiB. */
let readBuf = Buffer.allocUnsafeSlow(64 * 1024);

/** Read a whole file with one open/read/close (no fstat, no allocation) when it fits the buffer. */
function readSmallFile(hostPath: string, maxSize: number): Buffer {
  const fd = openSync(hostPath, 'r');
  try {
    let n = readSync(fd, readBuf, 0, readBuf.length, 0);
    if (n < readBuf.length) return readBuf.subarray(0, n);
    const size = fstatSync(fd).size;
    if (size > maxSize) throw new TooLargeError(size);
    if (size + 1 > readBuf.length) {
      const grown = Buffer.allocUnsafeSlow(size + 1);
      readBuf.copy(grown, 0, 0, n);
      readBuf = grown;
    }
    while (n < readBuf.length) {
      const r = readSync(fd, readBuf, n, readBuf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return readBuf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

class TooLargeError extends Error {
  constructor(readonly size: number) { super(`${size} bytes`); }
}

function scanInto(hostPaths: string[], nodePaths: string[], start: number, end: number, maxSize: number, certificates: ScanRecord[], problems: ScanProblem[]): void {
  for (let i = start; i < end; i++) {
    const file = nodePaths[i]!;
    let buf: Buffer;
    try {
      buf = readSmallFile(hostPaths[i]!, maxSize);
    } catch (e) {
      if (e instanceof TooLargeError) {
        problems.push({ file, code: 'unreadable', message: `skipped ${file}: ${e.size} bytes is too large for a certificate file (limit ${maxSize})` });
        continue;
      }
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({ file, code: 'unreadable', message: `failed to read ${file}: ${code === 'EISDIR' ? 'a directory where a file is expected' : code ?? (e as Error).message}` });
      continue;
    }
    if (buf.length > maxSize) {
      problems.push({ file, code: 'unreadable', message: `skipped ${file}: ${buf.length} bytes is too large for a certificate file (limit ${maxSize})` });
      continue;
    }
    scanBuffer(buf, file, certificates, problems);
  }
}

/** Certificates of one file's bytes (PEM bundle or bare DER). */
export function scanBuffer(buf: Buffer, file: string, certificates: ScanRecord[], problems: ScanProblem[]): void {
  const corrupt = (why: string) => problems.push({ file, code: 'corrupt', message: `${file}: ${why}` });
  if (buf.length === 0) { corrupt('empty file'); return; }
  if (buf[0] === 0x30) {
    try {
      certificates.push(record(new Certificate(buf), file, 0));
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) corrupt(`not a certificate (DER that does not parse: ${e.message})`);
      else throw e;
    }
    return;
  }
  let blocks;
  try {
    blocks = parsePemBlocks(buf.toString('latin1'));
  } catch (e) {
    if (e instanceof PemError) { corrupt(e.message); return; }
    throw e;
  }
  if (blocks.length === 0) { corrupt('no PEM block and not DER: not a certificate'); return; }
  let index = 0;
  for (const b of blocks) {
    if (b.label !== 'CERTIFICATE' && b.label !== 'TRUSTED CERTIFICATE' && b.label !== 'X509 CERTIFICATE') continue;
    try {
      certificates.push(record(new Certificate(b.der), file, index));
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) corrupt(`PEM block ${b.index + 1} (${b.label}): ${e.message}`);
      else throw e;
    }
    index++;
  }
}

function record(c: Certificate, file: string, index: number): ScanRecord {
  const ki = c.keyInfo;
  const r: ScanRecord = {
    file,
    index,
    subject: nameToString(c.subject),
    issuer: nameToString(c.issuer),
    serial: c.serialHex,
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    sans: c.subjectAltNames,
    keyAlgorithm: ki.algorithm,
    keySize: ki.size,
    isCA: c.isCA,
  };
  if (ki.curve) r.curve = ki.curve;
  return r;
}

/**
 * Node paths and host paths of every certificate file under `dirs`, in a
 * stable order. Symlinks resolve inside the root (NodeFs); each real
 * directory and file is visited once, so symlink loops end.
 */
export function listCertificateFiles(fs: NodeFs, dirs: string[]): { nodePaths: string[]; hostPaths: string[]; problems: ScanProblem[] } {
  const nodePaths: string[] = [];
  const hostPaths: string[] = [];
  const problems: ScanProblem[] = [];
  const seen = new Set<string>();
  const addFile = (nodePath: string) => {
    let real: string;
    try { real = fs.realNodePath(nodePath); } catch { problems.push({ file: nodePath, code: 'unreadable', message: `failed to read ${nodePath}: symlink loop` }); return; }
    if (seen.has(real)) return;
    seen.add(real);
    nodePaths.push(real);
    hostPaths.push(fs.hostPath(real));
  };
  const walk = (dir: string, depth: number) => {
    let real: string;
    try { real = fs.realNodePath(dir); } catch { problems.push({ file: dir, code: 'unreadable', message: `failed to read ${dir}: symlink loop` }); return; }
    if (seen.has(real) || depth > 16) return;
    seen.add(real);
    let entries: Dirent[];
    const hostDir = fs.hostPath(real);
    const hostBase = hostDir.endsWith('/') ? hostDir : `${hostDir}/`;
    try {
      entries = readdirSync(hostDir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, code: 'unreadable', message: `failed to read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const base = real === '/' ? '' : real;
    for (const d of entries) {
      const p = `${base}/${d.name}`;
      if (d.isDirectory()) { walk(p, depth + 1); continue; }
      if (d.isSymbolicLink()) {
        if (fs.isDir(p)) { walk(p, depth + 1); continue; }
        if (CERT_FILE.test(d.name)) addFile(p);
        continue;
      }
      if (d.isFile() && CERT_FILE.test(d.name)) {
        // fast path: a plain file inside an already-resolved directory is its own real path
        if (seen.has(p)) continue;
        seen.add(p);
        nodePaths.push(p);
        hostPaths.push(hostBase + d.name);
      }
    }
  };
  for (const d of dirs) {
    const st = fs.stat(d);
    if (!st) {
      if (fs.lstat(d)) problems.push({ file: d, code: 'unreadable', message: `failed to read ${d}: dangling symlink or symlink loop` });
      continue;
    }
    if (st.isDirectory()) walk(d, 0);
    else addFile(d);
  }
  return { nodePaths, hostPaths, problems };
}
