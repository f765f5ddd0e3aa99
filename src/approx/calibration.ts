// Calibration statistics: what the quantiser needs to pick each operand's clipping range.
//
// For every operand of an approximable op: its max |x| and a 2048-bin histogram of |x| whose range
// doubles (merging bin pairs, so no count moves between bins) whenever a larger value arrives; the
// clipping magnitude `amax` is then chosen by percentile (TransAxx: 99.99 %), max, minimal
// quantisation MSE or TensorRT's entropy. docs/quantisation.md states the conventions. `operandCounts` are histograms of the quantised bytes (index q & 0xff), which the
// search and power models weight multipliers with.
import {QMAX, quantScale, quantizeValue} from './quantize.js';

export const HISTOGRAM_BINS = 2048;
export const DEFAULT_PERCENTILE = 99.99;
export type CalibrationMethod = 'percentile' | 'max' | 'mse' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['percentile', 'max', 'mse', 'entropy'];

/** An expected failure: the model or the data do not fit calibration. */
export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/** Histogram of |x| over [0, range), `HISTOGRAM_BINS` equal bins. */
export class AbsHistogram {
  counts = new Float64Array(HISTOGRAM_BINS);
  range = 0;
  max = 0;
  total = 0;

  add(data: ArrayLike<number>): void {
    let batchMax = 0;
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]!);
      if (!(a <= batchMax)) batchMax = Number.isNaN(a) ? NaN : a;
      if (Number.isNaN(batchMax)) break;
    }
    if (!Number.isFinite(batchMax)) throw new CalibrationError('calibration data contains NaN or infinite values');
    this.#cover(batchMax);
    this.max = Math.max(this.max, batchMax);
    this.total += data.length;
    if (this.range === 0) {
      this.counts[0]! += data.length;
      return;
    }
    const perBin = HISTOGRAM_BINS / this.range;
    const counts = this.counts;
    for (let i = 0; i < data.length; i++) {
      const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.abs(data[i]!) * perBin));
      counts[bin]!++;
    }
  }

  /** Grows the range (by doubling, merging bin pairs) until it covers `value`. */
  #cover(value: number): void {
    if (value === 0 || value < this.range) return;
    if (this.range === 0) {
      // every count so far is an exact zero, which stays in bin 0 at any range
      this.range = value * 1.0001;
      return;
    }
    while (this.range <= value) {
      const merged = new Float64Array(HISTOGRAM_BINS);
      for (let i = 0; i < HISTOGRAM_BINS; i++) merged[i >> 1]! += this.counts[i]!;
      this.counts = merged;
      this.range *= 2;
    }
  }
}

/** The clipping magnitude chosen from a histogram. */
export function chooseAmax(h: AbsHistogram, method: CalibrationMethod, percentile = DEFAULT_PERCENTILE): number {
  if (h.max === 0) return 0;
  switch (method) {
    case 'max':
      return h.max;
    case 'percentile':
      return percentileAmax(h, percentile);
    case 'mse':
      return mseAmax(h);
    case 'entropy':
      return entropyAmax(h);
  }
}

/**
 * The upper edge of the bin where the cumulative count reaches `percentile` % (capped at max |x|).
 * pytorch-quantization (which TransAxx calibrates with) takes that bin's lower edge instead, one bin
 * width (range/2048) smaller; axx keeps every value of that bin inside the range (docs/quantisation.md).
 */
function percentileAmax(h: AbsHistogram, percentile: number): number {
  const target = (h.total * percentile) / 100;
  let cumulative = 0;
  const width = h.range / HISTOGRAM_BINS;
  for (let i = 0; i < HISTOGRAM_BINS; i++) {
    cumulative += h.counts[i]!;
    if (cumulative >= target) return Math.min(h.max, (i + 1) * width);
  }
  return h.max;
}

/** The bin edge minimising the expected squared quantisation error (rounding + clipping) over the histogram. */
function mseAmax(h: AbsHistogram): number {
  const width = h.range / HISTOGRAM_BINS;
  let best = h.max;
  let bestError = Infinity;
  const lastBin = Math.min(HISTOGRAM_BINS, Math.ceil(h.max / width));
  for (let edge = Math.max(1, Math.floor(lastBin / 16)); edge <= lastBin; edge++) {
    const amax = Math.min(h.max, edge * width);
    const step = amax / QMAX;
    let error = 0;
    for (let i = 0; i < lastBin; i++) {
      const count = h.counts[i]!;
      if (count === 0) continue;
      const centre = (i + 0.5) * width;
      error += centre >= amax ? count * (centre - amax) ** 2 : (count * step * step) / 12;
    }
    if (error < bestError) {
      bestError = error;
      best = amax;
    }
  }
  return best;
}

/**
 * TensorRT's entropy calibration: the clipping edge whose 128-level quantised histogram Q is closest
 * to the clipped histogram P (outliers folded into the last bin) in KL divergence.
 */
function entropyAmax(h: AbsHistogram): number {
  const levels = QMAX + 1;
  const width = h.range / HISTOGRAM_BINS;
  const lastBin = Math.min(HISTOGRAM_BINS, Math.ceil(h.max / width));
  if (lastBin <= levels) return h.max;
  let best = h.max;
  let bestDivergence = Infinity;
  const p = new Float64Array(HISTOGRAM_BINS);
  const q = new Float64Array(HISTOGRAM_BINS);
  for (let edge = levels; edge <= lastBin; edge++) {
    let outliers = 0;
    for (let i = edge; i < HISTOGRAM_BINS; i++) outliers += h.counts[i]!;
    for (let i = 0; i < edge; i++) p[i] = h.counts[i]!;
    p[edge - 1]! += outliers;
    // Q: merge the edge bins into `levels` groups, spread each group's mass over its non-empty bins
    q.fill(0, 0, edge);
    for (let level = 0; level < levels; level++) {
      const start = Math.floor((level * edge) / levels);
      const end = Math.floor(((level + 1) * edge) / levels);
      let mass = 0;
      let nonEmpty = 0;
      for (let i = start; i < end; i++) {
        mass += h.counts[i]!;
        if (h.counts[i]! > 0) nonEmpty++;
      }
      for (let i = start; i < end; i++) if (h.counts[i]! > 0) q[i] = mass / nonEmpty;
    }
    const divergence = klDivergence(p, q, edge);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = Math.min(h.max, edge * width);
    }
  }
  return best;
}

function klDivergence(p: Float64Array, q: Float64Array, n: number): number {
  let pTotal = 0;
  let qTotal = 0;
  for (let i = 0; i < n; i++) {
    pTotal += p[i]!;
    qTotal += q[i]!;
  }
  let divergence = 0;
  for (let i = 0; i < n; i++) {
    if (p[i]! === 0) continue;
    // a bin Q leaves empty while P has mass: heavily penalised rather than infinite
    const qi = q[i]! > 0 ? q[i]! / qTotal : 1e-10;
    const pi = p[i]! / pTotal;
    divergence += pi * Math.log(pi / qi);
  }
  return divergence;
}

/** Counts of quantised values by byte (q & 0xff). */
export function addOperandCounts(counts: Float64Array, data: ArrayLike<number>, amax: number): void {
  const {step} = quantScale(amax);
  for (let i = 0; i < data.length; i++) counts[quantizeValue(data[i]!, step) & 0xff]!++;
}
