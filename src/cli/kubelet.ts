import * as nfs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { rootOption, nowOption, resolveNow } from './options.js';
import { openRoot, NodeFs } from '../fs/node-fs.js';

interface CredentialsOptions {
  root?: string;
  now?: string;
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
  force?: boolean;
  dryRun?: boolean;
}

export function command(io: Io): Command {
  const kubelet = new Command('kubelet')
    .summary('offline credentials for a kubelet that can no longer reach the cluster')
    .description('Kubelet credentials. See `kubepki kubelet credentials --help`.');
  kubelet.addCommand(new Command('credentials')
    .configureHelp({ helpWidth: 120 })
    .description(`Give a kubelet that can no longer reach the cluster (off for over a year, or
/var/lib/kubelet/pki wiped) working credentials again:
- a client certificate system:node:NAME / system:nodes signed offline by the cluster CA,
  written the way the kubelet's rotation writes it (kubelet-client-<time>.pem with cert and
  key, kubelet-client-current.pem symlink) and kubelet.conf pointing at it; or
- --bootstrap: a bootstrap-kubelet.conf with a new token (and the token Secret for
  kubectl apply), removing the stale kubelet.conf and -current link so the kubelet rejoins.

Examples:
  kubepki kubelet credentials --node worker-1                      # on a control-plane node's tree
  kubepki kubelet credentials --node worker-1 --root /mnt/worker-1 \\
      --ca-cert /etc/kubernetes/pki/ca.crt --ca-key /etc/kubernetes/pki/ca.key
  kubepki kubelet credentials --node worker-1 --bootstrap --out token.yaml`)
    .addOption(rootOption())
    .requiredOption('--node <name>', 'node name (the certificate is for system:node:NAME)')
    .option('--ca-cert <file>', 'CA certificate on this host (default: the node tree\'s /etc/kubernetes/pki/ca.crt)')
    .option('--ca-key <file>', 'CA key on this host (default: next to the CA certificate in the node tree)')
    .option('--control-plane-endpoint <host:port>', 'API server for kubelet.conf (default: the node\'s kubelet.conf or admin.conf server)')
    .addOption(new Option('--key-type <type>', 'key type (the kubelet itself uses ecdsa-p256)').default('ecdsa-p256').choices(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096']))
    .option('--validity <duration>', 'certificate validity (default 8760h, clamped to the CA)')
    .option('--bootstrap', 'write bootstrap-kubelet.conf with a token instead of a certificate')
    .option('--token <id.secret>', 'bootstrap token to use (default: a new one)')
    .option('--ttl <duration>', 'bootstrap token lifetime', '24h')
    .option('--out <file>', 'with --bootstrap: where to write the token Secret manifest (default ./kubepki-kubelet-<node>-token.yaml)')
    .option('--force', 'with --bootstrap: overwrite --out')
    .option('--dry-run', 'show what would be written; write nothing')
    .addOption(nowOption())
    .action(async (o: CredentialsOptions) => {
      const now = resolveNow(o.now);
      const { isDnsSubdomain, parseDuration } = await import('../profiles/rebuild.js');
      const nodeName = o.node.trim().toLowerCase();
      if (!isDnsSubdomain(nodeName)) throw new UserError(`--node ${JSON.stringify(o.node)} is not a valid node name`, 'use the node\'s name as `kubectl get nodes` shows it');
      const validityMs = o.validity !== undefined ? parseDuration(o.validity) : undefined;
      if (o.validity !== undefined && !validityMs) throw new UserError(`--validity ${JSON.stringify(o.validity)} is not a duration`, 'pass e.g. 8760h or 365d');
      const fs = openRoot(o.root);
      const { loadCa, apiServerUrl, pkiDirOf } = await import('../rebuild/node-files.js');
      const pki = pkiDirOf(fs);
      // a CA given on the host is read through a NodeFs rooted at /
      const caFs = o.caCert ? new NodeFs('/') : fs;
      const caCertPath = o.caCert ? path.resolve(io.cwd, o.caCert) : `${pki}/ca.crt`;
      const caKeyPath = o.caKey ? path.resolve(io.cwd, o.caKey) : caCertPath.replace(/\.crt$/, '.key');
      const server = apiServerUrl(fs, o.controlPlaneEndpoint);
      const { applyChanges } = await import('../apply/transaction.js');

      if (o.bootstrap) {
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
        const existing = [KUBELET_CONF, `${KUBELET_PKI_DIR}/kubelet-client-current.pem`].filter((p) => fs.lstat(p));
        const plan = planKubeletBootstrap({ nodeName, server: server.url, tokenId: parseToken(token).id, existing });
        const out = path.resolve(io.cwd, o.out ?? `kubepki-kubelet-${nodeName}-token.yaml`);
        const lines = [
          `write   ${plan.bootstrapPath} (token ${plan.tokenId}.<secret>, server ${plan.server} from ${server.source})`,
          ...plan.remove.map((p) => `remove  ${p} (backed up; the kubelet bootstraps again)`),
          `write   ${out} (the token Secret for the cluster)`,
        ];
        if (o.dryRun) { io.stdout(`${lines.join('\n')}\nDry run: nothing written.\n`); return; }
        if (nfs.existsSync(out) && !o.force) throw new UserError(`failed to write ${out}: it exists`, 'pass --force or another --out');
        nfs.writeFileSync(out, toKubeYaml(secret), { mode: 0o600 });
        nfs.chmodSync(out, 0o600);
        const r = await applyChanges(fs, kubeletBootstrapChanges(plan, ca.pem, token), { action: 'kubelet credentials --bootstrap', now });
        io.stdout(`${lines.join('\n')}\nBackup: ${r.backupDir}\nNext:\n${plan.notes.map((n) => `  - ${n}`).join('\n')}\n`);
        return;
      }

      const ca = loadCa(caFs, caCertPath, caKeyPath, true);
      const { planKubeletCertificate, KUBELET_CONF } = await import('../plan/kubelet.js');
      const { kubeletCertificateChanges } = await import('../rebuild/kubelet-credentials.js');
      let existing: string | undefined;
      try { existing = fs.stat(KUBELET_CONF)?.isFile() ? fs.readFile(KUBELET_CONF).toString('utf8') : undefined; } catch { existing = undefined; }
      const plan = planKubeletCertificate({
        nodeName, now, keyType: o.keyType as never, validityMs, caNotAfter: ca.cert.notAfter, kubeconfigExists: existing !== undefined, server: server.url,
      });
      const lines = [
        `write   ${plan.pemPath} (O=system:nodes, CN=${plan.subject.cn}; ${plan.keyType}; ${plan.notBefore.slice(0, 19)}Z → ${plan.notAfter.slice(0, 19)}Z; signed by ${caCertPath})`,
        `link    ${plan.currentPath} → ${plan.pemPath}`,
        `${plan.kubeconfig === 'edit' ? 'edit  ' : 'write '}  ${plan.kubeconfigPath} (user → ${plan.currentPath}; CA refreshed${plan.kubeconfig === 'create' ? `; server ${plan.server}` : ''})`,
      ];
      if (o.dryRun) { io.stdout(`${lines.join('\n')}\nDry run: nothing written.\n`); return; }
      const changes = await kubeletCertificateChanges(plan, ca as typeof ca & { key: NonNullable<typeof ca.key> }, existing);
      const r = await applyChanges(fs, changes, { action: 'kubelet credentials', now });
      io.stdout(`${lines.join('\n')}\nBackup: ${r.backupDir}\nNext:\n${plan.notes.map((n) => `  - ${n}`).join('\n')}\n`);
    }));
  return kubelet;
}
