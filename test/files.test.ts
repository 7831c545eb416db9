import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DataLoader,
  decodeSafetensors,
  encodeIdxU8,
  encodeSafetensors,
  loadFashionMnist,
  loadModel,
  locateFashionMnist,
  MAX_HEADER_BYTES,
  parseIdx,
  readIdxFile,
  referenceCnn,
  saveModel,
  SUBSET_DIR,
  Tensor,
  buildModel,
  trainValSplit,
  gatherBatch,
  Rng,
} from '../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-files-'));

test('IDX: a valid file round-trips', () => {
  const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const r = parseIdx(encodeIdxU8([2, 3], data));
  assert.deepEqual(r.dims, [2, 3]);
  assert.deepEqual(Array.from(r.data), [1, 2, 3, 4, 5, 6]);
});

test('IDX: truncated, corrupt and hostile files give errors that name the problem', () => {
  const good = encodeIdxU8([2, 3], new Uint8Array(6));
  assert.throws(() => parseIdx(new Uint8Array(2)), /too short for an IDX header/);
  assert.throws(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0])), /bad magic number/);
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 0x42, 1, 0, 0, 0, 0])), /unknown IDX element type 0x42/);
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8, 0])), /rank 0/);
  assert.throws(() => parseIdx(good.subarray(0, 10)), /header needs 12 bytes/);
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1)), /need 6 bytes.*has 5 \(truncated\)/);
  assert.throws(() => parseIdx(new Uint8Array([...good, 9])), /1 unexpected bytes/);
  // a header claiming 2^31-1 × 2^31-1 values must be refused without allocating
  const huge = new Uint8Array([0, 0, 8, 2, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
  assert.throws(() => parseIdx(huge), /truncated/);
  const neg = new Uint8Array([0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => parseIdx(neg), /negative/);
});

test('IDX: corrupt gzip is reported as such', () => {
  const p = join(dir, 'bad.gz');
  const gz = gzipSync(encodeIdxU8([100], new Uint8Array(100)));
  writeFileSync(p, gz.subarray(0, gz.length - 12));
  assert.throws(() => readIdxFile(p), /gzip data is corrupt or truncated/);
});

test('Fashion-MNIST locator: an explicit --data-dir without the files is an error, never a silent fallback', () => {
  assert.throws(() => locateFashionMnist(dir), /does not hold the Fashion-MNIST files/);
  const sub = loadFashionMnist(SUBSET_DIR);
  assert.equal(sub.source, 'flag');
  assert.equal(sub.train.count, 5000);
  assert.equal(sub.test.count, 1000);
  assert.deepEqual(sub.train.sampleShape, [1, 28, 28]);
  const counts = new Array(10).fill(0);
  for (const l of sub.test.labels) counts[l]++;
  assert.ok(
    counts.every((c) => c > 50),
    `every class is present in the shipped test subset: ${counts}`,
  );
});

test('Fashion-MNIST loader refuses mismatched image and label counts', () => {
  const d = join(dir, 'mismatch');
  mkdirSync(d);
  writeFileSync(join(d, 'train-images-idx3-ubyte'), encodeIdxU8([2, 2, 2], new Uint8Array(8)));
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), encodeIdxU8([3], new Uint8Array(3)));
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), encodeIdxU8([1, 2, 2], new Uint8Array(4)));
  writeFileSync(join(d, 't10k-labels-idx1-ubyte'), encodeIdxU8([1], new Uint8Array([12])));
  assert.throws(() => loadFashionMnist(d), /2 images but .* 3 labels/);
});

test('DataLoader: seeded shuffle per epoch, drop-last, batches converted from bytes', () => {
  const ds = {
    images: new Uint8Array(10 * 4).map((_, i) => i),
    labels: new Uint8Array(10).map((_, i) => i % 3),
    count: 10,
    sampleShape: [1, 2, 2],
    classes: 3,
  };
  const a = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, dropLast: true });
  assert.equal(a.length, 2);
  const e0 = [...a.batches(0)].map((b) => Array.from(b.index));
  const again = [...new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, dropLast: true }).batches(0)].map((b) =>
    Array.from(b.index),
  );
  assert.deepEqual(e0, again);
  const e1 = [...a.batches(1)].map((b) => Array.from(b.index));
  assert.notDeepEqual(e0, e1);
  const first = [...a.batches(0)][0];
  assert.deepEqual(first.x.shape, [4, 1, 2, 2]);
  assert.equal(first.x.data[0], Math.fround(ds.images[first.index[0] * 4] * (1 / 255)));
  assert.equal(new DataLoader(ds, { batchSize: 4 }).length, 3);
  const { train, val } = trainValSplit(ds, 0.3, 1);
  assert.equal(val.count, 3);
  assert.equal(train.count, 7);
  assert.throws(() => gatherBatch(ds, [0], [5]), /expects samples of shape \[5\]/);
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /batch size must be a positive integer/);
});

test('safetensors: model files round-trip with spec and metadata', () => {
  const model = buildModel(referenceCnn, 4);
  const p = join(dir, 'm.safetensors');
  saveModel(p, model, referenceCnn, { epochs: 3 });
  const r = loadModel(p);
  assert.deepEqual(r.spec, referenceCnn);
  assert.deepEqual(r.training, { epochs: 3 });
  const x = Tensor.rand([2, 1, 28, 28], new Rng(1));
  model.eval();
  r.model.eval();
  assert.deepEqual(Array.from(r.model.forward(x).data), Array.from(model.forward(x).data));
  assert.ok(!existsSync(`${p}.tmp-${process.pid}`), 'no temporary file left behind');
});

test('safetensors: truncated, corrupt and hostile files give errors, not crashes or huge allocations', () => {
  const good = encodeSafetensors({ a: Tensor.from([1, 2, 3, 4], [2, 2]), b: Tensor.from([5], [1]) }, { k: 'v' });
  const ok = decodeSafetensors(good);
  assert.deepEqual(Array.from(ok.entries.a.data), [1, 2, 3, 4]);
  assert.equal(ok.metadata.k, 'v');
  const hlen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: unknown, data = new Uint8Array(0)) => {
    const hb = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + hb.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(data, 8 + hb.length);
    return out;
  };
  assert.throws(() => decodeSafetensors(good.subarray(0, 5)), /too short/);
  assert.throws(() => decodeSafetensors(good.subarray(0, 8 + hlen - 3)), /truncated/);
  assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 2)), /outside the \d+ data bytes/);
  const bigLen = new Uint8Array(16);
  new DataView(bigLen.buffer).setBigUint64(0, 0xffffffffffffn, true);
  assert.throws(() => decodeSafetensors(bigLen), new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`));
  const junk = good.slice();
  junk[10] = 0xff;
  assert.throws(() => decodeSafetensors(junk), /not valid JSON/);
  assert.throws(
    () => decodeSafetensors(withHeader({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))),
    /unsupported dtype/,
  );
  assert.throws(
    () => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4))),
    /needs 8/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader({ a: { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 4] } }, new Uint8Array(4)),
      ),
    /needs/,
  );
  assert.throws(
    () => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))),
    /invalid shape/,
  );
  assert.throws(
    () =>
      decodeSafetensors(
        withHeader(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          new Uint8Array(12),
        ),
      ),
    /overlap/,
  );
  assert.throws(() => decodeSafetensors(withHeader([1, 2])), /must be a JSON object/);
  assert.throws(() => decodeSafetensors(withHeader({ __metadata__: { k: 3 } })), /metadata value k is not a string/);
});

test('loadModel: a file that is not a Frugal model, or a truncated one, is refused with the path', () => {
  const p = join(dir, 'plain.safetensors');
  writeFileSync(p, encodeSafetensors({ a: Tensor.zeros([1]) }));
  assert.throws(() => loadModel(p), /no frugal.spec in the metadata/);
  const m = join(dir, 'm.safetensors');
  const bytes = readFileSync(m);
  const t = join(dir, 'trunc.safetensors');
  writeFileSync(t, bytes.subarray(0, bytes.length - 100));
  assert.throws(() => loadModel(t), /trunc.safetensors.*(truncated|outside)/);
  assert.throws(() => loadModel(join(dir, 'nope.safetensors')), /cannot read model file .*: no such file/);
});
