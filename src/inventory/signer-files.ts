/**
 * The CA that signed a certificate `renew --file` names, found by what it is rather than by its file name.
 *
 * Installers name their CAs every way (kubeadm's ca.crt, RKE1's kube-ca.pem, k3s's server-ca.crt, cfssl's
 * ca.pem, openssl's cacert.pem with private/cakey.pem, root-ca.pem, intermediate.crt …): a CA beside the file or
 * one directory up is the one whose key made the certificate's signature, as Go's chain building finds its parent
 * (subject = issuer, then the signature checked), and its key is the private key whose public key is the CA's.
 * Only those files are read into the inventory, not the directories (their other certificates are no business
 * of this renewal: a chain file there would become a "copy" to rewrite).
 */
import { posix } from 'node:path';
import type { NodeFs } from '../fs/node-fs.js';
import { Certificate } from '../pki/certificate.js';
import { looksLikePem, parsePemBlocks } from '../pki/pem.js';
import { parsePrivateKeyBlock, samePublicKey, PRIVATE_KEY_LABELS } from '../pki/keys.js';
import { dirPrefix } from './names.js';
import { partnerKeyPaths } from './read.js';

/** Files above this size are no certificate or key file worth opening here. */
const MAX_SIZE = 256 * 1024;
const CERT_NAME = /\.(crt|pem|cer|cert|der)$/i;
const KEY_NAME = /(\.key|key\.pem|\.pem\.key)$/i;

function certsOf(node: NodeFs, file: string): Certificate[] {
  try {
    const st = node.stat(file);
    if (!st?.isFile() || st.size > MAX_SIZE) return [];
    const buf = node.readFile(file);
    if (!looksLikePem(buf)) return [new Certificate(buf)];
    return parsePemBlocks(buf.toString('latin1')).filter((b) => b.label === 'CERTIFICATE').map((b) => new Certificate(b.der));
  } catch {
    return []; // not a certificate file: the inventory reports the files it reads, not these
  }
}

/** The public keys (SPKI DER) of the unencrypted private keys in a file. */
function keysOf(node: NodeFs, file: string): Uint8Array[] {
  try {
    const st = node.stat(file);
    if (!st?.isFile() || st.size > MAX_SIZE) return [];
    const text = node.readFile(file).toString('latin1');
    if (!text.includes('PRIVATE KEY-----')) return [];
    // (an encrypted key has no public key to tell: kubepki cannot sign with it either)
    return parsePemBlocks(text).filter((b) => PRIVATE_KEY_LABELS[b.label]).flatMap((b) => parsePrivateKeyBlock(b.label, b.der, b.headers).spki ?? []);
  } catch {
    return [];
  }
}

function listDir(node: NodeFs, dir: string): string[] {
  return node.readDir(dir || '/').map((d) => `${dir}/${d.name}`);
}

/**
 * The files to read with `file` so that the inventory finds the CA that signed each certificate in it, and that
 * CA's key: CA certificate files beside it or in its parent directory that verify its signature (and, for an
 * intermediate found so, the CA that signed it), their conventional key files (ca.key, ca-key.pem), and any key
 * file there, or in a private/ directory beside the CA (openssl's demoCA layout), that is the CA's key.
 */
export function signerFiles(node: NodeFs, file: string): string[] {
  const dir = dirPrefix(posix.dirname(file));
  const dirs = [dir, ...(dir ? [dirPrefix(posix.dirname(dir))] : [])].filter((d, i, a) => a.indexOf(d) === i && d !== '');
  const candidates = [...new Set(dirs.flatMap((d) => listDir(node, d)))].filter((p) => p !== file && CERT_NAME.test(p) && !KEY_NAME.test(p));
  const parsed = new Map(candidates.map((p) => [p, certsOf(node, p)]));
  // a file of CAs only (ca.crt, intermediate.crt) before a chain that also holds a leaf (fullchain.pem): read, the
  // chain's copy of the certificate would be rewritten with it, a file nobody named
  const caOnly = candidates.filter((p) => parsed.get(p)!.length > 0 && parsed.get(p)!.every((c) => c.isCA));
  const mixed = candidates.filter((p) => parsed.get(p)!.some((c) => c.isCA) && !caOnly.includes(p));
  const out: string[] = [];
  let wanted = certsOf(node, file).filter((c) => !c.isSelfIssued);
  // (each round climbs one CA: an intermediate's own CA, up to a root; a loop of cross-signed CAs ends here)
  for (let round = 0; round < 8 && wanted.length > 0; round++) {
    const next: Certificate[] = [];
    for (const w of wanted) {
      const signs = (ca: Certificate) => ca.isCA && w.issuerString === ca.subjectString && w.verifySignedBy(ca);
      const found = caOnly.filter((p) => parsed.get(p)!.some(signs));
      for (const p of found.length ? found : mixed.filter((q) => parsed.get(q)!.some(signs))) {
        if (out.includes(p)) continue;
        for (const ca of parsed.get(p)!.filter(signs)) {
          out.push(...caKeyFiles(node, p, ca));
          if (!ca.isSelfIssued) next.push(ca);
        }
        out.push(p);
      }
    }
    wanted = next;
  }
  return [...new Set(out)];
}

/** The CA's key beside its certificate (by name, or any key file there that is its key), or in private/ beside it. */
function caKeyFiles(node: NodeFs, caFile: string, ca: Certificate): string[] {
  const conventional = partnerKeyPaths(caFile).filter((p) => node.stat(p)?.isFile());
  if (conventional.some((p) => keysOf(node, p).some((k) => samePublicKey(k, ca.spkiRaw)))) return conventional;
  const dir = dirPrefix(posix.dirname(caFile));
  const keyFiles = [...listDir(node, dir), ...(node.isDir(`${dir}/private`) ? listDir(node, `${dir}/private`) : [])]
    .filter((p) => p !== caFile && (KEY_NAME.test(p) || /\.pem$/i.test(p)));
  const match = keyFiles.find((p) => keysOf(node, p).some((k) => samePublicKey(k, ca.spkiRaw)));
  return [...conventional, ...(match ? [match] : [])];
}

/**
 * What is wrong with a CA given by hand (`renew --ca-cert FILE [--ca-key KEY]`) for the certificates in `files`, as
 * one sentence naming the flag, or undefined: it must be a CA certificate that signed at least one of them, and
 * KEY (when given) its key, readable.
 */
export function givenCaProblem(node: NodeFs, caFile: string, keyFile: string | undefined, files: string[]): string | undefined {
  const all = certsOf(node, caFile);
  if (all.length === 0) return `--ca-cert ${caFile} holds no certificate`;
  const cas = all.filter((c) => c.isCA);
  if (cas.length === 0) return `--ca-cert ${caFile} is not a CA certificate (${all[0]!.subjectString || 'no subject'} has no basicConstraints CA:TRUE)`;
  const leaves = files.flatMap((f) => certsOf(node, f).map((c) => ({ f, c })));
  if (leaves.length > 0 && !leaves.some(({ c }) => cas.some((ca) => c.issuerString === ca.subjectString && c.verifySignedBy(ca)))) {
    const { f, c } = leaves[0]!;
    return `--ca-cert ${caFile} (${cas[0]!.subjectString}) signed none of the --file certificates: ${f} was signed by ${c.issuerString}`;
  }
  if (keyFile === undefined) return undefined;
  const keys = keysOf(node, keyFile);
  if (keys.length === 0) return `--ca-key ${keyFile} holds no private key kubepki can read (an encrypted one must be decrypted first)`;
  if (!keys.some((k) => cas.some((ca) => samePublicKey(k, ca.spkiRaw)))) return `--ca-key ${keyFile} is not the key of --ca-cert ${caFile}`;
  return undefined;
}
