/**
 * Fast parallel certificate scan: walk directories of a node, read every
 * certificate file, PEM-decode it and pull out exactly the fields an inventory
 * row shows (subject, issuer, serial, validity, SANs, key algorithm and size,
 * CA or not) with our lazy DER reader. No signature checks, no key matching:
 * that is `readInventory`'s job. Used for big trees (thousands of files) and by
 * the scan bench. On 4 cores or more with idle ones (see defaultWorkers) it
 * splits the file list between the main thread and `worker_threads` workers
 * (`scan-worker.ts`), which take batches
 * from a shared counter so neither thread waits for the other; the worker
 * starts while the walk is still running.
 *
 * Speed comes from doing at scan time only what every caller needs: files
 * framed as PEM with plain string search, bodies decoded side by side into
 * shared buffers, DER walked by offsets (`fastRecord`) to check its structure
 * and read the dates, key and CA flag; names, serial and SANs are decoded when
 * a caller first reads them (`CertRecord`). Anything unusual — and every
 * malformed input — goes through `parsePemBlocks` and `Certificate`, so
 * results and error messages are theirs (test/fuzz.test.ts checks this
 * differentially).
 *
 * Never throws for a bad file: a file that cannot be read or parsed becomes a
 * `ScanProblem` with the same codes the inventory uses (`unreadable`, `corrupt`).
 */
import { openSync, readSync, closeSync, fstatSync, readdirSync, type Dirent } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate, serialText, nameToString, escapeDnValue, RDN_COMMA, RDN_PLUS, parseGeneralNames, formatIp, spkiKeyInfo, NAME_TYPES, CURVES, type GeneralName, type KeyInfo } from '../pki/certificate.js';
import { DerError, decodeOid, decodeString, decodeTime, latin1Text, type Tlv } from '../pki/der.js';
import { parsePemBlocks, isUsualPemBody, PemError, type PemBlock } from '../pki/pem.js';

/**
 * One certificate as the scan sees it. Records made by the fast extractor
 * decode their text fields (subject, issuer, serial, SANs) from the DER the
 * first time they are read (see `CertRecord`); `plainRecord` gives a plain copy
 * (what `JSON.stringify` writes, and what crosses threads).
 */
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
  /** extra threads beside the main one (default: none below 4 cores, else one per idle core beyond the first, at most 3 — see defaultWorkers; 0 for none) */
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
 * Every certificate under `dirs` (node paths; files are accepted too), in walk
 * order (directory entries by name, depth first) whatever the threads did;
 * problems sorted by file.
 */
export async function scanCertificates(fs: NodeFs, dirs: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const wanted = opts.workers ?? defaultWorkers();
  const minFiles = opts.minFilesForWorkers ?? 2000;
  const maxSize = opts.maxFileSize ?? 4 * 1024 * 1024;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  // Workers start as soon as the walk shows a big tree, so they boot while the walk goes on.
  const pool: Worker[] = [];
  const list = listCertificateFiles(fs, dirs, (count) => {
    if (pool.length === 0 && wanted > 0 && count >= minFiles) {
      const url = new URL('./scan-worker.js', import.meta.url);
      for (let i = 0; i < wanted; i++) pool.push(new Worker(url, { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
    }
  });
  const problems: ScanProblem[] = [...list.problems];
  const n = list.nodePaths.length;
  const results = pool.map((w) => new Promise<ScanBatchResult>((resolve, reject) => {
    w.once('message', (m: string) => {
      const r = JSON.parse(m) as ScanBatchResult;
      // the same class as the main thread's records (decoded in the worker, sent as JSON)
      resolve({ ...r, certificates: r.certificates.map((c) => CertRecord.of(c)) });
    });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`scan worker exited with code ${code} before reporting`)));
  }));
  const job: ScanJob = { hostPaths: list.hostPaths, nodePaths: list.nodePaths, counter, batch: BATCH, maxSize };
  for (const w of pool) w.postMessage(job);
  // The main thread works too, from the same shared counter.
  let parts = [stealBatches(list.hostPaths, list.nodePaths, counter, BATCH, maxSize)];
  try {
    parts.push(...await Promise.all(results));
  } catch {
    // A worker that could not start or died (a packaging without dist/scan-worker.js, a
    // resource limit): the batches it took are unknown, so read everything here instead.
    parts = [scanFiles(list.hostPaths, list.nodePaths, 0, n, maxSize)];
  } finally {
    for (const w of pool) { w.removeAllListeners(); w.on('error', () => {}); void w.terminate(); }
  }
  const threads = parts.filter((p) => p.certificates.length > 0 || p.problems.length > 0).length;
  // Link stand-ins (kubelet-client-current.pem in a copied tree): follow them inside the root, once.
  const links = parts.flatMap((p) => p.links ?? []);
  if (links.length > 0) {
    const listed = new Set(list.nodePaths);
    const extra: ScanBatchResult = { certificates: [], problems: [] };
    for (const file of links) {
      let real: string;
      try { real = fs.realNodePath(file); } catch { extra.problems.push({ file, code: 'unreadable', message: `failed to read ${file}: symlink loop` }); continue; }
      if (real === file) { extra.problems.push({ file, code: 'corrupt', message: `${file}: no PEM block and not DER: not a certificate` }); continue; }
      if (listed.has(real)) continue;
      listed.add(real);
      scanInto([fs.hostPathOfReal(real)], [real], 0, 1, maxSize, extra.certificates, extra.problems, undefined);
    }
    parts.push(extra);
  }
  const certificates = parts.length === 1 ? parts[0]!.certificates : parts.flatMap((p) => p.certificates);
  for (const p of parts) problems.push(...p.problems);
  if (parts.length > 1) {
    // walk order, as one thread alone produces it (link targets found late go last)
    const order = new Map<string, number>();
    list.nodePaths.forEach((p, i) => order.set(p, i));
    const rank = (file: string) => order.get(file) ?? n;
    certificates.sort((a, b) => rank(a.file) - rank(b.file) || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index));
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  // the records keep the buffers they were decoded into; this module keeps none of them past the scan
  arena = EMPTY_BUF;
  arenaUsed = 0;
  return { certificates, problems, files: n, threads };
}

/** What a scan worker is sent: the whole list and the shared batch counter. */
export interface ScanJob {
  hostPaths: string[];
  nodePaths: string[];
  counter: Int32Array;
  batch: number;
  maxSize: number;
}

/**
 * Extra threads only from 4 cores up, one per core that is actually free (at
 * most 3). A worker costs ~40 ms to start and pays its own JIT warm-up, and V8's
 * compiler and garbage-collector threads already work on a second core: on the
 * 2-core machines the bench runs on, one worker made a 10,000-file scan slower
 * (220–270 ms against 166 ms on the main thread alone, idle machine), and two
 * scanning processes side by side each took 1.8× as long as one alone.
 */
export function defaultWorkers(cores = availableCores(), load1 = loadavg()[0] ?? 0): number {
  if (cores < 4) return 0;
  const idle = Math.floor(cores - load1 + 0.5);
  return Math.max(0, Math.min(3, cores - 2, idle - 1));
}

function availableCores(): number {
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

export interface ScanBatchResult {
  certificates: ScanRecord[];
  problems: ScanProblem[];
  /** files that hold only an absolute path: a git checkout's stand-in for a symlink (NodeFs resolves them) */
  links?: string[];
}

/** Take batches from the shared counter until the list is done (main thread and workers). */
export function stealBatches(hostPaths: string[], nodePaths: string[], counter: Int32Array, batch: number, maxSize: number): ScanBatchResult {
  const certificates: ScanRecord[] = [];
  const problems: ScanProblem[] = [];
  const links: string[] = [];
  for (;;) {
    const start = Atomics.add(counter, 0, batch);
    if (start >= hostPaths.length) break;
    scanInto(hostPaths, nodePaths, start, Math.min(hostPaths.length, start + batch), maxSize, certificates, problems, links);
  }
  return { certificates, problems, links };
}

/** Scan files [start, end) of the list on this thread. */
export function scanFiles(hostPaths: string[], nodePaths: string[], start: number, end: number, maxSize = 4 * 1024 * 1024): ScanBatchResult {
  const certificates: ScanRecord[] = [];
  const problems: ScanProblem[] = [];
  const links: string[] = [];
  scanInto(hostPaths, nodePaths, start, end, maxSize, certificates, problems, links);
  return { certificates, problems, links };
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

const LINK_TEXT = /^\/[^\s\0]+$/;

function scanInto(hostPaths: string[], nodePaths: string[], start: number, end: number, maxSize: number, certificates: ScanRecord[], problems: ScanProblem[], links: string[] | undefined): void {
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
    if (links && buf.length <= 512 && buf[0] === 0x2f && LINK_TEXT.test(buf.toString('latin1'))) { links.push(file); continue; }
    scanBuffer(buf, file, certificates, problems);
  }
}

/** Certificates of one file's bytes (PEM bundle or bare DER). */
export function scanBuffer(buf: Buffer, file: string, certificates: ScanRecord[], problems: ScanProblem[]): void {
  const corrupt = (why: string) => problems.push({ file, code: 'corrupt', message: `${file}: ${why}` });
  if (buf.length === 0) { corrupt('empty file'); return; }
  if (buf[0] === 0x30) {
    try {
      // a copy: the record keeps its DER, and `buf` is the caller's (the scan's read buffer is reused)
      certificates.push(recordOf(Buffer.from(buf), file, 0));
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) corrupt(`not a certificate (DER that does not parse: ${e.message})`);
      else throw e;
    }
    return;
  }
  const found = certificateBlocks(buf);
  for (let i = 0; i < found; i++) {
    try {
      certificates.push(recordOf(blockBuf[i]!, file, i, blockStart[i], blockEnd[i]));
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) corrupt(`PEM block ${i + 1} (CERTIFICATE): ${e.message}`);
      else throw e;
    } finally {
      blockBuf[i] = EMPTY_BUF; // records hold what they need; this table must not keep buffers alive
    }
  }
  if (found > 0) return;
  let blocks: PemBlock[];
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
      certificates.push(recordOf(b.der, file, index));
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) corrupt(`PEM block ${b.index + 1} (${b.label}): ${e.message}`);
      else throw e;
    }
    index++;
  }
}

const BEGIN_CERT = '-----BEGIN CERTIFICATE-----';
const END_CERT = '-----END CERTIFICATE-----';

/** Where `certificateBlocks` put each block's DER: buffer, start, end (reused from file to file). */
const blockBuf: Buffer[] = [];
const blockStart: number[] = [];
const blockEnd: number[] = [];

/**
 * The CERTIFICATE blocks of a file that is nothing but such blocks (the usual
 * .crt/.pem), framed with plain string search (no regular expression over
 * the file, no line splitting) and decoded into the arena: how many (their
 * places in blockBuf/blockStart/blockEnd), as `parsePemBlocks` would find them.
 * 0 for any other shape (text around blocks, keys, CRLF, damage):
 * `parsePemBlocks` then decides.
 */
function certificateBlocks(buf: Buffer): number {
  if (buf[0] !== 0x2d) return 0; // '-'
  // one string for the file: V8's string search beats Buffer's compare/indexOf argument checks here
  const text = buf.toString('latin1');
  const n = text.length;
  let p = 0, count = 0;
  while (p < n) {
    if (!text.startsWith(BEGIN_CERT, p)) return none(count);
    const bodyStart = p + BEGIN_CERT.length;
    const endAt = text.indexOf(END_CERT, bodyStart);
    if (endAt < 0) return none(count);
    const body = text.slice(bodyStart, endAt);
    if (!isUsualPemBody(body)) return none(count);
    decodeIntoArena(body, count++);
    p = endAt + END_CERT.length;
    if (p < n && text.charCodeAt(p) === 0x0a) p++;
  }
  return count;
}

/**
 * Decoded certificates live side by side in shared 64 KiB buffers rather than
 * in a Buffer object each (a ~1 KiB slice of Node's 8 KiB pool): their records
 * keep them, and a scan of the 10,000-file bench tree then holds ~190 buffers
 * instead of ~10,000 Buffer objects for the garbage collector to track. A
 * record kept alone keeps its 64 KiB buffer: `plainRecord` lets it go.
 */
const ARENA_BYTES = 64 * 1024;
const EMPTY_BUF = Buffer.alloc(0);
let arena = EMPTY_BUF;
let arenaUsed = 0;

/** 0 blocks, forgetting the `count` already decoded (whose arena space is simply left unused). */
function none(count: number): 0 {
  blockBuf.fill(EMPTY_BUF, 0, count);
  return 0;
}

/** `Buffer.from(body, 'base64')` (a body `isUsualPemBody` took), written into the current arena; its place goes to block `i`. */
function decodeIntoArena(body: string, i: number): void {
  const most = Math.ceil(body.length / 4) * 3;
  if (arenaUsed + most > arena.length) {
    arena = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, most));
    arenaUsed = 0;
  }
  const n = arena.write(body, arenaUsed, 'base64');
  blockBuf[i] = arena;
  blockStart[i] = arenaUsed;
  blockEnd[i] = arenaUsed + n;
  arenaUsed += n;
}

/**
 * The record of the DER certificate at [start, end) of `der` (a fast record
 * keeps `der`: do not reuse it): the fast extractor below, or — for
 * anything it does not take (rare layouts, and every malformed input) — the
 * `Certificate` class, which then also produces the exact error.
 */
export function recordOf(der: Uint8Array, file: string, index: number, start = 0, end = der.length): CertRecord {
  const fast = fastRecord(der, file, index, start, end);
  return fast ?? CertRecord.of(record(new Certificate(start === 0 && end === der.length ? der : der.subarray(start, end)).checkFields(), file, index));
}

/** The record as the `Certificate` class reads it (the reference for `fastRecord`). */
export function record(c: Certificate, file: string, index: number): ScanRecord {
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
export function listCertificateFiles(fs: NodeFs, dirs: string[], onGrow?: (count: number) => void): { nodePaths: string[]; hostPaths: string[]; problems: ScanProblem[] } {
  const nodePaths: string[] = [];
  const hostPaths: string[] = [];
  const problems: ScanProblem[] = [];
  const seen = new Set<string>();
  let linked = false;
  const addFile = (nodePath: string) => {
    let real: string;
    try { real = fs.realNodePath(nodePath); } catch { problems.push({ file: nodePath, code: 'unreadable', message: `failed to read ${nodePath}: symlink loop` }); return; }
    if (seen.has(real)) return;
    seen.add(real);
    linked = true;
    nodePaths.push(real);
    hostPaths.push(fs.hostPathOfReal(real));
  };
  const walk = (dir: string, depth: number) => {
    let real: string;
    try { real = fs.realNodePath(dir); } catch { problems.push({ file: dir, code: 'unreadable', message: `failed to read ${dir}: symlink loop` }); return; }
    if (seen.has(real) || depth > 16) return;
    seen.add(real);
    let entries: Dirent[];
    const hostDir = fs.hostPathOfReal(real);
    const hostBase = hostDir.endsWith('/') ? hostDir : `${hostDir}/`;
    try {
      entries = readdirSync(hostDir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, code: 'unreadable', message: `failed to read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const prefix = real === '/' ? '/' : `${real}/`; // one string per directory: each path shares it
    for (const d of entries) {
      const p = prefix + d.name;
      if (d.isDirectory()) { walk(p, depth + 1); continue; }
      if (d.isSymbolicLink()) {
        if (fs.isDir(p)) { walk(p, depth + 1); continue; }
        if (CERT_FILE.test(d.name)) addFile(p);
        continue;
      }
      if (d.isFile() && CERT_FILE.test(d.name)) {
        // fast path: a plain file inside an already-resolved directory is its own real path
        // (not remembered in `seen`: a link to it is caught below, after the walk)
        nodePaths.push(p);
        hostPaths.push(hostBase + d.name);
      }
    }
    onGrow?.(nodePaths.length);
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
  if (linked) {
    // a file reached both as itself and through a link (or an argument) is read once, where the walk met it first
    const once = new Set<string>();
    let w = 0;
    for (let r = 0; r < nodePaths.length; r++) {
      if (once.has(nodePaths[r]!)) continue;
      once.add(nodePaths[r]!);
      nodePaths[w] = nodePaths[r]!;
      hostPaths[w++] = hostPaths[r]!;
    }
    nodePaths.length = w;
    hostPaths.length = w;
  }
  return { nodePaths, hostPaths, problems };
}

// ---------------------------------------------------------------- fast extractor

/*
 * One pass over the DER with index arithmetic: no Tlv objects, no subarrays
 * except for the SAN extension and the SubjectPublicKeyInfo (handed to the
 * shared parsers so their output is the same by construction). It accepts only
 * the usual shape (v3 or v1, no unique IDs, one extensions block, well-formed
 * extensions) and is at least as strict as `Certificate` on every field it
 * reads; anything else returns undefined and the caller falls back.
 * test/fuzz.test.ts checks fast == reference on valid and mutated input.
 */

class Miss extends Error {}
const MISS = new Miss();

// header of the last TLV read: tag, content start, content end
let hT = 0, hC = 0, hE = 0;
/** tag of the last TLV read (a function, so TypeScript does not narrow it across hdr() calls) */
const tg = (): number => hT;
function hdr(b: Uint8Array, p: number, limit: number): void {
  if (p + 2 > limit) throw MISS;
  const tag = b[p]!;
  if ((tag & 0x1f) === 0x1f) throw MISS;
  let len = b[p + 1]!;
  let q = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || q + n > limit) throw MISS;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[q + i]!;
    q += n;
  }
  if (q + len > limit) throw MISS;
  hT = tag; hC = q; hE = q + len;
}

const scratch: Tlv = { tag: 0, start: 0, contentStart: 0, end: 0 };
function tlvAt(tag: number, c: number, e: number): Tlv {
  scratch.tag = tag; scratch.contentStart = c; scratch.end = e;
  return scratch;
}

const OID_2_5_4_TYPES: string[] = [];
for (let i = 0; i < 128; i++) OID_2_5_4_TYPES[i] = NAME_TYPES[`2.5.4.${i}`] ?? `2.5.4.${i}`;

/**
 * `CN=x, O=y + OU=z` (nameToString's form) of the Name at [c, e) (content of its SEQUENCE); with `build`
 * false only the walk that decides whether the fast path takes the Name (it
 * throws MISS where it would while building).
 */
function nameString(b: Uint8Array, c: number, e: number, build = true): string {
  let out = '';
  for (let p = c; p < e;) {
    hdr(b, p, e);
    if (tg() !== 0x31) throw MISS;
    const setEnd = hE;
    p = hE;
    let sep = out === '' ? '' : RDN_COMMA;
    for (let q = hC; q < setEnd;) {
      hdr(b, q, setEnd);
      if (tg() !== 0x30) throw MISS;
      const atvEnd = hE;
      q = hE;
      hdr(b, hC, atvEnd);
      if (tg() !== 0x06) throw MISS;
      const oidC = hC, oidE = hE;
      hdr(b, hE, atvEnd);
      if (hE !== atvEnd) throw MISS;
      if (!build) continue;
      let type: string;
      if (oidE - oidC === 3 && b[oidC] === 0x55 && b[oidC + 1] === 0x04 && b[oidC + 2]! < 0x80) type = OID_2_5_4_TYPES[b[oidC + 2]!]!;
      else {
        const oid = decodeOid(b, tlvAt(0x06, oidC, oidE));
        type = NAME_TYPES[oid] ?? oid;
      }
      out += `${sep}${type}=${escapeDnValue(decodeString(b, tlvAt(tg(), hC, hE)))}`;
      sep = RDN_PLUS; // the next attribute of this RDN (a multi-valued RDN: `CN=a + O=b`)
    }
  }
  return out; // one flat string (it lives on in the record), as nameToString gives it
}

/**
 * Throws MISS unless `parseGeneralNames` reads the SubjectAltName value at
 * [c, e) without an error (checked stricter than it reads: SEQUENCE tags,
 * directory names as `nameString` takes them).
 */
function checkGeneralNames(b: Uint8Array, c: number, e: number): void {
  hdr(b, c, e);
  if (tg() !== 0x30) throw MISS;
  const seqEnd = hE;
  for (let p = hC; p < seqEnd;) {
    hdr(b, p, seqEnd);
    p = hE;
    if (tg() === 0xa4) {
      const gEnd = hE;
      hdr(b, hC, gEnd);
      if (tg() !== 0x30 || hE !== gEnd) throw MISS;
      nameString(b, hC, hE, false);
    }
  }
}

interface DecodedText { subject: string | undefined; issuer: string | undefined; serial: string | undefined; sans: GeneralName[] | undefined }

const EMPTY_DER = new Uint8Array(0);

/**
 * `parseGeneralNames` of the SubjectAltName value at [c, e) (which
 * `checkGeneralNames` took), by offsets for the usual DNS, email, URI and IP
 * names; any other kind sends the whole value to `parseGeneralNames`.
 */
function generalNames(b: Uint8Array, c: number, e: number): GeneralName[] {
  const out: GeneralName[] = [];
  hdr(b, c, e);
  const seqEnd = hE;
  for (let p = hC; p < seqEnd;) {
    hdr(b, p, seqEnd);
    p = hE;
    const t = tg();
    if (t === 0x82) out.push({ type: 'dns', value: latin1Text(b, hC, hE) });
    else if (t === 0x81) out.push({ type: 'email', value: latin1Text(b, hC, hE) });
    else if (t === 0x86) out.push({ type: 'uri', value: latin1Text(b, hC, hE) });
    else if (t === 0x87) out.push({ type: 'ip', value: formatIp(b.subarray(hC, hE)) });
    else return parseGeneralNames(b.subarray(c, e));
  }
  return out;
}

/**
 * Issuer names by their DER bytes (as latin1 text): a tree has a few issuers
 * and thousands of certificates, so the records share one string per issuer
 * instead of building and keeping one each. Bounded; names past the bound are
 * built as usual.
 */
const ISSUERS = new Map<string, string>();

function issuerName(b: Uint8Array, c: number, e: number): string {
  const key = latin1Text(b, c, e);
  let name = ISSUERS.get(key);
  if (name === undefined) {
    name = nameString(b, c, e);
    if (ISSUERS.size < 1024) ISSUERS.set(key, name);
  }
  return name;
}

/**
 * A scan's record. From the fast extractor, the dates, key and CA flag are
 * read at once; subject, issuer, serial and SANs are decoded from the kept DER
 * the first time they are read, then kept. A scan of a big tree mostly needs
 * the dates (what expires), and decoding every name up front cost about a
 * third of its time. Everything that could fail was checked when the record
 * was made. Records the fast extractor does not make (unusual layouts, worker
 * results) are the same class with every field decoded already.
 *
 * The text fields are accessors, so a spread (`{...r}`), `Object.keys` or
 * `structuredClone` does not see them: `plainRecord` gives plain data (and
 * lets the DER buffer go). `JSON.stringify` writes every field.
 */
export class CertRecord implements ScanRecord {
  readonly file: string;
  readonly index: number;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly keyAlgorithm: string;
  readonly keySize: number;
  declare readonly curve?: string;
  readonly isCA: boolean;
  #der: Uint8Array;
  // content [start, end) of subject, issuer, serial and the SAN extension value in #der (-1: none)
  #subjectC: number; #subjectE: number; #issuerC: number; #issuerE: number;
  #serialC: number; #serialE: number; #sanC: number; #sanE: number;
  /** the decoded text, once a field was read (one slot rather than four: most records are never read) */
  #text: DecodedText | undefined = undefined;

  constructor(file: string, index: number, der: Uint8Array, notBefore: number, notAfter: number, ki: KeyInfo, isCA: boolean,
    subjectC: number, subjectE: number, issuerC: number, issuerE: number, serialC: number, serialE: number, sanC: number, sanE: number) {
    this.file = file;
    this.index = index;
    this.notBefore = notBefore;
    this.notAfter = notAfter;
    this.keyAlgorithm = ki.algorithm;
    this.keySize = ki.size;
    if (ki.curve) (this as { curve?: string }).curve = ki.curve;
    this.isCA = isCA;
    this.#der = der;
    this.#subjectC = subjectC; this.#subjectE = subjectE; this.#issuerC = issuerC; this.#issuerE = issuerE;
    this.#serialC = serialC; this.#serialE = serialE; this.#sanC = sanC; this.#sanE = sanE;
  }

  /** A record whose fields are all decoded already. */
  static of(r: ScanRecord): CertRecord {
    const c = new CertRecord(r.file, r.index, EMPTY_DER, r.notBefore, r.notAfter, { algorithm: r.keyAlgorithm, size: r.keySize, curve: r.curve }, r.isCA, -1, -1, -1, -1, -1, -1, -1, -1);
    c.#text = { subject: r.subject, issuer: r.issuer, serial: r.serial, sans: r.sans };
    return c;
  }

  #decoded(): DecodedText {
    return (this.#text ??= { subject: undefined, issuer: undefined, serial: undefined, sans: undefined });
  }

  /** Decode one field; bytes that no longer decode were changed under the record (see `fastRecord`). */
  #decode<T>(read: (b: Uint8Array) => T): T {
    try {
      return read(this.#der);
    } catch (e) {
      if (e instanceof Miss || e instanceof DerError || e instanceof RangeError) {
        throw new Error(`${this.file}: the certificate bytes this scan record refers to were changed after the scan (a reused buffer?)`);
      }
      throw e;
    }
  }

  get subject(): string { return (this.#decoded().subject ??= this.#decode((b) => nameString(b, this.#subjectC, this.#subjectE))); }
  set subject(v: string) { this.#decoded().subject = v; }
  get issuer(): string { return (this.#decoded().issuer ??= this.#decode((b) => issuerName(b, this.#issuerC, this.#issuerE))); }
  set issuer(v: string) { this.#decoded().issuer = v; }
  get serial(): string {
    return (this.#decoded().serial ??= this.#decode((b) => {
      return serialText(b.subarray(this.#serialC, this.#serialE));
    }));
  }
  set serial(v: string) { this.#decoded().serial = v; }
  get sans(): GeneralName[] {
    return (this.#decoded().sans ??= this.#sanC < 0 ? [] : this.#decode((b) => generalNames(b, this.#sanC, this.#sanE)));
  }
  set sans(v: GeneralName[]) { this.#decoded().sans = v; }

  /** The plain record (same keys and order as `record`), sharing nothing with this one. */
  toJSON(): ScanRecord {
    const r: ScanRecord = {
      file: this.file,
      index: this.index,
      subject: this.subject,
      issuer: this.issuer,
      serial: this.serial,
      notBefore: this.notBefore,
      notAfter: this.notAfter,
      sans: this.sans.map((n) => ({ ...n })),
      keyAlgorithm: this.keyAlgorithm,
      keySize: this.keySize,
      isCA: this.isCA,
    };
    if (this.curve) r.curve = this.curve;
    return r;
  }
}

/** A plain-data copy of a record, every field decoded and nothing shared: for comparing, cloning, spreading or keeping. */
export function plainRecord(r: ScanRecord): ScanRecord {
  return r instanceof CertRecord ? r.toJSON() : { ...r, sans: r.sans.map((n) => ({ ...n })) };
}

function sameRange(b: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) if (b[a0 + i] !== b[b0 + i]) return false;
  return true;
}

/**
 * The record of the DER certificate at [start, end) of `der`, or undefined when
 * it is not in the usual shape. The record keeps `der` and decodes its text
 * fields from it when they are first read: the bytes must not change after.
 */
export function fastRecord(der: Uint8Array, file: string, index: number, start = 0, end = der.length): CertRecord | undefined {
  try {
    const b = der;
    const len = end;
    hdr(b, start, len);
    if (tg() !== 0x30 || hE !== len) return undefined;
    // TBSCertificate
    hdr(b, hC, len);
    if (tg() !== 0x30) return undefined;
    const tbsEnd = hE;
    const afterTbs = hE;
    let p = hC;
    let version = 1;
    hdr(b, p, tbsEnd);
    if (tg() === 0xa0) {
      const vEnd = hE;
      hdr(b, hC, vEnd);
      if (tg() !== 0x02 || hE !== vEnd || hE - hC !== 1) return undefined;
      version = b[hC]! + 1;
      p = vEnd;
      hdr(b, p, tbsEnd);
    }
    // serial
    if (tg() !== 0x02 || hE === hC) return undefined;
    const serialC = hC, serialE = hE;
    // inner signature algorithm
    hdr(b, hE, tbsEnd);
    if (tg() !== 0x30) return undefined;
    // issuer
    const issuerT0 = hE;
    hdr(b, issuerT0, tbsEnd);
    if (tg() !== 0x30) return undefined;
    const issuerC = hC, issuerE = hE;
    // validity
    hdr(b, issuerE, tbsEnd);
    if (tg() !== 0x30) return undefined;
    const validityEnd = hE;
    hdr(b, hC, validityEnd);
    const notBefore = timeMs(b, tg(), hC, hE);
    hdr(b, hE, validityEnd);
    const notAfter = timeMs(b, tg(), hC, hE);
    if (hE !== validityEnd) return undefined;
    // subject
    hdr(b, validityEnd, tbsEnd);
    if (tg() !== 0x30) return undefined;
    const subjectC = hC, subjectE = hE;
    const subjectT0 = validityEnd;
    // subjectPublicKeyInfo
    hdr(b, subjectE, tbsEnd);
    if (tg() !== 0x30) return undefined;
    const spkiStart = subjectE, spkiEnd = hE;
    // extensions
    let sanC = -1, sanE = -1, bcC = -1, bcE = -1, seen = 0;
    if (spkiEnd < tbsEnd) {
      hdr(b, spkiEnd, tbsEnd);
      if (tg() !== 0xa3 || hE !== tbsEnd) return undefined;
      const extsEnd = hE;
      hdr(b, hC, extsEnd);
      if (tg() !== 0x30 || hE !== extsEnd) return undefined;
      for (let q = hC; q < extsEnd;) {
        hdr(b, q, extsEnd);
        if (tg() !== 0x30) return undefined;
        const extEnd = hE;
        q = hE;
        hdr(b, hC, extEnd);
        if (tg() !== 0x06) return undefined;
        const oidC = hC, oidE = hE;
        hdr(b, hE, extEnd);
        if (tg() === 0x01) {
          if (hE - hC !== 1) return undefined;
          hdr(b, hE, extEnd);
        }
        if (tg() !== 0x04 || hE !== extEnd) return undefined;
        if (oidE - oidC === 3 && b[oidC] === 0x55 && b[oidC + 1] === 0x1d) {
          const x = b[oidC + 2]!;
          if (x === 17 && sanC < 0) { sanC = hC; sanE = hE; }
          else if (x === 19 && bcC < 0) { bcC = hC; bcE = hE; }
          else if ((x === 14 || x === 15 || x === 35 || x === 37) && !(seen & (1 << (x - 14)))) {
            // read as Certificate.checkFields() reads them (SKI, key usage, AKI, EKU): same failures
            seen |= 1 << (x - 14);
            const vC = hC, vE = hE;
            hdr(b, vC, vE);
            if (x === 35 || x === 37) {
              const cEnd = hE;
              for (let c = hC; c < cEnd;) {
                hdr(b, c, cEnd);
                if (x === 37 && tg() !== 0x06) return undefined;
                c = hE;
              }
            }
          }
        }
      }
    }
    // signatureAlgorithm, signature
    hdr(b, afterTbs, len);
    if (tg() !== 0x30) return undefined;
    const sigAlgEnd = hE;
    hdr(b, hC, sigAlgEnd);
    if (tg() !== 0x06) return undefined;
    for (let q = hE; q < sigAlgEnd;) { hdr(b, q, sigAlgEnd); q = hE; } // parameters: well-formed, as Certificate requires
    hdr(b, sigAlgEnd, len);
    if (tg() !== 0x03 || hE !== len) return undefined;
    // fields
    let isCA: boolean;
    if (bcC >= 0) {
      hdr(b, bcC, bcE);
      if (tg() !== 0x30 || hE !== bcE) return undefined;
      let ca = false;
      for (let q = hC; q < bcE;) {
        hdr(b, q, bcE);
        if (tg() === 0x01) ca = b[hC] !== 0;
        q = hE;
      }
      isCA = ca;
    } else {
      isCA = version === 1 && sameRange(b, subjectT0, subjectE, issuerT0, issuerE);
    }
    const ki = fastKeyInfo(b, spkiStart, spkiEnd) ?? spkiKeyInfo(b.subarray(spkiStart, spkiEnd));
    // Checked now, decoded when read: the same walk, so a record that exists can always be decoded.
    nameString(b, subjectC, subjectE, false);
    nameString(b, issuerC, issuerE, false);
    if (sanC >= 0) checkGeneralNames(b, sanC, sanE);
    return new CertRecord(file, index, b, notBefore, notAfter, ki, isCA, subjectC, subjectE, issuerC, issuerE, serialC, serialE, sanC, sanE);
  } catch (e) {
    if (e instanceof Miss || e instanceof DerError || e instanceof RangeError) return undefined;
    throw e;
  }
}

const OID_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01]; // 1.2.840.113549.1.1.{1,10}
const OID_EC = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]; // 1.2.840.10045.2.1

function oidIs(b: Uint8Array, c: number, e: number, prefix: number[], len: number): boolean {
  if (e - c !== len) return false;
  for (let i = 0; i < prefix.length; i++) if (b[c + i] !== prefix[i]) return false;
  return true;
}

/**
 * `spkiKeyInfo` for the usual RSA, ECDSA and EdDSA keys, by offsets; stricter
 * about layout (exactly algorithm + key, a BIT STRING key). Undefined: use spkiKeyInfo.
 */
function fastKeyInfo(b: Uint8Array, start: number, end: number): KeyInfo | undefined {
  hdr(b, start, end);
  if (tg() !== 0x30 || hE !== end) return undefined;
  hdr(b, hC, end);
  if (tg() !== 0x30) return undefined;
  const algEnd = hE;
  hdr(b, hC, algEnd);
  if (tg() !== 0x06) return undefined;
  const oidC = hC, oidE = hE;
  let paramTag = -1, paramC = 0, paramE = 0;
  if (hE < algEnd) {
    hdr(b, hE, algEnd);
    paramTag = tg(); paramC = hC; paramE = hE;
    if (hE !== algEnd) return undefined;
  }
  hdr(b, algEnd, end);
  if (tg() !== 0x03 || hE !== end) return undefined;
  const keyC = hC, keyE = hE;
  if (oidIs(b, oidC, oidE, OID_RSA, 9) && (b[oidC + 8] === 0x01 || b[oidC + 8] === 0x0a)) {
    hdr(b, keyC + 1, keyE); // RSAPublicKey (any tag, as spkiKeyInfo reads it)
    const rsaEnd = hE;
    const modC = hC;
    if (modC >= rsaEnd) return undefined;
    hdr(b, modC, rsaEnd);
    const mC = hC, mE = hE;
    for (let q = hE; q < rsaEnd;) { hdr(b, q, rsaEnd); q = hE; }
    let p = mC;
    while (p < mE && b[p] === 0) p++;
    const bytes = mE - p;
    const lead = b[p] ?? 0;
    return { algorithm: b[oidC + 8] === 0x0a ? 'RSA-PSS' : 'RSA', size: bytes > 0 ? (bytes - 1) * 8 + (32 - Math.clz32(lead)) : 0 };
  }
  if (oidIs(b, oidC, oidE, OID_EC, 7)) {
    if (paramTag === 0x30) return undefined; // explicit parameters: spkiKeyInfo names the curve
    const curveOid = paramTag === 0x06 ? decodeOid(b, tlvAt(0x06, paramC, paramE)) : '';
    const c = CURVES[curveOid];
    return { algorithm: 'ECDSA', size: c?.[1] ?? 0, curve: c?.[0] ?? curveOid };
  }
  if (oidE - oidC === 3 && b[oidC] === 0x2b && b[oidC + 1] === 0x65) {
    if (b[oidC + 2] === 0x70) return { algorithm: 'Ed25519', size: 256 };
    if (b[oidC + 2] === 0x71) return { algorithm: 'Ed448', size: 448 };
  }
  return undefined;
}

/** decodeTime(...).getTime() without the Date for the usual YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ. */
function timeMs(b: Uint8Array, tag: number, c: number, e: number): number {
  const len = e - c;
  let year: number, q: number;
  if (tag === 0x17 && len === 13) {
    const yy = two(b, c);
    if (yy < 0) return decodeTime(b, tlvAt(tag, c, e)).getTime();
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    q = c + 2;
  } else if (tag === 0x18 && len === 15) {
    const hi = two(b, c), lo = two(b, c + 2);
    if (hi < 0 || lo < 0 || hi * 100 + lo < 100) return decodeTime(b, tlvAt(tag, c, e)).getTime();
    year = hi * 100 + lo;
    q = c + 4;
  } else return decodeTime(b, tlvAt(tag, c, e)).getTime();
  const mo = two(b, q), dd = two(b, q + 2), hh = two(b, q + 4), mi = two(b, q + 6), ss = two(b, q + 8);
  if (b[q + 10] !== 0x5a || mo < 0 || dd < 0 || hh < 0 || mi < 0 || ss < 0) return decodeTime(b, tlvAt(tag, c, e)).getTime();
  return Date.UTC(year, mo - 1, dd, hh, mi, ss);
}

function two(b: Uint8Array, p: number): number {
  const x = b[p]! - 0x30, y = b[p + 1]! - 0x30;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}
