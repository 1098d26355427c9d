import { parseAllYamlFast } from './fast-yaml.js';

/** A PEM value found in a Kubernetes object manifest. */
export interface ManifestPem {
  /** `Secret demo/app-tls tls.crt` */
  where: string;
  /** `Secret demo/app-tls` */
  object: string;
  pem: string;
}

/**
 * The PEM values of Secret and ConfigMap manifests (`kubectl get secret -o yaml|json`, a List of them, or
 * several YAML documents): Secret `data` is base64, `stringData` and ConfigMap `data` are text, ConfigMap
 * `binaryData` is base64. Returns undefined when the text is not such a manifest.
 */
export function manifestPems(text: string): ManifestPem[] | undefined {
  let docs: unknown[];
  try { docs = parseAllYamlFast(text); } catch { return undefined; }
  const objects: Record<string, any>[] = [];
  for (const d of docs) {
    if (!d || typeof d !== 'object') continue;
    const o = d as Record<string, any>;
    // the API's SecretList/ConfigMapList items carry no kind of their own; kubectl's List items do
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      const itemKind = o.kind === 'List' ? undefined : o.kind.slice(0, -'List'.length);
      objects.push(...o.items.map((i: Record<string, any>) => (i && !i.kind && itemKind ? { ...i, kind: itemKind } : i)));
    }
    else objects.push(o);
  }
  const relevant = objects.filter((o) => o && (o.kind === 'Secret' || o.kind === 'ConfigMap'));
  if (relevant.length === 0) return undefined;
  const out: ManifestPem[] = [];
  for (const o of relevant) {
    const id = `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;
    const add = (key: string, v: unknown, base64: boolean) => {
      if (typeof v !== 'string' || !v) return;
      const pem = base64 ? Buffer.from(v, 'base64').toString('latin1') : v;
      if (pem.includes('-----BEGIN ')) out.push({ where: `${id} ${key}`, object: id, pem });
    };
    const textData = o.kind === 'Secret' ? o.stringData : o.data;
    const b64Data = o.kind === 'Secret' ? o.data : o.binaryData;
    for (const [k, v] of Object.entries(textData ?? {})) add(k, v, false);
    for (const [k, v] of Object.entries(b64Data ?? {})) add(k, v, true);
  }
  return out;
}
