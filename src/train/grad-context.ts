// What a gradient rule sees: the forward node, static shapes of forward values (measured by
// `probeShapes` for one concrete batch), and helpers that emit backward nodes.
import {DataType, type Node, type Tensor} from '../onnx/ir.js';
import {attr, type GraphBuilder} from '../models/graph-builder.js';

/** Static shapes of forward values, keyed by value name. */
export type ValueShapes = ReadonlyMap<string, readonly number[]>;

/**
 * Gradient rule of one op type: given the forward node and the gradients of its outputs
 * (undefined where an output does not influence the loss), return the gradient value of each
 * input (undefined where not needed or not differentiable).
 */
export type GradRule = (node: Node, outputGrads: (string | undefined)[], ctx: GradContext) => (string | undefined)[];

export class AutodiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AutodiffError';
  }
}

export class GradContext {
  readonly #shapeOps = new Map<string, string>();

  constructor(
    readonly b: GraphBuilder,
    readonly shapes: ValueShapes,
    readonly constants: ReadonlyMap<string, Tensor>,
    /** Whether a value needs a gradient (it depends on a differentiated input). */
    readonly requiresGrad: (value: string) => boolean,
    /** The node currently differentiated, for error messages and to add optional outputs. */
    public node: Node,
    /** Opset of the graph being built (ReduceMean takes axes as an input from 18 on). */
    readonly opset: number,
  ) {}

  needs(inputIndex: number): boolean {
    const name = this.node.inputs[inputIndex];
    return name !== undefined && name !== '' && this.requiresGrad(name);
  }

  shape(value: string): readonly number[] {
    const shape = this.shapes.get(value);
    if (shape === undefined) throw this.error(`no shape known for value '${value}' (was it produced for the shape probe?)`);
    return shape;
  }

  rank(value: string): number {
    return this.shape(value).length;
  }

  /** Values of a constant int tensor input (initializer or Constant node). */
  constantInts(value: string, what: string): number[] {
    const tensor = this.constants.get(value);
    if (tensor === undefined || tensor.dataType !== DataType.INT64 && tensor.dataType !== DataType.INT32) {
      throw this.error(`${what} ('${value}') must be a constant int tensor to differentiate this node`);
    }
    return Array.from(tensor.data as ArrayLike<number | bigint>, Number);
  }

  /** The name of the forward node's optional output `index`, adding it to the node if absent. */
  forwardOutput(index: number, base: string): string {
    const existing = this.node.outputs[index];
    if (existing !== undefined && existing !== '') return existing;
    while (this.node.outputs.length < index) this.node.outputs.push('');
    const name = this.b.fresh(`${this.node.name}.${base}`);
    this.node.outputs[index] = name;
    return name;
  }

  /** Runtime shape of a forward value (one Shape node per value). */
  shapeOf(value: string): string {
    let shape = this.#shapeOps.get(value);
    if (shape === undefined) {
      shape = this.b.op('Shape', [value], [], `grad.shape.${value}`);
      this.#shapeOps.set(value, shape);
    }
    return shape;
  }

  op(opType: string, inputs: string[], attributes = [] as Node['attributes']): string {
    return this.b.op(opType, inputs, attributes, `grad.${this.node.name}.${opType}`);
  }

  /** Float zeros shaped like `value`. */
  zerosLike(value: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(value)], [attr.tensor('value', {name: 'zero', dataType: DataType.FLOAT, dims: [1], data: Float32Array.of(0)})]);
  }

  /**
   * Sums a gradient shaped like the broadcast result `resultShape` down to the shape of operand
   * `operand` (numpy broadcasting: leading axes and axes where the operand has size 1).
   */
  reduceTo(grad: string, resultShape: readonly number[], operand: string): string {
    const target = this.shape(operand);
    const lead = resultShape.length - target.length;
    const axes: number[] = [];
    for (let i = 0; i < resultShape.length; i++) {
      if (i < lead || (target[i - lead] === 1 && resultShape[i] !== 1)) axes.push(i);
    }
    if (axes.length === 0) return grad;
    const summed = this.op('ReduceSum', [grad, this.b.int64s(axes)], [attr.int('keepdims', 1)]);
    return lead === 0 ? summed : this.op('Reshape', [summed, this.shapeOf(operand)]);
  }

  /** ReduceMean over `axes`, keeping dims. */
  reduceMean(value: string, axes: number[]): string {
    return this.opset >= 18
      ? this.op('ReduceMean', [value, this.b.int64s(axes)], [attr.int('keepdims', 1)])
      : this.op('ReduceMean', [value], [attr.ints('axes', axes), attr.int('keepdims', 1)]);
  }

  /** Swaps the last two axes. */
  transposeLast2(value: string, rank: number): string {
    const perm = Array.from({length: rank}, (_, i) => i);
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return this.op('Transpose', [value], [attr.ints('perm', perm)]);
  }

  error(message: string): AutodiffError {
    return new AutodiffError(`autodiff: node '${this.node.name}' (${this.node.opType}): ${message}`);
  }
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
