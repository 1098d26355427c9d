/**
 * Carry out a renewal Plan: read the old certificates and the keys it needs,
 * sign the new certificates, and turn them into file changes for the
 * transaction; then verify what was written (re-read, chain verifies, key
 * matches, extensions as expected).
 */
import * as path from 'node:path';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { NodeFs } from '../fs/node-fs.js';
import type { Inventory, CertEntry, CertLocation, KeyLocation } from '../inventory/types.js';
import type { Plan, PlanItem } from '../plan/types.js';
import { Certificate } from '../pki/certificate.js';
import { parsePemBlocks } from '../pki/pem.js';
import { sameBytes, samePublicKey } from '../pki/keys.js';
import { generateKey, privateKeyPem } from '../pki/keygen.js';
import {
  issueCertificate, authorityKeyIdentifierExt, subjectKeyIdentifierExt, keyIdentifier, appendSans, subjectAltNameExt,
  nameDer, createCsr, pemOf, EXT_OID, type ExtensionDer,
} from '../pki/sign.js';
import { KubeconfigEditor } from '../kubeconfig/write.js';
import { mkdirs, writeFileAtomic, type Change } from './transaction.js';
import { UserError, errorMessage } from '../errors.js';

export interface RenderedRenewal {
  changes: Change[];
  /** CSRs for certificates whose CA key is missing (host paths) */
  csrs: { path: string; pem: string }[];
  /** item id → new certificate DER */
  issued: Map<string, Uint8Array>;
  /** re-read the node after writing; throws on any difference */
  verify: () => void;
}

interface Loaded { key: KeyObject; label: string; blockText?: string }

/**
 * A CERTIFICATE block, with the `openssl x509 -text` (or `openssl ca`) dump of it right above it if there is one:
 * a `Certificate:` line, then indented lines.
 */
const CERT_BLOCK = /(^Certificate:\r?\n(?:[ \t][^\n]*\n)+)?-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\r?\n?/gm;

/**
 * Replace the n-th CERTIFICATE block of a PEM text, keeping every other byte but the openssl text dump of a
 * replaced block: it describes the old certificate (serial, dates, signature), and left above the new block it
 * showed whoever reads the file the dates the renewal replaced.
 */
export function replaceCertBlocks(text: string, replace: Map<number, string>): string {
  let i = -1;
  const out = text.replace(CERT_BLOCK, (m) => {
    i++;
    const r = replace.get(i);
    if (r === undefined) return m;
    return m.endsWith('\n') ? r : r.replace(/\n$/, '');
  });
  const max = Math.max(...replace.keys());
  if (max > i) throw new Error(`expected at least ${max + 1} certificates, found ${i + 1}`);
  return out;
}

function certsIn(text: string): Certificate[] {
  return parsePemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => new Certificate(b.der));
}

function b64text(v: string | undefined): string {
  return v ? Buffer.from(v, 'base64').toString('latin1') : '';
}

/** Read the certificate at a location as it is on disk now. */
export function readCertAt(nfs: NodeFs, loc: CertLocation): Certificate | undefined {
  try {
    const buf = nfs.readFile(loc.file);
    if (loc.kind === 'der') return new Certificate(buf);
    if (loc.kind === 'pem') return certsIn(buf.toString('latin1'))[loc.index];
    const ed = new KubeconfigEditor(buf.toString('utf8'));
    const k = loc.kubeconfig!;
    const data = k.entry === 'user' ? ed.userField(k.name, 'client-certificate-data') : ed.clusterField(k.name, 'certificate-authority-data');
    return certsIn(b64text(data))[loc.index];
  } catch {
    return undefined;
  }
}

/** Read a private key at a location (PEM file, bare DER, or kubeconfig `client-key-data`). */
export function readKeyAt(nfs: NodeFs, loc: KeyLocation): Loaded {
  let text: string;
  try {
    const buf = nfs.readFile(loc.file);
    if (loc.kind === 'der') {
      for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
        try { return { key: createPrivateKey({ key: buf, format: 'der', type }), label: type === 'pkcs1' ? 'RSA PRIVATE KEY' : type === 'sec1' ? 'EC PRIVATE KEY' : 'PRIVATE KEY' }; } catch { /* next encoding */ }
      }
      throw new Error('not a DER private key');
    }
    if (loc.kind === 'kubeconfig') {
      text = b64text(new KubeconfigEditor(buf.toString('utf8')).userField(loc.user!, 'client-key-data'));
    } else text = buf.toString('latin1');
  } catch (e) {
    throw new UserError(`failed to read key ${loc.file}: ${errorMessage(e)}`, 'check the file is readable (run as root)');
  }
  const m = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----\r?\n?/.exec(text);
  if (!m) throw new UserError(`failed to read key ${loc.file}: no private key block`, 'check the file holds the PEM private key');
  return { key: createPrivateKey(m[0]), label: m[1]!, blockText: m[0].endsWith('\n') ? m[0] : m[0] + '\n' };
}

/** PEM of a key in the given label's encoding (keep the file's format). */
function keyPemAs(key: KeyObject, label: string): string {
  if (label === 'RSA PRIVATE KEY' && key.asymmetricKeyType === 'rsa') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (label === 'EC PRIVATE KEY' && key.asymmetricKeyType === 'ec') return key.export({ type: 'sec1', format: 'pem' }) as string;
  if (label === 'PRIVATE KEY') return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  return privateKeyPem(key);
}

function spkiOf(key: KeyObject): Uint8Array {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

/** Key identifier a CA certificate announces (its SKI), or SHA-1 of its key. */
function kidOf(ca: Certificate): Uint8Array {
  const ski = ca.subjectKeyId;
  return ski ? Buffer.from(ski, 'hex') : keyIdentifier(ca.spkiRaw);
}

/** The new certificate's extensions: the old ones verbatim, except AKI (and SKI for a new key), plus --add-san. */
export function renewedExtensions(old: Certificate, signerKid: Uint8Array | undefined, newSpki: Uint8Array | undefined, addSans: PlanItem['addSans']): ExtensionDer[] {
  const out: ExtensionDer[] = old.extensions.map((e) => {
    if (e.oid === EXT_OID.authorityKeyIdentifier && signerKid) return { ...authorityKeyIdentifierExt(signerKid), critical: e.critical };
    if (e.oid === EXT_OID.subjectKeyIdentifier && newSpki) return { ...subjectKeyIdentifierExt(keyIdentifier(newSpki)), critical: e.critical };
    if (e.oid === EXT_OID.subjectAltName && addSans.length > 0) return { ...e, value: appendSans(e.value, addSans) };
    return { oid: e.oid, critical: e.critical, value: e.value };
  });
  if (addSans.length > 0 && !old.extension(EXT_OID.subjectAltName)) out.push(subjectAltNameExt(addSans));
  return out;
}

export async function renderRenewal(nfs: NodeFs, inv: Inventory, plan: Plan): Promise<RenderedRenewal> {
  const byId = new Map(inv.certificates.map((c) => [c.id, c]));
  const entry = (id: string): CertEntry => {
    const c = byId.get(id);
    if (!c) throw new Error(`plan names ${id}, which is not in the inventory (was the plan made for another tree?)`);
    return c;
  };
  const now = new Date(plan.now);
  const keyCache = new Map<string, Loaded>();
  const keyAt = (loc: KeyLocation): Loaded => {
    const k = `${loc.file}|${loc.user ?? ''}`;
    if (!keyCache.has(k)) keyCache.set(k, readKeyAt(nfs, loc));
    return keyCache.get(k)!;
  };
  /** the PEM a new key is written as: the old key's form, or kubeadm's when the old key is unreadable (damaged) */
  const newKeyPem = (key: KeyObject, loc: KeyLocation | undefined): string => {
    let label: string | undefined;
    if (loc) try { label = keyAt(loc).label; } catch { /* damaged: --new-key replaces it */ }
    return keyPemAs(key, label ?? (key.asymmetricKeyType === 'rsa' ? 'RSA PRIVATE KEY' : key.asymmetricKeyType === 'ec' ? 'EC PRIVATE KEY' : 'PRIVATE KEY'));
  };

  // new keys and throwaway CA keys, generated in parallel on the libuv pool
  const newKeys = new Map<string, KeyObject>();
  await Promise.all(plan.items.map(async (it) => {
    if (it.key.action === 'new' && it.key.type) newKeys.set(it.id, await generateKey(it.key.type));
    if (it.kind === 'kubelet-serving') newKeys.set(`${it.id}#ca`, await generateKey('rsa-2048'));
  }));

  const issued = new Map<string, Uint8Array>();
  const issuedCa = new Map<string, Uint8Array>(); // kubelet-serving: item id → new throwaway CA
  const expectedExt = new Map<string, ExtensionDer[]>();
  const signerCertOf = new Map<string, () => Certificate>();

  for (const it of plan.items) {
    if (it.kind === 'ca-copy') continue;
    const c = entry(it.id);
    const old = new Certificate(parsePemBlocks(c.pem)[0]!.der);
    const newKey = newKeys.get(it.id);
    const newSpki = newKey ? spkiOf(newKey) : undefined;
    let signingKey: KeyObject;
    let issuerDer: Uint8Array;
    let kid: Uint8Array | undefined;
    let subjectDer = old.subjectRaw;
    if (it.signer === 'self') {
      if (!c.privateKey.location) throw new Error(`${c.name}: no key to sign itself with`);
      signingKey = keyAt(c.privateKey.location).key;
      if (!samePublicKey(spkiOf(signingKey), old.spkiRaw)) throw new Error(`${c.name}: ${c.privateKey.location.file} is not its key`);
      issuerDer = old.subjectRaw;
      kid = kidOf(old);
      signerCertOf.set(it.id, () => new Certificate(issued.get(it.id)!));
    } else if (it.signer === 'throwaway') {
      // The kubelet's self-signed pair (client-go cert.GenerateSelfSignedCertKey): a fresh CA, same leaf key and names.
      const caEntry = entry(c.signedBy!);
      const oldCa = new Certificate(parsePemBlocks(caEntry.pem)[0]!.der);
      const caKey = newKeys.get(`${it.id}#ca`)!;
      const unix = Math.floor(now.getTime() / 1000);
      const restamp = (cn: string | undefined) => (cn && /@\d+$/.test(cn) ? cn.replace(/@\d+$/, `@${unix}`) : cn);
      const caCn = restamp(oldCa.commonName) ?? `${old.commonName ?? 'kubelet'}-ca@${unix}`;
      const caSubject = caCn === oldCa.commonName ? oldCa.subjectRaw : nameDer([{ type: 'CN', value: caCn }]);
      const leafCn = restamp(old.commonName);
      if (leafCn && leafCn !== old.commonName && old.subject.length === 1) subjectDer = nameDer([{ type: 'CN', value: leafCn }]);
      const caKid = keyIdentifier(caKey);
      const caExt = oldCa.extensions.map((e) => (e.oid === EXT_OID.subjectKeyIdentifier ? { ...subjectKeyIdentifierExt(caKid), critical: e.critical }
        : e.oid === EXT_OID.authorityKeyIdentifier ? { ...authorityKeyIdentifierExt(caKid), critical: e.critical } : { oid: e.oid, critical: e.critical, value: e.value }));
      const caDer = await issueCertificate({
        subjectDer: caSubject, issuerDer: caSubject, spki: caKey, serial: BigInt('0x' + it.new!.serial) + 1n,
        notBefore: new Date(it.new!.notBefore), notAfter: new Date(it.new!.notAfter), extensions: caExt, signingKey: caKey,
        signatureLike: oldCa.signatureAlgorithmRaw,
      });
      issuedCa.set(it.id, caDer);
      signingKey = caKey;
      issuerDer = caSubject;
      kid = caKid;
      signerCertOf.set(it.id, () => new Certificate(caDer));
    } else {
      const signer = entry(it.signer.id);
      const renewedSigner = issued.get(signer.id);
      const signerCert = renewedSigner ? new Certificate(renewedSigner) : new Certificate(parsePemBlocks(signer.pem)[0]!.der);
      if (!signer.privateKey.location) throw new Error(`${signer.name}: CA key location unknown`);
      signingKey = keyAt(signer.privateKey.location).key;
      if (!samePublicKey(spkiOf(signingKey), signerCert.spkiRaw)) throw new Error(`${signer.name}: ${signer.privateKey.location.file} is not the CA's key`);
      issuerDer = signerCert.subjectRaw;
      kid = kidOf(signerCert);
      const sid = signer.id;
      signerCertOf.set(it.id, () => {
        const onDisk = readCertAt(nfs, signer.location);
        return issued.has(sid) ? new Certificate(issued.get(sid)!) : onDisk ?? signerCert;
      });
    }
    const exts = renewedExtensions(old, kid, newSpki, it.addSans);
    expectedExt.set(it.id, exts);
    const der = await issueCertificate({
      subjectDer, issuerDer, spki: newSpki ?? old.spkiRaw, serial: it.new!.serial,
      notBefore: new Date(it.new!.notBefore), notAfter: new Date(it.new!.notAfter), extensions: exts, signingKey,
      signatureLike: old.signatureAlgorithmRaw,
      // (a v1 certificate stays v1: as v3 without basicConstraints a v1 root CA is no CA to openssl, and every
      // certificate it signed stopped verifying, "unable to get local issuer certificate")
      ...(old.version === 1 && exts.length === 0 ? { version: 1 as const } : {}),
    });
    issued.set(it.id, der);
  }

  // ---- file contents
  const pemEdits = new Map<string, Map<number, string>>();
  const editors = new Map<string, KubeconfigEditor>();
  const keyWrites = new Map<string, string>();
  const created: Change[] = [];
  const links: Change[] = [];
  const pemEdit = (file: string, index: number, pem: string) => {
    if (!pemEdits.has(file)) pemEdits.set(file, new Map());
    pemEdits.get(file)!.set(index, pem);
  };
  const editor = (file: string): KubeconfigEditor => {
    if (!editors.has(file)) editors.set(file, new KubeconfigEditor(nfs.readFile(file).toString('utf8')));
    return editors.get(file)!;
  };
  const derWrites = new Map<string, Buffer>();
  const readBack: { id: string; loc: CertLocation; keyLoc?: KeyLocation; keyInFile?: string }[] = [];

  for (const it of plan.items) {
    if (it.kind === 'ca-copy') continue;
    const c = entry(it.id);
    const der = issued.get(it.id)!;
    const pem = pemOf(der);
    const newKey = newKeys.get(it.id);
    const kubeletFile = plan.files.find((f) => f.kind === 'kubelet-pem' && f.items.includes(it.id));
    const link = plan.files.find((f) => f.kind === 'symlink' && f.items.includes(it.id));
    if (kubeletFile && link) {
      // kubelet-client-<time>.pem: the certificate, then the key block (client-go file store layout)
      let keyBlock: string;
      if (newKey) keyBlock = keyPemAs(newKey, it.key.location ? keyAt(it.key.location).label : 'EC PRIVATE KEY');
      else {
        if (!it.key.location) throw new Error(`${c.name}: its key is not on this node`);
        keyBlock = keyAt(it.key.location).blockText!;
      }
      created.push({ op: 'write', path: kubeletFile.path, content: Buffer.from(pem + keyBlock), mode: 0o600, create: true });
      links.push({ op: 'symlink', path: link.path, target: kubeletFile.path, ...(link.replacesFile ? { replaceFile: true } : {}) });
      readBack.push({ id: it.id, loc: { file: kubeletFile.path, kind: 'pem', index: 0 }, keyInFile: kubeletFile.path });
      if (it.kind === 'kubeconfig') editor(it.location.file).pointUserAtFiles(it.location.kubeconfig!.name, link.path, link.path);
      continue;
    }
    if (it.location.kind === 'kubeconfig') {
      const user = it.location.kubeconfig!.name;
      const ed = editor(it.location.file);
      const oldData = b64text(ed.userField(user, 'client-certificate-data'));
      const text = it.location.index === 0 && certsIn(oldData).length <= 1 ? pem : replaceCertBlocks(oldData, new Map([[it.location.index, pem]]));
      ed.setUserCertData(user, text);
      let keyLoc = it.key.location;
      if (newKey) {
        const kl = it.key.location;
        if (kl?.kind === 'kubeconfig') ed.setUserKeyData(kl.user!, newKeyPem(newKey, kl));
        else if (kl) keyWrites.set(kl.file, newKeyPem(newKey, kl));
        else if (ed.userField(user, 'client-key-data') !== undefined) {
          // the embedded key was unreadable (damaged): the new one takes its place, and is read back
          ed.setUserKeyData(user, newKeyPem(newKey, undefined));
          keyLoc = { file: it.location.file, kind: 'kubeconfig', user, field: 'client-key-data' };
        } else throw new Error(`${c.name}: no place for its new key in ${it.location.file} (user ${user} has no client-key-data)`);
      }
      // certificate-authority-data: refresh a stale copy of the signing CA (same subject, other bytes)
      const signerCert = signerCertOf.get(it.id)?.();
      if (signerCert && it.signer !== 'self') {
        for (const cl of ed.clusterNames()) {
          const data = b64text(ed.clusterField(cl, 'certificate-authority-data'));
          if (!data) continue;
          const certs = certsIn(data);
          const repl = new Map<number, string>();
          certs.forEach((cc, i) => {
            if (sameBytes(cc.subjectRaw, signerCert.subjectRaw) && sameBytes(cc.spkiRaw, signerCert.spkiRaw) && !sameBytes(cc.der, signerCert.der)) repl.set(i, signerCert.toPem());
          });
          if (repl.size > 0) ed.setClusterCaData(cl, replaceCertBlocks(data, repl));
        }
      }
      readBack.push({ id: it.id, loc: it.location, ...(keyLoc ? { keyLoc } : {}) });
      continue;
    }
    if (it.location.kind === 'der') derWrites.set(it.location.file, Buffer.from(der));
    else pemEdit(it.location.file, it.location.index, pem);
    if (it.kind === 'kubelet-serving') {
      const caEntry = entry(c.signedBy!);
      pemEdit(caEntry.location.file, caEntry.location.index, pemOf(issuedCa.get(it.id)!));
    }
    if (newKey && it.key.location) {
      const kl = it.key.location;
      if (kl.kind === 'kubeconfig') editor(kl.file).setUserKeyData(kl.user!, newKeyPem(newKey, kl));
      else if (kl.sameFile) keyWrites.set(kl.file, newKeyPem(newKey, kl)); // replaced below inside the same text
      else keyWrites.set(kl.file, newKeyPem(newKey, kl));
    }
    readBack.push({ id: it.id, loc: it.location, ...(it.key.location ? { keyLoc: it.key.location } : {}) });
  }

  // copies of renewed certificates
  for (const it of plan.items) {
    if (it.kind !== 'ca-copy') continue;
    const der = issued.get(it.follows!);
    if (!der) continue;
    const pem = pemOf(der);
    if (it.location.kind === 'kubeconfig') {
      const k = it.location.kubeconfig!;
      const ed = editor(it.location.file);
      if (k.entry === 'cluster') {
        const data = b64text(ed.clusterField(k.name, 'certificate-authority-data'));
        ed.setClusterCaData(k.name, replaceCertBlocks(data, new Map([[it.location.index, pem]])));
      } else {
        // the same client certificate embedded in another kubeconfig (k3s.yaml ↔ client-admin.crt)
        const data = b64text(ed.userField(k.name, 'client-certificate-data'));
        ed.setUserCertData(k.name, replaceCertBlocks(data, new Map([[it.location.index, pem]])));
        const newKey = newKeys.get(it.follows!);
        const keyLoc: KeyLocation = { file: it.location.file, kind: 'kubeconfig', user: k.name, field: 'client-key-data' };
        if (newKey && ed.userField(k.name, 'client-key-data')) ed.setUserKeyData(k.name, keyPemAs(newKey, keyAt(keyLoc).label));
        if (it.location.index === 0 && ed.userField(k.name, 'client-key-data')) { readBack.push({ id: it.follows!, loc: it.location, keyLoc }); continue; }
      }
    } else if (it.location.kind === 'pem') pemEdit(it.location.file, it.location.index, pem);
    else derWrites.set(it.location.file, Buffer.from(der));
    // the key paired with this copy (beside it, in it, or the one a kubeconfig pairs with it) takes the new key
    const newKey = newKeys.get(it.follows!);
    const kl = it.key.location;
    if (newKey && kl && kl.kind !== 'kubeconfig') {
      keyWrites.set(kl.file, newKeyPem(newKey, kl));
      readBack.push({ id: it.follows!, loc: it.location, ...(kl.sameFile ? { keyInFile: kl.file } : { keyLoc: kl }) });
      continue;
    }
    readBack.push({ id: it.follows!, loc: it.location });
  }

  // ---- changes. A key and its certificate are renamed back to back (the key first), so the window in
  // which a pair on disk is mixed is one rename wide; a crash inside it is rolled back by the next run.
  const changes: Change[] = [];
  const keyOfCert = new Map<string, string>();
  for (const it of plan.items) {
    const kl = it.key.location;
    if (it.key.action === 'new' && kl && kl.kind !== 'kubeconfig' && !kl.sameFile) keyOfCert.set(it.location.file, kl.file);
  }
  const emitted = new Set<string>();
  const keyChange = (file: string) => {
    const keyPem = keyWrites.get(file);
    if (!keyPem || emitted.has(file) || pemEdits.has(file)) return;
    emitted.add(file);
    // a new key file is never more than owner-readable; a key file that was there keeps its owner and mode
    changes.push({ op: 'write', path: file, content: Buffer.from(keyPem), secret: true });
  };
  for (const [file, edits] of pemEdits) {
    const kf = keyOfCert.get(file);
    if (kf) keyChange(kf);
    let text = nfs.readFile(file).toString('latin1');
    text = replaceCertBlocks(text, edits);
    const keyPem = keyWrites.get(file);
    if (keyPem) text = text.replace(/-----BEGIN ([A-Z ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----\r?\n?/, keyPem);
    changes.push({ op: 'write', path: file, content: Buffer.from(text, 'latin1'), ...(keyPem ? { secret: true } : {}) });
  }
  for (const [file, der] of derWrites) {
    const kf = keyOfCert.get(file);
    if (kf) keyChange(kf);
    changes.push({ op: 'write', path: file, content: der });
  }
  changes.push(...created, ...links);
  for (const file of keyWrites.keys()) keyChange(file);
  for (const [file, ed] of editors) changes.push({ op: 'write', path: file, content: Buffer.from(ed.toString()) });

  // ---- CSRs for certificates whose CA is not here
  const csrs: { path: string; pem: string }[] = [];
  for (const r of plan.results) {
    if (!r.csr) continue;
    const c = entry(r.id);
    const old = new Certificate(parsePemBlocks(c.pem)[0]!.der);
    const key = keyAt(c.privateKey.location!).key;
    const keep = new Set<string>([EXT_OID.subjectAltName, EXT_OID.keyUsage, EXT_OID.extKeyUsage, EXT_OID.basicConstraints]);
    const extensions = renewedExtensions(old, undefined, undefined, r.addSans ?? []).filter((e) => keep.has(e.oid));
    const der = await createCsr({ subjectDer: old.subjectRaw, key, extensions });
    csrs.push({ path: r.csr, pem: pemOf(der, 'CERTIFICATE REQUEST') });
  }

  const verify = () => {
    const problems: string[] = [];
    for (const rb of readBack) {
      const want = issued.get(rb.id)!;
      const got = readCertAt(nfs, rb.loc);
      if (!got || !sameBytes(got.der, want)) { problems.push(`${rb.loc.file}: the renewed certificate is not there`); continue; }
      const signer = signerCertOf.get(rb.id)?.();
      if (signer && !got.verifySignedBy(signer)) problems.push(`${rb.loc.file}: does not verify against its CA`);
      const exp = expectedExt.get(rb.id);
      if (exp && JSON.stringify(got.extensions.map((e) => [e.oid, e.critical, Buffer.from(e.value).toString('hex')])) !== JSON.stringify(exp.map((e) => [e.oid, e.critical, Buffer.from(e.value).toString('hex')]))) {
        problems.push(`${rb.loc.file}: extensions differ from the plan`);
      }
      const kl: KeyLocation | undefined = rb.keyInFile ? { file: rb.keyInFile, kind: 'pem', sameFile: true } : rb.keyLoc;
      if (kl) {
        try {
          const k = readKeyAt(nfs, kl).key;
          if (!samePublicKey(spkiOf(k), got.spkiRaw)) problems.push(`${rb.loc.file}: ${kl.file} is not its key`);
        } catch (e) {
          problems.push(`${kl.file}: ${errorMessage(e)}`);
        }
      }
    }
    if (problems.length > 0) throw new Error(`verification failed: ${problems.join('; ')}`);
  };

  return { changes, csrs, issued, verify };
}

/** Write CSRs (outside the node tree: files to take to the CA). */
export function writeCsrs(csrs: { path: string; pem: string }[]): void {
  for (const c of csrs) {
    mkdirs(path.dirname(c.path), 0o755);
    writeFileAtomic(c.path, c.pem, 0o644);
  }
}

/**
 * Other places each certificate lives (kubeconfig CA data, bundles): the
 * inventory keeps one row per certificate, so look for the same bytes in every
 * file it read.
 */
export function findCopies(nfs: NodeFs, inv: Inventory): Record<string, CertLocation[]> {
  const byFp = new Map(inv.certificates.map((c) => [c.fingerprint, c]));
  const out: Record<string, CertLocation[]> = {};
  const push = (fp: string, loc: CertLocation) => {
    const c = byFp.get(fp);
    if (!c) return;
    const same = c.location.file === loc.file && c.location.kind === loc.kind && c.location.index === loc.index && c.location.kubeconfig?.name === loc.kubeconfig?.name && c.location.kubeconfig?.entry === loc.kubeconfig?.entry;
    if (same) return;
    (out[c.id] ??= []).push(loc);
  };
  // (a certificate's row is one of its files: the others, copies of it, are read too)
  const pemFiles = new Set(inv.certificates.flatMap((c) => [c.location, ...(c.copies ?? [])]).filter((l) => l.kind === 'pem').map((l) => l.file));
  for (const file of pemFiles) {
    let certs: Certificate[];
    try { certs = certsIn(nfs.readFile(file).toString('latin1')); } catch { continue; }
    certs.forEach((cert, index) => push(cert.fingerprint256, { file, kind: 'pem', index }));
  }
  for (const kc of inv.kubeconfigs) {
    let ed: KubeconfigEditor;
    try { ed = new KubeconfigEditor(nfs.readFile(kc.file).toString('utf8')); } catch { continue; }
    for (const cl of kc.clusters) {
      if (cl.caFrom !== 'data') continue;
      try {
        certsIn(b64text(ed.clusterField(cl.name, 'certificate-authority-data'))).forEach((cert, index) =>
          push(cert.fingerprint256, { file: kc.file, kind: 'kubeconfig', index, kubeconfig: { entry: 'cluster', name: cl.name, field: 'certificate-authority-data' } }));
      } catch { /* unreadable data: the inventory reports it */ }
    }
    for (const u of kc.users) {
      if (u.certFrom !== 'data') continue;
      try {
        certsIn(b64text(ed.userField(u.name, 'client-certificate-data'))).forEach((cert, index) =>
          push(cert.fingerprint256, { file: kc.file, kind: 'kubeconfig', index, kubeconfig: { entry: 'user', name: u.name, field: 'client-certificate-data' } }));
      } catch { /* unreadable data: the inventory reports it */ }
    }
  }
  return out;
}
