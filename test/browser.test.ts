// The library in a browser (headless Chromium through test/browser-harness.ts): a blank page from the demo
// server imports the browser bundle (dist/browser/frugal.js), runs the threaded kernels on Web Workers where
// the page is cross-origin isolated (single-threaded where not) and checks them against the reference backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, startHarness } from './browser-harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
// Runs in the page: a GEMM and a direct convolution big enough to be split over the workers, the reference
// CNN's forward pass; each against the reference backend.
async function kernelCheck(bundle: string): Promise<Record<string, unknown>> {
  const F: any = await import(bundle);
  const be = F.wasmBackend(),
    ref = F.reference,
    rng = new F.Rng(1);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const maxErr = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const [M, N, K] = [160, 170, 180],
    A = rand(M * K),
    B = rand(K * N);
  const c1 = new Float32Array(M * N),
    c2 = new Float32Array(M * N);
  be.gemm(false, false, M, N, K, A, B, c1, false);
  ref.gemm(false, false, M, N, K, A, B, c2, false);
  const g = {
    B: 8,
    C: 3,
    H: 20,
    W: 20,
    Co: 16,
    kh: 3,
    kw: 3,
    sh: 1,
    sw: 1,
    ph: 1,
    pw: 1,
    dh: 1,
    dw: 1,
    OH: 20,
    OW: 20,
  };
  const x = rand(8 * 3 * 400),
    w = rand(16 * 27);
  const o1 = new Float32Array(8 * 16 * 400),
    o2 = new Float32Array(8 * 16 * 400);
  be.conv2dForward(x, w, null, g, o1);
  ref.conv2dForward(x, w, null, g, o2);
  const model = F.buildModel(F.referenceCnn, 1),
    input = F.Tensor.randn([4, 1, 28, 28], rng);
  model.eval();
  const y = F.noGrad(() => model.forward(input));
  F.setBackend(ref);
  const yRef = F.noGrad(() => model.forward(input));
  F.setBackend(null);
  return {
    isolated: globalThis.crossOriginIsolated,
    cores: navigator.hardwareConcurrency,
    threads: F.getThreads(),
    backend: F.backendName(),
    gemmErr: maxErr(c1, c2),
    convErr: maxErr(o1, o2),
    logits: y.shape,
    modelErr: maxErr(y.data, yRef.data),
  };
}

function checkKernels(r: Record<string, unknown>): void {
  assert.match(String(r.backend), /^wasm-simd/, 'the WebAssembly kernels loaded in the browser');
  assert.ok((r.gemmErr as number) < 1e-3, `gemm max error ${r.gemmErr}`);
  assert.ok((r.convErr as number) < 1e-4, `conv max error ${r.convErr}`);
  assert.deepEqual(r.logits, [4, 10]);
  assert.ok((r.modelErr as number) < 1e-4, `reference CNN logits differ from the reference backend's by ${r.modelErr}`);
}

const skip = browserSkip();

test(
  'the browser bundle in headless Chromium: threaded kernels where isolated, one thread where not',
  {
    timeout: 120_000,
    skip,
  },
  async (t) => {
    const h = await startHarness();
    try {
      await t.test(
        'cross-origin isolated: threaded WebAssembly kernels on Web Workers equal the reference',
        async () => {
          const { page, errors } = await h.open('empty.html');
          const r = await page.evaluate(kernelCheck, '/frugal/frugal.js');
          checkKernels(r);
          assert.equal(r.isolated, true, 'the page is cross-origin isolated');
          // Web Workers in use: as many threads as the browser reports cores.
          assert.equal(r.threads, r.cores, 'threads = navigator.hardwareConcurrency');
          if ((r.cores as number) > 1) assert.ok((r.threads as number) > 1, 'more than one thread');
          assert.deepEqual(errors, []);
        },
      );
      await t.test(
        'not isolated: no shared memory, so the single-threaded kernels, still equal to the reference',
        async () => {
          const { page, errors } = await h.open('plain/empty.html');
          const r = await page.evaluate(kernelCheck, '/plain/frugal/frugal.js');
          checkKernels(r);
          assert.equal(r.isolated, false);
          assert.equal(r.threads, 1);
          assert.deepEqual(errors, []);
        },
      );
    } finally {
      await h.close();
    }
  },
);
