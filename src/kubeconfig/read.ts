import { parseYamlFast as parseYaml } from './fast-yaml.js';
import { posix } from 'node:path';

/** One kubeconfig as read: every cluster and user entry, embedded data decoded, file references absolute. */
export interface KubeconfigDoc {
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: { name: string; cluster?: string; user?: string; namespace?: string }[];
  currentContext?: string;
}

export interface KubeconfigCluster {
  name: string;
  server?: string;
  caData?: Buffer;
  caFile?: string;
}

export interface KubeconfigUser {
  name: string;
  certData?: Buffer;
  certFile?: string;
  keyData?: Buffer;
  keyFile?: string;
  token?: boolean;
  exec?: boolean;
  basic?: boolean;
  authProvider?: boolean;
}

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** Quick test before paying for a YAML parse. */
export function looksLikeKubeconfig(text: string): boolean {
  return /^\s*(clusters|users|contexts)\s*:/m.test(text) && /^\s*(apiVersion|kind|current-context|clusters)\s*:/m.test(text);
}

function b64(v: unknown, where: string): Buffer | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(v)) throw new KubeconfigError(`${where} is not valid base64`);
  return Buffer.from(v, 'base64');
}

/**
 * A kubeconfig's file reference (client-certificate, certificate-authority …) as client-go resolves it
 * (clientcmd.ResolveLocalPaths): an absolute path as it is, a relative one from the kubeconfig's directory `dir`;
 * undefined when there is none.
 */
export function fileRef(v: unknown, dir: string): string | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  return v.startsWith('/') ? v : posix.join(dir, v);
}

/** NodeFs.perRead key prefix of a kubeconfig's KubeconfigDoc, by node path: the walk's parse, which component references reuse. */
export const KUBECONFIG_DOC = 'kubeconfig-doc:';

/**
 * Parse kubeconfig text. `nodePath` is the file's node path, used to make
 * relative file references absolute (as client-go does, relative to the
 * kubeconfig's directory).
 */
export function parseKubeconfig(text: string, nodePath: string): KubeconfigDoc {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KubeconfigError(`not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new KubeconfigError('not a kubeconfig (no clusters or users)');
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.clusters) && !Array.isArray(d.users)) throw new KubeconfigError('not a kubeconfig (no clusters or users)');
  const dir = posix.dirname(nodePath);
  const clusters: KubeconfigCluster[] = [];
  for (const c of (Array.isArray(d.clusters) ? d.clusters : []) as Record<string, unknown>[]) {
    const name = String(c?.name ?? '');
    const cl = (c?.cluster ?? {}) as Record<string, unknown>;
    clusters.push({
      name,
      server: typeof cl.server === 'string' ? cl.server : undefined,
      caData: b64(cl['certificate-authority-data'], `cluster ${JSON.stringify(name)} certificate-authority-data`),
      caFile: fileRef(cl['certificate-authority'], dir),
    });
  }
  const users: KubeconfigUser[] = [];
  for (const u of (Array.isArray(d.users) ? d.users : []) as Record<string, unknown>[]) {
    const name = String(u?.name ?? '');
    const us = (u?.user ?? {}) as Record<string, unknown>;
    users.push({
      name,
      certData: b64(us['client-certificate-data'], `user ${JSON.stringify(name)} client-certificate-data`),
      certFile: fileRef(us['client-certificate'], dir),
      keyData: b64(us['client-key-data'], `user ${JSON.stringify(name)} client-key-data`),
      keyFile: fileRef(us['client-key'], dir),
      token: typeof us.token === 'string' || typeof us.tokenFile === 'string',
      exec: typeof us.exec === 'object' && us.exec !== null,
      basic: typeof us.username === 'string' || typeof us.password === 'string',
      authProvider: typeof us['auth-provider'] === 'object' && us['auth-provider'] !== null,
    });
  }
  const contexts = ((Array.isArray(d.contexts) ? d.contexts : []) as Record<string, unknown>[]).map((c) => {
    const cx = (c?.context ?? {}) as Record<string, unknown>;
    return { name: String(c?.name ?? ''), cluster: cx.cluster as string | undefined, user: cx.user as string | undefined, namespace: cx.namespace as string | undefined };
  });
  return { clusters, users, contexts, currentContext: typeof d['current-context'] === 'string' ? d['current-context'] : undefined };
}

/**
 * What client-go's kubeconfig validation (clientcmd validation.go: validateClusterInfo, validateAuthInfo, run by
 * ConfirmUsable before any client is made) refuses in this kubeconfig: kubectl then prints "Error in
 * configuration", and the kubelet, kube-controller-manager and kube-scheduler do not start with it. One line
 * per problem, with client-go's own words. `readable(path)`: the node file can be read. (A client-certificate
 * file that cannot be read, with no client-certificate-data, is check's `missing-file` already.)
 */
export function clientGoRefusals(doc: KubeconfigDoc, readable: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const c of doc.clusters) {
    const name = JSON.stringify(c.name);
    if (!c.server) out.push(`cluster ${name} has no server (client-go: "no server found for cluster ${c.name}")`);
    if (c.caData && c.caFile) out.push(`cluster ${name} sets both certificate-authority-data and certificate-authority (client-go: "certificate-authority-data and certificate-authority are both specified for ${c.name}. certificate-authority-data will override."): remove one`);
    if (c.caFile && !readable(c.caFile)) out.push(`cluster ${name} certificate-authority ${c.caFile} does not exist or is unreadable (client-go: "unable to read certificate-authority ${c.caFile} for ${c.name}")`);
  }
  for (const u of doc.users) {
    const name = JSON.stringify(u.name);
    if (!u.certData && !u.certFile) continue;
    if (u.certData && u.certFile) out.push(`user ${name} sets both client-certificate-data and client-certificate (client-go: "client-cert-data and client-cert are both specified for ${u.name}. client-cert-data will override."): remove one`);
    if (u.keyData && u.keyFile) out.push(`user ${name} sets both client-key-data and client-key (client-go: "client-key-data and client-key are both specified for ${u.name}; client-key-data will override"): remove one`);
    if (!u.keyData && !u.keyFile) out.push(`user ${name} has a client certificate but no client-key-data or client-key (client-go: "client-key-data or client-key must be specified for ${u.name} to use the clientCert authentication method.")`);
    if (u.certData && u.certFile && !readable(u.certFile)) out.push(`user ${name} client-certificate ${u.certFile} does not exist or is unreadable (client-go: "unable to read client-cert ${u.certFile} for ${u.name}")`);
    if (u.keyFile && !readable(u.keyFile)) out.push(`user ${name} client-key ${u.keyFile} does not exist or is unreadable (client-go: "unable to read client-key ${u.keyFile} for ${u.name}")`);
  }
  return out;
}
