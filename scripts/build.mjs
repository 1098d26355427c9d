// Build: one bundled ESM entry for the CLI (fast start: few files to load, heavy
// libraries split into lazily loaded chunks) and the library entry, plus an
// unbundled transpile of src/ and test/ into dist-test/ for node --test.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
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
await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts', 'scan-worker': 'src/inventory/scan-worker.ts' },
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
