/** kubepki library API. Nothing runs on import. */
export * from './errors.js';
export * from './inventory/types.js';
export { Certificate, nameToString, describeKey } from './pki/certificate.js';
export { parsePemBlocks, toPem } from './pki/pem.js';
export { NodeFs, openRoot } from './fs/node-fs.js';
export { run } from './cli/main.js';
export { planRenew, parseSans, type RenewOptions } from './plan/renew.js';
export type { Plan, PlanItem, PlanFile, PlanRestart, PlanResult } from './plan/types.js';
export { renderRenewal, findCopies } from './apply/renew.js';
export { applyChanges, lockNode, listBackups, readManifest, restoreChanges, type Change, type BackupManifest } from './apply/transaction.js';
export { issueCertificate, createCsr, newSerial, nameDer, keyIdentifier } from './pki/sign.js';
export { generateKey, privateKeyPem, publicKeyPem, keyTypeOf, type KeyType } from './pki/keygen.js';
export { KubeconfigEditor } from './kubeconfig/write.js';
