// NumPy .npy arrays: magic "\x93NUMPY", version, a little-endian header length, a Python-dict
// header {'descr': '<f4', 'fortran_order': False, 'shape': (N, ...)}, then the raw elements.
// Elements are read in ranges from a byte source, so a 30 GB array never has to fit in memory.
import {closeSync, openSync, readSync} from 'node:fs';
import {DataError} from './data-error.js';

/** Where an array's bytes come from: a file region (plain .npy, stored NPZ entry) or memory. */
export interface ByteSource {
  readonly length: number;
  read(position: number, into: Uint8Array): void;
  close(): void;
}

export function memoryBytes(bytes: Uint8Array): ByteSource {
  return {length: bytes.length, read: (position, into) => into.set(bytes.subarray(position, position + into.length)), close() {}};
}

/** `length` bytes of `file` starting at `base`. */
export function fileBytes(file: string, base: number, length: number): ByteSource {
  const fd = openSync(file, 'r');
  let open = true;
  return {
    length,
    read(position, into) {
      let done = 0;
      while (done < into.length) {
        const got = readSync(fd, into, done, into.length - done, base + position + done);
        if (got === 0) throw new DataError('file ended early', file);
        done += got;
      }
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

type ElementReader = (view: DataView, offset: number, littleEndian: boolean) => number;

const READERS: Record<string, {size: number; read: ElementReader}> = {
  f4: {size: 4, read: (v, o, le) => v.getFloat32(o, le)},
  f8: {size: 8, read: (v, o, le) => v.getFloat64(o, le)},
  i1: {size: 1, read: (v, o) => v.getInt8(o)},
  u1: {size: 1, read: (v, o) => v.getUint8(o)},
  b1: {size: 1, read: (v, o) => v.getUint8(o)},
  i2: {size: 2, read: (v, o, le) => v.getInt16(o, le)},
  u2: {size: 2, read: (v, o, le) => v.getUint16(o, le)},
  i4: {size: 4, read: (v, o, le) => v.getInt32(o, le)},
  u4: {size: 4, read: (v, o, le) => v.getUint32(o, le)},
  i8: {size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le))},
  u8: {size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le))},
};

export interface NpyArray {
  /** NumPy's dtype string, e.g. "<f4". */
  descr: string;
  shape: number[];
  /** Elements as numbers (integers of 64 bits lose precision past 2^53, irrelevant for labels and pixels). */
  readElements(start: number, out: Float32Array | Int32Array | Float64Array): void;
  close(): void;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Opens an NPY array held by `bytes`; `name` is used in messages (file, or archive:entry). */
export function openNpy(bytes: ByteSource, name: string): NpyArray {
  const fail = (message: string, hint?: string): never => {
    bytes.close();
    throw new DataError(message, name, hint);
  };
  const preamble = new Uint8Array(Math.min(12, bytes.length));
  bytes.read(0, preamble);
  if (preamble.length < 10 || MAGIC.some((b, i) => preamble[i] !== b)) fail('not an NPY file (bad magic number)', 'save arrays with numpy.save / numpy.savez');
  const major = preamble[6]!;
  const view = new DataView(preamble.buffer);
  if (major !== 1 && major !== 2 && major !== 3) fail(`NPY format version ${major} is not supported`);
  if (major > 1 && preamble.length < 12) fail('NPY header is truncated');
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerStart + headerLength > bytes.length) fail('NPY header is truncated');
  const headerBytes = new Uint8Array(headerLength);
  bytes.read(headerStart, headerBytes);
  const header = new TextDecoder().decode(headerBytes);

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`NPY header is not understood: ${header.trim()}`);
  if (fortran === 'True') fail('array is in Fortran order', 'save it C-contiguous: numpy.save(f, numpy.ascontiguousarray(a))');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`NPY shape (${shapeText}) is not a list of sizes`);
  const order = descr![0];
  const element = READERS[descr!.slice(1)];
  if (element === undefined || !'<>|='.includes(order!)) fail(`NPY dtype ${descr} is not supported`, `supported: float32/64, (u)int8/16/32/64, bool`);
  const littleEndian = order !== '>';
  const dataStart = headerStart + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataStart < count * element!.size) fail(`NPY data holds ${bytes.length - dataStart} bytes; shape (${shape.join(', ')}) of ${descr} needs ${count * element!.size}`);

  const kind = descr!.slice(1);
  const sameLayout = (out: Float32Array | Int32Array | Float64Array) =>
    littleEndian && ((kind === 'f4' && out instanceof Float32Array) || (kind === 'i4' && out instanceof Int32Array) || (kind === 'f8' && out instanceof Float64Array));
  let chunk = new Uint8Array(0);
  return {
    descr: descr!,
    shape,
    readElements(start, out) {
      if (start < 0 || start + out.length > count) throw new RangeError(`elements ${start}..${start + out.length} outside the ${count} of ${name}`);
      if (sameLayout(out)) {
        // Stored exactly as the output array holds it (little-endian float32/int32…): read straight in.
        bytes.read(dataStart + start * element!.size, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
        return;
      }
      const byteLength = out.length * element!.size;
      if (chunk.length < byteLength) chunk = new Uint8Array(byteLength);
      const window = chunk.subarray(0, byteLength);
      bytes.read(dataStart + start * element!.size, window);
      const data = new DataView(window.buffer, 0, byteLength);
      const {size, read} = element!;
      for (let i = 0; i < out.length; i++) out[i] = read(data, i * size, littleEndian);
    },
    close: () => bytes.close(),
  };
}

/** The header of an NPY file whose `shape` and dtype ("<f4", "<i4" …) are known before the data. */
export function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1: 10-byte preamble; header padded with spaces to a multiple of 64, ending in '\n'.
  const padded = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(10 + padded.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), 10);
  return out;
}
