// In-memory ONNX model: a plain-data mirror of onnx.proto's ModelProto, GraphProto, NodeProto …
// Every module that reads, rewrites or builds models works on these types; `codec.ts` turns them
// into and out of protobuf bytes. Field names follow onnx.proto in camelCase.

/** TensorProto.DataType values used by axx (numbers are onnx.proto's). */
export const DataType = {
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
} as const;
export type DataTypeCode = number;

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A constant tensor (initializer, Constant value, tensor attribute). Data is always decoded. */
export interface Tensor {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  data: TensorData;
  docString?: string;
  /** Set when the tensor was read from external data: where it came from (informational). */
  externalLocation?: string;
}

export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export type Attribute =
  | {name: string; type: 'float'; value: number}
  | {name: string; type: 'int'; value: number}
  | {name: string; type: 'string'; value: string}
  | {name: string; type: 'tensor'; value: Tensor}
  | {name: string; type: 'graph'; value: Graph}
  | {name: string; type: 'floats'; value: number[]}
  | {name: string; type: 'ints'; value: number[]}
  | {name: string; type: 'strings'; value: string[]}
  | {name: string; type: 'tensors'; value: Tensor[]}
  | {name: string; type: 'graphs'; value: Graph[]};

export interface Node {
  name: string;
  opType: string;
  /** '' is the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  docString?: string;
}

/** A dimension: a fixed size, a symbolic name, or unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** Element type of a tensor value. */
  elemType: DataTypeCode;
  /** undefined = rank unknown. */
  shape?: Dim[];
  docString?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  docString?: string;
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OperatorSetId[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadataProps: {key: string; value: string}[];
  graph: Graph;
}
