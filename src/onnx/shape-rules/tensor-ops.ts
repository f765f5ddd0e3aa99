// Shape rules of ops that build, reshape and index tensors. Small integer tensors are tracked as values
// (symbolic dims included), so PyTorch's Shape -> Gather -> Concat -> Reshape chains give Reshape a known shape.
import {attribute} from '../attributes.js';
import {DataType, type Dim} from '../ir.js';
import {elementCount, tensorNumbers} from '../tensor.js';
import {addDims, broadcast, evenSplit, normalizeAxis, normalizeRange, product, reshapeShape, sliceBounds, squeezeShape, sumDims, unsqueezeShape} from '../dim-math.js';
import {isIntegerType, MAX_TRACKED_ELEMENTS, type ShapeRule} from './rule.js';

const constantRule: ShapeRule = (n) => {
  const tensor = attribute(n.node, 'value', 'tensor');
  if (tensor) {
    n.set(tensor.dims, tensor.dataType);
    if (isIntegerType(tensor.dataType) && elementCount(tensor.dims) <= MAX_TRACKED_ELEMENTS) n.setKnown(tensorNumbers(tensor), tensor.dims.length === 0);
    return;
  }
  const ints = attribute(n.node, 'value_ints', 'ints');
  const int = attribute(n.node, 'value_int', 'int');
  const floats = attribute(n.node, 'value_floats', 'floats');
  if (ints) {
    n.set([ints.length], DataType.INT64);
    n.setKnown(ints);
  } else if (int !== undefined) {
    n.set([], DataType.INT64);
    n.setKnown([int], true);
  } else if (floats) n.set([floats.length], DataType.FLOAT);
  else n.set([], DataType.FLOAT);
};

const castRule: ShapeRule = (n) => {
  n.set(n.inShape(0), attribute(n.node, 'to', 'int') ?? DataType.UNDEFINED);
  if (n.value(0)) n.setKnown(n.value(0)!.values, n.value(0)!.scalar);
};

const shapeRule: ShapeRule = (n) => {
  const shape = n.inShape(0);
  const rank = shape?.length;
  const start = normalizeRange(attribute(n.node, 'start', 'int') ?? 0, rank);
  const end = normalizeRange(attribute(n.node, 'end', 'int') ?? rank ?? 0, rank);
  n.set(rank === undefined ? [null] : [Math.max(0, end - start)], DataType.INT64);
  if (shape) n.setKnown(shape.slice(start, end));
};

const sizeRule: ShapeRule = (n) => {
  n.set([], DataType.INT64);
};

const flattenRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  if (!x) return n.set([null, null]);
  const axis = normalizeAxis(attribute(n.node, 'axis', 'int') ?? 1, x.length + 1);
  n.set([product(x.slice(0, axis)), product(x.slice(axis))]);
};

const reshapeRule: ShapeRule = (n) => {
  n.set(reshapeShape(n.inShape(0), n.value(1)?.values, attribute(n.node, 'allowzero', 'int') ?? 0));
  if (n.value(0)) n.setKnown(n.value(0)!.values);
};

const transposeRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  if (!x) return n.set(undefined);
  const perm = attribute(n.node, 'perm', 'ints') ?? x.map((_, i) => x.length - 1 - i);
  n.set(perm.map((p) => x[p] ?? null));
};

const concatRule: ShapeRule = (n) => {
  const shapes = n.node.inputs.map((_, i) => n.inShape(i));
  const first = shapes[0];
  if (!first || shapes.some((s) => !s)) return n.set(undefined);
  const axis = normalizeAxis(attribute(n.node, 'axis', 'int') ?? 0, first.length);
  const out = [...first];
  out[axis] = sumDims(shapes.map((s) => s![axis] ?? null));
  n.set(out);
  const values = n.node.inputs.map((_, i) => n.value(i));
  if (first.length === 1 && values.every((v) => v)) n.setKnown(values.flatMap((v) => v!.values));
};

const gatherRule: ShapeRule = (n) => {
  const data = n.inShape(0);
  const indices = n.inShape(1);
  if (!data || !indices) return n.set(undefined);
  const axis = normalizeAxis(attribute(n.node, 'axis', 'int') ?? 0, data.length);
  n.set([...data.slice(0, axis), ...indices, ...data.slice(axis + 1)]);
  const source = n.value(0);
  const index = n.value(1);
  if (source && index && data.length === 1) {
    const picked = index.values.map((i) => (typeof i === 'number' ? (source.values[i < 0 ? i + source.values.length : i] ?? null) : null));
    n.setKnown(picked, index.scalar);
  }
};

/** Slice: the output dims, and the picked values when a 1-D tracked tensor is sliced. */
const sliceRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  const numbers = (i: number): number[] | undefined => {
    const v = n.value(i)?.values;
    return v && v.every((d): d is number => typeof d === 'number') ? v : undefined;
  };
  const starts = numbers(1) ?? attribute(n.node, 'starts', 'ints');
  const ends = numbers(2) ?? attribute(n.node, 'ends', 'ints');
  if (!x) return n.set(undefined);
  if (!starts || !ends) return n.set(x.map(() => null));
  const axes = (n.node.inputs[3] ? numbers(3) : attribute(n.node, 'axes', 'ints')) ?? starts.map((_, i) => i);
  const steps = (n.node.inputs[4] ? numbers(4) : undefined) ?? starts.map(() => 1);
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
  n.set(out);
  const source = n.value(0);
  const range = ranges[0];
  if (source && x.length === 1 && range) {
    const picked: Dim[] = [];
    for (let i = range[0]; range[2] > 0 ? i < range[1] : i > range[1]; i += range[2]) picked.push(source.values[i] ?? null);
    n.setKnown(picked);
  }
};

const squeezeRule: ShapeRule = (n) => {
  const axesInput = n.opset >= 13 ? n.node.inputs[1] : undefined;
  const axes = axesInput ? n.value(1)?.values : attribute(n.node, 'axes', 'ints');
  if (axesInput && !axes) return n.set(undefined);
  n.set(n.node.opType === 'Squeeze' ? squeezeShape(n.inShape(0), axes) : unsqueezeShape(n.inShape(0), axes));
  const v = n.value(0);
  if (v) n.setKnown(v.values, n.node.opType === 'Squeeze' && v.values.length === 1);
};

const expandRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  const target = n.value(1)?.values;
  n.set(x && target ? broadcast([x, target]) : undefined);
};

const constantOfShapeRule: ShapeRule = (n) => {
  const fill = attribute(n.node, 'value', 'tensor');
  const shape = n.value(0)?.values;
  n.set(shape, fill?.dataType ?? DataType.FLOAT);
  const count = shape ? product(shape) : null;
  if (fill && isIntegerType(fill.dataType) && typeof count === 'number' && count <= MAX_TRACKED_ELEMENTS) {
    n.setKnown(new Array<Dim>(count).fill(tensorNumbers(fill)[0] ?? 0), shape!.length === 0);
  }
};

const padRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  const pads = n.opset >= 11 ? n.value(1)?.values : attribute(n.node, 'pads', 'ints');
  if (!x || !pads || (n.opset >= 18 && n.node.inputs[3])) return n.set(x ? x.map(() => null) : undefined);
  n.set(x.map((d, i) => addDims(d, addDims(pads[i] ?? 0, pads[i + x.length] ?? 0))));
};

const splitRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  if (!x) return n.node.outputs.forEach((_, i) => n.set(undefined, n.firstType, i));
  const axis = normalizeAxis(attribute(n.node, 'axis', 'int') ?? 0, x.length);
  const sizes = (n.opset >= 13 && n.node.inputs[1] ? n.value(1)?.values : attribute(n.node, 'split', 'ints')) ?? evenSplit(x[axis] ?? null, n.node.outputs.length);
  n.node.outputs.forEach((_, i) => {
    const out = [...x];
    out[axis] = sizes[i] ?? null;
    n.set(out, n.firstType, i);
  });
};

export const tensorShapeRules: Record<string, ShapeRule> = {
  Constant: constantRule,
  Cast: castRule,
  Shape: shapeRule,
  Size: sizeRule,
  Flatten: flattenRule,
  Reshape: reshapeRule,
  Transpose: transposeRule,
  Concat: concatRule,
  Gather: gatherRule,
  Slice: sliceRule,
  Squeeze: squeezeRule,
  Unsqueeze: squeezeRule,
  Expand: expandRule,
  ConstantOfShape: constantOfShapeRule,
  Pad: padRule,
  Split: splitRule,
};
