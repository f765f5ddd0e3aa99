// Shape rules of element-wise ops, and the integer arithmetic on tracked values (batch * heads, PyTorch's
// expand(-1) pattern) that keeps dynamic reshapes inferable.
import {DataType, type Dim} from '../ir.js';
import {broadcast} from '../dim-math.js';
import type {KnownValue, ShapeRule} from './rule.js';

const UNARY = [
  'Identity', 'Relu', 'LeakyRelu', 'Gelu', 'Erf', 'Sqrt', 'Tanh', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Neg', 'Abs',
  'Exp', 'Log', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Clip', 'Softmax', 'LogSoftmax', 'Dropout', 'Not',
  'BatchNormalization', 'InstanceNormalization', 'Elu', 'Selu', 'Softplus', 'Mish', 'QuantizeLinear', 'DequantizeLinear',
  'CumSum', 'IsNaN',
];
const BROADCAST = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'PRelu', 'Where', 'Sum', 'Mean'];
const COMPARISON = ['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor'];

/** Unary ops keep their input's shape; (De)QuantizeLinear change the element type, Dropout adds a mask. */
const unaryRule: ShapeRule = (n) => {
  const op = n.node.opType;
  const elemType = op === 'QuantizeLinear' ? (n.inType(2)?.elemType ?? DataType.UINT8) : op === 'DequantizeLinear' ? DataType.FLOAT : n.firstType;
  n.set(n.inShape(0), elemType);
  const known = n.value(0);
  if (op === 'Identity' && known) n.setKnown(known.values, known.scalar);
  if (op === 'Dropout') n.set(n.inShape(0), DataType.BOOL, 1);
};

/** Multi-input element-wise ops broadcast their inputs; comparisons give booleans. */
const broadcastRule: ShapeRule = (n) => {
  const op = n.node.opType;
  const shapes = n.node.inputs.map((_, i) => n.inShape(i));
  const elemType = COMPARISON.includes(op) ? DataType.BOOL : op === 'Where' ? (n.inType(1)?.elemType ?? n.firstType) : n.firstType;
  n.set(shapes.every((s) => s) ? broadcast(shapes as Dim[][]) : undefined, elemType);
  propagateValues(op, n.node.inputs.map((_, i) => n.value(i)), n.setKnown);
};

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

export const elementwiseShapeRules: Record<string, ShapeRule> = Object.fromEntries([
  ...UNARY.map((op) => [op, unaryRule]),
  ...[...BROADCAST, ...COMPARISON].map((op) => [op, broadcastRule]),
]);
