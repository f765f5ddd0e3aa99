// Shape rules of normalisations and reductions over axes.
import {attribute} from '../attributes.js';
import {DataType} from '../ir.js';
import {normalizeAxis, reduceShape} from '../dim-math.js';
import type {ShapeRule} from './rule.js';

const layerNormalizationRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  n.set(x);
  if (n.node.outputs.length > 1) {
    const axis = x ? normalizeAxis(attribute(n.node, 'axis', 'int') ?? -1, x.length) : 0;
    const reduced = x ? [...x.slice(0, axis), ...x.slice(axis).map(() => 1)] : undefined;
    n.set(reduced, DataType.FLOAT, 1);
    n.set(reduced, DataType.FLOAT, 2);
  }
};

const reduceMeanRule: ShapeRule = (n) => {
  // Axes became an input in opset 18 (ReduceSum: 13).
  const axesFromInput = n.node.opType === 'ReduceSum' ? n.opset >= 13 : n.opset >= 18;
  const axes = axesFromInput ? (n.node.inputs[1] ? n.value(1)?.values : []) : (attribute(n.node, 'axes', 'ints') ?? []);
  const keep = (attribute(n.node, 'keepdims', 'int') ?? 1) === 1;
  n.set(reduceShape(n.inShape(0), axes, keep, (attribute(n.node, 'noop_with_empty_axes', 'int') ?? 0) === 1));
};

const argMaxRule: ShapeRule = (n) => {
  const x = n.inShape(0);
  const keep = (attribute(n.node, 'keepdims', 'int') ?? 1) === 1;
  n.set(x ? reduceShape(x, [attribute(n.node, 'axis', 'int') ?? 0], keep, false) : undefined, DataType.INT64);
};

export const reductionShapeRules: Record<string, ShapeRule> = {
  LayerNormalization: layerNormalizationRule,
  ReduceMean: reduceMeanRule,
  ReduceSum: reduceMeanRule,
  ReduceMax: reduceMeanRule,
  ReduceMin: reduceMeanRule,
  ReduceProd: reduceMeanRule,
  ReduceL2: reduceMeanRule,
  ArgMax: argMaxRule,
  ArgMin: argMaxRule,
};
