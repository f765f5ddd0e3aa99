// What `train` and `finetune` share: the optimisation parameters, their mapping onto the training
// loop's config, and opening a dataset output as training images.
import {DataError} from '../../data/data-error.js';
import {StepError} from '../../engine/step-kind.js';
import {loadDatasetImages, type LoadedImages} from '../../train/dataset-images.js';
import type {TrainConfig} from '../../train/loop.js';

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
