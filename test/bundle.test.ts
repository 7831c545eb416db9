// The browser bundle (npm run build → dist/browser, scripts/build-bundle.mjs): its files, a user's bundler
// importing `frugal` for the browser (esbuild here) gets it through the package's `browser` condition without
// errors (no Node module left to resolve) and keeps the kernels' asset URLs; the bundle also runs in Node.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { root } from './browser-harness.js';

const dir = join(root, 'dist', 'browser');
const files = ['frugal.js', 'worker.js', 'kernels.wasm', 'kernels-mt.wasm', 'kernels-mt-relaxed.wasm', 'frugal.d.ts'];
const skip = existsSync(join(dir, 'frugal.js')) ? false : 'the browser bundle is not built (npm run build)';

test('the browser bundle has its entry, worker, kernels and types', { skip }, () => {
  for (const f of files) assert.ok(existsSync(join(dir, f)), `dist/browser/${f}`);
});

test(
  "a bundler importing 'frugal' for the browser gets dist/browser/frugal.js, with no Node module",
  { skip },
  async () => {
    const app = mkdtempSync(join(tmpdir(), 'frugal-app-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(root, join(app, 'node_modules', 'frugal'), 'dir');
      writeFileSync(
        join(app, 'main.js'),
        "import { buildModel, referenceMlp, getThreads } from 'frugal';\n" +
          'console.log(getThreads(), buildModel(referenceMlp));\n',
      );
      const r = await build({
        absWorkingDir: app,
        entryPoints: ['main.js'],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        outfile: join(app, 'out', 'app.js'),
        metafile: true,
        logLevel: 'silent',
      });
      assert.deepEqual(r.errors, []);
      const inputs = Object.keys(r.metafile!.inputs).map((p) => resolve(app, p));
      assert.ok(inputs.includes(join(dir, 'frugal.js')), `bundled from ${inputs.filter((p) => /frugal/.test(p))}`);
      const out = r.outputFiles![0].text;
      for (const f of ['kernels.wasm', 'kernels-mt.wasm', 'kernels-mt-relaxed.wasm', 'worker.js'])
        assert.ok(out.includes(`new URL("./${f}", import.meta.url)`), `${f} named by a literal URL`);
      assert.doesNotMatch(out, /import\("node:/);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  },
);

test('the bundle runs in Node.js too, on the WebAssembly kernels', { skip }, async () => {
  const F = await import(pathToFileURL(join(dir, 'frugal.js')).href);
  assert.match(F.backendName(), /^wasm-simd/);
  const y = F.noGrad(() => F.buildModel(F.referenceMlp, 1).forward(F.Tensor.zeros([2, 784])));
  assert.deepEqual(y.shape, [2, 10]);
});
