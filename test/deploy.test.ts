import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseAllDocuments, stringify } from 'yaml';
import { renderChart, manifestFiles, CHART_DIR, MANIFEST_DIR } from './deploy-render.js';
import { NodeFs } from '../src/fs/node-fs.js';
import { readInventory } from '../src/inventory/read.js';
import { copyFixture, removeCopy, NOW, serveFixture, get } from './serve-helpers.js';
import { PROMTOOL, parsePromText, promtoolCheckRules, promtoolTestRules, type Sample } from './metrics-parse.js';
import { serialDecimal } from '../src/report/metrics.js';
import type { Inventory } from '../src/inventory/types.js';
import { makeCa, makeLeaf, makeK3sTree, put } from './support/trees.js';

type Obj = Record<string, unknown>;

// ---- validation against the OpenAPI models shipped with @kubernetes/client-node ----
const require = createRequire(import.meta.url);
const MODELS_DIR = path.join(path.dirname(require.resolve('@kubernetes/client-node/package.json')), 'dist/gen/models');
type Attr = { name: string; baseName: string; type: string };
let k8s: Record<string, { attributeTypeMap?: Attr[] }>;

function requiredFields(typeName: string): string[] {
  const dts = path.join(MODELS_DIR, `${typeName}.d.ts`);
  if (!fs.existsSync(dts)) return [];
  return [...fs.readFileSync(dts, 'utf8').matchAll(/^\s+'([A-Za-z0-9$_]+)': /gm)].map((m) => m[1]);
}

function validateValue(v: unknown, type: string, at: string, errors: string[]): void {
  const arr = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (arr) {
    if (!Array.isArray(v)) { errors.push(`${at}: want a list (${type})`); return; }
    v.forEach((x, i) => validateValue(x, arr[1], `${at}[${i}]`, errors));
  } else if (map) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) { errors.push(`${at}: want a map (${type})`); return; }
    for (const [k, x] of Object.entries(v)) validateValue(x, map[1], `${at}.${k}`, errors);
  } else if (type === 'string' || type === 'Date') {
    if (typeof v !== 'string') errors.push(`${at}: want a string, got ${JSON.stringify(v)}`);
  } else if (type === 'number') {
    if (typeof v !== 'number') errors.push(`${at}: want a number, got ${JSON.stringify(v)}`);
  } else if (type === 'boolean') {
    if (typeof v !== 'boolean') errors.push(`${at}: want a boolean, got ${JSON.stringify(v)}`);
  } else if (type === 'IntOrString') {
    if (typeof v !== 'string' && typeof v !== 'number') errors.push(`${at}: want an int or a string`);
  } else if (type === 'any' || type === 'object') {
    // free-form
  } else {
    validateObject(v, type, at, errors);
  }
}

function validateObject(v: unknown, typeName: string, at: string, errors: string[]): void {
  const cls = k8s[typeName];
  if (!cls?.attributeTypeMap) { errors.push(`${at}: no model ${typeName}`); return; }
  if (!v || typeof v !== 'object' || Array.isArray(v)) { errors.push(`${at}: want an object (${typeName})`); return; }
  for (const [k, x] of Object.entries(v as Obj)) {
    const a = cls.attributeTypeMap.find((y) => y.baseName === k);
    if (!a) { errors.push(`${at}.${k}: unknown field of ${typeName}`); continue; }
    validateValue(x, a.type, `${at}.${k}`, errors);
  }
  for (const req of requiredFields(typeName)) {
    const a = cls.attributeTypeMap.find((y) => y.name === req);
    if (a && (v as Obj)[a.baseName] === undefined) errors.push(`${at}: missing required ${a.baseName} (${typeName})`);
  }
}

const MODEL_OF: Record<string, string> = {
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/Service': 'V1Service',
  'v1/ConfigMap': 'V1ConfigMap',
  'apps/v1/DaemonSet': 'V1DaemonSet',
  'batch/v1/CronJob': 'V1CronJob',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
};
const CRDS = new Set(['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule']);

/** Enumerations the models do not carry, for the fields the chart sets. */
function checkEnums(doc: unknown, errors: string[], at = ''): void {
  if (Array.isArray(doc)) { doc.forEach((x, i) => checkEnums(x, errors, `${at}[${i}]`)); return; }
  if (!doc || typeof doc !== 'object') return;
  const o = doc as Obj;
  const one = (k: string, allowed: string[]) => { if (k in o && !allowed.includes(String(o[k]))) errors.push(`${at}.${k}: ${JSON.stringify(o[k])} not one of ${allowed.join(', ')}`); };
  if ('hostPath' in o && o.hostPath && typeof o.hostPath === 'object') {
    const t = (o.hostPath as Obj).type;
    if (t !== undefined && !['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'].includes(String(t))) errors.push(`${at}.hostPath.type ${t}`);
  }
  one('imagePullPolicy', ['Always', 'IfNotPresent', 'Never']);
  one('restartPolicy', ['Always', 'OnFailure', 'Never']);
  one('concurrencyPolicy', ['Allow', 'Forbid', 'Replace']);
  one('protocol', ['TCP', 'UDP', 'SCTP']);
  one('operator', ['Exists', 'Equal', 'In', 'NotIn', 'DoesNotExist', 'Gt', 'Lt']);
  for (const [k, v] of Object.entries(o)) checkEnums(v, errors, `${at}.${k}`);
}

async function validateDocs(docs: Obj[]): Promise<string[]> {
  k8s ??= (await import('@kubernetes/client-node')) as unknown as typeof k8s;
  const errors: string[] = [];
  for (const d of docs) {
    const key = `${d.apiVersion}/${d.kind}`;
    const name = `${d.kind}/${(d.metadata as Obj | undefined)?.name}`;
    assert.match(String((d.metadata as Obj | undefined)?.name ?? ''), /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, `${name}: a DNS name`);
    if (MODEL_OF[key]) validateObject(d, MODEL_OF[key], name, errors);
    else if (CRDS.has(key)) validateObject({ apiVersion: d.apiVersion, kind: d.kind, metadata: d.metadata }, 'V1ConfigMap', name, errors);
    else errors.push(`${name}: unexpected apiVersion/kind ${key}`);
    checkEnums(d, errors, name);
  }
  return errors;
}

const docsOf = (r: ReturnType<typeof renderChart>) => r.flatMap((x) => x.docs) as Obj[];
const find = (docs: Obj[], kind: string) => docs.filter((d) => d.kind === kind);

test('deploy: the chart renders and deploy/manifests is exactly what it renders', () => {
  const files = manifestFiles();
  for (const [name, text] of Object.entries(files)) {
    const onDisk = path.join(MANIFEST_DIR, name);
    assert.ok(fs.existsSync(onDisk), `deploy/manifests/${name} exists (render it: node dist-test/test/deploy-render.js --write)`);
    assert.equal(fs.readFileSync(onDisk, 'utf8'), text, `deploy/manifests/${name} is up to date with the chart`);
  }
  const kinds = docsOf(renderChart(CHART_DIR)).map((d) => d.kind).sort();
  assert.deepEqual(kinds, ['ConfigMap', 'DaemonSet', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor']);
});

test('deploy: every rendered manifest validates against the Kubernetes OpenAPI models of @kubernetes/client-node', async () => {
  for (const values of [{}, { renewal: { enabled: true, nodes: ['cp-1', 'cp-2.example.test'] }, serve: { bearerTokenSecret: 'kubepki-token' }, allNodes: true }]) {
    const docs = docsOf(renderChart(CHART_DIR, { values }));
    const errors = await validateDocs(docs);
    assert.deepEqual(errors, [], `values ${JSON.stringify(values)}`);
  }
  // the validator itself catches mistakes
  const bad = docsOf(renderChart(CHART_DIR));
  const ds = structuredClone(find(bad, 'DaemonSet')[0]) as Obj;
  ((ds.spec as Obj).template as Obj).spec = { ...(((ds.spec as Obj).template as Obj).spec as Obj), hostNetwrok: true };
  const errs = await validateDocs([ds]);
  assert.ok(errs.some((e) => /hostNetwrok: unknown field of V1PodSpec/.test(e)), errs.join('\n'));
  const noImage = structuredClone(find(bad, 'Service')[0]) as Obj;
  ((noImage.spec as Obj).ports as Obj[])[0].port = '9793';
  assert.ok((await validateDocs([noImage])).some((e) => /port: want a number/.test(e)));
});

test('deploy: the DaemonSet mounts only what serve reads, read-only, and serve reads nothing else', async () => {
  const docs = docsOf(renderChart(CHART_DIR));
  const ds = find(docs, 'DaemonSet')[0] as any;
  const pod = ds.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(pod.hostNetwork, undefined);
  assert.equal(pod.hostPID, undefined);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.privileged, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.ok(c.args.includes('serve') && c.args.includes('--root=/host'));
  const mounts: { name: string; mountPath: string; readOnly?: boolean }[] = c.volumeMounts;
  for (const m of mounts) assert.equal(m.readOnly, true, `${m.name} is mounted read-only`);
  const hostPaths: string[] = [];
  for (const v of pod.volumes) {
    assert.ok(v.hostPath, `${v.name} is a hostPath (no other volume by default)`);
    assert.notEqual(v.hostPath.type, 'DirectoryOrCreate', 'serve never creates anything on the host');
    assert.notEqual(v.hostPath.type, 'FileOrCreate');
    const m = mounts.find((x) => x.name === v.name)!;
    assert.equal(m.mountPath, `/host${v.hostPath.path}`);
    hostPaths.push(v.hostPath.path);
  }
  assert.ok(!hostPaths.includes('/') && !hostPaths.includes('/var/lib/kubelet'), 'never the whole kubelet dir (pod secrets live there)');

  // What does serve read? Run the real reader on a kubeadm tree through a NodeFs that records every path it touches.
  const root = copyFixture('kubeadm-1.26');
  try {
    const touched = new Set<string>();
    class TracingFs extends NodeFs {
      private note(p: string) { if (super.lstat(p)) touched.add(path.posix.normalize(p)); }
      override readFile(p: string) { this.note(p); const real = this.realNodePath(p); this.note(real); return super.readFile(p); }
      override readDir(p: string) { this.note(p); return super.readDir(p); }
      override stat(p: string) { this.note(p); return super.stat(p); }
      override lstat(p: string) { const s = super.lstat(p); if (s) touched.add(path.posix.normalize(p)); return s; }
      override readLink(p: string) { this.note(p); return super.readLink(p); }
    }
    const inv = readInventory({ fs: new TracingFs(root), now: NOW });
    assert.ok(inv.certificates.length > 10);
    const under = (p: string, dir: string) => p === dir || p.startsWith(dir + '/');
    // parents of a mount (/etc, /var/lib) are visible in the container as directories, that is fine
    const isParentOfMount = (p: string) => hostPaths.some((h) => h.startsWith(p === '/' ? '/' : p + '/'));
    const outside = [...touched].filter((p) => !hostPaths.some((h) => under(p, h)) && !isParentOfMount(p));
    assert.deepEqual(outside, [], 'serve reads nothing that is not mounted');
    for (const h of hostPaths) assert.ok([...touched].some((p) => under(p, h)), `serve reads ${h}, so mounting it is needed`);
  } finally {
    removeCopy(root);
  }
});

// One tree of each installer the chart knows (values layout): the DaemonSet's pod starts there (every hostPath
// is there with its type: Kubernetes has no optional hostPath) and sees every certificate a check of the whole
// node finds. Before, the chart mounted kubeadm's four paths whatever the installer: on an RKE2 or k3s server
// (no /etc/kubernetes) the pod never started, on RKE1 or kubespray no kubelet config.yaml or kubeadm-flags.env.
async function layoutTree(layout: string): Promise<string> {
  const issued = new Date('2026-06-01T00:00:00Z');
  if (layout === 'kubeadm') return copyFixture('kubeadm-1.26');
  if (layout === 'rke1') return copyFixture('rke1-expired');
  if (layout === 'kubespray') {
    // kubeadm underneath (ssl/, pki a link to it), the kubelet's config in /etc/kubernetes, etcd on the host
    const root = copyFixture('kubeadm-1.26');
    fs.renameSync(path.join(root, 'etc/kubernetes/pki'), path.join(root, 'etc/kubernetes/ssl'));
    fs.symlinkSync('/etc/kubernetes/ssl', path.join(root, 'etc/kubernetes/pki'));
    fs.renameSync(path.join(root, 'var/lib/kubelet/config.yaml'), path.join(root, 'etc/kubernetes/kubelet-config.yaml'));
    fs.rmSync(path.join(root, 'var/lib/kubelet/kubeadm-flags.env'), { force: true });
    const ca = await makeCa('etcd-ca', issued, 3650);
    const member = await makeLeaf(ca, 'etcd-member-node1', { eku: ['serverAuth', 'clientAuth'], sans: [{ type: 'dns', value: 'node1' }], notBefore: issued, days: 365 });
    put(root, '/etc/ssl/etcd/ssl/ca.pem', ca.pem);
    put(root, '/etc/ssl/etcd/ssl/member-node1.pem', member.pem);
    put(root, '/etc/ssl/etcd/ssl/member-node1-key.pem', member.keyPem, 0o600);
    return root;
  }
  // (in a directory of its own, as copyFixture's: removeCopy removes the parent)
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `kubepki-deploy-${layout}-`)), 'node');
  fs.mkdirSync(root);
  await makeK3sTree(root, issued);
  if (layout === 'rke2') {
    // the same files under RKE2's names
    fs.renameSync(path.join(root, 'var/lib/rancher/k3s'), path.join(root, 'var/lib/rancher/rke2'));
    fs.renameSync(path.join(root, 'etc/rancher/k3s'), path.join(root, 'etc/rancher/rke2'));
    fs.renameSync(path.join(root, 'etc/rancher/rke2/k3s.yaml'), path.join(root, 'etc/rancher/rke2/rke2.yaml'));
  }
  return root;
}

test('deploy: for each installer (values layout) the pod starts and sees every certificate a check of the whole node finds', async () => {
  const values = parseAllDocuments(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'))[0]!.toJS() as { hostPathsByLayout: Record<string, unknown> };
  const layouts = Object.keys(values.hostPathsByLayout);
  assert.deepEqual(layouts.sort(), ['k3s', 'kubeadm', 'kubespray', 'rke1', 'rke2']);
  for (const layout of layouts) {
    const pod = (find(docsOf(renderChart(CHART_DIR, { values: { layout } })), 'DaemonSet')[0] as any).spec.template.spec;
    const root = await layoutTree(layout);
    const view = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-deploy-view-'));
    try {
      for (const v of pod.volumes) {
        const host = path.join(root, v.hostPath.path);
        const st = fs.statSync(host, { throwIfNoEntry: false });
        // the kubelet's hostPath type check (pkg/volume/hostpath): Directory and File must be there as such
        assert.ok(v.hostPath.type === 'Directory' ? st?.isDirectory() : v.hostPath.type === 'File' ? st?.isFile() : false, `${layout}: hostPath ${v.hostPath.path} (${v.hostPath.type}) is on such a node`);
        const mount = pod.containers[0].volumeMounts.find((m: any) => m.name === v.name);
        assert.equal(mount.mountPath, `/host${v.hostPath.path}`);
        // what the container sees under /host: the mounted paths and nothing else
        fs.mkdirSync(path.dirname(path.join(view, v.hostPath.path)), { recursive: true });
        fs.cpSync(host, path.join(view, v.hostPath.path), { recursive: true, verbatimSymlinks: true });
      }
      // (a user's kubeconfig in a home directory, such as rke's kube_config_cluster.yml, is the workstation's, not the node's)
      const rows = (r: string) => readInventory({ fs: new NodeFs(r), now: NOW }).certificates
        .filter((c) => !/^\/(home|root)\//.test(c.location.file)).map((c) => `${c.name} ${c.location.file} ${c.serial}`).sort();
      const whole = rows(root);
      assert.ok(whole.length >= 5, `${layout}: ${whole.join('; ')}`);
      assert.deepEqual(rows(view), whole, `${layout}: the pod sees what check sees on the node`);
    } finally {
      removeCopy(root);
      fs.rmSync(view, { recursive: true, force: true });
    }
  }
  assert.throws(() => renderChart(CHART_DIR, { values: { layout: 'kops' } }), /layout must be one of/);
});

// The pod runs as root with the capabilities its securityContext leaves (drop ALL, then add), as a container runtime
// sets them: run the built kubepki under setpriv with exactly those on a kubespray node whose etcd certificates are
// kube-owned in a 0700 /etc/ssl/etcd/ssl (kubespray's etcd_cert_dir_mode, owner kube). With drop ALL alone, root
// could not enter that directory: the etcd certificates were not watched.
test('deploy: with the DaemonSet\'s user and capabilities, serve reads files another user owns (kubespray etcd) and root-owned 0600 keys', async (t) => {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) { t.skip('needs root and setpriv (util-linux) to set the capabilities'); return; }
  const c = (find(docsOf(renderChart(CHART_DIR, { values: { layout: 'kubespray' } })), 'DaemonSet')[0] as any).spec.template.spec;
  const ctr = c.containers[0];
  assert.equal(c.securityContext.runAsUser, 0);
  assert.deepEqual(ctr.securityContext.capabilities.drop, ['ALL'], 'nothing but what add lists');
  const caps: string[] = (ctr.securityContext.capabilities.add ?? []).map((x: string) => x.toLowerCase().replace(/^cap_/, ''));
  // what an operator reviewing the pod's privileges reads says the same (it said "all capabilities dropped")
  const fleet = fs.readFileSync(path.resolve(process.cwd(), 'docs/fleet.md'), 'utf8');
  assert.doesNotMatch(fleet, /all\s+capabilities\s+dropped/);
  for (const cap of ctr.securityContext.capabilities.add ?? []) assert.match(fleet, new RegExp(`capability dropped but \`${cap}\``), `docs/fleet.md names ${cap}`);
  const root = await layoutTree('kubespray');
  try {
    const ssl = path.join(root, 'etc/ssl/etcd/ssl');
    for (const f of fs.readdirSync(ssl)) { fs.chownSync(path.join(ssl, f), 998, 998); fs.chmodSync(path.join(ssl, f), 0o600); }
    fs.chownSync(ssl, 998, 998);
    fs.chmodSync(ssl, 0o700);
    fs.chmodSync(path.join(root, 'etc/kubernetes/ssl/ca.key'), 0o600);
    const bin = path.resolve(process.cwd(), 'bin/kubepki.js');
    const r = spawnSync('setpriv', [`--bounding-set=${['-all', ...caps.map((x) => `+${x}`)].join(',')}`, '--no-new-privs', '--', process.execPath, bin, 'check', '--root', root, '--now', '2026-11-23', '-o', 'json'], { encoding: 'utf8' });
    assert.ok(r.stdout.startsWith('{'), r.stderr);
    const inv = JSON.parse(r.stdout);
    const unreadable = inv.findings.filter((f: any) => f.code === 'unreadable').map((f: any) => f.message);
    assert.deepEqual(unreadable, [], 'every mounted file is readable');
    const etcd = inv.certificates.filter((x: any) => x.location.file.startsWith('/etc/ssl/etcd/ssl/')).map((x: any) => x.location.file).sort();
    assert.deepEqual(etcd, ['/etc/ssl/etcd/ssl/ca.pem', '/etc/ssl/etcd/ssl/member-node1.pem']);
    assert.ok(inv.keys.some((k: any) => k.file === '/etc/kubernetes/ssl/ca.key'), 'the root-owned 0600 CA key is read');
  } finally {
    removeCopy(root);
  }
});

// The scheduler's two checks for a DaemonSet pod: nodeAffinity (terms ORed, expressions ANDed) and taints
// (every NoSchedule/NoExecute taint tolerated), as in k8s.io/component-helpers/scheduling/corev1.
type Taint = { key: string; value?: string; effect: string };
function schedulesOn(pod: any, node: { labels: Record<string, string>; taints: Taint[] }): boolean {
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const exprOk = (e: any) => {
    const has = Object.hasOwn(node.labels, e.key);
    switch (e.operator) {
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      case 'In': return has && e.values.includes(node.labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(node.labels[e.key]);
      default: throw new Error(`operator ${e.operator}`);
    }
  };
  if (terms && !terms.some((t: any) => (t.matchExpressions ?? []).every(exprOk))) return false;
  for (const [k, v] of Object.entries(pod.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const tolerates = (tol: any, t: Taint) => (!tol.effect || tol.effect === t.effect)
    && (tol.operator === 'Exists' ? (!tol.key || tol.key === t.key) : tol.key === t.key && (tol.value ?? '') === (t.value ?? ''));
  return node.taints.filter((t) => t.effect !== 'PreferNoSchedule').every((t) => (pod.tolerations ?? []).some((tol: any) => tolerates(tol, t)));
}

test('deploy: the DaemonSet runs on every control-plane node (kubeadm old and new, RKE1, RKE2/k3s), and on no worker', () => {
  // labels and taints as each installer sets them on its control-plane nodes
  const cp = {
    'kubeadm 1.26': { labels: { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    'kubeadm 1.22': { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/master': '' }, taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }] },
    'kubeadm 1.18 (seed 000\'s old clusters)': { labels: { 'node-role.kubernetes.io/master': '' }, taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }] },
    'RKE1 controlplane+etcd': {
      labels: { 'node-role.kubernetes.io/controlplane': 'true', 'node-role.kubernetes.io/etcd': 'true' },
      taints: [{ key: 'node-role.kubernetes.io/controlplane', value: 'true', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/etcd', value: 'true', effect: 'NoExecute' }],
    },
    'RKE2 server with CriticalAddonsOnly': {
      labels: { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true', 'node-role.kubernetes.io/etcd': 'true' },
      taints: [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoExecute' }],
    },
  };
  const worker = { labels: { 'kubernetes.io/hostname': 'worker-1' }, taints: [] };
  const plain = parseAllDocuments(fs.readFileSync(path.join(MANIFEST_DIR, 'kubepki.yaml'), 'utf8')).map((d) => d.toJS()).filter(Boolean) as Obj[];
  for (const docs of [docsOf(renderChart(CHART_DIR)), plain]) {
    const pod = (find(docs, 'DaemonSet')[0] as any).spec.template.spec;
    for (const [name, node] of Object.entries(cp)) assert.ok(schedulesOn(pod, node), `runs on a ${name} control-plane node`);
    assert.equal(schedulesOn(pod, worker), false, 'not on workers by default');
  }
  const all = (find(docsOf(renderChart(CHART_DIR, { values: { allNodes: true } })), 'DaemonSet')[0] as any).spec.template.spec;
  assert.ok(schedulesOn(all, worker), 'allNodes: true runs on workers too');
  assert.ok(schedulesOn(all, { labels: {}, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] }), 'allNodes: true, whatever their taints');
});

test('deploy: alerts pass promtool check rules, with warning at 28 days and critical at 14', (t) => {
  const docs = docsOf(renderChart(CHART_DIR));
  const rule = find(docs, 'PrometheusRule')[0] as any;
  const rules = rule.spec.groups.flatMap((g: any) => g.rules);
  const byName = Object.fromEntries(rules.map((r: any) => [r.alert, r]));
  assert.match(byName.KubepkiCertificateExpiringSoon.expr, /< 28\)/);
  assert.equal(byName.KubepkiCertificateExpiringSoon.labels.severity, 'warning');
  assert.match(byName.KubepkiCertificateExpiringCritical.expr, /< 14\b/);
  assert.equal(byName.KubepkiCertificateExpiringCritical.labels.severity, 'critical');
  assert.match(byName.KubepkiServedCertificateStale.expr, /kubepki_served_cert_stale/);
  assert.match(byName.KubepkiServedChainIncomplete.expr, /kubepki_served_chain_incomplete\{[^}]*\} == 1/);
  assert.match(byName.KubepkiErrorFindings.expr, /kubepki_findings\{[^}]*severity="error"/);
  assert.match(byName.KubepkiReadStale.expr, /time\(\) - kubepki_last_read_timestamp_seconds\{[^}]*\} > 15 \* 60/);
  assert.match(byName.KubepkiCertificateExpiringSoon.annotations.summary, /^\{\{ \$labels\.name \}\} on \{\{ \$labels\.node \}\}/, 'Prometheus templates survive Helm');
  const sm = find(docs, 'ServiceMonitor')[0] as any;
  assert.equal(sm.spec.endpoints[0].port, 'metrics');
  if (!fs.existsSync(PROMTOOL)) { t.diagnostic(`${PROMTOOL} absent: promtool check rules skipped`); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-rules-'));
  try {
    const file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, stringify({ groups: rule.spec.groups }));
    const r = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /SUCCESS: 11 rules found/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy: the Grafana dashboard is valid JSON, shipped in its ConfigMap, and its PromQL parses', (t) => {
  const text = fs.readFileSync(path.join(CHART_DIR, 'dashboards/kubepki.json'), 'utf8');
  const dash = JSON.parse(text);
  const cm = find(docsOf(renderChart(CHART_DIR)), 'ConfigMap')[0] as any;
  assert.deepEqual(JSON.parse(cm.data['kubepki.json']), dash);
  assert.equal(cm.metadata.labels.grafana_dashboard, '1');
  const exprs: string[] = dash.panels.flatMap((p: any) => (p.targets ?? []).map((x: any) => x.expr));
  assert.ok(exprs.length >= 8);
  assert.ok(exprs.some((e) => e.includes('x509_cert_not_after')));
  const ids = dash.panels.map((p: any) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  if (!fs.existsSync(PROMTOOL)) { t.diagnostic(`${PROMTOOL} absent: PromQL not parsed`); return; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-dash-'));
  try {
    const file = path.join(dir, 'dash-rules.yaml');
    const rules = exprs.map((e, i) => ({ record: `kubepki:dashboard_panel_${i}`, expr: e.replace(/\$job|\$node/g, '.*') }));
    fs.writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy: scheduled renewal is off by default; when on, one CronJob per node, pinned, behind one Lease', () => {
  assert.equal(find(docsOf(renderChart(CHART_DIR)), 'CronJob').length, 0);
  const docs = docsOf(renderChart(CHART_DIR, { values: { renewal: { enabled: true, nodes: ['cp-1', 'cp-2', 'cp-3'] } } }));
  const jobs = find(docs, 'CronJob') as any[];
  assert.deepEqual(jobs.map((j) => j.spec.jobTemplate.spec.template.spec.nodeName), ['cp-1', 'cp-2', 'cp-3']);
  for (const j of jobs) {
    const c = j.spec.jobTemplate.spec.template.spec.containers[0];
    assert.equal(j.spec.concurrencyPolicy, 'Forbid');
    assert.ok(c.args.includes('--lease=kubepki-renewal'));
    const cmd = c.args.slice(c.args.indexOf('--') + 1);
    assert.deepEqual(cmd.slice(2, 6), ['renew', '--root=/host', '--only-expiring', '--warn=30d']);
    assert.ok(cmd.includes('--restart'));
    assert.ok(cmd.includes('--backup-dir=/host/var/lib/kubepki/backups'), 'the backup stays on the node');
  }
  const role = find(docs, 'Role')[0] as any;
  assert.deepEqual(role.rules.flatMap((r: any) => r.resources), ['leases', 'leases']);
  assert.ok(role.rules.every((r: any) => r.apiGroups[0] === 'coordination.k8s.io'));
});

test('deploy: pods carry prometheus.io scrape annotations for annotation-based Prometheus, naming the metrics port, except when serve asks for a bearer token', () => {
  const podOf = (values?: Obj) => (find(docsOf(renderChart(CHART_DIR, values ? { values } : undefined)), 'DaemonSet')[0] as any).spec.template;
  const pod = podOf();
  const port = pod.spec.containers[0].ports.find((p: any) => p.name === 'metrics').containerPort;
  assert.deepEqual(pod.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
  assert.ok(pod.spec.containers[0].args.includes(`--listen=0.0.0.0:${port}`));
  // readiness: a read succeeded; liveness: serve answers. A liveness probe on /healthz restarted a pod whose tree cannot be
  // read every two minutes, so it was scraped too rarely for KubepkiReadStale (for: 5m) or KubepkiDown (for: 15m) to fire
  const c = pod.spec.containers[0];
  assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/healthz', 'metrics']);
  assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/livez', 'metrics']);
  const moved = podOf({ serve: { port: 9100 } });
  assert.equal(moved.metadata.annotations['prometheus.io/port'], '9100');
  assert.equal(moved.spec.containers[0].ports[0].containerPort, 9100);
  // an annotation-based job sends no token: it would only collect 401s
  assert.equal(podOf({ serve: { bearerTokenSecret: 'kubepki-token' } }).metadata.annotations, undefined);
  assert.equal(podOf({ scrapeAnnotations: false }).metadata.annotations, undefined);
});

test('deploy: helm template agrees with the built-in renderer (when helm is installed)', (t) => {
  const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  if (helm.error || helm.status !== 0) { t.skip('helm not installed: the built-in renderer is the judge'); return; }
  const r = spawnSync('helm', ['template', 'kubepki', CHART_DIR, '--namespace', 'kubepki'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const theirs = parseAllDocuments(r.stdout).map((d) => d.toJS()).filter(Boolean);
  const ours = docsOf(renderChart(CHART_DIR));
  const key = (d: any) => `${d.kind}/${d.metadata.name}`;
  assert.deepEqual(theirs.map(key).sort(), ours.map(key).sort());
  for (const d of ours) assert.deepEqual(theirs.find((x: any) => key(x) === key(d)), d);
});

test('deploy: the Dockerfile copies what exists and puts files where the chart runs them', () => {
  const text = fs.readFileSync(path.resolve(process.cwd(), 'deploy/Dockerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);
  assert.equal(stages.length, 2, 'build stage + runtime stage');
  // COPY from the build context must name files of the repository
  for (const m of text.matchAll(/^COPY (?!--from)(.+)$/gm)) {
    const parts = m[1].trim().split(/\s+/);
    for (const src of parts.slice(0, -1)) if (src !== '.') assert.ok(fs.existsSync(path.resolve(process.cwd(), src)), `COPY source ${src} exists`);
  }
  assert.match(text, /ENTRYPOINT \["node", "\/opt\/kubepki\/bin\/kubepki\.js"\]/);
  assert.ok(fs.existsSync(path.resolve(process.cwd(), 'bin/kubepki.js')));
  assert.match(text, /COPY deploy\/image\/lease-run\.mjs \.\/lease-run\.mjs/);
  assert.match(text, /WORKDIR \/opt\/kubepki/);
  const docs = docsOf(renderChart(CHART_DIR, { values: { renewal: { enabled: true, nodes: ['cp-1'] } } }));
  const job = find(docs, 'CronJob')[0] as any;
  const c = job.spec.jobTemplate.spec.template.spec.containers[0];
  assert.deepEqual(c.command, ['node', '/opt/kubepki/lease-run.mjs']);
  assert.ok(c.args.includes('/opt/kubepki/bin/kubepki.js'));
  const ds = find(docs, 'DaemonSet')[0] as any;
  assert.equal(ds.spec.template.spec.containers[0].command, undefined, 'the DaemonSet uses the image ENTRYPOINT');
});

test('deploy: promtool test rules on a real /metrics scrape: each alert fires for the series serve exports, with the labels an operator reads', async (t) => {
  if (!fs.existsSync(PROMTOOL)) { t.diagnostic(`${PROMTOOL} absent: promtool test rules skipped`); return; }
  const rule = find(docsOf(renderChart(CHART_DIR)), 'PrometheusRule')[0] as any;
  // the expressions and labels are under test; annotation templates are checked by `promtool check rules`
  const groups = rule.spec.groups.map((g: any) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }: any) => r) }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-ruletest-'));
  // the expired fixture read at NOW (13 certificates expired), the valid one read 18 days before its leaves expire,
  // and the valid one read at NOW, a year before: a healthy node, where no alert fires
  const scrapes: { fixture: string; now: Date; healthy?: boolean }[] = [
    { fixture: 'kubeadm-1.26-expired', now: NOW },
    { fixture: 'kubeadm-1.26', now: new Date('2027-11-04T12:00:00Z') },
    { fixture: 'kubeadm-1.26', now: NOW, healthy: true },
  ];
  try {
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups }));
    const tests: any[] = [];
    const fired: Record<string, number> = {};
    for (const s of scrapes) {
      const root = copyFixture(s.fixture);
      const server = await serveFixture(root, { now: () => s.now });
      let text: string;
      let inv: Inventory;
      try {
        text = (await get(server.url + 'metrics')).body;
        inv = JSON.parse((await get(server.url + 'api/inventory')).body) as Inventory;
      } finally { await server.close(); removeCopy(root); }
      const target = { job: 'kubepki', instance: '10.0.0.1:9793' };
      const fams = parsePromText(text);
      // promtool's clock starts at 0: times become seconds since the scrape, so time() at eval_time 20m is the scrape + 20m
      const T = Math.floor(s.now.getTime() / 1000);
      const series = [...fams.values()].flatMap((f) => f.samples.map((x) => ({ ...x, value: /^x509_cert_not_(after|before)$|^kubepki_last_read_timestamp_seconds$/.test(x.name) ? x.value - T : x.value })));
      // (serve reads the node every minute: its last read moves with the clock)
      const step = (x: Sample) => (x.name === 'kubepki_last_read_timestamp_seconds' ? 60 : 0);
      const sel = (x: Sample) => `${x.name}{${Object.entries({ ...x.labels, ...target }).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
      const evalAt = 20 * 60;
      const expect: Record<string, any[]> = {};
      // Prometheus drops labels with an empty value (component="" is no label)
      const add = (alert: string, labels: Record<string, string>) => { (expect[alert] ??= []).push({ exp_labels: Object.fromEntries(Object.entries({ ...labels, ...target }).filter(([, v]) => v !== '')) }); fired[alert] = (fired[alert] ?? 0) + 1; };
      const expired = new Map(fams.get('x509_cert_expired')!.samples.map((x) => [x.labels.serial_number + x.labels.filepath + x.labels.embedded_key, x.value]));
      // what check says of each expired certificate, from the same read: the alert's severity follows it (the kubelet's
      // self-signed kubelet.crt, which it never renews and kube-apiserver does not verify, is a warning, and its
      // throwaway CA info: no page on every node over a year old)
      const checkSays = new Map(inv.certificates.map((c) => [serialDecimal(c.serial) + c.location.file + (c.location.kubeconfig?.name ?? ''), c.findings.find((f) => f.code === 'expired')?.severity]));
      for (const x of fams.get('x509_cert_not_after')!.samples) {
        const days = (x.value - T - evalAt) / 86400;
        const key = x.labels.serial_number + x.labels.filepath + x.labels.embedded_key;
        const isExpired = expired.get(key) === 1;
        if (isExpired) assert.equal(x.labels.expiry_severity, checkSays.get(key), `${x.labels.name}: the series' expiry_severity is check's`);
        const rating = isExpired ? checkSays.get(key) : x.labels.expiry_severity;
        if (rating === 'info') continue;
        const paged = rating !== 'warning';
        if (isExpired) add('KubepkiCertificateExpired', { ...x.labels, alertname: 'KubepkiCertificateExpired', severity: paged ? 'critical' : 'warning' });
        else if (days < 14 && paged) add('KubepkiCertificateExpiringCritical', { ...x.labels, alertname: 'KubepkiCertificateExpiringCritical', severity: 'critical' });
        else if (days < 28) add('KubepkiCertificateExpiringSoon', { ...x.labels, alertname: 'KubepkiCertificateExpiringSoon', severity: 'warning' });
      }
      const errors = new Map<string, number>();
      for (const x of fams.get('kubepki_findings')?.samples ?? []) {
        if (x.labels.severity === 'error' && x.labels.code !== 'expired' && x.value > 0) errors.set(`${x.labels.node}\0${x.labels.code}`, (errors.get(`${x.labels.node}\0${x.labels.code}`) ?? 0) + x.value);
      }
      for (const k of errors.keys()) { const [node, code] = k.split('\0'); (expect.KubepkiErrorFindings ??= []).push({ exp_labels: { node, code, alertname: 'KubepkiErrorFindings', severity: 'warning' } }); }
      if (s.healthy) assert.deepEqual(expect, {}, 'a healthy node raises no alert');
      const alerts = ['KubepkiCertificateExpiringSoon', 'KubepkiCertificateExpiringCritical', 'KubepkiCertificateExpired', 'KubepkiServedCertificateStale', 'KubepkiServedChainIncomplete', 'KubepkiErrorFindings', 'KubepkiReadErrors', 'KubepkiReadStale', 'KubepkiDown', 'KubepkiAbsent'];
      tests.push({
        interval: '1m',
        input_series: [...series.map((x) => ({ series: sel(x), values: `${x.value}+${step(x)}x30` })), { series: `up{job="kubepki", instance="10.0.0.1:9793"}`, values: '1+0x30' }],
        alert_rule_test: alerts.map((a) => ({ eval_time: '20m', alertname: a, exp_alerts: expect[a] ?? [] })),
      });
    }
    // and a node kubepki stopped reading (its reads fail or hang) 10 minutes before its certificate expires: the
    // series keep the last read's values (x509_cert_expired 0 for good), and yet the certificate is critical, then
    // expired on time, and KubepkiReadStale says the metrics are old
    const frozen = { job: 'kubepki', instance: '10.0.0.4:9793', node: 'cp-4', name: 'apiserver' };
    const at = (m: Record<string, string>) => `{${Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
    tests.push({ interval: '1m', input_series: [
      { series: `x509_cert_not_after${at(frozen)}`, values: '600+0x40' },
      { series: `x509_cert_expired${at(frozen)}`, values: '0+0x40' },
      { series: `kubepki_last_read_timestamp_seconds${at({ job: frozen.job, instance: frozen.instance, node: frozen.node })}`, values: '0+0x40' },
    ], alert_rule_test: [
      { eval_time: '6m', alertname: 'KubepkiCertificateExpiringCritical', exp_alerts: [{ exp_labels: { ...frozen, alertname: 'KubepkiCertificateExpiringCritical', severity: 'critical' } }] },
      { eval_time: '6m', alertname: 'KubepkiCertificateExpired', exp_alerts: [] },
      { eval_time: '11m', alertname: 'KubepkiCertificateExpired', exp_alerts: [{ exp_labels: { ...frozen, alertname: 'KubepkiCertificateExpired', severity: 'critical' } }] },
      { eval_time: '11m', alertname: 'KubepkiCertificateExpiringCritical', exp_alerts: [] },
      { eval_time: '19m', alertname: 'KubepkiReadStale', exp_alerts: [] },
      { eval_time: '21m', alertname: 'KubepkiReadStale', exp_alerts: [{ exp_labels: { job: frozen.job, instance: frozen.instance, node: frozen.node, alertname: 'KubepkiReadStale', severity: 'warning' } }] },
    ] });
    // and an endpoint serving its leaf without the intermediate on disk: KubepkiServedChainIncomplete after 10m, none
    // for one that sends the whole chain (serve's labels, as /metrics gives them; test/serve.test.ts scrapes them off a real etcd)
    const chain = (v: number, endpoint: string) => ({ series: `kubepki_served_chain_incomplete{job="kubepki", instance="10.0.0.5:9793", node="cp-5", endpoint="${endpoint}", component="etcd", filepath="/etc/kubernetes/pki/etcd/server.crt"}`, values: `${v}+0x30` });
    tests.push({ interval: '1m', input_series: [chain(1, '127.0.0.1:2379'), chain(0, '10.0.0.5:2379')],
      alert_rule_test: [{ eval_time: '5m', alertname: 'KubepkiServedChainIncomplete', exp_alerts: [] },
        { eval_time: '15m', alertname: 'KubepkiServedChainIncomplete', exp_alerts: [{ exp_labels: { job: 'kubepki', instance: '10.0.0.5:9793', node: 'cp-5', endpoint: '127.0.0.1:2379', component: 'etcd', filepath: '/etc/kubernetes/pki/etcd/server.crt', alertname: 'KubepkiServedChainIncomplete', severity: 'warning' } }] }] });
    // and a target that stops answering: KubepkiDown after 15m
    tests.push({ interval: '1m', input_series: [{ series: 'up{job="kubepki", instance="10.0.0.2:9793"}', values: '0+0x30' }],
      alert_rule_test: [{ eval_time: '20m', alertname: 'KubepkiDown', exp_alerts: [{ exp_labels: { job: 'kubepki', instance: '10.0.0.2:9793', alertname: 'KubepkiDown', severity: 'warning' } }] }] });
    // and no target at all (no pod scheduled or started), which KubepkiDown cannot see: KubepkiAbsent after 30m
    tests.push({ interval: '1m', input_series: [{ series: 'up{job="other", instance="10.0.0.3:9100"}', values: '1+0x60' }],
      alert_rule_test: [{ eval_time: '20m', alertname: 'KubepkiAbsent', exp_alerts: [] },
        { eval_time: '40m', alertname: 'KubepkiAbsent', exp_alerts: [{ exp_labels: { job: 'kubepki', alertname: 'KubepkiAbsent', severity: 'warning' } }] }] });
    assert.ok(fired.KubepkiCertificateExpired >= 12 && fired.KubepkiCertificateExpiringSoon >= 10, `the scrapes exercise the alerts: ${JSON.stringify(fired)}`);
    const file = path.join(dir, 'tests.yaml');
    fs.writeFileSync(file, stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }, { lineWidth: 0 }));
    const r = spawnSync(PROMTOOL, ['test', 'rules', file], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.slice(0, 4000));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The rules picked job="<release>" only, the ServiceMonitor's job: scraped by pod annotations (job "kubernetes-pods")
// no kubepki alert could fire, and KubepkiAbsent fired for good. prometheusRule.selector goes into every expression
// (as kubernetes-mixin's jobSelector settings); test/metrics.test.ts does the node_exporter textfile path.
test('deploy: prometheusRule.selector picks the series of each scraping path: pod annotations under job="kubernetes-pods" fire the alerts, other pods of that job do not', (t) => {
  const rulesOf = (values?: Obj) => (find(docsOf(renderChart(CHART_DIR, values ? { values } : undefined)), 'PrometheusRule')[0] as any).spec.groups;
  const exprs = (groups: any[]) => groups.flatMap((g: any) => g.rules.map((r: any) => r.expr as string));
  // the default is the ServiceMonitor's job, which follows the release name
  for (const e of exprs(rulesOf())) assert.match(e, /\{job="kubepki"[,}]/, e);
  const other = (find(docsOf(renderChart(CHART_DIR, { release: 'pki' })), 'PrometheusRule')[0] as any).spec.groups;
  for (const e of exprs(other)) assert.match(e, /\{job="pki"[,}]/, e);
  const sel = 'job="kubernetes-pods", namespace="kubepki"';
  const pods = rulesOf({ prometheusRule: { selector: sel } });
  for (const e of exprs(pods)) { assert.ok(e.includes(`{${sel}`), e); assert.doesNotMatch(e, /job="kubepki"/); }
  assert.throws(() => renderChart(CHART_DIR, { values: { prometheusRule: { absence: 'maybe' } } }), /prometheusRule\.absence is "maybe": set it to up .*, series .* or none/);
  const names = (groups: any[]) => groups.flatMap((g: any) => g.rules.map((r: any) => r.alert as string));
  const none = rulesOf({ prometheusRule: { absence: 'none' } });
  assert.deepEqual(names(none).filter((n) => /Down|Absent/.test(n)), []);
  assert.equal(names(none).length, 9);
  const checked = [promtoolCheckRules(pods), promtoolCheckRules(none), promtoolCheckRules(rulesOf({ prometheusRule: { selector: 'job="node-exporter"', absence: 'series' } }))];
  if (!checked[0]) { t.diagnostic(`${PROMTOOL} absent: promtool check and test rules skipped`); return; }
  assert.deepEqual(checked.map((c) => c!.ok), [true, true, true], checked.map((c) => c!.output).join('\n'));
  assert.match(checked[0]!.output, /SUCCESS: 11 rules found/);
  assert.match(checked[1]!.output, /SUCCESS: 9 rules found/);
  assert.match(checked[2]!.output, /SUCCESS: 10 rules found/, 'the textfile path: no KubepkiDown');
  // a prometheus-community style annotation job: the pod's namespace and name as labels; an x509-certificate-exporter
  // pod in another namespace of the same job (the same metric names) and a down pod of another app are not kubepki's
  const at = (name: string, m: Record<string, string>) => `${name}{${Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
  const pod = { job: 'kubernetes-pods', namespace: 'kubepki', pod: 'kubepki-x7k2p', instance: '10.0.0.1:9793' };
  const cert = { ...pod, node: 'cp-1', name: 'apiserver', expiry_severity: 'error' };
  const foreign = { job: 'kubernetes-pods', namespace: 'x509-exporter', pod: 'x509-exporter-abcde', instance: '10.0.0.9:9793', name: 'apiserver' };
  const r = promtoolTestRules(pods, [
    { interval: '1m', input_series: [
      { series: at('x509_cert_not_after', cert), values: '600+0x60' },
      { series: at('x509_cert_not_after', foreign), values: '600+0x60' },
      { series: at('kubepki_last_read_timestamp_seconds', { ...pod, node: 'cp-1' }), values: '0+60x60' },
      { series: at('up', pod), values: '1+0x60' },
      { series: at('up', { job: 'kubernetes-pods', namespace: 'shop', pod: 'cart-1', instance: '10.0.0.7:8080' }), values: '0+0x60' },
    ], alert_rule_test: [
      { eval_time: '6m', alertname: 'KubepkiCertificateExpiringCritical', exp_alerts: [{ exp_labels: { ...cert, alertname: 'KubepkiCertificateExpiringCritical', severity: 'critical' } }] },
      { eval_time: '11m', alertname: 'KubepkiCertificateExpired', exp_alerts: [{ exp_labels: { ...cert, alertname: 'KubepkiCertificateExpired', severity: 'critical' } }] },
      { eval_time: '40m', alertname: 'KubepkiDown', exp_alerts: [] },
      { eval_time: '40m', alertname: 'KubepkiAbsent', exp_alerts: [] },
    ] },
    // no kubepki pod scraped, the other pods of the job are: KubepkiAbsent after 30m, with the selector's labels
    { interval: '1m', input_series: [{ series: at('up', { job: 'kubernetes-pods', namespace: 'shop', pod: 'cart-1', instance: '10.0.0.7:8080' }), values: '1+0x60' }],
      alert_rule_test: [{ eval_time: '20m', alertname: 'KubepkiAbsent', exp_alerts: [] },
        { eval_time: '40m', alertname: 'KubepkiAbsent', exp_alerts: [{ exp_labels: { job: 'kubernetes-pods', namespace: 'kubepki', alertname: 'KubepkiAbsent', severity: 'warning' } }] }] },
  ]);
  assert.ok(r!.ok, r!.output);
});
