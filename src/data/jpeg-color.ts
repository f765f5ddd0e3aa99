// libjpeg's colour reconstruction on top of jpeg-js. jpeg-js upsamples subsampled chroma by
// repeating samples; libjpeg(-turbo), which Pillow and so timm use, interpolates ("fancy"
// upsampling) and converts YCbCr→RGB with 16-bit fixed-point tables. On a noisy 4:2:0 photo the
// two differ by ~4 levels on average (up to 40); redoing these steps as libjpeg leaves only
// IDCT rounding (±few levels). Used for 3-component YCbCr JPEGs with 4:2:0, 4:2:2 or 4:4:4
// sampling and no Adobe colour-transform marker; anything else keeps jpeg-js's own colours.

export interface JpegLayout {
  width: number;
  height: number;
  /** Luma sampling factors relative to chroma (chroma components must be 1×1). */
  h: 1 | 2;
  v: 1 | 2;
}

const isStartOfFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Reads the frame header; undefined when the file is not a plain YCbCr JPEG this module handles. */
export function jpegLayout(bytes: Uint8Array): JpegLayout | undefined {
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
export function libjpegColours(ycc: Uint8Array, layout: JpegLayout, rgb: Uint8Array, chroma: Uint8Array): void {
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
  const upsampled = (plane: Uint8Array, x: number, y: number): number => {
    if (h === 1) return plane[y * cw + x]!;
    const c = x >> 1;
    const odd = x & 1;
    const side = Math.min(cw - 1, Math.max(0, odd ? c + 1 : c - 1));
    if (v === 1) {
      // h2v1: (3·near + far + 1 or 2) >> 2, edges repeat.
      const row = y * cw;
      return (3 * plane[row + c]! + plane[row + side]! + 1 + odd) >> 2;
    }
    // h2v2: weight 3:1 towards the nearer chroma row, then 3:1 towards the nearer column.
    const cyNear = y >> 1;
    const cyFar = Math.min(ch - 1, Math.max(0, y & 1 ? cyNear + 1 : cyNear - 1));
    const colSum = (col: number) => 3 * plane[cyNear * cw + col]! + plane[cyFar * cw + col]!;
    return (3 * colSum(c) + colSum(side) + 8 - odd) >> 4;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = 3 * (y * width + x);
      const luma = ycc[at]!;
      const cb = upsampled(cbPlane, x, y);
      const cr = upsampled(crPlane, x, y);
      rgb[at] = clamp(luma + crToR[cr]!);
      rgb[at + 1] = clamp(luma + ((cbToG[cb]! + crToG[cr]!) >> SCALE_BITS));
      rgb[at + 2] = clamp(luma + cbToB[cb]!);
    }
  }
}
