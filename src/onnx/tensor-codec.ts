// TensorProto <-> IR Tensor. Reads every storage form (typed fields, raw_data, external data files);
// writes raw_data for numeric tensors. Element data is copied with bulk byte copies or one tight
// varint loop per field, never one allocation per element.
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {resolve} from 'node:path';
import {DataType, type Tensor} from './ir.js';
import {countVarints, ProtoReader, ProtoWriter, WireType} from './protobuf.js';
import {dataTypeName, elementCount, storageFor, tensorBytes, type NumericTensorData} from './tensor.js';

/** A model file is malformed or uses something axx cannot represent. */
export class OnnxDecodeError extends Error {
  override name = 'OnnxDecodeError';
}

const Field = {
  DIMS: 1,
  DATA_TYPE: 2,
  SEGMENT: 3,
  FLOAT_DATA: 4,
  INT32_DATA: 5,
  STRING_DATA: 6,
  INT64_DATA: 7,
  NAME: 8,
  RAW_DATA: 9,
  DOUBLE_DATA: 10,
  UINT64_DATA: 11,
  DOC_STRING: 12,
  EXTERNAL_DATA: 13,
  DATA_LOCATION: 14,
} as const;

const EXTERNAL_LOCATION = 1;

/** Opens each external data file once per decode; close() when the model is decoded. */
export class ExternalDataFiles {
  readonly #fds = new Map<string, number>();

  constructor(readonly baseDir: string | undefined) {}

  read(tensorName: string, entries: Map<string, string>, target: Uint8Array): void {
    const location = entries.get('location');
    if (location === undefined) throw new OnnxDecodeError(`tensor "${tensorName}": external data without a "location" entry`);
    if (this.baseDir === undefined) {
      throw new OnnxDecodeError(
        `tensor "${tensorName}" keeps its data in the external file "${location}"; decode the model with baseDir set to the model file's directory`,
      );
    }
    const path = resolve(this.baseDir, location);
    const fd = this.#open(path, tensorName);
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : fstatSync(fd).size - offset;
    if (length !== target.length) {
      throw new OnnxDecodeError(`tensor "${tensorName}": external data in ${path} holds ${length} bytes, the tensor needs ${target.length}`);
    }
    let done = 0;
    while (done < length) {
      const n = readSync(fd, target, done, length - done, offset + done);
      if (n === 0) throw new OnnxDecodeError(`tensor "${tensorName}": external file ${path} ends before offset ${offset + length}`);
      done += n;
    }
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }

  #open(path: string, tensorName: string): number {
    let fd = this.#fds.get(path);
    if (fd === undefined) {
      try {
        fd = openSync(path, 'r');
      } catch (error) {
        throw new OnnxDecodeError(`tensor "${tensorName}": cannot open external data file ${path}: ${(error as Error).message}`);
      }
      this.#fds.set(path, fd);
    }
    return fd;
  }
}

type Span = {start: number; end: number};

export function decodeTensor(r: ProtoReader, external: ExternalDataFiles): Tensor {
  let name = '';
  let dataType: number = DataType.UNDEFINED;
  const dims: number[] = [];
  let docString: string | undefined;
  let raw: Uint8Array | undefined;
  let externalEntries: Map<string, string> | undefined;
  let dataLocation = 0;
  const strings: string[] = [];
  // Payload extents of the typed fields; a packed run and a single unpacked element decode alike.
  const spans = new Map<number, Span[]>();
  while (!r.done) {
    const {field, wire} = r.tag();
    switch (field) {
      case Field.DIMS:
        if (wire === WireType.LENGTH_DELIMITED) {
          const packed = r.message();
          while (!packed.done) dims.push(packed.int64());
        } else dims.push(r.int64());
        break;
      case Field.DATA_TYPE:
        dataType = r.uint32();
        break;
      case Field.NAME:
        name = r.string();
        break;
      case Field.DOC_STRING:
        docString = r.string();
        break;
      case Field.RAW_DATA:
        raw = r.bytesView();
        break;
      case Field.STRING_DATA:
        strings.push(r.string());
        break;
      case Field.DATA_LOCATION:
        dataLocation = r.uint32();
        break;
      case Field.EXTERNAL_DATA: {
        const entry = r.message();
        const kv = decodeStringEntry(entry);
        (externalEntries ??= new Map()).set(kv.key, kv.value);
        break;
      }
      case Field.SEGMENT:
        throw new OnnxDecodeError(`tensor "${name}": segmented tensors are not supported`);
      case Field.FLOAT_DATA:
      case Field.INT32_DATA:
      case Field.INT64_DATA:
      case Field.DOUBLE_DATA:
      case Field.UINT64_DATA: {
        const start = r.pos;
        if (wire === WireType.LENGTH_DELIMITED) {
          const span = r.span();
          pushSpan(spans, field, span);
        } else {
          r.skip(wire);
          pushSpan(spans, field, {start, end: r.pos});
        }
        break;
      }
      default:
        r.skip(wire);
    }
  }

  const tensor: Tensor = {name, dataType, dims, data: strings};
  if (docString !== undefined) tensor.docString = docString;
  const count = elementCount(dims);
  if (dataType === DataType.STRING) {
    if (strings.length !== count) throw countMismatch(name, dims, strings.length);
    return tensor;
  }
  const Storage = storageFor(dataType);
  if (Storage === undefined) throw new OnnxDecodeError(`tensor "${name}": ${dataTypeName(dataType)} tensors are not supported`);
  const byteLength = count * Storage.BYTES_PER_ELEMENT;
  // Sizes are checked before allocating, so corrupt dims cannot trigger a huge allocation.
  if (dataLocation === EXTERNAL_LOCATION) {
    const data = new Storage(count);
    external.read(name, externalEntries ?? new Map(), tensorBytes(data));
    tensor.data = data;
    tensor.externalLocation = externalEntries?.get('location') ?? '';
  } else if (raw !== undefined) {
    if (raw.length !== byteLength) throw new OnnxDecodeError(`tensor "${name}": raw_data holds ${raw.length} bytes, dims [${dims.join(', ')}] need ${byteLength}`);
    const data = new Storage(count);
    tensorBytes(data).set(raw);
    tensor.data = data;
  } else {
    const layout = typedLayout(dataType);
    const fieldSpans = spans.get(layout.field) ?? [];
    const found = layout.width > 0 ? spanBytes(fieldSpans) / layout.width : countAllVarints(r.bytes, fieldSpans);
    if (found !== count) throw countMismatch(name, dims, found);
    const data = new Storage(count);
    if (layout.width > 0) copySpans(r.bytes, fieldSpans, tensorBytes(data));
    else readVarints(r.bytes, fieldSpans, data);
    tensor.data = data;
  }
  return tensor;
}

function pushSpan(spans: Map<number, Span[]>, field: number, span: Span): void {
  const list = spans.get(field);
  if (list) list.push(span);
  else spans.set(field, [span]);
}

function countMismatch(name: string, dims: number[], found: number): OnnxDecodeError {
  return new OnnxDecodeError(`tensor "${name}": dims [${dims.join(', ')}] need ${elementCount(dims)} elements, the data holds ${found}`);
}

/** Which typed field onnx.proto assigns to a data type, and its element width if fixed-size (0 = varints). */
function typedLayout(dataType: number): {field: number; width: number} {
  switch (dataType) {
    case DataType.FLOAT:
      return {field: Field.FLOAT_DATA, width: 4};
    case DataType.DOUBLE:
      return {field: Field.DOUBLE_DATA, width: 8};
    case DataType.INT64:
      return {field: Field.INT64_DATA, width: 0};
    case DataType.UINT64:
    case DataType.UINT32:
      return {field: Field.UINT64_DATA, width: 0};
    default:
      // int32_data carries every narrower integer type, BOOL and the bits of FLOAT16/BFLOAT16/FLOAT8.
      return {field: Field.INT32_DATA, width: 0};
  }
}

function spanBytes(spans: Span[]): number {
  return spans.reduce((sum, {start, end}) => sum + end - start, 0);
}

function countAllVarints(bytes: Uint8Array, spans: Span[]): number {
  return spans.reduce((sum, {start, end}) => sum + countVarints(bytes, start, end), 0);
}

function copySpans(bytes: Uint8Array, spans: Span[], target: Uint8Array): void {
  let offset = 0;
  for (const {start, end} of spans) {
    target.set(bytes.subarray(start, end), offset);
    offset += end - start;
  }
}

function readVarints(bytes: Uint8Array, spans: Span[], data: NumericTensorData): void {
  // 64-bit elements are written as two 32-bit halves, avoiding a BigInt per element.
  const wide = data instanceof BigInt64Array || data instanceof BigUint64Array;
  const halves = wide ? new Uint32Array(data.buffer, data.byteOffset, data.length * 2) : undefined;
  const narrow = data as Exclude<NumericTensorData, BigInt64Array | BigUint64Array>;
  let i = 0;
  for (const {start, end} of spans) {
    const r = new ProtoReader(bytes, start, end);
    while (!r.done) {
      r.varint64();
      if (halves) {
        halves[2 * i] = r.lo;
        halves[2 * i + 1] = r.hi;
      } else narrow[i] = r.lo | 0;
      i++;
    }
  }
}

export function decodeStringEntry(r: ProtoReader): {key: string; value: string} {
  let key = '';
  let value = '';
  while (!r.done) {
    const {field, wire} = r.tag();
    if (field === 1) key = r.string();
    else if (field === 2) value = r.string();
    else r.skip(wire);
  }
  return {key, value};
}

/** Where encodeTensor puts a tensor's bytes instead of raw_data; undefined keeps them inline. */
export interface ExternalDataSink {
  place(bytes: Uint8Array): {location: string; offset: number; length: number} | undefined;
}

export function encodeTensor(tensor: Tensor, external?: ExternalDataSink): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of tensor.dims) w.int64Field(Field.DIMS, d);
  w.tag(Field.DATA_TYPE, WireType.VARINT).uint32(tensor.dataType);
  const {data} = tensor;
  if (Array.isArray(data)) for (const s of data) w.stringField(Field.STRING_DATA, s);
  w.stringField(Field.NAME, tensor.name);
  const placed = Array.isArray(data) ? undefined : external?.place(tensorBytes(data));
  if (!Array.isArray(data) && placed === undefined) w.bytesField(Field.RAW_DATA, tensorBytes(data));
  if (tensor.docString !== undefined) w.stringField(Field.DOC_STRING, tensor.docString);
  if (placed !== undefined) {
    for (const [key, value] of [['location', placed.location], ['offset', String(placed.offset)], ['length', String(placed.length)]] as const) {
      w.messageField(Field.EXTERNAL_DATA, new ProtoWriter().stringField(1, key).stringField(2, value));
    }
    w.tag(Field.DATA_LOCATION, WireType.VARINT).uint32(EXTERNAL_LOCATION);
  }
  return w;
}
