// Training graphs of models exported by PyTorch (the ONNX toolkit's fixtures: a tiny ViT at opset 13
// with decomposed LayerNorm and at opset 17, and a CNN with BatchNorm, depthwise Conv, MaxPool,
// GlobalAveragePool, Gemm): the loss matches PyTorch's logits, and the gradient of all weights
// together matches a central finite difference (float32; tolerance 1e-2 relative).
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {readModelFile} from '../onnx/codec.js';
import {Random} from '../util/random.js';
import {TrainingSession} from './training-session.js';

/** Tensors are stored as base64 of little-endian float32. */
interface Io {
  input: {dims: number[]; data: string};
  logits: {dims: number[]; data: string};
  predictions: number[];
}

const floats = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(new Uint8Array(bytes).buffer);
};

const fixtures = new URL('../../test/fixtures/onnx/', import.meta.url);

function crossEntropy(logits: Float32Array, classes: number, labels: number[]): number {
  let total = 0;
  labels.forEach((label, n) => {
    const row = Array.from(logits.subarray(n * classes, (n + 1) * classes));
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0)) + max;
    total += logSum - row[label]!;
  });
  return total / labels.length;
}

describe.each(['tiny-vit-opset13', 'tiny-vit-opset17', 'tiny-cnn'])('%s exported by PyTorch', (name) => {
  it('trains: PyTorch loss, finite-difference gradient', async () => {
    const model = readModelFile(new URL(`${name}.onnx`, fixtures).pathname);
    const io = JSON.parse(readFileSync(new URL(`${name}.io.json`, fixtures), 'utf8')) as Io;
    const [batch, ...imageShape] = io.input.dims as [number, ...number[]];
    const classes = io.logits.dims[1]!;
    // Labels that differ from the predictions, so the loss and its gradient are far from zero.
    const labels = io.predictions.map((p) => (p + 1) % classes);
    const images = floats(io.input.data);
    const labelTensor = BigInt64Array.from(labels, BigInt);
    using session = await TrainingSession.create(model, {imageShape});
    const base = await session.run(images, labelTensor, batch, imageShape);
    expect(Math.abs(base.loss - crossEntropy(floats(io.logits.data), classes, labels))).toBeLessThan(1e-4);

    const rng = new Random(3);
    const direction = session.params.map((p) => Float32Array.from(p, () => rng.normal()));
    const analytic = base.grads.reduce((s, g, i) => s + g.reduce((t, gk, k) => t + gk * direction[i]![k]!, 0), 0);
    const original = session.params.map((p) => p.slice());
    const lossAt = async (eps: number) => {
      session.params.forEach((p, i) => p.forEach((_, k) => (p[k] = original[i]![k]! + eps * direction[i]![k]!)));
      return (await session.run(images, labelTensor, batch, imageShape)).loss;
    };
    const eps = 1e-3;
    const numeric = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
    expect(Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric))).toBeLessThan(1e-2);
  });
});
