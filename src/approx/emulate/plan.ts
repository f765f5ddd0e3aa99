// How one layer emulates its multiplier exactly, given the multiplier's operand table and the
// layer's reduction length K (products summed per output). A plan is one of three kinds, each with its
// emitter in emit-layer.ts; its `path` names the formulation in the manifest (docs/emulation.md):
//
// 'integer' — one MatMulInteger/ConvInteger, int32 accumulation, both operands uint8:
// - 'int8-exact': the table is the exact product: plain int8 quantised inference.
// - 'int8-shift': rank-1 tables whose activation factor is c·floor(q/2^s), c a power of two (the
//   truncating EvoApprox circuits: mul8s_1L2H, 1L2D, 1L1G, 1KR3, 1KR8, 1KTY): the activation is shifted.
// - 'lowrank-int8': integer factors that fit 8 bits (with zero points): the activation factors are
//   gathered from a uint8 table and the op sums the r copies along K.
//
// 'float' — one float GEMM per factor group, combined Σ_g S_g/d_g:
// - 'int8-exact': the int8 values themselves (attention products too long for int32; exact while K·127² ≤ 2^24).
// - 'lowrank-fp32': integer factor groups (lowrank.ts); the fp32 GEMM is exact by construction
//   (every partial sum an integer below 2^24), error bound 0.
// - 'lowrank-fp64': fp64 factors and an fp64 GEMM, accumulator rounded to the nearest integer; used
//   when no integer factorisation fits K. Exact when the Higham bound is < 0.5 (MatMul/Gemm only:
//   onnxruntime has no fp64 Conv).
// - 'lookup-fp32': the indicator factorisation (one factor per table row): a direct lookup written
//   as a GEMM, exact in fp32 like the integer path but of rank ~255; the last resort (high-rank
//   tables in Conv layers).
//
// 'digits' — 'lookup-int8': the direct lookup on MatMulInteger, weight rows as int8 digits (DigitsPlan).
//
// Integer plans win whenever they fit; otherwise the cheapest exact formulation by GEMM_COST.
import {exactFp32MaxK, factorize, fp64ErrorBound, indicatorFactorization, integerFactorization, oddIndicatorFactorization, type FactorGroup} from '../lowrank.js';
import {isUsedByte, signedByte} from './operand-table.js';

export type EmulationPath = 'int8-exact' | 'int8-shift' | 'lowrank-int8' | 'lowrank-fp32' | 'lowrank-fp64' | 'lookup-int8' | 'lookup-fp32';
export const EMULATION_PATHS: readonly EmulationPath[] = ['int8-exact', 'int8-shift', 'lowrank-int8', 'lowrank-fp32', 'lowrank-fp64', 'lookup-int8', 'lookup-fp32'];

/**
 * A factor group oriented by operand role: the factors of the run-time activation (the table's row
 * operand in MatMul/Gemm and attention's left operand, its column operand in Conv) and of the other
 * operand (the weight, or attention's right operand), row-major [256, rank].
 */
export interface OrientedGroup {
  rank: number;
  activation: Float64Array;
  other: Float64Array;
  divisor: number;
}

/**
 * How an operand becomes an op input: float factors gathered by quantised value ('float'), or uint8
 * for MatMulInteger/ConvInteger: shifted (factor c·floor(q/2^s), stored floor(q/2^s) + 2^(7-s)) or
 * gathered from a uint8 table (factor + zero).
 */
export type OperandEncoding = {kind: 'float'; precision: 'fp32' | 'fp64'} | {kind: 'shift'; s: number; c: number} | {kind: 'table'; zero: number};
export type IntegerEncoding = Exclude<OperandEncoding, {kind: 'float'}>;

interface PlanCommon {
  /** Total rank (sum over groups): the number of GEMM copies along K. */
  rank: number;
  /** Worst-case |fp accumulator - exact integer accumulator| before rounding. */
  errorBound: number;
}

/** Float GEMMs, one per factor group (the identity group for the exact product), combined Σ_g S_g/d_g. */
export interface FloatPlan extends PlanCommon {
  kind: 'float';
  path: 'int8-exact' | 'lowrank-fp32' | 'lowrank-fp64' | 'lookup-fp32';
  precision: 'fp32' | 'fp64';
  groups: OrientedGroup[];
}

/** One MatMulInteger/ConvInteger over the r copies of one integer group, both operands encoded as uint8. */
export interface IntegerPlan extends PlanCommon {
  kind: 'integer';
  path: 'int8-exact' | 'int8-shift' | 'lowrank-int8';
  groups: [OrientedGroup];
  activation: IntegerEncoding;
  other: IntegerEncoding;
}

/**
 * A direct lookup on MatMulInteger: the activation one-hot (with its sign) over the table's non-zero
 * rows, the weight's table row split into `digits` int8 base-256 digits, one output block per digit
 * ([.., digits·N] int32), recombined Σ_t 256^t·block_t.
 */
export interface DigitsPlan extends PlanCommon {
  kind: 'digits';
  path: 'lookup-int8';
  groups: [OrientedGroup];
  activation: IntegerEncoding;
  digits: number;
}

export type EmulationPlan = FloatPlan | IntegerPlan | DigitsPlan;

/**
 * The cost model: time per multiply-accumulate of each GEMM kind relative to an fp32 one, so a plan
 * costs rank (× digits) × this per product of the layer. Measured by bench/emulation-paths.bench.ts
 * (onnxruntime's MLAS kernels on x86-64: fp64 GEMMs run ~2.5× slower than fp32, u8·s8 ~3× faster).
 */
export const GEMM_COST = {fp32: 1, fp64: 2.5, int8: 0.35} as const;

export function planCost(plan: EmulationPlan): number {
  switch (plan.kind) {
    case 'float':
      return plan.rank * GEMM_COST[plan.precision];
    case 'integer':
      return plan.rank * GEMM_COST.int8;
    case 'digits':
      return plan.rank * plan.digits * GEMM_COST.int8;
  }
}

/** The power of two the integer op's accumulator is multiplied by (the c of shifted operands). */
export function accumulatorScale(plan: EmulationPlan): number {
  if (plan.kind !== 'integer') return 1;
  const scaleOf = (encoding: IntegerEncoding): number => (encoding.kind === 'shift' ? encoding.c : 1);
  return scaleOf(plan.activation) * scaleOf(plan.other);
}

export interface PlanOptions {
  /** fp64 GEMMs are possible (MatMul/Gemm; onnxruntime has no fp64 Conv). */
  fp64Allowed: boolean;
  /** Which factor the run-time activation takes: 'u' (row operand: MatMul/Gemm, attention) or 'v' (Conv). */
  activationSide: 'u' | 'v';
  /** The other operand: a constant weight (quantised offline) or a run-time activation (attention products). */
  other: 'weight' | 'activation';
  /** The formulations the planner may choose (default: all), e.g. to measure or test one of them. */
  paths?: readonly EmulationPath[];
}

interface TableFactors {
  exactProduct: boolean;
  integer: FactorGroup[] | undefined;
  integerMaxK: number;
  fp64: ReturnType<typeof factorize>;
  lookup: FactorGroup;
  lookupMaxK: number;
  /** The lookup over magnitudes (sign-magnitude tables), else the plain one; its int8 digits. */
  oddLookup: FactorGroup;
  lookupDigits: number;
}

const factorCache = new WeakMap<Int32Array, TableFactors>();

function factorsOf(table: Int32Array): TableFactors {
  let cached = factorCache.get(table);
  if (!cached) {
    const integer = integerFactorization(table);
    cached = {
      exactProduct: isExactProduct(table),
      integer,
      integerMaxK: integer ? exactFp32MaxK(integer, isUsedByte) : 0,
      fp64: factorize(table),
      lookup: indicatorFactorization(table),
      lookupMaxK: 0,
      oddLookup: oddIndicatorFactorization(table) ?? indicatorFactorization(table),
      lookupDigits: 0,
    };
    cached.lookupDigits = int8DigitCount(cached.oddLookup.v);
    cached.lookupMaxK = exactFp32MaxK([cached.lookup], isUsedByte);
    factorCache.set(table, cached);
  }
  return cached;
}

/** The plan for a K-term reduction, or an explanation of why no exact path exists. */
export function planEmulation(table: Int32Array, k: number, opts: PlanOptions): EmulationPlan | {error: string} {
  const f = factorsOf(table);
  const orient = (group: FactorGroup): OrientedGroup =>
    opts.activationSide === 'u' ? {rank: group.rank, activation: group.u, other: group.v, divisor: group.divisor} : {rank: group.rank, activation: group.v, other: group.u, divisor: group.divisor};
  // Float GEMMs over integer values are exact while every partial sum stays below 2^24; MatMulInteger and
  // ConvInteger accumulate in int32, exact while K·r·255² < 2^31 (uint8 operands minus zero points).
  const fitsFp32 = k * 127 * 128 <= 2 ** 24;
  const fitsInt32 = (rank: number) => k * rank * 255 * 255 < 2 ** 31;
  const allowed = new Set(opts.paths ?? EMULATION_PATHS);
  const integer = allowed.has('int8-exact') || allowed.has('int8-shift') || allowed.has('lowrank-int8') ? integerPlan(f, opts.other, fitsInt32, orient) : undefined;
  if (integer && allowed.has(integer.path)) return integer;
  // The exact float and lookup formulations that fit K; the cheapest by the cost model wins.
  const candidates: EmulationPlan[] = [];
  if (f.exactProduct && fitsFp32) candidates.push({kind: 'float', path: 'int8-exact', precision: 'fp32', rank: 1, groups: [orient(identityGroup())], errorBound: 0});
  if (f.integer && k <= f.integerMaxK) {
    // An all-zero table (rank 0) still needs one (zero) GEMM to produce an accumulator of the right shape.
    const groups = f.integer.length > 0 ? f.integer : [{rank: 1, u: new Float64Array(256), v: new Float64Array(256), divisor: 1}];
    candidates.push({kind: 'float', path: 'lowrank-fp32', precision: 'fp32', rank: groups.reduce((sum, g) => sum + g.rank, 0), groups: groups.map(orient), errorBound: 0});
  }
  const bound = fp64ErrorBound(f.fp64, k, isUsedByte);
  if (opts.fp64Allowed && f.fp64.rank > 0 && bound < 0.5) {
    const group = orient({rank: f.fp64.rank, u: f.fp64.u, v: f.fp64.v, divisor: 1});
    candidates.push({kind: 'float', path: 'lowrank-fp64', precision: 'fp64', rank: f.fp64.rank, groups: [group], errorBound: bound});
  }
  // One-hot activation (|u| ≤ 1, stored 0…2 with zero point 1) times int8 digits (|d| ≤ 128), K·r terms in int32.
  const oneHot = f.oddLookup;
  if (opts.other === 'weight' && opts.activationSide === 'u' && opts.fp64Allowed && k * oneHot.rank * 2 * 128 < 2 ** 31) {
    const group = orient(oneHot);
    const activation = tableEncoding(group.activation);
    if (activation) candidates.push({kind: 'digits', path: 'lookup-int8', rank: oneHot.rank, groups: [group], activation, digits: f.lookupDigits, errorBound: 0});
  }
  if (k <= f.lookupMaxK) candidates.push({kind: 'float', path: 'lookup-fp32', precision: 'fp32', rank: f.lookup.rank, groups: [orient(f.lookup)], errorBound: 0});
  const cheapest = candidates.filter((plan) => allowed.has(plan.path)).reduce<EmulationPlan | undefined>((best, plan) => (best === undefined || planCost(plan) < planCost(best) ? plan : best), undefined);
  if (cheapest) return cheapest;
  const why = f.integer ? `integer factors are exact in fp32 only up to K = ${f.integerMaxK}` : `no integer factorisation of rank ≤ 32 exists (rank ${f.fp64.rank})`;
  const fp64 = opts.fp64Allowed ? `the fp64 error bound is ${bound.toPrecision(3)} ≥ 0.5` : 'onnxruntime has no fp64 Conv for the fp64 path';
  return {error: `no exact emulation for K = ${k}: ${why}, ${fp64}, and a direct lookup is exact in fp32 only up to K = ${f.lookupMaxK}`};
}

/**
 * MatMulInteger/ConvInteger on one integer group whose sides both encode as uint8, int32 accumulation.
 * A constant weight is encoded offline, so it only needs a table encoding; powers of two may move from
 * its factor to the activation's c (u·v is unchanged), so a truncating circuit's weight factor fits.
 */
function integerPlan(f: TableFactors, other: PlanOptions['other'], fitsInt32: (rank: number) => boolean, orient: (g: FactorGroup) => OrientedGroup): IntegerPlan | undefined {
  const source = f.exactProduct ? identityGroup() : f.integer?.length === 1 && f.integer[0]?.divisor === 1 ? f.integer[0] : undefined;
  if (!source || !fitsInt32(source.rank)) return undefined;
  const group = orient(source);
  const candidates = [group];
  if (other === 'weight' && group.rank === 1) {
    const moved = commonPowerOfTwo(group.other);
    candidates.unshift({...group, activation: group.activation.map((x) => x * moved), other: group.other.map((x) => x / moved)});
  }
  for (const candidate of candidates) {
    const activation = encodeSide(candidate.activation, candidate.rank);
    const otherSide = other === 'weight' ? tableEncoding(candidate.other) : encodeSide(candidate.other, candidate.rank);
    if (!activation || !otherSide) continue;
    const shifted = activation.kind === 'shift' && (other === 'weight' || otherSide.kind === 'shift');
    const path = f.exactProduct ? 'int8-exact' : shifted ? 'int8-shift' : 'lowrank-int8';
    return {kind: 'integer', path, rank: candidate.rank, groups: [candidate], errorBound: 0, activation, other: otherSide};
  }
  return undefined;
}

/** How many int8 base-256 digits (the last one signed, the others in [-128, 127]) hold every factor. */
function int8DigitCount(factors: Float64Array): number {
  let largest = 0;
  for (const x of factors) largest = Math.max(largest, Math.abs(x));
  let digits = 1;
  while (largest > 127) {
    largest = Math.ceil(largest / 256);
    digits++;
  }
  return digits;
}

function isExactProduct(table: Int32Array): boolean {
  for (let a = 0; a < 256; a++) {
    if (!isUsedByte(a)) continue;
    for (let b = 0; b < 256; b++) if (isUsedByte(b) && table[a * 256 + b] !== signedByte(a) * signedByte(b)) return false;
  }
  return true;
}

function identityGroup(): FactorGroup {
  const identity = Float64Array.from({length: 256}, (_, byte) => (isUsedByte(byte) ? signedByte(byte) : 0));
  return {rank: 1, u: identity, v: identity, divisor: 1};
}

/** {s, c} when factor(q) = c·floor(q / 2^s) for every used byte q, c a power of two. */
function shiftForm(factor: Float64Array): {s: number; c: number} | undefined {
  for (let s = 0; s < 8; s++) {
    let c: number | undefined;
    let ok = true;
    for (let byte = 0; byte < 256 && ok; byte++) {
      if (!isUsedByte(byte)) continue;
      const base = Math.floor(signedByte(byte) / 2 ** s);
      if (c === undefined && base !== 0) c = factor[byte]! / base;
      ok = factor[byte] === (c ?? 0) * base;
    }
    if (ok && c !== undefined && c !== 0 && Number.isInteger(Math.log2(Math.abs(c)))) return {s, c};
  }
  return undefined;
}

/** A zero point z with factor + z in [0, 255] for every used byte, or undefined. */
function zeroPointFor(factors: Float64Array): number | undefined {
  let min = 0;
  let max = 0;
  const rank = factors.length / 256;
  for (let byte = 0; byte < 256; byte++) {
    if (!isUsedByte(byte)) continue;
    for (let j = 0; j < rank; j++) {
      const x = factors[byte * rank + j]!;
      if (!Number.isInteger(x)) return undefined;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
  }
  return max - min <= 255 ? Math.min(-min, 255) : undefined;
}

/** The largest power of two dividing every used entry (1 if some entry is odd; entries are integers). */
function commonPowerOfTwo(factor: Float64Array): number {
  let power = 2 ** 30;
  for (let byte = 0; byte < 256; byte++) {
    const x = factor[byte]!;
    if (!isUsedByte(byte) || x === 0) continue;
    while (power > 1 && x % power !== 0) power /= 2;
  }
  return power === 2 ** 30 ? 1 : power;
}

/** A shift encoding when the factor has one (rank 1), else a uint8 table encoding, or undefined. */
function encodeSide(factor: Float64Array, rank: number): IntegerEncoding | undefined {
  const shift = rank === 1 ? shiftForm(factor) : undefined;
  return shift ? {kind: 'shift', ...shift} : tableEncoding(factor);
}

function tableEncoding(factors: Float64Array): IntegerEncoding | undefined {
  const zero = zeroPointFor(factors);
  return zero === undefined ? undefined : {kind: 'table', zero};
}
