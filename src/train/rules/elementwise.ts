// Gradient rules of element-wise ops (with numpy broadcasting) and activations.
import {attr, intAttr, stringAttr} from '../../models/graph-builder.js';
import {normalizeAxis, type GradContext, type GradRule} from '../grad-context.js';

/** Binary op: each operand's gradient is a product with dy, summed back to the operand's shape. */
function binary(local: (ctx: GradContext, dy: string, a: string, b: string, y: string) => [() => string, () => string]): GradRule {
  return (node, [dy], ctx) => {
    const [a, b] = node.inputs as [string, string];
    const y = node.outputs[0]!;
    const [da, db] = local(ctx, dy!, a, b, y);
    const shape = ctx.shape(y);
    return [ctx.needs(0) ? ctx.reduceTo(da(), shape, a) : undefined, ctx.needs(1) ? ctx.reduceTo(db(), shape, b) : undefined];
  };
}

/** Unary op whose input gradient is dy times a local derivative. */
function unary(local: (ctx: GradContext, dy: string, x: string, y: string) => string): GradRule {
  return (node, [dy], ctx) => [local(ctx, dy!, node.inputs[0]!, node.outputs[0]!)];
}

const passThrough: GradRule = (_node, [dy]) => [dy];

const geluGrad: GradRule = (node, [dy], ctx) => {
  if (stringAttr(node, 'approximate', 'none') !== 'none') throw ctx.error("only approximate='none' (erf) GELU is differentiable");
  const x = node.inputs[0]!;
  // d/dx x·Φ(x) = Φ(x) + x·φ(x)
  const cdf = ctx.op('Mul', [ctx.op('Add', [ctx.op('Erf', [ctx.op('Mul', [x, ctx.b.float(Math.SQRT1_2)])]), ctx.b.float(1)]), ctx.b.float(0.5)]);
  const pdf = ctx.op('Mul', [ctx.op('Exp', [ctx.op('Mul', [ctx.op('Mul', [x, x]), ctx.b.float(-0.5)])]), ctx.b.float(1 / Math.sqrt(2 * Math.PI))]);
  return [ctx.op('Mul', [dy!, ctx.op('Add', [cdf, ctx.op('Mul', [x, pdf])])])];
};

const softmaxGrad: GradRule = (node, [dy], ctx) => {
  const y = node.outputs[0]!;
  const axis = normalizeAxis(intAttr(node, 'axis', -1), ctx.rank(y));
  const dot = ctx.op('ReduceSum', [ctx.op('Mul', [dy!, y]), ctx.b.int64s([axis])], [attr.int('keepdims', 1)]);
  return [ctx.op('Mul', [y, ctx.op('Sub', [dy!, dot])])];
};

const logSoftmaxGrad: GradRule = (node, [dy], ctx) => {
  const y = node.outputs[0]!;
  const axis = normalizeAxis(intAttr(node, 'axis', -1), ctx.rank(y));
  const total = ctx.op('ReduceSum', [dy!, ctx.b.int64s([axis])], [attr.int('keepdims', 1)]);
  return [ctx.op('Sub', [dy!, ctx.op('Mul', [ctx.op('Exp', [y]), total])])];
};

const whereGrad: GradRule = (node, [dy], ctx) => {
  const [condition, a, b] = node.inputs as [string, string, string];
  const shape = ctx.shape(node.outputs[0]!);
  const zero = ctx.b.float(0);
  return [
    undefined,
    ctx.needs(1) ? ctx.reduceTo(ctx.op('Where', [condition, dy!, zero]), shape, a) : undefined,
    ctx.needs(2) ? ctx.reduceTo(ctx.op('Where', [condition, zero, dy!]), shape, b) : undefined,
  ];
};

/** Clip(x, min?, max?): the gradient passes where x lies inside [min, max]. */
const clipGrad: GradRule = (node, [dy], ctx) => {
  const [x, min, max] = node.inputs as [string, string | undefined, string | undefined];
  const bounds = [min ? ctx.op('GreaterOrEqual', [x, min]) : undefined, max ? ctx.op('LessOrEqual', [x, max]) : undefined].filter((b) => b !== undefined);
  if (bounds.length === 0) return [dy];
  const inside = bounds.length === 1 ? bounds[0]! : ctx.op('And', bounds);
  return [ctx.op('Where', [inside, dy!, ctx.b.float(0)]), undefined, undefined];
};

const sumGrad: GradRule = (node, [dy], ctx) => {
  const shape = ctx.shape(node.outputs[0]!);
  return node.inputs.map((input, i) => (ctx.needs(i) ? ctx.reduceTo(dy!, shape, input) : undefined));
};

export const elementwiseRules: Record<string, GradRule> = {
  Add: binary((_ctx, dy) => [() => dy, () => dy]),
  Sub: binary((ctx, dy) => [() => dy, () => ctx.op('Neg', [dy])]),
  Mul: binary((ctx, dy, a, b) => [() => ctx.op('Mul', [dy, b]), () => ctx.op('Mul', [dy, a])]),
  // d(a/b)/db = -a/b² = -y/b
  Div: binary((ctx, dy, _a, b, y) => [() => ctx.op('Div', [dy, b]), () => ctx.op('Neg', [ctx.op('Mul', [dy, ctx.op('Div', [y, b])])])]),
  Pow: binary((ctx, dy, a, b, y) => [
    () => ctx.op('Mul', [dy, ctx.op('Mul', [b, ctx.op('Pow', [a, ctx.op('Sub', [b, ctx.b.float(1)])])])]),
    () => ctx.op('Mul', [dy, ctx.op('Mul', [y, ctx.op('Log', [a])])]),
  ]),
  Sum: sumGrad,
  Clip: clipGrad,
  Where: whereGrad,
  Neg: unary((ctx, dy) => ctx.op('Neg', [dy])),
  Sqrt: unary((ctx, dy, _x, y) => ctx.op('Div', [dy, ctx.op('Mul', [y, ctx.b.float(2)])])),
  Exp: unary((ctx, dy, _x, y) => ctx.op('Mul', [dy, y])),
  Log: unary((ctx, dy, x) => ctx.op('Div', [dy, x])),
  Reciprocal: unary((ctx, dy, _x, y) => ctx.op('Neg', [ctx.op('Mul', [dy, ctx.op('Mul', [y, y])])])),
  Erf: unary((ctx, dy, x) =>
    ctx.op('Mul', [dy, ctx.op('Mul', [ctx.op('Exp', [ctx.op('Neg', [ctx.op('Mul', [x, x])])]), ctx.b.float(2 / Math.sqrt(Math.PI))])]),
  ),
  Tanh: unary((ctx, dy, _x, y) => ctx.op('Mul', [dy, ctx.op('Sub', [ctx.b.float(1), ctx.op('Mul', [y, y])])])),
  Sigmoid: unary((ctx, dy, _x, y) => ctx.op('Mul', [dy, ctx.op('Mul', [y, ctx.op('Sub', [ctx.b.float(1), y])])])),
  // sign(relu(x)) is the 0/1 mask x > 0; Mul+Sign runs several times faster in ORT than Where with a scalar.
  Relu: unary((ctx, dy, _x, y) => ctx.op('Mul', [dy, ctx.op('Sign', [y])])),
  Gelu: geluGrad,
  Softmax: softmaxGrad,
  LogSoftmax: logSoftmaxGrad,
  Identity: passThrough,
  // Dropout is differentiated in inference mode (identity): training graphs do not drop units.
  Dropout: passThrough,
};
