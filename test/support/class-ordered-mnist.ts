// MNIST test images stored in class order (all 0s, then all 1s …), as an image folder stores them: the case
// where "the first N samples" leaves classes out.
import {idxSource} from '../../src/data/idx-source.js';
import {writeSubset} from '../../src/data/write-subset.js';

/** Writes a dataset directory of `count` class-ordered MNIST test images (spread over the classes). */
export async function writeClassOrderedMnist(dir: string, count: number): Promise<void> {
  const mnist = idxSource({dataset: 'mnist', split: 'test'});
  const byClass = Int32Array.from(mnist.labels.keys()).sort((a, b) => mnist.labels[a]! - mnist.labels[b]! || a - b);
  const labels = Int32Array.from(byClass, (i) => mnist.labels[i]!);
  await writeSubset(dir, {...mnist, labels, read: (i, out) => mnist.read(byClass[i]!, out)}, {limit: count});
}
