// Step kind "train": builds a ViT or CNN from a config and trains it from scratch on a dataset
// with axx's ONNX autodiff. Outputs the trained inference model and the per-epoch history.
import {join} from 'node:path';
import {StepError, type Json, type StepContext, type StepKind} from '../engine/step-kind.js';
import {writeModelFile} from '../onnx/codec.js';
import type {Model} from '../onnx/ir.js';
import {buildCnn, CNN_DEFAULTS, cnnMacs, validateCnnConfig, type CnnConfig} from '../models/cnn.js';
import {countParameters} from '../models/layers.js';
import {buildVit, VIT_DEFAULTS, validateVitConfig, vitMacs, type VitConfig} from '../models/vit.js';
import {encodeCheckpoint} from '../train/checkpoint-codec.js';
import type {LoadedImages} from '../train/dataset-images.js';
import {INPUT_METADATA_KEY} from '../models/layers.js';
import {executionKey} from './shared/execution-key.js';
import {datasetInput, openImages, positiveInt, resumeCheckpoint, trainConfig, trainingStepError, type TrainingParams} from './shared/training.js';

export interface TrainParams extends TrainingParams {
  model: {arch: 'vit'} & Partial<VitConfig> | {arch: 'cnn'} & Partial<CnnConfig>;
  dataset: string;
  evalDataset?: string;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'dataset'],
  properties: {
    model: {
      type: 'object',
      description: 'Architecture and its config; omitted fields take the defaults of the MNIST ViT / CNN.',
      required: ['arch'],
      properties: {
        arch: {enum: ['vit', 'cnn']},
        imageSize: positiveInt, channels: positiveInt, patchSize: positiveInt, dim: positiveInt, depth: positiveInt, heads: positiveInt,
        mlpRatio: {type: 'number', exclusiveMinimum: 0}, classes: positiveInt, seed: {type: 'integer'},
        widths: {type: 'array', items: positiveInt, minItems: 1}, kernelSize: positiveInt,
        inputMean: {type: 'number'}, inputStd: {type: 'number', exclusiveMinimum: 0},
      },
      additionalProperties: false,
    },
    dataset: {...datasetInput, description: 'Training images (a load/dataset output).'},
    evalDataset: {...datasetInput, description: 'Evaluated after every epoch (metric "accuracy").'},
    epochs: {...positiveInt, default: 10},
    batchSize: {...positiveInt, default: 128},
    optimizer: {enum: ['adamw', 'sgd'], default: 'adamw'},
    lr: {type: 'number', exclusiveMinimum: 0, default: 2e-3},
    weightDecay: {type: 'number', minimum: 0, default: 0.05},
    momentum: {type: 'number', minimum: 0, maximum: 1, default: 0.9},
    schedule: {enum: ['constant', 'cosine', 'onecycle'], default: 'cosine'},
    warmup: {type: 'number', minimum: 0, default: 0.5, description: 'Warm-up length in epochs.'},
    clipNorm: {type: 'number', minimum: 0, default: 1, description: 'Global gradient-norm clip; 0 disables.'},
    seed: {type: 'integer', default: 0, description: 'Seed of the data order (the model init seed is model.seed).'},
    checkpointEvery: {...positiveInt, default: 200, description: 'Steps between resumable checkpoints.'},
  },
};

/**
 * The model normalises [0, 1] pixels itself (inputMean/inputStd); when the dataset's preprocessing
 * already normalised them, that in-graph step becomes the identity unless the user set it.
 */
function buildModel(spec: TrainParams['model'], data: LoadedImages): {model: Model; config: VitConfig | CnnConfig; macs: number} {
  const {arch, ...explicit} = spec;
  const normalised = data.manifest.preprocessing.mean !== undefined;
  const overrides = {...(normalised ? {inputMean: 0, inputStd: 1} : {}), ...explicit};
  if (arch === 'vit') {
    const config = {...VIT_DEFAULTS, ...overrides} as VitConfig;
    const problems = validateVitConfig(config);
    if (problems.length > 0) throw new StepError(`invalid ViT config: ${problems.join('; ')}`, 'fix the fields under with.model', 'with.model');
    return {model: buildVit(config), config, macs: vitMacs(config)};
  }
  const config = {...CNN_DEFAULTS, ...overrides} as CnnConfig;
  const problems = validateCnnConfig(config);
  if (problems.length > 0) throw new StepError(`invalid CNN config: ${problems.join('; ')}`, 'fix the fields under with.model', 'with.model');
  return {model: buildCnn(config), config, macs: cnnMacs(config)};
}

async function run(ctx: StepContext<TrainParams>) {
  const p = ctx.params;
  const trainSet = openImages(p.dataset, 'with.dataset');
  const evalSet = p.evalDataset === undefined ? undefined : openImages(p.evalDataset, 'with.evalDataset');
  const {model, config, macs} = buildModel(p.model, trainSet);
  const [channels, height, width] = trainSet.imageShape;
  if (channels !== config.channels || height !== config.imageSize || width !== config.imageSize) {
    throw new StepError(
      `the dataset's images are ${channels}×${height}×${width} but the model expects ${config.channels}×${config.imageSize}×${config.imageSize}`,
      'set with.model.channels / imageSize to match the dataset',
      'with.model',
    );
  }
  if (trainSet.classes > config.classes) {
    throw new StepError(`the dataset has ${trainSet.classes} classes but the model only ${config.classes}`, 'set with.model.classes', 'with.model.classes');
  }
  const threads = ctx.resources['cpu'] ?? 1;
  const loopConfig = trainConfig(p);
  // The training loop and onnxruntime load when a step runs, not when a pipeline is planned.
  const [{TrainingSession}, {train}, {topOneAccuracy}] = await Promise.all([import('../train/training-session.js'), import('../train/loop.js'), import('../train/accuracy.js')]);

  using session = await TrainingSession.create(model, {imageShape: trainSet.imageShape, threads});
  const saved = await ctx.checkpoint.load();
  const resumeFrom = saved === undefined ? undefined : resumeCheckpoint(saved, ctx.checkpoint, session);
  if (resumeFrom !== undefined) ctx.log(`resuming at epoch ${resumeFrom.epoch + 1}, batch ${resumeFrom.batch}`);
  const started = performance.now();
  const history = await train(session, trainSet, loopConfig, {
    progress: (done, total) => ctx.progress(done, total, 'step'),
    metric: (name, value, step) => ctx.metric(name, value, step),
    metricEvery: Math.max(1, Math.round(Math.ceil(trainSet.count / p.batchSize) / 50)), // ~50 loss points per epoch
    checkpointEvery: p.checkpointEvery,
    saveCheckpoint: async (checkpoint) => {
      const {state, files} = encodeCheckpoint(checkpoint);
      await ctx.checkpoint.save(state, files);
    },
    ...(resumeFrom ? {resumeFrom} : {}),
    ...(evalSet ? {evaluate: (m: Model) => topOneAccuracy(m, evalSet, {threads})} : {}),
    signal: ctx.signal,
  }).catch((error: unknown) => {
    throw trainingStepError(error);
  });

  const trained = session.trainedModel();
  trained.metadataProps.push({key: INPUT_METADATA_KEY, value: JSON.stringify(trainSet.manifest.preprocessing)});
  const file = join(ctx.scratchDir, 'model.onnx');
  writeModelFile(file, trained);
  const summary = {
    arch: p.model.arch,
    config: config as unknown as Json,
    parameters: countParameters(trained),
    macsPerImage: macs,
    seconds: Math.round((performance.now() - started) / 1000),
    epochs: history as unknown as Json,
  };
  return {model: {file}, history: {value: summary}};
}

export const trainStep: StepKind<TrainParams> = {
  name: 'train',
  version: 1,
  description: 'Train a ViT or CNN from scratch on an image dataset (ONNX autodiff on onnxruntime)',
  schema,
  outputs: {
    model: {type: 'file', format: 'onnx', description: 'The trained inference model.'},
    history: {type: 'value', description: 'Per-epoch loss, train/eval accuracy, lr and time; model size and MACs.'},
  },
  resources: {cpu: 2},
  keyExtras: () => ({execution: executionKey()}),
  run,
};
