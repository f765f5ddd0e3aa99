// Model size figures: multiply-accumulates per layer (the weights of the TransAxx power model) and
// parameter counts.
import {attribute} from './attributes.js';
import {DataType, type Dim, type Graph, type Model} from './ir.js';
import {product} from './dim-math.js';
import {inferShapes, type InferOptions} from './shapes.js';
import {elementCount} from './tensor.js';

export interface LayerMacs {
  node: string;
  opType: string;
  /** Multiply-accumulates for one inference; null if shapes could not be inferred. */
  macs: number | null;
}

const MAC_OPS = new Set(['MatMul', 'Gemm', 'Conv', 'MatMulInteger', 'ConvInteger']);

/**
 * MACs of every MatMul/Gemm/Conv node, in graph order. Symbolic input dims not given in
 * `opts.dims` count as 1, so for a dynamic batch the figures are per sample.
 */
export function layerMacs(model: Model, opts: InferOptions = {}): LayerMacs[] {
  const dims: Record<string, number> = {...opts.dims};
  for (const input of model.graph.inputs) for (const d of input.shape ?? []) if (typeof d === 'string') dims[d] ??= 1;
  const types = inferShapes(model, {...opts, dims});
  const shapeOf = (name: string | undefined): Dim[] | undefined => (name ? types.get(name)?.shape : undefined);
  return model.graph.nodes
    .filter((node) => MAC_OPS.has(node.opType))
    .map((node) => {
      const out = product(shapeOf(node.outputs[0]) ?? [null]);
      const a = shapeOf(node.inputs[0]);
      const b = shapeOf(node.inputs[1]);
      let reduction: Dim = null;
      if (node.opType === 'Conv' || node.opType === 'ConvInteger') reduction = b ? product(b.slice(1)) : null;
      else if (node.opType === 'Gemm') {
        reduction = a?.[attribute(node, 'transA', 'int') ? 0 : 1] ?? null;
      } else reduction = a?.[a.length - 1] ?? null;
      const macs = typeof out === 'number' && typeof reduction === 'number' ? out * reduction : null;
      return {node: node.name, opType: node.opType, macs};
    });
}

const PARAMETER_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, 16 /* BFLOAT16 */, DataType.INT8, DataType.UINT8]);

/** Elements of floating-point and 8-bit initializers (weights), leaving out shapes, axes and indices. */
export function parameterCount(graph: Graph): number {
  let count = 0;
  for (const tensor of graph.initializers) if (PARAMETER_TYPES.has(tensor.dataType)) count += elementCount(tensor.dims);
  return count;
}
