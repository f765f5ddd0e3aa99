// Conversions between IR tensors and onnxruntime tensors.
import * as ort from 'onnxruntime-node';
import {DataType, type DataTypeCode, type Tensor} from './ir.js';
import {dataTypeName} from './tensor.js';

const ortTypeByCode = new Map<DataTypeCode, ort.Tensor.Type>([
  [DataType.FLOAT, 'float32'],
  [DataType.DOUBLE, 'float64'],
  [DataType.FLOAT16, 'float16'],
  [DataType.INT8, 'int8'],
  [DataType.UINT8, 'uint8'],
  [DataType.INT16, 'int16'],
  [DataType.UINT16, 'uint16'],
  [DataType.INT32, 'int32'],
  [DataType.UINT32, 'uint32'],
  [DataType.INT64, 'int64'],
  [DataType.UINT64, 'uint64'],
  [DataType.BOOL, 'bool'],
  [DataType.STRING, 'string'],
]);
const codeByOrtType = new Map([...ortTypeByCode].map(([code, type]) => [type, code]));

/** An onnxruntime tensor sharing the IR tensor's data (no copy). */
export function toOrtTensor(tensor: Tensor): ort.Tensor {
  const type = ortTypeByCode.get(tensor.dataType);
  if (!type) throw new Error(`tensor "${tensor.name}": onnxruntime-node has no ${dataTypeName(tensor.dataType)} tensors`);
  return new ort.Tensor(type as 'float32', tensor.data as Float32Array, tensor.dims);
}

/** An IR tensor holding a copy of an onnxruntime tensor's data. */
export function fromOrtTensor(name: string, value: ort.Tensor): Tensor {
  const dataType = codeByOrtType.get(value.type);
  if (dataType === undefined) throw new Error(`value "${name}": unsupported onnxruntime tensor type ${value.type}`);
  const data = value.data;
  const copy = Array.isArray(data) ? [...(data as string[])] : (data as Exclude<Tensor['data'], string[]>).slice();
  return {name, dataType, dims: [...value.dims], data: copy as Tensor['data']};
}
