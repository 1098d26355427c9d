import { Command } from 'commander';
import type { Io } from './io.js';
import { refreshCommand } from './sa-refresh.js';
import { rotateCommand } from './sa-rotate.js';

/**
 * `kubepki sa …` — the ServiceAccount signing key and the tokens made with it.
 * `refresh` (issue 5) re-issues tokens in the cluster; `rotate` (new sa.key on
 * disk) is added next to it by the rebuild work.
 */
export function command(io: Io): Command {
  const sa = new Command('sa')
    .description('ServiceAccount key and tokens')
    .addHelpText('before', `Examples:
  kubepki sa refresh --dry-run
  kubepki sa refresh --restart-pods
  kubepki sa rotate --dry-run
  kubepki sa rotate --drop-old
`)
    .addHelpText('after', `
Exit codes: those of each command (kubepki sa rotate --help, kubepki sa refresh --help).`);
  sa.addCommand(rotateCommand(io));
  sa.addCommand(refreshCommand(io));
  return sa;
}
