// Image resizing that reproduces Pillow's Image.resize for 8-bit images (Resample.c): separable
// convolution with the filter stretched by the downscale factor (antialiasing), coefficients in
// 22-bit fixed point, horizontal pass first, each pass rounded and clipped to uint8. timm's eval
// transform resizes PIL images, so matching Pillow bit for bit keeps axx's inputs equal to timm's.
// Only the pixels of the requested crop window are computed.

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

/** For each output position: first input index, tap count, and fixed-point weights (`taps` wide). */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  taps: number;
}

function coefficients(inSize: number, outSize: number, interpolation: Interpolation): Coefficients {
  const filter = FILTERS[interpolation];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const row = new Float64Array(taps);
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
      weights[o * taps + t] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    first[o] = lo;
    count[o] = n;
  }
  return {first, count, weights, taps};
}

function clip8(sum: number): number {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/**
 * One pass of the separable filter: for output positions o in [from, from+n) and lanes i, sums the
 * taps src[base + (first[o] + t)·stride + i] into dst[dstBase + (o - from)·lanes + i].
 * Locals instead of property reads in the inner loop: this is the hot path of image loading.
 */
function convolve(
  src: Uint8Array,
  base: number,
  stride: number,
  k: Coefficients,
  from: number,
  n: number,
  dst: Uint8Array,
  dstBase: number,
  lanes: number,
): void {
  const {first, count, weights, taps} = k;
  for (let j = 0; j < n; j++) {
    const o = from + j;
    const start = base + first[o]! * stride;
    const tapCount = count[o]!;
    const w0 = o * taps;
    const dstAt = dstBase + j * lanes;
    for (let i = 0; i < lanes; i++) {
      let sum = ONE / 2;
      for (let t = 0; t < tapCount; t++) sum += src[start + t * stride + i]! * weights[w0 + t]!;
      dst[dstAt + i] = clip8(sum);
    }
  }
}

export interface CropWindow {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Reuses its scratch buffers across images (first touches of fresh memory are slow here). */
export class Resampler {
  #rows = new Uint8Array(0);

  /**
   * Resizes `src` (width×height, `channels` interleaved bytes per pixel) to outWidth×outHeight as
   * Pillow would, and writes only `crop` of the result into `out` (crop.width×crop.height×channels).
   */
  resizeCrop(
    src: Uint8Array,
    width: number,
    height: number,
    channels: number,
    outWidth: number,
    outHeight: number,
    crop: CropWindow,
    interpolation: Interpolation,
    out: Uint8Array,
  ): void {
    const horizontal = outWidth !== width;
    const vertical = outHeight !== height;
    const h = horizontal ? coefficients(width, outWidth, interpolation) : undefined;
    const v = vertical ? coefficients(height, outHeight, interpolation) : undefined;
    // Source rows the vertical pass reads for the crop's rows.
    const firstRow = v ? v.first[crop.top]! : crop.top;
    const lastRow = v ? v.first[crop.top + crop.height - 1]! + v.count[crop.top + crop.height - 1]! : crop.top + crop.height;
    const rowCount = lastRow - firstRow;
    const rowBytes = crop.width * channels;
    if (this.#rows.length < rowCount * rowBytes) this.#rows = new Uint8Array(rowCount * rowBytes);
    const rows = this.#rows;

    // Horizontal pass: crop columns of every needed source row.
    for (let r = 0; r < rowCount; r++) {
      const srcRow = (firstRow + r) * width * channels;
      const outRow = r * rowBytes;
      if (!h) {
        rows.set(src.subarray(srcRow + crop.left * channels, srcRow + (crop.left + crop.width) * channels), outRow);
        continue;
      }
      convolve(src, srcRow, channels, h, crop.left, crop.width, rows, outRow, channels);
    }
    // Vertical pass over the horizontally resized rows: the same convolution with a row stride.
    for (let y = 0; y < crop.height; y++) {
      const oy = crop.top + y;
      if (!v) {
        out.set(rows.subarray((oy - firstRow) * rowBytes, (oy - firstRow + 1) * rowBytes), y * rowBytes);
        continue;
      }
      convolve(rows, -firstRow * rowBytes, rowBytes, v, oy, 1, out, y * rowBytes, rowBytes);
    }
  }
}
