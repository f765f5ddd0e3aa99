// What `train` and `finetune` share: the optimisation parameters, their mapping onto the training
// loop's config, and opening a dataset output as training images.
import {DataError} from '../../data/data-error.js';
import {StepError, type Json} from '../../engine/step-kind.js';
import {CheckpointFormatError, decodeCheckpoint} from '../../train/checkpoint-codec.js';
import {loadDatasetImages, type LoadedImages} from '../../train/dataset-images.js';
import {TrainingDivergedError, type TrainCheckpoint, type TrainConfig} from '../../train/loop.js';

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
 * The loop's checkpoint from a saved slot. One this code cannot resume from would fail every rerun the
 * same way, so the error says how to discard it: `--force` starts the step over without it.
 */
export function resumeCheckpoint(state: Json, files: Record<string, Uint8Array>, session: {params: readonly Float32Array[]}): TrainCheckpoint {
  try {
    return decodeCheckpoint(state, files, session);
  } catch (error) {
    if (!(error instanceof CheckpointFormatError)) throw error;
    throw new StepError(
      `cannot resume from this step's saved checkpoint: its ${error.part} is unusable (${error.message})`,
      'run the step again with `axx run <pipeline> --force <step>`, which discards the checkpoint and starts the step over',
    );
  }
}

/** The training loop's expected failures as the step's errors; anything else is a bug and passes through. */
export function trainingStepError(error: unknown): unknown {
  if (error instanceof TrainingDivergedError) return new StepError(error.message, 'lower with.lr (a longer with.warmup or a smaller with.clipNorm also steadies the start)', 'with.lr');
  return error;
}
