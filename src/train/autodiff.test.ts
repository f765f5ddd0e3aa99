// Per-op finite-difference checks of the gradient rules, on small random float32 graphs run in
// onnxruntime. Tolerance: |analytic − numeric| ≤ 1e-2·max(1, |numeric|) for central differences
// with ε = 1e-2 (float32 rounding of a loss of magnitude ~10 contributes ~1e-4).
import {describe, expect, it} from 'vitest';
import {attr, type GraphBuilder} from '../models/graph-builder.js';
import {checkGradients, type GradCheckCase} from './grad-check.js';
import {differentiate} from './autodiff.js';
import {GraphBuilder as Builder} from '../models/graph-builder.js';

const TOLERANCE = 1e-2;

function op(opType: string, inputs: string[], attributes: Parameters<GraphBuilder['op']>[2] = []) {
  return (b: GraphBuilder) => [b.op(opType, inputs, attributes)];
}

const cases: Record<string, GradCheckCase> = {
  'Add with broadcasting': {inputs: {a: [2, 3, 4], b: [3, 1]}, build: op('Add', ['a', 'b'])},
  'Sub with broadcasting': {inputs: {a: [4], b: [2, 3, 4]}, build: op('Sub', ['a', 'b'])},
  'Mul with broadcasting': {inputs: {a: [2, 1, 4], b: [3, 1]}, build: op('Mul', ['a', 'b'])},
  Div: {inputs: {a: [2, 3], b: [3]}, positive: true, build: op('Div', ['a', 'b'])},
  Pow: {inputs: {a: [2, 3], b: [2, 3]}, positive: true, build: op('Pow', ['a', 'b'])},
  Sqrt: {inputs: {x: [5]}, positive: true, build: op('Sqrt', ['x'])},
  Neg: {inputs: {x: [5]}, build: op('Neg', ['x'])},
  Erf: {inputs: {x: [6]}, build: op('Erf', ['x'])},
  Gelu: {inputs: {x: [6]}, opset: 20, build: op('Gelu', ['x'])},
  Tanh: {inputs: {x: [6]}, build: op('Tanh', ['x'])},
  Sigmoid: {inputs: {x: [6]}, build: op('Sigmoid', ['x'])},
  Relu: {inputs: {x: [7]}, epsilon: 1e-3, build: op('Relu', ['x'])},
  Clip: {inputs: {x: [9]}, epsilon: 1e-3, build: (b) => [b.op('Clip', ['x', b.float(-0.5), b.float(0.7)])]},
  'Clip (max only)': {inputs: {x: [9]}, epsilon: 1e-3, build: (b) => [b.op('Clip', ['x', '', b.float(0.3)])]},
  Exp: {inputs: {x: [4]}, build: op('Exp', ['x'])},
  Log: {inputs: {x: [4]}, positive: true, build: op('Log', ['x'])},
  Softmax: {inputs: {x: [2, 3, 5]}, build: op('Softmax', ['x'], [attr.int('axis', 1)])},
  LogSoftmax: {inputs: {x: [3, 5]}, build: op('LogSoftmax', ['x'])},
  'MatMul 3-D × 2-D weight': {inputs: {a: [2, 3, 4], w: [4, 5]}, build: op('MatMul', ['a', 'w'])},
  'MatMul batched with broadcasting': {inputs: {a: [2, 2, 3, 4], w: [2, 1, 4, 5]}, build: op('MatMul', ['a', 'w'])},
  'Gemm transA transB alpha beta': {
    inputs: {a: [4, 3], b: [5, 4], c: [5]},
    build: op('Gemm', ['a', 'b', 'c'], [attr.int('transA', 1), attr.int('transB', 1), attr.float('alpha', 0.5), attr.float('beta', 2)]),
  },
  Gemm: {inputs: {a: [3, 4], b: [4, 5], c: [3, 1]}, build: op('Gemm', ['a', 'b', 'c'])},
  LayerNormalization: {
    inputs: {x: [2, 3, 6], s: [6], bias: [6]},
    build: (b) => [b.op('LayerNormalization', ['x', 's', 'bias'], [attr.int('axis', -1), attr.float('epsilon', 1e-5)])],
  },
  'LayerNormalization decomposed': {
    inputs: {x: [3, 5]},
    build: (b) => {
      const mean = b.op('ReduceMean', ['x'], [attr.ints('axes', [-1])]);
      const centered = b.op('Sub', ['x', mean]);
      const variance = b.op('ReduceMean', [b.op('Pow', [centered, b.float(2)])], [attr.ints('axes', [-1])]);
      return [b.op('Div', [centered, b.op('Sqrt', [b.op('Add', [variance, b.float(1e-5)])])])];
    },
  },
  'ReduceSum keepdims=0': {inputs: {x: [2, 3, 4]}, build: (b) => [b.op('ReduceSum', ['x', b.int64s([0, 2])], [attr.int('keepdims', 0)])]},
  'ReduceMean (opset 18 axes input)': {inputs: {x: [2, 3, 4]}, opset: 18, build: (b) => [b.op('ReduceMean', ['x', b.int64s([1])])]},
  'Reshape, Transpose, Flatten': {
    inputs: {x: [2, 3, 4]},
    build: (b) => [b.op('Flatten', [b.op('Transpose', [b.op('Reshape', ['x', b.int64s([2, 12])])], [attr.ints('perm', [1, 0])])])],
  },
  'Squeeze, Unsqueeze': {inputs: {x: [2, 1, 3]}, build: (b) => [b.op('Unsqueeze', [b.op('Squeeze', ['x', b.int64s([1])]), b.int64s([0])])]},
  Concat: {inputs: {a: [2, 3], b: [2, 5]}, build: op('Concat', ['a', 'b'], [attr.int('axis', 1)])},
  'Split (one output unused)': {
    inputs: {x: [2, 6]},
    build: (b) => b.node('Split', ['x', b.int64s([2, 4])], {attributes: [attr.int('axis', 1)], outputs: 2}).slice(1),
  },
  'Slice with Constant-node starts/ends': {
    inputs: {x: [4, 6]},
    build: (b) => {
      const constant = (values: number[]) =>
        b.op('Constant', [], [attr.tensor('value', {name: 'c', dataType: 7, dims: [values.length], data: BigInt64Array.from(values, BigInt)})]);
      return [b.op('Slice', ['x', constant([2]), constant([5]), constant([1])])];
    },
  },
  Slice: {inputs: {x: [4, 6]}, build: (b) => [b.op('Slice', ['x', b.int64s([1, -4]), b.int64s([3, 100]), b.int64s([0, 1])])]},
  'Gather axis 1, scalar index': {inputs: {x: [2, 3, 4]}, build: (b) => [b.op('Gather', ['x', b.int64Scalar(0)], [attr.int('axis', 1)])]},
  'Gather axis 0, repeated indices': {inputs: {x: [4, 3]}, build: (b) => [b.op('Gather', ['x', b.int64s([1, 3, 1])])]},
  Expand: {inputs: {x: [1, 3, 1]}, build: (b) => [b.op('Expand', ['x', b.int64s([2, 3, 4])])]},
  'Shape path (Shape, Cast) is not differentiated': {
    inputs: {x: [3, 2]},
    build: (b) => [b.op('Mul', ['x', b.op('Cast', [b.op('Shape', ['x'])], [attr.int('to', 1)])])],
  },
  'Identity, Dropout': {inputs: {x: [3]}, build: (b) => [b.op('Dropout', [b.op('Identity', ['x'])])]},
  'Conv stride 2 pads': {
    inputs: {x: [2, 3, 7, 7], w: [4, 3, 3, 3], bias: [4]},
    build: op('Conv', ['x', 'w', 'bias'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]),
  },
  'Conv dilation, uneven': {
    inputs: {x: [1, 2, 8, 6], w: [3, 2, 2, 3]},
    build: op('Conv', ['x', 'w'], [attr.ints('dilations', [2, 1]), attr.ints('strides', [3, 2]), attr.ints('pads', [0, 1, 1, 0])]),
  },
  'Conv grouped': {
    inputs: {x: [2, 4, 6, 6], w: [6, 2, 3, 3]},
    build: op('Conv', ['x', 'w'], [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1])]),
  },
  'Conv depthwise strided': {
    inputs: {x: [2, 3, 7, 7], w: [3, 1, 3, 3], bias: [3]},
    build: op('Conv', ['x', 'w', 'bias'], [attr.int('group', 3), attr.ints('strides', [2, 2])]),
  },
  MaxPool: {inputs: {x: [2, 3, 6, 6]}, epsilon: 1e-3, build: op('MaxPool', ['x'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])])},
  'MaxPool overlapping': {inputs: {x: [1, 2, 5, 5]}, epsilon: 1e-3, build: op('MaxPool', ['x'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [1, 1])])},
  AveragePool: {inputs: {x: [2, 3, 7, 7]}, build: op('AveragePool', ['x'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2])])},
  GlobalAveragePool: {inputs: {x: [2, 3, 4, 5]}, build: op('GlobalAveragePool', ['x'])},
  'BatchNormalization (inference)': {
    inputs: {x: [2, 3, 4, 4], s: [3], bias: [3]},
    build: (b) => {
      const mean = b.freshInitializer('mean', [3], Float32Array.of(0.1, -0.2, 0.3));
      const variance = b.freshInitializer('var', [3], Float32Array.of(0.5, 1.5, 2));
      return [b.op('BatchNormalization', ['x', 's', 'bias', mean, variance])];
    },
  },
  'Where, Sum': {
    inputs: {a: [2, 3], b: [3]},
    build: (b) => [b.op('Sum', [b.op('Where', [b.op('Greater', ['a', b.float(0)]), 'a', 'b']), 'b'])],
  },
};

describe('gradient rules agree with finite differences', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, async () => {
      const result = await checkGradients(c);
      expect(result.worstError, JSON.stringify(result.derivatives)).toBeLessThan(TOLERANCE);
    });
  }
});

describe('differentiate', () => {
  it('names the op and node it cannot differentiate', () => {
    const b = new Builder(['x']);
    const y = b.op('Hardmax', ['x'], [], 'head.hardmax');
    expect(() =>
      differentiate(b, {nodes: [...b.nodes], constants: new Map(), shapes: new Map([['x', [2]], [y, [2]]]), seeds: new Map([[y, 'x']]), wrt: ['x'], opset: 17}),
    ).toThrow(/no gradient rule for op Hardmax \(node 'head.hardmax'\)/);
  });
});
