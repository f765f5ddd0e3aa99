// Small literal models with one layer of every kind the rewrite handles, shared by the rewrite
// tests and the benchmark: MatMul on a batched activation, Gemm (transB, alpha, beta, bias), Conv
// with padding and stride, grouped dilated Conv, and an attention-style MatMul of two activations.
import {DataType, type Model, type Node, type Tensor} from '../../src/onnx/ir.js';
import {floatTensor} from '../../src/onnx/tensor.js';
import {CALIBRATION_FORMAT, type CalibrationFile} from '../../src/approx/calibration-format.js';
import {filled, Random} from '../../src/util/random.js';
import {modelOf} from './onnx-model.js';

/** `count` values uniform in [-scale, scale) from the project's one seeded generator. */
export function randomFloats(random: Random, count: number, scale = 1): Float32Array {
  return filled(count, () => (2 * random.next() - 1) * scale);
}

const ints = (name: string, value: number[]) => ({name, type: 'ints' as const, value});
const int = (name: string, value: number) => ({name, type: 'int' as const, value});
const float = (name: string, value: number) => ({name, type: 'float' as const, value});

export interface LayerZoo {
  model: Model;
  /** Input name → shape. */
  inputs: Record<string, number[]>;
}

export function layerZoo(seed = 1): LayerZoo {
  const rng = new Random(seed);
  const inputs: Record<string, number[]> = {
    x_mm: [2, 5, 24],
    x_gemm: [6, 24],
    x_conv: [2, 3, 7, 7],
    x_group: [1, 4, 6, 6],
    q: [2, 3, 5, 8],
    k_t: [2, 3, 8, 5],
  };
  const initializers: Tensor[] = [
    floatTensor('mm.weight', [24, 7], randomFloats(rng, 24 * 7, 0.5)),
    floatTensor('gemm.weight', [7, 24], randomFloats(rng, 7 * 24, 0.5)),
    floatTensor('gemm.bias', [7], randomFloats(rng, 7)),
    floatTensor('conv.weight', [4, 3, 3, 3], randomFloats(rng, 4 * 27, 0.5)),
    floatTensor('conv.bias', [4], randomFloats(rng, 4)),
    floatTensor('group.weight', [6, 2, 3, 3], randomFloats(rng, 6 * 18, 0.5)),
  ];
  const node = (name: string, opType: string, ins: string[], attributes: Node['attributes'] = []): Node => ({name, opType, domain: '', inputs: ins, outputs: [`${name}.out`], attributes});
  const nodes: Node[] = [
    node('mm', 'MatMul', ['x_mm', 'mm.weight']),
    node('gemm', 'Gemm', ['x_gemm', 'gemm.weight', 'gemm.bias'], [int('transB', 1), float('alpha', 0.75), float('beta', 0.5)]),
    node('conv', 'Conv', ['x_conv', 'conv.weight', 'conv.bias'], [ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2]), ints('kernel_shape', [3, 3])]),
    node('group', 'Conv', ['x_group', 'group.weight'], [ints('pads', [1, 0, 1, 2]), int('group', 2), ints('dilations', [1, 2])]),
    node('attn.qk', 'MatMul', ['q', 'k_t']),
  ];
  const model: Model = modelOf({
    name: 'zoo',
    nodes,
    initializers,
    inputs: Object.entries(inputs).map(([name, shape]) => ({name, elemType: DataType.FLOAT, shape})),
    outputs: nodes.map((n) => ({name: n.outputs[0]!, elemType: DataType.FLOAT})),
    valueInfo: [],
  });
  return {model, inputs};
}

/** A calibration that clips every listed value at `amax` (statistics left empty). */
export function fixedCalibration(amax: Record<string, number>): CalibrationFile {
  const values: CalibrationFile['values'] = {};
  for (const [name, a] of Object.entries(amax)) {
    values[name] = {role: 'activation', max: a, amax: a, histogram: {range: a, counts: new Array(2048).fill(0)}, operandCounts: new Array(256).fill(0)};
  }
  return {format: CALIBRATION_FORMAT, version: 1, method: 'max', percentile: 100, samples: 0, batches: 0, values, layers: []};
}
