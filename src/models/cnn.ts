// A small CNN (conv-relu-maxpool stages, then a Linear classifier) emitted as ONNX IR, with
// PyTorch-style names: conv1.weight [out, in, k, k], conv1.bias, …, fc.weight (stored [in, out]).
import type {Model} from '../onnx/ir.js';
import {attr, GraphBuilder} from './graph-builder.js';
import {assembleModel, floatInput, linear, normalizeInput} from './layers.js';
import {filled, Random} from '../util/random.js';
import {MODEL_INPUT, MODEL_OUTPUT} from './vit.js';

export interface CnnConfig {
  imageSize: number;
  channels: number;
  /** Output channels of each conv stage; each stage halves the resolution. */
  widths: number[];
  kernelSize: number;
  classes: number;
  seed: number;
  inputMean: number;
  inputStd: number;
}

export const CNN_DEFAULTS: CnnConfig = {
  imageSize: 28,
  channels: 1,
  widths: [16, 32],
  kernelSize: 3,
  classes: 10,
  seed: 0,
  inputMean: 0.1307,
  inputStd: 0.3081,
};

export function validateCnnConfig(config: CnnConfig): string[] {
  const problems: string[] = [];
  for (const key of ['imageSize', 'channels', 'kernelSize', 'classes'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) problems.push(`${key} must be a positive integer (got ${config[key]})`);
  }
  if (config.kernelSize % 2 !== 1) problems.push(`kernelSize must be odd (got ${config.kernelSize})`);
  if (config.widths.length === 0 || config.widths.some((w) => !Number.isInteger(w) || w < 1)) problems.push('widths must be a non-empty list of positive integers');
  if (config.imageSize % 2 ** config.widths.length !== 0) problems.push(`imageSize ${config.imageSize} must be divisible by 2^${config.widths.length} (one halving per stage)`);
  if (!(config.inputStd > 0)) problems.push(`inputStd must be positive (got ${config.inputStd})`);
  return problems;
}

export function cnnMacs(config: CnnConfig): number {
  let macs = 0;
  let size = config.imageSize;
  let inChannels = config.channels;
  for (const width of config.widths) {
    macs += size * size * width * inChannels * config.kernelSize ** 2;
    size /= 2;
    inChannels = width;
  }
  return macs + size * size * inChannels * config.classes;
}

export function buildCnn(config: CnnConfig): Model {
  const problems = validateCnnConfig(config);
  if (problems.length > 0) throw new Error(`invalid CNN config: ${problems.join('; ')}`);
  const rng = new Random(config.seed);
  const b = new GraphBuilder([MODEL_INPUT, MODEL_OUTPUT]);
  const k = config.kernelSize;
  let x = normalizeInput(b, MODEL_INPUT, config.inputMean, config.inputStd);
  let inChannels = config.channels;
  let size = config.imageSize;
  config.widths.forEach((width, i) => {
    const path = `conv${i + 1}`;
    const fanIn = inChannels * k * k;
    // Kaiming normal (fan_in, ReLU gain), as torchvision initialises conv layers.
    const weight = b.initializer(`${path}.weight`, [width, inChannels, k, k], filled(width * fanIn, () => rng.normal() * Math.sqrt(2 / fanIn)));
    const bias = b.initializer(`${path}.bias`, [width], new Float32Array(width));
    const pad = (k - 1) / 2;
    const conv = b.op('Conv', [x, weight, bias], [attr.ints('kernel_shape', [k, k]), attr.ints('pads', [pad, pad, pad, pad])], path);
    const relu = b.op('Relu', [conv], [], `${path}.relu`);
    x = b.op('MaxPool', [relu], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])], `${path}.pool`);
    inChannels = width;
    size /= 2;
  });
  const flat = b.op('Flatten', [x], [attr.int('axis', 1)], 'flatten');
  const logits = linear(b, rng, 'fc', flat, inChannels * size * size, config.classes, 1 / Math.sqrt(inChannels * size * size));
  b.nodes.push({name: 'logits', opType: 'Identity', domain: '', inputs: [logits], outputs: [MODEL_OUTPUT], attributes: []});
  return assembleModel(
    b,
    'cnn',
    [floatInput(MODEL_INPUT, ['N', config.channels, config.imageSize, config.imageSize])],
    [floatInput(MODEL_OUTPUT, ['N', config.classes])],
    {'axx.arch': 'cnn', 'axx.config': JSON.stringify(config)},
  );
}
