// A seeded random subset of labeled images: finetuning usually sees a fraction of the training set
// (TransAxx: one epoch on a small subset). The subset depends only on (count, limit, seed).
import {Random} from '../util/random.js';
import type {LabeledImages} from './labeled-images.js';

export function imageSubset(data: LabeledImages, limit: number, seed: number): LabeledImages {
  if (limit >= data.count) return data;
  const chosen = new Random((seed ^ 0x5bd1e995) >>> 0).shuffle(Int32Array.from({length: data.count}, (_, i) => i)).slice(0, limit);
  const mapped = new Int32Array(limit);
  return {
    count: limit,
    imageShape: data.imageShape,
    classes: data.classes,
    read(indices, images, labels) {
      for (let k = 0; k < indices.length; k++) mapped[k] = chosen[indices[k]!]!;
      data.read(mapped.subarray(0, indices.length), images, labels);
    },
  };
}
