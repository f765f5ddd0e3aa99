// Step kind "finetune": approximate-aware finetuning (src/train/finetune.ts). The float model's
// weights are trained through the bit-exact approximate forward pass with straight-through
// gradients and frozen scales; outputs the re-emitted approximate model, the trained float model,
// its manifest and the training history (the train step's history shape, which the report reads).
import type {CalibrationFile} from '../approx/calibration-format.js';
import {multiplierIds, resolveMultiplier} from '../approx/library.js';
import type {Manifest} from '../approx/rewrite-manifest.js';
import {StepError, type Json, type StepContext, type StepKind} from '../engine/step-kind.js';
import {encodeCheckpoint} from '../train/checkpoint-codec.js';
import type {FinetuneError, FinetuneSelection, FinetuneTarget, GradientChoice} from '../train/finetune.js';
import {imageSubset} from '../train/finetune-subset.js';
import {TrainingDivergedError} from '../train/training-diverged.js';
import {withStraightThrough} from '../train/straight-through.js';
import {GRADIENT_ESTIMATORS, TableGradientError, type GradientEstimator} from '../train/table-gradient.js';
import {modelOutput} from './shared/model-output.js';
import {readCalibrationParam, readModelParam} from './shared/step-inputs.js';
import {executionKey} from './shared/execution-key.js';
import {datasetInput, openImages, positiveInt, resumeCheckpoint, trainConfig, trainingStepError, type TrainingParams} from './shared/training.js';

export interface FinetuneParams extends TrainingParams {
  model: string;
  calibration: string;
  manifest?: Manifest;
  assign?: Record<string, string>;
  default?: string;
  dataset: string;
  evalDataset?: string;
  /** Train on this many samples of the dataset (a seeded random subset). */
  limit?: number;
  gradient: GradientEstimator;
  gradientWindow: number;
  gradientRank: number;
  gradientLayers?: Record<string, GradientEstimator>;
}

interface FinetuneCheckpoint {
  train: Json;
  steps: {step: number; loss: number}[];
  initialEvalAccuracy: number | null;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'calibration', 'dataset'],
  oneOf: [{required: ['manifest']}, {anyOf: [{required: ['assign']}, {required: ['default']}]}],
  properties: {
    model: {type: 'string', 'x-axx-input': {type: 'path', format: 'onnx'}, description: 'The float model (the one the approximate step rewrote).'},
    calibration: {type: 'string', 'x-axx-input': {type: 'file', format: 'calibration'}, description: 'The calibration the approximate step used; its scales stay frozen.'},
    manifest: {type: 'object', 'x-axx-input': {type: 'value', format: 'manifest'}, description: "An approximate step's manifest: which layers carry which multiplier, with which scales."},
    assign: {type: 'object', additionalProperties: {type: 'string', minLength: 1}, 'x-axx-input': {type: 'value', format: 'assignment'}, description: 'Instead of a manifest: glob → multiplier (as in approximate).'},
    default: {type: 'string', minLength: 1, description: 'Instead of a manifest: multiplier of the layers no assign glob matches.'},
    dataset: {...datasetInput, description: 'Training images (a load/dataset output).'},
    evalDataset: {...datasetInput, description: 'The approximate model is evaluated on it before finetuning and after every epoch (metric "accuracy").'},
    epochs: {...positiveInt, default: 1},
    limit: {...positiveInt, description: 'Train on a seeded random subset of this many samples.'},
    batchSize: {...positiveInt, default: 64},
    optimizer: {enum: ['adamw', 'sgd'], default: 'adamw'},
    lr: {type: 'number', exclusiveMinimum: 0, default: 1e-4, description: 'Peak learning rate. 1e-4 never hurt a mild assignment in our measurements; for drops of tens of points 1e-3 recovers more per epoch (README "Finetuning"). TransAxx uses Adam 5e-5.'},
    weightDecay: {type: 'number', minimum: 0, default: 0},
    momentum: {type: 'number', minimum: 0, maximum: 1, default: 0.9},
    schedule: {enum: ['constant', 'cosine', 'onecycle'], default: 'cosine'},
    warmup: {type: 'number', minimum: 0, default: 0.05, description: 'Warm-up length in epochs.'},
    clipNorm: {type: 'number', minimum: 0, default: 1, description: 'Global gradient-norm clip; 0 disables.'},
    seed: {type: 'integer', default: 0, description: 'Seed of the subset and of the data order.'},
    checkpointEvery: {...positiveInt, default: 50, description: 'Steps between resumable checkpoints (and after each epoch): an interrupted run resumes there, losing at most this many steps.'},
    gradient: {
      enum: [...GRADIENT_ESTIMATORS],
      default: 'ste',
      description: "How approximate layers are differentiated: 'ste' as the exact op (straight-through, TransAxx), 'lut-2d' by the multiplier table's central-difference slope, 'lut-1d' by a one-factor-per-operand compression of it (docs/gradients.md).",
    },
    gradientWindow: {type: 'integer', minimum: 1, maximum: 64, default: 2, description: 'Half-width h of the central difference (f(a+h, b) − f(a−h, b)) / 2h, in quanta.'},
    gradientRank: {type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'lut-2d: rank terms kept of a slope table (exact for tables of at most this rank; higher-rank tables are truncated).'},
    gradientLayers: {
      type: 'object',
      additionalProperties: {enum: [...GRADIENT_ESTIMATORS]},
      description: 'Per-layer estimator: glob over layer node names → estimator; the first matching glob wins, other layers use `gradient`.',
    },
  },
};

// The training loop, onnxruntime and the rewrite load when a step runs, not when a pipeline is planned.
type FinetuneLibrary = typeof import('../train/finetune.js') & typeof import('../approx/rewrite.js') & typeof import('../train/accuracy.js');

async function loadFinetuneLibrary(): Promise<FinetuneLibrary> {
  const [finetune, rewrite, accuracy] = await Promise.all([import('../train/finetune.js'), import('../approx/rewrite.js'), import('../train/accuracy.js')]);
  return {...finetune, ...rewrite, ...accuracy};
}

function readCalibration(path: string): Promise<CalibrationFile> {
  return readCalibrationParam(path, 'with.calibration', 'pass the calibration output of the calibrate step the approximate step used');
}

function selection({selectionFromManifest}: FinetuneLibrary, p: FinetuneParams): FinetuneSelection {
  if (p.manifest === undefined) return {...(p.assign ? {assign: p.assign} : {}), ...(p.default ? {default: p.default} : {})};
  return selectionFromManifest(p.manifest);
}

/** Library errors about the inputs become StepErrors naming the parameter at fault. */
function asStepError({FinetuneError, RewriteError}: FinetuneLibrary, error: unknown, p: FinetuneParams): unknown {
  if (error instanceof TrainingDivergedError) return trainingStepError(error);
  if (error instanceof TableGradientError) return new StepError(error.message, 'see docs/gradients.md for the estimators and their parameters', 'with.gradient');
  if (error instanceof FinetuneError) {
    const hints: Partial<Record<FinetuneError['field'], string>> = {
      manifest: 'pass the manifest output of an approximate step (weights: tensor) run on this model',
      gradientLayers: 'use globs over the layer names listed (`*` stays within one dot-separated part, `**` crosses them)',
    };
    const hint = hints[error.field] ?? `check with.${error.field}`;
    return new StepError(error.message, hint, `with.${error.field}`);
  }
  if (!(error instanceof RewriteError)) return error;
  const field = p.manifest !== undefined ? 'manifest' : error.field === 'assign' || error.field === 'default' ? error.field : 'calibration';
  if (p.manifest !== undefined) return new StepError(error.message, 'the manifest must come from an approximate step run on this model', `with.${field}`);
  return new StepError(error.message, 'list multipliers with `axx multipliers`', `with.${field}`, ['multipliers']);
}

function gradientChoice(p: FinetuneParams): GradientChoice {
  const layers = Object.entries(p.gradientLayers ?? {}).map(([pattern, estimator]) => ({pattern, estimator}));
  return {estimator: p.gradient, window: p.gradientWindow, maxRank: p.gradientRank, layers};
}

function multiplierNames(p: FinetuneParams): string[] {
  const names = p.manifest?.layers?.map((l) => l.multiplier?.name) ?? [...(p.default ? [p.default] : []), ...Object.values(p.assign ?? {})];
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))].sort();
}

async function run(ctx: StepContext<FinetuneParams>) {
  const p = ctx.params;
  const lib = await loadFinetuneLibrary();
  const {topOneAccuracy} = lib;
  const float = await readModelParam(p.model, 'with.model');
  const target: FinetuneTarget = {
    float,
    calibration: await readCalibration(p.calibration),
    selection: await guarded(lib, p, () => selection(lib, p)),
    resolveMultiplier,
    gradient: gradientChoice(p),
  };
  const full = openImages(p.dataset, 'with.dataset');
  const trainSet = p.limit === undefined ? full : imageSubset(full, p.limit, p.seed);
  const evalSet = p.evalDataset === undefined ? undefined : openImages(p.evalDataset, 'with.evalDataset');
  const threads = ctx.resources['cpu'] ?? 1;
  const evaluate = evalSet && ((m: Parameters<typeof topOneAccuracy>[0]) => topOneAccuracy(m, evalSet, {threads}));
  const config = trainConfig(p);
  // The checkpoint slot holds the loop's checkpoint plus this step's own record of the run so far.
  const saved = await ctx.checkpoint.load();
  const resumed = saved?.state as unknown as FinetuneCheckpoint | undefined;
  const steps: {step: number; loss: number}[] = [...(resumed?.steps ?? [])];
  let initialEvalAccuracy = resumed?.initialEvalAccuracy ?? undefined;
  if (evaluate && saved === undefined) {
    initialEvalAccuracy = await evaluate(await guarded(lib, p, () => lib.trainableApproximate(target).model));
    ctx.metric('accuracy', initialEvalAccuracy, 0);
  }
  const metricEvery = Math.max(1, Math.round(Math.ceil(trainSet.count / p.batchSize) / 50)); // ~50 loss points per epoch
  const started = performance.now();
  const result = await guarded(lib, p, () =>
    lib.finetune(target, trainSet, config, {
      threads,
      resume: (session) => {
        if (saved === undefined) return undefined;
        const checkpoint = resumeCheckpoint({state: resumed!.train, files: saved.files}, ctx.checkpoint, session);
        ctx.log(`resuming at epoch ${checkpoint.epoch + 1}, batch ${checkpoint.batch}`);
        return checkpoint;
      },
      hooks: {
        progress: (done, total) => ctx.progress(done, total, 'step'),
        metric: (name, value, step) => {
          if (name === 'loss') steps.push({step, loss: value});
          ctx.metric(name, value, step);
        },
        metricEvery,
        checkpointEvery: p.checkpointEvery,
        saveCheckpoint: async (checkpoint) => {
          const {state, files} = encodeCheckpoint(checkpoint);
          const record: FinetuneCheckpoint = {train: state, steps: [...steps], initialEvalAccuracy: initialEvalAccuracy ?? null};
          await ctx.checkpoint.save(record as unknown as Json, files);
          ctx.log(`checkpoint saved: resumes at epoch ${checkpoint.epoch + 1}, batch ${checkpoint.batch}`);
        },
        ...(evaluate ? {evaluate} : {}),
        signal: ctx.signal,
      },
    }),
  );

  const regions = result.approximate.manifest.layers.map((l) => ({output: l.output, exact: l.exact}));
  const model = modelOutput(ctx.scratchDir, withStraightThrough(result.approximate.model, regions), 'model');
  const floatModel = modelOutput(ctx.scratchDir, result.float, 'float');
  const last = result.history.at(-1);
  ctx.log(`finetuned ${regions.length} approximate layers on ${trainSet.count} samples × ${p.epochs} epochs` + (last?.evalAccuracy === undefined ? '' : `: eval accuracy ${initialEvalAccuracy === undefined ? '' : `${(100 * initialEvalAccuracy).toFixed(2)}% → `}${(100 * last.evalAccuracy).toFixed(2)}%`));
  const history = {
    samples: trainSet.count,
    seconds: Math.round((performance.now() - started) / 1000),
    ...(initialEvalAccuracy === undefined ? {} : {initialEvalAccuracy}),
    epochs: result.history,
    steps,
  };
  return {
    model,
    floatModel,
    manifest: {value: result.approximate.manifest as unknown as Json},
    history: {value: history as unknown as Json},
  };
}

/** Runs `f`, turning library errors about the inputs into StepErrors. */
async function guarded<T>(lib: FinetuneLibrary, p: FinetuneParams, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    throw asStepError(lib, error, p);
  }
}

export const finetuneKind: StepKind<FinetuneParams> = {
  name: 'finetune',
  version: 1,
  interruptNote: 'resumes from its last checkpoint (every checkpointEvery steps)',
  description: 'Approximate-aware finetuning: train the float weights through the approximate forward pass (straight-through or table-derived backward, frozen scales), re-emit the approximate model',
  schema,
  outputs: {
    model: {type: 'path', format: 'onnx', description: 'The finetuned approximate model (a model directory when past 1 GiB, see approximate).'},
    floatModel: {type: 'path', format: 'onnx', description: 'The float model with the finetuned weights.'},
    manifest: {type: 'value', format: 'manifest', description: 'Manifest of the finetuned approximate model (same layers, multipliers and scales).'},
    history: {type: 'value', description: '{samples, seconds, initialEvalAccuracy?, epochs: [{epoch, loss, trainAccuracy, lr, seconds, evalAccuracy?}], steps: [{step, loss}]}'},
  },
  // Multipliers are named but defined by their tables: key on the table identities.
  keyExtras: (params) => ({multipliers: multiplierIds(multiplierNames(params)), execution: executionKey()}),
  resources: {cpu: 2},
  run,
};
