// Step kind "search": finds the per-layer multiplier assignment with the lowest relative power whose
// accuracy drop stays within a threshold (src/approx/search: MCTS with a hardware-driven rollout
// policy, random, greedy, genetic). Every configuration is evaluated for real (rewrite + ORT on a
// fixed subset) through the engine memo shared with `sensitivity`; the search state is checkpointed
// so a killed run resumes where it stopped.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {resolveMultiplier} from '../approx/library.js';
import type {Multiplier} from '../approx/multiplier.js';
import type {ApproximationRuntime} from '../approx/search-runtime/approximation-runtime.js';
import {predictedDrops, runSearch, searchPlotSvg, SEARCH_METHODS, type Assignment, type MultiplierCandidate, type RelativePower, type SearchMethod, type SearchResult, type SensitivityMatrix} from '../approx/search/index.js';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';
import {energyModel, macWeightedPowerModel, type PowerModel} from '../hw/cost.js';
import {tabulatedSource} from '../hw/figures.js';
import {asStepError, evaluationSchemaProperties, evaluationStore, memoisedBaseline, multiplierKeyExtras, openRuntime, parallelism, PROXIES, type EvaluationParams} from './shared/approximate-evaluation.js';

export const POWER_MODELS = ['transaxx', 'energy'] as const;

export interface SearchParams extends EvaluationParams {
  method: SearchMethod;
  budget: number;
  /** Largest accepted accuracy drop, in percentage points. */
  threshold: number;
  seed: number;
  sensitivity?: SensitivityMatrix;
  sensitivityMeasure: 'drop' | (typeof PROXIES)[number];
  powerModel: (typeof POWER_MODELS)[number];
  clockMHz: number;
  accumulatePj: number;
  parallel?: number;
  exploration?: number;
  iterationBatch: number;
  checkpointEvery: number;
}

/** The result output: the library's result plus the numbers needed to read it. */
export type SearchOutput = Omit<SearchResult, 'storeHits'> & {baselineAccuracy: number; maxAccuracyDrop: number; samples: number; powerModel: string};

export const searchKind: StepKind<SearchParams> = {
  name: 'search',
  version: 1,
  description: 'Search per-layer multiplier assignments (MCTS, random, greedy, genetic) for the lowest power within an accuracy-drop threshold',
  interruptNote: 'resumes from its last checkpoint (every checkpointEvery iterations)',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'calibration', 'dataset', 'multipliers'],
    properties: {
      ...evaluationSchemaProperties,
      method: {enum: [...SEARCH_METHODS], default: 'mcts'},
      budget: {type: 'integer', minimum: 1, default: 100, description: 'Distinct configurations to evaluate (memo hits count too, so the course never depends on the memo).'},
      threshold: {type: 'number', minimum: 0, default: 1, description: 'Largest accepted top-1 drop vs the quantised exact model, in percentage points.'},
      seed: {type: 'integer', default: 0},
      sensitivity: {type: 'object', 'x-axx-input': {type: 'value', format: 'sensitivity'}, description: 'A sensitivity matrix steering the rollout policy and greedy order.'},
      sensitivityMeasure: {enum: ['drop', ...PROXIES], default: 'drop', description: 'Which cell value predicts drops (a proxy is rescaled to drop units by least squares).'},
      powerModel: {enum: [...POWER_MODELS], default: 'transaxx', description: 'transaxx: Σ MAC share × P(mult)/P(exact); energy: with an accumulator per MAC (clockMHz, accumulatePj).'},
      clockMHz: {type: 'number', exclusiveMinimum: 0, default: 100, description: 'energy model: operations per second per multiplier.'},
      accumulatePj: {type: 'number', minimum: 0, default: 0, description: 'energy model: energy of one accumulation, pJ.'},
      parallel: {type: 'integer', minimum: 1, description: 'Evaluations in flight (default: the cpu grant); never changes the result.'},
      exploration: {type: 'number', exclusiveMinimum: 0, description: 'MCTS UCT constant c (default 1/(2√2), as TransAxx).'},
      iterationBatch: {type: 'integer', minimum: 1, default: 4, description: 'Configurations per iteration (mcts, random); part of the algorithm.'},
      checkpointEvery: {type: 'integer', minimum: 1, default: 1, description: 'Iterations between checkpoints.'},
    },
  },
  outputs: {
    result: {type: 'value', format: 'search', description: 'all evaluated points, Pareto front, best, MCTS greedy path, baseline and threshold'},
    assignment: {type: 'value', format: 'assignment', description: "layer → multiplier of the best point: pass it as approximate's `assign`"},
    plot: {type: 'file', format: 'svg', description: 'accuracy vs relative power, Pareto front, threshold, best'},
  },
  resources: {cpu: 2},
  keyExtras: multiplierKeyExtras,
  async run(ctx) {
    const p = ctx.params;
    const runtime = openRuntime(ctx);
    const power = powerModel(p);
    const multipliers = candidates(runtime, power);
    const store = evaluationStore(ctx.memo);
    const maxAccuracyDrop = p.threshold / 100;
    // Accuracies are multiples of 1/samples: 1 − 0.99 is 0.010000000000000009 in floating point, yet a
    // drop of exactly `threshold` points is within it.
    const feasibleDrop = maxAccuracyDrop + 1e-9;
    try {
      const baseline = await memoisedBaseline(runtime, store, multipliers, ctx.signal);
      const problem = {
        layers: runtime.layers,
        multipliers,
        baselineAccuracy: baseline.accuracy,
        maxAccuracyDrop: feasibleDrop,
        evaluate: (assignment: Assignment, signal: AbortSignal) => runtime.evaluate(assignment, signal),
        relativePower: assignmentPower(runtime, power),
        ...(p.sensitivity !== undefined ? {sensitivity: drops(p.sensitivity, p.sensitivityMeasure)} : {}),
      };
      const saved = await ctx.checkpoint.load();
      const options = {
        method: p.method,
        budget: p.budget,
        seed: p.seed,
        parallel: parallelism(ctx, p.parallel),
        batchSize: p.iterationBatch,
        ...(p.exploration !== undefined ? {exploration: p.exploration} : {}),
        memo: {store, scope: runtime.scope},
        checkpoint: {save: (state: Json) => ctx.checkpoint.save(state), every: p.checkpointEvery},
        signal: ctx.signal,
        onProgress({evaluations, budget, best}: {evaluations: number; budget: number; best?: {relativePower: number}}) {
          ctx.progress(evaluations, budget, 'eval');
          ctx.metric('evaluations', evaluations);
          if (best !== undefined) ctx.metric('bestSaving', 1 - best.relativePower);
        },
      };
      let result: SearchResult;
      try {
        result = await runSearch(problem, saved === undefined ? options : {...options, resumeFrom: saved.state});
        if (saved !== undefined) ctx.log(`resumed from a checkpoint with ${countPoints(saved.state)} evaluated configurations`);
      } catch (error) {
        // A checkpoint this version cannot continue is not worth failing for: start over.
        if (saved === undefined || !(error instanceof Error) || !error.message.startsWith('search checkpoint:')) throw error;
        ctx.log(`ignoring the checkpoint (${error.message}); starting over`, 'stderr');
        result = await runSearch(problem, options);
      }
      ctx.metric('evaluationsRun', runtime.evaluations);
      const {storeHits, ...rest} = result;
      const output: SearchOutput = {...rest, baselineAccuracy: baseline.accuracy, maxAccuracyDrop, samples: runtime.samples, powerModel: power.description};
      const assignment = result.bestConfig?.assign ?? Object.fromEntries(runtime.layers.map((l) => [l.name, runtime.exact.name]));
      const plot = join(ctx.scratchDir, 'search.svg');
      await writeFile(plot, searchPlotSvg(result, {baselineAccuracy: baseline.accuracy, maxAccuracyDrop, title: `${p.method} search: ${result.evaluations} evaluations on ${runtime.samples} samples`}));
      const best = result.best;
      ctx.log(
        best === undefined
          ? `no configuration within ${p.threshold} points after ${result.evaluations} evaluations; the assignment keeps every layer exact`
          : `best: ${(100 * (1 - best.relativePower)).toFixed(1)}% power saved at ${(100 * best.drop).toFixed(2)} points drop (${result.evaluations} evaluations, ${storeHits} from the memo, ${runtime.evaluations} run)`,
      );
      return {result: {value: output as unknown as Json}, assignment: {value: assignment}, plot: {file: plot}};
    } catch (error) {
      throw libraryError(error);
    }
  },
};

/** The library's validation errors are about the user's input: StepErrors with a hint. */
function libraryError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.message.startsWith('search problem: the sensitivity matrix')) return new StepError(error.message, 'measure the matrix with the same layers and multipliers', 'with.sensitivity');
  if (/^search( problem)?:/.test(error.message)) return new StepError(error.message, 'check the search parameters');
  return asStepError(error);
}

function powerModel(p: SearchParams): PowerModel {
  const source = tabulatedSource(resolveMultiplier('exact8s'), resolveMultiplier('exact8u'));
  return p.powerModel === 'energy' ? energyModel(source, {clockMHz: p.clockMHz, accumulatePj: p.accumulatePj}) : macWeightedPowerModel(source);
}

/** Each multiplier's power relative to the exact one, as the rollout policy weighs circuits. */
function candidates(runtime: ApproximationRuntime, power: PowerModel): MultiplierCandidate[] {
  return runtime.multipliers.map((m) => {
    let relativePower: number;
    try {
      relativePower = power.relativePower([{layer: 'any', macs: 1, multiplier: m}]);
    } catch (error) {
      throw new StepError((error as Error).message, 'choose circuits with tabulated power (EvoApprox)', 'with.multipliers');
    }
    return {name: m.name, id: m.id, relativePower, exact: m.id === runtime.exact.id};
  });
}

function assignmentPower(runtime: ApproximationRuntime, power: PowerModel): RelativePower {
  const byName = new Map<string, Multiplier>(runtime.multipliers.map((m) => [m.name, m]));
  return (assignment) => power.relativePower(runtime.layers.map((l) => ({layer: l.name, macs: l.macs, multiplier: byName.get(assignment[l.name] ?? runtime.exact.name)!})));
}

function drops(matrix: SensitivityMatrix, measure: string) {
  try {
    return predictedDrops(matrix, measure);
  } catch (error) {
    throw new StepError((error as Error).message, 'measure the proxy in the sensitivity step (its `proxy` list) or use sensitivityMeasure: drop', 'with.sensitivityMeasure');
  }
}

function countPoints(state: Json): number {
  const ledger = (state as {ledger?: unknown[]} | null)?.ledger;
  return Array.isArray(ledger) ? ledger.length : 0;
}
