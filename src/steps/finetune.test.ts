// calibrate → approximate → finetune on the shipped ViT and MNIST, through the step kinds as the
// engine calls them: the aggressive mul8s_1KR3 on every approximable layer loses >= 5 points, and
// one short finetuning epoch wins back at least half of them (issue 8, "Must show").
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Manifest} from '../approx/rewrite-manifest.js';
import {idxSource} from '../data/idx-source.js';
import {writeSubset} from '../data/write-subset.js';
import {StepError, type StepKind} from '../engine/step-kind.js';
import {readModelFile} from '../onnx/codec.js';
import {topOneAccuracy} from '../train/accuracy.js';
import {loadDatasetImages} from '../train/dataset-images.js';
import {readStraightThrough} from '../train/straight-through.js';
import {stepContext, type CheckpointSlot, type StepContextOptions} from '../../test/support/step-context.js';
import {approximateKind} from './approximate.js';
import {calibrateKind} from './calibrate.js';
import {finetuneKind} from './finetune.js';

const model = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-finetune-'));
const trainDir = join(work, 'train');
const testDir = join(work, 'test');
afterAll(() => rmSync(work, {recursive: true, force: true}));

function params<P>(kind: StepKind<P>, given: Record<string, unknown>): P {
  const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(kind.schema);
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as P;
}

const run = <P>(kind: StepKind<P>, given: Record<string, unknown>, options: StepContextOptions = {}) =>
  kind.run(stepContext(params(kind, given), {scratchRoot: work, cpu: 2, ...options}));
const fileOf = (out: Record<string, unknown>, name: string) => (out[name] as {file: string}).file;
const valueOf = <T>(out: Record<string, unknown>, name: string) => (out[name] as {value: T}).value;

let calibration: string;
let manifest: Manifest;
beforeAll(async () => {
  await writeSubset(trainDir, idxSource({dataset: 'mnist', split: 'train'}), {limit: 3000, seed: 2, order: 'stratified'});
  await writeSubset(testDir, idxSource({dataset: 'mnist', split: 'test'}), {limit: 2000, seed: 3, order: 'stratified'});
  calibration = fileOf(await run(calibrateKind, {model, dataset: trainDir, batches: 4, batchSize: 128}), 'calibration');
  const approximate = await run(approximateKind, {model, calibration, default: 'mul8s_1KR3'});
  manifest = valueOf<Manifest>(approximate, 'manifest');
}, 60_000);

interface History {
  samples: number;
  initialEvalAccuracy: number;
  epochs: {epoch: number; loss: number; trainAccuracy: number; evalAccuracy: number}[];
  steps: {step: number; loss: number}[];
}

describe('finetune step', () => {
  it('recovers at least half of an aggressive multiplier\'s accuracy drop in one epoch of 3000 samples', async () => {
    const out = await run(finetuneKind, {model, calibration, manifest, dataset: trainDir, evalDataset: testDir, lr: 1e-3});
    const history = valueOf<History>(out, 'history');
    const floatAccuracy = await topOneAccuracy(readModelFile(model), loadDatasetImages(testDir), {threads: 2});
    const drop = floatAccuracy - history.initialEvalAccuracy;
    const finetuned = history.epochs[0]!.evalAccuracy;
    expect(drop).toBeGreaterThanOrEqual(0.05);
    expect(finetuned - history.initialEvalAccuracy).toBeGreaterThanOrEqual(drop / 2);
    expect(history.samples).toBe(3000);
    expect(history.steps.length).toBeGreaterThan(10);

    // The re-emitted approximate model is the one that was evaluated; it keeps layers, multipliers, scales.
    const approximate = readModelFile(fileOf(out, 'model'));
    expect(await topOneAccuracy(approximate, loadDatasetImages(testDir), {threads: 2})).toBe(finetuned);
    expect(readStraightThrough(approximate)).toHaveLength(manifest.layers.length);
    const after = valueOf<Manifest>(out, 'manifest');
    expect(after.layers.map((l) => [l.node, l.multiplier.name, l.scales])).toEqual(manifest.layers.map((l) => [l.node, l.multiplier.name, l.scales]));
    const floatModel = readModelFile(fileOf(out, 'floatModel'));
    expect(floatModel.graph.nodes.length).toBe(readModelFile(model).graph.nodes.length);
  }, 60_000);

  it('resumes a killed finetune mid-epoch and ends with the same weights', async () => {
    const given = {model, calibration, manifest, dataset: trainDir, evalDataset: testDir, limit: 320, batchSize: 32, checkpointEvery: 3};
    const uninterrupted = await run(finetuneKind, given);
    const slot: CheckpointSlot = {};
    await expect(run(finetuneKind, given, {checkpoint: slot, onProgress: (done, c) => done === 5 && c.abort()})).rejects.toThrow(/abort/i);
    expect(slot.saved?.state).toMatchObject({train: {epoch: 0, batch: 3}, steps: [{step: 1}, {step: 2}, {step: 3}]});
    const resumed = await run(finetuneKind, given, {checkpoint: slot});
    for (const name of ['model', 'floatModel']) expect(readFileSync(fileOf(resumed, name)).equals(readFileSync(fileOf(uninterrupted, name)))).toBe(true);
    const timeless = (h: History) => ({...h, seconds: 0, epochs: h.epochs.map((e) => ({...e, seconds: 0}))});
    expect(timeless(valueOf<History>(resumed, 'history'))).toEqual(timeless(valueOf<History>(uninterrupted, 'history')));
    expect(valueOf<History>(resumed, 'history').steps).toHaveLength(10);
  }, 60_000);

  it('a corrupted checkpoint fails the step naming its unusable part, and is discarded', async () => {
    const given = {model, calibration, manifest, dataset: trainDir, limit: 128, batchSize: 32, checkpointEvery: 2};
    const slot: CheckpointSlot = {};
    await expect(run(finetuneKind, given, {checkpoint: slot, onProgress: (done, c) => done === 3 && c.abort()})).rejects.toThrow(/abort/i);
    slot.saved!.files['optimizer.f32'] = new Uint8Array(12);
    const failure = await run(finetuneKind, given, {checkpoint: slot}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({message: expect.stringMatching(/saved checkpoint: its optimizer\.f32 is unusable \(12 bytes where/), hint: expect.stringMatching(/starts over/)});
    expect(slot.saved).toBeUndefined();
  }, 60_000);

  it('takes an assignment instead of a manifest', async () => {
    const out = await run(finetuneKind, {model, calibration, assign: {'blocks.*.mlp.*': 'mul8s_1KR3'}, default: 'mul8s_1L2H', dataset: trainDir, limit: 64});
    const layers = valueOf<Manifest>(out, 'manifest').layers;
    expect(layers.filter((l) => l.multiplier.name === 'mul8s_1KR3').map((l) => l.node)).toHaveLength(8);
  }, 30_000);

  it('differentiates through the multiplier tables when asked, per layer', async () => {
    const common = {model, calibration, manifest, dataset: trainDir, limit: 128, batchSize: 64};
    const weightsOf = async (extra: Record<string, unknown>) => {
      const out = await run(finetuneKind, {...common, ...extra});
      return readModelFile(fileOf(out, 'floatModel')).graph.initializers.find((t) => t.name === 'blocks.1.mlp.fc1.weight')!.data as Float32Array;
    };
    const ste = await weightsOf({});
    const table = await weightsOf({gradient: 'lut-2d'});
    const blockOneStraightThrough = await weightsOf({gradient: 'lut-2d', gradientLayers: {'blocks.1.**': 'ste'}});
    expect(table).not.toEqual(ste);
    expect(blockOneStraightThrough).not.toEqual(table);
    expect(() => params(finetuneKind, {...common, gradient: 'lut-3d'})).toThrow();
    expect(() => params(finetuneKind, {...common, gradient: 'lut-2d', gradientWindow: 0})).toThrow();
    await expect(run(finetuneKind, {...common, gradient: 'lut-2d', gradientLayers: {'block.*': 'ste'}})).rejects.toMatchObject({param: 'with.gradientLayers', message: expect.stringMatching(/blocks\.0\.attn\.qkv/)});
  }, 60_000);

  it('explains a manifest that does not belong to the model', async () => {
    const foreign = {...manifest, layers: manifest.layers.map((l) => ({...l, node: `other.${l.node}`}))};
    const attempt = run(finetuneKind, {model, calibration, manifest: foreign, dataset: trainDir, limit: 64});
    await expect(attempt).rejects.toThrow(StepError);
    await expect(attempt).rejects.toMatchObject({param: 'with.manifest', message: expect.stringMatching(/other\./)});
    const channel = {...manifest, layers: manifest.layers.map((l) => ({...l, scales: {...l.scales, second: {...l.scales.second, granularity: 'channel'}}}))};
    await expect(run(finetuneKind, {model, calibration, manifest: channel, dataset: trainDir, limit: 64})).rejects.toMatchObject({param: 'with.manifest', hint: expect.stringMatching(/weights: tensor/)});
    expect(() => params(finetuneKind, {model, calibration, dataset: trainDir})).toThrow();
    await expect(run(finetuneKind, {model, calibration, default: 'mul8s_nope', dataset: trainDir, limit: 64})).rejects.toMatchObject({param: 'with.default'});
  });
});
