import {describe, expect, it} from 'vitest';
import {exactFp32MaxK, factorize, fp64ErrorBound, integerFactorization, maxAbsDeviation, oddIndicatorFactorization} from './lowrank.js';
import {isUsedByte, operandTable} from './emulate/operand-table.js';
import {evoApproxRecords, resolveMultiplier} from './library.js';

const exactProduct = (): Int32Array => {
  const table = new Int32Array(65536);
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) table[a * 256 + b] = (a < 128 ? a : a - 256) * (b < 128 ? b : b - 256);
  return table;
};

describe('factorize', () => {
  it('finds rank 1 for the exact product and reproduces it', () => {
    const f = factorize(exactProduct());
    expect(f.rank).toBe(1);
    expect(f.maxAbsError).toBeLessThan(1e-9);
  });

  it('finds the rank of a random rank-3 integer table', () => {
    const table = new Int32Array(65536);
    const vecs = Array.from({length: 6}, (_, k) => Array.from({length: 256}, (_, i) => ((i * (k + 7) * 31) % 23) - 11));
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) for (let k = 0; k < 3; k++) table[a * 256 + b]! += vecs[k]![a]! * vecs[k + 3]![b]!;
    const f = factorize(table);
    expect(f.rank).toBe(3);
    expect(f.maxAbsError).toBeLessThan(1e-9);
    // one step short of the rank cannot reach the tolerance
    expect(factorize(table, {maxRank: 2}).maxAbsError).toBeGreaterThan(0.5);
  });

  it('rejects tables of the wrong size', () => {
    expect(() => factorize(new Int32Array(10))).toThrow(/65536 entries/);
  });
});

describe('integerFactorization', () => {
  it('falls back to a divisor group when no integral pivot exists', () => {
    // a 2×2 block whose every pivot leaves a fractional residual: the divisor group must take over
    const table = new Int32Array(65536);
    table[0] = 2;
    table[1] = 3;
    table[256] = 3;
    table[257] = 2;
    const groups = integerFactorization(table)!;
    expect(groups).toBeDefined();
    expect(maxAbsDeviation(table, groups)).toBe(0);
    for (const g of groups) for (const x of [...g.u, ...g.v]) expect(Number.isInteger(x)).toBe(true);
  });
});

describe('every EvoApprox circuit on narrow-range signed operands', () => {
  const names = [...evoApproxRecords().keys()];
  it.each(names)('%s: minimal exact factors, integer factors or a tiny fp64 bound', (name) => {
    const circuit = resolveMultiplier(name);
    const table = operandTable(circuit.table, circuit.signed);
    const f = factorize(table);
    expect(f.maxAbsError).toBeLessThan(1e-6);
    if (f.rank > 0) expect(factorize(table, {maxRank: f.rank - 1}).maxAbsError).toBeGreaterThan(1e-3);
    if (circuit.signed) expect(f.rank).toBeLessThanOrEqual(5);
    if (['mul8s_1L2H', 'mul8s_1KV8', 'mul8s_1L2D', 'mul8s_1L1G'].includes(name)) expect(f.rank).toBe(1);
    const groups = integerFactorization(table);
    if (groups) {
      expect(maxAbsDeviation(table, groups)).toBe(0);
      expect(groups.reduce((sum, g) => sum + g.rank, 0)).toBe(f.rank);
      expect(exactFp32MaxK(groups, isUsedByte)).toBeGreaterThanOrEqual(circuit.signed ? 1024 : 1);
    } else {
      expect(fp64ErrorBound(f, 768, isUsedByte)).toBeLessThan(1e-3);
    }
  });
});

describe('oddIndicatorFactorization', () => {
  it('reproduces every sign-magnitude table with one factor per non-zero magnitude row', () => {
    const circuit = resolveMultiplier('mul8u_12N4');
    const table = operandTable(circuit.table, circuit.signed);
    const group = oddIndicatorFactorization(table)!;
    expect(maxAbsDeviation(table, [group])).toBe(0);
    expect(group.rank).toBeLessThanOrEqual(127);
  });

  it('refuses a table that is not odd in its row operand', () => {
    const table = exactProduct();
    table.fill(0, 128 * 256, 129 * 256); // byte 0x80 never occurs (narrow range)
    expect(oddIndicatorFactorization(table)?.rank).toBe(127);
    table[1 * 256 + 1] = 2; // L[1][1] = 2 but L[-1][1] = -1
    expect(oddIndicatorFactorization(table)).toBeUndefined();
  });
});
