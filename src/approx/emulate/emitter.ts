// Appends the nodes and initializers of one emulated layer. Every name starts with the layer's
// prefix (`<node name>.axx.`), so the whole emulation subgraph of a layer is recognisable by name.
import {DataType, type Attribute, type DataTypeCode, type Node, type Tensor} from '../../onnx/ir.js';
import type {NameGenerator} from '../../onnx/graph.js';
import {doubleTensor, floatTensor, int32Tensor, int64Tensor, int8Tensor, uint8Tensor} from '../../onnx/tensor.js';
import {QMAX} from '../quantize.js';

/** Factors by operand byte, [256, rank] row-major, in the element type the op reads. */
export interface FactorTable {
  dataType: DataTypeCode;
  data: Float32Array | Float64Array | Uint8Array | Int8Array;
}

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

  int8(what: string, value: number): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    this.initializers.push(int8Tensor(name, [], [value]));
    return name;
  }

  int32(what: string, value: number): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    this.initializers.push(int32Tensor(name, [], [value]));
    return name;
  }

  uint8(what: string, value: number): string {
    const name = this.names.fresh(`${this.prefix}${what}`);
    this.initializers.push(uint8Tensor(name, [], [value]));
    return name;
  }

  /** int8 q = clamp(round(x / step), ±127): QuantizeLinear, then a clip to the narrow range. */
  quantize(x: string, step: number, what: string): string {
    const q = this.op('QuantizeLinear', [x, this.scalar(`${what}.step`, step), this.int8(`${what}.zero`, 0)], `${what}.quantize`);
    return this.op('Clip', [q, this.int8(`${what}.qmin`, -QMAX)], `${what}.narrow`);
  }

  /**
   * uint8 floor(q / 2^shift) + 2^(7-shift) for the narrow-range q of x: QuantizeLinear with zero point
   * 128 gives q + 128, and floor((q+128)/2^s) = floor(q/2^s) + 128/2^s, a logical right shift.
   */
  quantizeShifted(x: string, step: number, shift: number, what: string): string {
    const q = this.op('QuantizeLinear', [x, this.scalar(`${what}.step`, step), this.uint8(`${what}.zero`, 128)], `${what}.quantize`);
    const narrow = this.op('Clip', [q, this.uint8(`${what}.qmin`, 128 - QMAX)], `${what}.narrow`);
    if (shift === 0) return narrow;
    return this.op('BitShift', [narrow, this.uint8(`${what}.shift`, shift)], `${what}.shift`, [{name: 'direction', type: 'string', value: 'RIGHT'}]);
  }

  /** Gathers table rows [256, rank] by int8 value: [..] -> [.., rank] (rank 1: [..]). Negative indices address bytes 0x81…0xff. */
  gather(quantized: string, table: FactorTable, rank: number, what: string): string {
    const name = this.names.fresh(`${this.prefix}${what}.factors`);
    this.initializers.push({name, dataType: table.dataType, dims: rank === 1 ? [256] : [256, rank], data: table.data});
    const index = this.op('Cast', [quantized], `${what}.index`, [{name: 'to', type: 'int', value: DataType.INT32}]);
    return this.op('Gather', [name, index], `${what}.gather`, [{name: 'axis', type: 'int', value: 0}]);
  }
}
