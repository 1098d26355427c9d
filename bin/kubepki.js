#!/usr/bin/env node
'use strict';
// Launcher for the bundled CLI (dist/cli.cjs, made by `npm run build`).
//
// Start-up is most of what `kubepki check` costs on a node, and most of that
// is V8 compiling our code. Node 20 has no compile cache (22 has
// module.enableCompileCache, which does not cover vm scripts), so this keeps
// V8's code cache itself: the bundle is compiled with the cached data in
// dist/cli.cjs.cache, which `npm run build` makes by running `kubepki demo`
// once. The cache is used only when its header names the bundle it was made
// from (the hash on the bundle's first line); V8 then refuses it by itself if
// the Node version or V8 flags differ. When it is missing or refused, the
// cache is written again at exit if dist/ is writable (tmp file + rename), and
// nothing changes otherwise. KUBEPKI_NO_CODE_CACHE=1 turns all of it off.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');

const dist = path.join(__dirname, '..', 'dist');
const file = path.join(dist, 'cli.cjs');
const cacheFile = `${file}.cache`;
let source;
try {
  source = fs.readFileSync(file, 'latin1'); // the bundle is ASCII (npm run build checks): no UTF-8 decoding
} catch (e) {
  process.stderr.write(`kubepki: cannot read ${file} (${e.code ?? e.message}): run \`npm run build\` in ${path.dirname(dist)}\n`);
  process.exit(70);
}
const build = /^\/\/ kubepki build ([0-9a-f]{64})\n/.exec(source)?.[1] ?? '';
const useCache = build !== '' && !process.env.KUBEPKI_NO_CODE_CACHE;
let cachedData;
if (useCache) {
  try {
    const buf = fs.readFileSync(cacheFile);
    if (buf.subarray(0, 64).toString('latin1') === build) cachedData = buf.subarray(64);
  } catch { /* no cache yet */ }
}
// The bundle's dynamic imports (client-node, prom-client …) come here: a vm
// script's own import() would need Node's experimental module hooks.
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __kpImport) {${source}\n})`, { filename: file, cachedData });
if (useCache && (!cachedData || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.accessSync(dist, fs.constants.W_OK);
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(build, 'latin1'), script.createCachedData()]), { mode: 0o644 });
      fs.renameSync(tmp, cacheFile);
    } catch { /* read-only install: start-up is only slower */ }
  });
}
const cli = { exports: {} };
script.runInThisContext().call(cli.exports, cli.exports, createRequire(file), cli, file, dist, (specifier) => import(specifier));
cli.exports.main(process.argv.slice(2));
