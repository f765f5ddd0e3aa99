// A subset of a stored dataset as a Dataset of its own, so every consumer (evaluate, calibrate …) takes
// `limit` the same way: the samples chosen by selectIndices (seeded and stratified by default), read in
// stored order, batch by batch.
import type {Batch, Dataset} from './dataset-reader.js';
import {describeSubset, selectIndices, type SubsetOptions, type SubsetRecord} from './subset.js';

export interface DatasetSubset {
  dataset: Dataset;
  /** How the samples were chosen, for the consumer's outputs. */
  record: SubsetRecord;
  /** Index in the stored dataset of each subset sample. */
  indices: Int32Array;
}

export function datasetSubset(dataset: Dataset, opts: SubsetOptions): DatasetSubset {
  const labels = dataset.readLabels();
  const classCount = dataset.manifest.classes.length;
  const indices = selectIndices(labels, classCount, opts);
  const record = describeSubset(labels, classCount, indices, opts);
  if (indices.length === labels.length) return {dataset, record, indices};
  const size = dataset.sampleSize;
  const view: Dataset = {
    dir: dataset.dir,
    manifest: {...dataset.manifest, count: indices.length, labelCounts: record.perClass, origin: {...dataset.manifest.origin, subsetOfStored: record}},
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
    readSamples(chosen, x, y) {
      dataset.readSamples(Array.from(chosen, (i) => indices[i]!), x, y);
    },
    readLabels() {
      return Int32Array.from(indices, (i) => labels[i]!);
    },
  };
  return {dataset: view, record, indices};
}
