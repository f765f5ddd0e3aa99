// Step kind "search": finds the per-layer multiplier assignment with the lowest relative power whose
// accuracy drop stays within a threshold (src/approx/search: MCTS with a hardware-driven rollout
// policy, random, greedy, genetic). Every configuration is evaluated for real (rewrite + ORT on a
// fixed subset) through the engine memo shared with `sensitivity`; the search state is checkpointed
// so a killed run resumes where it stopped.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {resolveMultiplier} from '../approx/library.js';
import type {Multiplier} from '../approx/multiplier.js';
import type {ApproximationRuntime, EvaluationSubset} from '../approx/search-runtime/approximation-runtime.js';
import {memoise} from '../approx/search/memo.js';
import {
  bestFeasible,
  confirm,
  DEFAULT_SEARCH_METHOD,
  paretoFront,
  pairedAgainst,
  predictedDrops,
  runSearch,
  SearchInputError,
  SEARCH_METHODS,
  type Assignment,
  type Confirmation,
  type ConfirmedCandidate,
  type EvaluatedPoint,
  type EvaluationOutcome,
  type MultiplierCandidate,
  type RelativePower,
  type SearchMethod,
  type SearchOptions,
  type SearchProblem,
  type SearchResult,
  type SensitivityMatrix,
} from '../approx/search/index.js';
import {searchPlotSvg} from '../report/svg/search-plot.js';
import {dropVerdict, pairedDropInterval, wilsonInterval, type DropVerdict, type Interval, type PairedDrop} from '../util/statistics.js';
import {StepError, type Json, type StepContext, type StepKind} from '../engine/step-kind.js';
import {energyModel, macWeightedPowerModel, type PowerModel} from '../hw/cost.js';
import {tabulatedSource} from '../hw/figures.js';
import {asStepError, evaluationKeyExtras, evaluationSchemaProperties, evaluationStore, evaluationTasks, memoisedBaseline, openRuntime, parallelism, PROXIES, TaskEvaluations, warnMissingClasses, type EvaluationParams} from './shared/approximate-evaluation.js';

export const POWER_MODELS = ['transaxx', 'energy'] as const;

export interface SearchParams extends EvaluationParams {
  method: SearchMethod;
  budget: number;
  /** Largest accepted accuracy drop, in percentage points. */
  threshold: number;
  seed: number;
  dataSeed: number;
  holdout: number;
  holdoutStages: number;
  confidence: number;
  margin: number;
  confirmCandidates: number;
  searchRounds: number;
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

/** The search subset's evidence on a point: paired with the baseline on the same images. */
export interface SubsetEvidence extends PairedDrop {
  /** Two-sided interval of the drop at the requested confidence. */
  interval: Interval;
  /** Whether the drop is distinguishable from the threshold at this sample size (`undecided`: it is not). */
  verdict: DropVerdict;
}

/** The result output: the library's result plus the numbers needed to read it. */
export type SearchOutput = Omit<SearchResult, 'storeHits'> & {
  baselineAccuracy: number;
  maxAccuracyDrop: number;
  samples: number;
  powerModel: string;
  sampling: ApproximationRuntime['sampling'] & {searchSamples: number; holdoutSamples: number};
  /** The search's own best point on its subset, with its paired evidence; `best` is what the outputs use. */
  searchBest?: EvaluatedPoint & {evidence: SubsetEvidence};
  /** The hold-out confirmation; absent when `holdout` is 0 (then the answer is unconfirmed). */
  confirmation?: Confirmation;
  /** The threshold (points) each search round aimed at on the search subset: the user's, then lowered ones. */
  searchThresholds: number[];
  /**
   * Two power figures per point: `relativePower` over the approximated layers only, `wholeModelPower` over
   * every multiply of the model (the layers left exact, e.g. patch embedding and head, at exact power).
   */
  power: {approximatedMacs: number; modelMacs: number};
  /** The Pareto front with the whole-model power and a 95 % Wilson interval of each accuracy. */
  front: (EvaluatedPoint & {wholeModelPower: number; interval: Interval})[];
};

export const searchKind: StepKind<SearchParams> = {
  name: 'search',
  version: 1,
  description: 'Search per-layer multiplier assignments (MCTS, random, greedy, genetic, knapsack) for the lowest power within an accuracy-drop threshold, confirmed on held-out images',
  interruptNote: 'resumes from its last checkpoint (every checkpointEvery iterations)',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'calibration', 'dataset', 'multipliers'],
    properties: {
      ...evaluationSchemaProperties,
      method: {enum: [...SEARCH_METHODS], default: DEFAULT_SEARCH_METHOD},
      budget: {type: 'integer', minimum: 1, default: 100, description: 'Distinct configurations to evaluate (memo hits count too, so the course never depends on the memo).'},
      threshold: {type: 'number', minimum: 0, default: 1, description: 'Largest accepted top-1 drop vs the quantised exact model, in percentage points.'},
      seed: {type: 'integer', default: 0, description: "Seeds the search's own randomness (MCTS rollouts, random and genetic draws)."},
      dataSeed: {type: 'integer', default: 0, description: 'Seeds the stratified draw of the search subset (`limit` samples) and the disjoint hold-out.'},
      holdout: {type: 'integer', minimum: 0, default: 0, description: 'Samples held out from the search to confirm its answer on (0: the answer is unconfirmed).'},
      holdoutStages: {type: 'integer', minimum: 1, default: 2, description: 'The hold-out is scored in this many stages; a candidate stops as soon as its verdict is clear.'},
      confidence: {type: 'number', exclusiveMinimum: 0.5, exclusiveMaximum: 1, default: 0.9, description: "Wanted probability that the confirmed answer's true drop is within the threshold."},
      margin: {type: 'number', minimum: 0, default: 0, description: 'Safety margin, percentage points: confirmation demands a drop within threshold − margin.'},
      searchRounds: {type: 'integer', minimum: 1, default: 3, description: 'With a hold-out: when no candidate is confirmed, search again (`budget` more evaluations each time) aiming below the threshold by the excess the hold-out showed; at most this many rounds in all.'},
      confirmCandidates: {type: 'integer', minimum: 1, default: 4, description: "Candidates from the search's front scored on the hold-out at most (the error rate is split over them)."},
      sensitivity: {type: 'object', 'x-axx-input': {type: 'value', format: 'sensitivity'}, description: "A sensitivity matrix: knapsack's predicted drops (required by it), MCTS's rollout policy, greedy's order."},
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
    result: {type: 'value', format: 'search', description: "all evaluated points, Pareto front (whole-model power, intervals), the search's best with its paired evidence, the hold-out confirmation, baseline, threshold and sampling"},
    assignment: {type: 'value', format: 'assignment', description: "layer → multiplier of the confirmed answer (unconfirmed best without a hold-out; all exact when none): pass it as approximate's `assign`"},
    plot: {type: 'file', format: 'svg', description: 'accuracy vs whole-model relative power, Pareto front, threshold, answer'},
  },
  resources: {cpu: 2},
  keyExtras: evaluationKeyExtras,
  tasks: evaluationTasks,
  async run(ctx) {
    const p = ctx.params;
    const {runtime, options: runtimeOptions} = await openRuntime(ctx, p.holdout > 0 ? {samples: p.holdout, stages: p.holdoutStages} : undefined);
    warnMissingClasses(ctx, runtime);
    const power = powerModel(p);
    const multipliers = candidates(runtime, power);
    const store = evaluationStore(ctx.memo);
    const evaluations = new TaskEvaluations(ctx, runtimeOptions, multipliers);
    const maxAccuracyDrop = p.threshold / 100;
    // Accuracies are multiples of 1/samples: 1 − 0.99 is 0.010000000000000009 in floating point, yet a
    // drop of exactly `threshold` points is within it.
    const feasibleDrop = maxAccuracyDrop + 1e-9;
    try {
      const baseline = await memoisedBaseline(runtime, evaluations.of(runtime, runtime), store, multipliers, ctx.signal);
      const problem = {
        layers: runtime.layers,
        multipliers,
        baselineAccuracy: baseline.accuracy,
        maxAccuracyDrop: feasibleDrop,
        evaluate: evaluations.of(runtime, runtime),
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
      let result = await searchResumable(problem, options, saved?.state, ctx);
      const memoised = (subset: EvaluationSubset) => {
        const evaluator = memoise(evaluations.of(runtime, subset), {store, scope: subset.scope, multipliers});
        return {samples: subset.samples, evaluate: (assignment: Assignment, signal: AbortSignal) => evaluator.evaluate(assignment, signal)};
      };
      const approximatedMacs = runtime.layers.reduce((sum, l) => sum + l.macs, 0);
      // Layers outside the search run on the exact multiplier: relative power 1 for their share of the MACs.
      const wholeModel = (relativePower: number): number => 1 - (approximatedMacs / runtime.modelMacs) * (1 - relativePower);
      const allExact = Object.fromEntries(runtime.layers.map((l) => [l.name, runtime.exact.name]));
      const stages = runtime.holdout.map(memoised);
      // Every round confirms anew: the error rate is split over the rounds too (Bonferroni), so the answer holds at `confidence`.
      const confirmOptions = {maxAccuracyDrop: feasibleDrop, confidence: 1 - (1 - p.confidence) / p.searchRounds, margin: p.margin / 100, maxCandidates: p.confirmCandidates, baseline: allExact, signal: ctx.signal};
      let confirmation = stages.length === 0 ? undefined : await confirm(result.points, stages, confirmOptions);
      // No candidate confirmed: the search's points sit too close to the threshold for the hold-out to tell.
      // Search again aiming below it by the excess the hold-out showed, and confirm among everything found.
      const searchThresholds = [feasibleDrop];
      for (let round = 1; round < p.searchRounds && confirmation?.answer === undefined && confirmation?.closest !== undefined; round++) {
        const excess = confirmation.closest.holdout.interval.high - (feasibleDrop - p.margin / 100);
        const lowered = searchThresholds.at(-1)! - Math.max(excess, 1 / runtime.samples);
        if (!(lowered > 0)) break;
        searchThresholds.push(lowered);
        ctx.log(`no candidate confirmed; searching again within ${points(lowered)} points on the search subset`);
        const {checkpoint: _, ...uncheckpointed} = options;
        result = mergeRounds(result, await runSearch({...problem, maxAccuracyDrop: lowered}, uncheckpointed), feasibleDrop);
        confirmation = await confirm(result.points, stages, confirmOptions);
      }
      ctx.metric('evaluationsRun', evaluations.ran);
      const {storeHits, best: searchBest, bestConfig: _, ...rest} = result;
      const output: SearchOutput = {
        ...rest,
        baselineAccuracy: baseline.accuracy,
        maxAccuracyDrop,
        samples: runtime.samples,
        powerModel: power.description,
        sampling: {...runtime.sampling, searchSamples: runtime.samples, holdoutSamples: runtime.holdout.reduce((sum, stage) => sum + stage.samples, 0)},
        searchThresholds: searchThresholds.map((drop) => Number((100 * drop).toFixed(4))),
        power: {approximatedMacs, modelMacs: runtime.modelMacs},
        front: result.pareto.map((point) => ({...point, wholeModelPower: wholeModel(point.relativePower), interval: wilsonInterval(Math.round(point.accuracy * runtime.samples), runtime.samples)})),
      };
      if (searchBest !== undefined) {
        const evaluated = await memoised(runtime).evaluate(searchBest.assignment, ctx.signal);
        output.searchBest = {...searchBest, evidence: subsetEvidence(baseline, evaluated, runtime.samples, feasibleDrop, p.confidence)};
      }
      const answer = confirmation === undefined ? searchBest : confirmation.answer && result.points.find((point) => sameAssignment(point.assignment, confirmation.answer!.assignment));
      if (answer !== undefined) {
        output.best = answer;
        output.bestConfig = {assign: {...answer.assignment}};
      }
      if (confirmation !== undefined) output.confirmation = confirmation;
      const plot = join(ctx.scratchDir, 'search.svg');
      const onWholeModel = <T extends EvaluatedPoint>(point: T): T => ({...point, relativePower: wholeModel(point.relativePower)});
      const plotted = {method: result.method, points: result.points.map(onWholeModel), pareto: result.pareto.map(onWholeModel), ...(answer !== undefined ? {best: onWholeModel(answer)} : {})};
      const title = `${p.method} search: ${result.evaluations} evaluations on ${runtime.samples} samples${confirmation === undefined ? ' (unconfirmed)' : ''}`;
      await writeFile(plot, searchPlotSvg(plotted, {baselineAccuracy: baseline.accuracy, maxAccuracyDrop, title, powerLabel: 'whole-model relative power (every multiply; 1 = exact multipliers)'}));
      ctx.log(summary(output, storeHits, evaluations.ran, p));
      const assignment = answer?.assignment ?? allExact;
      return {result: {value: output as unknown as Json}, assignment: {value: assignment}, plot: {file: plot}};
    } catch (error) {
      throw libraryError(error);
    }
  },
};

/** Runs the search, resuming a checkpoint when there is one; a checkpoint this version cannot continue is not worth failing for. */
async function searchResumable(problem: SearchProblem, options: SearchOptions, saved: Json | undefined, ctx: StepContext<SearchParams>): Promise<SearchResult> {
  if (saved === undefined) return runSearch(problem, options);
  try {
    const result = await runSearch(problem, {...options, resumeFrom: saved});
    ctx.log(`resumed from a checkpoint with ${countPoints(saved)} evaluated configurations`);
    return result;
  } catch (error) {
    if (!(error instanceof SearchInputError) || error.subject !== 'checkpoint') throw error;
    ctx.log(`ignoring the checkpoint (${error.message}); starting over`, 'stderr');
    return runSearch(problem, options);
  }
}

/** Both rounds' points (first occurrence kept, renumbered), feasible against the user's threshold. */
function mergeRounds(first: SearchResult, next: SearchResult, maxAccuracyDrop: number): SearchResult {
  const seen = new Set(first.points.map((point) => JSON.stringify(point.assignment)));
  const added = next.points.filter((point) => !seen.has(JSON.stringify(point.assignment)));
  const points = [...first.points, ...added].map((point, i) => ({...point, order: i + 1, feasible: point.drop <= maxAccuracyDrop}));
  const {best: _, ...rest} = first;
  const merged: SearchResult = {...rest, points, pareto: paretoFront(points), evaluations: first.evaluations + next.evaluations, storeHits: first.storeHits + next.storeHits, iterations: first.iterations + next.iterations};
  const best = bestFeasible(points);
  if (best !== undefined) merged.best = best;
  return merged;
}

function sameAssignment(a: Assignment, b: Assignment): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function subsetEvidence(baseline: EvaluationOutcome, candidate: EvaluationOutcome, samples: number, threshold: number, confidence: number): SubsetEvidence {
  const paired = pairedAgainst(baseline.correct!, candidate.correct!, samples);
  const {verdict} = dropVerdict(paired, threshold, (1 - confidence) / 2);
  return {...paired, interval: pairedDropInterval(paired, confidence), verdict};
}

const points = (drop: number): string => `${(100 * drop).toFixed(2)}`;

/** One line for the log: the answer and the evidence behind it. */
function summary(output: SearchOutput, storeHits: number, evaluationsRun: number, p: SearchParams): string {
  const counts = `${output.evaluations} evaluations, ${storeHits} from the memo, ${evaluationsRun} run`;
  const found = output.searchBest;
  if (found === undefined) return `no configuration within ${p.threshold} points after ${output.evaluations} evaluations (${counts}); the assignment keeps every layer exact`;
  const onSearch = `the search subset's best (${output.samples} images) saves ${(100 * (1 - found.relativePower)).toFixed(1)}% at a drop of ${points(found.drop)} points (${points(found.evidence.interval.low)} … ${points(found.evidence.interval.high)} at ${p.confidence * 100}%)`;
  const confirmation = output.confirmation;
  if (confirmation === undefined) return `best: ${(100 * (1 - found.relativePower)).toFixed(1)}% power saved, UNCONFIRMED (set holdout to confirm it on images the search never saw); ${onSearch}; ${counts}`;
  const answer = confirmation.answer;
  const holdout = (c: ConfirmedCandidate) => `hold-out drop ${points(c.holdout.drop)} points on ${c.holdout.samples} images (${points(c.holdout.interval.low)} … ${points(c.holdout.interval.high)})`;
  const cost = `${counts}, ${confirmation.evaluations} hold-out evaluations`;
  if (answer === undefined) {
    const closest = confirmation.closest;
    return `no configuration meets the threshold at ${p.confidence * 100}% confidence on the hold-out${closest === undefined ? '' : `; the closest saves ${(100 * (1 - closest.relativePower)).toFixed(1)}% with ${holdout(closest)}`}; the assignment keeps every layer exact; ${onSearch}; ${cost}`;
  }
  return `best: ${(100 * (1 - answer.relativePower)).toFixed(1)}% power saved, confirmed: ${holdout(answer)}, within ${p.threshold - p.margin} points at ${p.confidence * 100}% confidence; ${onSearch}; ${cost}`;
}

/** The library's input errors are about the user's input: StepErrors with a hint, by subject. */
function libraryError(error: unknown): unknown {
  if (!(error instanceof SearchInputError)) return asStepError(error);
  switch (error.subject) {
    case 'sensitivity':
      return new StepError(error.message, 'pass a sensitivity matrix measured with the same layers and multipliers', 'with.sensitivity');
    case 'problem':
    case 'options':
    case 'checkpoint':
      return new StepError(error.message, 'check the search parameters');
  }
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
