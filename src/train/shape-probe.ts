// Measures the shape of every value of a model by running it once on example inputs with all
// intermediate values exposed as outputs. Autodiff needs static shapes (broadcast axes, split
// sizes, pads); measuring them with onnxruntime covers every op ORT runs, with no shape inference
// of our own to keep in sync.
import type * as ort from 'onnxruntime-node';
import {createSession} from '../onnx/session.js';
import type {Model} from '../onnx/ir.js';
import type {ValueShapes} from './grad-context.js';

export async function probeShapes(model: Model, feeds: Record<string, ort.Tensor>): Promise<ValueShapes> {
  const graph = model.graph;
  const known = new Set(graph.outputs.map((o) => o.name));
  const extra = graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== '' && !known.has(o));
  const probe: Model = {...model, graph: {...graph, outputs: [...graph.outputs, ...extra.map((name) => ({name, elemType: 0}))]}};
  using session = await createSession(probe, {graphOptimizationLevel: 'disabled'});
  const results = await session.run(feeds);
  const shapes = new Map<string, number[]>();
  for (const [name, tensor] of Object.entries(feeds)) shapes.set(name, [...tensor.dims]);
  for (const t of graph.initializers) shapes.set(t.name, t.dims);
  for (const [name, value] of Object.entries(results)) shapes.set(name, [...value.dims]);
  return shapes;
}
