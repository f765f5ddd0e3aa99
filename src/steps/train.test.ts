import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {StepError, type Json} from '../engine/step-kind.js';
import {writeDataset} from '../data/dataset-writer.js';
import {readModelFile} from '../onnx/codec.js';
import {Random} from '../util/random.js';
import {topOneAccuracy} from '../train/accuracy.js';
import {loadDatasetImages} from '../train/dataset-images.js';
import {loadDatasetKind, type LoadDatasetParams} from './load-dataset.js';
import {trainStep, type TrainParams} from './train.js';
import {stepContext, type CheckpointSlot} from '../../test/support/step-context.js';

const root = mkdtempSync(join(tmpdir(), 'axx-train-step-'));
afterAll(() => rmSync(root, {recursive: true, force: true}));

/** 8×8 images whose class is the band holding a bright bar. */
async function barsDataset(dir: string, count: number, seed: number): Promise<string> {
  const rng = new Random(seed);
  function* samples() {
    for (let n = 0; n < count; n++) {
      const label = rng.int(3);
      const x = Float32Array.from({length: 64}, (_, i) => (Math.floor(i / 8 / 3) === label ? 0.7 : 0) + rng.next() * 0.3);
      yield {x, label};
    }
  }
  await writeDataset(dir, {sampleShape: [1, 8, 8], classes: ['top', 'middle', 'bottom'], preprocessing: {description: 'synthetic, [0, 1]'}, samples: samples()});
  return dir;
}

const trainDir = await barsDataset(join(root, 'train'), 120, 1);
const testDir = await barsDataset(join(root, 'test'), 60, 2);

const params: TrainParams = {
  model: {arch: 'vit', imageSize: 8, patchSize: 4, dim: 16, depth: 1, heads: 2, classes: 3, inputMean: 0.5, inputStd: 0.3},
  dataset: trainDir, evalDataset: testDir,
  epochs: 3, batchSize: 16, optimizer: 'adamw', lr: 0.01, weightDecay: 0.01, momentum: 0.9, schedule: 'cosine', warmup: 0.5, clipNorm: 1, seed: 0, checkpointEvery: 5,
};

function context<P>(p: P, slot: CheckpointSlot, abortAtStep?: number) {
  const ctx = stepContext(p, {scratchRoot: root, checkpoint: slot, onProgress: (done, controller) => done === abortAtStep && controller.abort()});
  return {ctx, metrics: ctx.metrics};
}

describe('train step', () => {
  it('trains a model that classifies held-out data, reporting metrics', async () => {
    const {ctx, metrics} = context(params, {});
    const out = await trainStep.run(ctx);
    const file = (out['model'] as {file: string}).file;
    const accuracy = await topOneAccuracy(readModelFile(file), loadDatasetImages(testDir));
    expect(accuracy).toBeGreaterThan(0.9);
    const history = (out['history'] as {value: {epochs: {evalAccuracy: number}[]}}).value;
    expect(history.epochs).toHaveLength(3);
    expect(history.epochs[2]!.evalAccuracy).toBe(accuracy);
    expect(metrics.filter(([n]) => n === 'loss')).toHaveLength(24);
    expect(metrics.some(([n]) => n === 'accuracy')).toBe(true);
  });

  it('resumes a killed run from its checkpoint and produces the same model', async () => {
    const uninterrupted = await trainStep.run(context(params, {}).ctx);
    const slot: {saved?: {state: Json; files: Record<string, Uint8Array>}} = {};
    await expect(trainStep.run(context(params, slot, 12).ctx)).rejects.toThrow(/abort/i);
    expect(slot.saved?.state).toMatchObject({epoch: 1, batch: 2});
    const resumed = await trainStep.run(context(params, slot).ctx);
    const bytes = (o: typeof resumed) => readFileSync((o['model'] as {file: string}).file);
    expect(bytes(resumed).equals(bytes(uninterrupted))).toBe(true);
  });

  it('a corrupted checkpoint fails the step naming its unusable part, and is discarded so the next attempt starts over', async () => {
    const slot: CheckpointSlot = {};
    await expect(trainStep.run(context(params, slot, 6).ctx)).rejects.toThrow(/abort/i);
    const saved = slot.saved!;
    const weights = saved.files['params.f32']!;
    slot.saved = {...saved, files: {...saved.files, 'params.f32': weights.subarray(0, weights.byteLength - 8)}};
    const failure = await trainStep.run(context(params, slot).ctx).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({message: expect.stringMatching(/saved checkpoint: its params\.f32 is unusable .*; the checkpoint was discarded$/), hint: expect.stringMatching(/^run the step again: it starts over/)});
    expect(slot.saved).toBeUndefined();
    slot.saved = {...saved, state: {...(saved.state as object), epoch: -1}};
    await expect(trainStep.run(context(params, slot).ctx)).rejects.toThrow(/its state is unusable \("epoch" must be a non-negative integer\)/);
    const startedOver = context(params, slot);
    await trainStep.run(startedOver.ctx);
    expect(startedOver.ctx.logs.some((line) => line.startsWith('resuming'))).toBe(false);
  });

  it('a diverging run is a step error pointing at the learning rate', async () => {
    const failure = await trainStep.run(context({...params, epochs: 1, lr: 1e38, clipNorm: 0}, {}).ctx).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({message: expect.stringMatching(/^training diverged at epoch 1, batch \d+: loss/), param: 'with.lr'});
  });

  it('explains a model/dataset mismatch', async () => {
    const p = {...params, model: {...params.model, imageSize: 28, patchSize: 7}};
    await expect(trainStep.run(context(p, {}).ctx)).rejects.toThrow(StepError);
    await expect(trainStep.run(context(p, {}).ctx)).rejects.toThrow(/images are 1×8×8 but the model expects 1×28×28/);
  });

  it('trains on load/dataset output (normalised MNIST) and records its preprocessing', async () => {
    const mnist = async (split: 'train' | 'test', limit: number) => {
      const p: LoadDatasetParams = {source: 'mnist', split, limit, seed: 1, order: 'stratified', keys: {x: 'x', y: 'y'}};
      const out = await loadDatasetKind.run(context(p, {}).ctx);
      return (out['dataset'] as {dir: string}).dir;
    };
    const [trainSet, testSet] = [await mnist('train', 2000), await mnist('test', 500)];
    const p: TrainParams = {...params, model: {arch: 'cnn', widths: [8, 16]}, dataset: trainSet, evalDataset: testSet, epochs: 2, lr: 3e-3, batchSize: 32};
    const out = await trainStep.run(context(p, {}).ctx);
    const model = readModelFile((out['model'] as {file: string}).file);
    expect(model.graph.nodes.some((n) => n.name.startsWith('input_norm'))).toBe(false); // the data are already normalised
    expect(JSON.parse(model.metadataProps.find((m) => m.key === 'axx.input')!.value)).toMatchObject({mean: [0.1307], std: [0.3081]});
    expect(await topOneAccuracy(model, loadDatasetImages(testSet))).toBeGreaterThan(0.85);
  });

  it('names a missing dataset', async () => {
    await expect(trainStep.run(context({...params, dataset: join(root, 'nope')}, {}).ctx)).rejects.toThrow(/no dataset manifest/);
  });
});
