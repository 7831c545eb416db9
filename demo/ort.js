// ONNX Runtime Web beside Frugal's own kernels: the trained dense model is exported in the page with Frugal's
// toOnnx, run by onnxruntime-web's WebAssembly backend (served by demo/server.mjs under ort/, from node_modules:
// nothing from the network), and timed interleaved with Frugal's variants the way F.compareLatency times them.

let ortModule = null;

/**
 * onnxruntime-web, loaded once: threads as Frugal has them when the page is cross-origin isolated (shared
 * memory), else one thread.
 */
async function loadOrt(threads) {
  if (!ortModule) {
    ortModule = await import('./ort/ort.wasm.min.mjs');
    const env = ortModule.env;
    env.wasm.wasmPaths = new URL('ort/', location.href).href;
    env.wasm.numThreads = globalThis.crossOriginIsolated ? threads : 1;
    env.wasm.proxy = false;
    env.logLevel = 'error';
  }
  return ortModule;
}

const argmaxRows = (d, rows) => {
  const k = d.length / rows,
    out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (d[r * k + j] > d[r * k + b]) b = j;
    out[r] = b;
  }
  return out;
};

/**
 * The dense model as an ONNX Runtime Web session, with its accuracy on the test images and how its outputs
 * compare with Frugal's (max |Δ| of the logits, images whose predicted class differs).
 */
export async function ortVariant(F, dense, test, input) {
  const ort = await loadOrt(F.getThreads());
  const bytes = F.toOnnx({ model: dense.model, spec: dense.spec, training: dense.training });
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const name = session.inputNames[0],
    out = session.outputNames[0];
  let correct = 0,
    differ = 0,
    maxDiff = 0;
  const step = 250;
  for (let s = 0; s < test.count; s += step) {
    const n = Math.min(step, test.count - s);
    const { x, y } = F.gatherBatch(
      test,
      Int32Array.from({ length: n }, (_, i) => s + i),
      input,
    );
    const mine = F.noGrad(() => F.withScope(() => Float32Array.from(dense.model.forward(x).data)));
    const feeds = { [name]: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) };
    const theirs = (await session.run(feeds))[out].data;
    for (let i = 0; i < mine.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine[i] - theirs[i]));
    const a = argmaxRows(mine, n),
      b = argmaxRows(theirs, n);
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) differ++;
      if (b[i] === y[i]) correct++;
    }
  }
  return {
    name: 'ONNX Runtime Web',
    session,
    bytes: bytes.byteLength,
    nonzero: dense.nonzero,
    accuracy: correct / test.count,
    differ,
    maxDiff,
    threads: ort.env.wasm.numThreads,
    latencyMs: NaN,
    latency64Ms: NaN,
    /** A call on a batch x: the input tensor is made once, outside the timed calls. */
    runner(x) {
      const t = new ort.Tensor('float32', Float32Array.from(x.data), x.shape);
      return () => session.run({ [name]: t });
    },
  };
}

/**
 * Latency in ms per call of each runner on one random batch, as F.compareLatency measures Frugal's models:
 * one warm-up call each, then `rounds` rounds that interleave the runners (so the machine's load hits them
 * alike), each timing `reps` calls; the median round per runner. A runner is makeCall(x) → call(); an
 * asynchronous call (ONNX Runtime's run) is awaited, a synchronous one (Frugal's forward) is not.
 */
export async function interleavedLatency(F, makers, input, batch, { rounds = 5, reps = 20 } = {}) {
  const x = F.Tensor.rand([batch, ...input], new F.Rng(0));
  const calls = makers.map((m) => m(x));
  const times = calls.map(() => []);
  for (const c of calls) await c();
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i],
        t0 = performance.now();
      for (let k = 0; k < reps; k++) {
        const p = c();
        if (p) await p;
      }
      times[i].push((performance.now() - t0) / reps);
    }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

/** A Frugal model as a latency runner (eval mode, no gradients, scratch memory released per call). */
export const frugalRunner = (F, model) => (x) => {
  model.eval();
  return () =>
    F.noGrad(() =>
      F.withScope(() => {
        model.forward(x);
      }),
    );
};
