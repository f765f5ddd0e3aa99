import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as ort from 'onnxruntime-node';
import {afterAll, describe, expect, it} from 'vitest';
import {encodeModel} from '../onnx/codec.js';
import {DataType, type Dim, type Model} from '../onnx/ir.js';
import {createSession} from '../onnx/session.js';
import {openDataset} from '../data/dataset-reader.js';
import {writeDataset, type Sample} from '../data/dataset-writer.js';
import {evaluateModel} from './evaluate-model.js';
import {idxSource} from '../data/idx-source.js';
import {fileBytes, openNpy} from '../data/npy.js';
import {writeSubset} from '../data/write-subset.js';
import {modelOf} from '../../test/support/onnx-model.js';

const onnxFixtures = fileURLToPath(new URL('../../test/fixtures/onnx/', import.meta.url));
const shippedModel = fileURLToPath(new URL('../../assets/models/vit-mnist.onnx', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'axx-eval-'));
afterAll(() => rmSync(temp, {recursive: true, force: true}));
let dirs = 0;

/** logits = x·W with W[i][j] = (i == j ? 1 : 0) + j/100: sample j-hot-ish inputs pick class j. */
function linearModel(batch: Dim, features = 3, classes = 4): Uint8Array {
  const weights = Float32Array.from({length: features * classes}, (_, k) => (Math.floor(k / classes) === k % classes ? 1 : 0) + (k % classes) / 100);
  const model: Model = modelOf({
    name: 'linear',
    nodes: [{name: 'mm', opType: 'MatMul', domain: '', inputs: ['x', 'W'], outputs: ['logits'], attributes: []}],
    initializers: [{name: 'W', dataType: DataType.FLOAT, dims: [features, classes], data: weights}],
    inputs: [{name: 'x', elemType: DataType.FLOAT, shape: [batch, features]}],
    outputs: [{name: 'logits', elemType: DataType.FLOAT, shape: [batch, classes]}],
    valueInfo: [],
  });
  return encodeModel(model);
}

async function datasetOf(samples: Sample[], classes = ['a', 'b', 'c', 'd'], sampleShape = [samples[0]?.x.length ?? 3]) {
  const dir = join(temp, `ds-${dirs++}`);
  await writeDataset(dir, {sampleShape, classes, preprocessing: {description: ''}, samples});
  return openDataset(dir);
}

const oneHot = (i: number, n = 3) => Float32Array.from({length: n}, (_, k) => (k === i ? 1 : 0));

function readNpy(file: string): {shape: number[]; data: Float32Array} {
  const array = openNpy(fileBytes(file, 0, statSync(file).size), file);
  const data = new Float32Array(array.shape.reduce((a, b) => a * b, 1));
  array.readElements(0, data);
  array.close();
  return {shape: array.shape, data};
}

describe('evaluateModel', () => {
  it('gives exactly the stored PyTorch logits and predictions of an exported ViT', async () => {
    const io = JSON.parse(readFileSync(join(onnxFixtures, 'tiny-vit-opset13.io.json'), 'utf8'));
    const decode = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
    const x = decode(io.input.data);
    const size = 16 * 16;
    const samples = io.predictions.map((label: number, i: number) => ({x: x.subarray(i * size, (i + 1) * size), label}));
    const dataset = await datasetOf(samples, Array.from({length: 10}, (_, i) => String(i)), [1, 16, 16]);
    const logitsFile = join(temp, 'vit-logits.npy');
    const {metrics} = await evaluateModel(join(onnxFixtures, 'tiny-vit-opset13.onnx'), dataset, {batchSize: 3, logitsFile});
    expect(metrics.top1).toBe(1);
    const saved = readNpy(logitsFile);
    expect(saved.shape).toEqual([4, 10]);
    const torch = decode(io.logits.data);
    saved.data.forEach((v, i) => expect(v).toBeCloseTo(torch[i]!, 5));
  });

  it('scores logits: top-1/top-5, loss, per-class accuracy, confusion; short last batch', async () => {
    // Labels 0,1,2,3,3: one-hot inputs 0,1,2,0 predict 0,1,2,0; the zero input ties all logits at 0,
    // which ranks class 0 first (so wrong for top-1) and class 3 fourth (right for top-5 of 4 outputs).
    const samples = [0, 1, 2, 0, -1].map((hot, i) => ({x: hot < 0 ? new Float32Array(3) : oneHot(hot), label: [0, 1, 2, 3, 3][i]!}));
    const dataset = await datasetOf(samples);
    const progress: number[] = [];
    const {metrics, input, output} = await evaluateModel(linearModel('N'), dataset, {batchSize: 2, onBatch: (done) => progress.push(done)});
    expect({input, output}).toEqual({input: 'x', output: 'logits'});
    expect(progress).toEqual([2, 4, 5]);
    expect(metrics.count).toBe(5);
    expect(metrics.top1).toBe(3 / 5);
    expect(metrics.top5).toBe(1);
    expect(metrics.perClass.map((c) => c.accuracy)).toEqual([1, 1, 1, 0]);
    expect(metrics.confusion).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [2, 0, 0, 0],
    ]);
    // Cross-entropy computed independently for the one-hot rows and the zero row.
    const ce = (logits: number[], label: number) => Math.log(logits.reduce((s, l) => s + Math.exp(l), 0)) - logits[label]!;
    const rows = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => Math.fround((i === j ? 1 : 0) + j / 100)));
    const zero = [0, 0, 0, 0];
    const expected = (ce(rows[0]!, 0) + ce(rows[1]!, 1) + ce(rows[2]!, 2) + ce(rows[0]!, 3) + ce(zero, 3)) / 5;
    expect(metrics.meanLoss).toBeCloseTo(expected, 6);
  });

  it('pads the last batch for a model with a fixed batch size, and honours limit', async () => {
    const samples = [0, 1, 2, 1, 0].map((hot) => ({x: oneHot(hot), label: hot}));
    const dataset = await datasetOf(samples);
    const {metrics} = await evaluateModel(linearModel(2), dataset, {batchSize: 64});
    expect(metrics.count).toBe(5);
    expect(metrics.top1).toBe(1);
    const limited = await evaluateModel(linearModel('N'), dataset, {limit: 3});
    expect(limited.metrics.perClass.map((c) => c.count)).toEqual([1, 1, 1, 0]);
    expect(limited.metrics.perClass[3]!.accuracy).toBeNull();
    // A window of the dataset, with every batch's logits handed out.
    const seen: {start: number; count: number; argmax: number[]}[] = [];
    const windowed = await evaluateModel(linearModel('N'), dataset, {
      start: 2,
      limit: 10,
      batchSize: 2,
      onLogits: ({logits, count, start, outputs}) =>
        seen.push({start, count, argmax: Array.from({length: count}, (_, s) => {
          const row = [...logits.subarray(s * outputs, (s + 1) * outputs)];
          return row.indexOf(Math.max(...row));
        })}),
    });
    expect(windowed.metrics.count).toBe(3);
    expect(seen).toEqual([{start: 2, count: 2, argmax: [2, 1]}, {start: 4, count: 1, argmax: [0]}]);
  });

  it('explains shape and class mismatches between model and dataset', async () => {
    const wide = await datasetOf([{x: new Float32Array(5), label: 0}]);
    await expect(evaluateModel(linearModel('N'), wide)).rejects.toThrow('model input "x" has shape [N, 3] but dataset samples are [5] (plus a batch dimension)');
    const manyClasses = await datasetOf([{x: oneHot(0), label: 5}], ['0', '1', '2', '3', '4', 'five']);
    await expect(evaluateModel(linearModel('N'), manyClasses)).rejects.toThrow('the dataset has samples of class 5 ("five") but the model gives only 4 logits');
  });

  it('reuses a caller session and matches a bare session.run loop on real MNIST with the shipped ViT', async () => {
    const dir = join(temp, 'mnist');
    await writeSubset(dir, idxSource({dataset: 'mnist', split: 'test'}), {limit: 300});
    const dataset = openDataset(dir);
    using session = await createSession(shippedModel);
    const {metrics} = await evaluateModel(session, dataset, {batchSize: 128});
    let correct = 0;
    for (const batch of dataset.batches(128)) {
      const logits = (await session.run({input: new ort.Tensor('float32', batch.x.slice(), [batch.count, 1, 28, 28])})).logits!.data as Float32Array;
      for (let s = 0; s < batch.count; s++) {
        const row = [...logits.subarray(s * 10, s * 10 + 10)];
        if (row.indexOf(Math.max(...row)) === batch.y[s]) correct++;
      }
    }
    expect(metrics.top1).toBe(correct / 300);
    expect(metrics.top1).toBeGreaterThan(0.95);
  });
});
