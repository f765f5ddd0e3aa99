import * as ort from 'onnxruntime-node';
import {describe, expect, it} from 'vitest';
import {runCalibration} from '../approx/calibration-run.js';
import {resolveMultiplier} from '../approx/library.js';
import {approximateModel} from '../approx/rewrite.js';
import type {Model} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {buildVit, VIT_DEFAULTS} from '../models/vit.js';
import {Random} from '../util/random.js';
import {finetune, FinetuneError, reemitApproximate, selectionFromManifest, trainableApproximate, type FinetuneTarget} from './finetune.js';
import {imageSubset} from './finetune-subset.js';
import type {LabeledImages} from './labeled-images.js';
import type {TrainConfig} from './loop.js';

const SHAPE = [1, 8, 8] as const;

/** 8×8 images whose class is the band holding a bright bar. */
function bars(count: number, seed: number): LabeledImages {
  const rng = new Random(seed);
  const labels = Int32Array.from({length: count}, () => rng.int(3));
  const pixels = Float32Array.from({length: count * 64}, (_, i) => (Math.floor((i % 64) / 8 / 3) === labels[Math.floor(i / 64)] ? 0.7 : 0) + rng.next() * 0.3);
  return {
    count, imageShape: SHAPE, classes: 3,
    read(indices, images, out) {
      for (let k = 0; k < indices.length; k++) {
        images.set(pixels.subarray(indices[k]! * 64, (indices[k]! + 1) * 64), k * 64);
        out[k] = BigInt(labels[indices[k]!]!);
      }
    },
  };
}

const float = buildVit({...VIT_DEFAULTS, imageSize: 8, patchSize: 4, dim: 16, depth: 1, heads: 2, classes: 3, inputMean: 0.5, inputStd: 0.3});
const data = bars(96, 1);
const batch = Float32Array.from({length: 32 * 64}, (_, i) => new Random(i).next());
const calibration = await runCalibration(float, () => [{x: batch, count: 32}], {createSession});
const target: FinetuneTarget = {float, calibration, selection: {default: 'mul8s_1KR3'}, resolveMultiplier};
const config: TrainConfig = {epochs: 1, batchSize: 16, optimizer: 'adamw', lr: 3e-3, weightDecay: 0, schedule: 'constant', warmupEpochs: 0, clipNorm: 1, seed: 0};

async function logits(model: Model, images: Float32Array, count: number): Promise<Float32Array> {
  using session = await createSession(model);
  const out = await session.run({input: new ort.Tensor('float32', images, [count, ...SHAPE])});
  return out[model.graph.outputs[0]!.name]!.data as Float32Array;
}

const weight = (m: Model, name: string) => m.graph.initializers.find((t) => t.name === name)!.data as Float32Array;

describe('approximate-aware finetuning', () => {
  it('trains through a model whose forward pass equals the approximate model', async () => {
    const compact = approximateModel(float, {...target.selection, calibration, resolveMultiplier});
    const trainable = trainableApproximate(target);
    expect(await logits(trainable.model, batch, 32)).toEqual(await logits(compact.model, batch, 32));
    expect(trainable.regions.map((r) => r.output)).toEqual(compact.manifest.layers.map((l) => l.output));
    // Only the float model's weights are trained, never the emulation's tables.
    const emulation = new Set(compact.manifest.layers.flatMap((l) => l.emulation.initializers));
    expect(trainable.model.graph.initializers.filter(trainable.trainable).some((t) => emulation.has(t.name))).toBe(false);
  });

  it('re-emits the trained weights with frozen scales, reproducing the trained forward pass', async () => {
    const before = approximateModel(float, {...target.selection, calibration, resolveMultiplier});
    const result = await finetune(target, data, config);
    const qkv = 'blocks.0.attn.qkv.weight';
    expect(weight(result.float, qkv)).not.toEqual(weight(float, qkv));
    expect(result.history).toHaveLength(1);
    expect(result.approximate.manifest.layers.map((l) => l.scales)).toEqual(before.manifest.layers.map((l) => l.scales));
    expect(result.approximate.manifest.layers.map((l) => l.multiplier)).toEqual(before.manifest.layers.map((l) => l.multiplier));
    // The compact model of the trained weights computes what the training graph's forward pass computed.
    const trainedInGraph = trainableApproximate({...target, float: result.float}).model;
    expect(await logits(result.approximate.model, batch, 32)).toEqual(await logits(trainedInGraph, batch, 32));
  });

  it('reads the selection back from a manifest', () => {
    const {manifest} = approximateModel(float, {calibration, resolveMultiplier, assign: {'blocks.*.mlp.*': 'mul8s_1KR3'}, default: 'mul8s_1L2H'});
    const selection = selectionFromManifest(manifest);
    const again = approximateModel(float, {...selection, calibration, resolveMultiplier});
    expect(again.manifest.layers.map((l) => [l.node, l.multiplier.name])).toEqual(manifest.layers.map((l) => [l.node, l.multiplier.name]));
    const channel = approximateModel(float, {calibration, resolveMultiplier, default: 'mul8s_1KR3', weightGranularity: 'channel'}).manifest;
    expect(() => selectionFromManifest(channel)).toThrow(FinetuneError);
    expect(() => selectionFromManifest(channel)).toThrow(/per-channel weight scales/);
    expect(() => selectionFromManifest({} as never)).toThrow(/not an approximate manifest/);
  });

  it('keeps the approximate model\'s target: int8 operands (cuda) are re-emitted as int8, with the same forward pass', async () => {
    const cuda = approximateModel(float, {calibration, resolveMultiplier, default: 'mul8s_1KR3', integerOperands: 'int8'});
    const selection = selectionFromManifest(cuda.manifest);
    expect(selection.integerOperands).toBe('int8');
    const reemitted = reemitApproximate({...target, selection}, float);
    expect(reemitted.manifest.integerOperands).toBe('int8');
    expect(await logits(reemitted.model, batch, 32)).toEqual(await logits(trainableApproximate({...target, selection}).model, batch, 32));
    expect(selectionFromManifest(approximateModel(float, {calibration, resolveMultiplier, default: 'mul8s_1KR3'}).manifest).integerOperands).toBe('uint8');
  });

  it('draws a seeded subset of the training images', () => {
    const subset = imageSubset(data, 10, 4);
    const read = (d: LabeledImages) => {
      const images = new Float32Array(d.count * 64);
      const labels = new BigInt64Array(d.count);
      d.read(Int32Array.from({length: d.count}, (_, i) => i), images, labels);
      return images;
    };
    expect(subset.count).toBe(10);
    expect(read(subset)).toEqual(read(imageSubset(data, 10, 4)));
    expect(read(subset)).not.toEqual(read(imageSubset(data, 10, 5)));
    expect(imageSubset(data, 500, 4)).toBe(data);
  });
});
