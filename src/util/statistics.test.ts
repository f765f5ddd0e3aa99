import {describe, expect, it} from 'vitest';
import {Random} from './random.js';
import {binomialCdf, dropVerdict, mcnemarExact, mcnemarFromCorrectness, normalQuantile, pairedDrop, pairedDropInterval, samplesForHalfWidth, wilsonInterval} from './statistics.js';

describe('statistics', () => {
  it('normal quantiles match published values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5);
  });

  it('Wilson intervals match reference values (R: binom::binom.wilson / statsmodels proportion_confint)', () => {
    const a = wilsonInterval(81, 263);
    expect(a.low).toBeCloseTo(0.2553, 4);
    expect(a.high).toBeCloseTo(0.3662, 4);
    const b = wilsonInterval(9873, 10000);
    expect(b.low).toBeCloseTo(0.98490, 4);
    expect(b.high).toBeCloseTo(0.98933, 4);
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(10, 10).high).toBe(1);
    expect(wilsonInterval(0, 0)).toEqual({low: 0, high: 1});
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
  });

  it('binomial CDF sums exactly', () => {
    expect(binomialCdf(2, 4, 0.5)).toBeCloseTo(11 / 16, 12);
    expect(binomialCdf(-1, 4, 0.5)).toBe(0);
    expect(binomialCdf(4, 4, 0.5)).toBe(1);
  });

  it('McNemar exact p-values equal 2·P(Binomial(b + c, ½) ≤ min(b, c)) computed with exact integers', () => {
    expect(mcnemarExact(0, 0).pValue).toBe(1);
    expect(mcnemarExact(5, 5).pValue).toBe(1);
    expect(mcnemarExact(10, 2).pValue).toBeCloseTo(0.0385742, 6);
    expect(mcnemarExact(2, 10).pValue).toBeCloseTo(0.0385742, 6);
    expect(mcnemarExact(30, 12).pValue).toBeCloseTo(0.0079159, 6);
  });

  it('McNemar from per-image correctness counts the discordant pairs', () => {
    const r = mcnemarFromCorrectness([1, 1, 0, 0, 1], [1, 0, 1, 0, 0]);
    expect(r.onlyFirstCorrect).toBe(2);
    expect(r.onlySecondCorrect).toBe(1);
    expect(() => mcnemarFromCorrectness([1], [1, 0])).toThrow(/same images/);
  });

  it('sample size for a resolution', () => {
    // ±1 point at 95 % around 90 % accuracy needs 1.96² · 0.09 / 0.0001 ≈ 3458 images.
    expect(samplesForHalfWidth(0.9, 0.01)).toBe(3458);
  });
});

describe('paired drops', () => {
  it('the Agresti–Min interval matches a hand computation', () => {
    // b = 30, c = 12 of n = 1000: (30.5 − 12.5)/1002 ± 1.96 · √(43 − 18²/1002)/1002
    const interval = pairedDropInterval(pairedDrop(30, 12, 1000));
    const half = (1.959964 * Math.sqrt(43 - 324 / 1002)) / 1002;
    expect(interval.low).toBeCloseTo(18 / 1002 - half, 6);
    expect(interval.high).toBeCloseTo(18 / 1002 + half, 6);
  });

  it('no discordant image still leaves an interval of nonzero width', () => {
    const interval = pairedDropInterval(pairedDrop(0, 0, 200));
    expect(interval.high).toBeGreaterThan(0.005);
    expect(interval.low).toBeLessThan(-0.005);
  });

  it('a drop on the threshold is undecided; one far below is within; one far above is beyond', () => {
    expect(dropVerdict(pairedDrop(25, 10, 1000), 0.015, 0.05).verdict).toBe('undecided');
    expect(dropVerdict(pairedDrop(5, 5, 5000), 0.015, 0.05).verdict).toBe('within');
    expect(dropVerdict(pairedDrop(200, 10, 5000), 0.015, 0.05).verdict).toBe('beyond');
    expect(() => dropVerdict(pairedDrop(1, 1, 10), 0.01, 0.7)).toThrow(RangeError);
  });

  it('calls a configuration whose true drop equals the threshold "within" at most alpha of the time', () => {
    // Simulated pairs: P(only baseline right) = 3 %, P(only candidate right) = 1.5 %: true drop 1.5 points.
    const random = new Random(7);
    let within = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      let b = 0;
      let c = 0;
      for (let i = 0; i < 1000; i++) {
        const u = random.next();
        if (u < 0.03) b++;
        else if (u < 0.045) c++;
      }
      if (dropVerdict(pairedDrop(b, c, 1000), 0.015, 0.1).verdict === 'within') within++;
    }
    expect(within / trials).toBeLessThan(0.1 + 0.02);
    expect(within / trials).toBeGreaterThan(0.05);
  });
});
