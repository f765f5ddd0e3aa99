import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import type {Model} from '../onnx/ir.js';
import {DataType} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {inferShapes} from '../onnx/shapes.js';
import {operandTable} from './emulate/operand-table.js';
import {quantScale, quantizeTensor, maxAbs} from './quantize.js';
import {referenceConv, referenceMatMul} from './reference.js';
import {evoApproxRecords, resolveMultiplier} from './library.js';
import {approximateModel, RewriteError, type MultiplierTable} from './rewrite.js';
import type {Manifest} from './rewrite-manifest.js';
import {fixedCalibration, layerZoo, randomFloats} from '../../test/support/rewrite-test-models.js';
import {Random} from '../util/random.js';

const circuit = (name: string): MultiplierTable => resolveMultiplier(name);
const AMAX = {x_mm: 0.8, x_gemm: 0.9, x_conv: 0.7, x_group: 1, q: 0.6, k_t: 0.95};

/**
 * The integer accumulator value of each emulated layer: the input of its dequantize Mul, exposed as a
 * graph output of the Mul's own element type (fp32 on the float paths, fp64 where it holds integers past 2^24).
 */
function exposeAccumulators(model: Model, manifest: Manifest): {model: Model; accumulators: Record<string, string>} {
  const accumulators: Record<string, string> = {};
  const exposed: Model['graph']['outputs'] = [];
  for (const layer of manifest.layers) {
    const deq = model.graph.nodes.find((n) => n.name === `${layer.emulation.prefix}dequantize`)!;
    const scale = model.graph.initializers.find((t) => t.name === deq.inputs[1])!;
    accumulators[layer.node] = deq.inputs[0]!;
    exposed.push({name: deq.inputs[0]!, elemType: scale.dataType});
  }
  return {model: {...model, graph: {...model.graph, outputs: [...model.graph.outputs, ...exposed]}}, accumulators};
}

/** An exposed accumulator times the layer's power-of-two accumulator scale (shifted operands). */
const scaled = (tensor: ort.Tensor, accumulatorScale = 1): number[] => Array.from(tensor.data as ArrayLike<number>, (v) => v * accumulatorScale);

function weight(model: Model, name: string): Float32Array {
  return model.graph.initializers.find((t) => t.name === name)!.data as Float32Array;
}

const q = (data: Float32Array, amax: number): Int8Array => quantizeTensor(data, quantScale(amax).step);

function referenceAccumulators(zoo: ReturnType<typeof layerZoo>, feeds: Record<string, Float32Array>, table: Int32Array): Record<string, Int32Array> {
  const m = zoo.model;
  const w = (name: string) => q(weight(m, name), maxAbs(weight(m, name)));
  const gemmW = weight(m, 'gemm.weight');
  const gemmKN = Float32Array.from({length: 24 * 7}, (_, i) => gemmW[(i % 7) * 24 + Math.floor(i / 7)]!);
  return {
    mm: referenceMatMul(table, q(feeds.x_mm!, AMAX.x_mm), w('mm.weight'), {batch: 1, m: 10, k: 24, n: 7}),
    gemm: referenceMatMul(table, q(feeds.x_gemm!, AMAX.x_gemm), q(gemmKN, maxAbs(gemmKN)), {batch: 1, m: 6, k: 24, n: 7}),
    conv: referenceConv(table, q(feeds.x_conv!, AMAX.x_conv), w('conv.weight'), {
      input: [2, 3, 7, 7], weight: [4, 3, 3, 3], pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1], group: 1,
    }),
    group: referenceConv(table, q(feeds.x_group!, AMAX.x_group), w('group.weight'), {
      input: [1, 4, 6, 6], weight: [6, 2, 3, 3], pads: [1, 0, 1, 2], strides: [1, 1], dilations: [1, 2], group: 2,
    }),
    'attn.qk': referenceMatMul(table, q(feeds.q!, AMAX.q), q(feeds.k_t!, AMAX.k_t), {batch: 6, m: 5, k: 8, n: 5}),
  };
}

async function run(model: Model, feeds: Record<string, Float32Array>, shapes: Record<string, number[]>): Promise<Record<string, ort.Tensor>> {
  using session = await createSession(model);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([name, data]) => [name, new ort.Tensor('float32', data, shapes[name])]));
  return await session.run(tensors);
}

describe('approximateModel: integer accumulators equal the lookup reference', () => {
  const zoo = layerZoo(7);
  const rng = new Random(99);
  const feeds = Object.fromEntries(Object.entries(zoo.inputs).map(([name, shape]) => [name, randomFloats(rng, shape.reduce((a, b) => a * b, 1))]));

  it.each([...evoApproxRecords().keys()])('%s', async (name) => {
    const mult = circuit(name);
    const table = operandTable(mult.table, mult.signed);
    const calibration = fixedCalibration(AMAX);
    const opts = {calibration, resolveMultiplier: circuit, default: name, attention: true, exclude: []};
    const result = approximateModel(zoo.model, opts);
    const {model, accumulators} = exposeAccumulators(result.model, result.manifest);
    const outputs = await run(model, feeds, zoo.inputs);
    const expected = referenceAccumulators(zoo, feeds, table);
    for (const layer of result.manifest.layers) {
      const got = scaled(outputs[accumulators[layer.node]!]!, layer.accumulatorScale);
      const want = expected[layer.node]!;
      expect(got.length, layer.node).toBe(want.length);
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches, `${layer.node} (${layer.path}, rank ${layer.rank})`).toBe(0);
    }
  });
});

/** Element types of the data operands (A, B) of every MatMulInteger in the model. */
function matMulIntegerOperandTypes(model: Model): (number | undefined)[][] {
  const types = inferShapes(model);
  return model.graph.nodes.filter((n) => n.opType === 'MatMulInteger').map((n) => n.inputs.slice(0, 2).map((input) => types.get(input)?.elemType));
}

describe('approximateModel: int8 operands (onnxruntime\'s CUDA MatMulInteger) give the same accumulators', () => {
  const zoo = layerZoo(7);
  const rng = new Random(41);
  const feeds = Object.fromEntries(Object.entries(zoo.inputs).map(([name, shape]) => [name, randomFloats(rng, shape.reduce((a, b) => a * b, 1))]));
  // every integer formulation of the MatMul layers: shifted by 0 (exact product) or more, 8-bit factor tables, lookups
  const cases = [
    ['mul8s_1KV8', 'int8-exact'],
    ['mul8s_1L2H', 'int8-shift'],
    ['mul8s_1KR3', 'int8-shift'],
    ['mul8u_1446', 'lowrank-int8'],
    ['mul8u_E9R', 'lookup-int8'],
    ['mul8u_12N4', 'lookup-int8'],
  ] as const;
  it.each(cases)('%s (%s)', async (name, path) => {
    const mult = circuit(name);
    const opts = {calibration: fixedCalibration(AMAX), resolveMultiplier: circuit, default: name, attention: true, exclude: [], integerOperands: 'int8' as const};
    const result = approximateModel(zoo.model, opts);
    expect(result.manifest.integerOperands).toBe('int8');
    expect(result.manifest.layers.find((l) => l.node === 'mm')?.path).toBe(path);
    const operandTypes = matMulIntegerOperandTypes(result.model);
    expect(operandTypes.length).toBeGreaterThan(0);
    for (const types of operandTypes) expect(types).toEqual([DataType.INT8, DataType.INT8]);
    const {model, accumulators} = exposeAccumulators(result.model, result.manifest);
    const outputs = await run(model, feeds, zoo.inputs);
    const expected = referenceAccumulators(zoo, feeds, operandTable(mult.table, mult.signed));
    for (const layer of result.manifest.layers) expect(scaled(outputs[accumulators[layer.node]!]!, layer.accumulatorScale), `${layer.node} (${layer.path})`).toEqual(Array.from(expected[layer.node]!));
  });
});

describe('approximateModel: every formulation of a high-rank table equals the lookup reference', () => {
  const zoo = layerZoo(13);
  const rng = new Random(31);
  const feeds = Object.fromEntries(Object.entries(zoo.inputs).map(([name, shape]) => [name, randomFloats(rng, shape.reduce((a, b) => a * b, 1))]));
  const cases = ['mul8u_12N4', 'mul8u_2HH'].flatMap((name) => (['lowrank-fp64', 'lookup-int8', 'lookup-fp32'] as const).map((path) => [name, path] as const));
  it.each(cases)('%s on %s', async (name, path) => {
    const mult = circuit(name);
    const opts = {calibration: fixedCalibration(AMAX), resolveMultiplier: circuit, default: name, layers: ['mm', 'gemm'], emulationPaths: [path]};
    const result = approximateModel(zoo.model, opts);
    expect(result.manifest.layers.map((l) => l.path)).toEqual([path, path]);
    const {model, accumulators} = exposeAccumulators(result.model, result.manifest);
    const outputs = await run(model, feeds, zoo.inputs);
    const expected = referenceAccumulators(zoo, feeds, operandTable(mult.table, mult.signed));
    for (const layer of result.manifest.layers) expect(scaled(outputs[accumulators[layer.node]!]!, layer.accumulatorScale), layer.node).toEqual(Array.from(expected[layer.node]!));
  });
});

describe('approximateModel: the comparison discriminates and options are checked', () => {
  const zoo = layerZoo(3);
  const base = {calibration: fixedCalibration(AMAX), resolveMultiplier: circuit};

  it('an approximate circuit differs from the exact reference (the check above can fail)', async () => {
    const rng = new Random(5);
    const feeds = Object.fromEntries(Object.entries(zoo.inputs).map(([name, shape]) => [name, randomFloats(rng, shape.reduce((a, b) => a * b, 1))]));
    const result = approximateModel(zoo.model, {...base, default: 'mul8s_1L2H', layers: ['mm']});
    const {model, accumulators} = exposeAccumulators(result.model, result.manifest);
    const got = scaled((await run(model, feeds, zoo.inputs))[accumulators.mm!]!, result.manifest.layers[0]!.accumulatorScale);
    const exact = circuit('mul8s_1KV8');
    const want = referenceAccumulators(zoo, feeds, operandTable(exact.table, true)).mm!;
    expect(Array.from(got).some((v, i) => v !== want[i])).toBe(true);
  });

  it('selects by globs, excludes the head by default, assigns per pattern, keeps float weights and names', () => {
    const result = approximateModel(zoo.model, {...base, layers: ['*'], assign: {'conv*': 'mul8s_1KX2', '**.weight': 'mul8s_1L2H'}, default: 'mul8s_1KV8'});
    const byNode = Object.fromEntries(result.manifest.layers.map((l) => [l.node, l]));
    expect(Object.keys(byNode)).toEqual(['mm', 'gemm', 'conv', 'group']);
    expect(byNode.conv!.multiplier.name).toBe('mul8s_1KX2');
    expect(byNode.mm!.multiplier.name).toBe('mul8s_1L2H');
    expect(byNode.conv!.tableRow).toBe('second');
    expect(byNode.gemm!.exact).toMatchObject({opType: 'Gemm', inputs: ['x_gemm', 'gemm.weight', 'gemm.bias']});
    for (const layer of result.manifest.layers) {
      expect(layer.emulation.nodes.every((n) => n.startsWith(`${layer.node}.axx.`))).toBe(true);
      expect(result.model.graph.initializers.some((t) => t.name === layer.weight)).toBe(true);
    }
    expect(zoo.model.graph.nodes.map((n) => n.name)).toEqual(['mm', 'gemm', 'conv', 'group', 'attn.qk']);
  });

  it('rejects patterns that match nothing, missing multipliers and missing calibration', () => {
    expect(() => approximateModel(zoo.model, {...base, layers: ['blocks.*.fc1'], default: 'mul8s_1L2H'})).toThrow(/layers pattern "blocks\.\*\.fc1" matches no approximable layer; layers are: mm, gemm/);
    expect(() => approximateModel(zoo.model, {...base, assign: {mm: 'mul8s_1L2H'}})).toThrow(/layer "gemm" matches no assign pattern and no default/);
    expect(() => approximateModel(zoo.model, {...base, default: 'mul8s_1L2H', calibration: fixedCalibration({x_mm: 1})})).toThrow(
      /layer "gemm" \(Gemm\): the calibration has no statistics for "x_gemm"/,
    );
    const err = (() => {
      try {
        approximateModel(zoo.model, {...base, exclude: ['nope'], default: 'x'});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RewriteError);
    expect((err as RewriteError).field).toBe('exclude');
  });
});

describe('approximateModel: long reductions (accumulators beyond 2^24) stay exact', () => {
  const k = 8192;
  const weightData = randomFloats(new Random(17), k * 8);
  const model: Model = {
    ...layerZoo().model,
    graph: {
      name: 'long',
      nodes: [{name: 'fc', opType: 'MatMul', domain: '', inputs: ['x', 'fc.weight'], outputs: ['y'], attributes: []}],
      initializers: [{name: 'fc.weight', dataType: DataType.FLOAT, dims: [k, 8], data: weightData.map((v) => (v > 0 ? 1 : -1))}],
      inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [4, k]}],
      outputs: [{name: 'y', elemType: DataType.FLOAT}],
      valueInfo: [],
    },
  };
  // Every row saturates with signs following (rows 0, 2) or against (rows 1, 3) the weights, |accumulator| ≈
  // 8192·127² > 2^26; a few elements of other values make the sums odd (rows 0, 1: the first element, q = 2, 3;
  // rows 2, 3: every 97th, random), so that many are not fp32 values.
  const rng = new Random(29);
  const x = Float32Array.from({length: 4 * k}, (_, i) => {
    const row = Math.floor(i / k);
    const sign = (weightData[(i % k) * 8]! > 0 ? 1 : -1) * (row % 2 === 0 ? 1 : -1);
    if (row < 2 && i % k === 0) return ((2 + row) / 127) * sign;
    if (row >= 2 && i % 97 === 0) return rng.next();
    return 5 * sign;
  });
  // one circuit per path at this K: int8-exact, int8-shift, lowrank-int8, lowrank-fp64, lookup-int8
  const cases = ['mul8s_1KV8', 'mul8s_1L2H', 'mul8u_1446', 'mul8u_125K', 'mul8u_12N4'].flatMap((name) => (['uint8', 'int8'] as const).map((operands) => [name, operands] as const));
  it.each(cases)('%s (%s operands): accumulators and outputs equal the integer reference', async (name, integerOperands) => {
    const result = approximateModel(model, {calibration: fixedCalibration({x: 1}), resolveMultiplier, default: name, integerOperands});
    const layer = result.manifest.layers[0]!;
    expect(layer.path).toBe({mul8s_1KV8: 'int8-exact', mul8s_1L2H: 'int8-shift', mul8u_1446: 'lowrank-int8', mul8u_125K: 'lowrank-fp64', mul8u_12N4: 'lookup-int8'}[name]);
    const {model: exposed, accumulators} = exposeAccumulators(result.model, result.manifest);
    const outputs = await run(exposed, {x}, {x: [4, k]});
    const w = weight(model, 'fc.weight');
    const mult = resolveMultiplier(name);
    const want = referenceMatMul(operandTable(mult.table, mult.signed), q(x, 1), q(w, maxAbs(w)), {batch: 1, m: 4, k, n: 8});
    expect(Array.from(want).some((v) => Math.abs(v) > 2 ** 24 && Math.fround(v) !== v), 'some accumulator is not an fp32 value').toBe(true);
    expect(scaled(outputs[accumulators.fc!]!, layer.accumulatorScale)).toEqual(Array.from(want));
    // Dequantised as the exact integer times the fp32 factor, rounded once to fp32.
    const factor = Math.fround(layer.scales.first.step[0]! * layer.scales.second.step[0]!);
    expect(Array.from(outputs.y!.data as Float32Array)).toEqual(Array.from(want, (v) => Math.fround(v * factor)));
  });
});

describe('approximateModel: weights quantised and gathered inside the graph (for finetuning)', () => {
  const zoo = layerZoo(11);
  const rng = new Random(23);
  const feeds = Object.fromEntries(Object.entries(zoo.inputs).map(([name, shape]) => [name, randomFloats(rng, shape.reduce((a, b) => a * b, 1))]));
  const cases = [
    ['mul8s_1KV8', 'tensor', 'uint8'],
    ['mul8s_1L2H', 'channel', 'uint8'],
    ['mul8s_1L2H', 'tensor', 'int8'],
    ['mul8s_1KX2', 'tensor', 'uint8'],
    ['mul8u_2AC', 'channel', 'uint8'],
    ['mul8u_1446', 'channel', 'int8'],
    ['mul8u_12N4', 'tensor', 'uint8'],
    ['mul8u_12N4', 'tensor', 'int8'],
  ] as const;
  it.each(cases)('%s (%s scales, %s operands): same outputs as stored weights, and the emulation reads the float weights', async (name, granularity, integerOperands) => {
    const opts = {calibration: fixedCalibration(AMAX), resolveMultiplier, default: name, attention: true, exclude: [], weightGranularity: granularity, integerOperands};
    const stored = approximateModel(zoo.model, opts);
    const inGraph = approximateModel(zoo.model, {...opts, weightsInGraph: true});
    expect(inGraph.manifest.layers.map((l) => l.path)).toEqual(stored.manifest.layers.map((l) => l.path));
    for (const layer of inGraph.manifest.layers.filter((l) => l.weight)) {
      const readers = inGraph.model.graph.nodes.filter((n) => n.inputs.includes(layer.weight!));
      expect(readers.length).toBeGreaterThan(0);
      expect(readers.every((n) => n.name.startsWith(layer.emulation.prefix))).toBe(true);
    }
    for (const level of ['disabled', 'all'] as const) {
      const outputs = async (model: Model) => {
        using session = await createSession(model, {graphOptimizationLevel: level});
        return await session.run(Object.fromEntries(Object.entries(feeds).map(([n, data]) => [n, new ort.Tensor('float32', data, zoo.inputs[n])])));
      };
      const a = await outputs(stored.model);
      const b = await outputs(inGraph.model);
      for (const output of zoo.model.graph.outputs) expect(Array.from(b[output.name]!.data as Float32Array), `${output.name} at ${level}`).toEqual(Array.from(a[output.name]!.data as Float32Array));
    }
  });
});
