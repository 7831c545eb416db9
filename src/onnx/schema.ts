// The part of ONNX's onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, syntax proto2) that Frugal
// reads and writes, as a protobufjs JSON descriptor: same message names, field names and field numbers
// as upstream, so files interoperate; messages and fields Frugal never uses are left out (protobuf
// skips unknown fields when decoding). Built with protobufjs's reflection (Root.fromJSON): no .proto
// file is read at run time, so this works in browsers.
import protobuf from 'protobufjs/light.js';

const f = (type: string, id: number, rule?: 'repeated', packed?: boolean) => ({
  type,
  id,
  ...(rule ? { rule } : {}),
  ...(packed !== undefined ? { options: { packed } } : {}),
});

/** onnx.proto's messages used here (field numbers as upstream). */
export const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f('string', 1),
            refAttrName: f('string', 21),
            docString: f('string', 13),
            type: f('AttributeType', 20),
            f: f('float', 2),
            i: f('int64', 3),
            s: f('bytes', 4),
            t: f('TensorProto', 5),
            g: f('GraphProto', 6),
            floats: f('float', 7, 'repeated', false),
            ints: f('int64', 8, 'repeated', false),
            strings: f('bytes', 9, 'repeated'),
            tensors: f('TensorProto', 10, 'repeated'),
            graphs: f('GraphProto', 11, 'repeated'),
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                SPARSE_TENSOR: 11,
                TYPE_PROTO: 13,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSORS: 12,
                TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: { name: f('string', 1), type: f('TypeProto', 2), docString: f('string', 3) },
        },
        NodeProto: {
          fields: {
            input: f('string', 1, 'repeated'),
            output: f('string', 2, 'repeated'),
            name: f('string', 3),
            opType: f('string', 4),
            domain: f('string', 7),
            attribute: f('AttributeProto', 5, 'repeated'),
            docString: f('string', 6),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f('int64', 1),
            opsetImport: f('OperatorSetIdProto', 8, 'repeated'),
            producerName: f('string', 2),
            producerVersion: f('string', 3),
            domain: f('string', 4),
            modelVersion: f('int64', 5),
            docString: f('string', 6),
            graph: f('GraphProto', 7),
            metadataProps: f('StringStringEntryProto', 14, 'repeated'),
          },
        },
        StringStringEntryProto: { fields: { key: f('string', 1), value: f('string', 2) } },
        GraphProto: {
          fields: {
            node: f('NodeProto', 1, 'repeated'),
            name: f('string', 2),
            initializer: f('TensorProto', 5, 'repeated'),
            docString: f('string', 10),
            input: f('ValueInfoProto', 11, 'repeated'),
            output: f('ValueInfoProto', 12, 'repeated'),
            valueInfo: f('ValueInfoProto', 13, 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: f('int64', 1, 'repeated', false),
            dataType: f('int32', 2),
            floatData: f('float', 4, 'repeated', true),
            int32Data: f('int32', 5, 'repeated', true),
            stringData: f('bytes', 6, 'repeated'),
            int64Data: f('int64', 7, 'repeated', true),
            name: f('string', 8),
            docString: f('string', 12),
            rawData: f('bytes', 9),
            externalData: f('StringStringEntryProto', 13, 'repeated'),
            dataLocation: f('DataLocation', 14),
            doubleData: f('double', 10, 'repeated', true),
            uint64Data: f('uint64', 11, 'repeated', true),
          },
          nested: {
            DataType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                UINT8: 2,
                INT8: 3,
                UINT16: 4,
                INT16: 5,
                INT32: 6,
                INT64: 7,
                STRING: 8,
                BOOL: 9,
                FLOAT16: 10,
                DOUBLE: 11,
                UINT32: 12,
                UINT64: 13,
                COMPLEX64: 14,
                COMPLEX128: 15,
                BFLOAT16: 16,
              },
            },
            DataLocation: { values: { DEFAULT: 0, EXTERNAL: 1 } },
          },
        },
        TensorShapeProto: {
          fields: { dim: f('Dimension', 1, 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: f('int64', 1), dimParam: f('string', 2), denotation: f('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType'] } },
          fields: {
            tensorType: f('Tensor', 1),
            sequenceType: f('Opaque', 4),
            mapType: f('Opaque', 5),
            optionalType: f('Opaque', 9),
            sparseTensorType: f('Tensor', 8),
            denotation: f('string', 6),
          },
          nested: {
            Tensor: { fields: { elemType: f('int32', 1), shape: f('TensorShapeProto', 2) } },
            // Sequence, Map and Optional types are recognised (to refuse them by name), not read.
            Opaque: { fields: {} },
          },
        },
        OperatorSetIdProto: { fields: { domain: f('string', 1), version: f('int64', 2) } },
      },
    },
  },
};

/** ONNX TensorProto.DataType values used here. */
export const DT = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values used here. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

let root: protobuf.Root | null = null;
/** The ModelProto message type (built once). */
export function modelType(): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_SCHEMA);
  return root.lookupType('onnx.ModelProto');
}

// Plain-object forms of the messages, as this code builds and reads them.
export interface TensorMsg {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  name?: string;
  rawData?: Uint8Array;
  dataLocation?: number;
  externalData?: { key?: string; value?: string }[];
}
export interface AttrMsg {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  floats?: number[];
  ints?: number[];
  g?: unknown;
}
export interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttrMsg[];
}
export interface DimMsg {
  dimValue?: number;
  dimParam?: string;
}
export interface ValueInfoMsg {
  name?: string;
  type?: {
    tensorType?: { elemType?: number; shape?: { dim?: DimMsg[] } };
    sequenceType?: object;
    mapType?: object;
    optionalType?: object;
    sparseTensorType?: object;
  };
}
export interface GraphMsg {
  node?: NodeMsg[];
  name?: string;
  initializer?: TensorMsg[];
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
  valueInfo?: ValueInfoMsg[];
}
export interface ModelMsg {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  graph?: GraphMsg;
  metadataProps?: { key?: string; value?: string }[];
}

/** Encode a ModelProto from its plain-object form (verified against the schema first). */
export function encodeModel(m: ModelMsg): Uint8Array {
  const T = modelType();
  const err = T.verify(m);
  if (err) throw new Error(`ONNX export: internal error, the model does not match onnx.proto (${err})`);
  return T.encode(T.fromObject(m)).finish();
}

/**
 * Decode a ModelProto to plain objects (int64 as numbers: values beyond 2^53 lose precision but keep
 * their size, and every count read from them is range-checked before use).
 */
export function decodeModel(bytes: Uint8Array): ModelMsg {
  const T = modelType();
  const msg = T.decode(bytes);
  return T.toObject(msg, { longs: Number, enums: Number, bytes: Uint8Array as unknown as typeof String }) as ModelMsg;
}
