import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { renderManifest, MANIFEST_NAMES } from '../src/manifests/static-pods.js';
import { apiserverSans, etcdSans, firstServiceIp, dedupSans, controlPlaneEndpointUrl, type ClusterFacts } from '../src/profiles/rebuild.js';
import { parseKubeadmConfig, settingsFromKubeadmConfig } from '../src/rebuild/kubeadm-config.js';
import { apiServerUrl } from '../src/rebuild/node-files.js';
import { NodeFs } from '../src/fs/node-fs.js';
import {
  KUBEADM_126, NOW, copyFixture, deleteAllButManifests, tmpDir, opensslFields, opensslVerify, PKI_CERTS, KUBECONFIGS, kubeconfigClientPem,
} from './rebuild-support.js';

const FIXTURE_PKI = path.join(KUBEADM_126, 'etc/kubernetes/pki');

const FACTS: ClusterFacts & { podSubnet: string; imageRepository: string; etcdImage: string; etcdDataDir: string; certificatesDir: string } = {
  nodeName: 'cp-1', advertiseAddress: '192.0.2.10', bindPort: 6443, controlPlaneEndpoint: 'cluster-api.example.test:6443',
  serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local', certSANs: ['cluster-api.example.test', '192.0.2.100'],
  etcdServerCertSANs: [], etcdPeerCertSANs: [], clusterName: 'kubernetes', kubernetesVersion: 'v1.26.1', externalEtcd: false,
  podSubnet: '10.244.0.0/16', imageRepository: 'registry.k8s.io', etcdImage: '', etcdDataDir: '/var/lib/etcd', certificatesDir: '/etc/kubernetes/pki',
};

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** The line after the first line of `out` that `re` matches: a KEEP line's description of the file. */
function lineAfter(out: string, re: RegExp): string {
  const lines = out.split('\n');
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matches ${re} in:\n${out}`);
  return lines[i + 1]!;
}

test('static pod manifests are byte-identical to what kubeadm 1.26.1 wrote', () => {
  for (const m of MANIFEST_NAMES) {
    const want = fs.readFileSync(path.join(KUBEADM_126, `etc/kubernetes/manifests/${m}.yaml`), 'utf8');
    assert.equal(renderManifest(m, FACTS), want, m);
  }
});

test('SANs in kubeadm order with its de-duplication (spec §1.2)', () => {
  assert.deepEqual(apiserverSans(FACTS), {
    dns: ['cluster-api.example.test', 'cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ips: ['10.96.0.1', '192.0.2.10', '192.0.2.100'],
  });
  assert.deepEqual(etcdSans(FACTS, []), { dns: ['cp-1', 'localhost'], ips: ['192.0.2.10', '127.0.0.1', '::1'] });
  // IP endpoint goes to IPs, duplicates dropped in first-seen order, junk skipped with a warning
  const warnings: string[] = [];
  const s = apiserverSans({ ...FACTS, controlPlaneEndpoint: '192.0.2.10:6443', certSANs: ['10.96.0.1', 'Bad_Name', '*.apps.example.test', '0:0:0:0:0:0:0:1'] }, warnings);
  assert.deepEqual(s.ips, ['10.96.0.1', '192.0.2.10', '::1']);
  assert.ok(s.dns.includes('*.apps.example.test'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Bad_Name/);
  assert.equal(firstServiceIp('10.96.0.0/12,fd00::/108'), '10.96.0.1');
  assert.equal(firstServiceIp('fd00:10:96::/112'), 'fd00:10:96::1');
  assert.equal(firstServiceIp('10.96.3.7/12'), '10.96.0.1');
  assert.deepEqual(dedupSans({ dns: ['b', 'a', 'b'], ips: ['::1', '0:0::1'] }), { dns: ['a', 'b'], ips: ['::1'] });
  assert.equal(controlPlaneEndpointUrl({ ...FACTS, controlPlaneEndpoint: 'lb.example.test' }), 'https://lb.example.test:6443');
  assert.equal(controlPlaneEndpointUrl({ ...FACTS, controlPlaneEndpoint: '' , advertiseAddress: 'fd00::10' }), 'https://[fd00::10]:6443');
});

test('kubeadm config v1beta3, v1beta4 and a ConfigMap dump give the same settings', () => {
  const v3 = fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8');
  const a = settingsFromKubeadmConfig(parseKubeadmConfig(v3, 'a.yaml'), 'a.yaml', []);
  assert.equal(a.nodeName?.value, 'cp-1');
  assert.equal(a.controlPlaneEndpoint?.value, 'cluster-api.example.test:6443');
  assert.deepEqual(a.certSANs?.value, ['cluster-api.example.test', '192.0.2.100']);
  assert.match(a.nodeName!.source, /InitConfiguration\.nodeRegistration\.name/);
  const v4 = v3.replace(/v1beta3/g, 'v1beta4') + 'encryptionAlgorithm: ECDSA-P256\ncertificateValidityPeriod: 720h\n';
  const b = settingsFromKubeadmConfig(parseKubeadmConfig(v4, 'b.yaml'), 'b.yaml', []);
  assert.equal(b.keyType?.value, 'ecdsa-p256');
  assert.equal(b.validityMs?.value, 720 * 3600_000);
  // kubeadm reads Go durations: 365d is a value it refuses, so it is not the cluster's validity
  const warned: string[] = [];
  const d = settingsFromKubeadmConfig(parseKubeadmConfig(v4.replace('720h', '365d') + 'caCertificateValidityPeriod: 87600h0m0s\n', 'd.yaml'), 'd.yaml', warned);
  assert.equal(d.validityMs, undefined);
  assert.equal(d.caValidityMs?.value, 87600 * 3600_000);
  assert.deepEqual(warned, ['ClusterConfiguration.certificateValidityPeriod "365d" in d.yaml is not a Go duration (kubeadm refuses it too; write hours, e.g. 2160h): ignored']);
  // v1beta3 has no such field (kubeadm ignores it): neither does rebuild, and it says so
  const old: string[] = [];
  assert.equal(settingsFromKubeadmConfig(parseKubeadmConfig(v3 + 'certificateValidityPeriod: 2160h\n', 'e.yaml'), 'e.yaml', old).validityMs, undefined);
  assert.match(old.join('\n'), /certificateValidityPeriod in e\.yaml is ignored: kubeadm\.k8s\.io\/v1beta3 has no such field/);
  const cluster = v3.split('---')[1]!;
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeadm-config\n  namespace: kube-system\ndata:\n  ClusterConfiguration: |\n${cluster.trim().split('\n').map((l) => '    ' + l).join('\n')}\n`;
  const c = settingsFromKubeadmConfig(parseKubeadmConfig(cm, 'cm.yaml'), 'cm.yaml', []);
  assert.equal(c.serviceSubnet?.value, '10.96.0.0/12');
  assert.equal(c.kubernetesVersion?.value, 'v1.26.1');
  assert.throws(() => parseKubeadmConfig('apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n', 'old.yaml'), /v1beta2 is not supported/);
});

/** Compare every rebuilt certificate with kubeadm's, field by field, as openssl prints them. */
function compareWithFixture(root: string, sanAdjust: (base: string, sans: string) => string = (_b, s) => s): void {
  const pki = path.join(root, 'etc/kubernetes/pki');
  for (const c of PKI_CERTS) {
    const want = opensslFields(path.join(FIXTURE_PKI, `${c.base}.crt`));
    const got = opensslFields(path.join(pki, `${c.base}.crt`));
    assert.equal(got.subject, want.subject, `${c.base} subject`);
    assert.equal(got.issuer, want.issuer, `${c.base} issuer`);
    assert.equal(got.sans, sanAdjust(c.base, want.sans), `${c.base} SANs`);
    assert.equal(got.keyUsage, want.keyUsage, `${c.base} key usage`);
    assert.equal(got.extKeyUsage, want.extKeyUsage, `${c.base} extended key usage`);
    assert.equal(got.basicConstraints, want.basicConstraints, `${c.base} basic constraints`);
    assert.equal(got.publicKey, want.publicKey, `${c.base} key`);
    assert.equal(got.signatureAlgorithm, want.signatureAlgorithm, `${c.base} signature algorithm`);
    assert.equal(Boolean(got.ski), Boolean(want.ski), `${c.base} SKI presence`);
    assert.equal(Boolean(got.aki), Boolean(want.aki), `${c.base} AKI presence`);
    if (c.ca) {
      // same CA relationship: verifies against the rebuilt CA, AKI = that CA's SKI
      assert.match(opensslVerify(path.join(pki, `${c.ca}.crt`), path.join(pki, `${c.base}.crt`), c.purpose), /: OK$/);
      assert.equal(got.aki, opensslFields(path.join(pki, `${c.ca}.crt`)).ski, `${c.base} AKI`);
    } else {
      assert.match(opensslVerify(path.join(pki, `${c.base}.crt`), path.join(pki, `${c.base}.crt`)), /: OK$/);
    }
    // modes: keys 0600, certificates 0644
    assert.equal(fs.statSync(path.join(pki, `${c.base}.crt`)).mode & 0o777, 0o644, `${c.base}.crt mode`);
    assert.equal(fs.statSync(path.join(pki, `${c.base}.key`)).mode & 0o777, 0o600, `${c.base}.key mode`);
    // the key matches the certificate
    const certPub = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(pki, `${c.base}.crt`)]).toString();
    const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', path.join(pki, `${c.base}.key`)]).toString();
    assert.equal(certPub, keyPub, `${c.base} key pair`);
  }
  // sa.key / sa.pub: RSA PKCS#1 + PUBLIC KEY, matching
  const saPub = execFileSync('openssl', ['pkey', '-pubout', '-in', path.join(pki, 'sa.key')]).toString();
  assert.equal(fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8'), saPub);
  assert.match(fs.readFileSync(path.join(pki, 'sa.key'), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
}

/** kubectl reads every kubeconfig; each client cert chains to the rebuilt CA with kubeadm's CN/O. */
function checkKubeconfigs(root: string, server: string): void {
  const kdir = path.join(root, 'etc/kubernetes');
  const expected: Record<string, string> = {
    'admin.conf': 'O = system:masters, CN = kubernetes-admin',
    'controller-manager.conf': 'CN = system:kube-controller-manager',
    'scheduler.conf': 'CN = system:kube-scheduler',
    'kubelet.conf': 'O = system:nodes, CN = system:node:cp-1',
  };
  for (const k of KUBECONFIGS) {
    const file = path.join(kdir, k);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${k} mode`);
    const kc = kubeconfigClientPem(file, root);
    const f = opensslFields(kc.cert);
    assert.equal(f.subject, expected[k], `${k} subject`);
    assert.equal(f.extKeyUsage, 'TLS Web Client Authentication', `${k} EKU`);
    assert.equal(f.sans, '', `${k} has no SANs`);
    const tmp = path.join(tmpDir(), 'client.crt');
    fs.writeFileSync(tmp, kc.cert);
    assert.match(opensslVerify(path.join(kdir, 'pki/ca.crt'), tmp, 'sslclient'), /: OK$/, `${k} chains to the rebuilt CA`);
    assert.equal(kc.context, `${kc.user}@kubernetes`);
    const local = k === 'controller-manager.conf' || k === 'scheduler.conf';
    assert.equal(kc.server, local ? 'https://192.0.2.10:6443' : server, `${k} server`);
  }
  // the shape kubeadm writes, key for key (fixture admin.conf with the data fields blanked)
  const shape = (t: string) => t.replace(/(-data|server): .*/g, '$1: X');
  assert.equal(shape(fs.readFileSync(path.join(kdir, 'admin.conf'), 'utf8')), shape(fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/admin.conf'), 'utf8')));
}

test('rebuild with no flags: only manifests/ survive; node name, addresses, service range recovered; certificates as kubeadm made them', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const dry = await cli('rebuild', '--root', root, '--dry-run', '--now', NOW);
  assert.equal(dry.code, 0, dry.err);
  assert.match(dry.out, /nodeName\s+cp-1\s+\/etc\/kubernetes\/manifests\/etcd\.yaml \(--name\)/);
  assert.match(dry.out, /advertiseAddress\s+192\.0\.2\.10\s+\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml \(--advertise-address\)/);
  assert.match(dry.out, /serviceSubnet\s+10\.96\.0\.0\/12\s+\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/);
  assert.match(dry.out, /kubernetesVersion\s+v1\.26\.1\s+.*\(image\)/);
  assert.match(dry.out, /pass --control-plane-endpoint/);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/pki')), false, 'dry run writes nothing');

  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Wrote 28 files \(15 new keys\)/, 'kubelet.conf + the kubelet\'s pem and -current link');
  // The control-plane endpoint and the extra certSANs lived only in the deleted
  // admin.conf/kubelet.conf/kubeadm-config.yaml: everything else is recovered.
  compareWithFixture(root, (base, sans) => (base === 'apiserver'
    ? sans.replace('DNS:cluster-api.example.test, ', '').replace(', IP Address:192.0.2.100', '')
    : sans));
  checkKubeconfigs(root, 'https://192.0.2.10:6443');
  for (const m of MANIFEST_NAMES) {
    assert.equal(fs.readFileSync(path.join(root, `etc/kubernetes/manifests/${m}.yaml`), 'utf8'), fs.readFileSync(path.join(KUBEADM_126, `etc/kubernetes/manifests/${m}.yaml`), 'utf8'), `${m} kept`);
  }
  // directories as kubeadm makes them (0755 under the usual umask 022, spec §1), keys 0600
  const umask = process.umask();
  for (const d of ['etc/kubernetes/pki', 'etc/kubernetes/pki/etcd']) assert.equal(fs.statSync(path.join(root, d)).mode & 0o777, 0o755 & ~umask, d);
  assert.equal(fs.statSync(path.join(root, 'etc/kubernetes/pki/apiserver.key')).mode & 0o777, 0o600);

  // a second run keeps everything (kubeadm never overwrites)
  const again = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, /Wrote 0 files/);
});

test('rebuild with the endpoint and SANs as flags on top of the surviving manifests: identical SANs', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--control-plane-endpoint', 'cluster-api.example.test:6443', '--cert-sans', 'cluster-api.example.test,192.0.2.100');
  assert.equal(r.code, 0, r.err);
  compareWithFixture(root);
  checkKubeconfigs(root, 'https://cluster-api.example.test:6443');
});

test('rebuild with everything deleted and only flags: the same tree, manifests included', async () => {
  const root = tmpDir();
  const r = await cli('rebuild', '--root', root, '--now', NOW,
    '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1',
    '--control-plane-endpoint', 'cluster-api.example.test:6443', '--cert-sans', 'cluster-api.example.test,192.0.2.100',
    '--service-cidr', '10.96.0.0/12', '--pod-network-cidr', '10.244.0.0/16', '--dns-domain', 'cluster.local');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Wrote 32 files/);
  compareWithFixture(root);
  checkKubeconfigs(root, 'https://cluster-api.example.test:6443');
  for (const m of MANIFEST_NAMES) {
    const file = path.join(root, `etc/kubernetes/manifests/${m}.yaml`);
    assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(path.join(KUBEADM_126, `etc/kubernetes/manifests/${m}.yaml`), 'utf8'), m);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  }
});

test('rebuild of an empty tree without flags names every flag it needs and writes nothing', async () => {
  const root = tmpDir();
  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 3);
  assert.match(r.err, /nodeName \(--node-name\)/);
  assert.match(r.err, /advertiseAddress \(--advertise-address\)/);
  assert.match(r.err, /kubernetesVersion \(--kubernetes-version\)/);
  assert.deepEqual(fs.readdirSync(root), []);
  const bad = await cli('rebuild', '--root', root, '--advertise-address', 'cp-1');
  assert.equal(bad.code, 3);
  assert.match(bad.err, /--advertise-address "cp-1" is not an IP address/);
});

test('rebuild 1.29+: new subjects and super-admin.conf; ECDSA keys', async () => {
  const root = tmpDir();
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-2', '--advertise-address', '192.0.2.11',
    '--kubernetes-version', 'v1.31.2', '--key-type', 'ecdsa-p256');
  assert.equal(r.code, 0, r.err);
  const pki = path.join(root, 'etc/kubernetes/pki');
  assert.equal(opensslFields(path.join(pki, 'apiserver-kubelet-client.crt')).subject, 'O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client');
  assert.equal(opensslFields(path.join(pki, 'apiserver-etcd-client.crt')).subject, 'CN = kube-apiserver-etcd-client');
  assert.equal(opensslFields(path.join(pki, 'ca.crt')).signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.match(fs.readFileSync(path.join(pki, 'ca.key'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
  assert.equal(kubeconfigClientPem(path.join(root, 'etc/kubernetes/super-admin.conf')).user, 'kubernetes-super-admin');
  assert.equal(opensslFields(kubeconfigClientPem(path.join(root, 'etc/kubernetes/admin.conf')).cert).subject, 'O = kubeadm:cluster-admins, CN = kubernetes-admin');
  // ≥1.31: leaf notBefore = now − 5 min
  const nb = execFileSync('openssl', ['x509', '-noout', '-startdate', '-in', path.join(pki, 'apiserver.crt')]).toString().trim();
  assert.equal(nb, 'notBefore=Nov 22 23:55:00 2026 GMT');
});

test('a kept leaf that does not chain to a new CA stops the rebuild with the fix; --force backs up and replaces', async () => {
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  for (const f of ['ca.crt', 'ca.key']) fs.rmSync(path.join(pki, f));
  // the kubeconfigs still carry the CA: a new one only with --new-ca
  const refused = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(refused.code, 3);
  assert.match(refused.err, /refusing to create a new cluster CA: .*the old cluster CA certificate \(CN=kubernetes\) is still in admin\.conf, kubelet\.conf, controller-manager\.conf and scheduler\.conf: only its key is gone/);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--new-ca');
  assert.equal(r.code, 3);
  assert.match(r.err, /apiserver\.crt: it is not signed by the ca being used \(a new CA is being created\); remove .* or pass --force/);
  assert.equal(fs.existsSync(path.join(pki, 'ca.crt')), false, 'nothing written');
  const before = fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8');
  const f = await cli('rebuild', '--root', root, '--now', NOW, '--force', '--new-ca');
  assert.equal(f.code, 0, f.err);
  const backup = /^Backup: (\S+)  \(undo with: kubepki restore \S+ --root \S+\)$/m.exec(f.out)?.[1];
  assert.ok(backup?.startsWith(path.join(root, 'var/lib/kubepki/backups/')), f.out);
  assert.equal(fs.readFileSync(path.join(backup!, 'files/etc/kubernetes/pki/apiserver.crt'), 'utf8'), before);
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')), /OK$/);
  // settings came from the surviving kubeadm-config.yaml, so the endpoint is kept
  compareWithFixture(root);
});

test('a surviving ca.key gets a new ca.crt for the same key, and the old leaves still chain', async () => {
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.rmSync(path.join(pki, 'ca.crt'));
  fs.rmSync(path.join(pki, 'apiserver.crt'));
  fs.rmSync(path.join(pki, 'apiserver.key'));
  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.err);
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(pki, 'apiserver-kubelet-client.crt')), /OK$/);
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(FIXTURE_PKI, 'apiserver.crt')), /OK$/);
  assert.equal(opensslFields(path.join(pki, 'ca.crt')).ski, opensslFields(path.join(FIXTURE_PKI, 'ca.crt')).ski);
  assert.equal(opensslFields(path.join(pki, 'apiserver.crt')).sans, opensslFields(path.join(FIXTURE_PKI, 'apiserver.crt')).sans);
});

test('rebuild --config v1beta4 on an empty node: key type, validity and SANs from the file; kept certificates missing SANs are reported', async () => {
  const root = tmpDir();
  const dir = tmpDir();
  const cfg = path.join(dir, 'kubeadm.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8')
    .replace(/v1beta3/g, 'v1beta4').replace('v1.26.1', 'v1.31.2') + 'encryptionAlgorithm: ECDSA-P256\ncertificateValidityPeriod: 720h\n');
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--dry-run');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /keyType\s+ecdsa-p256\s+.*kubeadm\.yaml \(ClusterConfiguration\.encryptionAlgorithm\)/);
  assert.match(r.out, /^ {2}certificateValidityPeriod\s+720h\s+.*certificateValidityPeriod/m);
  assert.doesNotMatch(r.out, /validityMs/, "settings are shown by kubeadm's names, not internal ones");
  assert.match(r.out, /controlPlaneEndpoint\s+cluster-api\.example\.test:6443\s+.*ClusterConfiguration\.controlPlaneEndpoint/);
  const w = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg);
  assert.equal(w.code, 0, w.err);
  const pki = path.join(root, 'etc/kubernetes/pki');
  assert.equal(opensslFields(path.join(pki, 'apiserver.crt')).sans, opensslFields(path.join(FIXTURE_PKI, 'apiserver.crt')).sans);
  assert.equal(opensslFields(path.join(pki, 'apiserver.crt')).signatureAlgorithm, 'ecdsa-with-SHA256');
  assert.equal(execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', path.join(pki, 'apiserver.crt')]).toString().trim(), 'notAfter=Dec 23 00:00:00 2026 GMT');
  // a new SAN in the config: the kept apiserver.crt lacks it; kubeadm refuses such a certificate, and so does
  // rebuild (it kept it, exit 0, with a warning), naming the fix
  fs.appendFileSync(cfg, '---\n'); // harmless empty document
  const more = fs.readFileSync(cfg, 'utf8').replace('  - 192.0.2.100', '  - 192.0.2.100\n  - 192.0.2.200');
  fs.writeFileSync(cfg, more);
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--dry-run');
  assert.equal(d.code, 3, d.err);
  assert.match(d.out, /failed to keep \/etc\/kubernetes\/pki\/apiserver\.crt: it lacks IP:192\.0\.2\.200, which this node's apiserver certificate must name .*; remove .*apiserver\.crt and .*apiserver\.key so they are re-created with them, or pass --force/);
  const kept = fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8');
  const refused = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg);
  assert.equal(refused.code, 3, refused.out);
  assert.equal(fs.readFileSync(path.join(pki, 'apiserver.crt'), 'utf8'), kept, 'nothing written');
  const f = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--force');
  assert.equal(f.code, 0, f.err);
  const backup = /^Backup: (\S+) /m.exec(f.out)![1]!;
  assert.equal(fs.readFileSync(path.join(backup, 'files/etc/kubernetes/pki/apiserver.crt'), 'utf8'), kept);
  assert.match(opensslFields(path.join(pki, 'apiserver.crt')).sans, /IP Address:192\.0\.2\.100, IP Address:192\.0\.2\.200$/);
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')), /OK$/);
  // only the certificate that lacked a name was replaced
  assert.match(f.out, /KEEP    \/etc\/kubernetes\/pki\/etcd\/server\.crt/);
});

test('rm -rf /etc/kubernetes/pki: kubeconfigs with old embedded certs block (with the fix); kubelet.conf on the rotated pem becomes a follow-up', async () => {
  const root = copyFixture();
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  const refused = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--force');
  assert.equal(refused.code, 3, 'not even --force makes new CAs while the kubeconfigs hold the old one');
  assert.equal(refused.out, '');
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--new-ca');
  assert.equal(d.code, 3);
  for (const k of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    assert.match(d.out, new RegExp(`failed to keep /etc/kubernetes/${k.replace('.', '\\.')}: its client certificate is not signed by the new cluster CA; remove it so it is re-created, or pass --force`));
  }
  assert.doesNotMatch(d.out, /failed to keep \/etc\/kubernetes\/kubelet\.conf/);
  assert.ok(d.out.includes(`kubelet.conf uses /var/lib/kubelet/pki/kubelet-client-current.pem, which is not signed by the new cluster CA, and its certificate-authority-data is the old CA: run \`kubepki kubelet credentials --node cp-1 --root ${root}\`, which writes both from the CA in use`), d.out);
  const before = fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8');
  const f = await cli('rebuild', '--root', root, '--now', NOW, '--force', '--new-ca');
  assert.equal(f.code, 0, f.err);
  // seed 001: while the nodes are re-joined they are NotReady; park kube-controller-manager meanwhile
  assert.match(f.out, /Then, outside this node:[\s\S]*NotReady, and kube-controller-manager starts evicting[\s\S]*mv \/etc\/kubernetes\/manifests\/kube-controller-manager\.yaml \/etc\/kubernetes\//);
  compareWithFixture(root);
  // --force replaces only what is in the way: the kubelet's kubeconfig and the manifests stay
  assert.equal(fs.readFileSync(path.join(root, 'etc/kubernetes/kubelet.conf'), 'utf8'), before);
  assert.match(f.out, /KEEP    \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/);
  assert.match(f.out, /REPLACE \/etc\/kubernetes\/admin\.conf/);
});

test('a super-admin.conf on a node read as 1.26 (upgraded, or a guess) is re-signed with the new CA, not left trusting the old one', async () => {
  const root = copyFixture();
  // an init node of 1.29+ has one; its subject is kubeadm's (O=system:masters), signed by the old CA
  fs.copyFileSync(path.join(root, 'etc/kubernetes/admin.conf'), path.join(root, 'etc/kubernetes/super-admin.conf'));
  fs.rmSync(path.join(root, 'etc/kubernetes/pki'), { recursive: true });
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--new-ca');
  assert.equal(d.code, 3);
  assert.match(d.out, /failed to keep \/etc\/kubernetes\/super-admin\.conf: its client certificate is not signed by the new cluster CA/);
  const f = await cli('rebuild', '--root', root, '--now', NOW, '--force', '--new-ca');
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /REPLACE \/etc\/kubernetes\/super-admin\.conf/);
  const conf = path.join(root, 'etc/kubernetes/super-admin.conf');
  const { cert } = kubeconfigClientPem(conf, root);
  const pemFile = path.join(tmpDir(), 'client.crt');
  fs.writeFileSync(pemFile, cert);
  assert.match(opensslVerify(path.join(root, 'etc/kubernetes/pki/ca.crt'), pemFile, 'sslclient'), /: OK$/);
  assert.match(opensslFields(cert).subject, /O ?= ?system:masters, CN ?= ?kubernetes-super-admin/);
});

test('external etcd (--config etcd.external): no etcd CA, certificates or manifest; the apiserver manifest points at the external endpoints', async () => {
  const root = tmpDir();
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 192.0.2.10, bindPort: 6443}
nodeRegistration: {name: cp-1}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.28.4
etcd:
  external:
    endpoints: [https://192.0.2.50:2379, https://192.0.2.51:2379]
    caFile: /etc/etcd/ca.pem
    certFile: /etc/etcd/client.pem
    keyFile: /etc/etcd/client-key.pem
`);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /etcdExternal\s+https:\/\/192\.0\.2\.50:2379,https:\/\/192\.0\.2\.51:2379/);
  const pki = path.join(root, 'etc/kubernetes/pki');
  assert.equal(fs.existsSync(path.join(pki, 'etcd')), false);
  assert.equal(fs.existsSync(path.join(pki, 'apiserver-etcd-client.crt')), false);
  assert.equal(fs.existsSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml')), false);
  const api = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(api, /- --etcd-servers=https:\/\/192\.0\.2\.50:2379,https:\/\/192\.0\.2\.51:2379\n/);
  assert.match(api, /- --etcd-cafile=\/etc\/etcd\/ca\.pem\n/);
  assert.match(api, /- --etcd-keyfile=\/etc\/etcd\/client-key\.pem\n/);
  assert.match(api, /image: registry\.k8s\.io\/kube-apiserver:v1\.28\.4/);
});

test('external etcd with its client files outside certificatesDir: the apiserver manifest mounts their directories read-only as kubeadm does (was: --etcd-cafile=/etc/etcd/pki/ca.crt with no volume, so the container could not open it)', async () => {
  // kubeadm getEtcdCertVolumes (phases/controlplane/volumes.go): the directories of caFile, certFile and keyFile,
  // less those under certificatesDir, /etc/ssl/certs or the CA-bundle paths, a parent absorbing its children,
  // sorted, as etcd-certs-<i> (hostPath DirectoryOrCreate, mounted read-only at the same path)
  const external = (caFile: string, certFile: string, keyFile: string) => ({ endpoints: ['https://192.0.2.50:2379'], caFile, certFile, keyFile });
  const mounts = (etcdExternal: ReturnType<typeof external>) => {
    const m = parseYaml(renderManifest('kube-apiserver', { ...FACTS, externalEtcd: true, etcdExternal }));
    return { volumes: m.spec.volumes, mounts: m.spec.containers[0].volumeMounts };
  };
  const one = mounts(external('/etc/etcd/pki/ca.crt', '/etc/etcd/pki/client.crt', '/etc/etcd/pki/client.key'));
  assert.deepEqual(one.volumes.map((v: { name: string }) => v.name), ['ca-certs', 'etcd-certs-0', 'k8s-certs'], 'sorted by name, as kubeadm lists them');
  assert.deepEqual(one.volumes[1], { hostPath: { path: '/etc/etcd/pki', type: 'DirectoryOrCreate' }, name: 'etcd-certs-0' });
  assert.deepEqual(one.mounts[1], { mountPath: '/etc/etcd/pki', name: 'etcd-certs-0', readOnly: true });
  // a parent directory takes its child's place; two unrelated ones are numbered in sorted order
  const two = mounts(external('/srv/etcd/ca.pem', '/etc/etcd/tls/client.pem', '/etc/etcd/client-key.pem'));
  assert.deepEqual(two.volumes.filter((v: { name: string }) => v.name.startsWith('etcd-certs')).map((v: { hostPath: { path: string } }) => v.hostPath.path), ['/etc/etcd', '/srv/etcd']);
  // files kubeadm already mounts (certificatesDir, /etc/ssl/certs) add nothing
  const none = mounts(external('/etc/kubernetes/pki/etcd-ca.crt', '/etc/ssl/certs/etcd.pem', '/etc/kubernetes/pki/etcd.key'));
  assert.deepEqual(none.volumes.map((v: { name: string }) => v.name), ['ca-certs', 'k8s-certs']);

  // the same through rebuild --config
  const root = tmpDir();
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 192.0.2.10, bindPort: 6443}
nodeRegistration: {name: cp-1}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.33.0
etcd:
  external:
    endpoints: [https://192.0.2.50:2379]
    caFile: /etc/etcd/pki/ca.crt
    certFile: /etc/etcd/pki/apiserver-etcd-client.crt
    keyFile: /etc/etcd/pki/apiserver-etcd-client.key
`);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg);
  assert.equal(r.code, 0, r.err);
  const api = parseYaml(fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'));
  const c = api.spec.containers[0];
  assert.ok(c.command.includes('--etcd-cafile=/etc/etcd/pki/ca.crt'));
  for (const flag of ['--etcd-cafile=', '--etcd-certfile=', '--etcd-keyfile=']) {
    const file = (c.command as string[]).find((a) => a.startsWith(flag))!.slice(flag.length);
    const m = (c.volumeMounts as { mountPath: string; name: string; readOnly?: boolean }[]).find((x) => file.startsWith(`${x.mountPath}/`));
    assert.ok(m, `${file} is inside a volume the container mounts`);
    assert.equal(m.readOnly, true);
    assert.equal(api.spec.volumes.find((v: { name: string }) => v.name === m.name).hostPath.path, m.mountPath, 'the host directory of the same path');
  }
});

/** `text` with each [from, to] replaced once, failing if `from` is not in it (an edit of kubeadm's fixture output). */
function edited(text: string, edits: [string, string][]): string {
  for (const [from, to] of edits) {
    assert.ok(text.includes(from), `not in the fixture: ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

test('a kubeadm config with extraArgs/extraVolumes (v1beta3 maps): the manifests rebuilt carry them as kubeadm writes them, byte for byte (was: dropped, with a warning: an OIDC or audit setup gone from kube-apiserver.yaml)', async () => {
  const root = copyFixture();
  const manifests = path.join(root, 'etc/kubernetes/manifests');
  for (const m of MANIFEST_NAMES) fs.rmSync(path.join(manifests, `${m}.yaml`));
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8') + `  extraArgs:
    oidc-issuer-url: https://sso.example.test
    audit-policy-file: /etc/kubernetes/audit/policy.yaml
    audit-log-path: /var/log/kubernetes/audit.log
    enable-admission-plugins: NodeRestriction,PodSecurity
  extraVolumes:
  - name: audit
    hostPath: /etc/kubernetes/audit
    mountPath: /etc/kubernetes/audit
    readOnly: true
    pathType: DirectoryOrCreate
  - name: audit-log
    hostPath: /var/log/kubernetes
    mountPath: /var/log/kubernetes
controllerManager:
  extraArgs:
    bind-address: 0.0.0.0
scheduler:
  extraArgs:
    bind-address: 192.0.2.10
  extraVolumes:
  - name: kubeconfig
    hostPath: /etc/kubernetes/scheduler-other.conf
    mountPath: /etc/kubernetes/scheduler.conf
    readOnly: true
    pathType: File
etcd:
  local:
    extraArgs:
      advertise-client-urls: https://192.0.2.10:2379
      listen-metrics-urls: http://192.0.2.10:2382
`);
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--dry-run');
  assert.equal(d.code, 0, d.err);
  assert.doesNotMatch(d.out, /lacks|default flags and volumes only/, 'nothing is left out: no warning');
  assert.match(lineAfter(d.out, /CREATE\s+\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml/), new RegExp(`with apiServer\\.extraArgs \\(audit-log-path, audit-policy-file, enable-admission-plugins, oidc-issuer-url\\), extraVolumes \\(audit, audit-log\\) from ${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // (the lone member kubeadm init writes: the fixture's cluster has a control-plane endpoint, so rebuild asks)
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--etcd-initial-cluster', 'cp-1=https://192.0.2.10:2380');
  assert.equal(r.code, 0, r.err);
  const wrote = (m: string) => fs.readFileSync(path.join(manifests, `${m}.yaml`), 'utf8');
  const kubeadm = (m: string) => fs.readFileSync(path.join(KUBEADM_126, `etc/kubernetes/manifests/${m}.yaml`), 'utf8');

  // kubeadm's ArgumentsToCommand: an extra arg replaces the default of its name, all sorted by name; each
  // extraVolume a hostPath volume and mount, listed by name, `type: ""` where no pathType is given
  assert.equal(wrote('kube-apiserver'), edited(kubeadm('kube-apiserver'), [
    ['    - --authorization-mode=', '    - --audit-log-path=/var/log/kubernetes/audit.log\n    - --audit-policy-file=/etc/kubernetes/audit/policy.yaml\n    - --authorization-mode='],
    ['--enable-admission-plugins=NodeRestriction\n', '--enable-admission-plugins=NodeRestriction,PodSecurity\n'],
    // local etcd advertising its own address (etcd.local.extraArgs): the apiserver is pointed there
    ['--etcd-servers=https://127.0.0.1:2379', '--etcd-servers=https://192.0.2.10:2379'],
    ['    - --proxy-client-cert-file=', '    - --oidc-issuer-url=https://sso.example.test\n    - --proxy-client-cert-file='],
    ['    volumeMounts:\n', '    volumeMounts:\n    - mountPath: /etc/kubernetes/audit\n      name: audit\n      readOnly: true\n    - mountPath: /var/log/kubernetes\n      name: audit-log\n'],
    ['  volumes:\n', '  volumes:\n  - hostPath:\n      path: /etc/kubernetes/audit\n      type: DirectoryOrCreate\n    name: audit\n  - hostPath:\n      path: /var/log/kubernetes\n      type: ""\n    name: audit-log\n'],
  ]));
  // bind-address 0.0.0.0: no probe host, the kubelet probes the pod IP (kubeadm's getProbeAddress)
  assert.equal(wrote('kube-controller-manager'), edited(kubeadm('kube-controller-manager'), [
    ['--bind-address=127.0.0.1', '--bind-address=0.0.0.0'],
    ['        host: 127.0.0.1\n', ''],
    ['        host: 127.0.0.1\n', ''],
  ]));
  // another address is probed where the scheduler listens; an extraVolume of a default's name replaces it
  assert.equal(wrote('kube-scheduler'), edited(kubeadm('kube-scheduler'), [
    ['--bind-address=127.0.0.1', '--bind-address=192.0.2.10'],
    ['        host: 127.0.0.1\n', '        host: 192.0.2.10\n'],
    ['        host: 127.0.0.1\n', '        host: 192.0.2.10\n'],
    ['      path: /etc/kubernetes/scheduler.conf\n      type: FileOrCreate', '      path: /etc/kubernetes/scheduler-other.conf\n      type: File'],
  ]));
  // etcd's probes follow the first listen-metrics-urls URL (GetEtcdProbeEndpoint)
  assert.equal(wrote('etcd'), edited(kubeadm('etcd'), [
    ['--listen-metrics-urls=http://127.0.0.1:2381', '--listen-metrics-urls=http://192.0.2.10:2382'],
    ['        host: 127.0.0.1\n        path: /health?exclude=NOSPACE&serializable=true\n        port: 2381', '        host: 192.0.2.10\n        path: /health?exclude=NOSPACE&serializable=true\n        port: 2382'],
    ['        host: 127.0.0.1\n        path: /health?serializable=false\n        port: 2381', '        host: 192.0.2.10\n        path: /health?serializable=false\n        port: 2382'],
  ]));
});

test('a v1beta4 kubeadm config: repeated extraArgs are all written, authorization-config drops the default authorization-mode, extraEnvs become the container env; an entry kubeadm refuses is warned about; a kept manifest is left as it is', async () => {
  const root = copyFixture();
  const manifests = path.join(root, 'etc/kubernetes/manifests');
  for (const m of ['kube-apiserver', 'etcd', 'kube-scheduler']) fs.rmSync(path.join(manifests, `${m}.yaml`));
  const keptKcm = fs.readFileSync(path.join(manifests, 'kube-controller-manager.yaml'), 'utf8');
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 192.0.2.10, bindPort: 6443}
nodeRegistration: {name: cp-1}
patches: {directory: /etc/kubernetes/patches}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.33.0
controlPlaneEndpoint: cluster-api.example.test:6443
networking: {podSubnet: 10.244.0.0/16}
apiServer:
  certSANs: [cluster-api.example.test, 192.0.2.100]
  extraArgs:
  - {name: service-account-issuer, value: https://kubernetes.default.svc.cluster.local}
  - {name: service-account-issuer, value: https://issuer.example.test}
  - {name: authorization-config, value: /etc/kubernetes/authz.yaml}
  extraVolumes:
  - {name: authz, hostPath: /etc/kubernetes/authz.yaml, mountPath: /etc/kubernetes/authz.yaml, readOnly: true, pathType: File}
  - {name: broken, mountPath: /x}
  extraEnvs:
  - {name: NO_PROXY, value: 10.0.0.0/8}
  - {name: HTTPS_PROXY, value: http://old.example.test:3128}
  - {name: HTTPS_PROXY, value: http://proxy.example.test:3128}
controllerManager:
  extraArgs:
  - {name: bind-address, value: 0.0.0.0}
scheduler:
  extraArgs: []
etcd:
  local:
    extraArgs:
    - {name: quota-backend-bytes, value: "8589934592"}
    extraEnvs:
    - {name: GOMAXPROCS, value: "2"}
`);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--etcd-initial-cluster', 'cp-1=https://192.0.2.10:2380');
  assert.equal(r.code, 0, r.err);
  const warnings = r.out.split('\nWarnings:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
  const extrasWarnings = warnings.filter((w) => /extraVolumes|extraEnvs|extraArgs/.test(w));
  assert.equal(extrasWarnings.length, 1, r.out);
  assert.match(extrasWarnings[0]!, /kube-apiserver\.yaml .*apiServer\.extraVolumes\[1\] \(broken\) has no hostPath/);
  assert.ok(extrasWarnings[0]!.includes(cfg), 'names the config');
  // kubeadm's patches are not applied: the manifests written are named
  assert.ok(warnings.some((w) => w.includes('patches.directory /etc/kubernetes/patches') && w.includes('kube-apiserver.yaml') && !w.includes('kube-controller-manager.yaml')), r.out);

  const read = (m: string) => parseYaml(fs.readFileSync(path.join(manifests, `${m}.yaml`), 'utf8'));
  const api = read('kube-apiserver').spec.containers[0];
  // kubeadm 1.33's getAPIServerCommand with these extraArgs: both issuers (sorted by value), no --authorization-mode
  assert.deepEqual(api.command, [
    'kube-apiserver',
    '--advertise-address=192.0.2.10',
    '--allow-privileged=true',
    '--authorization-config=/etc/kubernetes/authz.yaml',
    '--client-ca-file=/etc/kubernetes/pki/ca.crt',
    '--enable-admission-plugins=NodeRestriction',
    '--enable-bootstrap-token-auth=true',
    '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
    '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
    '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
    '--etcd-servers=https://127.0.0.1:2379',
    '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
    '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    '--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt',
    '--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key',
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    '--secure-port=6443',
    '--service-account-issuer=https://issuer.example.test',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
    '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
    '--service-cluster-ip-range=10.96.0.0/12',
    '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
    '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
  ]);
  // MergeKubeadmEnvVars: one per name, the last given wins, sorted by name
  assert.deepEqual(api.env, [{ name: 'HTTPS_PROXY', value: 'http://proxy.example.test:3128' }, { name: 'NO_PROXY', value: '10.0.0.0/8' }]);
  assert.deepEqual(api.volumeMounts.map((v: { name: string }) => v.name), ['authz', 'ca-certs', 'k8s-certs'], 'the entry without a hostPath is left out');
  assert.deepEqual(read('kube-apiserver').spec.volumes[0], { hostPath: { path: '/etc/kubernetes/authz.yaml', type: 'File' }, name: 'authz' });
  // the probes stay on the advertise address and bind port
  assert.equal(api.livenessProbe.httpGet.host, '192.0.2.10');

  const etcd = read('etcd').spec.containers[0];
  assert.ok(etcd.command.includes('--quota-backend-bytes=8589934592'));
  assert.deepEqual(etcd.env, [{ name: 'GOMAXPROCS', value: '2' }]);
  const sched = read('kube-scheduler').spec.containers[0];
  assert.equal(sched.env, undefined, 'an empty list adds nothing');
  assert.equal(sched.livenessProbe.httpGet.host, '127.0.0.1');
  // the kept manifest is not rewritten (remove it to have it written with the extras)
  assert.equal(fs.readFileSync(path.join(manifests, 'kube-controller-manager.yaml'), 'utf8'), keptKcm);
});

test('a flag wins over what survives, and the dry run lists what it overrode', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--service-cidr', '10.100.0.0/16');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /serviceSubnet\s+10\.100\.0\.0\/16\s+flag --service-cidr/);
  assert.match(r.out, /Also found \(not used, a source above wins\):\n(.*\n)*\s+serviceSubnet\s+10\.96\.0\.0\/12\s+\/etc\/kubernetes\/manifests\/kube-apiserver\.yaml \(--service-cluster-ip-range\)/);
  assert.match(r.out, /IP:10\.100\.0\.1/);
});

test('rebuild --cert-sans 300.1.1.1,bad_name is refused (was: 300.1.1.1 became a DNS SAN and bad_name was silently dropped)', async () => {
  const root = copyFixture();
  deleteAllButManifests(root);
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--cert-sans', '300.1.1.1,bad_name', '--dry-run');
  assert.equal(r.code, 3, r.out);
  assert.equal(r.out, '', 'no plan printed');
  assert.match(r.err, /^kubepki: --cert-sans: "300\.1\.1\.1" is not a valid IPv4 address; "bad_name" is not a valid DNS name: "_" is not allowed/);
  assert.equal(r.err.split('\n')[0]!.includes('hint'), false, 'one line naming the values, then the hint');
  for (const [bad, why] of [
    ['10.0.0.256', /"10\.0\.0\.256" is not a valid IPv4 address/],
    ['2001:db8::g', /"2001:db8::g" is not a valid IPv6 address/],
    ['API.example.test', /upper-case/],
    ['-api.example.test', /starts or ends with "-"/],
    ['api..example.test', /empty label/],
    ['foo.*.example.test', /"\*" is not allowed/],
    ['node.1234', /last label is all digits/],
    [`${'a'.repeat(64)}.example.test`, /longer than 63/],
  ] as const) {
    const x = await cli('rebuild', '--root', root, '--now', NOW, '--cert-sans', `192.0.2.100,${bad}`, '--dry-run');
    assert.equal(x.code, 3, `${bad}: ${x.out}`);
    assert.match(x.err, why, bad);
  }
  // valid entries, a wildcard first label included, are used as given (IPs canonical)
  const ok = await cli('rebuild', '--root', root, '--now', NOW, '--cert-sans', ' *.apps.example.test, 2001:DB8::1 ,192.0.2.100,cluster-api.example.test', '--dry-run', '-o', 'json');
  assert.equal(ok.code, 0, ok.err);
  const plan = JSON.parse(ok.out).plan;
  const api = plan.items.find((i: any) => i.name === 'apiserver');
  assert.ok(api.sans.dns.includes('*.apps.example.test'));
  assert.ok(api.sans.ips.includes('2001:db8::1'));
  assert.ok(!api.sans.dns.includes('300.1.1.1'));
  // --config certSANs are refused the same way, naming the file and the field
  const cfg = path.join(tmpDir(), 'kubeadm.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubeadm-config.yaml'), 'utf8').replace('  - 192.0.2.100', '  - 192.0.2.100\n  - 300.1.1.1'));
  const c = await cli('rebuild', '--root', root, '--now', NOW, '--config', cfg, '--dry-run');
  assert.equal(c.code, 3, c.out);
  assert.match(c.err, /--config .*kubeadm\.yaml: ClusterConfiguration\.apiServer\.certSANs: "300\.1\.1\.1" is not a valid IPv4 address/);
});

test('rebuild --cert-sans adds to the certSANs the node\'s kubeadm config lists (was: it replaced them, and the rebuilt apiserver.crt lost IP:192.0.2.100)', async () => {
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  fs.rmSync(path.join(pki, 'apiserver.crt'));
  fs.rmSync(path.join(pki, 'apiserver.key'));
  // kubeadm-config.yaml lists cluster-api.example.test and 192.0.2.100; one new name, one already there (another spelling of nothing: same IP)
  const args = ['rebuild', '--root', root, '--now', NOW, '--cert-sans', 'extra.example.test,192.0.2.100,2001:DB8::7'];
  const d = await cli(...args, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  const line = d.out.split('\n').find((l) => /^ {2}certSANs /.test(l)) ?? '';
  assert.match(line, /^ {2}certSANs +cluster-api\.example\.test,192\.0\.2\.100,extra\.example\.test,2001:DB8::7 +/, line);
  // where each came from
  assert.ok(line.includes('cluster-api.example.test,192.0.2.100 from /etc/kubernetes/kubeadm-config.yaml (ClusterConfiguration.apiServer.certSANs); extra.example.test,2001:DB8::7 from flag --cert-sans (192.0.2.100 already listed)'), line);
  assert.doesNotMatch(d.out, /Also found[^]*certSANs/, 'the config\'s certSANs are used, not dropped');
  const r = await cli(...args);
  assert.equal(r.code, 0, r.out + r.err);
  const sans = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(pki, 'apiserver.crt')]).toString().split('\n')[1]!.trim().split(', ');
  for (const want of ['DNS:cluster-api.example.test', 'DNS:extra.example.test', 'IP Address:192.0.2.100', 'IP Address:2001:DB8:0:0:0:0:0:7', 'IP Address:192.0.2.10', 'IP Address:10.96.0.1']) {
    assert.ok(sans.includes(want), `${want} in ${sans.join(', ')}`);
  }
  assert.equal(sans.filter((x) => x === 'IP Address:192.0.2.100').length, 1, 'once');
  // with kubeadm-config.yaml gone too, the SANs the surviving apiserver.crt has beyond kubeadm's own are the base
  fs.rmSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'));
  const j = await cli('rebuild', '--root', root, '--now', NOW, '--cert-sans', 'more.example.test', '--dry-run', '-o', 'json');
  assert.equal(j.code, 3, 'the kept apiserver.crt lacks the added name: it must be replaced (--force)');
  const got = JSON.parse(j.out).settings.certSANs;
  assert.deepEqual(got.value, ['extra.example.test', '192.0.2.100', '2001:db8::7', 'more.example.test'], JSON.stringify(got));
  assert.match(got.source, /from \/etc\/kubernetes\/pki\/apiserver\.crt \(SANs beyond kubeadm's own\); more\.example\.test from flag --cert-sans$/);
});

const KUBELET_PEM = 'var/lib/kubelet/pki/kubelet-client-2026-11-23-00-00-00.pem';
const KUBELET_CUR = 'var/lib/kubelet/pki/kubelet-client-current.pem';
const FLAGS = ['--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1',
  '--control-plane-endpoint', 'cluster-api.example.test:6443', '--cert-sans', 'cluster-api.example.test,192.0.2.100'];

test('rebuild writes kubelet.conf on the kubelet\'s rotated pem, not embedded (its own check flagged kubelet-conf-embedded-cert)', async () => {
  // everything gone: a new pem, -current, and kubelet.conf as kubeadm's kubelet-finalize leaves it
  const root = tmpDir();
  const r = await cli('rebuild', '--root', root, '--now', NOW, ...FLAGS);
  assert.equal(r.code, 0, r.err);
  const kubeletConf = path.join(root, 'etc/kubernetes/kubelet.conf');
  const k = JSON.parse(execFileSync('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', kubeletConf]).toString());
  assert.deepEqual(k.users[0], { name: 'system:node:cp-1', user: { 'client-certificate': `/${KUBELET_CUR}`, 'client-key': `/${KUBELET_CUR}` } });
  // the fixture's kubelet.conf is in exactly this shape (after kubelet-finalize): same text but the CA
  const noCa = (t: string) => t.replace(/certificate-authority-data: .*/, '');
  assert.equal(noCa(fs.readFileSync(kubeletConf, 'utf8')), noCa(fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubelet.conf'), 'utf8')));
  assert.equal(fs.readlinkSync(path.join(root, KUBELET_CUR)), `/${KUBELET_PEM}`, 'absolute symlink, as the kubelet makes it');
  const pem = path.join(root, KUBELET_PEM);
  assert.equal(fs.statSync(pem).mode & 0o777, 0o600);
  assert.match(fs.readFileSync(pem, 'utf8'), /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', pem]).toString(), execFileSync('openssl', ['pkey', '-pubout', '-in', pem]).toString());
  const f = opensslFields(pem);
  assert.equal(f.subject, 'O = system:nodes, CN = system:node:cp-1');
  assert.equal(f.extKeyUsage, 'TLS Web Client Authentication');
  assert.match(opensslVerify(path.join(root, 'etc/kubernetes/pki/ca.crt'), pem, 'sslclient'), /: OK$/);
  const check = await cli('check', '--root', root, '--now', NOW, '-o', 'json');
  assert.doesNotMatch(check.out, /kubelet-conf-embedded-cert/, 'check has nothing to say about kubelet.conf');
  assert.doesNotMatch(r.out, /kubepki kubelet credentials --node cp-1/, 'no follow-up: the kubelet identity is from the new CA');

  // kubelet.conf lost, the kubelet's -current still valid for cp-1 and signed by the kept CA: just point at it
  const keep = copyFixture();
  fs.rmSync(path.join(keep, 'etc/kubernetes/kubelet.conf'));
  const target = fs.readlinkSync(path.join(keep, KUBELET_CUR));
  const files = fs.readdirSync(path.join(keep, 'var/lib/kubelet/pki')).sort();
  const kp = await cli('rebuild', '--root', keep, '--now', NOW);
  assert.equal(kp.code, 0, kp.err);
  assert.match(kp.out, /Wrote 1 file \(0 new keys\)/);
  assert.match(kp.out, /kubelet-client-current\.pem is valid for this node: kubelet\.conf points at it/);
  assert.equal(fs.readlinkSync(path.join(keep, KUBELET_CUR)), target);
  assert.deepEqual(fs.readdirSync(path.join(keep, 'var/lib/kubelet/pki')).sort(), files);
  assert.equal(fs.readFileSync(path.join(keep, 'etc/kubernetes/kubelet.conf'), 'utf8'), fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/kubelet.conf'), 'utf8'), 'byte-identical to kubeadm\'s');

  // ... but an expired -current is not used: a new pem, -current swapped, the old pem kept
  const exp = copyFixture('kubeadm-1.26-expired');
  fs.rmSync(path.join(exp, 'etc/kubernetes/kubelet.conf'));
  const oldTarget = fs.readlinkSync(path.join(exp, KUBELET_CUR));
  const e = await cli('rebuild', '--root', exp, '--now', NOW);
  assert.match(e.out, /the existing one is not used: it is expired/);
  assert.equal(fs.readlinkSync(path.join(exp, KUBELET_CUR)), `/${KUBELET_PEM}`);
  assert.ok(fs.existsSync(path.join(exp, oldTarget)));
  assert.match(opensslVerify(path.join(exp, 'etc/kubernetes/pki/ca.crt'), path.join(exp, KUBELET_PEM), 'sslclient'), /: OK$/);
});

test('rebuild on the expired tree says which kept files are expired and exits 1 (was: 11 expired certificates kept silently, exit 0)', async () => {
  const root = copyFixture('kubeadm-1.26-expired');
  const want = /Warnings:[\s\S]*- 11 kept files are expired \(apiserver\.crt, apiserver-kubelet-client\.crt, front-proxy-client\.crt, etcd\/server\.crt, etcd\/peer\.crt, etcd\/healthcheck-client\.crt, apiserver-etcd-client\.crt, admin\.conf, kubelet\.conf \(via \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem\), controller-manager\.conf, scheduler\.conf\): run `kubepki renew all --root (\S+)`/;
  const dry = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(dry.code, 1, dry.err);
  assert.equal(want.exec(dry.out)?.[1], root, 'the tree\'s --root: without it renew would act on the host');
  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, want);
  assert.match(r.out, /Wrote 0 files[^\n]*\nWarning: 11 kept files are expired/);
  const j = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '-o', 'json');
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.out).plan.expired.length, 11);
  // the same tree before it expired: nothing to say, exit 0
  const fresh = await cli('rebuild', '--root', copyFixture(), '--now', NOW, '--dry-run');
  assert.equal(fresh.code, 0, fresh.err);
  assert.doesNotMatch(fresh.out, /expired/);
  const help = await cli('rebuild', '--help');
  assert.match(help.out, /Exit codes:\n  0 .*\n  1 .*expired.*\n  2 .*put back.*\n  3 /);
});

test('rebuild keeps only files that work (review): a key that is not its certificate\'s, an sa.pub of another key, a kubelet.conf whose client pem is gone are refused with nothing written; --force replaces them, after which check finds nothing wrong', async () => {
  const root = tmpDir();
  const flags = ['--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1'];
  assert.equal((await cli('rebuild', ...flags)).code, 0);
  const pki = path.join(root, 'etc/kubernetes/pki');
  // another key in front-proxy-client.key and sa.pub; the kubelet's pem (and its directory) gone
  fs.copyFileSync(path.join(pki, 'apiserver.key'), path.join(pki, 'front-proxy-client.key'));
  fs.writeFileSync(path.join(pki, 'sa.pub'), execFileSync('openssl', ['pkey', '-in', path.join(pki, 'apiserver.key'), '-pubout']));
  fs.rmSync(path.join(root, 'var/lib/kubelet/pki'), { recursive: true });
  const before = fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8');
  const r = await cli('rebuild', ...flags);
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /front-proxy-client\.key is not its private key/);
  assert.match(r.err, /sa\.pub: it is not the public half of \/etc\/kubernetes\/pki\/sa\.key/);
  assert.match(r.err, /kubelet\.conf: it uses \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem, which does not exist/);
  assert.equal(fs.readFileSync(path.join(pki, 'sa.pub'), 'utf8'), before, 'nothing written');
  const saKey = fs.readFileSync(path.join(pki, 'sa.key'), 'utf8');
  const f = await cli('rebuild', ...flags, '--force');
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /REPLACE \/etc\/kubernetes\/pki\/sa\.pub\n/, 'only sa.pub: sa.key, which signed every token, stays');
  assert.equal(fs.readFileSync(path.join(pki, 'sa.key'), 'utf8'), saKey);
  const check = await cli('check', '--root', root, '--now', NOW);
  assert.equal(check.code, 0, check.out);
});

test('a kubelet.conf is read as client-go reads it: a relative client-certificate from its own directory (was: from /, so a working kubelet.conf was refused as "uses kubelet-client.pem, which does not exist"), and an empty client-certificate-data does not hide the file it uses', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  const kubelet = path.join(kdir, 'kubelet.conf');
  const original = fs.readFileSync(kubelet, 'utf8');
  // (-current is an absolute link, as the kubelet makes it: its target read under the root)
  fs.writeFileSync(path.join(kdir, 'kubelet-client.pem'), fs.readFileSync(path.join(root, fs.readlinkSync(path.join(root, KUBELET_CUR)))), { mode: 0o600 });
  fs.writeFileSync(kubelet, original.replaceAll(`/${KUBELET_CUR}`, 'kubelet-client.pem'));
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(lineAfter(d.out, /^ {2}KEEP +\/etc\/kubernetes\/kubelet\.conf$/), /^ +O=system:nodes, CN=system:node:cp-1; server /, 'the certificate of /etc/kubernetes/kubelet-client.pem');

  // the kubelet's pem gone, kubelet.conf on it with client-certificate-data: "" beside: client-go loads the file, so rebuild must see it missing
  fs.writeFileSync(kubelet, original.replace('    client-certificate: ', '    client-certificate-data: ""\n    client-certificate: '));
  fs.rmSync(path.join(root, 'var/lib/kubelet/pki'), { recursive: true });
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.out, /failed to keep \/etc\/kubernetes\/kubelet\.conf: it uses \/var\/lib\/kubelet\/pki\/kubelet-client-current\.pem, which does not exist/);
});

/** The fixture's kubeconfig `name` written into `root` with its CA named by file (`certificate-authority: ref`), its data emptied or removed. */
function caByFile(root: string, name: string, ref: string, keepEmptyData = false): void {
  const original = fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes', name), 'utf8');
  const edited = original.replace(/certificate-authority-data: \S+/, `${keepEmptyData ? 'certificate-authority-data: ""\n    ' : ''}certificate-authority: ${ref}`);
  assert.notEqual(edited, original);
  fs.writeFileSync(path.join(root, 'etc/kubernetes', name), edited);
}

test('a kubeconfig that names its CA by file is judged by that file, as client-go reads it (was: only certificate-authority-data was read, so a kubeconfig trusting another CA\'s file, or a file that is gone, was kept and the run exited 0)', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  const conf = (n: string) => path.join(kdir, n);
  // the cluster CA by file: relative to the kubeconfig's directory, and absolute (read inside --root)
  fs.copyFileSync(path.join(kdir, 'pki/ca.crt'), path.join(kdir, 'cluster-ca.crt'));
  caByFile(root, 'admin.conf', 'cluster-ca.crt');
  caByFile(root, 'controller-manager.conf', '/etc/kubernetes/cluster-ca.crt');
  caByFile(root, 'kubelet.conf', 'pki/ca.crt');
  const ok = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(ok.code, 0, ok.out + ok.err);
  for (const k of ['admin', 'controller-manager', 'kubelet']) assert.match(ok.out, new RegExp(`^ {2}KEEP +/etc/kubernetes/${k}\\.conf$`, 'm'));

  // another CA's file; one that is gone; an empty certificate-authority-data beside a file (client-go loads the file)
  caByFile(root, 'admin.conf', '/etc/kubernetes/pki/front-proxy-ca.crt');
  caByFile(root, 'scheduler.conf', 'gone.crt');
  caByFile(root, 'controller-manager.conf', 'pki/etcd/ca.crt', true);
  const bad = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(bad.code, 3, bad.out + bad.err);
  assert.ok(bad.out.includes('failed to keep /etc/kubernetes/admin.conf: its certificate-authority /etc/kubernetes/pki/front-proxy-ca.crt is not /etc/kubernetes/pki/ca.crt; remove it so it is re-created, or pass --force to back it up and replace it'), bad.out);
  assert.ok(bad.out.includes('failed to keep /etc/kubernetes/scheduler.conf: its certificate-authority /etc/kubernetes/gone.crt does not exist or holds no certificate; remove it so it is re-created'), bad.out);
  assert.ok(bad.out.includes('failed to keep /etc/kubernetes/controller-manager.conf: its certificate-authority /etc/kubernetes/pki/etcd/ca.crt is not /etc/kubernetes/pki/ca.crt'), bad.out);
  assert.doesNotMatch(bad.out, /failed to keep \/etc\/kubernetes\/kubelet\.conf/);

  // --force replaces the three with kubeconfigs that embed the cluster CA, as kubeadm writes them
  const f = await cli('rebuild', '--root', root, '--now', NOW, '--force');
  assert.equal(f.code, 0, f.out + f.err);
  for (const k of ['admin', 'scheduler', 'controller-manager']) {
    assert.match(f.out, new RegExp(`REPLACE /etc/kubernetes/${k}\\.conf`));
    const ca = /certificate-authority-data: (\S+)/.exec(fs.readFileSync(conf(`${k}.conf`), 'utf8'))?.[1];
    assert.equal(Buffer.from(ca ?? '', 'base64').toString('utf8'), fs.readFileSync(path.join(kdir, 'pki/ca.crt'), 'utf8'), `${k}.conf`);
  }
});

test('a kubeconfig whose certificate-authority is ca.crt itself trusts what the rebuild leaves there: with ca.crt gone and ca.key surviving it is kept, not refused as naming a missing file', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  caByFile(root, 'admin.conf', '/etc/kubernetes/pki/ca.crt');
  fs.rmSync(path.join(kdir, 'pki/ca.crt'));
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, /^ {2}KEEP +\/etc\/kubernetes\/admin\.conf$/m);
});

test('the API server join and kubelet credentials use is a kubeconfig\'s only through its current-context, as client-go finds it (was: a current-context naming no context gave the file\'s first cluster): such a kubeconfig is passed over for the next source, and named', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  const edit = (name: string, f: (t: string) => string) => fs.writeFileSync(path.join(kdir, name), f(fs.readFileSync(path.join(kdir, name), 'utf8')));
  // admin.conf's current-context names nothing; its only cluster points elsewhere (client-go uses no cluster of it)
  edit('admin.conf', (t) => t.replace(/^current-context: .*$/m, 'current-context: gone').replace(/server: \S+/, 'server: https://stale.example.test:6443'));
  const dangling = '/etc/kubernetes/admin.conf: its current-context "gone" names no context';
  assert.deepEqual(apiServerUrl(new NodeFs(root)), { url: 'https://cluster-api.example.test:6443', source: `/etc/kubernetes/kubelet.conf (server; not ${dangling})` });
  const j = await cli('join', '--root', root, '--out', path.join(tmpDir(), 'join.yaml'));
  assert.equal(j.code, 0, j.out + j.err);
  assert.ok(j.out.includes(`API server https://cluster-api.example.test:6443 (from /etc/kubernetes/kubelet.conf (server; not ${dangling}))`), j.out);
  assert.doesNotMatch(j.out, /stale\.example\.test/);

  // kubelet.conf with no current-context: client-go has no server either, so the manifest's advertise address
  edit('kubelet.conf', (t) => t.replace(/^current-context: .*\n/m, ''));
  const none = '/etc/kubernetes/kubelet.conf: it has no current-context';
  assert.deepEqual(apiServerUrl(new NodeFs(root)), { url: 'https://192.0.2.10:6443', source: `/etc/kubernetes/manifests/kube-apiserver.yaml (--advertise-address; not ${dangling}, nor ${none})` });
  // nothing else: the refusal names why the kubeconfigs did not count
  fs.rmSync(path.join(kdir, 'manifests/kube-apiserver.yaml'));
  assert.throws(() => apiServerUrl(new NodeFs(root)), (e: Error) => e.message === `failed to find the API server address: no admin.conf, super-admin.conf or kubelet.conf with a server, and no kube-apiserver manifest with --advertise-address on the node (${dangling}; ${none})`);
  assert.equal(apiServerUrl(new NodeFs(root), 'lb.example.test').url, 'https://lb.example.test:6443', 'the flag needs no file');
});

test('a KEEP line describes the certificate on disk (its SANs, subject, usages, end), and names the SANs this rebuild would need that it lacks', async () => {
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  // another service CIDR and an extra name: kubeadm would now put IP:10.100.0.1 and IP:192.0.2.200 there
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--service-cidr', '10.100.0.0/16', '--cert-sans', '192.0.2.200');
  assert.equal(d.code, 3, 'a kept certificate lacking names this node needs blocks the rebuild');
  const line = lineAfter(d.out, /^ {2}KEEP +\/etc\/kubernetes\/pki\/apiserver\.crt /);
  // the SANs as openssl reads them from the file
  const onDisk = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(pki, 'apiserver.crt')]).toString()
    .split('\n')[1]!.trim().replace(/IP Address:/g, 'IP:');
  assert.ok(line.includes(`SANs ${onDisk};`), `the file's SANs (${onDisk}): ${line}`);
  assert.match(line, /IP:10\.96\.0\.1, /, 'the address the certificate has');
  assert.match(line, /; missing SANs IP:10\.100\.0\.1, IP:192\.0\.2\.200; /);
  assert.doesNotMatch(line.replace(/missing SANs .*$/, ''), /10\.100\.0\.1|192\.0\.2\.200/, 'what kubeadm would write is not described as there');
  assert.match(line, /^ +CN=kube-apiserver; signed by ca; serverAuth; SANs /);
  assert.match(line, /until 2027-11-22T21:36:03Z$/);
  // a kept certificate with every name it needs says nothing is missing; one without SANs says so
  const etcd = lineAfter(d.out, /KEEP +\/etc\/kubernetes\/pki\/etcd\/server\.crt/);
  assert.match(etcd, /SANs DNS:cp-1, DNS:localhost, IP:192\.0\.2\.10, IP:127\.0\.0\.1, IP:::1; until /);
  const client = lineAfter(d.out, /KEEP +\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.crt/);
  assert.match(client, /O=system:masters, CN=kube-apiserver-kubelet-client; signed by ca; clientAuth; no SANs; until /);
});

test('a KEEP line of an unusable file says what it is on disk: a leaf another CA signed names that issuer (not "signed by ca"), a CA file holding no CA says so', async () => {
  const { makeCa, makeLeaf } = await import('./support/trees.js');
  const root = copyFixture();
  const pki = path.join(root, 'etc/kubernetes/pki');
  const issued = new Date('2026-11-01T00:00:00Z');
  const other = await makeCa('other-ca', issued, 3650, 'ecdsa-p384');
  const leaf = await makeLeaf(other, 'kube-apiserver', { eku: ['serverAuth'], notBefore: issued, days: 365, keyType: 'ecdsa-p384', sans: [{ type: 'dns', value: 'kubernetes' }] });
  fs.writeFileSync(path.join(pki, 'apiserver.crt'), leaf.pem);
  fs.writeFileSync(path.join(pki, 'apiserver.key'), leaf.keyPem, { mode: 0o600 });
  fs.copyFileSync(path.join(pki, 'front-proxy-client.crt'), path.join(pki, 'front-proxy-ca.crt'));
  fs.copyFileSync(path.join(pki, 'front-proxy-client.key'), path.join(pki, 'front-proxy-ca.key'));
  // what openssl says of them
  assert.notEqual(spawnSync('openssl', ['verify', '-CAfile', path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt')]).status, 0);
  assert.match(execFileSync('openssl', ['x509', '-noout', '-ext', 'basicConstraints', '-in', path.join(pki, 'front-proxy-ca.crt')]).toString(), /CA:FALSE/);
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 3, d.out + d.err);
  const after = (re: RegExp) => lineAfter(d.out, re);
  const api = after(/^ {2}KEEP +\/etc\/kubernetes\/pki\/apiserver\.crt /);
  assert.match(api, /^ +CN=kube-apiserver; issued by CN=other-ca, not signed by ca; serverAuth; SANs DNS:kubernetes; missing SANs .*; until /);
  const fp = after(/^ {2}KEEP +\/etc\/kubernetes\/pki\/front-proxy-ca\.crt /);
  assert.match(fp, /^ +CN=front-proxy-client; no CA \(no CA:TRUE\); /);
  assert.doesNotMatch(fp, /; CA;/);
  // a usable leaf still reads "signed by ca"
  assert.match(after(/^ {2}KEEP +\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.crt /), /; signed by ca; clientAuth; /);
});

/** `component → command` from renew's "Restart afterwards:" block. */
function renewRestarts(out: string): Map<string, string> {
  const block = out.split('\nRestart afterwards:\n')[1]?.split('\n\n')[0] ?? '';
  const lines = block.split('\n');
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i++) {
    const c = /^ {2}(\S+) \(/.exec(lines[i]!);
    if (c) m.set(c[1]!, lines[i + 1]!.trim());
  }
  return m;
}

/** `component → command` from rebuild's "restart what reads the files written here" follow-up. */
function rebuildRestarts(out: string): Map<string, string> {
  const block = out.split('restart what reads the files written here')[1]?.split('\n  - ')[0]?.split('\n\n')[0] ?? '';
  return new Map([...block.matchAll(/^ {6}(\S+) \(reads [^)]*\): (.+)$/gm)].map((x) => [x[1]!, x[2]!]));
}

test('rebuild --force replacing only etcd/server.crt (or apiserver.crt lacking a SAN) with the manifests kept names the static pod to restart and how, as renew does (it said "restart the kubelet", which leaves the running containers on the old certificate)', async () => {
  for (const [file, component, extra] of [
    ['etcd/server.crt', 'etcd', []],
    ['apiserver.crt', 'kube-apiserver', ['--cert-sans', 'cluster-api.example.test,192.0.2.100,192.0.2.200']],
  ] as const) {
    const root = copyFixture();
    const crt = path.join(root, 'etc/kubernetes/pki', file);
    const before = fs.readFileSync(crt, 'utf8');
    if (component === 'etcd') fs.writeFileSync(crt, 'not a certificate\n');
    const r = await cli('rebuild', '--root', root, '--now', NOW, '--force', ...extra);
    assert.equal(r.code, 0, r.out + r.err);
    assert.notEqual(fs.readFileSync(crt, 'utf8'), before, `${file} replaced`);
    if (component === 'kube-apiserver') assert.match(opensslFields(crt).sans, /IP Address:192\.0\.2\.200/);
    assert.doesNotMatch(r.out, /restart the kubelet \(`systemctl restart kubelet`\) so it starts the static pods/, r.out);
    const got = rebuildRestarts(r.out);
    assert.deepEqual([...got.keys()], [component], r.out);
    assert.match(got.get(component)!, new RegExp(`^mv /etc/kubernetes/manifests/${component}\\.yaml /etc/kubernetes/${component}\\.yaml\\.kubepki-parked && .*crictl ps --name '\\^${component}\\$' -q.*; mv /etc/kubernetes/${component}\\.yaml\\.kubepki-parked /etc/kubernetes/manifests/${component}\\.yaml; }$`));
    assert.match(r.out, new RegExp(`^ {6}${component} \\(reads /etc/kubernetes/pki/${file.replace('.', '\\.')}[,)]`, 'm'));
    // renew of the same file on an untouched copy gives the same advice
    const renewed = await cli('renew', '--file', `/etc/kubernetes/pki/${file}`, '--root', copyFixture(), '--now', NOW, '--dry-run');
    assert.equal(renewed.code, 0, renewed.out + renewed.err);
    assert.deepEqual(got, renewRestarts(renewed.out), `${r.out}\n---\n${renewed.out}`);
    // and the plan carries it (-o json)
    const j = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '-o', 'json');
    assert.deepEqual(JSON.parse(j.out).plan.restarts ?? [], [], 'nothing left to replace: nothing to restart');
  }
});

test('the etcd member re-add steps (no etcd data, other members) run etcdctl with the cluster\'s certificatesDir and say etcd joins as a new member that syncs from the others (they said "etcd joins the cluster with its data" with /var/lib/etcd empty)', async () => {
  for (const pki of ['/etc/kubernetes/pki', '/srv/kubernetes/pki']) {
    for (const from of ['manifests', 'kubelet config'] as const) {
      if (pki === '/etc/kubernetes/pki' && from === 'kubelet config') continue;
      const root = copyFixture();
      fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
      assert.ok(!fs.existsSync(path.join(root, 'var/lib/etcd')), 'no etcd data');
      if (pki !== '/etc/kubernetes/pki') {
        fs.mkdirSync(path.join(root, 'srv/kubernetes'), { recursive: true });
        fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'srv/kubernetes/pki'));
        const rewrite = (rel: string) => { const p = path.join(root, rel); fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replaceAll('/etc/kubernetes/pki', pki)); };
        for (const m of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) rewrite(`etc/kubernetes/manifests/${m}.yaml`);
        rewrite('etc/kubernetes/kubeadm-config.yaml');
        rewrite('var/lib/kubelet/config.yaml');
        // only the kubelet's clientCAFile is left to say where the PKI is
        if (from === 'kubelet config') for (const n of ['manifests', 'kubeadm-config.yaml']) fs.rmSync(path.join(root, 'etc/kubernetes', n), { recursive: true });
      }
      const r = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.26.1');
      assert.equal(r.code, 0, r.out + r.err);
      const steps = r.out.split('\n').filter((l) => /^ {6}etcdctl /.test(l));
      assert.equal(steps.length, 3, r.out);
      for (const st of steps) assert.match(st, new RegExp(`^ {6}etcdctl --endpoints https://127\\.0\\.0\\.1:2379 --cacert ${pki}/etcd/ca\\.crt --cert ${pki}/etcd/healthcheck-client\\.crt --key ${pki}/etcd/healthcheck-client\\.key member `), `${pki} from the ${from}`);
      assert.doesNotMatch(r.out, /joins the cluster with its data/);
      assert.match(r.out, /--initial-cluster-state=existing, and etcd, its data directory \/var\/lib\/etcd empty, joins the cluster as the new member that member add made and syncs the cluster's data from the other members \(nothing of this node's old data is used\)\n/);
    }
  }
});

test('rebuild on a node whose CA is RSA but whose leaves are ECDSA (encryptionAlgorithm changed after kubeadm init; certs renew re-keys leaves, never CAs): new keys follow the newest surviving leaf', async () => {
  const { makeLeaf } = await import('./support/trees.js');
  const { Certificate } = await import('../src/pki/certificate.js');
  const { parsePemBlocks } = await import('../src/pki/pem.js');
  const { createPrivateKey } = await import('node:crypto');
  const root = copyFixture();
  fs.rmSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'));
  const pki = path.join(root, 'etc/kubernetes/pki');
  const caPem = fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8');
  const caKey = createPrivateKey(fs.readFileSync(path.join(pki, 'ca.key')));
  const ca = { pem: caPem, keyPem: '', key: caKey, subject: new Certificate(parsePemBlocks(caPem)[0]!.der).subjectRaw, der: new Uint8Array() };
  // kubeadm certs renew with encryptionAlgorithm: ECDSA-P256 re-keyed this one (the others were then deleted)
  const renewed = await makeLeaf(ca, 'kube-apiserver-kubelet-client', { orgs: ['system:masters'], eku: ['clientAuth'], notBefore: new Date('2026-11-22T22:00:00Z'), days: 365, keyType: 'ecdsa-p256' });
  fs.writeFileSync(path.join(pki, 'apiserver-kubelet-client.crt'), renewed.pem);
  fs.writeFileSync(path.join(pki, 'apiserver-kubelet-client.key'), renewed.keyPem, { mode: 0o600 });
  for (const b of ['apiserver', 'front-proxy-client']) for (const e of ['crt', 'key']) fs.rmSync(path.join(pki, `${b}.${e}`));

  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, /keyType +ecdsa-p256 +\/etc\/kubernetes\/pki\/apiserver-kubelet-client\.crt \(key type/);
  const r = await cli('rebuild', '--root', root, '--now', NOW);
  assert.equal(r.code, 0, r.out + r.err);
  for (const b of ['apiserver', 'front-proxy-client']) {
    assert.match(fs.readFileSync(path.join(pki, `${b}.key`), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/, `${b}.key is ECDSA, as kubeadm would make it`);
    assert.match(execFileSync('openssl', ['x509', '-noout', '-text', '-in', path.join(pki, `${b}.crt`)]).toString(), /ASN1 OID: prime256v1/);
  }
  assert.match(opensslVerify(path.join(pki, 'ca.crt'), path.join(pki, 'apiserver.crt'), 'sslserver'), /: OK$/, 'the RSA CA signs the ECDSA leaf');
  assert.match(opensslVerify(path.join(pki, 'front-proxy-ca.crt'), path.join(pki, 'front-proxy-client.crt'), 'sslclient'), /: OK$/);

  // every pki leaf gone: the client certificate certs renew re-keyed in admin.conf says it as well
  const root2 = copyFixture();
  fs.rmSync(path.join(root2, 'etc/kubernetes/kubeadm-config.yaml'));
  const pki2 = path.join(root2, 'etc/kubernetes/pki');
  for (const b of ['apiserver', 'apiserver-kubelet-client', 'front-proxy-client', 'apiserver-etcd-client', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client']) for (const e of ['crt', 'key']) fs.rmSync(path.join(pki2, `${b}.${e}`));
  const admin = await makeLeaf(ca, 'kubernetes-admin', { orgs: ['system:masters'], eku: ['clientAuth'], notBefore: new Date('2026-11-22T22:00:00Z'), days: 365, keyType: 'ecdsa-p256' });
  const adminConf = path.join(root2, 'etc/kubernetes/admin.conf');
  fs.writeFileSync(adminConf, fs.readFileSync(adminConf, 'utf8')
    .replace(/client-certificate-data: \S+/, `client-certificate-data: ${Buffer.from(admin.pem).toString('base64')}`)
    .replace(/client-key-data: \S+/, `client-key-data: ${Buffer.from(admin.keyPem).toString('base64')}`));
  const r2 = await cli('rebuild', '--root', root2, '--now', NOW);
  assert.equal(r2.code, 0, r2.out + r2.err);
  assert.match(r2.out, /keyType +ecdsa-p256 +\/etc\/kubernetes\/admin\.conf \(key type/);
  assert.match(fs.readFileSync(path.join(pki2, 'etcd/server.key'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
});

test('a KEEP line of a kubeconfig says what is in the file: the server it points at (kubelet.conf on the local endpoint, as ControlPlaneKubeletLocalMode writes it) and its client certificate subject, not what kubeadm would write', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  const kubelet = path.join(kdir, 'kubelet.conf');
  fs.writeFileSync(kubelet, fs.readFileSync(kubelet, 'utf8').replace('server: https://cluster-api.example.test:6443', 'server: https://192.0.2.10:6443'));
  const sched = path.join(kdir, 'scheduler.conf');
  fs.writeFileSync(sched, fs.readFileSync(sched, 'utf8').replace(/server: \S+/, 'server: https://127.0.0.1:6443'));
  for (const b of ['apiserver']) for (const e of ['crt', 'key']) fs.rmSync(path.join(kdir, `pki/${b}.${e}`));
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  const after = (re: RegExp) => lineAfter(d.out, re);
  assert.match(after(/^ {2}KEEP +\/etc\/kubernetes\/kubelet\.conf$/), /^ +O=system:nodes, CN=system:node:cp-1; server https:\/\/192\.0\.2\.10:6443$/);
  assert.match(after(/^ {2}KEEP +\/etc\/kubernetes\/scheduler\.conf$/), /^ +CN=system:kube-scheduler; server https:\/\/127\.0\.0\.1:6443$/);
  assert.match(after(/^ {2}KEEP +\/etc\/kubernetes\/admin\.conf$/), /^ +O=system:masters, CN=kubernetes-admin; server https:\/\/cluster-api\.example\.test:6443$/);
});

test('rebuild on one of several control-plane nodes that lost admin.conf, its kubelet.conf on the local endpoint: it says the cluster has a controlPlaneEndpoint (kubeadm adds control-plane nodes only then) and names the candidates apiserver.crt carries', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  fs.rmSync(path.join(kdir, 'kubeadm-config.yaml'));
  fs.rmSync(path.join(kdir, 'admin.conf'));
  const kubelet = path.join(kdir, 'kubelet.conf');
  fs.writeFileSync(kubelet, fs.readFileSync(kubelet, 'utf8').replace('server: https://cluster-api.example.test:6443', 'server: https://192.0.2.10:6443'));
  const etcd = path.join(kdir, 'manifests/etcd.yaml');
  fs.writeFileSync(etcd, fs.readFileSync(etcd, 'utf8').replace(/--initial-cluster=\S+/, '--initial-cluster=cp-0=https://192.0.2.9:2380,cp-1=https://192.0.2.10:2380'));
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(d.code, 0, d.out + d.err);
  assert.match(d.out, /controlPlaneEndpoint +\(none\)/);
  const w = d.out.split('\n').find((l) => /controlPlaneEndpoint/.test(l) && /^ {2}- /.test(l));
  assert.ok(w, d.out);
  assert.match(w, /one of several control-plane nodes \(etcd\.yaml --initial-cluster lists 2 members \(cp-0, cp-1\)\)/);
  assert.match(w, /kubeadm join --control-plane refuses a cluster without a controlPlaneEndpoint/);
  assert.match(w, /pass --control-plane-endpoint HOST:PORT .*apiserver\.crt also names cluster-api\.example\.test, 192\.0\.2\.100/);
  // with it given, admin.conf points there
  const r = await cli('rebuild', '--root', root, '--now', NOW, '--control-plane-endpoint', 'cluster-api.example.test:6443');
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /refuses a cluster without a controlPlaneEndpoint/);
  assert.match(fs.readFileSync(path.join(kdir, 'admin.conf'), 'utf8'), /server: https:\/\/cluster-api\.example\.test:6443/);
});

test('rebuild on a 1.33 control-plane node of several that lost admin.conf (kubelet.conf on the local endpoint, as 1.33 writes it): one warning says no endpoint was found, why, and that the cluster must have one (was: the general "no control-plane endpoint found" warning beside the specific one)', async () => {
  const root = copyFixture();
  const kdir = path.join(root, 'etc/kubernetes');
  fs.rmSync(path.join(kdir, 'kubeadm-config.yaml'));
  fs.rmSync(path.join(kdir, 'admin.conf'));
  const kubelet = path.join(kdir, 'kubelet.conf');
  fs.writeFileSync(kubelet, fs.readFileSync(kubelet, 'utf8').replace('server: https://cluster-api.example.test:6443', 'server: https://192.0.2.10:6443'));
  const etcd = path.join(kdir, 'manifests/etcd.yaml');
  fs.writeFileSync(etcd, fs.readFileSync(etcd, 'utf8').replace(/--initial-cluster=\S+/, '--initial-cluster=cp-0=https://192.0.2.9:2380,cp-1=https://192.0.2.10:2380'));
  const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.33.0');
  assert.equal(d.code, 0, d.out + d.err);
  const ws = d.out.split('\n').filter((l) => /^ {2}- /.test(l) && /control-?plane ?endpoint/i.test(l));
  assert.equal(ws.length, 1, ws.join('\n'));
  assert.match(ws[0]!, /^ {2}- no controlPlaneEndpoint found on the node \(admin\.conf and kubeadm configs are gone; kubelet\.conf points at the local endpoint, as it always does from 1\.33\), but this node is one of several control-plane nodes \(etcd\.yaml --initial-cluster lists 2 members \(cp-0, cp-1\)\)/);
  assert.match(ws[0]!, /pass --control-plane-endpoint HOST:PORT .*apiserver\.crt also names cluster-api\.example\.test, 192\.0\.2\.100/);
});

test('a new sa.key on a node whose cluster has a control-plane endpoint (kubeadm\'s sign of several control-plane nodes, which keeps etcd.yaml from starting a new etcd cluster) is warned about, with the import that brings the others\' key; without an endpoint, no such warning', async () => {
  for (const endpoint of [true, false]) {
    const root = copyFixture('kubeadm-1.26');
    const etc = path.join(root, 'etc/kubernetes');
    // everything but the three CA pairs and kubeadm-config.yaml: no kubeconfig left to show the cluster
    const keep = /^(pki\/(ca|front-proxy-ca|etcd\/ca)\.(crt|key)|kubeadm-config\.yaml)$/;
    for (const f of fs.readdirSync(etc, { recursive: true }) as string[]) if (fs.statSync(path.join(etc, f)).isFile() && !keep.test(f)) fs.rmSync(path.join(etc, f));
    if (!endpoint) {
      const cfg = path.join(etc, 'kubeadm-config.yaml');
      fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/^\s*controlPlaneEndpoint:.*\n/m, ''));
    }
    const io = memoryIo();
    await run(['rebuild', '--root', root, '--now', '2026-11-23', '--dry-run', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.26.1'], io);
    assert.match(io.out, /\n {2}CREATE +\/etc\/kubernetes\/pki\/sa\.key/, io.out + io.err);
    const warned = /sa\.key is made new, and the cluster has the control-plane endpoint cluster-api\.example\.test:6443, which kubeadm requires for more than one control-plane node: if other control-plane nodes exist, bring sa\.key from one of them first \(there `kubepki ca export --out shared\.yaml`, here `kubepki ca import shared\.yaml --certificate-key KEY --root [^`]+`\)/;
    if (endpoint) assert.match(io.out + io.err, warned);
    else assert.doesNotMatch(io.out + io.err, /sa\.key is made new, and the cluster has the control-plane endpoint/);
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a service range nothing on the node gives is not guessed against a surviving apiserver.crt: its first IP SAN (the kubernetes Service IP, first in kubeadm\'s GetAPIServerAltNames) outside kubeadm\'s default stops the run (was: 10.96.0.0/12 assumed, 10.233.0.1 taken for a certSAN, apiserver.crt refused for lacking 10.96.0.1, and --force would have written --service-cluster-ip-range=10.96.0.0/12); a kubelet clusterDNS outside the default is warned of', async () => {
  const root = tmpDir();
  const base = ['--root', root, '--now', NOW, '--kubernetes-version', 'v1.30.4', '--key-type', 'ecdsa-p256'];
  const made = await cli('rebuild', ...base, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--service-cidr', '10.233.0.0/18');
  assert.equal(made.code, 0, made.out + made.err);
  // rm -rf of everything that says the range: manifests, kubeconfigs; the pki directory survives
  const etc = path.join(root, 'etc/kubernetes');
  for (const n of fs.readdirSync(etc)) if (n !== 'pki') fs.rmSync(path.join(etc, n), { recursive: true, force: true });
  fs.rmSync(path.join(root, 'var/lib/kubepki'), { recursive: true, force: true });
  const guessed = await cli('rebuild', ...base, '--dry-run');
  assert.equal(guessed.code, 3, guessed.out + guessed.err);
  assert.match(guessed.err, /failed to work out serviceSubnet \(--service-cidr\): \/etc\/kubernetes\/pki\/apiserver\.crt's first IP SAN 10\.233\.0\.1 is the cluster's kubernetes Service IP/);
  assert.match(guessed.err, /hint: pass --service-cidr/);
  const given = await cli('rebuild', ...base, '--dry-run', '--service-cidr', '10.233.0.0/18');
  assert.equal(given.code, 0, given.out + given.err);
  assert.match(given.out, /\n {2}KEEP +\/etc\/kubernetes\/pki\/apiserver\.crt/);
  assert.match(given.out, /\n {2}certSANs +\(none\) +\/etc\/kubernetes\/pki\/apiserver\.crt \(no SANs beyond kubeadm's own\)/);
  fs.rmSync(root, { recursive: true, force: true });

  // nothing but the kubelet's config: its clusterDNS (kubeadm's GetDNSIP, the 10th address of the service subnet) is a check, not a range
  for (const [dns, warned] of [['fd00:96::a', true], ['10.96.0.10', false]] as const) {
    const r = tmpDir();
    fs.mkdirSync(path.join(r, 'var/lib/kubelet'), { recursive: true });
    fs.writeFileSync(path.join(r, 'var/lib/kubelet/config.yaml'), `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS:\n- ${dns}\nclusterDomain: cluster.local\n`);
    const d = await cli('rebuild', '--root', r, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.30.4', '--node-name', 'cp-1', '--advertise-address', '192.0.2.10');
    assert.equal(d.code, 0, d.out + d.err);
    const w = /serviceSubnet is kubeadm's default 10\.96\.0\.0\/12 \(nothing left on the node says it\), but \/var\/lib\/kubelet\/config\.yaml's clusterDNS (\S+) is outside it/.exec(d.out);
    assert.equal(w?.[1], warned ? dns : undefined, d.out);
    fs.rmSync(r, { recursive: true, force: true });
  }
  // a surviving apiserver.crt whose Service IP is the default's confirms it: a nodelocaldns clusterDNS is no reason to doubt
  const kept = copyFixture();
  for (const n of ['manifests', 'kubeadm-config.yaml', 'admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf']) fs.rmSync(path.join(kept, 'etc/kubernetes', n), { recursive: true });
  const kcfg = path.join(kept, 'var/lib/kubelet/config.yaml');
  fs.writeFileSync(kcfg, fs.readFileSync(kcfg, 'utf8').replace('- 10.96.0.10', '- 169.254.25.10'));
  const k = await cli('rebuild', '--root', kept, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.26.1');
  assert.equal(k.code, 0, k.out + k.err);
  assert.match(k.out, /\n {2}serviceSubnet +10\.96\.0\.0\/12 +kubeadm default\n/);
  assert.doesNotMatch(k.out, /clusterDNS/);
  fs.rmSync(kept, { recursive: true, force: true });
});

test('the kubelet\'s --node-ip=:: (or 0.0.0.0) picks an address family, not an address: it is no advertise address (was: the apiserver advertised "::" and apiserver.crt carried IP:::), and an unspecified one from any source is refused', async () => {
  for (const nodeIp of ['::', '0.0.0.0']) {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'var/lib/kubelet'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), `KUBELET_KUBEADM_ARGS="--hostname-override=cp-1 --node-ip=${nodeIp}"\n`);
    const d = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.31.2');
    assert.equal(d.code, 3, d.out + d.err);
    assert.match(d.err, /failed to work out advertiseAddress \(--advertise-address\)/);
    const given = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.31.2', '--advertise-address', '192.0.2.10');
    assert.equal(given.code, 0, given.out + given.err);
    assert.match(given.out, /\n {2}nodeName +cp-1 +\/var\/lib\/kubelet\/kubeadm-flags\.env \(--hostname-override\)/);
    fs.rmSync(root, { recursive: true, force: true });
  }
  const empty = tmpDir();
  const d = await cli('rebuild', '--root', empty, '--now', NOW, '--dry-run', '--kubernetes-version', 'v1.31.2', '--node-name', 'cp-1', '--advertise-address', '::');
  assert.equal(d.code, 3, d.out + d.err);
  assert.match(d.err, /failed to use advertiseAddress "::" from flag --advertise-address: it is the unspecified address/);
  fs.rmSync(empty, { recursive: true, force: true });
});

test('on an IPv6 control plane the etcd member re-add steps reach etcd on [::1], where kubeadm\'s etcd listens (getEtcdCommand: the loopback of the advertise address\'s family), not 127.0.0.1, which it does not', async () => {
  const root = tmpDir();
  const flags = ['--root', root, '--now', NOW, '--kubernetes-version', 'v1.31.2', '--key-type', 'ecdsa-p256', '--node-name', 'cp-v6', '--advertise-address', 'fd00:10::5', '--control-plane-endpoint', 'api.v6.example.test:6443', '--service-cidr', 'fd00:96::/108'];
  const made = await cli('rebuild', ...flags);
  assert.equal(made.code, 0, made.out + made.err);
  assert.match(fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'), 'utf8'), /--listen-client-urls=https:\/\/\[::1\]:2379,https:\/\/\[fd00:10::5\]:2379\n/);
  fs.rmSync(path.join(root, 'etc/kubernetes/manifests/etcd.yaml'));
  const r = await cli('rebuild', ...flags, '--dry-run');
  assert.equal(r.code, 0, r.out + r.err);
  const steps = r.out.split('\n').filter((l) => /^ {6}etcdctl /.test(l));
  assert.equal(steps.length, 3, r.out);
  for (const st of steps) assert.match(st, /^ {6}etcdctl --endpoints https:\/\/\[::1\]:2379 --cacert \/etc\/kubernetes\/pki\/etcd\/ca\.crt /);
  assert.match(r.out, /member add cp-v6 --peer-urls=https:\/\/\[fd00:10::5\]:2380\n/);
  fs.rmSync(root, { recursive: true, force: true });
});

test('new certificates that would end after the kept CA that signs them are warned of in the plan, as renew does (was: written silently, and check right after found ca-expires-before-leaf)', async () => {
  const root = copyFixture();
  for (const f of ['pki/apiserver.crt', 'pki/apiserver.key', 'admin.conf']) fs.rmSync(path.join(root, 'etc/kubernetes', f));
  const long = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run', '--validity', '100000h');
  assert.equal(long.code, 0, long.out + long.err);
  // ca.crt of the fixture ends 2036-11-19; 100000h from 2026-11-23 is 2038-04-20
  assert.match(long.out, /\n {2}- apiserver and admin\.conf would outlive their CA ca \(it ends 2036-11-19, they on 2038-04-20\): from then on they no longer verify; pass a shorter --validity, or make the CA last longer first \(`kubepki renew ca --root \S+ --validity …`, which keeps its key\)\n/);
  const usual = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.equal(usual.code, 0, usual.out + usual.err);
  assert.doesNotMatch(usual.out, /outlive/);
  fs.rmSync(root, { recursive: true, force: true });
});

test('a kubeconfig server on this node\'s own address with another port is its API server\'s bindPort, not a shared endpoint (was: controlPlaneEndpoint 192.0.2.10:8443 and --secure-port=6443, so nothing reached the API server, and etcd.yaml was held back as if other members existed)', async () => {
  const root = tmpDir();
  const base = ['--root', root, '--now', NOW, '--kubernetes-version', 'v1.30.4', '--key-type', 'ecdsa-p256'];
  const made = await cli('rebuild', ...base, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--bind-port', '8443');
  assert.equal(made.code, 0, made.out + made.err);
  const etc = path.join(root, 'etc/kubernetes');
  for (const n of ['manifests', 'admin.conf', 'super-admin.conf']) fs.rmSync(path.join(etc, n), { recursive: true });
  fs.rmSync(path.join(root, 'var/lib/kubepki'), { recursive: true, force: true });
  const d = await cli('rebuild', ...base, '--dry-run');
  assert.match(d.out, /\n {2}bindPort +8443 +\/etc\/kubernetes\/kubelet\.conf \(server on this node's advertise address\)\n/);
  assert.match(d.out, /\n {2}controlPlaneEndpoint +\(none\) /);
  const r = await cli('rebuild', ...base);
  assert.equal(r.code, 0, r.out + r.err);
  assert.doesNotMatch(r.out, /etcd\.yaml was not written/);
  const api = fs.readFileSync(path.join(etc, 'manifests/kube-apiserver.yaml'), 'utf8');
  assert.match(api, /\n {4}- --secure-port=8443\n/);
  assert.match(api, /kube-apiserver\.advertise-address\.endpoint: 192\.0\.2\.10:8443\n/);
  assert.ok(fs.existsSync(path.join(etc, 'manifests/etcd.yaml')));
  for (const f of ['admin.conf', 'kubelet.conf', 'controller-manager.conf', 'scheduler.conf']) assert.equal(kubeconfigClientPem(path.join(etc, f), root).server, 'https://192.0.2.10:8443', f);
  fs.rmSync(root, { recursive: true, force: true });
});

test('the pod network CIDR nothing kubeadm wrote is left to say: flannel\'s FLANNEL_NETWORK gives it (kube-controller-manager allocates node ranges again), and without it the plan says what is lost (was: dropped silently)', async () => {
  const flags = ['--service-cidr', '10.96.0.0/12', ...FLAGS];
  const bare = tmpDir();
  const without = await cli('rebuild', '--root', bare, '--now', NOW, ...flags, '--dry-run');
  assert.equal(without.code, 0, without.err);
  assert.match(without.out, /podSubnet is unknown \(nothing left on the node says it\), so kube-controller-manager gets no --cluster-cidr .*pass --pod-network-cidr/);

  const root = tmpDir();
  fs.mkdirSync(path.join(root, 'run/flannel'), { recursive: true });
  fs.writeFileSync(path.join(root, 'run/flannel/subnet.env'), 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n');
  const r = await cli('rebuild', '--root', root, '--now', NOW, ...flags);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /podSubnet is unknown/);
  const kcm = fs.readFileSync(path.join(root, 'etc/kubernetes/manifests/kube-controller-manager.yaml'), 'utf8');
  assert.match(kcm, /- --allocate-node-cidrs=true\n/);
  assert.match(kcm, /- --cluster-cidr=10\.244\.0\.0\/16\n/);
  // (what kubeadm wrote with --pod-network-cidr 10.244.0.0/16)
  assert.equal(kcm, fs.readFileSync(path.join(KUBEADM_126, 'etc/kubernetes/manifests/kube-controller-manager.yaml'), 'utf8'));
});

test('new cluster and front-proxy CAs: the plan says kube-apiserver keeps the old ones in extension-apiserver-authentication beside the new (its trust controller merges the bundles) and how to remove them (seed 003)', async () => {
  const r = await cli('rebuild', '--root', tmpDir(), '--now', NOW, '--service-cidr', '10.96.0.0/12', '--pod-network-cidr', '10.244.0.0/16', ...FLAGS, '--dry-run');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out.replace(/\s+/g, ' '), /kube-apiserver adds the new cluster CA and front-proxy CA to kube-system\/extension-apiserver-authentication \(client-ca-file and requestheader-client-ca-file\) when it starts, and keeps the old one beside it .*kubectl -n kube-system edit configmap extension-apiserver-authentication/);
  // a CA that keeps its key (ca.key survived) changes nothing there worth removing
  const root = copyFixture();
  fs.rmSync(path.join(root, 'etc/kubernetes/pki/ca.crt'));
  const kept = await cli('rebuild', '--root', root, '--now', NOW, '--dry-run');
  assert.doesNotMatch(kept.out, /extension-apiserver-authentication/);
});
