// A subset of a stored dataset as a Dataset of its own, so every consumer (evaluate, calibrate …) takes
// `limit` the same way: the samples chosen by selectIndices (seeded and stratified by default), read in
// stored order, batch by batch.
import type {Dataset} from './dataset-reader.js';
import {datasetView} from './dataset-view.js';
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
  const view = datasetView(dataset, indices, labels, {subsetOfStored: record});
  return {dataset: view, record, indices};
}
