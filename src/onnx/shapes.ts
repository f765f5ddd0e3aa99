// Shape inference for the ops axx reads, rewrites and builds. Small integer tensors (shapes, axes,
// indices) are propagated as values too, including symbolic dims, so the Shape -> Gather -> Concat ->
// Reshape chains PyTorch emits for a dynamic batch still give Reshape a known output shape.
import {DataType, type DataTypeCode, type Dim, type Model, type Node} from './ir.js';
import {topologicalOrder} from './graph.js';
import {attribute} from './attributes.js';
import {elementCount, tensorNumbers} from './tensor.js';
import {
  addDims,
  broadcast,
  evenSplit,
  matmulShape,
  normalizeAxis,
  normalizeRange,
  product,
  reshapeShape,
  reduceShape,
  sliceBounds,
  squeezeShape,
  sumDims,
  unsqueezeShape,
} from './dim-math.js';

export interface ValueType {
  elemType: DataTypeCode;
  /** undefined = rank unknown. */
  shape?: Dim[];
}

export interface InferOptions {
  /** Override graph input shapes (e.g. a concrete batch size). */
  inputShapes?: Record<string, Dim[]>;
  /** Values for symbolic dims, e.g. {batch: 1}; applied to graph inputs. */
  dims?: Record<string, number>;
}

/** Known contents of a small integer tensor: a flat list of dims (numbers or symbols), with its rank. */
interface KnownValue {
  values: Dim[];
  scalar: boolean;
}

/** Largest constant whose elements are tracked as values. */
const MAX_TRACKED_ELEMENTS = 64;

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
  const ctx: InferContext = {types, known, opset};
  for (const node of topologicalOrder(graph)) {
    try {
      inferNode(node, ctx);
    } catch (error) {
      throw new Error(`shape inference failed at node "${node.name}" (${node.opType}): ${(error as Error).message}`);
    }
  }
  return types;
}

interface InferContext {
  types: Map<string, ValueType>;
  known: Map<string, KnownValue>;
  opset: number;
}

function isIntegerType(t: DataTypeCode): boolean {
  return t === DataType.INT64 || t === DataType.INT32;
}

const UNARY = new Set([
  'Identity', 'Relu', 'LeakyRelu', 'Gelu', 'Erf', 'Sqrt', 'Tanh', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Neg', 'Abs',
  'Exp', 'Log', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Clip', 'Softmax', 'LogSoftmax', 'Dropout', 'Not',
  'BatchNormalization', 'InstanceNormalization', 'Elu', 'Selu', 'Softplus', 'Mish', 'QuantizeLinear', 'DequantizeLinear',
  'CumSum', 'IsNaN',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'PRelu', 'Where', 'Sum', 'Mean']);
const COMPARISON = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor']);

function inferNode(node: Node, ctx: InferContext): void {
  const inType = (i: number): ValueType | undefined => {
    const name = node.inputs[i];
    return name ? ctx.types.get(name) : undefined;
  };
  const inShape = (i: number): Dim[] | undefined => inType(i)?.shape;
  const value = (i: number): KnownValue | undefined => {
    const name = node.inputs[i];
    return name ? ctx.known.get(name) : undefined;
  };
  const firstType = inType(0)?.elemType ?? DataType.UNDEFINED;
  const set = (shape: Dim[] | undefined, elemType: DataTypeCode = firstType, output = 0): void => {
    const name = node.outputs[output];
    if (name) ctx.types.set(name, {elemType, shape});
  };
  const setKnown = (values: Dim[], scalar = false): void => {
    if (node.outputs[0]) ctx.known.set(node.outputs[0], {values, scalar});
  };
  const op = node.opType;

  if (UNARY.has(op)) {
    const elemType = op === 'QuantizeLinear' ? (inType(2)?.elemType ?? DataType.UINT8) : op === 'DequantizeLinear' ? DataType.FLOAT : firstType;
    set(inShape(0), elemType);
    if (op === 'Identity' && value(0)) setKnown(value(0)!.values, value(0)!.scalar);
    if (op === 'Dropout') set(inShape(0), DataType.BOOL, 1);
    return;
  }
  if (BROADCAST.has(op) || COMPARISON.has(op)) {
    const shapes = node.inputs.map((_, i) => inShape(i));
    const elemType = COMPARISON.has(op) ? DataType.BOOL : op === 'Where' ? (inType(1)?.elemType ?? firstType) : firstType;
    set(shapes.every((s) => s) ? broadcast(shapes as Dim[][]) : undefined, elemType);
    propagateValues(op, node.inputs.map((_, i) => value(i)), setKnown);
    return;
  }
  switch (op) {
    case 'Constant': {
      const tensor = attribute(node, 'value', 'tensor');
      if (tensor) {
        set(tensor.dims, tensor.dataType);
        if (isIntegerType(tensor.dataType) && elementCount(tensor.dims) <= MAX_TRACKED_ELEMENTS) setKnown(tensorNumbers(tensor), tensor.dims.length === 0);
        return;
      }
      const ints = attribute(node, 'value_ints', 'ints');
      const int = attribute(node, 'value_int', 'int');
      const floats = attribute(node, 'value_floats', 'floats');
      if (ints) {
        set([ints.length], DataType.INT64);
        setKnown(ints);
      } else if (int !== undefined) {
        set([], DataType.INT64);
        setKnown([int], true);
      } else if (floats) set([floats.length], DataType.FLOAT);
      else set([], DataType.FLOAT);
      return;
    }
    case 'Cast': {
      set(inShape(0), attribute(node, 'to', 'int') ?? DataType.UNDEFINED);
      if (value(0)) setKnown(value(0)!.values, value(0)!.scalar);
      return;
    }
    case 'Shape': {
      const shape = inShape(0);
      const rank = shape?.length;
      const start = normalizeRange(attribute(node, 'start', 'int') ?? 0, rank);
      const end = normalizeRange(attribute(node, 'end', 'int') ?? rank ?? 0, rank);
      set(rank === undefined ? [null] : [Math.max(0, end - start)], DataType.INT64);
      if (shape) setKnown(shape.slice(start, end));
      return;
    }
    case 'Size': {
      set([], DataType.INT64);
      return;
    }
    case 'MatMul':
    case 'MatMulInteger': {
      set(matmulShape(inShape(0), inShape(1)), op === 'MatMulInteger' ? DataType.INT32 : firstType);
      return;
    }
    case 'Gemm': {
      const a = inShape(0);
      const b = inShape(1);
      const transA = attribute(node, 'transA', 'int') ?? 0;
      const transB = attribute(node, 'transB', 'int') ?? 0;
      set(a && b ? [a[transA ? 1 : 0] ?? null, b[transB ? 0 : 1] ?? null] : undefined);
      return;
    }
    case 'Conv':
    case 'ConvInteger':
    case 'MaxPool':
    case 'AveragePool': {
      set(windowShape(node, inShape(0), op.startsWith('Conv') ? inShape(1) : undefined), op === 'ConvInteger' ? DataType.INT32 : firstType);
      return;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const x = inShape(0);
      set(x ? [...x.slice(0, 2), ...x.slice(2).map(() => 1)] : undefined);
      return;
    }
    case 'Flatten': {
      const x = inShape(0);
      if (!x) return set([null, null]);
      const axis = normalizeAxis(attribute(node, 'axis', 'int') ?? 1, x.length + 1);
      set([product(x.slice(0, axis)), product(x.slice(axis))]);
      return;
    }
    case 'Reshape': {
      set(reshapeShape(inShape(0), value(1)?.values, attribute(node, 'allowzero', 'int') ?? 0));
      if (value(0)) setKnown(value(0)!.values);
      return;
    }
    case 'Transpose': {
      const x = inShape(0);
      if (!x) return set(undefined);
      const perm = attribute(node, 'perm', 'ints') ?? x.map((_, i) => x.length - 1 - i);
      set(perm.map((p) => x[p] ?? null));
      return;
    }
    case 'Concat': {
      const shapes = node.inputs.map((_, i) => inShape(i));
      const first = shapes[0];
      if (!first || shapes.some((s) => !s)) return set(undefined);
      const axis = normalizeAxis(attribute(node, 'axis', 'int') ?? 0, first.length);
      const out = [...first];
      out[axis] = sumDims(shapes.map((s) => s![axis] ?? null));
      set(out);
      const values = node.inputs.map((_, i) => value(i));
      if (first.length === 1 && values.every((v) => v)) setKnown(values.flatMap((v) => v!.values));
      return;
    }
    case 'Gather': {
      const data = inShape(0);
      const indices = inShape(1);
      if (!data || !indices) return set(undefined);
      const axis = normalizeAxis(attribute(node, 'axis', 'int') ?? 0, data.length);
      set([...data.slice(0, axis), ...indices, ...data.slice(axis + 1)]);
      const source = value(0);
      const index = value(1);
      if (source && index && data.length === 1) {
        const picked = index.values.map((i) => (typeof i === 'number' ? (source.values[i < 0 ? i + source.values.length : i] ?? null) : null));
        setKnown(picked, index.scalar);
      }
      return;
    }
    case 'Slice':
      return inferSlice(node, inShape(0), value, set, setKnown);
    case 'Squeeze':
    case 'Unsqueeze': {
      const axesInput = ctx.opset >= 13 ? node.inputs[1] : undefined;
      const axes = axesInput ? value(1)?.values : attribute(node, 'axes', 'ints');
      if (axesInput && !axes) return set(undefined);
      set(op === 'Squeeze' ? squeezeShape(inShape(0), axes) : unsqueezeShape(inShape(0), axes));
      const v = value(0);
      if (v) setKnown(v.values, op === 'Squeeze' && v.values.length === 1);
      return;
    }
    case 'LayerNormalization': {
      const x = inShape(0);
      set(x);
      if (node.outputs.length > 1) {
        const axis = x ? normalizeAxis(attribute(node, 'axis', 'int') ?? -1, x.length) : 0;
        const reduced = x ? [...x.slice(0, axis), ...x.slice(axis).map(() => 1)] : undefined;
        set(reduced, DataType.FLOAT, 1);
        set(reduced, DataType.FLOAT, 2);
      }
      return;
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2': {
      // Axes became an input in opset 18 (ReduceSum: 13).
      const axesFromInput = op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
      const axes = axesFromInput ? (node.inputs[1] ? value(1)?.values : []) : (attribute(node, 'axes', 'ints') ?? []);
      const keep = (attribute(node, 'keepdims', 'int') ?? 1) === 1;
      set(reduceShape(inShape(0), axes, keep, (attribute(node, 'noop_with_empty_axes', 'int') ?? 0) === 1));
      return;
    }
    case 'ArgMax':
    case 'ArgMin': {
      const x = inShape(0);
      const keep = (attribute(node, 'keepdims', 'int') ?? 1) === 1;
      set(x ? reduceShape(x, [attribute(node, 'axis', 'int') ?? 0], keep, false) : undefined, DataType.INT64);
      return;
    }
    case 'Expand': {
      const x = inShape(0);
      const target = value(1)?.values;
      set(x && target ? broadcast([x, target]) : undefined);
      return;
    }
    case 'ConstantOfShape': {
      const fill = attribute(node, 'value', 'tensor');
      const shape = value(0)?.values;
      set(shape, fill?.dataType ?? DataType.FLOAT);
      const count = shape ? product(shape) : null;
      if (fill && isIntegerType(fill.dataType) && typeof count === 'number' && count <= MAX_TRACKED_ELEMENTS) {
        setKnown(new Array<Dim>(count).fill(tensorNumbers(fill)[0] ?? 0), shape!.length === 0);
      }
      return;
    }
    case 'Pad': {
      const x = inShape(0);
      const pads = ctx.opset >= 11 ? value(1)?.values : attribute(node, 'pads', 'ints');
      if (!x || !pads || (ctx.opset >= 18 && node.inputs[3])) return set(x ? x.map(() => null) : undefined);
      set(x.map((d, i) => addDims(d, addDims(pads[i] ?? 0, pads[i + x.length] ?? 0))));
      return;
    }
    case 'Split': {
      const x = inShape(0);
      if (!x) return node.outputs.forEach((_, i) => set(undefined, firstType, i));
      const axis = normalizeAxis(attribute(node, 'axis', 'int') ?? 0, x.length);
      const sizes = (ctx.opset >= 13 && node.inputs[1] ? value(1)?.values : attribute(node, 'split', 'ints')) ?? evenSplit(x[axis] ?? null, node.outputs.length);
      node.outputs.forEach((_, i) => {
        const out = [...x];
        out[axis] = sizes[i] ?? null;
        set(out, firstType, i);
      });
      return;
    }
    default:
      // Unknown op: outputs stay unknown, which downstream inference tolerates.
      for (let i = 0; i < node.outputs.length; i++) set(undefined, DataType.UNDEFINED, i);
  }
}

function inferSlice(
  node: Node,
  x: Dim[] | undefined,
  value: (i: number) => KnownValue | undefined,
  set: (shape: Dim[] | undefined) => void,
  setKnown: (values: Dim[]) => void,
): void {
  const numbers = (i: number): number[] | undefined => {
    const v = value(i)?.values;
    return v && v.every((d): d is number => typeof d === 'number') ? v : undefined;
  };
  const starts = numbers(1) ?? attribute(node, 'starts', 'ints');
  const ends = numbers(2) ?? attribute(node, 'ends', 'ints');
  if (!x) return set(undefined);
  if (!starts || !ends) return set(x.map(() => null));
  const axes = (node.inputs[3] ? numbers(3) : attribute(node, 'axes', 'ints')) ?? starts.map((_, i) => i);
  const steps = (node.inputs[4] ? numbers(4) : undefined) ?? starts.map(() => 1);
  const out = [...x];
  const ranges: [number, number, number][] = [];
  axes.forEach((a, i) => {
    const axis = normalizeAxis(a, x.length);
    const dim = x[axis];
    if (typeof dim !== 'number') {
      out[axis] = null;
      return;
    }
    const step = steps[i] ?? 1;
    const [begin, stop] = sliceBounds(starts[i]!, ends[i]!, step, dim);
    out[axis] = Math.max(0, Math.ceil((stop - begin) / step));
    ranges[axis] = [begin, stop, step];
  });
  set(out);
  const source = value(0);
  const range = ranges[0];
  if (source && x.length === 1 && range) {
    const picked: Dim[] = [];
    for (let i = range[0]; range[2] > 0 ? i < range[1] : i > range[1]; i += range[2]) picked.push(source.values[i] ?? null);
    setKnown(picked);
  }
}

type ElementOp = (x: Dim, y: Dim, z: Dim) => Dim;
const bothNumbers = (f: (x: number, y: number) => number): ElementOp => (x, y) => (typeof x === 'number' && typeof y === 'number' ? f(x, y) : null);

/**
 * Element-wise ops on tracked integer values: shape arithmetic (batch * heads) and the
 * Equal/Where pattern PyTorch emits for expand(-1). Symbolic dims survive where the result is
 * certain (x * 1, comparing a symbol with itself).
 */
const valueOps: Record<string, ElementOp> = {
  Add: bothNumbers((x, y) => x + y),
  Sub: bothNumbers((x, y) => x - y),
  Mul: (x, y) => (x === 1 ? y : y === 1 ? x : bothNumbers((a, b) => a * b)(x, y, null)),
  Div: (x, y) => (y === 1 ? x : bothNumbers((a, b) => Math.trunc(a / b))(x, y, null)),
  // A symbolic dim is never negative, so comparing it with -1 (PyTorch's expand marker) is false.
  Equal: (x, y) => (x !== null && x === y ? 1 : typeof x === 'number' && typeof y === 'number' ? 0 : (typeof x === 'number' && x < 0) || (typeof y === 'number' && y < 0) ? 0 : null),
  Where: (c, x, y) => (c === 1 ? x : c === 0 ? y : null),
};

function propagateValues(op: string, inputs: (KnownValue | undefined)[], setKnown: (values: Dim[], scalar?: boolean) => void): void {
  const apply = valueOps[op];
  if (!apply || inputs.length < 2 || inputs.some((v) => !v)) return;
  const known = inputs as KnownValue[];
  const length = Math.max(...known.map((v) => v.values.length));
  if (known.some((v) => v.values.length !== length && v.values.length !== 1)) return;
  const at = (v: KnownValue | undefined, i: number): Dim => (v ? (v.values[v.values.length === 1 ? 0 : i] ?? null) : null);
  const out: Dim[] = [];
  for (let i = 0; i < length; i++) out.push(apply(at(known[0], i), at(known[1], i), at(known[2], i)));
  setKnown(out, known.every((v) => v.scalar));
}

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
