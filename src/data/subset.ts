// The one way axx takes a subset of samples (load/dataset, calibrate, evaluate): by default a seeded
// shuffle, then `offset` samples skipped, then `limit` taken per class in proportion to the class sizes,
// so a subset of a class-ordered source (an image folder) still represents every class. `order: file`
// takes the first samples as stored, `shuffled` a seeded sample without stratification. The chosen
// samples keep their source order, so files are read sequentially. The same seed with offset = the first
// subset's limit gives a disjoint second subset (when not stratified).
import {Random} from '../util/random.js';
import {DataError} from './data-error.js';

export const SUBSET_ORDERS = ['stratified', 'shuffled', 'file'] as const;
export type SubsetOrder = (typeof SUBSET_ORDERS)[number];

/** The seed a subset is drawn with when none is given. */
export const DEFAULT_SUBSET_SEED = 0;

export interface SubsetOptions {
  offset?: number;
  limit?: number;
  /** Seed of the shuffle (orders stratified and shuffled); default DEFAULT_SUBSET_SEED. */
  seed?: number;
  /** Default stratified. */
  order?: SubsetOrder;
}

/** What a subset is, as recorded in the outputs that used it. */
export interface SubsetRecord {
  order: SubsetOrder;
  /** Absent for order file. */
  seed?: number;
  offset: number;
  limit: number | null;
  /** Samples chosen, and per class. */
  count: number;
  perClass: number[];
  /** Classes the source has but the subset does not (class indices). */
  missingClasses: number[];
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
  const kind = opts.order ?? 'stratified';
  const order = kind === 'file' ? Int32Array.from({length: labels.length}, (_, i) => i) : shuffled(labels.length, opts.seed ?? DEFAULT_SUBSET_SEED);
  const rest = order.subarray(Math.min(offset, order.length));
  let chosen: Int32Array;
  if (opts.limit === undefined || opts.limit >= rest.length) {
    chosen = Int32Array.from(rest);
  } else if (kind !== 'stratified') {
    chosen = Int32Array.from(rest.subarray(0, opts.limit));
  } else {
    const perClass: number[][] = Array.from({length: classCount}, () => []);
    for (const index of rest) perClass[labels[index]!]!.push(index);
    const quotas = proportionalQuotas(perClass.map((c) => c.length), opts.limit);
    chosen = Int32Array.from(perClass.flatMap((indices, c) => indices.slice(0, quotas[c])));
  }
  return chosen.sort();
}

/** The record of a subset chosen by `selectIndices(labels, classCount, opts)`. */
export function describeSubset(labels: Int32Array, classCount: number, chosen: Int32Array, opts: SubsetOptions = {}): SubsetRecord {
  const order = opts.order ?? 'stratified';
  const perClass = new Array<number>(classCount).fill(0);
  const present = new Array<boolean>(classCount).fill(false);
  for (const label of labels) present[label] = true;
  for (const index of chosen) perClass[labels[index]!]!++;
  return {
    order,
    ...(order === 'file' ? {} : {seed: opts.seed ?? DEFAULT_SUBSET_SEED}),
    offset: opts.offset ?? 0,
    limit: opts.limit ?? null,
    count: chosen.length,
    perClass,
    missingClasses: perClass.flatMap((n, c) => (n === 0 && present[c] ? [c] : [])),
  };
}

/** A warning for a subset that leaves some of the source's classes out, else undefined. */
export function missingClassesWarning(record: SubsetRecord, classNames: readonly string[]): string | undefined {
  const missing = record.missingClasses;
  if (missing.length === 0) return undefined;
  const names = missing.slice(0, 10).map((c) => classNames[c] ?? String(c));
  const more = missing.length > 10 ? ` and ${missing.length - 10} more` : '';
  const fix = record.order === 'stratified' ? 'raise limit to at least the number of classes' : 'use order: stratified (the default) or raise limit';
  return `the ${record.count}-sample subset (order ${record.order}) has no sample of ${missing.length} of ${record.perClass.length} classes (${names.join(', ')}${more}); ${fix}`;
}
