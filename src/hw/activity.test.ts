import {expect, test} from 'vitest';
import {bitProbabilities, operandActivity} from './activity.js';

function histogramOf(values: number[]): number[] {
  const bins = new Array<number>(256).fill(0);
  for (const value of values) bins[value & 0xff]! += 1;
  return bins;
}

test('bit probabilities of raw bytes; negative values set the high bits', () => {
  // 1, 3 and -1 (0xff): bit 0 always 1, bit 1 in two of three, bit 7 only for -1.
  const p = bitProbabilities(histogramOf([1, 3, -1]));
  expect(p[0]).toBe(1);
  expect(p[1]).toBeCloseTo(2 / 3, 12);
  expect(p[7]).toBeCloseTo(1 / 3, 12);
});

test('independent successive operands toggle with 2p(1-p); a stationary weight does not toggle', () => {
  const histograms = {a: histogramOf([0, 1]), b: histogramOf([2, 2, 2, 0]), weightOperand: 'b' as const};
  const streaming = operandActivity(histograms, 'output-stationary');
  expect(streaming['a[0]']).toEqual({toggleRate: 0.5, duty: 0.5});
  expect(streaming['a[5]']).toEqual({toggleRate: 0, duty: 0});
  expect(streaming['b[1]']).toEqual({toggleRate: 2 * 0.75 * 0.25, duty: 0.75});
  const stationary = operandActivity(histograms, 'weight-stationary');
  expect(stationary['b[1]']).toEqual({toggleRate: 0, duty: 0.75});
  expect(stationary['a[0]']).toEqual({toggleRate: 0.5, duty: 0.5});
});

test('malformed histograms are refused', () => {
  expect(() => bitProbabilities([1, 2, 3])).toThrow(/needs 256 bins/);
  expect(() => bitProbabilities(new Array<number>(256).fill(0))).toThrow(/empty/);
});
