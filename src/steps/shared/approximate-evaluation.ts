// What `sensitivity` and `search` share: the parameters saying what is approximated and what it is
// evaluated on, the engine memo as the search library's evaluation store, runtime glue, and the
// evaluation as a task (StepKind.tasks), so the engine can spread evaluations over workers.
import {statSync} from 'node:fs';
import {multiplierIds} from '../../approx/library.js';
import type {ApproximationRuntime, EvaluationSubset, RuntimeOptions} from '../../approx/search-runtime/approximation-runtime.js';
import {RuntimeInputError} from '../../approx/search-runtime/runtime-input-error.js';
import {evaluationKey, InMemoryEvaluationStore, type Assignment, type Evaluate, type EvaluationOutcome, type EvaluationStore, type MultiplierCandidate} from '../../approx/search/index.js';
import {StepError, type Json, type StepContext, type StepMemo, type StepTask} from '../../engine/step-kind.js';
import {executionKey} from './execution-key.js';

/** Parameters `sensitivity` and `search` share: what is approximated and what it is evaluated on. */
export interface EvaluationParams {
  model: string;
  calibration: string;
  dataset: string;
  multipliers: string[];
  layers?: string[];
  exclude?: string[];
  limit?: number;
  dataSeed: number;
  batchSize: number;
}

const patterns = {type: 'array', items: {type: 'string', minLength: 1}};

export const evaluationSchemaProperties = {
  model: {type: 'string', 'x-axx-input': {type: 'path', format: 'onnx'}, description: 'The float model (load/model or train output).'},
  calibration: {type: 'string', 'x-axx-input': {type: 'file', format: 'calibration'}, description: 'A calibrate output for this model.'},
  dataset: {type: 'string', 'x-axx-input': {type: 'dir', format: 'dataset'}, description: 'Evaluation samples (load/dataset output); a seeded stratified subset of `limit` is used.'},
  multipliers: {type: 'array', minItems: 1, uniqueItems: true, items: {type: 'string', minLength: 1}, description: 'Candidate multipliers (one operand kind); the exact one is always a candidate.'},
  layers: {...patterns, description: 'Globs selecting layers, as approximate takes them. Default: all.'},
  exclude: {...patterns, description: 'Globs removing layers, as approximate takes them. Default: the classifier head.'},
  limit: {type: 'integer', minimum: 1, description: 'Evaluate on a stratified subset of this many samples, drawn with `dataSeed` (default: all).'},
  dataSeed: {type: 'integer', default: 0, description: 'Seeds the stratified subset draw; the same seed in sensitivity and search gives the same subset.'},
  batchSize: {type: 'integer', minimum: 1, default: 100},
};

export const PROXIES = ['logit-kl', 'logit-mse'] as const;
export type Proxy = (typeof PROXIES)[number];

/** Memo keys of search evaluations; sensitivity cells are search configurations, so both kinds share it. */
const MEMO_NAMESPACE = 'approx/search:';

/** The engine memo as the search library's store (in memory where the context offers none). */
export function evaluationStore(memo: StepMemo | undefined): EvaluationStore {
  if (memo === undefined) return new InMemoryEvaluationStore();
  return {
    async get(key) {
      const value = (await memo.get(MEMO_NAMESPACE + key)) as EvaluationOutcome | undefined;
      // An entry of another shape (older format) is a miss, not a crash.
      return typeof value?.accuracy === 'number' ? value : undefined;
    },
    set: (key, outcome) => memo.set(MEMO_NAMESPACE + key, outcome as unknown as Json),
  };
}

/** The runtime of the step's parameters: an evaluation task with the same options reuses it. */
export async function openRuntime(ctx: StepContext<EvaluationParams>, holdout?: {samples: number; stages: number}): Promise<{runtime: ApproximationRuntime; options: RuntimeOptions}> {
  const p = ctx.params;
  const options: RuntimeOptions = {
    modelFile: p.model,
    calibrationFile: p.calibration,
    datasetDir: p.dataset,
    multipliers: p.multipliers,
    ...(p.layers !== undefined ? {layers: p.layers} : {}),
    ...(p.exclude !== undefined ? {exclude: p.exclude} : {}),
    ...(p.limit !== undefined ? {limit: p.limit} : {}),
    dataSeed: p.dataSeed,
    ...(holdout !== undefined ? {holdout: holdout.samples, holdoutStages: holdout.stages} : {}),
    batchSize: p.batchSize,
    threads: 1,
  };
  try {
    return {runtime: await cachedRuntime(options), options};
  } catch (error) {
    throw asStepError(error);
  }
}

/** Runtimes this process opened lately, newest last: a worker evaluating a search's configurations opens the model and data once. */
const openRuntimes: {key: string; runtime: ApproximationRuntime}[] = [];
const KEEP_RUNTIMES = 2;

async function cachedRuntime(options: RuntimeOptions): Promise<ApproximationRuntime> {
  // Store paths never change; the stats keep a literal path edited between two runs of a long-lived worker from a stale runtime.
  const stats = [options.modelFile, options.calibrationFile, options.datasetDir].map((path) => {
    try {
      const {ino, size, mtimeMs} = statSync(path);
      return [ino, size, mtimeMs];
    } catch {
      return null; // openApproximationRuntime says which input is missing
    }
  });
  const key = JSON.stringify([options, stats]);
  const found = openRuntimes.findIndex((entry) => entry.key === key);
  if (found >= 0) {
    const [entry] = openRuntimes.splice(found, 1);
    openRuntimes.push(entry!);
    return entry!.runtime;
  }
  // The runtime (and onnxruntime) loads when an evaluation needs it: planning a pipeline needs none of it.
  const {openApproximationRuntime} = await import('../../approx/search-runtime/approximation-runtime.js');
  const runtime = openApproximationRuntime(options);
  openRuntimes.push({key, runtime});
  if (openRuntimes.length > KEEP_RUNTIMES) openRuntimes.shift();
  return runtime;
}

/** The evaluation task's name in `tasks` of the kinds that evaluate. */
export const EVALUATE_TASK = 'evaluate';

/** One evaluation: the runtime's options (paths travel by digest), which subset (-1: the search subset, k: hold-out stage k), the assignment. */
interface EvaluationPayload {
  runtime: RuntimeOptions;
  subset: number;
  assignment: Assignment;
}

/** The evaluation task, declared by `sensitivity` and `search` alike (same payload, same result). */
export const evaluationTasks: Record<string, StepTask> = {
  [EVALUATE_TASK]: async (payload, signal, scratchDir) => {
    const {runtime: options, subset, assignment} = payload as unknown as EvaluationPayload;
    const runtime = await cachedRuntime(options);
    const target = subset < 0 ? runtime : runtime.holdout[subset];
    if (target === undefined) throw new Error(`evaluation task: no hold-out stage ${subset} (the runtime has ${runtime.holdout.length})`);
    return (await target.evaluate(assignment, signal, scratchDir)) as unknown as Json;
  },
};

/**
 * The step's evaluations as tasks (in process, or on workers when the engine has a queue), keyed like the
 * memo so two runs asking for the same configuration share one job; counts those that ran.
 */
export class TaskEvaluations {
  #ran = 0;

  constructor(
    readonly ctx: StepContext<unknown>,
    readonly options: RuntimeOptions,
    readonly multipliers: readonly MultiplierCandidate[],
  ) {}

  /** Evaluations that ran (were not answered by the memo). */
  get ran(): number {
    return this.#ran;
  }

  /** Evaluates on `target`: the runtime itself (the search subset) or one of its hold-out stages. */
  of(runtime: ApproximationRuntime, target: EvaluationSubset): Evaluate {
    const subset = target === runtime ? -1 : runtime.holdout.indexOf(target);
    return async (assignment, signal) => {
      const payload = {runtime: this.options, subset, assignment} as unknown as Json;
      const key = MEMO_NAMESPACE + evaluationKey(target.scope, assignment, this.multipliers);
      const outcome = await this.ctx.tasks.run(EVALUATE_TASK, payload, key, signal);
      this.#ran++;
      return outcome as unknown as EvaluationOutcome;
    };
  }
}

/** Says so when the scored subset leaves out classes the dataset has (a `limit` below the class count). */
export function warnMissingClasses(ctx: StepContext<unknown>, runtime: ApproximationRuntime): void {
  const missing = runtime.datasetLabelCounts.flatMap((count, label) => (count > 0 && (runtime.labelCounts[label] ?? 0) === 0 ? [label] : []));
  if (missing.length > 0) ctx.log(`warning: the ${runtime.samples} scored samples leave out ${missing.length} class(es) of the dataset (labels ${missing.join(', ')}); raise \`limit\``, 'stderr');
}

/** Runtime input errors point at their parameter; anything else is a bug and stays an exception. */
export function asStepError(error: unknown): unknown {
  if (error instanceof RuntimeInputError) return new StepError(error.message, error.hint, `with.${error.field}`);
  return error;
}

/** Multipliers are named in params but defined by their tables: the cache key covers the table identities, and the execution provider. */
export function evaluationKeyExtras(params: Pick<EvaluationParams, 'multipliers'>): Json {
  return {multipliers: multiplierIds(params.multipliers), execution: executionKey()};
}

/** Concurrent evaluations: as many as the engine's tasks take (in process one per granted cpu, each running onnxruntime on one thread). */
export function parallelism(ctx: StepContext<unknown>, requested?: number): number {
  return Math.max(1, requested ?? ctx.tasks.concurrency ?? Math.floor(ctx.resources['cpu'] ?? 1));
}

/** The all-exact configuration through the memo (its key is the same for sensitivity and search). */
export async function memoisedBaseline(
  runtime: ApproximationRuntime,
  evaluate: Evaluate,
  store: EvaluationStore,
  multipliers: readonly MultiplierCandidate[],
  signal: AbortSignal,
): Promise<EvaluationOutcome> {
  const key = evaluationKey(runtime.scope, {}, multipliers);
  const stored = await store.get(key);
  if (stored !== undefined) return stored;
  const outcome = await evaluate({}, signal);
  await store.set(key, outcome);
  return outcome;
}
