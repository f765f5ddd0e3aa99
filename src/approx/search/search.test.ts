import {describe, expect, it} from 'vitest';
import {evaluationKey, InMemoryEvaluationStore} from './memo.js';
import {runSearch, type SearchMethod, type SearchOptions, type SearchResult} from './search.js';
import {syntheticInstance} from './synthetic.js';
import type {Assignment, Json, SearchProblem} from './types.js';

// Three layers, additive drops: small enough to reason about by hand (27 configurations).
const DROPS: Record<string, Record<string, number>> = {
  A: {exact: 0, mid: 0.004, cheap: 0.012},
  B: {exact: 0, mid: 0.002, cheap: 0.006},
  C: {exact: 0, mid: 0.001, cheap: 0.003},
};

function tinyProblem(calls: Assignment[] = []): SearchProblem {
  return {
    layers: [
      {name: 'A', macs: 500},
      {name: 'B', macs: 300},
      {name: 'C', macs: 200},
    ],
    multipliers: [
      {name: 'exact', id: 'x', relativePower: 1, exact: true},
      {name: 'mid', id: 'm', relativePower: 0.7},
      {name: 'cheap', id: 'c', relativePower: 0.4},
    ],
    baselineAccuracy: 0.9,
    maxAccuracyDrop: 0.0095,
    sensitivity: DROPS,
    evaluate: async (assignment) => {
      calls.push(assignment);
      return {accuracy: 0.9 - Object.entries(assignment).reduce((sum, [layer, m]) => sum + DROPS[layer]![m]!, 0)};
    },
  };
}

/** What must not change between runs that should agree (storeHits depends on what the store held). */
function course(result: SearchResult): unknown {
  const {storeHits: _, ...rest} = result;
  return rest;
}

describe('greedy', () => {
  it('approximates the least sensitive layers per power saved first, keeping only feasible changes', async () => {
    const calls: Assignment[] = [];
    const result = await runSearch(tinyProblem(calls), {method: 'greedy', budget: 100, seed: 1});
    // Order by drop/saving of the cheapest circuit: C (0.025), B (0.033), A (0.04).
    expect(calls).toEqual([
      {A: 'exact', B: 'exact', C: 'cheap'},
      {A: 'exact', B: 'cheap', C: 'cheap'},
      {A: 'cheap', B: 'cheap', C: 'cheap'}, // drop 0.021: rejected
      {A: 'mid', B: 'cheap', C: 'cheap'}, // drop 0.013: rejected
    ]);
    expect(result.bestConfig).toEqual({assign: {A: 'exact', B: 'cheap', C: 'cheap'}});
    expect(result.best?.relativePower).toBeCloseTo(0.7, 12);
    expect(result.exhausted).toBe(true);
  });

  it('without a sensitivity matrix, takes the layers holding most MACs first', async () => {
    const calls: Assignment[] = [];
    const {sensitivity: _, ...blind} = tinyProblem(calls);
    await runSearch(blind, {method: 'greedy', budget: 100, seed: 1});
    expect(calls[0]).toEqual({A: 'cheap', B: 'exact', C: 'exact'});
  });

  it('stops at the budget', async () => {
    const result = await runSearch(tinyProblem(), {method: 'greedy', budget: 2, seed: 1});
    expect(result.evaluations).toBe(2);
    expect(result.exhausted).toBe(false);
  });
});

describe('knapsack', () => {
  it('evaluates the cheapest configuration the additive model admits first: on additive drops, the optimum at once', async () => {
    const calls: Assignment[] = [];
    const result = await runSearch(tinyProblem(calls), {method: 'knapsack', budget: 100, seed: 1});
    expect(calls[0]).toEqual({A: 'mid', B: 'mid', C: 'cheap'});
    expect(result.bestConfig).toEqual({assign: {A: 'mid', B: 'mid', C: 'cheap'}});
    // Then it tries what the model doubts, cheapest first, until nothing cheaper than the best is left.
    expect(result.exhausted).toBe(true);
    expect(result.points.every((p, i) => i === 0 || p.relativePower < 0.64 + 1e-12)).toBe(true);
  });

  it('learns from measurements how layers compound: drops twice the sum of the cells', async () => {
    const problem = tinyProblem();
    const compounding: SearchProblem = {...problem, evaluate: async (a, s) => ({accuracy: 0.9 - 2 * (0.9 - (await problem.evaluate(a, s)).accuracy)})};
    const result = await runSearch(compounding, {method: 'knapsack', budget: 100, seed: 1});
    // The feasible optimum under doubled drops (≤ 0.00475 additive): power 0.85 (A mid alone, or B and C mid).
    expect(result.best?.relativePower).toBeCloseTo(0.85, 12);
    expect(result.evaluations).toBeLessThan(27);
  });

  it('needs a sensitivity matrix', async () => {
    const {sensitivity: _, ...blind} = tinyProblem();
    await expect(runSearch(blind, {method: 'knapsack', budget: 10, seed: 1})).rejects.toMatchObject({name: 'SearchInputError', subject: 'sensitivity'});
  });
});

describe('random', () => {
  it('evaluates distinct configurations and enumerates the space when the budget allows', async () => {
    const calls: Assignment[] = [];
    const result = await runSearch(tinyProblem(calls), {method: 'random', budget: 100, seed: 3});
    expect(result.evaluations).toBe(27);
    expect(new Set(calls.map((a) => JSON.stringify(a))).size).toBe(27);
    expect(result.exhausted).toBe(true);
    // Enumeration finds the true optimum, which greedy misses: A mid, B mid, C cheap (drop 0.009, power 0.64).
    expect(result.bestConfig).toEqual({assign: {A: 'mid', B: 'mid', C: 'cheap'}});
    expect(result.pareto[0]?.relativePower).toBeCloseTo(0.4, 12);
  });
});

describe('mcts', () => {
  it('finds the optimum of a tiny instance with an ample budget', async () => {
    const result = await runSearch(tinyProblem(), {method: 'mcts', budget: 27, seed: 5});
    expect(result.bestConfig).toEqual({assign: {A: 'mid', B: 'mid', C: 'cheap'}});
    expect(result.best?.relativePower).toBeCloseTo(0.64, 12);
    expect(result.greedyPath).toBeDefined();
  });

  it('finds it well before enumerating, on average over seeds', async () => {
    const needed: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const result = await runSearch(tinyProblem(), {method: 'mcts', budget: 27, seed});
      needed.push(result.points.find((p) => Math.abs(p.relativePower - 0.64) < 1e-9)!.order);
    }
    expect(needed.reduce((a, b) => a + b, 0) / needed.length).toBeLessThan(12);
  });

  it('reports progress after every iteration', async () => {
    const seen: {evaluations: number; best?: number}[] = [];
    const result = await runSearch(tinyProblem(), {
      method: 'mcts',
      budget: 12,
      seed: 3,
      onProgress: ({evaluations, budget, best}) => {
        expect(budget).toBe(12);
        seen.push(best === undefined ? {evaluations} : {evaluations, best: best.relativePower});
      },
    });
    expect(seen).toHaveLength(result.iterations);
    expect(seen.at(-1)).toEqual({evaluations: 12, best: result.best!.relativePower});
    expect(seen.map((s) => s.evaluations)).toEqual([...seen.map((s) => s.evaluations)].sort((a, b) => a - b));
  });

  it('returns every point with power, drop and feasibility, and a Pareto front of them', async () => {
    const instance = syntheticInstance({seed: 11});
    const result = await runSearch(instance.problem, {method: 'mcts', budget: 40, seed: 2});
    expect(result.points).toHaveLength(40);
    expect(result.points.map((p) => p.order)).toEqual(Array.from({length: 40}, (_, i) => i + 1));
    for (const p of result.points) {
      expect(p.accuracy).toBe(instance.accuracyOf(p.assignment));
      expect(p.feasible).toBe(p.drop <= instance.problem.maxAccuracyDrop);
    }
    for (const p of result.pareto) {
      expect(result.points.some((q) => q.accuracy >= p.accuracy && q.relativePower < p.relativePower)).toBe(false);
    }
    expect(result.best?.feasible).toBe(true);
  });
});

describe('genetic', () => {
  it('keeps improving its best point and finds the tiny optimum with an ample budget', async () => {
    const result = await runSearch(tinyProblem(), {method: 'genetic', budget: 27, seed: 2, populationSize: 6});
    expect(result.bestConfig).toEqual({assign: {A: 'mid', B: 'mid', C: 'cheap'}});
    expect(new Set(result.points.map((p) => JSON.stringify(p.assignment))).size).toBe(result.points.length);
  });
});

describe('per-layer candidates', () => {
  it.each(['mcts', 'random', 'genetic'] as SearchMethod[])('%s only assigns a layer the multipliers it may use', async (method) => {
    const p = tinyProblem();
    const restricted = {...p, layers: p.layers.map((layer) => (layer.name === 'C' ? {...layer, candidates: ['exact', 'mid']} : layer))};
    const result = await runSearch(restricted, {method, budget: 18, seed: 1});
    expect(result.evaluations).toBe(18);
    expect(result.points.every((point) => point.assignment.C !== 'cheap')).toBe(true);
    expect(new Set(result.points.map((point) => point.assignment.C))).toEqual(new Set(['exact', 'mid']));
  });
});

describe('determinism', () => {
  const methods: SearchMethod[] = ['mcts', 'random', 'greedy', 'genetic'];
  it.each(methods)('%s: same seed → same course, whatever the parallelism', async (method) => {
    const instance = syntheticInstance({seed: 12});
    // Completion order scrambled by per-call delays: results must not depend on it.
    let call = 0;
    const slow: SearchProblem = {
      ...instance.problem,
      evaluate: async (a, signal) => {
        await new Promise((resolve) => setTimeout(resolve, (call++ * 7) % 5));
        return instance.problem.evaluate(a, signal);
      },
    };
    const serial = await runSearch(instance.problem, {method, budget: 60, seed: 9});
    const parallel = await runSearch(slow, {method, budget: 60, seed: 9, parallel: 4});
    expect(course(parallel)).toEqual(course(serial));
    if (method !== 'greedy') {
      const other = await runSearch(instance.problem, {method, budget: 60, seed: 10});
      expect(other.points.map((p) => p.assignment)).not.toEqual(serial.points.map((p) => p.assignment));
    }
  });
});

describe('memoisation', () => {
  it('keys by model, subset and circuit ids; a single-layer cell and the same full configuration share a key', () => {
    const scope = {modelId: 'm1', subsetId: 's1'};
    const {multipliers} = tinyProblem();
    const cell = evaluationKey(scope, {B: 'cheap'}, multipliers);
    expect(evaluationKey(scope, {C: 'exact', A: 'exact', B: 'cheap'}, multipliers)).toBe(cell);
    expect(evaluationKey({...scope, subsetId: 's2'}, {B: 'cheap'}, multipliers)).not.toBe(cell);
    expect(evaluationKey({...scope, modelId: 'm2'}, {B: 'cheap'}, multipliers)).not.toBe(cell);
    expect(evaluationKey(scope, {B: 'mid'}, multipliers)).not.toBe(cell);
    expect(evaluationKey(scope, {A: 'cheap'}, multipliers)).not.toBe(cell);
    // Same name, different circuit: a different key.
    const redefined = multipliers.map((m) => (m.name === 'cheap' ? {...m, id: 'c-v2'} : m));
    expect(evaluationKey(scope, {B: 'cheap'}, redefined)).not.toBe(cell);
    expect(() => evaluationKey(scope, {B: 'nope'}, multipliers)).toThrow(/layer B uses unknown multiplier nope/);
  });

  it('a second run over the same store evaluates nothing and follows the same course', async () => {
    const store = new InMemoryEvaluationStore();
    const memo = {store, scope: {modelId: 'm', subsetId: 's'}};
    const first: Assignment[] = [];
    const a = await runSearch(tinyProblem(first), {method: 'mcts', budget: 15, seed: 4, memo});
    expect(a.storeHits).toBe(0);
    expect(store.size).toBe(15);
    const second: Assignment[] = [];
    const b = await runSearch(tinyProblem(second), {method: 'mcts', budget: 15, seed: 4, memo});
    expect(second).toHaveLength(0);
    expect(b.storeHits).toBe(15);
    expect(course(b)).toEqual(course(a));
    // Another method reuses what it can.
    const third: Assignment[] = [];
    const c = await runSearch(tinyProblem(third), {method: 'random', budget: 27, seed: 4, memo});
    expect(c.storeHits).toBe(15);
    expect(third).toHaveLength(12);
  });
});

describe('checkpoint and resume', () => {
  const methods: SearchMethod[] = ['mcts', 'random', 'greedy', 'genetic'];
  const options = (method: SearchMethod): SearchOptions => ({method, budget: 60, seed: 21, parallel: 3, batchSize: 4});

  async function interrupted(method: SearchMethod, abortAfterCalls: number, resumeFrom: Json | undefined): Promise<Json | undefined> {
    const instance = syntheticInstance({seed: 13});
    const controller = new AbortController();
    let calls = 0;
    let saved = resumeFrom;
    const problem: SearchProblem = {
      ...instance.problem,
      evaluate: async (a, signal) => {
        if (++calls === abortAfterCalls) controller.abort();
        return instance.problem.evaluate(a, signal);
      },
    };
    const run = runSearch(problem, {
      ...options(method),
      ...(resumeFrom === undefined ? {} : {resumeFrom}),
      signal: controller.signal,
      checkpoint: {every: 2, save: async (state) => void (saved = JSON.parse(JSON.stringify(state)) as Json)},
    });
    await expect(run).rejects.toThrow(/abort/i);
    return saved;
  }

  it.each(methods)('%s: killed at various points, resumed from the last checkpoint → same result', async (method) => {
    const instance = syntheticInstance({seed: 13});
    const reference = await runSearch(instance.problem, options(method));
    for (const abortAt of method === 'greedy' ? [2, 5] : [2, 9, 23, 41]) {
      const saved = await interrupted(method, abortAt, undefined);
      const resumed = await runSearch(instance.problem, {...options(method), ...(saved === undefined ? {} : {resumeFrom: saved})});
      expect(course(resumed), `aborted after ${abortAt} calls`).toEqual(course(reference));
    }
    if (method !== 'greedy') {
      // Killed twice: the second run resumes, is killed again, and a third finishes.
      const first = await interrupted(method, 11, undefined);
      const second = await interrupted(method, 15, first);
      const finished = await runSearch(instance.problem, {...options(method), resumeFrom: second!});
      expect(course(finished)).toEqual(course(reference));
    }
  });

  it('refuses a checkpoint of a different search', async () => {
    let saved: Json | undefined;
    await runSearch(tinyProblem(), {method: 'mcts', budget: 8, seed: 1, checkpoint: {save: async (s) => void (saved = s)}});
    await expect(runSearch(tinyProblem(), {method: 'mcts', budget: 8, seed: 2, resumeFrom: saved!})).rejects.toThrow(/different search/);
    await expect(runSearch(tinyProblem(), {method: 'random', budget: 8, seed: 1, resumeFrom: saved!})).rejects.toThrow(/different search/);
    await expect(runSearch(tinyProblem(), {method: 'mcts', budget: 8, seed: 1, resumeFrom: {}})).rejects.toThrow(/not a search state/);
  });
});

describe('bad input', () => {
  it('names the field and what to do', async () => {
    const p = tinyProblem();
    await expect(runSearch({...p, layers: [{name: 'A', macs: 1, candidates: ['nope']}]}, {method: 'mcts', budget: 5, seed: 1})).rejects.toThrow(
      /layers\[0\] \(A\): unknown candidate multiplier nope; known: exact, mid, cheap/,
    );
    await expect(runSearch(p, {method: 'mcts', budget: 0, seed: 1})).rejects.toThrow(/"budget" must be a positive integer/);
    await expect(runSearch(p, {method: 'anneal' as SearchMethod, budget: 5, seed: 1})).rejects.toThrow(/unknown method anneal/);
    await expect(runSearch({...p, sensitivity: {A: {mid: 0.1}}}, {method: 'mcts', budget: 5, seed: 1})).rejects.toThrow(/no drop for layer A × multiplier cheap/);
    await expect(runSearch({...p, evaluate: async () => ({accuracy: NaN})}, {method: 'random', budget: 5, seed: 1})).rejects.toThrow(/must resolve to \{accuracy: number\}/);
  });
});
