// ModelProto bytes <-> IR Model. Fields are written in field-number order, like protobuf's own
// serializers, so encoding is deterministic: encode(decode(encode(m))) equals encode(m) byte for byte.
// Things the IR cannot hold (training info, quantization annotations, overloads) are dropped on
// decode; things whose loss would change the model's meaning (local functions, sparse
// initializers, non-tensor graph inputs) are rejected with an OnnxDecodeError.
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname} from 'node:path';
import type {Attribute, Dim, Graph, Model, Node, OperatorSetId, Tensor, ValueInfo} from './ir.js';
import {AttributeType} from './ir.js';
import {ProtoReader, ProtoWriter, WireType} from './protobuf.js';
import {decodeStringEntry, decodeTensor, encodeTensor, ExternalDataFiles, OnnxDecodeError} from './tensor-codec.js';

export {OnnxDecodeError} from './tensor-codec.js';

export interface DecodeOptions {
  /** Directory that external data locations are relative to (the model file's directory). */
  baseDir?: string;
}

export function decodeModel(bytes: Uint8Array, opts: DecodeOptions = {}): Model {
  const external = new ExternalDataFiles(opts.baseDir);
  try {
    return decodeModelProto(new ProtoReader(bytes), external);
  } catch (error) {
    if (error instanceof OnnxDecodeError) throw error;
    throw new OnnxDecodeError(`not a valid ONNX model: ${(error as Error).message}`);
  } finally {
    external.close();
  }
}

export function encodeModel(model: Model): Uint8Array {
  const w = new ProtoWriter();
  w.int64Field(1, model.irVersion);
  if (model.producerName) w.stringField(2, model.producerName);
  if (model.producerVersion) w.stringField(3, model.producerVersion);
  if (model.domain) w.stringField(4, model.domain);
  if (model.modelVersion) w.int64Field(5, model.modelVersion);
  if (model.docString) w.stringField(6, model.docString);
  w.messageField(7, encodeGraph(model.graph));
  for (const opset of model.opsetImports) w.messageField(8, encodeOpset(opset));
  for (const entry of model.metadataProps) w.messageField(14, new ProtoWriter().stringField(1, entry.key).stringField(2, entry.value));
  return w.finish();
}

/** Reads an .onnx file, resolving external data next to it. */
export function readModelFile(path: string): Model {
  return decodeModel(readFileSync(path), {baseDir: dirname(path)});
}

export function writeModelFile(path: string, model: Model): void {
  writeFileSync(path, encodeModel(model));
}

function decodeModelProto(r: ProtoReader, external: ExternalDataFiles): Model {
  const model: Model = {
    irVersion: 0,
    opsetImports: [],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadataProps: [],
    graph: {name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: []},
  };
  let hasGraph = false;
  while (!r.done) {
    const {field, wire} = r.tag();
    switch (field) {
      case 1:
        model.irVersion = r.int64();
        break;
      case 2:
        model.producerName = r.string();
        break;
      case 3:
        model.producerVersion = r.string();
        break;
      case 4:
        model.domain = r.string();
        break;
      case 5:
        model.modelVersion = r.int64();
        break;
      case 6:
        model.docString = r.string();
        break;
      case 7:
        model.graph = decodeGraph(r.message(), external);
        hasGraph = true;
        break;
      case 8:
        model.opsetImports.push(decodeOpset(r.message()));
        break;
      case 14:
        model.metadataProps.push(decodeStringEntry(r.message()));
        break;
      case 25:
        throw new OnnxDecodeError('the model defines local functions, which axx does not support; re-export it with functions inlined');
      default:
        r.skip(wire);
    }
  }
  if (!hasGraph || model.irVersion <= 0) throw new OnnxDecodeError('not an ONNX model: no graph or IR version found');
  return model;
}

function decodeOpset(r: ProtoReader): OperatorSetId {
  const opset: OperatorSetId = {domain: '', version: 0};
  while (!r.done) {
    const {field, wire} = r.tag();
    if (field === 1) opset.domain = r.string();
    else if (field === 2) opset.version = r.int64();
    else r.skip(wire);
  }
  return opset;
}

function encodeOpset(opset: OperatorSetId): ProtoWriter {
  const w = new ProtoWriter();
  if (opset.domain) w.stringField(1, opset.domain);
  return w.int64Field(2, opset.version);
}

function decodeGraph(r: ProtoReader, external: ExternalDataFiles): Graph {
  const graph: Graph = {name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: []};
  while (!r.done) {
    const {field, wire} = r.tag();
    switch (field) {
      case 1:
        graph.nodes.push(decodeNode(r.message(), external));
        break;
      case 2:
        graph.name = r.string();
        break;
      case 5:
        graph.initializers.push(decodeTensor(r.message(), external));
        break;
      case 10:
        graph.docString = r.string();
        break;
      case 11:
        graph.inputs.push(requireTensorType(decodeValueInfo(r.message()), 'input'));
        break;
      case 12:
        graph.outputs.push(requireTensorType(decodeValueInfo(r.message()), 'output'));
        break;
      case 13: {
        // value_info entries are optional hints; non-tensor ones are dropped.
        const info = decodeValueInfo(r.message());
        if (info !== 'non-tensor') graph.valueInfo.push(info);
        break;
      }
      case 15:
        throw new OnnxDecodeError(`graph "${graph.name}" has sparse initializers, which axx does not support`);
      default:
        r.skip(wire);
    }
  }
  return graph;
}

function encodeGraph(graph: Graph): ProtoWriter {
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.messageField(1, encodeNode(node));
  if (graph.name) w.stringField(2, graph.name);
  for (const tensor of graph.initializers) w.messageField(5, encodeTensor(tensor));
  if (graph.docString !== undefined) w.stringField(10, graph.docString);
  for (const info of graph.inputs) w.messageField(11, encodeValueInfo(info));
  for (const info of graph.outputs) w.messageField(12, encodeValueInfo(info));
  for (const info of graph.valueInfo) w.messageField(13, encodeValueInfo(info));
  return w;
}

function decodeNode(r: ProtoReader, external: ExternalDataFiles): Node {
  const node: Node = {name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: []};
  while (!r.done) {
    const {field, wire} = r.tag();
    switch (field) {
      case 1:
        node.inputs.push(r.string());
        break;
      case 2:
        node.outputs.push(r.string());
        break;
      case 3:
        node.name = r.string();
        break;
      case 4:
        node.opType = r.string();
        break;
      case 5:
        node.attributes.push(decodeAttribute(r.message(), external, node));
        break;
      case 6:
        node.docString = r.string();
        break;
      case 7:
        node.domain = r.string();
        break;
      default:
        r.skip(wire);
    }
  }
  return node;
}

function encodeNode(node: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.stringField(1, input);
  for (const output of node.outputs) w.stringField(2, output);
  if (node.name) w.stringField(3, node.name);
  w.stringField(4, node.opType);
  for (const attribute of node.attributes) w.messageField(5, encodeAttribute(attribute));
  if (node.docString !== undefined) w.stringField(6, node.docString);
  if (node.domain) w.stringField(7, node.domain);
  return w;
}

const attributeTypeByCode = new Map<number, Attribute['type']>([
  [AttributeType.FLOAT, 'float'],
  [AttributeType.INT, 'int'],
  [AttributeType.STRING, 'string'],
  [AttributeType.TENSOR, 'tensor'],
  [AttributeType.GRAPH, 'graph'],
  [AttributeType.FLOATS, 'floats'],
  [AttributeType.INTS, 'ints'],
  [AttributeType.STRINGS, 'strings'],
  [AttributeType.TENSORS, 'tensors'],
  [AttributeType.GRAPHS, 'graphs'],
]);
const attributeCodeByType = new Map([...attributeTypeByCode].map(([code, type]) => [type, code]));

/** Field number holding each attribute type's value; old writers omit `type`, so it is inferred from these. */
const attributeFieldByType: Record<Attribute['type'], number> = {
  float: 2,
  int: 3,
  string: 4,
  tensor: 5,
  graph: 6,
  floats: 7,
  ints: 8,
  strings: 9,
  tensors: 10,
  graphs: 11,
};
const attributeTypeByField = new Map(Object.entries(attributeFieldByType).map(([type, field]) => [field, type as Attribute['type']]));

function decodeAttribute(r: ProtoReader, external: ExternalDataFiles, node: Node): Attribute {
  let name = '';
  let typeCode = 0;
  let seen: Attribute['type'] | undefined;
  let scalar: number | string | Tensor | Graph | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: Tensor[] = [];
  const graphs: Graph[] = [];
  while (!r.done) {
    const {field, wire} = r.tag();
    const fieldType = attributeTypeByField.get(field);
    if (fieldType && fieldType !== 'floats' && fieldType !== 'ints') seen ??= fieldType;
    switch (field) {
      case 1:
        name = r.string();
        break;
      case 20:
        typeCode = r.uint32();
        break;
      case 2:
        scalar = r.float();
        break;
      case 3:
        scalar = r.int64();
        break;
      case 4:
        scalar = r.string();
        break;
      case 5:
        scalar = decodeTensor(r.message(), external);
        break;
      case 6:
        scalar = decodeGraph(r.message(), external);
        break;
      case 7:
        seen ??= 'floats';
        readRepeated(r, wire, (from) => floats.push(from.float()));
        break;
      case 8:
        seen ??= 'ints';
        readRepeated(r, wire, (from) => ints.push(from.int64()));
        break;
      case 9:
        strings.push(r.string());
        break;
      case 10:
        tensors.push(decodeTensor(r.message(), external));
        break;
      case 11:
        graphs.push(decodeGraph(r.message(), external));
        break;
      default:
        r.skip(wire);
    }
  }
  const type = typeCode === 0 ? seen : attributeTypeByCode.get(typeCode);
  if (type === undefined) {
    throw new OnnxDecodeError(`node "${node.name}" (${node.opType}): attribute "${name}" has unsupported type ${typeCode || 'unknown'}`);
  }
  switch (type) {
    case 'floats':
      return {name, type, value: floats};
    case 'ints':
      return {name, type, value: ints};
    case 'strings':
      return {name, type, value: strings};
    case 'tensors':
      return {name, type, value: tensors};
    case 'graphs':
      return {name, type, value: graphs};
    default:
      if (scalar === undefined) throw new OnnxDecodeError(`node "${node.name}" (${node.opType}): attribute "${name}" of type ${type} has no value`);
      return {name, type, value: scalar} as Attribute;
  }
}

/** Repeated scalars arrive packed (one length-delimited run) or one per tag; both are legal. */
function readRepeated(r: ProtoReader, wire: number, readOne: (from: ProtoReader) => void): void {
  if (wire !== WireType.LENGTH_DELIMITED) return readOne(r);
  const packed = r.message();
  while (!packed.done) readOne(packed);
}

function encodeAttribute(attribute: Attribute): ProtoWriter {
  const w = new ProtoWriter().stringField(1, attribute.name);
  const field = attributeFieldByType[attribute.type];
  switch (attribute.type) {
    case 'float':
      w.floatField(field, attribute.value);
      break;
    case 'int':
      w.int64Field(field, attribute.value);
      break;
    case 'string':
      w.stringField(field, attribute.value);
      break;
    case 'tensor':
      w.messageField(field, encodeTensor(attribute.value));
      break;
    case 'graph':
      w.messageField(field, encodeGraph(attribute.value));
      break;
    case 'floats':
      for (const v of attribute.value) w.floatField(field, v);
      break;
    case 'ints':
      for (const v of attribute.value) w.int64Field(field, v);
      break;
    case 'strings':
      for (const v of attribute.value) w.stringField(field, v);
      break;
    case 'tensors':
      for (const v of attribute.value) w.messageField(field, encodeTensor(v));
      break;
    case 'graphs':
      for (const v of attribute.value) w.messageField(field, encodeGraph(v));
      break;
  }
  return w.tag(20, WireType.VARINT).uint32(attributeCodeByType.get(attribute.type)!);
}

function requireTensorType(info: ValueInfo | 'non-tensor', role: string): ValueInfo {
  if (info === 'non-tensor') throw new OnnxDecodeError(`a graph ${role} has a sequence/map/optional type; axx handles tensor values only`);
  return info;
}

function decodeValueInfo(r: ProtoReader): ValueInfo | 'non-tensor' {
  const info: ValueInfo = {name: '', elemType: 0};
  let nonTensor = false;
  while (!r.done) {
    const {field, wire} = r.tag();
    if (field === 1) info.name = r.string();
    else if (field === 3) info.docString = r.string();
    else if (field === 2) nonTensor = !decodeTypeProto(r.message(), info);
    else r.skip(wire);
  }
  return nonTensor ? 'non-tensor' : info;
}

/** Fills elemType/shape from a TypeProto; false if it is not a tensor type. */
function decodeTypeProto(r: ProtoReader, info: ValueInfo): boolean {
  let isTensor = true;
  while (!r.done) {
    const {field, wire} = r.tag();
    if (field === 1) {
      const t = r.message();
      while (!t.done) {
        const inner = t.tag();
        if (inner.field === 1) info.elemType = t.uint32();
        else if (inner.field === 2) info.shape = decodeShape(t.message());
        else t.skip(inner.wire);
      }
    } else if (field === 6) r.skip(wire); // denotation
    else {
      isTensor = false;
      r.skip(wire);
    }
  }
  return isTensor;
}

function decodeShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done) {
    const {field, wire} = r.tag();
    if (field !== 1) {
      r.skip(wire);
      continue;
    }
    const d = r.message();
    let dim: Dim = null;
    while (!d.done) {
      const inner = d.tag();
      if (inner.field === 1) dim = d.int64();
      else if (inner.field === 2) dim = d.string();
      else d.skip(inner.wire);
    }
    dims.push(dim);
  }
  return dims;
}

function encodeValueInfo(info: ValueInfo): ProtoWriter {
  const w = new ProtoWriter().stringField(1, info.name);
  if (info.elemType !== 0 || info.shape !== undefined) {
    const tensorType = new ProtoWriter().tag(1, WireType.VARINT).uint32(info.elemType);
    if (info.shape !== undefined) {
      const shape = new ProtoWriter();
      for (const dim of info.shape) {
        const d = new ProtoWriter();
        if (typeof dim === 'number') d.int64Field(1, dim);
        else if (typeof dim === 'string') d.stringField(2, dim);
        shape.messageField(1, d);
      }
      tensorType.messageField(2, shape);
    }
    w.messageField(2, new ProtoWriter().messageField(1, tensorType));
  }
  if (info.docString !== undefined) w.stringField(3, info.docString);
  return w;
}
