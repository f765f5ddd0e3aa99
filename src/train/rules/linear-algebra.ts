// Gradient rules of MatMul and Gemm.
import {attr, floatAttr, intAttr} from '../../models/graph-builder.js';
import type {GradContext, GradRule} from '../grad-context.js';

/**
 * MatMul with numpy batching. The common case of a 2-D weight (x[..., K] @ W[K, N]) flattens the
 * leading axes so dW is one [K, M]·[M, N] GEMM instead of a batched product followed by a sum.
 */
export const matMulGrad: GradRule = (node, [dy], ctx) => {
  const [a, b] = node.inputs as [string, string];
  const rankA = ctx.rank(a);
  const rankB = ctx.rank(b);
  if (rankA < 2 || rankB < 2) throw ctx.error('MatMul with a 1-D operand is not differentiable yet; reshape it to 2-D');
  const yShape = ctx.shape(node.outputs[0]!);
  const rankY = yShape.length;
  let da: string | undefined;
  let db: string | undefined;
  if (ctx.needs(0)) da = ctx.reduceTo(ctx.op('MatMul', [dy!, ctx.transposeLast2(b, rankB)]), yShape.slice(0, -1).concat(ctx.shape(a).at(-1)!), a);
  if (ctx.needs(1)) {
    if (rankB === 2) {
      const [k, n] = ctx.shape(b) as [number, number];
      const a2 = rankA === 2 ? a : ctx.op('Reshape', [a, ctx.b.int64s([-1, k])]);
      const dy2 = rankY === 2 ? dy! : ctx.op('Reshape', [dy!, ctx.b.int64s([-1, n])]);
      db = ctx.op('Gemm', [a2, dy2], [attr.int('transA', 1)]);
    } else {
      db = ctx.reduceTo(ctx.op('MatMul', [ctx.transposeLast2(a, rankA), dy!]), yShape.slice(0, -2).concat(ctx.shape(b).slice(-2)), b);
    }
  }
  return [da, db];
};

/** C = A'·B' with optional transposes, as one Gemm (alpha scales the product). */
function gemm(ctx: GradContext, x: string, transX: boolean, y: string, transY: boolean, alpha: number): string {
  return ctx.op('Gemm', [x, y], [attr.int('transA', transX ? 1 : 0), attr.int('transB', transY ? 1 : 0), attr.float('alpha', alpha)]);
}

/** Y = alpha·A'·B' + beta·C: dA' = alpha·dY·B'ᵀ, dB' = alpha·A'ᵀ·dY, transposed back where A or B was. */
export const gemmGrad: GradRule = (node, [dy], ctx) => {
  const [a, b, c] = node.inputs as [string, string, string | undefined];
  const transA = intAttr(node, 'transA', 0) === 1;
  const transB = intAttr(node, 'transB', 0) === 1;
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const da = !ctx.needs(0) ? undefined : transA ? gemm(ctx, b, transB, dy!, true, alpha) : gemm(ctx, dy!, false, b, !transB, alpha);
  const db = !ctx.needs(1) ? undefined : transB ? gemm(ctx, dy!, true, a, transA, alpha) : gemm(ctx, a, !transA, dy!, false, alpha);
  let dc: string | undefined;
  if (c !== undefined && c !== '' && ctx.needs(2)) {
    const scaled = beta === 1 ? dy! : ctx.op('Mul', [dy!, ctx.b.float(beta)]);
    dc = ctx.reduceTo(scaled, ctx.shape(node.outputs[0]!), c);
  }
  return [da, db, dc];
};

export const linearAlgebraRules: Record<string, GradRule> = {MatMul: matMulGrad, Gemm: gemmGrad};
