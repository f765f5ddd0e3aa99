import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {DataType, type Model} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {GraphBuilder} from '../models/graph-builder.js';
import {buildVit, VIT_DEFAULTS} from '../models/vit.js';
import {differentiate} from './autodiff.js';
import {TrainingSession} from './training-session.js';
import {readStraightThrough, withStraightThrough, type StraightThroughRegion} from './straight-through.js';
import {modelOf} from '../../test/support/onnx-model.js';

// Forward: y = MatMul(round(4x)/4, W), an "emulated" MatMul whose quantiser has no gradient.
const x = Float32Array.of(0.3, -1.2, 0.8, 2.1, -0.4, 0.05);
const w = Float32Array.of(0.5, -1, 2, 0.25, -0.75, 1.5);
const dy = Float32Array.of(1, -2, 0.5, 3);
const region: StraightThroughRegion = {output: 'y', exact: {opType: 'MatMul', inputs: ['x', 'w']}};

async function gradients(regions: StraightThroughRegion[]): Promise<{dx?: Float32Array; dw?: Float32Array}> {
  const b = new GraphBuilder(['x', 'w', 'y', 'dy']);
  const quantised = b.op('Div', [b.op('Round', [b.op('Mul', ['x', b.float(4)])]), b.float(4)]);
  b.node('MatMul', [quantised, 'w'], {name: 'emulated', outputs: ['y']});
  const forward = [...b.nodes];
  const shapes = new Map<string, number[]>([['x', [2, 3]], ['w', [3, 2]], ['y', [2, 2]]]);
  for (const node of forward) for (const o of node.outputs) if (!shapes.has(o)) shapes.set(o, [2, 3]);
  const grads = differentiate(b, {nodes: forward, constants: new Map(), shapes, seeds: new Map([['y', 'dy']]), wrt: ['x', 'w'], straightThrough: regions, opset: 17});
  const outputs = [...grads.values()];
  const model: Model = modelOf({
    name: 'st', nodes: b.nodes, initializers: b.initializers, valueInfo: [],
    inputs: [['x', [2, 3]], ['w', [3, 2]], ['dy', [2, 2]]].map(([name, shape]) => ({name: name as string, elemType: DataType.FLOAT, shape: shape as number[]})),
    outputs: outputs.map((name) => ({name, elemType: DataType.FLOAT})),
  });
  using session = await createSession(model);
  const out = await session.run({x: new ort.Tensor('float32', x, [2, 3]), w: new ort.Tensor('float32', w, [3, 2]), dy: new ort.Tensor('float32', dy, [2, 2])});
  const read = (v: string) => (grads.has(v) ? (out[grads.get(v)!]!.data as Float32Array) : undefined);
  return {dx: read('x'), dw: read('w')};
}

/** Row-major [m, k]·[k, n] (with optional transposes expressed by index functions). */
function product(m: number, n: number, k: number, a: (i: number, l: number) => number, b: (l: number, j: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let l = 0; l < k; l++) s += a(i, l) * b(l, j);
    out.push(s);
  }
  return out;
}

describe('straight-through regions', () => {
  it('differentiate the emulation as the exact MatMul(x, W)', async () => {
    const {dx, dw} = await gradients([region]);
    const expectedDx = product(2, 3, 2, (i, l) => dy[i * 2 + l]!, (l, j) => w[j * 2 + l]!); // dy·Wᵀ
    const expectedDw = product(3, 2, 2, (i, l) => x[l * 3 + i]!, (l, j) => dy[l * 2 + j]!); // xᵀ·dy
    expectedDx.forEach((v, i) => expect(dx![i]).toBeCloseTo(v, 5));
    expectedDw.forEach((v, i) => expect(dw![i]).toBeCloseTo(v, 5));
  });

  it('without a region, the quantiser blocks the input gradient', async () => {
    const {dx, dw} = await gradients([]);
    expect(dx).toBeUndefined();
    const rounded = Array.from(x, (v) => Math.round(4 * v) / 4);
    product(3, 2, 2, (i, l) => rounded[l * 3 + i]!, (l, j) => dy[l * 2 + j]!).forEach((v, i) => expect(dw![i]).toBeCloseTo(v, 5));
  });

  it('travel in model metadata and reject malformed declarations', () => {
    const model = {metadataProps: [{key: 'other', value: '1'}]} as Model;
    const tagged = withStraightThrough(model, [region]);
    expect(readStraightThrough(tagged)).toEqual([region]);
    expect(tagged.metadataProps).toHaveLength(2);
    const bad = withStraightThrough(model, [{output: 'y', exact: {opType: 'Softmax', inputs: []}} as unknown as StraightThroughRegion]);
    expect(() => readStraightThrough(bad)).toThrow(/bad region/);
  });

  it('name outputs that no node produces', async () => {
    await expect(gradients([{...region, output: 'nowhere'}])).rejects.toThrow(/not produced by any node: nowhere/);
  });
});

describe('a ViT with an emulated layer', () => {
  /** blocks.0.mlp.fc1 as MatMul(round(16·h)/16, W): the kind of subgraph the approximation rewrite emits. */
  function emulatedVit(): {model: Model; region: StraightThroughRegion} {
    const model = buildVit({...VIT_DEFAULTS, imageSize: 8, patchSize: 4, dim: 16, depth: 1, heads: 2});
    const index = model.graph.nodes.findIndex((n) => n.name === 'blocks.0.mlp.fc1');
    const exact = model.graph.nodes[index]!;
    const [h, w] = exact.inputs as [string, string];
    const b = new GraphBuilder([...model.graph.nodes.flatMap((n) => [n.name, ...n.outputs]), ...model.graph.initializers.map((t) => t.name)]);
    const quantised = b.op('Div', [b.op('Round', [b.op('Mul', [h, b.float(16)])]), b.float(16)]);
    b.node('MatMul', [quantised, w], {name: 'blocks.0.mlp.fc1', outputs: exact.outputs});
    model.graph.nodes.splice(index, 1, ...b.nodes);
    model.graph.initializers.push(...b.initializers);
    return {model, region: {output: exact.outputs[0]!, exact: {opType: 'MatMul', inputs: [h, w]}}};
  }

  it('trains the weights upstream of the emulation only through a straight-through region', async () => {
    const {model, region} = emulatedVit();
    const images = Float32Array.from({length: 2 * 64}, (_, i) => (i % 7) / 7);
    const labels = BigInt64Array.of(1n, 3n);
    using blocked = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    expect(blocked.paramNames).not.toContain('blocks.0.norm2.weight');
    using tagged = await TrainingSession.create(withStraightThrough(model, [region]), {imageShape: [1, 8, 8]});
    expect(tagged.paramNames).toContain('blocks.0.norm2.weight');
    const result = await tagged.run(images, labels, 2, [1, 8, 8]);
    const norm2 = result.grads[tagged.paramNames.indexOf('blocks.0.norm2.weight')]!;
    expect(norm2.some((g) => g !== 0)).toBe(true);
    expect(result.grads.every((g) => g.every(Number.isFinite))).toBe(true);
  });
});
