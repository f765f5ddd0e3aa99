// ModelProto bytes <-> IR Model. Fields are written in field-number order, like protobuf's own
// serializers, so encoding is deterministic: encode(decode(encode(m))) equals encode(m) byte for byte.
// Things the IR cannot hold (training info, quantization annotations, overloads) are dropped on
// decode; things whose loss would change the model's meaning (local functions, sparse
// initializers, non-tensor graph inputs) are rejected with an OnnxDecodeError. Models past
// protobuf's 2 GiB limit (an approximated ViT with high-rank circuits, a ViT-L) are written with
// their weights as ONNX external data, as onnx.save_model(..., save_as_external_data=True) does.
import {closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';
import type {Attribute, Dim, Graph, Model, Node, OperatorSetId, Tensor, ValueInfo} from './ir.js';
import {AttributeType} from './ir.js';
import {MAX_MESSAGE_BYTES, ProtobufLimitError, ProtoReader, ProtoWriter, WireType} from './protobuf.js';
import {decodeStringEntry, decodeTensor, encodeTensor, ExternalDataFiles, OnnxDecodeError, type ExternalDataSink} from './tensor-codec.js';

export {OnnxDecodeError} from './tensor-codec.js';

/** A model cannot be encoded as asked (today: it would pass protobuf's 2 GiB limit). */
export class OnnxEncodeError extends Error {
  override name = 'OnnxEncodeError';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

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

/** One file of external data: its location (relative to the model file) and its bytes, in order. */
export interface ExternalDataFile {
  location: string;
  chunks: Uint8Array[];
  byteLength: number;
}

/** A model's protobuf bytes plus the external data files its initializers point into (none when inline). */
export interface SplitModel {
  model: Uint8Array;
  externalData: ExternalDataFile[];
}

/** Initializers smaller than this stay inline even in a split model (onnx's own writer uses 1 KiB too). */
const EXTERNAL_TENSOR_BYTES = 1024;
/** Offsets in a data file are aligned so a runtime may memory-map each tensor. */
const EXTERNAL_ALIGNMENT = 4096;
/** A data file holds at most this much, so one file handed to onnxruntime as a buffer stays far below Node's 4 GiB buffer limit. */
const MAX_EXTERNAL_FILE_BYTES = 2 ** 30;
/** Models up to this size are written inline as one file; larger ones put their weights in external data. */
export const SINGLE_FILE_LIMIT = 2 ** 30;

/** Lays tensors out in data files `<location>`, `<location>.1` …, each at most MAX_EXTERNAL_FILE_BYTES. */
class ExternalDataLayout implements ExternalDataSink {
  readonly files: ExternalDataFile[] = [];

  constructor(readonly location: string) {}

  place(bytes: Uint8Array): {location: string; offset: number; length: number} | undefined {
    if (bytes.length < EXTERNAL_TENSOR_BYTES) return undefined;
    let file = this.files.at(-1);
    let padding = file === undefined ? 0 : (EXTERNAL_ALIGNMENT - (file.byteLength % EXTERNAL_ALIGNMENT)) % EXTERNAL_ALIGNMENT;
    if (file === undefined || file.byteLength + padding + bytes.length > MAX_EXTERNAL_FILE_BYTES) {
      file = {location: this.files.length === 0 ? this.location : `${this.location}.${this.files.length}`, chunks: [], byteLength: 0};
      this.files.push(file);
      padding = 0;
    }
    if (padding > 0) file.chunks.push(new Uint8Array(padding));
    const offset = file.byteLength + padding;
    file.chunks.push(bytes);
    file.byteLength = offset + bytes.length;
    return {location: file.location, offset, length: bytes.length};
  }
}

function modelWriter(model: Model, external?: ExternalDataSink): ProtoWriter {
  const w = new ProtoWriter();
  w.int64Field(1, model.irVersion);
  if (model.producerName) w.stringField(2, model.producerName);
  if (model.producerVersion) w.stringField(3, model.producerVersion);
  if (model.domain) w.stringField(4, model.domain);
  if (model.modelVersion) w.int64Field(5, model.modelVersion);
  if (model.docString) w.stringField(6, model.docString);
  w.messageField(7, encodeGraph(model.graph, external));
  for (const opset of model.opsetImports) w.messageField(8, encodeOpset(opset));
  for (const entry of model.metadataProps) w.messageField(14, new ProtoWriter().stringField(1, entry.key).stringField(2, entry.value));
  return w;
}

function tooLarge(error: ProtobufLimitError, split: boolean): OnnxEncodeError {
  const gib = (error.bytes / 2 ** 30).toFixed(1);
  return split
    ? new OnnxEncodeError(
        `the model's graph alone (without the weights moved to external data) is ${gib} GiB, past protobuf's ${MAX_MESSAGE_BYTES}-byte limit`,
        'a graph this large holds its size in something other than initializers (e.g. huge Constant nodes); fold them into initializers',
      )
    : new OnnxEncodeError(
        `the model is ${gib} GiB as one ONNX file, past protobuf's ${MAX_MESSAGE_BYTES}-byte (2 GiB) limit: onnxruntime could not load it`,
        'write it with writeModelFile or encodeModelSplit, which move the weights to external data; in a pipeline, approximate fewer layers or use lower-rank circuits',
      );
}

/** The model as one protobuf buffer, every tensor inline; OnnxEncodeError past 2 GiB. */
export function encodeModel(model: Model): Uint8Array {
  try {
    return modelWriter(model).finish();
  } catch (error) {
    if (error instanceof ProtobufLimitError) throw tooLarge(error, false);
    throw error;
  }
}

/**
 * The model inline when it encodes to at most `singleFileLimit` bytes; otherwise with every initializer
 * of 1 KiB or more in external data files named `dataLocation`, `dataLocation.1` … (relative to the model file).
 */
export function encodeModelSplit(model: Model, dataLocation: string, singleFileLimit = SINGLE_FILE_LIMIT): SplitModel {
  const inline = inlineWriter(model);
  if (inline !== undefined && inline.length <= singleFileLimit) return {model: inline.finish(), externalData: []};
  const layout = new ExternalDataLayout(dataLocation);
  try {
    return {model: modelWriter(model, layout).finish(), externalData: layout.files};
  } catch (error) {
    if (error instanceof ProtobufLimitError) throw tooLarge(error, true);
    throw error;
  }
}

/** The inline encoding, or undefined when it would pass protobuf's limit (nothing is copied either way). */
function inlineWriter(model: Model): ProtoWriter | undefined {
  try {
    return modelWriter(model);
  } catch (error) {
    if (error instanceof ProtobufLimitError) return undefined;
    throw error;
  }
}

/** What a model directory (a step's model output past SINGLE_FILE_LIMIT) names its .onnx file. */
export const MODEL_FILE_NAME = 'model.onnx';

/** The .onnx file of a model given as a file or as a directory holding MODEL_FILE_NAME and its external data. */
export function modelFileOf(path: string): string {
  return statSync(path, {throwIfNoEntry: false})?.isDirectory() ? join(path, MODEL_FILE_NAME) : path;
}

/** Reads an .onnx file (or a model directory, see modelFileOf), resolving external data next to it. */
export function readModelFile(path: string): Model {
  const file = modelFileOf(path);
  return decodeModel(readFileSync(file), {baseDir: dirname(file)});
}

/**
 * The metadata entries (ModelProto field 14) of an .onnx file, read without reading its graph: a model file may
 * hold a gigabyte of initializers, so the top-level fields are walked by offset and only the entries are read.
 */
export function readModelMetadata(file: string): Map<string, string> {
  const entries = new Map<string, string>();
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    // A field's tag and length, or a whole varint or fixed-width field, fit in 20 bytes.
    const head = new Uint8Array(20);
    for (let pos = 0; pos < size; ) {
      const header = new ProtoReader(head, 0, readSync(fd, head, 0, head.length, pos));
      const {field, wire} = header.tag();
      if (wire !== WireType.LENGTH_DELIMITED) {
        header.skip(wire);
        pos += header.pos;
        continue;
      }
      const length = header.uint32();
      const start = pos + header.pos;
      if (field === 14) {
        const entry = new Uint8Array(length);
        const {key, value} = decodeStringEntry(new ProtoReader(entry, 0, readSync(fd, entry, 0, length, start)));
        entries.set(key, value);
      }
      pos = start + length;
    }
  } finally {
    closeSync(fd);
  }
  return entries;
}

export interface WriteModelOptions {
  /**
   * Past `singleFileLimit` bytes, put the weights in `<file name>.data` beside the model (default false:
   * one self-contained file; OnnxEncodeError past 2 GiB). Steps write their outputs with writeModelOutput.
   */
  externalData?: boolean;
  singleFileLimit?: number;
}

/** Writes `model` to `path`; data files go first, so a model file on disk always finds its weights. Returns every file written. */
export function writeModelFile(path: string, model: Model, opts: WriteModelOptions = {}): string[] {
  const split = opts.externalData ? encodeModelSplit(model, `${basename(path)}.data`, opts.singleFileLimit) : {model: encodeModel(model), externalData: []};
  return writeSplitModel(path, split);
}

/** Where writeModelOutput put a model: one self-contained file, or a directory as modelFileOf reads it. */
export type ModelOutput = {file: string} | {dir: string};

/**
 * Writes `model` into `parentDir` in the form a pipeline passes models on: `<name>.onnx` when it encodes
 * to at most `singleFileLimit` bytes, else a directory `<name>/` holding MODEL_FILE_NAME and its
 * external data (so a model past protobuf's 2 GiB limit still travels between steps).
 */
export function writeModelOutput(parentDir: string, model: Model, name = 'model', singleFileLimit = SINGLE_FILE_LIMIT): ModelOutput {
  const split = encodeModelSplit(model, `${MODEL_FILE_NAME}.data`, singleFileLimit);
  if (split.externalData.length === 0) {
    const file = join(parentDir, `${name}.onnx`);
    writeSplitModel(file, split);
    return {file};
  }
  const dir = join(parentDir, name);
  mkdirSync(dir);
  writeSplitModel(join(dir, MODEL_FILE_NAME), split);
  return {dir};
}

/** Writes an encodeModelSplit result to `path`, its data files beside it (first, so the model file always finds them). Returns every file written. */
export function writeSplitModel(path: string, split: SplitModel): string[] {
  const written: string[] = [];
  for (const file of split.externalData) {
    const dataPath = join(dirname(path), file.location);
    const fd = openSync(dataPath, 'w');
    try {
      for (const chunk of file.chunks) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    written.push(dataPath);
  }
  writeFileSync(path, split.model);
  return [path, ...written];
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

/** `external` takes the initializers' bytes (a subgraph's and attributes' tensors stay inline). */
function encodeGraph(graph: Graph, external?: ExternalDataSink): ProtoWriter {
  const w = new ProtoWriter();
  for (const node of graph.nodes) w.messageField(1, encodeNode(node));
  if (graph.name) w.stringField(2, graph.name);
  for (const tensor of graph.initializers) w.messageField(5, encodeTensor(tensor, external));
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
