// End to end on the shipped ViT: the low-rank rewrite's logits against the direct-lookup reference.
import * as ort from 'onnxruntime-node';
import {beforeAll, describe, expect, it} from 'vitest';
import {idxFiles} from '../data/idx-source.js';
import {readIdxFile} from '../data/idx.js';
import type {Model} from '../onnx/ir.js';
import {readModelFile} from '../onnx/codec.js';
import {createSession, type SessionFactory} from '../onnx/session.js';
import type {CalibrationFile} from './calibration-format.js';
import {runCalibration} from './calibration-run.js';
import {operandTable} from './emulate/operand-table.js';
import {referenceModel} from './reference-model.js';
import {resolveMultiplier} from './library.js';
import {approximateModel, type MultiplierTable} from './rewrite.js';

const circuit = (name: string): MultiplierTable => resolveMultiplier(name);
const PIXELS = 784;

function mnistTest(start: number, count: number): {x: Float32Array; y: Uint8Array} {
  const files = idxFiles({dataset: 'mnist', split: 'test'});
  const images = readIdxFile(files.images).data.subarray(start * PIXELS, (start + count) * PIXELS);
  const labels = readIdxFile(files.labels).data.subarray(start, start + count);
  // The shipped model expects load/dataset's MNIST preprocessing: (x/255 - 0.1307)/0.3081.
  return {x: Float32Array.from(images, (v) => (v / 255 - 0.1307) / 0.3081), y: labels};
}

async function logitsOf(run: (feeds: Record<string, ort.Tensor>) => Promise<Record<string, ort.Tensor>>, x: Float32Array, batch: number): Promise<Float32Array> {
  const count = x.length / PIXELS;
  const out = new Float32Array(count * 10);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const feeds = {input: new ort.Tensor('float32', x.subarray(start * PIXELS, (start + n) * PIXELS), [n, 1, 28, 28])};
    out.set((await run(feeds)).logits!.data as Float32Array, start * 10);
  }
  return out;
}

const argmax = (logits: Float32Array, i: number): number => {
  let best = 0;
  for (let c = 1; c < 10; c++) if (logits[i * 10 + c]! > logits[i * 10 + best]!) best = c;
  return best;
};

describe('approximate ViT (assets/models/vit-mnist.onnx) equals the lookup reference', () => {
  let float: Model;
  let calibration: CalibrationFile;
  beforeAll(async () => {
    float = readModelFile('assets/models/vit-mnist.onnx');
    const calib = mnistTest(9000, 256);
    calibration = await runCalibration(float, () => [0, 1, 2, 3].map((b) => ({x: calib.x.subarray(b * 64 * PIXELS, (b + 1) * 64 * PIXELS), count: 64})), {createSession});
  });

  const cases = [
    {multiplier: 'mul8s_1L2H', attention: false, images: 1000},
    {multiplier: 'mul8s_1KX2', attention: true, images: 200},
  ];
  it.each(cases)('$multiplier (attention: $attention) on $images MNIST test images', async ({multiplier, attention, images}) => {
    const {model, manifest} = approximateModel(float, {calibration, resolveMultiplier: circuit, default: multiplier, attention});
    expect(manifest.layers.length).toBe(attention ? 25 : 17);
    expect(manifest.layers.some((l) => l.node === 'head')).toBe(false);
    const data = mnistTest(0, images);
    // Both sides at 'basic': 'extended' fusions (Gelu, BiasGelu …) round the float ops between layers differently
    // in the two graphs, which would blur a bit-level comparison that is about the approximate layers.
    using session = await createSession(model, {intraOpNumThreads: 2, graphOptimizationLevel: 'basic'});
    const approx = await logitsOf((feeds) => session.run(feeds), data.x, 100);
    const mult = circuit(multiplier);
    const basicSessions: SessionFactory = (m, opts) => createSession(m, {...opts, graphOptimizationLevel: 'basic'});
    const reference = await referenceModel(float, manifest, new Map([[multiplier, operandTable(mult.table, mult.signed)]]), basicSessions);
    const expected = await logitsOf((feeds) => reference.run(feeds), data.x, 100);
    await reference.release();

    let maxDiff = 0;
    let scale = 0;
    let agree = 0;
    let correct = 0;
    for (let i = 0; i < approx.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(approx[i]! - expected[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    for (let i = 0; i < images; i++) {
      if (argmax(approx, i) === argmax(expected, i)) agree++;
      if (argmax(approx, i) === data.y[i]) correct++;
    }
    expect(agree).toBe(images);
    // Same integer accumulators and the same fp32 dequantisation: identical up to fp32 rounding (in practice bit-identical).
    expect(maxDiff).toBeLessThanOrEqual(scale * 2 ** -20);
    expect(correct / images).toBeGreaterThan(0.95);
  }, 120_000);
});
