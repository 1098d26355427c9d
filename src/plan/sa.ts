/**
 * planSaRotate: a new service-account signing key (sa.key) whose public half
 * goes first in sa.pub, with the previous public keys kept after it so tokens
 * signed with the old key keep verifying (kube-apiserver reads every key in
 * --service-account-key-file) until `--drop-old`. Pure: keys come in as SPKI
 * DER, nothing is read or generated here.
 */
import type { KeyType } from '../pki/keygen.js';
import { spkiKeyInfo, GO_CURVES } from '../pki/certificate.js';

export interface PlanSaRotateInput {
  pki: string;
  /** SPKI DER of the current sa.key's public half (absent when sa.key is missing) */
  currentKeySpki?: Uint8Array;
  /** SPKI DER of each public key in sa.pub, in file order */
  pubSpkis: Uint8Array[];
  keyType: KeyType;
  dropOld: boolean;
  /** ` --root R` when the node is a tree under --root (rootFlagFor), for the kubepki commands the plan names */
  rootFlag?: string;
}

export interface SaRotatePlan {
  apiVersion: 'kubepki.io/v1alpha1';
  kind: 'SaRotatePlan';
  keyPath: string;
  pubPath: string;
  /** `rotate`: new sa.key; `drop-old`: sa.pub cut down to the current key */
  action: 'rotate' | 'drop-old';
  keyType?: KeyType;
  /** public keys kept after the new one (SPKI DER), oldest last */
  keepPublicKeys: Uint8Array[];
  droppedPublicKeys: number;
  followUps: string[];
  warnings: string[];
}

/** The cluster command that re-issues every token: legacy Secrets cleared, token-holding pods restarted. */
const refresh = (rootFlag = '') => `\`kubepki sa refresh --restart-pods${rootFlag}\``;
/** kube-apiserver's default --service-account-max-token-expiration when tokens are extended. */
export const EXTENDED_EXPIRY = 'up to a year by default';
/**
 * Why waiting an hour is not enough: kube-apiserver's default
 * --service-account-extend-token-expiration=true issues the kubelet's projected
 * tokens (pods see a 1h expiry) valid for up to a year, and the kubelet refreshes
 * a token only once it is older than 24h or past 80% of its TTL.
 */
export const PROJECTED_TOKEN_LIFETIME = 'with kube-apiserver\'s default --service-account-extend-token-expiration=true a projected token the pod sees as valid for 1h is accepted for up to a year (--service-account-max-token-expiration), and the kubelet refreshes it only when it is older than 24h or past 80% of its lifetime';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Whether kube-apiserver verifies tokens with this public key: it reads --service-account-key-file with client-go's
 * keyutil.ParsePublicKeysPEM, which keeps RSA and ECDSA keys and silently skips every other block (an Ed25519 key
 * included), so such a key in sa.pub verifies nothing.
 * https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/client-go/util/keyutil/key.go
 */
function apiserverVerifiesWith(spki: Uint8Array): boolean {
  const k = spkiKeyInfo(spki);
  return k.algorithm === 'RSA' || (k.algorithm === 'ECDSA' && GO_CURVES.has(k.curve ?? ''));
}

export function planSaRotate(i: PlanSaRotateInput): SaRotatePlan {
  const here = i.rootFlag ?? '';
  const keyPath = `${i.pki}/sa.key`, pubPath = `${i.pki}/sa.pub`;
  const warnings: string[] = [];
  const unique: Uint8Array[] = [];
  for (const p of i.pubSpkis) if (!unique.some((u) => same(u, p))) unique.push(p);
  if (i.dropOld) {
    if (!i.currentKeySpki) throw new Error(`${keyPath} is missing: nothing to keep`);
    const dropped = unique.filter((u) => !same(u, i.currentKeySpki!)).length;
    if (dropped > 0) warnings.push(`tokens signed with the ${dropped === 1 ? 'dropped key' : `${dropped} dropped keys`} are rejected once kube-apiserver restarts: do this only after ${refresh(here)} restarted every pod since the rotation (${PROJECTED_TOKEN_LIFETIME})`);
    return {
      apiVersion: 'kubepki.io/v1alpha1', kind: 'SaRotatePlan', keyPath, pubPath, action: 'drop-old',
      keepPublicKeys: [], droppedPublicKeys: dropped, warnings,
      followUps: [
        `copy the same sa.pub to every other control-plane node (kubepki ca export --out shared.yaml${here} here, kubepki ca import shared.yaml --certificate-key KEY there)`,
        'restart kube-apiserver on every control-plane node (it reads sa.pub at start): tokens signed with the dropped keys are rejected from then on',
      ],
    };
  }
  // keep every previous public key, including the current key's (it may be missing from sa.pub)
  const keep = [...unique];
  if (i.currentKeySpki && !keep.some((k) => same(k, i.currentKeySpki!))) {
    keep.unshift(i.currentKeySpki);
    warnings.push(`${pubPath} did not hold the public key of ${keyPath}; it is kept now so tokens it signed still verify`);
  }
  if (!i.currentKeySpki) warnings.push(`${keyPath} is missing: tokens signed with it cannot be kept valid unless its public key is in ${pubPath}`);
  // a key kube-apiserver skips (Ed25519) never verified a token: keeping it would only look like a fallback
  const unused = keep.filter((k) => !apiserverVerifiesWith(k));
  if (unused.length > 0) {
    const kinds = [...new Set(unused.map((k) => spkiKeyInfo(k).algorithm))].join(', ');
    warnings.push(`the previous ${kinds} public key${unused.length === 1 ? ' is' : 's are'} not kept in ${pubPath}: kube-apiserver reads only RSA and ECDSA keys from --service-account-key-file and skips the others, so no token was ever verified with ${unused.length === 1 ? 'it' : 'them'}`);
    for (const u of unused) keep.splice(keep.indexOf(u), 1);
  }
  return {
    apiVersion: 'kubepki.io/v1alpha1', kind: 'SaRotatePlan', keyPath, pubPath, action: 'rotate', keyType: i.keyType,
    keepPublicKeys: keep, droppedPublicKeys: 0, warnings,
    followUps: [
      `copy sa.key and sa.pub to every other control-plane node (kubepki ca export --out shared.yaml${here} here, kubepki ca import shared.yaml --certificate-key KEY there): they must be identical everywhere`,
      'restart kube-apiserver (signs with sa.key, verifies with every key in sa.pub) and kube-controller-manager (signs legacy token Secrets with sa.key) on every control-plane node',
      `re-issue every token and restart every pod that holds one: ${refresh(here)}. Projected tokens are not renewed soon on their own: ${PROJECTED_TOKEN_LIFETIME}`,
      ...(keep.length === 0 ? [] : [`only after that — every pod restarted, or the extended expiry (${EXTENDED_EXPIRY}) passed — drop the old key: kubepki sa rotate --drop-old${here}, then restart kube-apiserver. Dropping it earlier makes the API server reject the tokens pods still hold`]),
    ],
  };
}
