// Turns an inference model into one training graph: inputs = the model's inputs + integer labels +
// every trainable weight; outputs = mean softmax cross-entropy loss, the logits, and the gradient
// of the loss with respect to each trainable weight. One ORT run = forward + backward.
import {DataType, type Model, type Node, type Tensor, type ValueInfo} from '../onnx/ir.js';
import {attr, GraphBuilder} from '../models/graph-builder.js';
import {differentiate} from './autodiff.js';
import {AutodiffError, type ValueShapes} from './grad-context.js';
import {readStraightThrough, type StraightThroughRegion} from './straight-through.js';

export const LABELS_INPUT = 'labels';
export const LOSS_OUTPUT = 'loss';
export const gradientName = (param: string) => `grad.${param}`;

export interface TrainingGraphOptions {
  /** Shapes of the model's values for one concrete batch (see `probeShapes`). */
  shapes: ValueShapes;
  /** Model output holding the logits [N, classes]; default: the first graph output. */
  logits?: string;
  /** Which float initializers are trained; default: all with more than one element (scalars are constants). */
  trainable?: (tensor: Tensor) => boolean;
  /** Added to the regions declared in the model's metadata. */
  straightThrough?: StraightThroughRegion[];
}

export interface TrainingGraph {
  model: Model;
  /** Trained weights, in the order they appear as graph inputs. */
  params: string[];
  /** Float initializers the loss does not depend on differentiably (e.g. BatchNorm statistics); they stay initializers. */
  frozen: string[];
  logits: string;
}

export const MIN_OPSET = 13;
const TRAINING_OPSET = 17;

export const defaultTrainable = (t: Tensor) => t.dataType === DataType.FLOAT && t.dims.reduce((n, d) => n * d, 1) > 1;

/** Initializers and the values of Constant nodes, by value name (rules read axes, starts … from them). */
export function constantTensors(model: Model): Map<string, Tensor> {
  const constants = new Map(model.graph.initializers.map((t) => [t.name, t]));
  for (const node of model.graph.nodes) {
    const value = node.attributes.find((a) => a.name === 'value');
    if (node.opType === 'Constant' && value?.type === 'tensor' && node.outputs[0]) constants.set(node.outputs[0], value.value);
  }
  return constants;
}

export function buildTrainingGraph(model: Model, options: TrainingGraphOptions): TrainingGraph {
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < MIN_OPSET) throw new AutodiffError(`training needs a model of opset >= ${MIN_OPSET} (this one is ${opset}); re-export it with a newer opset`);
  const graph = model.graph;
  const logits = options.logits ?? graph.outputs[0]?.name;
  if (logits === undefined) throw new AutodiffError('the model has no outputs to use as logits');
  const isTrainable = options.trainable ?? defaultTrainable;
  const candidates = graph.initializers.filter(isTrainable).map((t) => t.name);

  const nodes: Node[] = graph.nodes.map((n) => ({...n, outputs: [...n.outputs]}));
  const taken = [...graph.inputs, ...graph.outputs, ...graph.valueInfo].map((v) => v.name);
  taken.push(...graph.initializers.map((t) => t.name), ...nodes.flatMap((n) => [n.name, ...n.outputs]), LABELS_INPUT, LOSS_OUTPUT);
  const b = new GraphBuilder(taken);

  // loss = mean_n(-log softmax(z)[n, label_n]); its gradient wrt z is (softmax(z) - onehot)/N.
  const classes = options.shapes.get(logits)?.[1];
  if (classes === undefined) throw new AutodiffError(`no shape known for logits '${logits}'`);
  const logProbs = b.op('LogSoftmax', [logits], [attr.int('axis', -1)], 'loss.log_softmax');
  const oneHot = b.op('OneHot', [LABELS_INPUT, b.int64s([classes]), b.freshInitializer('loss.onehot_values', [2], Float32Array.of(0, 1))], [attr.int('axis', -1)], 'loss.onehot');
  const picked = b.op('ReduceSum', [b.op('Mul', [logProbs, oneHot], [], 'loss.pick'), b.int64s([1])], [attr.int('keepdims', 0)], 'loss.sum_classes');
  const meanLogProb = b.op('ReduceMean', [picked], [attr.int('keepdims', 0)], 'loss.mean');
  b.node('Neg', [meanLogProb], {name: 'loss.neg', outputs: [LOSS_OUTPUT]});
  const batch = b.op('Cast', [b.op('Shape', [LABELS_INPUT], [], 'loss.batch')], [attr.int('to', DataType.FLOAT)], 'loss.batch_float');
  const residual = b.op('Sub', [b.op('Exp', [logProbs], [], 'loss.softmax'), oneHot], [], 'loss.residual');
  const dLogits = b.op('Div', [residual, batch], [], 'grad.logits');

  const grads = differentiate(b, {
    nodes,
    constants: constantTensors(model),
    shapes: options.shapes,
    seeds: new Map([[logits, dLogits]]),
    wrt: candidates,
    straightThrough: [...readStraightThrough(model), ...(options.straightThrough ?? [])],
    opset: Math.max(opset, TRAINING_OPSET),
  });
  const params = candidates.filter((p) => grads.has(p));
  const paramSet = new Set(params);
  for (const p of params) b.node('Identity', [grads.get(p)!], {name: `${gradientName(p)}.out`, outputs: [gradientName(p)]});

  const byName = new Map(graph.initializers.map((t) => [t.name, t]));
  const floatInfo = (name: string, shape: ValueInfo['shape']): ValueInfo => ({name, elemType: DataType.FLOAT, shape});
  const batchDim = graph.inputs[0]?.shape?.[0] ?? 'N';
  const inputs: ValueInfo[] = [
    ...graph.inputs.filter((i) => !byName.has(i.name)),
    {name: LABELS_INPUT, elemType: DataType.INT64, shape: [batchDim]},
    ...params.map((p) => floatInfo(p, byName.get(p)!.dims)),
  ];
  const outputs: ValueInfo[] = [
    floatInfo(LOSS_OUTPUT, []),
    graph.outputs.find((o) => o.name === logits) ?? floatInfo(logits, undefined),
    ...params.map((p) => floatInfo(gradientName(p), byName.get(p)!.dims)),
  ];
  const trainingModel: Model = {
    ...model,
    opsetImports: [...model.opsetImports.filter((o) => o.domain !== '' && o.domain !== 'ai.onnx'), {domain: '', version: Math.max(opset, TRAINING_OPSET)}],
    graph: {
      ...graph,
      name: `${graph.name}_training`,
      nodes: [...nodes, ...b.nodes],
      initializers: [...graph.initializers.filter((t) => !paramSet.has(t.name)), ...b.initializers],
      inputs,
      outputs,
    },
  };
  return {model: trainingModel, params, frozen: candidates.filter((p) => !paramSet.has(p)), logits};
}
