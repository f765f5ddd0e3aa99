// Step kind "evaluate": runs an ONNX classifier over a dataset directory with onnxruntime and
// reports top-1/top-5, mean cross-entropy, per-class accuracy and the confusion matrix; optionally
// keeps the logits. The loop itself is the library function evaluateModel (src/infer); it streams
// the dataset batch by batch, so memory does not grow with the number of samples.
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {INTEGER_OPERANDS_METADATA_KEY} from '../approx/rewrite-manifest.js';
import {INPUT_METADATA_KEY} from '../models/layers.js';
import {StepError, type Json, type StepKind} from '../engine/step-kind.js';
import type {ClassificationMetrics} from '../data/classification-metrics.js';
import {DataError} from '../data/data-error.js';
import {openDataset, type Dataset} from '../data/dataset-reader.js';
import {datasetSubset} from '../data/dataset-subset.js';
import {inputMismatch} from '../data/input-expectation.js';
import {npyHeader} from '../data/npy.js';
import {MANIFEST_FILE} from '../data/manifest.js';
import {missingClassesWarning, type SubsetRecord} from '../data/subset.js';
import {modelFileOf, readModelMetadata} from '../onnx/codec.js';
import {DeviceUnavailableError, executionSettings, parseDevice, type Device} from '../onnx/device.js';
import {wilsonInterval, type Interval} from '../util/statistics.js';
import {executionKey} from './shared/execution-key.js';
import {subsetOptions, subsetParamSchema, type SubsetParams} from './shared/subset-params.js';

export interface EvaluateParams extends SubsetParams {
  model: string;
  dataset: string;
  batchSize: number;
  /** Intra-op threads; default the step's cpu grant. */
  threads?: number;
  saveLogits: boolean;
  /** Model output holding the logits; default the first. */
  output?: string;
  /** cpu, or cuda:N (needs onnxruntime-node's CUDA provider and a gpu resource token). */
  device: string;
}

/** Past this many cells the confusion matrix is left out of the metrics value (ImageNet's is 10^6). */
const MAX_CONFUSION_CELLS = 100 * 100;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'dataset'],
  properties: {
    model: {type: 'string', 'x-axx-input': {type: 'path', format: 'onnx'}, description: 'The classifier (a load/model, train or approximate output).'},
    dataset: {type: 'string', 'x-axx-input': {type: 'dir', format: 'dataset'}, description: 'The samples (a load/dataset output).'},
    batchSize: {type: 'integer', minimum: 1, default: 64},
    threads: {type: 'integer', minimum: 1, description: 'onnxruntime intra-op threads (default: the cpu resource granted to the step).'},
    saveLogits: {type: 'boolean', default: false, description: 'Keep the logits as an NPY float32 [count, classes] file (else the logits output is an empty array).'},
    ...subsetParamSchema('samples to evaluate'),
    output: {type: 'string', minLength: 1, description: 'The model output holding the logits (default: the first).'},
    device: {
      type: 'string',
      pattern: '^(cpu|cuda(:[0-9]+)?)$',
      default: 'cpu',
      description: "cpu, or cuda:N on a machine with onnxruntime-node's CUDA provider installed (README \"GPUs\"); a cuda step must hold a gpu resource token (resources: {gpu: 1}).",
    },
  },
};

/** The device a step asked for, checked against the resource tokens it holds. */
function stepDevice(text: string, resources: Record<string, number>): Device {
  const device = parseDevice(text);
  if (device === undefined) throw new StepError(`device "${text}" is not cpu or cuda:N`, undefined, 'with.device');
  if (device.kind === 'cuda' && !((resources['gpu'] ?? 0) >= 1)) {
    throw new StepError(`device ${text} runs on a GPU, but the step holds no gpu resource token`, 'add `resources: {gpu: 1}` to the step, so steps sharing the GPU take turns', 'with.device');
  }
  return device;
}

/** Progress at most every PROGRESS_MS (a fast model on small batches would flood the event stream), throughput every RATE_MS. */
const PROGRESS_MS = 100;
const RATE_MS = 1000;


export type EvaluateMetrics = Omit<ClassificationMetrics, 'confusion'> & {
  confusion: number[][] | null;
  input: string;
  output: string;
  /** 95 % Wilson interval of top1 over `count` samples. */
  top1Interval: Interval;
  /** Which samples were evaluated (of the stored dataset). */
  subset: SubsetRecord;
  /** Per-sample top-1 correctness, so two models scored on the same samples can be compared pairwise (McNemar). */
  correct: CorrectnessBits;
  warnings: string[];
};

/**
 * Bit i (LSB first within each byte) of the base64 `bits` is 1 when sample i was classified correctly.
 * `samples` digests the stored dataset and the subset: two evaluations pair only when it is equal.
 */
export interface CorrectnessBits {
  encoding: 'bitset-base64';
  count: number;
  samples: string;
  bits: string;
}

/**
 * A warning when top-1 is near chance level: at most twice the rate of always answering the largest class,
 * or at most half-way from it to 100 % when that rate is high. Usually a label-order or preprocessing mistake.
 */
export function chanceLevelWarning(metrics: Pick<ClassificationMetrics, 'count' | 'top1' | 'perClass'>): string | undefined {
  if (metrics.count === 0) return undefined;
  const chance = Math.max(...metrics.perClass.map((c) => c.count)) / metrics.count;
  if (chance >= 1 || metrics.top1 > Math.min(2 * chance, (1 + chance) / 2)) return undefined;
  return (
    `top-1 ${(100 * metrics.top1).toFixed(2)}% is near chance level (${(100 * chance).toFixed(2)}%, always answering the largest class): ` +
    "check that the dataset's class order matches the model's outputs, the preprocessing (transform) and the model output used"
  );
}

/** The metadata entries of an ONNX file ("axx.input", …); none when it cannot be read (onnxruntime then says why it cannot load it). */
export function recordedMetadata(file: string): Map<string, string> {
  try {
    return readModelMetadata(file);
  } catch {
    return new Map();
  }
}

/**
 * A warning when the model's MatMulInteger operands do not suit the device: uint8 ones onnxruntime's CUDA provider
 * lacks, or int8 ones (written for CUDA) its CPU provider runs without a fast kernel. The results are the same.
 */
export function integerOperandsWarning(device: Device, metadata: Map<string, string>): string | undefined {
  const operands = metadata.get(INTEGER_OPERANDS_METADATA_KEY);
  if (device.kind === 'cuda' && operands === 'uint8') {
    return (
      "the model's integer layers store uint8 operands, which onnxruntime's CUDA provider has no MatMulInteger for: they run on the CPU provider " +
      '(the same results, slower); approximate the model with `target: cuda` for int8 operands the GPU runs'
    );
  }
  if (device.kind === 'cpu' && operands === 'int8') {
    return (
      "the model was approximated for cuda (int8 MatMulInteger operands), which onnxruntime's CPU provider runs several times slower " +
      '(the same results); approximate it with `target: cpu` to evaluate on the CPU'
    );
  }
  return undefined;
}

/** The predicted class of one logits row: the first maximum, as torch.argmax and the accuracy metrics rank ties. */
function topClass(logits: Float32Array, row: number, outputs: number): number {
  let best = 0;
  for (let j = 1; j < outputs; j++) if (logits[row + j]! > logits[row + best]!) best = j;
  return best;
}

/**
 * Identifies "these samples of this stored dataset" for pairing two evaluations: the manifest (source, split,
 * subset and seed, preprocessing), every label and the chosen indices.
 */
function samplesDigest(dataset: Dataset, indices: Int32Array): string {
  const labels = dataset.readLabels();
  return createHash('sha256')
    .update(readFileSync(join(dataset.dir, MANIFEST_FILE)))
    .update(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength))
    .update(new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength))
    .digest('hex')
    .slice(0, 32);
}

/** Runs `fn`, turning a DataError (an expected failure) into a StepError that points at `param`. */
async function withParam<T>(param: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DataError) throw new StepError(error.message, error.hint, param);
    if (error instanceof DeviceUnavailableError) throw new StepError(error.message, error.hint, 'with.device');
    throw error;
  }
}

export const evaluateKind: StepKind<EvaluateParams> = {
  name: 'evaluate',
  version: 2,
  description: 'Evaluate an ONNX classifier on a dataset: top-1/top-5, mean loss, per-class accuracy, confusion matrix, optional logits',
  schema,
  outputs: {
    metrics: {
      type: 'value',
      format: 'metrics',
      description: 'count, top1 with its 95% Wilson interval, top5, meanLoss, perClass, confusion (null past 100×100), input/output names, the subset, per-sample correctness (for paired tests), warnings',
    },
    logits: {type: 'file', format: 'npy', description: 'float32 [count, classes] when saveLogits, else an empty [0, classes] array'},
  },
  resources: {cpu: 1},
  keyExtras(params) {
    // The execution provider and its precision settings change the numbers; which GPU runs them does not.
    return {execution: executionKey(params.device)};
  },
  async run(ctx) {
    const {params} = ctx;
    const device = stepDevice(params.device, ctx.resources);
    // onnxruntime loads when a step runs, not when a pipeline is planned.
    const {evaluateModel} = await import('../infer/evaluate-model.js');
    const logitsFile = join(ctx.scratchDir, 'logits.npy');
    const stored = await withParam('with.dataset', () => openDataset(params.dataset));
    const {dataset, record, indices} = await withParam('with.limit', () => datasetSubset(stored, subsetOptions(params)));
    const subsetWarning = missingClassesWarning(record, stored.manifest.classes);
    if (subsetWarning !== undefined) ctx.log(`warning: ${subsetWarning}`, 'stderr');
    const correct = new Uint8Array(Math.ceil(dataset.manifest.count / 8));
    const modelFile = modelFileOf(params.model);
    const metadata = recordedMetadata(modelFile);
    const mismatch = inputMismatch(metadata.get(INPUT_METADATA_KEY), dataset.manifest.preprocessing);
    if (mismatch !== undefined) ctx.log(`warning: ${mismatch}`, 'stderr');
    const operandsWarning = integerOperandsWarning(device, metadata);
    if (operandsWarning !== undefined) ctx.log(`warning: ${operandsWarning}`, 'stderr');
    let lastProgress = 0;
    let rateSince = {at: performance.now(), done: 0};
    // Every check evaluateModel makes compares the model against the dataset; the model is the usual culprit.
    const {metrics, input, output} = await withParam('with.model', () =>
      evaluateModel(modelFile, dataset, {
        batchSize: params.batchSize,
        threads: params.threads ?? Math.max(1, Math.floor(ctx.resources.cpu ?? 1)),
        device,
        output: params.output,
        onLogits({logits, labels, count, start, outputs}) {
          for (let s = 0; s < count; s++) if (topClass(logits, s * outputs, outputs) === labels[s]) correct[(start + s) >> 3]! |= 1 << ((start + s) & 7);
        },
        logitsFile: params.saveLogits ? logitsFile : undefined,
        signal: ctx.signal,
        onBatch(done, total) {
          const now = performance.now();
          if (done === total || now - rateSince.at >= RATE_MS) {
            ctx.metric('samplesPerSecond', Math.round(((done - rateSince.done) * 1000) / Math.max(1, now - rateSince.at)), done);
            rateSince = {at: now, done};
          }
          if (done === total || now - lastProgress >= PROGRESS_MS) {
            lastProgress = now;
            ctx.progress(done, total, 'sample');
          }
        },
      }),
    );
    if (!params.saveLogits) writeFileSync(logitsFile, npyHeader('<f4', [0, metrics.confusion[0]?.length ?? 0]));
    const cells = metrics.confusion.length * (metrics.confusion[0]?.length ?? 0);
    const chance = chanceLevelWarning(metrics);
    if (chance !== undefined) ctx.log(`warning: ${chance}`, 'stderr');
    const value: EvaluateMetrics = {
      ...metrics,
      confusion: cells <= MAX_CONFUSION_CELLS ? metrics.confusion : null,
      input,
      output,
      top1Interval: wilsonInterval(Math.round(metrics.top1 * metrics.count), metrics.count),
      subset: record,
      correct: {encoding: 'bitset-base64', count: metrics.count, samples: samplesDigest(stored, indices), bits: Buffer.from(correct).toString('base64')},
      warnings: [mismatch, operandsWarning, subsetWarning, chance].filter((w): w is string => w !== undefined),
    };
    ctx.metric('top1', metrics.top1);
    ctx.metric('top5', metrics.top5);
    ctx.metric('meanLoss', metrics.meanLoss);
    ctx.log(`${metrics.count} samples: top-1 ${(100 * metrics.top1).toFixed(2)}%, top-5 ${(100 * metrics.top5).toFixed(2)}%, mean loss ${metrics.meanLoss.toFixed(4)}`);
    return {metrics: {value: value as unknown as Json}, logits: {file: logitsFile}};
  },
};
