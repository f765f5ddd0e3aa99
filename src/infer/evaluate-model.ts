// Runs a classifier over a dataset directory with onnxruntime and scores it, without any pipeline
// machinery, so steps (evaluate, sensitivity, search) share one loop. Memory stays at one batch
// whatever the dataset size: batches and their input tensor are reused, metrics accumulate as
// counts, logits stream to a file. The last batch is run short (or zero-padded when the model
// fixes its batch size).
import {closeSync, openSync, writeSync} from 'node:fs';
import * as ort from 'onnxruntime-node';
import {createSession, DeviceUnavailableError, type Device, type ModelSession, type SessionFactory} from '../onnx/session.js';
import {MetricsAccumulator, type ClassificationMetrics} from '../data/classification-metrics.js';
import {DataError} from '../data/data-error.js';
import type {Dataset} from '../data/dataset-reader.js';
import {inputShapeMismatch} from '../data/input-expectation.js';
import {npyHeader} from '../data/npy.js';

export interface EvaluateOptions {
  /** Samples per session.run; default 64. */
  batchSize?: number;
  /** Intra-op threads when this function creates the session; default 1. */
  threads?: number;
  /** Where a session this function creates runs; default the CPU. */
  device?: Device;
  /** First sample to evaluate (default 0). */
  start?: number;
  /** Evaluate at most `limit` samples (from `start`). */
  limit?: number;
  /** Write the logits here as an NPY float32 array [count, outputs]. */
  logitsFile?: string;
  /** Model output holding the logits; default the first. */
  output?: string;
  /** Called after each batch with (samples done, samples to do). */
  onBatch?(done: number, total: number): void;
  /**
   * Sees every batch's logits (count × outputs, row-major) with its labels and the index of its first
   * sample, for measures beyond accuracy (agreement with a reference model, KL divergence …).
   * The arrays are only valid during the call.
   */
  onLogits?(batch: {logits: Float32Array; labels: Int32Array; count: number; start: number; outputs: number}): void;
  signal?: AbortSignal;
  /** How sessions are made from bytes or paths (tests and benches wrap it); default createSession. */
  sessionFactory?: SessionFactory;
}

export interface Evaluation {
  metrics: ClassificationMetrics;
  /** The model input and output used, for reports. */
  input: string;
  output: string;
}

type Dims = readonly (number | string)[];

function tensorMetadata(session: ort.InferenceSession, name: string, inputs: boolean): Dims | undefined {
  const list = inputs ? session.inputMetadata : session.outputMetadata;
  const meta = list.find((m) => m.name === name);
  return meta?.isTensor ? meta.shape : undefined;
}

/** Checks the model input against the dataset's sample shape; returns the batch size the model fixes, if any. */
function checkInput(dims: Dims | undefined, sampleShape: readonly number[], input: string): number | undefined {
  if (dims === undefined || dims.length === 0) return undefined;
  const mismatch = inputShapeMismatch(dims, sampleShape, input);
  if (mismatch !== undefined) {
    throw new DataError(mismatch, undefined, 'load the dataset with a transform that matches the model (image size, channels), or use a model made for this dataset');
  }
  return typeof dims[0] === 'number' ? dims[0] : undefined;
}

async function openSession(model: Uint8Array | string, opts: EvaluateOptions): Promise<ModelSession> {
  try {
    return await (opts.sessionFactory ?? createSession)(model, {intraOpNumThreads: opts.threads ?? 1, ...(opts.device !== undefined ? {device: opts.device} : {})});
  } catch (error) {
    if (error instanceof DeviceUnavailableError) throw error;
    throw new DataError(`onnxruntime cannot load the model: ${(error as Error).message}`, typeof model === 'string' ? model : undefined);
  }
}

/** Evaluates `model` (a session, ONNX bytes, or an .onnx path) on `dataset`. */
export async function evaluateModel(model: ModelSession | Uint8Array | string, dataset: Dataset, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const owned = typeof model === 'string' || model instanceof Uint8Array;
  const session = owned ? await openSession(model, opts) : model;
  let logitsFd: number | undefined;
  try {
    const realInputs = session.inputNames;
    if (realInputs.length !== 1) throw new DataError(`the model takes ${realInputs.length} inputs (${realInputs.join(', ')}); evaluation feeds exactly one`);
    const input = realInputs[0]!;
    const output = opts.output ?? session.outputNames[0]!;
    if (!session.outputNames.includes(output)) throw new DataError(`the model has no output "${output}" (it has ${session.outputNames.join(', ')})`);
    const {sampleShape, count: datasetCount, classes, labelCounts} = dataset.manifest;
    const fixedBatch = checkInput(tensorMetadata(session.session, input, true), sampleShape, input);
    const batchSize = fixedBatch ?? opts.batchSize ?? 64;
    const start = opts.start ?? 0;
    const total = Math.max(0, Math.min(datasetCount - start, opts.limit ?? datasetCount));

    let metrics: MetricsAccumulator | undefined;
    let fullTensor: ort.Tensor | undefined;
    let padded: Float32Array | undefined;
    let done = 0;
    for (const batch of dataset.batches(batchSize, {start, limit: total})) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      let tensor: ort.Tensor;
      if (batch.count === batchSize) {
        // Batches reuse one buffer, so one tensor over it serves every full batch.
        if (fullTensor?.data !== batch.x) fullTensor = new ort.Tensor('float32', batch.x, [batchSize, ...sampleShape]);
        tensor = fullTensor;
      } else if (fixedBatch !== undefined) {
        padded ??= new Float32Array(batchSize * dataset.sampleSize);
        padded.fill(0).set(batch.x);
        tensor = new ort.Tensor('float32', padded, [batchSize, ...sampleShape]);
      } else {
        tensor = new ort.Tensor('float32', batch.x, [batch.count, ...sampleShape]);
      }
      const result = (await session.run({[input]: tensor}, [output]))[output]!;
      if (result.type !== 'float32' || result.dims.length !== 2) {
        throw new DataError(`model output "${output}" is ${result.type} [${result.dims.join(', ')}]; evaluation needs float32 logits [batch, classes]`);
      }
      const logits = result.data as Float32Array;
      if (metrics === undefined) {
        const outputs = result.dims[1]!;
        const unscorable = labelCounts.findIndex((n, c) => n > 0 && c >= outputs);
        if (unscorable >= 0) throw new DataError(`the dataset has samples of class ${unscorable} ("${classes[unscorable]}") but the model gives only ${outputs} logits`);
        metrics = new MetricsAccumulator(classes, outputs);
        if (opts.logitsFile !== undefined) {
          logitsFd = openSync(opts.logitsFile, 'w');
          writeSync(logitsFd, npyHeader('<f4', [total, outputs]));
        }
      }
      metrics.add(logits, batch.y, batch.count);
      opts.onLogits?.({logits: logits.subarray(0, batch.count * metrics.outputs), labels: batch.y, count: batch.count, start: batch.start, outputs: metrics.outputs});
      if (logitsFd !== undefined) writeSync(logitsFd, new Uint8Array(logits.buffer, logits.byteOffset, batch.count * metrics.outputs * 4));
      done += batch.count;
      opts.onBatch?.(done, total);
    }
    if (opts.logitsFile !== undefined && logitsFd === undefined) {
      logitsFd = openSync(opts.logitsFile, 'w');
      writeSync(logitsFd, npyHeader('<f4', [0, 0]));
    }
    return {metrics: (metrics ?? new MetricsAccumulator(classes, classes.length)).result(), input, output};
  } finally {
    if (logitsFd !== undefined) closeSync(logitsFd);
    if (owned) await session.release();
  }
}
