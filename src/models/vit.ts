// Vision Transformer in timm's structure and parameter names (VisionTransformer with class token,
// pre-norm blocks, erf GELU, LayerNorm eps 1e-6), emitted as ONNX IR.
//
// Deviations from timm, for speed and simplicity of the training graph: the patch embedding is
// reshape + MatMul (equivalent to timm's stride-p Conv2d; `patch_embed.proj.weight` is stored as
// [C·p·p, dim]) and every Linear weight is stored as [in, out] for MatMul under timm's name.
import type {Model} from '../onnx/ir.js';
import {attr, GraphBuilder} from './graph-builder.js';
import {assembleModel, floatInput, gelu, layerNorm, linear, normalizeInput} from './layers.js';
import {filled, Random} from '../util/random.js';

export interface VitConfig {
  imageSize: number;
  channels: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  classes: number;
  /** Seed of the deterministic initialisation. */
  seed: number;
  /** Per-image input normalisation folded into the graph, so the model takes [0, 1] pixels. */
  inputMean: number;
  inputStd: number;
}

export const VIT_DEFAULTS: VitConfig = {
  imageSize: 28,
  channels: 1,
  patchSize: 7,
  dim: 64,
  depth: 4,
  heads: 4,
  mlpRatio: 2,
  classes: 10,
  seed: 0,
  inputMean: 0.1307,
  inputStd: 0.3081,
};

export const MODEL_INPUT = 'input';
export const MODEL_OUTPUT = 'logits';

export function validateVitConfig(config: VitConfig): string[] {
  const problems: string[] = [];
  for (const key of ['imageSize', 'channels', 'patchSize', 'dim', 'depth', 'heads', 'classes'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) problems.push(`${key} must be a positive integer (got ${config[key]})`);
  }
  if (config.imageSize % config.patchSize !== 0) problems.push(`imageSize ${config.imageSize} is not a multiple of patchSize ${config.patchSize}`);
  if (config.dim % config.heads !== 0) problems.push(`dim ${config.dim} is not a multiple of heads ${config.heads}`);
  if (!(config.mlpRatio > 0) || !Number.isInteger(config.dim * config.mlpRatio)) problems.push(`mlpRatio ${config.mlpRatio} must make dim·mlpRatio a positive integer`);
  if (!(config.inputStd > 0)) problems.push(`inputStd must be positive (got ${config.inputStd})`);
  return problems;
}

/** Multiply-accumulates of one image's forward pass (MatMuls only; what approximate multipliers replace). */
export function vitMacs(config: VitConfig): number {
  const {imageSize, channels, patchSize: p, dim, depth, heads, mlpRatio, classes} = config;
  const patches = (imageSize / p) ** 2;
  const tokens = patches + 1;
  const hidden = dim * mlpRatio;
  const perBlock = tokens * dim * 3 * dim + 2 * heads * tokens * tokens * (dim / heads) + tokens * dim * dim + 2 * tokens * dim * hidden;
  return patches * channels * p * p * dim + depth * perBlock + dim * classes;
}

export function buildVit(config: VitConfig): Model {
  const problems = validateVitConfig(config);
  if (problems.length > 0) throw new Error(`invalid ViT config: ${problems.join('; ')}`);
  const {imageSize, channels, patchSize: p, dim, depth, heads, classes} = config;
  const rng = new Random(config.seed);
  const b = new GraphBuilder([MODEL_INPUT, MODEL_OUTPUT]);
  const grid = imageSize / p;
  const patches = grid * grid;
  const tokens = patches + 1;
  const headDim = dim / heads;
  const hidden = dim * config.mlpRatio;

  const x0 = normalizeInput(b, MODEL_INPUT, config.inputMean, config.inputStd);
  // [N, C, H, W] -> [N, C, gh, p, gw, p] -> [N, gh, gw, C, p, p] -> [N, L, C·p·p]: a stride-p conv as one MatMul.
  const split = b.op('Reshape', [x0, b.int64s([-1, channels, grid, p, grid, p])], [], 'patch_embed.split');
  const ordered = b.op('Transpose', [split], [attr.ints('perm', [0, 2, 4, 1, 3, 5])], 'patch_embed.order');
  const flat = b.op('Reshape', [ordered, b.int64s([-1, patches, channels * p * p])], [], 'patch_embed.flatten');
  const embedded = linear(b, rng, 'patch_embed.proj', flat, channels * p * p, dim);

  const clsToken = b.initializer('cls_token', [1, 1, dim], filled(dim, () => rng.normal() * 1e-6));
  const batch = b.op('Slice', [b.op('Shape', [MODEL_INPUT], [], 'cls_token.input_shape'), b.int64s([0]), b.int64s([1])], [], 'cls_token.batch');
  const clsShape = b.op('Concat', [batch, b.int64s([1, dim])], [attr.int('axis', 0)], 'cls_token.shape');
  const cls = b.op('Expand', [clsToken, clsShape], [], 'cls_token.expand');
  const withCls = b.op('Concat', [cls, embedded], [attr.int('axis', 1)], 'cls_token.concat');
  const posEmbed = b.initializer('pos_embed', [1, tokens, dim], filled(tokens * dim, () => rng.truncNormal(0.02)));
  let x = b.op('Add', [withCls, posEmbed], [], 'pos_embed.add');

  for (let i = 0; i < depth; i++) {
    const path = `blocks.${i}`;
    const h1 = layerNorm(b, `${path}.norm1`, x, dim, 1e-6);
    const qkv = linear(b, rng, `${path}.attn.qkv`, h1, dim, 3 * dim);
    const heads5 = b.op('Reshape', [qkv, b.int64s([0, 0, 3, heads, headDim])], [], `${path}.attn.split_heads`);
    const qkvFirst = b.op('Transpose', [heads5], [attr.ints('perm', [2, 0, 3, 1, 4])], `${path}.attn.permute`);
    const parts = b.node('Split', [qkvFirst], {name: `${path}.attn.unbind`, outputs: 3, attributes: [attr.int('axis', 0)]});
    const [q, k, v] = parts.map((part, j) => b.op('Squeeze', [part, b.int64s([0])], [], `${path}.attn.unbind${j}`)) as [string, string, string];
    const qScaled = b.op('Mul', [q, b.float(headDim ** -0.5)], [], `${path}.attn.scale`);
    const kT = b.op('Transpose', [k], [attr.ints('perm', [0, 1, 3, 2])], `${path}.attn.k_t`);
    const scores = b.op('MatMul', [qScaled, kT], [], `${path}.attn.qk`);
    const weights = b.op('Softmax', [scores], [attr.int('axis', -1)], `${path}.attn.softmax`);
    const context = b.op('MatMul', [weights, v], [], `${path}.attn.av`);
    const merged = b.op('Transpose', [context], [attr.ints('perm', [0, 2, 1, 3])], `${path}.attn.merge`);
    const concatHeads = b.op('Reshape', [merged, b.int64s([0, 0, dim])], [], `${path}.attn.merge_heads`);
    const attnOut = linear(b, rng, `${path}.attn.proj`, concatHeads, dim, dim);
    x = b.op('Add', [x, attnOut], [], `${path}.residual1`);

    const h2 = layerNorm(b, `${path}.norm2`, x, dim, 1e-6);
    const fc1 = linear(b, rng, `${path}.mlp.fc1`, h2, dim, hidden);
    const act = gelu(b, `${path}.mlp.act`, fc1);
    const fc2 = linear(b, rng, `${path}.mlp.fc2`, act, hidden, dim);
    x = b.op('Add', [x, fc2], [], `${path}.residual2`);
  }

  const normed = layerNorm(b, 'norm', x, dim, 1e-6);
  const clsOut = b.op('Gather', [normed, b.int64Scalar(0)], [attr.int('axis', 1)], 'pool.cls');
  const logits = linear(b, rng, 'head', clsOut, dim, classes);
  b.nodes.push({name: 'logits', opType: 'Identity', domain: '', inputs: [logits], outputs: [MODEL_OUTPUT], attributes: []});

  return assembleModel(
    b,
    'vit',
    [floatInput(MODEL_INPUT, ['N', channels, imageSize, imageSize])],
    [floatInput(MODEL_OUTPUT, ['N', classes])],
    {'axx.arch': 'vit', 'axx.config': JSON.stringify(config)},
  );
}
