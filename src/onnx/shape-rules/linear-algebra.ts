// Shape rules of products, convolutions and pooling.
import {attribute} from '../attributes.js';
import {DataType, type Dim, type Node} from '../ir.js';
import {matmulShape} from '../dim-math.js';
import type {ShapeRule} from './rule.js';

const matMulRule: ShapeRule = (n) => {
  n.set(matmulShape(n.inShape(0), n.inShape(1)), n.node.opType === 'MatMulInteger' ? DataType.INT32 : n.firstType);
};

const gemmRule: ShapeRule = (n) => {
  const a = n.inShape(0);
  const b = n.inShape(1);
  const transA = attribute(n.node, 'transA', 'int') ?? 0;
  const transB = attribute(n.node, 'transB', 'int') ?? 0;
  n.set(a && b ? [a[transA ? 1 : 0] ?? null, b[transB ? 0 : 1] ?? null] : undefined);
};

const convRule: ShapeRule = (n) => {
  n.set(windowShape(n.node, n.inShape(0), n.node.opType.startsWith('Conv') ? n.inShape(1) : undefined), n.node.opType === 'ConvInteger' ? DataType.INT32 : n.firstType);
};

const globalAveragePoolRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  n.set(x ? [...x.slice(0, 2), ...x.slice(2).map(() => 1)] : undefined);
};

/** Conv / pooling output: floor((in + pads - dilation*(k-1) - 1) / stride) + 1 per spatial axis. */
function windowShape(node: Node, x: Dim[] | undefined, w: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  const spatial = x.length - 2;
  const kernel = attribute(node, 'kernel_shape', 'ints') ?? w?.slice(2);
  const channels = w ? (w[0] ?? null) : (x[1] ?? null);
  if (!kernel) return [x[0] ?? null, channels, ...x.slice(2).map(() => null)];
  const strides = attribute(node, 'strides', 'ints') ?? kernel.map(() => 1);
  const dilations = attribute(node, 'dilations', 'ints') ?? kernel.map(() => 1);
  const pads = attribute(node, 'pads', 'ints') ?? kernel.flatMap(() => [0, 0]);
  const autoPad = attribute(node, 'auto_pad', 'string') ?? 'NOTSET';
  const ceil = (attribute(node, 'ceil_mode', 'int') ?? 0) === 1;
  const out: Dim[] = [x[0] ?? null, channels];
  for (let i = 0; i < spatial; i++) {
    const d = x[i + 2];
    const k = kernel[i];
    if (typeof d !== 'number' || typeof k !== 'number') {
      out.push(null);
      continue;
    }
    const stride = strides[i] ?? 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(d / stride));
      continue;
    }
    const pad = autoPad === 'VALID' ? 0 : (pads[i] ?? 0) + (pads[i + spatial] ?? 0);
    const span = d + pad - (dilations[i] ?? 1) * (k - 1) - 1;
    out.push((ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1);
  }
  return out;
}

export const linearAlgebraShapeRules: Record<string, ShapeRule> = {
  MatMul: matMulRule,
  MatMulInteger: matMulRule,
  Gemm: gemmRule,
  Conv: convRule,
  ConvInteger: convRule,
  MaxPool: convRule,
  AveragePool: convRule,
  GlobalAveragePool: globalAveragePoolRule,
  GlobalMaxPool: globalAveragePoolRule,
};
