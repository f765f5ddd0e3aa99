// What `sensitivity` and `search` share: the parameters saying what is approximated and what it is
// evaluated on, the engine memo as the search library's evaluation store, and runtime glue.
import {multiplierIds} from '../../approx/library.js';
import {openApproximationRuntime, RuntimeInputError, type ApproximationRuntime} from '../../approx/search-runtime/approximation-runtime.js';
import {evaluationKey, InMemoryEvaluationStore, type EvaluationOutcome, type EvaluationStore} from '../../approx/search/index.js';
import {executionKey} from './execution-key.js';
import {StepError, type Json, type StepContext, type StepMemo} from '../../engine/step-kind.js';

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
  model: {type: 'string', 'x-axx-input': {type: 'file', format: 'onnx'}, description: 'The float model (load/model or train output).'},
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

export function openRuntime(ctx: StepContext<EvaluationParams>, holdout?: {samples: number; stages: number}): ApproximationRuntime {
  const p = ctx.params;
  try {
    return openApproximationRuntime({
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
    });
  } catch (error) {
    throw asStepError(error);
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

/** Concurrent evaluations: one per granted cpu (each runs onnxruntime on one thread). */
export function parallelism(ctx: StepContext<unknown>, requested?: number): number {
  return Math.max(1, requested ?? Math.floor(ctx.resources['cpu'] ?? 1));
}

/** The all-exact configuration through the memo (its key is the same for sensitivity and search). */
export async function memoisedBaseline(
  runtime: ApproximationRuntime,
  store: EvaluationStore,
  multipliers: readonly {name: string; id: string; relativePower: number; exact?: boolean}[],
  signal: AbortSignal,
): Promise<EvaluationOutcome> {
  const key = evaluationKey(runtime.scope, {}, multipliers);
  const stored = await store.get(key);
  if (stored !== undefined) return stored;
  const outcome = await runtime.evaluate({}, signal);
  await store.set(key, outcome);
  return outcome;
}
