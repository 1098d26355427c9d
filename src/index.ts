/** kubepki library API. Nothing runs on import. */
export * from './errors.js';
export * from './inventory/types.js';
export { Certificate, nameToString, describeKey } from './pki/certificate.js';
export { parsePemBlocks, toPem } from './pki/pem.js';
export { NodeFs, openRoot } from './fs/node-fs.js';
export { run } from './cli/main.js';
