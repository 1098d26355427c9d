import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Io } from './io.js';
import { makeDemoTree } from '../demo/make-tree.js';
import { readInventory } from '../inventory/read.js';
import { NodeFs } from '../fs/node-fs.js';
import { renderTable, inventoryExitCode, colour, plain } from '../report/table.js';
import { nowOption, resolveNow } from './options.js';

export function command(io: Io): Command {
  return new Command('demo')
    .summary('make a throwaway node tree with expired certificates and run check on it')
    .description(`Build a throwaway kubeadm control-plane node in a temp directory with our own signer
(CAs valid, every leaf and kubeconfig certificate expired 35 days ago, a rotated kubelet
client pair behind its symlink) and show what kubepki check says about it.

Examples:
  kubepki demo
  kubepki demo --dir /tmp/broken-node      # keep the tree to try renew on it`)
    .option('--dir <dir>', 'build the tree here (must be empty or absent) instead of a new temp dir')
    .addOption(nowOption())
    .action(async (o: { dir?: string; now?: string }) => {
      const now = resolveNow(o.now);
      const root = o.dir ? path.resolve(io.cwd, o.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-demo-'));
      fs.mkdirSync(root, { recursive: true });
      io.stdout(`Building a demo node with expired certificates in ${root} …\n\n`);
      await makeDemoTree(root, now);
      const inv = readInventory({ fs: new NodeFs(root), now });
      io.stdout(`$ kubepki check --root ${root}\n`);
      io.stdout(renderTable(inv, { paint: io.isTTY ? colour : plain }));
      const code = inventoryExitCode(inv);
      io.stdout(`\ncheck would exit ${code} (${code === 2 ? 'something expired or broken' : code === 1 ? 'something within the warning threshold' : 'healthy'}).\n` +
        `Next: renew everything, with a backup first, and check again:\n` +
        `  kubepki renew all --root ${root} --dry-run\n  kubepki renew all --root ${root}\n  kubepki check --root ${root}\n`);
    });
}
