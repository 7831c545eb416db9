// Where the kernel files are, relative to the module that loads them. Under tsc's layout this module is
// dist/src/backend/assets.js and the kernels are in build/; the browser bundle (scripts/build-bundle.mjs) puts
// this module's twin, assets-bundle.ts, in its place, with the kernels and the worker beside the bundle.

/** URL of a kernel module (build/kernels*.wasm). */
export function kernelUrl(file: string): URL {
  return new URL(`../../../build/${file}`, import.meta.url);
}

/** URL of the kernel worker script (backend/worker.ts). */
export function workerUrl(): URL {
  return new URL('./worker.js', import.meta.url);
}
