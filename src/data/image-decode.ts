// JPEG/PNG files to packed 8-bit pixels, told apart by their magic bytes (not the extension).
// Colour images become RGB with alpha dropped, as PIL's convert('RGB') does; one channel is
// PIL's convert('L') luma (ITU-R 601-2 in 16-bit fixed point).
import jpeg from 'jpeg-js';
import {PNG} from 'pngjs';
import {DataError} from './data-error.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** width×height pixels, `channels` bytes each. Reused by the next decode of the same decoder. */
  pixels: Uint8Array;
}

function decodeRgba(bytes: Uint8Array, file: string): {width: number; height: number; data: Uint8Array} {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) return PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (isJpeg) return jpeg.decode(bytes, {useTArray: true, formatAsRGBA: true});
  } catch (error) {
    throw new DataError(`cannot decode ${isPng ? 'PNG' : 'JPEG'}: ${(error as Error).message}`, file);
  }
  throw new DataError('not a JPEG or PNG image (unknown magic bytes)', file, 'image folders hold .jpg/.jpeg/.png files, one sub-folder per class');
}

export class ImageDecoder {
  #pixels = new Uint8Array(0);

  constructor(readonly channels: 1 | 3) {}

  decode(bytes: Uint8Array, file: string): DecodedImage {
    const {width, height, data} = decodeRgba(bytes, file);
    const count = width * height;
    if (this.#pixels.length < count * this.channels) this.#pixels = new Uint8Array(count * this.channels);
    const pixels = this.#pixels;
    if (this.channels === 3) {
      for (let i = 0; i < count; i++) {
        pixels[3 * i] = data[4 * i]!;
        pixels[3 * i + 1] = data[4 * i + 1]!;
        pixels[3 * i + 2] = data[4 * i + 2]!;
      }
    } else {
      for (let i = 0; i < count; i++) pixels[i] = (data[4 * i]! * 19595 + data[4 * i + 1]! * 38470 + data[4 * i + 2]! * 7471 + 0x8000) >> 16;
    }
    return {width, height, pixels: pixels.subarray(0, count * this.channels)};
  }
}
