// Frugal's side of the benchmarks: the same shapes and steps as the peers.
import {
  Adam,
  buildModel,
  crossEntropy,
  noGrad,
  persistentArray,
  referenceCnn,
  referenceMlp,
  Rng,
  Tensor,
  wasmBackend,
  withScope,
} from '../src/index.js';

export function timeIt(fn: () => void, budgetMs: number, minIters = 3): number {
  fn();
  const t0 = performance.now();
  let n = 0;
  while (n < minIters || performance.now() - t0 < budgetMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n / 1000;
}

export function frugalGemm(n: number, budgetMs: number): number {
  const w = wasmBackend();
  if (!w) throw new Error('WebAssembly backend unavailable');
  const rng = new Rng(0);
  // Operands resident in the kernels' memory, as a training step's tensors are (TF.js's are in its heap too).
  const a = persistentArray(n * n),
    b = persistentArray(n * n),
    c = persistentArray(n * n);
  a.set(Tensor.randn([n, n], rng).data);
  b.set(Tensor.randn([n, n], rng).data);
  return (2 * n ** 3) / timeIt(() => w.gemm(false, false, n, n, n, a, b, c, false), budgetMs) / 1e9;
}

export function frugalTrain(kind: 'mlp' | 'cnn', batch: number, budgetMs: number): number {
  const model = buildModel(kind === 'cnn' ? referenceCnn : referenceMlp, 0);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Rng(1);
  const x = Tensor.rand(kind === 'cnn' ? [batch, 1, 28, 28] : [batch, 784], rng);
  const y = Array.from({ length: batch }, () => rng.int(10));
  return (
    batch /
    timeIt(
      () =>
        withScope(() => {
          const loss = crossEntropy(model.forward(x), y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
          opt.zeroGrad();
        }),
      budgetMs,
      2,
    )
  );
}

export function frugalInfer(batch: number, budgetMs: number): number {
  const model = buildModel(referenceCnn, 0).eval();
  const x = Tensor.rand([batch, 1, 28, 28], new Rng(2));
  return (
    batch /
    timeIt(
      () =>
        withScope(() =>
          noGrad(() => {
            model.forward(x);
          }),
        ),
      budgetMs,
    )
  );
}
