/**
 * Writing a rebuild's files through the shared apply transaction
 * (src/apply/transaction.ts): node lock, backup of everything touched (the
 * files replaced under --force), atomic writes, read-back verification, and
 * roll-back of every file on any failure.
 */
import type { NodeFs } from '../fs/node-fs.js';
import { applyChanges, type Change, type TransactionOptions } from '../apply/transaction.js';
import type { ModeChange } from '../fs/key-mode.js';
import type { FileWrite } from './execute.js';

export interface WriteResult {
  written: string[];
  /** host directory of the backup (the replaced files under files/; restoring it removes the files the run created) */
  backupDir?: string;
  /** replaced key files others could read, written without those bits */
  keyModes?: ModeChange[];
}

export async function writeRebuildFiles(fs: NodeFs, files: FileWrite[], now: Date, backupRoot?: string, o: Pick<TransactionOptions, 'lock' | 'onStep'> = {}): Promise<WriteResult> {
  if (files.length === 0) return { written: [] };
  for (const f of files) {
    // kubeadm never overwrites: only --force items may replace, and only what the plan saw
    if (!f.replace && (f.link ? fs.lstat(f.path) !== undefined : fs.exists(f.path))) throw new Error(`refusing to overwrite ${f.path}: it appeared after the plan was made`);
  }
  const changes: Change[] = files.map((f): Change => (f.link
    ? { op: 'symlink', path: f.path, target: f.content }
    : { op: 'write', path: f.path, content: Buffer.from(f.content), mode: f.mode }));
  const r = await applyChanges(fs, changes, { action: 'rebuild', now, backupRoot, note: `kubepki rebuild: ${files.length} files`, lock: o.lock, onStep: o.onStep });
  return { written: r.written, backupDir: r.backupDir, ...(r.keyModes.length ? { keyModes: r.keyModes } : {}) };
}
