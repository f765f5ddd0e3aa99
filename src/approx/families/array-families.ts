// Families that drop partial-product bits of the array multiplier (see partial-products.ts). Signed
// variants are the same edits of the Baugh-Wooley matrix, whose sign constant is always kept.
import {bitOneProbability, partialProductTable} from './partial-products.js';

/**
 * Truncated multiplier: partial-product columns below k removed; with `correction`, the rounded expected
 * value of the removed bits under uniform operands is added back (Schulte & Swartzlander's constant
 * correction).
 */
export function truncatedTable(signed: boolean, k: number, correction: boolean): Int32Array {
  return partialProductTable(signed, (i, j) => i + j >= k, correction ? truncationCorrection(signed, k) : 0);
}

function truncationCorrection(signed: boolean, k: number): number {
  let expected = 0;
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) if (i + j < k) expected += 2 ** (i + j) * bitOneProbability(signed, i, j);
  }
  return Math.round(expected);
}

/** Broken-array multiplier (Mahdiani et al.): the h lowest rows and every cell right of column v omitted. */
export function brokenArrayTable(signed: boolean, h: number, v: number): Int32Array {
  return partialProductTable(signed, (i, j) => i >= h && i + j >= v);
}

/** Partial-product perforation (Zervakis et al.): the n partial products (rows) from row p on skipped. */
export function perforatedTable(signed: boolean, p: number, n: number): Int32Array {
  return partialProductTable(signed, (i) => i < p || i >= p + n);
}
