// TensorFlow.js 4.22 peer for the benchmarks: the same shapes and steps as Frugal's, in the same process.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TF = any;
let tf: TF = null;

export async function loadTf(backend: 'wasm' | 'cpu'): Promise<TF> {
  if (!tf) {
    // tfjs prints a hint about tfjs-node on load; silence it so JSON output stays clean.
    const log = console.log,
      warn = console.warn;
    console.log = () => {};
    console.warn = () => {};
    try {
      tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(join(dir, 'dist') + '/');
    } finally {
      console.log = log;
      console.warn = warn;
    }
  }
  const log = console.log,
    warn = console.warn;
  console.log = () => {};
  console.warn = () => {};
  try {
    await tf.setBackend(backend);
    await tf.ready();
  } finally {
    console.log = log;
    console.warn = warn;
  }
  // The cpu backend prints a tfjs-node advertisement on first use; it would break JSON on stdout.
  if (backend === 'cpu') tf.backend().firstUse = false;
  return tf;
}

function timeIt(fn: () => void, budgetMs: number, minIters = 3): number {
  fn(); // warm-up
  const t0 = performance.now();
  let n = 0;
  while (n < minIters || performance.now() - t0 < budgetMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n / 1000;
}

/** Threads TF.js's wasm backend uses (1 in Node.js: its threaded build needs cross-origin isolation). */
export async function tfWasmThreads(): Promise<number> {
  await loadTf('wasm');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}

export async function tfGemm(backend: 'wasm' | 'cpu', n: number, budgetMs: number): Promise<number> {
  const t = await loadTf(backend);
  const a = t.randomNormal([n, n]),
    b = t.randomNormal([n, n]);
  const s = timeIt(() => {
    const c = t.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, budgetMs);
  a.dispose();
  b.dispose();
  return (2 * n * n * n) / s / 1e9;
}

function makeCnn(t: TF) {
  const v = (shape: number[]) => t.variable(t.randomUniform(shape, -0.1, 0.1));
  const p = {
    c1: v([3, 3, 1, 16]),
    b1: v([16]),
    c2: v([3, 3, 16, 32]),
    b2: v([32]),
    w3: v([800, 128]),
    b3: v([128]),
    w4: v([128, 10]),
    b4: v([10]),
  };
  const forward = (x: TF) => {
    let h = t.relu(t.add(t.conv2d(x, p.c1, 1, 'valid'), p.b1));
    h = t.maxPool(h, 2, 2, 'valid');
    h = t.relu(t.add(t.conv2d(h, p.c2, 1, 'valid'), p.b2));
    h = t.maxPool(h, 2, 2, 'valid');
    h = t.reshape(h, [-1, 800]);
    h = t.relu(t.add(t.matMul(h, p.w3), p.b3));
    return t.add(t.matMul(h, p.w4), p.b4);
  };
  return { p, forward };
}

function makeMlp(t: TF) {
  const v = (shape: number[]) => t.variable(t.randomUniform(shape, -0.05, 0.05));
  const p = { w1: v([784, 256]), b1: v([256]), w2: v([256, 128]), b2: v([128]), w3: v([128, 10]), b3: v([10]) };
  const forward = (x: TF) => {
    let h = t.relu(t.add(t.matMul(x, p.w1), p.b1));
    h = t.relu(t.add(t.matMul(h, p.w2), p.b2));
    return t.add(t.matMul(h, p.w3), p.b3);
  };
  return { p, forward };
}

/** Training samples/s of the reference model (Adam, softmax cross-entropy), NHWC as TF.js wants. */
export async function tfTrain(
  backend: 'wasm' | 'cpu',
  model: 'mlp' | 'cnn',
  batch: number,
  budgetMs: number,
): Promise<number> {
  const t = await loadTf(backend);
  const { p, forward } = model === 'cnn' ? makeCnn(t) : makeMlp(t);
  const x = model === 'cnn' ? t.randomUniform([batch, 28, 28, 1]) : t.randomUniform([batch, 784]);
  const y = t.oneHot(t.randomUniform([batch], 0, 10, 'int32'), 10);
  const opt = t.train.adam(1e-3);
  const s = timeIt(
    () => {
      const loss = opt.minimize(() => t.losses.softmaxCrossEntropy(y, forward(x)), true, Object.values(p));
      loss.dataSync();
      loss.dispose();
    },
    budgetMs,
    2,
  );
  return batch / s;
}

/** Inference samples/s of the reference CNN at a batch size. */
export async function tfInfer(backend: 'wasm' | 'cpu', batch: number, budgetMs: number): Promise<number> {
  const t = await loadTf(backend);
  const { forward } = makeCnn(t);
  const x = t.randomUniform([batch, 28, 28, 1]);
  const s = timeIt(() => {
    const o = t.tidy(() => forward(x));
    o.dataSync();
    o.dispose();
  }, budgetMs);
  return batch / s;
}
