// Deterministic subsets of a source: an optional seeded shuffle, then `offset` samples skipped,
// then `limit` taken — per class in proportion to the class sizes when stratified. The chosen
// samples keep their source order, so files are read sequentially. The same seed with
// offset = the first subset's limit gives a disjoint second subset (when not stratified).
import {Random} from '../util/random.js';
import {DataError} from './data-error.js';

export interface SubsetOptions {
  offset?: number;
  limit?: number;
  /** Shuffle before offset/limit; without a seed the source order is used. */
  seed?: number;
  /** Take `limit` samples spread over classes in proportion to their sizes. */
  stratified?: boolean;
}

function shuffled(count: number, seed: number): Int32Array {
  return new Random(seed).shuffle(Int32Array.from({length: count}, (_, i) => i));
}

/** Largest-remainder apportionment of `total` over `sizes` (ties go to the lower class). */
function proportionalQuotas(sizes: number[], total: number): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sum === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, c) => ({c, r: e - Math.floor(e)})).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const {c} of byRemainder) {
    if (left === 0) break;
    if (quotas[c]! < sizes[c]!) {
      quotas[c]!++;
      left--;
    }
  }
  return quotas;
}

/** Indices (ascending) of the samples the options select from a source with these labels. */
export function selectIndices(labels: Int32Array, classCount: number, opts: SubsetOptions = {}): Int32Array {
  const offset = opts.offset ?? 0;
  for (const [name, value] of [['offset', offset], ['limit', opts.limit ?? 0]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new DataError(`${name} must be a non-negative integer (got ${value})`);
  }
  const order = opts.seed === undefined ? Int32Array.from({length: labels.length}, (_, i) => i) : shuffled(labels.length, opts.seed);
  const rest = order.subarray(Math.min(offset, order.length));
  let chosen: Int32Array;
  if (opts.limit === undefined || opts.limit >= rest.length) {
    chosen = Int32Array.from(rest);
  } else if (!opts.stratified) {
    chosen = Int32Array.from(rest.subarray(0, opts.limit));
  } else {
    const perClass: number[][] = Array.from({length: classCount}, () => []);
    for (const index of rest) perClass[labels[index]!]!.push(index);
    const quotas = proportionalQuotas(perClass.map((c) => c.length), opts.limit);
    chosen = Int32Array.from(perClass.flatMap((indices, c) => indices.slice(0, quotas[c])));
  }
  return chosen.sort();
}
