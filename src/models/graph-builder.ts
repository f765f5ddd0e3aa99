// Emits ONNX IR nodes and initializers with unique value names. Used by the model builders and by
// autodiff (which appends a backward pass to an existing graph, so it seeds the taken names).
import {DataType, type Attribute, type DataTypeCode, type Node, type Tensor} from '../onnx/ir.js';

export const attr = {
  int: (name: string, value: number): Attribute => ({name, type: 'int', value}),
  float: (name: string, value: number): Attribute => ({name, type: 'float', value}),
  ints: (name: string, value: number[]): Attribute => ({name, type: 'ints', value}),
  string: (name: string, value: string): Attribute => ({name, type: 'string', value}),
  tensor: (name: string, value: Tensor): Attribute => ({name, type: 'tensor', value}),
};

export function intAttr(node: Node, name: string, fallback: number): number {
  const found = node.attributes.find((a) => a.name === name);
  return found?.type === 'int' ? found.value : fallback;
}

export function floatAttr(node: Node, name: string, fallback: number): number {
  const found = node.attributes.find((a) => a.name === name);
  return found?.type === 'float' ? found.value : fallback;
}

export function intsAttr(node: Node, name: string): number[] | undefined {
  const found = node.attributes.find((a) => a.name === name);
  return found?.type === 'ints' ? found.value : undefined;
}

export function stringAttr(node: Node, name: string, fallback: string): string {
  const found = node.attributes.find((a) => a.name === name);
  return found?.type === 'string' ? found.value : fallback;
}

export interface NodeOptions {
  /** Node name; defaults to a fresh name derived from the op type. */
  name?: string;
  attributes?: Attribute[];
  /** Number of outputs (fresh names) or explicit output names. */
  outputs?: number | string[];
  domain?: string;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  readonly #taken = new Set<string>();
  readonly #constants = new Map<string, string>();

  constructor(takenNames: Iterable<string> = []) {
    for (const name of takenNames) this.#taken.add(name);
  }

  /** A value/node name not used yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.#taken.has(name); i++) name = `${base}_${i}`;
    this.#taken.add(name);
    return name;
  }

  /** Appends a node and returns its output names. */
  node(opType: string, inputs: string[], options: NodeOptions = {}): string[] {
    const name = options.name !== undefined ? this.fresh(options.name) : this.fresh(opType);
    const outputs =
      typeof options.outputs === 'object'
        ? options.outputs
        : Array.from({length: options.outputs ?? 1}, (_, i) => this.fresh(i === 0 ? `${name}.out` : `${name}.out${i}`));
    this.nodes.push({name, opType, domain: options.domain ?? '', inputs, outputs, attributes: options.attributes ?? []});
    return outputs;
  }

  /** Single-output node. */
  op(opType: string, inputs: string[], attributes: Attribute[] = [], name?: string): string {
    const [out] = this.node(opType, inputs, {attributes, ...(name === undefined ? {} : {name})});
    return out!;
  }

  initializer(name: string, dims: number[], data: Float32Array): string {
    const unique = this.fresh(name);
    if (unique !== name) throw new Error(`initializer name ${name} is already taken`);
    this.initializers.push({name, dataType: DataType.FLOAT, dims, data});
    return name;
  }

  /** A float initializer under a fresh name derived from `base`. */
  freshInitializer(base: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({name, dataType: DataType.FLOAT, dims, data});
    return name;
  }

  /** A 0-D constant of any type (e.g. an int8 zero point); identical constants are shared. */
  scalar(dataType: DataTypeCode, data: Int8Array | Uint8Array | Int32Array | Float32Array): string {
    return this.#constant(`${dataType}(${data[0]})`, 'const_scalar', dataType, [], data);
  }

  /** A 1-D int64 constant (shapes, axes, indices); identical constants are shared. */
  int64s(values: number[]): string {
    return this.#constant(`i64[${values.join(',')}]`, 'const_i64', DataType.INT64, [values.length], BigInt64Array.from(values, BigInt));
  }

  /** A 0-D int64 constant. */
  int64Scalar(value: number): string {
    return this.#constant(`i64(${value})`, 'const_i64', DataType.INT64, [], BigInt64Array.of(BigInt(value)));
  }

  /** A 0-D float constant; identical constants are shared. */
  float(value: number): string {
    return this.#constant(`f32(${value})`, 'const_f32', DataType.FLOAT, [], Float32Array.of(value));
  }

  #constant(key: string, base: string, dataType: number, dims: number[], data: Tensor['data']): string {
    const existing = this.#constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.fresh(base);
    this.initializers.push({name, dataType, dims, data});
    this.#constants.set(key, name);
    return name;
  }
}
