// approximateModel: the ONNX-to-ONNX rewrite replacing selected MatMul/Gemm/Conv layers (and,
// opt-in, the attention products) by exact emulations of approximate multipliers. Library code:
// no pipeline knowledge; errors are RewriteError with the offending option or layer named.
import {attribute} from '../onnx/attributes.js';
import {NameGenerator, replaceNode} from '../onnx/graph.js';
import type {Dim, Graph, Model, Tensor} from '../onnx/ir.js';
import {inferShapes, type ValueType} from '../onnx/shapes.js';
import {layerMacs} from '../onnx/stats.js';
import type {CalibrationFile} from './calibration-format.js';
import {findApproximableLayers, type ApproximableLayer} from './emulate/approximable.js';
import {activationContraction, convContraction, emitEmulation, matrixContraction, type IntegerOperands, type QuantizedWeight} from './emulate/emit-layer.js';
import {LayerEmitter} from './emulate/emitter.js';
import {operandTable} from './emulate/operand-table.js';
import {accumulatorScale, planEmulation, type EmulationPath, type EmulationPlan} from './emulate/plan.js';
import {maxAbs, quantizePerChannel, quantizeTensor, quantScale, type QuantScale} from './quantize.js';
import {INTEGER_OPERANDS_METADATA_KEY, MANIFEST_FORMAT, type Manifest, type ManifestLayer, type ScaleRecord} from './rewrite-manifest.js';
import {selectLayers, SelectionError, type SelectionOptions} from './rewrite-select.js';

/** The part of a multiplier the rewrite needs (src/approx/multiplier.ts's Multiplier satisfies it). */
export interface MultiplierTable {
  name: string;
  id: string;
  signed: boolean;
  table: Int32Array;
}

export interface ApproximateOptions extends SelectionOptions {
  calibration: CalibrationFile;
  resolveMultiplier: (name: string) => MultiplierTable;
  /** Also approximate MatMuls of two activations (attention q·kᵀ and attn·v); default false, as TransAxx. */
  attention?: boolean;
  /** Weight scales per tensor (default, TransAxx) or per output channel. */
  weightGranularity?: 'tensor' | 'channel';
  /**
   * Quantise and gather weights inside the graph from the float weight initializers (with the scales
   * fixed now) instead of storing gathered copies: the model for approximate-aware finetuning, whose
   * forward pass must follow the trained float weights. Default false (smaller, load-time-folded model).
   */
  weightsInGraph?: boolean;
  /** The emulation formulations the planner may choose from (default: all, the cheapest exact one per layer). */
  emulationPaths?: readonly EmulationPath[];
  /** How MatMulInteger stores its operands: uint8 (default, onnxruntime's CPU kernels) or int8 (its CUDA provider's). */
  integerOperands?: IntegerOperands;
}

export class RewriteError extends Error {
  constructor(
    message: string,
    /** The option at fault ("layers", "assign", "calibration" …), when one is. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RewriteError';
  }
}

const MIN_OPSET = 13;

/**
 * Operand tables by multiplier identity: the same array across rewrites, so the factorisations
 * cached per table (emulate/plan.ts) are computed once per multiplier, not once per rewrite (the
 * search evaluates hundreds of rewrites). Bounded by the number of distinct multipliers used.
 */
const operandTables = new Map<string, Int32Array>();

function cachedOperandTable(multiplier: MultiplierTable): Int32Array {
  const key = `${multiplier.signed ? 's' : 'u'}:${multiplier.id}`;
  let table = operandTables.get(key);
  if (!table) {
    table = operandTable(multiplier.table, multiplier.signed);
    operandTables.set(key, table);
  }
  return table;
}

/** A rewritten copy of `model` (the input is not modified) and its manifest. */
export function approximateModel(model: Model, opts: ApproximateOptions): {model: Model; manifest: Manifest} {
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < MIN_OPSET) throw new RewriteError(`the model uses ONNX opset ${opset}; approximation needs opset ≥ ${MIN_OPSET} (re-export it with a newer opset)`);
  const graph: Graph = {...model.graph, nodes: [...model.graph.nodes], initializers: [...model.graph.initializers]};
  const candidates = findApproximableLayers(graph).filter((l) => l.kind === 'weight' || opts.attention);
  let selection;
  try {
    selection = selectLayers(candidates, opts);
  } catch (error) {
    if (error instanceof SelectionError) throw new RewriteError(error.message, error.field);
    throw error;
  }
  const types = inferShapes(model);
  const macsByNode = new Map(layerMacs(model).map((m) => [m.node, m.macs]));
  const names = new NameGenerator(graph);
  const tables = new Map<string, {multiplier: MultiplierTable; operands: Int32Array}>();
  const resolve = (name: string): {multiplier: MultiplierTable; operands: Int32Array} => {
    let entry = tables.get(name);
    if (!entry) {
      let multiplier: MultiplierTable;
      try {
        multiplier = opts.resolveMultiplier(name);
      } catch (error) {
        const fromAssign = Object.values(opts.assign ?? {}).includes(name);
        throw new RewriteError(`unknown multiplier "${name}": ${(error as Error).message}`, fromAssign ? 'assign' : 'default');
      }
      entry = {multiplier, operands: cachedOperandTable(multiplier)};
      tables.set(name, entry);
    }
    return entry;
  };

  const layers: ManifestLayer[] = [];
  for (const {layer, multiplier: multiplierName} of selection) {
    const {multiplier, operands} = resolve(multiplierName);
    const context: LayerContext = {graph, types, opts, layer};
    const emitter = new LayerEmitter(`${layer.node.name}.axx.`, names);
    const described = emitLayer(context, emitter, operands);
    replaceNode(graph, layer.node, emitter.nodes);
    graph.initializers.push(...emitter.initializers);
    layers.push({
      node: layer.node.name,
      op: layer.op,
      kind: layer.kind,
      output: layer.node.outputs[0]!,
      exact: {opType: layer.op, inputs: [...layer.node.inputs], attributes: layer.node.attributes},
      ...(layer.weight ? {weight: layer.weight} : {}),
      multiplier: {name: multiplier.name, id: multiplier.id, signed: multiplier.signed, operands: multiplier.signed ? 'two-complement' : 'sign-magnitude wrapper'},
      path: described.plan.path,
      rank: described.plan.rank,
      groups: described.plan.groups.map((g) => ({rank: g.rank, divisor: g.divisor})),
      ...(accumulatorScale(described.plan) === 1 ? {} : {accumulatorScale: accumulatorScale(described.plan)}),
      k: described.k,
      macs: macsByNode.get(layer.node.name) ?? null,
      errorBound: described.plan.errorBound,
      scales: described.scales,
      tableRow: layer.op === 'Conv' ? 'second' : 'first',
      emulation: {prefix: emitter.prefix, nodes: emitter.nodes.map((n) => n.name), initializers: emitter.initializers.map((t) => t.name)},
    });
  }
  const total = [...macsByNode.values()].reduce<number>((sum, m) => sum + (m ?? 0), 0);
  const approximated = layers.reduce((sum, l) => sum + (l.macs ?? 0), 0);
  const integerOperands = opts.integerOperands ?? 'uint8';
  const metadataProps = [...model.metadataProps.filter((p) => p.key !== INTEGER_OPERANDS_METADATA_KEY), {key: INTEGER_OPERANDS_METADATA_KEY, value: integerOperands}];
  return {
    model: {...model, metadataProps, graph},
    manifest: {format: MANIFEST_FORMAT, version: 1, integerOperands, layers, macs: {total, approximated}},
  };
}

interface LayerContext {
  graph: Graph;
  types: Map<string, ValueType>;
  opts: ApproximateOptions;
  layer: ApproximableLayer;
}

interface EmittedLayer {
  plan: EmulationPlan;
  k: number;
  scales: {first: ScaleRecord; second: ScaleRecord};
}

function emitLayer(c: LayerContext, e: LayerEmitter, table: Int32Array): EmittedLayer {
  switch (c.layer.op) {
    case 'MatMul':
      return c.layer.kind === 'weight' ? emitMatMul(c, e, table) : emitAttention(c, e, table);
    case 'Gemm':
      return emitGemm(c, e, table);
    case 'Conv':
      return emitConvLayer(c, e, table);
  }
}

const fail = (c: LayerContext, message: string): never => {
  throw new RewriteError(`layer "${c.layer.node.name}" (${c.layer.op}): ${message}`);
};

function shapeOf(c: LayerContext, value: string): Dim[] {
  const shape = c.types.get(value)?.shape;
  return shape ?? fail(c, `the shape of "${value}" could not be inferred`);
}

function staticDim(c: LayerContext, value: string, axis: number): number {
  const shape = shapeOf(c, value);
  const d = shape[axis < 0 ? shape.length + axis : axis];
  return typeof d === 'number' ? d : fail(c, `dimension ${axis} of "${value}" must be static, got ${String(d)}`);
}

function plan(c: LayerContext, table: Int32Array, k: number): EmulationPlan {
  const conv = c.layer.op === 'Conv';
  const pair = c.layer.kind === 'activations';
  const paths = c.opts.emulationPaths ? {paths: c.opts.emulationPaths} : {};
  const result = planEmulation(table, k, {fp64Allowed: !conv, activationSide: conv ? 'v' : 'u', other: pair ? 'activation' : 'weight', ...paths});
  return 'error' in result ? fail(c, result.error) : result;
}

const operandsOf = (c: LayerContext): IntegerOperands => c.opts.integerOperands ?? 'uint8';

function activationScale(c: LayerContext, value: string): {scale: QuantScale; record: ScaleRecord} {
  const stats = c.opts.calibration.values[value];
  if (!stats) fail(c, `the calibration has no statistics for "${value}" (was it made for this model?)`);
  const scale = quantScale(stats!.amax);
  return {scale, record: {value, amax: [scale.amax], step: [scale.step], granularity: 'tensor'}};
}

function weightTensor(c: LayerContext, name: string): Tensor {
  const tensor = c.graph.initializers.find((t) => t.name === name)!;
  if (!(tensor.data instanceof Float32Array)) fail(c, `weight "${name}" must be float32`);
  return tensor;
}

/**
 * Quantises a weight given in the op's normalised layout; `channelOf` maps an element to its
 * output channel (per-channel granularity).
 */
function quantizeWeight(
  c: LayerContext,
  name: string,
  data: Float32Array,
  dims: number[],
  channels: number,
  channelOf: (i: number) => number,
  transposed = false,
): {weight: QuantizedWeight; record: ScaleRecord} {
  const source = c.opts.weightsInGraph ? {source: {name, transpose: transposed}} : {};
  if (c.opts.weightGranularity === 'channel') {
    const {q, scales} = quantizePerChannel(data, channels, channelOf);
    return {
      weight: {q, dims, steps: scales.map((s) => s.step), ...source},
      record: {value: name, amax: scales.map((s) => s.amax), step: scales.map((s) => s.step), granularity: 'channel'},
    };
  }
  const scale = quantScale(c.opts.calibration.values[name]?.amax ?? maxAbs(data));
  return {
    weight: {q: quantizeTensor(data, scale.step), dims, steps: [scale.step], ...source},
    record: {value: name, amax: [scale.amax], step: [scale.step], granularity: 'tensor'},
  };
}

function emitMatMul(c: LayerContext, e: LayerEmitter, table: Int32Array): EmittedLayer {
  const [x, w] = c.layer.operands;
  const tensor = weightTensor(c, w);
  if (tensor.dims.length !== 2) fail(c, `weight "${w}" must be 2-D [K, N], got [${tensor.dims.join(', ')}]`);
  const [k, n] = tensor.dims as [number, number];
  const p = plan(c, table, k);
  const a = activationScale(c, x);
  const {weight, record} = quantizeWeight(c, w, tensor.data as Float32Array, [k, n], n, (i) => i % n);
  emitEmulation(e, p, matrixContraction({name: x, rank: shapeOf(c, x).length, scale: a.scale}, weight, operandsOf(c)), c.layer.node.outputs[0]!);
  return {plan: p, k, scales: {first: a.record, second: record}};
}

function emitGemm(c: LayerContext, e: LayerEmitter, table: Int32Array): EmittedLayer {
  const node = c.layer.node;
  const [a, b] = c.layer.operands;
  const alpha = attribute(node, 'alpha', 'float') ?? 1;
  const beta = attribute(node, 'beta', 'float') ?? 1;
  const transA = attribute(node, 'transA', 'int') ?? 0;
  const transB = attribute(node, 'transB', 'int') ?? 0;
  const tensor = weightTensor(c, b);
  const data = tensor.data as Float32Array;
  const [rows, cols] = tensor.dims as [number, number];
  const k = transB ? cols : rows;
  const n = transB ? rows : cols;
  // B as [K, N]: transposed offline when transB.
  const kn = transB ? Float32Array.from({length: k * n}, (_, i) => data[(i % n) * cols + Math.floor(i / n)]!) : data;
  const p = plan(c, table, k);
  const scaleA = activationScale(c, a);
  const {weight, record} = quantizeWeight(c, b, kn, [k, n], n, (i) => i % n, transB !== 0);
  const x = transA ? e.op('Transpose', [a], 'input.transpose', [{name: 'perm', type: 'ints', value: [1, 0]}]) : a;
  const biasName = node.inputs[2];
  const output = node.outputs[0]!;
  const hasBias = biasName !== undefined && biasName !== '' && beta !== 0;
  const y = emitEmulation(e, p, matrixContraction({name: x, rank: 2, scale: scaleA.scale}, weight, operandsOf(c), alpha), hasBias ? undefined : output);
  if (hasBias) {
    const bias = beta === 1 ? biasName : e.op('Mul', [biasName, e.scalar('bias.beta', beta)], 'bias.scale');
    e.op('Add', [y, bias], 'bias', [], output);
  }
  return {plan: p, k, scales: {first: scaleA.record, second: record}};
}

function emitConvLayer(c: LayerContext, e: LayerEmitter, table: Int32Array): EmittedLayer {
  const node = c.layer.node;
  const [x, w] = c.layer.operands;
  const tensor = weightTensor(c, w);
  const [o, cg, ...kernel] = tensor.dims as [number, number, ...number[]];
  const spatialRank = kernel.length;
  const k = cg * kernel.reduce((a, b) => a * b, 1);
  const p = plan(c, table, k);
  const autoPad = attribute(node, 'auto_pad', 'string') ?? 'NOTSET';
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') fail(c, `auto_pad ${autoPad} is not supported; export the model with explicit pads`);
  const pads = autoPad === 'VALID' ? Array<number>(2 * spatialRank).fill(0) : (attribute(node, 'pads', 'ints') ?? Array<number>(2 * spatialRank).fill(0));
  const needsSpatial = p.groups.some((g) => g.rank > 1);
  const paddedSpatial = needsSpatial ? kernel.map((_, i) => staticDim(c, x, 2 + i) + pads[i]! + pads[i + spatialRank]!) : [];
  const kept = node.attributes.filter((a) => ['strides', 'dilations', 'group', 'kernel_shape'].includes(a.name));
  const scaleX = activationScale(c, x);
  const spatial = k / cg;
  const {weight, record} = quantizeWeight(c, w, tensor.data as Float32Array, tensor.dims, o, (i) => Math.floor(i / (cg * spatial)));
  const bias = node.inputs[2] === '' ? undefined : node.inputs[2];
  const contraction = convContraction(e, {name: x, rank: 2 + spatialRank, scale: scaleX.scale}, weight, {pads, paddedSpatial, attributes: kept});
  if (bias === undefined) {
    emitEmulation(e, p, contraction, node.outputs[0]!);
  } else {
    const shapedBias = e.op('Reshape', [bias, e.int64s('bias.shape', [o, ...Array<number>(spatialRank).fill(1)])], 'bias.shape');
    e.op('Add', [emitEmulation(e, p, contraction), shapedBias], 'bias', [], node.outputs[0]!);
  }
  return {plan: p, k, scales: {first: scaleX.record, second: record}};
}

function emitAttention(c: LayerContext, e: LayerEmitter, table: Int32Array): EmittedLayer {
  const [a, b] = c.layer.operands;
  const k = staticDim(c, a, -1);
  const p = plan(c, table, k);
  const scaleA = activationScale(c, a);
  const scaleB = activationScale(c, b);
  const bRank = shapeOf(c, b).length;
  const columns = p.rank > 1 ? staticDim(c, b, -1) : 0;
  const contraction = activationContraction({name: a, rank: shapeOf(c, a).length, scale: scaleA.scale}, {name: b, rank: bRank, scale: scaleB.scale, columns}, operandsOf(c));
  emitEmulation(e, p, contraction, c.layer.node.outputs[0]!);
  return {plan: p, k, scales: {first: scaleA.record, second: scaleB.record}};
}
