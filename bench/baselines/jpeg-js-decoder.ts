// Bench baseline, not axx code: the JPEG decoder axx used when issue 14 asked for image loading ≥ 3× faster,
// copied from git (`git show 46546a9^:src/data/image-decode.ts` and `git show 46546a9^:src/data/jpeg-color.ts`)
// so bench/imagenet.bench.ts can measure today's path against it. jpeg-js decodes to YCbCr (colorTransform:
// false), libjpegColours redoes libjpeg's fancy upsampling and colour tables, then the pixels are copied into
// packed RGB. Only the JPEG, 3-channel path the bench times is kept (the PNG branch and convert('L') are left
// out); the code is otherwise unchanged. It is not bit-identical to Pillow (IDCT rounding), which is one reason
// it was replaced.
import jpeg from 'jpeg-js';

interface JpegLayout {
  width: number;
  height: number;
  /** Luma sampling factors relative to chroma (chroma components must be 1×1). */
  h: 1 | 2;
  v: 1 | 2;
}

const isStartOfFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Reads the frame header; undefined when the file is not a plain YCbCr JPEG this module handles. */
function jpegLayout(bytes: Uint8Array): JpegLayout | undefined {
  let at = 2;
  let layout: JpegLayout | undefined;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xda) return layout; // start of scan: the headers are over
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const body = at + 4;
    if (marker === 0xee) return undefined; // Adobe APP14: colour transform chosen by the file
    if (isStartOfFrame(marker)) {
      if (body + 6 > bytes.length || bytes[body + 5] !== 3) return undefined;
      const sampling = [0, 1, 2].map((c) => bytes[body + 6 + 3 * c + 1]!);
      const [luma, cb, cr] = sampling as [number, number, number];
      const h = luma >> 4;
      const v = luma & 15;
      if (cb !== 0x11 || cr !== 0x11 || (h !== 1 && h !== 2) || (v !== 1 && v !== 2) || (v === 2 && h === 1)) return undefined;
      layout = {height: (bytes[body + 1]! << 8) | bytes[body + 2]!, width: (bytes[body + 3]! << 8) | bytes[body + 4]!, h, v};
    }
    at += 2 + length;
  }
  return undefined;
}

const SCALE_BITS = 16;
const HALF = 1 << (SCALE_BITS - 1);
const fix = (x: number) => Math.floor(x * (1 << SCALE_BITS) + 0.5);
const crToR = Int32Array.from({length: 256}, (_, i) => (fix(1.402) * (i - 128) + HALF) >> SCALE_BITS);
const cbToB = Int32Array.from({length: 256}, (_, i) => (fix(1.772) * (i - 128) + HALF) >> SCALE_BITS);
const crToG = Int32Array.from({length: 256}, (_, i) => -fix(0.71414) * (i - 128));
const cbToG = Int32Array.from({length: 256}, (_, i) => -fix(0.34414) * (i - 128) + HALF);
const clamp = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : x);

/**
 * Rebuilds RGB from jpeg-js's un-transformed output `ycc` (width×height×3, chroma repeated over each
 * h×v block) into `rgb` (width×height×3), with libjpeg's fancy upsampling and colour tables.
 * `chroma` is scratch space of at least 2·ceil(width/h)·ceil(height/v) bytes.
 */
function libjpegColours(ycc: Uint8Array, layout: JpegLayout, rgb: Uint8Array, chroma: Uint8Array): void {
  const {width, height, h, v} = layout;
  const cw = Math.ceil(width / h);
  const ch = Math.ceil(height / v);
  // The native-resolution chroma planes: every h-th column and v-th row of the repeated output.
  const cbPlane = chroma.subarray(0, cw * ch);
  const crPlane = chroma.subarray(cw * ch, 2 * cw * ch);
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      const at = 3 * (cy * v * width + cx * h);
      cbPlane[cy * cw + cx] = ycc[at + 1]!;
      crPlane[cy * cw + cx] = ycc[at + 2]!;
    }
  }
  // One output row at a time: vertical 3:1 blend into column sums, then horizontal 3:1 blend.
  const sums = [new Int32Array(cw), new Int32Array(cw)];
  const rows = [new Int32Array(cw * h), new Int32Array(cw * h)];
  for (let y = 0; y < height; y++) {
    for (const [k, plane] of [cbPlane, crPlane].entries()) {
      const sum = sums[k]!;
      const row = rows[k]!;
      if (v === 2) {
        const near = (y >> 1) * cw;
        const far = Math.min(ch - 1, Math.max(0, y & 1 ? (y >> 1) + 1 : (y >> 1) - 1)) * cw;
        for (let c = 0; c < cw; c++) sum[c] = 3 * plane[near + c]! + plane[far + c]!;
      } else {
        for (let c = 0; c < cw; c++) sum[c] = plane[y * cw + c]!;
      }
      if (h === 1) {
        row.set(sum);
        continue;
      }
      // h2v2 sums carry weight 4 (>> 4 with rounding 8/7); h2v1 samples weight 1 (>> 2 with 1/2). Edges repeat.
      const [shift, evenRound, oddRound] = v === 2 ? [4, 8, 7] : [2, 1, 2];
      for (let c = 0; c < cw; c++) {
        const here = 3 * sum[c]!;
        row[2 * c] = (here + sum[c > 0 ? c - 1 : c]! + evenRound) >> shift;
        row[2 * c + 1] = (here + sum[c < cw - 1 ? c + 1 : c]! + oddRound) >> shift;
      }
    }
    const [cbRow, crRow] = rows as [Int32Array, Int32Array];
    for (let x = 0, at = 3 * y * width; x < width; x++, at += 3) {
      const luma = ycc[at]!;
      const cb = cbRow[x]!;
      const cr = crRow[x]!;
      rgb[at] = clamp(luma + crToR[cr]!);
      rgb[at + 1] = clamp(luma + ((cbToG[cb]! + crToG[cr]!) >> SCALE_BITS));
      rgb[at + 2] = clamp(luma + cbToB[cb]!);
    }
  }
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

/** The old decoder's JPEG → packed RGB path; `pixels` is reused by the next decode. */
export class JpegJsDecoder {
  #pixels = new Uint8Array(0);
  #chroma = new Uint8Array(0);

  decode(bytes: Uint8Array): {width: number; height: number; pixels: Uint8Array} {
    const chromaScratch = (size: number) => {
      if (this.#chroma.length < size) this.#chroma = new Uint8Array(size);
      return this.#chroma;
    };
    const {width, height, data, stride} = decodeJpeg(bytes, chromaScratch);
    const count = width * height;
    if (this.#pixels.length < count * 3) this.#pixels = new Uint8Array(count * 3);
    const pixels = this.#pixels;
    for (let i = 0; i < count; i++) {
      pixels[3 * i] = data[stride * i]!;
      pixels[3 * i + 1] = data[stride * i + 1]!;
      pixels[3 * i + 2] = data[stride * i + 2]!;
    }
    return {width, height, pixels: pixels.subarray(0, count * 3)};
  }
}
