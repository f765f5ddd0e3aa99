// Step kind "sensitivity": every selected layer alone on every candidate multiplier, evaluated on a
// fixed data subset (accuracy drop vs the quantised exact model, plus logit KL/MSE vs the float
// model). Cells go through the engine memo keyed by content, so later runs and `search` reuse them.
// Also exports the parameter schema and runtime glue `search` shares.
import {writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {multiplierIds} from '../approx/library.js';
import {openApproximationRuntime, RuntimeInputError, type ApproximationRuntime} from '../approx/search-runtime/approximation-runtime.js';
import {evaluationKey, InMemoryEvaluationStore, measureSensitivity, sensitivityHeatmapSvg, type EvaluationOutcome, type EvaluationStore, type SensitivityMatrix} from '../approx/search/index.js';
import {StepError, type Json, type StepContext, type StepKind, type StepMemo} from '../engine/step-kind.js';

/** Parameters `sensitivity` and `search` share: what is approximated and what it is evaluated on. */
export interface EvaluationParams {
  model: string;
  calibration: string;
  dataset: string;
  multipliers: string[];
  layers?: string[];
  exclude?: string[];
  limit?: number;
  batchSize: number;
}

const patterns = {type: 'array', items: {type: 'string', minLength: 1}};

export const evaluationSchemaProperties = {
  model: {type: 'string', 'x-axx-input': {type: 'file', format: 'onnx'}, description: 'The float model (load/model or train output).'},
  calibration: {type: 'string', 'x-axx-input': {type: 'file', format: 'calibration'}, description: 'A calibrate output for this model.'},
  dataset: {type: 'string', 'x-axx-input': {type: 'dir', format: 'dataset'}, description: 'Evaluation samples (load/dataset output); the first `limit` are used.'},
  multipliers: {type: 'array', minItems: 1, uniqueItems: true, items: {type: 'string', minLength: 1}, description: 'Candidate multipliers (one operand kind); the exact one is always a candidate.'},
  layers: {...patterns, description: 'Globs selecting layers, as approximate takes them. Default: all.'},
  exclude: {...patterns, description: 'Globs removing layers, as approximate takes them. Default: the classifier head.'},
  limit: {type: 'integer', minimum: 1, description: 'Evaluate on the first samples only (default: all).'},
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

export function openRuntime(ctx: StepContext<EvaluationParams>): ApproximationRuntime {
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
      batchSize: p.batchSize,
      threads: 1,
    });
  } catch (error) {
    throw asStepError(error);
  }
}

/** Runtime input errors point at their parameter; anything else is a bug and stays an exception. */
export function asStepError(error: unknown): unknown {
  if (error instanceof RuntimeInputError) return new StepError(error.message, error.hint, `with.${error.field}`);
  return error;
}

/** Multipliers are named in params but defined by their tables: the cache key covers the table identities. */
export function multiplierKeyExtras(params: Pick<EvaluationParams, 'multipliers'>): Json {
  return {multipliers: multiplierIds(params.multipliers)};
}

/** Concurrent evaluations: one per granted cpu (each runs onnxruntime on one thread). */
export function parallelism(ctx: StepContext<unknown>, requested?: number): number {
  return Math.max(1, requested ?? Math.floor(ctx.resources['cpu'] ?? 1));
}

export interface SensitivityParams extends EvaluationParams {
  proxy: Proxy[];
}

/** The matrix output: the library's matrix plus what reports and search need beside it. */
export interface SensitivityOutput extends SensitivityMatrix {
  samples: number;
  macs: Record<string, number>;
  multiplierInfo: {name: string; id: string; powerMw: number | null; exact: boolean}[];
}

export const sensitivityKind: StepKind<SensitivityParams> = {
  name: 'sensitivity',
  version: 1,
  description: 'Per-layer sensitivity: each layer alone on each candidate multiplier, accuracy drop and logit proxies on a fixed subset',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'calibration', 'dataset', 'multipliers'],
    properties: {
      ...evaluationSchemaProperties,
      proxy: {type: 'array', uniqueItems: true, items: {enum: [...PROXIES]}, default: [...PROXIES], description: 'Proxies kept per cell: logit-kl (KL of softmaxes vs the float model), logit-mse.'},
    },
  },
  outputs: {
    matrix: {type: 'value', format: 'sensitivity', description: 'layers × multipliers: accuracy, drop, proxies; baseline accuracy, MACs per layer, multiplier ids and power'},
    heatmap: {type: 'file', format: 'svg', description: 'the drops as a heatmap'},
  },
  resources: {cpu: 2},
  keyExtras: multiplierKeyExtras,
  async run(ctx) {
    const runtime = openRuntime(ctx);
    const store = evaluationStore(ctx.memo);
    const memo = {store, scope: runtime.scope};
    const multipliers = runtime.multipliers.map((m) => ({name: m.name, id: m.id, relativePower: 1, exact: m.id === runtime.exact.id}));
    try {
      const baseline = await memoisedBaseline(runtime, store, multipliers, ctx.signal);
      let worst = 0;
      const matrix = await measureSensitivity({
        layers: runtime.layers,
        multipliers,
        baselineAccuracy: baseline.accuracy,
        evaluateCell: (layer, multiplier, signal) => runtime.evaluate({[layer]: multiplier}, signal),
        memo,
        parallel: parallelism(ctx),
        signal: ctx.signal,
        onProgress(done, total, cell) {
          worst = Math.max(worst, cell.drop);
          ctx.progress(done, total, 'cell');
          ctx.metric('cells', done);
          ctx.metric('worstDrop', worst);
        },
      });
      const {storeHits, ...measured} = matrix;
      const output: SensitivityOutput = {
        ...measured,
        cells: measured.cells.map((cell) => ({...cell, ...(cell.metrics !== undefined ? {metrics: keep(cell.metrics, ctx.params.proxy)} : {})})),
        samples: runtime.samples,
        macs: Object.fromEntries(runtime.layers.map((l) => [l.name, l.macs])),
        multiplierInfo: runtime.multipliers.map((m) => ({name: m.name, id: m.id, powerMw: m.hardware.powerMw, exact: m.id === runtime.exact.id})),
      };
      const heatmap = join(ctx.scratchDir, 'heatmap.svg');
      await writeFile(heatmap, sensitivityHeatmapSvg(output));
      ctx.metric('evaluations', runtime.evaluations);
      ctx.log(`${output.cells.length} cells on ${runtime.samples} samples (baseline ${(100 * baseline.accuracy).toFixed(2)}%; ${storeHits} from the memo, ${runtime.evaluations} evaluated); worst drop ${(100 * worst).toFixed(2)} points`);
      return {matrix: {value: output as unknown as Json}, heatmap: {file: heatmap}};
    } catch (error) {
      throw asStepError(error);
    }
  },
};

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

function keep(metrics: Record<string, number>, proxies: readonly Proxy[]): Record<string, number> {
  return Object.fromEntries(proxies.filter((name) => metrics[name] !== undefined).map((name) => [name, metrics[name]!]));
}
