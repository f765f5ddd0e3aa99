// Gradients of approximate products read off the multiplier's table (docs/gradients.md).
//
// An emulated layer computes y = s₀·s₁·Σ f(q₀, q₁) over its reduction, with qᵢ = round(xᵢ / sᵢ) the
// narrow-range int8 operands and f the circuit's table. Straight-through ('ste') differentiates it as
// the exact float op (∂f/∂q₀ = q₁). The table estimators use the circuit's own slope instead:
//
//   'lut-2d': ∂f/∂q₀(a, b) = (f(a + h, b) − f(a − h, b)) / (2h), a central difference of the table
//             with window h (one-sided where a ± h leaves [−127, 127]); likewise for q₁.
//   'lut-1d': the same slope compressed to one factor per operand value, ∂f/∂q₀(a, b) ≈ g₀(a)·b with
//             g₀(a) = Σ_b D₀(a, b)·b / Σ_b b² (the least-squares fit of each row of D₀ by b);
//             for the exact product g₀ ≡ 1, so lut-1d = ste with quantised weights.
//
// Both are carried as a low-rank factorisation D(a, b) ≈ Σ_j own_j(a)·other_j(b), so the backward
// pass is `rank` copies of the exact op's gradient GEMM on gathered operands, as fast as the forward.
// For tables of rank r the 2-D slope has rank ≤ r and the factorisation is exact; high-rank tables
// are truncated at `maxRank` and the worst entry error is recorded.
import {factorize} from '../approx/lowrank.js';
import {isUsedByte, signedByte} from '../approx/emulate/operand-table.js';

export const GRADIENT_ESTIMATORS = ['ste', 'lut-2d', 'lut-1d'] as const;
export type GradientEstimator = (typeof GRADIENT_ESTIMATORS)[number];
export type TableEstimator = Exclude<GradientEstimator, 'ste'>;

/** Operand values of a narrow-range int8 operand: −127 … 127, stored at index value + 127. */
export const OPERAND_LEVELS = 255;
const OFFSET = 127;

export interface TableGradientOptions {
  estimator: TableEstimator;
  /** Half-width h of the central difference, in quanta (≥ 1). */
  window: number;
  /** Largest number of rank terms kept for a 2-D slope (high-rank tables are truncated). */
  maxRank: number;
}

/** ∂f/∂(this operand) ≈ Σ_j own[j](this operand's value)·other[j](the other operand's value). */
export interface OperandSlope {
  rank: number;
  /** [rank][255]: factor of this operand's value (index value + 127). */
  own: number[][];
  /** [rank][255]: factor of the other operand's value. */
  other: number[][];
  /** max |slope table − factorisation| over all operand pairs, in table units per quantum. */
  maxAbsError: number;
}

export interface TableSlopes {
  /** Slope along the table's row operand a of f(a, b). */
  row: OperandSlope;
  /** Slope along the table's column operand b. */
  column: OperandSlope;
}

export class TableGradientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableGradientError';
  }
}

/**
 * The slopes of a narrow-range operand table (byte-indexed, as `operandTable` returns it: entry
 * (a & 0xff)·256 + (b & 0xff) holds f(a, b)).
 */
export function tableSlopes(table: Int32Array, opts: TableGradientOptions): TableSlopes {
  if (!Number.isInteger(opts.window) || opts.window < 1 || opts.window > 64) throw new TableGradientError(`gradient window must be an integer in [1, 64], got ${opts.window}`);
  if (!Number.isInteger(opts.maxRank) || opts.maxRank < 1) throw new TableGradientError(`gradient maxRank must be a positive integer, got ${opts.maxRank}`);
  const f = (a: number, b: number) => table[(a & 0xff) * 256 + (b & 0xff)]!;
  const rowSlope = slopeTable((a, b) => f(a, b), opts.window);
  // The column slope is the row slope of the transposed table, so one code path serves both.
  const columnSlope = slopeTable((b, a) => f(a, b), opts.window);
  return {row: compress(rowSlope, opts), column: compress(columnSlope, opts)};
}

/** D[x][y] = (g(x + h, y) − g(x − h, y)) / (x⁺ − x⁻), x± = x ± h clamped to the operand range; byte-indexed. */
function slopeTable(g: (x: number, y: number) => number, h: number): Float64Array {
  const out = new Float64Array(256 * 256);
  for (let xb = 0; xb < 256; xb++) {
    if (!isUsedByte(xb)) continue;
    const x = signedByte(xb);
    const hi = Math.min(x + h, OFFSET);
    const lo = Math.max(x - h, -OFFSET);
    for (let yb = 0; yb < 256; yb++) {
      if (!isUsedByte(yb)) continue;
      const y = signedByte(yb);
      out[xb * 256 + yb] = (g(hi, y) - g(lo, y)) / (hi - lo);
    }
  }
  return out;
}

function compress(slope: Float64Array, opts: TableGradientOptions): OperandSlope {
  return opts.estimator === 'lut-1d' ? oneDimensional(slope) : twoDimensional(slope, opts.maxRank);
}

const byValue = (byteIndexed: Float64Array, rank: number, j: number): number[] =>
  Array.from({length: OPERAND_LEVELS}, (_, i) => byteIndexed[((i - OFFSET) & 0xff) * rank + j]!);

function twoDimensional(slope: Float64Array, maxRank: number): OperandSlope {
  const scale = slope.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const factors = factorize(slope, {tolerance: Math.max(scale, 1) * 1e-9, maxRank});
  if (factors.rank === 0) {
    const zeros = new Array<number>(OPERAND_LEVELS).fill(0);
    return {rank: 1, own: [zeros], other: [zeros], maxAbsError: 0};
  }
  const terms = Array.from({length: factors.rank}, (_, j) => j);
  return {
    rank: factors.rank,
    own: terms.map((j) => byValue(factors.u, factors.rank, j)),
    other: terms.map((j) => byValue(factors.v, factors.rank, j)),
    maxAbsError: factors.maxAbsError,
  };
}

function oneDimensional(slope: Float64Array): OperandSlope {
  const values = Array.from({length: OPERAND_LEVELS}, (_, i) => i - OFFSET);
  const sumSquares = values.reduce((s, y) => s + y * y, 0);
  const own = values.map((x) => values.reduce((s, y) => s + slope[(x & 0xff) * 256 + (y & 0xff)]! * y, 0) / sumSquares);
  let maxAbsError = 0;
  for (const x of values) {
    for (const y of values) maxAbsError = Math.max(maxAbsError, Math.abs(slope[(x & 0xff) * 256 + (y & 0xff)]! - own[x + OFFSET]! * y));
  }
  return {rank: 1, own: [own], other: [values], maxAbsError};
}
