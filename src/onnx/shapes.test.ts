import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {DataType, type Attribute, type Model, type Node} from './ir.js';
import {createSession} from './session.js';
import {inferShapes} from './shapes.js';
import {layerMacs, parameterCount} from './stats.js';
import {floatTensor, int64Tensor} from './tensor.js';
import {modelOf} from '../../test/support/onnx-model.js';

let counter = 0;
function n(opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = []): Node {
  return {name: `${opType.toLowerCase()}${counter++}`, opType, domain: '', inputs, outputs, attributes};
}
const ints = (name: string, value: number[]): Attribute => ({name, type: 'ints', value});
const int = (name: string, value: number): Attribute => ({name, type: 'int', value});
const zeros = (name: string, dims: number[]) => floatTensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));

/** A model touching every op shape inference claims, with a symbolic batch; Reshape targets come from Shape chains. */
function coverageModel(): Model {
  const nodes: Node[] = [
    n('Conv', ['x', 'w1'], ['c1'], [ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])]), // [B,4,4,4]
    n('Conv', ['c1', 'w2', 'b2'], ['c2'], [int('group', 2), ints('kernel_shape', [3, 3])]), // [B,4,2,2]
    n('MaxPool', ['c1'], ['p1'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]), // [B,4,2,2]
    n('Add', ['c2', 'p1'], ['s1']),
    n('Flatten', ['s1'], ['f1']), // [B,16]
    n('Gemm', ['f1', 'wg', 'bg'], ['g1'], [int('transB', 1)]), // [B,6]
    n('Shape', ['f1'], ['shape_f1']),
    n('Gather', ['shape_f1', 'zero'], ['batch_dim'], [int('axis', 0)]), // scalar B
    n('Unsqueeze', ['batch_dim', 'axes0'], ['batch_1d']),
    n('Concat', ['batch_1d', 'two_three'], ['target'], [int('axis', 0)]), // [B,2,3]
    n('Reshape', ['g1', 'target'], ['r1']), // [B,2,3]
    n('Transpose', ['r1'], ['t1'], [ints('perm', [0, 2, 1])]), // [B,3,2]
    n('MatMul', ['r1', 't1'], ['m1']), // [B,2,2]
    n('Mul', ['m1', 'scale'], ['m2']), // broadcast with [2]
    n('Softmax', ['m2'], ['sm'], [int('axis', -1)]),
    n('LayerNormalization', ['r1', 'ln_scale', 'ln_bias'], ['ln'], [int('axis', -1)]),
    n('ReduceMean', ['ln'], ['rm'], [ints('axes', [1]), int('keepdims', 0)]), // [B,3]
    n('Cast', ['rm'], ['rm64'], [int('to', DataType.DOUBLE)]),
    n('Slice', ['r1', 'starts', 'ends', 'axes_s'], ['sl']), // [B,2,2]
    n('Unsqueeze', ['sl', 'axes0'], ['us']), // [1,B,2,2]
    n('Squeeze', ['us', 'axes0'], ['sq']), // [B,2,2]
    n('Concat', ['sq', 'sm'], ['cat'], [int('axis', 1)]), // [B,4,2]
    n('Gather', ['cat', 'idx2'], ['ga'], [int('axis', 2)]), // [B,4,3]
    n('Reshape', ['ga', 'flat_shape'], ['flat']), // [-1] -> [B*12]
    n('GlobalAveragePool', ['c1'], ['gap']),
  ];
  return modelOf({
    name: 'coverage',
    nodes,
    initializers: [
      zeros('w1', [4, 3, 3, 3]),
      zeros('w2', [4, 2, 3, 3]),
      zeros('b2', [4]),
      zeros('wg', [6, 16]),
      zeros('bg', [6]),
      int64Tensor('zero', [], [0]),
      int64Tensor('axes0', [1], [0]),
      int64Tensor('two_three', [2], [2, 3]),
      zeros('scale', [2]),
      zeros('ln_scale', [3]),
      zeros('ln_bias', [3]),
      int64Tensor('starts', [1], [1]),
      int64Tensor('ends', [1], [100]),
      int64Tensor('axes_s', [1], [2]),
      int64Tensor('idx2', [3], [0, 1, 1]),
      int64Tensor('flat_shape', [1], [-1]),
    ],
    inputs: [{name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3, 8, 8]}],
    outputs: nodes.flatMap((node) => node.outputs).map((name) => ({name, elemType: 0})),
    valueInfo: [],
  });
}

describe('inferShapes', () => {
  it('matches the shapes onnxruntime produces for every value', async () => {
    const model = coverageModel();
    const inferred = inferShapes(model, {dims: {batch: 2}});
    using session = await createSession(model, {graphOptimizationLevel: 'disabled'});
    const outputs = await session.run({x: new ort.Tensor('float32', new Float32Array(2 * 3 * 64), [2, 3, 8, 8])});
    for (const [name, tensor] of Object.entries(outputs)) {
      expect({name, shape: inferred.get(name)?.shape}).toEqual({name, shape: tensor.dims});
    }
    expect(inferred.get('rm64')?.elemType).toBe(DataType.DOUBLE);
    expect(inferred.get('shape_f1')?.elemType).toBe(DataType.INT64);
  });

  it('carries a symbolic batch through Shape -> Gather -> Concat -> Reshape', () => {
    const inferred = inferShapes(coverageModel());
    expect(inferred.get('r1')?.shape).toEqual(['batch', 2, 3]);
    expect(inferred.get('m1')?.shape).toEqual(['batch', 2, 2]);
    expect(inferred.get('us')?.shape).toEqual([1, 'batch', 2, 2]);
    // -1 against a symbolic total cannot be resolved.
    expect(inferred.get('flat')?.shape).toEqual([null]);
  });

  it('names the node when shapes contradict', () => {
    const model = coverageModel();
    model.graph.initializers.find((t) => t.name === 'scale')!.dims = [5];
    expect(() => inferShapes(model)).toThrow(/node "mul\d+" \(Mul\): cannot broadcast shapes \[batch, 2, 2\] and \[5\]/);
  });
});

describe('layerMacs / parameterCount', () => {
  it('counts MACs per Conv/Gemm/MatMul, per sample for a symbolic batch', () => {
    const macs = layerMacs(coverageModel());
    expect(macs.map((m) => [m.opType, m.macs])).toEqual([
      ['Conv', 4 * 4 * 4 * 3 * 3 * 3],
      ['Conv', 4 * 2 * 2 * 2 * 3 * 3],
      ['Gemm', 6 * 16],
      ['MatMul', 2 * 2 * 3],
    ]);
    expect(layerMacs(coverageModel(), {dims: {batch: 5}})[2]!.macs).toBe(5 * 6 * 16);
  });

  it('counts weights but not shape constants', () => {
    expect(parameterCount(coverageModel().graph)).toBe(108 + 72 + 4 + 96 + 6 + 2 + 3 + 3);
  });
});
