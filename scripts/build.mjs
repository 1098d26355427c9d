// Build: one bundled ESM entry for the CLI (fast start: few files to load, heavy
// libraries split into lazily loaded chunks) and the library entry, plus an
// unbundled transpile of src/ and test/ into dist-test/ for node --test.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, relative, sep } from 'node:path';

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

// Our modules take a package or a builtin on demand with createRequire(import.meta.url) (yaml, node:net, node:tty,
// node:os). In the CLI, whose modules live in one bundle that the launcher hands its own require, that is the
// launcher's require (bin/ and dist/ find the same packages), and node:module itself (its ES module loader
// and source-map support, ~0.3 ms) is never loaded.
const ownRequire = {
  name: 'own-require-for-create-require',
  setup(b) {
    b.onResolve({ filter: /^node:module$/ }, (args) => (/[\\/]src[\\/]/.test(args.importer) ? { path: 'own-require', namespace: 'kubepki-require' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'kubepki-require' }, () => ({ contents: 'module.exports = { createRequire: () => require };', loader: 'js' }));
  },
};

const cliOptions = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: cliExternal,
  write: false,
  define: { 'import.meta.url': '__kpMeta.url' },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};
// `check` needs a third of the CLI's code, and start-up reads, converts and hashes every byte of the file
// it compiles (page faults included, ~1 ms per 100 KB on a slow VM). So the CLI is two files:
// dist/cli.cjs, main and everything `check` loads (the "core"), and dist/cli-more.cjs, every other
// command, read only when one of them runs. Modules are not duplicated: cli-more.cjs takes the core's
// modules from the core (the same objects: classes, errors and state stay one), and the core's
// dynamic import() of a module that is not core goes to cli-more.cjs.
const repo = process.cwd();
const keyOf = (abs) => relative(repo, abs).split(sep).join('/');
const graph = (await build({ ...cliOptions, entryPoints: ['src/cli/main.ts'], plugins: [lazyChildProcess, ownRequire], outfile: 'dist/cli.cjs', metafile: true })).metafile;
const CORE = new Set();
const MORE = new Set();
{
  const todo = ['src/cli/main.ts', 'src/cli/check.ts'];
  while (todo.length) {
    const f = todo.pop();
    if (CORE.has(f) || !graph.inputs[f]) continue;
    CORE.add(f);
    for (const i of graph.inputs[f].imports) if (!i.external && i.kind !== 'dynamic-import') todo.push(i.path);
  }
  for (const f of CORE) for (const i of graph.inputs[f].imports) if (!i.external && i.kind === 'dynamic-import' && !CORE.has(i.path)) MORE.add(i.path);
}
// The core modules cli-more.cjs takes from the core: those a module outside the core imports (packages too:
// one commander, whose CommanderError main.ts tests with instanceof). The rest are reached only from inside.
const coreKeys = [...CORE].filter((k) => !k.includes(':') && Object.entries(graph.inputs).some(([f, v]) => !CORE.has(f) && v.imports.some((i) => i.path === k))).sort();
// resolve an import as esbuild would, then say whether it lands in the core
const splitPlugin = (onModule) => ({
  name: 'kubepki-split',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'kubepki-split' || args.kind === 'entry-point' || args.path.startsWith('node:') || args.namespace !== 'file') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'kubepki-split' });
      if (r.errors.length > 0 || r.external) return undefined;
      return onModule(keyOf(r.path), args.kind) ?? { path: r.path };
    });
    // (a CommonJS module: `.cjs`, since esbuild would take a key ending in .mjs for an ES module)
    b.onLoad({ filter: /.*/, namespace: 'kubepki-core' }, (args) => ({ contents: `module.exports = __kpCore[${JSON.stringify(args.path.slice(0, -'.core.cjs'.length))}];`, loader: 'js' }));
  },
});
const dynamicImports = (text, file) => {
  text = text.replace(/(?<![\w$.])import\((?=")/g, '__kpImport(');
  // A vm script's own import() needs Node's experimental importModuleDynamically
  // (and loses it when the script comes from the code cache), so the bundle's
  // dynamic imports of external packages go through the launcher's import().
  if (/(?<![\w$.])import\(/.test(text)) throw new Error(`${file}: a dynamic import() is left that __kpImport does not cover`);
  // bin/kubepki.js reads the bundles as latin1 (esbuild escapes everything else by default)
  if (/[^\x00-\x7f]/.test(text)) throw new Error(`${file}: not ASCII, but it is read as latin1`);
  return text;
};
// (import.meta.url made when first asked: most runs never ask, and pathToFileURL is a visible share of start-up)
const banner = "'use strict';const __kpMeta = { get url() { return (this.href ??= require('node:url').pathToFileURL(__filename).href); } };";

// cli-more.cjs reaches the core's modules through objects of getters, made when it first loads: an
// `import * as` of each core module here would make esbuild build every namespace object (and copy every
// CommonJS module's exports) at each start, 5.9 M instructions of check's start-up for nothing. So the
// core's ES modules are imported by name (their export names from a metafile) and their objects made on
// demand; a CommonJS module (commander's lib) is its module.exports, which exists anyway.
const esmCore = coreKeys.filter((k) => !k.startsWith('node_modules/') || k.endsWith('.mjs'));
const exportsOf = new Map();
{
  const r = await build({ ...cliOptions, format: 'esm', entryPoints: esmCore, bundle: true, splitting: true, outdir: join(tmpdir(), 'kubepki-exports'), metafile: true, plugins: [lazyChildProcess, ownRequire] });
  for (const out of Object.values(r.metafile.outputs)) if (out.entryPoint) exportsOf.set(out.entryPoint, out.exports);
  for (const k of esmCore) if (!exportsOf.has(k)) throw new Error(`build: no export list for ${k}`);
}
const coreEntry = [
  "export { main } from './src/cli/main.ts';",
  ...coreKeys.map((k, i) => (esmCore.includes(k)
    ? `import { ${exportsOf.get(k).map((n) => `${n} as m${i}_${n}`).join(', ')} } from ${JSON.stringify(`./${k}`)};`
    : `import * as m${i} from ${JSON.stringify(`./${k}`)};`)),
  `__kpCoreModules = () => ({ ${coreKeys.map((k, i) => `${JSON.stringify(k)}: ${esmCore.includes(k)
    ? `{ __proto__: null, ${exportsOf.get(k).map((n) => `get ${n}() { return m${i}_${n}; }`).join(', ')} }`
    : `m${i}`}`).join(', ')} });`,
].join('\n');
const core = await build({
  ...cliOptions,
  stdin: { contents: coreEntry, resolveDir: repo, sourcefile: 'kubepki-cli-core.js', loader: 'js' },
  outfile: 'dist/cli.cjs',
  plugins: [lazyChildProcess, ownRequire, splitPlugin((key, kind) => (kind === 'dynamic-import' && !CORE.has(key) ? { path: `kubepki-more:${key}`, external: true } : undefined))],
  // strict mode for the whole bundle (the tests run our code as strict ES modules): the directive must come first.
  // __kpMore(key) loads dist/cli-more.cjs once (compiled without a code cache: other commands' start-up
  // is not what counts) and imports a module from it.
  banner: { js: `${banner}let __kpCoreModules, __kpMoreModules;
const __kpMore = (key) => Promise.resolve().then(() => {
  if (!__kpMoreModules) {
    const file = require('node:path').join(__dirname, 'cli-more.cjs');
    let text;
    try { text = require('node:fs').readFileSync(file, 'latin1'); } catch (e) { process.stderr.write('kubepki: cannot read ' + file + ' (' + (e.code || e.message) + '): run \`npm run build\` in ' + require('node:path').dirname(__dirname) + '\\n'); process.exit(70); }
    const more = { exports: {} };
    new (require('node:vm').Script)(text, { filename: file }).runInThisContext().call(more.exports, more.exports, require, more, file, __dirname, __kpImport, __kpCoreModules());
    __kpMoreModules = more.exports.modules;
  }
  return __kpMoreModules[key]();
});` },
});
const cliText = dynamicImports(core.outputFiles[0].text, 'dist/cli.cjs').replace(/__kpImport\("kubepki-more:([^"]+)"\)/g, '__kpMore("$1")');
if (cliText.includes('kubepki-more:')) throw new Error('dist/cli.cjs: an import of the other commands was not rewritten');

const moreEntry = `export const modules = { ${[...MORE].sort().map((k) => `${JSON.stringify(k)}: () => import(${JSON.stringify(`./${k}`)})`).join(', ')} };`;
const more = await build({
  ...cliOptions,
  stdin: { contents: moreEntry, resolveDir: repo, sourcefile: 'kubepki-cli-more.js', loader: 'js' },
  outfile: 'dist/cli-more.cjs',
  plugins: [lazyChildProcess, ownRequire, splitPlugin((key) => {
    if (!CORE.has(key)) return undefined;
    // (a core module only the core imports is not in __kpCoreModules(): taking it here would be undefined at run time)
    if (!coreKeys.includes(key)) throw new Error(`build: cli-more.cjs imports ${key}, which __kpCoreModules() does not carry`);
    return { path: `${key}.core.cjs`, namespace: 'kubepki-core' };
  })],
  banner: { js: banner },
  metafile: true,
});
// one copy of every module: what the core has, cli-more.cjs must take from it
const twice = Object.keys(more.metafile.inputs).filter((k) => CORE.has(k));
if (twice.length > 0) throw new Error(`dist/cli-more.cjs: core modules bundled again: ${twice.join(', ')}`);
const moreText = dynamicImports(more.outputFiles[0].text, 'dist/cli-more.cjs');
mkdirSync('dist', { recursive: true });
// Each bundle is one function expression, which bin/kubepki.js compiles as it is: wrapping it there
// would copy the text into a second string on every start.
writeFileSync('dist/cli.cjs', `(function (exports, require, module, __filename, __dirname, __kpImport) {${cliText}\n})`);
writeFileSync('dist/cli-more.cjs', `(function (exports, require, module, __filename, __dirname, __kpImport, __kpCore) {${moreText}\n})`);

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

// Warm V8's code cache for the CLI with what start-up matters for, a routine `check` of a healthy kubeadm
// node: `kubepki demo` builds one (RSA keys as kubeadm makes them, the kubelet's own ECDSA client pair and
// self-signed serving pair, kubeadm-shaped manifests; without writing the cache), then `check` on it, at a
// date when all of it is valid (its leaves were issued 400 days ago and expired 35 days ago), compiles what
// such a check runs and the launcher writes dist/cli.cjs.cache. A broken node's check compiles the rest as it
// goes (~0.2 ms), as other commands do. (A cache from the demo's expired tree, ECDSA keys and minimal
// manifests left a kubeadm node's check 3.8 M instructions slower: it compiled RSA and manifest paths anew.)
const warmDir = mkdtempSync(join(tmpdir(), 'kubepki-build-warm-'));
try {
  const env = { ...process.env, KUBEPKI_NO_CODE_CACHE: '' };
  const node = join(warmDir, 'node');
  const demo = spawnSync(process.execPath, ['bin/kubepki.js', 'demo', '--dir', node, '--key-type', 'rsa-2048'], { stdio: 'ignore', env: { ...env, KUBEPKI_NO_CODE_CACHE: '1' } });
  const healthy = new Date(Date.now() - 200 * 86400_000).toISOString();
  const check = spawnSync(process.execPath, ['bin/kubepki.js', 'check', '--root', node, '--now', healthy], { stdio: 'ignore', env });
  if (!existsSync('dist/cli.cjs.cache')) console.warn(`build: no code cache written (demo exited ${demo.status}, check ${check.status}); the CLI works, only start-up is slower`);
  else if (check.status !== 0) console.warn(`build: the code cache was made from a check that exited ${check.status}, not from a healthy node's`);
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
