// Approximate-aware finetuning on the shipped ViT (issue 8, "Must show"): accuracy on the MNIST test
// set of the float model, of the approximate model, and of the approximate model after finetuning on
// a subset of the training set — how much of the drop finetuning wins back, and at what cost.
// Run: npx tsx bench/finetune.bench.ts [circuit=mul8s_1KR3] [train samples=60000] [lr=1e-4] [test samples=10000]
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runCalibration} from '../src/approx/calibration-run.js';
import {resolveMultiplier} from '../src/approx/library.js';
import {approximateModel} from '../src/approx/rewrite.js';
import {openDataset} from '../src/data/dataset-reader.js';
import {idxSource} from '../src/data/idx-source.js';
import {writeSubset} from '../src/data/write-subset.js';
import {readModelFile} from '../src/onnx/codec.js';
import {createSession} from '../src/onnx/session.js';
import {topOneAccuracy} from '../src/train/accuracy.js';
import {loadDatasetImages} from '../src/train/dataset-images.js';
import {finetune} from '../src/train/finetune.js';

const [circuit = 'mul8s_1KR3', samplesArg = '60000', lrArg = '1e-4', testArg = '10000'] = process.argv.slice(2);
const THREADS = 2;
const temp = mkdtempSync(join(tmpdir(), 'axx-finetune-bench-'));
try {
  const subset = async (name: string, split: 'train' | 'test', limit: number, seed: number) => {
    const dir = join(temp, name);
    await writeSubset(dir, idxSource({dataset: 'mnist', split}), {limit, seed, order: 'stratified'});
    return dir;
  };
  const float = readModelFile(fileURLToPath(new URL('../assets/models/vit-mnist.onnx', import.meta.url)));
  const calibrationSet = openDataset(await subset('calibration', 'train', 512, 1));
  const calibration = await runCalibration(float, () => calibrationSet.batches(128, {limit: 512}), {createSession, threads: THREADS});
  const trainSet = loadDatasetImages(await subset('train', 'train', Number(samplesArg), 2));
  const testSet = loadDatasetImages(await subset('test', 'test', Number(testArg), 3));
  const accuracy = (m: Parameters<typeof topOneAccuracy>[0]) => topOneAccuracy(m, testSet, {threads: THREADS});

  const target = {float, calibration, selection: {default: circuit}, resolveMultiplier};
  const before = approximateModel(float, {...target.selection, calibration, resolveMultiplier});
  const [floatAccuracy, approximateAccuracy] = [await accuracy(float), await accuracy(before.model)];
  const started = performance.now();
  const result = await finetune(target, trainSet, {
    epochs: 1, batchSize: 64, optimizer: 'adamw', lr: Number(lrArg), weightDecay: 0, schedule: 'cosine', warmupEpochs: 0.05, clipNorm: 1, seed: 0,
  }, {threads: THREADS});
  const seconds = (performance.now() - started) / 1000;
  const finetunedAccuracy = await accuracy(result.approximate.model);
  const drop = floatAccuracy - approximateAccuracy;
  const pct = (x: number) => (100 * x).toFixed(2);
  console.log(`finetune ${circuit} on all ${before.manifest.layers.length} approximable layers, ${trainSet.count} training samples (1 epoch, batch 64, AdamW lr ${lrArg}), MNIST test ${testSet.count}`);
  console.log(`  float ${pct(floatAccuracy)}%  approximate ${pct(approximateAccuracy)}% (drop ${pct(drop)} points)  finetuned ${pct(finetunedAccuracy)}%`);
  console.log(`  recovered ${pct((finetunedAccuracy - approximateAccuracy) / drop)}% of the drop in ${seconds.toFixed(0)} s (${(trainSet.count / seconds).toFixed(0)} samples/s); train loss ${result.history[0]!.loss.toFixed(3)}`);
} finally {
  rmSync(temp, {recursive: true, force: true});
}
