import { Command } from 'commander';
import type { Io } from './io.js';
import { UserError } from '../errors.js';

// Placeholder while the command is being written (issue 2).
export function command(_io: Io): Command {
  return new Command('check').allowUnknownOption().action(() => {
    throw new UserError('check is not available yet in this build');
  });
}
