// The backward pass of a straight-through region whose gradient comes from the multiplier's table
// (table-gradient.ts). The region's exact op B (MatMul, Gemm, Conv) is bilinear in its first two
// inputs, and the slope of the emulated output with respect to input i factorises as
// s_other · Σ_j own_j(qᵢ) ⊙ (∂B(xᵢ, other_j(q_other))/∂xᵢ)ᵀ·dy, so each rank term reuses the exact
// op's own gradient rule with the other operand replaced by its gathered factor, then scales the
// result element-wise by the gathered own factor.
import {DataType, type Node} from '../onnx/ir.js';
import {attr} from '../models/graph-builder.js';
import {GradContext, type GradRule} from './grad-context.js';
import {OPERAND_LEVELS, type OperandSlope, type TableEstimator} from './table-gradient.js';

/** What a region declares to be differentiated through its multiplier's table. */
export interface TableGradient {
  estimator: TableEstimator;
  /** Quantisation step (amax/127, fp32) of the exact op's inputs 0 and 1, frozen during finetuning. */
  steps: [number, number];
  /** Slope of the table with respect to the exact op's input 0 and input 1. */
  slopes: [OperandSlope, OperandSlope];
}

/** The gradients of a table-differentiated region's inputs: inputs 0 and 1 through the table, any bias exactly. */
export function tableRegionGrad(node: Node, dy: string, ctx: GradContext, gradient: TableGradient, exactRule: GradRule): (string | undefined)[] {
  const grads: (string | undefined)[] = new Array(node.inputs.length).fill(undefined);
  const rest = node.inputs.map((_, i) => i).filter((i) => i >= 2 && ctx.needs(i));
  if (rest.length > 0) {
    const exact = exactRule(node, [dy], restrictedContext(ctx, node, new Set(rest.map((i) => node.inputs[i]!))));
    for (const i of rest) grads[i] = exact[i];
  }
  const indices = new Map<number, string>();
  const levelIndex = (input: 0 | 1) => {
    let index = indices.get(input);
    if (index === undefined) {
      index = quantisedIndex(ctx, node.inputs[input]!, gradient.steps[input]);
      indices.set(input, index);
    }
    return index;
  };
  for (const input of [0, 1] as const) {
    if (!ctx.needs(input)) continue;
    const other = (1 - input) as 0 | 1;
    const slope = gradient.slopes[input];
    const terms: string[] = [];
    for (let j = 0; j < slope.rank; j++) {
      // The other operand's factor, in the units of the other input (times its step), shaped like it.
      const otherFactor = gathered(ctx, slope.other[j]!, gradient.steps[other], levelIndex(other), `${node.name}.slope${input}.other${j}`);
      const inputs = [...node.inputs];
      inputs[other] = otherFactor;
      const termNode: Node = {...node, inputs};
      const sub = restrictedContext(ctx, termNode, new Set([node.inputs[input]!]), new Map([[otherFactor, ctx.shape(node.inputs[other]!)]]));
      const partial = exactRule(termNode, [dy], sub)[input];
      if (partial === undefined) continue;
      const ownFactor = gathered(ctx, slope.own[j]!, 1, levelIndex(input), `${node.name}.slope${input}.own${j}`);
      terms.push(ctx.op('Mul', [partial, ownFactor]));
    }
    grads[input] = terms.length === 0 ? undefined : terms.length === 1 ? terms[0] : ctx.op('Sum', terms);
  }
  return grads;
}

/** Index (q + 127, int32) of the narrow-range int8 operand the forward pass computes from `value`. */
function quantisedIndex(ctx: GradContext, value: string, step: number): string {
  const b = ctx.b;
  const q = ctx.op('QuantizeLinear', [value, b.float(step), b.scalar(DataType.INT8, Int8Array.of(0))]);
  const narrow = ctx.op('Clip', [q, b.scalar(DataType.INT8, Int8Array.of(-127))]);
  const wide = ctx.op('Cast', [narrow], [attr.int('to', DataType.INT32)]);
  return ctx.op('Add', [wide, b.scalar(DataType.INT32, Int32Array.of(127))]);
}

/** factor[q] · scale for every element, shaped like the quantised operand. */
function gathered(ctx: GradContext, factor: readonly number[], scale: number, index: string, base: string): string {
  const table = ctx.b.freshInitializer(`grad.${base}`, [OPERAND_LEVELS], Float32Array.from(factor, (x) => x * scale));
  return ctx.op('Gather', [table, index], [attr.int('axis', 0)]);
}

/** A view of `ctx` on `node` in which only `wanted` need gradients, knowing the shapes of `extraShapes` too. */
function restrictedContext(ctx: GradContext, node: Node, wanted: ReadonlySet<string>, extraShapes?: ReadonlyMap<string, readonly number[]>): GradContext {
  const shapes = extraShapes === undefined ? ctx.shapes : new Map([...ctx.shapes, ...extraShapes]);
  return new GradContext(ctx.b, shapes, ctx.constants, (v) => wanted.has(v), node, ctx.opset);
}
