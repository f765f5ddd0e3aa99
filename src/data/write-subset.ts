// Source → subset → dataset directory: the whole of what load/dataset does, without the pipeline.
import {writeDataset, type WriteOptions} from './dataset-writer.js';
import type {DatasetManifest} from './manifest.js';
import {selectedSamples, type SampleSource} from './sample-source.js';
import {describeSubset, selectIndices, type SubsetOptions, type SubsetRecord} from './subset.js';

export interface WriteSubsetOptions extends Pick<WriteOptions, 'shardBytes'> {
  /** Called after each stored sample with (stored, total to store). */
  onProgress?(done: number, total: number): void;
}

/** The manifest records the subset (order, seed, per-class counts, classes left out) in `origin.subset`. */
export async function writeSubset(dir: string, source: SampleSource, subset: SubsetOptions, opts: WriteSubsetOptions = {}): Promise<DatasetManifest & {origin: {subset: SubsetRecord}}> {
  let indices: Int32Array;
  try {
    indices = selectIndices(source.labels, source.classes.length, subset);
  } catch (error) {
    source.close?.();
    throw error;
  }
  const origin = {...source.origin, sourceCount: source.labels.length, subset: describeSubset(source.labels, source.classes.length, indices, subset)};
  const manifest = await writeDataset(
    dir,
    {sampleShape: source.sampleShape, dtype: source.dtype, classes: source.classes, preprocessing: source.preprocessing, origin, samples: selectedSamples(source, indices)},
    {shardBytes: opts.shardBytes, onSample: (done) => opts.onProgress?.(done, indices.length)},
  );
  return {...manifest, origin};
}
