import { Command, Option } from 'commander';
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { addEtcdMembers } from '../rebuild/etcd-members.js';
import { readInventory } from '../inventory/read.js';
import { renderDashboardHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { inventoryExitCode } from '../report/table.js';
import { addNodeReadOptions, nodeReadInputs, requireSomething, resolveNow, type NodeOptions } from './options.js';

interface ReportOptions extends NodeOptions {
  html?: string;
  output?: string;
}

/** Write a report file whole or not at all (temp file + rename), 0644: it holds public data only. */
function writeReport(file: string, text: string): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.kubepki-${process.pid}.tmp`);
  try {
    nodeFs.writeFileSync(tmp, text, { mode: 0o644 });
    nodeFs.renameSync(tmp, abs);
  } catch (e) {
    nodeFs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // (a directory is no permission problem: the hint said to pick a directory one can write)
    throw new UserError(`failed to write report ${abs}: ${code ?? (e as Error).message}`, code === 'EISDIR' ? 'give the path of a file, not a directory' : 'pick a path in a directory you can write');
  }
}

export function command(io: Io): Command {
  return addNodeReadOptions(new Command('report'))
    .configureHelp({ helpWidth: 120 })
    .summary('write the dashboard as one offline HTML file, or a Markdown summary for a change request')
    .description(`Read the node once and write a report.

Examples:
  kubepki report --html cp-1-certificates.html         # the dashboard, one file, works offline
  kubepki report --root /mnt/disk --now 2026-11-23 --html audit.html
  kubepki report -o markdown > change-request.md

The HTML file embeds the inventory (public certificate data, never a key) and never reaches the network.

Exit codes, as for check (so a scheduled report can also alert): 0 healthy, 1 something within the
warning threshold, 2 something expired or broken, 3+ kubepki could not run (no report is written).`)
    .option('--html <file>', 'write the dashboard to FILE')
    .addOption(new Option('-o, --output <format>', 'print to standard output: markdown, html or json').choices(['markdown', 'md', 'html', 'json']))
    .action(async (o: ReportOptions) => {
      if (!o.html && !o.output) throw new UserError('say what to write: --html FILE or -o markdown', 'e.g. kubepki report --html report.html');
      const now = resolveNow(o.now);
      const inputs = nodeReadInputs(o, io.cwd);
      const inv = readInventory({ ...inputs, now });
      addEtcdMembers(inv, inputs.fs);
      requireSomething(inv, inputs.fs.root);
      if (o.html) {
        writeReport(o.html, renderDashboardHtml(inv, { mode: 'file' }));
        io.stderr(`kubepki report: wrote ${path.resolve(o.html)} (${inv.certificates.length} certificates, ${inv.summary.expired} expired, ${inv.summary.warning} expiring)\n`);
      }
      switch (o.output) {
        case 'markdown': case 'md': io.stdout(renderMarkdown(inv)); break;
        case 'html': io.stdout(renderDashboardHtml(inv, { mode: 'file' })); break;
        case 'json': io.stdout(JSON.stringify(inv, null, 2) + '\n'); break;
        default: break;
      }
      io.exitCode = inventoryExitCode(inv);
    });
}
