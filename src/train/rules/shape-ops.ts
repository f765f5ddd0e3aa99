// Gradient rules of data-movement ops, reductions, and the non-differentiable shape path.
import {DataType} from '../../onnx/ir.js';
import {attr, intAttr, intsAttr} from '../../models/graph-builder.js';
import {normalizeAxis, type GradRule} from '../grad-context.js';

/** Any op that only rearranges elements without reordering them: reshape the gradient back. */
const reshapeBack: GradRule = (node, [dy], ctx) => [ctx.op('Reshape', [dy!, ctx.shapeOf(node.inputs[0]!)])];

const transposeGrad: GradRule = (node, [dy], ctx) => {
  const rank = ctx.rank(node.inputs[0]!);
  const perm = intsAttr(node, 'perm') ?? Array.from({length: rank}, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.op('Transpose', [dy!], [attr.ints('perm', inverse)])];
};

const concatGrad: GradRule = (node, [dy], ctx) => {
  const rank = ctx.rank(node.outputs[0]!);
  const axis = normalizeAxis(intAttr(node, 'axis', 0), rank);
  const sizes = node.inputs.map((input) => ctx.shape(input)[axis]!);
  const parts = ctx.b.node('Split', [dy!, ctx.b.int64s(sizes)], {name: `grad.${node.name}.Split`, outputs: sizes.length, attributes: [attr.int('axis', axis)]});
  return parts.map((part, i) => (ctx.needs(i) ? part : undefined));
};

const splitGrad: GradRule = (node, outputGrads, ctx) => {
  const axis = normalizeAxis(intAttr(node, 'axis', 0), ctx.rank(node.inputs[0]!));
  const parts = node.outputs.map((output, i) => outputGrads[i] ?? ctx.zerosLike(output));
  return [ctx.op('Concat', parts, [attr.int('axis', axis)])];
};

const sliceGrad: GradRule = (node, [dy], ctx) => {
  const data = node.inputs[0]!;
  const shape = ctx.shape(data);
  const rank = shape.length;
  const starts = ctx.constantInts(node.inputs[1]!, 'Slice starts');
  const ends = ctx.constantInts(node.inputs[2]!, 'Slice ends');
  const axes = node.inputs[3] ? ctx.constantInts(node.inputs[3], 'Slice axes') : starts.map((_, i) => i);
  const steps = node.inputs[4] ? ctx.constantInts(node.inputs[4], 'Slice steps') : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw ctx.error('Slice with steps other than 1 is not differentiable yet');
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((rawAxis, i) => {
    const axis = normalizeAxis(rawAxis, rank);
    const size = shape[axis]!;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
    const start = clamp(starts[i]!);
    const end = Math.max(clamp(ends[i]!), start);
    pads[axis] = start;
    pads[rank + axis] = size - end;
  });
  return [ctx.op('Pad', [dy!, ctx.b.int64s(pads)])];
};

/**
 * Gather(data, indices, axis): scatter-add dy into zeros shaped like data. ScatterND indexes the
 * leading axis, so the gathered axis is moved to the front and back.
 */
const gatherGrad: GradRule = (node, [dy], ctx) => {
  const [data, indices] = node.inputs as [string, string];
  const rank = ctx.rank(data);
  const indexRank = ctx.rank(indices);
  const axis = normalizeAxis(intAttr(node, 'axis', 0), rank);
  const others = Array.from({length: rank}, (_, i) => i).filter((i) => i !== axis);
  const dataPerm = [axis, ...others];
  const indexAxes = Array.from({length: indexRank}, (_, i) => axis + i);
  const dyPerm = [...indexAxes, ...Array.from({length: axis}, (_, i) => i), ...Array.from({length: rank - 1 - axis}, (_, i) => axis + indexRank + i)];
  const movedShape = ctx.op('Gather', [ctx.shapeOf(data), ctx.b.int64s(dataPerm)]);
  const zeros = ctx.op('ConstantOfShape', [movedShape], [attr.tensor('value', {name: 'zero', dataType: DataType.FLOAT, dims: [1], data: Float32Array.of(0)})]);
  const movedDy = dyPerm.every((p, i) => p === i) ? dy! : ctx.op('Transpose', [dy!], [attr.ints('perm', dyPerm)]);
  const index = ctx.op('Unsqueeze', [indices, ctx.b.int64s([-1])]);
  const scattered = ctx.b.op('ScatterND', [zeros, index, movedDy], [attr.string('reduction', 'add')], `grad.${node.name}.ScatterND`);
  const inverse = new Array<number>(rank);
  dataPerm.forEach((p, i) => (inverse[p] = i));
  return [axis === 0 ? scattered : ctx.op('Transpose', [scattered], [attr.ints('perm', inverse)]), undefined];
};

const expandGrad: GradRule = (node, [dy], ctx) => [ctx.reduceTo(dy!, ctx.shape(node.outputs[0]!), node.inputs[0]!), undefined];

/** Reduction axes from the attribute (older opsets) or the second input (ReduceSum ≥ 13, others ≥ 18). */
function reductionAxes(node: Parameters<GradRule>[0], ctx: Parameters<GradRule>[2], rank: number): number[] {
  const fromInput = node.inputs[1] ? ctx.constantInts(node.inputs[1], 'reduction axes') : undefined;
  const axes = fromInput ?? intsAttr(node, 'axes');
  if (axes === undefined || axes.length === 0) {
    if (intAttr(node, 'noop_with_empty_axes', 0) === 1) throw ctx.error('noop_with_empty_axes reductions are not differentiable');
    return Array.from({length: rank}, (_, i) => i);
  }
  return axes.map((a) => normalizeAxis(a, rank)).sort((a, b) => a - b);
}

function reduceGrad(mean: boolean): GradRule {
  return (node, [dy], ctx) => {
    const x = node.inputs[0]!;
    const shape = ctx.shape(x);
    const axes = reductionAxes(node, ctx, shape.length);
    const kept = intAttr(node, 'keepdims', 1) === 1 ? dy! : ctx.op('Unsqueeze', [dy!, ctx.b.int64s(axes)]);
    const count = axes.reduce((n, a) => n * shape[a]!, 1);
    const scaled = mean ? ctx.op('Mul', [kept, ctx.b.float(1 / count)]) : kept;
    return [ctx.op('Expand', [scaled, ctx.shapeOf(x)]), undefined];
  };
}

const castGrad: GradRule = (node, [dy], ctx) => {
  const to = intAttr(node, 'to', 0);
  if (to !== DataType.FLOAT) return [undefined];
  return [dy!];
};

/** Ops whose outputs do not depend differentiably on their inputs: gradients stop here. */
export const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Range', 'Constant', 'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual',
  'Not', 'And', 'Or', 'Xor', 'ArgMax', 'ArgMin', 'NonZero', 'OneHot', 'Floor', 'Ceil', 'Round', 'Sign', 'IsNaN', 'IsInf',
  'QuantizeLinear', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'EyeLike',
]);

export const shapeRules: Record<string, GradRule> = {
  Reshape: (node, dys, ctx) => [...reshapeBack(node, dys, ctx), undefined],
  Flatten: reshapeBack,
  Squeeze: (node, dys, ctx) => [...reshapeBack(node, dys, ctx), undefined],
  Unsqueeze: (node, dys, ctx) => [...reshapeBack(node, dys, ctx), undefined],
  Transpose: transposeGrad,
  Concat: concatGrad,
  Split: (node, dys, ctx) => [...splitGrad(node, dys, ctx), undefined],
  Slice: (node, dys, ctx) => [...sliceGrad(node, dys, ctx), undefined, undefined, undefined, undefined],
  Gather: gatherGrad,
  Expand: expandGrad,
  ReduceSum: reduceGrad(false),
  ReduceMean: reduceGrad(true),
  Cast: castGrad,
};
