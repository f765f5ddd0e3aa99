// Families defined on operand values rather than partial-product bits: DRUM, Mitchell's logarithmic
// multiplier, operand truncation and rounding. DRUM and Mitchell are unsigned algorithms; their signed variants wrap
// the unsigned core in sign-magnitude form (|a|·|b| on magnitudes, negated when the signs differ), as
// src/hw/verilog/families.ts does in RTL.
import {operandValue, TABLE_SIZE} from '../multiplier.js';
import {toResult} from './partial-products.js';

type UnsignedCore = (a: number, b: number) => number;

/** Position of the most significant 1 of x > 0. */
function leadingOne(x: number): number {
  return 31 - Math.clz32(x);
}

/**
 * DRUM-k (Hashemi, Bahar, Reda, ICCAD 2015): an operand of 2^k or more keeps the k bits from its leading
 * one with the lowest kept bit set to 1 (unbiasing); the k×k product is shifted back. Smaller operands
 * are used as they are.
 */
export function drumCore(k: number): UnsignedCore {
  const reduce = (x: number): {f: number; shift: number} => {
    if (x < 2 ** k) return {f: x, shift: 0};
    const shift = leadingOne(x) - (k - 1);
    return {f: (x >> shift) | 1, shift};
  };
  return (a, b) => {
    const ra = reduce(a);
    const rb = reduce(b);
    return (ra.f * rb.f) << (ra.shift + rb.shift);
  };
}

/**
 * Mitchell (1962): log2 x ≈ t + f, t the leading-one position and f the bits below it read as a fraction;
 * the log sum's antilog is taken the same way, 2^t·(1 + f) or 2^(t+1)·f when f ≥ 1, truncated to an integer.
 * Fractions are kept with 7 bits, enough to be exact for 8-bit operands.
 */
export const mitchellCore: UnsignedCore = (a, b) => {
  if (a === 0 || b === 0) return 0;
  const ta = leadingOne(a);
  const tb = leadingOne(b);
  const fraction = ((a - 2 ** ta) << (7 - ta)) + ((b - 2 ** tb) << (7 - tb)); // in units of 2^-7
  const t = ta + tb;
  const mantissa = fraction < 128 ? 128 + fraction : fraction; // 1 + f, or f with t + 1
  const exponent = fraction < 128 ? t : t + 1;
  return Math.floor((mantissa * 2 ** exponent) / 128);
};

/** The table of an unsigned core, or of its sign-magnitude wrapper for signed operands. */
export function coreTable(signed: boolean, core: UnsignedCore): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) {
    const va = operandValue(signed, a);
    for (let b = 0; b < 256; b++) {
      const vb = operandValue(signed, b);
      const magnitude = core(Math.abs(va), Math.abs(vb));
      table[a * 256 + b] = toResult(signed, (va < 0) !== (vb < 0) ? -magnitude : magnitude);
    }
  }
  return table;
}

/** Both operands mapped through `reduce` (on their values), then multiplied exactly. */
function reducedOperandTable(signed: boolean, reduce: (value: number) => number): Int32Array {
  const table = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) {
    const ra = reduce(operandValue(signed, a));
    for (let b = 0; b < 256; b++) table[a * 256 + b] = ra * reduce(operandValue(signed, b));
  }
  return table;
}

/** Operand truncation: the k low bits of both operands set to 0 (two's complement: rounding toward −∞). */
export function operandTruncatedTable(signed: boolean, k: number): Int32Array {
  const mask = ~(2 ** k - 1);
  return reducedOperandTable(signed, (v) => v & mask);
}

/**
 * Operand rounding: each operand rounded half-up to a multiple of 2^k (saturating at the largest such
 * multiple the operand kind holds), then multiplied exactly.
 */
export function operandRoundedTable(signed: boolean, k: number): Int32Array {
  const step = 2 ** k;
  const largest = (signed ? 128 : 256) - step;
  return reducedOperandTable(signed, (v) => Math.min(largest, Math.floor((v + step / 2) / step) * step));
}
