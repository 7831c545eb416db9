// The browser bundle's assets.ts (swapped in by scripts/build-bundle.mjs): the kernels and the worker sit
// beside the bundle, named by literal `new URL('./…', import.meta.url)` so that a bundler processing the
// bundle in turn can see and copy them.
const urls: Record<string, () => URL> = {
  'kernels.wasm': () => new URL('./kernels.wasm', import.meta.url),
  'kernels-mt.wasm': () => new URL('./kernels-mt.wasm', import.meta.url),
  'kernels-mt-relaxed.wasm': () => new URL('./kernels-mt-relaxed.wasm', import.meta.url),
};

/** URL of a kernel module, beside the bundle. */
export function kernelUrl(file: string): URL {
  const u = urls[file];
  if (!u) throw new Error(`no kernel module named ${file} in the browser bundle`);
  return u();
}

/** URL of the kernel worker script, beside the bundle. */
export function workerUrl(): URL {
  return new URL('./worker.js', import.meta.url);
}
