/**
 * `rm -rf /etc/kubernetes` leaves /var/lib/etcd, whose database holds the cluster's kubeadm-config ConfigMap:
 * rebuild reads its ClusterConfiguration offline (the API server is down) and takes the settings nothing else
 * left on the node says (certSANs, controlPlaneEndpoint, networking, kubernetesVersion, extraArgs).
 *
 * A real etcd is given the ConfigMaps as apiserver stores them, through etcdctl, then stopped; its data
 * directory becomes the node tree's /var/lib/etcd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { openRoot } from '../src/fs/node-fs.js';
import { readEtcdKeys } from '../src/rebuild/etcd-kv.js';
import { readEtcdClusterConfig, KUBEADM_CONFIG_KEY, CLUSTER_INFO_KEY } from '../src/rebuild/etcd-cluster-config.js';
import { ETCD, ETCDCTL, runEtcd } from './support/etcd.js';
import { freePort, opensslOk, tmpDir } from './support/fixtures.js';
import { copyFixture, NOW } from './rebuild-support.js';

const skip = (!fs.existsSync(ETCD) || !fs.existsSync(ETCDCTL)) && `no ${ETCD} or ${ETCDCTL}`;

// --- protobuf, as https://protobuf.dev/programming-guides/encoding/ writes it
function varint(n: number): Buffer {
  const out: number[] = [];
  do { out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)); n = Math.floor(n / 128); } while (n > 0);
  return Buffer.from(out);
}
/** a length-delimited field (wire type 2) */
const ld = (field: number, v: Buffer | string) => { const b = Buffer.from(v); return Buffer.concat([varint((field << 3) | 2), varint(b.length), b]); };

/**
 * A ConfigMap as apiserver stores it by default: "k8s\0" (apimachinery pkg/runtime/serializer/protobuf/protobuf.go)
 * + runtime.Unknown (pkg/runtime/generated.proto: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2) whose raw is a
 * v1.ConfigMap (api core/v1/generated.proto: metadata = 1 {ObjectMeta name = 1, namespace = 3}, data = 2, each
 * entry of the map a message {key = 1, value = 2}). contentEncoding = 3 and contentType = 4 are there, empty, as
 * apiserver writes them (gogo-protobuf's generated Marshal writes a non-nullable proto2 string even when empty).
 */
function configMapProtobuf(namespace: string, name: string, data: Record<string, string>): Buffer {
  const meta = Buffer.concat([ld(1, name), ld(3, namespace)]);
  const cm = Buffer.concat([ld(1, meta), ...Object.entries(data).map(([k, v]) => ld(2, Buffer.concat([ld(1, k), ld(2, v)])))]);
  return Buffer.concat([Buffer.from('k8s\x00', 'latin1'), ld(1, Buffer.concat([ld(1, 'v1'), ld(2, 'ConfigMap')])), ld(2, cm), ld(3, ''), ld(4, '')]);
}

/** the same with --storage-media-type=application/json */
function configMapJson(namespace: string, name: string, data: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace, uid: 'b3f1c3f4-0000-4000-8000-000000000001' }, data }) + '\n');
}

function clusterConfiguration(o: { version: string; sans: string[]; endpoint: string; serviceSubnet: string; dnsDomain: string; audit?: string }): string {
  return [
    'apiServer:',
    '  certSANs:', ...o.sans.map((s) => `  - ${s}`),
    ...(o.audit ? ['  extraArgs:', `    audit-log-maxage: "${o.audit}"`] : []),
    '  timeoutForControlPlane: 4m0s',
    'apiVersion: kubeadm.k8s.io/v1beta3',
    'certificatesDir: /etc/kubernetes/pki',
    'clusterName: kubernetes',
    `controlPlaneEndpoint: ${o.endpoint}`,
    'controllerManager: {}',
    'dns: {}',
    'etcd:',
    '  local:',
    '    dataDir: /var/lib/etcd',
    'imageRepository: registry.k8s.io',
    'kind: ClusterConfiguration',
    `kubernetesVersion: ${o.version}`,
    'networking:',
    `  dnsDomain: ${o.dnsDomain}`,
    '  podSubnet: 10.244.0.0/16',
    `  serviceSubnet: ${o.serviceSubnet}`,
    'scheduler: {}',
    '',
  ].join('\n');
}

const FIRST = clusterConfiguration({ version: 'v1.26.1', sans: ['old-lb.example.test'], endpoint: 'old-lb.example.test:6443', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' });
const LATEST = clusterConfiguration({ version: 'v1.26.3', sans: ['lb.example.test', '192.0.2.50'], endpoint: 'lb.example.test:6443', serviceSubnet: '10.100.0.0/16', dnsDomain: 'corp.example', audit: '7' });

/** A real etcd on `dataDir`: `ops` put (value on stdin: etcdctl reads it there when not given) and delete keys; stopped with SIGTERM after. */
async function withEtcd(dataDir: string, ops: (put: (key: string, value: Buffer) => void, del: (key: string) => void) => void): Promise<void> {
  const [client, peer] = [await freePort(), await freePort()];
  const etcd = await runEtcd([
    '--name', 'cp-1', '--data-dir', dataDir,
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `cp-1=http://127.0.0.1:${peer}`,
  ]);
  try {
    const ctl = (args: string[], input?: Buffer) => {
      const r = spawnSync(ETCDCTL, [`--endpoints=http://127.0.0.1:${client}`, ...args], { input, env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
      assert.equal(r.status, 0, `etcdctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    };
    ops((key, value) => ctl(['put', key], value), (key) => ctl(['del', key]));
  } finally {
    await etcd.stop();
  }
}

/** A kubeadm node (the 1.26 fixture: kubelet's config, flags and client certificate) after rm -rf /etc/kubernetes, with `etcdData` as its /var/lib/etcd. */
function nodeWithoutEtcKubernetes(etcdData: string): string {
  const root = copyFixture('kubeadm-1.26');
  fs.rmSync(path.join(root, 'etc/kubernetes'), { recursive: true });
  fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
  fs.cpSync(etcdData, path.join(root, 'var/lib/etcd'), { recursive: true });
  return root;
}

/** The dry-run's settings table: each setting's value and source. */
function settings(out: string): Map<string, { value: string; source: string }> {
  const table = out.slice(out.indexOf('Settings (value, and where it came from):'), out.indexOf('\n\n'));
  const m = new Map<string, { value: string; source: string }>();
  for (const line of table.split('\n').slice(1)) {
    const x = /^ {2}(\S+)\s+(\S+)\s+(.*)$/.exec(line);
    if (x) m.set(x[1]!, { value: x[2]!, source: x[3]! });
  }
  return m;
}

const dryRun = async (root: string, extra: string[] = []) => {
  const io = memoryIo();
  const code = await run(['rebuild', '--root', root, '--now', NOW, '--advertise-address', '127.0.0.2', '--dry-run', ...extra], io);
  return { code, out: io.out, err: io.err };
};

test('rebuild takes the cluster\'s ClusterConfiguration from the kubeadm-config ConfigMap in /var/lib/etcd (its latest revision), and apiserver.crt gets its certSANs', { skip }, async () => {
  const data = path.join(tmpDir('kubepki-etcd-cfg-'), 'etcd');
  const work = tmpDir('kubepki-etcd-ca-');
  // cluster-info's CA: a CA made here, which a ca.crt on the node is compared with
  const caKey = path.join(work, 'ca.key'), caCrt = path.join(work, 'ca.crt');
  opensslOk(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCrt, '-subj', '/CN=kubernetes', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature,keyEncipherment']);
  const clusterInfo = `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${fs.readFileSync(caCrt).toString('base64')}\n    server: https://lb.example.test:6443\n  name: ""\ncontexts: null\ncurrent-context: ""\nkind: Config\npreferences: {}\nusers: null\n`;
  await withEtcd(data, (put) => {
    put(KUBEADM_CONFIG_KEY, configMapProtobuf('kube-system', 'kubeadm-config', { ClusterConfiguration: FIRST }));
    put(CLUSTER_INFO_KEY, configMapProtobuf('kube-public', 'cluster-info', { kubeconfig: clusterInfo }));
    put('/registry/configmaps/kube-system/kube-proxy', configMapProtobuf('kube-system', 'kube-proxy', { 'config.conf': 'kind: KubeProxyConfiguration\n' }));
    put(KUBEADM_CONFIG_KEY, configMapProtobuf('kube-system', 'kubeadm-config', { ClusterConfiguration: LATEST }));
    // written after it: the scan from the newest revision back passes over them (a value of 300 KB: overflow pages)
    put('/registry/configmaps/default/big', configMapProtobuf('default', 'big', { blob: 'x'.repeat(300_000) }));
    put('/registry/leases/kube-system/kube-scheduler', Buffer.from('k8s\x00lease', 'latin1'));
  });

  // the reader itself: the latest revision wins, revisions are etcd's
  const nfs = openRoot(path.dirname(data));
  const keys = readEtcdKeys(nfs, '/etcd', [KUBEADM_CONFIG_KEY, CLUSTER_INFO_KEY, '/registry/configmaps/kube-system/never-written']);
  assert.ok(keys && 'found' in keys && !keys.incomplete, JSON.stringify(keys));
  const cfg = keys.found.get(KUBEADM_CONFIG_KEY)!;
  assert.equal(cfg.deleted, false);
  assert.ok(cfg.value.includes('lb.example.test:6443') && !cfg.value.includes('old-lb'));
  assert.ok(cfg.revision > keys.found.get(CLUSTER_INFO_KEY)!.revision, 'the update came after cluster-info');
  assert.equal(keys.found.has('/registry/configmaps/kube-system/never-written'), false);
  // a budget too small for what was written after the ConfigMap: it stops, and says so
  const small = readEtcdClusterConfig(nfs, '/etcd', { bytes: 64 << 10, pages: 4096, pageBytes: 64 << 20, ms: 15_000 });
  assert.equal(small?.kubeadm, undefined);
  assert.equal(small?.warnings.length, 1);
  assert.match(small!.warnings[0]!, /^\/etcd\/member\/snap\/db: stopped after reading [\d.]+ KiB \(too much to read; the budget is 64 KiB and 15 s\); the cluster's kubeadm-config ConfigMap in it was not read, so the settings come from the rest of the node \(pass --config with a copy of its ClusterConfiguration if one is kept elsewhere\)$/);

  // rm -rf /etc/kubernetes: the settings come from etcd's kubeadm-config, revision shown
  const root = nodeWithoutEtcKubernetes(data);
  const { code, out, err } = await dryRun(root);
  assert.equal(code, 0, err + out);
  const s = settings(out);
  const label = `/var/lib/etcd/member/snap/db (kube-system/kubeadm-config, revision ${cfg.revision})`;
  assert.deepEqual(s.get('certSANs'), { value: 'lb.example.test,192.0.2.50', source: `${label} (ClusterConfiguration.apiServer.certSANs)` });
  assert.deepEqual(s.get('controlPlaneEndpoint'), { value: 'lb.example.test:6443', source: `${label} (ClusterConfiguration.controlPlaneEndpoint)` });
  assert.deepEqual(s.get('serviceSubnet'), { value: '10.100.0.0/16', source: `${label} (ClusterConfiguration.networking.serviceSubnet)` });
  assert.deepEqual(s.get('kubernetesVersion'), { value: 'v1.26.3', source: `${label} (ClusterConfiguration.kubernetesVersion)` });
  // the ConfigMap's dnsDomain over the kubelet's clusterDomain, which the fixture leaves at cluster.local
  assert.deepEqual(s.get('dnsDomain'), { value: 'corp.example', source: `${label} (ClusterConfiguration.networking.dnsDomain)` });
  assert.match(out, /^ {2}dnsDomain +cluster\.local +\/var\/lib\/kubelet\/config\.yaml \(clusterDomain\)$/m);
  // this node's own name still comes from the node: the ConfigMap has no InitConfiguration
  assert.equal(s.get('nodeName')?.value, 'cp-1');
  assert.doesNotMatch(out, /old-lb|v1\.26\.1/);
  assert.doesNotMatch(out, /no extra apiserver SANs found|no control-plane endpoint found/);
  // its extraArgs go to the manifest, as a config file's do
  assert.match(out, /apiServer\.extraArgs \(audit-log-maxage\)/);

  // for real: apiserver.crt carries the ConfigMap's SANs, and the manifest its extraArgs
  const io = memoryIo();
  assert.equal(await run(['rebuild', '--root', root, '--now', NOW, '--advertise-address', '127.0.0.2'], io), 0, io.err + io.out);
  const text = opensslOk(['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(root, 'etc/kubernetes/pki/apiserver.crt')]);
  for (const san of ['DNS:lb.example.test', 'IP Address:192.0.2.50', 'IP Address:10.100.0.1', 'DNS:kubernetes.default.svc.corp.example', 'IP Address:127.0.0.2']) assert.ok(text.includes(san), `${san} in ${text}`);
  assert.ok(!text.includes('old-lb'), text);
  const manifest = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(manifest, /- --audit-log-maxage=7$/m);
  assert.match(manifest, /image: registry\.k8s\.io\/kube-apiserver:v1\.26\.3$/m);
  assert.match(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8'), /server: https:\/\/lb\.example\.test:6443$/m);

  // cluster-info's CA against a ca.crt on the node: the same says nothing, another is warned of
  const sameCa = nodeWithoutEtcKubernetes(data);
  fs.mkdirSync(path.join(sameCa, 'etc/kubernetes/pki'), { recursive: true });
  fs.copyFileSync(caCrt, path.join(sameCa, 'etc/kubernetes/pki/ca.crt'));
  fs.copyFileSync(caKey, path.join(sameCa, 'etc/kubernetes/pki/ca.key'));
  const same = await dryRun(sameCa);
  assert.equal(same.code, 0, same.err);
  assert.doesNotMatch(same.out + same.err, /is not the cluster's CA/);
  // (the CA rebuild made above is a new one)
  const clusterCaHash = new X509Certificate(fs.readFileSync(caCrt)).fingerprint256.replaceAll(':', '').toLowerCase().slice(0, 16);
  const other = await dryRun(root);
  assert.equal(other.code, 0, other.err);
  assert.match(other.out, new RegExp(`/etc/kubernetes/pki/ca\\.crt is not the cluster's CA: /var/lib/etcd/member/snap/db \\(kube-public/cluster-info, revision \\d+\\) \\(data\\.kubeconfig\\) holds "CN=kubernetes" \\(SHA-256 ${clusterCaHash}…\\), while /etc/kubernetes/pki/ca\\.crt is "CN=kubernetes" \\(SHA-256 (?!${clusterCaHash})[0-9a-f]{16}…\\)`));
});

test('a kubeadm-config deleted (its tombstone after it) is not used; one stored as JSON is, and says what the cluster does not have', { skip }, async () => {
  const deleted = path.join(tmpDir('kubepki-etcd-cfg-'), 'etcd');
  await withEtcd(deleted, (put, del) => {
    put(KUBEADM_CONFIG_KEY, configMapProtobuf('kube-system', 'kubeadm-config', { ClusterConfiguration: LATEST }));
    del(KUBEADM_CONFIG_KEY);
    put('/registry/configmaps/kube-system/other', configMapProtobuf('kube-system', 'other', { a: 'b' }));
  });
  const kv = readEtcdKeys(openRoot(path.dirname(deleted)), '/etcd', [KUBEADM_CONFIG_KEY]);
  assert.ok(kv && 'found' in kv);
  assert.equal(kv.found.get(KUBEADM_CONFIG_KEY)?.deleted, true);
  const gone = await dryRun(nodeWithoutEtcKubernetes(deleted), ['--kubernetes-version', 'v1.26.1']);
  assert.equal(gone.code, 0, gone.err);
  assert.doesNotMatch(gone.out, /lb\.example\.test|kubeadm-config/);
  assert.match(gone.out, /no extra apiserver SANs found on the node/);

  // stored as JSON (--storage-media-type=application/json), and without certSANs or controlPlaneEndpoint: the
  // cluster has none, which is a finding rather than a gap to warn of
  const json = path.join(tmpDir('kubepki-etcd-cfg-'), 'etcd');
  const bare = LATEST.split('\n').filter((l) => !/certSANs|^  - |controlPlaneEndpoint/.test(l)).join('\n');
  assert.doesNotMatch(bare, /lb\.example\.test|192\.0\.2\.50/);
  await withEtcd(json, (put) => { put(KUBEADM_CONFIG_KEY, configMapJson('kube-system', 'kubeadm-config', { ClusterConfiguration: bare })); });
  const r = await dryRun(nodeWithoutEtcKubernetes(json));
  assert.equal(r.code, 0, r.err);
  const s = settings(r.out);
  const label = /^\/var\/lib\/etcd\/member\/snap\/db \(kube-system\/kubeadm-config, revision \d+\)/.exec(s.get('kubernetesVersion')?.source ?? '')?.[0];
  assert.ok(label, r.out);
  assert.deepEqual(s.get('kubernetesVersion'), { value: 'v1.26.3', source: `${label} (ClusterConfiguration.kubernetesVersion)` });
  assert.deepEqual(s.get('serviceSubnet'), { value: '10.100.0.0/16', source: `${label} (ClusterConfiguration.networking.serviceSubnet)` });
  assert.deepEqual(s.get('certSANs'), { value: '(none)', source: `${label} (no apiServer.certSANs)` });
  assert.deepEqual(s.get('controlPlaneEndpoint'), { value: '(none)', source: `${label} (no controlPlaneEndpoint)` });
  assert.doesNotMatch(r.out, /no extra apiserver SANs found|no control-plane endpoint found/);
});

test('a kubeadm-config encrypted at rest is said once and left out; a damaged database is warned of, and rebuild goes on from the rest', { skip }, async () => {
  const enc = path.join(tmpDir('kubepki-etcd-cfg-'), 'etcd');
  // apiserver's aescbc provider writes k8s:enc:aescbc:v1:<key name>: and the ciphertext (value/encrypt/aes)
  const sealed = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), Buffer.from([0x00, 0x9f, 0x13, 0xee, 0x41, 0x00, 0x7a])]);
  await withEtcd(enc, (put) => {
    put(KUBEADM_CONFIG_KEY, sealed);
    put(CLUSTER_INFO_KEY, sealed);
    // (more than a quarter page: bbolt gives the key bucket a page of its own, bucket.go inlineable)
    put('/registry/configmaps/kube-system/kube-proxy', configMapProtobuf('kube-system', 'kube-proxy', { 'config.conf': 'x'.repeat(3000) }));
  });
  const r = await dryRun(nodeWithoutEtcKubernetes(enc), ['--kubernetes-version', 'v1.26.1']);
  assert.equal(r.code, 0, r.err);
  const warnings = r.out.split('\n').filter((l) => l.includes('encrypted at rest'));
  assert.deepEqual(warnings, [
    "  - /var/lib/etcd/member/snap/db: kube-system/kubeadm-config (k8s:enc:aescbc) and kube-public/cluster-info (k8s:enc:aescbc) are encrypted at rest and cannot be read without the apiserver's encryption key; going on without them (pass --config with a copy of kubeadm-config's ClusterConfiguration if one is kept elsewhere)",
  ]);
  assert.equal(settings(r.out).get('kubernetesVersion')?.source, 'flag --kubernetes-version');

  // a damaged database (its key bucket's pages overwritten): a warning, and the settings from the rest of the node
  const damaged = nodeWithoutEtcKubernetes(enc);
  const db = path.join(damaged, 'var/lib/etcd/member/snap/db');
  const bytes = fs.readFileSync(db);
  const ps = bytes.readUInt32LE(16 + 8);
  for (let off = 2 * ps; off < bytes.length; off += ps) bytes.fill(0xa5, off + 16, off + ps);
  fs.writeFileSync(db, bytes);
  const d = await dryRun(damaged, ['--kubernetes-version', 'v1.26.1', '--new-ca']);
  assert.equal(d.code, 0, d.err + d.out);
  assert.match(d.out, /\/var\/lib\/etcd\/member\/snap\/db: cannot read the etcd database \([^)]+\); the cluster's kubeadm-config ConfigMap in it was not read, so the settings come from the rest of the node \(pass --config with a copy of its ClusterConfiguration if one is kept elsewhere\)$/m);
  assert.equal(settings(d.out).get('nodeName')?.value, 'cp-1');

  // only the key bucket's root page damaged (bbolt page.go: 16-byte header, then elements): the member list still
  // reads (a lone member, so no --new-ca), the ConfigMap does not, and the warning says where the scan stopped
  const keyOnly = nodeWithoutEtcKubernetes(enc);
  const db2 = path.join(keyOnly, 'var/lib/etcd/member/snap/db');
  const b = fs.readFileSync(db2);
  const meta = [0, ps].map((o) => ({ txid: b.readBigUInt64LE(o + 16 + 48), root: Number(b.readBigUInt64LE(o + 16 + 16)) })).sort((x, y) => (x.txid > y.txid ? -1 : 1))[0]!;
  const rootPage = meta.root * ps;
  let keyRoot = 0;
  for (let i = 0; i < b.readUInt16LE(rootPage + 10); i++) {
    const e = rootPage + 16 + i * 16;
    const k = e + b.readUInt32LE(e + 4);
    if (b.subarray(k, k + b.readUInt32LE(e + 8)).toString() === 'key') keyRoot = Number(b.readBigUInt64LE(k + b.readUInt32LE(e + 8)));
  }
  assert.ok(keyRoot > 1, 'the key bucket has a page of its own');
  b.fill(0xa5, keyRoot * ps + 16, keyRoot * ps + ps);
  fs.writeFileSync(db2, b);
  const k = await dryRun(keyOnly, ['--kubernetes-version', 'v1.26.1']);
  assert.equal(k.code, 0, k.err + k.out);
  assert.match(k.out, /^ {2}- \/var\/lib\/etcd\/member\/snap\/db: damaged pages \([^)]+\); the cluster's kubeadm-config ConfigMap in it was not read, so the settings come from the rest of the node \(pass --config with a copy of its ClusterConfiguration if one is kept elsewhere\)$/m);
  assert.doesNotMatch(k.out, /member list cannot be read|encrypted at rest/);
});
