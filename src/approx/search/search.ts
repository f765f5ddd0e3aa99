// One entry point for every method: compiles the problem, runs iterations until the evaluation budget
// is spent (or the method is done), checkpoints every few iterations, resumes from a checkpoint.
import {createHash} from 'node:crypto';
import {SearchInputError} from './errors.js';
import {geneticSearch} from './genetic-search.js';
import {greedySearch} from './greedy-search.js';
import {knapsackSearch} from './knapsack-search.js';
import {EvaluationLedger, type LedgerEntry} from './ledger.js';
import {memoise, type EvaluationScope, type EvaluationStore} from './memo.js';
import {Mcts} from './mcts.js';
import {bestFeasible, paretoFront} from './pareto.js';
import {DEFAULT_POLICY, type PolicyParams} from './policy.js';
import {randomSearch} from './random-search.js';
import {DEFAULT_REWARD, type RewardShape} from './reward.js';
import {Random} from '../../util/random.js';
import {compileSpace, type SearchSpace} from './space.js';
import type {SearchStrategy} from './strategy.js';
import type {Assignment, EvaluatedPoint, Json, SearchProblem} from './types.js';
import {DEFAULT_EXPLORATION} from './uct.js';

export const SEARCH_METHODS = ['mcts', 'random', 'greedy', 'genetic', 'knapsack'] as const;
export type SearchMethod = (typeof SEARCH_METHODS)[number];
/** What the `search` step uses unless told otherwise (docs/search.md has the measurements behind it); it needs a sensitivity matrix. */
export const DEFAULT_SEARCH_METHOD: SearchMethod = 'knapsack';

export interface SearchOptions {
  method: SearchMethod;
  /** Distinct configurations the search may evaluate (memo-store hits count too; see ledger.ts). */
  budget: number;
  seed: number;
  /** Evaluations in flight at once; does not change the result. Default 1. */
  parallel?: number;
  /** Configurations per iteration (mcts, random); part of the algorithm, so results depend on it. Default 4. */
  batchSize?: number;
  /** genetic: individuals kept and children bred per generation. Default 16. */
  populationSize?: number;
  /** UCT constant c; default 1/(2√2). */
  exploration?: number;
  policy?: Partial<PolicyParams>;
  reward?: Partial<RewardShape>;
  /** Memoisation across runs; the scope names the model and data subset. */
  memo?: {store: EvaluationStore; scope: EvaluationScope};
  checkpoint?: {
    save(state: Json): Promise<void>;
    /** Iterations between saves; default 1. */
    every?: number;
  };
  /** A state passed to `checkpoint.save` by an earlier, interrupted run with the same problem and options. */
  resumeFrom?: Json;
  signal?: AbortSignal;
  onProgress?(progress: {evaluations: number; budget: number; best?: EvaluatedPoint}): void;
}

export interface SearchResult {
  method: SearchMethod;
  /** Every distinct configuration evaluated, in the order asked for. */
  points: EvaluatedPoint[];
  /** Max accuracy / min relative power, sorted by power. */
  pareto: EvaluatedPoint[];
  /** Lowest-power point within the accuracy-drop threshold. */
  best?: EvaluatedPoint;
  /** `best` as the `approximate` step takes it. */
  bestConfig?: {assign: Assignment};
  /** MCTS only: the configuration at the end of the most-visited path (TransAxx's final answer). */
  greedyPath?: EvaluatedPoint;
  evaluations: number;
  /** Evaluations answered by the memo store instead of `evaluate` (this run only). */
  storeHits: number;
  iterations: number;
  /** True when the method ran out of configurations before the budget. */
  exhausted: boolean;
}

interface SearchState {
  format: 'axx-search';
  version: 1;
  method: SearchMethod;
  problem: string;
  iteration: number;
  finished: boolean;
  rng: number;
  ledger: LedgerEntry[];
  strategy: Json;
}

export async function runSearch(problem: SearchProblem, options: SearchOptions): Promise<SearchResult> {
  const space = compileSpace(problem);
  if (!SEARCH_METHODS.includes(options.method)) throw new SearchInputError('options', `search: unknown method ${String(options.method)}; use one of ${SEARCH_METHODS.join(', ')}`);
  positiveInteger('budget', options.budget);
  const signal = options.signal ?? new AbortController().signal;
  const evaluator = memoise(problem.evaluate, options.memo && {...options.memo, multipliers: problem.multipliers});
  const ledger = new EvaluationLedger(space, evaluator, Math.max(1, options.parallel ?? 1), signal);
  const fingerprint = problemFingerprint(space, options);
  const saved = options.resumeFrom === undefined ? undefined : readState(options.resumeFrom, options.method, fingerprint);
  const rng = new Random(saved?.rng ?? options.seed);
  if (saved !== undefined) ledger.restore(saved.ledger);
  const strategy = createStrategy(space, rng, options, saved?.strategy);

  let iteration = saved?.iteration ?? 0;
  let finished = saved?.finished ?? false;
  const every = Math.max(1, options.checkpoint?.every ?? 1);
  while (!finished && ledger.count < options.budget) {
    signal.throwIfAborted();
    finished = !(await strategy.iterate(ledger, options.budget - ledger.count));
    iteration++;
    if (options.onProgress !== undefined) {
      const best = bestFeasible(ledger.points);
      options.onProgress(best === undefined ? {evaluations: ledger.count, budget: options.budget} : {evaluations: ledger.count, budget: options.budget, best});
    }
    if (options.checkpoint !== undefined && iteration % every === 0) {
      const state: SearchState = {format: 'axx-search', version: 1, method: options.method, problem: fingerprint, iteration, finished, rng: rng.state, ledger: ledger.toJSON(), strategy: strategy.save()};
      // A deep copy: the live tree and ledger keep changing while the sink may still be writing.
      await options.checkpoint.save(JSON.parse(JSON.stringify(state)) as Json);
    }
  }

  const points = ledger.points;
  const best = bestFeasible(points);
  const result: SearchResult = {method: options.method, points, pareto: paretoFront(points), evaluations: ledger.count, storeHits: evaluator.hits, iterations: iteration, exhausted: finished && ledger.count < options.budget};
  if (best !== undefined) {
    result.best = best;
    result.bestConfig = {assign: {...best.assignment}};
  }
  const final = strategy.finalConfig?.();
  if (final !== undefined) result.greedyPath = ledger.get(final);
  return result;
}

function createStrategy(space: SearchSpace, rng: Random, options: SearchOptions, saved: Json | undefined): SearchStrategy {
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 4);
  switch (options.method) {
    case 'mcts':
      return new Mcts(space, rng, {exploration: options.exploration ?? DEFAULT_EXPLORATION, batchSize, policy: {...DEFAULT_POLICY, ...options.policy}, reward: {...DEFAULT_REWARD, ...options.reward}}, saved);
    case 'random':
      return randomSearch(space, rng, batchSize);
    case 'greedy':
      return greedySearch(space);
    case 'knapsack':
      return knapsackSearch(space);
    case 'genetic':
      return geneticSearch(space, rng, {populationSize: positiveInteger('populationSize', options.populationSize ?? 16), reward: {...DEFAULT_REWARD, ...options.reward}}, saved);
  }
}

/** What a checkpoint must agree with to be resumed: the problem's shape and every option that steers the search. */
function problemFingerprint(space: SearchSpace, options: SearchOptions): string {
  const {problem} = space;
  const steering = {
    layers: problem.layers.map((layer, l) => [layer.name, layer.macs, space.candidates[l]!.map((m) => [m.name, m.relativePower])]),
    baseline: problem.baselineAccuracy,
    threshold: problem.maxAccuracyDrop,
    sensitivity: space.drops ?? null,
    method: options.method,
    seed: options.seed,
    batchSize: options.batchSize ?? 4,
    populationSize: options.populationSize ?? 16,
    exploration: options.exploration ?? DEFAULT_EXPLORATION,
    policy: options.policy ?? null,
    reward: options.reward ?? null,
  };
  return createHash('sha256').update(JSON.stringify(steering)).digest('hex').slice(0, 16);
}

function readState(state: Json, method: SearchMethod, fingerprint: string): SearchState {
  const candidate = state as unknown as Partial<SearchState> | null;
  if (candidate === null || typeof candidate !== 'object' || candidate.format !== 'axx-search' || candidate.version !== 1) {
    throw new SearchInputError('checkpoint', 'search checkpoint: not a search state written by this version of axx; delete the checkpoint to start over');
  }
  if (candidate.method !== method || candidate.problem !== fingerprint) {
    throw new SearchInputError('checkpoint', `search checkpoint: written by a different search (method ${String(candidate.method)}, problem ${String(candidate.problem)}; now ${method}, ${fingerprint}); delete the checkpoint to start over`);
  }
  return candidate as SearchState;
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) throw new SearchInputError('options', `search: "${name}" must be a positive integer, got ${value}`);
  return value;
}
