// Symmetric int8 quantisation, narrow range [-127, 127], round half to even (TransAxx's scheme,
// docs/design.md §2): q = clamp(round(x / step), ±127) with the fp32 step fround(amax/127). This is
// ONNX QuantizeLinear's definition (an IEEE fp32 division, then rounding half to even; checked
// against onnxruntime's kernel), followed by a clip to the narrow range; the rewritten graph uses
// exactly those ops, so the TypeScript reference and onnxruntime quantise every value alike.

export const QMAX = 127;

/** Round half to even, like ONNX Round and numpy. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface QuantScale {
  /** The clipping magnitude: values beyond ±amax saturate to ±127. */
  amax: number;
  /** fp32 step of one quantum: fround(amax/127); x is divided by it. */
  step: number;
}

/** The scale for a clipping magnitude; a zero or non-finite amax (an all-zero tensor) becomes 1. */
export function quantScale(amax: number): QuantScale {
  const safe = Number.isFinite(amax) && amax > 0 ? amax : 1;
  return {amax: safe, step: Math.fround(safe / QMAX)};
}

/** q = clamp(roundHalfEven(fround(x / step)), ±127). */
export function quantizeValue(x: number, step: number): number {
  const q = roundHalfEven(Math.fround(x / step));
  return q > QMAX ? QMAX : q < -QMAX ? -QMAX : q;
}

export function quantizeTensor(data: ArrayLike<number>, step: number, out = new Int8Array(data.length)): Int8Array {
  for (let i = 0; i < data.length; i++) out[i] = quantizeValue(data[i]!, step);
  return out;
}

/**
 * Per-output-channel quantisation of a weight: `channelOf(i)` tells which channel element i
 * belongs to; each channel gets its own scale from its own max |w|.
 */
export function quantizePerChannel(
  data: ArrayLike<number>,
  channels: number,
  channelOf: (index: number) => number,
): {q: Int8Array; scales: QuantScale[]} {
  const amax = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = channelOf(i);
    amax[c] = Math.max(amax[c]!, Math.abs(data[i]!));
  }
  const scales = Array.from(amax, (m) => quantScale(m));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = quantizeValue(data[i]!, scales[channelOf(i)]!.step);
  return {q, scales};
}

export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]!);
    if (a > m) m = a;
  }
  return m;
}
