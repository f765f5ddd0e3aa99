// The 8×8 array multiplier as a matrix of partial-product bits pp(i, j) = a[j] & b[i] of weight 2^(i+j),
// summed modulo 2^16: unsigned as is, signed in Baugh-Wooley form (the bits pairing one sign bit with one
// magnitude bit inverted, 2^8 + 2^15 added). Truncation, broken arrays, perforation and operand truncation
// are all "keep only some bits" edits of this matrix; src/hw/verilog/bit-matrix.ts builds the same matrix
// in RTL, so tables and Verilog agree bit for bit.
import {TABLE_SIZE} from '../multiplier.js';

/** Which partial-product bit: i = bit of b (row), j = bit of a (column within the row); weight 2^(i+j). */
export type KeepBit = (i: number, j: number) => boolean;

/** Baugh-Wooley inverts the bits that pair exactly one sign bit with a magnitude bit. */
function isInvertedBit(signed: boolean, i: number, j: number): boolean {
  return signed && (i === 7) !== (j === 7);
}

const BAUGH_WOOLEY_CONSTANT = 2 ** 8 + 2 ** 15;

/** Probability that a partial-product bit is 1 for uniform operands (1/4, or 3/4 when inverted). */
export function bitOneProbability(signed: boolean, i: number, j: number): number {
  return isInvertedBit(signed, i, j) ? 0.75 : 0.25;
}

/** Table of the array multiplier keeping only the bits `keep` accepts, plus `extraConstant`. */
export function partialProductTable(signed: boolean, keep: KeepBit, extraConstant = 0): Int32Array {
  const kept: {i: number; j: number; weight: number; inverted: boolean}[] = [];
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) if (keep(i, j)) kept.push({i, j, weight: 2 ** (i + j), inverted: isInvertedBit(signed, i, j)});
  }
  const constant = (signed ? BAUGH_WOOLEY_CONSTANT : 0) + extraConstant;
  const table = new Int32Array(TABLE_SIZE);
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      let sum = constant;
      for (const bit of kept) {
        const one = (a >> bit.j) & (b >> bit.i) & 1;
        if ((one === 1) !== bit.inverted) sum += bit.weight;
      }
      table[a * 256 + b] = toResult(signed, sum);
    }
  }
  return table;
}

/** The 16-bit result word (sum mod 2^16) read as two's complement or unsigned. */
export function toResult(signed: boolean, sum: number): number {
  const word = ((sum % 65536) + 65536) % 65536;
  return signed && word >= 32768 ? word - 65536 : word;
}
