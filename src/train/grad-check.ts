// Finite-difference check of autodiff on a small graph: compares the analytic directional
// derivative ∇L·v with (L(x+εv) − L(x−εv)) / 2ε for a random direction v, where
// L = Σ y·r for each output y and a fixed random r. Used by the per-op tests.
import * as ort from 'onnxruntime-node';
import {createSession} from '../onnx/session.js';
import {DataType, type Model} from '../onnx/ir.js';
import {attr, GraphBuilder} from '../models/graph-builder.js';
import {Random} from '../util/random.js';
import {differentiate} from './autodiff.js';
import {probeShapes} from './shape-probe.js';
import {constantTensors} from './training-graph.js';

export interface GradCheckCase {
  /** Shapes of the float inputs to differentiate. */
  inputs: Record<string, number[]>;
  /** Emits the graph under test into `b`, reading the inputs by name; returns the values to check. */
  build(b: GraphBuilder): string[];
  opset?: number;
  epsilon?: number;
  seed?: number;
  /** Inputs drawn from this range instead of the standard normal (e.g. positive for Sqrt, Log). */
  positive?: boolean;
}

export interface GradCheckResult {
  /** Per input: [analytic, numeric] directional derivatives. */
  derivatives: Record<string, [number, number]>;
  /** max over inputs of |analytic − numeric| / max(1, |numeric|). */
  worstError: number;
}

export async function checkGradients(c: GradCheckCase): Promise<GradCheckResult> {
  const opset = c.opset ?? 17;
  const rng = new Random(c.seed ?? 1);
  const names = Object.keys(c.inputs);
  const b = new GraphBuilder([...names, 'loss']);
  const outputs = c.build(b);
  const forward: Model = {
    irVersion: 8,
    opsetImports: [{domain: '', version: opset}],
    producerName: 'axx-grad-check',
    producerVersion: '0',
    domain: '',
    modelVersion: 1,
    docString: '',
    metadataProps: [],
    graph: {
      name: 'check',
      nodes: [...b.nodes],
      initializers: [...b.initializers],
      inputs: names.map((name) => ({name, elemType: DataType.FLOAT, shape: c.inputs[name]!})),
      outputs: outputs.map((name) => ({name, elemType: DataType.FLOAT})),
      valueInfo: [],
    },
  };
  const draw = () => (c.positive ? 0.5 + rng.next() : rng.normal());
  const values = Object.fromEntries(names.map((n) => [n, Float32Array.from({length: size(c.inputs[n]!)}, draw)]));
  const feeds = (shift: number, direction: Record<string, Float64Array>) =>
    Object.fromEntries(names.map((n) => [n, new ort.Tensor('float32', values[n]!.map((x, i) => x + shift * direction[n]![i]!), c.inputs[n]!)]));
  const zero = Object.fromEntries(names.map((n) => [n, new Float64Array(values[n]!.length)]));
  const shapes = await probeShapes(forward, feeds(0, zero));

  // loss = Σ_k Σ y_k·r_k, seeded with dloss/dy_k = r_k.
  const seeds = new Map<string, string>();
  const terms = outputs.map((y) => {
    const r = b.freshInitializer(`r.${y}`, [...shapes.get(y)!], Float32Array.from({length: size(shapes.get(y)!)}, () => rng.normal()));
    seeds.set(y, r);
    return b.op('ReduceSum', [b.op('Mul', [y, r])], [attr.int('keepdims', 0)]);
  });
  b.node(terms.length === 1 ? 'Identity' : 'Sum', terms, {outputs: ['loss']});
  const grads = differentiate(b, {nodes: forward.graph.nodes, constants: constantTensors(forward), shapes, seeds, wrt: names, opset});
  const gradOutputs = names.filter((n) => grads.has(n));
  const training: Model = {
    ...forward,
    graph: {
      ...forward.graph,
      nodes: [...forward.graph.nodes, ...b.nodes.slice(forward.graph.nodes.length)],
      initializers: b.initializers,
      outputs: [{name: 'loss', elemType: DataType.FLOAT, shape: []}, ...gradOutputs.map((n) => ({name: grads.get(n)!, elemType: DataType.FLOAT}))],
    },
  };
  using session = await createSession(training, {graphOptimizationLevel: 'disabled'});
  const eps = c.epsilon ?? 1e-2;
  const result: GradCheckResult = {derivatives: {}, worstError: 0};
  const base = await session.run(feeds(0, zero));
  for (const name of names) {
    const direction = {...zero, [name]: Float64Array.from({length: values[name]!.length}, () => rng.normal())};
    const grad = grads.has(name) ? (base[grads.get(name)!]!.data as Float32Array) : new Float32Array(values[name]!.length);
    const analytic = grad.reduce((s, g, i) => s + g * direction[name]![i]!, 0);
    const plus = (await session.run(feeds(eps, direction)))['loss']!.data[0] as number;
    const minus = (await session.run(feeds(-eps, direction)))['loss']!.data[0] as number;
    const numeric = (plus - minus) / (2 * eps);
    result.derivatives[name] = [analytic, numeric];
    result.worstError = Math.max(result.worstError, Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric)));
  }
  return result;
}

function size(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}
