// Image resizing that reproduces Pillow's Image.resize for 8-bit images (Resample.c): separable
// convolution with the filter stretched by the downscale factor (antialiasing), coefficients in
// 22-bit fixed point, horizontal pass first, each pass rounded and clipped to uint8. timm's eval
// transform resizes PIL images, so matching Pillow bit for bit keeps axx's inputs equal to timm's.
// Only the pixels of the requested crop window are computed, in int32 sums as Pillow's (its INT32 ss).

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

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
/** Pillow's rounding: half of ONE added to every sum. */
const HALF = ONE / 2;

/**
 * For each output position o: the first of the `taps` inputs it reads, and their fixed-point weights
 * (weights[o·taps + t] for input first[o] + t). Every position reads the same number of inputs, so the hot
 * loops have one trip count: windows narrower than the widest are padded with zero weights, shifted left at
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

/** Pillow's clip8: the fixed-point sum (rounding half already added) to a byte. */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Horizontal pass, 3 interleaved lanes in, for two source rows at once (`rowStep` bytes apart; 0 for one row
 * twice): output columns [from, from+n) of the rows at `srcRow`, written planar (lane c of the first row at
 * dst[c·planeSize + dstAt + j], of the second `dstStep` further). Six sums per weight read halve the loop's overhead.
 */
function horizontal3(src: Uint8Array, srcRow: number, rowStep: number, k: Coefficients, from: number, n: number, dst: Uint8Array, dstAt: number, dstStep: number, planeSize: number): void {
  const {first, weights, taps} = k;
  for (let j = 0; j < n; j++) {
    const o = from + j;
    let w = o * taps;
    const end = w + taps;
    let s = srcRow + 3 * first[o]!;
    let r = HALF;
    let g = HALF;
    let b = HALF;
    let r2 = HALF;
    let g2 = HALF;
    let b2 = HALF;
    for (; w < end; w++, s += 3) {
      const weight = weights[w]!;
      r += src[s]! * weight;
      g += src[s + 1]! * weight;
      b += src[s + 2]! * weight;
      r2 += src[s + rowStep]! * weight;
      g2 += src[s + rowStep + 1]! * weight;
      b2 += src[s + rowStep + 2]! * weight;
    }
    const at = dstAt + j;
    dst[at] = clip8(r);
    dst[planeSize + at] = clip8(g);
    dst[2 * planeSize + at] = clip8(b);
    dst[dstStep + at] = clip8(r2);
    dst[dstStep + planeSize + at] = clip8(g2);
    dst[dstStep + 2 * planeSize + at] = clip8(b2);
  }
}

/** Horizontal pass, one lane: output columns [from, from+n) of the source row at `srcRow`, into dst[dstAt + j]. */
function horizontal1(src: Uint8Array, srcRow: number, k: Coefficients, from: number, n: number, dst: Uint8Array, dstAt: number): void {
  const {first, weights, taps} = k;
  for (let j = 0; j < n; j++) {
    const o = from + j;
    let w = o * taps;
    const end = w + taps;
    let s = srcRow + first[o]!;
    let sum = HALF;
    for (; w < end; w++, s++) sum += src[s]! * weights[w]!;
    dst[dstAt + j] = clip8(sum);
  }
}

/**
 * Vertical pass of output row `o` of one plane whose rows are `rowLength` bytes and start with source row
 * `firstRow` at `planeAt`. Four columns at a time share each weight read; the last group overlaps the one
 * before when rowLength is not a multiple of 4 (its columns are computed twice, to the same bytes).
 */
function vertical(src: Uint8Array, planeAt: number, rowLength: number, firstRow: number, k: Coefficients, o: number, dst: Uint8Array, dstAt: number): void {
  const w0 = o * k.taps;
  const end = w0 + k.taps;
  const weights = k.weights;
  const rowAt = planeAt + (k.first[o]! - firstRow) * rowLength;
  const lastGroup = Math.max(0, rowLength - 4);
  // Rows shorter than 4 repeat their last column.
  const x1 = Math.min(1, rowLength - 1);
  const x2 = Math.min(2, rowLength - 1);
  const x3 = Math.min(3, rowLength - 1);
  for (let group = 0; group < rowLength; group += 4) {
    const x = Math.min(group, lastGroup);
    let s0 = HALF;
    let s1 = HALF;
    let s2 = HALF;
    let s3 = HALF;
    for (let w = w0, s = rowAt + x; w < end; w++, s += rowLength) {
      const weight = weights[w]!;
      s0 += src[s]! * weight;
      s1 += src[s + x1]! * weight;
      s2 += src[s + x2]! * weight;
      s3 += src[s + x3]! * weight;
    }
    dst[dstAt + x] = clip8(s0);
    dst[dstAt + x + x1] = clip8(s1);
    dst[dstAt + x + x2] = clip8(s2);
    dst[dstAt + x + x3] = clip8(s3);
  }
}

export interface CropWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Coefficient tables kept per geometry: a folder's images share a few sizes, and recomputing them per image costs filter evaluations and fresh memory. */
const KEPT_GEOMETRIES = 64;

/** Reuses its scratch buffers and coefficient tables across images (first touches of fresh memory are slow here). */
export class Resampler {
  #rows = new Uint8Array(0);
  readonly #coefficients = new Map<string, Coefficients>();

  #coefficientsFor(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
    const key = `${interpolation} ${inSize} ${outSize}`;
    let k = this.#coefficients.get(key);
    if (k === undefined) {
      k = coefficients(inSize, outSize, interpolation);
      if (this.#coefficients.size >= KEPT_GEOMETRIES) this.#coefficients.delete(this.#coefficients.keys().next().value!);
      this.#coefficients.set(key, k);
    }
    return k;
  }

  /**
   * Resizes `src` (width×height, `channels` interleaved bytes per pixel) to outWidth×outHeight as
   * Pillow would, and writes only `crop` of the result into `out`, planar (channels×crop.height×crop.width).
   */
  resizeCrop(
    src: Uint8Array,
    width: number,
    height: number,
    channels: 1 | 3,
    outWidth: number,
    outHeight: number,
    crop: CropWindow,
    interpolation: Interpolation,
    out: Uint8Array,
  ): void {
    const h = outWidth !== width ? this.#coefficientsFor(width, outWidth, interpolation) : undefined;
    const v = outHeight !== height ? this.#coefficientsFor(height, outHeight, interpolation) : undefined;
    // Source rows the vertical pass reads for the crop's rows.
    const firstRow = v ? v.first[crop.top]! : crop.top;
    const lastRow = v ? v.first[crop.top + crop.height - 1]! + v.taps : crop.top + crop.height;
    const rowCount = lastRow - firstRow;
    const rowLength = crop.width;
    const planeSize = rowCount * rowLength;
    if (this.#rows.length < channels * planeSize) this.#rows = new Uint8Array(channels * planeSize);
    // Horizontally resized (or cropped) rows, one plane per channel: the vertical pass then runs on one lane.
    const rows = this.#rows;
    for (let r = 0; r < rowCount; r++) {
      const srcRow = (firstRow + r) * width * channels;
      const at = r * rowLength;
      if (h && channels === 3) {
        // Rows in pairs; an odd last row is paired with itself (step 0).
        const next = r + 1 < rowCount ? 1 : 0;
        horizontal3(src, srcRow, next * width * 3, h, crop.left, crop.width, rows, at, next * rowLength, planeSize);
        r += next;
      } else if (h) horizontal1(src, srcRow, h, crop.left, crop.width, rows, at);
      else for (let c = 0; c < channels; c++) for (let x = 0; x < rowLength; x++) rows[c * planeSize + at + x] = src[srcRow + (crop.left + x) * channels + c]!;
    }
    const outPlane = crop.height * rowLength;
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < crop.height; y++) {
        const outAt = c * outPlane + y * rowLength;
        if (v) vertical(rows, c * planeSize, rowLength, firstRow, v, crop.top + y, out, outAt);
        else out.set(rows.subarray(c * planeSize + (crop.top + y - firstRow) * rowLength, c * planeSize + (crop.top + y - firstRow + 1) * rowLength), outAt);
      }
    }
  }
}
