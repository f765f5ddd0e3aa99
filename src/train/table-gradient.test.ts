import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {operandTable} from '../approx/emulate/operand-table.js';
import {resolveMultiplier} from '../approx/library.js';
import {fixedCalibration, layerZoo} from '../../test/support/rewrite-test-models.js';
import {DataType, type Model} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {attr, GraphBuilder} from '../models/graph-builder.js';
import {Random} from '../util/random.js';
import {differentiate} from './autodiff.js';
import {trainableApproximate, type GradientChoice} from './finetune.js';
import {probeShapes} from './shape-probe.js';
import {readStraightThrough, withStraightThrough} from './straight-through.js';
import {tableSlopes, TableGradientError, type OperandSlope} from './table-gradient.js';
import {constantTensors} from './training-graph.js';

const tableOf = (name: string) => {
  const m = resolveMultiplier(name);
  return operandTable(m.table, m.signed);
};
const at = (slope: OperandSlope, own: number, other: number) => slope.own.reduce((s, f, j) => s + f[own + 127]! * slope.other[j]![other + 127]!, 0);
const f = (table: Int32Array, a: number, b: number) => table[(a & 0xff) * 256 + (b & 0xff)]!;

describe('table slopes', () => {
  it('of the exact product are the other operand (lut-2d) and a factor of one (lut-1d)', () => {
    const table = tableOf('mul8s_1KV8');
    const two = tableSlopes(table, {estimator: 'lut-2d', window: 3, maxRank: 8});
    const one = tableSlopes(table, {estimator: 'lut-1d', window: 3, maxRank: 8});
    for (const [a, b] of [[0, 0], [5, -7], [-127, 127], [126, -3], [-100, 64]] as const) {
      expect(at(two.row, a, b)).toBeCloseTo(b, 9);
      expect(at(two.column, b, a)).toBeCloseTo(a, 9);
    }
    expect(two.row.rank).toBe(1);
    expect(one.row.own[0]!.every((g) => Math.abs(g - 1) < 1e-12)).toBe(true);
    expect(one.column.own[0]!.every((g) => Math.abs(g - 1) < 1e-12)).toBe(true);
  });

  it('of an approximate circuit equal its table\'s central differences, one-sided at the ends', () => {
    const table = tableOf('mul8s_1KX2');
    const h = 2;
    const {row, column} = tableSlopes(table, {estimator: 'lut-2d', window: h, maxRank: 8});
    expect(row.maxAbsError).toBeLessThan(1e-6);
    const rng = new Random(3);
    for (let i = 0; i < 200; i++) {
      const a = rng.int(255) - 127;
      const b = rng.int(255) - 127;
      const hi = Math.min(a + h, 127);
      const lo = Math.max(a - h, -127);
      expect(at(row, a, b)).toBeCloseTo((f(table, hi, b) - f(table, lo, b)) / (hi - lo), 6);
      const bHi = Math.min(b + h, 127);
      const bLo = Math.max(b - h, -127);
      expect(at(column, b, a)).toBeCloseTo((f(table, a, bHi) - f(table, a, bLo)) / (bHi - bLo), 6);
    }
  });

  it('truncate high-rank tables at maxRank and say how far off they are', () => {
    const table = tableOf('sm8s_mul8u_12N4');
    const {row} = tableSlopes(table, {estimator: 'lut-2d', window: 2, maxRank: 4});
    expect(row.rank).toBe(4);
    expect(row.maxAbsError).toBeGreaterThan(0);
  });

  it('refuse a window or rank out of range', () => {
    const table = tableOf('mul8s_1KV8');
    expect(() => tableSlopes(table, {estimator: 'lut-2d', window: 0, maxRank: 8})).toThrow(TableGradientError);
    expect(() => tableSlopes(table, {estimator: 'lut-2d', window: 2, maxRank: 0})).toThrow(TableGradientError);
  });
});

// Inputs and weights sit on their quantisation grids (steps 1/32 and 1/64), so moving one element by
// ±h steps moves its int8 operand by exactly ±h: the finite difference of the emulated forward pass
// along the grid is then exactly what lut-2d defines.
const ACTIVATION_STEP = 1 / 32;
const WEIGHT_STEP = 1 / 64;
const WINDOW = 2;

interface LayerCase {
  layer: string;
  input: string;
  weight?: string;
}

const CASES: LayerCase[] = [
  {layer: 'mm', input: 'x_mm', weight: 'mm.weight'},
  {layer: 'gemm', input: 'x_gemm', weight: 'gemm.weight'},
  {layer: 'conv', input: 'x_conv', weight: 'conv.weight'},
  {layer: 'group', input: 'x_group', weight: 'group.weight'},
  {layer: 'attn.qk', input: 'q', weight: 'k_t'},
];

async function gradientCheck(c: LayerCase, multiplier: string, choice: GradientChoice) {
  const rng = new Random(7);
  const onGrid = (n: number, step: number) => Float32Array.from({length: n}, () => (rng.int(201) - 100) * step);
  const zoo = layerZoo(5);
  const weights = new Set(zoo.model.graph.initializers.filter((t) => t.name.endsWith('.weight')).map((t) => t.name));
  for (const t of zoo.model.graph.initializers) if (weights.has(t.name)) t.data = onGrid(t.data.length, WEIGHT_STEP);
  const amax = Object.fromEntries([...Object.keys(zoo.inputs).map((n) => [n, 127 * ACTIVATION_STEP] as const), ...[...weights].map((n) => [n, 127 * WEIGHT_STEP] as const)]);
  const trainable = trainableApproximate({
    float: zoo.model,
    calibration: fixedCalibration(amax),
    selection: {layers: [c.layer], default: multiplier, attention: true},
    resolveMultiplier,
    gradient: choice,
  });
  // The layer's weight becomes an input, so that it can be differentiated and moved.
  const wrt = [c.input, ...(c.weight ? [c.weight] : [])];
  const model = trainable.model;
  const weightTensor = model.graph.initializers.find((t) => t.name === c.weight);
  const inputs = {...Object.fromEntries(Object.entries(zoo.inputs)), ...(weightTensor ? {[weightTensor.name]: weightTensor.dims} : {})};
  const values: Record<string, Float32Array> = Object.fromEntries(Object.entries(inputs).map(([n, dims]) => [n, weightTensor?.name === n ? (weightTensor.data as Float32Array) : onGrid(size(dims), ACTIVATION_STEP)]));
  const output = model.graph.outputs.find((o) => o.name === `${c.layer}.out`)!.name;
  const forward: Model = {
    ...model,
    graph: {
      ...model.graph,
      initializers: model.graph.initializers.filter((t) => t !== weightTensor),
      inputs: Object.entries(inputs).map(([name, shape]) => ({name, elemType: DataType.FLOAT, shape})),
      outputs: [{name: output, elemType: DataType.FLOAT}],
    },
  };
  const feeds = (values: Record<string, Float32Array>) => Object.fromEntries(Object.entries(inputs).map(([n, dims]) => [n, new ort.Tensor('float32', values[n]!, dims)]));
  const shapes = await probeShapes(forward, feeds(values));
  const b = new GraphBuilder([...forward.graph.nodes.flatMap((n) => [n.name, ...n.outputs]), ...forward.graph.initializers.map((t) => t.name), ...Object.keys(inputs), 'loss']);
  const r = b.freshInitializer('r', [...shapes.get(output)!], Float32Array.from({length: size(shapes.get(output)!)}, () => rng.normal()));
  b.node('ReduceSum', [b.op('Mul', [output, r])], {attributes: [attr.int('keepdims', 0)], outputs: ['loss']});
  const grads = differentiate(b, {nodes: forward.graph.nodes, constants: constantTensors(forward), shapes, seeds: new Map([[output, r]]), wrt, straightThrough: trainable.regions, opset: 17});
  const training: Model = {
    ...forward,
    graph: {
      ...forward.graph,
      nodes: [...forward.graph.nodes, ...b.nodes],
      initializers: [...forward.graph.initializers, ...b.initializers],
      outputs: [{name: 'loss', elemType: DataType.FLOAT, shape: []}, ...wrt.map((n) => ({name: grads.get(n)!, elemType: DataType.FLOAT}))],
    },
  };
  using session = await createSession(training);
  const base = await session.run(feeds(values));
  const loss = async (name: string, index: number, shift: number) => {
    const moved = {...values, [name]: Float32Array.from(values[name]!, (v, i) => (i === index ? v + shift : v))};
    return (await session.run(feeds(moved)))['loss']!.data[0] as number;
  };
  const pairs: {analytic: number; numeric: number}[] = [];
  for (const name of wrt) {
    const step = weights.has(name) ? WEIGHT_STEP : ACTIVATION_STEP;
    const grad = base[grads.get(name)!]!.data as Float32Array;
    for (let n = 0; n < 6; n++) {
      const index = rng.int(values[name]!.length);
      const numeric = ((await loss(name, index, WINDOW * step)) - (await loss(name, index, -WINDOW * step))) / (2 * WINDOW * step);
      pairs.push({analytic: grad[index]!, numeric});
    }
  }
  return {pairs, regions: trainable.regions};
}

function size(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

const worst = (pairs: {analytic: number; numeric: number}[]) => Math.max(...pairs.map((p) => Math.abs(p.analytic - p.numeric) / Math.max(1, Math.abs(p.numeric))));

describe('lut-2d gradients in the backward graph', () => {
  for (const c of CASES) {
    it(`equal the finite differences of the emulated ${c.layer} along the quantisation grid`, async () => {
      const {pairs} = await gradientCheck(c, 'mul8s_1KX2', {estimator: 'lut-2d', window: WINDOW, maxRank: 8});
      expect(worst(pairs)).toBeLessThan(2e-3);
      // Straight-through disagrees with the circuit's own slope: the check can tell the two apart.
      const ste = await gradientCheck(c, 'mul8s_1KX2', {estimator: 'ste', window: WINDOW, maxRank: 8});
      expect(worst(ste.pairs)).toBeGreaterThan(1e-2);
    });
  }

  it('choose per layer, and travel in model metadata', async () => {
    const {regions} = await gradientCheck(CASES[0]!, 'mul8s_1KX2', {estimator: 'lut-2d', window: WINDOW, maxRank: 8, layers: [{pattern: 'm?', estimator: 'ste'}]});
    expect(regions[0]!.gradient).toBeUndefined();
    await expect(gradientCheck(CASES[0]!, 'mul8s_1KX2', {estimator: 'lut-2d', window: WINDOW, maxRank: 8, layers: [{pattern: 'nowhere', estimator: 'ste'}]})).rejects.toThrow(/"nowhere" matches no approximated layer; the layers are: mm/);
    const {regions: tabled} = await gradientCheck(CASES[0]!, 'mul8s_1KX2', {estimator: 'lut-1d', window: WINDOW, maxRank: 8});
    const tagged = withStraightThrough({metadataProps: []} as unknown as Model, tabled);
    expect(readStraightThrough(tagged)).toEqual(JSON.parse(JSON.stringify(tabled)));
    const broken = withStraightThrough({metadataProps: []} as unknown as Model, [{...tabled[0]!, gradient: {estimator: 'lut-2d', steps: [1, 1], slopes: []}} as never]);
    expect(() => readStraightThrough(broken)).toThrow(/malformed gradient/);
  });

  it('lut-1d of the exact multiplier is straight-through on the quantised operands', async () => {
    const {pairs} = await gradientCheck(CASES[0]!, 'mul8s_1KV8', {estimator: 'lut-1d', window: WINDOW, maxRank: 8});
    expect(worst(pairs)).toBeLessThan(2e-3);
  });
});
