// A dataset restricted to some of its samples, in the order given: evaluation over a seeded stratified
// subset reads the same way as over a whole directory. Labels of the whole set are read once (for
// stratifying); samples are read on demand.
import type {Batch, Dataset} from './dataset-reader.js';
import {selectIndices} from './subset.js';

/**
 * Disjoint subsets of the given sizes, each stratified by class and drawn from what the earlier ones
 * left, all from one seeded shuffle: the first is the same whatever sizes follow it.
 */
export function disjointStratifiedSubsets(labels: Int32Array, classCount: number, sizes: readonly number[], seed: number): Int32Array[] {
  let remaining = Int32Array.from({length: labels.length}, (_, i) => i);
  return sizes.map((size, k) => {
    const local = selectIndices(
      remaining.map((i) => labels[i]!),
      classCount,
      {seed: seed + k, limit: size, order: 'stratified'},
    );
    const chosen = local.map((i) => remaining[i]!);
    const taken = new Set(chosen);
    remaining = remaining.filter((i) => !taken.has(i));
    return chosen;
  });
}

/**
 * `dataset` seen through `indices`: sample k of the view is sample indices[k] of the dataset, whose
 * labels are `labels`. `origin` says in the view's manifest how it was chosen.
 */
export function datasetView(dataset: Dataset, indices: Int32Array, labels: Int32Array, origin: Record<string, unknown> = {view: `${indices.length} of ${dataset.manifest.count} samples`}): Dataset {
  const labelCounts = dataset.manifest.classes.map(() => 0);
  for (const index of indices) labelCounts[labels[index]!]!++;
  const size = dataset.sampleSize;
  return {
    dir: dataset.dir,
    manifest: {...dataset.manifest, count: indices.length, labelCounts, origin: {...dataset.manifest.origin, ...origin}},
    sampleSize: size,
    *batches(batchSize, range = {}) {
      const start = range.start ?? 0;
      const end = Math.min(indices.length, start + (range.limit ?? indices.length));
      const x = new Float32Array(batchSize * size);
      const y = new Int32Array(batchSize);
      for (let first = start; first < end; first += batchSize) {
        const count = Math.min(batchSize, end - first);
        dataset.readSamples(indices.subarray(first, first + count), x, y);
        const full = count === batchSize;
        const batch: Batch = {x: full ? x : x.subarray(0, count * size), y: full ? y : y.subarray(0, count), count, start: first};
        yield batch;
      }
    },
    readSamples(wanted, x, y) {
      dataset.readSamples(Array.from(wanted, (k) => indices[k]!), x, y);
    },
    readLabels() {
      return Int32Array.from(indices, (i) => labels[i]!);
    },
  };
}
