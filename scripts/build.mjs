// Build: one bundled ESM entry for the CLI (fast start: few files to load, heavy
// libraries split into lazily loaded chunks) and the library entry, plus an
// unbundled transpile of src/ and test/ into dist-test/ for node --test.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

rmSync('dist', { recursive: true, force: true });
rmSync('dist-test', { recursive: true, force: true });

const external = ['@kubernetes/client-node', 'playwright-core', 'prom-client', '@peculiar/x509', 'reflect-metadata'];
// yaml too for the CLI: check reads machine-written YAML with fast-yaml and never loads it
const cliExternal = [...external, 'yaml'];

// The CLI: one CommonJS file that bin/kubepki.js compiles with V8's code cache
// (see there; the cache names the exact bundle bytes it was made from).
// commander loads node:child_process (and with it net, dgram …, ~2 ms) at start-up only to
// spawn executable sub-commands, which kubepki does not have: hand it a lazy one.
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'kubepki' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'kubepki' }, () => ({ contents: "module.exports = { get spawn() { return require('node:child_process').spawn; } };", loader: 'js' }));
  },
};

const cli = await build({
  entryPoints: ['src/cli/main.ts'],
  plugins: [lazyChildProcess],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: cliExternal,
  write: false,
  outfile: 'dist/cli.cjs',
  define: { 'import.meta.url': '__kpImportMetaUrl' },
  minifyWhitespace: true,
  minifySyntax: true,
  // strict mode for the whole bundle (the tests run our code as strict ES modules): the directive must come first
  banner: { js: "'use strict';const __kpImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// A vm script's own import() needs Node's experimental importModuleDynamically
// (and loses it when the script comes from the code cache), so the bundle's
// dynamic imports of external packages go through the launcher's import().
const cliText = cli.outputFiles[0].text.replace(/(?<![\w$.])import\((?=")/g, '__kpImport(');
if (/(?<![\w$.])import\(/.test(cliText)) throw new Error('dist/cli.cjs: a dynamic import() is left that __kpImport does not cover');
// bin/kubepki.js reads the bundle as latin1 (esbuild escapes everything else by default)
if (/[^\x00-\x7f]/.test(cliText)) throw new Error('dist/cli.cjs: not ASCII, but bin/kubepki.js reads it as latin1');
mkdirSync('dist', { recursive: true });
// The bundle is one function expression, which bin/kubepki.js compiles as it is: wrapping it there
// would copy half a megabyte into a second string on every start.
writeFileSync('dist/cli.cjs', `(function (exports, require, module, __filename, __dirname, __kpImport) {${cliText}\n})`);

// The library and the scan worker stay ES modules.
await build({
  entryPoints: { index: 'src/index.ts', 'scan-worker': 'src/inventory/scan-worker.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist',
  external,
  sourcemap: false,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __kpCreateRequire } from 'node:module'; const require = __kpCreateRequire(import.meta.url);" },
});

await build({
  entryPoints: [...walk('src'), ...walk('test')],
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: 'dist-test',
  outbase: '.',
  logLevel: 'warning',
});

// Warm V8's code cache for the CLI with what start-up matters for, `check` on a
// kubeadm node: `kubepki demo` builds one (without writing the cache), then
// `check` on it compiles what it runs and the launcher writes dist/cli.cjs.cache.
// Other commands compile the rest as they go.
const warmDir = mkdtempSync(join(tmpdir(), 'kubepki-build-warm-'));
try {
  const env = { ...process.env, KUBEPKI_NO_CODE_CACHE: '' };
  const demo = spawnSync(process.execPath, ['bin/kubepki.js', 'demo', '--dir', join(warmDir, 'node')], { stdio: 'ignore', env: { ...env, KUBEPKI_NO_CODE_CACHE: '1' } });
  const check = spawnSync(process.execPath, ['bin/kubepki.js', 'check', '--root', join(warmDir, 'node')], { stdio: 'ignore', env });
  if (!existsSync('dist/cli.cjs.cache')) console.warn(`build: no code cache written (demo exited ${demo.status}, check ${check.status}); the CLI works, only start-up is slower`);
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
