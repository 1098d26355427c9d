/**
 * A real etcd (Go TLS) starts from the rebuilt pki/etcd with the command line
 * of the rebuilt etcd manifest, and etcdctl with the rebuilt
 * healthcheck-client is healthy; a peer-TLS request with the rebuilt peer
 * certificate is answered.
 *
 * The node is rebuilt with advertise address 127.0.0.2 (a loopback address
 * Linux answers on without configuration) so etcd can bind the advertise URLs;
 * only ports, /etc/kubernetes/pki and /var/lib/etcd are rewritten for the temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import https from 'node:https';
import { spawn, execFile } from 'node:child_process';
import { parse } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { tmpDir, NOW } from './rebuild-support.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

function execFileP(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const keyType of ['rsa-2048', 'ecdsa-p256']) test(`etcd starts from the rebuilt pki/etcd (${keyType}) with the rebuilt manifest command line; etcdctl healthcheck-client is healthy`, { skip: !fs.existsSync('/usr/bin/etcd') && 'no /usr/bin/etcd' }, async (t) => {
  const root = tmpDir();
  const io = memoryIo();
  const code = await run(['rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '127.0.0.2', '--kubernetes-version', 'v1.26.1', '--key-type', keyType], io);
  assert.equal(code, 0, io.err);

  const manifest = parse(fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8'));
  const [client, peer, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
  const pki = path.join(root, 'etc/kubernetes/pki');
  const dataDir = path.join(root, 'var/lib/etcd');
  const args = (manifest.spec.containers[0].command as string[]).slice(1).map((a) => a
    .replaceAll(':2379', `:${client}`).replaceAll(':2380', `:${peer}`).replaceAll(':2381', `:${metrics}`)
    .replaceAll('/etc/kubernetes/pki', pki).replaceAll('/var/lib/etcd', dataDir));
  assert.ok(args.includes('--client-cert-auth=true') && args.includes('--peer-client-cert-auth=true'));
  assert.ok(args.includes(`--cert-file=${pki}/etcd/server.crt`) && args.includes(`--peer-cert-file=${pki}/etcd/peer.crt`));

  const etcd = spawn('/usr/bin/etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  etcd.stdout.on('data', (d) => { log += d; });
  etcd.stderr.on('data', (d) => { log += d; });
  t.after(() => { etcd.kill('SIGKILL'); });

  const ctlArgs = [
    `--endpoints=https://127.0.0.1:${client}`, `--cacert=${pki}/etcd/ca.crt`,
    `--cert=${pki}/etcd/healthcheck-client.crt`, `--key=${pki}/etcd/healthcheck-client.key`, 'endpoint', 'health',
  ];
  let health = { code: 1, out: '' };
  for (let i = 0; i < 60; i++) {
    health = await execFileP('/usr/bin/etcdctl', ctlArgs);
    if (health.code === 0 || etcd.exitCode !== null) break;
    await sleep(250);
  }
  assert.equal(health.code, 0, `etcdctl: ${health.out}\netcd log:\n${log.slice(-3000)}`);
  assert.match(health.out, /is healthy/);

  // Peer TLS: the peer listener demands a client certificate from the etcd CA; the rebuilt peer cert gets an answer.
  const members = await new Promise<string>((resolve, reject) => {
    https.get({
      host: '127.0.0.2', port: peer, path: '/members',
      ca: fs.readFileSync(`${pki}/etcd/ca.crt`), cert: fs.readFileSync(`${pki}/etcd/peer.crt`), key: fs.readFileSync(`${pki}/etcd/peer.key`),
    }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); }).on('error', reject);
  });
  assert.match(members, /"name":"cp-1"/);

  // And a client certificate from another CA (the apiserver's, signed by ca) is refused by Go's TLS.
  const foreign = await execFileP('/usr/bin/etcdctl', [
    `--endpoints=https://127.0.0.1:${client}`, `--cacert=${pki}/etcd/ca.crt`,
    `--cert=${pki}/apiserver-kubelet-client.crt`, `--key=${pki}/apiserver-kubelet-client.key`, '--dial-timeout=2s', '--command-timeout=3s', 'endpoint', 'health',
  ]);
  assert.notEqual(foreign.code, 0);

  // a lone member: its restart needs no one-node-at-a-time advice (a 3-member cluster's does: ha-etcd.test.ts)
  const rio = memoryIo();
  assert.equal(await run(['renew', 'etcd-peer', '--root', root, '--now', NOW, '--dry-run'], rio), 0, rio.err);
  assert.match(rio.out, /^ {2}etcd \(static pod; reads \/etc\/kubernetes\/pki\/etcd\/peer\.crt\)$/m);
  assert.doesNotMatch(rio.out, /members/);

  // a lone member's data is no sign of other members: after rm -rf /etc/kubernetes a rebuild may make new CAs
  // (a 3-member cluster's data makes it refuse: ha-etcd.test.ts), also with either of its two meta pages damaged.
  // etcd is stopped as the kubelet stops a static pod whose manifest went with /etc/kubernetes: SIGTERM, then
  // its exit. (SIGKILL right after the health check could beat etcd's first backend commit, which batches
  // writes for up to 100 ms: the db would then hold no member list yet, as no node's db does after a clean stop.)
  const exited = new Promise((resolve) => { if (etcd.exitCode !== null || etcd.signalCode !== null) resolve(undefined); else etcd.once('exit', resolve); });
  etcd.kill('SIGTERM');
  // (the fallback's timer unref'd: left pending, it kept the test process alive 15 s after the tests ended)
  const fallback = setTimeout(() => etcd.kill('SIGKILL'), 15_000).unref();
  await exited;
  clearTimeout(fallback);
  fs.rmSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  const again = ['rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '127.0.0.2', '--kubernetes-version', 'v1.26.1', '--dry-run'];
  const db = path.join(dataDir, 'member/snap/db');
  const intact = fs.readFileSync(db);
  assert.ok(intact.length > 0);
  for (const damage of [undefined, (b: Buffer) => { const c = Buffer.from(b); c.fill(0xff, 4096, 8192); return c; }, (b: Buffer) => { const c = Buffer.from(b); c.fill(0xff, 0, 4096); return c; }]) {
    if (damage) fs.writeFileSync(db, damage(intact));
    const dio = memoryIo();
    assert.equal(await run(again, dio), 0, dio.err);
    assert.match(dio.out, /CREATE +\/etc\/kubernetes\/pki\/etcd\/ca\.crt/);
  }
  // but a database whose member list cannot be read is no sign of a lone member either: on one of three
  // members new CAs would cut it off, so rebuild refuses until --new-ca says this node is alone
  const refused = async (why: RegExp) => {
    const dio = memoryIo();
    assert.notEqual(await run(again, dio), 0, dio.out.slice(0, 2000));
    assert.match(dio.err, /refusing to create a new cluster CA, front-proxy CA, etcd CA and sa\.key\/sa\.pub: this node belongs to an existing cluster \(\/var\/lib\/etcd holds etcd data whose member list cannot be read \(\/var\/lib\/etcd\/member\/snap\/db: [^)]+\), so this node may be one of several members[;)]/);
    assert.match(dio.err, why);
    assert.doesNotMatch(dio.err, /\n\s+at /);
    const forced = memoryIo();
    assert.equal(await run([...again, '--new-ca'], forced), 0, forced.err);
    assert.match(forced.out, /CREATE +\/etc\/kubernetes\/pki\/etcd\/ca\.crt/);
  };
  fs.writeFileSync(db, intact.subarray(0, 5000));
  await refused(/db: page beyond the end\)/);
  fs.writeFileSync(db, Buffer.alloc(0));
  await refused(/db: no valid bbolt meta page\)/);
  // a members bucket that lists nobody (its page's element count zeroed): etcd always lists itself
  {
    const ps0 = intact.readUInt32LE(16 + 8);
    const meta = [0, ps0].map((o) => ({ txid: intact.readBigUInt64LE(o + 16 + 48), root: Number(intact.readBigUInt64LE(o + 16 + 16)) })).sort((a, b) => (a.txid > b.txid ? -1 : 1))[0]!;
    const emptied = Buffer.from(intact);
    const leaf = meta.root * ps0;
    assert.equal(emptied.readUInt16LE(leaf + 8) & 0x02, 0x02, 'the root bucket is one leaf page');
    let done = false;
    for (let i = 0; i < emptied.readUInt16LE(leaf + 10); i++) {
      const e = leaf + 16 + i * 16;
      const k = e + emptied.readUInt32LE(e + 4);
      if (emptied.subarray(k, k + emptied.readUInt32LE(e + 8)).toString() !== 'members') continue;
      const v = k + emptied.readUInt32LE(e + 8);
      const sub = Number(emptied.readBigUInt64LE(v));
      emptied.writeUInt16LE(0, (sub === 0 ? v + 16 : sub * ps0) + 10);
      done = true;
    }
    assert.ok(done, 'found the members bucket');
    fs.writeFileSync(db, emptied);
    await refused(/db: no members listed\)/);
  }

  // reading it is bounded: a root page whose header claims an overflow of 1.5 GiB (a sparse file here) is
  // damage, not 3 GiB to read into memory
  const ps = intact.readUInt32LE(16 + 8);
  const metas = [0, ps].map((o) => ({ txid: intact.readBigUInt64LE(o + 16 + 48), root: Number(intact.readBigUInt64LE(o + 16 + 16)) }));
  const rootPage = metas.sort((a, b) => (a.txid > b.txid ? -1 : 1))[0]!.root;
  const big = Buffer.from(intact);
  big.writeUInt32LE(Math.floor(1.5 * 2 ** 30 / ps), rootPage * ps + 12);
  fs.writeFileSync(db, big);
  fs.truncateSync(db, 1.5 * 2 ** 30 + ps);
  const rssBefore = process.resourceUsage().maxRSS;
  await refused(/db: too much to read\)/);
  assert.ok(process.resourceUsage().maxRSS - rssBefore < 512 * 1024, `max RSS grew by ${process.resourceUsage().maxRSS - rssBefore} KiB`);
  fs.rmSync(db);
});
