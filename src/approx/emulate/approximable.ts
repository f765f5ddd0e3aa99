// Which nodes an approximate multiplier can stand in for: bilinear ops whose products are 8-bit
// multiplications after quantisation. A layer either multiplies an activation by a constant weight
// (MatMul/Gemm/Conv with an initializer; TransAxx's Linear and Conv2d) or two activations (the
// attention products q·kᵀ and attn·v; opt-in).
import type {Graph, Node} from '../../onnx/ir.js';

export type ApproximableOp = 'MatMul' | 'Gemm' | 'Conv';

export interface ApproximableLayer {
  node: Node;
  op: ApproximableOp;
  /** 'weight': activation × constant weight; 'activations': both operands computed at run time. */
  kind: 'weight' | 'activations';
  /** The value names of the two operands in the op's own order (Conv: [X, W]; MatMul/Gemm: [A, B]). */
  operands: [string, string];
  /** The weight initializer (kind 'weight'). */
  weight?: string;
}

const OPS = new Set<string>(['MatMul', 'Gemm', 'Conv']);

export function findApproximableLayers(graph: Graph): ApproximableLayer[] {
  const constants = new Set(graph.initializers.map((t) => t.name));
  const layers: ApproximableLayer[] = [];
  for (const node of graph.nodes) {
    if (!OPS.has(node.opType) || node.domain !== '') continue;
    const [a, b] = node.inputs;
    if (a === undefined || b === undefined) continue;
    const op = node.opType as ApproximableOp;
    if (!constants.has(a) && constants.has(b)) layers.push({node, op, kind: 'weight', operands: [a, b], weight: b});
    else if (op === 'MatMul' && !constants.has(a) && !constants.has(b)) layers.push({node, op, kind: 'activations', operands: [a, b]});
  }
  return layers;
}

/** The values whose statistics calibration records: every operand of every candidate layer. */
export function calibratedValues(layers: readonly ApproximableLayer[]): string[] {
  return [...new Set(layers.flatMap((l) => l.operands))];
}
