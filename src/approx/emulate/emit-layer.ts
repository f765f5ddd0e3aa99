// The emulation subgraph of one layer (docs/emulation.md): quantise the activation(s), encode each
// operand by its factors (gathered by quantised value, or shifted), run the SAME op (MatMul / Conv /
// grouped Conv, or its integer form) with the r factor copies laid side by side along the reduction
// axis, combine factor groups, round (fp64 path), dequantise. Weights are encoded here, offline.
//
// Two axes stay apart: a Contraction knows the layer's op and operand layout (weight MatMul, Conv,
// product of two activations); the path emitters (ACCUMULATE, one per plan kind) know how a plan
// encodes operands and sums its groups.
import {DataType, type Attribute} from '../../onnx/ir.js';
import type {QuantScale} from '../quantize.js';
import type {FactorTable, LayerEmitter} from './emitter.js';
import {accumulatorScale, type DigitsPlan, type EmulationPlan, type FloatPlan, type IntegerEncoding, type IntegerPlan, type OperandEncoding} from './plan.js';

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
  source?: WeightSource;
}

interface WeightSource {
  name: string;
  transpose: boolean;
}

/**
 * How the integer ops store both operands: uint8 (onnxruntime's CPU kernels) or int8 (its CUDA provider has
 * MatMulInteger for int8 × int8 only). An int8 operand is its uint8 form − 128, zero point included, so every
 * operand − zero point, and with it the accumulator, is the same on both.
 */
export type IntegerOperands = 'uint8' | 'int8';

/** A run-time operand: the float value, the rank of its tensor and its quantisation scale. */
export interface RuntimeOperand {
  name: string;
  rank: number;
  scale: QuantScale;
}

/**
 * The bilinear op of one layer, whatever the plan: where the encoded activation's r factor copies go,
 * how the other operand is encoded, the op contracting them and the dequantisation factors.
 */
export interface Contraction {
  activation: RuntimeOperand;
  /** The encoded activation [.., r] with its copies merged into the reduction axis. */
  mergeActivation(e: LayerEmitter, encoded: string, rank: number, what: string): string;
  /** The other operand encoded, its r copies laid along the reduction axis. */
  other(e: LayerEmitter, factors: Float64Array, rank: number, encoding: OperandEncoding, what: string): string;
  /** A constant weight matrix as int8 digits [K·r, digits·N] (digit t in columns t·N…), for a lookup on MatMulInteger. */
  weightDigits: ((e: LayerEmitter, factors: Float64Array, rank: number, digits: number, what: string) => {operand: string; columns: number}) | undefined;
  opType: 'MatMul' | 'Conv';
  attributes: Attribute[];
  /** How the op's integer form (MatMulInteger/ConvInteger) stores its operands. */
  integerOperands: IntegerOperands;
  /** The other operand's step(s), shaped by channelDims to broadcast over the output; extra: e.g. Gemm's alpha. */
  dequantization: {otherSteps: number[]; channelDims: number[]; extra: number};
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

interface PlanByKind {
  float: FloatPlan;
  integer: IntegerPlan;
  digits: DigitsPlan;
}

/** The path emitters: how each kind of plan computes the integer accumulator of a contraction. */
const ACCUMULATE: {[K in keyof PlanByKind]: (e: LayerEmitter, plan: PlanByKind[K], c: Contraction) => Accumulator} = {
  float(e, plan, c) {
    const encoding = {kind: 'float', precision: plan.precision} as const;
    const sums = plan.groups.map((group, g) => {
      const a = c.mergeActivation(e, encodeRunTime(e, c.activation, group.activation, group.rank, encoding, `input.g${g}`, c.integerOperands), group.rank, `input.g${g}`);
      const b = c.other(e, group.other, group.rank, encoding, `other.g${g}`);
      return e.op(c.opType, [a, b], `product.g${g}`, c.attributes);
    });
    return combineGroups(e, plan, sums);
  },
  integer(e, plan, c) {
    const [group] = plan.groups;
    const a = c.mergeActivation(e, encodeRunTime(e, c.activation, group.activation, group.rank, plan.activation, 'input', c.integerOperands), group.rank, 'input');
    const b = c.other(e, group.other, group.rank, plan.other, 'other');
    const zeros = [zeroPoint(e, 'input.zero', plan.activation, c.integerOperands), zeroPoint(e, 'other.zero', plan.other, c.integerOperands)];
    return {value: e.op(`${c.opType}Integer`, [a, b, ...zeros], 'product', c.attributes), type: 'int32'};
  },
  digits(e, plan, c) {
    if (!c.weightDigits) throw new Error(`${e.prefix}: the lookup-int8 path needs a constant weight matrix (a planner bug)`);
    const [group] = plan.groups;
    const a = c.mergeActivation(e, encodeRunTime(e, c.activation, group.activation, group.rank, plan.activation, 'input', c.integerOperands), group.rank, 'input');
    const b = c.weightDigits(e, group.other, group.rank, plan.digits, 'other');
    const blocks = e.op('MatMulInteger', [a, b.operand, zeroPoint(e, 'input.zero', plan.activation, c.integerOperands), e.int8('other.zero', 0)], 'product');
    if (plan.digits === 1) return {value: blocks, type: 'int32'};
    // Σ_t 256^t·block_t is the accumulator, whose magnitude stays below 2^31 like each block's
    const parts = Array.from({length: plan.digits}, (_, t) => e.names.fresh(`${e.prefix}digit${t}`));
    const sizes = e.int64s('digits.sizes', Array<number>(plan.digits).fill(b.columns));
    e.nodes.push({name: e.names.fresh(`${e.prefix}digits.split`), opType: 'Split', domain: '', inputs: [blocks, sizes], outputs: parts, attributes: [{name: 'axis', type: 'int', value: -1}]});
    const weighted = parts.map((part, t) => (t === 0 ? part : e.op('Mul', [part, e.int32(`digit${t}.weight`, 256 ** t)], `digit${t}.scale`)));
    return {value: weighted.reduce((sum, part, t) => e.op('Add', [sum, part], `digit${t}.add`)), type: 'int32'};
  },
};

function accumulate<K extends keyof PlanByKind>(e: LayerEmitter, kind: K, plan: PlanByKind[K], c: Contraction): Accumulator {
  return ACCUMULATE[kind](e, plan, c);
}

/** The layer's dequantised float output (named `output` when given). */
export function emitEmulation(e: LayerEmitter, plan: EmulationPlan, c: Contraction, output?: string): string {
  const acc = accumulate(e, plan.kind, plan, c);
  const {otherSteps, channelDims, extra} = c.dequantization;
  return dequantize(e, acc, c.activation.scale.step, otherSteps, channelDims, extra * accumulatorScale(plan), output);
}

/** Zero point of a uint8 encoding: the stored value that stands for factor 0. */
const zeroOf = (encoding: IntegerEncoding): number => (encoding.kind === 'shift' ? 1 << (7 - encoding.s) : encoding.zero);

/** What an int8 operand stores for a uint8 stored value. */
const INT8_OFFSET = 128;

function zeroPoint(e: LayerEmitter, what: string, encoding: IntegerEncoding, operands: IntegerOperands): string {
  return operands === 'uint8' ? e.uint8(what, zeroOf(encoding)) : e.int8(what, zeroOf(encoding) - INT8_OFFSET);
}

/** The factor table [256, r] as the op reads it: float factors, or encoded values stored as `operands`. */
function encodedTable(factors: Float64Array, encoding: OperandEncoding, operands: IntegerOperands): FactorTable {
  if (encoding.kind === 'float') {
    return encoding.precision === 'fp64' ? {dataType: DataType.DOUBLE, data: Float64Array.from(factors)} : {dataType: DataType.FLOAT, data: Float32Array.from(factors)};
  }
  // shift: factor c·floor(q/2^s) stored as floor(q/2^s) + 2^(7-s); table: factor + zero
  const stored = (f: number): number => (encoding.kind === 'shift' ? f / encoding.c + zeroOf(encoding) : f + encoding.zero);
  return operands === 'uint8'
    ? {dataType: DataType.UINT8, data: Uint8Array.from(factors, stored)}
    : {dataType: DataType.INT8, data: Int8Array.from(factors, (f) => stored(f) - INT8_OFFSET)};
}

function emptyLike<T extends FactorTable['data']>(data: T, length: number): T {
  return new (data.constructor as new (length: number) => T)(length);
}

/** A run-time operand quantised and encoded: [.., r] (rank 1: [..]). */
function encodeRunTime(e: LayerEmitter, x: RuntimeOperand, factors: Float64Array, rank: number, encoding: OperandEncoding, what: string, operands: IntegerOperands): string {
  if (encoding.kind === 'shift' && operands === 'uint8') return e.quantizeShifted(x.name, x.scale.step, encoding.s, what);
  // int8 stores floor(q/2^s) + 2^(7-s) - 128: q itself for s = 0; else a table, as ONNX shifts unsigned types only
  if (encoding.kind === 'shift' && encoding.s === 0) return e.quantize(x.name, x.scale.step, what);
  return e.gather(e.quantize(x.name, x.scale.step, what), encodedTable(factors, encoding, operands), rank, what);
}

/** [.., K, r] → [.., K·r] (copy j of element k at k·r + j). */
function mergeLastAxis(e: LayerEmitter, encoded: string, tensorRank: number, rank: number, what: string): string {
  if (rank === 1) return encoded;
  return e.op('Reshape', [encoded, e.int64s(`${what}.shape`, [...Array<number>(tensorRank - 1).fill(0), -1])], `${what}.merge`);
}

/**
 * The weight operand: factor copies of the quantised weight, r copies placed after the reduction
 * channel — MatMul [K, N] → [K·r, N] (row k·r + j), Conv [O, C, ...s] → [O, C·r, ...s] (channel c·r + j).
 */
function weightOperand(e: LayerEmitter, w: QuantizedWeight, factors: Float64Array, rank: number, encoding: OperandEncoding, what: string, operands: IntegerOperands): string {
  const isMatrix = w.dims.length === 2;
  const gatheredDims = isMatrix ? [w.dims[0]! * rank, w.dims[1]!] : [w.dims[0]!, w.dims[1]! * rank, ...w.dims.slice(2)];
  const table = encodedTable(factors, encoding, operands);
  if (w.source) return weightOperandInGraph(e, w, w.source, table, rank, gatheredDims, what);
  const inner = isMatrix ? w.dims[1]! : w.dims.slice(2).reduce((a, b) => a * b, 1);
  const outer = w.q.length / inner;
  const out = emptyLike(table.data, w.q.length * rank);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < rank; j++) {
      const dst = (o * rank + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = table.data[(w.q[o * inner + i]! & 0xff) * rank + j]!;
    }
  }
  const name = e.names.fresh(`${e.prefix}${what}`);
  e.initializers.push({name, dataType: table.dataType, dims: gatheredDims, data: out});
  return name;
}

/** x as `count` base-256 digits, low first: each in [-128, 127] (the last one holds the rest). */
function int8Digits(x: number, count: number, out: number[]): number[] {
  let rest = x;
  for (let t = 0; t < count - 1; t++) {
    const low = ((((rest + 128) % 256) + 256) % 256) - 128;
    out[t] = low;
    rest = (rest - low) / 256;
  }
  out[count - 1] = rest;
  return out;
}

/** The weight [K, N] as int8 digits of its factors: [K·r, digits·N], row k·r + j, column t·N + n. */
function weightDigitOperand(e: LayerEmitter, w: QuantizedWeight, factors: Float64Array, rank: number, digits: number, what: string): {operand: string; columns: number} {
  const [k, n] = w.dims as [number, number];
  const table = new Int8Array(256 * rank * digits);
  const scratch: number[] = [];
  for (let i = 0; i < 256 * rank; i++) table.set(int8Digits(factors[i]!, digits, scratch), i * digits);
  if (w.source) {
    const gathered = weightOperandInGraph(e, w, w.source, {dataType: DataType.INT8, data: table}, rank * digits, [k, n, rank, digits], what);
    const moved = e.op('Transpose', [gathered], `${what}.digits.order`, [{name: 'perm', type: 'ints', value: [0, 2, 3, 1]}]);
    return {operand: e.op('Reshape', [moved, e.int64s(`${what}.digits.shape`, [k * rank, digits * n])], `${what}.digits.merge`), columns: n};
  }
  const out = new Int8Array(k * rank * digits * n);
  for (let kk = 0; kk < k; kk++) {
    for (let col = 0; col < n; col++) {
      const base = (w.q[kk * n + col]! & 0xff) * rank * digits;
      for (let j = 0; j < rank; j++) for (let t = 0; t < digits; t++) out[(kk * rank + j) * digits * n + t * n + col] = table[base + j * digits + t]!;
    }
  }
  const name = e.names.fresh(`${e.prefix}${what}`);
  e.initializers.push({name, dataType: DataType.INT8, dims: [k * rank, digits * n], data: out});
  return {operand: name, columns: n};
}

function weightOperandInGraph(e: LayerEmitter, w: QuantizedWeight, source: WeightSource, table: FactorTable, rank: number, gatheredDims: number[], what: string): string {
  const isMatrix = w.dims.length === 2;
  const float = source.transpose ? e.op('Transpose', [source.name], `${what}.transpose`, [{name: 'perm', type: 'ints', value: [1, 0]}]) : source.name;
  const perChannel = w.steps.length > 1;
  const stepDims = perChannel ? [w.steps.length] : [];
  const step = e.constant(`${what}.step`, stepDims, Float32Array.from(w.steps));
  const zero = e.names.fresh(`${e.prefix}${what}.zero`);
  e.initializers.push({name: zero, dataType: DataType.INT8, dims: stepDims, data: new Int8Array(w.steps.length)});
  const axis = perChannel ? [{name: 'axis', type: 'int' as const, value: isMatrix ? 1 : 0}] : [];
  const q = e.op('QuantizeLinear', [float, step, zero], `${what}.quantize`, axis);
  const narrow = e.op('Clip', [q, e.int8(`${what}.qmin`, -127)], `${what}.narrow`);
  const gathered = e.gather(narrow, table, rank, what);
  if (gatheredDims.length > w.dims.length) return e.op('Reshape', [gathered, e.int64s(`${what}.shape`, gatheredDims)], `${what}.split`);
  if (rank === 1) return gathered;
  // [.., r] → copies right after the reduction channel, then merged into it
  const d = w.dims.length;
  const perm = isMatrix ? [0, 2, 1] : [0, 1, d, ...Array.from({length: d - 2}, (_, i) => i + 2)];
  const moved = e.op('Transpose', [gathered], `${what}.order`, [{name: 'perm', type: 'ints', value: perm}]);
  return e.op('Reshape', [moved, e.int64s(`${what}.shape`, gatheredDims)], `${what}.merge`);
}

/** Σ_g S_g / d_g, then (fp64) rounded to the exact integer accumulator. */
function combineGroups(e: LayerEmitter, plan: FloatPlan, sums: string[]): Accumulator {
  const parts = plan.groups.map((group, g) => (group.divisor === 1 ? sums[g]! : e.op('Div', [sums[g]!, e.scalar(`group${g}.divisor`, group.divisor)], `group${g}.divide`)));
  const acc = parts.reduce((sum, part, g) => e.op('Add', [sum, part], `group${g}.add`));
  if (plan.precision === 'fp32') return {value: acc, type: 'fp32'};
  return {value: e.op('Round', [acc], 'accumulator.round'), type: 'fp64'};
}

/**
 * acc × factor rounded once to fp32, the factor fround(step_a·step_w·extra) a scalar or one per output
 * channel shaped to broadcast over the output. An integer accumulator past 2^24 is multiplied in fp64 (int32
 * → fp64 is exact): rounding it to fp32 first would change it. The fp64 product is exact while |acc| < 2^29.
 */
function dequantize(e: LayerEmitter, acc: Accumulator, activationStep: number, weightSteps: number[], channelDims: number[], extra: number, output?: string): string {
  const factors = weightSteps.map((s) => Math.fround(activationStep * s * extra));
  const dims = factors.length === 1 ? [] : channelDims;
  if (acc.type === 'fp32') return e.op('Mul', [acc.value, e.constant('dequantize.scale', dims, Float32Array.from(factors))], 'dequantize', [], output);
  const wide = acc.type === 'int32' ? e.op('Cast', [acc.value], 'accumulator.widen', [{name: 'to', type: 'int', value: DataType.DOUBLE}]) : acc.value;
  const product = e.op('Mul', [wide, e.constant('dequantize.scale', dims, Float64Array.from(factors))], 'dequantize');
  return e.op('Cast', [product], 'dequantize.narrow', [{name: 'to', type: 'int', value: DataType.FLOAT}], output);
}

/** x[.., K] @ W[K, N] (MatMul, or Gemm after normalising transposes); `extraScale`: Gemm's alpha. */
export function matrixContraction(x: RuntimeOperand, weight: QuantizedWeight, integerOperands: IntegerOperands, extraScale = 1): Contraction {
  return {
    activation: x,
    mergeActivation: (e, encoded, rank, what) => mergeLastAxis(e, encoded, x.rank, rank, what),
    other: (e, factors, rank, encoding, what) => weightOperand(e, weight, factors, rank, encoding, what, integerOperands),
    weightDigits: (e, factors, rank, digits, what) => weightDigitOperand(e, weight, factors, rank, digits, what),
    opType: 'MatMul',
    attributes: [],
    integerOperands,
    dequantization: {otherSteps: weight.steps, channelDims: [weight.dims[1]!], extra: extraScale},
  };
}

/** A[.., M, K] @ B[.., K, N] with both operands quantised at run time (attention products). */
export function activationContraction(a: RuntimeOperand, b: RuntimeOperand & {columns: number}, integerOperands: IntegerOperands): Contraction {
  return {
    activation: a,
    mergeActivation: (e, encoded, rank, what) => mergeLastAxis(e, encoded, a.rank, rank, what),
    other(e, factors, rank, encoding, what) {
      const encoded = encodeRunTime(e, b, factors, rank, encoding, what, integerOperands);
      if (rank === 1) return encoded;
      // [.., K, N, r] -> [.., K, r, N] -> [.., K·r, N]
      const perm = [...Array.from({length: b.rank - 1}, (_, i) => i), b.rank, b.rank - 1];
      const moved = e.op('Transpose', [encoded], `${what}.order`, [{name: 'perm', type: 'ints', value: perm}]);
      return e.op('Reshape', [moved, e.int64s(`${what}.shape`, [...Array<number>(b.rank - 2).fill(0), -1, b.columns])], `${what}.merge`);
    },
    weightDigits: undefined,
    opType: 'MatMul',
    attributes: [],
    integerOperands,
    dequantization: {otherSteps: [b.scale.step], channelDims: [], extra: 1},
  };
}

export interface ConvGeometry {
  /** pads as in ONNX: [begin_0, begin_1, …, end_0, end_1, …]. */
  pads: number[];
  /** Spatial dims of the input after padding (needed to merge the factor copies into channels). */
  paddedSpatial: number[];
  /** Conv attributes to keep (strides, dilations, group, kernel_shape). */
  attributes: Attribute[];
}

/**
 * Conv(X, W) on C·r channels. The input is padded with 0 before it is quantised: a padded position is
 * the quantised value 0 and contributes L[w][0] (not always 0), whatever the encoding. ConvInteger stores
 * uint8 operands on every provider: onnxruntime's CUDA provider has no ConvInteger (its CPU one runs it).
 */
export function convContraction(e: LayerEmitter, x: RuntimeOperand, weight: QuantizedWeight, geometry: ConvGeometry): Contraction {
  const spatialRank = weight.dims.length - 2;
  const hasPads = geometry.pads.some((p) => p !== 0);
  const pads = [0, 0, ...geometry.pads.slice(0, spatialRank), 0, 0, ...geometry.pads.slice(spatialRank)];
  const padded = hasPads ? {...x, name: e.op('Pad', [x.name, e.int64s('input.pads', pads)], 'input.pad')} : x;
  return {
    activation: padded,
    mergeActivation(e, encoded, rank, what) {
      if (rank === 1) return encoded;
      // [N, C, ...s, r] -> [N, C, r, ...s] -> [N, C·r, ...s]: channel c·r + j keeps each group's channels contiguous.
      const perm = [0, 1, spatialRank + 2, ...Array.from({length: spatialRank}, (_, i) => i + 2)];
      const moved = e.op('Transpose', [encoded], `${what}.order`, [{name: 'perm', type: 'ints', value: perm}]);
      return e.op('Reshape', [moved, e.int64s(`${what}.shape`, [0, -1, ...geometry.paddedSpatial])], `${what}.merge`);
    },
    other: (e, factors, rank, encoding, what) => weightOperand(e, weight, factors, rank, encoding, what, 'uint8'),
    weightDigits: undefined,
    opType: 'Conv',
    attributes: geometry.attributes,
    integerOperands: 'uint8',
    dequantization: {otherSteps: weight.steps, channelDims: [weight.dims[0]!, ...Array<number>(spatialRank).fill(1)], extra: 1},
  };
}
