// Search methods on SYNTHETIC instances small enough to enumerate (6 layers × 4 EvoApprox multipliers =
// 4096 configurations; accuracy model in src/approx/search/synthetic.ts). For each instance the true
// optimum (largest power saving within the accuracy-drop threshold) comes from enumeration; each method
// then runs with the same evaluation budget over several seeds, and we count the evaluations it needed
// before its best feasible point reached 95 % of the optimal saving.
// Run: npx tsx bench/search.bench.ts
import {compileSpace} from '../src/approx/search/space.js';
import {runSearch, type SearchMethod} from '../src/approx/search/search.js';
import {syntheticInstance, type SyntheticInstance} from '../src/approx/search/synthetic.js';
import type {Assignment} from '../src/approx/search/types.js';

// Held out: the policy and reward defaults were tuned on instances 1–6, never on these.
const INSTANCES = [101, 102, 103, 104, 105, 106, 107, 108];
const SEEDS = Array.from({length: 8}, (_, i) => i + 1);
// The whole space: every method can reach the target, so no run is censored.
const BUDGET = 4096;
const TARGET = 0.95;
const ALL_METHODS: SearchMethod[] = ['mcts', 'random', 'greedy', 'genetic', 'knapsack'];
// `npx tsx bench/search.bench.ts mcts knapsack` runs only those methods.
const METHODS = process.argv.length > 2 ? ALL_METHODS.filter((m) => process.argv.includes(m)) : ALL_METHODS;
// What the matrix costs in evaluations (layers × approximate circuits), charged to the methods that read it.
const usesMatrix = (method: SearchMethod): boolean => method !== 'random' && method !== 'genetic';

function enumerate(instance: SyntheticInstance): {optimum: number; hits: number; feasible: number; total: number} {
  const space = compileSpace(instance.problem);
  const {problem} = instance;
  const savings: {saving: number; feasible: boolean}[] = [];
  const visit = (config: number[]): void => {
    if (config.length === space.candidates.length) {
      const assignment: Assignment = space.toAssignment(config);
      const drop = problem.baselineAccuracy - instance.accuracyOf(assignment);
      savings.push({saving: 1 - space.relativePower(config), feasible: drop <= problem.maxAccuracyDrop});
      return;
    }
    for (let i = 0; i < space.candidates[config.length]!.length; i++) visit([...config, i]);
  };
  visit([]);
  const optimum = Math.max(...savings.filter((s) => s.feasible).map((s) => s.saving));
  const hits = savings.filter((s) => s.feasible && s.saving >= TARGET * optimum - 1e-12).length;
  return {optimum, hits, feasible: savings.filter((s) => s.feasible).length, total: savings.length};
}

/** Evaluations until the best feasible point reaches the target saving; undefined if never within the budget. */
function evaluationsToTarget(points: {order: number; feasible: boolean; relativePower: number}[], target: number): number | undefined {
  return points.find((p) => p.feasible && 1 - p.relativePower >= target - 1e-12)?.order;
}

const started = performance.now();
const CELLS = 6 * 3;
const CHECKPOINTS = [25, 50, 100, 200];
interface Tally {
  needed: number[];
  misses: number;
  /** Best feasible saving / optimal saving after CHECKPOINTS[i] evaluations, per run. */
  quality: number[][];
  evaluations: number[];
}
const tallies = new Map<SearchMethod, Tally>(METHODS.map((m) => [m, {needed: [], misses: 0, quality: CHECKPOINTS.map(() => []), evaluations: []}]));
console.log(`search: ${INSTANCES.length} SYNTHETIC instances × ${SEEDS.length} seeds, budget ${BUDGET} evaluations, target ${TARGET * 100}% of the optimal saving`);
for (const instanceSeed of INSTANCES) {
  const instance = syntheticInstance({seed: instanceSeed});
  const truth = enumerate(instance);
  const row: string[] = [];
  for (const method of METHODS) {
    const tally = tallies.get(method)!;
    const needed: number[] = [];
    // greedy and knapsack use no randomness: one run stands for every seed.
    for (const seed of method === 'greedy' || method === 'knapsack' ? [1] : SEEDS) {
      const result = await runSearch(instance.problem, {method, budget: BUDGET, seed});
      const n = evaluationsToTarget(result.points, TARGET * truth.optimum);
      if (n === undefined) tally.misses++;
      else tally.needed.push(n), needed.push(n);
      tally.evaluations.push(result.evaluations);
      CHECKPOINTS.forEach((budget, i) => tally.quality[i]!.push(bestSaving(result.points, budget) / truth.optimum));
    }
    row.push(`${method} ${needed.length === 0 ? 'never' : mean(needed).toFixed(0)}`);
  }
  console.log(
    `  instance ${instanceSeed}: optimum saving ${(truth.optimum * 100).toFixed(1)}%, ${truth.feasible}/${truth.total} feasible, ${truth.hits} reach the target ` +
      `(uniform sampling without replacement expects ${((truth.total + 1) / (truth.hits + 1)).toFixed(0)}); mean evaluations: ${row.join(', ')}`,
  );
}
for (const method of METHODS) {
  const t = tallies.get(method)!;
  const runs = t.needed.length + t.misses;
  const quality = CHECKPOINTS.map((budget, i) => `${budget}: ${(mean(t.quality[i]!) * 100).toFixed(0)}%`).join(', ');
  console.log(
    `  ${method.padEnd(8)}: reached the target in ${t.needed.length}/${runs} runs, mean ${mean(t.needed).toFixed(1)} (median ${median(t.needed)}) evaluations when reached` +
      `${usesMatrix(method) ? ` (+ ${CELLS} sensitivity cells = ${(mean(t.needed) + CELLS).toFixed(1)} charged)` : ''}; ` +
      `mean evaluations used ${mean(t.evaluations).toFixed(0)}; best saving / optimum after ${quality}`,
  );
}
const mcts = tallies.get('mcts');
const random = tallies.get('random');
if (mcts !== undefined && random !== undefined) console.log(
  `  random / mcts evaluations to target = ${(mean(random.needed) / mean(mcts.needed)).toFixed(2)}× (goal >= 3×; both reached it in every run: ${mcts.misses + random.misses === 0}); ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

function bestSaving(points: {order: number; feasible: boolean; relativePower: number}[], budget: number): number {
  let best = 0;
  for (const p of points) if (p.order <= budget && p.feasible) best = Math.max(best, 1 - p.relativePower);
  return best;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function median(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return String(sorted[Math.floor(sorted.length / 2)]);
}

// Parallel evaluations: the same MCTS run with evaluations that take 10 ms each (a sleep standing in for
// an ORT session on its own threads), 1, 2 and 4 in flight. The course must not change.
{
  const instance = syntheticInstance({seed: 101});
  const slow = {
    ...instance.problem,
    evaluate: async (assignment: Assignment, signal: AbortSignal) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return instance.problem.evaluate(assignment, signal);
    },
  };
  let reference: string | undefined;
  const timings: string[] = [];
  for (const parallel of [1, 2, 4]) {
    const t0 = performance.now();
    const result = await runSearch(slow, {method: 'mcts', budget: 100, seed: 1, parallel});
    timings.push(`P=${parallel} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    const course = JSON.stringify(result.points);
    reference ??= course;
    if (course !== reference) throw new Error(`search bench: parallel=${parallel} changed the course of the search`);
  }
  console.log(`  parallel evaluations (100 × 10 ms, batch 4): ${timings.join(', ')}; identical points for every P`);
}
