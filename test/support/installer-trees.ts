// k0s and MicroK8s node trees made with openssl alone, laid out, named and signed as those installers make them
// (the sources are cited at each maker), with the dates a test chooses.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { opensslOk } from './fixtures.js';
import { makeOpensslHaTrees, opensslCaAgain, opensslLeaf } from './openssl-kubeadm.js';

const run = opensslOk;
const DAY = 86400_000;
const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
let serial = 0x2000;

/**
 * `openssl ca` signs a request for `key` as `subj` with extensions `ext`, for notBefore..notAfter: by the CA
 * `ca` (its .crt and .key), or by the key itself (`ca` undefined). openssl's own x509 -req and req -x509, which
 * MicroK8s runs, and cfssl, which k0s runs, have no start date to give: the certificates they make are these.
 */
function sign(o: { crt: string; key: string; subj: string; ext: string[]; ca?: string; notBefore: Date; notAfter: Date }): void {
  const work = fs.mkdtempSync(path.join(path.dirname(o.crt), '.openssl-'));
  try {
    fs.writeFileSync(path.join(work, 'index'), '');
    fs.writeFileSync(path.join(work, 'serial'), (serial++).toString(16));
    fs.writeFileSync(path.join(work, 'cnf'), [
      '[ca]', 'default_ca=x', '[x]', `database=${work}/index`, `serial=${work}/serial`, `new_certs_dir=${work}`, 'default_md=sha256', 'policy=p', 'unique_subject=no', '[p]',
      '[ext]', ...o.ext, '',
    ].join('\n'));
    run(['req', '-new', '-key', o.key, '-subj', o.subj, '-out', `${work}/csr`]);
    const by = o.ca ? ['-cert', `${o.ca}.crt`, '-keyfile', `${o.ca}.key`] : ['-selfsign', '-keyfile', o.key];
    run(['ca', '-batch', '-preserveDN', '-notext', '-config', `${work}/cnf`, '-extensions', 'ext', ...by, '-startdate', stamp(o.notBefore), '-enddate', stamp(o.notAfter), '-in', `${work}/csr`, '-out', o.crt]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** An RSA key in PKCS#1 (`RSA PRIVATE KEY`), as cfssl's and the snap's openssl 1.1 genrsa write it, 0600. */
function rsaKey(file: string, bits = 2048): void {
  run(['genrsa', '-traditional', '-out', file, String(bits)]);
  fs.chmodSync(file, 0o600);
}

const b64 = (f: string) => fs.readFileSync(f).toString('base64');

// ---------------------------------------------------------------------------------------------------------------
// k0s

export const K0S_PKI = '/var/lib/k0s/pki';

export interface K0sTreeOptions {
  /** when the first controller started: its CAs' issue time (they run 87600h) */
  casIssued: Date;
  /** this controller's last start, when k0s signed every leaf again (each runs 8760h from 5 minutes before) */
  leavesIssued: Date;
  /** the controller's address (k0s.yaml spec.api.address; the etcd peer's name and SAN) */
  address?: string;
  /** a controller with --enable-worker: kubelet.conf and the kubelet's rotated client certificate under /var/lib/k0s */
  worker?: boolean;
}

/**
 * A k0s controller's data directory (k0sproject/k0s): pkg/component/controller/certificates.go makes the CAs ca
 * (CN kubernetes-ca) and front-proxy-ca (CN kubernetes-front-proxy-ca) with pkg/certificate/manager.go EnsureCA
 * (cfssl initca, RSA 2048, Expiry 87600h), and with EnsureCertificate (cfssl's default signing profile: 8760h from
 * 5 minutes back, usages digital signature, key encipherment, server auth, client auth; RSA 2048) the leaves
 * front-proxy-client, admin, konnectivity, ccm, scheduler, apiserver-kubelet-client, server (CN kubernetes) and
 * k0s-api, writing admin.conf, konnectivity.conf, ccm.conf and scheduler.conf with them (cluster local, user user,
 * server https://localhost:6443, every part embedded); sa.key/sa.pub (CreateKeyPair). etcd.go setupCerts: etcd/ca
 * (CN etcd-ca), apiserver-etcd-client, etcd/server (SANs 127.0.0.1, localhost), etcd/peer (CN and SAN the peer address).
 */
export function makeK0sController(root: string, o: K0sTreeOptions): void {
  const pki = path.join(root, K0S_PKI);
  fs.mkdirSync(path.join(pki, 'etcd'), { recursive: true });
  const address = o.address ?? '192.0.2.10';
  const caUntil = new Date(o.casIssued.getTime() + 3650 * DAY);
  const ca = (name: string, cn: string) => {
    rsaKey(`${pki}/${name}.key`);
    // (cfssl's initca: CA:TRUE, cert sign and CRL sign, a subject key id)
    sign({ crt: `${pki}/${name}.crt`, key: `${pki}/${name}.key`, subj: `/CN=${cn}`, notBefore: new Date(o.casIssued.getTime() - 5 * 60_000), notAfter: caUntil,
      ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'] });
  };
  ca('ca', 'kubernetes-ca');
  ca('front-proxy-ca', 'kubernetes-front-proxy-ca');
  ca('etcd/ca', 'etcd-ca');
  const from = new Date(o.leavesIssued.getTime() - 5 * 60_000);
  const until = new Date(from.getTime() + 365 * DAY);
  const leaf = (name: string, caName: string, o_: string, cn: string, hosts: string[] = []) => {
    rsaKey(`${pki}/${name}.key`);
    const sans = hosts.map((h) => (/^[\d.]+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    sign({ crt: `${pki}/${name}.crt`, key: `${pki}/${name}.key`, subj: `/O=${o_}/CN=${cn}`, ca: `${pki}/${caName}`, notBefore: from, notAfter: until,
      ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid',
        ...(sans ? [`subjectAltName=${sans}`] : [])] });
  };
  const apiHosts = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster', 'kubernetes.svc.cluster.local', '127.0.0.1', 'localhost', address, '10.96.0.1'];
  leaf('front-proxy-client', 'front-proxy-ca', 'front-proxy-client', 'front-proxy-client');
  leaf('admin', 'ca', 'system:masters', 'kubernetes-admin');
  leaf('konnectivity', 'ca', 'system:masters', 'kubernetes-konnectivity');
  leaf('ccm', 'ca', 'system:kube-controller-manager', 'system:kube-controller-manager');
  leaf('scheduler', 'ca', 'system:kube-scheduler', 'system:kube-scheduler');
  leaf('apiserver-kubelet-client', 'ca', 'system:masters', 'apiserver-kubelet-client');
  leaf('server', 'ca', 'kubernetes', 'kubernetes', apiHosts);
  leaf('k0s-api', 'ca', 'kubernetes', 'k0s-api', apiHosts);
  leaf('apiserver-etcd-client', 'etcd/ca', 'apiserver-etcd-client', 'apiserver-etcd-client', ['127.0.0.1', 'localhost']);
  leaf('etcd/server', 'etcd/ca', 'etcd-server', 'etcd-server', ['127.0.0.1', 'localhost']);
  leaf('etcd/peer', 'etcd/ca', 'etcd-peer', address, [address]);
  for (const [conf, pair] of [['admin.conf', 'admin'], ['konnectivity.conf', 'konnectivity'], ['ccm.conf', 'ccm'], ['scheduler.conf', 'scheduler']] as const) {
    fs.writeFileSync(`${pki}/${conf}`, [
      '', 'apiVersion: v1', 'clusters:', '- cluster:', '    server: https://localhost:6443', `    certificate-authority-data: ${b64(`${pki}/ca.crt`)}`, '  name: local',
      'contexts:', '- context:', '    cluster: local', '    namespace: default', '    user: user', '  name: Default', 'current-context: Default', 'kind: Config', 'preferences: {}',
      'users:', '- name: user', '  user:', `    client-certificate-data: ${b64(`${pki}/${pair}.crt`)}`, `    client-key-data: ${b64(`${pki}/${pair}.key`)}`, '',
    ].join('\n'), { mode: 0o600 });
  }
  rsaKey(`${pki}/sa.key`);
  run(['rsa', '-in', `${pki}/sa.key`, '-pubout', '-out', `${pki}/sa.pub`]);
  if (o.worker) {
    // the kubelet's rotated client certificate under its root dir /var/lib/k0s/kubelet, and the kubeconfig that
    // names it (KubeletAuthConfigPath), as the kubelet writes them after its bootstrap
    const dir = path.join(root, '/var/lib/k0s/kubelet/pki');
    fs.mkdirSync(dir, { recursive: true });
    const dated = `kubelet-client-${o.leavesIssued.toISOString().slice(0, 19).replace(/[T:]/g, '-')}.pem`;
    const key = `${dir}/.key`;
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    sign({ crt: `${dir}/.crt`, key, subj: '/O=system:nodes/CN=system:node:controller-1', ca: `${pki}/ca`, notBefore: o.leavesIssued, notAfter: new Date(o.leavesIssued.getTime() + 365 * DAY),
      ext: ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', 'authorityKeyIdentifier=keyid'] });
    fs.writeFileSync(`${dir}/${dated}`, fs.readFileSync(`${dir}/.crt`, 'utf8') + fs.readFileSync(key, 'utf8'), { mode: 0o600 });
    fs.rmSync(`${dir}/.crt`); fs.rmSync(key);
    fs.symlinkSync(`/var/lib/k0s/kubelet/pki/${dated}`, `${dir}/kubelet-client-current.pem`);
    fs.writeFileSync(path.join(root, '/var/lib/k0s/kubelet.conf'), [
      'apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority-data: ${b64(`${pki}/ca.crt`)}`, `    server: https://${address}:6443`, '  name: default-cluster',
      'contexts:', '- context:', '    cluster: default-cluster', '    namespace: default', '    user: default-auth', '  name: default-context', 'current-context: default-context',
      'kind: Config', 'preferences: {}', 'users:', '- name: default-auth', '  user:', '    client-certificate: /var/lib/k0s/kubelet/pki/kubelet-client-current.pem',
      '    client-key: /var/lib/k0s/kubelet/pki/kubelet-client-current.pem', ''].join('\n'), { mode: 0o600 });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// MicroK8s

export interface MicroK8sTreeOptions {
  /** the snap revision `current` points at */
  revision?: string;
  /** `current` as an absolute link (/var/snap/microk8s/<revision>) rather than snapd's relative one */
  absoluteCurrent?: boolean;
  /** when the node was installed: the CAs (3650 days), dqlite's pair and the component certificates (3650 days) */
  installed: Date;
  /** when server.crt and front-proxy-client.crt were last made (365 days) */
  leavesIssued: Date;
  /** kubeconfigs with x509 client certificates (newer releases) rather than tokens from known_tokens.csv (older) */
  x509Credentials?: boolean;
  hostname?: string;
  ip?: string;
}

/**
 * A MicroK8s node's $SNAP_DATA (canonical/microk8s microk8s-resources/actions/common/utils.sh): produce_certs makes
 * ca.crt (`req -x509 -days 3650 -subj /CN=10.152.183.1`), front-proxy-ca.crt (CN front-proxy-ca), server.crt
 * (gen_server_cert: `x509 -req -days 365` with csr.conf rendered from certs/csr.conf.template, its subject
 * C=US/ST=Isles of Blessed/L=Arkadia/O=acme/OU=dev/CN=127.0.0.1 and v3_ext) and front-proxy-client.crt
 * (gen_proxy_client_cert: CN front-proxy-client, the same v3_ext), RSA 2048 keys, serviceaccount.key.
 * Newer releases (create_user_certificates, sign_certificate: `-days 3650`, only the CSR's SANs) add client
 * (admin), controller, scheduler, proxy, kubelet and apiserver-kubelet-client, embedded in credentials/*.config
 * (client-x509.config.template: cluster microk8s-cluster, server https://127.0.0.1:16443); older ones write those
 * kubeconfigs with tokens (client.config.template, update_configs). init_cluster makes dqlite's self-signed
 * var/kubernetes/backend/cluster.crt (`req -x509 -newkey rsa:4096 -days 3650 -subj /CN=k8s`, csr-dqlite.conf).
 * /var/snap/microk8s/current links to the revision directory, as snapd makes it.
 */
export function makeMicroK8s(root: string, o: MicroK8sTreeOptions): { data: string } {
  const revision = o.revision ?? '7229';
  const hostname = o.hostname ?? 'mk8s-1', ip = o.ip ?? '192.0.2.20';
  const snap = path.join(root, '/var/snap/microk8s');
  const data = path.join(snap, revision);
  const certs = path.join(data, 'certs');
  for (const d of [certs, path.join(data, 'credentials'), path.join(data, 'var/kubernetes/backend'), path.join(data, 'args')]) fs.mkdirSync(d, { recursive: true });
  fs.symlinkSync(o.absoluteCurrent ? `/var/snap/microk8s/${revision}` : revision, path.join(snap, 'current'));
  const caUntil = new Date(o.installed.getTime() + 3650 * DAY);
  for (const k of ['serviceaccount', 'ca', 'server', 'front-proxy-ca', 'front-proxy-client']) rsaKey(`${certs}/${k}.key`);
  // (req -x509 with the snap's openssl.cnf: v3_ca, a subject key id and CA:TRUE)
  const caExt = ['subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid:always,issuer', 'basicConstraints=critical,CA:TRUE'];
  sign({ crt: `${certs}/ca.crt`, key: `${certs}/ca.key`, subj: '/CN=10.152.183.1', notBefore: o.installed, notAfter: caUntil, ext: caExt });
  sign({ crt: `${certs}/front-proxy-ca.crt`, key: `${certs}/front-proxy-ca.key`, subj: '/CN=front-proxy-ca', notBefore: o.installed, notAfter: caUntil, ext: caExt });
  const sans = `DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.152.183.1,IP:${ip}`;
  const v3 = ['authorityKeyIdentifier=keyid,issuer:always', 'basicConstraints=CA:FALSE', 'keyUsage=keyEncipherment,dataEncipherment,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth', `subjectAltName=${sans}`];
  const leafUntil = new Date(o.leavesIssued.getTime() + 365 * DAY);
  sign({ crt: `${certs}/server.crt`, key: `${certs}/server.key`, subj: '/C=US/ST=Isles of Blessed/L=Arkadia/O=acme/OU=dev/CN=127.0.0.1', ca: `${certs}/ca`, notBefore: o.leavesIssued, notAfter: leafUntil, ext: v3 });
  sign({ crt: `${certs}/front-proxy-client.crt`, key: `${certs}/front-proxy-client.key`, subj: '/CN=front-proxy-client', ca: `${certs}/front-proxy-ca`, notBefore: o.leavesIssued, notAfter: leafUntil, ext: v3 });
  fs.writeFileSync(`${certs}/csr.conf.template`, '[ req ]\ndefault_bits = 2048\nprompt = no\n');
  fs.writeFileSync(`${certs}/csr.conf`, '[ req ]\ndefault_bits = 2048\nprompt = no\n');
  fs.writeFileSync(`${certs}/ca.srl`, '1000\n');
  fs.writeFileSync(path.join(data, 'credentials/known_tokens.csv'), 'tokenadmin,admin,admin,"system:masters"\n');
  const kubeconfig = (file: string, user: string, auth: string[]) => fs.writeFileSync(path.join(data, 'credentials', file), [
    'apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority-data: ${b64(`${certs}/ca.crt`)}`, '    server: https://127.0.0.1:16443', '  name: microk8s-cluster',
    'contexts:', '- context:', '    cluster: microk8s-cluster', `    user: ${user}`, '  name: microk8s', 'current-context: microk8s', 'kind: Config', 'preferences: {}',
    'users:', `- name: ${user}`, '  user:', ...auth, ''].join('\n'), { mode: 0o600 });
  const users: [string, string, string, string][] = [
    ['client', 'client.config', 'admin', '/CN=admin/O=system:masters'], ['controller', 'controller.config', 'system:kube-controller-manager', '/CN=system:kube-controller-manager'],
    ['scheduler', 'scheduler.config', 'system:kube-scheduler', '/CN=system:kube-scheduler'], ['proxy', 'proxy.config', 'system:kube-proxy', '/CN=system:kube-proxy'],
    ['kubelet', 'kubelet.config', `system:node:${hostname}`, `/CN=system:node:${hostname}/O=system:nodes`],
  ];
  if (o.x509Credentials) {
    for (const [pair, , , subj] of [...users, ['apiserver-kubelet-client', '', '', '/CN=kube-apiserver-kubelet-client/O=system:masters'] as [string, string, string, string]]) {
      rsaKey(`${certs}/${pair}.key`);
      sign({ crt: `${certs}/${pair}.crt`, key: `${certs}/${pair}.key`, subj, ca: `${certs}/ca`, notBefore: o.installed, notAfter: caUntil,
        ext: pair === 'kubelet' ? [`subjectAltName=DNS:${hostname},IP:${ip}`] : ['basicConstraints=CA:FALSE'] });
    }
    for (const [pair, file, user] of users) kubeconfig(file, user, [`    client-certificate-data: ${b64(`${certs}/${pair}.crt`)}`, `    client-key-data: ${b64(`${certs}/${pair}.key`)}`]);
  } else {
    for (const [, file, user] of users) kubeconfig(file, user, ['    token: c2VjcmV0LXRva2Vu']);
  }
  // dqlite's own pair: self-signed, CA:FALSE, RSA 4096 (a PKCS#8 key, as req -newkey writes it)
  const backend = path.join(data, 'var/kubernetes/backend');
  run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', `${backend}/cluster.key`]);
  sign({ crt: `${backend}/cluster.crt`, key: `${backend}/cluster.key`, subj: '/CN=k8s', notBefore: o.installed, notAfter: caUntil,
    ext: ['basicConstraints=CA:FALSE', 'keyUsage=keyEncipherment,dataEncipherment,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth', `subjectAltName=DNS:${hostname},IP:127.0.0.1`] });
  fs.writeFileSync(path.join(data, 'args/kube-apiserver'), '--cert-dir=${SNAP_DATA}/certs\n--client-ca-file=${SNAP_DATA}/certs/ca.crt\n--tls-cert-file=${SNAP_DATA}/certs/server.crt\n--secure-port=16443\n');
  return { data: `/var/snap/microk8s/${revision}` };
}

// ---------------------------------------------------------------------------------------------------------------
// minikube

/** minikube's certificatesDir inside its node (kubernetes/minikube pkg/minikube/vmpath: GuestKubernetesCertsDir). */
export const MINIKUBE_CERTS = '/var/lib/minikube/certs';

/**
 * A minikube control-plane node (the VM or kic container), laid out as minikube makes it (kubernetes/minikube):
 * kubeadm's control plane (test/support/openssl-kubeadm.ts, one node) with certificatesDir /var/lib/minikube/certs
 * (bsutil/ktmpl: `certificatesDir: {{.CertDir}}`, the manifests and the kubelet's config naming it), and the
 * files bootstrapper/certs.go SetupCerts copies from the host's ~/.minikube at every start: ca.crt (minikube's
 * CA, which kubeadm then uses), proxy-client-ca.crt (CN proxyClientCA, 10 years, util.GenerateCACert),
 * apiserver.crt (CN minikube, O system:masters, serverAuth and clientAuth, the API's names and addresses) and
 * proxy-client.crt (CN aggregator), both for --cert-expiration (26280h by default: `hostIssued` to + 3 years),
 * and /var/lib/minikube/kubeconfig, whose user is apiserver.crt. Returns the node's root.
 */
export function makeMinikubeNode(base: string, o: { kubeadmIssued: Date; hostIssued: Date; ip?: string }): string {
  const [n] = makeOpensslHaTrees(base, { count: 1, endpoint: 'control-plane.minikube.internal:8443', notBefore: o.kubeadmIssued, days: 365 });
  const root = n!.root;
  const ip = o.ip ?? '192.168.49.2';
  const certs = path.join(root, MINIKUBE_CERTS);
  fs.mkdirSync(path.dirname(certs), { recursive: true });
  fs.renameSync(path.join(root, 'etc/kubernetes/pki'), certs);
  for (const f of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((m) => `etc/kubernetes/manifests/${m}.yaml`).concat('var/lib/kubelet/config.yaml')) {
    const file = path.join(root, f);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replaceAll('/etc/kubernetes/pki', MINIKUBE_CERTS));
  }
  const until = new Date(o.hostIssued.getTime() + 1095 * DAY);
  rsaKey(`${certs}/apiserver.key`);
  opensslLeaf({ ca: `${certs}/ca`, key: `${certs}/apiserver.key`, crt: `${certs}/apiserver.crt`, subj: '/O=system:masters/CN=minikube', eku: 'serverAuth,clientAuth',
    sans: `DNS:control-plane.minikube.internal,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:minikube,IP:10.96.0.1,IP:127.0.0.1,IP:10.0.0.1,IP:${ip}`,
    notBefore: new Date(o.hostIssued.getTime() - DAY), notAfter: until });
  rsaKey(`${certs}/proxy-client-ca.key`);
  opensslCaAgain({ key: `${certs}/proxy-client-ca.key`, crt: `${certs}/proxy-client-ca.crt`, cn: 'proxyClientCA', notBefore: new Date(o.hostIssued.getTime() - DAY), notAfter: new Date(o.hostIssued.getTime() + 3650 * DAY) });
  rsaKey(`${certs}/proxy-client.key`);
  opensslLeaf({ ca: `${certs}/proxy-client-ca`, key: `${certs}/proxy-client.key`, crt: `${certs}/proxy-client.crt`, subj: '/O=system:masters/CN=aggregator', eku: 'serverAuth,clientAuth',
    notBefore: new Date(o.hostIssued.getTime() - DAY), notAfter: until });
  fs.writeFileSync(path.join(root, '/var/lib/minikube/kubeconfig'), [
    'apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority: ${MINIKUBE_CERTS}/ca.crt`, '    server: https://localhost:8443', '  name: minikube',
    'contexts:', '- context:', '    cluster: minikube', '    user: minikube', '  name: minikube', 'current-context: minikube', 'kind: Config', 'preferences: {}',
    'users:', '- name: minikube', '  user:', `    client-certificate: ${MINIKUBE_CERTS}/apiserver.crt`, `    client-key: ${MINIKUBE_CERTS}/apiserver.key`, ''].join('\n'));
  fs.mkdirSync(path.join(root, 'var/tmp/minikube'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/tmp/minikube/kubeadm.yaml'), `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncertificatesDir: ${MINIKUBE_CERTS}\nclusterName: mk\ncontrolPlaneEndpoint: control-plane.minikube.internal:8443\n`);
  return root;
}

// ---------------------------------------------------------------------------------------------------------------
// kops

export interface KopsTreeOptions {
  /** when the state store's keysets were made (kops CAs: 10 years) */
  casIssued: Date;
  /** when nodeup provisioned this instance and issued its leaves */
  provisioned: Date;
  /** the leaves' lifetime in days (nodeup: 455 plus up to 30 of skew from the instance's addresses) */
  days?: number;
  nodeName?: string;
}

/**
 * A kops control-plane instance as nodeup writes it (kubernetes/kops nodeup/pkg/model): /srv/kubernetes/ca.crt
 * (kubernetes-ca); kube-apiserver/ (kube_apiserver.go: server.crt, CN kubernetes-master, with its CA appended
 * (IncludeRootCertificate), kubelet-api.crt, apiserver-aggregator.crt (CN aggregator) and its CA, etcd-client.crt
 * (CN kube-apiserver, by etcd-clients-ca) and etcd-ca.crt, service-account.key/pub); kube-controller-manager/
 * (the kubernetes-ca pair for signing, its serving server.crt) and kube-scheduler/server.crt; kubelet-server.crt;
 * the kubeconfigs in /var/lib/<component>/kubeconfig; etcd_manager_tls.go's etcd-manager-main/ and -events/
 * (etcd-manager-ca, etcd-peers-ca per cluster, etcd-clients-ca shared); the manifests as .manifest files, whose
 * commands start with /go-runner. Leaves are RSA 2048 (pki.GeneratePrivateKey), issued at `provisioned`.
 */
export function makeKopsControlPlane(root: string, o: KopsTreeOptions): void {
  const srv = path.join(root, '/srv/kubernetes');
  const node = o.nodeName ?? 'i-0abc123';
  const dirs = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((d) => path.join(srv, d));
  const em = (c: string) => path.join(root, `/etc/kubernetes/pki/etcd-manager-${c}`);
  for (const d of [...dirs, em('main'), em('events'), path.join(root, 'etc/kubernetes/manifests'), path.join(root, 'work')]) fs.mkdirSync(d, { recursive: true });
  const work = path.join(root, 'work');
  const caUntil = new Date(o.casIssued.getTime() + 3650 * DAY);
  const ca = (base: string, cn: string) => {
    rsaKey(`${base}.key`);
    sign({ crt: `${base}.crt`, key: `${base}.key`, subj: `/CN=${cn}`, notBefore: o.casIssued, notAfter: caUntil,
      ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'] });
  };
  // (the state store's keysets, written to the instance)
  ca(`${work}/kubernetes-ca`, 'kubernetes-ca');
  ca(`${work}/etcd-clients-ca`, 'etcd-clients-ca');
  ca(`${work}/apiserver-aggregator-ca`, 'apiserver-aggregator-ca');
  for (const c of ['main', 'events']) {
    ca(`${em(c)}/etcd-manager-ca`, `etcd-manager-ca-${c}`);
    ca(`${em(c)}/etcd-peers-ca`, `etcd-peers-ca-${c}`);
    for (const x of ['crt', 'key']) fs.copyFileSync(`${work}/etcd-clients-ca.${x}`, `${em(c)}/etcd-clients-ca.${x}`);
  }
  const kapi = dirs[0]!, kcm = dirs[1]!, ks = dirs[2]!;
  fs.copyFileSync(`${work}/kubernetes-ca.crt`, `${srv}/ca.crt`);
  for (const x of ['crt', 'key']) fs.copyFileSync(`${work}/kubernetes-ca.${x}`, `${kcm}/ca.${x}`);
  fs.copyFileSync(`${work}/etcd-clients-ca.crt`, `${kapi}/etcd-ca.crt`);
  fs.copyFileSync(`${work}/apiserver-aggregator-ca.crt`, `${kapi}/apiserver-aggregator-ca.crt`);
  const until = new Date(o.provisioned.getTime() + (o.days ?? 470) * DAY);
  const leaf = (base: string, caBase: string, subj: string, usage: 'client' | 'server', sans?: string) => {
    rsaKey(`${base}.key`);
    // (pki/issue.go wellKnownCertificateTypes: client is clientAuth and digitalSignature; server adds keyEncipherment)
    sign({ crt: `${base}.crt`, key: `${base}.key`, subj, ca: caBase, notBefore: o.provisioned, notAfter: until,
      ext: ['basicConstraints=critical,CA:FALSE', `keyUsage=critical,digitalSignature${usage === 'server' ? ',keyEncipherment' : ''}`, `extendedKeyUsage=${usage}Auth`, 'authorityKeyIdentifier=keyid',
        ...(sans ? [`subjectAltName=${sans}`] : [])] });
  };
  leaf(`${kapi}/server`, `${work}/kubernetes-ca`, '/CN=kubernetes-master', 'server',
    'DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:api.k.example.com,DNS:api.internal.k.example.com,IP:100.64.0.1,IP:127.0.0.1');
  fs.appendFileSync(`${kapi}/server.crt`, fs.readFileSync(`${work}/kubernetes-ca.crt`));
  leaf(`${kapi}/kubelet-api`, `${work}/kubernetes-ca`, '/CN=kubelet-api', 'client');
  leaf(`${kapi}/apiserver-aggregator`, `${work}/apiserver-aggregator-ca`, '/CN=aggregator', 'client');
  leaf(`${kapi}/etcd-client`, `${work}/etcd-clients-ca`, '/CN=kube-apiserver', 'client');
  rsaKey(`${kapi}/service-account.key`);
  run(['rsa', '-in', `${kapi}/service-account.key`, '-pubout', '-out', `${kapi}/service-account.pub`]);
  fs.copyFileSync(`${kapi}/service-account.key`, `${kcm}/service-account.key`);
  leaf(`${kcm}/server`, `${work}/kubernetes-ca`, '/CN=kube-controller-manager', 'server', 'DNS:kube-controller-manager.kube-system.svc.cluster.local');
  leaf(`${ks}/server`, `${work}/kubernetes-ca`, '/CN=kube-scheduler', 'server', 'DNS:kube-scheduler.kube-system.svc.cluster.local');
  leaf(`${srv}/kubelet-server`, `${work}/kubernetes-ca`, `/CN=${node}`, 'server', `DNS:${node}`);
  const kubeconfig = (component: string, subj: string, server: string) => {
    leaf(`${work}/${component}`, `${work}/kubernetes-ca`, subj, 'client');
    const dir = path.join(root, `/var/lib/${component}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'kubeconfig'), [
      'apiVersion: v1', 'clusters:', '- cluster:', `    certificate-authority-data: ${b64(`${srv}/ca.crt`)}`, `    server: ${server}`, '  name: local',
      'contexts:', '- context:', '    cluster: local', `    user: ${component}`, '  name: service-account-context', 'current-context: service-account-context', 'kind: Config',
      'users:', `- name: ${component}`, '  user:', `    client-certificate-data: ${b64(`${work}/${component}.crt`)}`, `    client-key-data: ${b64(`${work}/${component}.key`)}`, ''].join('\n'), { mode: 0o400 });
  };
  kubeconfig('kubelet', `/O=system:nodes/CN=system:node:${node}`, 'https://127.0.0.1');
  kubeconfig('kube-proxy', '/CN=system:kube-proxy', 'https://127.0.0.1');
  kubeconfig('kube-controller-manager', '/CN=system:kube-controller-manager', 'https://127.0.0.1');
  kubeconfig('kube-scheduler', '/CN=system:kube-scheduler', 'https://127.0.0.1');
  fs.rmSync(work, { recursive: true });
  // (nodeup's configuration, where kops-configuration.service names it)
  fs.mkdirSync(path.join(root, 'opt/kops/conf'), { recursive: true });
  fs.writeFileSync(path.join(root, 'opt/kops/conf/kube_env.yaml'), 'ClusterName: k.example.com\nInstanceGroupName: control-plane-a\n');
  const pod = (name: string, bin: string, flags: string[]) => fs.writeFileSync(path.join(root, `etc/kubernetes/manifests/${name}.manifest`), [
    'apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, '  namespace: kube-system', 'spec:', '  containers:', '  - command:', '    - /go-runner',
    `    - --log-file=/var/log/${name}.log`, '    - --also-stdout', `    - ${bin}`, ...flags.map((f) => `    - ${f}`), `    image: registry.k8s.io/${name}:v1.31.4`, `    name: ${name}`, '  hostNetwork: true', ''].join('\n'));
  pod('kube-apiserver', '/usr/local/bin/kube-apiserver', [
    '--client-ca-file=/srv/kubernetes/ca.crt', '--etcd-cafile=/srv/kubernetes/kube-apiserver/etcd-ca.crt', '--etcd-certfile=/srv/kubernetes/kube-apiserver/etcd-client.crt',
    '--etcd-keyfile=/srv/kubernetes/kube-apiserver/etcd-client.key', '--etcd-servers=https://127.0.0.1:4001', '--kubelet-client-certificate=/srv/kubernetes/kube-apiserver/kubelet-api.crt',
    '--kubelet-client-key=/srv/kubernetes/kube-apiserver/kubelet-api.key', '--proxy-client-cert-file=/srv/kubernetes/kube-apiserver/apiserver-aggregator.crt',
    '--proxy-client-key-file=/srv/kubernetes/kube-apiserver/apiserver-aggregator.key', '--requestheader-client-ca-file=/srv/kubernetes/kube-apiserver/apiserver-aggregator-ca.crt',
    '--service-account-key-file=/srv/kubernetes/kube-apiserver/service-account.pub', '--service-account-signing-key-file=/srv/kubernetes/kube-apiserver/service-account.key',
    '--tls-cert-file=/srv/kubernetes/kube-apiserver/server.crt', '--tls-private-key-file=/srv/kubernetes/kube-apiserver/server.key']);
  pod('kube-controller-manager', '/usr/local/bin/kube-controller-manager', [
    '--cluster-signing-cert-file=/srv/kubernetes/kube-controller-manager/ca.crt', '--cluster-signing-key-file=/srv/kubernetes/kube-controller-manager/ca.key',
    '--kubeconfig=/var/lib/kube-controller-manager/kubeconfig', '--root-ca-file=/srv/kubernetes/ca.crt',
    '--service-account-private-key-file=/srv/kubernetes/kube-controller-manager/service-account.key', '--tls-cert-file=/srv/kubernetes/kube-controller-manager/server.crt',
    '--tls-private-key-file=/srv/kubernetes/kube-controller-manager/server.key']);
  pod('kube-scheduler', '/usr/local/bin/kube-scheduler', ['--kubeconfig=/var/lib/kube-scheduler/kubeconfig',
    '--tls-cert-file=/srv/kubernetes/kube-scheduler/server.crt', '--tls-private-key-file=/srv/kubernetes/kube-scheduler/server.key']);
}
