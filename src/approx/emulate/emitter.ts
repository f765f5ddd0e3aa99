// Appends the nodes and initializers of one emulated layer. Every name starts with the layer's
// prefix (`<node name>.axx.`), so the whole emulation subgraph of a layer is recognisable by name.
import {DataType, type Attribute, type Node, type Tensor} from '../../onnx/ir.js';
import type {NameGenerator} from '../../onnx/graph.js';
import {doubleTensor, floatTensor, int64Tensor} from '../../onnx/tensor.js';
import {QMAX} from '../quantize.js';

export class LayerEmitter {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];

  constructor(
    readonly prefix: string,
    readonly names: NameGenerator,
  ) {}

  /** Appends a node; returns its output (`output` forces the name, e.g. the replaced op's output). */
  op(opType: string, inputs: string[], what: string, attributes: Attribute[] = [], output?: string): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    const out = output ?? this.names.fresh(`${name}.out`);
    this.nodes.push({name, opType, domain: '', inputs, outputs: [out], attributes});
    return out;
  }

  constant(what: string, dims: number[], data: Float32Array | Float64Array): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    this.initializers.push(data instanceof Float64Array ? doubleTensor(name, dims, data) : floatTensor(name, dims, data));
    return name;
  }

  int64s(what: string, values: number[]): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  scalar(what: string, value: number): string {
    return this.constant(what, [], Float32Array.of(value));
  }

  /** clamp(round(x·inverse), ±127) as a float tensor of integers. Clip before Round equals Round before Clip (integer bounds). */
  quantize(x: string, inverse: number, what: string): string {
    const scaled = this.op('Mul', [x, this.scalar(`${what}.inverse_scale`, inverse)], `${what}.scale`);
    const clipped = this.op('Clip', [scaled, this.scalar(`${what}.qmin`, -QMAX), this.scalar(`${what}.qmax`, QMAX)], `${what}.clip`);
    return this.op('Round', [clipped], `${what}.round`);
  }

  /** Gathers factor rows by quantised value: [..] -> [.., rank] (rank 1: [..]). Negative indices address bytes 0x81…0xff. */
  gather(quantized: string, factors: Float64Array, rank: number, precision: 'fp32' | 'fp64', what: string): string {
    const data = precision === 'fp64' ? Float64Array.from(factors) : Float32Array.from(factors);
    const table = this.constant(`${what}.factors`, rank === 1 ? [256] : [256, rank], data);
    const index = this.op('Cast', [quantized], `${what}.index`, [{name: 'to', type: 'int', value: DataType.INT32}]);
    return this.op('Gather', [table, index], `${what}.gather`, [{name: 'axis', type: 'int', value: 0}]);
  }
}
