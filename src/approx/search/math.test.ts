import {describe, expect, it} from 'vitest';
import {bestFeasible, paretoFront} from './pareto.js';
import {RolloutPolicy} from './policy.js';
import {macWeightedRelativePower} from './power.js';
import {reward} from './reward.js';
import {Random} from '../../util/random.js';
import {compileSpace} from './space.js';
import type {SearchProblem} from './types.js';
import {DEFAULT_EXPLORATION, uctScore} from './uct.js';

const multipliers = [
  {name: 'exact', id: 'e', relativePower: 1, exact: true},
  {name: 'cheap', id: 'c', relativePower: 0.5},
];

function problem(overrides: Partial<SearchProblem> = {}): SearchProblem {
  return {
    layers: [
      {name: 'big', macs: 900},
      {name: 'small', macs: 100},
    ],
    multipliers,
    baselineAccuracy: 0.9,
    maxAccuracyDrop: 0.02,
    evaluate: async () => ({accuracy: 0.9}),
    ...overrides,
  };
}

describe('uctScore', () => {
  it('is the mean plus c·sqrt(ln N / n), infinite for unvisited children', () => {
    expect(DEFAULT_EXPLORATION).toBeCloseTo(0.353553, 6);
    expect(uctScore(0, 0, 10, DEFAULT_EXPLORATION)).toBe(Infinity);
    expect(uctScore(3, 4, 20, 0.5)).toBeCloseTo(0.75 + 0.5 * Math.sqrt(Math.log(20) / 4), 12);
    // Fewer visits with the same mean → larger exploration bonus.
    expect(uctScore(1, 2, 20, 0.5)).toBeGreaterThan(uctScore(5, 10, 20, 0.5));
  });
});

describe('reward', () => {
  const context = {maxAccuracyDrop: 0.02, maxSaving: 0.5};
  it('is the normalised saving when feasible', () => {
    expect(reward({drop: 0.01, relativePower: 0.75}, context)).toBeCloseTo(0.5, 12);
    expect(reward({drop: 0.02, relativePower: 0.5}, context)).toBeCloseTo(1, 12);
  });
  it('grades infeasible points by the violation and keeps them below feasible ones', () => {
    const near = reward({drop: 0.021, relativePower: 0.5}, context);
    const far = reward({drop: 0.035, relativePower: 0.5}, context);
    expect(near).toBeCloseTo(0.5 * (1 - 0.001 / 0.02), 12);
    expect(far).toBeLessThan(near);
    expect(near).toBeLessThan(reward({drop: 0.02, relativePower: 0.5}, context));
    expect(reward({drop: 0.05, relativePower: 0.5}, context)).toBe(0);
  });
});

describe('macWeightedRelativePower', () => {
  it("weights each layer's multiplier power by its MAC share", () => {
    const power = macWeightedRelativePower(problem().layers, multipliers);
    expect(power({big: 'exact', small: 'exact'})).toBe(1);
    expect(power({big: 'cheap', small: 'exact'})).toBeCloseTo(0.9 * 0.5 + 0.1, 12);
    expect(() => power({big: 'cheap'})).toThrow(/no multiplier for layer small/);
  });
});

describe('RolloutPolicy', () => {
  it('favours the cheap circuit more on the layer holding more MACs', () => {
    const policy = new RolloutPolicy(compileSpace(problem()), {powerWeight: 3, riskWeight: 15});
    const [bigExact, bigCheap] = policy.weights(0, 0);
    const [smallExact, smallCheap] = policy.weights(1, 0);
    expect(bigCheap! / bigExact!).toBeCloseTo(Math.exp(3), 10);
    expect(smallCheap! / smallExact!).toBeCloseTo(Math.exp(3 / 9), 10);
  });

  it('penalises candidates predicted to overrun the remaining accuracy budget', () => {
    const sensitivity = {big: {exact: 0, cheap: 0.015}, small: {exact: 0, cheap: 0.001}};
    const policy = new RolloutPolicy(compileSpace(problem({sensitivity})), {powerWeight: 3, riskWeight: 15});
    expect(policy.weights(0, 0)[1]).toBeCloseTo(Math.exp(3), 10); // 0.015 fits in 0.02
    // 0.01 already committed: 0.025 overruns by 0.005 = a quarter of the threshold.
    expect(policy.weights(0, 0.01)[1]).toBeCloseTo(Math.exp(3 - 15 * 0.25), 10);
  });

  it('calibrates the drop scale from evaluated configurations', () => {
    const sensitivity = {big: {exact: 0, cheap: 0.01}, small: {exact: 0, cheap: 0.002}};
    const policy = new RolloutPolicy(compileSpace(problem({sensitivity})), {powerWeight: 3, riskWeight: 15});
    // Real drops are twice the sum of single-layer drops.
    policy.calibrate([
      {config: [1, 0], outcome: {accuracy: 0.9 - 0.02}},
      {config: [1, 1], outcome: {accuracy: 0.9 - 0.024}},
    ]);
    expect(policy.dropScale).toBeCloseTo(2, 10);
    expect(policy.drop(0, 1)).toBeCloseTo(0.02, 12);
  });
});

describe('paretoFront / bestFeasible', () => {
  const points = [
    {id: 'a', accuracy: 0.9, relativePower: 1, feasible: true},
    {id: 'b', accuracy: 0.88, relativePower: 0.7, feasible: true},
    {id: 'c', accuracy: 0.87, relativePower: 0.8, feasible: true}, // dominated by b
    {id: 'd', accuracy: 0.8, relativePower: 0.5, feasible: false},
    {id: 'e', accuracy: 0.88, relativePower: 0.7, feasible: true}, // duplicate of b: first kept
    {id: 'f', accuracy: 0.79, relativePower: 0.6, feasible: false}, // dominated by d
  ];
  it('keeps non-dominated points sorted by power', () => {
    expect(paretoFront(points).map((p) => p.id)).toEqual(['d', 'b', 'a']);
  });
  it('picks the lowest-power feasible point', () => {
    expect(bestFeasible(points)?.id).toBe('b');
    expect(bestFeasible(points.filter((p) => !p.feasible))).toBeUndefined();
  });
});

describe('Random', () => {
  it('continues the same sequence from a saved state', () => {
    const a = new Random(42);
    a.next();
    const resumed = new Random(a.state);
    expect([a.next(), a.next()]).toEqual([resumed.next(), resumed.next()]);
  });
  it('never draws zero weights and follows the weights', () => {
    const rng = new Random(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[rng.weighted([1, 0, 3])]!++;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.5);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.5);
  });
});
