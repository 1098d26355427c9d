import { parseDocument, isMap, isSeq, type Document, type YAMLMap } from 'yaml';

/**
 * Edit a kubeconfig in place: only the fields named change; every other field,
 * key order, quoting style and comment is kept (yaml's Document API keeps the
 * source nodes). Pure: text in, text out.
 */
export class KubeconfigEditor {
  private readonly doc: Document;
  private readonly indentSeq: boolean;
  private changed = false;

  constructor(text: string) {
    this.doc = parseDocument(text, { keepSourceTokens: false });
    if (this.doc.errors.length > 0) throw new Error(`not valid YAML: ${this.doc.errors[0]!.message.split('\n')[0]}`);
    // kubectl/kubeadm write `- name:` at the parent's indentation; keep whichever style the file uses.
    this.indentSeq = !/^(clusters|users|contexts):\s*\n-/m.test(text);
  }

  private entry(list: 'users' | 'clusters', name: string): YAMLMap {
    const seqNode = this.doc.get(list);
    if (!isSeq(seqNode)) throw new Error(`no ${list} list`);
    for (const item of seqNode.items) {
      if (isMap(item) && String(item.get('name')) === name) {
        const inner = item.get(list === 'users' ? 'user' : 'cluster');
        if (isMap(inner)) return inner;
        throw new Error(`${list === 'users' ? 'user' : 'cluster'} ${JSON.stringify(name)} has no body`);
      }
    }
    throw new Error(`no ${list === 'users' ? 'user' : 'cluster'} named ${JSON.stringify(name)}`);
  }

  /** A user's field as written (`client-certificate-data` is base64 text). */
  userField(user: string, field: string): string | undefined {
    const v = this.entry('users', user).get(field);
    return v === undefined || v === null ? undefined : String(v);
  }

  clusterField(cluster: string, field: string): string | undefined {
    const v = this.entry('clusters', cluster).get(field);
    return v === undefined || v === null ? undefined : String(v);
  }

  /** Names of the clusters, in file order. */
  clusterNames(): string[] {
    const s = this.doc.get('clusters');
    return isSeq(s) ? s.items.filter(isMap).map((m) => String(m.get('name'))) : [];
  }

  /** Replace (or add) `client-certificate-data` and, when given, `client-key-data` of a user. */
  setUserCertData(user: string, certPem: string, keyPem?: string): this {
    const u = this.entry('users', user);
    u.set('client-certificate-data', Buffer.from(certPem).toString('base64'));
    if (keyPem !== undefined) u.set('client-key-data', Buffer.from(keyPem).toString('base64'));
    this.changed = true;
    return this;
  }

  /** Replace `certificate-authority-data` of a cluster (adds it when the cluster had none and no file). */
  setUserKeyData(user: string, keyPem: string): this {
    this.entry('users', user).set('client-key-data', Buffer.from(keyPem).toString('base64'));
    this.changed = true;
    return this;
  }

  setClusterCaData(cluster: string, caPem: string): this {
    const c = this.entry('clusters', cluster);
    c.set('certificate-authority-data', Buffer.from(caPem).toString('base64'));
    this.changed = true;
    return this;
  }

  /**
   * Point a user at certificate and key files instead of embedded data — the
   * kubeadm recovery for a kubelet.conf that embeds an expired client
   * certificate (kubeadm docs, "Kubelet client certificate rotation fails").
   */
  pointUserAtFiles(user: string, certFile: string, keyFile: string): this {
    const u = this.entry('users', user);
    const hadData = u.has('client-certificate-data');
    if (hadData) {
      // keep the position of the replaced field
      const items = u.items;
      for (const pair of items) {
        const k = String((pair.key as { value?: unknown })?.value ?? pair.key);
        if (k === 'client-certificate-data') (pair as { key: unknown }).key = this.doc.createNode('client-certificate');
        if (k === 'client-key-data') (pair as { key: unknown }).key = this.doc.createNode('client-key');
      }
    }
    u.set('client-certificate', certFile);
    u.set('client-key', keyFile);
    this.changed = true;
    return this;
  }

  get isChanged(): boolean {
    return this.changed;
  }

  toString(): string {
    // lineWidth 0: never fold the long base64 scalars.
    return this.doc.toString({ lineWidth: 0, indentSeq: this.indentSeq });
  }
}
