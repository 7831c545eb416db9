// A small builder of ONNX graphs (nodes, initialisers, attributes) over the plain-object messages of
// schema.ts, so the exporter reads as one line per operator.
import { AT, DT, type AttrMsg, type NodeMsg, type TensorMsg } from './schema.js';

/** Raw little-endian bytes of a float32 array (ONNX's raw_data; the platforms Frugal runs on are little-endian). */
function rawBytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

export const attr = {
  int: (name: string, i: number): AttrMsg => ({ name, type: AT.INT, i }),
  ints: (name: string, ints: number[]): AttrMsg => ({ name, type: AT.INTS, ints }),
  float: (name: string, f: number): AttrMsg => ({ name, type: AT.FLOAT, f }),
};

export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  private names = new Set<string>();
  private shared = new Map<string, string>();
  private count = 0;

  /** A fresh value name with a readable stem. */
  fresh(stem: string): string {
    let n = `${stem}`;
    while (this.names.has(n)) n = `${stem}_${++this.count}`;
    this.names.add(n);
    return n;
  }
  /** A float32 initialiser of the given dims; returns its name. */
  floats(stem: string, data: ArrayLike<number>, dims: number[]): string {
    const a = data instanceof Float32Array ? data : Float32Array.from(data);
    const n = dims.reduce((p, d) => p * d, 1);
    if (a.length !== n) throw new Error(`ONNX export: internal error, ${stem} has ${a.length} values for [${dims}]`);
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, dataType: DT.FLOAT, rawData: rawBytes(a) });
    return name;
  }
  /** A scalar float32 constant, shared by every node that uses the same value. */
  scalar(v: number): string {
    const key = `f${Object.is(v, -0) ? '-0' : v}`;
    let name = this.shared.get(key);
    if (!name) {
      name = this.floats(`const_${String(v).replace(/[^0-9a-zA-Z]/g, '_')}`, [v], []);
      this.shared.set(key, name);
    }
    return name;
  }
  /** An int64 initialiser (shapes, pads, gather indices), 1-D unless dims are given. */
  int64s(stem: string, values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh(stem);
    this.initializers.push({ name, dims, dataType: DT.INT64, int64Data: values });
    return name;
  }
  /** An int64 initialiser made once per key and shared by every node that asks for the same key. */
  sharedInt64s(key: string, stem: string, make: () => { values: number[]; dims: number[] }): string {
    let name = this.shared.get(`i${key}`);
    if (!name) {
      const { values, dims } = make();
      name = this.int64s(stem, values, dims);
      this.shared.set(`i${key}`, name);
    }
    return name;
  }
  /** Append a node; returns its (single) output name. */
  node(opType: string, inputs: string[], attribute: AttrMsg[] = [], stem = opType.toLowerCase()): string {
    const out = this.fresh(stem);
    this.nodes.push({ opType, input: inputs, output: [out], name: this.fresh(`${stem}_node`), attribute });
    return out;
  }
}
