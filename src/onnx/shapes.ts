// Shape inference for the ops axx reads, rewrites and builds: each op's rule lives in a table per op
// family under shape-rules/ (as train/rules/* hold the gradient rules); this file walks the graph.
// Small integer tensors (shapes, axes, indices) are propagated as values too, including symbolic dims,
// so the Shape -> Gather -> Concat -> Reshape chains PyTorch emits for a dynamic batch still give
// Reshape a known output shape.
import {DataType, type Dim, type Model, type Node} from './ir.js';
import {topologicalOrder} from './graph.js';
import {elementCount, tensorNumbers} from './tensor.js';
import {elementwiseShapeRules} from './shape-rules/elementwise.js';
import {linearAlgebraShapeRules} from './shape-rules/linear-algebra.js';
import {reductionShapeRules} from './shape-rules/reductions.js';
import {isIntegerType, MAX_TRACKED_ELEMENTS, type KnownValue, type ShapeNode, type ShapeRule, type ValueType} from './shape-rules/rule.js';
import {tensorShapeRules} from './shape-rules/tensor-ops.js';

export type {ValueType};

export interface InferOptions {
  /** Override graph input shapes (e.g. a concrete batch size). */
  inputShapes?: Record<string, Dim[]>;
  /** Values for symbolic dims, e.g. {batch: 1}; applied to graph inputs. */
  dims?: Record<string, number>;
}

const rules: ReadonlyMap<string, ShapeRule> = new Map(
  Object.entries({...elementwiseShapeRules, ...linearAlgebraShapeRules, ...reductionShapeRules, ...tensorShapeRules}),
);

/** Infers element type and shape of every value; graph inputs, initializers and node outputs. */
export function inferShapes(model: Model, opts: InferOptions = {}): Map<string, ValueType> {
  const graph = model.graph;
  const opset = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1;
  const types = new Map<string, ValueType>();
  const known = new Map<string, KnownValue>();
  for (const input of graph.inputs) {
    const shape = opts.inputShapes?.[input.name] ?? input.shape;
    types.set(input.name, {elemType: input.elemType, shape: shape?.map((d) => (typeof d === 'string' ? (opts.dims?.[d] ?? d) : d))});
  }
  for (const tensor of graph.initializers) {
    types.set(tensor.name, {elemType: tensor.dataType, shape: tensor.dims});
    if (isIntegerType(tensor.dataType) && elementCount(tensor.dims) <= MAX_TRACKED_ELEMENTS) {
      known.set(tensor.name, {values: tensorNumbers(tensor), scalar: tensor.dims.length === 0});
    }
  }
  for (const node of topologicalOrder(graph)) {
    const rule = rules.get(node.opType);
    const n = shapeNode(node, types, known, opset);
    if (rule === undefined) {
      // Unknown op: outputs stay unknown, which downstream inference tolerates.
      for (let i = 0; i < node.outputs.length; i++) n.set(undefined, DataType.UNDEFINED, i);
      continue;
    }
    try {
      rule(n);
    } catch (error) {
      throw new Error(`shape inference failed at node "${node.name}" (${node.opType}): ${(error as Error).message}`);
    }
  }
  return types;
}

function shapeNode(node: Node, types: Map<string, ValueType>, known: Map<string, KnownValue>, opset: number): ShapeNode {
  const inType = (i: number): ValueType | undefined => {
    const name = node.inputs[i];
    return name ? types.get(name) : undefined;
  };
  const firstType = inType(0)?.elemType ?? DataType.UNDEFINED;
  return {
    node,
    opset,
    inType,
    inShape: (i) => inType(i)?.shape,
    value: (i) => {
      const name = node.inputs[i];
      return name ? known.get(name) : undefined;
    },
    firstType,
    set: (shape, elemType = firstType, output = 0) => {
      const name = node.outputs[output];
      if (name) types.set(name, {elemType, shape});
    },
    setKnown: (values, scalar = false) => {
      if (node.outputs[0]) known.set(node.outputs[0], {values, scalar});
    },
  };
}
