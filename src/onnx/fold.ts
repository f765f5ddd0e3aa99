// Constant folding: nodes computed only from initializers and Constant nodes are evaluated once and
// replaced by initializers. The values are computed by onnxruntime itself on the constant subgraph,
// so a folded model produces exactly what the unfolded one did, for every op ORT implements.
import type {Graph, Model, Node, Tensor} from './ir.js';
import {consumers, topologicalOrder} from './graph.js';
import {fromOrtTensor} from './ort-tensor.js';
import {createSession, type SessionFactory} from './session.js';

/** Ops whose result is not a function of their inputs; never folded. */
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

export interface FoldOptions {
  /** Session factory used to evaluate the constant subgraph. */
  createSession?: SessionFactory;
}

/** Folds constant subgraphs of `model.graph` in place; returns the number of nodes removed. */
export async function foldConstants(model: Model, opts: FoldOptions = {}): Promise<number> {
  const graph = model.graph;
  const foldable = findFoldable(graph);
  if (foldable.size === 0) return 0;

  const readers = consumers(graph);
  const needed = new Set<string>();
  for (const node of foldable) {
    for (const output of node.outputs) {
      if ((readers.get(output) ?? []).some((reader) => !foldable.has(reader))) needed.add(output);
    }
  }
  const folded = await evaluate(model, [...foldable], [...needed], opts.createSession ?? createSession);

  const readByFolded = new Set([...foldable].flatMap((node) => node.inputs));
  graph.nodes = graph.nodes.filter((node) => !foldable.has(node));
  const stillRead = new Set(graph.nodes.flatMap((node) => node.inputs));
  graph.initializers = graph.initializers.filter((t) => stillRead.has(t.name) || !readByFolded.has(t.name));
  graph.initializers.push(...folded);
  return foldable.size;
}

/**
 * Nodes in the default domain, without subgraphs, whose inputs are all constant. Initializers that
 * are also graph inputs can be overridden at run time, so they do not count as constant; nodes
 * producing graph outputs stay, so outputs remain node outputs.
 */
function findFoldable(graph: Graph): Set<Node> {
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const constant = new Set(graph.initializers.map((t) => t.name).filter((name) => !graphInputs.has(name)));
  const foldable = new Set<Node>();
  for (const node of topologicalOrder(graph)) {
    const eligible =
      (node.domain === '' || node.domain === 'ai.onnx') &&
      !NONDETERMINISTIC.has(node.opType) &&
      !node.attributes.some((a) => a.type === 'graph' || a.type === 'graphs') &&
      node.inputs.every((input) => input === '' || constant.has(input)) &&
      !node.outputs.some((output) => graphOutputs.has(output));
    if (!eligible) continue;
    foldable.add(node);
    for (const output of node.outputs) constant.add(output);
  }
  return foldable;
}

async function evaluate(model: Model, nodes: Node[], outputs: string[], factory: SessionFactory): Promise<Tensor[]> {
  if (outputs.length === 0) return [];
  const read = new Set(nodes.flatMap((node) => node.inputs));
  const subModel: Model = {
    ...model,
    metadataProps: [],
    graph: {
      name: 'constant-subgraph',
      nodes,
      initializers: model.graph.initializers.filter((t) => read.has(t.name)),
      inputs: [],
      outputs: outputs.map((name) => ({name, elemType: 0})),
      valueInfo: [],
    },
  };
  using session = await factory(subModel, {graphOptimizationLevel: 'disabled'});
  const results = await session.run({}, outputs);
  return outputs.map((name) => fromOrtTensor(name, results[name]!));
}
