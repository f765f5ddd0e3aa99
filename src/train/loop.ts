// The training loop: seeded shuffling, batches, optimiser updates, schedules, metrics, and
// checkpoints that let a killed run resume mid-epoch with identical results.
import type {Model} from '../onnx/ir.js';
import {Random} from '../util/random.js';
import {TrainingDivergedError} from './training-diverged.js';
import {argmaxRow} from './accuracy.js';
import type {LabeledImages} from './labeled-images.js';
import {AdamW, clipGradNorm, defaultDecayMask, Sgd, type Optimizer, type OptimizerState} from './optim.js';
import {learningRate, type ScheduleKind} from './schedule.js';
import type {TrainingSession} from './training-session.js';


export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  /** SGD momentum. */
  momentum?: number;
  schedule: ScheduleKind;
  /** Warm-up length in epochs (fractions allowed). */
  warmupEpochs: number;
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  clipNorm: number;
  seed: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  lr: number;
  seconds: number;
  evalAccuracy?: number;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainCheckpoint {
  epoch: number;
  /** Batches of `epoch` already done. */
  batch: number;
  params: Float32Array[];
  optimizer: OptimizerState;
  history: EpochRecord[];
  /** Running sums of the current epoch. */
  epochLoss: number;
  epochCorrect: number;
  epochSeen: number;
  epochSeconds: number;
  /** Loss summed since the last logged 'loss' metric: a window may span a checkpoint. */
  windowLoss: number;
}

export interface TrainHooks {
  progress?(step: number, totalSteps: number): void;
  /** Per-epoch metrics, and 'loss'/'lr' every `metricEvery` steps (loss averaged over those steps). */
  metric?(name: string, value: number, step: number): void;
  metricEvery?: number;
  /** Called every `checkpointEvery` steps and after each epoch. */
  saveCheckpoint?(checkpoint: TrainCheckpoint): Promise<void>;
  checkpointEvery?: number;
  resumeFrom?: TrainCheckpoint;
  /** Accuracy of the model after each epoch, e.g. on a test set. */
  evaluate?(model: Model): Promise<number>;
  signal?: AbortSignal;
}

/** The order of examples in `epoch`: a permutation that depends only on (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number, into = new Int32Array(count)): Int32Array {
  for (let i = 0; i < count; i++) into[i] = i;
  return new Random((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0).shuffle(into);
}

export function createOptimizer(config: TrainConfig, session: TrainingSession): Optimizer {
  const sizes = session.params.map((p) => p.length);
  const decay = defaultDecayMask(session.paramNames, session.paramDims);
  return config.optimizer === 'adamw'
    ? new AdamW(sizes, {weightDecay: config.weightDecay, decay})
    : new Sgd(sizes, {weightDecay: config.weightDecay, decay, momentum: config.momentum ?? 0.9});
}

export async function train(session: TrainingSession, data: LabeledImages, config: TrainConfig, hooks: TrainHooks = {}): Promise<EpochRecord[]> {
  const {batchSize} = config;
  const stepsPerEpoch = Math.ceil(data.count / batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const schedule = {kind: config.schedule, lr: config.lr, totalSteps, warmupSteps: Math.round(config.warmupEpochs * stepsPerEpoch)};
  const optimizer = createOptimizer(config, session);
  const imageSize = data.imageShape[0] * data.imageShape[1] * data.imageShape[2];
  const images = new Float32Array(batchSize * imageSize);
  const labels = new BigInt64Array(batchSize);
  const order = new Int32Array(data.count);

  const resume = hooks.resumeFrom;
  let state: TrainCheckpoint = resume ?? {
    epoch: 0, batch: 0, params: [...session.params], optimizer: optimizer.state(), history: [], epochLoss: 0, epochCorrect: 0, epochSeen: 0, epochSeconds: 0, windowLoss: 0,
  };
  if (resume !== undefined) {
    session.params.forEach((p, i) => p.set(resume.params[i]!));
    optimizer.restore(resume.optimizer);
  }
  const metricEvery = hooks.metricEvery ?? 1;
  let windowLoss = state.windowLoss;
  const snapshot = (): TrainCheckpoint => {
    const opt = optimizer.state();
    return {...state, windowLoss, params: session.params.map((p) => p.slice()), optimizer: {...opt, buffers: opt.buffers.map((b) => b.slice())}, history: [...state.history]};
  };

  for (let epoch = state.epoch; epoch < config.epochs; epoch++) {
    epochOrder(data.count, config.seed, epoch, order);
    const started = performance.now() - state.epochSeconds * 1000;
    for (let batch = epoch === state.epoch ? state.batch : 0; batch < stepsPerEpoch; batch++) {
      hooks.signal?.throwIfAborted();
      const step = epoch * stepsPerEpoch + batch;
      const indices = order.subarray(batch * batchSize, Math.min(data.count, (batch + 1) * batchSize));
      const n = indices.length;
      data.read(indices, images, labels);
      const result = await session.run(images, labels, n, data.imageShape);
      if (!Number.isFinite(result.loss)) throw new TrainingDivergedError(epoch + 1, batch + 1, result.loss);
      if (config.clipNorm > 0) clipGradNorm(result.grads, config.clipNorm);
      const lr = learningRate(schedule, step);
      optimizer.step(session.params, result.grads, lr);

      let correct = 0;
      for (let k = 0; k < n; k++) if (argmaxRow(result.logits, k, data.classes) === Number(labels[k])) correct++;
      state = {...state, epoch, batch: batch + 1, epochLoss: state.epochLoss + result.loss * n, epochCorrect: state.epochCorrect + correct, epochSeen: state.epochSeen + n};
      hooks.progress?.(step + 1, totalSteps);
      windowLoss += result.loss;
      if ((step + 1) % metricEvery === 0) {
        hooks.metric?.('loss', windowLoss / metricEvery, step + 1);
        hooks.metric?.('lr', lr, step + 1);
        windowLoss = 0;
      }
      if (hooks.saveCheckpoint && hooks.checkpointEvery && (step + 1) % hooks.checkpointEvery === 0 && batch + 1 < stepsPerEpoch) {
        state.epochSeconds = (performance.now() - started) / 1000;
        await hooks.saveCheckpoint(snapshot());
      }
    }
    const record: EpochRecord = {
      epoch: epoch + 1,
      loss: state.epochLoss / state.epochSeen,
      trainAccuracy: state.epochCorrect / state.epochSeen,
      lr: learningRate(schedule, (epoch + 1) * stepsPerEpoch - 1),
      seconds: (performance.now() - started) / 1000,
    };
    if (hooks.evaluate) record.evalAccuracy = await hooks.evaluate(session.trainedModel());
    hooks.metric?.('epoch_loss', record.loss, epoch + 1);
    hooks.metric?.('train_accuracy', record.trainAccuracy, epoch + 1);
    if (record.evalAccuracy !== undefined) hooks.metric?.('accuracy', record.evalAccuracy, epoch + 1);
    state = {...state, epoch: epoch + 1, batch: 0, history: [...state.history, record], epochLoss: 0, epochCorrect: 0, epochSeen: 0, epochSeconds: 0};
    if (hooks.saveCheckpoint && epoch + 1 < config.epochs) await hooks.saveCheckpoint(snapshot());
  }
  return state.history;
}
