import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Io } from './io.js';
import { makeDemoTree } from '../demo/make-tree.js';
import { readInventory } from '../inventory/read.js';
import { NodeFs } from '../fs/node-fs.js';
import { renderTable, inventoryExitCode, colour, plain } from '../report/table.js';
import { nowOption, resolveNow } from './options.js';
import { shellArg } from '../apply/state.js';
import { UserError } from '../errors.js';

/**
 * --dir: an empty directory, or one to create whose parent exists. Never a tree with something in it: the
 * demo writes CA keys and kubeconfigs at a node's paths, and `--dir /` or `--dir /mnt/node` must not
 * replace a real node's.
 */
function demoDir(dir: string): string {
  const hint = 'pass a new or empty directory (the demo writes a whole node tree there), or leave --dir out for a new temp dir';
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`failed to use --dir ${dir}: ${(e as NodeJS.ErrnoException).code}`, hint);
  }
  if (st && !st.isDirectory()) throw new UserError(`refusing --dir ${dir}: it is not a directory`, hint);
  if (st) {
    let entries: string[];
    try { entries = fs.readdirSync(dir); } catch (e) { throw new UserError(`failed to read --dir ${dir}: ${(e as NodeJS.ErrnoException).code}`, hint); }
    if (entries.length > 0) throw new UserError(`refusing --dir ${dir}: it is not empty (${entries.length} entries, e.g. ${entries.sort()[0]})`, hint);
    return dir;
  }
  try { fs.mkdirSync(dir, { mode: 0o755 }); } catch (e) {
    throw new UserError(`failed to create --dir ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `${hint}; its parent directory must exist and be writable`);
  }
  return dir;
}

export function command(io: Io): Command {
  return new Command('demo')
    .summary('make a throwaway node tree with expired certificates and run check on it')
    .description(`Build a throwaway kubeadm control-plane node in a temp directory with our own signer
(CAs valid, every leaf and kubeconfig certificate expired 35 days ago, a rotated kubelet
client pair behind its symlink, the kubelet's self-signed serving pair) and show what
kubepki check says about it. Its keys are ECDSA P-256, which are quick to make; kubeadm
makes RSA 2048 keys (--key-type rsa-2048, a second or two more).

Examples:
  kubepki demo
  kubepki demo --dir /tmp/broken-node      # keep the tree to try renew on it
  kubepki demo --key-type rsa-2048         # RSA keys, as kubeadm makes them

Exit codes:
  0  the tree was made and checked (its expired certificates are the point, not a failure)
  3+ kubepki could not run (--dir not new or empty, a bad flag)`)
    .option('--dir <dir>', 'build the tree here (must be empty or absent) instead of a new temp dir')
    .addOption(new Option('--key-type <type>', 'type of the keys kubeadm would make (the kubelet\'s client key is ECDSA P-256, as the kubelet makes it)').choices(['ecdsa-p256', 'rsa-2048']).default('ecdsa-p256'))
    .addOption(nowOption())
    // (the table check prints, so check's switch: NO_COLOR alone turned its colour off)
    .option('--no-color', 'never colour the table')
    .action(async (o: { dir?: string; now?: string; keyType: 'ecdsa-p256' | 'rsa-2048'; color?: boolean }) => {
      const now = resolveNow(o.now);
      const root = o.dir ? demoDir(path.resolve(io.cwd, o.dir)) : fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-demo-'));
      io.stdout(`Building a demo node with expired certificates in ${root} …\n\n`);
      try {
        await makeDemoTree(root, now, { keyType: o.keyType });
      } catch (e) {
        throw new UserError(`failed to build the demo tree in ${root}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass --dir an empty directory you can write to, or leave --dir out for a new temp dir');
      }
      // (its Next, as the check it shows prints it: with the --now, like the commands below)
      const inv = readInventory({ fs: new NodeFs(root), now, ...(o.now === undefined ? {} : { nowGiven: o.now }) });
      // the commands it prints pretend the same time: its certificates were made around --now, so at the real
      // time a copied check would show another table (or every certificate not yet valid) and renew a wrong plan
      const at = o.now === undefined ? '' : ` --now ${shellArg(o.now)}`;
      io.stdout(`$ kubepki check --root ${shellArg(root)}${at}\n`);
      io.stdout(renderTable(inv, { paint: io.isTTY && o.color !== false ? colour : plain }));
      const code = inventoryExitCode(inv);
      io.stdout(`\ncheck would exit ${code} (${code === 2 ? 'something expired or broken' : code === 1 ? 'something within the warning threshold' : 'healthy'}).\n` +
        `To try the fix on this tree (renew backs up first), then check again:\n` +
        `  kubepki renew all --root ${shellArg(root)}${at} --dry-run\n  kubepki renew all --root ${shellArg(root)}${at}\n  kubepki check --root ${shellArg(root)}${at}\n` +
        // (the tree is left for those commands; it holds private keys, if only throwaway ones)
        `The tree stays until removed: rm -rf ${shellArg(root)}\n`);
    });
}
