// Running calibration: the float model on a few batches, with every operand of every approximable
// layer exposed as an extra graph output, feeding the statistics of calibration.ts. Two passes over
// the same batches: the first builds the |x| histograms (and so amax), the second counts the
// quantised operand bytes, which need amax. Weights are measured from their initializers.
import * as ort from 'onnxruntime-node';
import type {Model, ValueInfo} from '../onnx/ir.js';
import {DataType} from '../onnx/ir.js';
import type {SessionFactory} from '../onnx/session.js';
import {AbsHistogram, addOperandCounts, CalibrationError, chooseAmax, DEFAULT_PERCENTILE, type CalibrationMethod} from './calibration.js';
import {calibratedValues, findApproximableLayers, type ApproximableLayer} from './emulate/approximable.js';
import {CALIBRATION_FORMAT, type CalibrationFile, type OperandStatistics} from './calibration-format.js';

export interface CalibrationBatch {
  /** `count` samples, each of the model input's per-sample shape, concatenated. */
  x: Float32Array;
  count: number;
}

export interface CalibrationOptions {
  method?: CalibrationMethod;
  percentile?: number;
  /** Use at most this many batches of the source. */
  batches?: number;
  createSession: SessionFactory;
  threads?: number;
  /** Called after each batch of either pass; the total is known once the first pass has ended. */
  progress?: (done: number, total?: number) => void;
  signal?: AbortSignal;
}

type BatchSource = () => AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>;

export async function runCalibration(model: Model, source: BatchSource, opts: CalibrationOptions): Promise<CalibrationFile> {
  const method = opts.method ?? 'percentile';
  const percentile = opts.percentile ?? DEFAULT_PERCENTILE;
  const layers = findApproximableLayers(model.graph);
  if (layers.length === 0) throw new CalibrationError('the model has no MatMul, Gemm or Conv layers to calibrate');
  const weights = new Set(layers.flatMap((l) => (l.weight ? [l.weight] : [])));
  const activations = calibratedValues(layers).filter((name) => !weights.has(name));
  const input = modelInput(model);

  const histograms = new Map(activations.map((name) => [name, new AbsHistogram()]));
  const counts = new Map(activations.map((name) => [name, new Float64Array(256)]));
  const probe = withOutputs(model, activations);
  const session = await opts.createSession(probe, {intraOpNumThreads: opts.threads ?? 1});
  let samples = 0;
  let batchesUsed = 0;
  try {
    const limit = opts.batches ?? Infinity;
    let first: number | undefined;
    const pass = async (visit: (name: string, data: Float32Array) => void, passIndex: number): Promise<number> => {
      let done = 0;
      for await (const batch of source()) {
        if (done >= limit) break;
        opts.signal?.throwIfAborted();
        const feeds = {[input.name]: new ort.Tensor('float32', batch.x.subarray(0, inputSize(input, batch)), [batch.count, ...perSampleShape(input)])};
        const outputs = await session.run(feeds, activations);
        for (const name of activations) visit(name, outputs[name]!.data as Float32Array);
        if (passIndex === 0) samples += batch.count;
        done++;
        opts.progress?.(passIndex * (first ?? 0) + done, first === undefined ? undefined : 2 * first);
      }
      return done;
    };
    batchesUsed = await pass((name, data) => histograms.get(name)!.add(data), 0);
    first = batchesUsed;
    if (batchesUsed === 0) throw new CalibrationError('the calibration data yielded no batches');
    const amax = new Map(activations.map((name) => [name, chooseAmax(histograms.get(name)!, method, percentile)]));
    await pass((name, data) => addOperandCounts(counts.get(name)!, data, amax.get(name)!), 1);
  } finally {
    await session.release();
  }

  const values: Record<string, OperandStatistics> = {};
  for (const name of activations) values[name] = statistics('activation', histograms.get(name)!, counts.get(name)!, method, percentile);
  for (const name of weights) {
    const tensor = model.graph.initializers.find((t) => t.name === name)!;
    const data = tensor.data as Float32Array;
    const h = new AbsHistogram();
    h.add(data);
    const c = new Float64Array(256);
    addOperandCounts(c, data, chooseAmax(h, method, percentile));
    values[name] = statistics('weight', h, c, method, percentile);
  }
  return {
    format: CALIBRATION_FORMAT,
    version: 1,
    method,
    percentile,
    samples,
    batches: batchesUsed,
    values,
    layers: layers.map(describeLayer),
  };
}

function statistics(role: OperandStatistics['role'], h: AbsHistogram, counts: Float64Array, method: CalibrationMethod, percentile: number): OperandStatistics {
  return {role, max: h.max, amax: chooseAmax(h, method, percentile), histogram: {range: h.range, counts: Array.from(h.counts)}, operandCounts: Array.from(counts)};
}

function describeLayer(layer: ApproximableLayer): CalibrationFile['layers'][number] {
  return {node: layer.node.name, op: layer.op, kind: layer.kind, operands: layer.operands};
}

function modelInput(model: Model): ValueInfo {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) throw new CalibrationError(`calibration feeds one input tensor, but the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')})`);
  const input = inputs[0]!;
  if (input.elemType !== DataType.FLOAT) throw new CalibrationError(`model input "${input.name}" must be float32 for calibration`);
  if (!input.shape || input.shape.slice(1).some((d) => typeof d !== 'number')) {
    throw new CalibrationError(`model input "${input.name}" needs a fixed per-sample shape (all dims after the batch dim), got [${input.shape?.join(', ') ?? 'unknown'}]`);
  }
  return input;
}

function perSampleShape(input: ValueInfo): number[] {
  return input.shape!.slice(1) as number[];
}

function inputSize(input: ValueInfo, batch: CalibrationBatch): number {
  const perSample = perSampleShape(input).reduce((a, b) => a * b, 1);
  const size = perSample * batch.count;
  if (batch.x.length < size) {
    throw new CalibrationError(`a calibration batch of ${batch.count} samples holds ${batch.x.length} values, but input "${input.name}" needs ${perSample} per sample`);
  }
  return size;
}

/** A copy of `model` that also outputs the given values. */
export function withOutputs(model: Model, names: readonly string[]): Model {
  const existing = new Set(model.graph.outputs.map((o) => o.name));
  const extra = names.filter((n) => !existing.has(n)).map((name): ValueInfo => ({name, elemType: DataType.FLOAT}));
  return {...model, graph: {...model.graph, outputs: [...model.graph.outputs, ...extra]}};
}
