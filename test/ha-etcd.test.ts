/**
 * A high-availability control plane: three kubeadm control-plane nodes (cp-1..3 on 127.0.0.1..3, a
 * controlPlaneEndpoint load balancer name) made with kubepki's own commands (rebuild on the first,
 * `ca export`/`ca import` and rebuild on the others), a real 3-member etcd cluster started from each
 * node's rebuilt etcd manifest with peer and client certificate authentication, and etcdctl with each
 * node's healthcheck-client and apiserver-etcd-client. Then what operators do to such a cluster:
 * renew one node (new keys, backdated) and restart its etcd; lose one node's /etc/kubernetes and
 * rebuild it from what the others have, so its etcd rejoins with its data; restore a renewal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { parse } from 'yaml';
import { cli, tmp, NOW, copyFixture } from './renew-support.js';
import { freePort } from './support/fixtures.js';
import { makeCa, makeLeaf, put } from './support/trees.js';
import { stopGracefully } from './support/etcd.js';

const ETCD = '/usr/bin/etcd', ETCDCTL = '/usr/bin/etcdctl';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node { i: number; name: string; ip: string; root: string; client: number; peer: number; metrics: number; proc?: ChildProcess; log: string }

const pkiOf = (n: Node) => path.join(n.root, 'etc/kubernetes/pki');

/**
 * The rebuilt etcd manifest's command line, with this test's ports and the tree's paths (each member's
 * https://IP:2379/2380 → its ports); `manifest`: the membership flags as written, else these.
 */
function etcdArgs(n: Node, all: Node[], state: 'new' | 'existing' | 'manifest'): string[] {
  const m = parse(fs.readFileSync(path.join(n.root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8'));
  const ports = (a: string) => all.reduce((x, o) => x.replaceAll(`${o.ip}:2379`, `${o.ip}:${o.client}`).replaceAll(`${o.ip}:2380`, `${o.ip}:${o.peer}`), a);
  const args = (m.spec.containers[0].command as string[]).slice(1)
    .filter((a) => (state === 'manifest' || !a.startsWith('--initial-cluster')) && !a.startsWith('--listen-client-urls=') && !a.startsWith('--listen-metrics-urls='))
    .map((a) => ports(a).replaceAll('/etc/kubernetes', path.join(n.root, 'etc/kubernetes')).replaceAll('/var/lib/etcd', path.join(n.root, 'var/lib/etcd')));
  // (one machine: each member listens on its own address only, as it would on its own host)
  return [...args, `--listen-client-urls=https://${n.ip}:${n.client}`, `--listen-metrics-urls=http://${n.ip}:${n.metrics}`,
    ...(state === 'manifest' ? [] : [`--initial-cluster=${all.map((x) => `${x.name}=https://${x.ip}:${x.peer}`).join(',')}`, `--initial-cluster-state=${state}`, '--initial-cluster-token=kubepki-ha'])];
}

function startEtcd(n: Node, all: Node[], state: 'new' | 'existing' | 'manifest'): void {
  n.log = '';
  const p = spawn(ETCD, etcdArgs(n, all, state), { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (d) => { n.log += d; });
  p.stderr!.on('data', (d) => { n.log += d; });
  n.proc = p;
}

function stopEtcd(n: Node): Promise<void> {
  const p = n.proc;
  n.proc = undefined;
  return stopGracefully(p);
}

/** etcdctl from node `from` with one of its client certificates, against every member. */
function etcdctl(from: Node, all: Node[], cert: 'etcd/healthcheck-client' | 'apiserver-etcd-client', args: string[]): Promise<{ code: number; out: string }> {
  const pki = pkiOf(from);
  return new Promise((resolve) => {
    execFile(ETCDCTL, [
      `--endpoints=${all.map((x) => `https://${x.ip}:${x.client}`).join(',')}`, `--cacert=${pki}/etcd/ca.crt`,
      `--cert=${pki}/${cert}.crt`, `--key=${pki}/${cert}.key`, '--dial-timeout=3s', '--command-timeout=5s', ...args,
    ], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, out: `${stdout}${stderr}` }));
  });
}

/** Every member healthy (a committed proposal through each), asked with node `from`'s healthcheck-client. */
async function waitHealthy(from: Node, all: Node[], what: string): Promise<string> {
  let r = { code: 1, out: '' };
  for (let i = 0; i < 60; i++) {
    r = await etcdctl(from, all, 'etcd/healthcheck-client', ['endpoint', 'health']);
    if (r.code === 0) return r.out;
    await sleep(250);
  }
  assert.fail(`${what}: etcdctl endpoint health from ${from.name}:\n${r.out}\n${all.map((x) => `--- ${x.name}\n${x.log.slice(-1500)}`).join('\n')}`);
}

async function members(from: Node, all: Node[]): Promise<string[]> {
  const r = await etcdctl(from, all, 'apiserver-etcd-client', ['member', 'list']);
  assert.equal(r.code, 0, r.out);
  return r.out.trim().split('\n').map((l) => l.split(', ')[2]!).sort();
}

const REBUILD = (n: Node) => ['rebuild', '--root', n.root, '--now', NOW, '--node-name', n.name, '--advertise-address', n.ip,
  '--control-plane-endpoint', 'lb.example.test:6443', '--kubernetes-version', 'v1.30.2', '--key-type', 'ecdsa-p256', '--validity', '87600h'];

/** `kubepki ca export` on a healthy node, `ca import` on another: the shared CAs and sa.key. */
async function copyShared(from: Node, to: Node, dir: string): Promise<void> {
  const file = path.join(dir, `shared-${from.name}-${to.name}.yaml`);
  const ex = await cli(['ca', 'export', '--root', from.root, '--out', file]);
  assert.equal(ex.code, 0, ex.err);
  const key = /\b([0-9a-f]{64})\b/.exec(ex.out)![1]!;
  const im = await cli(['ca', 'import', file, '--root', to.root, '--certificate-key', key, '--now', NOW]);
  assert.equal(im.code, 0, im.out + im.err);
}

const serial = (file: string) => /serial=(\w+)/.exec(openssl(['x509', '-in', file, '-noout', '-serial']))![1]!.toLowerCase().replace(/^0+/, '');
function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
}

test('HA control plane with a real 3-member etcd: rolling renewal, a member rebuilt from its peers rejoins with its data, restore', { skip: (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed', timeout: 120_000 }, async (t) => {
  const base = tmp('kubepki-ha-');
  const nodes: Node[] = [];
  for (const i of [1, 2, 3]) {
    const root = path.join(base, `n${i}`);
    fs.mkdirSync(root);
    nodes.push({ i, name: `cp-${i}`, ip: `127.0.0.${i}`, root, client: await freePort(), peer: await freePort(), metrics: await freePort(), log: '' });
  }
  const [n1, n2, n3] = nodes as [Node, Node, Node];
  t.after(async () => { for (const n of nodes) await stopEtcd(n); });

  // --- three control-plane nodes: kubeadm init's equivalent on cp-1, the shared material copied to the others
  let r = await cli(REBUILD(n1));
  assert.equal(r.code, 0, r.out + r.err);
  // (kubeadm join --control-plane: every member, --initial-cluster-state=existing; the test starts all three as new)
  const all = nodes.map((x) => `${x.name}=https://${x.ip}:2380`).join(',');
  for (const n of [n2, n3]) {
    await copyShared(n1, n, base);
    r = await cli([...REBUILD(n), '--etcd-initial-cluster', all]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.out, /CREATE +\/etc\/kubernetes\/pki\/(ca|etcd\/ca|front-proxy-ca)\.crt|new rsa|new ecdsa/, 'the shared CAs and sa.key are the imported ones');
  }
  for (const n of nodes) {
    const c = await cli(['check', '--root', n.root, '--now', NOW, '-o', 'json']);
    assert.equal(c.code, 0, c.out);
    const inv = JSON.parse(c.out);
    const row = (name: string) => inv.certificates.find((x: { name: string }) => x.name === name) as { subjectCN: string; sans: { type: string; value: string }[] };
    const sans = (name: string) => row(name).sans.map((x) => `${x.type}:${x.value}`);
    // each member's own names, and the load balancer's in the API server certificate of every node
    for (const c of ['etcd-peer', 'etcd-server']) {
      assert.equal(row(c).subjectCN, n.name);
      assert.ok(sans(c).includes(`ip:${n.ip}`) && sans(c).includes(`dns:${n.name}`), `${n.name}'s ${c}: ${sans(c)}`);
    }
    assert.ok(sans('apiserver').includes('dns:lb.example.test') && sans('apiserver').includes(`ip:${n.ip}`), `${n.name}'s apiserver: ${sans('apiserver')}`);
    assert.ok((inv.findings ?? []).every((f: { severity: string }) => f.severity === 'info'), JSON.stringify(inv.findings));
  }

  // --- a real 3-member etcd from the rebuilt manifests: every node's client certificates are accepted everywhere
  for (const n of nodes) startEtcd(n, nodes, 'new');
  for (const n of nodes) await waitHealthy(n, nodes, `fresh cluster, asked from ${n.name}`);
  assert.deepEqual(await members(n2, nodes), ['cp-1', 'cp-2', 'cp-3']);
  const put = await etcdctl(n1, nodes, 'apiserver-etcd-client', ['put', '/registry/kubepki-ha', 'before']);
  assert.equal(put.code, 0, put.out);

  // --- rolling renewal, node 1: new keys, backdated; etcd re-reads its pairs, a restart takes them for good
  // the restart advice says this etcd is one of three: one node at a time, and how to see every member healthy
  const dry = await cli(['renew', 'all', '--root', n1.root, '--now', NOW, '--dry-run']);
  assert.match(dry.out, /^ {4}\(this etcd is one of 3 members \(cp-1, cp-2, cp-3\): restart etcd on one member's node at a time, and before the next node wait until every member is healthy \(etcdctl --endpoints https:\/\/127\.0\.0\.1:2379 --cacert \/etc\/kubernetes\/pki\/etcd\/ca\.crt --cert \/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.crt --key \/etc\/kubernetes\/pki\/etcd\/healthcheck-client\.key endpoint health --cluster\); with etcd down on more than 1 of 3 at once the cluster loses quorum/m, dry.out);
  const peerBefore = serial(`${pkiOf(n1)}/etcd/peer.crt`);
  r = await cli(['renew', 'all', '--root', n1.root, '--now', NOW, '--new-key', '--backdate', '1h', '--validity', '10y']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}etcd: mv .*\n {4}\(this etcd is one of 3 members/m);
  const backup = /Backup: (\S+)/.exec(r.out)![1]!;
  // restore restarts the same etcd, with the same caution (it was renew's alone)
  const undo = await cli(['restore', backup, '--root', n1.root, '--now', NOW, '--dry-run']);
  assert.equal(undo.code, 0, undo.out + undo.err);
  assert.match(undo.out, /^ {2}etcd \(reads [^\n]*\): mv [^\n]*\n {4}\(this etcd is one of 3 members \(cp-1, cp-2, cp-3\): restart etcd on one member's node at a time/m, undo.out);
  assert.notEqual(serial(`${pkiOf(n1)}/etcd/peer.crt`), peerBefore);
  assert.match(openssl(['x509', '-in', `${pkiOf(n1)}/etcd/peer.crt`, '-noout', '-startdate']), /notBefore=Nov 22 23:00:00 2026 GMT/);
  await stopEtcd(n1);
  await waitHealthy(n2, [n2, n3], 'two of three members while cp-1 restarts');
  startEtcd(n1, nodes, 'new');
  for (const n of nodes) await waitHealthy(n, nodes, `after cp-1's renewal, asked from ${n.name}`);
  for (const [port, name] of [[n1.client, 'etcd-server'], [n1.peer, 'etcd-peer']] as const) {
    const p = await cli(['probe', `${n1.ip}:${port}`, '--root', n1.root, '--now', NOW]);
    assert.equal(p.code, 0, p.out + p.err);
    assert.match(p.out, new RegExp(`matches disk: ${name} `));
  }
  // (another member's endpoint is not this node's file)
  const other = await cli(['probe', `${n2.ip}:${n2.client}`, '--root', n1.root, '--now', NOW]);
  assert.equal(other.code, 1, other.out);

  // --- seed 001/003 on a member: its /etc/kubernetes is gone, /var/lib/etcd is not
  await stopEtcd(n3);
  fs.rmSync(path.join(n3.root, 'etc/kubernetes'), { recursive: true });
  // new CAs here would cut it off from the two others: the etcd data lists them, so rebuild refuses
  r = await cli(REBUILD(n3));
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.err, /refusing to create a new cluster CA, front-proxy CA, etcd CA and sa\.key\/sa\.pub: this node belongs to an existing cluster \(\/var\/lib\/etcd \(this node's etcd data\) lists 3 members \(cp-\d, cp-\d, cp-\d\)/);
  assert.ok(!fs.existsSync(path.join(n3.root, 'etc/kubernetes/pki')), 'nothing written');
  // the way the hint gives: the shared material from a surviving member, then rebuild
  await copyShared(n2, n3, base);
  r = await cli(REBUILD(n3));
  assert.equal(r.code, 0, r.out + r.err);
  // not the kubeadm init node as far as anything here says: no system:masters super-admin.conf (cp-1 made one)
  assert.match(r.out, /SKIP +\/etc\/kubernetes\/super-admin\.conf\n.*one of several control-plane nodes \(this node's etcd data lists 3 members\).*--super-admin/);
  assert.ok(!fs.existsSync(path.join(n3.root, 'etc/kubernetes/super-admin.conf')) && fs.existsSync(path.join(n1.root, 'etc/kubernetes/super-admin.conf')));
  const sa = await cli([...REBUILD(n3), '--super-admin', '--dry-run']);
  assert.match(sa.out, /CREATE +\/etc\/kubernetes\/super-admin\.conf\n.*O=system:masters, CN=kubernetes-super-admin/, sa.out);
  // the manifest lists every member its data knows, and `existing`: wiped later, it cannot bootstrap a new cluster
  assert.match(r.out, /static pod etcd; --initial-cluster=\S*cp-3=https:\/\/127\.0\.0\.3:\d+\S* --initial-cluster-state=existing \(\/var\/lib\/etcd \(this node's etcd data lists 3 members\)\)/);
  startEtcd(n3, nodes, 'manifest');
  for (const n of nodes) await waitHealthy(n, nodes, `cp-3 rebuilt and back, asked from ${n.name}`);
  assert.deepEqual(await members(n3, nodes), ['cp-1', 'cp-2', 'cp-3'], 'the same three members: cp-3 rejoined with its data, not as a new cluster');
  const got = await etcdctl(n3, [n3], 'apiserver-etcd-client', ['get', '/registry/kubepki-ha', '--print-value-only']);
  assert.equal(got.code, 0, got.out);
  assert.equal(got.out.trim(), 'before', 'cp-3 serves the data written before it was lost, through its own rebuilt certificates');

  // --- cp-2 loses /etc/kubernetes AND /var/lib/etcd: a new etcd.yaml would bootstrap an empty one-member cluster
  await stopEtcd(n2);
  fs.rmSync(path.join(n2.root, 'etc/kubernetes'), { recursive: true });
  fs.rmSync(path.join(n2.root, 'var/lib/etcd'), { recursive: true, force: true });
  await waitHealthy(n1, [n1, n3], 'two of three members while cp-2 is lost');
  await copyShared(n3, n2, base);
  r = await cli(REBUILD(n2));
  assert.equal(r.code, 0, r.out + r.err);
  assert.ok(!fs.existsSync(path.join(n2.root, 'etc/kubernetes/manifests/etcd.yaml')), 'no etcd.yaml that could start a new cluster');
  assert.match(r.out, /SKIP +\/etc\/kubernetes\/manifests\/etcd\.yaml\n.*holds no etcd data.*control-plane endpoint lb\.example\.test:6443.*split brain/);
  assert.ok(!fs.existsSync(path.join(n2.root, 'etc/kubernetes/super-admin.conf')), 'nor a super-admin.conf: nothing says cp-2 ran kubeadm init');
  // the printed steps, followed literally on the healthy cp-1 (its ports and tree for 2379 and /etc/kubernetes)
  const onN1 = (line: string) => line.trim().replaceAll('https://127.0.0.1:2379', `https://127.0.0.1:${n1.client}`)
    .replaceAll('/etc/kubernetes', path.join(n1.root, 'etc/kubernetes')).replaceAll('127.0.0.2:2380', `127.0.0.2:${n2.peer}`).split(' ');
  const steps = r.out.split('\n').filter((l) => /^ {6}etcdctl /.test(l)).map(onN1);
  assert.deepEqual(steps.map((x) => x.slice(9).join(' ')), ['member list', 'member remove ID', `member add cp-2 --peer-urls=https://127.0.0.2:${n2.peer}`], r.out);
  // (as the steps say: "unhealthy cluster" right after a leader change is retried)
  const run = (args: string[], tries = 1) => new Promise<string>((resolve) => execFile(ETCDCTL, args.slice(1), { timeout: 20_000 }, (err, o, e) => {
    if (err && tries < 12 && /unhealthy cluster/.test(`${o}${e}`)) { setTimeout(() => resolve(run(args, tries + 1)), 1000); return; }
    if (err) assert.fail(`${args.join(' ')}: ${o}${e}\n${nodes.map((x) => `--- ${x.name}\n${x.log.slice(-3000)}`).join('\n')}`);
    resolve(`${o}${e}`);
  }));
  const list = await run(steps[0]!);
  const id = list.split('\n').find((l) => l.split(', ')[2] === 'cp-2')!.split(', ')[0]!;
  await run(steps[1]!.map((a) => (a === 'ID' ? id : a)));
  const added = await run(steps[2]!);
  const ic = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added)![1]!;
  r = await cli([...REBUILD(n2), '--etcd-initial-cluster', nodes.reduce((x, o) => x.replaceAll(`${o.ip}:${o.peer}`, `${o.ip}:2380`), ic)]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /CREATE +\/etc\/kubernetes\/manifests\/etcd\.yaml\n.*--initial-cluster-state=existing \(flag --etcd-initial-cluster \(3 members\)\)/);
  startEtcd(n2, nodes, 'manifest');
  for (const n of nodes) await waitHealthy(n, nodes, `cp-2 re-added with an empty data dir, asked from ${n.name}`);
  assert.deepEqual(await members(n2, nodes), ['cp-1', 'cp-2', 'cp-3']);
  const got2 = await etcdctl(n2, [n2], 'apiserver-etcd-client', ['get', '/registry/kubepki-ha', '--print-value-only', '--consistency=s']);
  assert.equal(got2.out.trim(), 'before', `cp-2 has the cluster's data again (replicated from the others), not an empty cluster: ${got2.out}`);

  // --- restore of node 1's renewal: etcd comes back with the restored pairs
  r = await cli(['restore', backup, '--root', n1.root, '--now', NOW]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}etcd \(reads .*\/etc\/kubernetes\/pki\/etcd\/peer\.crt/m);
  assert.equal(serial(`${pkiOf(n1)}/etcd/peer.crt`), peerBefore);
  await stopEtcd(n1);
  startEtcd(n1, nodes, 'new');
  for (const n of nodes) await waitHealthy(n, nodes, `after cp-1's restore, asked from ${n.name}`);
  const p = await cli(['probe', `${n1.ip}:${n1.peer}`, '--root', n1.root, '--now', NOW]);
  assert.match(p.out, new RegExp(`matches disk: etcd-peer \\(/etc/kubernetes/pki/etcd/peer\\.crt, serial 0*${peerBefore}\\)`), p.out);
});

// Without anything saying the cluster has other members, a lone node with no etcd data gets kubeadm init's
// one-member etcd.yaml, but not silently when its etcd CA survived (it may have been a member of a cluster);
// --etcd-initial-cluster is checked against this node's member before anything is written.
test('rebuild with no etcd data: a kept etcd CA warns before a new one-member etcd; --etcd-initial-cluster must name this node at its peer URL', async () => {
  const root = tmp('kubepki-etcd-lone-');
  const base = ['rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.30.2', '--key-type', 'ecdsa-p256'];
  let r = await cli(base);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /CREATE +\/etc\/kubernetes\/manifests\/etcd\.yaml\n.*--initial-cluster=cp-1=https:\/\/192\.0\.2\.10:2380 \(this node alone, as kubeadm init writes it\)/);
  assert.doesNotMatch(r.out, /holds no etcd data/, 'a new etcd CA: a new cluster is what this is');
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  r = await cli([...base, '--dry-run']);
  assert.match(r.out, /- \/var\/lib\/etcd holds no etcd data: the new etcd\.yaml starts a new, empty one-member etcd cluster .*member add cp-1 --peer-urls=https:\/\/192\.0\.2\.10:2380.*--etcd-initial-cluster/);
  for (const [v, why] of [
    ['cp-2=https://192.0.2.12:2380', /does not list this node's member cp-1/],
    ['cp-1=https://192.0.2.99:2380,cp-2=https://192.0.2.12:2380', /lists cp-1 at https:\/\/192\.0\.2\.99:2380, but this node's etcd advertises https:\/\/192\.0\.2\.10:2380/],
    ['cp-1', /"cp-1" is not NAME=https:\/\/HOST:PORT/],
  ] as const) {
    r = await cli([...base, '--etcd-initial-cluster', v]);
    assert.equal(r.code, 3, r.out + r.err);
    assert.match(r.err, why);
    assert.ok(!fs.existsSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml')));
  }
});

test('kubespray\'s host etcd, one of 3 members: the one-node-at-a-time advice names no kubeadm healthcheck-client it does not have', { skip: (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && 'etcd/etcdctl not installed', timeout: 60_000 }, async () => {
  // a real 3-member etcd's data (plain HTTP on this machine: only its member list is read)
  const work = tmp('kubepki-ks-etcd-');
  const ports = await Promise.all([0, 1, 2, 3, 4, 5].map(() => freePort()));
  const cluster = [0, 1, 2].map((i) => `m${i + 1}=http://127.0.0.1:${ports[3 + i]}`).join(',');
  const procs = [0, 1, 2].map((i) => spawn(ETCD, [`--name=m${i + 1}`, `--data-dir=${work}/d${i + 1}`, `--listen-client-urls=http://127.0.0.1:${ports[i]}`, `--advertise-client-urls=http://127.0.0.1:${ports[i]}`,
    `--listen-peer-urls=http://127.0.0.1:${ports[3 + i]}`, `--initial-advertise-peer-urls=http://127.0.0.1:${ports[3 + i]}`, `--initial-cluster=${cluster}`, '--initial-cluster-state=new'], { stdio: 'ignore' }));
  try {
    let ok = false;
    for (let i = 0; i < 60 && !ok; i++) {
      ok = spawnSync(ETCDCTL, [`--endpoints=http://127.0.0.1:${ports[0]}`, '--command-timeout=2s', 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } }).status === 0;
      if (!ok) await sleep(250);
    }
    assert.ok(ok, 'the 3-member etcd became healthy');
  } finally {
    // (SIGTERM, as systemd stops etcd: the db then surely lists the three members it answered for)
    await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); }, 15_000).unref();
    })));
  }
  // the node: kubeadm's tree moved to /etc/kubernetes/ssl, etcd under systemd with its certificates in /etc/ssl/etcd/ssl
  const root = copyFixture('kubeadm-1.26');
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
  fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
  fs.rmSync(path.join(root, 'etc/kubernetes/ssl/etcd'), { recursive: true });
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const issued = new Date('2025-12-01T00:00:00Z');
  const ca = await makeCa('etcd-ca', issued, 10000, 'rsa-2048');
  const member = await makeLeaf(ca, 'etcd-member-node1', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'ip', value: '127.0.0.1' }], notBefore: issued, days: 365, keyType: 'rsa-2048' });
  const e = '/etc/ssl/etcd/ssl';
  put(root, `${e}/ca.pem`, ca.pem);
  put(root, `${e}/ca-key.pem`, ca.keyPem, 0o600);
  put(root, `${e}/member-node1.pem`, member.pem);
  put(root, `${e}/member-node1-key.pem`, member.keyPem, 0o600);
  fs.writeFileSync(path.join(root, 'etc/etcd.env'), ['ETCD_DATA_DIR=/var/lib/etcd', `ETCD_CERT_FILE=${e}/member-node1.pem`, `ETCD_KEY_FILE=${e}/member-node1-key.pem`, `ETCD_TRUSTED_CA_FILE=${e}/ca.pem`,
    `ETCD_PEER_CERT_FILE=${e}/member-node1.pem`, `ETCD_PEER_KEY_FILE=${e}/member-node1-key.pem`, `ETCD_PEER_TRUSTED_CA_FILE=${e}/ca.pem`, ''].join('\n'));
  fs.mkdirSync(path.join(root, 'var/lib/etcd/member/snap'), { recursive: true });
  fs.copyFileSync(path.join(work, 'd1/member/snap/db'), path.join(root, 'var/lib/etcd/member/snap/db'));
  const r = await cli(['renew', 'all', '--only-expiring', '--root', root, '--now', '2026-11-23', '--dry-run']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /^ {4}systemctl restart etcd\n {4}\(this etcd is one of 3 members \(m1, m2, m3\): restart etcd on one member's node at a time/m);
  assert.doesNotMatch(r.out, /healthcheck-client|\/etc\/kubernetes\/pki\/etcd/);
  // (kubespray's member pair, from etcd.env: make-ssl-etcd.sh signs it for clientAuth, and kubespray's own health check presents it)
  assert.ok(r.out.includes(`(etcdctl --endpoints https://127.0.0.1:2379 --cacert ${e}/ca.pem --cert ${e}/member-node1.pem --key ${e}/member-node1-key.pem endpoint health --cluster)`), r.out);
});

test('a 2-member etcd (the second control-plane node joined, the third not yet): the restart advice says the one restart already stops every API server, not that one at a time is safe', async () => {
  // (peer certificates still valid: an expired one gets the renew-every-member-first advice, test/ha-openssl.test.ts)
  const root = copyFixture('kubeadm-1.26');
  const manifest = path.join(root, 'etc/kubernetes/manifests/etcd.yaml');
  fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace(/--initial-cluster=\S+/, '--initial-cluster=cp-1=https://192.0.2.10:2380,cp-2=https://192.0.2.12:2380'));
  const dry = await cli(['renew', 'all', '--root', root, '--now', NOW, '--dry-run']);
  assert.equal(dry.code, 0, dry.out + dry.err);
  const caution = /^ {4}\((this etcd is one of 2 members[^\n]*)\)$/m.exec(dry.out)?.[1];
  assert.ok(caution, dry.out);
  assert.match(caution, /^this etcd is one of 2 members \(cp-1, cp-2\): two members tolerate none down, so while this one restarts etcd has no quorum and every API server stops until it is back; /);
  assert.doesNotMatch(caution, /more than 0 of 2/);
  assert.match(caution, /wait until every member is healthy \(etcdctl .* endpoint health --cluster\)/);
});
