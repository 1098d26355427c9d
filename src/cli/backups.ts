import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { openRoot } from '../fs/node-fs.js';
import { rootOption, backupDirOption, resolveBackupDir } from './options.js';
import { restoreArgs } from '../apply/state.js';

interface BackupsOptions { root?: string; backupDir?: string; output: string }

export function command(io: Io): Command {
  return new Command('backups')
    .summary('list the backups kubepki made before writing node files (renew, restore, rebuild, ca import, sa rotate, kubelet)')
    .configureHelp({ helpWidth: 120 })
    .addHelpText('before', `Examples:
  kubepki backups
  kubepki backups --root /mnt/node -o json
`)
    .description(`List kubepki backups, oldest first: when, which run, its state (complete, rolled-back, in-progress =
interrupted, recovered) and FILES: how many node files the run changed (rewrote, re-linked or created; for a
run that did not finish, was to change), each of which \`kubepki restore\` of that backup puts back (rewrites,
re-links or removes). HOST, when a backup in the list was made on another host (a --backup-dir nodes
share): the node each run was on; only this node's own are restored here.

Exit codes:
  0  listed (no backups is no error)
  3+ kubepki could not run (a bad flag)`)
    .addOption(rootOption())
    .addOption(backupDirOption())
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']))
    .action(async (o: BackupsOptions) => {
      const nfs = openRoot(o.root);
      const { scanBackups, defaultBackupRoot } = await import('../apply/transaction.js');
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd);
      const root = backupRoot ?? defaultBackupRoot(nfs);
      const { listed: list, unreadable } = scanBackups(root);
      if (o.output === 'json') { io.stdout(JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'BackupList', items: list, ...(unreadable.length ? { unreadable } : {}) }, null, 2) + '\n'); return; }
      // (a backup whose manifest is damaged is not listed as one, but never passed over in silence: its run's
      // changes are on the node, and its files/ hold what they replaced)
      const damaged = unreadable.map((u) => `  ${u.name}: ${u.reason}; what that run replaced is in ${u.dir}/files\n`).join('');
      const damagedNote = damaged ? `\nUnreadable backups (no restore can put back what their runs changed, nor undo them when an older backup is restored):\n${damaged}` : '';
      if (list.length === 0) { io.stdout(`No backups in ${root}.\n${damagedNote}`); return; }
      const w = Math.max(...list.map((b) => b.name.length));
      // (actions are longer than renew's: sa rotate, kubelet credentials --bootstrap)
      const aw = Math.max('ACTION'.length, ...list.map((b) => b.action.length));
      // in a --backup-dir nodes share, which node each run was on: only this node's can be restored here (restore
      // refuses another's), and without it the list is every node's runs, all named by their time alone
      const here = (await import('node:os')).hostname();
      const hosts = list.some((b) => b.host !== undefined && b.host !== here);
      const hw = Math.max('HOST'.length, ...list.map((b) => (b.host ?? '').length));
      const host = (h: string) => (hosts ? `${h.padEnd(hw)}  ` : '');
      io.stdout(`${'BACKUP'.padEnd(w)}  ${host('HOST')}${'ACTION'.padEnd(aw)}  STATE        FILES  NOTE\n`);
      for (const b of list) io.stdout(`${b.name.padEnd(w)}  ${host(b.host ?? '')}${b.action.padEnd(aw)}  ${b.state.padEnd(11)}  ${String(b.files).padStart(5)}  ${b.note ?? ''}\n`);
      io.stdout(`\n(in ${root}; FILES: the node files each run changed, which a restore of its backup puts back; put one back with \`kubepki restore ${restoreArgs(nfs.root, 'NAME', backupRoot)}\`)\n`);
      io.stdout(damagedNote);
    });
}
