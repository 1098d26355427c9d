#!/usr/bin/env node
'use strict';
// Launcher for the bundled CLI (dist/cli.cjs, made by `npm run build`).
//
// Start-up is most of what `kubepki check` costs on a node, and much of that is
// V8 compiling our code. Node 20 has no compile cache (22 has
// module.enableCompileCache, which does not cover vm scripts), so this keeps
// V8's code cache itself: the bundle is compiled with the cached data in
// dist/cli.cjs.cache, which `npm run build` makes by running `kubepki check`
// on a demo tree.
//
// The cache file starts with a 32-hex-digit header, the first 64 bits of the
// SHA-1 of the bundle bytes and of the cache body, then the body. It is used
// only when both match: an edited bundle (even one of the same length, which V8
// alone would accept) or a damaged cache (which V8 does not checksum, and would
// crash on) is never handed to V8. V8 itself then refuses a cache from another
// Node version or other V8 flags. (A checksum against accidents, not a seal:
// whoever can write dist/ can change the bundle itself. SHA-1 from node:crypto,
// which `check` loads anyway: ~0.36 ms for the ~0.7 MB with the CPU's SHA
// instructions, ~0.55 ms without (SHA-256: 0.38 / 1.24 ms); zlib's CRC-32 was
// ~0.15 ms but loading node:zlib and the streams it requires cost ~0.65 ms more.)
// When the cache is missing or refused, the next `check` writes it again at exit
// if dist/ is writable: a temp file of its own (O_EXCL), fsync, rename. Nothing
// changes otherwise. KUBEPKI_NO_CODE_CACHE=1 turns all of it off.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const dist = path.join(__dirname, '..', 'dist');
const file = path.join(dist, 'cli.cjs');
const cacheFile = `${file}.cache`;
let bytes;
try {
  bytes = fs.readFileSync(file);
} catch (e) {
  process.stderr.write(`kubepki: cannot read ${file} (${e.code ?? e.message}): run \`npm run build\` in ${path.dirname(dist)}\n`);
  process.exit(70);
}
const source = bytes.toString('latin1'); // the bundle is ASCII (npm run build checks): no UTF-8 decoding
const useCache = !process.env.KUBEPKI_NO_CODE_CACHE;
const crypto = useCache ? require('node:crypto') : undefined;
const HEADER = 32;
// (crypto.hash, one call, is in Node >= 20.12)
const digest = (b) => (crypto.hash ? crypto.hash('sha1', b, 'hex') : crypto.createHash('sha1').update(b).digest('hex')).slice(0, HEADER / 2);
const bundleDigest = useCache ? digest(bytes) : undefined;
const header = (body) => bundleDigest + digest(body);
let cachedData;
if (bundleDigest) {
  try {
    const buf = fs.readFileSync(cacheFile);
    const body = buf.subarray(HEADER);
    if (buf.length > HEADER && buf.subarray(0, HEADER).toString('latin1') === header(body)) cachedData = body;
  } catch { /* no cache yet */ }
}
// The bundle's dynamic imports (client-node, prom-client …) come here: a vm
// script's own import() would need Node's experimental module hooks.
// The bundle is `(function (exports, require, module, __filename, __dirname, __kpImport) {…})`.
const script = new vm.Script(source, { filename: file, cachedData });
// Only a `check` that read a node writes the cache: what V8 puts in it is what this run compiled, and
// check is the command whose start-up counts (after a Node upgrade, a first `--version`, `check --help`
// or `check --root /typo` would leave a thin cache).
const args = process.argv.slice(2);
if (bundleDigest && args[0] === 'check' && !args.includes('--help') && !args.includes('-h') && (!cachedData || script.cachedDataRejected)) {
  process.once('exit', (code) => {
    if (code >= 3) return; // 0-2: a node was read and judged; 3+: it could not run
    let tmp;
    try {
      fs.accessSync(dist, fs.constants.W_OK);
      const body = script.createCachedData();
      tmp = `${cacheFile}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
      const fd = fs.openSync(tmp, 'wx', 0o644);
      try {
        fs.writeSync(fd, Buffer.concat([Buffer.from(header(body), 'latin1'), body]));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: start-up is only slower
      if (tmp) try { fs.rmSync(tmp, { force: true }); } catch { /* nothing to clean */ }
    }
  });
}
const cli = { exports: {} };
// (this file's own require: dist/ and bin/ find the same packages, and a created one costs ~0.25 ms of URL and
// module set-up at every start)
script.runInThisContext().call(cli.exports, cli.exports, require, cli, file, dist, (specifier) => import(specifier));
cli.exports.main(process.argv.slice(2));
