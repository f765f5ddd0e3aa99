// Image resizing that reproduces Pillow's Image.resize for 8-bit images (Resample.c): separable
// convolution with the filter stretched by the downscale factor (antialiasing), coefficients in
// 22-bit fixed point, horizontal pass first, each pass rounded and clipped to uint8. timm's eval
// transform resizes PIL images, so matching Pillow bit for bit keeps axx's inputs equal to timm's.
// Only the pixels of the requested crop window are computed, in int32 sums as Pillow's (its INT32 ss), by
// the WebAssembly SIMD kernels of resample-kernels.ts; the tables they use are made here.

import {PRECISION_BITS, resampleKernels} from './resample-kernels.js';

export type Interpolation = 'bicubic' | 'bilinear';

const FILTERS: Record<Interpolation, {support: number; weight(x: number): number}> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  bicubic: {
    support: 2,
    // Keys' cubic with a = -0.5, as Pillow.
    weight: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
};

const ONE = 2 ** PRECISION_BITS;

/**
 * For each output position o: the first of the `taps` inputs it reads, and their fixed-point weights
 * (weights[o·taps + t] for input first[o] + t). Every position reads the same number of inputs, so the
 * kernels loop once per tap count: windows narrower than the widest are padded with zero weights, shifted left at
 * the far edge to stay inside the input. Zeros add nothing, so the sums are Pillow's.
 */
export interface Coefficients {
  first: Int32Array;
  weights: Int32Array;
  taps: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for resizing inSize samples to outSize. */
export function coefficients(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
  const filter = FILTERS[interpolation];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const windowStart = new Int32Array(outSize);
  const windowSize = new Int32Array(outSize);
  const pillowWeights = new Int32Array(outSize * maxTaps);
  const row = new Float64Array(maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - lo;
    let total = 0;
    for (let t = 0; t < n; t++) {
      row[t] = filter.weight((t + lo - center + 0.5) / filterScale);
      total += row[t]!;
    }
    for (let t = 0; t < n; t++) {
      const w = total !== 0 ? row[t]! / total : row[t]!;
      pillowWeights[o * maxTaps + t] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    windowStart[o] = lo;
    windowSize[o] = n;
  }
  // The widest window is at most inSize wide, so shifting a window to end at inSize keeps it inside.
  const taps = Math.max(...windowSize);
  const first = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    first[o] = Math.min(windowStart[o]!, inSize - taps);
    const shift = windowStart[o]! - first[o]!;
    for (let t = 0; t < windowSize[o]!; t++) weights[o * taps + shift + t] = pillowWeights[o * maxTaps + t]!;
  }
  return {first, weights, taps};
}

/** The pass of a size that does not change (Pillow skips it): each output is its input with weight one, (v·ONE + ONE/2) >> 22 = v. */
function identity(size: number): Coefficients {
  return {first: Int32Array.from({length: size}, (_, i) => i), weights: new Int32Array(size).fill(ONE), taps: 1};
}

/** Columns [left, left + width) of rows [top, top + height). */
export interface PixelWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Part of an image: its whole size, and the window its pixels hold. */
export interface WindowedImage {
  width: number;
  height: number;
  window: PixelWindow;
  /** window.height rows of window.width pixels, `channels` interleaved bytes each. */
  pixels: Uint8Array;
}

/** Coefficient tables kept per geometry: a folder's images share a few sizes, and recomputing them per image costs filter evaluations and fresh memory. */
const KEPT_GEOMETRIES = 64;

/** Bytes of slack after each region of the kernels' memory (they read and write up to 7 past), 16-aligned. */
const SLACK = 16;

/** Reuses its kernels' memory and coefficient tables across images (first touches of fresh memory are slow here). */
export class Resampler {
  readonly #kernels = resampleKernels();
  readonly #coefficients = new Map<string, Coefficients>();

  #coefficientsFor(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
    const key = `${interpolation} ${inSize} ${outSize}`;
    let k = this.#coefficients.get(key);
    if (k === undefined) {
      k = inSize === outSize ? identity(inSize) : coefficients(inSize, outSize, interpolation);
      if (this.#coefficients.size >= KEPT_GEOMETRIES) this.#coefficients.delete(this.#coefficients.keys().next().value!);
      this.#coefficients.set(key, k);
    }
    return k;
  }

  /** The source pixels the crop of a width×height image resized to outWidth×outHeight reads: all it needs decoded. */
  sourceWindow(width: number, height: number, outWidth: number, outHeight: number, crop: PixelWindow, interpolation: Interpolation): PixelWindow {
    const h = this.#coefficientsFor(width, outWidth, interpolation);
    const v = this.#coefficientsFor(height, outHeight, interpolation);
    const [left, top] = [h.first[crop.left]!, v.first[crop.top]!];
    return {left, top, width: h.first[crop.left + crop.width - 1]! + h.taps - left, height: v.first[crop.top + crop.height - 1]! + v.taps - top};
  }

  /**
   * Resizes `src` (its pixels holding at least sourceWindow(…)) to outWidth×outHeight as Pillow would, and
   * writes only `crop` of the result into `out`, planar (channels×crop.height×crop.width).
   */
  resizeCrop(
    src: WindowedImage,
    channels: 1 | 3,
    outWidth: number,
    outHeight: number,
    crop: PixelWindow,
    interpolation: Interpolation,
    out: Uint8Array,
  ): void {
    const {width, height, window, pixels} = src;
    const h = this.#coefficientsFor(width, outWidth, interpolation);
    const v = this.#coefficientsFor(height, outHeight, interpolation);
    // Source rows the vertical pass reads for the crop's rows.
    const firstRow = v.first[crop.top]!;
    const lastRow = v.first[crop.top + crop.height - 1]! + v.taps;
    const rowCount = lastRow - firstRow;
    const srcStride = window.width * channels;
    const rowLength = crop.width;
    const planeSize = rowCount * rowLength;
    const outPlane = crop.height * rowLength;

    // The kernels' memory: coefficients of the crop's columns and rows, the source rows they read, the
    // horizontally resized rows (three planes) and the output planes.
    let end = 0;
    const region = (bytes: number) => {
      const at = end;
      end = at + Math.ceil((bytes + SLACK) / 16) * 16;
      return at;
    };
    const hFirst = region(4 * crop.width);
    const hWeights = region(4 * crop.width * h.taps);
    const vFirst = region(4 * crop.height);
    const vWeights = region(4 * crop.height * v.taps);
    const srcAt = region(rowCount * srcStride);
    const rowsAt = region(3 * planeSize);
    const outAt = region(channels * outPlane);
    const {memory, horizontal, vertical} = this.#kernels;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    const bytes = new Uint8Array(memory.buffer);
    const ints = new Int32Array(memory.buffer);
    for (let x = 0; x < crop.width; x++) ints[hFirst / 4 + x] = h.first[crop.left + x]! - window.left;
    ints.set(h.weights.subarray(crop.left * h.taps, (crop.left + crop.width) * h.taps), hWeights / 4);
    for (let y = 0; y < crop.height; y++) ints[vFirst / 4 + y] = (v.first[crop.top + y]! - firstRow) * rowLength;
    ints.set(v.weights.subarray(crop.top * v.taps, (crop.top + crop.height) * v.taps), vWeights / 4);
    bytes.set(pixels.subarray((firstRow - window.top) * srcStride, (lastRow - window.top) * srcStride), srcAt);

    horizontal(srcAt, srcStride, rowCount, crop.width, hFirst, hWeights, h.taps, channels, rowsAt, rowLength, planeSize);
    for (let c = 0; c < channels; c++) vertical(rowsAt + c * planeSize, rowLength, crop.height, vFirst, vWeights, v.taps, outAt + c * outPlane);
    out.set(bytes.subarray(outAt, outAt + channels * outPlane));
  }
}
