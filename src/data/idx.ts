// IDX files (the MNIST family's format): big-endian header `0 0 <type> <ndims>`, ndims uint32
// sizes, then the data. Only unsigned bytes (type 0x08) occur in MNIST/Fashion-MNIST. Files may be
// gzip-compressed, as Debian ships Fashion-MNIST.
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {DataError} from './data-error.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const hint = 'expected an IDX file such as train-images-idx3-ubyte (MNIST format)';
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new DataError('not an IDX file (bad magic number)', file, hint);
  if (bytes[2] !== UBYTE) throw new DataError(`IDX element type 0x${bytes[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`, file);
  const ndims = bytes[3]!;
  const headerLength = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerLength) throw new DataError('IDX header is truncated', file, hint);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({length: ndims}, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(headerLength);
  if (data.length !== expected) throw new DataError(`IDX header promises ${dims.join('×')} = ${expected} bytes but the file holds ${data.length}`, file);
  return {dims, data};
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic. */
export function readIdxFile(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataError(`cannot read IDX file: ${(error as Error).message}`, file);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataError(`gzip data is damaged: ${(error as Error).message}`, file);
    }
  }
  return parseIdx(bytes, file);
}
