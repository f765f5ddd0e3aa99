// How one layer emulates its multiplier exactly, given the multiplier's operand table and the
// layer's reduction length K (products summed per output):
//
// - 'int8-exact': the table is the exact product: plain int8 quantised inference. Weight layers
//   (MatMul/Gemm) run MatMulInteger (int32 accumulation); Conv and attention products run the
//   float op on the int8 values (exact while K·127² ≤ 2^24).
// - 'int8-shift': rank-1 tables whose activation factor is c·floor(q/2^s), c a power of two (the
//   truncating EvoApprox circuits: mul8s_1L2H, 1L2D, 1L1G, 1KR3, 1KR8, 1KTY): the activation is
//   shifted, the weight factor fits int8, and MatMulInteger does the rest. Weight layers only.
// - 'lowrank-int8': integer factors that fit 8 bits (with zero points): the activation factors are
//   gathered from a uint8 table and MatMulInteger sums the r copies along K in int32. Weight layers only.
// - 'lowrank-fp32': integer factor groups (lowrank.ts); the fp32 GEMM is exact by construction
//   (every partial sum an integer below 2^24), error bound 0.
// - 'lowrank-fp64': fp64 factors and an fp64 GEMM, accumulator rounded to the nearest integer; used
//   when no integer factorisation fits K. Exact when the Higham bound is < 0.5 (MatMul/Gemm only:
//   onnxruntime has no fp64 Conv).
// - 'lookup-fp32': the indicator factorisation (one factor per table row): a direct lookup written
//   as a GEMM, exact in fp32 like the integer path but of rank ~255; the last resort (high-rank
//   tables in Conv layers).
import {exactFp32MaxK, factorize, fp64ErrorBound, indicatorFactorization, integerFactorization, type FactorGroup} from '../lowrank.js';
import {isUsedByte, signedByte} from './operand-table.js';

export type EmulationPath = 'int8-exact' | 'int8-shift' | 'lowrank-int8' | 'lowrank-fp32' | 'lowrank-fp64' | 'lookup-fp32';

export interface EmulationPlan {
  path: EmulationPath;
  /** Total rank (sum over groups): the number of GEMM copies along K. */
  rank: number;
  /** For 'int8-exact' a single identity group (u[a] = a, v[b] = b). */
  groups: FactorGroup[];
  /** Worst-case |fp accumulator - exact integer accumulator| before rounding. */
  errorBound: number;
  /** Integer path: the activation factor is c·floor(q / 2^s). */
  shift?: {s: number; c: number};
  /** Integer low-rank path: zero points making activation factors (u + za) and weight factors (v + zb) uint8. */
  zeroPoints?: {activation: number; weight: number};
  /** Integer path for a product of two activations: how each side becomes uint8 for MatMulInteger. */
  pair?: {a: SideEncoding; b: SideEncoding};
}

/** A run-time operand as uint8: shifted (factor c·floor(q/2^s)) or gathered from a uint8 table (factor + zero). */
export type SideEncoding = {kind: 'shift'; s: number; c: number} | {kind: 'table'; zero: number};

export interface PlanOptions {
  /** fp64 GEMMs are possible (MatMul/Gemm; onnxruntime has no fp64 Conv). */
  fp64Allowed: boolean;
  /** MatMulInteger is possible (a constant weight in a MatMul/Gemm). */
  integerAllowed: boolean;
  /** Which factor the run-time activation takes: 'u' (row operand: MatMul/Gemm) or 'v' (Conv). */
  activationSide: 'u' | 'v';
  /** Both operands are run-time activations (attention products): MatMulInteger on two encoded sides. */
  pair?: boolean;
}

interface TableFactors {
  exactProduct: boolean;
  integer: FactorGroup[] | undefined;
  integerMaxK: number;
  fp64: ReturnType<typeof factorize>;
  lookup: FactorGroup;
  lookupMaxK: number;
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
    };
    cached.lookupMaxK = exactFp32MaxK([cached.lookup], isUsedByte);
    factorCache.set(table, cached);
  }
  return cached;
}

/** The plan for a K-term reduction, or an explanation of why no exact path exists. */
export function planEmulation(table: Int32Array, k: number, opts: PlanOptions): EmulationPlan | {error: string} {
  const f = factorsOf(table);
  // Float GEMMs over integer values are exact while every partial sum stays below 2^24; MatMulInteger and
  // ConvInteger accumulate in int32, exact while K·r·255² < 2^31 (uint8 operands minus zero points).
  const fitsFp32 = k * 127 * 128 <= 2 ** 24;
  const fitsInt32 = (rank: number) => k * rank * 255 * 255 < 2 ** 31;
  if (opts.pair) {
    const pair = pairPlan(f, k, fitsInt32);
    if (pair) return pair;
  }
  if (f.exactProduct && (opts.integerAllowed ? fitsInt32(1) : fitsFp32)) {
    return {path: 'int8-exact', rank: 1, groups: [identityGroup()], errorBound: 0, ...(opts.integerAllowed ? {shift: {s: 0, c: 1}} : {})};
  }
  const single = f.integer?.length === 1 && f.integer[0]!.rank === 1 && f.integer[0]!.divisor === 1 ? f.integer[0]! : undefined;
  if (opts.integerAllowed && single && fitsInt32(1)) {
    // Powers of two may move from the weight factor to the activation's c (u·v is unchanged), so the weight fits int8.
    const weightSide = opts.activationSide === 'u' ? single.v : single.u;
    const moved = commonPowerOfTwo(weightSide);
    const activation = (opts.activationSide === 'u' ? single.u : single.v).map((x) => x * moved);
    const weightFactor = weightSide.map((x) => x / moved);
    const shift = shiftForm(activation);
    if (shift && fitsInt8(weightFactor)) {
      const group = opts.activationSide === 'u' ? {...single, u: activation, v: weightFactor} : {...single, u: weightFactor, v: activation};
      return {path: 'int8-shift', rank: 1, groups: [group], errorBound: 0, shift};
    }
  }
  if (opts.integerAllowed && single0(f.integer) && fitsInt32(f.integer![0]!.rank)) {
    const group = f.integer![0]!;
    const activation = zeroPointFor(opts.activationSide === 'u' ? group.u : group.v);
    const weight = zeroPointFor(opts.activationSide === 'u' ? group.v : group.u);
    if (activation !== undefined && weight !== undefined) {
      return {path: 'lowrank-int8', rank: group.rank, groups: [group], errorBound: 0, zeroPoints: {activation, weight}};
    }
  }
  if (f.integer && k <= f.integerMaxK) {
    // An all-zero table (rank 0) still needs one (zero) GEMM to produce an accumulator of the right shape.
    const groups = f.integer.length > 0 ? f.integer : [{rank: 1, u: new Float64Array(256), v: new Float64Array(256), divisor: 1}];
    return {path: 'lowrank-fp32', rank: groups.reduce((sum, g) => sum + g.rank, 0), groups, errorBound: 0};
  }
  const bound = fp64ErrorBound(f.fp64, k, isUsedByte);
  if (opts.fp64Allowed && bound < 0.5) {
    return {path: 'lowrank-fp64', rank: f.fp64.rank, groups: [{rank: f.fp64.rank, u: f.fp64.u, v: f.fp64.v, divisor: 1}], errorBound: bound};
  }
  if (k <= f.lookupMaxK) return {path: 'lookup-fp32', rank: f.lookup.rank, groups: [f.lookup], errorBound: 0};
  const why = f.integer ? `integer factors are exact in fp32 only up to K = ${f.integerMaxK}` : `no integer factorisation of rank ≤ 32 exists (rank ${f.fp64.rank})`;
  const fp64 = opts.fp64Allowed ? `the fp64 error bound is ${bound.toPrecision(3)} ≥ 0.5` : 'onnxruntime has no fp64 Conv for the fp64 path';
  return {error: `no exact emulation for K = ${k}: ${why}, ${fp64}, and a direct lookup is exact in fp32 only up to K = ${f.lookupMaxK}`};
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

function fitsInt8(factor: Float64Array): boolean {
  for (let byte = 0; byte < 256; byte++) if (isUsedByte(byte) && !(factor[byte]! >= -128 && factor[byte]! <= 127 && Number.isInteger(factor[byte]))) return false;
  return true;
}

function single0(groups: FactorGroup[] | undefined): boolean {
  return groups?.length === 1 && groups[0]!.divisor === 1;
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

function pairPlan(f: TableFactors, k: number, fitsInt32: (rank: number) => boolean): EmulationPlan | undefined {
  const group = f.exactProduct ? identityGroup() : single0(f.integer) ? f.integer![0]! : undefined;
  if (!group || !fitsInt32(group.rank)) return undefined;
  const a = encodeSide(group.u, group.rank);
  const b = encodeSide(group.v, group.rank);
  if (!a || !b) return undefined;
  const path = f.exactProduct ? 'int8-exact' : a.kind === 'shift' && b.kind === 'shift' ? 'int8-shift' : 'lowrank-int8';
  return {path, rank: group.rank, groups: [group], errorBound: 0, pair: {a, b}};
}

function encodeSide(factor: Float64Array, rank: number): SideEncoding | undefined {
  const shift = rank === 1 ? shiftForm(factor) : undefined;
  if (shift) return {kind: 'shift', ...shift};
  const zero = zeroPointFor(factor);
  return zero === undefined ? undefined : {kind: 'table', zero};
}
