import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {resolveMultiplier} from './library.js';
import {errorMetrics, type ErrorMetrics} from './metrics.js';
import {exactTable} from './multiplier.js';

const COLUMNS: Record<string, keyof ErrorMetrics> = {
  'MAE%': 'maePercent',
  MAE: 'mae',
  'WCE%': 'wcePercent',
  WCE: 'wce',
  'WCRE%': 'wcrePercent',
  'EP%': 'epPercent',
  'MRE%': 'mrePercent',
  MSE: 'mse',
};

const PERCENT_OF: Record<string, string> = {'MAE%': 'MAE', 'WCE%': 'WCE'};

/** One unit in the last printed digit of a metrics.csv cell ("72829.102e2" -> 0.1, "33" -> 1, "1.2" -> 0.1). */
function lastDigitUnit(text: string): number {
  const [mantissa = '', exponent = '0'] = text.toLowerCase().split('e');
  const decimals = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  return 10 ** (Number(exponent) - decimals);
}

const csv = readFileSync(new URL('../../assets/evoapprox/metrics.csv', import.meta.url), 'utf8').trim().split(/\r?\n/);
const header = (csv.shift() ?? '').split(',');
const rows = csv.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [header[i] ?? '', cell])));

describe('EvoApprox metrics are reproduced from the tables', () => {
  // metrics.csv prints 2–5 significant digits, rounded or truncated (1KRC's MAE 36.54 is printed "36"):
  // every computed value must lie within one unit of the last printed digit. MAE% and WCE% were
  // sometimes derived from the already rounded MAE/WCE (1KVA: MAE 1.25 printed "1.2", MAE% "0.0018" =
  // 1.2/2^16), so they may instead match the percentage of the printed absolute figure.
  it.each(rows.map((row) => [row['name'] ?? '', row] as const))('%s', (name, row) => {
    const computed = errorMetrics(resolveMultiplier(name));
    for (const [column, key] of Object.entries(COLUMNS)) {
      const text = row[column] ?? '';
      const absoluteColumn = PERCENT_OF[column];
      const fromPrinted = absoluteColumn === undefined ? Infinity : Math.abs((100 * Number(row[absoluteColumn])) / 2 ** 16 - Number(text));
      const difference = Math.min(Math.abs(computed[key] - Number(text)), fromPrinted);
      expect(difference, `${name} ${column}: published ${text}, computed ${computed[key]}`).toBeLessThanOrEqual(lastDigitUnit(text));
    }
  });

  it('covers all 49 circuits', () => expect(rows).toHaveLength(49));
});

describe('errorMetrics', () => {
  const exact = {signed: false, table: exactTable(false)};

  it('is zero for the exact product', () => {
    expect(Object.values(errorMetrics(exact)).every((v) => v === 0)).toBe(true);
  });

  it('gives bias and spread of a constant offset', () => {
    const plusTwo = {signed: true, table: exactTable(true).map((v) => v + 2)};
    const m = errorMetrics(plusTwo);
    expect(m).toMatchObject({mae: 2, meanError: 2, errorStd: 0, mse: 4, wce: 2, epPercent: 100});
  });

  it('weights errors by the operand distribution', () => {
    const table = exactTable(false);
    table[3 * 256 + 5] = 0; // only 3×5 is wrong (by −15)
    const a = new Array<number>(256).fill(0);
    const b = new Array<number>(256).fill(0);
    a[3] = 1;
    b[5] = 3;
    b[6] = 1;
    const m = errorMetrics({signed: false, table}, {a, b});
    expect(m.mae).toBeCloseTo(15 * 0.75);
    expect(m.meanError).toBeCloseTo(-15 * 0.75);
    expect(m.epPercent).toBeCloseTo(75);
    expect(m.mrePercent).toBeCloseTo(75);
    expect(m.wce).toBe(15);
    // A pair that never occurs does not count, not even for the worst case.
    b[5] = 0;
    expect(errorMetrics({signed: false, table}, {a, b}).wce).toBe(0);
  });

  it('rejects malformed histograms', () => {
    expect(() => errorMetrics(exact, {a: [1, 2], b: new Array(256).fill(1)})).toThrow(/histogram a needs 256 bins/);
    expect(() => errorMetrics(exact, {a: new Array(256).fill(0), b: new Array(256).fill(1)})).toThrow(/histogram a is empty/);
    expect(() => errorMetrics(exact, {a: new Array(256).fill(1), b: new Array(256).fill(-1)})).toThrow(/histogram b: bin 0 is -1/);
  });
});
