// Gradient estimators for approximate-aware finetuning (docs/gradients.md): straight-through ('ste')
// vs the multiplier table's slope ('lut-2d', 'lut-1d'), on the same data, the same steps and the same
// seeds. For each circuit: accuracy before finetuning, after one epoch with each estimator (mean ± sd
// over seeds), the share of the drop recovered, and the time per training step.
// Run: npx tsx bench/gradients.bench.ts [model=assets/models/vit-mnist.onnx] [train samples=2048] [seeds=3]
//        [test samples=2000] [lr=1e-3] [circuits=mul8s_1L1G,drum8s_k2,trunc8s_k7,mul8s_1KR3,mul8s_1KX2] [window=2]
//        [dataset=mnist|fashion-mnist]
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runCalibration} from '../src/approx/calibration-run.js';
import {resolveMultiplier} from '../src/approx/library.js';
import {approximateModel} from '../src/approx/rewrite.js';
import {openDataset} from '../src/data/dataset-reader.js';
import {IDX_DATASETS, idxSource, type IdxDatasetName} from '../src/data/idx-source.js';
import {writeSubset} from '../src/data/write-subset.js';
import {readModelFile} from '../src/onnx/codec.js';
import {createSession} from '../src/onnx/session.js';
import {topOneAccuracy} from '../src/train/accuracy.js';
import {loadDatasetImages} from '../src/train/dataset-images.js';
import {finetune} from '../src/train/finetune.js';
import {GRADIENT_ESTIMATORS} from '../src/train/table-gradient.js';

const [
  modelArg = fileURLToPath(new URL('../assets/models/vit-mnist.onnx', import.meta.url)),
  samplesArg = '2048',
  seedsArg = '3',
  testArg = '2000',
  lrArg = '1e-3',
  circuitsArg = 'mul8s_1L1G,drum8s_k2,trunc8s_k7,mul8s_1KR3,mul8s_1KX2',
  windowArg = '2',
  datasetArg = 'mnist',
] = process.argv.slice(2);
if (!(datasetArg in IDX_DATASETS)) throw new Error(`dataset (8th argument) must be one of ${Object.keys(IDX_DATASETS).join(', ')}, got ${datasetArg}`);
const dataset = datasetArg as IdxDatasetName;
const THREADS = 2;
const WINDOW = Number(windowArg);
const temp = mkdtempSync(join(tmpdir(), 'axx-gradients-bench-'));
const pct = (x: number) => (100 * x).toFixed(2);
const meanSd = (xs: number[]) => {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return {mean, sd};
};
try {
  const subset = async (name: string, split: 'train' | 'test', limit: number, seed: number) => {
    const dir = join(temp, name);
    await writeSubset(dir, idxSource({dataset, split}), {limit, seed});
    return dir;
  };
  const float = readModelFile(resolve(modelArg));
  const calibrationSet = openDataset(await subset('calibration', 'train', 512, 1));
  const calibration = await runCalibration(float, () => calibrationSet.batches(128, {limit: 512}), {createSession, threads: THREADS});
  const testSet = loadDatasetImages(await subset('test', 'test', Number(testArg), 3));
  const accuracy = (m: Parameters<typeof topOneAccuracy>[0]) => topOneAccuracy(m, testSet, {threads: THREADS});
  const seeds = Array.from({length: Number(seedsArg)}, (_, i) => i);
  const trainSets = await Promise.all(seeds.map(async (seed) => loadDatasetImages(await subset(`train-${seed}`, 'train', Number(samplesArg), 10 + seed))));
  const floatAccuracy = await accuracy(float);
  console.log(`${modelArg}: float ${pct(floatAccuracy)}% on ${testSet.count} ${dataset} test images; 1 epoch of ${samplesArg} training samples, batch 64, AdamW lr ${lrArg}, cosine, window ${WINDOW}, ${seeds.length} seeds`);
  console.log('| circuit | approximate | estimator | finetuned (mean ± sd) | drop recovered | ms/step | time/step vs ste |');
  console.log('|---|---|---|---|---|---|---|');
  for (const circuit of circuitsArg.split(',')) {
    const selection = {default: circuit};
    const before = approximateModel(float, {...selection, calibration, resolveMultiplier});
    const approximateAccuracy = await accuracy(before.model);
    const drop = floatAccuracy - approximateAccuracy;
    // Estimators interleaved per seed, so load on the shared machine spreads evenly over them.
    const results = new Map(GRADIENT_ESTIMATORS.map((e) => [e, {accuracies: [] as number[], msPerStep: [] as number[]}]));
    for (const seed of seeds) {
      for (const estimator of GRADIENT_ESTIMATORS) {
        const target = {float, calibration, selection, resolveMultiplier, gradient: {estimator, window: WINDOW, maxRank: 8}};
        const trainSet = trainSets[seed]!;
        const started = performance.now();
        const result = await finetune(target, trainSet, {
          epochs: 1, batchSize: 64, optimizer: 'adamw', lr: Number(lrArg), weightDecay: 0, schedule: 'cosine', warmupEpochs: 0.05, clipNorm: 1, seed,
        }, {threads: THREADS});
        const steps = Math.ceil(trainSet.count / 64);
        results.get(estimator)!.msPerStep.push((performance.now() - started) / steps);
        results.get(estimator)!.accuracies.push(await accuracy(result.approximate.model));
      }
    }
    const steMsPerStep = results.get('ste')!.msPerStep;
    for (const [estimator, r] of results) {
      // Per seed against ste's run of the same seed, which ran next to it.
      const timeRatio = meanSd(r.msPerStep.map((ms, i) => ms / steMsPerStep[i]!));
      const acc = meanSd(r.accuracies);
      const recovered = meanSd(r.accuracies.map((a) => (a - approximateAccuracy) / drop));
      console.log(
        `| ${circuit} | ${pct(approximateAccuracy)}% (−${pct(drop)}) | ${estimator} | ${pct(acc.mean)} ± ${pct(acc.sd)}% | ${pct(recovered.mean)} ± ${pct(recovered.sd)}% | ${meanSd(r.msPerStep).mean.toFixed(0)} | ${timeRatio.mean.toFixed(2)} ± ${timeRatio.sd.toFixed(2)} |`,
      );
    }
  }
} finally {
  rmSync(temp, {recursive: true, force: true});
}
