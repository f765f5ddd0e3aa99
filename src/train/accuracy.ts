// Top-1 accuracy of an inference model on labeled images (used for per-epoch evaluation).
import * as ort from 'onnxruntime-node';
import type {Model} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import type {LabeledImages} from './labeled-images.js';

/** Index of the largest of `classes` logits in row `row`. */
export function argmaxRow(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
  return best;
}

export async function topOneAccuracy(model: Model, data: LabeledImages, options: {batchSize?: number; threads?: number} = {}): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const input = model.graph.inputs[0]!.name;
  const output = model.graph.outputs[0]!.name;
  const size = data.imageShape[0] * data.imageShape[1] * data.imageShape[2];
  const images = new Float32Array(batchSize * size);
  const labels = new BigInt64Array(batchSize);
  const indices = new Int32Array(batchSize);
  using session = await createSession(model, {intraOpNumThreads: options.threads ?? 1});
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    for (let k = 0; k < n; k++) indices[k] = start + k;
    data.read(indices.subarray(0, n), images, labels);
    const out = await session.run({[input]: new ort.Tensor('float32', images.subarray(0, n * size), [n, ...data.imageShape])});
    const logits = out[output]!.data as Float32Array;
    for (let k = 0; k < n; k++) if (argmaxRow(logits, k, data.classes) === Number(labels[k])) correct++;
  }
  return correct / data.count;
}
