// Minimal protobuf wire-format primitives for the ONNX codec: a cursor reader over one buffer and a
// chunked writer that appends large byte fields (tensor data) by reference instead of copying them.

export const WireType = {VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5} as const;

const TWO_POW_32 = 4294967296;

export class ProtoReader {
  pos: number;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key; returns the field number and wire type. */
  tag(): {field: number; wire: number} {
    const key = this.uint32();
    return {field: key >>> 3, wire: key & 7};
  }

  uint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.#byte();
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift === 28) result |= (b & 0x0f) << 28;
      if (b < 0x80) break;
      shift += 7;
      if (shift > 63) throw new Error(`malformed varint at byte ${this.pos}`);
    }
    return result >>> 0;
  }

  /** A varint as a signed 64-bit integer, exact while |value| < 2^53. */
  int64(): number {
    this.varint64();
    if (this.hi < 0x80000000) return this.hi * TWO_POW_32 + this.lo;
    // Negative: negate the two's complement halves so the sum stays exact.
    return -((~this.hi >>> 0) * TWO_POW_32 + (~this.lo >>> 0) + 1);
  }

  /** Low and high 32-bit halves of the last varint64() read, unsigned. */
  lo = 0;
  hi = 0;

  varint64(): void {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      const b = this.#byte();
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
      shift += 7;
      if (shift > 63) throw new Error(`malformed varint at byte ${this.pos}`);
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  float(): number {
    this.#need(4);
    const value = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return value;
  }

  double(): number {
    this.#need(8);
    const value = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's extent, advancing past it. */
  span(): {start: number; end: number} {
    const length = this.uint32();
    const start = this.pos;
    this.#need(length);
    this.pos += length;
    return {start, end: start + length};
  }

  /** A length-delimited field's bytes as a view (no copy). */
  bytesView(): Uint8Array {
    const {start, end} = this.span();
    return this.bytes.subarray(start, end);
  }

  string(): string {
    return textDecoder.decode(this.bytesView());
  }

  /** A sub-reader over a nested message. */
  message(): ProtoReader {
    const {start, end} = this.span();
    return new ProtoReader(this.bytes, start, end);
  }

  skip(wire: number): void {
    switch (wire) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.FIXED64:
        this.#need(8);
        this.pos += 8;
        return;
      case WireType.LENGTH_DELIMITED:
        this.span();
        return;
      case WireType.FIXED32:
        this.#need(4);
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported protobuf wire type ${wire} at byte ${this.pos}`);
    }
  }

  #byte(): number {
    if (this.pos >= this.end) throw new Error('truncated protobuf message');
    return this.bytes[this.pos++]!;
  }

  #need(length: number): void {
    if (this.pos + length > this.end) throw new Error('truncated protobuf message');
  }
}

/** Number of varints in bytes[start, end): one per byte without the continuation bit. */
export function countVarints(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) if (bytes[i]! < 0x80) count++;
  return count;
}

const textDecoder = new TextDecoder('utf-8', {fatal: false});
const textEncoder = new TextEncoder();

/**
 * Protobuf's hard limit: one serialized message (and so one length-delimited field) is at most
 * 2^31 - 1 bytes; onnxruntime refuses anything longer, and a length past 2^32 would not even fit its varint.
 */
export const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

/** A message would pass protobuf's 2 GiB limit; `bytes` is how long it would have been. */
export class ProtobufLimitError extends Error {
  override name = 'ProtobufLimitError';
  constructor(readonly bytes: number) {
    super(`the message would be ${bytes} bytes, past protobuf's limit of ${MAX_MESSAGE_BYTES} bytes (2 GiB)`);
  }
}

function checkLength(bytes: number): number {
  if (bytes > MAX_MESSAGE_BYTES) throw new ProtobufLimitError(bytes);
  return bytes;
}

/** Byte fields at least this long are referenced, not copied, until finish(). */
const BY_REFERENCE_BYTES = 1024;

export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #buf = new Uint8Array(256);
  #pos = 0;
  #flushedLength = 0;
  readonly #scratch = new DataView(new ArrayBuffer(8));

  get length(): number {
    return this.#flushedLength + this.#pos;
  }

  tag(field: number, wire: number): this {
    return this.uint32((field << 3) | wire);
  }

  uint32(value: number): this {
    this.#reserve(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buf[this.#pos++] = v;
    return this;
  }

  /** A signed integer as a 64-bit varint (negative values take ten bytes, as protobuf requires). */
  int64(value: number): this {
    if (!Number.isSafeInteger(value)) throw new Error(`int64 field value ${value} is not a safe integer`);
    if (value >= 0 && value < 0x80000000) return this.uint32(value);
    const hi = Math.floor(value / TWO_POW_32);
    return this.varint64(value - hi * TWO_POW_32, hi >>> 0);
  }

  /** A varint from unsigned 32-bit halves. */
  varint64(lo: number, hi: number): this {
    this.#reserve(10);
    let l = lo >>> 0;
    let h = hi >>> 0;
    while (h !== 0 || l >= 0x80) {
      this.#buf[this.#pos++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    this.#buf[this.#pos++] = l;
    return this;
  }

  float(value: number): this {
    this.#scratch.setFloat32(0, value, true);
    return this.#raw(new Uint8Array(this.#scratch.buffer, 0, 4));
  }

  double(value: number): this {
    this.#scratch.setFloat64(0, value, true);
    return this.#raw(new Uint8Array(this.#scratch.buffer, 0, 8));
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, WireType.LENGTH_DELIMITED).uint32(checkLength(bytes.length));
    if (bytes.length < BY_REFERENCE_BYTES) return this.#raw(bytes);
    this.#flush();
    this.#chunks.push(bytes);
    this.#flushedLength += bytes.length;
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, textEncoder.encode(value));
  }

  int64Field(field: number, value: number): this {
    return this.tag(field, WireType.VARINT).int64(value);
  }

  floatField(field: number, value: number): this {
    return this.tag(field, WireType.FIXED32).float(value);
  }

  /** Appends a nested message written by `child` (its chunks are moved, not copied). */
  messageField(field: number, child: ProtoWriter): this {
    this.tag(field, WireType.LENGTH_DELIMITED).uint32(checkLength(child.length));
    child.#flush();
    this.#flush();
    for (const chunk of child.#chunks) this.#chunks.push(chunk);
    this.#flushedLength += child.length;
    return this;
  }

  /** The serialized bytes; throws ProtobufLimitError past 2 GiB (before allocating them). */
  finish(): Uint8Array {
    checkLength(this.length);
    this.#flush();
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const out = new Uint8Array(this.#flushedLength);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    return this;
  }

  #reserve(extra: number): void {
    if (this.#pos + extra <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + extra));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }

  #flush(): void {
    if (this.#pos === 0) return;
    this.#chunks.push(this.#buf.subarray(0, this.#pos));
    this.#flushedLength += this.#pos;
    this.#buf = new Uint8Array(256);
    this.#pos = 0;
  }
}
