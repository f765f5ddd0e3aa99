// What `train` and `finetune` share: the optimisation parameters, their mapping onto the training
// loop's config, and opening a dataset output as training images.
import {DataError} from '../../data/data-error.js';
import {StepError, type Json, type StepCheckpoint} from '../../engine/step-kind.js';
import {CheckpointFormatError, decodeCheckpoint} from '../../train/checkpoint-codec.js';
import {loadDatasetImages, type LoadedImages} from '../../train/dataset-images.js';
import type {TrainCheckpoint, TrainConfig} from '../../train/loop.js';
import {TrainingDivergedError} from '../../train/training-diverged.js';

export interface TrainingParams {
  epochs: number;
  batchSize: number;
  optimizer: 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  momentum: number;
  schedule: 'constant' | 'cosine' | 'onecycle';
  /** Warm-up length in epochs. */
  warmup: number;
  clipNorm: number;
  seed: number;
  /** Save a resumable checkpoint every this many steps. */
  checkpointEvery: number;
}

export const positiveInt = {type: 'integer', minimum: 1};
export const datasetInput = {type: 'string', 'x-axx-input': {type: 'dir', format: 'dataset'}};

export function trainConfig(p: TrainingParams): TrainConfig {
  return {
    epochs: p.epochs, batchSize: p.batchSize, optimizer: p.optimizer, lr: p.lr, weightDecay: p.weightDecay, momentum: p.momentum,
    schedule: p.schedule, warmupEpochs: p.warmup, clipNorm: p.clipNorm, seed: p.seed,
  };
}

export function openImages(dir: string, param: string): LoadedImages {
  try {
    return loadDatasetImages(dir);
  } catch (error) {
    if (error instanceof DataError) throw new StepError(error.message, error.hint ?? 'pass the dir output of a load/dataset step', param);
    throw error;
  }
}

/**
 * The loop's checkpoint from the step's saved one. One this code cannot resume from would fail every
 * attempt the same way, so it is discarded and the step fails saying so: the next attempt (a retry, or
 * the run again) starts over. Discarding is not awaited (finetune resumes inside a synchronous
 * callback); the request goes out before the failure does, so the next attempt finds the slot empty.
 */
export function resumeCheckpoint(saved: {state: Json; files: Record<string, Uint8Array>}, checkpoint: StepCheckpoint, session: {params: readonly Float32Array[]}): TrainCheckpoint {
  try {
    return decodeCheckpoint(saved.state, saved.files, session);
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
    void checkpoint.discard().catch(() => undefined);
    throw new StepError(
      `cannot resume from this step's saved checkpoint: its ${error.part} is unusable (${error.message}); the checkpoint was discarded`,
      'run the step again: it starts over (a damaged cache, or a checkpoint written by another axx; `axx cache verify` checks the rest of the cache)',
    );
  }
}

/** The training loop's expected failures as the step's errors; anything else is a bug and passes through. */
export function trainingStepError(error: unknown): unknown {
  if (error instanceof TrainingDivergedError) return new StepError(error.message, 'lower with.lr (a longer with.warmup or a smaller with.clipNorm also steadies the start)', 'with.lr');
  return error;
}
