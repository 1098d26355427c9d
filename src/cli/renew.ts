import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { readInventory, companionFiles } from '../inventory/read.js';
import { goTime, parseDuration } from '../inventory/time.js';
import { parseThresholdOrThrow } from '../inventory/classify.js';
import { planRenew, parseSans, type SanInput } from '../plan/renew.js';
import { NO_EXPIRY_MS } from '../pki/certificate.js';
import type { Plan } from '../plan/types.js';
import { nowOption, rootOption, resolveNow, collect, toNodePaths, backupDirOption, resolveBackupDir, backupLine } from './options.js';
import { withNodeLock, testStepHook } from './node-lock.js';
import { openRoot } from '../fs/node-fs.js';
import { outOfTreeRefusal } from '../inventory/read-on-host.js';
import { modeChangeText } from '../fs/key-mode.js';

interface RenewCliOptions {
  root?: string; now?: string; dryRun?: boolean; planOut?: string; validity?: string; days?: string; backdate?: string;
  newKey?: boolean; addSan?: string[]; onlyExpiring?: boolean; warn: string; csrOut?: string; restart?: boolean;
  backupDir?: string; file?: string[]; config?: string; caCert?: string; caKey?: string; output: string;
}

function day(iso: string): string {
  return iso.replace(/T.*$/, '');
}

/** The plan as people read it. */
/** `install: false` leaves out where signed certificates go (a real run prints that beside the CSRs it wrote). */
export function renderPlanText(plan: Plan, o: { install?: boolean } = {}): string {
  const out: string[] = [];
  const main = plan.items.filter((i) => i.kind !== 'ca-copy');
  out.push(main.length === 0
    ? `Plan: nothing to renew under ${plan.root} (now ${goTime(plan.now)})`
    : `Plan: renew ${main.length} certificate(s) under ${plan.root} (now ${goTime(plan.now)})`);
  const w = Math.max(10, ...main.map((i) => i.name.length));
  for (const it of main) {
    // (a file found through a link: the path components read it by, then where the write goes; the kubelet's
    // rotating pair is written to a new dated file, in the Files list, and the link moved to it)
    const where = it.location.kind === 'kubeconfig' ? `${it.location.file} (user ${it.location.kubeconfig?.name})`
      : it.location.via ? (it.kind === 'kubelet-client' || it.kind === 'kubelet-server' ? it.location.via : `${it.location.via} → ${it.location.file}`) : it.location.file;
    out.push(`  ${it.name.padEnd(w)}  ${where}`);
    const signer = it.signer === 'self' ? 'self-signed' : it.signer === 'throwaway' ? 'new throwaway CA' : `signed by ${it.signer.name}`;
    out.push(`  ${''.padEnd(w)}    serial ${it.old.serial} → ${it.new!.serial}; notAfter ${day(it.old.notAfter)} → ${day(it.new!.notAfter)}; key ${it.key.action === 'new' ? `new (${it.key.type})` : 'kept'}; ${signer}`);
    if (it.addSans.length) out.push(`  ${''.padEnd(w)}    add SANs ${it.addSans.map((s) => `${s.type.toUpperCase()}:${s.value}`).join(', ')}`);
    for (const n of it.notes) out.push(`  ${''.padEnd(w)}    ${n}`);
  }
  const copies = plan.items.filter((i) => i.kind === 'ca-copy');
  if (copies.length) {
    // (a leaf has copies too: k3s.yaml's admin certificate, the hard way's kubelet certificate in its kubeconfig)
    const ofCas = copies.every((c) => plan.items.find((i) => i.id === c.follows)?.kind === 'ca');
    out.push('', `Copies updated with the renewed ${ofCas ? 'CA' : 'certificates'}:`);
    for (const c of copies) out.push(`  ${c.notes.join('; ')}`);
  }
  out.push('', `Files (${plan.files.length}):`);
  for (const f of plan.files) {
    if (f.kind === 'symlink') out.push(`  link    ${f.path} → ${f.target}`);
    else out.push(`  ${f.create ? 'create' : 'write '}  ${f.path}${f.mode !== undefined ? ` (mode ${f.mode.toString(8).padStart(4, '0')})` : ''}${f.keyMode ? ` (${modeChangeText(f.keyMode)})` : ''}`);
  }
  if (plan.results.length) {
    out.push('', 'Not renewed:');
    for (const r of plan.results) {
      out.push(`  ${r.name}: ${r.message}${r.csr ? ` → ${r.csr}` : ''}`);
      if (o.install !== false) for (const l of r.install ?? []) out.push(`      ${l}`);
    }
  }
  if (plan.warnings.length) {
    out.push('', 'Warnings:');
    for (const wn of plan.warnings) out.push(`  ${wn}`);
  }
  if (plan.restarts.length) {
    out.push('', 'Restart afterwards:');
    for (const r of plan.restarts) {
      out.push(`  ${r.component} (${r.how === 'static-pod' ? 'static pod' : r.how === 'systemd' ? `systemd unit ${r.unit}` : r.how === 'docker' ? `docker container ${r.container}` : 'by hand'}; reads ${r.because.join(', ')})`, `    ${r.command}`);
      if (r.caution) out.push(`    (${r.caution})`);
    }
  }
  out.push(...renderOutside(plan));
  return out.join('\n') + '\n';
}

/** The "Outside this node" section: what a renewed CA still needs elsewhere. */
export function renderOutside(plan: Plan): string[] {
  const out: string[] = [];
  for (const n of plan.notes ?? []) {
    if (n.topic !== 'outside-this-node') continue;
    out.push('', `Outside this node: ${n.title}. Update these too:`);
    for (const st of n.steps) out.push(`  - ${st}`);
  }
  return out;
}

/** Endpoints to probe after restarts, with the certificate each must serve. */
export function servedChecks(plan: Plan, issued: Map<string, Uint8Array>): import('../apply/restart.js').ServedCheck[] {
  const out: import('../apply/restart.js').ServedCheck[] = [];
  for (const r of plan.restarts) {
    if (!r.endpoint) continue;
    const item = plan.items.find((i) => i.kind !== 'ca-copy' && i.location.file === r.endpoint!.certFile && i.location.index === 0);
    const der = item && issued.get(item.id);
    if (der) out.push({ component: r.component, host: r.endpoint.host, port: r.endpoint.port, expect: der });
  }
  return out;
}

export function command(io: Io): Command {
  return new Command('renew')
    .summary('renew certificates in place, keeping everything they carried (backup, atomic writes, rollback)')
    .configureHelp({ helpWidth: 120 })
    .addHelpText('before', `Examples:
  kubepki renew all --dry-run              # what would change, and what to restart
  kubepki renew all                        # renew every leaf (and expiring CAs), keys kept
  kubepki renew apiserver --add-san DNS:api.example.com,IP:192.0.2.7
  kubepki renew ca --validity 10y          # renew the cluster CA with its own key; every copy follows
  kubepki renew all --root /mnt/node --now 2026-11-23 --plan-out plan.json
  kubepki renew --file /etc/ssl/custom/server.pem --csr-out ./csrs
  kubepki renew --file /opt/app/tls.crt --ca-cert /opt/pki/issuing.crt --ca-key /opt/pki/issuing.key
  kubepki renew all --restart              # then bounce the static pods and the kubelet, and probe them
  kubepki renew all --only-expiring -o json   # for automation: one RenewResult document on stdout
`)
    .description(`Renew certificates in place: same subject, issuer and extensions (URI SANs and private extensions
included), signed by the CA that signed them; kubeconfig-embedded client certificates; the kubelet's rotated
client and serving pems (a new dated file, -current swapped to it, as the kubelet stores them) and its
self-signed serving pair; CAs (same key, every copy updated). Every file is backed up first,
written atomically, verified, and rolled back on any failure. Undo with \`kubepki restore BACKUP\`; list
backups with \`kubepki backups\`.`)
    .addHelpText('after', `
Exit codes:
  0  every selected certificate renewed
  1  some could not be (externally managed or missing CA, missing key, CA expired and not renewed with them): see "Not renewed"
  2  the run failed and every file was rolled back, or a restarted endpoint still serves the old certificate
  3  bad flags or input, or another kubepki is changing the node (its lock): nothing written`)
    .argument('[names...]', '`all`, or certificate names as `kubepki check` shows them (apiserver, admin.conf, ca …)')
    .addOption(rootOption())
    .addOption(nowOption())
    .option('--file <path>', 'renew every certificate in this file (repeatable; a kubeconfig: its client certificates, embedded or the files it names); a file of a node tree (DIR/etc/kubernetes/…) whose absolute links lead out of it is refused: give DIR as --root', collect)
    .option('--ca-cert <file>', 'with --file: the CA that signed it, when it is neither beside it, one directory up, nor a CA of the node (where it is found by its signature, whatever its file name); read as --file is')
    .option('--ca-key <file>', 'with --ca-cert: its key (default: beside it, as ca.key or ca-key.pem for ca.crt or ca.pem)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--plan-out <file>', 'also write the plan as JSON to FILE')
    .addOption(new Option('-o, --output <format>', 'text, or json: one RenewResult document on stdout (what was renewed, written, backed up and restarted; with --dry-run, what would be; or what failed and whether it was rolled back)').default('text').choices(['text', 'json']))
    .option('--validity <duration>', 'new lifetime (1y, 10y, 36500d; default: kubeadm\'s certificateValidityPeriod / caCertificateValidityPeriod from --config or /etc/kubernetes/kubeadm-config.yaml, else the old certificate\'s lifetime, or its installer\'s where its notBefore is its CA\'s: kubeadm ≤1.30, k3s, RKE2 1y; RKE1 10y)')
    .option('--days <n>', 'new lifetime in days, as openssl x509 -days takes it (the same as --validity Nd)')
    .option('--backdate <duration>', 'set notBefore this far in the past (for nodes with a skewed clock)')
    .option('--new-key', 'generate a fresh key of the same type and size (default: keep the key); CAs and ServiceAccount token keys keep theirs (a new kubeadm CA key: kubepki rebuild --new-ca NAME)')
    .option('--add-san <names>', 'add subject alternative names: DNS:x,IP:y,URI:z,email:w (repeatable); names the certificate has are kept, once', collect)
    .option('--only-expiring', 'renew only certificates that are expired, not yet valid, or within the --warn threshold')
    .addOption(new Option('--warn <threshold>', 'threshold for --only-expiring (30d, 2w, 66%)').default('30d'))
    .option('--csr-out <dir>', 'write a CSR for each certificate whose CA key is not on this node')
    .option('--restart', 'restart the components that read the renewed files')
    .addOption(backupDirOption())
    .option('--config <file>', 'kubeadm config to take certificateValidityPeriod / caCertificateValidityPeriod from, as kubeadm certs renew --config does: the file given to kubeadm init, or `kubectl -n kube-system get cm kubeadm-config -o yaml` (default: /etc/kubernetes/kubeadm-config.yaml when the node has one)')
    .action(async (names: string[], o: RenewCliOptions) => {
      // ---- parse and validate every flag first
      const now = resolveNow(o.now);
      if (names.length === 0 && !(o.file?.length)) throw new UserError('renew needs `all`, certificate names or --file PATH', 'e.g. `kubepki renew all --dry-run`');
      if (o.days !== undefined) {
        if (o.validity !== undefined) throw new UserError(`--days ${o.days} and --validity ${o.validity} both set the lifetime`, 'give one of them');
        if (!/^[1-9]\d*$/.test(o.days)) throw new UserError(`--days ${JSON.stringify(o.days)} is not a whole number of days`, 'e.g. --days 365, or --validity 10y');
        o.validity = `${o.days}d`;
      }
      const validitySeconds = o.validity === undefined ? undefined : parseDuration(o.validity);
      if (o.validity !== undefined && (!validitySeconds || validitySeconds <= 0)) throw new UserError(`--validity ${JSON.stringify(o.validity)} is not a duration`, 'use e.g. 1y, 10y or 36500d');
      // X.509 times end at 9999-12-31 (GeneralizedTime); Go and openssl refuse anything past it
      if (validitySeconds !== undefined && now.getTime() + validitySeconds * 1000 > NO_EXPIRY_MS) throw new UserError(`--validity ${o.validity} ends after 9999-12-31, the last date a certificate can hold`, 'use at most a few thousand years, e.g. 100y');
      const backdateSeconds = o.backdate === undefined ? undefined : parseDuration(o.backdate);
      if (o.backdate !== undefined && backdateSeconds === undefined) throw new UserError(`--backdate ${JSON.stringify(o.backdate)} is not a duration`, 'use e.g. 1h, 1d or 1y');
      // (UTCTime starts in 1950)
      if (backdateSeconds !== undefined && now.getTime() - backdateSeconds * 1000 < Date.UTC(1950, 0, 1)) throw new UserError(`--backdate ${o.backdate} starts before 1950, the first date a certificate can hold`, 'backdate by hours or days, e.g. 1h');
      if (o.warn !== undefined) parseThresholdOrThrow(o.warn);
      const addSans: SanInput[] = (o.addSan ?? []).flatMap(parseSans);
      const nfs = openRoot(o.root);
      if (o.restart && nfs.root !== '/') throw new UserError('--restart works only on the live node (without --root)', 'restart the components on the node itself; the plan lists them');
      const targets = names.length === 1 && names[0] === 'all' ? 'all' as const : names.filter((n) => n !== 'all');
      if (names.includes('all') && names.length > 1) throw new UserError('give either `all` or certificate names, not both', 'e.g. `kubepki renew all` or `kubepki renew apiserver etcd-server`');
      const files = toNodePaths(nfs, o.file, io.cwd);
      // a file of a node tree given without that tree as --root, whose absolute links lead out of it
      // (pki/etcd -> /srv/etcd, kubelet-client-current.pem -> /var/lib/kubelet/pki/…): renew would renew this host's
      // file, not the tree's; refused before anything is locked, read or written
      for (const f of files) {
        // a path typed wrong is a usage error naming it, as check --path says it (it was "failed to find any
        // certificate under /: … or --file PATH", or "failed to find a certificate in" a file that is not there)
        const refusal = outOfTreeRefusal(nfs, f);
        if (refusal) throw new UserError(refusal);
        if (!nfs.stat(f)) throw new UserError(`--file ${f} ${nfs.lstat(f) ? 'is a dangling symlink' : 'does not exist'}${nfs.root === '/' ? '' : ` under --root ${nfs.root}`}`, nfs.root === '/' ? 'check the path' : 'with --root, paths are read inside the tree: give the path as it is on the node');
      }
      // a CA given by hand: a node path as --file is, checked now (a CA that signed none of the files, or a key that
      // is not its, would otherwise only show as "externally managed" after the lock and the read)
      if (o.caKey !== undefined && o.caCert === undefined) throw new UserError('--ca-key needs --ca-cert: the CA certificate it is the key of', 'e.g. --ca-cert /opt/pki/ca.pem --ca-key /opt/pki/ca-key.pem');
      if (o.caCert !== undefined && files.length === 0) throw new UserError('--ca-cert applies to --file certificates', `add --file PATH for each certificate ${o.caCert} signed (certificates kubepki knows by name are signed by the node's CA)`);
      const [caCert, caKey] = toNodePaths(nfs, [o.caCert, o.caKey].filter((p): p is string => p !== undefined), io.cwd);
      for (const [flag, p] of [['--ca-cert', caCert], ['--ca-key', caKey]] as const) {
        if (p !== undefined && !nfs.stat(p)?.isFile()) throw new UserError(`${flag} ${p} ${nfs.lstat(p) ? 'is not a file' : 'does not exist'}${nfs.root === '/' ? '' : ` under --root ${nfs.root}`}`, nfs.root === '/' ? 'check the path' : 'with --root, paths are read inside the tree: give the path as it is on the node (copy a CA kept elsewhere into the tree)');
      }
      const { signerFiles, givenCaProblem } = await import('../inventory/signer-files.js');
      const caProblem = caCert === undefined ? undefined : givenCaProblem(nfs, caCert, caKey, files);
      if (caProblem) throw new UserError(caProblem, 'give the CA certificate that signed the --file certificates, and its key (openssl verify -CAfile CA FILE tells)');
      const configured = o.config === undefined ? undefined : await configuredValidity(path.resolve(io.cwd, o.config));
      const csrOut = o.csrOut ? path.resolve(io.cwd, o.csrOut) : undefined;

      // ---- lock (rolling back an interrupted run first), read, plan
      const tx = await import('../apply/transaction.js');
      const backupRoot = resolveBackupDir(o.backupDir, io.cwd, nfs);
      // -o json: stdout is the one document, made of what the text says (progress lines go to stderr)
      const json = o.output === 'json';
      const say = json ? () => undefined : (s: string) => io.stdout(s);
      const doc = json ? await import('./result-doc.js') : undefined;
      await withNodeLock(io, nfs, now, { dryRun: o.dryRun, backupRoot, json }, renewLocked);

      async function renewLocked(lock: import('../apply/transaction.js').NodeLock | undefined): Promise<void> {
        // a --file's key and CA beside it are read too (apiserver.key, ca.crt …), and the CA that signed it beside it or
        // one directory up whatever its name (signerFiles), or the one given; not whole directories; only the files are renewed
        const given = [caCert, caKey].filter((p): p is string => p !== undefined);
        const beside = [...new Set([...files.flatMap((f) => [...companionFiles(nfs, f), ...signerFiles(nfs, f)]), ...given])].filter((f) => !files.includes(f));
        const inv = readInventory({ fs: nfs, now, warn: o.warn, ...(files.length ? { paths: [...files, ...beside] } : {}) });
        // --config is the cluster's configuration, whatever the node's own kubeadm-config.yaml says
        if (configured) {
          if (configured.validity) inv.kubeadmValidity = configured.validity;
          else delete inv.kubeadmValidity;
        }
        const { findCopies } = await import('../apply/renew.js');
        const { readNodeEtcdCluster } = await import('../rebuild/etcd-members.js');
        const plan = planRenew(inv, {
          targets: targets.length === 0 && files.length > 0 ? [] : targets, files, validitySeconds, backdateSeconds, newKey: o.newKey, addSans,
          onlyExpiring: o.onlyExpiring, csrOut, copies: findCopies(nfs, inv), modeOf: (p) => nfs.stat(p)?.mode, exists: (p) => nfs.lstat(p) !== undefined,
          etcdCluster: () => readNodeEtcdCluster(nfs),
        }, now);
        if (o.planOut) tx.writeFileAtomic(path.resolve(io.cwd, o.planOut), JSON.stringify(plan, null, 2) + '\n', 0o644);
        say(renderPlanText(plan, { install: Boolean(o.dryRun) }));
        say(clockWarnings(plan, Date.now(), o.now !== undefined));
        // a certificate someone else renews in time (the kubelet its own valid client certificate) is no failure
        const partial = plan.results.some((r) => r.outcome !== 'not-needed');
        // what the document says happened, filled in as it happens (a failure part way says how far it got)
        let written: string[] = [];
        let backup: import('./result-doc.js').Backup | undefined;
        let csrsWritten: string[] = o.dryRun ? plan.results.flatMap((r) => (r.csr ? [r.csr] : [])) : [];
        const restarted = new Map<string, Pick<import('./result-doc.js').ResultRestart, 'result' | 'serving'>>();
        const finish = (outcome: import('./result-doc.js').RenewOutcome, exitCode: number, failure?: import('./result-doc.js').Failure) => {
          io.exitCode = exitCode;
          if (!doc) return;
          const result: import('./result-doc.js').RenewResult = {
            apiVersion: 'kubepki.io/v1alpha1', kind: 'RenewResult', root: nfs.root, now: plan.now, dryRun: Boolean(o.dryRun), outcome, exitCode,
            ...(lock?.recovered.length ? { recovered: lock.recovered } : {}),
            items: plan.items, notRenewed: plan.results, csrs: csrsWritten, files: doc.resultFiles(nfs, plan, Boolean(o.dryRun)), written,
            ...(backup ? { backup } : {}),
            restarts: plan.restarts.map((r) => ({ ...r, restarted: restarted.has(r.component), ...restarted.get(r.component) })),
            warnings: [...plan.warnings, ...clockProblems(plan, Date.now(), o.now !== undefined)], outside: plan.notes ?? [],
            ...(failure ? { failure } : {}),
          };
          doc.printDoc((s) => io.stdout(s), result);
        };
        const nothing = plan.items.length === 0 && plan.results.every((r) => !r.csr);
        const done = (): [import('./result-doc.js').RenewOutcome, number] => (partial ? ['partial', 1] : nothing ? ['nothing-to-renew', 0] : ['renewed', 0]);
        if (o.dryRun) {
          say('\nDry run: nothing was written.\n');
          finish(...done());
          return;
        }
        if (nothing) {
          say('\nNothing to renew.\n');
          finish(...done());
          return;
        }
        try {
          await apply();
        } catch (e) {
          // -o json: the document says what failed and how far the run got; the error is the usual one line on stderr
          if (!doc) throw e;
          const code = await doc.reportNow(e, io);
          finish('failed', code, doc.failureOf(nfs, e, written.length > 0, backupRoot));
          throw doc.failedAfterReport(code);
        }

        async function apply(): Promise<void> {
          const { renderRenewal, writeCsrs } = await import('../apply/renew.js');
          const { applyChanges } = tx;
          const rendered = await renderRenewal(nfs, inv, plan);
          const onStep = testStepHook(io.env);
          if (rendered.changes.length > 0) {
            const res = await applyChanges(nfs, rendered.changes, {
              action: 'renew', now, ...(backupRoot ? { backupRoot } : {}), lock,
              note: `renew ${plan.items.filter((i) => i.kind !== 'ca-copy').map((i) => i.name).join(' ')}`,
              ...(onStep ? { onStep } : {}), verify: rendered.verify,
            });
            written = res.written;
            backup = doc?.backupOf(nfs, res.backupDir, backupRoot);
            const n = plan.items.filter((i) => i.kind !== 'ca-copy').length;
            say(`\nRenewed ${n} certificate(s); wrote ${res.written.length} file(s), each verified (re-read, signature, key, extensions).\n`);
            say(`${backupLine(nfs, res.backupDir, backupRoot)}\n`);
          }
          if (rendered.csrs.length > 0) {
            writeCsrs(rendered.csrs);
            csrsWritten = rendered.csrs.map((c) => c.path);
            say(`\nWrote ${rendered.csrs.length} CSR(s) for certificates whose CA is managed elsewhere; take each to its CA and put the signed certificate back:\n`);
            for (const c of rendered.csrs) {
              say(`  ${c.path}\n`);
              for (const l of plan.results.find((r) => r.csr === c.path)?.install ?? []) say(`      ${l}\n`);
            }
          }
          if (plan.restarts.length > 0) {
            if (o.restart) {
              // (with -o json what a restart reports as it goes is progress: stderr)
              const progress = doc ? (l: string) => io.stderr(l) : say;
              const { carryOutRestarts, processRunner } = await import('../apply/restart.js');
              for (const r of plan.restarts) if (r.caution) progress(`${r.component}: ${r.caution}\n`);
              const failed = await carryOutRestarts(nfs, plan.restarts, processRunner(), { log: (l) => progress(`${l}\n`) });
              for (const r of plan.restarts) restarted.set(r.component, { result: failed.includes(r.component) ? 'failed' : 'ok' });
              if (failed.length) { io.stderr(`restart failed for ${failed.join(', ')}: check them (crictl ps, docker ps, journalctl -u <unit>) and restart them by hand (see above)\n`); finish('restart-failed', 2); return; }
              const served = servedChecks(plan, rendered.issued);
              if (served.length) {
                const { waitServed } = await import('../apply/restart.js');
                const { probeEndpoint } = await import('../probe/probe.js');
                const res = await waitServed(served, (h, p) => probeEndpoint(h, p));
                for (const x of res.results) restarted.set(x.component, { ...restarted.get(x.component), serving: { endpoint: x.endpoint, renewed: x.ok, ...(x.detail ? { detail: x.detail } : {}) } });
                for (const l of res.lines) progress(`${l}\n`);
                if (!res.ok) { io.stderr('some endpoints still serve the old certificate; restart them by hand (see above)\n'); finish('served-old', 2); return; }
              }
            } else {
              say(`\nNothing was restarted. Until they restart, these components (or the connections they have open) keep using the old certificates:\n`);
              for (const r of plan.restarts) say(`  ${r.component}: ${r.command}\n${r.caution ? `    (${r.caution})\n` : ''}`);
              // (running renew again with --restart would renew a second time: the commands above are the step now)
              say(nfs.root === '/' ? `Run those commands now; next time, renew --restart renews and restarts in one step.\n` : `Run those commands on the node itself once this tree is back in place.\n`);
            }
          }
          if (plan.notes?.some((n) => n.topic === 'outside-this-node')) {
            say(plan.notes.some((n) => inv.certificates.find((c) => c.id === n.about)?.isCA)
              ? `\nNot done yet: the renewed CA must still reach the other nodes, the cluster and users' kubeconfigs (see "Outside this node" above).\n`
              : `\nNot done yet: see "Outside this node" above.\n`);
          }
          finish(...done());
        }
      }
    });
}

/**
 * What the new certificates will look like on this machine's clock. --now makes a plan for another moment
 * (a node whose clock is off, a test); certificates that start after the real now, or end before it or
 * within a day, would be refused here the moment they are written (seed 000's "not yet valid").
 */
export function clockWarnings(plan: { items: { name: string; kind: string; new?: { notBefore: string; notAfter: string } }[] }, realNowMs: number, nowGiven: boolean): string {
  const lines = clockProblems(plan, realNowMs, nowGiven);
  if (lines.length === 0) return '';
  return `\nWarning: ${lines.length === 1 ? 'a new certificate is' : `${lines.length} new certificates are`} not usable on this machine's clock (${goTime(realNowMs)}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** clockWarnings' lines, one per certificate (-o json's warnings). */
function clockProblems(plan: { items: { name: string; kind: string; new?: { notBefore: string; notAfter: string } }[] }, realNowMs: number, nowGiven: boolean): string[] {
  const lines: string[] = [];
  for (const it of plan.items) {
    if (it.kind === 'ca-copy' || !it.new) continue;
    const nb = Date.parse(it.new.notBefore);
    const na = Date.parse(it.new.notAfter);
    if (nb > realNowMs) lines.push(`${it.name}: valid from ${goTime(it.new.notBefore)}, after this machine's clock${nowGiven ? ' (--now is later than the clock)' : ''}: not yet valid here when written`);
    else if (na <= realNowMs) lines.push(`${it.name}: valid until ${goTime(it.new.notAfter)}, already past on this machine's clock${nowGiven ? ' (--now is earlier than the clock)' : ''}`);
    else if (na - realNowMs < 86400_000) lines.push(`${it.name}: valid until ${goTime(it.new.notAfter)}, less than a day from now (--validity?)`);
  }
  return lines;
}

/**
 * The lifetimes a kubeadm config file sets (`renew --config`): read from the host, as kubeadm reads its
 * --config. A file that is not a kubeadm config is a one-line error; one without the fields sets nothing.
 */
async function configuredValidity(file: string): Promise<{ validity?: import('../inventory/types.js').KubeadmValidity }> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`failed to read --config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass the kubeadm config file, or `kubectl -n kube-system get cm kubeadm-config -o yaml > FILE`');
  }
  const { parseKubeadmConfig } = await import('../rebuild/kubeadm-config.js');
  const { readValidityPeriods } = await import('../inventory/components.js');
  const docs = parseKubeadmConfig(text, file);
  const validity = docs.cluster ? readValidityPeriods(docs.cluster, file) : undefined;
  return validity ? { validity } : {};
}
