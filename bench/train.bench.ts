// Training-step throughput vs inference throughput on the same model (goal: step ≤ 4× forward).
// A "step" is one training-graph run (forward + loss + backward) plus the AdamW update in TS.
// Run: npx tsx bench/train.bench.ts
import * as ort from 'onnxruntime-node';
import {createSession} from '../src/onnx/session.js';
import {buildCnn, CNN_DEFAULTS} from '../src/models/cnn.js';
import {buildVit, VIT_DEFAULTS} from '../src/models/vit.js';
import type {Model} from '../src/onnx/ir.js';
import {Random} from '../src/util/random.js';
import {AdamW, defaultDecayMask} from '../src/train/optim.js';
import {TrainingSession} from '../src/train/training-session.js';

const BATCH = 128;
const REPEATS = 30;

/**
 * Median times of `a` and `b`, run alternately so that load from other processes on the shared
 * machine affects both alike.
 */
async function timeBoth(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < 3; i++) await a().then(b); // warm-up: first runs touch fresh memory
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < REPEATS; i++) {
    for (const [k, run] of [a, b].entries()) {
      const started = performance.now();
      await run();
      times[k]!.push(performance.now() - started);
    }
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
  return [median(times[0]), median(times[1])];
}

async function measure(name: string, model: Model, threads: number): Promise<void> {
  const rng = new Random(1);
  const images = Float32Array.from({length: BATCH * 784}, () => rng.next());
  const labels = BigInt64Array.from({length: BATCH}, () => BigInt(rng.int(10)));
  using inference = await createSession(model, {intraOpNumThreads: threads});
  const input = new ort.Tensor('float32', images, [BATCH, 1, 28, 28]);

  using training = await TrainingSession.create(model, {imageShape: [1, 28, 28], threads});
  const optimizer = new AdamW(training.params.map((p) => p.length), {weightDecay: 0.05, decay: defaultDecayMask(training.paramNames, training.paramDims)});
  const [forwardMs, stepMs] = await timeBoth(
    () => inference.run({input}),
    async () => {
      const result = await training.run(images, labels, BATCH, [1, 28, 28]);
      optimizer.step(training.params, result.grads, 1e-4);
    },
  );
  const ratio = stepMs / forwardMs;
  console.log(
    `${name} batch ${BATCH}, ${threads} thread(s): forward ${forwardMs.toFixed(1)} ms (${((BATCH / forwardMs) * 1000).toFixed(0)} img/s), ` +
      `train step ${stepMs.toFixed(1)} ms (${((BATCH / stepMs) * 1000).toFixed(0)} img/s), step/forward ${ratio.toFixed(2)}× (goal ≤ 4×) ${ratio <= 4 ? 'OK' : 'MISSED'}`,
  );
}

// One thread is the steadier figure on a shared machine: a descheduled second worker stalls every op.
for (const threads of [1, 2]) {
  await measure('vit-mnist (patch 7, dim 64, depth 4)', buildVit(VIT_DEFAULTS), threads);
  await measure('cnn (16-32)', buildCnn(CNN_DEFAULTS), threads);
}
