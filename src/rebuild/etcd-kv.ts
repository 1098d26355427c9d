/**
 * The latest value of a few keys in an etcd data directory's database, read offline (etcd stopped, or its
 * certificates gone with /etc/kubernetes), read-only and bounded.
 *
 * etcd's MVCC store keeps every revision of every key in the bbolt bucket `key`
 * (server/storage/schema/bucket.go). Its bbolt keys are revisions (server/storage/mvcc/revision.go): 8 bytes
 * big-endian main revision, '_', 8 bytes big-endian sub revision, and an 18th byte 't' on a tombstone, the
 * record of a delete (kvstore_txn.go delete()). Its values are mvccpb.KeyValue (api/mvccpb/kv.proto: key = 1,
 * create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6; a tombstone's holds the key only).
 * There is no index on disk (etcd builds its own in memory at start, kvstore.go restore()), so the bucket is
 * scanned, from its last revision back: the first entry found for a key is its latest — a value, or a tombstone
 * saying it was deleted — and the scan stops once every key asked for is found. The bucket is read a page at a
 * time within a budget of bytes and time (bbolt.ts): a database of gigabytes whose keys were last written long
 * ago stops at the budget, and says so.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { openBbolt, BboltLimit, type Bbolt, type BboltLimits } from './bbolt.js';
import { protoFields, protoBytes, protoInt64 } from './protobuf.js';

const REV_BYTES = 8 + 1 + 8;

/**
 * The default budget: apiserver compacts etcd every 5 minutes, so the bucket holds little more than one
 * revision of each live object: 1 GiB covers the objects of most clusters, read in seconds; 15 s stops a slow
 * disk. A single page with its overflow over 64 MiB is damage (etcd refuses requests over 1.5 MiB by default).
 */
export const KEY_SCAN_LIMITS: BboltLimits = { bytes: 1 << 30, pages: 4096, pageBytes: 64 << 20, ms: 15_000 };

export interface EtcdKeyValue {
  key: string;
  /** the main revision of its last write (the bbolt key's; mod_revision) */
  revision: number;
  /** the key's last write was a delete */
  deleted: boolean;
  /** the value written (empty when deleted) */
  value: Buffer;
}

export interface EtcdKeysRead {
  /** the node path of the database */
  db: string;
  /** each key asked for whose latest revision was found (a key found nowhere is not there: never written, or compacted away after its delete) */
  found: Map<string, EtcdKeyValue>;
  /** the scan stopped before its end with keys not found: why (a budget ran out, a damaged page) */
  incomplete?: string;
}

function size(n: number): string {
  const [unit, div] = n >= 1 << 30 ? ['GiB', 1 << 30] : n >= 1 << 20 ? ['MiB', 1 << 20] : ['KiB', 1 << 10];
  return `${Math.round((n / div) * 10) / 10} ${unit}`;
}

/** The bbolt key of a revision: main and sub revision, and whether it marks a tombstone. */
export function parseRevisionKey(k: Buffer): { main: bigint; sub: bigint; tombstone: boolean } | undefined {
  if ((k.length !== REV_BYTES && k.length !== REV_BYTES + 1) || k[8] !== 0x5f) return undefined;
  if (k.length === REV_BYTES + 1 && k[REV_BYTES] !== 0x74) return undefined;
  return { main: k.readBigUInt64BE(0), sub: k.readBigUInt64BE(9), tombstone: k.length === REV_BYTES + 1 };
}

/**
 * The latest revision of each of `keys` in the etcd data directory `dataDir` (a node path): undefined when it
 * holds no database; `unreadable` when it is no bbolt file or has no `key` bucket.
 */
export function readEtcdKeys(nfs: NodeFs, dataDir: string, keys: string[], limits: BboltLimits = KEY_SCAN_LIMITS): EtcdKeysRead | { db: string; unreadable: string } | undefined {
  const db = `${dataDir.replace(/\/$/, '')}/member/snap/db`;
  if (!nfs.stat(db)?.isFile()) return undefined;
  const wanted = new Map(keys.map((k) => [Buffer.from(k).toString('latin1'), k]));
  const found = new Map<string, EtcdKeyValue>();
  let bolt: Bbolt | undefined;
  try {
    const opened = openBbolt(nfs.hostPath(db), limits);
    if ('unreadable' in opened) return { db, unreadable: opened.unreadable };
    bolt = opened;
    const bucket = bolt.lookup(bolt.root, 'key');
    if (!bucket?.isBucket) return { db, unreadable: 'no key bucket (not an etcd v3 database)' };
    let incomplete: string | undefined;
    try {
      bolt.scanBackward(bucket.value, (k, v) => {
        const rev = parseRevisionKey(k);
        if (!rev) throw new Error('a key bucket entry that is no revision');
        const kv = protoFields(v);
        const key = protoBytes(kv, 1)?.toString('latin1');
        const name = key === undefined ? undefined : wanted.get(key);
        if (name === undefined || found.has(name)) return false;
        const value = protoBytes(kv, 5) ?? Buffer.alloc(0);
        // (mod_revision is the revision it was written at, as the bbolt key says: another is damage)
        const mod = protoInt64(kv, 3);
        if (!rev.tombstone && mod !== BigInt.asIntN(64, rev.main)) throw new Error(`${name}: mod_revision ${mod} at revision ${rev.main}`);
        found.set(name, { key: name, revision: Number(rev.main), deleted: rev.tombstone, value: Buffer.from(value) });
        return found.size === wanted.size;
      });
    } catch (e) {
      // (what was found before the stop is the latest of those keys: the scan goes from the newest revision back)
      if (found.size < wanted.size) {
        incomplete = e instanceof BboltLimit
          ? `stopped after reading ${size(bolt.readBytes())} (${e.message}; the budget is ${size(limits.bytes)}${limits.ms ? ` and ${limits.ms / 1000} s` : ''})`
          : `damaged pages (${(e as Error).message})`;
      }
    }
    return { db, found, ...(incomplete ? { incomplete } : {}) };
  } catch (e) {
    // (our own bounds say what stopped; a file that cannot be opened says why; anything else is damage)
    const code = (e as NodeJS.ErrnoException).code;
    return { db, unreadable: code ? `cannot open it: ${code}` : e instanceof Error && /^(too |page )/.test(e.message) ? e.message : 'damaged pages' };
  } finally {
    bolt?.close();
  }
}
