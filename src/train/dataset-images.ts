// A dataset directory (src/data format) as LabeledImages: training shuffles every epoch, so batches
// are read sample by sample through the dataset reader, which turns uint8 image shards into
// model-ready floats. Nothing holds the whole set: an ImageNet subset trains in bounded memory.
import {join} from 'node:path';
import {DataError} from '../data/data-error.js';
import {openDataset} from '../data/dataset-reader.js';
import type {DatasetManifest} from '../data/manifest.js';
import type {LabeledImages} from './labeled-images.js';

export interface LoadedImages extends LabeledImages {
  manifest: DatasetManifest;
}

export function loadDatasetImages(dir: string): LoadedImages {
  const dataset = openDataset(dir);
  const {manifest} = dataset;
  const shape = manifest.sampleShape;
  if (shape.length !== 3) throw new DataError(`samples have shape [${shape.join(', ')}]; training needs images [C, H, W]`, join(dir, 'manifest.json'));
  let labels = new Int32Array(0);
  return {
    manifest,
    count: manifest.count,
    imageShape: [shape[0]!, shape[1]!, shape[2]!],
    classes: manifest.classes.length,
    read(indices, images, out) {
      if (labels.length < indices.length) labels = new Int32Array(indices.length);
      dataset.readSamples(indices, images, labels);
      for (let k = 0; k < indices.length; k++) out[k] = BigInt(labels[k]!);
    },
  };
}
