// The emulation subgraph of one layer (DESIGN-NOTES §1): quantise the activation(s), gather factor
// rows by quantised value, run the SAME op (MatMul / Conv / grouped Conv) on the gathered operands
// with the r factor copies laid side by side along the reduction axis, combine factor groups,
// round (fp64 path), dequantise, add the bias. Weights are quantised and gathered here, offline.
import {DataType, type Attribute} from '../../onnx/ir.js';
import type {FactorGroup} from '../lowrank.js';
import type {QuantScale} from '../quantize.js';
import type {LayerEmitter} from './emitter.js';
import type {EmulationPlan, SideEncoding} from './plan.js';

/** A weight quantised offline: int8 values in the op's layout and the step(s) of one quantum. */
export interface QuantizedWeight {
  q: Int8Array;
  /** Row-major dims after normalisation: MatMul/Gemm [K, N]; Conv [O, C/group, ...kernel]. */
  dims: number[];
  /** One step (per tensor) or one per output channel (N for MatMul/Gemm, O for Conv). */
  steps: number[];
  /**
   * Quantise and gather the weight inside the graph from this float initializer (transposed first
   * when `transpose`, e.g. Gemm transB) instead of storing the gathered weight: the forward pass then
   * follows the float weight, as finetuning needs. onnxruntime folds the ops for inference.
   */
  source?: {name: string; transpose: boolean};
}

export interface EmulationInput {
  plan: EmulationPlan;
  /** Where the activation's factors come from: 'u' when it is the table's row operand (Linear), 'v' when column (Conv). */
  activationFactors: 'u' | 'v';
}

const precisionOf = (plan: EmulationPlan): 'fp32' | 'fp64' => (plan.path === 'lowrank-fp64' ? 'fp64' : 'fp32');
const isIdentity = (plan: EmulationPlan): boolean => plan.path === 'int8-exact';

/** Gathered copies of a quantised activation laid out [.., K·r] (r copies interleaved: index k·r + j). */
function gatherAlongLastAxis(e: LayerEmitter, q: string, group: FactorGroup, factors: Float64Array, plan: EmulationPlan, rank: number, what: string): string {
  if (isIdentity(plan)) return e.toFloat(q, what);
  const gathered = e.gather(q, factors, group.rank, precisionOf(plan), what);
  if (group.rank === 1) return gathered;
  return e.op('Reshape', [gathered, e.int64s(`${what}.shape`, [...Array<number>(rank - 1).fill(0), -1])], `${what}.merge`);
}

/** How gathered weight factors are stored: element type and an offset added to each factor (a uint8 zero point). */
interface FactorForm {
  type: 'fp32' | 'fp64' | 'uint8';
  offset: number;
}

/**
 * The weight operand: factor copies of the quantised weight, r copies placed after the reduction
 * channel — MatMul [K, N] → [K·r, N] (row k·r + j), Conv [O, C, ...s] → [O, C·r, ...s] (channel c·r + j).
 */
function weightOperand(e: LayerEmitter, w: QuantizedWeight, factors: Float64Array, rank: number, form: FactorForm, what: string): string {
  const isMatrix = w.dims.length === 2;
  const gatheredDims = isMatrix ? [w.dims[0]! * rank, w.dims[1]!] : [w.dims[0]!, w.dims[1]! * rank, ...w.dims.slice(2)];
  const dataType = form.type === 'fp64' ? DataType.DOUBLE : form.type === 'uint8' ? DataType.UINT8 : DataType.FLOAT;
  if (w.source) return weightOperandInGraph(e, w, factors, rank, form, dataType, gatheredDims, what);
  const inner = isMatrix ? w.dims[1]! : w.dims.slice(2).reduce((a, b) => a * b, 1);
  const outer = w.q.length / inner;
  const out = form.type === 'fp64' ? new Float64Array(w.q.length * rank) : form.type === 'uint8' ? new Uint8Array(w.q.length * rank) : new Float32Array(w.q.length * rank);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < rank; j++) {
      const dst = (o * rank + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = factors[(w.q[o * inner + i]! & 0xff) * rank + j]! + form.offset;
    }
  }
  const name = e.names.fresh(`${e.prefix}${what}`);
  e.initializers.push({name, dataType, dims: gatheredDims, data: out});
  return name;
}

function weightOperandInGraph(e: LayerEmitter, w: QuantizedWeight, factors: Float64Array, rank: number, form: FactorForm, dataType: number, gatheredDims: number[], what: string): string {
  const isMatrix = w.dims.length === 2;
  let source = w.source!.name;
  if (w.source!.transpose) source = e.op('Transpose', [source], `${what}.transpose`, [{name: 'perm', type: 'ints', value: [1, 0]}]);
  const perChannel = w.steps.length > 1;
  const stepDims = perChannel ? [w.steps.length] : [];
  const step = e.constant(`${what}.step`, stepDims, Float32Array.from(w.steps));
  const zero = e.names.fresh(`${e.prefix}${what}.zero`);
  e.initializers.push({name: zero, dataType: DataType.INT8, dims: stepDims, data: new Int8Array(w.steps.length)});
  const axis = perChannel ? [{name: 'axis', type: 'int' as const, value: isMatrix ? 1 : 0}] : [];
  const q = e.op('QuantizeLinear', [source, step, zero], `${what}.quantize`, axis);
  const narrow = e.op('Clip', [q, e.int8(`${what}.qmin`, -127)], `${what}.narrow`);
  const index = e.op('Cast', [narrow], `${what}.index`, [{name: 'to', type: 'int', value: DataType.INT32}]);
  const tableName = e.names.fresh(`${e.prefix}${what}.factors`);
  const tableData = form.type === 'fp64' ? Float64Array.from(factors, (f) => f + form.offset) : form.type === 'uint8' ? Uint8Array.from(factors, (f) => f + form.offset) : Float32Array.from(factors, (f) => f + form.offset);
  e.initializers.push({name: tableName, dataType, dims: rank === 1 ? [256] : [256, rank], data: tableData});
  const gathered = e.op('Gather', [tableName, index], `${what}.gather`, [{name: 'axis', type: 'int', value: 0}]);
  if (rank === 1) return gathered;
  // [.., r] → copies right after the reduction channel, then merged into it
  const d = w.dims.length;
  const perm = isMatrix ? [0, 2, 1] : [0, 1, d, ...Array.from({length: d - 2}, (_, i) => i + 2)];
  const moved = e.op('Transpose', [gathered], `${what}.order`, [{name: 'perm', type: 'ints', value: perm}]);
  return e.op('Reshape', [moved, e.int64s(`${what}.shape`, gatheredDims)], `${what}.merge`);
}

/**
 * The exact integer accumulator and its element type: fp32 (float paths: every value an integer below
 * 2^24), int32 (integer ops) or fp64 (the fp64 path, rounded). Integers past 2^24 are not fp32 values, so
 * only the fp32 paths may be dequantised in fp32.
 */
interface Accumulator {
  value: string;
  type: 'fp32' | 'int32' | 'fp64';
}

/** Σ_g S_g / d_g, then (fp64) rounded to the exact integer accumulator. */
function combineGroups(e: LayerEmitter, plan: EmulationPlan, sums: string[]): Accumulator {
  let acc: string | undefined;
  plan.groups.forEach((group, g) => {
    let part = sums[g]!;
    if (group.divisor !== 1) part = e.op('Div', [part, e.scalar(`group${g}.divisor`, group.divisor)], `group${g}.divide`);
    acc = acc === undefined ? part : e.op('Add', [acc, part], `group${g}.add`);
  });
  if (precisionOf(plan) === 'fp32') return {value: acc!, type: 'fp32'};
  return {value: e.op('Round', [acc!], 'accumulator.round'), type: 'fp64'};
}

function factorsFor(group: FactorGroup, side: 'u' | 'v'): Float64Array {
  return side === 'u' ? group.u : group.v;
}

const other = (side: 'u' | 'v'): 'u' | 'v' => (side === 'u' ? 'v' : 'u');

/**
 * acc × factor rounded once to fp32, the factor fround(step_a·step_w·extra) a scalar or one per output
 * channel shaped to broadcast over the output. An integer accumulator past 2^24 is multiplied in fp64 (int32
 * → fp64 is exact): rounding it to fp32 first would change it. The fp64 product is exact while |acc| < 2^29.
 */
function dequantize(e: LayerEmitter, acc: Accumulator, activationStep: number, weightSteps: number[], channelDims: number[], extra = 1, output?: string): string {
  const factors = weightSteps.map((s) => Math.fround(activationStep * s * extra));
  const dims = factors.length === 1 ? [] : channelDims;
  if (acc.type === 'fp32') return e.op('Mul', [acc.value, e.constant('dequantize.scale', dims, Float32Array.from(factors))], 'dequantize', [], output);
  const wide = acc.type === 'int32' ? e.op('Cast', [acc.value], 'accumulator.widen', [{name: 'to', type: 'int', value: DataType.DOUBLE}]) : acc.value;
  const product = e.op('Mul', [wide, e.constant('dequantize.scale', dims, Float64Array.from(factors))], 'dequantize');
  return e.op('Cast', [product], 'dequantize.narrow', [{name: 'to', type: 'int', value: DataType.FLOAT}], output);
}

/** x[.., K] @ W[K, N] (MatMul, or Gemm after normalising transposes); returns the dequantised float output. */
export function emitMatrixProduct(
  e: LayerEmitter,
  input: EmulationInput,
  x: string,
  xRank: number,
  xScale: QuantScale,
  weight: QuantizedWeight,
  opts: {extraScale?: number; output?: string} = {},
): string {
  const {plan} = input;
  const q = e.quantize(x, xScale.step, 'input');
  const sums = plan.groups.map((group, g) => {
    const gathered = gatherAlongLastAxis(e, q, group, factorsFor(group, input.activationFactors), plan, xRank, `input.g${g}`);
    const w = weightOperand(e, weight, factorsFor(group, other(input.activationFactors)), group.rank, {type: precisionOf(plan), offset: 0}, `weight.g${g}`);
    return e.op('MatMul', [gathered, w], `matmul.g${g}`);
  });
  const acc = combineGroups(e, plan, sums);
  return dequantize(e, acc, xScale.step, weight.steps, [weight.dims[1]!], opts.extraScale, opts.output);
}

/** A[.., M, K] @ B[.., K, N] with both operands quantised at run time (attention products). */
export function emitActivationProduct(
  e: LayerEmitter,
  plan: EmulationPlan,
  a: {name: string; rank: number; scale: QuantScale},
  b: {name: string; rank: number; scale: QuantScale; columns: number},
  output: string,
): string {
  const qa = e.quantize(a.name, a.scale.step, 'a');
  const qb = e.quantize(b.name, b.scale.step, 'b');
  const sums = plan.groups.map((group, g) => {
    const ga = gatherAlongLastAxis(e, qa, group, group.u, plan, a.rank, `a.g${g}`);
    let gb = isIdentity(plan) ? e.toFloat(qb, 'b') : qb;
    if (!isIdentity(plan)) {
      gb = e.gather(qb, group.v, group.rank, precisionOf(plan), `b.g${g}`);
      if (group.rank > 1) {
        // [.., K, N, r] -> [.., K, r, N] -> [.., K·r, N]
        const perm = [...Array.from({length: b.rank - 1}, (_, i) => i), b.rank, b.rank - 1];
        const moved = e.op('Transpose', [gb], `b.g${g}.order`, [{name: 'perm', type: 'ints', value: perm}]);
        gb = e.op('Reshape', [moved, e.int64s(`b.g${g}.shape`, [...Array<number>(b.rank - 2).fill(0), -1, b.columns])], `b.g${g}.merge`);
      }
    }
    return e.op('MatMul', [ga, gb], `matmul.g${g}`);
  });
  const acc = combineGroups(e, plan, sums);
  return dequantize(e, acc, a.scale.step, [b.scale.step], [], 1, output);
}

export interface ConvGeometry {
  /** pads as in ONNX: [begin_0, begin_1, …, end_0, end_1, …]. */
  pads: number[];
  /** Spatial dims of the input after padding (needed to merge the factor copies into channels). */
  paddedSpatial: number[];
  /** Conv attributes to keep (strides, dilations, group, kernel_shape). */
  attributes: Attribute[];
}

/** Conv(X, W) + B: quantise, pad in the quantised domain, gather, Conv on C·r channels, dequantise, bias. */
export function emitConv(
  e: LayerEmitter,
  input: EmulationInput,
  x: string,
  xScale: QuantScale,
  weight: QuantizedWeight,
  geometry: ConvGeometry,
  bias: string | undefined,
  output: string,
): string {
  const {plan} = input;
  if (precisionOf(plan) !== 'fp32') throw new Error('Conv emulation needs an fp32 plan');
  const spatialRank = weight.dims.length - 2;
  const acc = plan.shift || plan.zeroPoints ? integerConvAccumulator(e, input, x, xScale, weight, geometry) : floatConvAccumulator(e, input, x, xScale, weight, geometry);
  const channelDims = [weight.dims[0]!, ...Array<number>(spatialRank).fill(1)];
  const extra = plan.shift?.c ?? 1;
  if (bias === undefined) return dequantize(e, acc, xScale.step, weight.steps, channelDims, extra, output);
  const y = dequantize(e, acc, xScale.step, weight.steps, channelDims, extra);
  const shapedBias = e.op('Reshape', [bias, e.int64s('bias.shape', channelDims)], 'bias.shape');
  return e.op('Add', [y, shapedBias], 'bias', [], output);
}

/** ONNX Pad's pads for [N, C, ...spatial] from Conv's [begin…, end…], or undefined without padding. */
function tensorPads(geometry: ConvGeometry, spatialRank: number): number[] | undefined {
  if (!geometry.pads.some((p) => p !== 0)) return undefined;
  return [0, 0, ...geometry.pads.slice(0, spatialRank), 0, 0, ...geometry.pads.slice(spatialRank)];
}

/** [N, C, ...s, r] -> [N, C, r, ...s] -> [N, C·r, ...s]: channel c·r + j keeps each group's channels contiguous. */
function mergeCopiesIntoChannels(e: LayerEmitter, gathered: string, rank: number, geometry: ConvGeometry, what: string): string {
  if (rank === 1) return gathered;
  const spatialRank = geometry.pads.length / 2;
  const perm = [0, 1, spatialRank + 2, ...Array.from({length: spatialRank}, (_, i) => i + 2)];
  const moved = e.op('Transpose', [gathered], `${what}.order`, [{name: 'perm', type: 'ints', value: perm}]);
  return e.op('Reshape', [moved, e.int64s(`${what}.shape`, [0, -1, ...geometry.paddedSpatial])], `${what}.merge`);
}

function floatConvAccumulator(e: LayerEmitter, input: EmulationInput, x: string, xScale: QuantScale, weight: QuantizedWeight, geometry: ConvGeometry): Accumulator {
  const {plan} = input;
  let q = e.quantize(x, xScale.step, 'input');
  const pads = tensorPads(geometry, weight.dims.length - 2);
  // A padded zero contributes L[w][0], not always 0: pad the int8 values, then gather.
  if (pads) q = e.op('Pad', [q, e.int64s('input.pads', pads)], 'input.pad');
  const sums = plan.groups.map((group, g) => {
    const gathered = isIdentity(plan)
      ? e.toFloat(q, 'input')
      : mergeCopiesIntoChannels(e, e.gather(q, factorsFor(group, input.activationFactors), group.rank, 'fp32', `input.g${g}`), group.rank, geometry, `input.g${g}`);
    const w = weightOperand(e, weight, factorsFor(group, other(input.activationFactors)), group.rank, {type: 'fp32', offset: 0}, `weight.g${g}`);
    return e.op('Conv', [gathered, w], `conv.g${g}`, geometry.attributes);
  });
  return combineGroups(e, plan, sums);
}

/**
 * ConvInteger on uint8 operands (plan.shift: the shifted activation; plan.zeroPoints: activation
 * factors gathered from a uint8 table), weight factors + zero point offline; int32 accumulation.
 */
function integerConvAccumulator(e: LayerEmitter, input: EmulationInput, x: string, xScale: QuantScale, weight: QuantizedWeight, geometry: ConvGeometry): Accumulator {
  const {plan} = input;
  const group = plan.groups[0]!;
  const pads = tensorPads(geometry, weight.dims.length - 2);
  let activation: string;
  let activationZero: number;
  const weightZero = plan.zeroPoints?.weight ?? 128;
  if (plan.shift) {
    activationZero = 1 << (7 - plan.shift.s);
    activation = e.quantizeShifted(x, xScale.step, plan.shift.s, 'input');
    // the padded value must stand for q = 0, i.e. the zero point
    if (pads) activation = e.op('Pad', [activation, e.int64s('input.pads', pads), e.uint8('input.pad_value', activationZero)], 'input.pad');
  } else {
    activationZero = plan.zeroPoints!.activation;
    let q = e.quantize(x, xScale.step, 'input');
    if (pads) q = e.op('Pad', [q, e.int64s('input.pads', pads)], 'input.pad');
    const factors = factorsFor(group, input.activationFactors);
    const table = e.names.fresh(`${e.prefix}input.factors`);
    e.initializers.push({name: table, dataType: DataType.UINT8, dims: group.rank === 1 ? [256] : [256, group.rank], data: Uint8Array.from(factors, (f) => f + activationZero)});
    const index = e.op('Cast', [q], 'input.index', [{name: 'to', type: 'int', value: DataType.INT32}]);
    const gathered = e.op('Gather', [table, index], 'input.gather', [{name: 'axis', type: 'int', value: 0}]);
    activation = mergeCopiesIntoChannels(e, gathered, group.rank, geometry, 'input');
  }
  const w = weightOperand(e, weight, factorsFor(group, other(input.activationFactors)), group.rank, {type: 'uint8', offset: weightZero}, 'weight.u8');
  return {value: e.op('ConvInteger', [activation, w, e.uint8('input.zero', activationZero), e.uint8('weight.zero', weightZero)], 'conv', geometry.attributes), type: 'int32'};
}

/**
 * The integer path (plan.shift): rank-1 tables whose activation factor is c·floor(q / 2^s) (the
 * exact product: s = 0, c = 1; truncating circuits: s > 0). The activation becomes uint8
 * floor(q/2^s) + 2^(7-s) (QuantizeLinear, Clip, BitShift), the weight factor v(q_w) + 128 an
 * offline uint8 initializer, and MatMulInteger subtracts both zero points and accumulates in
 * int32 — exact by definition; c joins the dequantisation factor (a power of two: exact).
 */
export function emitIntegerMatrixProduct(
  e: LayerEmitter,
  input: EmulationInput,
  x: string,
  xScale: QuantScale,
  weight: QuantizedWeight,
  opts: {extraScale?: number; output?: string} = {},
): string {
  const {plan} = input;
  const shift = plan.shift!;
  const group = plan.groups[0]!;
  // u(q)·v(w) = c·floor(q/2^s)·v(w): the weight keeps its factor v (plan.ts checked it fits int8).
  const w = weightOperand(e, weight, factorsFor(group, other(input.activationFactors)), 1, {type: 'uint8', offset: 128}, 'weight.u8');
  const n = weight.dims[1]!;
  const p = e.quantizeShifted(x, xScale.step, shift.s, 'input');
  const acc = e.op('MatMulInteger', [p, w, e.uint8('input.offset', 1 << (7 - shift.s)), e.uint8('weight.zero', 128)], 'matmul');
  return dequantize(e, {value: acc, type: 'int32'}, xScale.step, weight.steps, [n], (opts.extraScale ?? 1) * shift.c, opts.output);
}

/**
 * The integer low-rank path (plan.zeroPoints): activation factors gathered from a uint8 table
 * (u + za), weight factors an offline uint8 [K·r, N] (v + zb), MatMulInteger over K·r in int32.
 */
export function emitIntegerLowRank(
  e: LayerEmitter,
  input: EmulationInput,
  x: string,
  xRank: number,
  xScale: QuantScale,
  weight: QuantizedWeight,
  opts: {extraScale?: number; output?: string} = {},
): string {
  const {plan} = input;
  const {activation: za, weight: zb} = plan.zeroPoints!;
  const group = plan.groups[0]!;
  const rank = group.rank;
  const u = factorsFor(group, input.activationFactors);
  const v = factorsFor(group, other(input.activationFactors));
  const q = e.quantize(x, xScale.step, 'input');
  const table = e.names.fresh(`${e.prefix}input.factors`);
  e.initializers.push({name: table, dataType: DataType.UINT8, dims: rank === 1 ? [256] : [256, rank], data: Uint8Array.from(u, (f) => f + za)});
  const index = e.op('Cast', [q], 'input.index', [{name: 'to', type: 'int', value: DataType.INT32}]);
  let gathered = e.op('Gather', [table, index], 'input.gather', [{name: 'axis', type: 'int', value: 0}]);
  if (rank > 1) gathered = e.op('Reshape', [gathered, e.int64s('input.shape', [...Array<number>(xRank - 1).fill(0), -1])], 'input.merge');
  const w = weightOperand(e, weight, v, rank, {type: 'uint8', offset: zb}, 'weight.u8');
  const n = weight.dims[1]!;
  const acc = e.op('MatMulInteger', [gathered, w, e.uint8('input.zero', za), e.uint8('weight.zero', zb)], 'matmul');
  return dequantize(e, {value: acc, type: 'int32'}, xScale.step, weight.steps, [n], opts.extraScale, opts.output);
}

/**
 * A[.., M, K] @ B[.., K, N] of two run-time operands on MatMulInteger (plan.pair): each side is
 * shifted or gathered from a uint8 table, the r copies laid along K (A: [.., M, K·r]; B: [.., K·r, N]).
 */
export function emitIntegerActivationProduct(
  e: LayerEmitter,
  plan: EmulationPlan,
  a: {name: string; rank: number; scale: QuantScale},
  b: {name: string; rank: number; scale: QuantScale; columns: number},
  output: string,
): string {
  const group = plan.groups[0]!;
  const encode = (side: SideEncoding, name: string, step: number, factors: Float64Array, what: string): {value: string; zero: number} => {
    if (side.kind === 'shift') return {value: e.quantizeShifted(name, step, side.s, what), zero: 1 << (7 - side.s)};
    const q = e.quantize(name, step, what);
    const table = e.names.fresh(`${e.prefix}${what}.factors`);
    e.initializers.push({name: table, dataType: DataType.UINT8, dims: group.rank === 1 ? [256] : [256, group.rank], data: Uint8Array.from(factors, (f) => f + side.zero)});
    const index = e.op('Cast', [q], `${what}.index`, [{name: 'to', type: 'int', value: DataType.INT32}]);
    return {value: e.op('Gather', [table, index], `${what}.gather`, [{name: 'axis', type: 'int', value: 0}]), zero: side.zero};
  };
  const left = encode(plan.pair!.a, a.name, a.scale.step, group.u, 'a');
  const right = encode(plan.pair!.b, b.name, b.scale.step, group.v, 'b');
  let av = left.value;
  let bv = right.value;
  if (group.rank > 1) {
    av = e.op('Reshape', [av, e.int64s('a.shape', [...Array<number>(a.rank - 1).fill(0), -1])], 'a.merge');
    // [.., K, N, r] -> [.., K, r, N] -> [.., K·r, N]
    const perm = [...Array.from({length: b.rank - 1}, (_, i) => i), b.rank, b.rank - 1];
    const moved = e.op('Transpose', [bv], 'b.order', [{name: 'perm', type: 'ints', value: perm}]);
    bv = e.op('Reshape', [moved, e.int64s('b.shape', [...Array<number>(b.rank - 2).fill(0), -1, b.columns])], 'b.merge');
  }
  const acc = e.op('MatMulInteger', [av, bv, e.uint8('a.zero', left.zero), e.uint8('b.zero', right.zero)], 'matmul');
  const c = (plan.pair!.a.kind === 'shift' ? plan.pair!.a.c : 1) * (plan.pair!.b.kind === 'shift' ? plan.pair!.b.c : 1);
  return dequantize(e, {value: acc, type: 'int32'}, a.scale.step, [b.scale.step], [], c, output);
}
