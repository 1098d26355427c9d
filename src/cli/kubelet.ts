import * as nfs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { UserError, errorMessage } from '../errors.js';
import { rootOption, nowOption, resolveNow, backupDirOption, resolveBackupDir, backupLine, outFileTaken, aliasOption } from './options.js';
import { openRoot, NodeFs } from '../fs/node-fs.js';
import { kubeadmPkiDir } from '../layouts/detect.js';
import { clusterSigningDuration, kubeletClientSigningOff } from '../inventory/components.js';
import { rootFlagFor } from '../inventory/next.js';
import { goTime } from '../pki/go-duration.js';
import { listText } from '../inventory/names.js';

interface CredentialsOptions {
  root?: string;
  now?: string;
  backupDir?: string;
  node: string;
  caCert?: string;
  caKey?: string;
  controlPlaneEndpoint?: string;
  keyType: string;
  validity?: string;
  bootstrap?: boolean;
  token?: string;
  ttl: string;
  out?: string;
  secretOut?: string;
  force?: boolean;
  dryRun?: boolean;
}

/**
 * What would keep the token Secret from being written to FILE, looked at before the node is changed (the Secret is
 * written after): a file or directory there (said as writeOutFile says it), a directory that is missing or that this
 * user may not write into.
 */
function secretOutWritable(file: string): void {
  const taken = outFileTaken(file, 'remove it or pass another --secret-out');
  if (taken) throw taken;
  const dir = path.dirname(file);
  try {
    nfs.accessSync(dir, nfs.constants.W_OK | nfs.constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`failed to write ${file}: ${code === 'ENOENT' ? `there is no directory ${dir}` : `cannot write into ${dir} (${code})`}`, 'pass another --secret-out');
  }
  if (!nfs.statSync(dir).isDirectory()) throw new UserError(`failed to write ${file}: ${dir} is not a directory`, 'pass another --secret-out');
}

export function command(io: Io): Command {
  const kubelet = new Command('kubelet')
    .summary('offline credentials for a kubelet that can no longer reach the cluster')
    .description(`Kubelet credentials. See \`kubepki kubelet credentials --help\`.

Examples:
  kubepki kubelet credentials --node cp-1                          # this control-plane node's own kubelet
  kubepki kubelet credentials --node worker-1 --out /tmp/worker-1  # for worker-1, to copy there`)
    .addHelpText('after', `
Exit codes: those of its command (kubepki kubelet credentials --help).`);
  kubelet.addCommand(new Command('credentials')
    .configureHelp({ helpWidth: 120 })
    .summary('offline kubelet credentials: a client certificate signed by the cluster CA, or a bootstrap token')
    .description(`Give a kubelet that can no longer reach the cluster (off for over a year, or
/var/lib/kubelet/pki wiped) working credentials again:
- a client certificate system:node:NAME / system:nodes signed offline by the cluster CA,
  written the way the kubelet's rotation writes it (kubelet-client-<time>.pem with cert and
  key, kubelet-client-current.pem symlink) and kubelet.conf pointing at it; or
- --bootstrap: a bootstrap-kubelet.conf with a new token (and the token Secret for
  kubectl apply), removing the stale kubelet.conf and -current link so the kubelet rejoins.

The files go into --root, which must be NODE's own tree: a tree that names another node
(its etcd manifest --name, kubeadm config nodeRegistration.name, kubelet --hostname-override,
kubelet.conf user or client certificate CN) is refused, since writing there would replace
that node's kubelet identity. For another node, --out DIR writes NODE's files into DIR laid
out as NODE's tree (DIR/var/lib/kubelet/pki/..., DIR/etc/kubernetes/...) to copy there.

Examples:
  kubepki kubelet credentials --node cp-1                          # this control-plane node's own kubelet
  kubepki kubelet credentials --node worker-1 --out /tmp/worker-1  # on a control-plane node, for worker-1:
      tar -C /tmp/worker-1 -cf - etc var | ssh root@worker-1 tar -C / --no-overwrite-dir -xpf -   # restart its kubelet
  kubepki kubelet credentials --node worker-1 --root /mnt/worker-1 \\
      --ca-cert /etc/kubernetes/pki/ca.crt --ca-key /etc/kubernetes/pki/ca.key   # worker-1's disk mounted here
  kubepki kubelet credentials --node worker-1 --bootstrap --out /tmp/worker-1 --secret-out token.yaml

Exit codes:
  0  written (or, with --dry-run, planned)
  2  writing into --root failed and every file was put back as it was
  3+ a flag is wrong, the CA cannot be read, --root is another node's tree, another kubepki is changing the
     node, --secret-out exists (or its directory is missing or not writable), or the existing kubelet.conf is
     one the kubelet cannot use (its current-context, or the user or cluster that context names, is not in
     it): nothing written. The token Secret (--secret-out) is written last, after the node's files: a run
     killed or rolled back before it leaves none, and running the command again just works; if it cannot be
     written then (made meanwhile, a full disk), exit 3, saying so: run it again for a new token`)
    .addOption(rootOption())
    .requiredOption('--node <name>', 'node name (the certificate is for system:node:NAME)')
    .addOption(aliasOption('--node-name <name>', 'node'))
    .option('--ca-cert <file>', 'CA certificate on this host (default: ca.crt in the node tree\'s certificatesDir, /etc/kubernetes/pki unless its manifests, kubelet config or kubeadm config say otherwise)')
    .option('--ca-key <file>', 'CA key on this host (default: next to the CA certificate in the node tree)')
    .option('--control-plane-endpoint <host:port>', 'API server for kubelet.conf (default: the node\'s kubelet.conf or admin.conf server)')
    .addOption(new Option('--key-type <type>', 'key type (the kubelet itself uses ecdsa-p256)').default('ecdsa-p256').choices(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']))
    .option('--validity <duration>', 'certificate validity (default: kube-controller-manager\'s --cluster-signing-duration from its manifest, else 8760h; clamped to the CA)')
    .option('--bootstrap', 'write bootstrap-kubelet.conf with a token instead of a certificate')
    .option('--token <id.secret>', 'bootstrap token to use (default: a new one)')
    .option('--ttl <duration>', 'bootstrap token lifetime', '24h')
    .option('--out <dir>', 'write NODE\'s files into DIR (laid out as NODE\'s tree, to copy there) instead of --root; nothing in DIR is overwritten')
    .option('--secret-out <file>', 'with --bootstrap: where to write the token Secret manifest (default ./kubepki-kubelet-<node>-token.yaml)')
    .option('--force', 'write into --root even though it names another node (only if the tree really is NODE\'s)')
    .option('--dry-run', 'show what would be written; write nothing')
    .addOption(backupDirOption())
    .addOption(nowOption())
    .action(async (o: CredentialsOptions, cmd: Command) => {
      const now = resolveNow(o.now);
      // (as inspect refuses --timeout for a file: a token flag without --bootstrap does nothing, a bad value unseen)
      const tokenFlags = (['token', 'ttl', 'secretOut'] as const).filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (!o.bootstrap && tokenFlags.length) {
        const flags = tokenFlags.map((k) => `--${k === 'secretOut' ? 'secret-out' : k}`);
        throw new UserError(`${listText(flags)} ${flags.length === 1 ? 'applies' : 'apply'} to --bootstrap, not to a client certificate`, `add --bootstrap for a bootstrap token, or drop ${flags.length === 1 ? 'it' : 'them'}`);
      }
      const { isDnsSubdomain, parseDuration } = await import('../profiles/rebuild.js');
      const nodeName = o.node.trim().toLowerCase();
      if (!isDnsSubdomain(nodeName)) throw new UserError(`--node ${JSON.stringify(o.node)} is not a valid node name`, 'use the node\'s name as `kubectl get nodes` shows it');
      let validityMs = o.validity !== undefined ? parseDuration(o.validity) : undefined;
      if (o.validity !== undefined && !validityMs) throw new UserError(`--validity ${JSON.stringify(o.validity)} is not a duration`, 'pass e.g. 8760h or 365d');
      const outDir = o.out !== undefined ? path.resolve(io.cwd, o.out) : undefined;
      if (outDir && (/\.(ya?ml|json)$/i.test(outDir) || nfs.statSync(outDir, { throwIfNoEntry: false })?.isFile())) {
        throw new UserError(`--out ${o.out} is a file: --out is the directory that receives the node's files`, 'pass a directory to --out; the token Secret manifest goes to --secret-out FILE');
      }
      const fs = openRoot(o.root);
      // (--out writes the node's files elsewhere, not into this tree: it takes no lock either)
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd, fs);
      if (outDir && backupRoot) throw new UserError('--backup-dir has no use with --out: --out replaces nothing, so nothing is backed up', 'leave --backup-dir out, or write into --root without --out');
      await withNodeLock(io, fs, now, { dryRun: Boolean(outDir || o.dryRun), backupRoot }, async (lock) => {
        // without --validity: what kube-controller-manager gives the kubelet's own CSRs, when its manifest says
        const signing = o.validity === undefined ? clusterSigningDuration(fs) : undefined;
        if (signing) validityMs = signing.seconds * 1000;
        const { loadCa, apiServerUrl, treeNodeName } = await import('../rebuild/node-files.js');
        // --root is the tree that gets the files unless --out: it must be NODE's own
        const own = treeNodeName(fs);
        if (!outDir && own && own.name !== nodeName && !o.force) {
          throw new UserError(
            `failed to write kubelet credentials for ${nodeName} into ${o.root ?? '/'}: this tree is node ${own.name}'s (${own.source}), and its kubelet would become ${nodeName}`,
            `pass --out DIR to write ${nodeName}'s files into DIR for copying to ${nodeName}, or --force if this tree really is ${nodeName}'s`,
          );
        }
        const pki = kubeadmPkiDir(fs);
        // a CA given on the host is read through a NodeFs rooted at /
        const caFs = o.caCert ? new NodeFs('/') : fs;
        const caCertPath = o.caCert ? path.resolve(io.cwd, o.caCert) : `${pki}/ca.crt`;
        const caKeyPath = o.caKey ? path.resolve(io.cwd, o.caKey) : caCertPath.replace(/\.crt$/, '.key');
        const server = apiServerUrl(fs, o.controlPlaneEndpoint);
        const { applyChanges, writeFileAtomic } = await import('../apply/transaction.js');
        const { writeExportTree } = await import('../rebuild/kubelet-credentials.js');
        const where = outDir ? ` in ${outDir}` : '';
        // the kubelet's clientCAFile on a joined node: kubeadm join writes the CA to <certificatesDir>/ca.crt and
        // points the kubelet config there (spec §2.2), the cluster's certificatesDir being this node's; only
        // written into a fresh --out tree
        const clientCa = `${pki}/ca.crt`;
        const caCopy = (pem: string) => ({ op: 'write' as const, path: clientCa, content: Buffer.from(pem), mode: 0o644 });
        /** Into the --out tree (with the CA copy), or onto this node through the backed-up transaction. */
        const store = async (changes: Parameters<typeof applyChanges>[1], caPem: string, action: string): Promise<string> => {
          if (outDir) {
            writeExportTree(outDir, [...changes, caCopy(caPem)]);
            return `Written under ${outDir}`;
          }
          const r = await applyChanges(fs, changes, { action, now, backupRoot, lock, onStep: testStepHook(io.env) });
          return backupLine(fs, r.backupDir, backupRoot);
        };
        // the tar names only the top directories the tree has: --bootstrap writes nothing under var, and tar fails on a missing one
        const copyNote = (base: string[], symlink: boolean) => {
          const tops = [...new Set([...base, clientCa.split('/')[1]!])];
          return `copy ${outDir}'s contents to ${nodeName}'s / keeping modes${symlink ? ' and the symlink' : ''} (tar -C ${outDir} -cf - ${tops.join(' ')} | ssh root@${nodeName} tar -C / --no-overwrite-dir -xpf -: existing directories there keep their owner and mode)`;
        };

        if (o.bootstrap) {
          // a bootstrap token only gets the kubelet a certificate that kube-controller-manager signs: in kubeadm's
          // external-CA mode it signs none (spec §1.3), so the kubelet would send its CSR and wait for ever, with
          // kubelet.conf and its pem already moved aside here
          const off = kubeletClientSigningOff(fs);
          if (off) {
            throw new UserError(
              `failed to write a bootstrap kubeconfig for ${nodeName}: kube-controller-manager signs no kubelet certificate request in this cluster (${off.setting} in ${off.file}: ${off.why}), so the kubelet's request would be approved and never signed`,
              outDir
                ? `sign one with the cluster CA where its key is: kubepki kubelet credentials --node ${nodeName} --ca-cert CA.crt --ca-key CA.key --out ${o.out}`
                : `have whoever holds the cluster CA's key sign the kubelet's: kubepki renew kubelet-client --csr-out DIR${rootFlagFor(o.root)} writes the request; or, where that key is, kubepki kubelet credentials --node ${nodeName} --ca-cert CA.crt --ca-key CA.key --out DIR`,
            );
          }
          const ca = loadCa(caFs, caCertPath, caKeyPath, false);
          const { generateToken, parseToken, tokenSecretManifest, parseDurationSeconds, BootstrapTokenError } = await import('../pki/bootstrap-token.js');
          const { planKubeletBootstrap, KUBELET_CONF, KUBELET_PKI_DIR } = await import('../plan/kubelet.js');
          const { kubeletBootstrapChanges } = await import('../rebuild/kubelet-credentials.js');
          const { toKubeYaml } = await import('../manifests/static-pods.js');
          const token = (o.token ?? generateToken()).trim();
          let secret;
          try {
            parseToken(token);
            secret = tokenSecretManifest({ token, ttlSeconds: parseDurationSeconds(o.ttl), description: `kubepki kubelet credentials --bootstrap for ${nodeName}` }, now);
          } catch (e) {
            if (e instanceof BootstrapTokenError) throw new UserError(e.message, 'leave --token out to get a new one; --ttl like 24h');
            throw e;
          }
          const stale = [KUBELET_CONF, `${KUBELET_PKI_DIR}/kubelet-client-current.pem`];
          const existing = outDir ? [] : stale.filter((p) => fs.lstat(p));
          const secretOut = path.resolve(io.cwd, o.secretOut ?? `kubepki-kubelet-${nodeName}-token.yaml`);
          const plan = planKubeletBootstrap({ nodeName, server: server.url, tokenId: parseToken(token).id, existing, secretFile: secretOut });
          if (outDir) plan.notes.unshift(copyNote(['etc'], false), `on ${nodeName}, remove ${stale.join(' and ')} first: while they exist the kubelet ignores bootstrap-kubelet.conf`);
          const lines = [
            `write   ${plan.bootstrapPath}${where} (token ${plan.tokenId}.<secret>, server ${plan.server} from ${server.source})`,
            ...(outDir ? [`write   ${clientCa}${where} (the cluster CA, the kubelet's client CA)`] : []),
            ...plan.remove.map((p) => `remove  ${p} (backed up; the kubelet bootstraps again)`),
            `write   ${secretOut} (the token Secret for the cluster)`,
          ];
          if (o.dryRun) { io.stdout(`${lines.join('\n')}\nDry run: nothing written.\n`); return; }
          const changes = kubeletBootstrapChanges(plan, ca.pem, token);
          // (a Secret written over bootstrap-kubelet.conf, or the other way round, would leave the kubelet nothing to join with)
          const written = [...changes.map((c) => c.path), ...(outDir ? [clientCa] : [])].map((p) => (outDir ? path.join(outDir, p) : fs.hostPath(p)));
          if (written.includes(secretOut)) throw new UserError(`--secret-out ${secretOut} is one of the files this run writes for the kubelet`, 'pass a path outside the node\'s files, e.g. --secret-out ./token.yaml');
          // the Secret last, once the node's files are committed, and only as a new file (the write itself refuses to
          // replace one, however recent): written first, it outlived a run killed while backing up or rolled back, and
          // the next run stopped at it ("exists"). What would stop its write is looked at now, before the node changes
          const secretYaml = toKubeYaml(secret);
          secretOutWritable(secretOut);
          const done = await store(changes, ca.pem, 'kubelet credentials --bootstrap');
          try {
            writeFileAtomic(secretOut, secretYaml, 0o600, { create: true });
          } catch (e) {
            // (made meanwhile, or the disk filled up): the kubelet has a token the cluster does not know. On the node a
            // run again writes a new one over bootstrap-kubelet.conf, and its Secret; an --out tree takes nothing over
            const code = (e as NodeJS.ErrnoException).code;
            throw new UserError(
              `failed to write the token Secret ${secretOut}: ${code === 'EEXIST' ? 'something made it meanwhile' : errorMessage(e)}; ${plan.bootstrapPath}${where} was written, with a token the cluster will not know without it`,
              outDir
                ? `remove ${outDir} and run the command again (with another --secret-out if that one is taken)`
                : `run the command again (with another --secret-out if that one is taken): it writes a new token into ${plan.bootstrapPath} and its Secret. ${done.trim()}`,
            );
          }
          io.stdout(`${lines.join('\n')}\n${done}\nNext:\n${plan.notes.map((n) => `  - ${n}`).join('\n')}\n`);
          return;
        }

        const ca = loadCa(caFs, caCertPath, caKeyPath, true);
        const { planKubeletCertificate, KUBELET_CONF } = await import('../plan/kubelet.js');
        const { kubeletCertificateChanges, kubeletConfTarget } = await import('../rebuild/kubelet-credentials.js');
        let existing: { text: string; file: string } | undefined;
        if (!outDir) {
          try { existing = fs.stat(KUBELET_CONF)?.isFile() ? { text: fs.readFile(KUBELET_CONF).toString('utf8'), file: fs.hostPath(KUBELET_CONF) } : undefined; } catch { existing = undefined; }
          // a kubelet.conf the kubelet cannot use stops the run here, before the plan is shown (--dry-run too)
          if (existing) kubeletConfTarget(existing.text, existing.file);
        }
        const plan = planKubeletCertificate({
          nodeName, now, keyType: o.keyType as never, validityMs, caNotAfter: ca.cert.notAfter, kubeconfigExists: existing !== undefined, server: server.url,
          // (an --out tree is written fresh, never over anything: only the node's own names can be taken)
          ...(outDir ? {} : { exists: (p: string) => fs.lstat(p) !== undefined }),
        });
        if (outDir) plan.notes.unshift(copyNote(['etc', 'var'], true));
        const lines = [
          `write   ${plan.pemPath}${where} (O=system:nodes, CN=${plan.subject.cn}; ${plan.keyType}; ${goTime(plan.notBefore)} → ${goTime(plan.notAfter)}${signing ? `, ${signing.text} as kube-controller-manager's --cluster-signing-duration in ${signing.file}` : ''}; signed by ${caCertPath})`,
          `link    ${plan.currentPath}${where} → ${plan.pemPath}`,
          `${plan.kubeconfig === 'edit' ? 'edit  ' : 'write '}  ${plan.kubeconfigPath}${where} (user → ${plan.currentPath}; CA refreshed${plan.kubeconfig === 'create' ? `; server ${plan.server}` : ''})`,
          ...(outDir ? [`write   ${clientCa}${where} (the cluster CA, the kubelet's client CA)`] : []),
        ];
        if (o.dryRun) { io.stdout(`${lines.join('\n')}\nDry run: nothing written.\n`); return; }
        const changes = await kubeletCertificateChanges(plan, ca as typeof ca & { key: NonNullable<typeof ca.key> }, existing);
        const done = await store(changes, ca.pem, 'kubelet credentials');
        io.stdout(`${lines.join('\n')}\n${done}\nNext:\n${plan.notes.map((n) => `  - ${n}`).join('\n')}\n`);
      });
    }));
  return kubelet;
}
