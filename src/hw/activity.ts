// Switching activity of the multiplier's operand bits, derived from the operand values a model actually
// produces (256-bin histograms of the quantized operands, indexed by raw byte). Two assumptions, stated
// so the figures can be judged: successive operands entering a PE are independent draws from the
// histogram (a bit with P(1) = p then toggles with probability 2p(1-p) per cycle), and in a
// weight-stationary array the weight operand is loaded once per tile, so its bits do not toggle.
import type {BitActivity} from './opensta.js';
import {HwError} from './hw-error.js';

export type Dataflow = 'output-stationary' | 'weight-stationary';

export interface OperandHistograms {
  /** Counts of the row operand `a` (the table's first index), by raw byte value 0..255. */
  a: ArrayLike<number>;
  /** Counts of the column operand `b`, by raw byte value 0..255. */
  b: ArrayLike<number>;
  /** Which operand is the (stationary) weight, if any. */
  weightOperand?: 'a' | 'b';
}

/** P(bit = 1) for bits 0..7 of a raw-byte histogram. */
export function bitProbabilities(histogram: ArrayLike<number>): number[] {
  if (histogram.length !== 256) throw new HwError(`an operand histogram needs 256 bins (raw bytes), got ${histogram.length}`);
  let total = 0;
  const ones = new Array<number>(8).fill(0);
  for (let value = 0; value < 256; value++) {
    const count = histogram[value] ?? 0;
    if (!(count >= 0)) throw new HwError(`operand histogram bin ${value} is ${count}; counts must be non-negative numbers`);
    total += count;
    for (let bit = 0; bit < 8; bit++) if ((value >> bit) & 1) ones[bit] = (ones[bit] ?? 0) + count;
  }
  if (total === 0) throw new HwError('an operand histogram is empty (all 256 bins are zero)');
  return ones.map((count) => count / total);
}

/** Per-port-bit activity ("a[0]" … "b[7]") for OpenSTA. */
export function operandActivity(histograms: OperandHistograms, dataflow: Dataflow): Record<string, BitActivity> {
  const activity: Record<string, BitActivity> = {};
  for (const port of ['a', 'b'] as const) {
    const stationary = dataflow === 'weight-stationary' && histograms.weightOperand === port;
    bitProbabilities(histograms[port]).forEach((p, bit) => {
      activity[`${port}[${bit}]`] = {toggleRate: stationary ? 0 : 2 * p * (1 - p), duty: p};
    });
  }
  return activity;
}

/** Uniformly random operands: every bit P(1) = 0.5, toggling half the cycles (the usual synthesis default). */
export function uniformActivity(): Record<string, BitActivity> {
  const activity: Record<string, BitActivity> = {};
  for (const port of ['a', 'b']) for (let bit = 0; bit < 8; bit++) activity[`${port}[${bit}]`] = {toggleRate: 0.5, duty: 0.5};
  return activity;
}
