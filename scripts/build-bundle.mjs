// npm run build:bundle: the browser bundle in dist/browser/ — frugal.js (one ESM entry: the browser-safe core,
// src/index.ts), worker.js (the kernel thread), the three kernel modules and frugal.d.ts (the types, from tsc's
// dist/src). The bundle finds its kernels and worker beside itself (src/backend/assets-bundle.ts).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'browser');
const kernels = ['kernels.wasm', 'kernels-mt.wasm', 'kernels-mt-relaxed.wasm'];
const missing = kernels.filter((k) => !existsSync(join(root, 'build', k)));
if (missing.length) {
  process.stderr.write(`build:bundle: build/${missing.join(', build/')} missing; run npm run build:wasm first\n`);
  process.exit(1);
}

/** Swap backend/assets.ts (kernels in build/, tsc's layout) for assets-bundle.ts (kernels beside the bundle). */
const bundleAssets = {
  name: 'frugal-bundle-assets',
  setup(b) {
    b.onResolve({ filter: /^\.\/assets\.js$/ }, (args) =>
      args.importer.endsWith(join('src', 'backend', 'threads.ts')) ||
      args.importer.endsWith(join('src', 'backend', 'index.ts'))
        ? { path: join(root, 'src', 'backend', 'assets-bundle.ts') }
        : undefined,
    );
  },
};

/**
 * Node's modules, which the core imports only behind isNode checks: an `import('node:fs')` left in the bundle
 * makes a user's bundler fail to resolve it, so each becomes a small module that asks Node for the builtin at
 * run time (process.getBuiltinModule, Node ≥ 20.16) and is never evaluated in a browser.
 */
const nodeBuiltins = {
  name: 'frugal-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = globalThis.process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

// Build into a fresh temporary folder, then swap it in: a failed build leaves the previous bundle whole.
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
try {
  await build({
    entryPoints: { frugal: join(root, 'src', 'index.ts'), worker: join(root, 'src', 'backend', 'worker.ts') },
    outdir: tmp,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [bundleAssets, nodeBuiltins],
  });
  for (const k of kernels) copyFileSync(join(root, 'build', k), join(tmp, k));
  // The types are tsc's (dist/src/*.d.ts, written by build:ts), re-exported under the bundle's name.
  writeFileSync(
    join(tmp, 'frugal.d.ts'),
    "// Types of frugal.js: the browser-safe core's, as tsc emits them in dist/src.\n" +
      "export * from '../src/index.js';\n",
  );
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  throw e;
}
process.stderr.write(`build:bundle: ${out} (frugal.js, worker.js, ${kernels.join(', ')}, frugal.d.ts)\n`);
