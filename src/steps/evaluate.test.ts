import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {idxSource} from '../data/idx-source.js';
import {writeSubset} from '../data/write-subset.js';
import {StepError} from '../engine/step-kind.js';
import {chanceLevelWarning, evaluateKind, type EvaluateMetrics, type EvaluateParams} from './evaluate.js';
import {writeClassOrderedMnist} from '../../test/support/class-ordered-mnist.js';
import {keyContext, stepContext} from '../../test/support/step-context.js';

const shipped = fileURLToPath(new URL('../../assets/models/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'axx-evaluate-'));
const mnistTest = join(work, 'mnist-test');
afterAll(() => rmSync(work, {recursive: true, force: true}));
// The shipped ViT was trained on load/dataset's default MNIST preprocessing.
beforeAll(() => writeSubset(mnistTest, idxSource({dataset: 'mnist', split: 'test'}), {}));

const validate = new Ajv2020.default({strict: false, useDefaults: true}).compile(evaluateKind.schema);
function params(given: Record<string, unknown>): EvaluateParams {
  const copy = structuredClone(given);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as unknown as EvaluateParams;
}

function context(p: EvaluateParams) {
  const ctx = stepContext(p, {scratchRoot: work, cpu: 2});
  return {ctx, progress: ctx.progressed};
}

describe('evaluate', () => {
  it('reproduces the shipped ViT\'s recorded MNIST test accuracy and saves the logits', async () => {
    const recorded = JSON.parse(readFileSync(join(shipped, 'vit-mnist.json'), 'utf8')).testTop1;
    const {ctx, progress} = context(params({model: join(shipped, 'vit-mnist.onnx'), dataset: mnistTest, batchSize: 256, saveLogits: true}));
    const out = await evaluateKind.run(ctx);
    const value = (out.metrics as unknown as {value: EvaluateMetrics}).value;
    expect(value.count).toBe(10000);
    // Exact on this machine; a CPU with other onnxruntime kernels may flip a borderline sample.
    expect(Math.abs(value.top1 - recorded)).toBeLessThanOrEqual(2 / 10000);
    expect(value.warnings).toEqual([]);
    expect(value.top5).toBeGreaterThan(value.top1);
    expect(value.perClass.reduce((sum, c) => sum + c.correct, 0)).toBe(Math.round(value.top1 * 10000));
    expect(value.confusion?.flat().reduce((a, b) => a + b)).toBe(10000);
    expect(Object.fromEntries(ctx.metrics)['top1']).toBe(value.top1);
    expect(progress.at(-1)).toEqual([10000, 10000]);
    const logits = readFileSync((out.logits as {file: string}).file);
    expect(logits.toString('latin1', 0, 80)).toContain("'shape': (10000, 10)");
    expect(logits.length).toBe(128 + 10000 * 10 * 4);
  });

  it('writes an empty logits array unless asked, and honours limit', async () => {
    const {ctx} = context(params({model: join(shipped, 'vit-mnist.onnx'), dataset: mnistTest, limit: 100}));
    const out = await evaluateKind.run(ctx);
    expect((out.metrics as unknown as {value: EvaluateMetrics}).value.count).toBe(100);
    expect(readFileSync((out.logits as {file: string}).file).toString('latin1')).toContain("'shape': (0, 10)");
  });

  it('takes limit as a seeded stratified subset of a class-ordered dataset, with per-sample correctness', async () => {
    const ordered = join(work, 'mnist-class-ordered');
    await writeClassOrderedMnist(ordered, 1000);
    const model = join(shipped, 'vit-mnist.onnx');
    const value = async (p: Record<string, unknown>, logs: string[] = []) => {
      const {ctx} = context(params({model, dataset: ordered, ...p}));
      return ((await evaluateKind.run({...ctx, log: (text) => void logs.push(text)})).metrics as unknown as {value: EvaluateMetrics}).value;
    };
    const stratified = await value({limit: 100});
    expect(stratified.perClass.map((c) => c.count)).toEqual(stratified.subset.perClass);
    expect(Math.min(...stratified.subset.perClass)).toBeGreaterThanOrEqual(8);
    expect(stratified.subset).toMatchObject({order: 'stratified', seed: 0, count: 100, missingClasses: []});
    expect(stratified.top1Interval.low).toBeLessThan(stratified.top1);
    expect(stratified.top1Interval.high).toBeGreaterThan(stratified.top1);
    const bits = Buffer.from(stratified.correct.bits, 'base64');
    let correct = 0;
    for (let i = 0; i < 100; i++) correct += (bits[i >> 3]! >> (i & 7)) & 1;
    expect(correct).toBe(Math.round(stratified.top1 * 100));
    expect((await value({limit: 100, seed: 1})).correct.samples).not.toBe(stratified.correct.samples);

    const logs: string[] = [];
    const first = await value({limit: 100, order: 'file'}, logs);
    expect(first.subset.missingClasses.length).toBeGreaterThan(5);
    expect(first.warnings, JSON.stringify(first.warnings)).toEqual([expect.stringMatching(/^the 100-sample subset \(order file\) has no sample of \d of 10 classes/)]);
    expect(logs).toContain(`warning: ${first.warnings[0]}`);
  });

  it('warns when top-1 is near chance level', () => {
    const perClass = Array.from({length: 10}, (_, c) => ({name: String(c), count: 100, correct: 15, accuracy: 0.15}));
    expect(chanceLevelWarning({count: 1000, top1: 0.15, perClass})).toMatch(/^top-1 15\.00% is near chance level \(10\.00%, always answering the largest class\): check that the dataset's class order/);
    expect(chanceLevelWarning({count: 1000, top1: 0.29, perClass})).toBeUndefined();
  });

  it('warns when the dataset is preprocessed differently from what the model records', async () => {
    const unnormalised = join(work, 'mnist-unnormalised');
    await writeSubset(unnormalised, idxSource({dataset: 'mnist', split: 'test', mean: 0, std: 1}), {limit: 64});
    const logs: string[] = [];
    const {ctx} = context(params({model: join(shipped, 'vit-mnist.onnx'), dataset: unnormalised}));
    const out = await evaluateKind.run({...ctx, log: (text, stream) => void logs.push(`${stream}: ${text}`)});
    expect((out.metrics as unknown as {value: EvaluateMetrics}).value.warnings).toEqual([expect.stringContaining('trained on data normalised with mean [0.1307]')]);
    expect(logs[0]).toMatch(/^stderr: warning: the model was trained on data normalised with mean \[0\.1307\] \/ std \[0\.3081\], but the dataset has \(x\/255 - 0\)\/1/);
  });

  it('points at the parameter at fault', async () => {
    const failure = async (p: Record<string, unknown>) => {
      const error = await evaluateKind.run(context(params(p)).ctx).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StepError);
      return error as StepError;
    };
    const garbage = join(work, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    expect(await failure({model: garbage, dataset: mnistTest})).toMatchObject({param: 'with.model', message: expect.stringContaining('onnxruntime cannot load the model')});
    expect(await failure({model: join(shipped, 'vit-mnist.onnx'), dataset: work})).toMatchObject({param: 'with.dataset', message: `${join(work, 'manifest.json')}: no dataset manifest here`});
    const tiny = fileURLToPath(new URL('../../test/fixtures/onnx/tiny-vit-opset17.onnx', import.meta.url));
    expect(await failure({model: tiny, dataset: mnistTest})).toMatchObject({param: 'with.model', message: expect.stringContaining('has shape [batch, 1, 16, 16] but dataset samples are [1, 28, 28]')});
    expect(validate({model: 'm', dataset: 'd', batchSize: 0})).toBe(false);
    expect(validate({model: 'm', dataset: 'd', device: 'gpu'})).toBe(false);
  });

  it('runs on cuda only with a gpu token and an installed CUDA provider, and keys on the provider', async () => {
    const model = join(shipped, 'vit-mnist.onnx');
    const noToken = await evaluateKind.run(context(params({model, dataset: mnistTest, device: 'cuda:0'})).ctx).then(() => undefined, (e: unknown) => e);
    expect(noToken).toMatchObject({param: 'with.device', message: 'device cuda:0 runs on a GPU, but the step holds no gpu resource token'});
    // This machine (like CI) has no CUDA provider: the step says what to install.
    const {ctx} = context(params({model, dataset: mnistTest, device: 'cuda:0'}));
    const absent = await evaluateKind.run({...ctx, resources: {cpu: 1, gpu: 1}}).then(() => undefined, (e: unknown) => e);
    expect(absent).toMatchObject({param: 'with.device', message: expect.stringContaining("device cuda:0: onnxruntime-node's CUDA provider is not installed")});
    expect((absent as StepError).hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    const key = (device: string) => evaluateKind.keyExtras!(params({model, dataset: mnistTest, device}), keyContext);
    expect(await key('cpu')).toEqual({execution: {provider: 'cpu'}});
    expect(await key('cuda:1')).toEqual({execution: {provider: 'cuda', tf32: false}});
  });

  it('reports its throughput as a metric', async () => {
    const {ctx} = context(params({model: join(shipped, 'vit-mnist.onnx'), dataset: mnistTest, limit: 300, batchSize: 100}));
    await evaluateKind.run(ctx);
    const rates = ctx.metrics.filter(([name]) => name === 'samplesPerSecond');
    expect(rates.length).toBeGreaterThan(0);
    expect(rates.every(([, value]) => value > 0)).toBe(true);
  });
});
