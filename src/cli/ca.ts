import * as nfs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { UserError } from '../errors.js';
import { rootOption, nowOption, resolveNow, writeOutFile, backupDirOption, resolveBackupDir, backupLine, certificateKeyFlag } from './options.js';
import { openRoot } from '../fs/node-fs.js';
import { kubeadmPkiDir } from '../layouts/detect.js';
import { rootFlagFor } from '../inventory/next.js';
import { listText } from '../inventory/names.js';

interface ExportOptions { root?: string; out: string; certificateKey?: string; output: 'file' | 'secret'; force?: boolean }
interface ImportOptions { root?: string; certificateKey: string; config?: string; force?: boolean; dryRun?: boolean; now?: string; backupDir?: string }

function readUserFile(io: Io, file: string, what = '', hint = 'pass the file written by `kubepki ca export`'): { text: string; label: string } {
  const p = path.resolve(io.cwd, file);
  try { return { text: nfs.readFileSync(p, 'utf8'), label: file }; } catch (e) {
    throw new UserError(`failed to read ${what}${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint);
  }
}

/**
 * What follows an import. The same keys (a renewed CA, or a node that lost its files): rebuild or restarts.
 * Other keys: everything the old CAs signed here no longer verifies and must be re-issued from the new ones
 * (rebuild --force, which the refusal without --force also names), and another sa.key means the tokens the old
 * one signed stop verifying once kube-apiserver reads the new sa.pub.
 */
function importNext(otherKeys: string[], root: string): string {
  const cas = otherKeys.filter((k) => k !== 'sa.key');
  const saTokens = 'the ServiceAccount tokens the old one signed stop verifying once kube-apiserver restarts with the new sa.pub (kubepki sa refresh --restart-pods re-issues them).';
  const sa = otherKeys.includes('sa.key') ? `sa.key is another key${cas.length ? ' too' : ''}: ${saTokens}` : '';
  if (cas.length === 0) {
    return sa || `if this node lost its certificates, kubepki rebuild${root} creates them from these; if these are a renewed CA (same key), restart the components that read it (kubepki restore and renew print them: kube-apiserver, kube-controller-manager, the kubelet) and refresh the CA copies in this node's kubeconfigs.`;
  }
  const one = cas.length === 1;
  return `${listText(cas.map((k) => k.replace(/\.key$/, '.crt')))} ${one ? 'is another CA' : 'are other CAs'} (another key) than this node had: what the old ${one ? 'one' : 'ones'} signed here no longer verifies; re-issue it from the new ${one ? 'one' : 'ones'}: kubepki rebuild${root} --force --dry-run, then without --dry-run (backed up; it lists what to restart).${sa ? ` ${sa}` : ''}`;
}

export function command(io: Io): Command {
  const ca = new Command('ca')
    .configureHelp({ helpWidth: 120 })
    .summary('move the shared CA material between control-plane nodes, encrypted as kubeadm upload-certs does')
    .description(`Export and import the material every control-plane node must share (ca, front-proxy-ca,
sa, etcd/ca), encrypted with AES-256-GCM under a 32-byte certificate key exactly as
\`kubeadm init phase upload-certs\` does, so the same data can be the kubeadm-certs Secret.

Examples:
  kubepki ca export --out shared.yaml                  # prints a new certificate key
  kubepki ca export --out kubeadm-certs.yaml -o secret --certificate-key $KEY
  kubepki ca import shared.yaml --certificate-key $KEY # on the other control-plane node

Exit codes: those of each command (kubepki ca export --help, kubepki ca import --help).`);

  ca.addCommand(new Command('export')
    .configureHelp({ helpWidth: 120 })
    .summary('seal this node\'s shared CA files and sa.key/sa.pub into FILE, for another control-plane node')
    .description(`Seal the shared files of this node's PKI into FILE (mode 0600).

Examples:
  kubepki ca export --out shared.yaml
  kubepki ca export --out kubeadm-certs.yaml -o secret && kubectl apply -f kubeadm-certs.yaml

Exit codes:
  0  written
  3+ kubepki could not run (a bad flag or certificate key, a shared file missing, --out exists; nothing written)`)
    .addOption(rootOption())
    .requiredOption('--out <file>', 'where to write the sealed material')
    .option('--certificate-key <hex>', '64 hex characters (32 bytes); a new one is made and printed when omitted')
    .addOption(new Option('-o, --output <format>', 'file (kubepki SharedCertificates) or secret (kube-system/kubeadm-certs)').default('file').choices(['file', 'secret']))
    .option('--force', 'overwrite --out if it exists')
    .action(async (o: ExportOptions) => {
      const fs = openRoot(o.root);
      const { hasLocalEtcd, externalEtcdFiles } = await import('../rebuild/node-files.js');
      const { readSharedFiles, sealShared, renderExport } = await import('../rebuild/shared-certs.js');
      const { newCertificateKey, CertificateKeyError } = await import('../pki/upload-certs.js');
      const pki = kubeadmPkiDir(fs);
      const key = o.certificateKey ?? newCertificateKey();
      const files = readSharedFiles(fs, pki, !hasLocalEtcd(fs, pki), externalEtcdFiles(fs, pki));
      let sealed: Record<string, string>;
      try { sealed = sealShared(key, files); } catch (e) {
        if (e instanceof CertificateKeyError) throw new UserError(`--certificate-key: ${e.message}`, 'make one with `openssl rand -hex 32`, or leave the flag out to get a new one');
        throw e;
      }
      const out = path.resolve(io.cwd, o.out);
      await writeOutFile(out, renderExport(sealed, o.output), 0o600, { replace: o.force, hint: 'pass --force to overwrite it, or another --out' });
      const names = Object.entries(files).filter(([, v]) => v).map(([k]) => k);
      io.stdout(`Sealed ${names.length} files from ${pki} (${names.join(', ')}) into ${out}.\n`);
      if (!o.certificateKey) io.stdout(`Certificate key (keep it secret; needed to import): ${key}\n`);
      io.stdout(o.output === 'secret'
        ? 'Apply it with `kubectl apply -f`; then `kubeadm join --control-plane --certificate-key <key>` downloads it. Delete the Secret afterwards.\n'
        : 'On the other control-plane node: kubepki ca import FILE --certificate-key <key>\n');
    }));

  ca.addCommand(new Command('import')
    .configureHelp({ helpWidth: 120 })
    .summary('decrypt FILE from ca export (or the kubeadm-certs Secret) into this node\'s PKI')
    .description(`Decrypt FILE (from \`kubepki ca export\`, or the kubeadm-certs Secret) into this node's PKI.
Identical files are left alone; a different existing file stops the import unless --force
(backed up first).

With external etcd, the export also carries its CA and client pair (external-etcd-ca.crt,
external-etcd.crt, external-etcd.key); they go where kubeadm puts them, etcd.external's caFile,
certFile and keyFile: as this node's kube-apiserver manifest names them, else as --config says
(needed on a wiped node: an external-etcd node keeps no kubeadm-config of its own to read).

Examples:
  kubepki ca import shared.yaml --certificate-key $KEY
  kubectl -n kube-system get secret kubeadm-certs -o yaml > certs.yaml \\
      && kubepki ca import certs.yaml --certificate-key $KEY
  kubepki ca import shared.yaml --certificate-key $KEY --config kubeadm-config.yaml   # a wiped node, external etcd

Exit codes:
  0  imported (or every file already identical; with --dry-run, checked)
  2  the import failed and every file was put back as it was
  3+ kubepki could not run (a wrong certificate key, a damaged file, a different CA without --force, another
     kubepki changing the node; nothing written)`)
    .argument('<file>', 'sealed material')
    .addOption(rootOption())
    .requiredOption('--certificate-key <hex>', 'the key printed by `kubepki ca export`')
    .option('--config <file>', 'kubeadm config (InitConfiguration + ClusterConfiguration) or kubeadm-config ConfigMap dump, as rebuild --config: its certificatesDir and etcd.external paths say where the files go when no kube-apiserver manifest does')
    .option('--force', 'replace existing files that differ (backed up first)')
    .option('--dry-run', 'decrypt and check, write nothing')
    .addOption(backupDirOption())
    .addOption(nowOption())
    .action(async (file: string, o: ImportOptions) => {
      const now = resolveNow(o.now);
      const fs = openRoot(o.root);
      // the input is read, decrypted and checked before the node's lock is taken: a wrong certificate key or a
      // damaged file is refused without touching the node (taking the lock rolls an interrupted run back) and
      // is said as itself even while another kubepki holds the lock
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd, fs);
      // (a key that is no key at all is a bad flag, said before the file is read: it was "not a SharedCertificates")
      await certificateKeyFlag(o.certificateKey, 'pass the --certificate-key printed by `kubepki ca export`');
      const { text, label } = readUserFile(io, file);
      const { sealedDataOf, openShared, EXTERNAL_ETCD_KEYS } = await import('../rebuild/shared-certs.js');
      const opened = openShared(o.certificateKey, sealedDataOf(text, label), label);
      let config: { docs: import('../rebuild/kubeadm-config.js').KubeadmConfigDocs; label: string } | undefined;
      if (o.config) {
        const c = readUserFile(io, o.config, '--config ', 'pass the path of a kubeadm config file or ConfigMap dump');
        const { parseKubeadmConfig } = await import('../rebuild/kubeadm-config.js');
        config = { docs: parseKubeadmConfig(c.text, c.label), label: c.label };
      }
      await withNodeLock(io, fs, now, { dryRun: o.dryRun, backupRoot }, async (lock) => {
        const { importTargets } = await import('../rebuild/import-targets.js');
        const externalNames = new Set<string>(Object.values(EXTERNAL_ETCD_KEYS));
        const targets = importTargets(fs, config, opened.some((f) => externalNames.has(f.rel)));
        const { pki } = targets;
        const target = (rel: string): { path: string } | { why: string } => targets.externalEtcd[rel] ?? { path: `${pki}/${rel}` };
        const changes: { op: 'write'; path: string; content: Buffer; mode: number; secret?: boolean }[] = [];
        const lines: string[] = [];
        const { applyChanges, keyModeChanges } = await import('../apply/transaction.js');
        const { modeChangeText } = await import('../fs/key-mode.js');
        const conflicts: string[] = [];
        // keys this import replaces with other keys: a CA whose certificates here it no longer signs, or another sa.key
        const otherKeys: string[] = [];
        // (the external-etcd-* entries left out for one reason are said once, after the rest)
        const skipped = new Map<string, string[]>();
        if (targets.externalSource) lines.push(`  (${[...externalNames].join(', ')}: where ${targets.externalSource} names them)`);
        for (const f of opened) {
          const t = target(f.rel);
          if ('why' in t) { skipped.set(t.why, [...skipped.get(t.why) ?? [], f.rel]); continue; }
          const p = t.path;
          if (fs.exists(p)) {
            if (fs.readFile(p).equals(f.content)) { lines.push(`  same     ${p}`); continue; }
            if (!o.force) { conflicts.push(p); continue; }
            // a key file others could read is replaced without their bits
            const km = keyModeChanges(fs, [{ op: 'write', path: p, content: f.content, secret: f.kind === 'private key' }])[0];
            lines.push(`  replace  ${p} (${f.kind}${km ? `; ${modeChangeText(km)}` : ''})`);
            if (f.kind === 'private key') otherKeys.push(f.rel);
          } else lines.push(`  create   ${p} (${f.kind})`);
          changes.push({ op: 'write', path: p, content: f.content, mode: f.mode, ...(f.kind === 'private key' ? { secret: true } : {}) });
        }
        for (const [why, rels] of skipped) lines.push(`  skip     ${rels.join(', ')} (${why})`);
        if (conflicts.length) {
          throw new UserError(`failed to import ${label}: ${conflicts.join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with different content`, `this node has its own CA: pass --force to back it up and replace it (every certificate it signed must then be re-issued: kubepki rebuild${rootFlagFor(fs.root)} --force)`);
        }
        io.stdout(`${lines.join('\n')}\n`);
        if (o.dryRun || changes.length === 0) { io.stdout(o.dryRun ? 'Dry run: nothing written.\n' : 'Nothing to do.\n'); return; }
        const r = await applyChanges(fs, changes, { action: 'ca import', now, backupRoot, note: `kubepki ca import ${label}`, lock, onStep: testStepHook(io.env) });
        // (rebuild must then take the same config: without a manifest, nothing else on the node says etcd is external)
        io.stdout(`Wrote ${r.written.length} files.\n${backupLine(fs, r.backupDir, backupRoot)}\nNext: ${importNext(otherKeys, `${rootFlagFor(fs.root)}${config ? ` --config ${config.label}` : ''}`)}\n`);
      });
    }));
  return ca;
}
