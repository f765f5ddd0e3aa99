// Gradient rules of normalisation, convolution and pooling.
import {DataType} from '../../onnx/ir.js';
import {attr, floatAttr, intAttr, intsAttr, stringAttr} from '../../models/graph-builder.js';
import {normalizeAxis, type GradContext, type GradRule} from '../grad-context.js';

const range = (from: number, to: number) => Array.from({length: Math.max(0, to - from)}, (_, i) => from + i);

/**
 * LayerNormalization over axes [axis, rank): with x̂ = (x-μ)·r and g = dy·γ,
 * dx = r·(g - mean(g) - x̂·mean(g·x̂)), dγ = Σ dy·x̂, dβ = Σ dy over the leading axes.
 * μ and r come from the forward node's optional Mean/InvStdDev outputs, so nothing is recomputed.
 */
const layerNormGrad: GradRule = (node, [dy], ctx) => {
  const [x, scale, bias] = node.inputs as [string, string, string | undefined];
  const rank = ctx.rank(x);
  const axis = normalizeAxis(intAttr(node, 'axis', -1), rank);
  const leadAxes = ctx.b.int64s(range(0, axis));
  const mean = ctx.forwardOutput(1, 'mean');
  const invStd = ctx.forwardOutput(2, 'inv_std');
  const xhat = ctx.op('Mul', [ctx.op('Sub', [x, mean]), invStd]);
  let dx: string | undefined;
  if (ctx.needs(0)) {
    const g = ctx.op('Mul', [dy!, scale]);
    const meanG = ctx.reduceMean(g, range(axis, rank));
    const meanGx = ctx.reduceMean(ctx.op('Mul', [g, xhat]), range(axis, rank));
    dx = ctx.op('Mul', [invStd, ctx.op('Sub', [ctx.op('Sub', [g, meanG]), ctx.op('Mul', [xhat, meanGx])])]);
  }
  const sumLeading = (v: string) => (axis === 0 ? v : ctx.op('ReduceSum', [v, leadAxes], [attr.int('keepdims', 0)]));
  const dScale = ctx.needs(1) ? sumLeading(ctx.op('Mul', [dy!, xhat])) : undefined;
  const dBias = bias !== undefined && bias !== '' && ctx.needs(2) ? sumLeading(dy!) : undefined;
  return [dx, dScale, dBias];
};

/** BatchNormalization in inference mode: an affine map per channel (axis 1) with fixed statistics. */
const batchNormGrad: GradRule = (node, [dy], ctx) => {
  if (intAttr(node, 'training_mode', 0) === 1) throw ctx.error('training-mode BatchNormalization is not differentiable; export the model in eval mode');
  const [x, scale, , mean, variance] = node.inputs as [string, string, string, string, string];
  const rank = ctx.rank(x);
  const perChannel = ctx.b.int64s([-1, ...range(2, rank).map(() => 1)]);
  const invStd = ctx.op('Reciprocal', [ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.b.float(floatAttr(node, 'epsilon', 1e-5))])])]);
  const invStdC = ctx.op('Reshape', [invStd, perChannel]);
  const otherAxes = ctx.b.int64s([0, ...range(2, rank)]);
  const dx = ctx.needs(0) ? ctx.op('Mul', [dy!, ctx.op('Mul', [ctx.op('Reshape', [scale, perChannel]), invStdC])]) : undefined;
  const xhat = () => ctx.op('Mul', [ctx.op('Sub', [x, ctx.op('Reshape', [mean, perChannel])]), invStdC]);
  const dScale = ctx.needs(1) ? ctx.op('ReduceSum', [ctx.op('Mul', [dy!, xhat()]), otherAxes], [attr.int('keepdims', 0)]) : undefined;
  const dBias = ctx.needs(2) ? ctx.op('ReduceSum', [dy!, otherAxes], [attr.int('keepdims', 0)]) : undefined;
  return [dx, dScale, dBias, undefined, undefined];
};

interface WindowAttrs {
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
}

function windowAttrs(ctx: GradContext, spatial: number, kernel: number[]): WindowAttrs {
  const node = ctx.node;
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw ctx.error(`auto_pad=${autoPad} is not differentiable yet; use explicit pads`);
  if (intAttr(node, 'ceil_mode', 0) === 1) throw ctx.error('ceil_mode=1 is not differentiable yet');
  return {
    kernel,
    strides: intsAttr(node, 'strides') ?? new Array<number>(spatial).fill(1),
    pads: intsAttr(node, 'pads') ?? new Array<number>(2 * spatial).fill(0),
    dilations: intsAttr(node, 'dilations') ?? new Array<number>(spatial).fill(1),
  };
}

/** ConvTranspose output padding that restores the forward input's spatial size exactly. */
function outputPadding(inputShape: readonly number[], outputShape: readonly number[], w: WindowAttrs): number[] {
  return w.kernel.map((k, i) => {
    const produced = (outputShape[i + 2]! - 1) * w.strides[i]! - w.pads[i]! - w.pads[i + w.kernel.length]! + w.dilations[i]! * (k - 1) + 1;
    return inputShape[i + 2]! - produced;
  });
}

/**
 * dW of a Conv as one GEMM over im2col columns: dW[o, (c, κ)] = Σ_(n, p) dY[n, o, p]·X_pad[n, c, p·s + κ·d]
 * (with `group` > 1, one batched product per group).
 * Each kernel offset κ is one strided Slice of the padded input. (A Conv with dY as its kernel
 * computes the same, but as a very skinny GEMM that runs several times slower in onnxruntime.)
 */
function convWeightGrad(ctx: GradContext, x: string, dy: string, wShape: readonly number[], yShape: readonly number[], win: WindowAttrs, group: number): string {
  const spatial = win.kernel.length;
  const [outChannels, groupChannels] = wShape as [number, number];
  const padded = win.pads.some((p) => p !== 0) ? ctx.op('Pad', [x, ctx.b.int64s([0, 0, ...win.pads.slice(0, spatial), 0, 0, ...win.pads.slice(spatial)])]) : x;
  const offsets: number[][] = [[]];
  for (const k of win.kernel) offsets.splice(0, offsets.length, ...offsets.flatMap((prefix) => range(0, k).map((i) => [...prefix, i])));
  const axes = ctx.b.int64s(range(2, spatial + 2));
  const steps = ctx.b.int64s(win.strides);
  const columns = offsets.map((offset) => {
    const starts = offset.map((o, i) => o * win.dilations[i]!);
    const ends = starts.map((start, i) => start + win.strides[i]! * (yShape[i + 2]! - 1) + 1);
    const slice = ctx.op('Slice', [padded, ctx.b.int64s(starts), ctx.b.int64s(ends), axes, steps]);
    return ctx.op('Unsqueeze', [slice, ctx.b.int64s([2])]);
  });
  // [N, C, K, *out] -> [C, K, N, *out] -> [(g,) C/g·K, N·Π(out)], matching dY as [(g,) O/g, N·Π(out)].
  const stacked = columns.length === 1 ? columns[0]! : ctx.op('Concat', columns, [attr.int('axis', 2)]);
  const channelsFirst = ctx.op('Transpose', [stacked], [attr.ints('perm', [1, 2, 0, ...range(3, spatial + 3)])]);
  const dyFirst = ctx.op('Transpose', [dy], [attr.ints('perm', [1, 0, ...range(2, spatial + 2)])]);
  const rows = groupChannels * offsets.length;
  if (group === 1) {
    const cols = ctx.op('Reshape', [channelsFirst, ctx.b.int64s([rows, -1])]);
    const dyRows = ctx.op('Reshape', [dyFirst, ctx.b.int64s([outChannels, -1])]);
    return ctx.op('Reshape', [ctx.op('Gemm', [dyRows, cols], [attr.int('transB', 1)]), ctx.b.int64s([...wShape])]);
  }
  const colsT = ctx.op('Transpose', [ctx.op('Reshape', [channelsFirst, ctx.b.int64s([group, rows, -1])])], [attr.ints('perm', [0, 2, 1])]);
  const dyRows = ctx.op('Reshape', [dyFirst, ctx.b.int64s([group, outChannels / group, -1])]);
  return ctx.op('Reshape', [ctx.op('MatMul', [dyRows, colsT]), ctx.b.int64s([...wShape])]);
}

/** Conv: dX is the transposed convolution of dY with W (same groups); dW see convWeightGrad. */
const convGrad: GradRule = (node, [dy], ctx) => {
  const [x, w, bias] = node.inputs as [string, string, string | undefined];
  const xShape = ctx.shape(x);
  const wShape = ctx.shape(w);
  const yShape = ctx.shape(node.outputs[0]!);
  const spatial = xShape.length - 2;
  const group = intAttr(node, 'group', 1);
  const win = windowAttrs(ctx, spatial, wShape.slice(2));
  let dx: string | undefined;
  if (ctx.needs(0)) {
    dx = ctx.op('ConvTranspose', [dy!, w], [
      attr.ints('kernel_shape', win.kernel),
      attr.ints('strides', win.strides),
      attr.ints('pads', win.pads),
      attr.ints('dilations', win.dilations),
      attr.ints('output_padding', outputPadding(xShape, yShape, win)),
      attr.int('group', group),
    ]);
  }
  const dw = ctx.needs(1) ? convWeightGrad(ctx, x, dy!, wShape, yShape, win, group) : undefined;
  const dBias = bias !== undefined && bias !== '' && ctx.needs(2) ? ctx.op('ReduceSum', [dy!, ctx.b.int64s([0, ...range(2, spatial + 2)])], [attr.int('keepdims', 0)]) : undefined;
  return [dx, dw, dBias];
};

/** MaxPool: scatter-add dY to the arg-max positions (the forward node's Indices output, flat over N·C·H·W). */
const maxPoolGrad: GradRule = (node, [dy], ctx) => {
  const x = node.inputs[0]!;
  if (intAttr(node, 'storage_order', 0) !== 0) throw ctx.error('MaxPool with storage_order=1 is not differentiable');
  const indices = ctx.forwardOutput(1, 'indices');
  const kernel = intsAttr(node, 'kernel_shape') ?? [];
  const win = windowAttrs(ctx, kernel.length, kernel);
  const disjoint = kernel.every((k, i) => k === win.strides[i] && win.dilations[i] === 1) && win.pads.every((p) => p === 0);
  if (disjoint) {
    // Non-overlapping windows: each input receives at most one gradient, so unpooling is exact.
    return [ctx.op('MaxUnpool', [dy!, indices, ctx.shapeOf(x)], [attr.ints('kernel_shape', kernel), attr.ints('strides', win.strides)])];
  }
  const flatZeros = ctx.op('ConstantOfShape', [ctx.op('Reshape', [ctx.op('Size', [x]), ctx.b.int64s([1])])], [
    attr.tensor('value', {name: 'zero', dataType: DataType.FLOAT, dims: [1], data: Float32Array.of(0)}),
  ]);
  const flatIndex = ctx.op('Reshape', [indices, ctx.b.int64s([-1])]);
  const flatDy = ctx.op('Reshape', [dy!, ctx.b.int64s([-1])]);
  const scattered = ctx.op('ScatterElements', [flatZeros, flatIndex, flatDy], [attr.int('axis', 0), attr.string('reduction', 'add')]);
  return [ctx.op('Reshape', [scattered, ctx.shapeOf(x)])];
};

/** AveragePool without padding: a depthwise transposed convolution with a constant 1/|window| kernel. */
const averagePoolGrad: GradRule = (node, [dy], ctx) => {
  const x = node.inputs[0]!;
  const xShape = ctx.shape(x);
  const kernel = intsAttr(node, 'kernel_shape') ?? [];
  const win = windowAttrs(ctx, xShape.length - 2, kernel);
  if (win.pads.some((p) => p !== 0) && intAttr(node, 'count_include_pad', 0) === 0) {
    throw ctx.error('padded AveragePool is differentiable only with count_include_pad=1');
  }
  const channels = xShape[1]!;
  const size = kernel.reduce((n, k) => n * k, 1);
  const weight = ctx.b.freshInitializer(`grad.${node.name}.kernel`, [channels, 1, ...kernel], new Float32Array(channels * size).fill(1 / size));
  return [
    ctx.op('ConvTranspose', [dy!, weight], [
      attr.int('group', channels),
      attr.ints('kernel_shape', kernel),
      attr.ints('strides', win.strides),
      attr.ints('pads', win.pads),
      attr.ints('output_padding', outputPadding(xShape, ctx.shape(node.outputs[0]!), win)),
    ]),
  ];
};

const globalAveragePoolGrad: GradRule = (node, [dy], ctx) => {
  const x = node.inputs[0]!;
  const area = ctx.shape(x).slice(2).reduce((n, d) => n * d, 1);
  return [ctx.op('Expand', [ctx.op('Mul', [dy!, ctx.b.float(1 / area)]), ctx.shapeOf(x)])];
};

export const nnRules: Record<string, GradRule> = {
  LayerNormalization: layerNormGrad,
  BatchNormalization: batchNormGrad,
  Conv: convGrad,
  MaxPool: maxPoolGrad,
  AveragePool: averagePoolGrad,
  GlobalAveragePool: globalAveragePoolGrad,
};
