import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { run } from '../src/cli/main.js';
import { memoryIo } from '../src/cli/io.js';
import { discoveryHash } from '../src/pki/discovery.js';
import { verifyClusterInfoJws } from '../src/pki/jws.js';
import { parsePemBlocks } from '../src/pki/pem.js';
import { openFiles } from '../src/pki/upload-certs.js';
import { FIXTURES, KUBEADM_126, NOW, copyFixture, tmpDir } from './rebuild-support.js';

async function cli(...argv: string[]) {
  const io = memoryIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** The openssl pipeline that works for any key type (the usual `openssl rsa -pubin` one breaks on ECDSA). */
function opensslHash(caFile: string): string {
  const hex = execSync(`openssl x509 -pubkey -noout -in '${caFile}' | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex`).toString();
  return `sha256:${/([0-9a-f]{64})/.exec(hex)![1]}`;
}

function docs(file: string): any[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS());
}

test('discovery hash equals openssl for an RSA CA and an ECDSA CA, and join prints it', async () => {
  const rsa = path.join(KUBEADM_126, 'etc/kubernetes/pki/ca.crt');
  const der = parsePemBlocks(fs.readFileSync(rsa, 'utf8'))[0]!.der;
  assert.equal(discoveryHash(der), opensslHash(rsa));

  const ecRoot = tmpDir();
  const r = await cli('rebuild', '--root', ecRoot, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.31.0', '--key-type', 'ecdsa-p256');
  assert.equal(r.code, 0, r.err);
  const ec = path.join(ecRoot, 'etc/kubernetes/pki/ca.crt');
  assert.match(execSync(`openssl x509 -noout -text -in '${ec}'`).toString(), /id-ecPublicKey/);
  const want = opensslHash(ec);
  const out = path.join(tmpDir(), 'join.yaml');
  const j = await cli('join', '--root', ecRoot, '--now', NOW, '--out', out);
  assert.equal(j.code, 0, j.err);
  assert.ok(j.out.includes(`--discovery-token-ca-cert-hash ${want}`), j.out);
  // the server comes from the rebuilt admin.conf
  assert.match(j.out, /kubeadm join 192\.0\.2\.10:6443/);
  // the --out file is made new (the write itself refuses one that is there), or replaced with --force
  const first = fs.readFileSync(out);
  const again = await cli('join', '--root', ecRoot, '--now', NOW, '--out', out);
  assert.equal(again.code, 3, again.out);
  assert.match(again.err, /failed to write \S+join\.yaml: it exists\n  hint: pass --force/);
  assert.deepEqual(fs.readFileSync(out), first);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['join.yaml'], 'no temp file left');
  const forced = await cli('join', '--root', ecRoot, '--now', NOW, '--out', out, '--force');
  assert.equal(forced.code, 0, forced.err);
  assert.notDeepEqual(fs.readFileSync(out), first, 'a new token');
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
});

test('join on the kubeadm-1.26 tree: token, commands, token Secret and a cluster-info identical to what the API server signed', async () => {
  const root = copyFixture();
  const out = path.join(tmpDir(), 'join.yaml');
  // the token of the recording: our cluster-info must be byte for byte what the bootstrapsigner signed
  const r = await cli('join', '--root', root, '--now', '2026-11-22T21:43:39Z', '--token', 'w7k2qx.9fj3m1r8t4zq6b0c', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const hash = opensslHash(path.join(root, 'etc/kubernetes/pki/ca.crt'));
  assert.match(r.out, /kubeadm join cluster-api\.example\.test:6443 \\\n\s+--token w7k2qx\.9fj3m1r8t4zq6b0c \\\n\s+--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}/);
  assert.ok(r.out.includes(hash));
  assert.doesNotMatch(r.out, /--control-plane/);
  const [secret, cm, ...rest] = docs(out);
  assert.equal(rest.length, 0);
  assert.equal(secret.kind, 'Secret');
  assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
  assert.equal(Buffer.from(secret.data['token-secret'], 'base64').toString(), '9fj3m1r8t4zq6b0c');
  assert.equal(Buffer.from(secret.data.expiration, 'base64').toString(), '2026-11-23T21:43:39Z');

  const rec = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'apiserver/bootstrap-token.json'), 'utf8'));
  const recorded = rec.requests.map((x: any) => x.responseBody).find((b: any) => b?.kind === 'ConfigMap' && b.data?.['jws-kubeconfig-w7k2qx']);
  assert.ok(recorded, 'recorded cluster-info');
  assert.equal(cm.metadata.namespace, 'kube-public');
  assert.equal(cm.data.kubeconfig, recorded.data.kubeconfig);
  assert.equal(cm.data['jws-kubeconfig-w7k2qx'], recorded.data['jws-kubeconfig-w7k2qx']);
  assert.ok(verifyClusterInfoJws(cm.data['jws-kubeconfig-w7k2qx'], cm.data.kubeconfig, 'w7k2qx', '9fj3m1r8t4zq6b0c'));
  assert.ok(!verifyClusterInfoJws(cm.data['jws-kubeconfig-w7k2qx'], cm.data.kubeconfig, 'w7k2qx', '0000000000000000'));
});

test('join --control-plane: certificate key and a kubeadm-certs Secret that opens to the shared files', async () => {
  const root = copyFixture();
  const out = path.join(tmpDir(), 'join.yaml');
  const r = await cli('join', '--root', root, '--now', NOW, '--control-plane', '--out', out, '--ttl', '2h');
  assert.equal(r.code, 0, r.err);
  const m = /--token ([a-z0-9]{6}\.[a-z0-9]{16})/.exec(r.out);
  assert.ok(m, 'a spec §5 token');
  const key = /--certificate-key ([0-9a-f]{64})/.exec(r.out)?.[1];
  assert.ok(key, r.out);
  const all = docs(out);
  assert.deepEqual(all.map((d) => d.kind), ['Secret', 'ConfigMap', 'Secret', 'Role', 'RoleBinding']);
  const certs = all[2];
  assert.equal(certs.metadata.name, 'kubeadm-certs');
  const files = openFiles(Buffer.from(key!, 'hex'), certs.data);
  const pki = path.join(KUBEADM_126, 'etc/kubernetes/pki');
  for (const rel of ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key', 'etcd/ca.crt', 'etcd/ca.key']) {
    assert.deepEqual(files[rel], fs.readFileSync(path.join(pki, rel)), rel);
  }
  const bad = await cli('join', '--root', root, '--token', 'NOT-A-TOKEN', '--out', path.join(tmpDir(), 'x.yaml'));
  assert.equal(bad.code, 3);
  assert.match(bad.err, /expected 6 then 16 characters/);
});

test('join warns when the token it prints is already past on the machine\'s clock (--now in the past): the cluster would delete it', async () => {
  const root = copyFixture();
  const out = path.join(tmpDir(), 'join.yaml');
  const past = await cli('join', '--root', root, '--now', '2020-01-01', '--out', out);
  assert.equal(past.code, 0, past.err);
  assert.match(past.out, /Token \w{6}\.<secret> expires 2020-01-02T00:00:00Z\. Warning: that is already past on this machine's clock/);
  const future = await cli('join', '--root', root, '--now', '2099-01-01', '--out', out, '--force');
  assert.equal(future.code, 0, future.err);
  assert.doesNotMatch(future.out, /Warning/);
});

test('join finds a moved certificatesDir the way check does: with the apiserver manifest parked, from the kubelet config or kubeadm-config.yaml', async () => {
  for (const source of ['kubelet-config', 'kubeadm-config'] as const) {
    const root = copyFixture();
    fs.mkdirSync(path.join(root, 'etc/k8s'));
    fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/k8s/pki'));
    // the control plane stopped by parking its manifests (what an operator does before restoring the PKI)
    fs.rmSync(path.join(root, 'etc/kubernetes/manifests'), { recursive: true });
    const kubelet = path.join(root, 'var/lib/kubelet/config.yaml');
    if (source === 'kubelet-config') fs.writeFileSync(kubelet, fs.readFileSync(kubelet, 'utf8').replaceAll('/etc/kubernetes/pki', '/etc/k8s/pki'));
    else {
      fs.rmSync(kubelet);
      fs.writeFileSync(path.join(root, 'etc/kubernetes/kubeadm-config.yaml'), 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncertificatesDir: /etc/k8s/pki\ncontrolPlaneEndpoint: cluster-api.example.test:6443\n');
    }
    const r = await cli('join', '--root', root, '--now', '2026-11-22T21:43:39Z', '--out', path.join(tmpDir(), 'join.yaml'));
    assert.equal(r.code, 0, `${source}: ${r.err}`);
    assert.ok(r.out.includes(opensslHash(path.join(root, 'etc/k8s/pki/ca.crt'))), `${source}: ${r.out}`);
  }
});

test('join --control-plane on a cluster made without a controlPlaneEndpoint warns that kubeadm join --control-plane refuses it (was: printed the command as if it worked); not with an endpoint, nor for workers', async () => {
  // kubeadm init with no --control-plane-endpoint: admin.conf's server is this node's own advertise address
  const root = tmpDir();
  const made = await cli('rebuild', '--root', root, '--now', NOW, '--node-name', 'cp-1', '--advertise-address', '192.0.2.10', '--kubernetes-version', 'v1.30.2');
  assert.equal(made.code, 0, made.err);
  const server = execSync(`kubectl config view --raw --kubeconfig '${path.join(root, 'etc/kubernetes/admin.conf')}' -o jsonpath='{.clusters[0].cluster.server}'`).toString();
  assert.equal(server, 'https://192.0.2.10:6443', 'kubectl: admin.conf dials the node itself');
  const out = () => path.join(tmpDir(), 'join.yaml');
  const cp = await cli('join', '--root', root, '--control-plane', '--out', out());
  assert.equal(cp.code, 0, cp.err);
  assert.match(cp.out, /--control-plane \\\n +--certificate-key [0-9a-f]{64}\n[\s\S]*Warning: joiners dial https:\/\/192\.0\.2\.10:6443, this node's own address .*kubeadm join --control-plane then refuses \("unable to add a new control plane instance … doesn't have a stable controlPlaneEndpoint address"\).*kubectl -n kube-system get cm kubeadm-config/);
  // the discovery hash it prints is openssl's
  assert.ok(cp.out.includes(`--discovery-token-ca-cert-hash ${opensslHash(path.join(root, 'etc/kubernetes/pki/ca.crt'))}`), cp.out);
  const json = await cli('join', '--root', root, '--control-plane', '--out', out(), '-o', 'json');
  assert.match(JSON.parse(json.out).controlPlaneWarning, /stable controlPlaneEndpoint/);
  // a worker join needs no endpoint; an endpoint given (a load balancer) is what joiners dial
  assert.doesNotMatch((await cli('join', '--root', root, '--out', out())).out, /Warning/);
  assert.doesNotMatch((await cli('join', '--root', root, '--control-plane', '--control-plane-endpoint', 'lb.example.test:6443', '--out', out())).out, /Warning/);
  // the fixture's cluster has one (its kubeadm config says so): no warning; a config without one is named
  const fx = copyFixture();
  assert.doesNotMatch((await cli('join', '--root', fx, '--control-plane', '--out', out())).out, /Warning/);
  const cfg = path.join(fx, 'etc/kubernetes/kubeadm-config.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(/^controlPlaneEndpoint: .*\n/m, ''));
  assert.match((await cli('join', '--root', fx, '--control-plane', '--out', out())).out, /Warning: \/etc\/kubernetes\/kubeadm-config\.yaml has no ClusterConfiguration\.controlPlaneEndpoint: kubeadm join --control-plane refuses/);
});
