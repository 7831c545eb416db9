// A throughput probe for the benchmarks (issue 27): the machine's WebAssembly SIMD peak, measured in the same run
// as the networks so their GFLOP/s can be read as a share of it.
import { madd } from './gemm';

/**
 * `iters` rounds of 12 independent 4-lane a·b + c chains (96 FLOPs a round): enough chains to cover the FMA
 * latency on two ports, fused in the relaxed-SIMD build. Returns the lane sum so nothing is optimised away.
 */
export function peakFma(iters: i32, seed: f32): f32 {
  const b = f32x4.splat(0.9999999);
  const c = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed),
    a1 = f32x4.splat(seed + 1),
    a2 = f32x4.splat(seed + 2),
    a3 = f32x4.splat(seed + 3),
    a4 = f32x4.splat(seed + 4),
    a5 = f32x4.splat(seed + 5),
    a6 = f32x4.splat(seed + 6),
    a7 = f32x4.splat(seed + 7),
    a8 = f32x4.splat(seed + 8),
    a9 = f32x4.splat(seed + 9),
    a10 = f32x4.splat(seed + 10),
    a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, b, c);
    a1 = madd(a1, b, c);
    a2 = madd(a2, b, c);
    a3 = madd(a3, b, c);
    a4 = madd(a4, b, c);
    a5 = madd(a5, b, c);
    a6 = madd(a6, b, c);
    a7 = madd(a7, b, c);
    a8 = madd(a8, b, c);
    a9 = madd(a9, b, c);
    a10 = madd(a10, b, c);
    a11 = madd(a11, b, c);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)),
  );
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
