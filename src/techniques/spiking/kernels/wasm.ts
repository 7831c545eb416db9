// WebAssembly spiking kernels (assembly/spiking.ts: IF updates, event-driven linear) on the wasm backend's runtime.
import type { WasmBackend } from '../../../backend/wasm/backend.js';
import type { SpikingKernels } from './index.js';

interface SpikingExports {
  ifSteps(
    v: number,
    cur: number,
    constant: number,
    out: number,
    counts: number,
    T: number,
    B: number,
    feat: number,
    th: number,
    keep: number,
    subtract: number,
  ): void;
  spikeLinear(s: number, R: number, K: number, wT: number, N: number, bias: number, out: number, idx: number): void;
  padTranspose(w: number, N: number, K: number, wT: number, bias: number, bp: number): void;
}

/** The spiking family's WebAssembly implementation on a wasm backend. */
export function spikingWasm(be: WasmBackend): SpikingKernels {
  const rt = be.runtime,
    k = rt.exports as unknown as SpikingExports;
  return {
    ifSteps(v, cur, constant, out, counts, T, B, o) {
      rt.begin();
      const pv = rt.inPtr(v),
        pc = rt.inPtr(cur),
        pk = rt.inPtr(counts),
        po = rt.outPtr(out);
      const th = Math.fround(o.threshold),
        keep = Math.fround(1 - o.leak);
      k.ifSteps(pv, pc, +constant, po, pk, T, B, counts.length, th, keep, +(o.reset === 'subtract'));
      rt.done(out, po);
      rt.done(v, pv);
      rt.done(counts, pk);
    },
    spikeLinear(s, R, weight, N, bias, out) {
      const K = weight.length / N;
      rt.begin();
      const ps = rt.inPtr(s),
        pw = rt.inPtr(weight),
        pb = bias ? rt.inPtr(bias) : 0,
        po = rt.outPtr(out),
        Np = (N + 3) & ~3,
        wT = rt.alloc(K * Np),
        bp = bias ? rt.alloc(Np) : 0,
        idx = rt.alloc(K);
      k.padTranspose(pw, N, K, wT, pb, bp);
      k.spikeLinear(ps, R, K, wT, N, bp, po, idx);
      rt.done(out, po);
    },
  };
}
