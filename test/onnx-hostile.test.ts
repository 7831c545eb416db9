// Issue 23, point 8: truncated, random and hostile ONNX files, unsupported operators and dynamic shapes get a
// clear OnnxImportError naming the node and operator or the field: never a crash or a huge allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, fromOnnx, OnnxImportError, referenceMlp, Rng, toOnnx } from '../src/node.js';
import { encodeModel, DT, type ModelMsg, type NodeMsg, type TensorMsg } from '../src/onnx/schema.js';
import { frugal } from './cli-helpers.js';

const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);
/** A one-layer model x [N, 4] → Gemm → y, with its parts replaceable. */
function model(
  over: { init?: TensorMsg[]; nodes?: NodeMsg[]; inputDims?: { dimValue?: number; dimParam?: string }[] } = {},
) {
  const m: ModelMsg = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: over.nodes ?? [
        {
          opType: 'Gemm',
          name: 'fc',
          input: ['x', 'W', 'b'],
          output: ['y'],
          attribute: [{ name: 'transB', type: 2, i: 1 }],
        },
      ],
      initializer: over.init ?? [
        { name: 'W', dims: [3, 4], dataType: DT.FLOAT, rawData: f32(12) },
        { name: 'b', dims: [3], dataType: DT.FLOAT, rawData: f32(3) },
      ],
      input: [
        {
          name: 'x',
          type: {
            tensorType: { elemType: DT.FLOAT, shape: { dim: over.inputDims ?? [{ dimParam: 'N' }, { dimValue: 4 }] } },
          },
        },
      ],
      output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT } } }],
    },
  };
  return encodeModel(m);
}
const refused = (bytes: Uint8Array, re: RegExp) =>
  assert.throws(
    () => fromOnnx(bytes),
    (e: Error) => e instanceof OnnxImportError && re.test(e.message),
  );

test('the well-formed baseline imports (so each refusal below is the one change it makes)', () => {
  assert.deepEqual(
    fromOnnx(model()).spec.layers.map((l) => l.type),
    ['linear'],
  );
});

test('truncated and random files: a decoding error, never a crash', () => {
  const good = toOnnx(buildModel(referenceMlp, 1), {});
  refused(good.subarray(0, Math.floor(good.length / 2)), /not a readable ONNX model.*truncated/);
  refused(new Uint8Array(0), /empty/);
  const rng = new Rng(11);
  let refusedCount = 0;
  for (let k = 0; k < 300; k++) {
    let b: Uint8Array;
    if (k % 3 === 0) b = Uint8Array.from({ length: 1 + rng.int(4096) }, () => rng.int(256));
    else if (k % 3 === 1) b = good.subarray(0, rng.int(good.length));
    else {
      b = good.slice();
      for (let j = 0; j < 4; j++) b[rng.int(b.length)] = rng.int(256);
    }
    try {
      fromOnnx(b);
    } catch (e) {
      assert.ok(e instanceof OnnxImportError, `case ${k}: ${(e as Error).stack}`);
      refusedCount++;
    }
  }
  assert.ok(refusedCount > 150, `${refusedCount} of 300 refused`);
});

test('hostile sizes: 10^12 elements, huge and negative dims, a lying raw_data length', () => {
  const W = (dims: number[], bytes = 48): TensorMsg => ({
    name: 'W',
    dims,
    dataType: DT.FLOAT,
    rawData: f32(bytes / 4),
  });
  const b: TensorMsg = { name: 'b', dims: [3], dataType: DT.FLOAT, rawData: f32(3) };
  refused(
    model({ init: [W([1e6, 1e6]), b] }),
    /initializer 0 'W': dims \[1000000, 1000000\] make 1,000,000,000,000 elements, above/,
  );
  refused(model({ init: [W([2 ** 40, 3]), b] }), /'W': dims .* above the limit/);
  refused(model({ init: [W([-5, 4]), b] }), /'W': dims\[0\] is -5; dimensions must be non-negative integers/);
  refused(
    model({ init: [W([3000, 4000]), b] }),
    /'W': dims \[3000, 4000\] declare 12,000,000 elements but the tensor holds 48 bytes/,
  );
  refused(
    model({ inputDims: [{ dimParam: 'N' }, { dimValue: 1e12 }] }),
    /graph input 'x' dimension 1 is 1000000000000/,
  );
  refused(model({ inputDims: [{ dimParam: 'N' }, { dimValue: -4 }] }), /graph input 'x' dimension 1 is -4/);
  refused(
    model({ init: [{ ...W([3, 4]), dataLocation: 1, rawData: undefined }, b] }),
    /'W': its data is in an external file/,
  );
});

test('unsupported operators and graphs: named by node and operator', () => {
  refused(
    model({ nodes: [{ opType: 'Cos', name: 'trig', input: ['x'], output: ['y'] }] }),
    /node 0 'trig' \(Cos\): operator Cos is not supported/,
  );
  refused(
    model({ nodes: [{ opType: 'Relu', name: 'r', input: ['x'], output: ['y'], domain: 'com.example' }] }),
    /node 0 'r' \(Relu\): operator domain 'com.example'/,
  );
  const gemm = (name: string, i: string, o: string): NodeMsg => ({
    opType: 'Gemm',
    name,
    input: [i, 'W', 'b'],
    output: [o],
    attribute: [{ name: 'transB', type: 2, i: 1 }],
  });
  refused(
    model({ nodes: [gemm('a', 'x', 'h'), { opType: 'Add', name: 'sum', input: ['h', 'x'], output: ['y'] }] }),
    /branches at value 'x'/,
  );
  refused(
    model({
      nodes: [
        { opType: 'Conv', name: 'c', input: ['x', 'W'], output: ['y'], attribute: [{ name: 'group', type: 2, i: 2 }] },
      ],
    }),
    /node 0 'c' \(Conv\): Conv on a rank-2 input/,
  );
});

test('dynamic shapes: a free sample dimension is refused naming the input and the dimension', () => {
  refused(
    model({ inputDims: [{ dimParam: 'N' }, { dimParam: 'features' }] }),
    /graph input 'x' dimension 1 is dynamic \('features'\); Frugal needs a fixed sample shape/,
  );
  refused(model({ inputDims: [{ dimParam: 'N' }, {}] }), /graph input 'x' dimension 1 is dynamic/);
});

test('frugal import exits 1 with the reason for a hostile file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-onnx-bad-'));
  const p = join(dir, 'big.onnx');
  writeFileSync(p, model({ init: [{ name: 'W', dims: [1e6, 1e6], dataType: DT.FLOAT, rawData: f32(1) }] }));
  const r = frugal('import', p, '--out', join(dir, 'm.safetensors'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1,000,000,000,000 elements/);
});
