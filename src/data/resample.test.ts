import {describe, expect, it} from 'vitest';
import {coefficients, Resampler, type PixelWindow, type Interpolation} from './resample.js';

// The Pillow fixtures (image-folder.test.ts) pin the coefficients and the sums on one small image; here the
// fast passes (WebAssembly SIMD kernels, zero-padded windows, planar rows, crop and source windows, cached tables) are
// checked against Pillow's algorithm written plainly: resize the whole image horizontally, then vertically, then crop.

const PRECISION_BITS = 22;
const clip8 = (sum: number) => Math.min(255, Math.max(0, Math.floor(sum / 2 ** PRECISION_BITS)));

/** One separable pass over every line of `lines` lines of `inSize` samples (`step` apart, lines `lineStep` apart). */
function pass(src: Uint8Array, inSize: number, outSize: number, lines: number, lanes: number, across: boolean, interpolation: Interpolation): Uint8Array {
  const k = coefficients(inSize, outSize, interpolation);
  const out = new Uint8Array(outSize * lines * lanes);
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outSize; o++) {
      for (let c = 0; c < lanes; c++) {
        let sum = 2 ** (PRECISION_BITS - 1);
        for (let t = 0; t < k.taps; t++) {
          const i = k.first[o]! + t;
          sum += src[across ? (line * inSize + i) * lanes + c : (i * lines + line) * lanes + c]! * k.weights[o * k.taps + t]!;
        }
        out[across ? (line * outSize + o) * lanes + c : (o * lines + line) * lanes + c] = clip8(sum);
      }
    }
  }
  return out;
}

/** Pillow's resize (horizontal pass first, each pass skipped when its size is unchanged), cropped and made planar. */
function reference(src: Uint8Array, width: number, height: number, lanes: number, outWidth: number, outHeight: number, crop: PixelWindow, interpolation: Interpolation): Uint8Array {
  const wide = outWidth === width ? src : pass(src, width, outWidth, height, lanes, true, interpolation);
  const full = outHeight === height ? wide : pass(wide, height, outHeight, outWidth, lanes, false, interpolation);
  const out = new Uint8Array(lanes * crop.width * crop.height);
  for (let c = 0; c < lanes; c++) {
    for (let y = 0; y < crop.height; y++) {
      for (let x = 0; x < crop.width; x++) out[(c * crop.height + y) * crop.width + x] = full[((crop.top + y) * outWidth + crop.left + x) * lanes + c]!;
    }
  }
  return out;
}

/** Deterministic noise over gradients: flat and sharp regions, values clipped at both ends by the negative lobes. */
function image(width: number, height: number, lanes: number, seed: number): Uint8Array {
  const pixels = new Uint8Array(width * height * lanes);
  let state = seed;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    const p = Math.floor(i / lanes);
    pixels[i] = (state >>> 24) % 3 === 0 ? (state >>> 16) & 255 : ((p % width) * 255) / width;
  }
  return pixels;
}

describe('Resampler', () => {
  const cases: [string, number, number, 1 | 3, number, number, PixelWindow, Interpolation][] = [
    ['ImageNet landscape, bicubic down', 50, 37, 3, 34, 25, {left: 5, top: 1, width: 22, height: 22}, 'bicubic'],
    ['portrait, bilinear down', 37, 50, 3, 25, 33, {left: 1, top: 4, width: 22, height: 22}, 'bilinear'],
    ['grey, bicubic down', 61, 47, 1, 33, 25, {left: 4, top: 1, width: 24, height: 24}, 'bicubic'],
    ['bicubic up', 13, 9, 3, 40, 27, {left: 0, top: 0, width: 40, height: 27}, 'bicubic'],
    ['width unchanged', 30, 45, 3, 30, 20, {left: 3, top: 2, width: 24, height: 16}, 'bicubic'],
    ['height unchanged', 45, 30, 1, 20, 30, {left: 2, top: 3, width: 16, height: 24}, 'bilinear'],
    ['crop only', 20, 20, 3, 20, 20, {left: 2, top: 3, width: 16, height: 16}, 'bicubic'],
    ['3 columns, odd rows', 9, 7, 3, 5, 4, {left: 1, top: 0, width: 3, height: 3}, 'bicubic'],
    ['one column', 6, 9, 1, 3, 5, {left: 1, top: 1, width: 1, height: 2}, 'bilinear'],
    ['one pixel in', 1, 1, 3, 4, 3, {left: 0, top: 0, width: 4, height: 3}, 'bicubic'],
    ['ImageNet photo size (the kernels\' memory grows)', 500, 375, 3, 341, 256, {left: 58, top: 16, width: 224, height: 224}, 'bicubic'],
    ['grey portrait photo', 375, 500, 1, 256, 341, {left: 16, top: 58, width: 224, height: 224}, 'bilinear'],
  ];

  it.each(cases)('%s: as Pillow resizes and crops, planar', (_, width, height, lanes, outWidth, outHeight, crop, interpolation) => {
    const src = image(width, height, lanes, width * 31 + height);
    const out = new Uint8Array(lanes * crop.width * crop.height);
    new Resampler().resizeCrop({width, height, window: {left: 0, top: 0, width, height}, pixels: src}, lanes, outWidth, outHeight, crop, interpolation, out);
    expect(Buffer.from(out).equals(Buffer.from(reference(src, width, height, lanes, outWidth, outHeight, crop, interpolation)))).toBe(true);
  });

  it('stays exact through more geometries than it keeps tables for, and back (scratch and tables reused)', () => {
    const resampler = new Resampler();
    const src = image(99, 26, 3, 7);
    const crop = {left: 1, top: 1, width: 16, height: 16};
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 70; i++) {
        const [width, height] = [30 + i, 20 + (i % 7)];
        const pixels = src.subarray(0, width * height * 3);
        const out = new Uint8Array(3 * 16 * 16);
        resampler.resizeCrop({width, height, window: {left: 0, top: 0, width, height}, pixels}, 3, 20, 18, crop, 'bicubic', out);
        expect(Buffer.from(out).equals(Buffer.from(reference(pixels, width, height, 3, 20, 18, crop, 'bicubic')))).toBe(true);
      }
    }
  });

  it.each([
    ['bicubic', 3, 500, 375, 341, 256, {left: 58, top: 16, width: 224, height: 224}],
    ['bilinear', 1, 375, 500, 256, 341, {left: 16, top: 58, width: 224, height: 224}],
    ['bicubic', 3, 40, 30, 12, 9, {left: 0, top: 0, width: 12, height: 9}],
  ] as const)('%s, %i channel(s), %i×%i: resizes as well from only the source window the crop reads', (interpolation, lanes, width, height, outWidth, outHeight, crop) => {
    const src = image(width, height, lanes, 3);
    const resampler = new Resampler();
    const window = resampler.sourceWindow(width, height, outWidth, outHeight, crop, interpolation);
    expect(window.left + window.width).toBeLessThanOrEqual(width);
    expect(window.top + window.height).toBeLessThanOrEqual(height);
    const part = new Uint8Array(window.height * window.width * lanes);
    for (let y = 0; y < window.height; y++) {
      const at = ((window.top + y) * width + window.left) * lanes;
      part.set(src.subarray(at, at + window.width * lanes), y * window.width * lanes);
    }
    const out = new Uint8Array(lanes * crop.width * crop.height);
    resampler.resizeCrop({width, height, window, pixels: part}, lanes, outWidth, outHeight, crop, interpolation, out);
    expect(Buffer.from(out).equals(Buffer.from(reference(src, width, height, lanes, outWidth, outHeight, crop, interpolation)))).toBe(true);
  });
});
