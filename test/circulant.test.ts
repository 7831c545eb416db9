import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CircConv2d,
  CircLinear,
  Conv2d,
  Linear,
  Rng,
  Sequential,
  Tensor,
  buildModel,
  crossEntropy,
  noGrad,
  projectCirculant,
  reference,
  toCirculant,
  wasmBackend,
  profileModel,
  circMults,
  reshape,
  sum,
  SGD,
  CIRC_GEMV,
  paramGroups,
  profileJson,
  type Module,
} from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';

/** Relative error ‖a − b‖∞ / max(‖b‖∞, tiny). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 1e-12;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

function gradsOf(m: Module, x: Tensor, y: Int32Array): { out: Float32Array; grads: Float32Array[]; dx: Float32Array } {
  m.zeroGrad();
  x.grad = null;
  const out = m.forward(x);
  const flat = out.rank === 2 ? out : reshape(out, [out.shape[0], -1]);
  crossEntropy(flat, y).backward();
  return {
    out: out.data.slice() as Float32Array,
    grads: m.parameters().map((p) => p.grad!.data.slice() as Float32Array),
    dx: x.grad!.data.slice() as Float32Array,
  };
}

test(
  'CircLinear and CircConv2d: the FFT path equals the expanded-dense path, forward and gradients (≤ 1e-4 ' +
    'relative)',
  () => {
    const cases: [string, () => CircLinear | CircConv2d, number[]][] = [
      ['CircLinear 16→8, N=4', () => new CircLinear(16, 8, 4, { rng: new Rng(1) }), [5, 16]],
      ['CircLinear 64→64, N=64', () => new CircLinear(64, 64, 64, { rng: new Rng(2) }), [3, 64]],
      ['CircLinear 6→4, N=1', () => new CircLinear(6, 4, 1, { rng: new Rng(8) }), [2, 6]],
      [
        'CircLinear 10→6, N=4, padded to 12→8',
        () => new CircLinear(10, 6, 4, { pad: true, rng: new Rng(12) }),
        [3, 10],
      ],
      [
        'CircConv2d 6→10 k3 N=4 padded to 8→12',
        () => new CircConv2d(6, 10, 3, 4, { padding: 1, pad: true, rng: new Rng(13) }),
        [2, 6, 5, 5],
      ],
      [
        'CircConv2d 16→32 k3 N=16 pad 1',
        () => new CircConv2d(16, 32, 3, 16, { padding: 1, rng: new Rng(9) }),
        [2, 16, 5, 5],
      ],
      ['CircLinear 8→16, N=2, no bias', () => new CircLinear(8, 16, 2, { bias: false, rng: new Rng(3) }), [4, 8]],
      // prettier-ignore
      [
        'CircConv2d 8→8 k3 N=4 pad 1',
        () => new CircConv2d(8, 8, 3, 4, { padding: 1, rng: new Rng(4) }),
        [2, 8, 6, 5],
      ],
      [
        'CircConv2d 16→8 k3 N=8 stride 2',
        () => new CircConv2d(16, 8, 3, 8, { stride: 2, rng: new Rng(5) }),
        [2, 16, 7, 7],
      ],
      ['CircConv2d 4→8 k1 N=2', () => new CircConv2d(4, 8, 1, 2, { rng: new Rng(6) }), [3, 4, 4, 4]],
    ];
    for (const [name, make, shape] of cases) {
      const m = make();
      const x = Tensor.randn(shape, new Rng(7));
      x.requiresGrad = true;
      const n = shape[0];
      const out0 = noGrad(() => m.forward(x));
      const width = out0.size / n;
      const y = Int32Array.from({ length: n }, (_, i) => (i * 3) % width);
      m.path = 'fft';
      const a = gradsOf(m, x, y);
      m.path = 'dense';
      const b = gradsOf(m, x, y);
      assert.ok(relErr(a.out, b.out) <= 1e-4, `${name} forward: ${relErr(a.out, b.out)}`);
      a.grads.forEach((g, i) =>
        assert.ok(relErr(g, b.grads[i]) <= 1e-4, `${name} gradient ${i}: ${relErr(g, b.grads[i])}`),
      );
      assert.ok(relErr(a.dx, b.dx) <= 1e-4, `${name} input gradient: ${relErr(a.dx, b.dx)}`);
    }
  },
);

test('expanded kernel is block-circulant with C[a, b] = w[(a − b) mod N]; parameters are exactly dense/N', () => {
  const l = new CircLinear(8, 12, 4, { rng: new Rng(8) });
  const W = noGrad(() => l.expand()).data,
    w = l.weight.data;
  for (let o = 0; o < 12; o++)
    for (let i = 0; i < 8; i++) {
      const s = Math.floor(o / 4),
        r = Math.floor(i / 4),
        a = o % 4,
        b = i % 4;
      assert.equal(W[o * 8 + i], w[(s * 2 + r) * 4 + ((((a - b) % 4) + 4) % 4)]);
    }
  for (const N of [2, 4, 8, 16]) {
    const c = new CircConv2d(32, 64, 3, N, { bias: false });
    assert.equal(c.weight.size, (32 * 64 * 9) / N);
    const d = new CircLinear(256, 128, N, { bias: false });
    assert.equal(d.paramCount(), (256 * 128) / N);
    // each defining value stands for N weights: SGD steps it at lr/N, Adam at lr
    const net = new Sequential(c, d); // only the parameters matter here
    const groups = paramGroups(net, 'sgd', 0.08);
    assert.deepEqual(
      groups.map((g) => [g.params.length, g.lr]),
      [[2, 0.08 / N]],
    );
    assert.ok(groups[0].params.includes(c.weight) && groups[0].params.includes(d.weight));
    assert.deepEqual(paramGroups(net, 'adam', 0.08), [{ params: [c.weight, d.weight] }]);
  }
});

test(
  'projection onto circulant blocks: exact for circulant input, idempotent, and optimal ' + 'against random circulants',
  () => {
    const N = 4,
      out = 8,
      inC = 12,
      taps = 9;
    const W = randomArray(out * inC * taps, 11);
    const w = projectCirculant(W, out, inC, taps, N);
    const conv = new CircConv2d(inC, out, 3, N, { bias: false });
    conv.weight.data.set(w);
    const P = noGrad(() => conv.expand()).data;
    assertClose(projectCirculant(P, out, inC, taps, N), w, 1e-7, 0, 'idempotent');
    const dist = (a: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < W.length; i++) s += (W[i] - a[i]) ** 2;
      return s;
    };
    const best = dist(P);
    const rng = new Rng(12);
    for (let t = 0; t < 20; t++) {
      const other = new CircConv2d(inC, out, 3, N, { bias: false });
      for (let i = 0; i < other.weight.size; i++) other.weight.data[i] = w[i] + 0.05 * rng.normal();
      assert.ok(dist(noGrad(() => other.expand()).data) >= best, 'no circulant is closer than the projection');
    }
  },
);

test(
  'toCirculant converts eligible layers with the projected weights and says why others stay dense; bad block ' +
    'sizes are refused',
  () => {
    const model = new Sequential(
      new Conv2d(1, 8, 3, { padding: 1, rng: new Rng(1) }),
      new Conv2d(8, 16, 3, { padding: 1, rng: new Rng(2) }),
      new Linear(16 * 4 * 4, 10, { rng: new Rng(3) }),
    );
    const { model: c, report } = toCirculant(model, { blockSize: 4, include: ['conv2d'] });
    assert.deepEqual(
      report.converted.map((r) => r.layer),
      [1],
    );
    assert.equal(report.converted[0].paramsAfter, (8 * 16 * 9) / 4 + 16);
    assert.match(report.skipped[0].reason, /does not divide its channels \(in 1, out 8\)/);
    assert.ok(c.layers[1] instanceof CircConv2d);
    assert.throws(() => toCirculant(model, { blockSize: 3 }), /power of two/);
    assert.throws(() => new CircConv2d(12, 8, 3, 8), /must divide both channel counts \(in 12, out 8\).*pad: true/);
    // pad: the first conv (1 → 8) is zero-padded to 4 → 8: 2·1 blocks of 4 taps·9, the waste reported.
    const padded = toCirculant(model, { blockSize: 4, include: ['conv2d'], pad: true });
    assert.deepEqual(
      padded.report.converted.map((r) => [r.layer, r.paddedTo]),
      [
        [0, [4, 8]],
        [1, undefined],
      ],
    );
    assert.equal(padded.report.converted[0].paramsAfter, 2 * 1 * 4 * 9 + 8);
    // Projection onto padded blocks is exact for a layer that is the visible part of a padded circulant.
    const circ = new CircConv2d(6, 10, 3, 4, { padding: 1, pad: true, rng: new Rng(14) });
    const w = projectCirculant(circ.expand().data, 10, 6, 9, 4);
    const rebuilt = new CircConv2d(6, 10, 3, 4, { padding: 1, pad: true });
    rebuilt.weight.data.set(w);
    rebuilt.weight.markChanged();
    assertClose(rebuilt.expand().data, circ.expand().data, 1e-6, 1e-6, 'padded projection recovers the visible kernel');
    assert.equal(
      buildModel({ format: 'frugal-model', version: 1, input: [6, 5, 5], layers: [circ.toSpec()] }, 1).paramCount(),
      circ.paramCount(),
    );
    assert.throws(() => new CircLinear(8, 8, 6), /power of two/);
    const spec = {
      format: 'frugal-model' as const,
      version: 1 as const,
      input: [8, 4, 4],
      layers: [
        { type: 'circconv2d', in: 8, out: 8, kernel: 3, block: 4, padding: 1 },
        { type: 'flatten' },
        { type: 'circlinear', in: 128, out: 16, block: 8 },
      ],
    };
    const built = buildModel(spec, 1);
    assert.equal(built.paramCount(), (8 * 8 * 9) / 4 + 8 + (128 * 16) / 8 + 16);
    const p = profileModel(built, spec.input);
    assert.equal(p.layers[0].extras!.fftMults, circMults(4, 2, 2, 9) * 16);
    assert.ok((p.summary.fftFormMults as number) < p.macs);
    assert.equal(profileJson(p).fftFormMults, p.summary.fftFormMults, 'JSON keeps the flat field');
    assert.equal((profileJson(p).layers as { fftMults: number }[])[0].fftMults, circMults(4, 2, 2, 9) * 16);
  },
);

test('inference cache of weight spectra and expanded kernels follows weight changes', () => {
  for (const path of ['fft', 'dense'] as const) {
    const l = new CircLinear(64, 64, 8, { rng: new Rng(9) });
    l.path = path;
    const x = Tensor.randn([2, 64], new Rng(10));
    const fresh = () => {
      const t = l.forward(x).data.slice();
      return t;
    }; // grad enabled: never cached
    const cached = () => noGrad(() => l.forward(x).data.slice());
    const a = cached();
    assert.deepEqual(cached(), a, 'cached result is the same');
    // A change announced by markChanged, at a position the sampled guard does not look at.
    l.weight.data[1] += 0.5;
    l.weight.markChanged();
    const b = cached();
    assert.notDeepEqual(b, a, `${path}: a marked change is seen`);
    assertClose(b, fresh(), 1e-6, 1e-6, `${path}: cached and uncached agree`);
    // An optimizer step bumps the version.
    l.zeroGrad();
    sum(l.forward(x)).backward();
    new SGD(l.parameters(), { lr: 0.1 }).step();
    assertClose(cached(), fresh(), 1e-6, 1e-6, `${path}: after an optimizer step`);
    // An unannounced rewrite of the whole tensor is caught by the sampled guard.
    l.weight.data.fill(0.01);
    assertClose(cached(), fresh(), 1e-6, 1e-6, `${path}: after an unmarked rewrite`);
    // loadStateDict copies values in and bumps the version.
    const other = new CircLinear(64, 64, 8, { rng: new Rng(11) });
    l.loadStateDict(other.stateDict());
    assertClose(
      cached(),
      noGrad(() => other.forward(x).data.slice()),
      1e-6,
      1e-6,
      `${path}: after loadStateDict`,
    );
  }
});

test(
  "CircConv2d's 'auto' path: the FFT form at inference where the benchmark found it faster, the expanded " +
    'kernel in training',
  () => {
    const uses = (cin: number, cout: number, N: number) => noGrad(() => new CircConv2d(cin, cout, 3, N).usesFft());
    assert.equal(uses(32, 64, 4), false);
    assert.equal(uses(32, 64, 8), true);
    assert.equal(uses(64, 128, 4), true);
    assert.equal(uses(64, 128, 2), false);
    assert.equal(uses(16, 32, 8), false);
    assert.equal(new CircConv2d(64, 128, 3, 8).usesFft(), false, 'with gradients on');
    const fft = new CircConv2d(64, 128, 3, 8);
    fft.path = 'dense';
    assert.equal(
      noGrad(() => fft.usesFft()),
      false,
      'an explicit path wins',
    );
    // CircLinear: small layers at batches above CIRC_GEMV's from N = 32, otherwise from N = 8.
    assert.deepEqual(
      [
        [256, 8, 1],
        [256, 32, 1],
        [256, 8, 64],
        [256, 32, 64],
        [1024, 8, 1],
        [1024, 8, 64],
        [1024, 4, 64],
      ].map(([n, N, b]) => new CircLinear(n, n, N).usesFft(b)),
      [true, true, false, true, true, true, false],
    );
  },
);
