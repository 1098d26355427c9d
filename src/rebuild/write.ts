/**
 * Writing a rebuild's files: all or nothing. Each file goes to a temp file in
 * its directory and is renamed into place; a file being replaced (--force) is
 * copied to the backup directory first. On any failure every file written so
 * far is removed and every replaced one restored.
 *
 * TODO(apply): switch to src/apply's atomic write/backup once it lands; this is
 * the small stand-in the rebuild issue asked for until then.
 */
import * as nfs from 'node:fs';
import * as path from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import type { FileWrite } from './execute.js';

export interface WriteResult {
  written: string[];
  backupDir?: string;
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Backup location for replaced files: kubeadm's own convention of /etc/kubernetes/tmp. */
export function backupDirFor(now: Date): string {
  return `/etc/kubernetes/tmp/kubepki-rebuild-backup-${stamp(now)}`;
}

export function writeRebuildFiles(fs: NodeFs, files: FileWrite[], now: Date): WriteResult {
  const written: string[] = [];
  const restored: { host: string; backup: string }[] = [];
  const needBackup = files.some((f) => f.replace);
  const backupNode = needBackup ? backupDirFor(now) : undefined;
  try {
    for (const f of files) {
      const host = fs.hostPath(f.path);
      if (!f.replace && fs.exists(f.path)) throw new Error(`refusing to overwrite ${f.path}: it appeared after the plan was made`);
      nfs.mkdirSync(path.dirname(host), { recursive: true, mode: 0o755 });
      if (f.replace && fs.exists(f.path)) {
        const b = fs.hostPath(`${backupNode}${f.path}`);
        nfs.mkdirSync(path.dirname(b), { recursive: true, mode: 0o700 });
        nfs.copyFileSync(host, b);
        restored.push({ host, backup: b });
      }
      const tmp = `${host}.kubepki-tmp-${process.pid}`;
      const fd = nfs.openSync(tmp, 'w', f.mode);
      try {
        nfs.writeSync(fd, f.content);
        nfs.fsyncSync(fd);
      } finally {
        nfs.closeSync(fd);
      }
      nfs.chmodSync(tmp, f.mode);
      nfs.renameSync(tmp, host);
      written.push(f.path);
    }
  } catch (e) {
    for (const p of written) {
      const host = fs.hostPath(p);
      const r = restored.find((x) => x.host === host);
      try {
        if (r) nfs.copyFileSync(r.backup, host);
        else nfs.rmSync(host, { force: true });
      } catch { /* best effort: the error below names the failure */ }
    }
    throw e;
  }
  return { written, backupDir: backupNode };
}
