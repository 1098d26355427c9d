// kubeadm control-plane node trees made with openssl alone (not kubepki's signing code), in kubeadm's shape: the
// shared CAs and sa pair, per-node leaves with each node's name and address, kubeconfigs, the kubelet's pki and
// the static pod manifests (from the kubeadm-1.26 fixture, with each node's address, name and membership).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, opensslOk } from './fixtures.js';

const run = opensslOk;

const ecKey = (file: string) => { run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]); fs.chmodSync(file, 0o600); };
const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
let serial = 0x1000;

/** `openssl ca` in a scratch directory beside `crt`: its database and serial, and a config whose [ext] section is `ext`. */
function opensslCaCommand(crt: string, ext: string[], a: { csr: string[]; ca: string[] }): void {
  const work = fs.mkdtempSync(path.join(path.dirname(crt), '.openssl-'));
  try {
    fs.writeFileSync(path.join(work, 'index'), '');
    fs.writeFileSync(path.join(work, 'serial'), (serial++).toString(16));
    fs.writeFileSync(path.join(work, 'cnf'), [
      '[ca]', 'default_ca=x', '[x]', `database=${work}/index`, `serial=${work}/serial`, `new_certs_dir=${work}`, 'default_md=sha256', 'policy=p', 'unique_subject=no', '[p]',
      '[ext]', ...ext, '',
    ].join('\n'));
    run(['req', '-new', ...a.csr, '-out', `${work}/csr`]);
    run(['ca', '-batch', '-preserveDN', '-notext', '-config', `${work}/cnf`, '-extensions', 'ext', ...a.ca, '-in', `${work}/csr`, '-out', crt]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `openssl ca` signs `key` as `subj` (/O=…/CN=…) for notBefore..notAfter, as kubeadm's leaves (no CA, AKI, the EKU and SANs given). */
export function opensslLeaf(o: { ca: string; key: string; crt: string; subj: string; eku: string; sans?: string; notBefore: Date; notAfter: Date }): void {
  opensslCaCommand(o.crt, [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${o.eku}`, 'authorityKeyIdentifier=keyid',
    ...(o.sans ? [`subjectAltName=${o.sans}`] : []),
  ], { csr: ['-key', o.key, '-subj', o.subj], ca: ['-cert', `${o.ca}.crt`, '-keyfile', `${o.ca}.key`, '-startdate', stamp(o.notBefore), '-enddate', stamp(o.notAfter)] });
}

/** The CA certificate `crt` made again with openssl from its key, for notBefore..notAfter (same name bytes and key identifier as opensslCa's). */
export function opensslCaAgain(o: { key: string; crt: string; cn: string; notBefore: Date; notAfter: Date }): void {
  opensslCaCommand(o.crt, ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', 'subjectKeyIdentifier=hash'],
    { csr: ['-key', o.key, '-subj', `/CN=${o.cn}`], ca: ['-selfsign', '-keyfile', o.key, '-startdate', stamp(o.notBefore), '-enddate', stamp(o.notAfter)] });
}

function opensslCa(base: string, cn: string): void {
  ecKey(`${base}.key`);
  run(['req', '-x509', '-new', '-key', `${base}.key`, '-subj', `/CN=${cn}`, '-days', '3650', '-out', `${base}.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign']);
}

function kubeconfig(server: string, user: string, caFile: string, crt: string, key: string): string {
  const b64 = (f: string) => fs.readFileSync(f).toString('base64');
  return ['apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority-data: ${b64(caFile)}`, `    server: ${server}`, '  name: kubernetes',
    'contexts:', '- context:', '    cluster: kubernetes', `    user: ${user}`, `  name: ${user}@kubernetes`, `current-context: ${user}@kubernetes`,
    'kind: Config', 'preferences: {}', 'users:', `- name: ${user}`, '  user:', `    client-certificate-data: ${b64(crt)}`, `    client-key-data: ${b64(key)}`, ''].join('\n');
}

export interface HaNode { i: number; name: string; ip: string; root: string }

/**
 * Three (or `count`) kubeadm 1.30 control-plane nodes cp-1.. at 127.0.0.1.., controlPlaneEndpoint `endpoint`:
 * admin.conf (and super-admin.conf on cp-1, the kubeadm init node) and kubelet.conf (the kubelet's, with its cluster
 * default-cluster, on the nodes that joined) name the endpoint,
 * controller-manager.conf and scheduler.conf the node's own address (spec §2). etcd.yaml as kubeadm writes it: cp-1
 * alone (init), each joined node the members before it and itself with --initial-cluster-state=existing.
 * Leaves valid from `notBefore` for `days`.
 */
export function makeOpensslHaTrees(base: string, o: { count?: number; endpoint?: string; notBefore?: Date; days?: number } = {}): HaNode[] {
  const count = o.count ?? 3, endpoint = o.endpoint ?? 'lb.example:6443';
  const notBefore = o.notBefore ?? new Date(Date.now() - 3600_000), notAfter = new Date(notBefore.getTime() + (o.days ?? 365) * 86400_000);
  const shared = path.join(base, 'shared');
  fs.mkdirSync(path.join(shared, 'etcd'), { recursive: true });
  opensslCa(`${shared}/ca`, 'kubernetes');
  opensslCa(`${shared}/front-proxy-ca`, 'front-proxy-ca');
  opensslCa(`${shared}/etcd/ca`, 'etcd-ca');
  run(['genrsa', '-out', `${shared}/sa.key`, '2048']);
  run(['rsa', '-in', `${shared}/sa.key`, '-pubout', '-out', `${shared}/sa.pub`]);
  const fixture = path.join(FIXTURES, 'kubeadm-1.26');
  const nodes: HaNode[] = [];
  for (let i = 1; i <= count; i++) {
    const n: HaNode = { i, name: `cp-${i}`, ip: `127.0.0.${i}`, root: path.join(base, `n${i}`) };
    nodes.push(n);
    const k = path.join(n.root, 'etc/kubernetes'), pki = path.join(k, 'pki'), kubelet = path.join(n.root, 'var/lib/kubelet');
    for (const d of [path.join(pki, 'etcd'), path.join(k, 'manifests'), path.join(kubelet, 'pki'), path.join(n.root, 'var/lib/etcd')]) fs.mkdirSync(d, { recursive: true });
    for (const f of ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub', 'etcd/ca.crt', 'etcd/ca.key']) {
      fs.copyFileSync(path.join(shared, f), path.join(pki, f));
      if (f.endsWith('.key')) fs.chmodSync(path.join(pki, f), 0o600);
    }
    const leaf = (base: string, ca: string, subj: string, eku: string, sans?: string) => {
      ecKey(`${base}.key`);
      opensslLeaf({ ca: path.join(pki, ca), key: `${base}.key`, crt: `${base}.crt`, subj, eku, ...(sans ? { sans } : {}), notBefore, notAfter });
    };
    const host = endpoint.replace(/:\d+$/, '');
    leaf(`${pki}/apiserver`, 'ca', '/CN=kube-apiserver', 'serverAuth',
      `DNS:${n.name},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:${host},IP:10.96.0.1,IP:${n.ip}`);
    leaf(`${pki}/apiserver-kubelet-client`, 'ca', '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', 'clientAuth');
    leaf(`${pki}/front-proxy-client`, 'front-proxy-ca', '/CN=front-proxy-client', 'clientAuth');
    leaf(`${pki}/apiserver-etcd-client`, 'etcd/ca', '/CN=kube-apiserver-etcd-client', 'clientAuth');
    const etcdSans = `DNS:${n.name},DNS:localhost,IP:${n.ip},IP:127.0.0.1,IP:0:0:0:0:0:0:0:1`;
    leaf(`${pki}/etcd/server`, 'etcd/ca', `/CN=${n.name}`, 'serverAuth,clientAuth', etcdSans);
    leaf(`${pki}/etcd/peer`, 'etcd/ca', `/CN=${n.name}`, 'serverAuth,clientAuth', etcdSans);
    leaf(`${pki}/etcd/healthcheck-client`, 'etcd/ca', '/CN=kube-etcd-healthcheck-client', 'clientAuth');
    const work = path.join(n.root, 'work');
    fs.mkdirSync(work);
    const conf = (file: string, server: string, user: string, subj: string) => {
      leaf(`${work}/${file}`, 'ca', subj, 'clientAuth');
      fs.writeFileSync(path.join(k, file), kubeconfig(server, user, `${pki}/ca.crt`, `${work}/${file}.crt`, `${work}/${file}.key`), { mode: 0o600 });
    };
    conf('admin.conf', `https://${endpoint}`, 'kubernetes-admin', '/O=kubeadm:cluster-admins/CN=kubernetes-admin');
    if (i === 1) conf('super-admin.conf', `https://${endpoint}`, 'kubernetes-super-admin', '/O=system:masters/CN=kubernetes-super-admin');
    conf('controller-manager.conf', `https://${n.ip}:6443`, 'system:kube-controller-manager', '/CN=system:kube-controller-manager');
    conf('scheduler.conf', `https://${n.ip}:6443`, 'system:kube-scheduler', '/CN=system:kube-scheduler');
    // the kubelet's client pair from the CSR API; kubelet.conf after kubelet-finalize on the init node (spec §2.1),
    // as the kubelet's TLS bootstrap writes it on the nodes that joined (§2.2: default-cluster, default-auth)
    leaf(`${work}/kubelet-client`, 'ca', `/O=system:nodes/CN=system:node:${n.name}`, 'clientAuth');
    const pem = `kubelet-client-${notBefore.toISOString().slice(0, 19).replace(/[T:]/g, '-')}.pem`;
    fs.writeFileSync(path.join(kubelet, 'pki', pem), fs.readFileSync(`${work}/kubelet-client.crt`, 'utf8') + fs.readFileSync(`${work}/kubelet-client.key`, 'utf8'), { mode: 0o600 });
    fs.symlinkSync(`/var/lib/kubelet/pki/${pem}`, path.join(kubelet, 'pki/kubelet-client-current.pem'));
    const current = '/var/lib/kubelet/pki/kubelet-client-current.pem';
    fs.writeFileSync(path.join(k, 'kubelet.conf'), i === 1
      ? kubeconfig(`https://${endpoint}`, `system:node:${n.name}`, `${pki}/ca.crt`, `${work}/kubelet-client.crt`, `${work}/kubelet-client.key`)
        .replace(/client-certificate-data: .*/, `client-certificate: ${current}`).replace(/client-key-data: .*/, `client-key: ${current}`)
      : ['apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority-data: ${fs.readFileSync(`${pki}/ca.crt`).toString('base64')}`, `    server: https://${endpoint}`, '  name: default-cluster',
        'contexts:', '- context:', '    cluster: default-cluster', '    namespace: default', '    user: default-auth', '  name: default-context', 'current-context: default-context',
        'kind: Config', 'preferences: {}', 'users:', '- name: default-auth', '  user:', `    client-certificate: ${current}`, `    client-key: ${current}`, ''].join('\n'), { mode: 0o600 });
    fs.rmSync(work, { recursive: true });
    fs.copyFileSync(path.join(fixture, 'var/lib/kubelet/config.yaml'), path.join(kubelet, 'config.yaml'));
    fs.writeFileSync(path.join(kubelet, 'kubeadm-flags.env'), fs.readFileSync(path.join(fixture, 'var/lib/kubelet/kubeadm-flags.env'), 'utf8').replace('cp-1', n.name));
    const members = nodes.map((m) => `${m.name}=https://${m.ip}:2380`).join(',');
    for (const m of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
      let text = fs.readFileSync(path.join(fixture, `etc/kubernetes/manifests/${m}.yaml`), 'utf8')
        .replaceAll('192.0.2.10', n.ip).replaceAll('cp-1', n.name).replace('v1.26.1', 'v1.30.2');
      if (m === 'etcd') text = text.replace(/ {4}- --initial-cluster=.*\n/, `    - --initial-cluster=${members}\n${i > 1 ? '    - --initial-cluster-state=existing\n' : ''}`);
      fs.writeFileSync(path.join(k, `manifests/${m}.yaml`), text);
    }
  }
  fs.rmSync(shared, { recursive: true });
  return nodes;
}

/** Where a kubeadm node with external etcd keeps the etcd CA and the apiserver's client pair (etcd.external). */
export interface ExternalEtcdFiles { caFile: string; certFile: string; keyFile: string }

export interface ExternalEtcd {
  nodes: HaNode[];
  /** etcd.external as written in each node's kubeadm-config.yaml and kube-apiserver.yaml */
  files: ExternalEtcdFiles;
  endpoints: string[];
  /** the external etcd's CA (ca.crt, ca.key), kept apart from the control-plane nodes as on the etcd hosts */
  etcdPki: string;
  /** an etcd member's serving and peer pair signed by that CA for `ip` (server.crt/.key, peer.crt/.key in `dir`) */
  memberPair(dir: string, name: string, ip: string): void;
}

/**
 * makeOpensslHaTrees' nodes as kubeadm makes them for etcd.external (kubeadm's "external etcd" HA set-up): no
 * etcd static pod, no etcd serving, peer or healthcheck certificates, the etcd CA's certificate without its key,
 * an apiserver-etcd-client pair from the external etcd's CA at `files` (the kubeadm docs' paths by default, or
 * /etc/etcd/pki's with `layout: 'etc-etcd'`), kube-apiserver's --etcd-* flags naming them and `endpoints`, and
 * the ClusterConfiguration in /etc/kubernetes/kubeadm-config.yaml.
 */
export function makeOpensslExternalEtcdTrees(base: string, o: { count?: number; endpoints: string[]; layout?: 'kubeadm-pki' | 'etc-etcd'; notBefore?: Date; days?: number }): ExternalEtcd {
  const nodes = makeOpensslHaTrees(base, { ...(o.count ? { count: o.count } : {}), ...(o.notBefore ? { notBefore: o.notBefore } : {}), ...(o.days ? { days: o.days } : {}) });
  const etcdPki = path.join(base, 'external-etcd-ca');
  fs.mkdirSync(etcdPki);
  for (const f of ['ca.crt', 'ca.key']) fs.copyFileSync(path.join(nodes[0]!.root, 'etc/kubernetes/pki/etcd', f), path.join(etcdPki, f));
  const files: ExternalEtcdFiles = o.layout === 'etc-etcd'
    ? { caFile: '/etc/etcd/pki/ca.crt', certFile: '/etc/etcd/pki/apiserver-etcd-client.crt', keyFile: '/etc/etcd/pki/apiserver-etcd-client.key' }
    : { caFile: '/etc/kubernetes/pki/etcd/ca.crt', certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt', keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key' };
  for (const n of nodes) {
    const k = path.join(n.root, 'etc/kubernetes'), pki = path.join(k, 'pki');
    // one client pair for the whole control plane: kubeadm join --control-plane brings the first node's
    // (upload-certs' external-etcd.crt/.key), as the kubeadm docs have it copied from an etcd node
    for (const f of ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key']) fs.copyFileSync(path.join(nodes[0]!.root, 'etc/kubernetes/pki', f), path.join(pki, f));
    const move = (from: string, to: string) => { fs.mkdirSync(path.dirname(path.join(n.root, to)), { recursive: true }); fs.renameSync(path.join(pki, from), path.join(n.root, to)); };
    if (o.layout === 'etc-etcd') {
      move('etcd/ca.crt', files.caFile);
      move('apiserver-etcd-client.crt', files.certFile);
      move('apiserver-etcd-client.key', files.keyFile);
      fs.rmSync(path.join(pki, 'etcd'), { recursive: true });
    } else {
      for (const f of ['ca.key', 'server.crt', 'server.key', 'peer.crt', 'peer.key', 'healthcheck-client.crt', 'healthcheck-client.key']) fs.rmSync(path.join(pki, 'etcd', f));
    }
    fs.rmSync(path.join(k, 'manifests/etcd.yaml'));
    fs.rmSync(path.join(n.root, 'var/lib/etcd'), { recursive: true });
    const manifest = path.join(k, 'manifests/kube-apiserver.yaml');
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8')
      .replace(/--etcd-cafile=.*/, `--etcd-cafile=${files.caFile}`)
      .replace(/--etcd-certfile=.*/, `--etcd-certfile=${files.certFile}`)
      .replace(/--etcd-keyfile=.*/, `--etcd-keyfile=${files.keyFile}`)
      .replace(/--etcd-servers=.*/, `--etcd-servers=${o.endpoints.join(',')}`));
    fs.writeFileSync(path.join(k, 'kubeadm-config.yaml'), [
      'apiVersion: kubeadm.k8s.io/v1beta3', 'kind: InitConfiguration', 'localAPIEndpoint:', `  advertiseAddress: ${n.ip}`, '  bindPort: 6443',
      'nodeRegistration:', `  name: ${n.name}`, '---',
      'apiVersion: kubeadm.k8s.io/v1beta3', 'kind: ClusterConfiguration', 'kubernetesVersion: v1.30.2', 'controlPlaneEndpoint: lb.example:6443',
      'certificatesDir: /etc/kubernetes/pki', 'etcd:', '  external:', '    endpoints:', ...o.endpoints.map((e) => `    - ${e}`),
      `    caFile: ${files.caFile}`, `    certFile: ${files.certFile}`, `    keyFile: ${files.keyFile}`,
      'networking:', '  serviceSubnet: 10.96.0.0/12', '  dnsDomain: cluster.local', '',
    ].join('\n'));
  }
  const notBefore = o.notBefore ?? new Date(Date.now() - 3600_000), notAfter = new Date(notBefore.getTime() + (o.days ?? 365) * 86400_000);
  const memberPair = (dir: string, name: string, ip: string) => {
    fs.mkdirSync(dir, { recursive: true });
    for (const which of ['server', 'peer']) {
      ecKey(path.join(dir, `${which}.key`));
      opensslLeaf({ ca: path.join(etcdPki, 'ca'), key: path.join(dir, `${which}.key`), crt: path.join(dir, `${which}.crt`), subj: `/CN=${name}`, eku: 'serverAuth,clientAuth',
        sans: `DNS:${name},DNS:localhost,IP:${ip},IP:127.0.0.1`, notBefore, notAfter });
    }
  };
  return { nodes, files, endpoints: o.endpoints, etcdPki, memberPair };
}
