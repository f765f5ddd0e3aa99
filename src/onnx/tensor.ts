// Building and reading IR tensors: the element storage per ONNX data type, constructors for the
// common types, and numeric views used by graph rewrites.
import {DataType, type DataTypeCode, type Tensor, type TensorData} from './ir.js';

type NumericArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export type NumericTensorData = Exclude<TensorData, string[]>;

const BFLOAT16 = 16;
const FLOAT8_FIRST = 17;
const FLOAT8_LAST = 20;

/**
 * The typed array holding elements of `dataType`, or undefined for STRING and types axx cannot hold
 * (complex, 4-bit). FLOAT16/BFLOAT16 keep their bit patterns in a Uint16Array, BOOL and FLOAT8 one
 * byte per element, exactly as ONNX raw_data stores them.
 */
export function storageFor(dataType: DataTypeCode): NumericArrayConstructor | undefined {
  switch (dataType) {
    case DataType.FLOAT:
      return Float32Array;
    case DataType.DOUBLE:
      return Float64Array;
    case DataType.INT8:
      return Int8Array;
    case DataType.UINT8:
    case DataType.BOOL:
      return Uint8Array;
    case DataType.INT16:
      return Int16Array;
    case DataType.UINT16:
    case DataType.FLOAT16:
    case BFLOAT16:
      return Uint16Array;
    case DataType.INT32:
      return Int32Array;
    case DataType.UINT32:
      return Uint32Array;
    case DataType.INT64:
      return BigInt64Array;
    case DataType.UINT64:
      return BigUint64Array;
    default:
      return dataType >= FLOAT8_FIRST && dataType <= FLOAT8_LAST ? Uint8Array : undefined;
  }
}

const dataTypeNames = new Map<number, string>(Object.entries(DataType).map(([name, code]) => [code, name]));

export function dataTypeName(dataType: DataTypeCode): string {
  return dataTypeNames.get(dataType) ?? (dataType === BFLOAT16 ? 'BFLOAT16' : `data type ${dataType}`);
}

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}

function checkedTensor(name: string, dataType: DataTypeCode, dims: number[], data: TensorData): Tensor {
  if (data.length !== elementCount(dims)) {
    throw new Error(`tensor "${name}": dims [${dims.join(', ')}] need ${elementCount(dims)} elements, got ${data.length}`);
  }
  return {name, dataType, dims: [...dims], data};
}

function numericTensor(
  dataType: DataTypeCode,
  Storage: Exclude<NumericArrayConstructor, BigInt64ArrayConstructor | BigUint64ArrayConstructor>,
) {
  return (name: string, dims: number[], data: ArrayLike<number>): Tensor =>
    checkedTensor(name, dataType, dims, data instanceof Storage ? data : Storage.from(data));
}

/** Tensor constructors; typed arrays of the right type are kept (not copied), other arrays converted. */
export const floatTensor = numericTensor(DataType.FLOAT, Float32Array);
export const doubleTensor = numericTensor(DataType.DOUBLE, Float64Array);
export const int32Tensor = numericTensor(DataType.INT32, Int32Array);
export const int8Tensor = numericTensor(DataType.INT8, Int8Array);
export const uint8Tensor = numericTensor(DataType.UINT8, Uint8Array);

export function int64Tensor(name: string, dims: number[], data: ArrayLike<number | bigint>): Tensor {
  const values = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return checkedTensor(name, DataType.INT64, dims, values);
}

export function boolTensor(name: string, dims: number[], data: ArrayLike<boolean | number>): Tensor {
  return checkedTensor(name, DataType.BOOL, dims, Uint8Array.from(Array.from(data, (v) => (v ? 1 : 0))));
}

export function stringTensor(name: string, dims: number[], data: string[]): Tensor {
  return checkedTensor(name, DataType.STRING, dims, [...data]);
}

/** Element values as numbers (int64 converted, exact below 2^53). For shapes, axes, small constants. */
export function tensorNumbers(tensor: Tensor): number[] {
  const {data} = tensor;
  if (Array.isArray(data)) throw new Error(`tensor "${tensor.name}" holds strings, not numbers`);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

/** A tensor's element bytes (a view, no copy). Assumes a little-endian host, as ONNX raw_data is little-endian. */
export function tensorBytes(data: NumericTensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
