// Building blocks shared by the model builders. Each emits ONNX nodes whose names carry the module
// path (e.g. "blocks.0.attn.qkv") and initializers named like timm/PyTorch parameters, because
// approximation selects layers by these names.
import {DataType, type Model, type ValueInfo} from '../onnx/ir.js';
import {attr, type GraphBuilder} from './graph-builder.js';
import {filled, type Random} from '../util/random.js';

/** Opset the builders emit: 17 is the first with LayerNormalization and is what torch.onnx exports by default. */
export const BUILDER_OPSET = 17;

/**
 * y = x @ W + b, with W stored as [in, out] (transposed w.r.t. PyTorch's [out, in]) under PyTorch's
 * name `<path>.weight`. The MatMul node is named `<path>`, the bias Add `<path>.bias_add`.
 */
export function linear(b: GraphBuilder, rng: Random, path: string, x: string, inFeatures: number, outFeatures: number, std = 0.02): string {
  const weight = b.initializer(`${path}.weight`, [inFeatures, outFeatures], filled(inFeatures * outFeatures, () => rng.truncNormal(std)));
  const bias = b.initializer(`${path}.bias`, [outFeatures], new Float32Array(outFeatures));
  const product = b.op('MatMul', [x, weight], [], path);
  return b.op('Add', [product, bias], [], `${path}.bias_add`);
}

export function layerNorm(b: GraphBuilder, path: string, x: string, dim: number, epsilon: number): string {
  const scale = b.initializer(`${path}.weight`, [dim], new Float32Array(dim).fill(1));
  const bias = b.initializer(`${path}.bias`, [dim], new Float32Array(dim));
  return b.op('LayerNormalization', [x, scale, bias], [attr.int('axis', -1), attr.float('epsilon', epsilon)], path);
}

/** Exact (erf) GELU as torch.onnx exports it at opset 17: 0.5·x·(1 + erf(x/√2)). */
export function gelu(b: GraphBuilder, path: string, x: string): string {
  const scaled = b.op('Div', [x, b.float(Math.SQRT2)], [], `${path}.div`);
  const erf = b.op('Erf', [scaled], [], `${path}.erf`);
  const onePlus = b.op('Add', [erf, b.float(1)], [], `${path}.add`);
  const gated = b.op('Mul', [x, onePlus], [], `${path}.mul`);
  return b.op('Mul', [gated, b.float(0.5)], [], `${path}.half`);
}

/** (x - mean) / std inside the graph, for models fed unnormalised [0, 1] pixels; nothing when mean 0, std 1. */
export function normalizeInput(b: GraphBuilder, x: string, mean: number, std: number): string {
  if (mean === 0 && std === 1) return x;
  const centered = b.op('Sub', [x, b.float(mean)], [], 'input_norm.sub');
  return b.op('Div', [centered, b.float(std)], [], 'input_norm.div');
}

/** Metadata key recording the preprocessing a trained model expects of its input (a dataset manifest's `preprocessing`). */
export const INPUT_METADATA_KEY = 'axx.input';

export function floatInput(name: string, shape: (number | string)[]): ValueInfo {
  return {name, elemType: DataType.FLOAT, shape};
}

export function assembleModel(b: GraphBuilder, name: string, inputs: ValueInfo[], outputs: ValueInfo[], metadata: Record<string, string>): Model {
  return {
    irVersion: 8,
    opsetImports: [{domain: '', version: BUILDER_OPSET}],
    producerName: 'axx',
    producerVersion: '0.1.0',
    domain: '',
    modelVersion: 1,
    docString: '',
    metadataProps: Object.entries(metadata).map(([key, value]) => ({key, value})),
    graph: {name, nodes: b.nodes, initializers: b.initializers, inputs, outputs, valueInfo: []},
  };
}

/** Number of trainable float parameters (all float initializers with more than one element). */
export function countParameters(model: Model): number {
  let total = 0;
  for (const t of model.graph.initializers) {
    const size = t.dims.reduce((p, d) => p * d, 1);
    if (t.dataType === DataType.FLOAT && size > 1) total += size;
  }
  return total;
}
