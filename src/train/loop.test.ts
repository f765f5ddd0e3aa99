import {describe, expect, it} from 'vitest';
import {buildCnn, CNN_DEFAULTS} from '../models/cnn.js';
import {Random} from '../util/random.js';
import {uint8Images, type LabeledImages} from './labeled-images.js';
import {decodeCheckpoint, encodeCheckpoint} from './checkpoint-codec.js';
import {epochOrder, train, type TrainCheckpoint, type TrainConfig} from './loop.js';
import {TrainingSession} from './training-session.js';

/** 8×8 images whose class (0..2) is the horizontal band holding a bright bar, plus noise. */
function bars(count: number, seed: number): LabeledImages {
  const rng = new Random(seed);
  const pixels = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = rng.int(3);
    labels[n] = label;
    for (let i = 0; i < 64; i++) {
      const row = Math.floor(i / 8);
      const inBand = row >= label * 3 && row < label * 3 + 2;
      pixels[n * 64 + i] = Math.min(255, (inBand ? 160 : 0) + rng.int(90));
    }
  }
  return uint8Images(pixels, labels, [1, 8, 8], 3);
}

const model = buildCnn({...CNN_DEFAULTS, imageSize: 8, widths: [4], classes: 3, inputMean: 0.5, inputStd: 0.3});
const config: TrainConfig = {epochs: 3, batchSize: 16, optimizer: 'adamw', lr: 0.02, weightDecay: 0.01, schedule: 'cosine', warmupEpochs: 0.5, clipNorm: 5, seed: 7};
const data = bars(96, 1);

describe('train', () => {
  it('learns a learnable task', async () => {
    using session = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    const history = await train(session, data, {...config, epochs: 4});
    expect(history).toHaveLength(4);
    expect(history[3]!.loss).toBeLessThan(history[0]!.loss / 2);
    expect(history[3]!.trainAccuracy).toBeGreaterThan(0.9);
  });

  it('resumes mid-epoch from a checkpoint with bit-identical results and logged metrics', async () => {
    const checkpoints: TrainCheckpoint[] = [];
    const logged = (into: string[]) => ({metricEvery: 3, metric: (name: string, value: number, step: number) => void into.push(`${name}@${step}=${value}`)});
    const straightMetrics: string[] = [];
    using straight = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    const expected = await train(straight, data, config, {checkpointEvery: 4, saveCheckpoint: async (c) => void checkpoints.push(c), ...logged(straightMetrics)});
    const midEpoch = checkpoints.find((c) => c.epoch === 1 && c.batch > 0)!;
    expect(midEpoch.batch).toBe(2); // step 8 of 6 per epoch

    using resumed = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    const {state, files} = encodeCheckpoint(midEpoch);
    const restored = decodeCheckpoint(JSON.parse(JSON.stringify(state)), files, resumed);
    const resumedMetrics: string[] = [];
    const history = await train(resumed, data, config, {resumeFrom: restored, ...logged(resumedMetrics)});
    expect(resumed.params).toEqual(straight.params);
    expect(history.map(({seconds: _, ...h}) => h)).toEqual(expected.map(({seconds: _, ...h}) => h));
    // The loss window spans the checkpoint (steps 7..9 around the save at step 8): its average must not change.
    const afterCheckpoint = straightMetrics.slice(straightMetrics.findIndex((m) => m.startsWith('loss@9=')));
    expect(resumedMetrics).toEqual(afterCheckpoint);
  });

  it('rejects a checkpoint of another model', async () => {
    using session = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    const {state, files} = encodeCheckpoint({epoch: 0, batch: 1, params: [new Float32Array(3)], optimizer: {kind: 'sgd', step: 1, buffers: [new Float32Array(3)]}, history: [], epochLoss: 0, epochCorrect: 0, epochSeen: 0, epochSeconds: 0, windowLoss: 0});
    expect(() => decodeCheckpoint(state, files, session)).toThrow(/belongs to a different model/);
  });

  it('stops when aborted', async () => {
    using session = await TrainingSession.create(model, {imageShape: [1, 8, 8]});
    const controller = new AbortController();
    const run = train(session, data, config, {signal: controller.signal, progress: (step) => step === 2 && controller.abort()});
    await expect(run).rejects.toThrow(/abort/i);
  });
});

describe('epochOrder', () => {
  it('is a permutation that depends only on seed and epoch', () => {
    const a = epochOrder(50, 3, 2);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({length: 50}, (_, i) => i));
    expect(epochOrder(50, 3, 2)).toEqual(a);
    expect(epochOrder(50, 3, 1)).not.toEqual(a);
  });
});
