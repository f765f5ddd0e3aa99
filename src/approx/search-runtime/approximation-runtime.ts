// "Approximate this assignment in memory and evaluate it": the evaluation behind the `sensitivity`
// and `search` steps. Each configuration is the float model with every selected layer rewritten
// (src/approx/rewrite.ts) to its assigned multiplier — unassigned layers to the exact one, so the
// baseline is the quantised model on exact multipliers — run by onnxruntime over a fixed data subset
// (src/infer/evaluate-model.ts). Besides accuracy it reports how far the logits move from the float
// model's (logit-proxies.ts). No pipeline knowledge: bad input is a RuntimeInputError naming its field.
// The model may be a model directory with external data, and a candidate past the session's inline
// limit (a high-rank circuit grows a ViT past 2 GiB) reaches onnxruntime as a model directory written to
// the caller's scratch directory (or, without one, with in-memory external data, several times slower).
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {parseCalibration, type CalibrationFile} from '../calibration-format.js';
import {resolveMultiplier} from '../library.js';
import type {Multiplier} from '../multiplier.js';
import {approximateModel, RewriteError} from '../rewrite.js';
import type {Manifest} from '../rewrite-manifest.js';
import {globToRegExp} from '../rewrite-select.js';
import {encodeCorrect} from '../search/correctness.js';
import type {Assignment, EvaluationOutcome, EvaluationScope, SearchLayer} from '../search/index.js';
import {DataError} from '../../data/data-error.js';
import {openDataset, type Dataset} from '../../data/dataset-reader.js';
import {datasetView, disjointStratifiedSubsets} from '../../data/dataset-view.js';
import {evaluateModel} from '../../infer/evaluate-model.js';
import {decodeModel, modelFileOf, OnnxDecodeError} from '../../onnx/codec.js';
import type {Model} from '../../onnx/ir.js';
import {createSession, runtimeIdentity, type ModelSession, type RuntimeIdentity} from '../../onnx/session.js';
import {LogitProxies} from './logit-proxies.js';

import {RuntimeInputError, type RuntimeField} from './runtime-input-error.js';

export {RuntimeInputError, type RuntimeField};

export interface RuntimeOptions {
  modelFile: string;
  calibrationFile: string;
  datasetDir: string;
  /** Candidate (approximate) multipliers by name; the exact one of their operand kind is added. */
  multipliers: readonly string[];
  /** Layer selection globs, as the `approximate` step takes them. */
  layers?: string[];
  exclude?: string[];
  /** Evaluate a stratified subset of `limit` samples (default: every sample). */
  limit?: number;
  /** Seeds the draw of the evaluation and hold-out subsets (default 0). */
  dataSeed?: number;
  /** Samples held out for confirming search answers: disjoint from the evaluation subset, stratified (default 0). */
  holdout?: number;
  /** The hold-out split into this many equal stages, evaluated one after another (default 1). */
  holdoutStages?: number;
  batchSize?: number;
  /** onnxruntime intra-op threads per evaluation. */
  threads?: number;
  /** Models encoding to more bytes than this are passed to onnxruntime with external data; default the session's (tests lower it). */
  inlineLimit?: number;
  /** The runtime the memo scope names; default: the loaded onnxruntime (tests pass another). */
  runtime?: RuntimeIdentity;
}

/** A fixed set of images that assignments are scored on. */
export interface EvaluationSubset {
  /** Content identity of what an accuracy is about, apart from the assignment (memo keys). */
  scope: EvaluationScope;
  samples: number;
  /** Samples per class (by label) in this subset. */
  labelCounts: number[];
  /**
   * Accuracy, per-image correctness (and, on the search subset, logit proxies) of the quantised model with `assignment` (layers left out run on the exact multiplier).
   * A model past the inline limit is written into `scratchDir` (the caller's, e.g. a task's) for onnxruntime to map, and removed after.
   */
  evaluate(assignment: Assignment, signal: AbortSignal, scratchDir?: string): Promise<EvaluationOutcome>;
}

/** The search subset's fields are the runtime's own; `holdout` holds the confirmation stages. */
export interface ApproximationRuntime extends EvaluationSubset {
  /** The selected layers in graph order, named by node (the names `approximate`'s assign takes). */
  layers: SearchLayer[];
  /** The exact multiplier first, then the candidates; `relativePower` is left for the caller's power model. */
  multipliers: Multiplier[];
  exact: Multiplier;
  /** How the subsets were drawn from the dataset, for the outputs. */
  sampling: {seed: number; of: number; stratified: true};
  /** Multiply-accumulates per inference of the whole model, approximable or not (whole-model power). */
  modelMacs: number;
  /** Samples per class in the whole dataset the subsets are drawn from. */
  datasetLabelCounts: number[];
  /** Disjoint from the search subset and from each other. */
  holdout: EvaluationSubset[];
  /** Evaluations that actually ran (not answered by a memo), on any subset. */
  readonly evaluations: number;
}

/**
 * Part of every memo scope: memoised accuracies outlive runs, so bump this whenever the rewrite or the
 * evaluation would score the same configuration differently (the engine cache key does not cover them).
 * The onnxruntime version and execution provider are in the scope too, read from the runtime.
 */
const EVALUATION_VERSION = 2;

const sha256 = (...parts: (string | Uint8Array)[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest('hex');
};

export function openApproximationRuntime(options: RuntimeOptions): ApproximationRuntime {
  const modelFile = modelFileOf(options.modelFile);
  const modelBytes = readInput(modelFile, 'model');
  const model = decode(modelBytes, dirname(modelFile));
  const calibrationBytes = readInput(options.calibrationFile, 'calibration');
  const calibration = parse(calibrationBytes, options.calibrationFile);
  const dataset = open(options.datasetDir);
  const {multipliers, exact} = resolveCandidates(options.multipliers);
  const selection = {
    ...(options.layers !== undefined ? {layers: options.layers} : {}),
    ...(options.exclude !== undefined ? {exclude: options.exclude} : {}),
  };
  const rewrite = (assign: Assignment): {model: Model; manifest: Manifest} => {
    try {
      return approximateModel(model, {calibration, resolveMultiplier, ...selection, assign, default: exact.name});
    } catch (error) {
      if (!(error instanceof RewriteError)) throw error;
      const field = error.field === 'layers' || error.field === 'exclude' ? error.field : error.field === 'calibration' ? 'calibration' : 'model';
      throw new RuntimeInputError(error.message, field, field === 'calibration' ? 'pass the calibrate output of this model' : 'check the layer names in the load/model info output');
    }
  };
  const {manifest} = rewrite({});
  const layers = selectedLayers(manifest);
  const batchSize = options.batchSize ?? 64;
  const threads = options.threads ?? 1;
  const sessionOptions = {batchSize, threads, ...(options.inlineLimit !== undefined ? {inlineLimit: options.inlineLimit} : {})};
  const modelId = sha256(
    `axx-evaluation-v${EVALUATION_VERSION}`,
    JSON.stringify(options.runtime ?? runtimeIdentity()),
    modelBytes,
    ...externalDataDigests(model, dirname(modelFile)),
    calibrationBytes,
    JSON.stringify(layers.map((l) => l.name)),
  );
  const seed = options.dataSeed ?? 0;
  const [searchIndices, ...stages] = drawSubsets(dataset, options, seed);
  let evaluations = 0;
  const subset = (indices: Int32Array, proxies: boolean): EvaluationSubset => {
    const view = datasetView(dataset.set, indices, dataset.labels);
    const samples = indices.length;
    // The float model's logits, needed only when an evaluation actually runs (a fully memoised run skips it).
    let reference: Promise<Float32Array> | undefined;
    const referenceLogits = (signal: AbortSignal, scratchDir: string | undefined): Promise<Float32Array> =>
      (reference ??= (async () => {
        const rows: Float32Array[] = [];
        await runTapped(model, view, {...sessionOptions, signal, scratchDir}, (logits) => rows.push(logits.slice()));
        return concat(rows);
      })());
    return {
      scope: {modelId, subsetId: subsetDigest(view, batchSize)},
      samples,
      labelCounts: view.manifest.labelCounts,
      async evaluate(assignment, signal, scratchDir) {
        const floatLogits = proxies ? await referenceLogits(signal, scratchDir) : undefined;
        const logitProxies = floatLogits && new LogitProxies(floatLogits, floatLogits.length / samples);
        const correct = new Uint8Array(samples);
        const {metrics} = await runTapped(rewrite(assignment).model, view, {...sessionOptions, signal, scratchDir}, (logits, labels, first, count) => {
          logitProxies?.add(logits, first, count);
          const classes = logits.length / count;
          for (let r = 0; r < count; r++) correct[first + r] = argMax(logits, r * classes, classes) === labels[r] ? 1 : 0;
        });
        evaluations++;
        const outcome: EvaluationOutcome = {accuracy: metrics.top1, correct: encodeCorrect(correct)};
        if (logitProxies !== undefined) outcome.metrics = {...logitProxies.result(), loss: metrics.meanLoss};
        return outcome;
      },
    };
  };
  const search = subset(searchIndices!, true);
  const holdout = stages.map((indices) => subset(indices, false));
  return {
    ...search,
    layers,
    multipliers,
    exact,
    sampling: {seed, of: dataset.set.manifest.count, stratified: true},
    datasetLabelCounts: dataset.set.manifest.labelCounts,
    modelMacs: manifest.macs.total,
    holdout,
    get evaluations() {
      return evaluations;
    },
  };
}

/** The search subset, then the hold-out stages: seeded, stratified, disjoint. */
function drawSubsets(dataset: {set: Dataset; labels: Int32Array}, options: RuntimeOptions, seed: number): Int32Array[] {
  const total = dataset.set.manifest.count;
  const searchSize = Math.min(total, options.limit ?? total);
  const holdout = options.holdout ?? 0;
  const stages = options.holdoutStages ?? 1;
  if (holdout > total - searchSize) {
    throw new RuntimeInputError(`a hold-out of ${holdout} samples does not fit: the dataset has ${total} samples and the search uses ${searchSize}`, 'holdout', 'lower the hold-out or the search limit, or load more samples');
  }
  if (holdout > 0 && !(Number.isInteger(stages) && stages >= 1 && stages <= holdout)) {
    throw new RuntimeInputError(`the hold-out of ${holdout} samples cannot be split into ${stages} stages`, 'holdout', 'use between 1 and `holdout` stages');
  }
  const sizes = holdout > 0 ? Array.from({length: stages}, (_, k) => Math.floor((holdout * (k + 1)) / stages) - Math.floor((holdout * k) / stages)) : [];
  return disjointStratifiedSubsets(dataset.labels, dataset.set.manifest.classes.length, [searchSize, ...sizes], seed);
}

function argMax(values: Float32Array, start: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[start + i]! > values[start + best]!) best = i;
  return best;
}

/** Evaluates `model` on every sample of `dataset`, handing each batch's logits (valid rows only) to `tap`. */
async function runTapped(
  model: Model,
  dataset: Dataset,
  options: {batchSize: number; threads: number; inlineLimit?: number; signal: AbortSignal; scratchDir: string | undefined},
  tap: (logits: Float32Array, labels: Int32Array, first: number, count: number) => void,
): ReturnType<typeof evaluateModel> {
  let session: ModelSession;
  try {
    session = await createSession(model, {
      intraOpNumThreads: options.threads,
      ...(options.inlineLimit !== undefined ? {inlineLimit: options.inlineLimit} : {}),
      ...(options.scratchDir !== undefined ? {scratchDir: options.scratchDir} : {}),
    });
  } catch (error) {
    throw new RuntimeInputError(`onnxruntime cannot load the model: ${(error as Error).message}`, 'model');
  }
  try {
    return await evaluateModel(session, dataset, {
      batchSize: options.batchSize,
      signal: options.signal,
      onLogits: ({logits, labels, count, start}) => tap(logits, labels, start, count),
    });
  } catch (error) {
    if (error instanceof DataError) throw new RuntimeInputError(error.message, 'dataset', error.hint);
    throw error;
  } finally {
    await session.release();
  }
}

/** The layers `approximateModel` selects, with their MACs, from a rewrite with every layer exact. */
function selectedLayers(manifest: Manifest): SearchLayer[] {
  const names = manifest.layers.map((l) => l.node);
  return manifest.layers.map((layer) => {
    if (layer.macs === null) {
      throw new RuntimeInputError(`layer ${layer.node}: MACs unknown (its shapes could not be inferred)`, 'model', 'give the model static input shapes (load/model), or exclude the layer');
    }
    // Search answers name layers in approximate's assign globs: a name must select only its own layer.
    const pattern = globToRegExp(layer.node);
    if (names.some((other) => other !== layer.node && pattern.test(other))) {
      throw new RuntimeInputError(`layer name ${layer.node} contains glob characters matching other layers`, 'layers', 'exclude that layer or rename it in the model');
    }
    return {name: layer.node, macs: layer.macs};
  });
}

function resolveCandidates(names: readonly string[]): {multipliers: Multiplier[]; exact: Multiplier} {
  if (names.length === 0) throw new RuntimeInputError('no candidate multipliers given', 'multipliers', 'list EvoApprox circuits, e.g. [mul8s_1L2H, mul8s_1L2D]');
  const candidates = names.map((name) => {
    try {
      return resolveMultiplier(name);
    } catch (error) {
      throw new RuntimeInputError((error as Error).message, 'multipliers', 'list multipliers with `axx multipliers`');
    }
  });
  const signed = candidates[0]!.signed;
  const mixed = candidates.find((m) => m.signed !== signed);
  if (mixed !== undefined) {
    throw new RuntimeInputError(`multipliers mix operand kinds (${candidates[0]!.name} is ${signed ? 'signed' : 'unsigned'}, ${mixed.name} is not)`, 'multipliers', 'search one operand kind at a time (mul8s_* or mul8u_*)');
  }
  const exact = resolveMultiplier(signed ? 'exact8s' : 'exact8u');
  const byId = new Map([exact, ...candidates].map((m) => [m.id, m]));
  return {multipliers: [...byId.values()], exact};
}

/** sha256 over the evaluated samples and labels themselves (the dataset dir carries no digest). */
function subsetDigest(dataset: Dataset, batchSize: number): string {
  const hash = createHash('sha256').update(JSON.stringify({shape: dataset.manifest.sampleShape, samples: dataset.manifest.count}));
  for (const batch of dataset.batches(batchSize)) {
    hash.update(new Uint8Array(batch.x.buffer, batch.x.byteOffset, batch.count * dataset.sampleSize * 4));
    hash.update(new Uint8Array(batch.y.buffer, batch.y.byteOffset, batch.count * 4));
  }
  return hash.digest('hex');
}

function concat(rows: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const row of rows) {
    out.set(row, offset);
    offset += row.length;
  }
  return out;
}

function readInput(file: string, field: RuntimeField): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new RuntimeInputError(`cannot read ${file}: ${(error as Error).message}`, field);
  }
}

/** sha256 of each external data file the model reads, by location: part of the model's identity beside its .onnx bytes. */
function externalDataDigests(model: Model, baseDir: string): string[] {
  const locations = [...new Set(model.graph.initializers.flatMap((t) => (t.externalLocation === undefined ? [] : [t.externalLocation])))].sort();
  return locations.map((location) => `${location}:${createHash('sha256').update(readInput(join(baseDir, location), 'model')).digest('hex')}`);
}

function decode(bytes: Uint8Array, baseDir: string): Model {
  try {
    return decodeModel(bytes, {baseDir});
  } catch (error) {
    if (error instanceof OnnxDecodeError) throw new RuntimeInputError(`not a usable ONNX model: ${error.message}`, 'model', 'pass the model output of a load/model step');
    throw error;
  }
}

function parse(bytes: Uint8Array, file: string): CalibrationFile {
  try {
    return parseCalibration(JSON.parse(Buffer.from(bytes).toString('utf8')), file);
  } catch (error) {
    throw new RuntimeInputError((error as Error).message, 'calibration', 'pass the calibration output of a calibrate step run on this model');
  }
}

function open(dir: string): {set: Dataset; labels: Int32Array} {
  try {
    const set = openDataset(dir);
    return {set, labels: set.readLabels()};
  } catch (error) {
    if (error instanceof DataError) throw new RuntimeInputError(error.message, 'dataset', error.hint ?? 'pass the dir output of a load/dataset step');
    throw error;
  }
}
