/**
 * The entries of a parsed kubeconfig's current context, and the certificates they carry, read as
 * client-go reads them. rebuild takes the client certificate from here both to judge a surviving
 * kubeconfig (existing.ts) and as evidence of the cluster's key type (infer.ts), and a cluster's CA
 * as evidence that the cluster exists beyond the node (evidence.ts).
 */
import { posix } from 'node:path';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { fileRef } from './read.js';

/** A `name`d entry of a kubeconfig's contexts, clusters or users list. */
type Named = Record<string, any> & { name?: unknown };

export interface CurrentEntries { context?: Named; cluster?: Named; user?: Named }

/**
 * The context `current-context` names, and the cluster and user that context names. client-go
 * looks each up by name only and finds nothing where a name finds nothing; `orFirst` takes the
 * list's first entry there instead, for a caller that wants a hint rather than a connection.
 */
export function currentEntries(doc: any, opts: { orFirst?: boolean } = {}): CurrentEntries {
  const pick = (list: unknown, name: unknown): Named | undefined => {
    if (!Array.isArray(list)) return undefined;
    return list.find((e) => e?.name === name) ?? (opts.orFirst ? list[0] : undefined);
  };
  const context = pick(doc?.contexts, doc?.['current-context']);
  const cluster = pick(doc?.clusters, context?.context?.cluster);
  const user = pick(doc?.users, context?.context?.user);
  return { context, cluster, user };
}

export interface KubeconfigCert {
  /** the first certificate found (the data may carry a chain or bundle after it) */
  cert?: Certificate;
  /** the file it came from, absolute; set even when that file cannot be read */
  file?: string;
}

/** Where to read a kubeconfig's files: its own node path (relative names start there) and a reader of node paths. */
export interface KubeconfigFiles { kubeconfig: string; read: (nodePath: string) => string }

/**
 * A user entry's client certificate as client-go's rest.LoadTLSFiles takes it (dataFromSliceOrFile):
 * `client-certificate-data` when it is not empty, else the `client-certificate` file, a relative path
 * taken from the kubeconfig's directory (clientcmd.ResolveLocalPaths). Without `files` only embedded
 * data is read. Data that is not a certificate throws (the kubeconfig is broken); a file that cannot
 * be read or parsed gives `file` without `cert` (the kubeconfig names a credential that is not there).
 */
export function userClientCert(entry: Named | undefined, files?: KubeconfigFiles): KubeconfigCert {
  return dataOrFile(entry?.user, 'client-certificate', files);
}

/** A cluster entry's CA, `certificate-authority-data` else the `certificate-authority` file, read as userClientCert reads its certificate. */
export function clusterCa(entry: Named | undefined, files?: KubeconfigFiles): KubeconfigCert {
  return dataOrFile(entry?.cluster, 'certificate-authority', files);
}

function dataOrFile(body: Record<string, any> | undefined, field: string, files: KubeconfigFiles | undefined): KubeconfigCert {
  const data = body?.[`${field}-data`];
  if (typeof data === 'string' && data) return withCert({}, Buffer.from(data, 'base64').toString('utf8'));
  const file = files && fileRef(body?.[field], posix.dirname(files.kubeconfig));
  if (!files || !file) return {};
  try { return withCert({ file }, files.read(file)); } catch { return { file }; }
}

function withCert(out: KubeconfigCert, pem: string): KubeconfigCert {
  const b = parsePemBlocks(pem).find((x) => x.label === 'CERTIFICATE');
  return b ? { ...out, cert: new Certificate(b.der) } : out;
}
