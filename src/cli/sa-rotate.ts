import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { UserError } from '../errors.js';
import type { KeyType } from '../pki/keygen.js';
import { rootOption, nowOption, resolveNow, backupDirOption, resolveBackupDir, backupLine } from './options.js';
import { openRoot } from '../fs/node-fs.js';
import { kubeadmPkiDir } from '../layouts/detect.js';
import { rootFlagFor } from '../inventory/next.js';

interface RotateOptions { root?: string; now?: string; backupDir?: string; dropOld?: boolean; keyType?: string; dryRun?: boolean; output: 'text' | 'json' }

/** `kubepki sa rotate`: registered under `kubepki sa` next to `refresh` (src/cli/sa.ts). */
export function rotateCommand(io: Io): Command {
  return new Command('rotate')
    .configureHelp({ helpWidth: 120 })
    .summary('make a new sa.key; sa.pub keeps the old public key until --drop-old')
    .description(`Make a new service-account signing key. sa.key is replaced; sa.pub gets the new public
key first and keeps the previous ones after it, so tokens signed with the old key keep
verifying until you drop them (--drop-old). Prints what must follow.

Examples:
  kubepki sa rotate --dry-run
  kubepki sa rotate                # then: ca export/import, restart apiserver + controller-manager,
                                   # kubepki sa refresh --restart-pods (re-issues every token)
  kubepki sa rotate --drop-old     # only after every pod was restarted since the rotation

Keep the old public key until every pod has been restarted: with kube-apiserver's default
--service-account-extend-token-expiration=true a projected token the pod sees as valid for 1h
is accepted for up to a year, and the kubelet refreshes it only when it is older than 24h or
past 80% of its lifetime. Dropping the old key earlier rejects tokens pods still use.

Exit codes:
  0  done (or, with --dry-run, planned)
  2  the run failed and every file was put back as it was
  3+ kubepki could not run (no sa.key, a bad flag, another kubepki is changing the node; nothing written)`)
    .addOption(rootOption())
    .option('--drop-old', 'keep only the current key\'s public half in sa.pub (no new key); only after kubepki sa refresh --restart-pods')
    .addOption(new Option('--key-type <type>', 'type of the new key (default: the current sa.key\'s type)').choices(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384']))
    .option('--dry-run', 'show the plan; write nothing')
    .addOption(backupDirOption())
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']))
    .addOption(nowOption())
    .action(async (o: RotateOptions) => {
      const now = resolveNow(o.now);
      const fs = openRoot(o.root);
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd, fs);
      await withNodeLock(io, fs, now, { dryRun: o.dryRun, json: o.output === 'json', backupRoot }, async (lock) => {
        const { loadPrivateKey } = await import('../rebuild/node-files.js');
        const { parsePemBlocks } = await import('../pki/pem.js');
        const { parsePublicKeyBlock, PUBLIC_KEY_LABELS } = await import('../pki/keys.js');
        const { generateKey, privateKeyPem, publicKeyPem, spkiDer, keyTypeOf } = await import('../pki/keygen.js');
        const { toPem } = await import('../pki/pem.js');
        const { planSaRotate } = await import('../plan/sa.js');
        const pki = kubeadmPkiDir(fs);
        const keyPath = `${pki}/sa.key`, pubPath = `${pki}/sa.pub`;
        const current = fs.exists(keyPath) ? loadPrivateKey(fs, keyPath) : undefined;
        let pubSpkis: Uint8Array[] = [];
        if (fs.exists(pubPath)) {
          try {
            pubSpkis = parsePemBlocks(fs.readFile(pubPath).toString('utf8')).filter((b) => PUBLIC_KEY_LABELS.has(b.label)).map((b) => parsePublicKeyBlock(b.label, b.der).spki);
          } catch (e) {
            throw new UserError(`failed to read ${pubPath}: ${(e as Error).message}`, 'fix or remove sa.pub (it is re-derived from sa.key)');
          }
        }
        if (!current && pubSpkis.length === 0) throw new UserError(`failed to rotate ${keyPath}: neither sa.key nor sa.pub exists`, 'there is nothing to rotate: kubepki rebuild creates a first pair');
        // the same type as the current key; one the ServiceAccount signer cannot use, or kubepki cannot make, is asked for
        const currentType = current ? keyTypeOf(current) : undefined;
        if (!o.keyType && current && (!currentType || currentType === 'ed25519')) {
          const d = current.asymmetricKeyDetails ?? {};
          const what = current.asymmetricKeyType === 'rsa' ? `an RSA ${d.modulusLength}-bit key` : current.asymmetricKeyType === 'ec' ? `an ECDSA ${d.namedCurve} key` : `an ${current.asymmetricKeyType} key`;
          throw new UserError(`failed to rotate ${keyPath}: it is ${what}, which ${currentType === 'ed25519' ? 'kube-apiserver cannot sign ServiceAccount tokens with (RSA or ECDSA only)' : 'kubepki does not make again'}`, 'pass --key-type (rsa-2048, rsa-3072, rsa-4096, ecdsa-p256 or ecdsa-p384)');
        }
        const keyType = (o.keyType ?? currentType ?? 'rsa-2048') as KeyType;
        let plan;
        try {
          plan = planSaRotate({ pki, currentKeySpki: current ? spkiDer(current) : undefined, pubSpkis, keyType, dropOld: Boolean(o.dropOld), rootFlag: rootFlagFor(fs.root) });
        } catch (e) {
          throw new UserError(`failed to drop old keys: ${(e as Error).message}`, 'run kubepki sa rotate first');
        }
        const changes: { op: 'write'; path: string; content: Buffer; mode: number }[] = [];
        if (plan.action === 'rotate') {
          const key = await generateKey(plan.keyType!);
          const pub = publicKeyPem(key) + plan.keepPublicKeys.map((k) => toPem(k, 'PUBLIC KEY')).join('');
          changes.push({ op: 'write', path: keyPath, content: Buffer.from(privateKeyPem(key)), mode: 0o600 });
          changes.push({ op: 'write', path: pubPath, content: Buffer.from(pub), mode: 0o600 });
        } else {
          changes.push({ op: 'write', path: pubPath, content: Buffer.from(publicKeyPem(current!)), mode: 0o600 });
        }
        const summary = plan.action === 'rotate'
          ? [`new ${plan.keyType} key → ${keyPath}`, plan.keepPublicKeys.length === 0 ? `${pubPath}: the new public key only` : `${pubPath}: the new public key, then ${plan.keepPublicKeys.length} previous one${plan.keepPublicKeys.length === 1 ? '' : 's'} kept for verification`]
          : [`${pubPath}: only the public key of ${keyPath} (${plan.droppedPublicKeys} old key${plan.droppedPublicKeys === 1 ? '' : 's'} dropped)`];
        const { applyChanges, keyModeChanges } = await import('../apply/transaction.js');
        const { modeChangeText } = await import('../fs/key-mode.js');
        // an sa.key others could read is written without their bits
        for (const m of keyModeChanges(fs, changes)) summary.push(`${m.path}: ${modeChangeText(m)}`);
        let backup: string | undefined;
        if (!o.dryRun) {
          backup = (await applyChanges(fs, changes, { action: `sa ${plan.action}`, now, backupRoot, lock, onStep: testStepHook(io.env) })).backupDir;
        }
        if (o.output === 'json') {
          io.stdout(JSON.stringify({ ...plan, keepPublicKeys: plan.keepPublicKeys.length, written: o.dryRun ? [] : changes.map((c) => c.path), backup }, null, 2) + '\n');
          return;
        }
        const lines = [...summary.map((s) => `  ${s}`)];
        if (plan.warnings.length) lines.push('Warnings:', ...plan.warnings.map((w) => `  - ${w}`));
        lines.push(...(o.dryRun ? ['Dry run: nothing written.'] : ['Done.', backupLine(fs, backup!, backupRoot)]), 'What must follow:', ...plan.followUps.map((f, n) => `  ${n + 1}. ${f}`));
        io.stdout(lines.join('\n') + '\n');
      });
    });
}
