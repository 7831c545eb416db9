// Writes data/fashion-mnist-subset/ from the full Fashion-MNIST (Debian's dataset-fashion-mnist):
// the first 5,000 training and first 1,000 test images (the files are already in random order).
// Usage: npm run build && node scripts/make-subset.mjs [SOURCE_DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { loadFashionMnist } from '../dist/src/data/fashion-mnist.js';
import { encodeIdxU8 } from '../dist/src/data/idx.js';

const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const { train, test } = loadFashionMnist(src);
const out = new URL('../data/fashion-mnist-subset/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const [ds, n, prefix] of [
  [train, 5000, 'train'],
  [test, 1000, 't10k'],
]) {
  const px = 28 * 28;
  writeFileSync(
    new URL(`${prefix}-images-idx3-ubyte.gz`, out),
    gzipSync(encodeIdxU8([n, 28, 28], ds.images.subarray(0, n * px)), { level: 9 }),
  );
  writeFileSync(
    new URL(`${prefix}-labels-idx1-ubyte.gz`, out),
    gzipSync(encodeIdxU8([n], ds.labels.subarray(0, n)), { level: 9 }),
  );
}
console.log(`wrote ${out.pathname}`);
