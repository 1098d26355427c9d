// Renewal: `kubepki renew all` on a copy of kubeadm-1.26-expired (12 certificates:
// 9 PKI files, 3 kubeconfigs… plus the kubelet pem and serving pair), keys kept
// and with --new-key, whole CLI process each time (start-up, read, plan, sign,
// backup, atomic writes, verify). Beside it, the same leaf set regenerated with
// openssl commands in one shell script (x509toreq + x509 -req -copy_extensions
// per certificate, as seed 000 did by hand; genpkey + req + x509 -req for new keys).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { median, timeSpawn } from './lib/measure.mjs';

function copyTree(ctx, name, tag) {
  const dst = path.join(ctx.tmp, `renew-${tag}`);
  fs.rmSync(dst, { recursive: true, force: true });
  fs.cpSync(path.join(ctx.fixtures, name), dst, { recursive: true, verbatimSymlinks: true });
  const fix = (p) => {
    for (const d of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, d.name);
      if (d.isSymbolicLink()) continue;
      if (d.isDirectory()) { fs.chmodSync(q, 0o755); fix(q); continue; }
      // a checkout without symlinks leaves `kubelet-client-current.pem` as a file holding the target path
      if (d.name.endsWith('-current.pem')) {
        const t = fs.readFileSync(q, 'utf8').trim();
        if (/^\/\S+\.pem$/.test(t)) { fs.rmSync(q); fs.symlinkSync(t, q); continue; }
      }
      fs.chmodSync(q, /(\.key|\.conf|kubelet-client-.*\.pem)$/.test(d.name) ? 0o600 : 0o644);
    }
  };
  fs.chmodSync(dst, 0o755);
  fix(dst);
  return dst;
}

const CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/;
const KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----\n/;

/** The leaf set as cert/key/CA files for openssl (extraction not timed). */
function opensslSet(root, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const pki = path.join(root, 'etc/kubernetes/pki');
  const ca = { ca: [path.join(pki, 'ca.crt'), path.join(pki, 'ca.key')], etcd: [path.join(pki, 'etcd/ca.crt'), path.join(pki, 'etcd/ca.key')], fp: [path.join(pki, 'front-proxy-ca.crt'), path.join(pki, 'front-proxy-ca.key')] };
  const set = [];
  for (const f of ['apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client']) {
    const which = f.startsWith('etcd/') || f === 'apiserver-etcd-client' ? 'etcd' : f === 'front-proxy-client' ? 'fp' : 'ca';
    set.push({ name: f.replace('/', '-'), crt: path.join(pki, `${f}.crt`), key: path.join(pki, `${f}.key`), ca: ca[which] });
  }
  for (const conf of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
    const kc = parseYaml(fs.readFileSync(path.join(root, 'etc/kubernetes', conf), 'utf8'));
    const u = kc.users[0].user;
    const crt = path.join(dir, `${conf}.crt`), key = path.join(dir, `${conf}.key`);
    fs.writeFileSync(crt, Buffer.from(u['client-certificate-data'], 'base64'));
    fs.writeFileSync(key, Buffer.from(u['client-key-data'], 'base64'), { mode: 0o600 });
    set.push({ name: conf, crt, key, ca: ca.ca });
  }
  // the link is absolute as on the node: resolve it inside the root
  const pem = fs.readFileSync(path.join(root, fs.readlinkSync(path.join(root, 'var/lib/kubelet/pki/kubelet-client-current.pem'))), 'utf8');
  fs.writeFileSync(path.join(dir, 'kubelet-client.crt'), CERT.exec(pem)[0]);
  fs.writeFileSync(path.join(dir, 'kubelet-client.key'), KEY.exec(pem)[0], { mode: 0o600 });
  set.push({ name: 'kubelet-client', crt: path.join(dir, 'kubelet-client.crt'), key: path.join(dir, 'kubelet-client.key'), ca: ca.ca });
  return set;
}

function opensslScript(set, dir, newKey) {
  const lines = ['set -e'];
  for (const s of set) {
    const out = path.join(dir, `${s.name}.new.crt`);
    const req = path.join(dir, `${s.name}.csr`);
    if (newKey) {
      const nk = path.join(dir, `${s.name}.new.key`);
      const type = /EC PRIVATE KEY/.test(fs.readFileSync(s.key, 'utf8')) ? '-algorithm EC -pkeyopt ec_paramgen_curve:P-256' : '-algorithm RSA -pkeyopt rsa_keygen_bits:2048';
      lines.push(`openssl genpkey ${type} -out ${nk} 2>/dev/null`);
      lines.push(`openssl x509 -x509toreq -in ${s.crt} -signkey ${nk} -copy_extensions copyall -out ${req} 2>/dev/null`);
    } else {
      lines.push(`openssl x509 -x509toreq -in ${s.crt} -signkey ${s.key} -copy_extensions copyall -out ${req} 2>/dev/null`);
    }
    lines.push(`openssl x509 -req -in ${req} -CA ${s.ca[0]} -CAkey ${s.ca[1]} -set_serial 0x$(openssl rand -hex 8) -days 365 -copy_extensions copyall -out ${out} 2>/dev/null`);
  }
  return lines.join('\n');
}

export async function bench(ctx) {
  const bin = path.join(ctx.repo, 'bin', 'kubepki.js');
  const runs = Number(process.env.KUBEPKI_BENCH_RENEW_RUNS ?? 5);
  const keep = [], fresh = [], osslKeep = [], osslNew = [];
  let certs = 0;
  for (let i = 0; i < runs; i++) {
    for (const [mode, list] of [['keep', keep], ['new', fresh]]) {
      const root = copyTree(ctx, 'kubeadm-1.26-expired', `${mode}-${i}`);
      const args = [bin, 'renew', 'all', '--root', root, '--now', '2026-11-23', ...(mode === 'new' ? ['--new-key'] : [])];
      const r = timeSpawn(process.execPath, args);
      if (r.status !== 0) throw new Error(`kubepki renew (${mode}) exited ${r.status}: ${(r.stderr || r.stdout).split('\n')[0]}`);
      certs = Number(/Renewed (\d+) certificate/.exec(r.stdout)?.[1] ?? 0);
      const check = timeSpawn(process.execPath, [bin, 'check', '--root', root, '--now', '2026-11-23']);
      if (check.status !== 0) throw new Error(`check after renew (${mode}) exited ${check.status}`);
      list.push(r.ms);
      fs.rmSync(root, { recursive: true, force: true });
    }
    for (const [newKey, list] of [[false, osslKeep], [true, osslNew]]) {
      const root = copyTree(ctx, 'kubeadm-1.26-expired', `ossl-${i}`);
      const dir = path.join(ctx.tmp, `ossl-out-${i}`);
      const set = opensslSet(root, dir);
      const r = timeSpawn('sh', ['-c', opensslScript(set, dir, newKey)]);
      if (r.status !== 0) throw new Error(`openssl script exited ${r.status}: ${r.stderr.split('\n')[0]}`);
      list.push(r.ms);
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const round = (x) => Math.round(x * 10) / 10;
  const k = median(keep), n = median(fresh), ok = median(osslKeep), on = median(osslNew);
  return [
    { name: 'kubepki renew all (keys kept)', value: round(k), unit: 'ms', note: `median of ${runs}; ${certs} certificates, whole CLI process incl. backup, atomic writes, verify` },
    { name: 'kubepki renew all --new-key', value: round(n), unit: 'ms', note: `median of ${runs}; keys generated in parallel on the libuv pool` },
    { name: 'openssl script, keys kept', value: round(ok), unit: 'ms', note: `median of ${runs}; 11 leaves (x509toreq + x509 -req each), no kubelet serving pair, no kubeconfig writes, no backup` },
    { name: 'openssl script, new keys', value: round(on), unit: 'ms', note: `median of ${runs}; genpkey + x509toreq + x509 -req each` },
  ];
}
