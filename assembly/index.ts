// Frugal WebAssembly kernels. Memory layout is owned by the JavaScript side: every
// pointer here is a byte offset into linear memory at or above heapBase().
export { gemm, gemmWorkBytes } from "./gemm";
export { im2col, col2im, swap01, conv2dForward, conv2dBackward, pool2dForward, pool2dBackward } from "./conv";
export { relu, reluBackward, binary, adam } from "./elementwise";

export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
