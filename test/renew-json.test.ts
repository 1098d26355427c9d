/**
 * `renew -o json` and `restore -o json`: one document on stdout that says what the run did, checked against the
 * files it left (openssl for serials and dates), the dry run against the real run, failures that were rolled
 * back, and never a private key in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { RenewResult, RestoreResult } from '../src/cli/result-doc.js';
import { listBackups, readManifest } from '../src/apply/transaction.js';
import { copyFixture, cli, sh, snapshotTree, inShell, certPems, tmp, NOW } from './renew-support.js';

const LATER = '2026-12-01T00:00:00Z';

/** The one document on stdout (nothing before or after it). */
function parse<T>(out: string, kind: string): T {
  const doc = JSON.parse(out) as T & { apiVersion: string; kind: string };
  assert.equal(doc.apiVersion, 'kubepki.io/v1alpha1');
  assert.equal(doc.kind, kind);
  assert.equal(out, JSON.stringify(doc, null, 2) + '\n', 'one document, nothing else');
  return doc;
}

/** Every private key of the tree, as the strings that would show it: the PEM body, and a kubeconfig's base64 of the PEM. */
function keyTexts(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (!p.endsWith('var/lib/kubepki')) walk(p); continue; }
      if (!e.isFile()) continue;
      const text = fs.readFileSync(p, 'latin1');
      for (const m of text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) out.push(m[1]!.replace(/\s/g, ''));
      for (const m of text.matchAll(/client-key-data: (\S+)/g)) out.push(m[1]!);
    }
  };
  walk(root);
  return out;
}

function assertNoKeys(out: string, root: string): void {
  assert.doesNotMatch(out, /PRIVATE KEY/);
  const keys = keyTexts(root);
  assert.ok(keys.length > 5, `found ${keys.length} keys to look for`);
  // (a stretch from the middle of each: past the algorithm's fixed header bytes)
  for (const k of keys) assert.ok(!out.includes(k.slice(40, 104)), 'key bytes in the document');
}

/** openssl's serial (hex) and notAfter of a PEM certificate. */
function openssl(pem: string): { serial: bigint; notAfter: number } {
  const r = sh('openssl', ['x509', '-noout', '-serial', '-enddate'], pem);
  assert.equal(r.status, 0, r.stderr);
  return { serial: BigInt('0x' + /serial=([0-9A-F]+)/.exec(r.stdout)![1]!), notAfter: Date.parse(/notAfter=(.*)/.exec(r.stdout)![1]!) };
}

/** The certificate a renewed item now is on disk (the kubelet's rotating pair: the new dated file the run wrote). */
function onDisk(root: string, doc: RenewResult, it: RenewResult['items'][number]): string {
  const dated = doc.files.find((f) => f.kind === 'kubelet-pem' && f.items.includes(it.id));
  const file = path.join(root, dated?.path ?? it.location.file);
  const index = dated ? 0 : it.location.index;
  if (it.location.kind === 'der' && !dated) return `-----BEGIN CERTIFICATE-----\n${fs.readFileSync(file).toString('base64')}\n-----END CERTIFICATE-----\n`;
  if (it.location.kind === 'kubeconfig' && !dated) {
    const kc = YAML.parse(fs.readFileSync(file, 'utf8')) as { users: { name: string; user: Record<string, string> }[] };
    const data = kc.users.find((u) => u.name === it.location.kubeconfig!.name)!.user['client-certificate-data']!;
    return certPems(Buffer.from(data, 'base64').toString('latin1'))[index]!;
  }
  return certPems(fs.readFileSync(file, 'latin1'))[index]!;
}

/** What a dry run and the real run both say: all but the new serials (random), the writes and the backup. */
function comparable(doc: RenewResult): unknown {
  const { dryRun: _d, written: _w, backup: _b, ...rest } = doc;
  return { ...rest, items: doc.items.map((i) => ({ ...i, ...(i.new ? { new: { ...i.new, serial: '' } } : {}) })) };
}

test('renew -o json: the document says what was renewed, as openssl reads it on disk; the dry run said the same; its restore undoes it', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const pristine = snapshotTree(root);
  const dry = await cli(['renew', 'all', '--dry-run', '-o', 'json', '--root', root, '--now', NOW]);
  assert.equal(dry.code, 0, dry.err);
  assert.equal(dry.err, '');
  const planned = parse<RenewResult>(dry.out, 'RenewResult');
  assert.deepEqual(snapshotTree(root), pristine, 'the dry run wrote nothing');
  assert.equal(planned.dryRun, true);
  assert.deepEqual(planned.written, []);
  assert.equal(planned.backup, undefined);

  const r = await cli(['renew', 'all', '-o', 'json', '--root', root, '--now', NOW]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '', 'nothing but the document, and nothing on stderr either');
  const doc = parse<RenewResult>(r.out, 'RenewResult');
  assert.equal(doc.outcome, 'renewed');
  assert.equal(doc.exitCode, 0);
  assert.equal(doc.dryRun, false);
  assert.equal(doc.now, '2026-11-23T00:00:00.000Z');
  assert.deepEqual(comparable(doc), comparable(planned), 'the dry run described this run');

  // every renewed certificate is on disk with the serial and notAfter the document gives, signed as it says
  const renewed = doc.items.filter((i) => i.kind !== 'ca-copy');
  assert.ok(renewed.length >= 10, `${renewed.length} renewed`);
  for (const it of renewed) {
    const got = openssl(onDisk(root, doc, it));
    assert.equal(got.serial, BigInt('0x' + it.new!.serial), `${it.name}: serial`);
    assert.equal(got.notAfter, Date.parse(it.new!.notAfter), `${it.name}: notAfter`);
    assert.notEqual(it.old.serial, it.new!.serial);
    assert.equal(it.key.action, 'keep');
  }
  const admin = renewed.find((i) => i.name === 'admin.conf')!;
  assert.equal(admin.location.kubeconfig?.name, 'kubernetes-admin', 'a kubeconfig\'s user is named');
  assert.deepEqual(typeof admin.signer === 'object' && [admin.signer.name, admin.signer.keyFile], ['ca', '/etc/kubernetes/pki/ca.key']);
  const apiserver = renewed.find((i) => i.name === 'apiserver')!;
  const ca = sh('openssl', ['verify', '-CAfile', path.join(root, 'etc/kubernetes/pki/ca.crt'), path.join(root, apiserver.location.file)]);
  assert.equal(ca.status, 0, ca.stdout + ca.stderr);

  // the files: each written, with the mode it has now; the kubelet's new dated pem created, -current linked to it
  assert.deepEqual([...doc.written].sort(), doc.files.map((f) => f.path).sort());
  for (const f of doc.files) {
    if (f.action === 'link') {
      assert.equal(fs.readlinkSync(path.join(root, f.path)), f.target, f.path);
      continue;
    }
    assert.equal(f.mode, (fs.statSync(path.join(root, f.path)).mode & 0o7777).toString(8).padStart(4, '0'), f.path);
  }
  assert.ok(doc.files.some((f) => f.action === 'create' && f.kind === 'kubelet-pem' && f.mode === '0600'));
  assert.ok(doc.files.some((f) => f.action === 'link' && f.path === '/var/lib/kubelet/pki/kubelet-client-current.pem'));

  // the restarts (not done: no --restart), and the backup with the one command that undoes the run
  assert.deepEqual(doc.restarts.map((x) => [x.component, x.restarted]).sort(), [['etcd', false], ['kube-apiserver', false], ['kube-controller-manager', false], ['kube-scheduler', false], ['kubelet', false]]);
  assert.ok(doc.restarts.every((x) => x.command && x.because.length > 0));
  const backups = listBackups(path.join(root, 'var/lib/kubepki/backups'));
  assert.equal(backups.length, 1);
  assert.equal(doc.backup!.dir, backups[0]!.dir);
  assert.equal(readManifest(doc.backup!.dir).state, 'complete');
  assertNoKeys(dry.out + r.out, root);
  const undo = inShell(root, doc.backup!.restore);
  assert.equal(undo.status, 0, undo.stdout + undo.stderr);
  assert.deepEqual(snapshotTree(root), pristine, 'the document\'s restore put every file back');
});

test('renew -o json, a write fails: the document says what failed and that every file was rolled back (exit 2), the error is one line on stderr', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const before = snapshotTree(root);
  const r = await cli(['renew', 'all', '-o', 'json', '--root', root, '--now', NOW], { KUBEPKI_TEST_FAIL_AT: '21' });
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^kubepki: failed to renew: injected failure at step 21 [^\n]*\n {2}hint: every file was put back as it was [^\n]*\n$/);
  const doc = parse<RenewResult>(r.out, 'RenewResult');
  assert.equal(doc.outcome, 'failed');
  assert.equal(doc.exitCode, 2);
  assert.equal(doc.failure!.state, 'rolled-back');
  assert.match(doc.failure!.message, /^failed to renew: injected failure at step 21/);
  assert.deepEqual(doc.written, [], 'nothing left written');
  assert.equal(doc.backup, undefined, 'no backup to restore: nothing to undo');
  assert.equal(readManifest(doc.failure!.backup!).state, 'rolled-back');
  assert.ok(doc.items.length > 0, 'what it was renewing');
  assert.deepEqual(snapshotTree(root), before);

  // failing in the backup, before any node file: exit 3, and it says nothing was written
  const early = await cli(['renew', 'all', '-o', 'json', '--root', root, '--now', NOW], { KUBEPKI_TEST_FAIL_AT: '1' });
  assert.equal(early.code, 3, early.err);
  assert.match(early.err, /^kubepki: failed to write \S+: EIO\n {2}hint: [^\n]+\n$/);
  const e = parse<RenewResult>(early.out, 'RenewResult');
  assert.deepEqual([e.outcome, e.exitCode, e.failure!.state, e.failure!.backup], ['failed', 3, 'nothing-written', undefined]);
  assert.deepEqual(snapshotTree(root), before);
  assertNoKeys(r.out + early.out, root);
});

test('renew -o json where a CA key is not on the node: partial (exit 1), each certificate not renewed with its reason, advice and the CSR written for it', async () => {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/front-proxy-ca.key'));
  const csrDir = tmp('kubepki-json-csr-');
  const r = await cli(['renew', 'all', '-o', 'json', '--csr-out', csrDir, '--root', root, '--now', NOW]);
  assert.equal(r.code, 1, r.err);
  const doc = parse<RenewResult>(r.out, 'RenewResult');
  assert.deepEqual([doc.outcome, doc.exitCode], ['partial', 1]);
  const fp = doc.notRenewed.find((x) => x.name === 'front-proxy-client')!;
  assert.equal(fp.outcome, 'externally-managed');
  assert.ok(fp.message.length > 0 && (fp.install ?? []).length > 0, JSON.stringify(fp));
  assert.deepEqual(doc.csrs, [fp.csr]);
  const v = sh('openssl', ['req', '-noout', '-verify', '-subject', '-in', fp.csr!]);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout + v.stderr, /CN\s*=\s*front-proxy-client/);
  assert.ok(!doc.items.some((i) => i.name === 'front-proxy-client'), 'not among the renewed');
  assert.ok(doc.items.some((i) => i.name === 'apiserver'), 'the rest renewed');
  assertNoKeys(r.out, root);
});

test('restore -o json: the dry run lists what the restore then puts back; a file changed by something else is refused in the document (exit 3) and put back with --overwrite', async () => {
  const root = copyFixture('kubeadm-1.26');
  const pristine = snapshotTree(root);
  const renew = await cli(['renew', 'all', '--root', root, '--now', NOW]);
  assert.equal(renew.code, 0, renew.err);
  const backup = listBackups(path.join(root, 'var/lib/kubepki/backups'))[0]!;
  fs.appendFileSync(path.join(root, 'etc/kubernetes/admin.conf'), '# edited by hand\n');
  const changed = snapshotTree(root);

  const dry = await cli(['restore', backup.name, '--dry-run', '-o', 'json', '--root', root, '--now', LATER]);
  assert.equal(dry.code, 3, 'the dry run exits as the refused run would');
  const planned = parse<RestoreResult>(dry.out, 'RestoreResult');
  assert.equal(planned.exitCode, 3);
  assert.deepEqual([planned.dryRun, planned.outcome, planned.changedByOthers], [true, 'refused', ['/etc/kubernetes/admin.conf']]);
  assert.deepEqual(snapshotTree(root), changed);

  const refused = await cli(['restore', backup.name, '-o', 'json', '--root', root, '--now', LATER]);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /^kubepki: refusing to restore \S+: 1 file\(s\) changed since that run by something other than kubepki: \/etc\/kubernetes\/admin\.conf; [^\n]*\n {2}hint: [^\n]+\n$/);
  const no = parse<RestoreResult>(refused.out, 'RestoreResult');
  assert.deepEqual([no.outcome, no.exitCode, no.changedByOthers, no.newBackup], ['refused', 3, ['/etc/kubernetes/admin.conf'], undefined]);
  assert.deepEqual(snapshotTree(root), changed, 'nothing written');

  const r = await cli(['restore', backup.name, '--overwrite', '-o', 'json', '--root', root, '--now', LATER]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const doc = parse<RestoreResult>(r.out, 'RestoreResult');
  assert.deepEqual([doc.outcome, doc.exitCode, doc.dryRun], ['restored', 0, false]);
  assert.deepEqual(doc.files, planned.files, 'the dry run listed these files');
  assert.deepEqual(doc.restarts, planned.restarts);
  assert.deepEqual(doc.backup, { dir: backup.dir, action: 'renew', created: '2026-11-23T00:00:00.000Z', state: 'complete' });
  assert.deepEqual(snapshotTree(root), pristine, 'every file as before the renew');
  // the document's files are what changed: written back, the renew's new dated kubelet pem removed, -current re-linked
  for (const f of doc.files) {
    const p = path.join(root, f.path);
    if (f.action === 'remove') assert.ok(!fs.existsSync(p), f.path);
    else if (f.action === 'link') assert.equal(fs.readlinkSync(p), f.target);
    else assert.equal(fs.readFileSync(p, 'latin1'), fs.readFileSync(path.join(backup.dir, 'files', f.path), 'latin1'), f.path);
  }
  assert.ok(doc.files.some((f) => f.action === 'remove' && /kubelet-client-2026-11-23/.test(f.path)));
  assert.deepEqual(doc.restarts.map((x) => x.component).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet']);
  // its own backup, and the command that brings the hand edit (and the renewal) back
  const again = inShell(root, doc.newBackup!.restore, LATER);
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.deepEqual(snapshotTree(root), changed);
  assertNoKeys(dry.out + refused.out + r.out, root);
});

test('restore -o json, a write fails: rolled back, and the document says so (exit 2)', async () => {
  const root = copyFixture('kubeadm-1.26');
  assert.equal((await cli(['renew', 'all', '--root', root, '--now', NOW])).code, 0);
  const backup = listBackups(path.join(root, 'var/lib/kubepki/backups'))[0]!;
  const before = snapshotTree(root);
  const r = await cli(['restore', backup.name, '-o', 'json', '--root', root, '--now', LATER], { KUBEPKI_TEST_FAIL_AT: '20' });
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^kubepki: failed to restore: injected failure at step 20 /);
  const doc = parse<RestoreResult>(r.out, 'RestoreResult');
  assert.deepEqual([doc.outcome, doc.exitCode, doc.failure!.state, doc.newBackup], ['failed', 2, 'rolled-back', undefined]);
  assert.equal(readManifest(doc.failure!.backup!).state, 'rolled-back');
  assert.deepEqual(snapshotTree(root), before);
});
