// Loads a dataset directory (src/data format: manifest.json + float32/int32 shards) fully into
// memory as LabeledImages: training shuffles every epoch, which needs random access. MNIST-size
// sets take ~190 MB.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {DataError} from '../data/data-error.js';
import {readManifest, sampleSize, type DatasetManifest} from '../data/manifest.js';
import type {LabeledImages} from './labeled-images.js';

export interface LoadedImages extends LabeledImages {
  manifest: DatasetManifest;
}

export function loadDatasetImages(dir: string): LoadedImages {
  const manifest = readManifest(dir);
  const shape = manifest.sampleShape;
  if (shape.length !== 3) throw new DataError(`samples have shape [${shape.join(', ')}]; training needs images [C, H, W]`, join(dir, 'manifest.json'));
  const size = sampleSize(shape);
  const samples = new Float32Array(manifest.count * size);
  const labels = new Int32Array(manifest.count);
  let offset = 0;
  for (const shard of manifest.shards) {
    const file = join(dir, shard.file);
    const bytes = readFileSync(file);
    if (bytes.byteLength !== shard.count * (size + 1) * 4) {
      throw new DataError(`shard has ${bytes.byteLength} bytes, expected ${shard.count * (size + 1) * 4} for ${shard.count} samples`, file, 'write the dataset again with load/dataset');
    }
    const aligned = new Uint8Array(bytes).buffer; // copy: Buffer slices of the pool are not 4-byte aligned
    samples.set(new Float32Array(aligned, 0, shard.count * size), offset * size);
    labels.set(new Int32Array(aligned, shard.count * size * 4, shard.count), offset);
    offset += shard.count;
  }
  const classes = manifest.classes.length;
  const bad = labels.findIndex((l) => l < 0 || l >= classes);
  if (bad >= 0) throw new DataError(`sample ${bad} has label ${labels[bad]}, outside the ${classes} classes`, dir);
  return {
    manifest,
    count: manifest.count,
    imageShape: [shape[0]!, shape[1]!, shape[2]!],
    classes,
    read(indices, images, out) {
      for (let k = 0; k < indices.length; k++) {
        const index = indices[k]!;
        images.set(samples.subarray(index * size, (index + 1) * size), k * size);
        out[k] = BigInt(labels[index]!);
      }
    },
  };
}
