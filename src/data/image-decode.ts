// JPEG/PNG files to packed 8-bit pixels, told apart by their magic bytes (not the extension).
// Colour images become RGB with alpha dropped, as PIL's convert('RGB') does; one channel is
// PIL's convert('L') luma (ITU-R 601-2 in 16-bit fixed point). YCbCr JPEGs get libjpeg's colour
// reconstruction (jpeg-color.ts), so pixels stay close to what Pillow decodes.
import jpeg from 'jpeg-js';
import {PNG} from 'pngjs';
import {DataError} from './data-error.js';
import {jpegLayout, libjpegColours} from './jpeg-color.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** width×height pixels, `channels` bytes each. Reused by the next decode of the same decoder. */
  pixels: Uint8Array;
}

/** Pixels with `stride` interleaved bytes each: RGBA (4) or RGB (3). */
interface Decoded {
  width: number;
  height: number;
  data: Uint8Array;
  stride: 3 | 4;
}

/** `scratch(size)` lends reusable memory for the chroma planes. */
function decodeJpeg(bytes: Uint8Array, scratch: (size: number) => Uint8Array): Decoded {
  const layout = jpegLayout(bytes);
  if (layout === undefined) return {...jpeg.decode(bytes, {useTArray: true, formatAsRGBA: true}), stride: 4};
  const ycc = jpeg.decode(bytes, {useTArray: true, formatAsRGBA: false, colorTransform: false});
  if (ycc.width !== layout.width || ycc.height !== layout.height) return {...jpeg.decode(bytes, {useTArray: true, formatAsRGBA: true}), stride: 4};
  const rgb = new Uint8Array(ycc.data.length);
  libjpegColours(ycc.data, layout, rgb, scratch(2 * Math.ceil(layout.width / layout.h) * Math.ceil(layout.height / layout.v)));
  return {width: ycc.width, height: ycc.height, data: rgb, stride: 3};
}

export class ImageDecoder {
  #pixels = new Uint8Array(0);
  #chroma = new Uint8Array(0);

  constructor(readonly channels: 1 | 3) {}

  #decode(bytes: Uint8Array, file: string): Decoded {
    const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
    const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    const chromaScratch = (size: number) => {
      if (this.#chroma.length < size) this.#chroma = new Uint8Array(size);
      return this.#chroma;
    };
    try {
      if (isPng) return {...PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), stride: 4};
      if (isJpeg) return decodeJpeg(bytes, chromaScratch);
    } catch (error) {
      throw new DataError(`cannot decode ${isPng ? 'PNG' : 'JPEG'}: ${(error as Error).message}`, file);
    }
    throw new DataError('not a JPEG or PNG image (unknown magic bytes)', file, 'image folders hold .jpg/.jpeg/.png files, one sub-folder per class');
  }

  decode(bytes: Uint8Array, file: string): DecodedImage {
    const {width, height, data, stride} = this.#decode(bytes, file);
    const count = width * height;
    if (this.#pixels.length < count * this.channels) this.#pixels = new Uint8Array(count * this.channels);
    const pixels = this.#pixels;
    if (this.channels === 3) {
      for (let i = 0; i < count; i++) {
        pixels[3 * i] = data[stride * i]!;
        pixels[3 * i + 1] = data[stride * i + 1]!;
        pixels[3 * i + 2] = data[stride * i + 2]!;
      }
    } else {
      for (let i = 0; i < count; i++) pixels[i] = (data[stride * i]! * 19595 + data[stride * i + 1]! * 38470 + data[stride * i + 2]! * 7471 + 0x8000) >> 16;
    }
    return {width, height, pixels: pixels.subarray(0, count * this.channels)};
  }
}
