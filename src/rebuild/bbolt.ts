/**
 * A read-only reader of a bbolt file (etcd's `member/snap/db`), bounded: pages are read one at a time
 * from the file as they are needed, never the whole file (an etcd database can be gigabytes), and every
 * read counts against a budget of bytes (and, for a scan, of time), so a damaged page cannot make it loop
 * or allocate what its header claims.
 *
 * The layout is go.etcd.io/bbolt's: page.go (the 16-byte page header: id u64, flags u16, count u16,
 * overflow u32; branch elements pos/ksize/pgid, leaf elements flags/pos/ksize/vsize, their pos relative to
 * the element), db.go (two meta pages at page 0 and 1 with magic, version 2, page size, root bucket and
 * txid, FNV-1a-64 checksummed; the valid one with the higher txid wins) and bucket.go (a bucket value is
 * its root page id and sequence, root 0 meaning an inline page follows).
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

const BRANCH = 0x01, LEAF = 0x02, META = 0x04;
const BUCKET_LEAF = 0x01;
const MAGIC = 0xed0cdaed;

export interface BboltLimits {
  /** bytes read from the file in all */
  bytes: number;
  /** pages looked up by id (a lookup's or a bucket listing's; a scan is bounded by bytes and time) */
  pages: number;
  /** one page with its overflow: a header can claim gigabytes */
  pageBytes: number;
  /** wall-clock time for a scan, ms */
  ms?: number;
}

/** A bound was reached: the file may be sound, only bigger than the budget. */
export class BboltLimit extends Error {}

export interface Bbolt {
  /** the root bucket, as a bucket value (16 bytes: its root page id) */
  root: Buffer;
  pageSize: number;
  /** bytes read so far */
  readBytes(): number;
  /** the value under `key` in `bucket` (a bucket value), and whether it is itself a bucket */
  lookup(bucket: Buffer, key: string): { value: Buffer; isBucket: boolean } | undefined;
  /** every key/value of a bucket, in order (for small buckets: they are kept) */
  entries(bucket: Buffer): [Buffer, Buffer][];
  /**
   * Each key/value of a bucket from the last to the first, one leaf page in memory at a time; stops when
   * `visit` returns true. The buffers are views of the page: copy what is kept.
   */
  scanBackward(bucket: Buffer, visit: (key: Buffer, value: Buffer) => boolean | void): void;
  close(): void;
}

/** FNV-1a 64 of the meta page's fields before its checksum (bbolt meta.sum64). */
function fnv64a(b: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const x of b) h = ((h ^ BigInt(x)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

interface Meta { root: bigint; txid: bigint; pageSize: number }

function readMeta(buf: Buffer): Meta | undefined {
  if (buf.length < 16 + 64 || !(buf.readUInt16LE(8) & META)) return undefined;
  const m = buf.subarray(16, 16 + 64);
  if (m.readUInt32LE(0) !== MAGIC || m.readUInt32LE(4) !== 2) return undefined;
  if (fnv64a(m.subarray(0, 56)) !== m.readBigUInt64LE(56)) return undefined;
  return { pageSize: m.readUInt32LE(8), root: m.readBigUInt64LE(16), txid: m.readBigUInt64LE(48) };
}

/** The i-th leaf element's flags, key and value; an element reaching past its page is damage. */
function leafElement(page: Buffer, i: number): { flags: number; key: Buffer; value: Buffer } {
  const e = 16 + i * 16;
  const [flags, pos, ks, vs] = [page.readUInt32LE(e), page.readUInt32LE(e + 4), page.readUInt32LE(e + 8), page.readUInt32LE(e + 12)];
  if (e + pos + ks + vs > page.length) throw new Error('element beyond its page');
  return { flags, key: page.subarray(e + pos, e + pos + ks), value: page.subarray(e + pos + ks, e + pos + ks + vs) };
}

/** The i-th branch element's key and child page id. */
function branchElement(page: Buffer, i: number): { key: Buffer; child: bigint } {
  const e = 16 + i * 16;
  const [pos, ks] = [page.readUInt32LE(e), page.readUInt32LE(e + 4)];
  if (e + pos + ks > page.length) throw new Error('element beyond its page');
  return { key: page.subarray(e + pos, e + pos + ks), child: page.readBigUInt64LE(e + 8) };
}

/**
 * Opens the bbolt file at `hostPath` (a host path) for reading, or says why it is no bbolt file. Errors
 * thrown by the reader's methods: `BboltLimit` when a budget ran out, any other Error when a page is damaged
 * (`page beyond the end`, `page N is not where it should be`, `element beyond its page` …).
 */
export function openBbolt(hostPath: string, limits: BboltLimits): Bbolt | { unreadable: string } {
  const fd = openSync(hostPath, 'r');
  try {
    const size = fstatSync(fd).size;
    let bytes = limits.bytes;
    let pages = limits.pages;
    const read = (pos: number, len: number): Buffer => {
      const want = Math.max(0, Math.min(len, size - pos));
      if (want > limits.pageBytes || (bytes -= want) < 0) throw new BboltLimit('too much to read');
      const b = Buffer.alloc(want);
      let n = 0;
      while (n < b.length) { const k = readSync(fd, b, n, b.length - n, pos + n); if (k <= 0) break; n += k; }
      return b.subarray(0, n);
    };
    const m0 = readMeta(read(0, 4096));
    // (as bbolt does: with the first meta page damaged, the second is looked for at the OS page size)
    const m1 = readMeta(read(m0?.pageSize ?? 4096, m0?.pageSize ?? 4096));
    const meta = [m0, m1].filter((m): m is Meta => !!m).sort((a, b) => (a.txid > b.txid ? -1 : 1))[0];
    if (!meta || meta.pageSize < 512 || meta.pageSize > 1 << 20) { closeSync(fd); return { unreadable: 'no valid bbolt meta page' }; }
    const ps = meta.pageSize;
    const page = (id: bigint): Buffer => {
      const head = read(Number(id) * ps, ps);
      if (head.length < 16) throw new Error('page beyond the end');
      // (bbolt writes each page's id in its header: another id there is a pointer into damage)
      if (head.readBigUInt64LE(0) !== id) throw new Error(`page ${id} is not where it should be`);
      const overflow = head.readUInt32LE(12);
      return overflow === 0 ? head : read(Number(id) * ps, (overflow + 1) * ps);
    };
    const counted = (id: bigint): Buffer => {
      if (--pages < 0) throw new BboltLimit('too many pages');
      return page(id);
    };
    const bucketRoot = (bucket: Buffer, get: (id: bigint) => Buffer): Buffer | undefined => {
      if (bucket.length < 16) return undefined;
      const root = bucket.readBigUInt64LE(0);
      return root === 0n ? bucket.subarray(16) : get(root);
    };
    const rootBucket = Buffer.alloc(16);
    rootBucket.writeBigUInt64LE(meta.root, 0);
    return {
      root: rootBucket,
      pageSize: ps,
      readBytes: () => limits.bytes - bytes,
      lookup(bucket, key) {
        const want = Buffer.from(key);
        let p = bucketRoot(bucket, counted);
        while (p) {
          const count = p.readUInt16LE(10), flags = p.readUInt16LE(8);
          if (flags & LEAF) {
            for (let i = 0; i < count; i++) {
              const el = leafElement(p, i);
              if (el.key.equals(want)) return { value: el.value, isBucket: (el.flags & BUCKET_LEAF) !== 0 };
            }
            return undefined;
          }
          if (!(flags & BRANCH) || count === 0) return undefined;
          // the last element whose key is <= want
          let child: bigint | undefined;
          for (let i = 0; i < count; i++) {
            const el = branchElement(p, i);
            if (i > 0 && Buffer.compare(el.key, want) > 0) break;
            child = el.child;
          }
          if (child === undefined) return undefined;
          p = counted(child);
        }
        return undefined;
      },
      entries(bucket) {
        const out: [Buffer, Buffer][] = [];
        const walk = (p: Buffer | undefined): void => {
          if (!p) return;
          const count = p.readUInt16LE(10), flags = p.readUInt16LE(8);
          for (let i = 0; i < count; i++) {
            if (flags & LEAF) { const el = leafElement(p, i); out.push([el.key, el.value]); }
            else if (flags & BRANCH) walk(counted(branchElement(p, i).child));
          }
        };
        walk(bucketRoot(bucket, counted));
        return out;
      },
      scanBackward(bucket, visit) {
        const deadline = limits.ms === undefined ? Infinity : Date.now() + limits.ms;
        const timed = (id: bigint): Buffer => {
          if (Date.now() > deadline) throw new BboltLimit(`took longer than ${limits.ms! / 1000} s`);
          return page(id);
        };
        // (a bbolt tree of a few GB is 4 or 5 levels deep: more is a loop in damaged pages)
        const walk = (p: Buffer, depth: number): boolean => {
          if (depth > 32) throw new Error('page tree too deep');
          const count = p.readUInt16LE(10), flags = p.readUInt16LE(8);
          if (flags & LEAF) {
            for (let i = count - 1; i >= 0; i--) { const el = leafElement(p, i); if (visit(el.key, el.value) === true) return true; }
            return false;
          }
          if (!(flags & BRANCH)) throw new Error('page of neither kind in a bucket');
          for (let i = count - 1; i >= 0; i--) if (walk(timed(branchElement(p, i).child), depth + 1)) return true;
          return false;
        };
        const top = bucketRoot(bucket, timed);
        if (top) walk(top, 0);
      },
      close: () => closeSync(fd),
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
