#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/ (npm run build).
// On Node >= 22.1, keep V8's compiled code on disk between runs (start-up);
// Node 20 has no compile cache and this is a no-op there.
import module from 'node:module';
module.enableCompileCache?.();
const { main } = await import('../dist/cli.js');
main(process.argv.slice(2));
